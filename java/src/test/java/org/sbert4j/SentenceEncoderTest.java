package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The public API through the real native library: shape, batching, sharing, lifecycle, errors. */
public class SentenceEncoderTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static SentenceEncoder openDefault() {
        return SentenceEncoder.open(Fixtures.defaultModel());
    }

    @Test
    public void reportsTheModelsShape() {
        try (SentenceEncoder enc = openDefault()) {
            assertEquals(384, enc.dimension());
            assertEquals(256, enc.maxSequenceLength());
            assertTrue(enc.normalizes());
            float[] v = enc.encode("The quick brown fox");
            assertEquals(384, v.length);
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            assertEquals(1.0, Math.sqrt(norm), 1e-5);
        }
    }

    @Test
    public void reportsTheCoresShareOfTheCallingThreadsLastCall() throws Exception {
        try (SentenceEncoder enc = openDefault()) {
            enc.encode("warm-up");
            long started = System.nanoTime();
            enc.encode("The quick brown fox jumps over the lazy dog, twice over.");
            long whole = System.nanoTime() - started;
            long core = SentenceEncoder.lastEncodeCoreNanos();
            assertTrue("core " + core + " ns of a " + whole + " ns call", core > 0 && core < whole);
            // Per thread: another thread's call leaves this thread's figure alone.
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                long others = other.submit(() -> {
                    enc.encodeBatch(Collections.nCopies(64, "a much longer batch than one text"));
                    return SentenceEncoder.lastEncodeCoreNanos();
                }).get();
                assertTrue(others > core);
            } finally {
                other.shutdown();
            }
            assertEquals(core, SentenceEncoder.lastEncodeCoreNanos());
        }
    }

    @Test
    public void batchEqualsSingleWhateverTheComposition() throws Exception {
        List<String> texts = Fixtures.reference("all-MiniLM-L6-v2.reference.json").cases.get(0).texts;
        try (SentenceEncoder enc = SentenceEncoder.builder(Fixtures.defaultModel()).batchSize(5).open()) {
            List<float[]> singles = new ArrayList<>();
            for (String t : texts) {
                singles.add(enc.encode(t));
            }
            List<String> mixed = new ArrayList<>(texts);
            Collections.reverse(mixed);
            mixed.addAll(texts.subList(0, 4));
            float[][] batch = enc.encodeBatch(mixed);
            assertEquals(mixed.size(), batch.length);
            for (int i = 0; i < mixed.size(); i++) {
                float[] single = singles.get(texts.indexOf(mixed.get(i)));
                float diff = Fixtures.maxAbsDiff(batch[i], single);
                assertTrue("text " + i + ": max |difference| " + diff, diff <= 1e-5f);
            }
            assertEquals(0, enc.encodeBatch(Collections.emptyList()).length);
        }
    }

    @Test
    public void openingTheSameDirectoryTwiceSharesTheWeights() {
        assertEquals("every other test closes its encoders", 0, SentenceEncoder.loadedModelCount());
        try (SentenceEncoder a = openDefault(); SentenceEncoder b = openDefault()) {
            assertEquals("two encoders, one model", 1, SentenceEncoder.loadedModelCount());
            assertArrayEquals(a.encode("shared"), b.encode("shared"), 0f);
            a.close();
            assertEquals("b still holds the weights", 1, SentenceEncoder.loadedModelCount());
            assertNotNull(b.encode("still usable"));
        }
        assertEquals("the last close frees the weights", 0, SentenceEncoder.loadedModelCount());
    }

    @Test
    public void closeIsIdempotentAndLaterCallsThrowIllegalState() {
        SentenceEncoder enc = openDefault();
        assertFalse(enc.isClosed());
        enc.close();
        enc.close();
        assertTrue(enc.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> enc.encode("x"));
        assertTrue(e.getMessage(), e.getMessage().contains("closed"));
        assertThrows(IllegalStateException.class, () -> enc.encodeBatch(Arrays.asList("a", "b")));
    }

    @Test
    public void closeWhileOtherThreadsEncodeNeverCrashes() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 5; round++) {
                SentenceEncoder enc = openDefault();
                List<Future<?>> running = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    running.add(pool.submit(() -> {
                        for (int i = 0; i < 20; i++) {
                            try {
                                assertEquals(384, enc.encode("text number " + i).length);
                            } catch (IllegalStateException closed) {
                                return; // the one allowed failure after close
                            }
                        }
                    }));
                }
                Thread.sleep(5);
                enc.close();
                for (Future<?> f : running) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void nullInputIsANullPointerExceptionNamingTheArgument() {
        // The one null policy (docs/java-api.md): NullPointerException naming the argument or the index.
        try (SentenceEncoder enc = openDefault()) {
            assertEquals("text", assertThrows(NullPointerException.class, () -> enc.encode(null)).getMessage());
            assertEquals("texts", assertThrows(NullPointerException.class, () -> enc.encodeBatch(null)).getMessage());
            NullPointerException e = assertThrows(NullPointerException.class,
                    () -> enc.encodeBatch(Arrays.asList("a", null, "c")));
            assertTrue(e.getMessage(), e.getMessage().contains("index 1"));
            assertThrows(NullPointerException.class, () -> enc.countTokens(null));
        }
        assertEquals("modelDir", assertThrows(NullPointerException.class, () -> SentenceEncoder.open(null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> SentenceEncoder.builder(Fixtures.defaultModel()).batchSize(0));
    }

    @Test
    public void brokenModelsGiveASentenceEncoderExceptionNamingTheFile() throws Exception {
        Path missing = tmp.getRoot().toPath().resolve("no-such-model");
        SentenceEncoderException e = assertThrows(SentenceEncoderException.class, () -> SentenceEncoder.open(missing));
        assertTrue(e.getMessage(), e.getMessage().contains("no-such-model"));

        Path dir = tmp.newFolder("unsupported-pooling").toPath();
        Files.createDirectories(dir.resolve("1_Pooling"));
        Files.write(dir.resolve("modules.json"), ("[{\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},"
                + "{\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"}]").getBytes(StandardCharsets.UTF_8));
        Files.write(dir.resolve("1_Pooling/config.json"),
                "{\"pooling_mode\": \"median\"}".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(SentenceEncoderException.class, () -> SentenceEncoder.open(dir));
        assertTrue(e.getMessage(), e.getMessage().contains("1_Pooling/config.json") && e.getMessage().contains("median"));

        // The JVM lives on and a good model still opens.
        try (SentenceEncoder enc = openDefault()) {
            assertEquals(384, enc.encode("after the failures").length);
        }
    }

    @Test
    public void unpairedSurrogatesEncodeAsTheReplacementCharacter() {
        try (SentenceEncoder enc = openDefault()) {
            assertArrayEquals(enc.encode("a \uFFFD b"), enc.encode("a \uD800 b"), 0f);
            assertArrayEquals(enc.encode("\uFFFD"), enc.encode("\uDC00"), 0f);
            assertArrayEquals(enc.encode("x\uD83D\uDE00"), enc.encode("x\uD83D\uDE00"), 0f); // a real pair stays
        }
    }
}
