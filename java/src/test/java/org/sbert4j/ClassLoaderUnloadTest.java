package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.Test;

/**
 * An application server redeploying: 20 times, a fresh class loader over the jar loads its own copy of the
 * library, encodes (single texts and a batch, so every kind of native helper thread starts), and is dropped. When
 * the JVM collects the loader it unloads the library copy, whose JNI_OnUnload stops that copy's helper threads:
 * afterwards the process has as many threads as before (native ones included, counted by the OS) and the JVM
 * as many live Java threads.
 */
public class ClassLoaderUnloadTest {
    private static final int CYCLES = 20;

    /** Threads of this process as the OS counts them (Java and native), or -1 where unknown. */
    private static int osThreads() throws Exception {
        Path status = Paths.get("/proc/self/status");
        if (!Files.isReadable(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status, StandardCharsets.UTF_8)) {
            if (line.startsWith("Threads:")) {
                return Integer.parseInt(line.substring("Threads:".length()).trim());
            }
        }
        return -1;
    }

    private static int jvmThreads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** One deployment: load, use, close; returns a weak reference to its class loader. */
    private static WeakReference<ClassLoader> deployOnce(float[] expected) throws Exception {
        Path jar = Paths.get(System.getProperty("sbert4j.test.jar", "build/libs/sbert4j-0.1.0.jar"));
        URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> theirs = Class.forName("org.sbert4j.SentenceEncoder", true, loader);
        Object enc = theirs.getMethod("open", Path.class).invoke(null, Fixtures.defaultModel());
        try {
            float[] v = (float[]) theirs.getMethod("encode", String.class).invoke(enc, "redeployed");
            assertArrayEquals(expected, v, 1e-6f);
            float[][] batch = (float[][]) theirs.getMethod("encodeBatch", List.class)
                    .invoke(enc, List.of("redeployed", "twice", "and a longer third text for a batch"));
            assertArrayEquals(expected, batch[0], 1e-6f);
        } finally {
            theirs.getMethod("close").invoke(enc);
        }
        loader.close();
        return new WeakReference<>(loader);
    }

    private static void awaitCollected(WeakReference<ClassLoader> ref) throws InterruptedException {
        for (int i = 0; i < 500 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull("the class loader was never collected", ref.get());
    }

    @Test
    public void twentyRedeploymentsLeaveNoThreadsBehind() throws Exception {
        float[] expected;
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            expected = enc.encode("redeployed");
        }
        // Warm up what the JVM itself starts once (reference handler work, JIT threads) before counting.
        awaitCollected(deployOnce(expected));
        Thread.sleep(200);
        int osBefore = osThreads();
        int jvmBefore = jvmThreads();
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            awaitCollected(deployOnce(expected));
        }
        // Collected loaders unload their libraries (JNI_OnUnload) on the JVM's own schedule: wait for it.
        int os = osThreads();
        int jvm = jvmThreads();
        for (int i = 0; i < 200 && (os > osBefore || jvm > jvmBefore); i++) {
            System.gc();
            Thread.sleep(50);
            os = osThreads();
            jvm = jvmThreads();
        }
        System.out.println("ClassLoaderUnloadTest: threads before " + osBefore + " (OS) / " + jvmBefore + " (JVM), after "
                + CYCLES + " redeployments " + os + " / " + jvm);
        assertTrue("JVM threads: " + jvmBefore + " before, " + jvm + " after " + CYCLES + " redeployments",
                jvm <= jvmBefore);
        if (osBefore >= 0) {
            assertTrue("process threads (native included): " + osBefore + " before, " + os + " after " + CYCLES
                    + " redeployments", os <= osBefore);
        }
        // This class loader's encoder still works.
        try (SentenceEncoder enc = SentenceEncoder.open(Fixtures.defaultModel())) {
            assertArrayEquals(expected, enc.encode("redeployed"), 1e-6f);
        }
        assertEquals(0, SentenceEncoder.loadedModelCount());
    }
}
