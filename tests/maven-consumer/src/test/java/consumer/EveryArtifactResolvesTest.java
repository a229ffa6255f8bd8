package consumer;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import org.junit.Test;
import org.sbert4j.SentenceEncoder;
import org.springframework.ai.embedding.EmbeddingModel;

/**
 * Every published artifact resolved by Maven from its POM alone: the Spring
 * AI adapter compiles and embeds with no Spring declaration of its own here,
 * and the Spark and command-line jars are on the class path.
 */
public class EveryArtifactResolvesTest {
    @Test
    public void theSpringAiAdapterCompilesAndEmbedsFromItsPomAlone() {
        try (SentenceEncoder encoder = SentenceEncoder.open(MavenConsumerTest.MODEL)) {
            EmbeddingModel model = new org.sbert4j.springai.Sbert4jEmbeddingModel(encoder, "all-MiniLM-L6-v2", false);
            assertEquals(encoder.dimension(), model.dimensions());
            assertArrayEquals(encoder.encode("resolved"), model.embed("resolved"), 0f);
        }
    }

    @Test
    public void theSparkAndCommandLineJarsAreResolved() throws Exception {
        ClassLoader loader = getClass().getClassLoader();
        // Loaded, not initialised: Spark itself is the cluster's, not a dependency.
        Class.forName("org.sbert4j.spark.EncoderOptions", false, loader);
        Class.forName("org.sbert4j.cli.EncodeCommand", false, loader);
    }
}
