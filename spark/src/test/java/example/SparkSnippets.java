package example;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sbert4j.Precision;
import org.sbert4j.spark.EncoderOptions;
import org.sbert4j.spark.SentenceEmbeddings;

/**
 * The Spark snippets of the README and docs/spark.md, compiled against both
 * Spark lines by gradle test (DocSnippetsTest checks that the documents show
 * exactly these regions).
 */
final class SparkSnippets {
    private SparkSnippets() {}

    static Dataset<Row> readme(SparkSession spark, Dataset<Row> docs) {
        // snippet:start readme
        EncoderOptions options = EncoderOptions.sparkFile("minilm");  // spark-submit --archives minilm.zip#minilm
        Dataset<Row> embedded = SentenceEmbeddings.withColumn(docs, "text", "embedding", options);
        SentenceEmbeddings.register(spark, "embed", options);         // SELECT embed(text) FROM docs
        // snippet:end readme
        return embedded;
    }

    static void job() {
        // snippet:start job
        SparkSession spark = SparkSession.builder().appName("embed").getOrCreate();
        Dataset<Row> docs = spark.read().parquet("hdfs:///data/docs");        // a string column "text"

        EncoderOptions options = EncoderOptions.sparkFile("minilm")   // shipped with the job, see below
                .batchSize(256)                // rows per encodeBatch call within a partition (the default)
                .precision(Precision.FP32);    // FP32 (default), BF16 or INT8
        // .normalize(false)                   // unset: the model's modules.json decides
        // .maxSequenceLength(128)             // unset: the model's max_seq_length
        // .threads(4)                         // unset: spark.task.cpus (threads per task)

        Dataset<Row> embedded = SentenceEmbeddings.withColumn(docs, "text", "embedding", options);
        embedded.write().parquet("hdfs:///data/docs-embedded");              // embedding: array<float>

        // Or as a SQL function (one text per call; withColumn batches and is faster):
        SentenceEmbeddings.register(spark, "embed", options);
        spark.sql("SELECT id, embed(text) AS embedding FROM docs");
        // snippet:end job
    }
}
