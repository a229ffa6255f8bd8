package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/**
 * Each Linux library inside the jar (x86-64 and, where the build made it,
 * aarch64) asks for no glibc newer than the build's floor (2.17: RHEL/CentOS 7 and every distribution since; see
 * docs/platforms.md). Reads the versions it needs (GLIBC_x.y in the ELF
 * file's {@code .gnu.version_r} section), as {@code objdump -T} shows them.
 * The JUnit tests themselves load this same library (java.library.path), so
 * it is also the one that passed them.
 */
public class GlibcFloorTest {
    private static final int SHT_GNU_VERNEED = 0x6ffffffe;
    private static final Pattern LINUX_LIBRARY = Pattern.compile("org/sbert4j/native/(linux-[a-z0-9_]+)/libsbert4j\\.so");

    /** The floor the build targeted ({@code -Dsbert4j.test.glibcFloor}), or null if it linked the host's glibc. */
    private static String floor() {
        String floor = System.getProperty("sbert4j.test.glibcFloor", "");
        return floor.isEmpty() ? null : floor;
    }

    @Test
    public void theBundledLibrariesNeedNoGlibcAboveTheFloor() throws IOException {
        String floor = floor();
        assumeTrue("the library was built with plain cargo (cargo-zigbuild not found), so it needs this machine's "
                + "glibc: no floor to check (see docs/platforms.md)", floor != null);
        Map<String, byte[]> libraries = bundledLinuxLibraries();
        assertTrue("the jar bundles linux-x86_64/libsbert4j.so: " + libraries.keySet(),
                libraries.containsKey("linux-x86_64"));
        for (Map.Entry<String, byte[]> library : libraries.entrySet()) {
            List<String> glibc = new ArrayList<>();
            for (String version : neededVersions(library.getValue())) {
                if (version.startsWith("GLIBC_") && Character.isDigit(version.charAt(6))) {
                    glibc.add(version.substring(6));
                }
            }
            assertFalse(library.getKey() + ": the library needs glibc symbols at all", glibc.isEmpty());
            String newest = glibc.stream().max(GlibcFloorTest::compareVersions).get();
            System.out.println("sbert4j: bundled " + library.getKey() + " library needs GLIBC_" + newest
                    + " at most (floor " + floor + ")");
            assertTrue("the bundled " + library.getKey() + " library needs GLIBC_" + newest + ", above the floor "
                    + floor + " (all: " + new TreeSet<>(glibc) + ")", compareVersions(newest, floor) <= 0);
        }
    }

    @Test
    public void theReaderFindsTheVersionsOfALibraryThatHasThem() throws IOException {
        // This JVM's own libjava.so needs glibc versions, whatever its build.
        Path libjava = Paths.get(System.getProperty("java.home"), "lib", "libjava.so");
        assumeTrue("a Linux JDK", Files.isRegularFile(libjava));
        List<String> versions = neededVersions(Files.readAllBytes(libjava));
        assertTrue(versions.toString(), versions.stream().anyMatch(v -> v.startsWith("GLIBC_2.")));
        assertEquals(0, compareVersions("2.17", "2.17"));
        assertTrue(compareVersions("2.17", "2.2.5") > 0);
        assertTrue(compareVersions("2.9", "2.17") < 0);
    }

    /** Every Linux library inside the jar under test, by platform (linux-x86_64, linux-aarch64). */
    static Map<String, byte[]> bundledLinuxLibraries() throws IOException {
        String jar = System.getProperty("sbert4j.test.jar");
        assertNotNull("sbert4j.test.jar", jar);
        Map<String, byte[]> libraries = new TreeMap<>();
        try (JarFile file = new JarFile(jar)) {
            for (JarEntry entry : Collections.list(file.entries())) {
                Matcher m = LINUX_LIBRARY.matcher(entry.getName());
                if (!m.matches()) {
                    continue;
                }
                try (InputStream in = file.getInputStream(entry)) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    byte[] buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        out.write(buffer, 0, n);
                    }
                    libraries.put(m.group(1), out.toByteArray());
                }
            }
        }
        return libraries;
    }

    /** The symbol versions an ELF64 little-endian shared object needs (its Vernaux names). */
    static List<String> neededVersions(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        assertTrue("an ELF file", elf.length > 64 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F');
        assertEquals("64-bit", 2, elf[4]);
        assertEquals("little-endian", 1, elf[5]);
        long sectionsAt = b.getLong(0x28);
        int entrySize = b.getShort(0x3a) & 0xffff;
        int count = b.getShort(0x3c) & 0xffff;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int header = Math.toIntExact(sectionsAt + (long) i * entrySize);
            if (b.getInt(header + 4) != SHT_GNU_VERNEED) {
                continue;
            }
            int offset = Math.toIntExact(b.getLong(header + 24));
            int entries = b.getInt(header + 44); // sh_info: the number of Verneed entries
            int strings = Math.toIntExact(sectionsAt + (long) b.getInt(header + 40) * entrySize);
            int stringsAt = Math.toIntExact(b.getLong(strings + 24));
            int need = offset;
            for (int n = 0; n < entries; n++) {
                int auxCount = b.getShort(need + 2) & 0xffff;
                int aux = need + b.getInt(need + 8);
                for (int a = 0; a < auxCount; a++) {
                    names.add(cString(elf, stringsAt + b.getInt(aux + 8)));
                    aux += b.getInt(aux + 12);
                }
                need += b.getInt(need + 12);
            }
        }
        return names;
    }

    private static String cString(byte[] bytes, int at) {
        int end = at;
        while (bytes[end] != 0) {
            end++;
        }
        return new String(bytes, at, end - at, StandardCharsets.US_ASCII);
    }

    /** Compares dotted version numbers ("2.17" &gt; "2.2.5"). */
    static int compareVersions(String a, String b) {
        int[] x = Arrays.stream(a.split("\\.")).mapToInt(Integer::parseInt).toArray();
        int[] y = Arrays.stream(b.split("\\.")).mapToInt(Integer::parseInt).toArray();
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(i < x.length ? x[i] : 0, i < y.length ? y[i] : 0);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
