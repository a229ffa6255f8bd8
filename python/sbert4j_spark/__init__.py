"""PySpark access to sbert4j: sentence-transformers embeddings computed in the executors' JVMs.

Needs the sbert4j jars on Spark's classpath (``--jars sbert4j-<v>.jar,sbert4j-spark_<scala>-<v>.jar``). Everything
here is a thin py4j wrapper over the JVM side (``org.sbert4j.spark``): the vectors are the same as Java's and Scala's.

* :func:`embed` -- a Column: ``df.withColumn("v", embed("text", modelDir=...))``.
* :func:`with_embeddings` -- the batched DataFrame transformation (``SentenceEmbeddings.withColumn``), with the
  error column under ``onError="null"``.
* :class:`SentenceEmbedder` -- the ``pyspark.ml`` stage (``org.sbert4j.spark.ml.SentenceEmbedder``).
* :func:`register` -- a SQL function: ``SELECT embed(text) FROM t``.

Options (keyword arguments, the names of ``EncoderOptions``): ``modelDir`` or ``sparkFile`` (one of them),
``batchSize``, ``precision`` ("fp32", "bf16", "int8"), ``threads``, ``prompt`` or ``promptName``, ``truncateDim``,
``maxSequenceLength``, ``normalize``, ``onError`` ("fail", "null").
"""
import sys
import types

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol
from pyspark.ml.util import JavaMLReadable, JavaMLReader, JavaMLWritable
from pyspark.ml.wrapper import JavaTransformer
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql.types import ArrayType, FloatType

__all__ = ["SentenceEmbedder", "embed", "with_embeddings", "register", "encoder_options", "VECTOR_TYPE"]
__version__ = "0.1.0"

#: The type of a vector column: ``array<float>``.
VECTOR_TYPE = ArrayType(FloatType(), containsNull=False)

_JAVA_STAGE = "org.sbert4j.spark.ml.SentenceEmbedder"


def _spark():
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError("sbert4j_spark needs an active SparkSession")
    return spark


def _jvm(spark=None):
    jvm = (spark or _spark()).sparkContext._jvm
    try:
        jvm.java.lang.Class.forName("org.sbert4j.spark.SentenceEmbeddings", False,
                                    jvm.Thread.currentThread().getContextClassLoader())
    except Exception as e:
        raise RuntimeError("the sbert4j jars are not on Spark's classpath: start Spark with "
                           "--jars sbert4j-<v>.jar,sbert4j-spark_<scala>-<v>.jar (spark.jars)") from e
    return jvm


def encoder_options(spark=None, **options):
    """The JVM ``EncoderOptions`` for these keyword options (``EncoderOptions.fromSettings``)."""
    jvm = _jvm(spark)
    settings = jvm.java.util.LinkedHashMap()
    for name, value in options.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        settings.put(name, str(value))
    return jvm.org.sbert4j.spark.EncoderOptions.fromSettings(settings, "")


def _column(col):
    from pyspark.sql.functions import col as col_fn
    return (col_fn(col) if isinstance(col, str) else col)._jc


def embed(col, **options):
    """A Column with the embedding (``array<float>``) of the string column ``col``; null for null
    (``SentenceEmbeddings.udf``). Under ``onError="null"`` a text that cannot be encoded gives null."""
    spark = _spark()
    udf = _jvm(spark).org.sbert4j.spark.SentenceEmbeddings.udf(encoder_options(spark, **options))
    try:
        from pyspark.sql.classic.column import _to_seq  # Spark 4
    except ImportError:
        from pyspark.sql.column import _to_seq  # Spark 3.5
    return Column(udf.apply(_to_seq(spark.sparkContext, [_column(col)])))


def with_embeddings(df, inputCol, outputCol, errorCol=None, **options):
    """``df`` with ``outputCol`` (``array<float>``) holding the embedding of ``inputCol``, encoded in batches per
    partition (``SentenceEmbeddings.withColumn``). Under ``onError="null"`` the error column (``errorCol``, default
    ``outputCol + "_error"``) holds why a row could not be encoded."""
    spark = df.sparkSession
    jvm = _jvm(spark)
    opts = encoder_options(spark, **options)
    if errorCol is None and str(options.get("onError", "fail")).lower() == "null":
        errorCol = outputCol + "_error"
    jdf = jvm.org.sbert4j.spark.SentenceEmbeddings.withColumn(df._jdf, inputCol, outputCol, errorCol, opts)
    return DataFrame(jdf, spark)


def register(spark, name="embed", **options):
    """Registers the SQL function ``name(text) -> array<float>``. Without options, the model comes from the
    session's ``spark.sbert4j.*`` configuration (``org.sbert4j.spark.EmbedUDF``)."""
    if options:
        _jvm(spark).org.sbert4j.spark.SentenceEmbeddings.register(spark._jsparkSession, name,
                                                                 encoder_options(spark, **options))
    else:
        _jvm(spark)
        spark.udf.registerJavaFunction(name, "org.sbert4j.spark.EmbedUDF", VECTOR_TYPE)


def _param(name, doc, converter):
    return Param(Params._dummy(), name, doc, typeConverter=converter)


class _EmbedderReader(JavaMLReader):
    @classmethod
    def _java_loader_class(cls, clazz):
        return _JAVA_STAGE


class SentenceEmbedder(JavaTransformer, HasInputCol, HasOutputCol, JavaMLReadable, JavaMLWritable):
    """The ``pyspark.ml`` stage over ``org.sbert4j.spark.ml.SentenceEmbedder``: the same params, saved and loaded
    with a Pipeline. ``outputType="vector"`` gives an ML ``Vector`` column (for KMeans, LogisticRegression, ...)."""

    errorCol = _param("errorCol", "with onError=null: the column with the reason a row could not be encoded",
                      TypeConverters.toString)
    modelDir = _param("modelDir", "the model directory, a path present on every node", TypeConverters.toString)
    sparkFile = _param("sparkFile", "the SparkFiles name of a model shipped with the job", TypeConverters.toString)
    modelArchive = _param("modelArchive", "a zip of the model directory, added with addArchive", TypeConverters.toString)
    batchSize = _param("batchSize", "rows per encodeBatch call within a partition", TypeConverters.toInt)
    precision = _param("precision", "fp32, bf16 or int8", TypeConverters.toString)
    threads = _param("threads", "threads one task's encoding keeps busy", TypeConverters.toInt)
    prompt = _param("prompt", "a literal prompt put in front of every text", TypeConverters.toString)
    promptName = _param("promptName", "the model's prompt of this name", TypeConverters.toString)
    truncateDim = _param("truncateDim", "keep the first N components", TypeConverters.toInt)
    maxSequenceLength = _param("maxSequenceLength", "truncate texts at this many tokens", TypeConverters.toInt)
    normalize = _param("normalize", "scale vectors to unit length or not", TypeConverters.toBoolean)
    outputType = _param("outputType", "array or vector", TypeConverters.toString)
    onError = _param("onError", "fail or null", TypeConverters.toString)

    @keyword_only
    def __init__(self, *, inputCol="text", outputCol="embedding", errorCol=None, modelDir=None, sparkFile=None,
                 modelArchive=None, batchSize=256, precision="fp32", threads=None, prompt=None, promptName=None,
                 truncateDim=None, maxSequenceLength=None, normalize=None, outputType="array", onError="fail"):
        super().__init__()
        self._java_obj = self._new_java_obj(_JAVA_STAGE, self.uid)
        self._setDefault(inputCol="text", outputCol="embedding", batchSize=256, precision="fp32",
                         outputType="array", onError="fail")
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, inputCol="text", outputCol="embedding", errorCol=None, modelDir=None, sparkFile=None,
                  modelArchive=None, batchSize=256, precision="fp32", threads=None, prompt=None, promptName=None,
                  truncateDim=None, maxSequenceLength=None, normalize=None, outputType="array", onError="fail"):
        kwargs = {k: v for k, v in self._input_kwargs.items() if v is not None}
        return self._set(**kwargs)

    @classmethod
    def read(cls):
        return _EmbedderReader(cls)

    def setInputCol(self, value):
        return self._set(inputCol=value)

    def setOutputCol(self, value):
        return self._set(outputCol=value)

    def setModelDir(self, value):
        return self._set(modelDir=value)

    def setSparkFile(self, value):
        return self._set(sparkFile=value)

    def setOutputType(self, value):
        return self._set(outputType=value)

    def setOnError(self, value):
        return self._set(onError=value)

    def getModelDir(self):
        return self.getOrDefault(self.modelDir)

    def getOutputType(self):
        return self.getOrDefault(self.outputType)


# pyspark.ml maps a loaded Java stage to Python by its class name (org.sbert4j.spark.ml.SentenceEmbedder), importing
# that as a Python module path: these aliases let PipelineModel.load find this class.
def _alias_modules():
    parts = _JAVA_STAGE.split(".")[:-1]
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        module = sys.modules.get(name)
        if module is None:
            module = types.ModuleType(name)
            module.__path__ = []
            sys.modules[name] = module
        if i > 1:
            setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], module)
    sys.modules[".".join(parts)].SentenceEmbedder = SentenceEmbedder


_alias_modules()
