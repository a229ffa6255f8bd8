package example;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

import org.junit.Test;
import org.sbert4j.Prompt;
import org.sbert4j.SentenceEncoder;

/** The docs' Java API snippets do what the pages say, on the default model. */
public class JavaApiSnippetsTest {
    private static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model", "models/all-MiniLM-L6-v2"));

    @Test
    public void theOptionsSnippetOpensAnEncoderWithThoseOptions() {
        try (SentenceEncoder encoder = JavaApiSnippets.options(MODEL)) {
            assertEquals(256, encoder.dimension());
            assertEquals(128, encoder.maxSequenceLength());
            assertEquals(false, encoder.normalizes());
            try (SentenceEncoder plain = SentenceEncoder.builder(MODEL).normalize(false).open()) {
                float[] full = plain.encode("The quick brown fox");
                assertArrayEquals(Arrays.copyOf(full, 256), encoder.encode("The quick brown fox"), 1e-6f);
            }
        }
    }

    @Test
    public void theTokenFactsSnippetReadsOneTokenization() {
        try (SentenceEncoder encoder = SentenceEncoder.open(MODEL)) {
            List<String> texts = Arrays.asList("The quick brown fox", "jumps");
            int sum = JavaApiSnippets.tokenFacts(encoder, texts);
            // 384 floats + 6 tokens ([CLS] the quick brown fox [SEP]) counted twice, not truncated
            assertEquals(384 + 6 + 6, sum);
        }
    }

    @Test
    public void thePromptsSnippetPrependsThePrompts() {
        // A fixture saved by sentence-transformers 6.2 with prompts {"query": "query: ", "passage": "passage: ", ...}
        Path dir = Paths.get(System.getProperty("sbert4j.test.fixtures", "tests/fixtures"), "models", "prompts-st6");
        try (SentenceEncoder encoder = SentenceEncoder.open(dir)) {
            float[][] out = JavaApiSnippets.prompts(encoder, Arrays.asList("a parcel"));
            // its default_prompt_name is "query"; Prompt.literal gives what the named prompt of that text gives
            assertArrayEquals(encoder.encode("how do I return a parcel?"), out[0], 1e-6f);
            assertArrayEquals(encoder.encode("a parcel", Prompt.named("passage")), out[1], 1e-6f);
            assertEquals("query: ", encoder.prompts().get("query"));
            assertEquals(encoder.prompts().size(), out[3].length);
        }
    }
}
