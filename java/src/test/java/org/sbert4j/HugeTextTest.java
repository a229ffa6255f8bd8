package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.junit.Assume;
import org.junit.Test;

/**
 * A string of several hundred MB in a JVM whose virtual memory is capped ({@code ulimit -v}) just above what
 * the JVM and the string need: the native side reads only the beginning truncation keeps, so nothing is
 * copied whole, nothing aborts, and the next call works.
 */
public class HugeTextTest {
    /** Characters of the huge string: 300 MB as a Latin-1 Java string (600 MB as UTF-16). */
    private static final int CHARS = 300_000_000;
    /** The cap: the JVM's reservations (heap, classes, code) and the model, with room for no copy of the string. */
    private static final long ULIMIT_KB = 2_300_000;

    @Test
    public void aStringOfHundredsOfMegabytesUnderAMemoryCap() throws Exception {
        Assume.assumeTrue("needs bash and /proc", new File("/bin/bash").canExecute() && new File("/proc/self/status").exists());
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = location(HugeTextMain.class) + File.pathSeparator + location(SentenceEncoder.class);
        List<String> command = Arrays.asList("/bin/bash", "-c",
                "ulimit -v " + ULIMIT_KB + " && exec \"$0\" \"$@\"", java,
                "-Xms1100m", "-Xmx1100m", "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=48m",
                "-XX:MaxMetaspaceSize=96m", "-Xss1m", "-XX:+UseSerialGC",
                "-Djava.library.path=" + System.getProperty("java.library.path"),
                "-cp", classpath, HugeTextMain.class.getName(),
                Fixtures.defaultModel().toString(), Integer.toString(CHARS));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("MALLOC_ARENA_MAX", "2");
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
