package example;

import java.io.IOException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sbert4j.Precision;
import org.sbert4j.spark.EncoderOptions;
import org.sbert4j.spark.SentenceEmbeddings;
import org.sbert4j.spark.ml.SentenceEmbedder;
import static org.apache.spark.sql.functions.col;

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

    static Column column(Dataset<Row> df) {
        // snippet:start column
        EncoderOptions options = EncoderOptions.sparkFile("minilm").batchSize(256);
        Dataset<Row> out = SentenceEmbeddings.withColumn(df, "text", "embedding", options);          // array<float>
        Dataset<Row> ml = SentenceEmbeddings.withVectorColumn(df, "text", "features", null, options); // ML Vector
        Dataset<Row> safe = SentenceEmbeddings.withColumn(df, "text", "embedding",
                options.onError(EncoderOptions.OnError.NULL));  // + "embedding_error": why a row has no vector
        Column c = SentenceEmbeddings.udf(options).apply(col("text"));   // one text per call; withColumn batches
        // snippet:end column
        return c;
    }

    static void stage(Dataset<Row> df) throws IOException {
        // snippet:start stage
        SentenceEmbedder embedder = new SentenceEmbedder()
                .setInputCol("text").setOutputCol("features")
                .setSparkFile("minilm")          // or setModelDir / setModelArchive
                .setOutputType("vector");        // "array" (array<float>, the default) or "vector" (ML Vector)
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {embedder, new KMeans().setK(8)}).fit(df);
        model.write().overwrite().save("hdfs:///models/topics");
        PipelineModel.load("hdfs:///models/topics").transform(df);
        // snippet:end stage
    }

    static void sqlByName(SparkSession spark) {
        // snippet:start sql-by-name
        spark.conf().set("spark.sbert4j.sparkFile", "minilm");   // or spark.sbert4j.modelDir, any spark.sbert4j.* option
        spark.udf().registerJava("embed", "org.sbert4j.spark.EmbedUDF", SentenceEmbeddings.VECTOR_TYPE);
        spark.sql("SELECT id, embed(text) AS v FROM docs");
        // snippet:end sql-by-name
    }
}
