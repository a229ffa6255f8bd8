package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/**
 * Qwen3-Embedding and EmbeddingGemma from Java, on their small random-weight stand-ins
 * (tests/reference/make_decoder_fixtures.py, saved by sentence-transformers 6.2's own {@code save()}):
 * every case of their reference files against sentence-transformers' vectors and token facts: texts one
 * at a time and as a batch of mixed lengths, the query and document prompts, truncateDim, special tokens
 * typed in the text. Run under each forced CPU path by {@code gradle cpuPathTests}.
 */
public class DecodersTest {
    private static final float TOL = 1e-5f;
    private static final List<String> MODELS = Arrays.asList("qwen3-lasttoken-st6", "gemma3-mean-dense-st6");

    private static SentenceEncoder open(String name, Fixtures.Case c) {
        SentenceEncoder.Builder builder = SentenceEncoder.builder(ArchitecturesTest.model(name));
        if (c.options != null && c.options.truncate_dim != null) {
            builder.truncateDim(c.options.truncate_dim);
        }
        return builder.open();
    }

    private static Prompt prompt(Fixtures.Case c) {
        if (c.options == null) {
            return null;
        }
        if (c.options.prompt != null) {
            return Prompt.literal(c.options.prompt);
        }
        return c.options.prompt_name == null ? null : Prompt.named(c.options.prompt_name);
    }

    @Test
    public void everyCaseMatchesSentenceTransformers() throws Exception {
        for (String name : MODELS) {
            Fixtures.Reference ref = Fixtures.reference(name + ".reference.json");
            assertEquals(name, 6, ref.cases.size());
            for (Fixtures.Case c : ref.cases) {
                Prompt prompt = prompt(c);
                try (SentenceEncoder enc = open(name, c)) {
                    assertEquals(name, (int) ref.max_seq_length, enc.maxSequenceLength());
                    assertEquals(name, c.vectors.get(0).length, enc.dimension());
                    List<Encoding> batch = enc.encodeBatchWithInfo(c.texts, prompt);
                    for (int i = 0; i < c.texts.size(); i++) {
                        String text = c.texts.get(i);
                        String what = name + " / " + c.name + " / text " + i;
                        Encoding single = enc.encodeWithInfo(text, prompt);
                        Fixtures.assertClose(single.vector(), c.vectors.get(i), TOL, what);
                        Fixtures.assertClose(batch.get(i).vector(), c.vectors.get(i), TOL, what + " (batch)");
                        assertEquals(what + ": tokens", (int) c.tokens.get(i), single.tokens());
                        assertEquals(what + ": truncated", c.truncated.get(i), single.truncated());
                        int count = prompt == null ? enc.countTokens(text) : enc.countTokens(text, prompt);
                        assertEquals(what + ": countTokens", (int) c.token_counts.get(i), count);
                    }
                }
            }
        }
    }

    @Test
    public void theRealModelsPromptsAreListed() {
        try (SentenceEncoder enc = SentenceEncoder.open(ArchitecturesTest.model("qwen3-lasttoken-st6"))) {
            assertTrue(enc.prompts().get("query").startsWith("Instruct: "));
            assertTrue(enc.prompts().get("query").endsWith("\nQuery:"));
            assertEquals("", enc.prompts().get("document"));
        }
        try (SentenceEncoder enc = SentenceEncoder.open(ArchitecturesTest.model("gemma3-mean-dense-st6"))) {
            assertEquals("task: search result | query: ", enc.prompts().get("query"));
            assertEquals("title: none | text: ", enc.prompts().get("document"));
        }
    }
}
