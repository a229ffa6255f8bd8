package org.sbert4j.springai;

import java.nio.file.Path;

import org.sbert4j.SentenceEncoder;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration: when {@code sbert4j.model-dir} is set and the
 * application defines no {@link EmbeddingModel} of its own, an
 * {@link Sbert4jEmbeddingModel} bean over that model. The bean owns its
 * encoder: closing the application context closes it.
 *
 * <p>Registered in
 * {@code META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports}.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = Sbert4jProperties.PREFIX, name = "model-dir")
@EnableConfigurationProperties(Sbert4jProperties.class)
public class Sbert4jAutoConfiguration {

    /** The embedding model, opened from the {@code sbert4j.*} properties. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(EmbeddingModel.class)
    public Sbert4jEmbeddingModel sbert4jEmbeddingModel(Sbert4jProperties properties) {
        Path dir = properties.getModelDir();
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
        String name = properties.getModelName();
        if (name == null) {
            Path file = dir.toAbsolutePath().normalize().getFileName();
            name = file == null ? dir.toString() : file.toString();
        }
        return new Sbert4jEmbeddingModel(builder.open(), name, true);
    }
}
