import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;

import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.DocumentSplitter;
import dev.langchain4j.data.document.splitter.DocumentSplitters;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import org.sbert4j.langchain4j.Sbert4jEmbeddingModel;

/**
 * LangChain4j RAG ingestion with token-based splitting: a text file cut into segments at the model's real token
 * limit, ingested with the document prompt, searched with the query prompt.
 *
 * <pre>
 * java -cp "sbert4j-langchain4j-0.1.0.jar:sbert4j-0.1.0.jar:langchain4j-core.jar:..." \
 *     RagIngestion.java models/all-MiniLM-L6-v2 document.txt "what does it say about rates?"
 * </pre>
 *
 * Compiled and run by {@code gradle :sbert4j-langchain4j:test} (ExamplesTest).
 */
public class RagIngestion {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: RagIngestion MODEL_DIR TEXT_FILE QUESTION");
            System.exit(2);
        }
        Document document = Document.from(new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8));
        try (Sbert4jEmbeddingModel model = Sbert4jEmbeddingModel.open(Paths.get(args[0]))) {
            // Segments of at most the tokens the model encodes whole, counted by its own tokenizer.
            DocumentSplitter splitter = DocumentSplitters.recursive(model.maxSegmentTokens(), 16, model);
            InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            EmbeddingStoreIngestor.builder()
                    .documentSplitter(splitter)
                    .embeddingModel(model.forDocuments())
                    .embeddingStore(store)
                    .build()
                    .ingest(document);
            System.out.println(splitter.split(document).size() + " segments of at most " + model.maxSegmentTokens()
                    + " tokens");
            ContentRetriever retriever = EmbeddingStoreContentRetriever.builder()
                    .embeddingModel(model.forQueries())
                    .embeddingStore(store)
                    .maxResults(1)
                    .build();
            List<Content> found = retriever.retrieve(Query.from(args[2]));
            System.out.println("best segment: " + found.get(0).textSegment().text());
        }
    }
}
