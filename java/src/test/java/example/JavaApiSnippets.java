package example;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import org.sbert4j.Encoding;
import org.sbert4j.Precision;
import org.sbert4j.Prompt;
import org.sbert4j.SentenceEncoder;

/**
 * The Java snippets of docs/java-api.md and docs/models.md, compiled by
 * gradle test (DocSnippetsTest checks that the pages show exactly these
 * regions); the ones that need only the default model also run
 * (JavaApiSnippetsTest).
 */
final class JavaApiSnippets {
    private JavaApiSnippets() {}

    static SentenceEncoder options(Path modelDir) {
        // snippet:start options
        // Unset options follow the model directory.
        SentenceEncoder encoder = SentenceEncoder.builder(modelDir)
                .normalize(false)          // override modules.json's Normalize module
                .maxSequenceLength(128)    // truncate earlier than the model's max_seq_length
                .truncateDim(256)          // Matryoshka: keep the first 256 components (truncate_dim)
                .batchSize(32)             // texts per forward pass
                .microBatching(true)       // coalesce concurrent encode(String) calls (the default)
                .threads(2)                // at most 2 threads per forward pass (default: the thread budget)
                .precision(Precision.FP32) // the linear layers' number format: FP32 (default), BF16, INT8
                .open();
        // snippet:end options
        return encoder;
    }

    static float[][] prompts(SentenceEncoder encoder, List<String> passages) {
        // snippet:start prompts
        // Prompts (E5, BGE, GTE, nomic...: config_sentence_transformers.json's "prompts")
        float[] query = encoder.encode("how do I return a parcel?", Prompt.named("query"));
        float[][] docs = encoder.encodeBatch(passages, Prompt.literal("passage: "));
        float[] plain = encoder.encode("no prompt at all", Prompt.none());
        Map<String, String> known = encoder.prompts();  // {"query": "query: ", ...}
        // snippet:end prompts
        return new float[][] {query, docs.length > 0 ? docs[0] : plain, plain, new float[known.size()]};
    }

    static int tokenFacts(SentenceEncoder encoder, List<String> texts) {
        // snippet:start token-facts
        // From the same tokenization as the vectors (no second pass):
        List<Encoding> out = encoder.encodeBatchWithInfo(texts);
        float[] vector = out.get(0).vector();
        int tokens = out.get(0).tokens();          // tokens that went through the model
        boolean cut = out.get(0).truncated();      // cut at maxSequenceLength()?
        int n = encoder.countTokens(texts.get(0)); // special tokens included, before truncation
        // snippet:end token-facts
        return vector.length + tokens + n + (cut ? 1 : 0);
    }

    static void multilingual() {
        // snippet:start multilingual
        Path dir = Paths.get("models/paraphrase-multilingual-MiniLM-L12-v2");
        try (SentenceEncoder encoder = SentenceEncoder.open(dir)) {
            float[] v = encoder.encode("客户投诉物流太慢"); // 384 floats, not unit length (no Normalize module)
        }
        // snippet:end multilingual
    }
}
