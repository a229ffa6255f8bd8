package org.sbert4j.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.sbert4j.Precision;
import org.sbert4j.Prompt;
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
    /** Leases taken in this JVM (diagnostics: a task takes one, not one per row). */
    private static final java.util.concurrent.atomic.AtomicLong ACQUIRES = new java.util.concurrent.atomic.AtomicLong();
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
        return acquire(ModelLocation.of(options), options);
    }

    /** As {@link #acquire(EncoderOptions)}, with the model looked for where {@code location} says. */
    static Lease acquire(ModelLocation location, EncoderOptions options) {
        Key key = key(location, options);
        ACQUIRES.incrementAndGet();
        Entry entry;
        synchronized (ENTRIES) {
            installShutdownHook();
            entry = ENTRIES.computeIfAbsent(key, k -> new Entry());
            entry.leases++; // before loading, so closeIdle leaves the entry alone meanwhile
        }
        try {
            return new Lease(entry, entry.encoder(key, location, options));
        } catch (RuntimeException | Error e) {
            synchronized (ENTRIES) {
                entry.leases--;
            }
            throw e;
        }
    }

    /**
     * One encoder per model and options: the model is its absolute path, or
     * its SparkFiles name (a shipped model is one model in an application,
     * whichever of SparkFiles' places a task finds it in).
     */
    private static Key key(ModelLocation location, EncoderOptions options) {
        return new Key(location.key(), options.normalize(), options.maxSequenceLength(), threads(options), options.precision(),
                options.corePrompt(), options.truncateDim());
    }

    /**
     * The threads an encoder for {@code options} may keep busy: the option,
     * else the running task's CPUs ({@code spark.task.cpus}), else (outside
     * a task, on the driver) 0, the process's whole thread budget.
     */
    static int threads(EncoderOptions options) {
        if (options.threads() != null) {
            return options.threads();
        }
        TaskContext task = TaskContext.get();
        return task != null ? Math.max(1, task.cpus()) : 0;
    }

    /**
     * How many times this JVM has opened a model for {@code options} through
     * this class (1 after any number of tasks, unless it was closed in between).
     */
    public static int opens(EncoderOptions options) {
        String model = ModelLocation.of(options).key();
        int opens = 0;
        synchronized (ENTRIES) {
            for (Map.Entry<Key, Integer> e : OPENS_BY_KEY.entrySet()) {
                opens += e.getKey().isFor(model, options) ? e.getValue() : 0;
            }
        }
        return opens;
    }

    /** How many leases this JVM has taken so far (all models). */
    static long acquires() {
        return ACQUIRES.get();
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
     * Closes the encoders for {@code options} (one per task size, unless
     * {@code options} sets {@code threads}) that no task holds a lease on;
     * returns whether it closed any. This JVM only: on a cluster each executor keeps
     * its own until it ends.
     */
    public static boolean closeIdle(EncoderOptions options) {
        String model = ModelLocation.of(options).key();
        List<Entry> idle = new ArrayList<>();
        synchronized (ENTRIES) {
            for (Iterator<Map.Entry<Key, Entry>> it = ENTRIES.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Key, Entry> e = it.next();
                if (e.getKey().isFor(model, options) && e.getValue().leases == 0) {
                    idle.add(e.getValue());
                    it.remove();
                }
            }
        }
        int closed = 0;
        for (Entry entry : idle) {
            closed += entry.close();
        }
        return closed > 0;
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

    /**
     * The model directory {@code options} names, on this node (a shipped
     * model: where SparkFiles has it); a clear error if it is not there.
     */
    static Path resolve(EncoderOptions options) {
        return ModelLocation.of(options).resolve();
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
        synchronized SentenceEncoder encoder(Key key, ModelLocation location, EncoderOptions options) {
            if (encoder == null || encoder.isClosed()) {
                Path dir = location.resolve();
                SentenceEncoder.Builder builder = SentenceEncoder.builder(dir);
                if (options.normalize() != null) {
                    builder.normalize(options.normalize());
                }
                if (options.maxSequenceLength() != null) {
                    builder.maxSequenceLength(options.maxSequenceLength());
                }
                if (key.prompt != null) {
                    builder.defaultPrompt(key.prompt);
                }
                if (key.truncateDim != null) {
                    builder.truncateDim(key.truncateDim);
                }
                if (key.threads > 0) {
                    builder.threads(key.threads);
                }
                builder.precision(key.precision);
                // Tasks are Spark's unit of parallelism: each task's calls run
                // on its own threads. A micro-batch would put two tasks' texts
                // in one pass on one task's threads, leaving the other's idle.
                builder.microBatching(false);
                try {
                    encoder = builder.open();
                } catch (SentenceEncoderException e) {
                    throw new SentenceEncoderException("sbert4j: cannot load the model in " + dir + " on "
                            + ModelLocation.where() + ": " + e.getMessage(), e);
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
        final String model;
        final Boolean normalize;
        final Integer maxSequenceLength;
        /** Threads per pass; 0: the process's budget. */
        final int threads;
        /** The linear layers' number format (different weights, so a different encoder). */
        final Precision precision;
        /** The default prompt (null: the model's). */
        final Prompt prompt;
        /** truncate_dim (null: the model's dimension). */
        final Integer truncateDim;

        Key(String model, Boolean normalize, Integer maxSequenceLength, int threads, Precision precision, Prompt prompt,
                Integer truncateDim) {
            this.prompt = prompt;
            this.truncateDim = truncateDim;
            this.model = model;
            this.normalize = normalize;
            this.maxSequenceLength = maxSequenceLength;
            this.threads = threads;
            this.precision = precision;
        }

        /**
         * Whether this encoder serves {@code options} on {@code model}: with
         * their thread count, or any (tasks of different sizes) if unset.
         */
        boolean isFor(String model, EncoderOptions options) {
            return this.model.equals(model) && Objects.equals(normalize, options.normalize())
                    && Objects.equals(maxSequenceLength, options.maxSequenceLength())
                    && (options.threads() == null || threads == options.threads())
                    && precision == options.precision()
                    && Objects.equals(prompt, options.corePrompt())
                    && Objects.equals(truncateDim, options.truncateDim());
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Key)) {
                return false;
            }
            Key other = (Key) o;
            return model.equals(other.model) && Objects.equals(normalize, other.normalize)
                    && Objects.equals(maxSequenceLength, other.maxSequenceLength) && threads == other.threads
                    && precision == other.precision && Objects.equals(prompt, other.prompt)
                    && Objects.equals(truncateDim, other.truncateDim);
        }

        @Override
        public int hashCode() {
            return Objects.hash(model, normalize, maxSequenceLength, threads, precision, prompt, truncateDim);
        }
    }
}
