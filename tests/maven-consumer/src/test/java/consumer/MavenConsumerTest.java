package consumer;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.CosineSimilarity;
import org.junit.Test;
import org.sbert4j.SentenceEncoder;
import org.sbert4j.langchain4j.Sbert4jEmbeddingModel;

/**
 * Compiles against the core's and the LangChain4j adapter's public API, with
 * only sbert4j-langchain4j declared: the core must come with it at compile
 * scope. The native library must come out of the published jar.
 */
public class MavenConsumerTest {
    static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model"));
    private static final List<String> TEXTS = List.of(
            "A man is eating food.", "A man is eating a piece of bread.", "The stock market crashed today.");

    @Test
    public void embedsThroughLangChain4jAsTheCoreDoes() {
        try (Sbert4jEmbeddingModel adapter = Sbert4jEmbeddingModel.open(MODEL);
             SentenceEncoder encoder = SentenceEncoder.open(MODEL)) {
            EmbeddingModel model = adapter;
            List<TextSegment> segments = TEXTS.stream().map(TextSegment::from).collect(Collectors.toList());
            List<Embedding> embeddings = model.embedAll(segments).content();
            assertEquals(TEXTS.size(), embeddings.size());
            assertEquals(encoder.dimension(), model.dimension());
            for (int i = 0; i < TEXTS.size(); i++) {
                assertArrayEquals(encoder.encode(TEXTS.get(i)), embeddings.get(i).vector(), 1e-6f);
            }
            double close = CosineSimilarity.between(embeddings.get(0), embeddings.get(1));
            double far = CosineSimilarity.between(embeddings.get(0), embeddings.get(2));
            assertTrue(close + " vs " + far, close > far + 0.3);
        }
    }
}
