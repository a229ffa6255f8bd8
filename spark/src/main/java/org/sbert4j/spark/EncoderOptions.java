package org.sbert4j.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import org.sbert4j.Precision;
import org.sbert4j.Prompt;

/**
 * Which model to use on the executors and how to encode; immutable and
 * {@link Serializable}, so it travels inside Spark's task closures. Each
 * setter returns a copy.
 *
 * <p>The model directory is given either as a path present on every node
 * ({@link #modelDir(String)}), or as the name of a file or archive shipped
 * with {@code SparkContext.addFile(dir, true)} / {@code addArchive(zip)},
 * resolved on each executor with {@code SparkFiles.get(name)}
 * ({@link #sparkFile(String)}).
 *
 * <pre>{@code
 * EncoderOptions options = EncoderOptions.modelDir("/opt/models/all-MiniLM-L6-v2")
 *         .batchSize(256)          // rows per encodeBatch call within a partition
 *         .normalize(true)         // unset: what the model's modules.json says
 *         .maxSequenceLength(128)  // unset: the model's max_seq_length
 *         .threads(2)              // unset: spark.task.cpus (see threads(int))
 *         .precision(Precision.INT8) // unset: FP32
 *         .promptName("query")     // unset: the model's default prompt (see prompt(String))
 *         .truncateDim(256)        // unset: the model's dimension
 *         .onError(OnError.NULL);  // unset: FAIL (a row that cannot be encoded fails its task)
 * }</pre>
 */
public final class EncoderOptions implements Serializable {
    private static final long serialVersionUID = 2L;

    /** Rows per {@code encodeBatch} call within a partition, unless set. */
    public static final int DEFAULT_BATCH_SIZE = 256;

    /** What a row that cannot be encoded does to its job. */
    public enum OnError {
        /** The row's error fails its task, and after Spark's retries the job (the default). */
        FAIL,
        /**
         * The row gets a null vector and the reason in the error column, and the job goes on. Covers what one
         * row's text does (a text that yields no tokens) and a model that cannot be loaded on the executor that
         * runs the row (every row it would have encoded gets the load error).
         */
        NULL;

        /** {@code "fail"} or {@code "null"} (any case) as an {@link OnError}. */
        public static OnError parse(String value) {
            if (value != null) {
                for (OnError e : values()) {
                    if (e.name().equalsIgnoreCase(value.trim())) {
                        return e;
                    }
                }
            }
            throw new IllegalArgumentException("onError must be 'fail' or 'null', got " + value);
        }
    }

    private String modelDir;
    private String sparkFile;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Boolean normalize;
    private Integer maxSequenceLength;
    private Integer threads;
    private Precision precision = Precision.FP32;
    private String promptName;
    private String prompt;
    private Integer truncateDim;
    private OnError onError = OnError.FAIL;

    private EncoderOptions() {}

    private EncoderOptions copy() {
        EncoderOptions c = new EncoderOptions();
        c.modelDir = modelDir;
        c.sparkFile = sparkFile;
        c.batchSize = batchSize;
        c.normalize = normalize;
        c.maxSequenceLength = maxSequenceLength;
        c.threads = threads;
        c.precision = precision;
        c.promptName = promptName;
        c.prompt = prompt;
        c.truncateDim = truncateDim;
        c.onError = onError;
        return c;
    }

    /** The model directory at this path, which must exist on every node that runs tasks. */
    public static EncoderOptions modelDir(String path) {
        java.util.Objects.requireNonNull(path, "modelDir");
        if (path.isEmpty()) {
            throw new IllegalArgumentException("model directory is empty");
        }
        EncoderOptions o = new EncoderOptions();
        o.modelDir = path;
        return o;
    }

    /** As {@link #modelDir(String)}; the path is kept as its absolute string (a {@link Path} is not serializable). */
    public static EncoderOptions modelDir(Path path) {
        java.util.Objects.requireNonNull(path, "modelDir");
        return modelDir(path.toAbsolutePath().toString());
    }

    /**
     * The model directory shipped with the job under the SparkFiles name
     * {@code name}: {@code spark-submit --archives model.zip#name},
     * {@code SparkContext.addArchive("model.zip#name")}, or
     * {@code SparkContext.addFile(dir, true)} (a directory on a Hadoop file
     * system; a local directory only in local mode). Add it before calling
     * {@code SentenceEmbeddings.withColumn/udf/register}: on Spark 4 they add
     * it to the session's artifacts too, so that Dataset and SQL jobs ship it
     * (see {@code ModelLocation}).
     */
    public static EncoderOptions sparkFile(String name) {
        java.util.Objects.requireNonNull(name, "sparkFile");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("SparkFiles name is empty");
        }
        EncoderOptions o = new EncoderOptions();
        o.sparkFile = name;
        return o;
    }

    /** The names {@link #fromSettings} knows. */
    public static final List<String> SETTINGS = Collections.unmodifiableList(Arrays.asList("modelDir", "sparkFile",
            "batchSize", "precision", "threads", "prompt", "promptName", "truncateDim", "maxSequenceLength",
            "normalize", "onError"));

    /**
     * Options from name/value strings, as Spark configuration ({@code spark.sbert4j.*}), SQL and PySpark give them:
     * {@code modelDir} or {@code sparkFile} (exactly one), and optionally {@code batchSize}, {@code precision}
     * (fp32, bf16, int8), {@code threads}, {@code prompt} or {@code promptName}, {@code truncateDim},
     * {@code maxSequenceLength}, {@code normalize} (true, false), {@code onError} (fail, null). An empty value is
     * unset (except {@code prompt}, where "" means no prompt). An unknown name or a bad value is an
     * {@link IllegalArgumentException} naming {@code prefix + name}.
     */
    public static EncoderOptions fromSettings(Map<String, String> settings, String prefix) {
        String pre = prefix == null ? "" : prefix;
        for (String name : settings.keySet()) {
            if (!SETTINGS.contains(name)) {
                throw new IllegalArgumentException("sbert4j: unknown setting " + pre + name + " (known: " + SETTINGS + ")");
            }
        }
        java.util.function.Function<String, String> get = name -> {
            String value = settings.get(name);
            return value == null || value.isEmpty() && !name.equals("prompt") ? null : value;
        };
        String modelDir = get.apply("modelDir");
        String sparkFile = get.apply("sparkFile");
        if ((modelDir == null) == (sparkFile == null)) {
            throw new IllegalArgumentException("sbert4j: set exactly one of " + pre + "modelDir and " + pre
                    + "sparkFile (the model directory on every node, or the SparkFiles name of a shipped model)");
        }
        EncoderOptions options = modelDir != null ? modelDir(modelDir) : sparkFile(sparkFile);
        String key = null;
        try {
            String v;
            if ((v = get.apply(key = "batchSize")) != null) {
                options = options.batchSize(Integer.parseInt(v.trim()));
            }
            if ((v = get.apply(key = "precision")) != null) {
                options = options.precision(Precision.valueOf(v.trim().toUpperCase(Locale.ROOT)));
            }
            if ((v = get.apply(key = "threads")) != null) {
                options = options.threads(Integer.parseInt(v.trim()));
            }
            if ((v = get.apply(key = "promptName")) != null) {
                options = options.promptName(v);
            } else if ((v = get.apply(key = "prompt")) != null) {
                options = options.prompt(v);
            }
            if ((v = get.apply(key = "truncateDim")) != null) {
                options = options.truncateDim(Integer.parseInt(v.trim()));
            }
            if ((v = get.apply(key = "maxSequenceLength")) != null) {
                options = options.maxSequenceLength(Integer.parseInt(v.trim()));
            }
            if ((v = get.apply(key = "normalize")) != null) {
                if (!v.trim().equalsIgnoreCase("true") && !v.trim().equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException("expected true or false");
                }
                options = options.normalize(Boolean.parseBoolean(v.trim()));
            }
            if ((v = get.apply(key = "onError")) != null) {
                options = options.onError(OnError.parse(v));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sbert4j: " + pre + key + " = '" + settings.get(key) + "': " + e.getMessage(), e);
        }
        return options;
    }

    /** Rows per {@code encodeBatch} call within a partition (default {@value #DEFAULT_BATCH_SIZE}). */
    public EncoderOptions batchSize(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + rows);
        }
        EncoderOptions c = copy();
        c.batchSize = rows;
        return c;
    }

    /** Scale vectors to unit length, or not, whatever the model's {@code modules.json} says. */
    public EncoderOptions normalize(boolean normalize) {
        EncoderOptions c = copy();
        c.normalize = normalize;
        return c;
    }

    /** Truncate texts at this many tokens instead of the model's {@code max_seq_length}. */
    public EncoderOptions maxSequenceLength(int tokens) {
        if (tokens < 2) {
            throw new IllegalArgumentException("maxSequenceLength must be at least 2, got " + tokens);
        }
        EncoderOptions c = copy();
        c.maxSequenceLength = tokens;
        return c;
    }

    /**
     * The most threads one task's encoding keeps busy. Unset, it is the
     * task's own CPUs ({@code spark.task.cpus}, {@code TaskContext.cpus()}):
     * an executor running C tasks side by side then keeps C × task.cpus
     * threads busy, its share of the node, not C × every core. Capped at the
     * executor JVM's thread budget ({@code -Dsbert4j.threads}, default every
     * CPU the process may use). Raise it for a job that runs fewer tasks
     * than the executor has cores.
     */
    public EncoderOptions threads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        EncoderOptions c = copy();
        c.threads = threads;
        return c;
    }

    /**
     * The number format of the model's linear layers on the executors (default {@link Precision#FP32}; see
     * {@link Precision} for BF16 and INT8, their schemes and measured quality).
     */
    public EncoderOptions precision(Precision precision) {
        if (precision == null) {
            throw new IllegalArgumentException("precision is null");
        }
        EncoderOptions c = copy();
        c.precision = precision;
        return c;
    }

    /**
     * Put the model's prompt called {@code name} ({@code config_sentence_transformers.json}) in front of every
     * text, as sentence-transformers' {@code encode(prompt_name=name)}; replaces {@link #prompt(String)}. A name
     * the model lacks fails on the executor, listing the model's prompts.
     */
    public EncoderOptions promptName(String name) {
        java.util.Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("prompt name is empty");
        }
        EncoderOptions c = copy();
        c.promptName = name;
        c.prompt = null;
        return c;
    }

    /**
     * Put {@code text} in front of every text, as sentence-transformers' {@code encode(prompt=text)};
     * {@code ""} encodes the texts alone even when the model has a default prompt. Replaces
     * {@link #promptName(String)}.
     */
    public EncoderOptions prompt(String text) {
        java.util.Objects.requireNonNull(text, "text (\"\" for no prompt)");
        EncoderOptions c = copy();
        c.prompt = text;
        c.promptName = null;
        return c;
    }

    /**
     * Keep the first {@code dimensions} components of every vector, as sentence-transformers'
     * {@code truncate_dim} (see {@code SentenceEncoder.Builder.truncateDim}); at most the model's dimension.
     */
    public EncoderOptions truncateDim(int dimensions) {
        if (dimensions < 1) {
            throw new IllegalArgumentException("truncateDim must be at least 1, got " + dimensions);
        }
        EncoderOptions c = copy();
        c.truncateDim = dimensions;
        return c;
    }

    /** What a row that cannot be encoded does: {@link OnError#FAIL} (the default) or {@link OnError#NULL}. */
    public EncoderOptions onError(OnError onError) {
        if (onError == null) {
            throw new IllegalArgumentException("onError is null");
        }
        EncoderOptions c = copy();
        c.onError = onError;
        return c;
    }

    /** The precision set by {@link #precision(Precision)} ({@link Precision#FP32} unless set). */
    public Precision precision() {
        return precision;
    }

    /** The path given to {@link #modelDir(String)}, or null. */
    public String modelDir() {
        return modelDir;
    }

    /** The name given to {@link #sparkFile(String)}, or null. */
    public String sparkFile() {
        return sparkFile;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The normalize override, or null to follow the model. */
    public Boolean normalize() {
        return normalize;
    }

    /** The truncation override, or null to follow the model. */
    public Integer maxSequenceLength() {
        return maxSequenceLength;
    }

    /** The thread count set by {@link #threads(int)}, or null for the task's CPUs. */
    public Integer threads() {
        return threads;
    }

    /** The prompt name set by {@link #promptName(String)}, or null. */
    public String promptName() {
        return promptName;
    }

    /** The literal prompt set by {@link #prompt(String)}, or null. */
    public String prompt() {
        return prompt;
    }

    /** The prompt as the core's {@link Prompt}, or null to follow the model's default prompt. */
    public Prompt corePrompt() {
        return promptName != null ? Prompt.named(promptName) : prompt != null ? Prompt.literal(prompt) : null;
    }

    /** The dimension set by {@link #truncateDim(int)}, or null for the model's. */
    public Integer truncateDim() {
        return truncateDim;
    }

    /** The error policy ({@link OnError#FAIL} unless set). */
    public OnError onError() {
        return onError;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof EncoderOptions)) {
            return false;
        }
        EncoderOptions other = (EncoderOptions) o;
        return batchSize == other.batchSize
                && Objects.equals(modelDir, other.modelDir)
                && Objects.equals(sparkFile, other.sparkFile)
                && Objects.equals(normalize, other.normalize)
                && Objects.equals(maxSequenceLength, other.maxSequenceLength)
                && Objects.equals(threads, other.threads)
                && precision == other.precision
                && Objects.equals(promptName, other.promptName)
                && Objects.equals(prompt, other.prompt)
                && Objects.equals(truncateDim, other.truncateDim)
                && onError == other.onError;
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelDir, sparkFile, batchSize, normalize, maxSequenceLength, threads, precision,
                promptName, prompt, truncateDim, onError);
    }

    @Override
    public String toString() {
        return "EncoderOptions{" + (modelDir != null ? "modelDir=" + modelDir : "sparkFile=" + sparkFile)
                + ", batchSize=" + batchSize
                + (normalize != null ? ", normalize=" + normalize : "")
                + (maxSequenceLength != null ? ", maxSequenceLength=" + maxSequenceLength : "")
                + (threads != null ? ", threads=" + threads : "")
                + (precision != Precision.FP32 ? ", precision=" + precision : "")
                + (promptName != null ? ", promptName=" + promptName : "")
                + (prompt != null ? ", prompt=\"" + prompt + "\"" : "")
                + (truncateDim != null ? ", truncateDim=" + truncateDim : "")
                + (onError != OnError.FAIL ? ", onError=" + onError : "")
                + "}";
    }
}
