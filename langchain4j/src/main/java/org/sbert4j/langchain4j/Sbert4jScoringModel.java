package org.sbert4j.langchain4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.scoring.ScoringModel;
import org.sbert4j.CrossEncoder;
import org.sbert4j.Precision;

/**
 * A LangChain4j {@link ScoringModel} computed by sbert4j's {@link CrossEncoder}: the scores
 * {@code CrossEncoder(dir).predict([(query, text), ...])} gives in sentence-transformers, in-process. Use it where
 * LangChain4j takes a scoring model, for instance to rerank retrieved content:
 *
 * <pre>{@code
 * ScoringModel reranker = Sbert4jScoringModel.open(Paths.get("models/ms-marco-MiniLM-L6-v2"));
 * ContentAggregator aggregator = ReRankingContentAggregator.builder().scoringModel(reranker).maxResults(5).build();
 * }</pre>
 *
 * <p>{@link #scoreAll} scores every segment against the query in one call (batched, as
 * {@link CrossEncoder#score(String, java.util.List)}). One-label models (rerankers). Thread-safe, like the
 * CrossEncoder. A model made by {@link #open} or {@link #builder} owns its CrossEncoder and {@link #close()}
 * closes it; one made by {@link #wrap} leaves it to its owner.
 */
public final class Sbert4jScoringModel implements ScoringModel, AutoCloseable {
    private final CrossEncoder crossEncoder;
    private final boolean ownsCrossEncoder;

    private Sbert4jScoringModel(CrossEncoder crossEncoder, boolean ownsCrossEncoder) {
        if (crossEncoder.numLabels() != 1) {
            if (ownsCrossEncoder) {
                crossEncoder.close();
            }
            throw new IllegalArgumentException("a ScoringModel needs a one-label CrossEncoder; this one has "
                    + crossEncoder.numLabels() + " labels");
        }
        this.crossEncoder = crossEncoder;
        this.ownsCrossEncoder = ownsCrossEncoder;
    }

    /** Opens the CrossEncoder in {@code modelDir} with the options it declares. */
    public static Sbert4jScoringModel open(Path modelDir) {
        return builder(modelDir).build();
    }

    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /** A {@link ScoringModel} over a CrossEncoder the caller opened and will close. */
    public static Sbert4jScoringModel wrap(CrossEncoder crossEncoder) {
        Objects.requireNonNull(crossEncoder, "crossEncoder");
        return new Sbert4jScoringModel(crossEncoder, false);
    }

    /** The CrossEncoder behind this model. */
    public CrossEncoder crossEncoder() {
        return crossEncoder;
    }

    @Override
    public Response<List<Double>> scoreAll(List<TextSegment> segments, String query) {
        if (segments == null) {
            throw new NullPointerException("segments");
        }
        List<String> texts = new ArrayList<>(segments.size());
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) == null) {
                throw new NullPointerException("segments[" + i + "]");
            }
            texts.add(segments.get(i).text());
        }
        float[] scores = crossEncoder.score(query, texts);
        List<Double> result = new ArrayList<>(scores.length);
        for (float s : scores) {
            result.add((double) s);
        }
        return Response.from(result);
    }

    /** Closes the CrossEncoder if this model opened it. */
    @Override
    public void close() {
        if (ownsCrossEncoder) {
            crossEncoder.close();
        }
    }

    /** Options for opening a CrossEncoder; unset options follow the model directory. */
    public static final class Builder {
        private final CrossEncoder.Builder builder;

        private Builder(Path modelDir) {
            this.builder = CrossEncoder.builder(modelDir);
        }

        /** Truncate pairs at this many tokens instead of the model's {@code max_length}. */
        public Builder maxLength(int tokens) {
            builder.maxLength(tokens);
            return this;
        }

        /** Pairs per forward pass (default 32). */
        public Builder batchSize(int pairs) {
            builder.batchSize(pairs);
            return this;
        }

        public Builder microBatching(boolean enabled) {
            builder.microBatching(enabled);
            return this;
        }

        public Builder threads(int threads) {
            builder.threads(threads);
            return this;
        }

        public Builder precision(Precision precision) {
            builder.precision(precision);
            return this;
        }

        /** The activation instead of the saved one (see {@link CrossEncoder.Builder#activation}). */
        public Builder activation(String activation) {
            builder.activation(activation);
            return this;
        }

        public Sbert4jScoringModel build() {
            return new Sbert4jScoringModel(builder.open(), true);
        }
    }
}
