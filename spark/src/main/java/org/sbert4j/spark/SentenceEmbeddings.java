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
        Objects.requireNonNull(df, "df");
        Objects.requireNonNull(options, "options");
        if (textColumn == null || vectorColumn == null) {
            throw new IllegalArgumentException("textColumn and vectorColumn must not be null");
        }
        StructType schema = df.schema();
        int textIndex = indexOf(schema, textColumn);
        if (textIndex < 0) {
            throw new IllegalArgumentException("no column '" + textColumn + "' in " + schema.simpleString());
        }
        if (!DataTypes.StringType.equals(schema.fields()[textIndex].dataType())) {
            throw new IllegalArgumentException("column '" + textColumn + "' is "
                    + schema.fields()[textIndex].dataType().simpleString() + ", not string");
        }
        StructField vectorField = DataTypes.createStructField(vectorColumn, VECTOR_TYPE, true);
        StructField[] fields = schema.fields();
        int vectorIndex = indexOf(schema, vectorColumn);
        StructField[] outFields;
        if (vectorIndex >= 0) {
            outFields = fields.clone();
            outFields[vectorIndex] = vectorField;
        } else {
            outFields = Arrays.copyOf(fields, fields.length + 1);
            vectorIndex = fields.length;
            outFields[vectorIndex] = vectorField;
        }
        StructType outSchema = DataTypes.createStructType(outFields);
        ModelLocation location = ModelLocation.prepare(df.sparkSession(), options);
        return df.mapPartitions(new EncodePartition(options, location, textIndex, vectorIndex, outFields.length),
                Encoders.row(outSchema));
    }

    /**
     * A UDF {@code string -> array<float>} (null for null) with the model
     * loaded once per executor JVM. It encodes one text per call: for large
     * columns prefer {@link #withColumn}, which batches. A model shipped
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
        return functions.udf(new EncodeText(options, ModelLocation.prepare(spark, options)), VECTOR_TYPE);
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
        private static final long serialVersionUID = 1L;
        private final EncoderOptions options;
        private final ModelLocation location;
        private final int textIndex;
        private final int vectorIndex;
        private final int width;

        EncodePartition(EncoderOptions options, ModelLocation location, int textIndex, int vectorIndex, int width) {
            this.options = options;
            this.location = location;
            this.textIndex = textIndex;
            this.vectorIndex = vectorIndex;
            this.width = width;
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
     */
    static final class BatchingIterator implements Iterator<Row> {
        private final Iterator<Row> input;
        private final EncodePartition spec;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private ExecutorEncoders.Lease lease;

        BatchingIterator(Iterator<Row> input, EncodePartition spec) {
            this.input = input;
            this.spec = spec;
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
            float[][] vectors = texts.isEmpty() ? new float[0][] : leaseEncoder().encoder().encodeBatch(texts);
            int next = 0;
            for (Row row : batch) {
                // Same positions as the input; the vector replaces a column or comes last.
                Object[] values = new Object[spec.width];
                for (int i = 0; i < spec.width; i++) {
                    values[i] = i != spec.vectorIndex ? row.get(i)
                            : row.isNullAt(spec.textIndex) ? null : vectors[next++];
                }
                ready.add(RowFactory.create(values));
            }
            if (!input.hasNext()) {
                release();
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
