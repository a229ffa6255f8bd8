package org.sbert4j.spark;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import org.sbert4j.SentenceEncoder;
import org.sbert4j.SentenceEncoderException;

/**
 * Sentence embeddings as a Spark column.
 *
 * <pre>{@code
 * EncoderOptions options = EncoderOptions.modelDir("/opt/models/all-MiniLM-L6-v2");
 * Dataset<Row> withVectors = SentenceEmbeddings.withColumn(df, "text", "embedding", options);
 * }</pre>
 *
 * <p>{@link #withColumn} encodes each partition in batches of
 * {@link EncoderOptions#batchSize()} rows (one {@code encodeBatch} call per
 * batch), with the model loaded once per executor JVM and shared by its tasks
 * ({@link ExecutorEncoders}). {@link #udf} / {@link #register} give the same
 * vectors as a SQL function, one text per call.
 */
public final class SentenceEmbeddings {
    /** The type of a vector column: {@code array<float>}, null where the text is null. */
    public static final ArrayType VECTOR_TYPE = DataTypes.createArrayType(DataTypes.FloatType, false);

    private SentenceEmbeddings() {}

    /**
     * {@code df} with {@code vectorColumn} ({@code array<float>}) holding the
     * embedding of {@code textColumn} (a string column); null where the text is
     * null. Every other column, the partitioning and the row order within each
     * partition are kept. An existing column named {@code vectorColumn} is
     * replaced in place, as {@link Dataset#withColumn} does; otherwise the
     * column is appended. Lazy, like any transformation: nothing is encoded
     * (and no model loaded) before an action runs. A model shipped with the
     * job ({@link EncoderOptions#sparkFile}) must have been added by then: on
     * Spark 4 this adds it to {@code df}'s session as well ({@code ADD ARCHIVE}
     * / {@code ADD FILE}), since that session's jobs ship only its own artifacts.
     */
    public static Dataset<Row> withColumn(Dataset<Row> df, String textColumn, String vectorColumn, EncoderOptions options) {
        Objects.requireNonNull(options, "options");
        return withColumn(df, textColumn, vectorColumn,
                options.onError() == EncoderOptions.OnError.NULL ? defaultErrorColumn(vectorColumn) : null, options);
    }

    /**
     * As {@link #withColumn(Dataset, String, String, EncoderOptions)}, with the error column named: under
     * {@link EncoderOptions.OnError#NULL} a string column holding, for each row that could not be encoded, why
     * (null for the others and for null texts); under {@link EncoderOptions.OnError#FAIL} {@code errorColumn}
     * must be null. Unnamed, it is {@code vectorColumn + "_error"}.
     */
    public static Dataset<Row> withColumn(Dataset<Row> df, String textColumn, String vectorColumn, String errorColumn,
            EncoderOptions options) {
        return encode(df, textColumn, vectorColumn, errorColumn, options, false);
    }

    /**
     * As {@link #withColumn(Dataset, String, String, String, EncoderOptions)}, the vector column an ML
     * {@code org.apache.spark.ml.linalg.Vector} (dense, the same values widened to double), as Spark ML's
     * estimators (KMeans, LogisticRegression, ...) take. Needs spark-mllib, which Spark's distributions carry.
     */
    public static Dataset<Row> withVectorColumn(Dataset<Row> df, String textColumn, String vectorColumn, String errorColumn,
            EncoderOptions options) {
        return encode(df, textColumn, vectorColumn, errorColumn, options, true);
    }

    /** The error column's name when none is given: {@code vectorColumn + "_error"}. */
    public static String defaultErrorColumn(String vectorColumn) {
        return vectorColumn + "_error";
    }

    /**
     * The shared body of {@link #withColumn} and the ML stage: {@code mlVector} makes the output column an ML
     * {@code Vector} (spark-mllib must be on the classpath) instead of {@code array<float>}.
     */
    private static Dataset<Row> encode(Dataset<Row> df, String textColumn, String vectorColumn, String errorColumn,
            EncoderOptions options, boolean mlVector) {
        Objects.requireNonNull(df, "df");
        Objects.requireNonNull(options, "options");
        StructType outSchema = outputSchema(df.schema(), textColumn, vectorColumn, errorColumn, options, mlVector);
        StructType schema = df.schema();
        ModelLocation location = ModelLocation.prepare(df.sparkSession(), options);
        return df.mapPartitions(new EncodePartition(options, location, indexOf(schema, textColumn),
                indexOf(outSchema, vectorColumn), errorColumn == null ? -1 : indexOf(outSchema, errorColumn),
                outSchema.size(), mlVector), Encoders.row(outSchema));
    }

    /**
     * The schema {@link #withColumn} ({@code mlVector} false) or {@link #withVectorColumn} (true) gives a
     * Dataset of {@code schema}: the vector column (and the error column, if named) replacing a column of the
     * same name in place, else appended. Refuses, with an {@link IllegalArgumentException}, a missing or
     * non-string text column, an error column under {@code onError(FAIL)}, and an error column named as the
     * text or vector column.
     */
    public static StructType outputSchema(StructType schema, String textColumn, String vectorColumn, String errorColumn,
            EncoderOptions options, boolean mlVector) {
        Objects.requireNonNull(textColumn, "textColumn");
        Objects.requireNonNull(vectorColumn, "vectorColumn");
        int textIndex = indexOf(schema, textColumn);
        if (textIndex < 0) {
            throw new IllegalArgumentException("no column '" + textColumn + "' in " + schema.simpleString());
        }
        if (!DataTypes.StringType.equals(schema.fields()[textIndex].dataType())) {
            throw new IllegalArgumentException("column '" + textColumn + "' is "
                    + schema.fields()[textIndex].dataType().simpleString() + ", not string");
        }
        if (errorColumn != null && options.onError() != EncoderOptions.OnError.NULL) {
            throw new IllegalArgumentException("an error column ('" + errorColumn + "') needs onError(NULL); "
                    + "with onError(FAIL) a row that cannot be encoded fails the task");
        }
        if (errorColumn != null && (errorColumn.equalsIgnoreCase(vectorColumn) || errorColumn.equalsIgnoreCase(textColumn))) {
            throw new IllegalArgumentException("the error column '" + errorColumn + "' must differ from the text and vector columns");
        }
        StructType out = with(schema, DataTypes.createStructField(vectorColumn,
                mlVector ? MlVectors.type() : VECTOR_TYPE, true));
        return errorColumn == null ? out : with(out, DataTypes.createStructField(errorColumn, DataTypes.StringType, true));
    }

    /** {@code schema} with {@code field} replacing the column of its name, or appended. */
    private static StructType with(StructType schema, StructField field) {
        StructField[] fields = schema.fields();
        int at = indexOf(schema, field.name());
        StructField[] out;
        if (at >= 0) {
            out = fields.clone();
        } else {
            out = Arrays.copyOf(fields, fields.length + 1);
            at = fields.length;
        }
        out[at] = field;
        return DataTypes.createStructType(out);
    }

    /**
     * A UDF {@code string -> array<float>} (null for null) with the model
     * loaded once per executor JVM. It encodes one text per call: for large
     * columns prefer {@link #withColumn}, which batches. Under
     * {@code onError(NULL)} a text that cannot be encoded gives null. A model shipped
     * with the job ({@link EncoderOptions#sparkFile}) is prepared for the
     * active session (see {@link #register}, which names the session).
     */
    public static UserDefinedFunction udf(EncoderOptions options) {
        Objects.requireNonNull(options, "options");
        SparkSession active = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession().get()
                : SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
        return udf(active, options);
    }

    /** Registers {@link #udf} as {@code name} for SQL: {@code SELECT name(text) FROM ...}. */
    public static UserDefinedFunction register(SparkSession spark, String name, EncoderOptions options) {
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(options, "options");
        return spark.udf().register(name, udf(spark, options));
    }

    private static UserDefinedFunction udf(SparkSession spark, EncoderOptions options) {
        return functions.udf(encodeText(spark, options), VECTOR_TYPE);
    }

    /** The UDF's function for {@code options}, the model prepared for {@code spark} (see {@link #register}). */
    static EncodeText encodeText(SparkSession spark, EncoderOptions options) {
        Objects.requireNonNull(options, "options");
        return new EncodeText(options, ModelLocation.prepare(spark, options));
    }

    /** Exact (case-sensitive) match first, then Spark's default case-insensitive resolution. */
    private static int indexOf(StructType schema, String column) {
        String[] names = schema.fieldNames();
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(column)) {
                return i;
            }
        }
        for (int i = 0; i < names.length; i++) {
            if (names[i].equalsIgnoreCase(column)) {
                return i;
            }
        }
        return -1;
    }

    /** The per-partition work of {@link #withColumn}. */
    static final class EncodePartition implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 2L;
        private final EncoderOptions options;
        private final ModelLocation location;
        private final int textIndex;
        private final int vectorIndex;
        /** -1: no error column (onError FAIL). */
        private final int errorIndex;
        private final int width;
        private final boolean mlVector;

        EncodePartition(EncoderOptions options, ModelLocation location, int textIndex, int vectorIndex, int errorIndex,
                int width, boolean mlVector) {
            this.options = options;
            this.location = location;
            this.textIndex = textIndex;
            this.vectorIndex = vectorIndex;
            this.errorIndex = errorIndex;
            this.width = width;
            this.mlVector = mlVector;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new BatchingIterator(rows, this);
        }
    }

    /**
     * Reads {@code batchSize} rows, encodes their non-null texts in one call,
     * hands the rows out, and so on. The lease on the shared encoder is taken
     * at the first non-null text (an empty or all-null partition loads
     * nothing) and given back when the input is exhausted or the task ends,
     * whichever comes first (a {@code limit} can stop a partition early).
     *
     * <p>Under {@code onError(NULL)}, a batch that fails is encoded again text
     * by text, so that only the rows that cannot be encoded get a null vector
     * and their reason; a model that cannot be loaded gives every row of the
     * partition its load error (tried once per partition).
     */
    static final class BatchingIterator implements Iterator<Row> {
        private final Iterator<Row> input;
        private final EncodePartition spec;
        private final boolean nullOnError;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private ExecutorEncoders.Lease lease;
        /** Under onError(NULL): why the model could not be loaded for this partition, once it failed. */
        private String loadError;

        BatchingIterator(Iterator<Row> input, EncodePartition spec) {
            this.input = input;
            this.spec = spec;
            this.nullOnError = spec.options.onError() == EncoderOptions.OnError.NULL;
        }

        @Override
        public boolean hasNext() {
            if (ready.isEmpty()) {
                fill();
            }
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }

        private void fill() {
            int batchSize = spec.options.batchSize();
            List<Row> batch = new ArrayList<>(batchSize);
            List<String> texts = new ArrayList<>(batchSize);
            while (batch.size() < batchSize && input.hasNext()) {
                Row row = input.next();
                batch.add(row);
                if (!row.isNullAt(spec.textIndex)) {
                    texts.add(row.getString(spec.textIndex));
                }
            }
            float[][] vectors = new float[texts.size()][];
            String[] errors = new String[texts.size()];
            if (!texts.isEmpty()) {
                encode(texts, vectors, errors);
            }
            int next = 0;
            for (Row row : batch) {
                // Same positions as the input; the vector (and error) columns replace a column or come last.
                Object[] values = new Object[spec.width];
                for (int i = 0; i < spec.width; i++) {
                    values[i] = i < row.size() ? row.get(i) : null;
                }
                if (row.isNullAt(spec.textIndex)) {
                    values[spec.vectorIndex] = null;
                    if (spec.errorIndex >= 0) {
                        values[spec.errorIndex] = null;
                    }
                } else {
                    float[] v = vectors[next];
                    values[spec.vectorIndex] = v == null ? null : spec.mlVector ? MlVectors.dense(v) : v;
                    if (spec.errorIndex >= 0) {
                        values[spec.errorIndex] = errors[next];
                    }
                    next++;
                }
                ready.add(RowFactory.create(values));
            }
            if (!input.hasNext()) {
                release();
            }
        }

        /** Fills {@code vectors} (and, under onError(NULL), {@code errors} for the texts that failed). */
        private void encode(List<String> texts, float[][] vectors, String[] errors) {
            if (!nullOnError) {
                float[][] got = leaseEncoder().encoder().encodeBatch(texts);
                System.arraycopy(got, 0, vectors, 0, got.length);
                return;
            }
            SentenceEncoder encoder;
            if (loadError == null) {
                try {
                    encoder = leaseEncoder().encoder();
                } catch (SentenceEncoderException | IllegalArgumentException e) {
                    loadError = String.valueOf(e.getMessage());
                    encoder = null;
                }
            } else {
                encoder = null;
            }
            if (encoder == null) {
                Arrays.fill(errors, loadError);
                return;
            }
            try {
                float[][] got = encoder.encodeBatch(texts);
                System.arraycopy(got, 0, vectors, 0, got.length);
                return;
            } catch (SentenceEncoderException | IllegalArgumentException e) {
                // Some text failed: find which, one at a time.
            }
            for (int i = 0; i < texts.size(); i++) {
                try {
                    vectors[i] = encoder.encode(texts.get(i));
                } catch (SentenceEncoderException | IllegalArgumentException e) {
                    errors[i] = String.valueOf(e.getMessage());
                }
            }
        }

        private ExecutorEncoders.Lease leaseEncoder() {
            if (lease == null) {
                lease = ExecutorEncoders.acquire(spec.location, spec.options);
                TaskContext task = TaskContext.get();
                if (task != null) {
                    task.addTaskCompletionListener(new TaskCompletionListener() {
                        @Override
                        public void onTaskCompletion(TaskContext context) {
                            release();
                        }
                    });
                }
            }
            return lease;
        }

        private void release() {
            if (lease != null) {
                lease.close();
            }
        }
    }

    /**
     * The UDF's function: one text, the shared encoder. A task takes one lease on the executor's encoder at
     * its first row (finding the model directory then) and keeps it until the task completes, rather than
     * one lease and one directory check per row. Outside a task (evaluated on the driver), each call takes
     * and returns its own.
     */
    static final class EncodeText implements UDF1<String, float[]> {
        private static final long serialVersionUID = 1L;
        private final EncoderOptions options;
        private final ModelLocation location;
        /** The lease of the task running this copy, and that task's attempt id; guarded by this. */
        private transient ExecutorEncoders.Lease lease;
        private transient long leaseTask = -1;

        EncodeText(EncoderOptions options, ModelLocation location) {
            this.options = options;
            this.location = location;
        }

        @Override
        public float[] call(String text) {
            if (text == null) {
                return null;
            }
            if (options.onError() == EncoderOptions.OnError.NULL) {
                try {
                    return encode(text);
                } catch (SentenceEncoderException | IllegalArgumentException e) {
                    return null; // onError(NULL): a function has no error column; the row gets null
                }
            }
            return encode(text);
        }

        private float[] encode(String text) {
            TaskContext task = TaskContext.get();
            if (task == null) {
                try (ExecutorEncoders.Lease own = ExecutorEncoders.acquire(location, options)) {
                    return own.encoder().encode(text);
                }
            }
            return leaseFor(task).encoder().encode(text);
        }

        private synchronized ExecutorEncoders.Lease leaseFor(TaskContext task) {
            if (lease == null || leaseTask != task.taskAttemptId()) {
                ExecutorEncoders.Lease taken = ExecutorEncoders.acquire(location, options);
                task.addTaskCompletionListener(new TaskCompletionListener() {
                    @Override
                    public void onTaskCompletion(TaskContext context) {
                        release(taken);
                    }
                });
                lease = taken;
                leaseTask = task.taskAttemptId();
            }
            return lease;
        }

        private synchronized void release(ExecutorEncoders.Lease taken) {
            taken.close();
            if (lease == taken) {
                lease = null;
                leaseTask = -1;
            }
        }
    }
}
