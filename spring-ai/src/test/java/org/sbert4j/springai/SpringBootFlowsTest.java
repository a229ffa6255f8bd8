package org.sbert4j.springai;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sbert4j.Precision;
import org.sbert4j.SentenceEncoder;
import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.embedding.EmbeddingOptions;
import org.springframework.ai.embedding.EmbeddingRequest;
import org.springframework.ai.embedding.TokenCountBatchingStrategy;
import org.springframework.ai.embedding.observation.EmbeddingModelMeterObservationHandler;
import org.springframework.ai.embedding.observation.EmbeddingModelObservationContext;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.DefaultResourceLoader;

/**
 * The Spring AI adapter in Spring Boot's own flows: documented .properties loaded by Boot, the configuration
 * metadata, provider selection, query/document prompts and dimensions against sentence-transformers,
 * classpath: models, observations and meters.
 */
public class SpringBootFlowsTest {
    private static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model"));
    private static final Path FIXTURES = Paths.get(System.getProperty("sbert4j.test.fixtures"));
    private static final Path PROMPTS_MODEL = FIXTURES.resolve("models/prompts-st6");
    private static final Path ROOT = FIXTURES.getParent().getParent();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Configuration
    @EnableAutoConfiguration
    static class App {
    }

    private static ConfigurableApplicationContext start(String... args) {
        return new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).bannerMode(Banner.Mode.OFF)
                .run(Stream.of(args).map(a -> "--" + a).toArray(String[]::new));
    }

    /** The ```properties blocks of a Markdown page, or the <pre> blocks of a Javadoc comment. */
    private static List<String> blocks(Path file, String open, String close, String strip) throws Exception {
        String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(Pattern.quote(open) + "\\n(.*?)" + Pattern.quote(close), Pattern.DOTALL).matcher(text);
        while (m.find()) {
            StringBuilder sb = new StringBuilder();
            for (String line : m.group(1).split("\n")) {
                sb.append(line.replaceFirst(strip, "")).append('\n');
            }
            if (sb.indexOf("sbert4j.") >= 0) {
                out.add(sb.toString());
            }
        }
        return out;
    }

    /** Loads {@code properties} (model-dir pointed at {@code model}) as an application.properties file would be. */
    private ConfigurableApplicationContext startWith(String properties, Path model) throws Exception {
        String text = properties.replaceAll("(?m)^sbert4j\\.model-dir=.*$",
                "sbert4j.model-dir=" + model.toAbsolutePath().toString().replace("\\", "\\\\"));
        Path file = tmp.newFolder().toPath().resolve("application.properties");
        Files.write(file, text.getBytes(StandardCharsets.ISO_8859_1));
        return start("spring.config.location=file:" + file);
    }

    @Test
    public void theDocumentedPropertiesLoadAndBindEveryValue() throws Exception {
        List<String> documented = new ArrayList<>();
        documented.addAll(blocks(ROOT.resolve("docs/adapters.md"), "```properties", "```", "^"));
        documented.addAll(blocks(ROOT.resolve("spring-ai/src/main/java/org/sbert4j/springai/Sbert4jProperties.java"),
                "<pre>", " * </pre>", "^ \\* ?"));
        assertEquals("the docs' block and the Javadoc's", 2, documented.size());
        for (String properties : documented) {
            java.util.Properties parsed = new java.util.Properties();
            parsed.load(new java.io.StringReader(properties));
            for (String key : parsed.stringPropertyNames()) {
                assertFalse(key + " has a comment in its value", parsed.getProperty(key).contains("#"));
            }
            Path model = parsed.getProperty("sbert4j.query-prompt-name") != null ? PROMPTS_MODEL : MODEL;
            try (ConfigurableApplicationContext context = startWith(properties, model)) {
                Sbert4jProperties bound = context.getBean(Sbert4jProperties.class);
                Sbert4jEmbeddingModel bean = context.getBean(Sbert4jEmbeddingModel.class);
                SentenceEncoder encoder = bean.encoder();
                assertEquals(Boolean.valueOf(parsed.getProperty("sbert4j.normalize")), bound.getNormalize());
                assertEquals(Integer.valueOf(parsed.getProperty("sbert4j.max-sequence-length")),
                        Integer.valueOf(encoder.maxSequenceLength()));
                assertEquals(Integer.valueOf(parsed.getProperty("sbert4j.batch-size")), bound.getBatchSize());
                assertEquals(Boolean.valueOf(parsed.getProperty("sbert4j.micro-batching")), bound.isMicroBatching());
                assertEquals(Math.min(Integer.parseInt(parsed.getProperty("sbert4j.threads")),
                        SentenceEncoder.threadBudget()), encoder.threads());
                assertEquals(Precision.valueOf(parsed.getProperty("sbert4j.precision").toUpperCase()), encoder.precision());
                assertEquals(parsed.getProperty("sbert4j.model-name"), bean.modelName());
                if (parsed.getProperty("sbert4j.truncate-dim") != null) {
                    assertEquals(Integer.parseInt(parsed.getProperty("sbert4j.truncate-dim")), encoder.dimension());
                    assertEquals(org.sbert4j.Prompt.named("passage"), bean.documentPrompt());
                    assertEquals(org.sbert4j.Prompt.named("query"), bean.queryPrompt());
                }
            }
        }
    }

    @Test
    public void theConfigurationMetadataListsExactlyTheBoundProperties() throws Exception {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
            assertNotNull("metadata on the class path", in);
            JsonObject metadata = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            Set<String> listed = new TreeSet<>();
            for (JsonElement e : metadata.getAsJsonArray("properties")) {
                JsonObject p = e.getAsJsonObject();
                listed.add(p.get("name").getAsString());
                assertTrue(p + ": a description", p.get("description").getAsString().length() > 10);
                Class.forName(p.get("type").getAsString());
            }
            Set<String> bound = new TreeSet<>();
            for (PropertyDescriptor d : Introspector.getBeanInfo(Sbert4jProperties.class, Object.class).getPropertyDescriptors()) {
                if (d.getWriteMethod() != null) {
                    bound.add("sbert4j." + d.getName().replaceAll("([A-Z])", "-$1").toLowerCase());
                }
            }
            assertEquals(bound, listed);
        }
    }

    @Test
    public void springAiModelEmbeddingSelectsThisProviderAsSpringAisStartersDo() {
        String dir = "sbert4j.model-dir=" + MODEL;
        try (ConfigurableApplicationContext c = start(dir, "spring.ai.model.embedding=sbert4j")) {
            assertEquals(1, c.getBeansOfType(EmbeddingModel.class).size());
        }
        try (ConfigurableApplicationContext c = start(dir)) {
            assertEquals(1, c.getBeansOfType(EmbeddingModel.class).size());
        }
        try (ConfigurableApplicationContext c = start(dir, "spring.ai.model.embedding=openai")) {
            assertEquals(0, c.getBeansOfType(EmbeddingModel.class).size());
            assertFalse(c.containsBean("sbert4jMetrics"));
        }
    }

    private static JsonObject reference() throws Exception {
        return JsonParser.parseString(new String(Files.readAllBytes(FIXTURES.resolve("prompts-st6.query-document.json")),
                StandardCharsets.UTF_8)).getAsJsonObject();
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }

    /** Cosine ≥ 0.99999 and max |difference| ≤ 1e-5, against sentence-transformers' vector. */
    private static void assertClose(String what, JsonArray want, float[] got) {
        assertEquals(what, want.size(), got.length);
        double dot = 0, ww = 0, gg = 0, max = 0;
        for (int i = 0; i < got.length; i++) {
            double w = want.get(i).getAsDouble();
            dot += w * got[i];
            ww += w * w;
            gg += (double) got[i] * got[i];
            max = Math.max(max, Math.abs(w - got[i]));
        }
        assertTrue(what + ": max |diff| " + max, max <= 1e-5);
        assertTrue(what + ": cosine", dot / Math.sqrt(ww * gg) >= 0.99999);
    }

    @Test
    public void queriesAndDocumentsGetTheirPromptsAndDimensionsTruncate() throws Exception {
        JsonObject ref = reference();
        List<String> queries = strings(ref.getAsJsonArray("queries"));
        List<String> documents = strings(ref.getAsJsonArray("documents"));
        int cut = ref.get("truncate_dim").getAsInt();
        try (ConfigurableApplicationContext c = start("sbert4j.model-dir=" + PROMPTS_MODEL)) {
            EmbeddingModel model = c.getBean(EmbeddingModel.class);
            for (int i = 0; i < queries.size(); i++) {
                assertClose("query " + i, ref.getAsJsonArray("query_vectors").get(i).getAsJsonArray(),
                        model.embed(queries.get(i)));
            }
            List<Document> docs = new ArrayList<>();
            documents.forEach(d -> docs.add(new Document(d)));
            for (int i = 0; i < documents.size(); i++) {
                assertClose("document " + i, ref.getAsJsonArray("document_vectors").get(i).getAsJsonArray(),
                        model.embed(docs.get(i)));
            }
            List<float[]> truncated = model.embed(docs, EmbeddingOptions.builder().dimensions(cut).build(),
                    new TokenCountBatchingStrategy());
            for (int i = 0; i < documents.size(); i++) {
                assertClose("truncated document " + i,
                        ref.getAsJsonArray("document_vectors_truncated").get(i).getAsJsonArray(), truncated.get(i));
            }
            // call() uses the default prompt: this model's default_prompt_name is "query".
            List<float[]> byCall = new ArrayList<>();
            model.call(new EmbeddingRequest(queries, EmbeddingOptions.builder().dimensions(cut).build()))
                    .getResults().forEach(r -> byCall.add(r.getOutput()));
            for (int i = 0; i < queries.size(); i++) {
                assertClose("truncated query " + i,
                        ref.getAsJsonArray("query_vectors_truncated").get(i).getAsJsonArray(), byCall.get(i));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.call(
                    new EmbeddingRequest(queries, EmbeddingOptions.builder().dimensions(model.dimensions() + 1).build())));
            assertTrue(e.getMessage(), e.getMessage().contains("dimensions must be within 1.." + model.dimensions()));
            assertThrows(IllegalArgumentException.class, () -> model.call(
                    new EmbeddingRequest(queries, EmbeddingOptions.builder().model("text-embedding-3-small").build())));
        }
    }

    @Test
    public void aClasspathModelInsideAJarIsExtractedOnceAndEncodesAsTheDirectory() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("models.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jo = new JarOutputStream(out);
             Stream<Path> files = Files.walk(PROMPTS_MODEL)) {
            // As the jar tool and Spring Boot's packaging write it: directory entries, then files.
            jo.putNextEntry(new JarEntry("models/"));
            jo.closeEntry();
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = "models/prompts/" + PROMPTS_MODEL.relativize(f).toString().replace('\\', '/');
                if (Files.isDirectory(f)) {
                    jo.putNextEntry(new JarEntry(name.endsWith("/") ? name : name + "/"));
                } else {
                    jo.putNextEntry(new JarEntry(name));
                    jo.write(Files.readAllBytes(f));
                }
                jo.closeEntry();
            }
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader())) {
            DefaultResourceLoader resources = new DefaultResourceLoader(loader);
            Path dir = ModelLocation.resolve("classpath:models/prompts", resources);
            assertEquals("extracted once", dir, ModelLocation.resolve("classpath:models/prompts", resources));
            assertTrue(Files.isRegularFile(dir.resolve("1_Pooling/config.json")));
            try (SentenceEncoder fromJar = SentenceEncoder.open(dir); SentenceEncoder direct = SentenceEncoder.open(PROMPTS_MODEL)) {
                org.junit.Assert.assertArrayEquals(direct.encode("a text"), fromJar.encode("a text"), 0f);
            }
            assertThrows(IllegalArgumentException.class, () -> ModelLocation.resolve("classpath:models/none", resources));
        }
        assertEquals(MODEL, ModelLocation.resolve(MODEL.toString(), new DefaultResourceLoader()));
        assertEquals(MODEL.toAbsolutePath(), ModelLocation.resolve(MODEL.toAbsolutePath().toUri().toString(), new DefaultResourceLoader()).toAbsolutePath());
    }

    @Test
    public void callsAreSpringAiObservationsAndTheCountersAreMeters() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ObservationRegistry observations = ObservationRegistry.create();
        List<EmbeddingModelObservationContext> seen = new ArrayList<>();
        observations.observationConfig().observationHandler(new EmbeddingModelMeterObservationHandler(meters));
        observations.observationConfig().observationHandler(new ObservationHandler<EmbeddingModelObservationContext>() {
            @Override
            public void onStop(EmbeddingModelObservationContext context) {
                seen.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return context instanceof EmbeddingModelObservationContext;
            }
        });
        List<String> texts = List.of("one text", "and another, a little longer", "");
        try (ConfigurableApplicationContext c = new SpringApplicationBuilder(App.class)
                .initializers(ctx -> ctx.getBeanFactory().registerSingleton("observationRegistry", observations))
                .web(WebApplicationType.NONE).bannerMode(Banner.Mode.OFF)
                .run("--sbert4j.model-dir=" + MODEL, "--sbert4j.max-sequence-length=4")) {
            Sbert4jEmbeddingModel model = c.getBean(Sbert4jEmbeddingModel.class);
            int tokens = model.call(new EmbeddingRequest(texts, null)).getMetadata().getUsage().getPromptTokens();
            assertEquals(1, seen.size());
            assertEquals("sbert4j", seen.get(0).getOperationMetadata().provider());
            assertEquals(tokens, (int) meters.get("gen_ai.client.token.usage").tag("gen_ai.token.type", "input")
                    .counter().count());

            SimpleMeterRegistry counters = new SimpleMeterRegistry();
            c.getBean("sbert4jMetrics", io.micrometer.core.instrument.binder.MeterBinder.class).bindTo(counters);
            assertEquals(3.0, counters.get("sbert4j.texts").tag("model", "all-MiniLM-L6-v2").functionCounter().count(), 0);
            assertEquals(tokens, counters.get("sbert4j.tokens").functionCounter().count(), 0);
            assertEquals(1.0, counters.get("sbert4j.truncated.texts").functionCounter().count(), 0);
            assertTrue(counters.get("sbert4j.passes").functionTimer().count() >= 1);
        }
    }
}
