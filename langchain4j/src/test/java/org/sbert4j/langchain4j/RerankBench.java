package org.sbert4j.langchain4j;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.scoring.ScoringModel;
import dev.langchain4j.model.scoring.onnx.OnnxScoringModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reranking one query against 32 documents in one JVM, through LangChain4j's {@link ScoringModel}:
 * {@link Sbert4jScoringModel} against LangChain4j's in-process {@link OnnxScoringModel} (ONNX Runtime, DJL's
 * tokenizer) on the same weights exported to ONNX (bench/rerank_peers.py). The jobs are
 * bench/rust/rerank_speed.rs's: query = a corpus line, documents = the next 32. Repetitions go round the systems
 * in turn. Writes JSON (mean and median milliseconds per rerank per rep). {@code gradle
 * :sbert4j-langchain4j:rerankBench -PrerankModel=DIR -PrerankOnnx=FILE}, or bench/run.sh's phase {@code rerank}. Not part of
 * the tests.
 */
public final class RerankBench {
    private RerankBench() {}

    private static final int DOCS = 32;

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path model = Paths.get(opt.get("model"));
        String onnx = opt.get("onnx");
        List<String> lines = Files.readAllLines(Paths.get(opt.getOrDefault("corpus", "bench/sentences.txt")),
                StandardCharsets.UTF_8).stream().filter(l -> !l.isEmpty()).collect(Collectors.toList());
        int queries = Integer.parseInt(opt.getOrDefault("queries", "100"));
        int reps = Integer.parseInt(opt.getOrDefault("reps", "3"));
        List<String> jobQueries = new ArrayList<>();
        List<List<TextSegment>> jobDocs = new ArrayList<>();
        for (int q = 0; q < queries; q++) {
            int start = (q * (DOCS + 1)) % (lines.size() - DOCS);
            jobQueries.add(lines.get(start));
            jobDocs.add(lines.subList(start + 1, start + 1 + DOCS).stream().map(TextSegment::from)
                    .collect(Collectors.toList()));
        }
        Map<String, ScoringModel> systems = new LinkedHashMap<>();
        Sbert4jScoringModel sbert4j = Sbert4jScoringModel.open(model);
        systems.put("sbert4j (LangChain4j ScoringModel)", sbert4j);
        int maxLength = sbert4j.crossEncoder().maxLength();
        systems.put("LangChain4j OnnxScoringModel", new OnnxScoringModel(onnx, new ai.onnxruntime.OrtSession.SessionOptions(),
                model.resolve("tokenizer.json").toString(), maxLength, true));

        // Same scores (the ONNX file is the same model).
        double[] a = scores(systems.get("sbert4j (LangChain4j ScoringModel)"), jobDocs.get(0), jobQueries.get(0));
        double[] b = scores(systems.get("LangChain4j OnnxScoringModel"), jobDocs.get(0), jobQueries.get(0));
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        }
        log("max |score difference| sbert4j vs OnnxScoringModel: %.2e", maxDiff);

        Map<String, double[][]> results = new LinkedHashMap<>();
        for (Map.Entry<String, ScoringModel> s : systems.entrySet()) {
            log("warm-up: %s", s.getKey());
            run(s.getValue(), jobQueries, jobDocs);
            results.put(s.getKey(), new double[2][reps]);
        }
        for (int rep = 0; rep < reps; rep++) {
            for (Map.Entry<String, ScoringModel> s : systems.entrySet()) {
                double[] ms = run(s.getValue(), jobQueries, jobDocs);
                results.get(s.getKey())[0][rep] = Arrays.stream(ms).average().orElse(0);
                Arrays.sort(ms);
                results.get(s.getKey())[1][rep] = ms[ms.length / 2];
                log("rep %d %s: mean %.2f ms per rerank", rep, s.getKey(), results.get(s.getKey())[0][rep]);
            }
        }
        StringBuilder json = new StringBuilder("{\"queries\": " + queries + ", \"documents\": " + DOCS
                + ", \"reps\": " + reps + ", \"max_score_diff\": " + maxDiff + ", \"systems\": {");
        String sep = "";
        for (Map.Entry<String, double[][]> r : results.entrySet()) {
            double best = Arrays.stream(r.getValue()[0]).min().orElse(0);
            json.append(sep).append('"').append(r.getKey()).append("\": {\"mean_ms\": ")
                    .append(Arrays.toString(r.getValue()[0])).append(", \"p50_ms\": ")
                    .append(Arrays.toString(r.getValue()[1])).append(", \"pairs_per_s\": ")
                    .append(String.format("%.1f", DOCS * 1e3 / best)).append('}');
            sep = ", ";
        }
        json.append("}}");
        Files.write(Paths.get(opt.getOrDefault("out", "build/rerank.json")), json.toString().getBytes(StandardCharsets.UTF_8));
        System.out.println(json);
        sbert4j.close();
    }

    private static double[] scores(ScoringModel model, List<TextSegment> docs, String query) {
        return model.scoreAll(docs, query).content().stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] run(ScoringModel model, List<String> queries, List<List<TextSegment>> docs) {
        double[] ms = new double[queries.size()];
        for (int q = 0; q < queries.size(); q++) {
            long t = System.nanoTime();
            model.scoreAll(docs.get(q), queries.get(q));
            ms[q] = (System.nanoTime() - t) / 1e6;
        }
        return ms;
    }

    private static void log(String format, Object... args) {
        System.err.println(String.format(format, args));
    }
}
