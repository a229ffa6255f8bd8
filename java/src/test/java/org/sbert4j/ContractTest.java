package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/**
 * The sentence-transformers 6 contract from Java, on the directories saved by sentence-transformers 6's own
 * {@code save()} (tests/reference/make_st6_fixtures.py): vectors, prompts, truncateDim and the token facts
 * of every text against sentence-transformers and the {@code tokenizers} library.
 */
public class ContractTest {
    private static final float TOL = 1e-5f;
    private static final List<String> MODELS = Arrays.asList("seed-standin-st6", "xlm-roberta-cls-st6",
            "distilbert-max-st6", "bert-pytorch-bin-st6", "bert-mean-sqrt-len-st6", "roberta-bpe-st6",
            "metaspace-lower-st6", "prompts-st6", "mpnet-mean-st6", "distilbert-dense-tanh-st6",
            "bert-dense-normalize-st6");

    private static SentenceEncoder open(String name, Fixtures.Case c) {
        SentenceEncoder.Builder builder = SentenceEncoder.builder(ArchitecturesTest.model(name));
        if (c.options != null && c.options.truncate_dim != null) {
            builder.truncateDim(c.options.truncate_dim);
        }
        if (c.options != null && Boolean.TRUE.equals(c.options.normalize_embeddings)) {
            builder.normalize(true);
        }
        return builder.open();
    }

    /** The case's prompt, or null for the encoder's default. */
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
                        float[] plain = prompt == null ? enc.encode(text) : enc.encode(text, prompt);
                        assertTrue(what + ": encode vs encodeWithInfo", Fixtures.maxAbsDiff(plain, single.vector()) == 0f);
                        assertEquals(what + ": tokens", (int) c.tokens.get(i), single.tokens());
                        assertEquals(what + ": truncated", c.truncated.get(i), single.truncated());
                        assertEquals(what + ": batch tokens", (int) c.tokens.get(i), batch.get(i).tokens());
                        assertEquals(what + ": batch truncated", c.truncated.get(i), batch.get(i).truncated());
                        int count = prompt == null ? enc.countTokens(text) : enc.countTokens(text, prompt);
                        assertEquals(what + ": countTokens", (int) c.token_counts.get(i), count);
                    }
                }
            }
        }
    }

    @Test
    public void promptsAreListedAndUnknownNamesListTheKnownOnes() {
        Path dir = ArchitecturesTest.model("prompts-st6");
        try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
            assertEquals("query: ", enc.defaultPrompt());
            assertEquals("passage: ", enc.prompts().get("passage"));
            // sentence-transformers 6 adds empty "query" and "document" prompts of its own; ours override "query".
            assertEquals(Arrays.asList("document", "empty", "passage", "query"), new java.util.ArrayList<>(enc.prompts().keySet()));
            try {
                enc.encode("x", Prompt.named("summary"));
                fail("an unknown prompt name was accepted");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("summary") && e.getMessage().contains("passage"));
            }
            // Prompt.none() and the empty named prompt both mean no prompt.
            assertEquals(0f, Fixtures.maxAbsDiff(enc.encode("x", Prompt.none()), enc.encode("x", Prompt.named("empty"))), 0f);
            // A null Prompt means the default one, in every method that takes one.
            float[] byDefault = enc.encode("x");
            assertEquals(0f, Fixtures.maxAbsDiff(enc.encode("x", (Prompt) null), byDefault), 0f);
            assertEquals(0f, Fixtures.maxAbsDiff(enc.encodeBatch(Arrays.asList("x"), (Prompt) null)[0], byDefault), 0f);
            assertEquals(0f, Fixtures.maxAbsDiff(enc.encodeWithInfo("x", null).vector(), byDefault), 0f);
            assertEquals(enc.countTokens("x"), enc.countTokens("x", null));
            assertTrue(enc.countTokens("x", Prompt.none()) < enc.countTokens("x", null));
        }
        try (SentenceEncoder enc = SentenceEncoder.builder(dir).defaultPrompt(Prompt.named("passage")).open()) {
            assertEquals("passage: ", enc.defaultPrompt());
            assertEquals(0f, Fixtures.maxAbsDiff(enc.encode("x"), enc.encode("x", Prompt.literal("passage: "))), 0f);
        }
        try {
            SentenceEncoder.builder(dir).defaultPrompt(Prompt.named("nope")).open().close();
            fail("an unknown default prompt name was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("nope") && e.getMessage().contains("query"));
        }
    }

    @Test
    public void truncateDimIsCheckedAndReported() {
        Path dir = ArchitecturesTest.model("prompts-st6");
        try (SentenceEncoder enc = SentenceEncoder.builder(dir).truncateDim(24).open()) {
            assertEquals(24, enc.dimension());
            assertEquals("truncated after Normalize: not unit length", false, enc.normalizes());
        }
        try (SentenceEncoder enc = SentenceEncoder.builder(dir).truncateDim(24).normalize(true).open()) {
            assertEquals(true, enc.normalizes());
        }
        try {
            SentenceEncoder.builder(dir).truncateDim(0);
            fail("truncateDim(0) was accepted");
        } catch (IllegalArgumentException expected) {
            // checked by the builder
        }
        try {
            SentenceEncoder.builder(dir).truncateDim(161).open().close();
            fail("truncateDim above the dimension was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("161") && e.getMessage().contains("160"));
        }
    }
}
