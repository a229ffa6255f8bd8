package example;

import java.nio.file.Paths;
import java.util.List;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import org.sbert4j.langchain4j.Sbert4jEmbeddingModel;

/**
 * The LangChain4j snippet of the README, compiled by gradle test
 * (DocSnippetsTest checks that the README shows exactly this region;
 * LangChain4jExample is the complete program the adapters page shows).
 */
final class LangChain4jSnippets {
    private LangChain4jSnippets() {}

    static void readme(List<TextSegment> segments) {
        // snippet:start readme
        try (Sbert4jEmbeddingModel sbert4j = Sbert4jEmbeddingModel.open(Paths.get("models/all-MiniLM-L6-v2"))) {
            EmbeddingModel model = sbert4j;                               // where AllMiniLmL6V2EmbeddingModel was
            List<Embedding> vectors = model.embedAll(segments).content(); // one native call for the list
            Embedding question = model.embed("How do I bake bread?").content();
        }
        // snippet:end readme
    }
}
