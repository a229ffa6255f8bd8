package org.sbert4j.springai;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.sbert4j.Encoding;
import org.sbert4j.SentenceEncoder;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.Embedding;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.embedding.EmbeddingResponseMetadata;

/**
 * A Spring AI {@link EmbeddingModel} computed by sbert4j: the vectors
 * {@code SentenceTransformer(dir).encode(text)} gives, in-process.
 *
 * <p>In a Spring Boot application, {@link Sbert4jAutoConfiguration} makes one
 * from the {@code sbert4j.*} properties. Without Boot:
 *
 * <pre>{@code
 * try (SentenceEncoder encoder = SentenceEncoder.open(Paths.get("models/all-MiniLM-L6-v2"))) {
 *     EmbeddingModel model = new Sbert4jEmbeddingModel(encoder, "all-MiniLM-L6-v2", false);
 *     float[] v = model.embed("The quick brown fox");
 * }
 * }</pre>
 *
 * <p>{@link #call} encodes all of a request's texts with
 * {@link SentenceEncoder#encodeBatch}: one native call per chunk of texts,
 * not one per text. Request options are not used: the model and its vector
 * length are fixed when the encoder is opened. Usage reports the prompt
 * tokens: the tokens that went through the model, special tokens included,
 * after truncation, from the same tokenization as the vectors. Thread-safe,
 * like the encoder.
 */
public final class Sbert4jEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final SentenceEncoder encoder;
    private final String modelName;
    private final boolean ownsEncoder;

    /**
     * @param encoder the encoder computing the vectors
     * @param modelName reported in each response's metadata
     * @param ownsEncoder whether {@link #close()} closes the encoder
     */
    public Sbert4jEmbeddingModel(SentenceEncoder encoder, String modelName, boolean ownsEncoder) {
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.ownsEncoder = ownsEncoder;
    }

    @Override
    public EmbeddingResponse call(EmbeddingRequest request) {
        if (request == null || request.getInstructions() == null) {
            throw new IllegalArgumentException("request or its texts are null");
        }
        List<Encoding> encodings = encoder.encodeBatchWithInfo(request.getInstructions());
        List<Embedding> embeddings = new ArrayList<>(encodings.size());
        int tokens = 0;
        for (int i = 0; i < encodings.size(); i++) {
            embeddings.add(new Embedding(encodings.get(i).vector(), i));
            tokens += encodings.get(i).tokens();
        }
        return new EmbeddingResponse(embeddings, new EmbeddingResponseMetadata(modelName, new DefaultUsage(tokens, 0)));
    }

    @Override
    public float[] embed(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        return encoder.encode(text);
    }

    @Override
    public float[] embed(Document document) {
        if (document == null) {
            throw new IllegalArgumentException("document is null");
        }
        String content = getEmbeddingContent(document);
        if (content == null) {
            throw new IllegalArgumentException("document " + document.getId() + " has no text");
        }
        return encoder.encode(content);
    }

    /** Length of every vector, from the model (no trial call). */
    @Override
    public int dimensions() {
        return encoder.dimension();
    }

    /** The name reported in response metadata. */
    public String modelName() {
        return modelName;
    }

    /** The encoder computing the vectors. */
    public SentenceEncoder encoder() {
        return encoder;
    }

    /** Closes the encoder if this model owns it; idempotent. A Spring context calls it when it closes. */
    @Override
    public void close() {
        if (ownsEncoder) {
            encoder.close();
        }
    }
}
