package org.sbert4j.spark;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.sbert4j.SentenceEncoder;
import org.sbert4j.SentenceEncoderException;

/**
 * The encoders of this JVM (a Spark executor, or the driver in local mode):
 * one {@link SentenceEncoder} per model directory and options, shared by
 * every task running in the JVM, opened by the first task that needs it.
 *
 * <p>Tasks take a {@link Lease} for as long as they encode and give it back
 * when their partition is done (or the task ends otherwise); the number of
 * leases held is the reference count. An encoder whose count falls to zero
 * stays loaded, so the next task on this executor does not load the model
 * again: it is released when the JVM ends (a shutdown hook, which runs when
 * the executor exits or is removed), or earlier by {@link #closeIdle()} /
 * {@link #closeIdle(EncoderOptions)}. (Closing at zero instead would reload
 * the model for every partition, since an executor runs its tasks one after
 * another as often as side by side.)
 */
public final class ExecutorEncoders {
    private static final Map<Key, Entry> ENTRIES = new HashMap<>(); // guarded by itself
    private static final Map<Key, Integer> OPENS_BY_KEY = new HashMap<>(); // guarded by ENTRIES
    private static final AtomicInteger OPENS = new AtomicInteger();
    private static boolean hookInstalled; // guarded by ENTRIES

    private ExecutorEncoders() {}

    /**
     * The shared encoder for {@code options} on this JVM, opening the model on
     * first use. Close the lease when done with it; never close its encoder.
     *
     * @throws SentenceEncoderException if the model directory is missing on
     *     this node or cannot be loaded; the message names the path and host
     */
    public static Lease acquire(EncoderOptions options) {
        Objects.requireNonNull(options, "options");
        Path dir = resolve(options);
        Key key = new Key(dir.toString(), options.normalize(), options.maxSequenceLength());
        Entry entry;
        synchronized (ENTRIES) {
            installShutdownHook();
            entry = ENTRIES.computeIfAbsent(key, k -> new Entry());
            entry.leases++; // before loading, so closeIdle leaves the entry alone meanwhile
        }
        try {
            return new Lease(entry, entry.encoder(key, options));
        } catch (RuntimeException | Error e) {
            synchronized (ENTRIES) {
                entry.leases--;
            }
            throw e;
        }
    }

    /**
     * How many times this JVM has opened a model for {@code options} through
     * this class (1 after any number of tasks, unless it was closed in between).
     */
    public static int opens(EncoderOptions options) {
        Path dir = resolve(options);
        Key key = new Key(dir.toString(), options.normalize(), options.maxSequenceLength());
        synchronized (ENTRIES) {
            return OPENS_BY_KEY.getOrDefault(key, 0);
        }
    }

    /** How many times this JVM has opened a model through this class, all options together. */
    public static int opens() {
        return OPENS.get();
    }

    /** Leases held now, all models together. */
    public static int leasesHeld() {
        synchronized (ENTRIES) {
            int held = 0;
            for (Entry entry : ENTRIES.values()) {
                held += entry.leases;
            }
            return held;
        }
    }

    /** Closes the encoders no task holds a lease on; returns how many it closed. */
    public static int closeIdle() {
        List<Entry> idle = new ArrayList<>();
        synchronized (ENTRIES) {
            for (Iterator<Entry> it = ENTRIES.values().iterator(); it.hasNext(); ) {
                Entry entry = it.next();
                if (entry.leases == 0) {
                    idle.add(entry);
                    it.remove();
                }
            }
        }
        int closed = 0;
        for (Entry entry : idle) {
            closed += entry.close();
        }
        return closed;
    }

    /**
     * Closes the encoder for {@code options} if no task holds a lease on it;
     * returns whether it did. This JVM only: on a cluster each executor keeps
     * its own until it ends.
     */
    public static boolean closeIdle(EncoderOptions options) {
        Path dir = resolve(options);
        Key key = new Key(dir.toString(), options.normalize(), options.maxSequenceLength());
        Entry entry;
        synchronized (ENTRIES) {
            entry = ENTRIES.get(key);
            if (entry == null || entry.leases > 0) {
                return false;
            }
            ENTRIES.remove(key);
        }
        return entry.close() > 0;
    }

    /**
     * Closes every encoder, leased or not (calls in progress finish first);
     * what the shutdown hook runs. A later {@link #acquire} opens the model again.
     */
    public static void closeAll() {
        List<Entry> all;
        synchronized (ENTRIES) {
            all = new ArrayList<>(ENTRIES.values());
            ENTRIES.clear();
        }
        for (Entry entry : all) {
            entry.close();
        }
    }

    private static void installShutdownHook() {
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(ExecutorEncoders::closeAll, "sbert4j-release-encoders"));
            hookInstalled = true;
        }
    }

    /** The model directory {@code options} names, on this node; a clear error if it is not there. */
    static Path resolve(EncoderOptions options) {
        Path dir;
        if (options.sparkFile() != null) {
            String shipped;
            try {
                shipped = SparkFiles.get(options.sparkFile());
            } catch (RuntimeException e) {
                throw new SentenceEncoderException("sbert4j: cannot look up '" + options.sparkFile()
                        + "' in SparkFiles on " + where() + " (is this running inside a Spark application?): " + e, e);
            }
            dir = Paths.get(shipped).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new SentenceEncoderException("sbert4j: the model directory '" + options.sparkFile()
                        + "' is not in SparkFiles on " + where() + ": " + dir
                        + (Files.exists(dir) ? " is not a directory" : " does not exist")
                        + ". Ship it under that name with SparkContext.addFile(dir, true) (a directory on a "
                        + "Hadoop file system such as HDFS or S3; a local directory only in local mode) or "
                        + "SparkContext.addArchive(\"model.zip#" + options.sparkFile() + "\"), before the job runs.");
            }
        } else {
            dir = Paths.get(options.modelDir()).toAbsolutePath().normalize();
            if (!Files.isDirectory(dir)) {
                throw new SentenceEncoderException("sbert4j: the model directory " + dir
                        + (Files.exists(dir) ? " is not a directory" : " does not exist") + " on " + where()
                        + ". EncoderOptions.modelDir needs the directory at that path on every node that runs "
                        + "tasks; or ship it with SparkContext.addFile/addArchive and use EncoderOptions.sparkFile(name).");
            }
        }
        return dir;
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

    /** A task's use of a shared encoder; {@link #close()} gives it back (idempotent). */
    public static final class Lease implements AutoCloseable {
        private final Entry entry;
        private final SentenceEncoder encoder;
        private boolean closed; // guarded by ENTRIES

        private Lease(Entry entry, SentenceEncoder encoder) {
            this.entry = entry;
            this.encoder = encoder;
        }

        /** The shared encoder: use it, never close it. */
        public SentenceEncoder encoder() {
            return encoder;
        }

        @Override
        public void close() {
            synchronized (ENTRIES) {
                if (!closed) {
                    closed = true;
                    entry.leases--;
                }
            }
        }
    }

    private static final class Entry {
        int leases; // guarded by ENTRIES
        private SentenceEncoder encoder; // guarded by this

        /** Opens the model once; concurrent first tasks wait for that one load. */
        synchronized SentenceEncoder encoder(Key key, EncoderOptions options) {
            if (encoder == null || encoder.isClosed()) {
                SentenceEncoder.Builder builder = SentenceEncoder.builder(Paths.get(key.dir));
                if (options.normalize() != null) {
                    builder.normalize(options.normalize());
                }
                if (options.maxSequenceLength() != null) {
                    builder.maxSequenceLength(options.maxSequenceLength());
                }
                try {
                    encoder = builder.open();
                } catch (SentenceEncoderException e) {
                    throw new SentenceEncoderException("sbert4j: cannot load the model in " + key.dir + " on "
                            + where() + ": " + e.getMessage(), e);
                }
                OPENS.incrementAndGet();
                synchronized (ENTRIES) {
                    OPENS_BY_KEY.merge(key, 1, Integer::sum);
                }
            }
            return encoder;
        }

        synchronized int close() {
            if (encoder != null && !encoder.isClosed()) {
                encoder.close();
                return 1;
            }
            return 0;
        }
    }

    private static final class Key {
        final String dir;
        final Boolean normalize;
        final Integer maxSequenceLength;

        Key(String dir, Boolean normalize, Integer maxSequenceLength) {
            this.dir = dir;
            this.normalize = normalize;
            this.maxSequenceLength = maxSequenceLength;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Key)) {
                return false;
            }
            Key other = (Key) o;
            return dir.equals(other.dir) && Objects.equals(normalize, other.normalize)
                    && Objects.equals(maxSequenceLength, other.maxSequenceLength);
        }

        @Override
        public int hashCode() {
            return Objects.hash(dir, normalize, maxSequenceLength);
        }
    }
}
