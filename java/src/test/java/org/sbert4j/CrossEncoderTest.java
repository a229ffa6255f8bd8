package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.Test;

/**
 * {@link CrossEncoder} against sentence-transformers 6.2's {@code CrossEncoder.predict} and {@code rank} on the
 * random-weight fixtures of tests/reference/make_cross_fixtures.py: both saved formats, every architecture's head,
 * one and several labels, prompts, long documents (truncation) and literal special tokens, within 1e-5.
 */
public class CrossEncoderTest {
    private static final float TOL = 1e-5f;
    private static final String[] MODELS = {
        "ce-bert-st6", "ce-xlm-roberta-st6", "ce-distilbert-st6", "ce-mpnet-st6", "ce-roberta-st6",
        "ce-modernbert-st6", "ce-bert-legacy", "ce-xlm-roberta-legacy", "ce-distilbert-legacy",
    };

    static final class Reference {
        int num_labels;
        String activation_fn;
        int max_length;
        List<Case> cases;
        Rank rank;
    }

    static final class Case {
        String name;
        List<List<String>> pairs;
        List<float[]> scores;
        String prompt_name;
        String prompt;
    }

    static final class Rank {
        String query;
        List<String> documents;
        List<Ranked> ranked;
    }

    static final class Ranked {
        int corpus_id;
        float score;
    }

    static Path fixtures() {
        return Paths.get(System.getProperty("sbert4j.test.fixtures", "tests/fixtures"));
    }

    static Path model(String name) {
        return fixtures().resolve("models").resolve(name);
    }

    static Reference reference(String name) throws IOException {
        try (Reader r = Files.newBufferedReader(fixtures().resolve(name + ".reference.json"), StandardCharsets.UTF_8)) {
            return new Gson().fromJson(r, Reference.class);
        }
    }

    private static List<Map.Entry<String, String>> pairs(Case c) {
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        for (List<String> p : c.pairs) {
            pairs.add(Map.entry(p.get(0), p.get(1)));
        }
        return pairs;
    }

    private static Prompt prompt(Case c) {
        if (c.prompt != null) {
            return Prompt.literal(c.prompt);
        }
        return c.prompt_name != null ? Prompt.named(c.prompt_name) : null;
    }

    private static void assertClose(String what, float[] want, float[] got) {
        assertEquals(what, want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertTrue(what + " label " + i + ": " + got[i] + " vs " + want[i], Math.abs(got[i] - want[i]) <= TOL);
        }
    }

    @Test
    public void everyModelMatchesSentenceTransformers() throws IOException {
        for (String name : MODELS) {
            Reference ref = reference(name);
            try (CrossEncoder ce = CrossEncoder.open(model(name))) {
                assertEquals(name, ref.num_labels, ce.numLabels());
                assertEquals(name, ref.activation_fn, ce.activation());
                assertEquals(name, ref.max_length, ce.maxLength());
                for (Case c : ref.cases) {
                    float[][] got = ce.predict(pairs(c), prompt(c));
                    for (int i = 0; i < got.length; i++) {
                        assertClose(name + " " + c.name + " pair " + i, c.scores.get(i), got[i]);
                    }
                }
                // The per-query calls give the same numbers.
                Case c = ref.cases.get(0);
                String query = c.pairs.get(0).get(0);
                List<String> docs = new ArrayList<>();
                for (List<String> p : c.pairs) {
                    if (p.get(0).equals(query)) {
                        docs.add(p.get(1));
                    }
                }
                float[][] rows = ce.labelScores(query, docs);
                for (int i = 0; i < docs.size(); i++) {
                    assertClose(name + " labelScores " + i, c.scores.get(i), rows[i]);
                    assertClose(name + " labelScores one " + i, c.scores.get(i), ce.labelScores(query, docs.get(i)));
                }
                if (ref.num_labels == 1) {
                    float[] scores = ce.score(query, docs);
                    for (int i = 0; i < docs.size(); i++) {
                        assertClose(name + " score " + i, c.scores.get(i), new float[] {scores[i]});
                        assertClose(name + " score one " + i, c.scores.get(i), new float[] {ce.score(query, docs.get(i))});
                    }
                } else {
                    assertThrows(IllegalStateException.class, () -> ce.score(query, docs));
                    assertThrows(IllegalStateException.class, () -> ce.rank(query, docs, 3));
                }
            }
        }
    }

    @Test
    public void rankOrdersAsSentenceTransformers() throws IOException {
        for (String name : MODELS) {
            Reference ref = reference(name);
            if (ref.rank.ranked == null) {
                continue;
            }
            try (CrossEncoder ce = CrossEncoder.open(model(name))) {
                List<RankedDocument> all = ce.rank(ref.rank.query, ref.rank.documents);
                assertEquals(ref.rank.documents.size(), all.size());
                for (int i = 0; i < all.size(); i++) {
                    Ranked want = ref.rank.ranked.get(i);
                    RankedDocument got = all.get(i);
                    float wantAtGot = ref.rank.ranked.stream().filter(r -> r.corpus_id == got.index()).findFirst()
                            .get().score;
                    assertTrue(name + " rank " + i, Math.abs(got.score() - want.score) <= TOL);
                    assertTrue(name + " rank " + i + " index", got.index() == want.corpus_id
                            || Math.abs(wantAtGot - want.score) <= TOL);
                }
                assertEquals(all.subList(0, 3), ce.rank(ref.rank.query, ref.rank.documents, 3));
                assertEquals(0, ce.rank(ref.rank.query, ref.rank.documents, 0).size());
            }
        }
    }

    @Test
    public void builderOptionsWork() throws IOException {
        Reference ref = reference("ce-bert-st6");
        Case c = ref.cases.get(0);
        try (CrossEncoder raw = CrossEncoder.builder(model("ce-bert-st6")).activation("identity").batchSize(3)
                .microBatching(false).threads(1).open()) {
            assertEquals("Identity", raw.activation());
            assertEquals(1, raw.threads());
            float[][] logits = raw.predict(pairs(c));
            for (int i = 0; i < logits.length; i++) {
                float sigmoid = (float) (1 / (1 + Math.exp(-logits[i][0])));
                assertClose("sigmoid(logit) " + i, c.scores.get(i), new float[] {sigmoid});
            }
        }
        Case named = ref.cases.stream().filter(x -> "query".equals(x.prompt_name)).findFirst().get();
        try (CrossEncoder ce = CrossEncoder.builder(model("ce-bert-st6")).defaultPrompt(Prompt.named("query")).open()) {
            assertEquals("query: ", ce.defaultPrompt());
            assertEquals(Map.of("query", "query: ", "short", "Q "), ce.prompts());
            float[][] got = ce.predict(pairs(named));
            for (int i = 0; i < got.length; i++) {
                assertClose("default prompt " + i, named.scores.get(i), got[i]);
            }
            assertThrows(IllegalArgumentException.class, () -> ce.predict(pairs(named), Prompt.named("nope")));
        }
        try (CrossEncoder ce = CrossEncoder.builder(model("ce-bert-st6")).maxLength(16).open()) {
            assertEquals(16, ce.maxLength());
        }
        try (CrossEncoder ce = CrossEncoder.builder(model("ce-xlm-roberta-st6")).precision(Precision.INT8).open()) {
            Reference x = reference("ce-xlm-roberta-st6");
            float[][] got = ce.predict(pairs(x.cases.get(0)));
            for (int i = 0; i < got.length; i++) {
                assertTrue(Math.abs(got[i][0] - x.cases.get(0).scores.get(i)[0]) < 0.05);
            }
        }
    }

    @Test
    public void badInputIsAnExceptionAndLosesNothing() throws IOException {
        assertThrows(ModelLoadException.class, () -> CrossEncoder.open(model("no-such-model")));
        assertThrows(UnsupportedModelException.class, () -> CrossEncoder.open(fixtures().resolve("models/prompts-st6")));
        assertThrows(IllegalArgumentException.class,
                () -> CrossEncoder.builder(model("ce-bert-st6")).activation("softplus").open());
        assertThrows(IllegalArgumentException.class,
                () -> CrossEncoder.builder(model("ce-bert-st6")).maxLength(100_000).open());
        assertThrows(IllegalArgumentException.class, () -> CrossEncoder.builder(model("ce-bert-st6")).maxLength(1));
        CrossEncoder ce = CrossEncoder.open(model("ce-bert-st6"));
        assertThrows(NullPointerException.class, () -> ce.score(null, "d"));
        assertThrows(NullPointerException.class, () -> ce.score("q", (String) null));
        assertThrows(NullPointerException.class, () -> ce.score("q", Arrays.asList("a", null)));
        assertThrows(IllegalArgumentException.class, () -> ce.rank("q", List.of("a"), -1));
        assertThrows(NullPointerException.class, () -> ce.predict(null));
        assertEquals(0, ce.score("q", List.of()).length);
        // Lone surrogates and a long document score; the CrossEncoder still works after every failure.
        float s = ce.score("\uD800 broken", "x".repeat(200_000));
        assertTrue(s > 0 && s < 1);
        ce.close();
        ce.close();
        assertTrue(ce.isClosed());
        assertThrows(IllegalStateException.class, () -> ce.score("q", "d"));
    }

    @Test
    public void concurrentSingleScoresShareForwardPasses() throws Exception {
        Reference ref = reference("ce-roberta-st6");
        Case c = ref.cases.get(0);
        try (CrossEncoder ce = CrossEncoder.open(model("ce-roberta-st6"))) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<float[]>> futures = new ArrayList<>();
            for (int rep = 0; rep < 4; rep++) {
                for (List<String> p : c.pairs) {
                    futures.add(pool.submit(() -> ce.labelScores(p.get(0), p.get(1))));
                }
            }
            for (int i = 0; i < futures.size(); i++) {
                assertClose("concurrent " + i, c.scores.get(i % c.pairs.size()), futures.get(i).get());
            }
            pool.shutdown();
            long[] stats = ce.microBatchingStats().get();
            assertEquals(futures.size(), stats[1]);
            assertNotNull(stats);
        }
    }
}
