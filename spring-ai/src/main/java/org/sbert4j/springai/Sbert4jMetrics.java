package org.sbert4j.springai;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.sbert4j.EncoderCounters;
import org.sbert4j.SentenceEncoder;

/**
 * The encoder's counters ({@link SentenceEncoder#counters()}) as Micrometer meters, tagged {@code model}:
 * {@code sbert4j.texts}, {@code sbert4j.tokens}, {@code sbert4j.truncated.texts} (function counters) and
 * {@code sbert4j.passes} (a function timer: forward passes and their time). Spring Boot binds every
 * {@link MeterBinder} bean to its registries; {@link Sbert4jAutoConfiguration} declares one when Micrometer is on
 * the class path.
 */
public final class Sbert4jMetrics implements MeterBinder {
    private final Sbert4jEmbeddingModel model;

    public Sbert4jMetrics(Sbert4jEmbeddingModel model) {
        this.model = Objects.requireNonNull(model, "model");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        String name = model.modelName();
        FunctionCounter.builder("sbert4j.texts", model, m -> read(m, EncoderCounters::texts))
                .description("texts encoded").baseUnit("texts").tag("model", name).register(registry);
        FunctionCounter.builder("sbert4j.tokens", model, m -> read(m, EncoderCounters::tokens))
                .description("tokens that went through the model, after truncation").baseUnit("tokens")
                .tag("model", name).register(registry);
        FunctionCounter.builder("sbert4j.truncated.texts", model, m -> read(m, EncoderCounters::truncatedTexts))
                .description("texts cut at the maximum sequence length").baseUnit("texts").tag("model", name)
                .register(registry);
        FunctionTimer.builder("sbert4j.passes", model, m -> (long) read(m, EncoderCounters::passes),
                m -> read(m, EncoderCounters::passNanos), TimeUnit.NANOSECONDS)
                .description("forward passes and their time").tag("model", name).register(registry);
    }

    /** One counter, or NaN once the encoder is closed (a registry may read after the context closed). */
    private static double read(Sbert4jEmbeddingModel model, ToLongFunction<EncoderCounters> counter) {
        try {
            return counter.applyAsLong(model.encoder().counters());
        } catch (IllegalStateException closed) {
            return Double.NaN;
        }
    }
}
