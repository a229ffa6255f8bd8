package org.sbert4j.langchain4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.splitter.DocumentSplitters;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.request.EmbeddingInputType;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import org.junit.Test;
import org.sbert4j.Encoding;
import org.sbert4j.Prompt;

/**
 * Query and document prompts against sentence-transformers' encode_query / encode_document, and token counting
 * through LangChain4j's own splitter, ingestor and retriever.
 */
public class QueryDocumentAndTokensTest {
    private static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model"));
    private static final Path FIXTURES = Paths.get(System.getProperty("sbert4j.test.fixtures"));

    private static JsonObject reference() throws Exception {
        return JsonParser.parseString(new String(Files.readAllBytes(FIXTURES.resolve("prompts-st6.query-document.json")),
                StandardCharsets.UTF_8)).getAsJsonObject();
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }

    /** Cosine ≥ 0.99999 and max |difference| ≤ 1e-5, against sentence-transformers' vector. */
    private static void assertClose(String what, JsonArray want, float[] got) {
        assertEquals(what, want.size(), got.length);
        double dot = 0, ww = 0, gg = 0, max = 0;
        for (int i = 0; i < got.length; i++) {
            double w = want.get(i).getAsDouble();
            dot += w * got[i];
            ww += w * w;
            gg += (double) got[i] * got[i];
            max = Math.max(max, Math.abs(w - got[i]));
        }
        assertTrue(what + ": max |diff| " + max, max <= 1e-5);
        assertTrue(what + ": cosine", dot / Math.sqrt(ww * gg) >= 0.99999);
    }

    @Test
    public void viewsAndInputTypesGiveEncodeQueryAndEncodeDocumentVectors() throws Exception {
        JsonObject ref = reference();
        List<String> queries = strings(ref.getAsJsonArray("queries"));
        List<String> documents = strings(ref.getAsJsonArray("documents"));
        int cut = ref.get("truncate_dim").getAsInt();
        try (Sbert4jEmbeddingModel model = Sbert4jEmbeddingModel.open(FIXTURES.resolve("models/prompts-st6"))) {
            Sbert4jEmbeddingModel forQueries = model.forQueries();
            Sbert4jEmbeddingModel forDocuments = model.forDocuments();
            for (int i = 0; i < queries.size(); i++) {
                assertClose("query " + i, ref.getAsJsonArray("query_vectors").get(i).getAsJsonArray(),
                        forQueries.embed(queries.get(i)).content().vector());
            }
            List<TextSegment> segments = new ArrayList<>();
            documents.forEach(d -> segments.add(TextSegment.from(d)));
            List<Embedding> docs = forDocuments.embedAll(segments).content();
            List<Embedding> plain = model.embedAll(segments).content();
            for (int i = 0; i < documents.size(); i++) {
                assertClose("document " + i, ref.getAsJsonArray("document_vectors").get(i).getAsJsonArray(),
                        docs.get(i).vector());
                assertClose("default " + i, ref.getAsJsonArray("default_vectors").get(i).getAsJsonArray(),
                        plain.get(i).vector());
            }
            // The request API: inputType and dimensions (truncate_dim).
            EmbeddingResponse q = model.embed(EmbeddingRequest.builder().inputs(queries.toArray(new String[0]))
                    .inputType(EmbeddingInputType.QUERY).dimensions(cut).build());
            EmbeddingResponse d = forQueries.embed(EmbeddingRequest.builder().inputs(documents.toArray(new String[0]))
                    .inputType(EmbeddingInputType.DOCUMENT).dimensions(cut).build());
            for (int i = 0; i < queries.size(); i++) {
                assertClose("truncated query " + i,
                        ref.getAsJsonArray("query_vectors_truncated").get(i).getAsJsonArray(),
                        q.embeddings().get(i).vector());
            }
            for (int i = 0; i < documents.size(); i++) {
                assertClose("truncated document " + i,
                        ref.getAsJsonArray("document_vectors_truncated").get(i).getAsJsonArray(),
                        d.embeddings().get(i).vector());
            }
            assertTrue(q.tokenUsage().inputTokenCount() > 0);
            assertThrows(IllegalArgumentException.class, () -> model.embed(EmbeddingRequest.builder()
                    .input("x").dimensions(model.dimension() + 1).build()));
        }
    }

    @Test
    public void builderPromptsOverrideTheModels() throws Exception {
        try (Sbert4jEmbeddingModel model = Sbert4jEmbeddingModel.builder(FIXTURES.resolve("models/prompts-st6"))
                .queryPrompt(Prompt.literal("passage: ")).documentPrompt(Prompt.named("query")).build()) {
            float[] asPassage = model.encoder().encode("x", Prompt.named("passage"));
            float[] asQuery = model.encoder().encode("x", Prompt.named("query"));
            assertEquals(0f, maxDiff(asPassage, model.forQueries().embed("x").content().vector()), 0f);
            assertEquals(0f, maxDiff(asQuery, model.forDocuments().embed("x").content().vector()), 0f);
        }
        assertThrows(IllegalArgumentException.class, () -> Sbert4jEmbeddingModel.builder(MODEL)
                .queryPrompt(Prompt.named("query")).build());
    }

    private static float maxDiff(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    /** A long document: every line of the benchmark corpus, as paragraphs. */
    private static String longDocument() throws Exception {
        Path corpus = MODEL.getParent().getParent().resolve("bench/sentences.txt");
        List<String> lines = Files.readAllLines(corpus, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(lines.size(), 400); i++) {
            sb.append(lines.get(i)).append(i % 7 == 6 ? "\n\n" : " ");
        }
        return sb.toString();
    }

    @Test
    public void tokenCountsSplitDocumentsAtTheModelsRealLimitInLangChain4jsOwnFlow() throws Exception {
        try (Sbert4jEmbeddingModel model = Sbert4jEmbeddingModel.builder(MODEL).maxSequenceLength(64).build()) {
            int max = model.maxSegmentTokens();
            assertEquals(64 - 2, max); // [CLS] and [SEP]; the model has no prompts
            assertEquals(model.encoder().countTokens("The quick brown fox") - 2,
                    model.estimateTokenCountInText("The quick brown fox"));
            assertEquals(model.estimateTokenCountInText("hello world"),
                    model.estimateTokenCountInMessage(UserMessage.from("hello world")));

            Document document = Document.from(longDocument());
            List<TextSegment> segments = DocumentSplitters.recursive(max, 8, model).split(document);
            assertTrue(segments.size() > 10);
            int fullest = 0;
            for (TextSegment s : segments) {
                Encoding e = model.encoder().encodeWithInfo(s.text());
                assertFalse("a segment was truncated: " + s.text(), e.truncated());
                fullest = Math.max(fullest, model.estimateTokenCountInText(s.text()));
            }
            // Segments are filled up to the limit, not cut by characters far below it.
            assertTrue("fullest segment " + fullest + " of " + max, fullest > max * 3 / 4);

            // Ingestion with the document view, retrieval with the query view.
            InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            EmbeddingStoreIngestor.builder().documentSplitter(DocumentSplitters.recursive(max, 8, model))
                    .embeddingModel(model.forDocuments()).embeddingStore(store).build().ingest(document);
            String probe = segments.get(segments.size() / 2).text();
            EmbeddingStoreContentRetriever retriever = EmbeddingStoreContentRetriever.builder()
                    .embeddingStore(store).embeddingModel(model.forQueries()).maxResults(1).build();
            List<Content> found = retriever.retrieve(Query.from(probe));
            assertEquals(1, found.size());
            assertEquals(probe, found.get(0).textSegment().text());
        }
    }
}
