package org.sbert4j.langchain4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.sbert4j.SentenceEncoder;

/**
 * The adapter against the core (same vectors as {@link SentenceEncoder#encode})
 * and against the LangChain4j model it replaces (same nearest neighbours).
 */
public class Sbert4jEmbeddingModelTest {
    private static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model", "../models/all-MiniLM-L6-v2"));

    /** Four topics, four documents each: every query below has one clear neighbourhood. */
    private static final List<String> DOCUMENTS = List.of(
            "The cat sat on the warm windowsill all afternoon.",
            "Dogs need a walk at least twice a day.",
            "My parrot can whistle the first bars of a song.",
            "Goldfish live longer in a large, filtered tank.",
            "The central bank raised interest rates by a quarter point.",
            "Stock markets fell sharply after the earnings report.",
            "Inflation eased for the third month in a row.",
            "The company issued bonds to refinance its debt.",
            "Knead the dough for ten minutes, then let it rise.",
            "Roast the vegetables with olive oil and garlic.",
            "Simmer the tomato sauce until it thickens.",
            "Whisk the eggs and sugar until pale and fluffy.",
            "The striker scored twice in the second half.",
            "The marathon runner finished in under three hours.",
            "The tennis final went to a fifth set tie-break.",
            "The goalkeeper saved a penalty in the last minute.");

    private static final List<String> QUERIES = List.of(
            "Which pets are easy to keep at home?",
            "What happened to share prices today?",
            "How do I bake bread?",
            "Who won the football match?",
            "kitten sleeping in the sun",
            "mortgage rates and the economy",
            "a recipe for pasta sauce",
            "running a long-distance race");

    private static Sbert4jEmbeddingModel sbert;
    private static EmbeddingModel onnx;

    @BeforeClass
    public static void open() {
        sbert = Sbert4jEmbeddingModel.open(MODEL);
        onnx = new AllMiniLmL6V2EmbeddingModel();
    }

    @AfterClass
    public static void close() {
        if (sbert != null) {
            sbert.close();
        }
    }

    private static List<TextSegment> segments(List<String> texts) {
        return texts.stream().map(TextSegment::from).collect(Collectors.toList());
    }

    @Test
    public void embedAllGivesTheVectorsOfSentenceEncoderEncode() {
        List<String> texts = new ArrayList<>(DOCUMENTS);
        texts.addAll(QUERIES);
        // (LangChain4j's TextSegment refuses blank text, so no empty string here.)
        texts.add("  leading and trailing spaces  ");
        texts.add("客户投诉物流太慢");
        Response<List<Embedding>> response = sbert.embedAll(segments(texts));
        List<Embedding> embeddings = response.content();
        assertEquals(texts.size(), embeddings.size());
        try (SentenceEncoder encoder = SentenceEncoder.open(MODEL)) {
            for (int i = 0; i < texts.size(); i++) {
                float[] expected = encoder.encode(texts.get(i));
                // A batch's vectors equal single encodes to float rounding (the core's own tests hold it to 1e-6).
                assertArrayEquals("text " + i, expected, embeddings.get(i).vector(), 1e-6f);
                // embed(String) is encode(String) itself.
                assertArrayEquals("text " + i, expected, sbert.embed(texts.get(i)).content().vector(), 0f);
                assertArrayEquals("text " + i, expected, sbert.embed(TextSegment.from(texts.get(i))).content().vector(), 0f);
            }
        }
        int tokens = 0;
        try (SentenceEncoder encoder = SentenceEncoder.open(MODEL)) {
            for (String text : texts) {
                tokens += Math.min(encoder.countTokens(text), encoder.maxSequenceLength());
            }
        }
        assertEquals("input tokens: the texts' tokens, truncated", tokens, (int) response.tokenUsage().inputTokenCount());
    }

    @Test
    public void sameNearestNeighboursAsAllMiniLmL6V2EmbeddingModel() {
        List<List<String>> sbertNeighbours = neighbours(sbert);
        List<List<String>> onnxNeighbours = neighbours(onnx);
        for (int q = 0; q < QUERIES.size(); q++) {
            assertEquals("top 3 for \"" + QUERIES.get(q) + "\"", onnxNeighbours.get(q), sbertNeighbours.get(q));
        }
        // Not only the same ranking: the same model, so nearly the same vectors.
        for (String text : QUERIES) {
            float[] a = sbert.embed(text).content().vector();
            float[] b = onnx.embed(text).content().vector();
            assertTrue("cosine for \"" + text + "\"", cosine(a, b) > 0.9999);
        }
    }

    /** For each query, the texts of its three nearest documents, nearest first, from an InMemoryEmbeddingStore. */
    private static List<List<String>> neighbours(EmbeddingModel model) {
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        List<TextSegment> documents = segments(DOCUMENTS);
        store.addAll(model.embedAll(documents).content(), documents);
        List<List<String>> result = new ArrayList<>();
        for (String query : QUERIES) {
            List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(model.embed(query).content())
                    .maxResults(3)
                    .build()).matches();
            result.add(matches.stream().map(m -> m.embedded().text()).collect(Collectors.toList()));
        }
        return result;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * (double) b[i];
            na += a[i] * (double) a[i];
            nb += b[i] * (double) b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    public void dimensionAndModelName() {
        assertEquals(384, sbert.dimension());
        assertEquals(onnx.dimension(), sbert.dimension());
        assertEquals("all-MiniLM-L6-v2", sbert.modelName());
        try (Sbert4jEmbeddingModel named = Sbert4jEmbeddingModel.builder(MODEL).modelName("minilm").build()) {
            assertEquals("minilm", named.modelName());
        }
    }

    @Test
    public void emptyListGivesNoEmbeddings() {
        assertEquals(0, sbert.embedAll(List.of()).content().size());
    }

    @Test
    public void nullInputIsRejectedWithItsIndex() {
        assertThrows(NullPointerException.class, () -> sbert.embedAll(null));
        assertThrows(NullPointerException.class, () -> sbert.embed((String) null));
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> sbert.embedAll(Arrays.asList(TextSegment.from("a"), null)));
        assertTrue(e.getMessage(), e.getMessage().contains("index 1"));
    }

    @Test
    public void optionsReachTheEncoder() {
        try (Sbert4jEmbeddingModel raw = Sbert4jEmbeddingModel.builder(MODEL).normalize(false).build();
             SentenceEncoder encoder = SentenceEncoder.builder(MODEL).normalize(false).open()) {
            String text = "An unnormalised vector is longer than one.";
            float[] v = raw.embed(text).content().vector();
            assertArrayEquals(encoder.encode(text), v, 0f);
            double norm = Math.sqrt(cosineNormSquared(v));
            assertTrue("norm " + norm, Math.abs(norm - 1) > 0.01);
        }
    }

    private static double cosineNormSquared(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * (double) x;
        }
        return s;
    }

    @Test
    public void closeClosesOnlyAnEncoderItOpened() {
        Sbert4jEmbeddingModel owned = Sbert4jEmbeddingModel.open(MODEL);
        owned.close();
        assertTrue(owned.encoder().isClosed());
        assertThrows(IllegalStateException.class, () -> owned.embed("closed"));

        try (SentenceEncoder encoder = SentenceEncoder.open(MODEL)) {
            Sbert4jEmbeddingModel wrapped = Sbert4jEmbeddingModel.wrap(encoder, "mine");
            wrapped.close();
            assertFalse(encoder.isClosed());
            assertArrayEquals(encoder.encode("still open"), wrapped.embed("still open").content().vector(), 0f);
        }
    }
}
