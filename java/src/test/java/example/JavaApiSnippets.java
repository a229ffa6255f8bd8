package example;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import org.sbert4j.EncoderCounters;
import org.sbert4j.EncoderInfo;
import org.sbert4j.Encoding;
import org.sbert4j.ModelLoadException;
import org.sbert4j.TextEncodingException;
import org.sbert4j.UnsupportedModelException;
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

    static float[][] queriesAndDocuments(SentenceEncoder encoder, List<String> passages) {
        // snippet:start queries-documents
        // What sentence-transformers' encode_query / encode_document do: the model's "query" prompt,
        // and its "document", "passage" or "corpus" prompt (else the default prompt).
        float[] query = encoder.encodeQuery("how do I return a parcel?");
        float[][] docs = encoder.encodeDocuments(passages);
        // snippet:end queries-documents
        return docs;
    }

    static void observability(SentenceEncoder encoder) {
        // snippet:start observability
        EncoderInfo info = encoder.info();          // architecture, dimension, pooling, precision, CPU path...
        System.out.println(info);                   // all of it on one line
        EncoderCounters before = encoder.counters();
        // ... encode ...
        EncoderCounters c = encoder.counters().since(before);
        long texts = c.texts(), tokens = c.tokens(), cut = c.truncatedTexts(), passes = c.passes();
        // snippet:end observability
    }

    static void errors(Path modelDir, List<String> texts) {
        // snippet:start errors
        try (SentenceEncoder encoder = SentenceEncoder.open(modelDir)) {
            encoder.encodeBatch(texts);
        } catch (UnsupportedModelException e) {      // e.feature() "architecture", e.value() "gpt2", e.path()
            System.err.println("not supported: " + e.feature() + " " + e.value());
        } catch (ModelLoadException e) {             // a file missing or malformed: e.path()
            System.err.println("cannot load " + e.path() + ": " + e.getMessage());
        } catch (TextEncodingException e) {          // one text failed: e.index() in your list
            System.err.println("text " + e.index() + " failed: " + e.getMessage());
        }
        // snippet:end errors
    }
}
