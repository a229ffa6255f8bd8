package example;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import org.sbert4j.langchain4j.Sbert4jEmbeddingModel;

/** The README's LangChain4j example (compiled and run by the tests). */
public class LangChain4jExample {
    public static void main(String[] args) {
        System.out.println(nearest(Paths.get(args[0]), "How do I bake bread?"));
    }

    static String nearest(Path modelDir, String question) {
        try (Sbert4jEmbeddingModel sbert4j = Sbert4jEmbeddingModel.open(modelDir)) {
            EmbeddingModel model = sbert4j; // where AllMiniLmL6V2EmbeddingModel was
            List<TextSegment> documents = List.of(
                    TextSegment.from("Knead the dough for ten minutes, then let it rise."),
                    TextSegment.from("The central bank raised interest rates."),
                    TextSegment.from("The striker scored twice in the second half."));
            InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            store.addAll(model.embedAll(documents).content(), documents); // one native call for the list
            List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(model.embed(question).content())
                    .maxResults(1)
                    .build()).matches();
            return matches.get(0).embedded().text();
        }
    }
}
