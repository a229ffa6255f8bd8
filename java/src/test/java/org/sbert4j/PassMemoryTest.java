package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.junit.Assume;
import org.junit.Test;

/**
 * A forward pass whose memory cannot be had (a huge batch, a process's memory cap) is a
 * {@link SentenceEncoderException}, and the JVM lives on: in a JVM of its own ({@link PassMemoryMain}) that
 * caps its virtual memory, once warm, a little above what it uses. The cap is set by the child on itself,
 * with {@code prlimit}, so that it follows the JVM's real footprint on any machine (a fixed {@code ulimit -v}
 * would have to guess it); the child runs interpreted ({@code -Xint}: no compiler thread needs native memory
 * under the cap) with few malloc arenas. all-mpnet-base-v2: one text's pass (384 tokens) needs more than the
 * headroom, so the batch's text-by-text retry fails too.
 */
public class PassMemoryTest {
    @Test
    public void aPassBeyondTheMemoryCapIsAnExceptionAndTheJvmLivesOn() throws Exception {
        Assume.assumeTrue("needs /proc and prlimit", new File("/proc/self/status").exists()
                && (new File("/usr/bin/prlimit").canExecute() || new File("/bin/prlimit").canExecute()));
        String configured = System.getProperty("sbert4j.test.mpnet");
        Path model = Paths.get(configured != null ? configured : "models/all-mpnet-base-v2");
        Assume.assumeTrue(model + " is missing: run `python3 models/fetch_mpnet_model.py`",
                Files.isRegularFile(model.resolve("model.safetensors")));
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = location(PassMemoryMain.class) + File.pathSeparator + location(SentenceEncoder.class);
        List<String> command = Arrays.asList(java,
                "-Xms256m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss1m", "-Xint",
                "-Djava.library.path=" + System.getProperty("java.library.path"),
                "-cp", classpath, PassMemoryMain.class.getName(), model.toAbsolutePath().toString());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        // One malloc arena, and every allocation of 1 MiB or more in fresh address space: glibc otherwise
        // reserves 64 MB of address space per extra arena up front and raises the mmap threshold up to 32 MiB
        // as large blocks are freed, so that a pass may be served from room already reserved, which the cap
        // does not see (the pass then simply works). So the pass's buffers, and their reservation, must fit
        // the headroom. (On the library without the reservation, this child aborts: "memory allocation of
        // 9437184 bytes failed", exit 134.)
        pb.environment().put("MALLOC_ARENA_MAX", "1");
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "1048576");
        pb.environment().put("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1048576");
        pb.environment().put("SBERT4J_THREADS", "2");
        Process child = pb.start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = child.waitFor();
        System.out.println(output);
        assertEquals("the JVM survived and every check held:\n" + output, 0, exit);
        assertTrue(output, output.contains("OK"));
    }

    private static String location(Class<?> c) throws Exception {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
