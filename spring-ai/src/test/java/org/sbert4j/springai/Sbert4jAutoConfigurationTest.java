package org.sbert4j.springai;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.junit.Test;
import org.sbert4j.SentenceEncoder;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.EmbeddingResponse;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * A minimal Spring Boot application with the adapter on its class path: one
 * property gives an {@link EmbeddingModel} bean that embeds as
 * {@link SentenceEncoder} does, and closing the context closes the encoder.
 */
public class Sbert4jAutoConfigurationTest {
    private static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model", "../models/all-MiniLM-L6-v2"));
    private static final List<String> TEXTS = List.of(
            "The cat sat on the mat.", "Stock markets fell sharply.", "", "客户投诉物流太慢");

    /** An application: nothing but auto-configuration. */
    @Configuration
    @EnableAutoConfiguration
    static class App {
    }

    /** An application that brings its own EmbeddingModel. */
    @Configuration
    @EnableAutoConfiguration
    static class AppWithItsOwnModel {
        @Bean
        EmbeddingModel myEmbeddingModel() {
            return new Sbert4jEmbeddingModel(SentenceEncoder.open(MODEL), "mine", true);
        }
    }

    /**
     * Starts {@code app} with {@code properties} as command-line arguments: they outrank the environment
     * (Spring binds an environment variable such as SBERT4J_THREADS, which also sets sbert4j's own thread
     * budget, to {@code sbert4j.threads}), so the test sees its own values wherever it runs.
     */
    private static ConfigurableApplicationContext start(Class<?> app, String... properties) {
        return new SpringApplicationBuilder(app)
                .web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF)
                .run(java.util.Arrays.stream(properties).map(p -> "--" + p).toArray(String[]::new));
    }

    @Test
    public void onePropertyGivesAnEmbeddingModelThatEmbedsAsTheEncoder() {
        Sbert4jEmbeddingModel model;
        try (ConfigurableApplicationContext context = start(App.class, "sbert4j.model-dir=" + MODEL);
             SentenceEncoder encoder = SentenceEncoder.open(MODEL)) {
            EmbeddingModel bean = context.getBean(EmbeddingModel.class);
            assertTrue(bean instanceof Sbert4jEmbeddingModel);
            model = (Sbert4jEmbeddingModel) bean;
            assertEquals(384, bean.dimensions());

            for (String text : TEXTS) {
                assertArrayEquals(text, encoder.encode(text), bean.embed(text), 0f);
            }
            assertArrayEquals(encoder.encode("a document"),
                    bean.embed(new Document("a document")), 0f);

            EmbeddingResponse response = bean.call(new EmbeddingRequest(TEXTS, null));
            assertEquals(TEXTS.size(), response.getResults().size());
            for (int i = 0; i < TEXTS.size(); i++) {
                assertEquals(Integer.valueOf(i), response.getResults().get(i).getIndex());
                // A batch's vectors equal single encodes to float rounding (the core's own tests hold it to 1e-6).
                assertArrayEquals(encoder.encode(TEXTS.get(i)), response.getResults().get(i).getOutput(), 1e-6f);
            }
            assertEquals("all-MiniLM-L6-v2", response.getMetadata().getModel());
            int tokens = 0;
            for (String text : TEXTS) {
                tokens += Math.min(encoder.countTokens(text), encoder.maxSequenceLength());
            }
            assertEquals("prompt tokens: the texts' tokens, truncated", Integer.valueOf(tokens),
                    response.getMetadata().getUsage().getPromptTokens());

            List<float[]> vectors = bean.embed(TEXTS);
            assertEquals(TEXTS.size(), vectors.size());
            assertArrayEquals(encoder.encode(TEXTS.get(1)), vectors.get(1), 1e-6f);
            assertFalse(model.encoder().isClosed());
        }
        assertTrue("closing the context closes the encoder", model.encoder().isClosed());
        assertThrows(IllegalStateException.class, () -> model.embed("after close"));
    }

    @Test
    public void optionsAreBoundFromProperties() {
        String longText = "This sentence is long enough that sixteen tokens cut it short before its end is reached.";
        try (ConfigurableApplicationContext context = start(App.class,
                "sbert4j.model-dir=" + MODEL,
                "sbert4j.normalize=false",
                "sbert4j.max-sequence-length=16",
                "sbert4j.batch-size=2",
                "sbert4j.micro-batching=false",
                "sbert4j.threads=1",
                "sbert4j.model-name=minilm");
             SentenceEncoder expected = SentenceEncoder.builder(MODEL)
                     .normalize(false).maxSequenceLength(16).batchSize(2).microBatching(false).open();
             SentenceEncoder defaults = SentenceEncoder.open(MODEL)) {
            Sbert4jEmbeddingModel model = context.getBean(Sbert4jEmbeddingModel.class);
            assertEquals("minilm", model.modelName());
            assertEquals(16, model.encoder().maxSequenceLength());
            assertEquals(1, model.encoder().threads());
            assertFalse(model.encoder().normalizes());
            assertArrayEquals(expected.encode(longText), model.embed(longText), 0f);
            assertNotEquals(defaults.encode(longText)[0], model.embed(longText)[0], 0f);
            EmbeddingResponse response = model.call(new EmbeddingRequest(TEXTS, null));
            for (int i = 0; i < TEXTS.size(); i++) {
                assertArrayEquals(expected.encode(TEXTS.get(i)), response.getResults().get(i).getOutput(), 1e-6f);
            }
        }
    }

    @Test
    public void withoutTheModelDirectoryThereIsNoBean() {
        try (ConfigurableApplicationContext context = start(App.class)) {
            assertEquals(0, context.getBeansOfType(EmbeddingModel.class).size());
        }
    }

    @Test
    public void anApplicationsOwnEmbeddingModelWins() {
        try (ConfigurableApplicationContext context = start(AppWithItsOwnModel.class, "sbert4j.model-dir=" + MODEL)) {
            assertEquals(1, context.getBeansOfType(EmbeddingModel.class).size());
            assertSame(context.getBean("myEmbeddingModel"), context.getBean(EmbeddingModel.class));
            assertEquals("mine", ((Sbert4jEmbeddingModel) context.getBean(EmbeddingModel.class)).modelName());
        }
    }

    @Test
    public void aMissingModelDirectoryFailsTheStartWithTheEncodersMessage() {
        Exception e = assertThrows(Exception.class,
                () -> start(App.class, "sbert4j.model-dir=/nonexistent/model").close());
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertTrue(cause.toString(), cause.getMessage().contains("/nonexistent/model"));
    }
}
