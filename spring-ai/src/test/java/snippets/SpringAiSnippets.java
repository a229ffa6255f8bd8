package snippets;

import java.util.List;

import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.stereotype.Service;

/**
 * The Spring AI snippet of the README, compiled by gradle test
 * (DocSnippetsTest checks that the README shows exactly this region;
 * SpringAiExample is the complete application the adapters page shows).
 * Outside the package `example` so that SpringAiExample's component scan
 * does not pick this service up.
 */
final class SpringAiSnippets {
    private SpringAiSnippets() {}

    // snippet:start readme
    @Service
    static class Search {
        private final EmbeddingModel embeddings;   // sbert4j's, from sbert4j.model-dir

        Search(EmbeddingModel embeddings) {
            this.embeddings = embeddings;
        }

        List<float[]> vectors(List<String> texts) {
            return embeddings.embed(texts);        // one encodeBatch for the list
        }
    }
    // snippet:end readme
}
