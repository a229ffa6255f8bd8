package org.sbert4j.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Objects;

import org.sbert4j.Precision;

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
 *         .precision(Precision.INT8); // unset: FP32
 * }</pre>
 */
public final class EncoderOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Rows per {@code encodeBatch} call within a partition, unless set. */
    public static final int DEFAULT_BATCH_SIZE = 256;

    private final String modelDir;
    private final String sparkFile;
    private final int batchSize;
    private final Boolean normalize;
    private final Integer maxSequenceLength;
    private final Integer threads;
    private final Precision precision;

    private EncoderOptions(String modelDir, String sparkFile, int batchSize, Boolean normalize, Integer maxSequenceLength,
            Integer threads, Precision precision) {
        this.modelDir = modelDir;
        this.sparkFile = sparkFile;
        this.batchSize = batchSize;
        this.normalize = normalize;
        this.maxSequenceLength = maxSequenceLength;
        this.threads = threads;
        this.precision = precision;
    }

    /** The model directory at this path, which must exist on every node that runs tasks. */
    public static EncoderOptions modelDir(String path) {
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("model directory is null or empty");
        }
        return new EncoderOptions(path, null, DEFAULT_BATCH_SIZE, null, null, null, Precision.FP32);
    }

    /** As {@link #modelDir(String)}; the path is kept as its absolute string (a {@link Path} is not serializable). */
    public static EncoderOptions modelDir(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("model directory is null");
        }
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
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("SparkFiles name is null or empty");
        }
        return new EncoderOptions(null, name, DEFAULT_BATCH_SIZE, null, null, null, Precision.FP32);
    }

    /** Rows per {@code encodeBatch} call within a partition (default {@value #DEFAULT_BATCH_SIZE}). */
    public EncoderOptions batchSize(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + rows);
        }
        return new EncoderOptions(modelDir, sparkFile, rows, normalize, maxSequenceLength, threads, precision);
    }

    /** Scale vectors to unit length, or not, whatever the model's {@code modules.json} says. */
    public EncoderOptions normalize(boolean normalize) {
        return new EncoderOptions(modelDir, sparkFile, batchSize, normalize, maxSequenceLength, threads, precision);
    }

    /** Truncate texts at this many tokens instead of the model's {@code max_seq_length}. */
    public EncoderOptions maxSequenceLength(int tokens) {
        if (tokens < 2) {
            throw new IllegalArgumentException("maxSequenceLength must be at least 2, got " + tokens);
        }
        return new EncoderOptions(modelDir, sparkFile, batchSize, normalize, tokens, threads, precision);
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
        return new EncoderOptions(modelDir, sparkFile, batchSize, normalize, maxSequenceLength, threads, precision);
    }

    /**
     * The number format of the model's linear layers on the executors (default {@link Precision#FP32}; see
     * {@link Precision} for BF16 and INT8, their schemes and measured quality).
     */
    public EncoderOptions precision(Precision precision) {
        if (precision == null) {
            throw new IllegalArgumentException("precision is null");
        }
        return new EncoderOptions(modelDir, sparkFile, batchSize, normalize, maxSequenceLength, threads, precision);
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
                && precision == other.precision;
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelDir, sparkFile, batchSize, normalize, maxSequenceLength, threads, precision);
    }

    @Override
    public String toString() {
        return "EncoderOptions{" + (modelDir != null ? "modelDir=" + modelDir : "sparkFile=" + sparkFile)
                + ", batchSize=" + batchSize
                + (normalize != null ? ", normalize=" + normalize : "")
                + (maxSequenceLength != null ? ", maxSequenceLength=" + maxSequenceLength : "")
                + (threads != null ? ", threads=" + threads : "")
                + (precision != Precision.FP32 ? ", precision=" + precision : "")
                + "}";
    }
}
