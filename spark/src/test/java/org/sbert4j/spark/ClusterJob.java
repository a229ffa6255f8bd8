package org.sbert4j.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sbert4j.SentenceEncoder;
import org.sbert4j.spark.ml.SentenceEmbedder;

/**
 * The cluster test's job, run by spark/cluster/cluster-test.sh with
 * spark-submit on a standalone cluster of two one-core workers (each executor
 * its own JVM). It encodes the 1000-sentence corpus (with null texts mixed
 * in) in several partitions with the model shipped each way there is (the
 * whole corpus with addArchive, every fourth row for the other ways), and
 * checks every row against {@link SentenceEncoder#encode} on the driver, the
 * row order, the nulls, and, through a column each executor adds to the rows
 * it encoded, that every executor opened the model exactly once. Last, it
 * kills one executor's JVM while a job encodes and checks that the result is
 * still complete and identical. It also fits, saves, loads and applies an ML
 * Pipeline (SentenceEmbedder, KMeans) on the executors. With
 * {@code --shell-texts FILE} it writes the texts and vectors that the
 * spark-sql and PySpark checks (shell-checks.py, run after this job) compare
 * with. Prints one line per check and a summary; exits 1 if any check failed.
 */
public final class ClusterJob {
    /** Spark's vectors against encode(), per component. */
    private static final double TOL = 1e-6;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true);

    private final SparkSession spark;
    private final JavaSparkContext jsc;
    private final Path model;
    private final Path zip;
    private final List<String> texts;
    /** Every fourth row of {@link #texts} (255 rows, nulls included): the other shipping ways, to keep the test short. */
    private final List<String> sample = new ArrayList<>();
    private final Map<String, float[]> expected = new LinkedHashMap<>();
    /** Executor id to its JVM's process id, as the executors reported them. */
    private final Map<String, Long> pids = new TreeMap<>();

    private ClusterJob(SparkSession spark, Path model, Path zip, List<String> texts) {
        this.spark = spark;
        this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.model = model;
        this.zip = zip;
        this.texts = texts;
        for (int i = 0; i < texts.size(); i += 4) {
            sample.add(texts.get(i));
        }
    }

    public static void main(String[] args) throws Exception {
        Path model = null;
        Path zip = null;
        Path shellTexts = null;
        Path work = null;
        String version = "?";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model": model = Paths.get(args[i + 1]).toAbsolutePath(); break;
                case "--zip": zip = Paths.get(args[i + 1]).toAbsolutePath(); break;
                case "--spark-version": version = args[i + 1]; break;
                case "--shell-texts": shellTexts = Paths.get(args[i + 1]).toAbsolutePath(); break;
                case "--work": work = Paths.get(args[i + 1]).toAbsolutePath(); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null || zip == null) {
            throw new IllegalArgumentException("usage: ClusterJob --model DIR --zip MODEL.zip [--spark-version V]");
        }
        // The corpus with a null text after every 50 sentences: 1020 rows.
        List<String> texts = new ArrayList<>();
        List<String> corpus = TestCorpus.read();
        for (int i = 0; i < corpus.size(); i++) {
            texts.add(corpus.get(i));
            if (i % 50 == 49) {
                texts.add(null);
            }
        }
        SparkSession spark = SparkSession.builder().appName("sbert4j-cluster-test").getOrCreate();
        int passed = 0;
        int failed = 0;
        try {
            ClusterJob job = new ClusterJob(spark, model, zip, texts);
            System.out.printf("cluster: Spark %s (driver reports %s), Scala %s, master %s, %d rows (%d sentences, %d nulls)%n",
                    version, spark.version(), scala.util.Properties.versionNumberString(), spark.sparkContext().master(),
                    texts.size(), corpus.size(), texts.size() - corpus.size());
            job.awaitExecutors(2);
            job.referenceVectors();
            if (shellTexts != null) {
                job.writeShellTexts(shellTexts);
            }
            Path pipelineDir = (work != null ? work : Paths.get(System.getProperty("java.io.tmpdir"))).resolve("pipeline");
            List<Check> checks = Arrays.asList(
                    new Check("SparkContext.addArchive at run time, withColumn", job::runtimeArchiveWithColumn),
                    new Check("SparkContext.addArchive at run time, SQL function", job::runtimeArchiveSqlFunction),
                    new Check("spark-submit --archives, withColumn", job::submittedArchiveWithColumn),
                    new Check("spark-submit --archives, SQL function", job::submittedArchiveSqlFunction),
                    new Check("SparkContext.addFile(directory on a Hadoop file system, true), withColumn", job::runtimeFileWithColumn),
                    new Check("a path on every node, withColumn", job::pathOnEveryNode),
                    new Check("ML Pipeline (SentenceEmbedder, KMeans): fit, save, load, transform",
                            () -> job.pipelineFitSaveLoadTransform(pipelineDir)),
                    new Check("a model shipped nowhere fails naming path, host, executor and the ways to ship", job::missingModel),
                    new Check("an executor's JVM killed while a job encodes", job::executorKilledMidJob));
            for (Check check : checks) {
                long start = System.nanoTime();
                try {
                    check.body.run();
                    passed++;
                    System.out.printf("cluster: PASSED %s (%.1f s)%n", check.name, (System.nanoTime() - start) / 1e9);
                } catch (Throwable e) {
                    failed++;
                    StringWriter trace = new StringWriter();
                    e.printStackTrace(new PrintWriter(trace));
                    System.out.printf("cluster: FAILED %s (%.1f s): %s%n", check.name, (System.nanoTime() - start) / 1e9, trace);
                }
            }
        } finally {
            spark.stop();
        }
        System.out.printf("Spark %s standalone cluster, 2 executors:%n", version);
        System.out.printf("SparkCluster: %d passed, %d failed, 0 skipped%n", passed, failed);
        System.exit(failed == 0 ? 0 : 1);
    }

    private interface Body {
        void run() throws Exception;
    }

    private static final class Check {
        final String name;
        final Body body;

        Check(String name, Body body) {
            this.name = name;
            this.body = body;
        }
    }

    private void awaitExecutors(int count) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        // getExecutorInfos includes the driver.
        while (jsc.sc().statusTracker().getExecutorInfos().length < count + 1) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("fewer than " + count + " executors registered within 120 s");
            }
            Thread.sleep(200);
        }
    }

    /** What the core gives for each text, on the driver. */
    private void referenceVectors() {
        try (SentenceEncoder encoder = SentenceEncoder.open(model)) {
            for (String text : texts) {
                if (text != null && !expected.containsKey(text)) {
                    expected.put(text, encoder.encode(text));
                }
            }
        }
    }

    private Dataset<Row> frame(List<String> rowsTexts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < rowsTexts.size(); i++) {
            rows.add(RowFactory.create(i, rowsTexts.get(i)));
        }
        return spark.createDataFrame(jsc.parallelize(rows, partitions), SCHEMA);
    }

    // ---- the checks ----

    private void runtimeArchiveWithColumn() {
        // What the README shows; on Spark 4 this needs ModelLocation's session preparation.
        spark.sparkContext().addArchive(zip + "#minilm");
        EncoderOptions options = EncoderOptions.sparkFile("minilm").batchSize(32);
        encodeAndVerify("addArchive/withColumn", SentenceEmbeddings.withColumn(frame(texts, 8), "text", "v", options),
                options, texts, true);
    }

    private void runtimeArchiveSqlFunction() {
        EncoderOptions options = EncoderOptions.sparkFile("minilm");
        SentenceEmbeddings.register(spark, "embed_archive", options);
        frame(sample, 4).createOrReplaceTempView("texts_archive");
        encodeAndVerify("addArchive/SQL", spark.sql("SELECT id, text, embed_archive(text) AS v FROM texts_archive"),
                options, sample, true);
    }

    private void submittedArchiveWithColumn() {
        EncoderOptions options = EncoderOptions.sparkFile("minilm-submitted").batchSize(64);
        encodeAndVerify("--archives/withColumn", SentenceEmbeddings.withColumn(frame(sample, 5), "text", "v", options),
                options, sample, true);
    }

    private void submittedArchiveSqlFunction() {
        EncoderOptions options = EncoderOptions.sparkFile("minilm-submitted");
        Dataset<Row> df = frame(sample, 4);
        encodeAndVerify("--archives/SQL", df.select(df.col("id"), df.col("text"),
                SentenceEmbeddings.udf(options).apply(functions.col("text")).as("v")), options, sample, true);
    }

    private void runtimeFileWithColumn() {
        // As with a directory on HDFS or S3 (a local directory is refused outside local mode).
        spark.sparkContext().addFile(LoopbackFileSystem.SCHEME + "://" + model, true);
        EncoderOptions options = EncoderOptions.sparkFile(model.getFileName().toString()).batchSize(40);
        encodeAndVerify("addFile/withColumn", SentenceEmbeddings.withColumn(frame(sample, 4), "text", "v", options),
                options, sample, true);
    }

    private void pathOnEveryNode() {
        EncoderOptions options = EncoderOptions.modelDir(model).batchSize(50);
        encodeAndVerify("path/withColumn", SentenceEmbeddings.withColumn(frame(sample, 5), "text", "v", options),
                options, sample, true);
    }

    private void pipelineFitSaveLoadTransform(Path dir) throws IOException {
        SentenceEmbedder embedder = new SentenceEmbedder().setInputCol("text").setOutputCol("features")
                .setSparkFile("minilm-submitted").setOutputType("vector").setBatchSize(32);
        KMeans kmeans = new KMeans().setK(3).setSeed(7L).setFeaturesCol("features").setPredictionCol("cluster");
        Dataset<Row> df = frame(sample, 4).na().drop();
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {embedder, kmeans}).fit(df);
        String path = dir.toUri().toString();
        fitted.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);
        check(loaded.stages()[0] instanceof SentenceEmbedder, "the loaded pipeline's first stage is " + loaded.stages()[0]);
        check("minilm-submitted".equals(((SentenceEmbedder) loaded.stages()[0]).getSparkFile()), "the loaded stage's sparkFile");
        List<Row> before = fitted.transform(df).select("id", "text", "features", "cluster").collectAsList();
        List<Row> after = loaded.transform(df).select("id", "text", "features", "cluster").collectAsList();
        check(before.size() == df.count() && after.size() == before.size(), "pipeline rows: " + before.size() + " and " + after.size());
        double worst = 0;
        Map<Integer, Integer> sizes = new TreeMap<>();
        for (int i = 0; i < after.size(); i++) {
            Row a = after.get(i);
            Row b = before.get(i);
            check(a.getInt(0) == b.getInt(0), "pipeline row " + i + ": ids " + a.getInt(0) + " and " + b.getInt(0));
            check(a.getInt(3) == b.getInt(3), "pipeline row " + i + ": cluster " + a.getInt(3) + " after loading, " + b.getInt(3) + " before");
            double[] v = ((Vector) a.get(2)).toArray();
            float[] want = expected.get(a.getString(1));
            check(v.length == want.length, "pipeline row " + i + ": " + v.length + " components");
            for (int k = 0; k < want.length; k++) {
                worst = Math.max(worst, Math.abs(v[k] - want[k]));
            }
            sizes.merge(a.getInt(3), 1, Integer::sum);
        }
        check(worst <= TOL, "pipeline: max |difference| from encode() " + worst + " > " + TOL);
        check(sizes.size() == 3, "KMeans(k=3) should use three clusters: " + sizes);
        System.out.printf("cluster: pipeline: %d rows, saved to and loaded from %s, clusters %s, max |difference| from encode() %.2e%n",
                after.size(), path, sizes, worst);
    }

    /** The texts (nulls included) of the shells' checks and their vectors, as JSON: [[id, text, [floats] or null], ...]. */
    private void writeShellTexts(Path file) throws IOException {
        List<Object> rows = new ArrayList<>();
        int id = 0;
        for (String text : texts.subList(0, 102)) {
            if (text != null && (text.indexOf('\'') >= 0 || text.indexOf('\\') >= 0 || text.indexOf('\t') >= 0)) {
                continue; // the shells' SQL gets the texts as plain literals
            }
            List<Object> row = new ArrayList<>();
            row.add(id++);
            row.add(text);
            if (text == null) {
                row.add(null);
            } else {
                List<Float> v = new ArrayList<>();
                for (float x : expected.get(text)) {
                    v.add(x);
                }
                row.add(v);
            }
            rows.add(row);
        }
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(file.toFile(), rows);
    }

    private void missingModel() {
        Dataset<Row> out = SentenceEmbeddings.withColumn(frame(Arrays.asList("some text"), 1), "text", "v",
                EncoderOptions.sparkFile("never-shipped"));
        String all;
        try {
            out.collectAsList();
            throw new AssertionError("encoding with a model shipped nowhere succeeded");
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            StringBuilder messages = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                messages.append(t).append('\n');
            }
            all = messages.toString();
        }
        for (String part : new String[] {"the model directory 'never-shipped'", "was not shipped to host ",
                "(executor ", "looked in ", "never-shipped", "spark-submit --archives model.zip#never-shipped",
                "SparkContext.addArchive", "SparkContext.addFile(dir, true)", "EncoderOptions.modelDir(path)"}) {
            check(all.contains(part), "the error should contain \"" + part + "\":\n" + all);
        }
        check(!all.contains("(executor driver)"), "the task should fail on an executor, not the driver:\n" + all);
        int at = all.indexOf("sbert4j: the model directory");
        int end = all.indexOf('\n', at);
        System.out.println("cluster: the message: " + all.substring(at, end > at ? end : all.length()));
    }

    private void executorKilledMidJob() throws Exception {
        // Options of their own (normalize(true) is what the model does anyway),
        // so the executors' opens for them count this job's loads only.
        EncoderOptions options = EncoderOptions.sparkFile("minilm").normalize(true).batchSize(16);
        List<String> many = texts;
        AtomicReference<String> killed = new AtomicReference<>();
        AtomicInteger lostTasks = new AtomicInteger();
        AtomicInteger tasksAfterKill = new AtomicInteger();
        Map<String, Long> before = new TreeMap<>(pids);
        SparkListener listener = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                String reason = end.reason().getClass().getSimpleName();
                if (reason.startsWith("ExecutorLostFailure")) {
                    lostTasks.incrementAndGet();
                }
                if (killed.get() != null) {
                    tasksAfterKill.incrementAndGet();
                } else if (reason.equals("Success$") || reason.equals("Success")) {
                    // The first task done: its executor is busy with the next one. Kill it (SIGKILL).
                    String executor = end.taskInfo().executorId();
                    Long pid = before.get(executor);
                    if (pid != null && killed.compareAndSet(null, executor)) {
                        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            }
        };
        SparkContext sc = spark.sparkContext();
        sc.addSparkListener(listener);
        long start = System.nanoTime();
        try {
            encodeAndVerify("executor killed", SentenceEmbeddings.withColumn(frame(many, 24), "text", "v", options),
                    options, many, false);
        } finally {
            sc.removeSparkListener(listener);
        }
        check(killed.get() != null, "no executor was killed (executors known: " + before + ")");
        check(lostTasks.get() >= 1, "the kill should have failed a running task (ExecutorLostFailure); tasks ended after it: "
                + tasksAfterKill.get());
        System.out.printf("cluster: killed executor %s (pid %d) after the job's first task; %d task(s) lost and rerun, "
                        + "%d tasks ended after the kill; executors before %s, now %s; %.1f s%n",
                killed.get(), before.get(killed.get()), lostTasks.get(), tasksAfterKill.get(), before.keySet(),
                new TreeSet<>(pids.keySet()), (System.nanoTime() - start) / 1e9);
    }

    // ---- verification ----

    /**
     * Collects {@code out} (id, text, v) with each row tagged by the executor
     * that encoded it, and checks every row: order, text, null, vector, and
     * that the executor had opened the model exactly once.
     */
    private void encodeAndVerify(String what, Dataset<Row> out, EncoderOptions options, List<String> rowsTexts,
            boolean bothExecutors) {
        StructType tagged = out.schema()
                .add("executor", DataTypes.StringType, false)
                .add("pid", DataTypes.LongType, false)
                .add("opens", DataTypes.IntegerType, false);
        long start = System.nanoTime();
        List<Row> rows = out.mapPartitions(new TagWithExecutor(options), Encoders.row(tagged)).collectAsList();
        double seconds = (System.nanoTime() - start) / 1e9;
        check(rows.size() == rowsTexts.size(), what + ": " + rows.size() + " rows, expected " + rowsTexts.size());
        int id = out.schema().fieldIndex("id");
        int text = out.schema().fieldIndex("text");
        int v = out.schema().fieldIndex("v");
        int executor = tagged.fieldIndex("executor");
        double worst = 0;
        Map<String, Integer> rowsByExecutor = new TreeMap<>();
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            check(row.getInt(id) == i, what + ": row " + i + " has id " + row.getInt(id) + " (order or a lost/duplicated row)");
            String expectedText = rowsTexts.get(i);
            check(java.util.Objects.equals(expectedText, row.isNullAt(text) ? null : row.getString(text)),
                    what + ": row " + i + " text");
            if (expectedText == null) {
                check(row.isNullAt(v), what + ": row " + i + " has a null text and a vector");
            } else {
                check(!row.isNullAt(v), what + ": row " + i + " has no vector");
                List<Float> list = row.getList(v);
                float[] want = expected.get(expectedText);
                check(list.size() == want.length, what + ": row " + i + " has " + list.size() + " components");
                for (int k = 0; k < want.length; k++) {
                    worst = Math.max(worst, Math.abs((double) list.get(k) - want[k]));
                }
                check(worst <= TOL, what + ": row " + i + ": max |difference| " + worst + " > " + TOL);
                String exec = row.getString(executor);
                check(!"driver".equals(exec), what + ": row " + i + " was encoded on the driver");
                int opens = row.getInt(executor + 2);
                check(opens == 1, what + ": executor " + exec + " had opened the model " + opens + " times");
                rowsByExecutor.merge(exec, 1, Integer::sum);
                Long pid = row.getLong(executor + 1);
                Long known = pids.putIfAbsent(exec, pid);
                check(known == null || known.equals(pid), what + ": executor " + exec + " reported pids " + known + " and " + pid);
            }
        }
        if (bothExecutors) {
            check(rowsByExecutor.size() >= 2, what + ": encoded by " + rowsByExecutor.keySet() + ", expected two executors");
        }
        System.out.printf("cluster: %s: %d rows in %d partitions, %.2f s; sentences per executor %s (each opened the model once); "
                        + "max |difference| from encode() %.2e%n",
                what, rows.size(), out.javaRDD().getNumPartitions(), seconds, rowsByExecutor, worst);
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    /** Adds to each row the executor's id, its JVM's pid and how often that JVM opened the model for these options. */
    static final class TagWithExecutor implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final EncoderOptions options;

        TagWithExecutor(EncoderOptions options) {
            this.options = options;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            String executor = SparkEnv.get().executorId();
            long pid = ProcessHandle.current().pid();
            return new Iterator<Row>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    Row row = rows.next(); // encoded (its batch) before it is read
                    Object[] values = new Object[row.length() + 3];
                    for (int i = 0; i < row.length(); i++) {
                        values[i] = row.get(i);
                    }
                    values[row.length()] = executor;
                    values[row.length() + 1] = pid;
                    values[row.length() + 2] = ExecutorEncoders.opens(options);
                    return RowFactory.create(values);
                }
            };
        }
    }
}
