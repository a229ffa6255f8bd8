package org.sbert4j.spark;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sbert4j.Precision;
import org.sbert4j.Prompt;
import org.sbert4j.SentenceEncoder;
import org.sbert4j.spark.ml.SentenceEmbedder;

/**
 * The ML stage ({@link SentenceEmbedder}, in a Pipeline with KMeans, saved and loaded), the SQL class
 * ({@link EmbedUDF}, registered by name and configured by {@code spark.sbert4j.*}) and the per-row error policy
 * ({@code onError}), in local[2], against the core's {@link SentenceEncoder#encode}.
 */
public class SparkApisTest {
    private static final double TOL = 1e-6;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true);
    private static final List<String> TEXTS = Arrays.asList("A man is eating food.", "A man is riding a horse.",
            null, "The cat sits on the mat.", "Stock markets fell sharply today.", "A woman is playing the violin.",
            "The new movie is awesome.", "Investors sold shares.");

    @ClassRule
    public static final TemporaryFolder TMP = new TemporaryFolder();

    private static Path model;
    private static Path fixtures;
    private static SentenceEncoder reference;
    private static SparkSession spark;
    private static JavaSparkContext jsc;

    /** Partition 0's task is done (the mid-job damage waits for it); one per test run, local mode only. */
    static final CountDownLatch FIRST_PARTITION_DONE = new CountDownLatch(1);
    static volatile Path damagedModel;
    static volatile EncoderOptions damagedOptions;

    @BeforeClass
    public static void start() {
        model = Paths.get(System.getProperty("sbert4j.test.model", "../models/all-MiniLM-L6-v2")).toAbsolutePath();
        fixtures = Paths.get(System.getProperty("sbert4j.test.fixtures", "../tests/fixtures/models")).toAbsolutePath();
        reference = SentenceEncoder.open(model);
        spark = SentenceEmbeddingsTest.session("local[2]");
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterClass
    public static void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (reference != null) {
            reference.close();
        }
    }

    private static Dataset<Row> frame(List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i)));
        }
        return spark.createDataFrame(jsc.parallelize(rows, partitions), SCHEMA);
    }

    private static float[] floats(Object value) {
        if (value instanceof Vector) {
            double[] d = ((Vector) value).toArray();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
                assertEquals("a float widened exactly", (double) f[i], d[i], 0.0);
            }
            return f;
        }
        @SuppressWarnings("unchecked")
        List<Float> list = (List<Float>) (value instanceof List ? value : scala.collection.JavaConverters.seqAsJavaList(
                (scala.collection.Seq<Float>) value));
        float[] f = new float[list.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = list.get(i);
        }
        return f;
    }

    private static void assertClose(float[] expected, float[] got, String what) {
        assertEquals(what + ": length", expected.length, got.length);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(what + "[" + i + "]: " + got[i] + " vs " + expected[i], Math.abs(expected[i] - got[i]) <= TOL);
        }
    }

    private static List<Row> byId(Dataset<Row> df) {
        List<Row> rows = new ArrayList<>(df.collectAsList());
        rows.sort((a, b) -> Integer.compare(a.getInt(a.fieldIndex("id")), b.getInt(b.fieldIndex("id"))));
        return rows;
    }

    // ---- the ML stage ----

    @Test
    public void theStageGivesEncodesVectorsAsArrayOrMlVector() {
        for (String type : new String[] {"array", "vector"}) {
            SentenceEmbedder stage = new SentenceEmbedder().setInputCol("text").setOutputCol("features")
                    .setModelDir(model.toString()).setBatchSize(3).setOutputType(type);
            Dataset<Row> out = stage.transform(frame(TEXTS, 2));
            assertEquals(stage.transformSchema(frame(TEXTS, 2).schema()), out.schema());
            assertEquals(type.equals("vector") ? "vector" : "array<float>", out.schema().apply("features").dataType().simpleString());
            List<Row> rows = byId(out);
            for (int i = 0; i < TEXTS.size(); i++) {
                Row row = rows.get(i);
                if (TEXTS.get(i) == null) {
                    assertTrue(row.isNullAt(row.fieldIndex("features")));
                } else {
                    assertClose(reference.encode(TEXTS.get(i)), floats(row.get(row.fieldIndex("features"))), type + " row " + i);
                }
            }
        }
    }

    @Test
    public void promptTruncateDimAndPrecisionReachTheEncoder() {
        SentenceEmbedder stage = new SentenceEmbedder().setModelDir(model.toString())
                .setPrompt("query: ").setTruncateDim(128).setPrecision("INT8");
        List<Row> rows = byId(stage.transform(frame(TEXTS, 1)));
        try (SentenceEncoder expected = SentenceEncoder.builder(model).defaultPrompt(Prompt.literal("query: "))
                .truncateDim(128).precision(Precision.INT8).open()) {
            for (int i = 0; i < TEXTS.size(); i++) {
                if (TEXTS.get(i) != null) {
                    float[] got = floats(rows.get(i).get(rows.get(i).fieldIndex("embedding")));
                    assertEquals(128, got.length);
                    assertClose(expected.encode(TEXTS.get(i)), got, "prompt/truncateDim/int8 row " + i);
                }
            }
        }
        // The fixture with prompts: a named prompt is the model's own.
        Path prompts = fixtures.resolve("prompts-st6");
        List<Row> named = byId(new SentenceEmbedder().setModelDir(prompts.toString()).setPromptName("passage")
                .transform(frame(TEXTS, 1)));
        try (SentenceEncoder expected = SentenceEncoder.builder(prompts).defaultPrompt(Prompt.named("passage")).open();
             SentenceEncoder query = SentenceEncoder.open(prompts)) {
            float[] got = floats(named.get(0).get(named.get(0).fieldIndex("embedding")));
            assertClose(expected.encode(TEXTS.get(0)), got, "promptName passage");
            assertTrue("passage and the default (query) prompt differ",
                    Math.abs(query.encode(TEXTS.get(0))[0] - got[0]) > 1e-6 || Math.abs(query.encode(TEXTS.get(0))[1] - got[1]) > 1e-6);
        }
    }

    @Test
    public void aPipelineWithKMeansFitsSavesLoadsAndTransformsToTheSameResult() throws IOException {
        SentenceEmbedder embedder = new SentenceEmbedder().setInputCol("text").setOutputCol("features")
                .setModelDir(model.toString()).setOutputType("vector");
        KMeans kmeans = new KMeans().setK(2).setSeed(7L).setFeaturesCol("features").setPredictionCol("cluster");
        Dataset<Row> df = frame(TEXTS, 2).na().drop();
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {embedder, kmeans}).fit(df);
        String path = TMP.newFolder("pipeline").toPath().resolve("model").toString();
        fitted.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);

        SentenceEmbedder stage = (SentenceEmbedder) loaded.stages()[0];
        assertEquals(embedder.uid(), stage.uid());
        assertEquals(model.toString(), stage.getModelDir());
        assertEquals("vector", stage.getOutputType());
        assertEquals("features", stage.getOutputCol());
        List<Row> before = byId(fitted.transform(df));
        List<Row> after = byId(loaded.transform(df));
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            assertEquals(before.get(i).getInt(before.get(i).fieldIndex("cluster")), after.get(i).getInt(after.get(i).fieldIndex("cluster")));
            float[] v = floats(after.get(i).get(after.get(i).fieldIndex("features")));
            assertClose(reference.encode(after.get(i).getString(1)), v, "loaded pipeline row " + i);
        }
        // The stage alone, too.
        String stagePath = TMP.newFolder("stage").toPath().resolve("s").toString();
        embedder.copy(new org.apache.spark.ml.param.ParamMap()).setBatchSize(5).write().save(stagePath);
        assertEquals(5, SentenceEmbedder.load(stagePath).getBatchSize());
    }

    @Test
    public void badStageSettingsAreRefusedOnTheDriver() {
        Dataset<Row> df = frame(TEXTS, 1);
        expectIllegal(() -> new SentenceEmbedder().transform(df), "set exactly one of modelDir, sparkFile and modelArchive");
        expectIllegal(() -> new SentenceEmbedder().setModelDir(model.toString()).setInputCol("id").transform(df), "not string");
        expectIllegal(() -> new SentenceEmbedder().setOutputType("matrix"), "outputType");
        expectIllegal(() -> new SentenceEmbedder().setOnError("skip"), "onError");
        expectIllegal(() -> SentenceEmbeddings.withColumn(df, "text", "v", "err", EncoderOptions.modelDir(model)), "needs onError(NULL)");
    }

    private static void expectIllegal(Runnable body, String part) {
        try {
            body.run();
            fail("accepted; expected an error containing " + part);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(part));
        }
    }

    // ---- SQL: the class registered by name ----

    @Test
    public void embedUdfRegisteredByClassNameReadsSparkConf() {
        spark.conf().set("spark.sbert4j.modelDir", model.toString());
        spark.conf().set("spark.sbert4j.truncateDim", "64");
        try {
            spark.udf().registerJava("embed_by_name", "org.sbert4j.spark.EmbedUDF", SentenceEmbeddings.VECTOR_TYPE);
            frame(TEXTS, 2).createOrReplaceTempView("texts_by_name");
            List<Row> rows = spark.sql("SELECT id, embed_by_name(text) AS v FROM texts_by_name ORDER BY id").collectAsList();
            try (SentenceEncoder expected = SentenceEncoder.builder(model).truncateDim(64).open()) {
                for (int i = 0; i < TEXTS.size(); i++) {
                    if (TEXTS.get(i) == null) {
                        assertTrue(rows.get(i).isNullAt(1));
                    } else {
                        assertClose(expected.encode(TEXTS.get(i)), floats(rows.get(i).get(1)), "sql row " + i);
                    }
                }
            }
            spark.conf().set("spark.sbert4j.truncateDim", "zero");
            expectIllegal(() -> new EmbedUDF(spark), "spark.sbert4j.truncateDim = 'zero'");
            spark.conf().unset("spark.sbert4j.modelDir");
            expectIllegal(() -> new EmbedUDF(spark), "set exactly one of spark.sbert4j.modelDir and spark.sbert4j.sparkFile");
        } finally {
            spark.conf().unset("spark.sbert4j.modelDir");
            spark.conf().unset("spark.sbert4j.truncateDim");
        }
    }

    // ---- the per-row error policy ----

    /** A copy of a fixture model whose tokenizer adds no special tokens: the empty text then yields no tokens. */
    private static Path withoutSpecialTokens() throws IOException {
        Path dir = copyOf(fixtures.resolve("bert-mean-sqrt-len-st6"), "no-specials");
        ObjectMapper json = new ObjectMapper();
        ObjectNode tokenizer = (ObjectNode) json.readTree(dir.resolve("tokenizer.json").toFile());
        tokenizer.set("post_processor", NullNode.getInstance());
        json.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer);
        return dir;
    }

    private static Path copyOf(Path from, String name) throws IOException {
        Path to = TMP.newFolder(name).toPath();
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return to;
    }

    @Test
    public void aTextWithNoTokensGetsNullAndItsReasonUnderOnErrorNullAndFailsTheJobOtherwise() throws IOException {
        Path dir = withoutSpecialTokens();
        List<String> texts = Arrays.asList("first text", "", null, "fourth text", "", "sixth text");
        EncoderOptions options = EncoderOptions.modelDir(dir).batchSize(4).onError(EncoderOptions.OnError.NULL);
        Dataset<Row> out = SentenceEmbeddings.withColumn(frame(texts, 2), "text", "v", options);
        assertEquals(Arrays.asList("id", "text", "v", "v_error"), Arrays.asList(out.schema().fieldNames()));
        List<Row> rows = byId(out);
        try (SentenceEncoder expected = SentenceEncoder.open(dir)) {
            for (int i = 0; i < texts.size(); i++) {
                Row row = rows.get(i);
                String text = texts.get(i);
                if (text == null) {
                    assertTrue(row.isNullAt(2));
                    assertTrue("a null text is not an error", row.isNullAt(3));
                } else if (text.isEmpty()) {
                    assertTrue(row.isNullAt(2));
                    assertTrue(row.getString(3), row.getString(3).contains("no tokens"));
                } else {
                    assertClose(expected.encode(text), floats(row.get(2)), "row " + i);
                    assertTrue(row.isNullAt(3));
                }
            }
        }
        // The ML stage, with a named error column and ML vectors.
        List<Row> staged = byId(new SentenceEmbedder().setModelDir(dir.toString()).setOnError("null").setErrorCol("why")
                .setOutputType("vector").transform(frame(texts, 1)));
        assertTrue(staged.get(1).isNullAt(staged.get(1).fieldIndex("embedding")));
        assertTrue(staged.get(1).getString(staged.get(1).fieldIndex("why")).contains("no tokens"));
        assertTrue(staged.get(0).isNullAt(staged.get(0).fieldIndex("why")));
        // The SQL function gives null.
        List<Row> sql = byId(frame(texts, 1).withColumn("v", SentenceEmbeddings.udf(options).apply(org.apache.spark.sql.functions.col("text"))));
        assertTrue(sql.get(1).isNullAt(2));
        assertClose(floats(rows.get(0).get(2)), floats(sql.get(0).get(2)), "SQL function row 0");
        // The default, fail: the job fails naming the reason.
        try {
            SentenceEmbeddings.withColumn(frame(texts, 2), "text", "v", options.onError(EncoderOptions.OnError.FAIL)).collectAsList();
            fail("a text with no tokens was encoded under onError(FAIL)");
        } catch (Exception e) {
            assertTrue(causes(e), causes(e).contains("no tokens"));
        }
        assertEquals(0, ExecutorEncoders.leasesHeld());
    }

    @Test
    public void aModelFileThatBreaksMidJobNullsTheRowsItCannotEncodeAndTheJobGoesOn() throws Exception {
        damagedModel = copyOf(fixtures.resolve("bert-mean-sqrt-len-st6"), "breaks-mid-job");
        damagedOptions = EncoderOptions.modelDir(damagedModel).batchSize(2).onError(EncoderOptions.OnError.NULL);
        List<String> expectedTexts = new ArrayList<>();
        List<Row> input = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            input.add(RowFactory.create(i, "sentence number " + i));
            expectedTexts.add("sentence number " + i);
        }
        float[][] expected = new float[8][];
        try (SentenceEncoder good = SentenceEncoder.open(damagedModel)) {
            for (int i = 0; i < 8; i++) {
                expected[i] = good.encode(expectedTexts.get(i));
            }
        }
        // Partition 0 encodes with the good model; partition 1 starts once partition 0's task is done, breaks
        // model.safetensors and drops the idle encoder, so that its task loads the broken file.
        JavaRDD<Row> rows = jsc.parallelize(input, 2).mapPartitionsWithIndex(SparkApisTest::breakBeforePartitionOne, true);
        Dataset<Row> out = SentenceEmbeddings.withColumn(spark.createDataFrame(rows, SCHEMA), "text", "v", damagedOptions);
        List<Row> got = byId(out);
        assertEquals(8, got.size());
        for (int i = 0; i < 8; i++) {
            Row row = got.get(i);
            if (i < 4) {
                assertClose(expected[i], floats(row.get(2)), "before the break, row " + i);
                assertTrue(row.isNullAt(3));
            } else {
                assertTrue("after the break, row " + i + " has no vector", row.isNullAt(2));
                assertTrue(row.getString(3), row.getString(3).contains("model.safetensors"));
            }
        }
        assertEquals(0, ExecutorEncoders.leasesHeld());
        // Under the default, the same broken model fails the job.
        try {
            SentenceEmbeddings.withColumn(frame(expectedTexts, 1), "text", "v", damagedOptions.onError(EncoderOptions.OnError.FAIL))
                    .collectAsList();
            fail("a broken model encoded under onError(FAIL)");
        } catch (Exception e) {
            assertTrue(causes(e), causes(e).contains("model.safetensors"));
        }
    }

    /** The upstream of {@link #aModelFileThatBreaksMidJobNullsTheRowsItCannotEncodeAndTheJobGoesOn}. */
    private static Iterator<Row> breakBeforePartitionOne(Integer partition, Iterator<Row> rows) throws Exception {
        org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
        if (partition == 0) {
            task.addTaskCompletionListener((TaskCompletionListener) context -> FIRST_PARTITION_DONE.countDown());
            return rows;
        }
        if (!FIRST_PARTITION_DONE.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("partition 0 did not finish");
        }
        Path weights = damagedModel.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, Arrays.copyOf(all, all.length / 2));
        assertTrue("the good encoder was idle and is closed", ExecutorEncoders.closeIdle(damagedOptions));
        return rows;
    }

    private static String causes(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t).append('\n');
        }
        return all.toString();
    }

    @Test
    public void optionsRoundTripThroughJavaSerialization() throws Exception {
        EncoderOptions options = EncoderOptions.sparkFile("m").promptName("query").truncateDim(32)
                .onError(EncoderOptions.OnError.NULL).precision(Precision.BF16);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(bytes)) {
            o.writeObject(options);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            EncoderOptions copy = (EncoderOptions) in.readObject();
            assertEquals(options, copy);
            assertEquals("query", copy.promptName());
            assertNull(copy.prompt());
            assertEquals(Integer.valueOf(32), copy.truncateDim());
            assertEquals(EncoderOptions.OnError.NULL, copy.onError());
        }
        assertEquals("", options.prompt("").prompt());
        assertNull(options.prompt("x").promptName());
    }
}
