package org.sbert4j.spark;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sbert4j.SentenceEncoder;

/**
 * {@code CREATE FUNCTION ... AS 'org.sbert4j.spark.EmbedHiveUDF'} in a local[2] session with Hive support (an
 * in-memory Derby metastore), as the spark-sql shell has it: the temporary function with {@code USING JAR}, the
 * permanent one kept in the metastore, the model from {@code spark.sbert4j.*} and from the function's arguments,
 * every vector against {@link SentenceEncoder#encode}, and the argument errors.
 */
public class HiveFunctionTest {
    private static final double TOL = 1e-6;
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("text", DataTypes.StringType, true);
    private static final List<String> TEXTS = Arrays.asList("A man is eating food.", null, "The cat sits on the mat.",
            "Stock markets fell sharply today.", "", "Investors sold shares.");

    @ClassRule
    public static final TemporaryFolder TMP = new TemporaryFolder();

    private static Path model;
    private static Path fixture;
    private static SparkSession spark;

    @BeforeClass
    public static void start() throws Exception {
        model = Paths.get(System.getProperty("sbert4j.test.model", "../models/all-MiniLM-L6-v2")).toAbsolutePath();
        fixture = Paths.get(System.getProperty("sbert4j.test.fixtures", "../tests/fixtures/models"))
                .resolve("bert-mean-sqrt-len-st6").toAbsolutePath();
        spark = SparkSession.builder()
                .master("local[2]")
                .appName("sbert4j-hive-function-test")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.warehouse.dir", TMP.newFolder("warehouse").getAbsolutePath())
                .config("spark.hadoop.javax.jdo.option.ConnectionURL", "jdbc:derby:memory:sbert4j-metastore;create=true")
                .config("spark.hadoop.hive.metastore.schema.verification", "false")
                .config("spark.hadoop.datanucleus.schema.autoCreateAll", "true")
                .enableHiveSupport()
                .getOrCreate();
        assertEquals("hive", spark.conf().get("spark.sql.catalogImplementation"));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            rows.add(RowFactory.create(i, TEXTS.get(i)));
        }
        Dataset<Row> df = spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 2),
                SCHEMA);
        df.createOrReplaceTempView("texts");
    }

    @AfterClass
    public static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Runs {@code sql} (id, v) and checks every row against {@code expected}'s encode(); nulls for null texts. */
    private static void verify(String sql, SentenceEncoder expected) {
        List<Row> rows = spark.sql(sql).collectAsList();
        assertEquals(sql, TEXTS.size(), rows.size());
        for (Row row : rows) {
            int id = row.getInt(0);
            String text = TEXTS.get(id);
            if (text == null) {
                assertTrue(sql + ": row " + id + " has a null text and a vector", row.isNullAt(1));
                continue;
            }
            List<Float> got = row.getList(1);
            float[] want = expected.encode(text);
            assertEquals(sql + ": row " + id + " length", want.length, got.size());
            for (int k = 0; k < want.length; k++) {
                assertTrue(sql + ": row " + id + "[" + k + "] " + got.get(k) + " vs " + want[k],
                        Math.abs(got.get(k) - want[k]) <= TOL);
            }
        }
    }

    private static void expectAnalysisError(String sql, String... parts) {
        String message;
        try {
            spark.sql(sql).collectAsList();
            fail("accepted: " + sql);
            return;
        } catch (Exception e) {
            StringBuilder all = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                all.append(t).append('\n');
            }
            message = all.toString();
        }
        for (String part : parts) {
            assertTrue(sql + ": the error should contain \"" + part + "\":\n" + message, message.contains(part));
        }
    }

    @Test
    public void temporaryFunctionUsingJarReadsTheModelFromSparkConf() {
        String jar = System.getProperty("sbert4j.test.sparkJar");
        spark.sql("CREATE TEMPORARY FUNCTION embed_tmp AS 'org.sbert4j.spark.EmbedHiveUDF'"
                + (jar == null ? "" : " USING JAR '" + jar + "'"));
        spark.sql("SET spark.sbert4j.modelDir=" + model);
        try (SentenceEncoder expected = SentenceEncoder.open(model)) {
            verify("SELECT id, embed_tmp(text) AS v FROM texts", expected);
        } finally {
            spark.conf().unset("spark.sbert4j.modelDir");
        }
    }

    @Test
    public void permanentFunctionTakesTheModelFromItsArgumentsOverridingSparkConf() {
        spark.sql("CREATE FUNCTION IF NOT EXISTS default.embed_perm AS 'org.sbert4j.spark.EmbedHiveUDF'");
        assertTrue(spark.sql("SHOW USER FUNCTIONS").collectAsList().toString().contains("embed_perm"));
        // The keys say one model and 64 dimensions; the arguments another model and 16 (64 is more than that model has).
        spark.conf().set("spark.sbert4j.modelDir", model.toString());
        spark.conf().set("spark.sbert4j.truncateDim", "64");
        try (SentenceEncoder expected = SentenceEncoder.builder(fixture).truncateDim(16).open()) {
            verify("SELECT id, default.embed_perm(text, 'modelDir=" + fixture + "', 'truncateDim=16') AS v FROM texts",
                    expected);
        } finally {
            spark.conf().unset("spark.sbert4j.modelDir");
            spark.conf().unset("spark.sbert4j.truncateDim");
        }
        // No key set: the arguments alone.
        try (SentenceEncoder expected = SentenceEncoder.open(fixture)) {
            verify("SELECT id, embed_perm(text, 'modelDir=" + fixture + "') AS v FROM texts", expected);
        }
    }

    @Test
    public void badArgumentsFailTheQueryNamingTheProblem() {
        spark.sql("CREATE TEMPORARY FUNCTION embed_err AS 'org.sbert4j.spark.EmbedHiveUDF'");
        expectAnalysisError("SELECT embed_err(text) FROM texts",
                "set exactly one of spark.sbert4j.modelDir and spark.sbert4j.sparkFile");
        expectAnalysisError("SELECT embed_err(text, 'modelDir=" + model + "', 'colour=blue') FROM texts",
                "unknown setting spark.sbert4j.colour");
        expectAnalysisError("SELECT embed_err(text, 'modelDir=" + model + "', 'truncateDim=zero') FROM texts",
                "spark.sbert4j.truncateDim = 'zero'");
        expectAnalysisError("SELECT embed_err(text, 'modelDir') FROM texts",
                "argument 2 must be a constant string 'name=value'");
        expectAnalysisError("SELECT embed_err(text, text) FROM texts",
                "argument 2 must be a constant string 'name=value'");
        expectAnalysisError("SELECT embed_err(array(text), 'modelDir=" + model + "') FROM texts",
                "first argument is the text");
        expectAnalysisError("SELECT embed_err() FROM texts", "takes the text");
        // A model directory that is not there: the task fails naming it.
        expectAnalysisError("SELECT embed_err(text, 'modelDir=/nonexistent/model') FROM texts",
                "/nonexistent/model does not exist");
    }
}
