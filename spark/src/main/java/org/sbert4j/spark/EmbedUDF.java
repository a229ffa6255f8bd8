package org.sbert4j.spark;

import java.util.Locale;
import java.util.NoSuchElementException;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.sbert4j.Precision;

/**
 * The SQL function {@code string -> array<float>} as a class Spark can instantiate by name, configured by the
 * session's {@code spark.sbert4j.*} keys:
 *
 * <pre>{@code
 * spark.conf().set("spark.sbert4j.modelDir", "/opt/models/all-MiniLM-L6-v2");   // or spark.sbert4j.sparkFile
 * spark.udf().registerJavaFunction("embed", "org.sbert4j.spark.EmbedUDF", SentenceEmbeddings.VECTOR_TYPE);
 * spark.sql("SELECT embed(text) FROM t");
 * }</pre>
 *
 * <p>PySpark: {@code spark.udf.registerJavaFunction("embed", "org.sbert4j.spark.EmbedUDF", ArrayType(FloatType()))}.
 * The keys are read when the function is registered (the no-argument constructor, on the driver):
 * {@value #PREFIX}{@code modelDir} or {@code sparkFile} (one of them), and optionally {@code precision}
 * (fp32, bf16, int8), {@code threads}, {@code prompt}, {@code promptName}, {@code truncateDim},
 * {@code maxSequenceLength}, {@code normalize}, {@code onError} (fail, null: a row that cannot be encoded gives
 * null). They are what {@link EncoderOptions} sets, and give the same vectors as
 * {@link SentenceEmbeddings#withColumn}.
 */
public class EmbedUDF implements UDF1<String, float[]> {
    private static final long serialVersionUID = 1L;

    /** The prefix of the configuration keys. */
    public static final String PREFIX = "spark.sbert4j.";

    private final SentenceEmbeddings.EncodeText function;

    /** Configured from the active session's {@code spark.sbert4j.*} keys. */
    public EmbedUDF() {
        this(activeSession());
    }

    /** Configured from {@code spark}'s {@code spark.sbert4j.*} keys. */
    public EmbedUDF(SparkSession spark) {
        this(spark, optionsFromConf(spark.conf()));
    }

    /** With these options (the keys are not read). */
    public EmbedUDF(SparkSession spark, EncoderOptions options) {
        this.function = SentenceEmbeddings.encodeText(spark, options);
    }

    @Override
    public float[] call(String text) {
        return function.call(text);
    }

    /** The options the {@code spark.sbert4j.*} keys of {@code conf} give; {@link IllegalArgumentException} naming the key if one is wrong. */
    public static EncoderOptions optionsFromConf(RuntimeConfig conf) {
        String modelDir = get(conf, "modelDir");
        String sparkFile = get(conf, "sparkFile");
        if ((modelDir == null) == (sparkFile == null)) {
            throw new IllegalArgumentException("sbert4j: set exactly one of " + PREFIX + "modelDir and " + PREFIX
                    + "sparkFile (the model directory on every node, or the SparkFiles name of a shipped model)");
        }
        EncoderOptions options = modelDir != null ? EncoderOptions.modelDir(modelDir) : EncoderOptions.sparkFile(sparkFile);
        String key = null;
        try {
            String v;
            if ((v = get(conf, key = "batchSize")) != null) {
                options = options.batchSize(Integer.parseInt(v.trim()));
            }
            if ((v = get(conf, key = "precision")) != null) {
                options = options.precision(Precision.valueOf(v.trim().toUpperCase(Locale.ROOT)));
            }
            if ((v = get(conf, key = "threads")) != null) {
                options = options.threads(Integer.parseInt(v.trim()));
            }
            if ((v = get(conf, key = "promptName")) != null) {
                options = options.promptName(v);
            } else if ((v = get(conf, key = "prompt")) != null) {
                options = options.prompt(v);
            }
            if ((v = get(conf, key = "truncateDim")) != null) {
                options = options.truncateDim(Integer.parseInt(v.trim()));
            }
            if ((v = get(conf, key = "maxSequenceLength")) != null) {
                options = options.maxSequenceLength(Integer.parseInt(v.trim()));
            }
            if ((v = get(conf, key = "normalize")) != null) {
                if (!v.trim().equalsIgnoreCase("true") && !v.trim().equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException("expected true or false");
                }
                options = options.normalize(Boolean.parseBoolean(v.trim()));
            }
            if ((v = get(conf, key = "onError")) != null) {
                options = options.onError(EncoderOptions.OnError.parse(v));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sbert4j: " + PREFIX + key + " = '" + get(conf, key) + "': " + e.getMessage(), e);
        }
        return options;
    }

    private static String get(RuntimeConfig conf, String name) {
        try {
            String value = conf.get(PREFIX + name);
            return value == null || value.isEmpty() && !name.equals("prompt") ? null : value;
        } catch (NoSuchElementException e) {
            return null;
        }
    }

    private static SparkSession activeSession() {
        if (SparkSession.getActiveSession().isDefined()) {
            return SparkSession.getActiveSession().get();
        }
        if (SparkSession.getDefaultSession().isDefined()) {
            return SparkSession.getDefaultSession().get();
        }
        throw new IllegalStateException("sbert4j: EmbedUDF needs a SparkSession to read " + PREFIX + "* from");
    }
}
