package org.sbert4j.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.hive.ql.exec.UDFArgumentException;
import org.apache.hadoop.hive.ql.exec.UDFArgumentLengthException;
import org.apache.hadoop.hive.ql.exec.UDFArgumentTypeException;
import org.apache.hadoop.hive.ql.metadata.HiveException;
import org.apache.hadoop.hive.ql.udf.generic.GenericUDF;
import org.apache.hadoop.hive.serde2.objectinspector.ConstantObjectInspector;
import org.apache.hadoop.hive.serde2.objectinspector.ObjectInspector;
import org.apache.hadoop.hive.serde2.objectinspector.ObjectInspectorFactory;
import org.apache.hadoop.hive.serde2.objectinspector.PrimitiveObjectInspector;
import org.apache.hadoop.hive.serde2.objectinspector.primitive.PrimitiveObjectInspectorFactory;
import org.apache.hadoop.hive.serde2.objectinspector.primitive.StringObjectInspector;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;

/**
 * The SQL function {@code embed(text [, 'key=value' ...]) -> array<float>} as a Hive {@code GenericUDF}: the
 * class {@code CREATE FUNCTION} accepts in a session with Hive support (the {@code spark-sql} shell, or
 * {@code SparkSession.builder().enableHiveSupport()}), which Spark 3.5 and 4 resolve through Hive. Spark's own
 * function resolution (without Hive) takes only aggregate classes ({@code UserDefinedAggregateFunction}) by
 * name; use {@link EmbedUDF} with {@code registerJava} there.
 *
 * <pre>{@code
 * CREATE TEMPORARY FUNCTION embed AS 'org.sbert4j.spark.EmbedHiveUDF'
 *     USING JAR '/opt/jars/sbert4j.jar', JAR '/opt/jars/sbert4j-spark_2.12.jar';
 * SELECT embed(text) FROM t;                                      -- the model from spark.sbert4j.*
 * SELECT embed(text, 'modelDir=/models/minilm', 'truncateDim=128') FROM t;
 * }</pre>
 *
 * <p>The settings are {@link EncoderOptions#SETTINGS}, as {@link EncoderOptions#fromSettings} reads them: first
 * the {@code spark.sbert4j.*} keys of the query's session (set with {@code --conf}, {@code SET} or
 * {@code spark.conf().set}), then each argument after the text, a constant string {@code 'name=value'}, which
 * overrides the key of that name ({@code modelDir} or {@code sparkFile} in an argument replaces both keys). A
 * null text gives null; under {@code onError=null} a text that cannot be encoded gives null too. The vectors are
 * those of {@link SentenceEmbeddings#udf} with the same options.
 *
 * <p>Spark makes one instance on the driver (to check the arguments) and one per task on the executors, each
 * initialized with the same arguments; on an executor the {@code spark.sbert4j.*} keys are those the query's
 * session sent with the task (Spark passes a session's {@code spark.*} settings to its tasks), or else the
 * executor's own configuration. The model is opened once per executor JVM and shared ({@link ExecutorEncoders}).
 * A model shipped with the job ({@code sparkFile}) must be shipped when the executors start
 * ({@code spark-submit}/{@code spark-sql --archives model.zip#name}) or be added to the context
 * ({@code ADD ARCHIVE} on Spark 3.5).
 */
public class EmbedHiveUDF extends GenericUDF {
    private transient StringObjectInspector textInspector;
    private transient SentenceEmbeddings.EncodeText function;
    private transient String display;

    @Override
    public ObjectInspector initialize(ObjectInspector[] arguments) throws UDFArgumentException {
        if (arguments.length < 1) {
            throw new UDFArgumentLengthException("sbert4j: embed(text [, 'name=value' ...]) takes the text and optional "
                    + "settings such as 'modelDir=/models/minilm'; got no arguments");
        }
        if (!(arguments[0] instanceof StringObjectInspector)) {
            throw new UDFArgumentTypeException(0, "sbert4j: embed's first argument is the text (a string), not "
                    + arguments[0].getTypeName());
        }
        textInspector = (StringObjectInspector) arguments[0];
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 1; i < arguments.length; i++) {
            String setting = constantString(arguments[i]);
            int eq = setting == null ? -1 : setting.indexOf('=');
            if (eq <= 0) {
                throw new UDFArgumentTypeException(i, "sbert4j: embed's argument " + (i + 1) + " must be a constant "
                        + "string 'name=value' (a setting such as 'modelDir=/models/minilm'; names: "
                        + EncoderOptions.SETTINGS + "), not " + (setting == null ? arguments[i].getTypeName()
                        : "'" + setting + "'"));
            }
            settings.put(setting.substring(0, eq).trim(), setting.substring(eq + 1));
        }
        SparkSession session = TaskContext.get() == null ? activeSession() : null;
        Map<String, String> merged = confSettings(session);
        if (settings.containsKey("modelDir") || settings.containsKey("sparkFile")) {
            merged.remove("modelDir");
            merged.remove("sparkFile");
        }
        merged.putAll(settings);
        EncoderOptions options;
        try {
            options = EncoderOptions.fromSettings(merged, EmbedUDF.PREFIX);
        } catch (IllegalArgumentException e) {
            throw new UDFArgumentException(e.getMessage() + (settings.isEmpty() ? "" : " (settings: the "
                    + EmbedUDF.PREFIX + "* keys, then embed's arguments " + settings.keySet() + ")"));
        }
        function = SentenceEmbeddings.encodeText(session, options);
        display = settings.isEmpty() ? "" : ", " + settings.keySet();
        return ObjectInspectorFactory.getStandardListObjectInspector(
                PrimitiveObjectInspectorFactory.javaFloatObjectInspector);
    }

    @Override
    public Object evaluate(DeferredObject[] arguments) throws HiveException {
        Object value = arguments[0].get();
        String text = value == null ? null : textInspector.getPrimitiveJavaObject(value);
        if (text == null) {
            return null;
        }
        float[] vector = function.call(text);
        if (vector == null) {
            return null;
        }
        List<Float> list = new ArrayList<>(vector.length);
        for (float x : vector) {
            list.add(x);
        }
        return list;
    }

    @Override
    public String getDisplayString(String[] children) {
        return "embed(" + (children.length > 0 ? children[0] : "") + (display == null ? "" : display) + ")";
    }

    /** The value of a constant string argument; null if the argument is not one. */
    private static String constantString(ObjectInspector inspector) {
        if (!(inspector instanceof ConstantObjectInspector) || !(inspector instanceof PrimitiveObjectInspector)
                || ((PrimitiveObjectInspector) inspector).getPrimitiveCategory()
                        != PrimitiveObjectInspector.PrimitiveCategory.STRING) {
            return null;
        }
        Object value = ((ConstantObjectInspector) inspector).getWritableConstantValue();
        return value == null ? null : value.toString();
    }

    /**
     * The {@code spark.sbert4j.*} settings: from {@code session} on the driver; in a task, from the settings the
     * query's session sent with it, else from the executor's Spark configuration.
     */
    private static Map<String, String> confSettings(SparkSession session) {
        Map<String, String> settings = new LinkedHashMap<>();
        TaskContext task = TaskContext.get();
        for (String name : EncoderOptions.SETTINGS) {
            String key = EmbedUDF.PREFIX + name;
            String value = null;
            if (session != null) {
                try {
                    value = session.conf().get(key);
                } catch (NoSuchElementException e) {
                    value = null;
                }
            } else {
                if (task != null) {
                    value = task.getLocalProperty(key);
                }
                if (value == null && SparkEnv.get() != null) {
                    value = SparkEnv.get().conf().get(key, null);
                }
            }
            if (value != null) {
                settings.put(name, value);
            }
        }
        return settings;
    }

    private static SparkSession activeSession() {
        if (SparkSession.getActiveSession().isDefined()) {
            return SparkSession.getActiveSession().get();
        }
        return SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
    }
}
