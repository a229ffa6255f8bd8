package org.sbert4j.spark.ml;

import java.util.Locale;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.sbert4j.Precision;
import org.sbert4j.spark.EncoderOptions;
import org.sbert4j.spark.SentenceEmbeddings;

/**
 * Sentence embeddings as a Spark ML {@link Transformer}: a stage of a {@code Pipeline}, saved and loaded with it
 * ({@code DefaultParamsWritable}; {@link #load(String)}).
 *
 * <pre>{@code
 * SentenceEmbedder embedder = new SentenceEmbedder()
 *         .setInputCol("text").setOutputCol("features")
 *         .setModelDir("/opt/models/all-MiniLM-L6-v2")   // or setSparkFile / setModelArchive
 *         .setOutputType("vector");                      // an ML Vector, for KMeans, LogisticRegression, ...
 * PipelineModel model = new Pipeline().setStages(new PipelineStage[] {embedder, new KMeans().setK(8)}).fit(df);
 * }</pre>
 *
 * <p>It encodes as {@code SentenceEmbeddings.withColumn} does (batches within each partition, one model per
 * executor JVM): the same vectors, the same options. Unset options follow the model directory.
 */
public final class SentenceEmbedder extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;

    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> errorCol;
    private final Param<String> modelDir;
    private final Param<String> sparkFile;
    private final Param<String> modelArchive;
    private final IntParam batchSize;
    private final Param<String> precision;
    private final IntParam threads;
    private final Param<String> prompt;
    private final Param<String> promptName;
    private final IntParam truncateDim;
    private final IntParam maxSequenceLength;
    private final BooleanParam normalize;
    private final Param<String> outputType;
    private final Param<String> onError;

    public SentenceEmbedder() {
        this(Identifiable.randomUID("SentenceEmbedder"));
    }

    /** With this uid (what {@code copy} and {@link #load} use). */
    public SentenceEmbedder(String uid) {
        this.uid = uid;
        // After uid: a Param takes its parent's uid when it is made.
        this.inputCol = new Param<>(this, "inputCol", "the text column (string)");
        this.outputCol = new Param<>(this, "outputCol", "the vector column to add or replace");
        this.errorCol = new Param<>(this, "errorCol",
                "with onError=null: the column with the reason a row could not be encoded (default: outputCol + '_error')");
        this.modelDir = new Param<>(this, "modelDir",
                "the model directory, a path present on every node");
        this.sparkFile = new Param<>(this, "sparkFile",
                "the SparkFiles name of a model shipped with the job (spark-submit --archives model.zip#name, addArchive, addFile)");
        this.modelArchive = new Param<>(this, "modelArchive",
                "a zip of the model directory (any Hadoop URI, '#name' optional), added with SparkContext.addArchive when the stage transforms");
        this.batchSize = new IntParam(this, "batchSize", "rows per encodeBatch call within a partition",
                ParamValidators.gtEq(1));
        this.precision = new Param<>(this, "precision", "fp32, bf16 or int8 (the linear layers' number format)",
                ParamValidators.inArray(new String[] {"fp32", "bf16", "int8"}));
        this.threads = new IntParam(this, "threads", "threads one task's encoding keeps busy (default: spark.task.cpus)",
                ParamValidators.gtEq(1));
        this.prompt = new Param<>(this, "prompt", "a literal prompt put in front of every text ('' for none)");
        this.promptName = new Param<>(this, "promptName", "the model's prompt of this name, put in front of every text");
        this.truncateDim = new IntParam(this, "truncateDim", "keep the first N components (Matryoshka models)",
                ParamValidators.gtEq(1));
        this.maxSequenceLength = new IntParam(this, "maxSequenceLength",
                "truncate texts at this many tokens (default: the model's max_seq_length)", ParamValidators.gtEq(2));
        this.normalize = new BooleanParam(this, "normalize",
                "scale vectors to unit length or not (default: what the model's modules.json says)");
        this.outputType = new Param<>(this, "outputType",
                "array (array<float>) or vector (org.apache.spark.ml.linalg.Vector)", ParamValidators.inArray(new String[] {"array", "vector"}));
        this.onError = new Param<>(this, "onError",
                "fail (a row that cannot be encoded fails its task) or null (a null vector and the reason in errorCol)",
                ParamValidators.inArray(new String[] {"fail", "null"}));
        setDefault(inputCol, "text");
        setDefault(outputCol, "embedding");
        setDefault(batchSize, EncoderOptions.DEFAULT_BATCH_SIZE);
        setDefault(precision, "fp32");
        setDefault(outputType, "array");
        setDefault(onError, "fail");
    }

    @Override
    public String uid() {
        return uid;
    }

    // ---- params (public no-argument methods returning a Param: what Spark's Params.params finds) ----

    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> errorCol() { return errorCol; }
    public Param<String> modelDir() { return modelDir; }
    public Param<String> sparkFile() { return sparkFile; }
    public Param<String> modelArchive() { return modelArchive; }
    public IntParam batchSize() { return batchSize; }
    public Param<String> precision() { return precision; }
    public IntParam threads() { return threads; }
    public Param<String> prompt() { return prompt; }
    public Param<String> promptName() { return promptName; }
    public IntParam truncateDim() { return truncateDim; }
    public IntParam maxSequenceLength() { return maxSequenceLength; }
    public BooleanParam normalize() { return normalize; }
    public Param<String> outputType() { return outputType; }
    public Param<String> onError() { return onError; }

    public SentenceEmbedder setInputCol(String value) { return put(inputCol, value); }
    public SentenceEmbedder setOutputCol(String value) { return put(outputCol, value); }
    public SentenceEmbedder setErrorCol(String value) { return put(errorCol, value); }
    public SentenceEmbedder setModelDir(String value) { return put(modelDir, value); }
    public SentenceEmbedder setSparkFile(String value) { return put(sparkFile, value); }
    public SentenceEmbedder setModelArchive(String value) { return put(modelArchive, value); }
    public SentenceEmbedder setBatchSize(int value) { return put(batchSize, value); }
    public SentenceEmbedder setPrecision(String value) { return put(precision, value == null ? null : value.toLowerCase(Locale.ROOT)); }
    public SentenceEmbedder setThreads(int value) { return put(threads, value); }
    public SentenceEmbedder setPrompt(String value) { return put(prompt, value); }
    public SentenceEmbedder setPromptName(String value) { return put(promptName, value); }
    public SentenceEmbedder setTruncateDim(int value) { return put(truncateDim, value); }
    public SentenceEmbedder setMaxSequenceLength(int value) { return put(maxSequenceLength, value); }
    public SentenceEmbedder setNormalize(boolean value) { return put(normalize, value); }
    public SentenceEmbedder setOutputType(String value) { return put(outputType, value == null ? null : value.toLowerCase(Locale.ROOT)); }
    public SentenceEmbedder setOnError(String value) { return put(onError, value == null ? null : value.toLowerCase(Locale.ROOT)); }

    public String getInputCol() { return $(inputCol); }
    public String getOutputCol() { return $(outputCol); }
    public String getModelDir() { return $(modelDir); }
    public String getSparkFile() { return $(sparkFile); }
    public String getModelArchive() { return $(modelArchive); }
    public int getBatchSize() { return (Integer) $(batchSize); }
    public String getPrecision() { return $(precision); }
    public String getOutputType() { return $(outputType); }
    public String getOnError() { return $(onError); }

    /** The error column: errorCol if set, else outputCol + "_error"; null under onError=fail. */
    public String getErrorCol() {
        if (!"null".equals($(onError))) {
            return null;
        }
        return isDefined(errorCol) ? $(errorCol) : $(outputCol) + "_error";
    }

    private <T> SentenceEmbedder put(Param<T> param, T value) {
        if (value == null) {
            throw new IllegalArgumentException(param.name() + " is null");
        }
        set(param, value);
        return this;
    }

    /**
     * The stage's params as {@link EncoderOptions}. Exactly one of modelDir, sparkFile and modelArchive must be set.
     */
    public EncoderOptions encoderOptions() {
        int locations = (isDefined(modelDir) ? 1 : 0) + (isDefined(sparkFile) ? 1 : 0) + (isDefined(modelArchive) ? 1 : 0);
        if (locations != 1) {
            throw new IllegalArgumentException("SentenceEmbedder " + uid + ": set exactly one of modelDir, sparkFile and modelArchive"
                    + " (" + locations + " set)");
        }
        EncoderOptions options = isDefined(modelDir) ? EncoderOptions.modelDir($(modelDir))
                : isDefined(sparkFile) ? EncoderOptions.sparkFile($(sparkFile))
                : EncoderOptions.sparkFile(archiveName($(modelArchive)));
        options = options.batchSize(getBatchSize())
                .precision(Precision.valueOf(getPrecision().toUpperCase(Locale.ROOT)))
                .onError(EncoderOptions.OnError.parse(getOnError()));
        if (isDefined(threads)) {
            options = options.threads((Integer) $(threads));
        }
        if (isDefined(promptName)) {
            options = options.promptName($(promptName));
        } else if (isDefined(prompt)) {
            options = options.prompt($(prompt));
        }
        if (isDefined(truncateDim)) {
            options = options.truncateDim((Integer) $(truncateDim));
        }
        if (isDefined(maxSequenceLength)) {
            options = options.maxSequenceLength((Integer) $(maxSequenceLength));
        }
        if (isDefined(normalize)) {
            options = options.normalize((Boolean) $(normalize));
        }
        return options;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        return SentenceEmbeddings.outputSchema(schema, getInputCol(), getOutputCol(), getErrorCol(), encoderOptions(),
                "vector".equals(getOutputType()));
    }

    @Override
    @SuppressWarnings("unchecked")
    public Dataset<Row> transform(Dataset<?> dataset) {
        transformSchema(dataset.schema(), true);
        EncoderOptions options = encoderOptions();
        if (isDefined(modelArchive)) {
            addArchiveOnce(dataset.sparkSession().sparkContext(), $(modelArchive));
        }
        Dataset<Row> df = (Dataset<Row>) dataset.toDF();
        return "vector".equals(getOutputType())
                ? SentenceEmbeddings.withVectorColumn(df, getInputCol(), getOutputCol(), getErrorCol(), options)
                : SentenceEmbeddings.withColumn(df, getInputCol(), getOutputCol(), getErrorCol(), options);
    }

    /** {@code SparkContext.addArchive(uri)} unless this application has it already. */
    private static void addArchiveOnce(SparkContext sc, String uri) {
        synchronized (SentenceEmbedder.class) {
            String path = uri.contains("#") ? uri.substring(0, uri.lastIndexOf('#')) : uri;
            boolean added = false;
            for (scala.collection.Iterator<String> it = sc.listArchives().iterator(); it.hasNext(); ) {
                String listed = it.next();
                added |= listed.equals(uri) || listed.endsWith(path) || listed.contains(path + "#");
            }
            if (!added) {
                sc.addArchive(uri);
            }
        }
    }

    @Override
    public SentenceEmbedder copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** An archive's SparkFiles name: the URI fragment ("model.zip#name"), else its file name without a trailing slash. */
    static String archiveName(String uri) {
        int hash = uri.lastIndexOf('#');
        if (hash >= 0) {
            return uri.substring(hash + 1);
        }
        String path = uri;
        while (path.endsWith("/") && path.length() > 1) {
            path = path.substring(0, path.length() - 1);
        }
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The reader {@code PipelineModel.load} uses (through reflection) for this stage. */
    public static MLReader<SentenceEmbedder> read() {
        return new DefaultParamsReader<>();
    }

    /** A stage saved with {@code write().save(path)} or {@code save(path)}. */
    public static SentenceEmbedder load(String path) {
        return read().load(path);
    }
}
