package org.sbert4j.spark;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * sparkBench's Spark job on a standalone cluster (spark/cluster/cluster-test.sh
 * --mode bench: two executors of one core each, each its own JVM): the corpus
 * in several partitions through {@link SentenceEmbeddings#withColumn} and
 * collected on the driver. The first job (model loads on the executors
 * included), then medians of {@code --rounds} timed jobs after a warm-up job.
 */
public final class ClusterBench {
    private ClusterBench() {}

    public static void main(String[] args) throws Exception {
        Path model = null;
        int rounds = 3;
        int partitions = 4;
        int batchSize = EncoderOptions.DEFAULT_BATCH_SIZE;
        String version = "?";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model": model = Paths.get(args[i + 1]).toAbsolutePath(); break;
                case "--zip": break; // the cluster script passes it; the benchmark uses the path on every node
                case "--spark-version": version = args[i + 1]; break;
                case "--rounds": rounds = Integer.parseInt(args[i + 1]); break;
                case "--partitions": partitions = Integer.parseInt(args[i + 1]); break;
                case "--batch-size": batchSize = Integer.parseInt(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (model == null) {
            throw new IllegalArgumentException("usage: ClusterBench --model DIR [--rounds N] [--partitions N] [--batch-size N]");
        }
        List<String> corpus = TestCorpus.read();
        SparkSession spark = SparkSession.builder().appName("sbert4j-cluster-bench").getOrCreate();
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (jsc.sc().statusTracker().getExecutorInfos().length < 3) { // two executors and the driver
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("two executors did not register within 120 s");
                }
                Thread.sleep(200);
            }
            Dataset<Row> df = BenchJobs.corpusFrame(spark, corpus, partitions);
            EncoderOptions options = EncoderOptions.modelDir(model).batchSize(batchSize);
            double first = BenchJobs.withColumnRate(df, options, corpus.size());
            BenchJobs.withColumnRate(df, options, corpus.size());
            double[] timed = new double[rounds];
            double[] stage = new double[rounds];
            double[] udf = new double[rounds];
            BenchJobs.stageRate(df, options, corpus.size());
            BenchJobs.udfRate(df, options, corpus.size());
            // Interleaved, so that the three see the same load.
            for (int r = 0; r < rounds; r++) {
                timed[r] = BenchJobs.withColumnRate(df, options, corpus.size());
                stage[r] = BenchJobs.stageRate(df, options, corpus.size());
                udf[r] = BenchJobs.udfRate(df, options, corpus.size());
            }
            System.out.printf("Spark %s standalone cluster, 2 executors x 1 core (separate JVMs), %d partitions, batch %d, "
                            + "withColumn + collect: %.0f sentences/s (median; rounds %s; first job, model loads included: %.0f)%n",
                    version, partitions, batchSize, BenchJobs.median(timed), BenchJobs.format(timed), first);
            System.out.printf("Spark %s standalone cluster, the ML stage SentenceEmbedder (ML Vector output) + collect: %.0f sentences/s "
                            + "(median; rounds %s): %.2fx withColumn%n",
                    version, BenchJobs.median(stage), BenchJobs.format(stage), BenchJobs.median(stage) / BenchJobs.median(timed));
            System.out.printf("Spark %s standalone cluster, the Column UDF (one text a call) + collect: %.0f sentences/s "
                            + "(median; rounds %s): %.2fx withColumn%n",
                    version, BenchJobs.median(udf), BenchJobs.format(udf), BenchJobs.median(udf) / BenchJobs.median(timed));
        } finally {
            spark.stop();
        }
    }
}
