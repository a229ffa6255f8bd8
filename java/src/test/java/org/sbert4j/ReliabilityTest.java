package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Odd input, broken models, panics and forgotten encoders: clear exceptions, nothing lost, the JVM lives on. */
public class ReliabilityTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void aRustPanicBecomesASentenceEncoderExceptionAndTheEncoderStaysUsable() {
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            float[] before = enc.encode("before the panic");
            // The panic hook is off unless its system property is set.
            assertThrows(UnsupportedOperationException.class, enc::panicForTesting);
            System.setProperty(SentenceEncoder.TEST_HOOKS_PROPERTY, "true");
            try {
                SentenceEncoderException e = assertThrows(SentenceEncoderException.class, enc::panicForTesting);
                assertTrue(e.getMessage(), e.getMessage().contains("panic"));
            } finally {
                System.clearProperty(SentenceEncoder.TEST_HOOKS_PROPERTY);
            }
            org.junit.Assert.assertArrayEquals(before, enc.encode("before the panic"), 0f);
        }
    }

    /** A fixture model's copy whose tokenizer adds no special tokens: the empty text then has no tokens. */
    private Path withoutSpecialTokens() throws Exception {
        Path base = ArchitecturesTest.model("bert-mean-sqrt-len-st6");
        Path dir = tmp.newFolder("no-specials").toPath();
        Files.createDirectories(dir.resolve("1_Pooling"));
        for (String f : new String[] {"config.json", "model.safetensors", "modules.json", "sentence_bert_config.json",
                "tokenizer_config.json", "1_Pooling/config.json"}) {
            Files.copy(base.resolve(f), dir.resolve(f));
        }
        com.google.gson.JsonObject tokenizer = com.google.gson.JsonParser.parseString(
                new String(Files.readAllBytes(base.resolve("tokenizer.json")), StandardCharsets.UTF_8)).getAsJsonObject();
        tokenizer.add("post_processor", com.google.gson.JsonNull.INSTANCE);
        Files.write(dir.resolve("tokenizer.json"), tokenizer.toString().getBytes(StandardCharsets.UTF_8));
        return dir;
    }

    @Test
    public void aTextThatCannotBeEncodedFailsAloneAmongManyThreads() throws Exception {
        Path dir = withoutSpecialTokens();
        try (SentenceEncoder enc = SentenceEncoder.open(dir);
             SentenceEncoder plain = SentenceEncoder.builder(dir).microBatching(false).open()) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
            java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int round = 0; round < 10; round++) {
                        String text = thread == 3 && round % 2 == 0 ? "" : "text " + thread + " " + round;
                        try {
                            org.junit.Assert.assertArrayEquals(text, plain.encode(text), enc.encode(text), 0f);
                        } catch (SentenceEncoderException e) {
                            assertTrue(text + ": " + e.getMessage(), text.isEmpty() && e.getMessage().contains("no tokens"));
                            failures.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            assertEquals("only the bad text's calls failed", 5, failures.get());

            // encodeBatch is all or nothing, naming the index in the caller's list (past the first native chunk).
            java.util.List<String> texts = new java.util.ArrayList<>();
            for (int i = 0; i < 700; i++) {
                texts.add(i == 612 ? "" : "record " + i);
            }
            SentenceEncoderException e = assertThrows(SentenceEncoderException.class, () -> enc.encodeBatch(texts));
            assertTrue(e.getMessage(), e.getMessage().startsWith("text at index 612: ") && e.getMessage().contains("no tokens"));
            assertEquals(3, enc.encodeBatch(texts.subList(0, 3)).length);
        }
    }

    @Test
    public void encodeBatchHonoursInterruptsBetweenChunks() throws Exception {
        java.util.List<String> texts = new java.util.ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            texts.add("a record of the pipeline, number " + i);
        }
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            // Interrupted before the call: nothing is encoded, the status is kept.
            Thread.currentThread().interrupt();
            java.util.concurrent.CancellationException e = assertThrows(java.util.concurrent.CancellationException.class,
                    () -> enc.encodeBatch(texts));
            assertTrue(e.getMessage(), e.getMessage().contains("after 0 of 20000"));
            assertTrue("interrupt status kept", Thread.interrupted());

            // Interrupted during the call: it stops at the next chunk, long before the end.
            java.util.concurrent.atomic.AtomicReference<Throwable> outcome = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean stillInterrupted = new java.util.concurrent.atomic.AtomicBoolean();
            Thread worker = new Thread(() -> {
                try {
                    enc.encodeBatch(texts);
                } catch (Throwable t) {
                    outcome.set(t);
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                }
            });
            worker.start();
            Thread.sleep(300);
            long interrupted = System.nanoTime();
            worker.interrupt();
            worker.join(60_000);
            double seconds = (System.nanoTime() - interrupted) / 1e9;
            assertTrue("stopped after " + seconds + " s", !worker.isAlive());
            assertTrue(String.valueOf(outcome.get()), outcome.get() instanceof java.util.concurrent.CancellationException);
            assertTrue(stillInterrupted.get());
            assertEquals(384, enc.encode("the encoder is still usable").length);
        }
    }

    @Test
    public void closeWithATimeoutReturnsWhileACallRunsAndTheLastCallReleases() throws Exception {
        StringBuilder longText = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            longText.append("word").append(i).append(' ');
        }
        // 64 texts of 256 tokens: seconds of work, far longer than the 50 ms below.
        java.util.List<String> texts = java.util.Collections.nCopies(64, longText.toString());
        SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel());
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Object> outcome = new java.util.concurrent.atomic.AtomicReference<>();
        Thread worker = new Thread(() -> {
            started.countDown();
            try {
                outcome.set(enc.encodeBatch(texts)); // one native chunk
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        worker.start();
        started.await();
        Thread.sleep(50);
        assertEquals("the call is still running", false, enc.close(java.time.Duration.ofMillis(1)));
        assertTrue(enc.isClosed());
        assertThrows(IllegalStateException.class, () -> enc.encode("after close"));
        worker.join(300_000);
        assertTrue(String.valueOf(outcome.get()), outcome.get() instanceof float[][]);
        assertTrue("released by the last call, so a later close has nothing to wait for",
                enc.close(java.time.Duration.ZERO));
    }

    @Test
    public void aTenMegabyteStringGivesTheVectorOfItsFirstTokens() throws Exception {
        Fixtures.Case c = Fixtures.reference("all-MiniLM-L6-v2.reference.json").cases.get(0);
        int i = 0;
        while (c.texts.get(i).length() < 1000 || !c.texts.get(i).contains(" ")) {
            i++;
        }
        StringBuilder sb = new StringBuilder(c.texts.get(i)).append(' ');
        while (sb.length() < 10_000_000) {
            sb.append("and the debate went on into the night ");
        }
        String huge = sb.toString();
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            long started = System.nanoTime();
            float[] v = enc.encode(huge);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("10 MB string encoded in %.3f s%n", seconds);
            Fixtures.assertClose(v, c.vectors.get(i), 1e-5f, "10 MB string");
            assertTrue("took " + seconds + " s", seconds < 3);
        }
    }

    @Test
    public void brokenModelsFailClearlyAndAGoodModelStillOpens() throws Exception {
        Path base = Fixtures.defaultModel();
        String[][] cases = {
            // file to break, its new content, what the message must say
            {"model.safetensors", null, "model.safetensors"},
            {"tokenizer.json", "{\"version\": \"1.0\"}", "invalid tokenizer"},
            {"config.json", "{\"model_type\": \"gpt2\", \"vocab_size\": 8, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
                    + " \"num_attention_heads\": 2, \"intermediate_size\": 8, \"max_position_embeddings\": 8}", "unsupported architecture 'gpt2'"},
            {"1_Pooling/config.json", "{ broken", "invalid JSON"},
        };
        for (String[] c : cases) {
            Path dir = tmp.newFolder().toPath();
            for (String f : new String[] {"config.json", "tokenizer.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"}) {
                Files.createDirectories(dir.resolve(f).getParent());
                Files.copy(base.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
            if (c[1] == null) { // truncated weights
                byte[] head = new byte[1 << 20];
                try (java.io.InputStream in = Files.newInputStream(base.resolve("model.safetensors"))) {
                    assertEquals(head.length, in.readNBytes(head, 0, head.length));
                }
                Files.write(dir.resolve("model.safetensors"), head);
            } else {
                Files.createSymbolicLink(dir.resolve("model.safetensors"), base.resolve("model.safetensors").toAbsolutePath());
                Files.write(dir.resolve(c[0]), c[1].getBytes(StandardCharsets.UTF_8));
            }
            SentenceEncoderException e = assertThrows(SentenceEncoderException.class, () -> SentenceEncoder.open(dir));
            assertTrue(e.getMessage(), e.getMessage().contains(c[0]) && e.getMessage().contains(c[2]));
        }
        assertEquals("failed opens leave nothing loaded", 0, SentenceEncoder.loadedModelCount());
        try (SentenceEncoder enc = SentenceEncoder.open(base)) {
            assertEquals(384, enc.encode("after the failures").length);
        }
    }

    @Test
    public void anEncoderThatIsNeverClosedIsReleasedByTheCleaner() throws Exception {
        assertEquals(0, SentenceEncoder.loadedModelCount());
        openAndForget();
        assertEquals(1, SentenceEncoder.loadedModelCount());
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (SentenceEncoder.loadedModelCount() > 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals("the Cleaner released the forgotten encoder", 0, SentenceEncoder.loadedModelCount());
    }

    /**
     * 100,000 texts of ~40 tokens in one call: the native side works through them in chunks and
     * batches under a token budget, so its peak memory does not grow with the list. Kept whole, the
     * hidden states alone would take ~400 MB here; the peak RSS of the whole call (Java's result and
     * heap included) must stay under 128 MiB above where it started.
     */
    @Test(timeout = 300_000)
    public void aHundredThousandTextBatchRunsInBoundedMemory() throws Exception {
        java.util.List<String> texts = new java.util.ArrayList<>();
        java.util.Random random = new java.util.Random(42);
        String[] words = {"parcel", "late", "refund", "客服", "物流", "quality", "price", "delivery", "Москва", "🍕"};
        for (int i = 0; i < 100_000; i++) {
            StringBuilder sb = new StringBuilder("text ").append(i);
            for (int w = 0; w < 20; w++) {
                sb.append(' ').append(words[random.nextInt(words.length)]);
            }
            texts.add(sb.toString());
        }
        Path model = ArchitecturesTest.model("bert-mean-sqrt-len");
        try (SentenceEncoder enc = SentenceEncoder.open(model)) {
            enc.encode("warm-up");
            System.gc();
            long before = Memory.residentBytes();
            Memory.resetPeak();
            long start = System.nanoTime();
            float[][] got = enc.encodeBatch(texts);
            long peakGrowth = Memory.peakResidentBytes() - before;
            System.err.printf("100,000 texts in %.1f s, peak RSS %d MiB above the start%n",
                    (System.nanoTime() - start) / 1e9, peakGrowth >> 20);
            assertEquals(texts.size(), got.length);
            for (int i = 0; i < texts.size(); i += 997) {
                float diff = Fixtures.maxAbsDiff(got[i], enc.encode(texts.get(i)));
                assertTrue("text " + i + ": batch vs single " + diff, diff <= 1e-6f);
            }
            assertTrue("peak RSS grew by " + (peakGrowth >> 20) + " MiB", peakGrowth < (128L << 20));
        }
    }

    private static void openAndForget() {
        SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel());
        assertEquals(384, enc.encode("forgotten").length);
    }
}
