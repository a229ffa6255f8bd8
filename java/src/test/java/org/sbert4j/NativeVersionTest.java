package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.Test;

/** The Java classes refuse a native library of another version (a stale libsbert4j on a library path). */
public class NativeVersionTest {
    private static Path builtLibrary() {
        return Paths.get(System.getProperty("java.library.path"), System.mapLibraryName("sbert4j"));
    }

    @Test
    public void theClassesTheBuildAndTheLibraryAgree() {
        assertEquals("NativeBridge.VERSION is the build's version", System.getProperty("sbert4j.test.version"),
                NativeBridge.VERSION);
        SentenceEncoder.loadedModelCount(); // loads and checks the library
        assertEquals(NativeBridge.VERSION, NativeBridge.nativeVersion());
        assertEquals(NativeBridge.ABI, NativeBridge.nativeAbi());
    }

    @Test
    public void aStaleLibraryIsRefusedNamingBothVersions() throws Exception {
        // A "stale" library: a copy of the built one whose version record says 0.0.9 / another ABI.
        String record = "sbert4j-native-version:" + NativeBridge.VERSION + ":abi:" + NativeBridge.ABI + ":";
        String staleVersion = NativeBridge.VERSION.substring(0, NativeBridge.VERSION.length() - 1)
                + (NativeBridge.VERSION.endsWith("9") ? "8" : "9");
        String stale = "sbert4j-native-version:" + staleVersion + ":abi:" + (NativeBridge.ABI == 1 ? 2 : 1) + ":";
        assertEquals(record.length(), stale.length());
        byte[] bytes = Files.readAllBytes(builtLibrary());
        int patched = replaceAll(bytes, record.getBytes(StandardCharsets.US_ASCII),
                stale.getBytes(StandardCharsets.US_ASCII));
        assertTrue("the version record is in " + builtLibrary(), patched >= 1);
        Path dir = Files.createTempDirectory("sbert4j-stale");
        Path copy = dir.resolve(System.mapLibraryName("sbert4j"));
        Files.write(copy, bytes);
        System.setProperty(NativeLoader.PATH_PROPERTY, copy.toString());
        try (Fixtures.FreshCopy fresh = new Fixtures.FreshCopy()) {
            String msg = fresh.openFailure();
            assertTrue(msg, msg.contains("is version " + staleVersion));
            assertTrue(msg, msg.contains("these sbert4j classes are version " + NativeBridge.VERSION));
            assertTrue(msg, msg.contains(copy.toString()));
            // And again on the next call: a refused library stays refused.
            msg = fresh.failure("loadedModelCount", new Class<?>[0]);
            assertTrue(msg, msg.contains("is version " + staleVersion));
        } finally {
            System.clearProperty(NativeLoader.PATH_PROPERTY);
            Files.deleteIfExists(copy);
            Files.deleteIfExists(dir);
        }
    }

    private static int replaceAll(byte[] haystack, byte[] needle, byte[] with) {
        int count = 0;
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            System.arraycopy(with, 0, haystack, i, with.length);
            count++;
        }
        return count;
    }
}
