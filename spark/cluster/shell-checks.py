"""The cluster test's checks through Spark's own shells, run by cluster-test.sh after ClusterJob, on the same
standalone cluster (each check its own application, the executors its workers start):

  * the distribution's spark-sql shell (Hive support on): CREATE TEMPORARY FUNCTION and CREATE FUNCTION
    (permanent, in a Derby metastore) ... AS 'org.sbert4j.spark.EmbedHiveUDF' USING JAR the two jars, then
    SELECT embed(text) with the model from --conf spark.sbert4j.modelDir and from the function's arguments
    (a model shipped with spark-sql --archives);
  * PySpark (the sbert4j_spark package of python/, installed into this environment): with_embeddings, embed,
    the SQL function and a Pipeline (SentenceEmbedder, KMeans) fitted, saved, loaded and applied.

Every vector is compared with the driver's SentenceEncoder.encode, which ClusterJob wrote to --shell-texts.
Prints one line per check and a summary; exits 1 if any failed.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import traceback

TOL = 1e-6


def parse_args():
    p = argparse.ArgumentParser()
    for name in ("spark-home", "master", "core-jar", "spark-jar", "model", "zip", "work", "shell-texts", "version",
                 "log4j"):
        p.add_argument("--" + name, required=True)
    return p.parse_args()


ARGS = parse_args()
ROWS = json.load(open(ARGS.shell_texts))  # [[id, text or null, vector or null], ...]
COMMON_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.executorEnv.SBERT4J_THREADS": "1",
    "spark.executorEnv.SPARK_LOCAL_IP": "127.0.0.1",
    "spark.driver.memory": "1g",
    "spark.executor.memory": "1g",
    "spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile=file:%s -Dsbert4j.cache.dir=%s/sbert4j-cache"
                                     % (ARGS.log4j, ARGS.work),
    "spark.executor.extraJavaOptions": "-Dlog4j2.configurationFile=file:%s -Dsbert4j.cache.dir=%s/sbert4j-cache"
                                       % (ARGS.log4j, ARGS.work),
}


def compare(what, got):
    """got: {id: list of floats or None}; every row of ROWS must be there with its vector (None for a null text)."""
    if sorted(got) != [r[0] for r in ROWS]:
        raise AssertionError("%s: ids %s, expected %s" % (what, sorted(got), [r[0] for r in ROWS]))
    worst = 0.0
    for i, text, want in ROWS:
        v = got[i]
        if want is None:
            if v is not None:
                raise AssertionError("%s: row %d has a null text and a vector" % (what, i))
            continue
        if v is None or len(v) != len(want):
            raise AssertionError("%s: row %d (%r): %s" % (what, i, text, "no vector" if v is None else
                                                          "%d components, expected %d" % (len(v), len(want))))
        worst = max(worst, max(abs(a - b) for a, b in zip(v, want)))
    if worst > TOL:
        raise AssertionError("%s: max |difference| from encode() %.3g > %g" % (what, worst, TOL))
    return worst


def sql_literal(text):
    return "NULL" if text is None else "'" + text + "'"  # ClusterJob left out texts with quotes and backslashes


def parse_sql_output(out, what):
    got = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip().isdigit():
            continue
        value = parts[1].strip()
        got[int(parts[0])] = None if value == "NULL" else [float(x) for x in value.strip("[]").split(",")]
    if not got:
        raise AssertionError("%s: no rows in the shell's output:\n%s" % (what, out[-3000:]))
    return got


def spark_sql_shell():
    values = ", ".join("(%d, %s)" % (i, sql_literal(text)) for i, text, _ in ROWS)
    jars = "USING JAR '%s', JAR '%s'" % (ARGS.core_jar, ARGS.spark_jar)
    script = "\n".join([
        "CREATE TEMPORARY VIEW t AS SELECT * FROM VALUES %s AS t(id, text);" % values,
        "CREATE TEMPORARY FUNCTION embed AS 'org.sbert4j.spark.EmbedHiveUDF' %s;" % jars,
        "SELECT id, embed(text) FROM t ORDER BY id;",
        "CREATE FUNCTION default.embed_shipped AS 'org.sbert4j.spark.EmbedHiveUDF' %s;" % jars,
        "SELECT id, default.embed_shipped(text, 'sparkFile=minilm-sql', 'batchSize=8') FROM t ORDER BY id;",
    ])
    path = os.path.join(ARGS.work, "embed.sql")
    with open(path, "w") as f:
        f.write(script + "\n")
    conf = dict(COMMON_CONF)
    conf.update({
        # The model for embed(text): the configuration key; embed_shipped names the archive below instead.
        "spark.sbert4j.modelDir": ARGS.model,
        "spark.sql.warehouse.dir": os.path.join(ARGS.work, "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            "jdbc:derby:;databaseName=%s;create=true" % os.path.join(ARGS.work, "metastore_db"),
    })
    cmd = [os.path.join(ARGS.spark_home, "bin", "spark-sql"), "--master", ARGS.master,
           "--archives", ARGS.zip + "#minilm-sql"]
    for k, v in conf.items():
        cmd += ["--conf", "%s=%s" % (k, v)]
    cmd += ["-f", path]
    log = open(os.path.join(ARGS.work, "logs", "spark-sql.log"), "w")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log, cwd=ARGS.work, timeout=600,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise AssertionError("spark-sql exited with %d (log: %s):\n%s" % (proc.returncode, log.name, proc.stdout[-3000:]))
    # Two SELECTs: the first len(ROWS) rows, then the next.
    lines = [l for l in proc.stdout.splitlines() if "\t" in l]
    n = len(ROWS)
    if len(lines) != 2 * n:
        raise AssertionError("spark-sql printed %d rows, expected %d (two queries of %d):\n%s"
                             % (len(lines), 2 * n, n, proc.stdout[-3000:]))
    w1 = compare("spark-sql, embed(text), spark.sbert4j.modelDir", parse_sql_output("\n".join(lines[:n]), "first"))
    w2 = compare("spark-sql, permanent embed_shipped(text, 'sparkFile=minilm-sql'), --archives",
                 parse_sql_output("\n".join(lines[n:]), "second"))
    return "%d rows twice; max |difference| from encode() %.2e, %.2e" % (n, w1, w2)


def pyspark_on_the_cluster():
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.clustering import KMeans
    from pyspark.sql import SparkSession
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType
    from sbert4j_spark import SentenceEmbedder, embed, register, with_embeddings

    builder = SparkSession.builder.master(ARGS.master).appName("sbert4j-cluster-pyspark")
    conf = dict(COMMON_CONF)
    conf.update({"spark.jars": ARGS.core_jar + "," + ARGS.spark_jar, "spark.archives": ARGS.zip + "#minilm-py"})
    for k, v in conf.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    try:
        schema = StructType([StructField("id", IntegerType(), False), StructField("text", StringType(), True)])
        df = spark.createDataFrame([(i, t) for i, t, _ in ROWS], schema).repartition(4)

        def vectors(frame, column):
            return {r["id"]: (None if r[column] is None else [float(x) for x in r[column]])
                    for r in frame.select("id", column).collect()}

        notes = []
        out = with_embeddings(df, "text", "v", sparkFile="minilm-py", batchSize=16)
        notes.append("with_embeddings %.2e" % compare("pyspark with_embeddings(sparkFile)", vectors(out, "v")))
        out = df.withColumn("v", embed("text", modelDir=ARGS.model))
        notes.append("embed %.2e" % compare("pyspark embed(modelDir)", vectors(out, "v")))
        spark.conf.set("spark.sbert4j.sparkFile", "minilm-py")
        register(spark, "embed_py")
        df.createOrReplaceTempView("texts_py")
        out = spark.sql("SELECT id, embed_py(text) AS v FROM texts_py")
        notes.append("SQL %.2e" % compare("pyspark SQL function (spark.sbert4j.sparkFile)", vectors(out, "v")))

        # The ML stage in a Pipeline with KMeans, saved and loaded.
        texts = df.na.drop()
        embedder = SentenceEmbedder(inputCol="text", outputCol="features", sparkFile="minilm-py", outputType="vector")
        fitted = Pipeline(stages=[embedder, KMeans(k=3, seed=7, featuresCol="features", predictionCol="cluster")]).fit(texts)
        path = "file://" + os.path.join(ARGS.work, "pipeline-py")
        fitted.write().overwrite().save(path)
        loaded = PipelineModel.load(path)
        before = {r["id"]: r["cluster"] for r in fitted.transform(texts).select("id", "cluster").collect()}
        after_rows = loaded.transform(texts).select("id", "features", "cluster").collect()
        after = {r["id"]: r["cluster"] for r in after_rows}
        if before != after:
            raise AssertionError("pyspark pipeline: clusters differ after save/load: %s vs %s" % (before, after))
        if len(set(after.values())) != 3:
            raise AssertionError("pyspark pipeline: KMeans(k=3) used clusters %s" % sorted(set(after.values())))
        got = {r["id"]: [float(x) for x in r["features"].toArray()] for r in after_rows}
        got.update({i: None for i, t, _ in ROWS if t is None})
        notes.append("pipeline %.2e" % compare("pyspark Pipeline(SentenceEmbedder, KMeans) loaded", got))
        return "%d rows each; max |difference| from encode(): %s" % (len(ROWS), ", ".join(notes))
    finally:
        spark.stop()


def main():
    checks = [("the spark-sql shell: CREATE [TEMPORARY] FUNCTION ... USING JAR, SELECT embed(text)", spark_sql_shell),
              ("PySpark (sbert4j_spark): with_embeddings, embed, SQL function, Pipeline with KMeans saved and loaded",
               pyspark_on_the_cluster)]
    passed = failed = 0
    for name, body in checks:
        start = time.time()
        try:
            note = body()
            passed += 1
            print("cluster: PASSED %s (%.1f s): %s" % (name, time.time() - start, note), flush=True)
        except Exception:
            failed += 1
            print("cluster: FAILED %s (%.1f s): %s" % (name, time.time() - start, traceback.format_exc()), flush=True)
    print("Spark %s standalone cluster, shells:" % ARGS.version)
    print("SparkCluster shells: %d passed, %d failed, 0 skipped" % (passed, failed), flush=True)
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
