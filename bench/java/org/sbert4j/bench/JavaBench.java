package org.sbert4j.bench;

import java.io.DataOutputStream;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.sbert4j.Precision;
import org.sbert4j.SentenceEncoder;

/**
 * sbert4j's side of bench/run.sh: everything measured from Java, through
 * JNI, written as one JSON file that bench/report.py reads.
 *
 * <pre>
 * JavaBench perf --model DIR --corpus FILE --n N --reps R --out OUT.json --vectors OUT.f32
 * JavaBench rss  --model DIR --corpus FILE --n N --calls K --out OUT.json [--precision FP32|BF16|INT8] [--warmup W]
 * JavaBench callers --model DIR --corpus FILE --n N --reps R --out OUT.json [--precision P] [--callers 16] [--vectors OUT.f32]
 * </pre>
 *
 * perf: single-text encode latency (per call, first N texts, R passes after
 * a warm-up pass; per-text minimum kept for the JNI overhead estimate),
 * encodeBatch throughput at batch 1/8/32/128 (the N texts in corpus order,
 * cut into chunks of that size, encoder opened with that batchSize), 16 Java
 * threads each calling encode(String) one text at a time, and, when the
 * builder has {@code microBatching(boolean)}, encode(String) throughput at
 * 1/4/16/64 caller threads with it off and on. The vectors of the N texts
 * (encodeBatch, default options) go to OUT.f32 as little-endian float32 rows
 * for the agreement check.
 *
 * rss: resident set size (VmRSS) before loading, after opening, after the
 * first encode, after a warm-up pass (the first W of the N texts, default
 * all), then every K/10 of K single encodes (cycling through the N texts);
 * run in its own JVM so the other phases leave nothing behind.
 *
 * callers: one encoder as a user opens it (builder defaults: micro-batching
 * on, batch size 32; the given precision): single-text latency (as in perf,
 * one pass; the Rust core's own figures come from bench/rust/precision_speed.rs),
 * then R alternating pairs of (C caller threads each calling encode(String)
 * one text at a time over the N texts; encodeBatch of the N texts in chunks
 * of 32), so that a drift of the machine's speed meets both alike; each pair
 * gives a ratio callers/batch. The vectors of the N texts (encodeBatch) go to
 * OUT.f32 when given.
 */
public final class JavaBench {
    private static final int[] BATCH_SIZES = {1, 8, 32, 128};
    private static final int[] MICRO_BATCH_CALLERS = {1, 4, 16, 64};
    private static final int CONCURRENT_CALLERS = 16;

    private JavaBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: JavaBench perf|rss|callers --model DIR --corpus FILE ...");
        }
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path model = Paths.get(opt.getOrDefault("model", "models/all-MiniLM-L6-v2"));
        List<String> corpus = Files.readAllLines(Paths.get(opt.getOrDefault("corpus", "bench/sentences.txt")), StandardCharsets.UTF_8);
        int n = Math.min(corpus.size(), Integer.parseInt(opt.getOrDefault("n", "1000")));
        List<String> texts = new ArrayList<>(corpus.subList(0, n));
        Json out = new Json();
        out.put("java_version", System.getProperty("java.version"));
        out.put("texts", n);
        switch (args[0]) {
            case "perf":
                perf(model, texts, Integer.parseInt(opt.getOrDefault("reps", "5")), opt.get("vectors"), out);
                if (opt.containsKey("bridge-model")) {
                    bridge(Paths.get(opt.get("bridge-model")), texts, out);
                }
                break;
            case "rss":
                rss(model, precision(opt), texts, Long.parseLong(opt.getOrDefault("calls", "100000")),
                        Integer.parseInt(opt.getOrDefault("warmup", Integer.toString(n))), out);
                break;
            case "callers":
                callers(model, precision(opt), texts, Integer.parseInt(opt.getOrDefault("reps", "5")),
                        Integer.parseInt(opt.getOrDefault("callers", Integer.toString(CONCURRENT_CALLERS))), opt.get("vectors"), out);
                break;
            default:
                throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        Files.write(Paths.get(opt.getOrDefault("out", "java.json")), (out + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static Precision precision(Map<String, String> opt) {
        return Precision.valueOf(opt.getOrDefault("precision", "FP32").toUpperCase(Locale.ROOT));
    }

    // ---------------------------------------------------------------- perf

    private static void perf(Path model, List<String> texts, int reps, String vectorsFile, Json out) throws Exception {
        Method microBatching = microBatchingMethod();
        out.put("micro_batching_available", microBatching != null);
        out.put("reps", reps);
        try (SentenceEncoder enc = SentenceEncoder.open(model)) {
            out.put("dimension", enc.dimension());
            out.put("max_seq_length", enc.maxSequenceLength());
            for (String t : texts) {
                enc.encode(t); // warm-up
            }
            if (vectorsFile != null) {
                writeVectors(enc.encodeBatch(texts), vectorsFile);
            }
            log("single-text latency: %d texts x %d reps", texts.size(), reps);
            out.put("single", latency(enc, texts, reps));
            log("%d caller threads, encode(String)", CONCURRENT_CALLERS);
            out.put("threads16", concurrent(enc, texts, CONCURRENT_CALLERS, reps));
        }
        Json batch = new Json();
        for (int bs : BATCH_SIZES) {
            log("encodeBatch, batch %d", bs);
            try (SentenceEncoder enc = SentenceEncoder.builder(model).batchSize(bs).open()) {
                batch.put(Integer.toString(bs), batchThroughput(enc, texts, bs, reps));
            }
        }
        out.put("batch", batch);
        if (microBatching != null) {
            Json mb = new Json();
            for (boolean on : new boolean[] {false, true}) {
                SentenceEncoder.Builder b = SentenceEncoder.builder(model);
                microBatching.invoke(b, on);
                try (SentenceEncoder enc = b.open()) {
                    for (String t : texts) {
                        enc.encode(t);
                    }
                    Json byCallers = new Json();
                    for (int callers : MICRO_BATCH_CALLERS) {
                        log("micro-batching %s, %d caller threads", on ? "on" : "off", callers);
                        long[] before = queueStats(enc);
                        Json run = concurrent(enc, texts, callers, on ? 1 : reps);
                        long[] after = queueStats(enc);
                        if (on && before != null && after != null && after[0] > before[0]) {
                            // The queue against encodeBatch at the batch size it formed in a
                            // first repetition; then the two alternate, repetition by
                            // repetition, so that a drift of the machine's speed meets both
                            // alike, and each pair gives a ratio.
                            double mean = (double) (after[1] - before[1]) / (after[0] - before[0]);
                            int bs = (int) Math.max(1, Math.round(mean));
                            log("then alternating with encodeBatch at the queue's batch size %d (mean %.2f texts a pass)", bs, mean);
                            double[] queue = new double[reps], plainRate = new double[reps], ratio = new double[reps];
                            try (SentenceEncoder plain = SentenceEncoder.builder(model).batchSize(bs).open()) {
                                batchThroughput(plain, texts, bs, 1); // warm-up
                                before = queueStats(enc);
                                for (int r = 0; r < reps; r++) {
                                    queue[r] = ((double[]) concurrent(enc, texts, callers, 1, false).get("sent_per_s"))[0];
                                    plainRate[r] = ((double[]) batchThroughput(plain, texts, bs, 1).get("sent_per_s"))[0];
                                    ratio[r] = queue[r] / plainRate[r];
                                }
                                after = queueStats(enc);
                            }
                            run = new Json();
                            run.put("callers", callers);
                            run.put("sent_per_s", queue);
                            run.put("first_rep_mean_texts_per_pass", mean);
                            run.put("mean_texts_per_pass", (double) (after[1] - before[1]) / (after[0] - before[0]));
                            run.put("encode_batch_at_mean", new Json().put("sent_per_s", plainRate));
                            run.put("queue_over_batch", ratio);
                            run.put("encode_batch_size", bs);
                        }
                        byCallers.put(Integer.toString(callers), run);
                    }
                    byCallers.put("single", latency(enc, texts, reps));
                    mb.put(on ? "on" : "off", byCallers);
                }
            }
            out.put("micro_batching", mb);
        }
    }

    /** {passes, texts} of the micro-batching queue, when this sbert4j reports them and it is on; else null. */
    private static long[] queueStats(SentenceEncoder enc) {
        try {
            Object stats = ((java.util.Optional<?>) SentenceEncoder.class.getMethod("microBatchingStats").invoke(enc)).orElse(null);
            if (stats == null) {
                return null;
            }
            return new long[] {(Long) stats.getClass().getMethod("passes").invoke(stats),
                    (Long) stats.getClass().getMethod("texts").invoke(stats)};
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** Builder.microBatching(boolean) when this sbert4j has it (looked up so this compiles either way). */
    private static Method microBatchingMethod() {
        try {
            return SentenceEncoder.Builder.class.getMethod("microBatching", boolean.class);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    /**
     * The bridge's own cost, apart from the caches a full model's pass sweeps: the same per-call
     * measurement as {@link #latency} with a tiny model (a test fixture of a few hundred KB), whose pass
     * leaves the JVM's and the bridge's code and data in cache.
     */
    private static void bridge(Path tinyModel, List<String> texts, Json out) {
        try (SentenceEncoder enc = SentenceEncoder.open(tinyModel)) {
            for (String t : texts) {
                enc.encode(t); // warm-up
            }
            log("bridge cost with a tiny model (%s): %d texts x 5 reps", tinyModel.getFileName(), texts.size());
            Json j = latency(enc, texts, 5);
            j.put("model", tinyModel.getFileName().toString());
            out.put("bridge_tiny_model", j);
        }
    }

    /** Each text encoded alone, in order, reps times; per-rep percentiles and per-text minimum. */
    private static Json latency(SentenceEncoder enc, List<String> texts, int reps) {
        double[] minUs = new double[texts.size()];
        Arrays.fill(minUs, Double.POSITIVE_INFINITY);
        double[] p50 = new double[reps], p90 = new double[reps], p99 = new double[reps], mean = new double[reps];
        // Per call: Java-side time minus the Rust core's own time in that same call.
        double[] bridgeUs = new double[texts.size() * reps];
        long checksum = 0;
        for (int r = 0; r < reps; r++) {
            double[] us = new double[texts.size()];
            for (int i = 0; i < texts.size(); i++) {
                long t0 = System.nanoTime();
                float[] v = enc.encode(texts.get(i));
                us[i] = (System.nanoTime() - t0) / 1e3;
                bridgeUs[r * texts.size() + i] = us[i] - SentenceEncoder.lastEncodeCoreNanos() / 1e3;
                checksum += Float.floatToRawIntBits(v[0]);
                minUs[i] = Math.min(minUs[i], us[i]);
            }
            mean[r] = Arrays.stream(us).average().orElse(0);
            Arrays.sort(us);
            p50[r] = percentile(us, 0.50);
            p90[r] = percentile(us, 0.90);
            p99[r] = percentile(us, 0.99);
        }
        Json j = new Json();
        j.put("p50_us", p50);
        j.put("p90_us", p90);
        j.put("p99_us", p99);
        j.put("mean_us", mean);
        j.put("min_us_per_text", minUs);
        double bridgeMean = Arrays.stream(bridgeUs).average().orElse(0);
        Arrays.sort(bridgeUs);
        j.put("bridge_us", new double[] {percentile(bridgeUs, 0.50), bridgeMean, percentile(bridgeUs, 0.10), percentile(bridgeUs, 0.90)});
        j.put("checksum", checksum);
        return j;
    }

    /** The texts in corpus order, in chunks of bs, one encodeBatch per chunk; sentences per second per rep. */
    private static Json batchThroughput(SentenceEncoder enc, List<String> texts, int bs, int reps) {
        List<List<String>> chunks = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += bs) {
            chunks.add(texts.subList(i, Math.min(texts.size(), i + bs)));
        }
        for (int i = 0; i < Math.min(chunks.size(), Math.max(2, 64 / bs)); i++) {
            enc.encodeBatch(chunks.get(i)); // warm-up
        }
        double[] rate = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            for (List<String> chunk : chunks) {
                enc.encodeBatch(chunk);
            }
            rate[r] = texts.size() / ((System.nanoTime() - t0) / 1e9);
        }
        Json j = new Json();
        j.put("sent_per_s", rate);
        return j;
    }

    /**
     * callers threads share one encoder, each calling encode(String) one text
     * at a time, taking the next text (cycling through the corpus) until
     * calls texts are done; per rep: texts per second and per-call latency.
     */
    private static Json concurrent(SentenceEncoder enc, List<String> texts, int callers, int reps) throws InterruptedException {
        return concurrent(enc, texts, callers, reps, true);
    }

    private static Json concurrent(SentenceEncoder enc, List<String> texts, int callers, int reps, boolean warmUp)
            throws InterruptedException {
        int calls = Math.max(texts.size(), callers * 16);
        if (warmUp) {
            runCallers(enc, texts, callers, Math.max(callers * 4, calls / 10));
        }
        double[] rate = new double[reps], p50 = new double[reps], p90 = new double[reps];
        for (int r = 0; r < reps; r++) {
            double[] us = new double[calls];
            long t0 = System.nanoTime();
            runCallers(enc, texts, callers, calls, us);
            rate[r] = calls / ((System.nanoTime() - t0) / 1e9);
            Arrays.sort(us);
            p50[r] = percentile(us, 0.50);
            p90[r] = percentile(us, 0.90);
        }
        Json j = new Json();
        j.put("callers", callers);
        j.put("calls_per_rep", calls);
        j.put("sent_per_s", rate);
        j.put("p50_us", p50);
        j.put("p90_us", p90);
        return j;
    }

    private static void runCallers(SentenceEncoder enc, List<String> texts, int callers, int calls) throws InterruptedException {
        runCallers(enc, texts, callers, calls, new double[calls]);
    }

    private static void runCallers(SentenceEncoder enc, List<String> texts, int callers, int calls, double[] us)
            throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        Throwable[] failure = new Throwable[1];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    for (int i; (i = next.getAndIncrement()) < calls; ) {
                        long t0 = System.nanoTime();
                        enc.encode(texts.get(i % texts.size()));
                        us[i] = (System.nanoTime() - t0) / 1e3;
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            }, "bench-caller-" + c);
            t.start();
            threads.add(t);
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure[0] != null) {
            throw new IllegalStateException("a caller thread failed", failure[0]);
        }
    }

    // ------------------------------------------------------------- callers

    private static void callers(Path model, Precision precision, List<String> texts, int reps, int callers,
            String vectorsFile, Json out) throws InterruptedException, IOException {
        out.put("precision", precision.name());
        out.put("reps", reps);
        try (SentenceEncoder enc = SentenceEncoder.builder(model).precision(precision).open()) {
            out.put("dimension", enc.dimension());
            out.put("micro_batching", queueStats(enc) != null);
            for (String t : texts) {
                enc.encode(t); // warm-up
            }
            if (vectorsFile != null) {
                writeVectors(enc.encodeBatch(texts), vectorsFile);
            }
            log("%s: single-text latency, %d texts x 1 rep", precision, texts.size());
            out.put("single", latency(enc, texts, 1));
            log("%s: %d caller threads encode(String) alternating with encodeBatch(32), %d pairs", precision, callers, reps);
            runCallers(enc, texts, callers, Math.max(callers * 4, texts.size() / 10)); // warm-up
            batchThroughput(enc, texts, 32, 1);
            double[] queue = new double[reps], batch = new double[reps], ratio = new double[reps], p50 = new double[reps];
            long[] before = queueStats(enc);
            for (int r = 0; r < reps; r++) {
                Json run = concurrent(enc, texts, callers, 1, false);
                queue[r] = ((double[]) run.get("sent_per_s"))[0];
                p50[r] = ((double[]) run.get("p50_us"))[0];
                batch[r] = ((double[]) batchThroughput(enc, texts, 32, 1).get("sent_per_s"))[0];
                ratio[r] = queue[r] / batch[r];
            }
            long[] after = queueStats(enc);
            Json c = new Json();
            c.put("callers", callers);
            c.put("sent_per_s", queue);
            c.put("p50_us", p50);
            if (before != null && after != null && after[0] > before[0]) {
                c.put("mean_texts_per_pass", (double) (after[1] - before[1]) / (after[0] - before[0]));
            }
            out.put("callers", c);
            out.put("batch32", new Json().put("sent_per_s", batch));
            out.put("callers_over_batch32", ratio);
        }
    }

    // ----------------------------------------------------------------- rss

    private static void rss(Path model, Precision precision, List<String> texts, long calls, int warmup, Json out) {
        out.put("precision", precision.name());
        out.put("weights_bytes", weightsBytes(model));
        out.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        out.put("rss_before_load_kib", rssKiB());
        try (SentenceEncoder enc = SentenceEncoder.builder(model).precision(precision).open()) {
            out.put("rss_after_open_kib", rssKiB());
            enc.encode(texts.get(0));
            out.put("rss_after_first_encode_kib", rssKiB());
            for (String t : texts.subList(0, Math.min(Math.max(warmup, 0), texts.size()))) {
                enc.encode(t);
            }
            long afterWarmup = rssKiB();
            out.put("rss_after_warmup_kib", afterWarmup);
            log("RSS: %d single encodes", calls);
            long step = Math.max(1, calls / 10);
            List<Long> samples = new ArrayList<>();
            long checksum = 0;
            long t0 = System.nanoTime();
            for (long i = 1; i <= calls; i++) {
                checksum += Float.floatToRawIntBits(enc.encode(texts.get((int) (i % texts.size())))[0]);
                if (i % step == 0 || i == calls) {
                    samples.add(rssKiB());
                }
            }
            out.put("calls", calls);
            out.put("calls_per_s", calls / ((System.nanoTime() - t0) / 1e9));
            out.put("rss_samples_kib", samples.stream().mapToDouble(Long::doubleValue).toArray());
            out.put("rss_after_calls_kib", samples.get(samples.size() - 1));
            out.put("checksum", checksum);
        }
    }

    private static long weightsBytes(Path model) {
        try {
            return Files.size(model.resolve("model.safetensors"));
        } catch (IOException e) {
            return -1;
        }
    }

    private static long rssKiB() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux
        }
        return -1;
    }

    // ------------------------------------------------------------- helpers

    private static double percentile(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }

    private static void writeVectors(float[][] vectors, String file) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(vectors.length * vectors[0].length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] v : vectors) {
            for (float x : v) {
                buf.putFloat(x);
            }
        }
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(file)))) {
            o.write(buf.array());
        }
    }

    private static void log(String format, Object... args) {
        System.err.printf("  java: " + format + "%n", args);
    }

    /** Just enough JSON for numbers, booleans, strings, arrays of doubles and nested objects. */
    private static final class Json {
        private final Map<String, Object> fields = new LinkedHashMap<>();

        Json put(String key, Object value) {
            fields.put(key, value);
            return this;
        }

        Object get(String key) {
            return fields.get(key);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("{");
            for (Map.Entry<String, Object> e : fields.entrySet()) {
                if (sb.length() > 1) {
                    sb.append(", ");
                }
                sb.append(quote(e.getKey())).append(": ").append(value(e.getValue()));
            }
            return sb.append('}').toString();
        }

        private static String value(Object v) {
            if (v instanceof double[]) {
                StringBuilder sb = new StringBuilder("[");
                for (double d : (double[]) v) {
                    sb.append(sb.length() > 1 ? ", " : "").append(number(d));
                }
                return sb.append(']').toString();
            }
            if (v instanceof Double || v instanceof Float) {
                return number(((Number) v).doubleValue());
            }
            if (v instanceof Number || v instanceof Boolean || v instanceof Json) {
                return v.toString();
            }
            return quote(String.valueOf(v));
        }

        private static String number(double d) {
            return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "null";
        }

        private static String quote(String s) {
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
    }
}
