package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Set;
import org.junit.Assume;
import org.junit.Test;

/**
 * The CPU path: {@code -Dsbert4j.cpu} reaches the library, and forcing a path the CPU lacks fails with a clear
 * {@link SentenceEncoderException}. The build runs this class (with the parity tests) once per CPU path.
 */
public class CpuPathTest {
    private static final Set<String> PATHS = Set.of("avx512", "avx2", "neon", "portable");

    @Test
    public void theRequestedPathIsTheOneThatRuns() {
        String forced = System.getProperty(NativeLoader.CPU_PROPERTY);
        String path = SentenceEncoder.cpuPath();
        if (forced != null && !forced.isEmpty() && !forced.equals("auto")) {
            assertEquals("-Dsbert4j.cpu=" + forced, forced, path);
        } else {
            assertTrue(path, PATHS.contains(path));
            String arch = System.getProperty("os.arch");
            if (arch.equals("aarch64") || arch.equals("arm64")) {
                assertEquals("auto on aarch64", "neon", path);
            }
        }
        assertTrue(SentenceEncoder.threadBudget() >= 1);
        System.out.println("CpuPathTest: path " + path + ", thread budget " + SentenceEncoder.threadBudget());
    }

    @Test
    public void aPathTheCpuLacksIsAClearError() throws Exception {
        String forced = System.getProperty(NativeLoader.CPU_PROPERTY);
        Assume.assumeTrue("runs where auto chose the path", forced == null || forced.isEmpty() || forced.equals("auto"));
        // auto takes the best path: unless that is avx512, this CPU lacks AVX-512; otherwise try an unknown name.
        boolean hasAvx512 = SentenceEncoder.cpuPath().equals("avx512");
        String request = hasAvx512 ? "sse9" : "avx512";
        String expected = hasAvx512 ? "unknown CPU path 'sse9'" : "the avx512 CPU path was forced";
        System.setProperty(NativeLoader.CPU_PROPERTY, request);
        try (Fixtures.FreshCopy copy = new Fixtures.FreshCopy()) {
            String msg = copy.openFailure();
            assertTrue(msg, msg.contains(expected));
            System.out.println("CpuPathTest: -Dsbert4j.cpu=" + request + " gives: " + msg);
        } finally {
            System.clearProperty(NativeLoader.CPU_PROPERTY);
        }
    }
}
