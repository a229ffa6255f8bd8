package org.sbert4j.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;

/**
 * The SQL function {@code string -> array<float>} as a class Spark can instantiate by name, configured by the
 * session's {@code spark.sbert4j.*} keys:
 *
 * <pre>{@code
 * spark.conf().set("spark.sbert4j.modelDir", "/opt/models/all-MiniLM-L6-v2");   // or spark.sbert4j.sparkFile
 * spark.udf().registerJava("embed", "org.sbert4j.spark.EmbedUDF", SentenceEmbeddings.VECTOR_TYPE);
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

    /**
     * The options the {@code spark.sbert4j.*} keys of {@code conf} give (see {@link EncoderOptions#fromSettings});
     * {@link IllegalArgumentException} naming the key if one is wrong.
     */
    public static EncoderOptions optionsFromConf(RuntimeConfig conf) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String name : EncoderOptions.SETTINGS) {
            try {
                String value = conf.get(PREFIX + name);
                if (value != null) {
                    settings.put(name, value);
                }
            } catch (NoSuchElementException e) {
                // unset
            }
        }
        return EncoderOptions.fromSettings(settings, PREFIX);
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
