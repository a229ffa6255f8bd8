"""sbert4j_spark in local mode against the core's own SentenceEncoder (through py4j, in Spark's JVM).

Run by `gradle test` (each Spark line's pysparkTest) with PyPI's pyspark of that line; the environment names the
jars (SBERT4J_JARS), the model (SBERT4J_TEST_MODEL) and the fixture models (SBERT4J_TEST_FIXTURES)."""
import json
import os
import shutil

import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.clustering import KMeans
from pyspark.sql import SparkSession

import sbert4j_spark
from sbert4j_spark import SentenceEmbedder, embed, register, with_embeddings

MODEL = os.environ["SBERT4J_TEST_MODEL"]
FIXTURES = os.environ["SBERT4J_TEST_FIXTURES"]
TEXTS = ["A man is eating food.", "A man is riding a horse.", None, "The cat sits on the mat.",
         "Stock markets fell sharply today.", "A woman is playing the violin."]
TOL = 1e-6


@pytest.fixture(scope="module")
def spark():
    session = (SparkSession.builder.master("local[2]").appName("sbert4j-pyspark-test")
               .config("spark.jars", os.environ["SBERT4J_JARS"])
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.extraJavaOptions", "-Dsbert4j.cache.dir=" + os.environ["SBERT4J_CACHE_DIR"])
               .getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="module")
def reference(spark):
    jvm = spark.sparkContext._jvm
    encoders = {}

    def encode(text, model=MODEL, **builder):
        key = (model, tuple(sorted(builder.items())))
        if key not in encoders:
            b = jvm.org.sbert4j.SentenceEncoder.builder(jvm.java.io.File(model).toPath())
            if "truncateDim" in builder:
                b.truncateDim(builder["truncateDim"])
            encoders[key] = b.open()
        return list(encoders[key].encode(text))

    yield encode
    for e in encoders.values():
        e.close()


def frame(spark, texts, partitions=2):
    return spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "id int, text string").repartition(partitions)


def assert_close(expected, got, what):
    assert len(expected) == len(got), what
    worst = max(abs(a - b) for a, b in zip(expected, got))
    assert worst <= TOL, "%s: max |difference| %g" % (what, worst)


def by_id(df):
    return sorted(df.collect(), key=lambda r: r["id"])


def test_the_column_function_gives_encodes_vectors(spark, reference):
    rows = by_id(frame(spark, TEXTS).withColumn("v", embed("text", modelDir=MODEL, batchSize=2)))
    for row, text in zip(rows, TEXTS):
        if text is None:
            assert row["v"] is None
        else:
            assert_close(reference(text), row["v"], text)


def test_the_stage_in_a_pipeline_with_kmeans_saves_loads_and_transforms_alike(spark, reference, tmp_path):
    df = frame(spark, [t for t in TEXTS if t is not None])
    embedder = SentenceEmbedder(inputCol="text", outputCol="features", modelDir=MODEL, outputType="vector",
                                truncateDim=64)
    fitted = Pipeline(stages=[embedder, KMeans(k=2, seed=7, predictionCol="cluster")]).fit(df)
    path = str(tmp_path / "pipeline")
    fitted.write().overwrite().save(path)
    loaded = PipelineModel.load(path)
    stage = loaded.stages[0]
    assert isinstance(stage, SentenceEmbedder)
    assert stage.getModelDir() == MODEL and stage.getOutputType() == "vector"
    before, after = by_id(fitted.transform(df)), by_id(loaded.transform(df))
    assert [r["cluster"] for r in before] == [r["cluster"] for r in after]
    for row in after:
        assert_close(reference(row["text"], truncateDim=64), row["features"].toArray().tolist(), row["text"])
    stage_path = str(tmp_path / "stage")
    embedder.save(stage_path)
    assert SentenceEmbedder.load(stage_path).getOrDefault("truncateDim") == 64


def test_sql_registration_from_options_and_from_spark_conf(spark, reference):
    frame(spark, TEXTS).createOrReplaceTempView("py_texts")
    register(spark, "py_embed", modelDir=MODEL)
    spark.conf.set("spark.sbert4j.modelDir", MODEL)
    try:
        register(spark, "py_embed_conf")  # spark.udf.registerJavaFunction(..., "org.sbert4j.spark.EmbedUDF", ...)
    finally:
        spark.conf.unset("spark.sbert4j.modelDir")
    rows = spark.sql("SELECT id, py_embed(text) AS a, py_embed_conf(text) AS b FROM py_texts ORDER BY id").collect()
    for row, text in zip(rows, TEXTS):
        if text is None:
            assert row["a"] is None and row["b"] is None
        else:
            assert_close(reference(text), row["a"], text)
            assert_close(reference(text), row["b"], text)


def test_on_error_null_gives_the_reason_and_the_job_goes_on(spark, tmp_path):
    model = str(tmp_path / "no-specials")
    shutil.copytree(os.path.join(FIXTURES, "bert-mean-sqrt-len-st6"), model)
    with open(os.path.join(model, "tokenizer.json")) as f:
        tokenizer = json.load(f)
    tokenizer["post_processor"] = None  # the empty text then yields no tokens
    with open(os.path.join(model, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f)
    texts = ["one text", "", None, "another text"]
    rows = by_id(with_embeddings(frame(spark, texts), "text", "v", modelDir=model, onError="null"))
    assert [r["v"] is None for r in rows] == [False, True, True, False]
    assert rows[0]["v_error"] is None and rows[2]["v_error"] is None
    assert "no tokens" in rows[1]["v_error"]
    with pytest.raises(Exception, match="no tokens"):
        with_embeddings(frame(spark, texts), "text", "v", modelDir=model).collect()


def test_bad_options_are_refused_with_the_setting_named(spark):
    with pytest.raises(Exception, match="truncateDim"):
        embed("text", modelDir=MODEL, truncateDim="zero")
    with pytest.raises(Exception, match="unknown setting"):
        sbert4j_spark.encoder_options(spark, modelDir=MODEL, nope=1)
