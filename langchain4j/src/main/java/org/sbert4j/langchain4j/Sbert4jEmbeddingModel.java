package org.sbert4j.langchain4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.TokenCountEstimator;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingInput;
import dev.langchain4j.model.embedding.request.EmbeddingInputType;
import dev.langchain4j.model.embedding.request.EmbeddingParameter;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.request.EmbeddingRequestParameters;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.embedding.response.EmbeddingResponseMetadata;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import org.sbert4j.Encoding;
import org.sbert4j.Precision;
import org.sbert4j.Prompt;
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
 * <p><b>Queries and documents.</b> Models such as E5, BGE, Qwen3 and EmbeddingGemma want a different prompt
 * for each. {@link #forQueries()} and {@link #forDocuments()} are views of one encoder that put the query or
 * the document prompt in front of every text (by default those sentence-transformers' {@code encode_query} and
 * {@code encode_document} pick; see {@link Builder#queryPrompt} and {@link Builder#documentPrompt}): give the
 * document view to the {@code EmbeddingStoreIngestor} and the query view to the
 * {@code EmbeddingStoreContentRetriever}. An {@link EmbeddingRequest}'s {@code inputType} (QUERY, DOCUMENT) and
 * {@code dimensions} are honoured too. This model itself uses the default prompt.
 *
 * <p><b>Token counting.</b> It is a {@link TokenCountEstimator} with the model's own tokenizer, so
 * {@code DocumentSplitters.recursive(model.maxSegmentTokens(), overlap, model)} cuts documents into segments
 * the model encodes whole (never truncated).
 *
 * <p>{@link #embedAll} encodes the whole list with {@link SentenceEncoder#encodeBatch}: one native call per
 * chunk of texts, not one per segment. Thread-safe, like the encoder. A model made by {@link #open} or
 * {@link #builder} owns its encoder, and {@link #close()} closes it; one made by {@link #wrap} leaves the
 * encoder to its owner; views never close it. Null arguments throw {@link NullPointerException} naming them.
 *
 * <p>Token usage ({@link Response#tokenUsage()}) is the input token count: the tokens that went through the
 * model, special tokens included, after truncation, taken from the same tokenization as the vectors.
 */
public final class Sbert4jEmbeddingModel implements EmbeddingModel, TokenCountEstimator, AutoCloseable {
    private static final Set<EmbeddingParameter<?>> SUPPORTED = Set.of(EmbeddingRequestParameters.INPUT_TYPE,
            EmbeddingRequestParameters.DIMENSIONS);

    private final SentenceEncoder encoder;
    private final String modelName;
    private final boolean ownsEncoder;
    private final Prompt queryPrompt;
    private final Prompt documentPrompt;
    /** The prompt of this model or view: null (the default), the query or the document prompt. */
    private final EmbeddingInputType view;
    /** Encoders of truncated dimensions, asked for by requests; shared by the views, closed with the owner. */
    private final Map<Integer, SentenceEncoder> truncated;

    private Sbert4jEmbeddingModel(SentenceEncoder encoder, String modelName, boolean ownsEncoder, Prompt queryPrompt,
            Prompt documentPrompt, EmbeddingInputType view, Map<Integer, SentenceEncoder> truncated) {
        this.encoder = encoder;
        this.modelName = modelName;
        this.ownsEncoder = ownsEncoder;
        this.queryPrompt = queryPrompt;
        this.documentPrompt = documentPrompt;
        this.view = view;
        this.truncated = truncated;
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
        return new Sbert4jEmbeddingModel(encoder, modelName, false, encoder.queryPrompt(), encoder.documentPrompt(),
                null, new ConcurrentHashMap<>());
    }

    /** A view of this model that puts the query prompt in front of every text (for retrieval queries). */
    public Sbert4jEmbeddingModel forQueries() {
        return new Sbert4jEmbeddingModel(encoder, modelName, false, queryPrompt, documentPrompt,
                EmbeddingInputType.QUERY, truncated);
    }

    /** A view of this model that puts the document prompt in front of every text (for ingestion). */
    public Sbert4jEmbeddingModel forDocuments() {
        return new Sbert4jEmbeddingModel(encoder, modelName, false, queryPrompt, documentPrompt,
                EmbeddingInputType.DOCUMENT, truncated);
    }

    /** The prompt for {@code type} (null: the default prompt). */
    private Prompt prompt(EmbeddingInputType type) {
        if (type == EmbeddingInputType.QUERY) {
            return queryPrompt;
        }
        return type == EmbeddingInputType.DOCUMENT ? documentPrompt : null;
    }

    @Override
    public Response<Embedding> embed(String text) {
        Objects.requireNonNull(text, "text");
        Encoding encoding = encoder.encodeWithInfo(text, prompt(view));
        return Response.from(Embedding.from(encoding.vector()), new TokenUsage(encoding.tokens()));
    }

    @Override
    public Response<Embedding> embed(TextSegment textSegment) {
        Objects.requireNonNull(textSegment, "textSegment");
        return embed(textSegment.text());
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> textSegments) {
        Objects.requireNonNull(textSegments, "textSegments");
        List<String> texts = new ArrayList<>(textSegments.size());
        int i = 0;
        for (TextSegment segment : textSegments) {
            if (segment == null) {
                throw new NullPointerException("text segment at index " + i + " is null");
            }
            texts.add(segment.text());
            i++;
        }
        return embedTexts(encoder, texts, prompt(view));
    }

    private static Response<List<Embedding>> embedTexts(SentenceEncoder encoder, List<String> texts, Prompt prompt) {
        List<Encoding> encodings = encoder.encodeBatchWithInfo(texts, prompt);
        List<Embedding> embeddings = new ArrayList<>(encodings.size());
        int tokens = 0;
        for (Encoding encoding : encodings) {
            embeddings.add(Embedding.from(encoding.vector()));
            tokens += encoding.tokens();
        }
        return Response.from(embeddings, new TokenUsage(tokens));
    }

    /**
     * LangChain4j's request API: {@code inputType} QUERY or DOCUMENT picks the query or document prompt (unset:
     * this view's), {@code dimensions} keeps the first N components as sentence-transformers' {@code truncate_dim}
     * does (at most {@link #dimension()}; an {@link IllegalArgumentException} otherwise).
     */
    @Override
    public EmbeddingResponse doEmbed(EmbeddingRequest request) {
        Objects.requireNonNull(request, "request");
        List<String> texts = new ArrayList<>(request.inputs().size());
        for (EmbeddingInput input : request.inputs()) {
            texts.add(Objects.requireNonNull(input.text(), "input text"));
        }
        EmbeddingInputType type = request.inputType() != null ? request.inputType() : view;
        Response<List<Embedding>> response = embedTexts(encoderFor(request.dimensions()), texts, prompt(type));
        return EmbeddingResponse.builder().embeddings(response.content())
                .metadata(EmbeddingResponseMetadata.builder().modelName(modelName).tokenUsage(response.tokenUsage())
                        .build())
                .build();
    }

    /** The encoder for vectors of {@code dimensions} components (null: this model's own). */
    private SentenceEncoder encoderFor(Integer dimensions) {
        if (dimensions == null || dimensions == encoder.dimension()) {
            return encoder;
        }
        if (dimensions < 1 || dimensions > encoder.dimension()) {
            throw new IllegalArgumentException("dimensions must be within 1.." + encoder.dimension() + " for "
                    + modelName + ", got " + dimensions);
        }
        return truncated.computeIfAbsent(dimensions, encoder::withTruncateDim);
    }

    @Override
    public Set<EmbeddingParameter<?>> supportedParameters() {
        return SUPPORTED;
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

    /**
     * Tokens of {@code text} alone, with the model's tokenizer: no prompt, no special tokens, before
     * truncation. Counts of the parts of a text add up to about the whole's (exactly where they meet at
     * whitespace), which is how LangChain4j's splitters use them.
     */
    @Override
    public int estimateTokenCountInText(String text) {
        Objects.requireNonNull(text, "text");
        return encoder.countTokens(text, Prompt.none()) - encoder.countTokens("", Prompt.none());
    }

    /** Tokens of the message's texts ({@link #estimateTokenCountInText}); images and other contents count 0. */
    @Override
    public int estimateTokenCountInMessage(ChatMessage message) {
        Objects.requireNonNull(message, "message");
        int tokens = 0;
        for (String text : texts(message)) {
            tokens += estimateTokenCountInText(text);
        }
        return tokens;
    }

    @Override
    public int estimateTokenCountInMessages(Iterable<ChatMessage> messages) {
        Objects.requireNonNull(messages, "messages");
        int tokens = 0;
        for (ChatMessage message : messages) {
            tokens += estimateTokenCountInMessage(message);
        }
        return tokens;
    }

    private static List<String> texts(ChatMessage message) {
        List<String> texts = new ArrayList<>();
        if (message instanceof UserMessage) {
            for (Content c : ((UserMessage) message).contents()) {
                if (c instanceof TextContent) {
                    texts.add(((TextContent) c).text());
                }
            }
        } else if (message instanceof AiMessage) {
            texts.add(((AiMessage) message).text());
        } else if (message instanceof SystemMessage) {
            texts.add(((SystemMessage) message).text());
        } else if (message instanceof ToolExecutionResultMessage) {
            texts.add(((ToolExecutionResultMessage) message).text());
        }
        texts.removeIf(Objects::isNull);
        return texts;
    }

    /**
     * The most tokens ({@link #estimateTokenCountInText}) a document segment may have and still reach the vector
     * whole: the maximum sequence length less the special tokens and the document prompt's tokens. The
     * {@code maxSegmentSize} for {@code DocumentSplitters.recursive(maxSegmentTokens(), overlap, this)}.
     */
    public int maxSegmentTokens() {
        return encoder.maxSequenceLength() - encoder.countTokens("", documentPrompt);
    }

    /** The encoder computing the vectors. */
    public SentenceEncoder encoder() {
        return encoder;
    }

    /**
     * Closes the encoders opened for requests' dimensions (unless this is a view: its model does that), and the
     * encoder if this model opened it; idempotent.
     */
    @Override
    public void close() {
        if (view == null) {
            truncated.values().forEach(SentenceEncoder::close);
        }
        if (ownsEncoder) {
            encoder.close();
        }
    }

    /** Options for {@link Sbert4jEmbeddingModel}: those of {@link SentenceEncoder.Builder}, the name and prompts. */
    public static final class Builder {
        private final Path modelDir;
        private final SentenceEncoder.Builder options;
        private String modelName;
        private Prompt queryPrompt;
        private Prompt documentPrompt;

        private Builder(Path modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
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

        /** See {@link SentenceEncoder.Builder#truncateDim(int)}: every vector cut to this many components. */
        public Builder truncateDim(int dimensions) {
            options.truncateDim(dimensions);
            return this;
        }

        /** See {@link SentenceEncoder.Builder#threads(int)}. */
        public Builder threads(int threads) {
            options.threads(threads);
            return this;
        }

        /** See {@link SentenceEncoder.Builder#defaultPrompt(Prompt)}: the prompt of this model itself. */
        public Builder defaultPrompt(Prompt prompt) {
            options.defaultPrompt(prompt);
            return this;
        }

        /**
         * The prompt of {@link Sbert4jEmbeddingModel#forQueries()} and of QUERY requests (default: the model's
         * {@code query} prompt, as {@code encode_query} picks it, else the default prompt).
         */
        public Builder queryPrompt(Prompt prompt) {
            this.queryPrompt = Objects.requireNonNull(prompt, "prompt (use Prompt.none() for no prompt)");
            return this;
        }

        /**
         * The prompt of {@link Sbert4jEmbeddingModel#forDocuments()} and of DOCUMENT requests (default: the
         * model's {@code document}, {@code passage} or {@code corpus} prompt, as {@code encode_document} picks
         * it, else the default prompt).
         */
        public Builder documentPrompt(Prompt prompt) {
            this.documentPrompt = Objects.requireNonNull(prompt, "prompt (use Prompt.none() for no prompt)");
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
            SentenceEncoder encoder = options.open();
            try {
                Prompt query = queryPrompt != null ? queryPrompt : encoder.queryPrompt();
                Prompt document = documentPrompt != null ? documentPrompt : encoder.documentPrompt();
                // A name the model lacks fails here, not at the first query.
                encoder.countTokens("", query);
                encoder.countTokens("", document);
                return new Sbert4jEmbeddingModel(encoder, name, true, query, document, null, new ConcurrentHashMap<>());
            } catch (RuntimeException e) {
                encoder.close();
                throw e;
            }
        }
    }
}
