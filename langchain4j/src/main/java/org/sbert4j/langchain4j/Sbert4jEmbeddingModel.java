package org.sbert4j.langchain4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import org.sbert4j.Encoding;
import org.sbert4j.Precision;
import org.sbert4j.SentenceEncoder;

/**
 * A LangChain4j {@link EmbeddingModel} computed by sbert4j: the vectors
 * {@code SentenceTransformer(dir).encode(text)} gives, in-process. A drop-in
 * for LangChain4j's in-process ONNX models:
 *
 * <pre>{@code
 * EmbeddingModel model = Sbert4jEmbeddingModel.open(Paths.get("models/all-MiniLM-L6-v2"));
 * // instead of: EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel();
 * Embedding e = model.embed("The quick brown fox").content();
 * }</pre>
 *
 * <p>{@link #embedAll} encodes the whole list with
 * {@link SentenceEncoder#encodeBatch}: one native call per chunk of texts,
 * not one per segment. Thread-safe, like the encoder. A model made by
 * {@link #open} or {@link #builder} owns its encoder, and {@link #close()}
 * closes it; one made by {@link #wrap} leaves the encoder to its owner.
 *
 * <p>Token usage ({@link Response#tokenUsage()}) is the input token count:
 * the tokens that went through the model, special tokens included, after
 * truncation, taken from the same tokenization as the vectors.
 */
public final class Sbert4jEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final SentenceEncoder encoder;
    private final String modelName;
    private final boolean ownsEncoder;

    private Sbert4jEmbeddingModel(SentenceEncoder encoder, String modelName, boolean ownsEncoder) {
        this.encoder = encoder;
        this.modelName = modelName;
        this.ownsEncoder = ownsEncoder;
    }

    /**
     * Opens the sentence-transformers model in {@code modelDir} with the
     * options it declares; the model name is the directory's name.
     */
    public static Sbert4jEmbeddingModel open(Path modelDir) {
        return builder(modelDir).build();
    }

    /** Options for opening {@code modelDir}; unset options follow the model directory. */
    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /**
     * An {@link EmbeddingModel} over an encoder the caller opened and will
     * close; {@link #close()} on the result does not close it.
     */
    public static Sbert4jEmbeddingModel wrap(SentenceEncoder encoder, String modelName) {
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(modelName, "modelName");
        return new Sbert4jEmbeddingModel(encoder, modelName, false);
    }

    @Override
    public Response<Embedding> embed(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        Encoding encoding = encoder.encodeWithInfo(text);
        return Response.from(Embedding.from(encoding.vector()), new TokenUsage(encoding.tokens()));
    }

    @Override
    public Response<Embedding> embed(TextSegment textSegment) {
        if (textSegment == null) {
            throw new IllegalArgumentException("textSegment is null");
        }
        return embed(textSegment.text());
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> textSegments) {
        if (textSegments == null) {
            throw new IllegalArgumentException("textSegments is null");
        }
        List<String> texts = new ArrayList<>(textSegments.size());
        for (int i = 0; i < textSegments.size(); i++) {
            TextSegment segment = textSegments.get(i);
            if (segment == null) {
                throw new IllegalArgumentException("text segment at index " + i + " is null");
            }
            texts.add(segment.text());
        }
        List<Encoding> encodings = encoder.encodeBatchWithInfo(texts);
        List<Embedding> embeddings = new ArrayList<>(encodings.size());
        int tokens = 0;
        for (Encoding encoding : encodings) {
            embeddings.add(Embedding.from(encoding.vector()));
            tokens += encoding.tokens();
        }
        return Response.from(embeddings, new TokenUsage(tokens));
    }

    /** Length of every vector (384 for all-MiniLM-L6-v2). */
    @Override
    public int dimension() {
        return encoder.dimension();
    }

    /** The model's name: the model directory's name, or the one given to the builder or {@link #wrap}. */
    @Override
    public String modelName() {
        return modelName;
    }

    /** The encoder computing the vectors. */
    public SentenceEncoder encoder() {
        return encoder;
    }

    /** Closes the encoder if this model opened it; idempotent. */
    @Override
    public void close() {
        if (ownsEncoder) {
            encoder.close();
        }
    }

    /** Options for {@link Sbert4jEmbeddingModel}: those of {@link SentenceEncoder.Builder}, and the model name. */
    public static final class Builder {
        private final Path modelDir;
        private final SentenceEncoder.Builder options;
        private String modelName;

        private Builder(Path modelDir) {
            if (modelDir == null) {
                throw new IllegalArgumentException("model directory is null");
            }
            this.modelDir = modelDir;
            this.options = SentenceEncoder.builder(modelDir);
        }

        /** See {@link SentenceEncoder.Builder#normalize(boolean)}. */
        public Builder normalize(boolean normalize) {
            options.normalize(normalize);
            return this;
        }

        /** See {@link SentenceEncoder.Builder#maxSequenceLength(int)}. */
        public Builder maxSequenceLength(int tokens) {
            options.maxSequenceLength(tokens);
            return this;
        }

        /** See {@link SentenceEncoder.Builder#batchSize(int)}. */
        public Builder batchSize(int texts) {
            options.batchSize(texts);
            return this;
        }

        /** See {@link SentenceEncoder.Builder#microBatching(boolean)}. */
        public Builder microBatching(boolean enabled) {
            options.microBatching(enabled);
            return this;
        }

        /** See {@link SentenceEncoder.Builder#precision(Precision)}. */
        public Builder precision(Precision precision) {
            options.precision(precision);
            return this;
        }

        /** What {@link Sbert4jEmbeddingModel#modelName()} returns (default: the model directory's name). */
        public Builder modelName(String name) {
            this.modelName = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Loads the model (or shares one already loaded). */
        public Sbert4jEmbeddingModel build() {
            String name = modelName;
            if (name == null) {
                Path file = modelDir.toAbsolutePath().normalize().getFileName();
                name = file == null ? modelDir.toString() : file.toString();
            }
            return new Sbert4jEmbeddingModel(options.open(), name, true);
        }
    }
}
