package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

/**
 * 16 threads mixing encode and encodeBatch on shared encoders while another
 * thread opens and closes encoders of the same model: every vector equals
 * the single-threaded one, and nothing deadlocks.
 */
public class StressTest {
    private static final int THREADS = 16;
    private static final int ROUNDS = 6;

    @Test(timeout = 300_000)
    public void concurrentCallersGetTheSingleThreadedVectors() throws Exception {
        List<String> texts = new ArrayList<>();
        for (String t : Fixtures.reference("all-MiniLM-L6-v2.reference.json").cases.get(0).texts) {
            if (t.length() < 200) {
                texts.add(t);
            }
        }
        try (SentenceEncoder plain = SentenceEncoder.open(Fixtures.defaultModel());
             SentenceEncoder raw = SentenceEncoder.builder(Fixtures.defaultModel()).normalize(false).open()) {
            Map<String, float[]> wantPlain = new HashMap<>();
            Map<String, float[]> wantRaw = new HashMap<>();
            float[][] wantBatch = plain.encodeBatch(texts);
            for (String t : texts) {
                wantPlain.put(t, plain.encode(t));
                wantRaw.put(t, raw.encode(t));
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger opened = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
            CountDownLatch start = new CountDownLatch(1);
            Future<?> churn = pool.submit(() -> {
                start.await();
                while (!stop.get()) {
                    try (SentenceEncoder e = SentenceEncoder.open(Fixtures.defaultModel())) {
                        assertEquals(384, e.encode("churn").length);
                        opened.incrementAndGet();
                    }
                }
                return null;
            });
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < THREADS; w++) {
                int id = w;
                workers.add(pool.submit(() -> {
                    start.await();
                    for (int r = 0; r < ROUNDS; r++) {
                        String t = texts.get((id * 7 + r) % texts.size());
                        if ((id + r) % 3 == 0) {
                            float[][] got = plain.encodeBatch(texts);
                            for (int i = 0; i < texts.size(); i++) {
                                assertWithin(got[i], wantBatch[i], "batch text " + i);
                            }
                        } else if ((id + r) % 3 == 1) {
                            assertWithin(plain.encode(t), wantPlain.get(t), t);
                        } else {
                            assertWithin(raw.encode(t), wantRaw.get(t), t);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : workers) {
                f.get(240, TimeUnit.SECONDS);
            }
            stop.set(true);
            churn.get(60, TimeUnit.SECONDS);
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
            assertTrue("the churning thread opened encoders meanwhile", opened.get() > 0);
        }
        assertEquals(0, SentenceEncoder.loadedModelCount());
    }

    @Test(timeout = 120_000)
    public void microBatchingOnAndOffGiveTheSameVectors() throws Exception {
        List<String> texts = Fixtures.reference("all-MiniLM-L6-v2.reference.json").cases.get(0).texts;
        try (SentenceEncoder off = SentenceEncoder.builder(Fixtures.defaultModel()).microBatching(false).open();
             SentenceEncoder on = SentenceEncoder.builder(Fixtures.defaultModel()).microBatching(true).batchSize(8).open()) {
            Map<String, float[]> want = new HashMap<>();
            for (String t : texts) {
                want.put(t, off.encode(t));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int id = w;
                workers.add(pool.submit(() -> {
                    start.await();
                    for (int k = 0; k < 2 * texts.size(); k++) {
                        String t = texts.get((k + id * 3) % texts.size());
                        assertWithin(on.encode(t), want.get(t), t);
                        assertWithin(off.encode(t), want.get(t), t);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : workers) {
                f.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            // Every single-text call of `on` went through the queue; passes held one or more each.
            assertFalse(off.microBatchingStats().isPresent());
            SentenceEncoder.MicroBatchingStats stats = on.microBatchingStats().get();
            assertEquals(8L * 2 * texts.size(), stats.texts());
            assertTrue(stats.toString(), stats.passes() >= 1 && stats.passes() <= stats.texts());
        }
    }

    private static void assertWithin(float[] got, float[] want, String what) {
        float diff = Fixtures.maxAbsDiff(got, want);
        assertTrue(what + ": max |difference| " + diff, diff <= 1e-6f);
    }
}
