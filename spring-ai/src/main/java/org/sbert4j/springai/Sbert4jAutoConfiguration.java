package org.sbert4j.springai;

import java.nio.file.Path;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.observation.ObservationRegistry;
import org.sbert4j.Prompt;
import org.sbert4j.SentenceEncoder;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationConvention;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ResourceLoader;

/**
 * Spring Boot auto-configuration: when {@code sbert4j.model-dir} is set, {@code spring.ai.model.embedding} is
 * {@code sbert4j} or unset (as Spring AI's own starters select themselves), and the application defines no
 * {@link EmbeddingModel} of its own, an {@link Sbert4jEmbeddingModel} bean over that model, observed through the
 * application's {@link ObservationRegistry} (Spring AI's embedding observations: timings and token usage), and,
 * with Micrometer on the class path, an {@link Sbert4jMetrics} binder of the encoder's counters. The bean owns
 * its encoder: closing the application context closes it.
 *
 * <p>Registered in
 * {@code META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports}.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = Sbert4jProperties.PREFIX, name = "model-dir")
@ConditionalOnProperty(name = Sbert4jAutoConfiguration.EMBEDDING_MODEL_PROPERTY, havingValue = Sbert4jAutoConfiguration.PROVIDER, matchIfMissing = true)
@EnableConfigurationProperties(Sbert4jProperties.class)
public class Sbert4jAutoConfiguration {
    /** Spring AI's provider selection ({@code SpringAIModelProperties.EMBEDDING_MODEL}). */
    public static final String EMBEDDING_MODEL_PROPERTY = "spring.ai.model.embedding";
    /** This provider's value of {@link #EMBEDDING_MODEL_PROPERTY}. */
    public static final String PROVIDER = "sbert4j";

    /** The embedding model, opened from the {@code sbert4j.*} properties. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(EmbeddingModel.class)
    public Sbert4jEmbeddingModel sbert4jEmbeddingModel(Sbert4jProperties properties, ResourceLoader resourceLoader,
            ObjectProvider<ObservationRegistry> observationRegistry,
            ObjectProvider<EmbeddingModelObservationConvention> observationConvention) {
        Path dir = ModelLocation.resolve(properties.getModelDir(), resourceLoader);
        SentenceEncoder.Builder builder = SentenceEncoder.builder(dir);
        if (properties.getNormalize() != null) {
            builder.normalize(properties.getNormalize());
        }
        if (properties.getMaxSequenceLength() != null) {
            builder.maxSequenceLength(properties.getMaxSequenceLength());
        }
        if (properties.getBatchSize() != null) {
            builder.batchSize(properties.getBatchSize());
        }
        builder.microBatching(properties.isMicroBatching());
        if (properties.getThreads() != null) {
            builder.threads(properties.getThreads());
        }
        if (properties.getPrecision() != null) {
            builder.precision(properties.getPrecision());
        }
        if (properties.getTruncateDim() != null) {
            builder.truncateDim(properties.getTruncateDim());
        }
        String name = properties.getModelName();
        if (name == null) {
            Path file = dir.toAbsolutePath().normalize().getFileName();
            name = file == null ? dir.toString() : file.toString();
        }
        SentenceEncoder encoder = builder.open();
        try {
            Sbert4jEmbeddingModel model = new Sbert4jEmbeddingModel(encoder, name, true,
                    prompt(properties.getQueryPromptName()), prompt(properties.getDocumentPromptName()),
                    observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP));
            observationConvention.ifAvailable(model::setObservationConvention);
            return model;
        } catch (RuntimeException e) {
            encoder.close();
            throw e;
        }
    }

    /** A prompt property: unset, the model's choice (null); empty, none; else one of the model's prompts. */
    private static Prompt prompt(String name) {
        if (name == null) {
            return null;
        }
        return name.isEmpty() ? Prompt.none() : Prompt.named(name);
    }

    /**
     * The encoder's counters as Micrometer meters, when Micrometer is there: Spring Boot binds every
     * {@link MeterBinder} bean to its registries. It binds the sbert4j models of the context, if any (this one's,
     * or the application's own).
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    static class Metrics {
        @Bean
        MeterBinder sbert4jMetrics(ObjectProvider<Sbert4jEmbeddingModel> models) {
            return registry -> models.orderedStream().forEach(m -> new Sbert4jMetrics(m).bindTo(registry));
        }
    }
}
