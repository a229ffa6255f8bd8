package org.sbert4j.springai;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.observation.ObservationRegistry;
import org.sbert4j.Encoding;
import org.sbert4j.Prompt;
import org.sbert4j.SentenceEncoder;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.BatchingStrategy;
import org.springframework.ai.embedding.Embedding;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.ai.embedding.EmbeddingResponseMetadata;
import org.springframework.ai.embedding.observation.DefaultEmbeddingModelObservationConvention;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationContext;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationConvention;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationDocumentation;

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
 * <p><b>Queries and documents.</b> A vector store embeds its documents through {@link #embed(Document)} and
 * {@link #embed(List, EmbeddingOptions, BatchingStrategy)}, and a search query through {@link #embed(String)}:
 * documents get the document prompt, queries the query prompt (by default those sentence-transformers'
 * {@code encode_document} and {@code encode_query} pick). {@link #call} and {@link #embed(List)} use the model's
 * default prompt.
 *
 * <p><b>Options.</b> {@link EmbeddingOptions#getDimensions()} keeps the first N components of every vector, as
 * sentence-transformers' {@code truncate_dim} does (within 1..{@link #dimensions()}; beyond that an
 * {@link IllegalArgumentException}); a model name other than this one's is refused the same way.
 *
 * <p>{@link #call} encodes all of a request's texts with {@link SentenceEncoder#encodeBatch}: one native call
 * per chunk of texts. Usage reports the prompt tokens: the tokens that went through the model, special tokens
 * included, after truncation. Each call is a Spring AI embedding observation (provider {@code sbert4j}), so
 * Spring AI's own handlers time it and count its tokens. Thread-safe, like the encoder. Null arguments throw
 * {@link NullPointerException} naming them.
 */
public final class Sbert4jEmbeddingModel implements EmbeddingModel, AutoCloseable {
    /** The provider name in observations. */
    public static final String PROVIDER = "sbert4j";
    private static final EmbeddingModelObservationConvention DEFAULT_CONVENTION =
            new DefaultEmbeddingModelObservationConvention();

    private final SentenceEncoder encoder;
    private final String modelName;
    private final boolean ownsEncoder;
    private final Prompt queryPrompt;
    private final Prompt documentPrompt;
    private final ObservationRegistry observationRegistry;
    private volatile EmbeddingModelObservationConvention observationConvention = DEFAULT_CONVENTION;
    /** Encoders of the truncated dimensions requests asked for; closed with this model when it owns the encoder. */
    private final Map<Integer, SentenceEncoder> truncated = new ConcurrentHashMap<>();

    /**
     * A model with the query and document prompts sentence-transformers picks, and no observations.
     *
     * @param encoder the encoder computing the vectors
     * @param modelName reported in each response's metadata
     * @param ownsEncoder whether {@link #close()} closes the encoder
     */
    public Sbert4jEmbeddingModel(SentenceEncoder encoder, String modelName, boolean ownsEncoder) {
        this(encoder, modelName, ownsEncoder, null, null, ObservationRegistry.NOOP);
    }

    /**
     * @param encoder the encoder computing the vectors
     * @param modelName reported in each response's metadata
     * @param ownsEncoder whether {@link #close()} closes the encoder
     * @param queryPrompt the prompt of {@link #embed(String)} (null: {@link SentenceEncoder#queryPrompt()})
     * @param documentPrompt the prompt of documents (null: {@link SentenceEncoder#documentPrompt()})
     * @param observationRegistry where each call is observed ({@link ObservationRegistry#NOOP}: nowhere)
     */
    public Sbert4jEmbeddingModel(SentenceEncoder encoder, String modelName, boolean ownsEncoder, Prompt queryPrompt,
            Prompt documentPrompt, ObservationRegistry observationRegistry) {
        this.encoder = Objects.requireNonNull(encoder, "encoder");
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.ownsEncoder = ownsEncoder;
        this.queryPrompt = queryPrompt != null ? queryPrompt : encoder.queryPrompt();
        this.documentPrompt = documentPrompt != null ? documentPrompt : encoder.documentPrompt();
        this.observationRegistry = Objects.requireNonNull(observationRegistry, "observationRegistry");
        // A prompt name the model lacks fails here, not at the first query.
        encoder.countTokens("", this.queryPrompt);
        encoder.countTokens("", this.documentPrompt);
    }

    /** Names and tags this model's observations with {@code convention} instead of Spring AI's default one. */
    public void setObservationConvention(EmbeddingModelObservationConvention convention) {
        this.observationConvention = Objects.requireNonNull(convention, "convention");
    }

    @Override
    public EmbeddingResponse call(EmbeddingRequest request) {
        Objects.requireNonNull(request, "request");
        return observed(request, null);
    }

    /** Encodes the request's texts with {@code prompt} (null: the default), inside one observation. */
    private EmbeddingResponse observed(EmbeddingRequest request, Prompt prompt) {
        List<String> texts = Objects.requireNonNull(request.getInstructions(), "request texts");
        SentenceEncoder target = encoderFor(request.getOptions());
        EmbeddingModelObservationContext context = EmbeddingModelObservationContext.builder()
                .embeddingRequest(request).provider(PROVIDER).build();
        return EmbeddingModelObservationDocumentation.EMBEDDING_MODEL_OPERATION
                .observation(observationConvention, DEFAULT_CONVENTION, () -> context, observationRegistry)
                .observe(() -> {
                    EmbeddingResponse response = encode(target, texts, prompt);
                    context.setResponse(response);
                    return response;
                });
    }

    private EmbeddingResponse encode(SentenceEncoder target, List<String> texts, Prompt prompt) {
        List<Encoding> encodings = target.encodeBatchWithInfo(texts, prompt);
        List<Embedding> embeddings = new ArrayList<>(encodings.size());
        int tokens = 0;
        for (int i = 0; i < encodings.size(); i++) {
            embeddings.add(new Embedding(encodings.get(i).vector(), i));
            tokens += encodings.get(i).tokens();
        }
        return new EmbeddingResponse(embeddings, new EmbeddingResponseMetadata(modelName, new DefaultUsage(tokens, 0)));
    }

    /** The encoder for the request's options: its dimensions through truncate_dim; another model refused. */
    private SentenceEncoder encoderFor(EmbeddingOptions options) {
        if (options == null) {
            return encoder;
        }
        if (options.getModel() != null && !options.getModel().equals(modelName)) {
            throw new IllegalArgumentException("this embedding model is '" + modelName + "'; a request asked for '"
                    + options.getModel() + "' (sbert4j serves one model per bean)");
        }
        Integer dimensions = options.getDimensions();
        if (dimensions == null || dimensions == encoder.dimension()) {
            return encoder;
        }
        if (dimensions < 1 || dimensions > encoder.dimension()) {
            throw new IllegalArgumentException("dimensions must be within 1.." + encoder.dimension() + " for '"
                    + modelName + "' (sentence-transformers' truncate_dim keeps the first N components), got "
                    + dimensions);
        }
        return truncated.computeIfAbsent(dimensions, encoder::withTruncateDim);
    }

    /** The embedding of a search query, with the query prompt. */
    @Override
    public float[] embed(String text) {
        Objects.requireNonNull(text, "text");
        return observed(new EmbeddingRequest(List.of(text), null), queryPrompt).getResults().get(0).getOutput();
    }

    /** The embedding of a document's text, with the document prompt. */
    @Override
    public float[] embed(Document document) {
        Objects.requireNonNull(document, "document");
        String content = getEmbeddingContent(document);
        if (content == null) {
            throw new IllegalArgumentException("document " + document.getId() + " has no text");
        }
        return observed(new EmbeddingRequest(List.of(content), null), documentPrompt).getResults().get(0).getOutput();
    }

    /** The embeddings of documents, with the document prompt: what a vector store calls when it adds documents. */
    @Override
    public List<float[]> embed(List<Document> documents, EmbeddingOptions options, BatchingStrategy batchingStrategy) {
        Objects.requireNonNull(documents, "documents");
        Objects.requireNonNull(batchingStrategy, "batchingStrategy");
        List<float[]> vectors = new ArrayList<>(documents.size());
        for (List<Document> batch : batchingStrategy.batch(documents)) {
            List<String> texts = new ArrayList<>(batch.size());
            for (Document d : batch) {
                String content = getEmbeddingContent(Objects.requireNonNull(d, "document"));
                if (content == null) {
                    throw new IllegalArgumentException("document " + d.getId() + " has no text");
                }
                texts.add(content);
            }
            for (Embedding e : observed(new EmbeddingRequest(texts, options), documentPrompt).getResults()) {
                vectors.add(e.getOutput());
            }
        }
        return vectors;
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

    /** The prompt of queries (null: the default prompt). */
    public Prompt queryPrompt() {
        return queryPrompt;
    }

    /** The prompt of documents (null: the default prompt). */
    public Prompt documentPrompt() {
        return documentPrompt;
    }

    /** The encoder computing the vectors. */
    public SentenceEncoder encoder() {
        return encoder;
    }

    /**
     * Closes the encoders this model opened for requests' dimensions, and the encoder if this model owns it;
     * idempotent. A Spring context calls it when it closes.
     */
    @Override
    public void close() {
        truncated.values().forEach(SentenceEncoder::close);
        if (ownsEncoder) {
            encoder.close();
        }
    }
}
