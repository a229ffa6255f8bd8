package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The Java API's promises to a Java team: exceptions with their data, info(), counters, logging, hints. */
public class JavaApiTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static void write(Path file, String text) throws Exception {
        Files.createDirectories(file.getParent());
        Files.write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    public void aMissingDirectoryIsAModelLoadExceptionWithItsPath() {
        Path missing = tmp.getRoot().toPath().resolve("no-such-model");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> SentenceEncoder.open(missing));
        assertTrue(e.path(), e.path().contains("no-such-model"));
        assertTrue(e.getMessage(), e.getMessage().contains("no-such-model"));
    }

    @Test
    public void anUnsupportedPoolingModeIsAnUnsupportedModelExceptionWithItsData() throws Exception {
        Path dir = tmp.newFolder("median").toPath();
        write(dir.resolve("modules.json"), "[{\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},"
                + "{\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"}]");
        write(dir.resolve("1_Pooling/config.json"), "{\"pooling_mode\": \"median\"}");
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> SentenceEncoder.open(dir));
        assertEquals("pooling mode", e.feature());
        assertEquals("median", e.value());
        assertTrue(e.path(), e.path().endsWith("config.json") && e.path().contains("1_Pooling"));
        // Today's message stays.
        assertTrue(e.getMessage(), e.getMessage().contains("1_Pooling/config.json") && e.getMessage().contains("median"));
    }

    @Test
    public void anUnsupportedArchitectureNamesIt() throws Exception {
        Path base = Fixtures.defaultModel();
        Path dir = tmp.newFolder("gpt2").toPath();
        for (String f : new String[] {"modules.json", "sentence_bert_config.json", "tokenizer.json",
                "tokenizer_config.json", "1_Pooling/config.json"}) {
            Files.createDirectories(dir.resolve(f).getParent());
            Files.copy(base.resolve(f), dir.resolve(f));
        }
        write(dir.resolve("config.json"), "{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2Model\"]}");
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> SentenceEncoder.open(dir));
        assertEquals("architecture", e.feature());
        assertEquals("gpt2", e.value());
        assertTrue(e.path(), e.path().endsWith("config.json"));
    }

    @Test
    public void aHubIdPassedAsAPathSaysHowToGetADirectory() {
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> SentenceEncoder.open(Paths.get("sentence-transformers/all-MiniLM-L6-v2")));
        assertTrue(e.getMessage(), e.getMessage().contains("Hub id")
                && e.getMessage().contains("local model directories")
                && e.getMessage().contains("SentenceTransformer('sentence-transformers/all-MiniLM-L6-v2').save("));
        // A missing absolute path is not taken for a Hub id.
        ModelLoadException plain = assertThrows(ModelLoadException.class,
                () -> SentenceEncoder.open(tmp.getRoot().toPath().resolve("a/b")));
        assertTrue(plain.getMessage(), !plain.getMessage().contains("Hub id"));
    }

    @Test
    public void aPromptNameOnAModelWithoutPromptsPointsToPromptLiteral() {
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            assertTrue(enc.prompts().isEmpty());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> enc.encode("x", Prompt.named("query")));
            assertTrue(e.getMessage(), e.getMessage().contains("'query'") && e.getMessage().contains("Prompt.literal"));
        }
    }

    @Test
    public void aTextThatFailsIsATextEncodingExceptionWithItsIndex() throws Exception {
        // The default model without its post-processor: the empty text has no tokens, and cannot be pooled.
        Path base = Fixtures.defaultModel();
        Path dir = tmp.newFolder("no-specials").toPath();
        Files.createDirectories(dir.resolve("1_Pooling"));
        for (String f : new String[] {"config.json", "model.safetensors", "modules.json", "sentence_bert_config.json",
                "tokenizer_config.json", "1_Pooling/config.json"}) {
            Files.copy(base.resolve(f), dir.resolve(f));
        }
        com.google.gson.JsonObject tokenizer = com.google.gson.JsonParser.parseString(
                new String(Files.readAllBytes(base.resolve("tokenizer.json")), StandardCharsets.UTF_8)).getAsJsonObject();
        tokenizer.add("post_processor", com.google.gson.JsonNull.INSTANCE);
        write(dir.resolve("tokenizer.json"), tokenizer.toString());
        try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                texts.add(i == 270 ? "" : "record " + i);
            }
            TextEncodingException e = assertThrows(TextEncodingException.class, () -> enc.encodeBatch(texts));
            assertEquals(270, e.index());
            assertTrue(e.getMessage(), e.getMessage().startsWith("text at index 270: ") && e.getMessage().contains("no tokens"));
            TextEncodingException one = assertThrows(TextEncodingException.class, () -> enc.encode(""));
            assertEquals(0, one.index());
        }
    }

    @Test
    public void anInternalErrorNamesTheVersionAndAsksForAReport() {
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            System.setProperty(SentenceEncoder.TEST_HOOKS_PROPERTY, "true");
            try {
                NativeLibraryException e = assertThrows(NativeLibraryException.class, enc::panicForTesting);
                assertTrue(e.getMessage(), e.getMessage().contains("panic")
                        && e.getMessage().contains("sbert4j " + NativeBridge.VERSION)
                        && e.getMessage().contains("please report it"));
            } finally {
                System.clearProperty(SentenceEncoder.TEST_HOOKS_PROPERTY);
            }
        }
    }

    @Test
    public void infoDescribesTheEncoder() {
        try (SentenceEncoder enc = SentenceEncoder.builder(Fixtures.defaultModel()).precision(Precision.BF16).open()) {
            EncoderInfo info = enc.info();
            assertEquals("bert", info.architecture());
            assertEquals(384, info.dimension());
            assertEquals(256, info.maxSequenceLength());
            assertEquals("mean", info.pooling());
            assertTrue(info.normalizes());
            assertEquals(Precision.BF16, info.precision());
            assertEquals(SentenceEncoder.cpuPath(), info.cpuPath());
            assertEquals(NativeBridge.VERSION, info.libraryVersion());
            assertEquals(enc.threads(), info.threads());
            assertEquals(Fixtures.defaultModel().toAbsolutePath(), info.modelDir());
            assertTrue(info.loadTime().toNanos() > 0);
            String s = info.toString();
            assertTrue(s, s.contains("architecture=bert") && s.contains("dimension=384") && s.contains("pooling=mean")
                    && s.contains("precision=BF16") && s.contains("libraryVersion=" + NativeBridge.VERSION));
        }
        try (SentenceEncoder enc = SentenceEncoder.open(ArchitecturesTest.model("mpnet-mean-st6"))) {
            assertEquals("mpnet", enc.info().architecture());
        }
    }

    @Test
    public void countersCountTextsTokensTruncationsAndPasses() {
        try (SentenceEncoder enc = SentenceEncoder.builder(Fixtures.defaultModel()).microBatching(false).batchSize(8)
                .maxSequenceLength(16).open()) {
            EncoderCounters before = enc.counters();
            assertEquals(0, before.texts());
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                texts.add(i % 5 == 0 ? "a long text that goes on and on, well past sixteen tokens, word after word"
                        : "short " + i);
            }
            List<Encoding> encodings = enc.encodeBatchWithInfo(texts);
            enc.encode("one more");
            EncoderCounters c = enc.counters().since(before);
            long tokens = enc.encodeWithInfo("one more").tokens();
            long truncated = 0;
            for (Encoding e : encodings) {
                tokens += e.tokens();
                truncated += e.truncated() ? 1 : 0;
            }
            assertEquals(21, c.texts());
            assertEquals(tokens, c.tokens());
            assertEquals(4, truncated);
            assertEquals(truncated, c.truncatedTexts());
            // 20 texts in passes of at most 8, and one alone.
            assertTrue(c.toString(), c.passes() >= 4 && c.passes() <= 21);
            assertTrue(c.toString(), c.passNanos() > 0);
        }
    }

    @Test
    public void withTruncateDimGivesWhatTheTruncateDimOptionGives() {
        List<String> texts = Arrays.asList("The quick brown fox", "jumps over the lazy dog");
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel());
             SentenceEncoder cut = enc.withTruncateDim(128);
             SentenceEncoder reference = SentenceEncoder.builder(Fixtures.defaultModel()).truncateDim(128).open()) {
            assertEquals(128, cut.dimension());
            float[][] got = cut.encodeBatch(texts);
            float[][] want = reference.encodeBatch(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(want[i], got[i], 0f);
                assertArrayEquals(Arrays.copyOf(enc.encode(texts.get(i)), 128), got[i], 1e-6f);
            }
            assertThrows(IllegalArgumentException.class, () -> enc.withTruncateDim(385));
            assertThrows(IllegalArgumentException.class, () -> enc.withTruncateDim(0));
        }
    }

    @Test
    public void openingAModelLogsOneInfoLine() {
        Logger logger = Logger.getLogger("org.sbert4j");
        List<LogRecord> records = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (records) {
                    records.add(record);
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            enc.encodeBatch(Arrays.asList("a", "b"));
        } finally {
            logger.removeHandler(handler);
        }
        List<String> opened = new ArrayList<>();
        synchronized (records) {
            for (LogRecord r : records) {
                String line = java.text.MessageFormat.format(r.getMessage(), r.getParameters());
                if (line.startsWith("sbert4j opened")) {
                    assertEquals(java.util.logging.Level.INFO, r.getLevel());
                    opened.add(line);
                }
            }
        }
        assertEquals(opened.toString(), 1, opened.size());
        String line = opened.get(0);
        assertTrue(line, line.contains(Fixtures.defaultModel().toAbsolutePath().toString()) && line.contains("bert")
                && line.contains(" ms"));
        assertNotEquals(0, line.length());
    }

    @Test
    public void loadingTheLibraryLogsOneInfoLine() throws Exception {
        String javaBin = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = Paths.get(LibraryLoadLogMain.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + java.io.File.pathSeparator
                + Paths.get(SentenceEncoder.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(javaBin, "-Djava.library.path=" + System.getProperty("java.library.path"),
                "-cp", classpath, LibraryLoadLogMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(out, 0, p.waitFor());
        // java.util.logging's console handler: a header line, then "INFO: message".
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("INFO: sbert4j ")) {
                lines.add(line);
            }
        }
        assertEquals(out, 1, lines.size());
        String line = lines.get(0);
        assertTrue(line, line.contains("sbert4j " + NativeBridge.VERSION + " loaded: CPU path ")
                && line.contains(" threads, from ") && line.contains("libsbert4j"));
    }
}
