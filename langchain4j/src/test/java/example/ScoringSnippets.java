package example;

import java.nio.file.Paths;

import dev.langchain4j.model.scoring.ScoringModel;
import dev.langchain4j.rag.content.aggregator.ContentAggregator;
import dev.langchain4j.rag.content.aggregator.ReRankingContentAggregator;
import org.sbert4j.langchain4j.Sbert4jScoringModel;

/** The LangChain4j snippet of docs/cross-encoder.md, compiled by gradle test (DocSnippetsTest). */
final class ScoringSnippets {
    private ScoringSnippets() {}

    static ContentAggregator aggregator() {
        // snippet:start scoring-model
        ScoringModel reranker = Sbert4jScoringModel.open(Paths.get("models/ms-marco-MiniLM-L6-v2"));
        ContentAggregator aggregator = ReRankingContentAggregator.builder().scoringModel(reranker).maxResults(5).build();
        // snippet:end scoring-model
        return aggregator;
    }
}
