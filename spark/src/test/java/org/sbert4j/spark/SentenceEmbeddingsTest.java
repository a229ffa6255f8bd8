package org.sbert4j.spark;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.sbert4j.Precision;
import org.sbert4j.SentenceEncoder;

/**
 * Spark in local mode (local[2]: driver and executor in this JVM, two task
 * threads) against the core's own {@link SentenceEncoder#encode}.
 */
public class SentenceEmbeddingsTest {
    /** Spark's vectors against encode(), per component. */
    private static final double TOL = 1e-6;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true)
            .add("chars", DataTypes.IntegerType, true);

    private static Path model;
    private static List<String> corpus;
    private static SentenceEncoder reference;
    private static SparkSession spark;
    private static JavaSparkContext jsc;

    @BeforeClass
    public static void startSpark() throws IOException {
        model = Paths.get(System.getProperty("sbert4j.test.model", "../models/all-MiniLM-L6-v2")).toAbsolutePath();
        assertTrue(model + " is missing: run `python3 models/fetch_default_model.py`",
                Files.isRegularFile(model.resolve("model.safetensors")));
        corpus = readCorpus();
        assertEquals(1000, corpus.size());
        reference = SentenceEncoder.open(model);
        spark = session("local[2]");
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterClass
    public static void stopSpark() {
        if (spark != null) {
            spark.stop();
        }
        if (reference != null) {
            reference.close();
        }
    }

    /** A quiet local session: no UI, loopback only, two shuffle partitions. */
    static SparkSession session(String master) {
        return SparkSession.builder()
                .master(master)
                .appName("sbert4j-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
    }

    static List<String> readCorpus() throws IOException {
        return TestCorpus.read();
    }

    private static Dataset<Row> frame(List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            rows.add(RowFactory.create(i, text, text == null ? null : text.length()));
        }
        return spark.createDataFrame(jsc.parallelize(rows, partitions), SCHEMA);
    }

    private static float[] vector(Row row, String column) {
        List<Float> list = row.getList(row.fieldIndex(column));
        float[] v = new float[list.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = list.get(i);
        }
        return v;
    }

    /** max |a[i] - b[i]|; fails on a length mismatch. */
    private static double maxDiff(float[] a, float[] b, String what) {
        assertEquals(what + ": length", a.length, b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    @Test
    public void corpusInSeveralPartitionsEqualsEncodeWithTheModelLoadedOnce() {
        EncoderOptions options = EncoderOptions.modelDir(model).batchSize(64); // ~143 rows a partition: 3 batches each
        Dataset<Row> df = frame(corpus, 7);
        long start = System.nanoTime();
        Dataset<Row> out = SentenceEmbeddings.withColumn(df, "text", "embedding", options);
        List<Row> rows = out.collectAsList();
        double seconds = (System.nanoTime() - start) / 1e9;

        assertEquals(7, out.javaRDD().getNumPartitions());
        assertEquals(Arrays.asList("id", "text", "chars", "embedding"), Arrays.asList(out.schema().fieldNames()));
        assertEquals(SentenceEmbeddings.VECTOR_TYPE, out.schema().apply("embedding").dataType());
        assertEquals(corpus.size(), rows.size());
        double worst = 0;
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            String text = corpus.get(i);
            assertEquals("row order", i, row.getInt(0));
            assertEquals(text, row.getString(1));
            assertEquals(text.length(), row.getInt(2));
            double diff = maxDiff(vector(row, "embedding"), reference.encode(text), "row " + i);
            assertTrue("row " + i + ": max |difference| " + diff + " > " + TOL, diff <= TOL);
            worst = Math.max(worst, diff);
        }
        // One JVM, one load: 7 partitions on 2 task threads, 16 encodeBatch calls.
        assertEquals("models opened by ExecutorEncoders for these options", 1, ExecutorEncoders.opens(options));
        // The reference encoder above shares the same native weights.
        assertEquals("models loaded natively", 1, SentenceEncoder.loadedModelCount());
        assertEquals("leases still held", 0, ExecutorEncoders.leasesHeld());
        System.out.printf("sbert4j-spark: local[2] test: %d sentences in 7 partitions in %.2f s (%.0f sentences/s, model load included); "
                + "max |difference| from encode() %.2e%n", rows.size(), seconds, rows.size() / seconds, worst);
    }

    @Test
    public void nullTextGivesNullVectorAndAnAllNullPartitionLoadsNothing() {
        // Options of their own (maxSequenceLength 200 does not cut these short
        // texts), so that opens() counts this test's loads only.
        EncoderOptions options = EncoderOptions.modelDir(model).maxSequenceLength(200).batchSize(2);
        List<Row> nulls = SentenceEmbeddings.withColumn(frame(Arrays.asList(null, null, null), 2), "text", "v", options)
                .collectAsList();
        assertEquals(3, nulls.size());
        for (Row row : nulls) {
            assertTrue(row.isNullAt(row.fieldIndex("v")));
        }
        assertEquals("nothing to encode, nothing loaded", 0, ExecutorEncoders.opens(options));

        // Partition 0: nulls only. Partition 1: a mix, with the empty string.
        List<String> texts = Arrays.asList(null, null, "A text after two nulls.", null, "", "The last one.");
        List<Row> rows = SentenceEmbeddings.withColumn(frame(texts, 2), "text", "v", options).collectAsList();
        assertEquals(texts.size(), rows.size());
        for (int i = 0; i < texts.size(); i++) {
            Row row = rows.get(i);
            assertEquals(i, row.getInt(0));
            if (texts.get(i) == null) {
                assertTrue("row " + i + " should have a null vector", row.isNullAt(row.fieldIndex("v")));
                assertTrue(row.isNullAt(row.fieldIndex("chars")));
            } else {
                double diff = maxDiff(vector(row, "v"), reference.encode(texts.get(i)), "row " + i);
                assertTrue("row " + i + ": " + diff, diff <= TOL);
            }
        }
        assertEquals(1, ExecutorEncoders.opens(options));
        assertEquals(0, ExecutorEncoders.leasesHeld());
        assertTrue(ExecutorEncoders.closeIdle(options));
    }

    @Test
    public void eachTaskEncodesOnItsOwnCpusUnlessThreadsIsSet() {
        // Options of their own (maxSequenceLength 201 cuts nothing here).
        EncoderOptions options = EncoderOptions.modelDir(model).maxSequenceLength(201);
        // local[2], spark.task.cpus = 1: two tasks side by side, one thread each.
        assertEquals(Arrays.asList(1, 1), threadsSeenByTasks(options));
        int two = Math.min(2, SentenceEncoder.threadBudget());
        assertEquals(Arrays.asList(two, two), threadsSeenByTasks(options.threads(2)));
        assertEquals("one encoder per task size", 2, ExecutorEncoders.opens(options));
        assertEquals(1, ExecutorEncoders.opens(options.threads(2)));
        assertTrue(ExecutorEncoders.closeIdle(options));
        assertEquals(0, ExecutorEncoders.leasesHeld());
    }

    /** The {@code threads()} of the encoder each of two tasks gets. */
    private static List<Integer> threadsSeenByTasks(EncoderOptions options) {
        return jsc.parallelize(Arrays.asList(1, 2, 3, 4), 2).mapPartitions(rows -> {
            try (ExecutorEncoders.Lease lease = ExecutorEncoders.acquire(options)) {
                return java.util.Collections.singletonList(lease.encoder().threads()).iterator();
            }
        }).collect();
    }

    @Test
    public void anExistingColumnIsReplacedInPlace() {
        Dataset<Row> df = frame(Arrays.asList("one", "two"), 1);
        Dataset<Row> out = SentenceEmbeddings.withColumn(df, "text", "chars", EncoderOptions.modelDir(model));
        assertEquals(Arrays.asList("id", "text", "chars"), Arrays.asList(out.schema().fieldNames()));
        List<Row> rows = out.collectAsList();
        assertTrue(maxDiff(vector(rows.get(1), "chars"), reference.encode("two"), "two") <= TOL);
    }

    @Test
    public void badColumnsAreRefusedOnTheDriver() {
        Dataset<Row> df = frame(Arrays.asList("one"), 1);
        EncoderOptions options = EncoderOptions.modelDir(model);
        try {
            SentenceEmbeddings.withColumn(df, "nope", "v", options);
            fail("a missing column was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("no column 'nope'"));
        }
        try {
            SentenceEmbeddings.withColumn(df, "id", "v", options);
            fail("an int column was accepted as text");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not string"));
        }
    }

    @Test
    public void aMissingModelDirectoryFailsTheTaskNamingPathAndHost() {
        Path missing = model.resolveSibling("no-such-model-" + System.nanoTime());
        Dataset<Row> out = SentenceEmbeddings.withColumn(frame(Arrays.asList("some text"), 1), "text", "v",
                EncoderOptions.modelDir(missing));
        try {
            out.collectAsList();
            fail("encoding with a missing model directory succeeded");
        } catch (Exception e) {
            StringBuilder messages = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                messages.append(t).append('\n');
            }
            String all = messages.toString();
            assertTrue(all, all.contains("the model directory " + missing + " does not exist on host "));
            assertTrue(all, all.contains("spark-submit --archives model.zip#name"));
            assertTrue(all, all.contains("(executor driver)")); // local mode: the driver is the executor
        }
        assertEquals(0, ExecutorEncoders.leasesHeld());
    }

    @Test
    public void sqlFunctionMatchesEncode() {
        SentenceEmbeddings.register(spark, "embed", EncoderOptions.modelDir(model));
        frame(Arrays.asList("Hello from SQL.", null, "Another sentence."), 2).createOrReplaceTempView("texts");
        List<Row> rows = spark.sql("SELECT id, embed(text) AS v FROM texts ORDER BY id").collectAsList();
        assertEquals(3, rows.size());
        assertEquals(SentenceEmbeddings.VECTOR_TYPE,
                spark.sql("SELECT embed(text) AS v FROM texts").schema().apply("v").dataType());
        assertTrue(maxDiff(vector(rows.get(0), "v"), reference.encode("Hello from SQL."), "sql 0") <= TOL);
        assertTrue(rows.get(1).isNullAt(1));
        assertTrue(maxDiff(vector(rows.get(2), "v"), reference.encode("Another sentence."), "sql 2") <= TOL);
        assertEquals(0, ExecutorEncoders.leasesHeld());
    }

    @Test
    public void theUdfTakesOneLeasePerTaskNotPerRow() {
        List<String> texts = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            texts.add(i % 10 == 0 ? null : "row number " + i);
        }
        long before = ExecutorEncoders.acquires();
        org.apache.spark.sql.Column text = org.apache.spark.sql.functions.col("text");
        // No orderBy: its sampling job would run the UDF's tasks a second time.
        List<Row> rows = frame(texts, 3).withColumn("v", SentenceEmbeddings.udf(EncoderOptions.modelDir(model)).apply(text))
                .collectAsList();
        long taken = ExecutorEncoders.acquires() - before;
        assertTrue("leases taken for 270 rows in 3 partitions: " + taken, taken >= 1 && taken <= 3);
        assertEquals(300, rows.size());
        rows = new java.util.ArrayList<>(rows);
        rows.sort(java.util.Comparator.comparingInt(r -> r.getInt(r.fieldIndex("id"))));
        assertTrue(rows.get(0).isNullAt(rows.get(0).fieldIndex("v")));
        assertTrue(maxDiff(vector(rows.get(7), "v"), reference.encode("row number 7"), "udf 7") <= TOL);
        assertEquals(0, ExecutorEncoders.leasesHeld());
    }

    @Test
    public void optionsReachTheExecutorEncoder() {
        EncoderOptions options = EncoderOptions.modelDir(model).normalize(false).maxSequenceLength(8);
        String text = "A sentence long enough to be cut at eight tokens by the option.";
        List<Row> rows = SentenceEmbeddings.withColumn(frame(Arrays.asList(text), 1), "text", "v", options).collectAsList();
        try (SentenceEncoder plain = SentenceEncoder.builder(model).normalize(false).maxSequenceLength(8).open()) {
            float[] expected = plain.encode(text);
            assertTrue(maxDiff(vector(rows.get(0), "v"), expected, "options") <= TOL);
            double norm = 0;
            for (float x : expected) {
                norm += x * x;
            }
            assertTrue("normalize(false) should leave the length alone: " + Math.sqrt(norm), Math.abs(Math.sqrt(norm) - 1) > 1e-3);
        }
        assertTrue(ExecutorEncoders.closeIdle(options));
    }

    @Test
    public void thePrecisionReachesTheExecutorEncoderAndIsPartOfItsKey() {
        EncoderOptions fp32 = EncoderOptions.modelDir(model).maxSequenceLength(9);
        EncoderOptions int8 = fp32.precision(Precision.INT8);
        assertEquals(Precision.FP32, fp32.precision());
        assertFalse(fp32.equals(int8));
        String text = "客户投诉物流太慢";
        float[] viaFp32 = vector(SentenceEmbeddings.withColumn(frame(Arrays.asList(text), 1), "text", "v", fp32).collectAsList().get(0), "v");
        float[] viaInt8 = vector(SentenceEmbeddings.withColumn(frame(Arrays.asList(text), 1), "text", "v", int8).collectAsList().get(0), "v");
        try (SentenceEncoder plain = SentenceEncoder.builder(model).maxSequenceLength(9).precision(Precision.INT8).open()) {
            assertTrue(maxDiff(viaInt8, plain.encode(text), "int8") <= TOL);
        }
        assertFalse("the INT8 options got an encoder of their own", Arrays.equals(viaFp32, viaInt8));
        assertTrue(ExecutorEncoders.closeIdle(fp32));
        assertTrue(ExecutorEncoders.closeIdle(int8));
    }

    @Test
    public void aModelShippedWithAddFileIsFoundThroughSparkFiles() {
        // Local mode accepts a local directory; a cluster needs it on a Hadoop
        // file system (or a zip through addArchive).
        spark.sparkContext().addFile(model.toString(), true);
        EncoderOptions options = EncoderOptions.sparkFile(model.getFileName().toString());
        Path shipped = ExecutorEncoders.resolve(options);
        assertFalse("SparkFiles should hold a copy", shipped.equals(model));
        List<Row> rows = SentenceEmbeddings.withColumn(frame(Arrays.asList("Shipped with the job."), 1), "text", "v", options)
                .collectAsList();
        assertArrayEquals(reference.encode("Shipped with the job."), vector(rows.get(0), "v"), (float) TOL);
        assertEquals(1, ExecutorEncoders.opens(options));
        int loaded = SentenceEncoder.loadedModelCount();
        assertTrue(ExecutorEncoders.closeIdle(options));
        assertEquals("the copy's weights are freed", loaded - 1, SentenceEncoder.loadedModelCount());

        try {
            ExecutorEncoders.resolve(EncoderOptions.sparkFile("never-added"));
            fail("an unknown SparkFiles name was accepted");
        } catch (RuntimeException e) {
            String message = e.getMessage();
            assertTrue(message, message.contains("the model directory 'never-added' (EncoderOptions.sparkFile) was not shipped to host "));
            assertTrue(message, message.contains("(executor driver): looked in "));
            assertTrue(message, message.contains("spark-submit --archives model.zip#never-added"));
            assertTrue(message, message.contains("SparkContext.addArchive(\"model.zip#never-added\")"));
            assertTrue(message, message.contains("SparkContext.addFile(dir, true)"));
            assertTrue(message, message.contains("EncoderOptions.modelDir(path)"));
        }
    }

    @Test
    public void shippedNamesAreWhatSparkFilesCallsThem() {
        assertEquals("minilm", ModelLocation.archiveName("spark://127.0.0.1:40123/files/model.zip#minilm"));
        assertEquals("model.zip", ModelLocation.archiveName("hdfs://nn:8020/models/model.zip"));
        assertEquals("minilm", ModelLocation.archiveName("/opt/models/model.zip#minilm"));
        assertEquals("all-MiniLM-L6-v2", ModelLocation.fileName("hdfs://nn:8020/models/all-MiniLM-L6-v2"));
        assertEquals("all-MiniLM-L6-v2", ModelLocation.fileName("s3a://bucket/models/all-MiniLM-L6-v2/"));
        assertEquals("all-MiniLM-L6-v2", ModelLocation.fileName("file:/opt/models/all-MiniLM-L6-v2"));
        // One model per SparkFiles name in a JVM, whichever copy a task finds.
        assertEquals(ModelLocation.of(EncoderOptions.sparkFile("m")).key(),
                ModelLocation.prepare(null, EncoderOptions.sparkFile("m")).key());
        assertEquals(ModelLocation.of(EncoderOptions.modelDir(model)).key(),
                ModelLocation.of(EncoderOptions.modelDir(model.resolve("..").resolve(model.getFileName()))).key());
    }

    @Test
    public void aModelShippedAsAnArchiveIsFoundThroughSparkFiles() throws IOException {
        // What a cluster job does with a model zip on HDFS or S3:
        // addArchive("hdfs:///models/minilm.zip#minilm") + sparkFile("minilm").
        Path zip = Files.createTempFile("sbert4j-model-", ".zip");
        try {
            try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip));
                    Stream<Path> files = Files.walk(model)) {
                out.setLevel(Deflater.NO_COMPRESSION);
                for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    out.putNextEntry(new ZipEntry(model.relativize(file).toString().replace('\\', '/')));
                    Files.copy(file, out);
                    out.closeEntry();
                }
            }
            spark.sparkContext().addArchive(zip + "#minilm-archive");
            EncoderOptions options = EncoderOptions.sparkFile("minilm-archive");
            List<Row> rows = SentenceEmbeddings.withColumn(frame(Arrays.asList("Unpacked on the executor."), 1),
                    "text", "v", options).collectAsList();
            assertArrayEquals(reference.encode("Unpacked on the executor."), vector(rows.get(0), "v"), (float) TOL);
            assertTrue(ExecutorEncoders.closeIdle(options));
        } finally {
            Files.deleteIfExists(zip);
        }
    }

    @Test
    public void optionsSurviveJavaSerialization() throws Exception {
        EncoderOptions options = EncoderOptions.sparkFile("m").batchSize(7).normalize(true).maxSequenceLength(64);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(options);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            Object copy = in.readObject();
            assertEquals(options, copy);
            assertEquals(7, ((EncoderOptions) copy).batchSize());
            assertNull(((EncoderOptions) copy).modelDir());
        }
    }
}
