package example;

import java.nio.file.Paths;
import java.util.List;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.DocumentSplitter;
import dev.langchain4j.data.document.splitter.DocumentSplitters;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import org.sbert4j.langchain4j.Sbert4jEmbeddingModel;

/**
 * The LangChain4j snippet of the README, compiled by gradle test
 * (DocSnippetsTest checks that the README shows exactly this region;
 * LangChain4jExample is the complete program the adapters page shows).
 */
final class LangChain4jSnippets {
    private LangChain4jSnippets() {}

    static void readme(List<TextSegment> segments) {
        // snippet:start readme
        try (Sbert4jEmbeddingModel sbert4j = Sbert4jEmbeddingModel.open(Paths.get("models/all-MiniLM-L6-v2"))) {
            EmbeddingModel model = sbert4j;                               // where AllMiniLmL6V2EmbeddingModel was
            List<Embedding> vectors = model.embedAll(segments).content(); // one native call for the list
            Embedding question = model.embed("How do I bake bread?").content();
        }
        // snippet:end readme
    }

    static ContentRetriever rag(List<Document> documents, EmbeddingStore<TextSegment> store) {
        // snippet:start rag
        Sbert4jEmbeddingModel model = Sbert4jEmbeddingModel.open(Paths.get("models/multilingual-e5-small"));
        // Segments the model encodes whole (never truncated), cut by its own tokenizer.
        DocumentSplitter splitter = DocumentSplitters.recursive(model.maxSegmentTokens(), 32, model);
        // Documents get the document prompt, queries the query prompt.
        EmbeddingStoreIngestor.builder().documentSplitter(splitter)
                .embeddingModel(model.forDocuments()).embeddingStore(store).build().ingest(documents);
        ContentRetriever retriever = EmbeddingStoreContentRetriever.builder()
                .embeddingModel(model.forQueries()).embeddingStore(store).maxResults(5).build();
        // snippet:end rag
        return retriever;
    }
}
