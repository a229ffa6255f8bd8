package example;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.sbert4j.CrossEncoder;
import org.sbert4j.Precision;
import org.sbert4j.RankedDocument;
import org.sbert4j.SparseEncoder;
import org.sbert4j.SparseVector;

/**
 * The Java snippets of docs/cross-encoder.md and docs/sparse-encoder.md,
 * compiled by gradle test (DocSnippetsTest checks that the pages show
 * exactly these regions).
 */
final class ModelKindSnippets {
    private ModelKindSnippets() {}

    static List<RankedDocument> rerank(String query, List<String> documents) {
        // snippet:start cross-encoder
        try (CrossEncoder reranker = CrossEncoder.open(Paths.get("models/ms-marco-MiniLM-L6-v2"))) {
            float s = reranker.score("How many people live in Berlin?", "Berlin has 3.5 million inhabitants.");
            float[] scores = reranker.score(query, documents);                 // one per document, in order
            List<RankedDocument> top = reranker.rank(query, documents, 5);    // index() and score(), best first
        }
        // snippet:end cross-encoder
        return null;
    }

    static void sparse() {
        // snippet:start sparse-encoder
        try (SparseEncoder splade = SparseEncoder.builder(Path.of("models/splade"))
                .maxActiveDims(256)          // optional: keep the 256 largest values
                .precision(Precision.FP32)   // BF16 / INT8: faster, close but not identical
                .open()) {
            SparseVector doc = splade.encode("The giant panda is a bear native to China.");
            List<SparseVector> docs = splade.encodeBatch(List.of("first text", "second text"));
            double score = doc.dot(docs.get(0));
            String token = splade.token(doc.indices()[0]);
            int vocabulary = splade.dimension();
        }
        // snippet:end sparse-encoder
    }
}
