package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.Test;

/**
 * The jar holds a library for each platform the build made ({@code -Dsbert4j.test.platforms}, set by the build:
 * linux-x86_64 and, where it cross-built it, linux-aarch64), each an ELF file for its processor, all listed in the
 * index {@link NativeLoader} reads; and, where a run asks ({@code -Dsbert4j.test.fromJar=true}: the aarch64 JVM
 * under qemu, with no library on java.library.path), the library this JVM runs came out of the jar, its own
 * platform's.
 */
public class BundledLibraryTest {
    /** ELF e_machine values. */
    private static final Map<String, Integer> MACHINES = Map.of("x86_64", 62, "aarch64", 183);

    @Test
    public void theJarHoldsALibraryForEveryPlatformTheBuildMade() throws IOException {
        String expected = System.getProperty("sbert4j.test.platforms", "");
        assumeTrue("the build names the platforms it made (-Dsbert4j.test.platforms)", !expected.isEmpty());
        TreeSet<String> platforms = new TreeSet<>(Arrays.asList(expected.split(",")));
        try (JarFile jar = new JarFile(System.getProperty("sbert4j.test.jar"))) {
            Properties index = new Properties();
            try (InputStream in = jar.getInputStream(jar.getEntry(NativeLoader.INDEX))) {
                index.load(in);
            }
            assertEquals("the index's platforms", platforms,
                    new TreeSet<>(Arrays.asList(index.getProperty("platforms", "").split(","))));
            for (String platform : platforms) {
                String name = NativeLoader.RESOURCE_ROOT + platform + "/" + (platform.startsWith("linux-")
                        ? "libsbert4j.so" : platform.startsWith("macos-") ? "libsbert4j.dylib" : "sbert4j.dll");
                ZipEntry entry = jar.getEntry(name);
                assertTrue("the jar holds " + name, entry != null);
                String arch = platform.substring(platform.indexOf('-') + 1);
                if (platform.startsWith("linux-") && MACHINES.containsKey(arch)) {
                    byte[] head = new byte[20];
                    try (InputStream in = jar.getInputStream(entry)) {
                        assertEquals(head.length, in.readNBytes(head, 0, head.length));
                    }
                    int machine = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getShort(18) & 0xffff;
                    assertEquals(name + " is an ELF file for " + arch, (int) MACHINES.get(arch), machine);
                }
                System.out.println("BundledLibraryTest: the jar holds " + name + " (" + entry.getSize() + " bytes)");
            }
        }
    }

    @Test
    public void thisJvmRunsItsPlatformsLibraryFromTheJar() {
        assumeTrue("a run with no library on java.library.path (-Dsbert4j.test.fromJar=true)",
                Boolean.getBoolean("sbert4j.test.fromJar"));
        String path = SentenceEncoder.cpuPath();
        String from = NativeLoader.loadedFrom();
        String platform = NativeLoader.platform(System.getProperty("os.name"), System.getProperty("os.arch"));
        System.out.println("BundledLibraryTest: " + platform + ", CPU path " + path + ", library " + from);
        assertTrue(from, from.endsWith("(extracted from the jar)"));
    }
}
