package org.sbert4j.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** What sparkBench's local and cluster benchmarks share: the corpus as a DataFrame, timed jobs, medians. */
final class BenchJobs {
    private BenchJobs() {}

    /** The corpus as rows (id, text) in {@code partitions} partitions. */
    static Dataset<Row> corpusFrame(SparkSession spark, List<String> corpus, int partitions) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            rows.add(RowFactory.create(i, corpus.get(i)));
        }
        return spark.createDataFrame(jsc.parallelize(rows, partitions), schema);
    }

    /** Runs one job collecting its rows: rows per second; fails unless it gave {@code expected} rows. */
    static double rate(Supplier<List<Row>> job, int expected) {
        long start = System.nanoTime();
        List<Row> out = job.get();
        double rate = out.size() / ((System.nanoTime() - start) / 1e9);
        if (out.size() != expected) {
            throw new IllegalStateException("got " + out.size() + " rows, expected " + expected);
        }
        return rate;
    }

    /** One withColumn job over {@code df}: sentences per second. */
    static double withColumnRate(Dataset<Row> df, EncoderOptions options, int expected) {
        return rate(() -> SentenceEmbeddings.withColumn(df, "text", "embedding", options).collectAsList(), expected);
    }

    /** One job of the ML stage ({@code SentenceEmbedder}, ML Vector output) with {@code options}' model and batch: sentences per second. */
    static double stageRate(Dataset<Row> df, EncoderOptions options, int expected) {
        org.sbert4j.spark.ml.SentenceEmbedder stage = new org.sbert4j.spark.ml.SentenceEmbedder()
                .setModelDir(options.modelDir()).setBatchSize(options.batchSize()).setOutputType("vector");
        return rate(() -> stage.transform(df).collectAsList(), expected);
    }

    /** One job of the Column UDF ({@code SentenceEmbeddings.udf}): sentences per second. */
    static double udfRate(Dataset<Row> df, EncoderOptions options, int expected) {
        return rate(() -> df.withColumn("embedding", SentenceEmbeddings.udf(options)
                .apply(org.apache.spark.sql.functions.col("text"))).collectAsList(), expected);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static String format(double[] values) {
        return Arrays.stream(values).mapToObj(v -> String.format("%.0f", v)).collect(Collectors.joining(", "));
    }
}
