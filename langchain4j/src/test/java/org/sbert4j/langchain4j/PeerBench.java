package org.sbert4j.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.sbert4j.Precision;

/**
 * sbert4j beside the in-process embedding models a LangChain4j user has today, all through LangChain4j's
 * {@link EmbeddingModel} in one JVM: {@link AllMiniLmL6V2EmbeddingModel} and its quantized sibling (ONNX
 * Runtime, with DJL's tokenizers) against {@link Sbert4jEmbeddingModel} on all-MiniLM-L6-v2, in FP32 and (against
 * the quantized sibling) INT8. Per system:
 * single-text latency ({@code embed}, each text alone, p50), {@code embedAll} of 32 segments (sentences/s),
 * and 16 threads calling {@code embed} (texts/s). Repetitions go round the systems in turn, so a drift of
 * the machine's speed meets all alike. Writes JSON for bench/report.py. {@code gradle
 * :sbert4j-langchain4j:peerBench}, or bench/run.sh's phase {@code peers}. Not part of the tests.
 */
public final class PeerBench {
    private PeerBench() {}

    private static final int BATCH = 32;
    private static final int CALLERS = 16;

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path model = Paths.get(opt.getOrDefault("model", "models/all-MiniLM-L6-v2"));
        List<String> corpus = Files.readAllLines(Paths.get(opt.getOrDefault("corpus", "bench/sentences.txt")),
                StandardCharsets.UTF_8).stream().filter(l -> !l.isEmpty()).collect(Collectors.toList());
        int n = Math.min(corpus.size(), Integer.parseInt(opt.getOrDefault("n", "1000")));
        int reps = Integer.parseInt(opt.getOrDefault("reps", "3"));
        List<String> texts = corpus.subList(0, n);

        Map<String, EmbeddingModel> systems = new LinkedHashMap<>();
        systems.put("sbert4j", Sbert4jEmbeddingModel.open(model));
        // Against the quantized sibling: sbert4j in INT8.
        systems.put("sbert4j int8", Sbert4jEmbeddingModel.builder(model).precision(Precision.INT8).build());
        systems.put("langchain4j AllMiniLmL6V2EmbeddingModel", new AllMiniLmL6V2EmbeddingModel());
        systems.put("langchain4j AllMiniLmL6V2QuantizedEmbeddingModel", new AllMiniLmL6V2QuantizedEmbeddingModel());

        Map<String, double[][]> results = new LinkedHashMap<>(); // per system: latency, batch, threads; per rep
        for (Map.Entry<String, EmbeddingModel> s : systems.entrySet()) {
            log("warm-up: %s", s.getKey());
            latencyP50(s.getValue(), texts.subList(0, Math.min(100, n)));
            batchRate(s.getValue(), texts.subList(0, Math.min(4 * BATCH, n)));
            callersRate(s.getValue(), texts.subList(0, Math.min(4 * CALLERS, n)));
            results.put(s.getKey(), new double[3][reps]);
        }
        for (int r = 0; r < reps; r++) {
            for (Map.Entry<String, EmbeddingModel> s : systems.entrySet()) {
                log("rep %d/%d: %s", r + 1, reps, s.getKey());
                double[][] m = results.get(s.getKey());
                m[0][r] = latencyP50(s.getValue(), texts);
                m[1][r] = batchRate(s.getValue(), texts);
                m[2][r] = callersRate(s.getValue(), texts);
            }
        }
        StringBuilder json = new StringBuilder("{\"texts\": " + n + ", \"reps\": " + reps + ", \"batch\": " + BATCH
                + ", \"callers\": " + CALLERS + ", \"systems\": {");
        String sep = "";
        for (Map.Entry<String, double[][]> e : results.entrySet()) {
            double[][] m = e.getValue();
            json.append(sep).append('"').append(e.getKey()).append("\": {\"latency_p50_us\": ").append(Arrays.toString(m[0]))
                    .append(", \"batch_sent_per_s\": ").append(Arrays.toString(m[1]))
                    .append(", \"callers_sent_per_s\": ").append(Arrays.toString(m[2])).append('}');
            sep = ", ";
        }
        json.append("}}\n");
        Files.write(Paths.get(opt.getOrDefault("out", "peers.json")), json.toString().getBytes(StandardCharsets.UTF_8));
        for (EmbeddingModel m : systems.values()) {
            if (m instanceof AutoCloseable) {
                ((AutoCloseable) m).close();
            }
        }
    }

    /** Each text embedded alone, in order: the median call time, in microseconds. */
    private static double latencyP50(EmbeddingModel model, List<String> texts) {
        double[] us = new double[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            long t0 = System.nanoTime();
            model.embed(texts.get(i));
            us[i] = (System.nanoTime() - t0) / 1e3;
        }
        Arrays.sort(us);
        return us[us.length / 2];
    }

    /** The texts in order, {@code embedAll} of 32 segments a call: sentences per second. */
    private static double batchRate(EmbeddingModel model, List<String> texts) {
        List<List<TextSegment>> chunks = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += BATCH) {
            chunks.add(texts.subList(i, Math.min(texts.size(), i + BATCH)).stream().map(TextSegment::from)
                    .collect(Collectors.toList()));
        }
        long t0 = System.nanoTime();
        for (List<TextSegment> chunk : chunks) {
            model.embedAll(chunk);
        }
        return texts.size() / ((System.nanoTime() - t0) / 1e9);
    }

    /** 16 threads calling {@code embed}, each taking the next text: texts per second. */
    private static double callersRate(EmbeddingModel model, List<String> texts) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        Throwable[] failure = new Throwable[1];
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < CALLERS; c++) {
            Thread t = new Thread(() -> {
                try {
                    for (int i; (i = next.getAndIncrement()) < texts.size(); ) {
                        model.embed(texts.get(i));
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure[0] != null) {
            throw new IllegalStateException("a caller thread failed", failure[0]);
        }
        return texts.size() / ((System.nanoTime() - t0) / 1e9);
    }

    private static void log(String format, Object... args) {
        System.err.printf("  peers: " + format + "%n", args);
    }
}
