package org.sbert4j.spark;

import java.io.Serializable;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.sql.SparkSession;
import org.sbert4j.SentenceEncoderException;
import scala.collection.Iterator;
import scala.collection.Seq;

/**
 * Where the model directory of some {@link EncoderOptions} is on the node a
 * task runs on: made on the driver ({@link #prepare}), travels with the task,
 * resolved on the executor ({@link #resolve}).
 *
 * <p>A model shipped with the job ({@link EncoderOptions#sparkFile(String)})
 * can sit in one of three places on an executor, depending on the Spark line
 * and how it was shipped:
 * <ol>
 * <li>{@code <SparkFiles root>/<session UUID>/<name>}: Spark 4 runs Dataset
 *     and SQL jobs with their session's own artifact set
 *     ({@code spark.sql.artifact.isolation.enabled}, on by default): such a
 *     job ships only the files and archives added while that session's
 *     artifact state was active (the {@code ADD FILE}/{@code ADD ARCHIVE}
 *     commands, Spark Connect's {@code addArtifact}), and the executor
 *     unpacks them into a folder named after the session, which
 *     {@code SparkFiles.get} on an executor does not look in.
 *     {@code SparkContext.addFile}/{@code addArchive} called from driver code
 *     add to the context's set instead, which such jobs do not ship at all:
 *     {@link #prepare} therefore adds each context file or archive of that
 *     name to the session as well ({@code ADD FILE}/{@code ADD ARCHIVE},
 *     except those spark-submit shipped: every executor fetches those at
 *     start) and records the session's UUID for the executor (on Spark 3.5,
 *     or with isolation off, it does neither);</li>
 * <li>{@code SparkFiles.get(name)}: the context's set, fetched by RDD jobs,
 *     by every job on Spark 3.5, and by every executor at start for
 *     {@code spark-submit --archives/--files};</li>
 * <li>{@code ./<name>}: the working directory, where YARN localizes
 *     {@code --archives}.</li>
 * </ol>
 * The first that is a directory is used.
 */
final class ModelLocation implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String modelDir;
    private final String sparkFile;
    private final String sessionUuid;

    private ModelLocation(String modelDir, String sparkFile, String sessionUuid) {
        this.modelDir = modelDir;
        this.sparkFile = sparkFile;
        this.sessionUuid = sessionUuid;
    }

    /** Where {@code options} points, without a session (the model path, or SparkFiles' two places). */
    static ModelLocation of(EncoderOptions options) {
        Objects.requireNonNull(options, "options");
        return new ModelLocation(options.modelDir(), options.sparkFile(), null);
    }

    /**
     * On the driver, before a Dataset or SQL job of {@code spark} runs with
     * {@code options}: for a shipped model, makes Spark 4's session-isolated
     * jobs ship it too (see the class comment) and records the session.
     * {@code spark} may be null (no session known): then only SparkFiles'
     * own places are searched.
     */
    static ModelLocation prepare(SparkSession spark, EncoderOptions options) {
        Objects.requireNonNull(options, "options");
        if (options.sparkFile() == null || spark == null) {
            return of(options);
        }
        String name = options.sparkFile();
        if (!sessionIsolated(spark)) {
            // Spark 3.5, or isolation off: every job ships the context's files and archives.
            return of(options);
        }
        SparkContext sc = spark.sparkContext();
        Set<String> submitted = submittedNames(sc.getConf());
        for (String archive : list(sc.listArchives())) {
            if (name.equals(archiveName(archive)) && !submitted.contains(name)) {
                spark.sql("ADD ARCHIVE " + quote(archive));
            }
        }
        for (String file : list(sc.listFiles())) {
            if (name.equals(fileName(file)) && !submitted.contains(name)) {
                spark.sql("ADD FILE " + quote(file));
            }
        }
        return new ModelLocation(null, name, sessionUuid(spark));
    }

    /** The key that identifies this model within one JVM: the absolute path, or the SparkFiles name. */
    String key() {
        return modelDir != null ? "path:" + Paths.get(modelDir).toAbsolutePath().normalize() : "SparkFiles:" + sparkFile;
    }

    /** The model directory on this node; a {@link SentenceEncoderException} saying where it looked and how to ship it otherwise. */
    Path resolve() {
        if (modelDir != null) {
            Path dir = Paths.get(modelDir).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new SentenceEncoderException("sbert4j: the model directory " + dir
                        + (Files.exists(dir) ? " is not a directory" : " does not exist") + " on " + where()
                        + ". EncoderOptions.modelDir needs the directory at that path on every node that runs tasks. "
                        + SHIPPING);
            }
            return dir;
        }
        List<Path> candidates = candidates();
        for (Path dir : candidates) {
            if (Files.isDirectory(dir)) {
                return dir;
            }
        }
        StringBuilder looked = new StringBuilder();
        for (Path dir : candidates) {
            looked.append(looked.length() == 0 ? "" : ", ").append(dir)
                    .append(Files.exists(dir) ? " (not a directory)" : "");
        }
        throw new SentenceEncoderException("sbert4j: the model directory '" + sparkFile
                + "' (EncoderOptions.sparkFile) was not shipped to " + where() + ": looked in " + looked
                + ". Ship it under that name before the job runs: spark-submit --archives model.zip#" + sparkFile
                + " (a zip of the model directory's contents), or SparkContext.addArchive(\"model.zip#" + sparkFile
                + "\"), or SparkContext.addFile(dir, true) for a directory on a Hadoop file system (HDFS, S3; "
                + "a local directory only in local mode), called before SentenceEmbeddings.withColumn/udf/register; "
                + "or put the directory at one path on every node and use EncoderOptions.modelDir(path).");
    }

    private static final String SHIPPING = "Or ship it with the job and use EncoderOptions.sparkFile(name): "
            + "spark-submit --archives model.zip#name, SparkContext.addArchive(\"model.zip#name\"), or "
            + "SparkContext.addFile(dir, true) for a directory on a Hadoop file system.";

    /** Where a shipped model may be on this node, in the order they are tried. */
    private List<Path> candidates() {
        Set<Path> dirs = new LinkedHashSet<>();
        String root = null;
        try {
            root = SparkFiles.getRootDirectory();
        } catch (RuntimeException e) {
            // no SparkEnv: not inside a Spark application
        }
        if (root != null && sessionUuid != null) {
            dirs.add(Paths.get(root, sessionUuid, sparkFile).toAbsolutePath().normalize());
        }
        if (root != null) {
            dirs.add(Paths.get(SparkFiles.get(sparkFile)).toAbsolutePath().normalize());
            dirs.add(Paths.get(root, sparkFile).toAbsolutePath().normalize());
        }
        dirs.add(Paths.get(sparkFile).toAbsolutePath().normalize());
        return new ArrayList<>(dirs);
    }

    /** "host H (executor E)", for error messages. */
    static String where() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = Objects.toString(System.getenv("HOSTNAME"), "unknown");
        }
        SparkEnv env = SparkEnv.get();
        return "host " + host + (env != null ? " (executor " + env.executorId() + ")" : "");
    }

    /**
     * Whether {@code spark} runs its jobs with an artifact set of its own:
     * Spark 4's {@code spark.sql.artifact.isolation.enabled} (default true;
     * false for Hive sessions). Spark 3.5 has no such setting.
     */
    private static boolean sessionIsolated(SparkSession spark) {
        try {
            return Boolean.parseBoolean(spark.conf().get("spark.sql.artifact.isolation.enabled"));
        } catch (NoSuchElementException e) {
            return false;
        }
    }

    /** The SparkSession's UUID (Spark 3.5 and 4 have it, not as public API): null where it cannot be read. */
    private static String sessionUuid(SparkSession spark) {
        try {
            Method method = spark.getClass().getMethod("sessionUUID");
            Object uuid = method.invoke(spark);
            return uuid instanceof String ? (String) uuid : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** SparkFiles names of what spark-submit --archives/--files shipped: every executor fetches those at start. */
    private static Set<String> submittedNames(SparkConf conf) {
        Set<String> names = new LinkedHashSet<>();
        for (String path : conf.get("spark.archives", "").split(",")) {
            if (!path.trim().isEmpty()) {
                names.add(archiveName(path.trim()));
            }
        }
        for (String path : conf.get("spark.files", "").split(",")) {
            if (!path.trim().isEmpty()) {
                names.add(fileName(path.trim()));
            }
        }
        return names;
    }

    /** An archive's SparkFiles name: the URI fragment ("model.zip#name"), else its file name. */
    static String archiveName(String uri) {
        int hash = uri.lastIndexOf('#');
        return hash >= 0 ? uri.substring(hash + 1) : fileName(uri);
    }

    /** The last segment of a path or URI. */
    static String fileName(String uri) {
        String path = uri;
        try {
            String parsed = new URI(uri).getPath();
            if (parsed != null && !parsed.isEmpty()) {
                path = parsed;
            }
        } catch (Exception e) {
            // a plain local path
        }
        while (path.endsWith("/") && path.length() > 1) {
            path = path.substring(0, path.length() - 1);
        }
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String quote(String path) {
        return "\"" + path.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static List<String> list(Seq<String> seq) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = seq.iterator(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
