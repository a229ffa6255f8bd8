package org.sbert4j.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import static org.sbert4j.spark.BenchJobs.format;
import static org.sbert4j.spark.BenchJobs.median;
import static org.sbert4j.spark.BenchJobs.rate;
import static org.sbert4j.spark.BenchJobs.withColumnRate;

import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sbert4j.SentenceEncoder;

/**
 * Throughput on the corpus: one JVM calling {@code encodeBatch} on all of it,
 * then Spark in local[2] running {@link SentenceEmbeddings#withColumn} over it
 * in several partitions. Medians of {@code --rounds} timed rounds of each,
 * alternating, after a cold first Spark job (model load included) and a
 * warm-up round each. {@code gradle :sbert4j-spark:sparkBench}.
 */
public final class SparkBench {
    private SparkBench() {}

    public static void main(String[] args) throws IOException {
        Path model = null;
        Path corpusFile = null;
        int rounds = 3;
        int partitions = 4;
        int batchSize = EncoderOptions.DEFAULT_BATCH_SIZE;
        String master = "local[2]";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model": model = Paths.get(args[i + 1]); break;
                case "--corpus": corpusFile = Paths.get(args[i + 1]); break;
                case "--rounds": rounds = Integer.parseInt(args[i + 1]); break;
                case "--partitions": partitions = Integer.parseInt(args[i + 1]); break;
                case "--batch-size": batchSize = Integer.parseInt(args[i + 1]); break;
                case "--master": master = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null || corpusFile == null) {
            throw new IllegalArgumentException("usage: SparkBench --model DIR --corpus FILE [--rounds N] [--partitions N] "
                    + "[--batch-size N] [--master local[2]]");
        }
        List<String> corpus = Files.readAllLines(corpusFile, StandardCharsets.UTF_8).stream()
                .filter(line -> !line.isEmpty()).collect(Collectors.toList());
        System.out.printf("corpus: %d sentences; %d cores; %d timed rounds after a warm-up%n",
                corpus.size(), Runtime.getRuntime().availableProcessors(), rounds);

        SparkSession spark = SentenceEmbeddingsTest.session(master);
        try {
            Dataset<Row> df = BenchJobs.corpusFrame(spark, corpus, partitions);
            EncoderOptions options = EncoderOptions.modelDir(model).batchSize(batchSize);
            // The first job loads the model (and warms Spark up).
            double first = withColumnRate(df, options, corpus.size());
            // Then rounds alternate between the two, so that both see the same
            // load on a shared machine; the single-JVM encoder shares the
            // weights the executor side loaded.
            double[] single = new double[rounds];
            double[] timed = new double[rounds];
            double[] viaUdf = new double[rounds];
            // The executor's C task slots (local[C]) against one task given
            // all C cores (one partition, threads(C)).
            int slots = slots(master);
            EncoderOptions oneTaskAllCores = options.threads(slots);
            Dataset<Row> onePartition = df.coalesce(1);
            double[] oneTask = new double[rounds];
            double[] perRowLease = new double[rounds];
            double[] stage = new double[rounds];
            BenchJobs.stageRate(df, options, corpus.size());
            try (SentenceEncoder encoder = SentenceEncoder.open(model)) {
                encoder.encodeBatch(corpus);
                withColumnRate(df, options, corpus.size());
                withColumnRate(onePartition, oneTaskAllCores, corpus.size());
                for (int r = 0; r < rounds; r++) {
                    long start = System.nanoTime();
                    encoder.encodeBatch(corpus);
                    single[r] = corpus.size() / ((System.nanoTime() - start) / 1e9);
                    timed[r] = withColumnRate(df, options, corpus.size());
                    viaUdf[r] = udfRound(df, options, corpus.size());
                    oneTask[r] = withColumnRate(onePartition, oneTaskAllCores, corpus.size());
                    perRowLease[r] = perRowLeaseRound(df, options, corpus.size());
                    stage[r] = BenchJobs.stageRate(df, options, corpus.size());
                }
            }
            System.out.printf("single JVM, encodeBatch(corpus): %.0f sentences/s (median; rounds %s)%n",
                    median(single), format(single));
            System.out.printf("Spark %s, %d partitions, batch %d, withColumn + collect: %.0f sentences/s "
                            + "(median; rounds %s; first job, model load included: %.0f); models opened: %d%n",
                    master, partitions, batchSize, median(timed), format(timed), first, ExecutorEncoders.opens(options));
            System.out.printf("Spark %s, %d partitions, the UDF (one text a call) + collect: %.0f sentences/s "
                            + "(median; rounds %s): withColumn is %.2fx the UDF%n",
                    master, partitions, median(viaUdf), format(viaUdf), median(timed) / median(viaUdf));
            System.out.printf("Spark %s, %d partitions, the ML stage SentenceEmbedder (ML Vector output) + collect: %.0f sentences/s "
                            + "(median; rounds %s): %.2fx withColumn%n",
                    master, partitions, median(stage), format(stage), median(stage) / median(timed));
            System.out.printf("Spark %s, %d partitions, the UDF as it was until commit 7ec3a2b (a lease taken and "
                            + "given back for every row) + collect: %.0f sentences/s (median; rounds %s): the UDF now is %.2fx that%n",
                    master, partitions, median(perRowLease), format(perRowLease), median(viaUdf) / median(perRowLease));
            System.out.printf("Spark %s, 1 partition, one task with threads(%d): %.0f sentences/s (median; rounds %s): "
                            + "%d task slots of one thread each give %.2fx that%n",
                    master, slots, median(oneTask), format(oneTask), slots, median(timed) / median(oneTask));
        } finally {
            spark.stop();
        }
    }

    /** C in local[C] (the executor's task slots); 1 for local, the cores for local[*]. */
    private static int slots(String master) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("local\\[(\\d+|\\*)").matcher(master);
        if (!m.lookingAt()) {
            return master.equals("local") ? 1 : Runtime.getRuntime().availableProcessors();
        }
        return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
    }

    /**
     * One job over the corpus through a UDF that takes a lease for every row,
     * as SentenceEmbeddings.udf did until commit 7ec3a2b (the "before" of
     * one lease per task): sentences per second.
     */
    private static double perRowLeaseRound(Dataset<Row> df, EncoderOptions options, int expected) {
        org.apache.spark.sql.api.java.UDF1<String, float[]> perRow = text -> {
            if (text == null) {
                return null;
            }
            try (ExecutorEncoders.Lease lease = ExecutorEncoders.acquire(options)) {
                return lease.encoder().encode(text);
            }
        };
        return rate(() -> df.withColumn("embedding", org.apache.spark.sql.functions.udf(perRow, SentenceEmbeddings.VECTOR_TYPE)
                .apply(org.apache.spark.sql.functions.col("text"))).collectAsList(), expected);
    }

    /** One job over the corpus through the UDF: sentences per second. */
    private static double udfRound(Dataset<Row> df, EncoderOptions options, int expected) {
        return rate(() -> df.withColumn("embedding", SentenceEmbeddings.udf(options)
                .apply(org.apache.spark.sql.functions.col("text"))).collectAsList(), expected);
    }
}
