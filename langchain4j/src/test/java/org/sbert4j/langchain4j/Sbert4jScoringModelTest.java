package org.sbert4j.langchain4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.scoring.ScoringModel;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.aggregator.ContentAggregator;
import dev.langchain4j.rag.content.aggregator.ReRankingContentAggregator;
import dev.langchain4j.rag.query.Query;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.Test;
import org.sbert4j.CrossEncoder;

/**
 * {@link Sbert4jScoringModel} in LangChain4j's {@link ReRankingContentAggregator}, on the random-weight CrossEncoder
 * fixtures (tests/reference/make_cross_fixtures.py): the scores are sentence-transformers 6.2's
 * {@code CrossEncoder.predict} within 1e-5, and the aggregator orders and filters contents as
 * {@code CrossEncoder.rank} does.
 */
public class Sbert4jScoringModelTest {
    private static final double TOL = 1e-5;

    private static Path fixtures() {
        return Paths.get(System.getProperty("sbert4j.test.fixtures", "../tests/fixtures"));
    }

    private static JsonObject reference(String name) throws IOException {
        String json = new String(Files.readAllBytes(fixtures().resolve(name + ".reference.json")), StandardCharsets.UTF_8);
        return new Gson().fromJson(json, JsonObject.class);
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }

    @Test
    public void reRankingContentAggregatorOrdersAsSentenceTransformersRank() throws IOException {
        for (String name : new String[] {"ce-bert-st6", "ce-xlm-roberta-legacy", "ce-modernbert-st6"}) {
            JsonObject rank = reference(name).getAsJsonObject("rank");
            String query = rank.get("query").getAsString();
            // LangChain4j takes no blank text: the fixture's empty document is left out (indices follow the rest).
            List<String> all = strings(rank.getAsJsonArray("documents"));
            List<String> documents = new ArrayList<>();
            all.stream().filter(d -> !d.isBlank()).forEach(documents::add);
            JsonArray ranked = new JsonArray();
            for (JsonElement e : rank.getAsJsonArray("ranked")) {
                String text = all.get(e.getAsJsonObject().get("corpus_id").getAsInt());
                if (!text.isBlank()) {
                    JsonObject r = new JsonObject();
                    r.addProperty("corpus_id", documents.indexOf(text));
                    r.add("score", e.getAsJsonObject().get("score"));
                    ranked.add(r);
                }
            }
            try (Sbert4jScoringModel model = Sbert4jScoringModel.open(fixtures().resolve("models").resolve(name))) {
                // ScoringModel itself: sentence-transformers' scores, per document.
                List<TextSegment> segments = new ArrayList<>();
                documents.forEach(d -> segments.add(TextSegment.from(d)));
                List<Double> scores = model.scoreAll(segments, query).content();
                for (int i = 0; i < ranked.size(); i++) {
                    JsonObject r = ranked.get(i).getAsJsonObject();
                    double want = r.get("score").getAsDouble();
                    assertEquals(name + " doc " + r.get("corpus_id"), want, scores.get(r.get("corpus_id").getAsInt()), TOL);
                }
                assertEquals(scores.get(1), model.score(documents.get(1), query).content(), 0.0);

                // In the aggregator: best first, the first maxResults, each with its reranked score.
                ContentAggregator aggregator = ReRankingContentAggregator.builder().scoringModel(model).maxResults(4).build();
                List<Content> contents = new ArrayList<>();
                documents.forEach(d -> contents.add(Content.from(d)));
                Map<Query, Collection<List<Content>>> retrieved = Map.of(Query.from(query), List.of(contents));
                List<Content> reranked = aggregator.aggregate(retrieved);
                assertEquals(name, 4, reranked.size());
                for (int i = 0; i < reranked.size(); i++) {
                    JsonObject want = ranked.get(i).getAsJsonObject();
                    double got = ((Number) reranked.get(i).metadata().get(ContentMetadata.RERANKED_SCORE)).doubleValue();
                    assertEquals(name + " rank " + i, want.get("score").getAsDouble(), got, TOL);
                    String wantText = documents.get(want.get("corpus_id").getAsInt());
                    // Equal scores may swap places; otherwise the same document.
                    if (!reranked.get(i).textSegment().text().equals(wantText)) {
                        double other = scores.get(documents.indexOf(reranked.get(i).textSegment().text()));
                        assertEquals(name + " tie at " + i, want.get("score").getAsDouble(), other, TOL);
                    }
                }
                // minScore filters: only contents scoring at least the third best remain.
                double third = ranked.get(2).getAsJsonObject().get("score").getAsDouble();
                ContentAggregator filtering = ReRankingContentAggregator.builder().scoringModel(model).minScore(third - 1e-4).build();
                List<Content> kept = filtering.aggregate(retrieved);
                assertTrue(name, kept.size() >= 3 && kept.size() < documents.size());
            }
        }
    }

    @Test
    public void wrapLeavesTheCrossEncoderOpenAndSeveralLabelsAreRefused() {
        Path bert = fixtures().resolve("models/ce-bert-st6");
        try (CrossEncoder ce = CrossEncoder.open(bert)) {
            ScoringModel model = Sbert4jScoringModel.wrap(ce);
            assertTrue(model.score("a document", "a query").content() > 0);
            ((Sbert4jScoringModel) model).close();
            assertFalse(ce.isClosed());
        }
        assertThrows(IllegalArgumentException.class,
                () -> Sbert4jScoringModel.open(fixtures().resolve("models/ce-distilbert-st6")));
        try (Sbert4jScoringModel model = Sbert4jScoringModel.open(bert)) {
            assertThrows(NullPointerException.class, () -> model.scoreAll(null, "q"));
            assertEquals(0, model.scoreAll(List.of(), "q").content().size());
        }
    }
}
