package consumer;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStream;
import java.io.Reader;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Test;
import org.sbert4j.SentenceEncoder;

/**
 * sbert4j as a user gets it: the published jar on the class path and nothing
 * else. The native library must come out of the jar, into the per-user cache.
 */
public class ConsumerTest {
    private static final String LIB = System.mapLibraryName("sbert4j");

    private static Path model() {
        Path dir = Paths.get(System.getProperty("sbert4j.test.model"));
        assertTrue(dir + " is missing: run `python3 models/fetch_default_model.py`",
                Files.isRegularFile(dir.resolve("model.safetensors")));
        return dir;
    }

    /** $XDG_CACHE_HOME/sbert4j, which the build points at a fresh directory. */
    private static Path cache() {
        return Paths.get(System.getProperty("sbert4j.test.cacheHome"), "sbert4j");
    }

    @Test
    public void encodesWithTheLibraryExtractedFromTheJar() throws Exception {
        assertNull("no library path may be set", System.getProperty("sbert4j.library.path"));
        JsonObject shipped;
        try (Reader r = Files.newBufferedReader(
                Paths.get(System.getProperty("sbert4j.test.fixtures"), "all-MiniLM-L6-v2.reference.json"),
                StandardCharsets.UTF_8)) {
            shipped = JsonParser.parseReader(r).getAsJsonObject().getAsJsonArray("cases").get(0).getAsJsonObject();
        }
        assertEquals("as shipped", shipped.get("name").getAsString());
        String text = shipped.getAsJsonArray("texts").get(0).getAsString();
        JsonArray want = shipped.getAsJsonArray("vectors").get(0).getAsJsonArray();

        float[] v;
        try (SentenceEncoder enc = SentenceEncoder.open(model())) {
            assertEquals(384, enc.dimension());
            v = enc.encode(text);
        }
        assertEquals(384, v.length);
        double norm = 0;
        double maxDiff = 0;
        for (int i = 0; i < v.length; i++) {
            norm += (double) v[i] * v[i];
            maxDiff = Math.max(maxDiff, Math.abs(v[i] - want.get(i).getAsFloat()));
        }
        assertEquals(1.0, Math.sqrt(norm), 1e-5);
        assertTrue("max |difference| from sentence-transformers: " + maxDiff, maxDiff <= 1e-5);

        // Where the library came from: exactly one file in
        // $XDG_CACHE_HOME/sbert4j/<version>-<sha256 prefix>/, equal to the jar's copy.
        List<Path> extracted;
        try (Stream<Path> files = Files.walk(cache())) {
            extracted = files.filter(p -> p.getFileName().toString().equals(LIB)).collect(Collectors.toList());
        }
        assertEquals("extracted libraries: " + extracted, 1, extracted.size());
        Path lib = extracted.get(0);
        String hash = sha256(Files.readAllBytes(lib));
        String folder = lib.getParent().getFileName().toString();
        assertEquals(System.getProperty("sbert4j.test.version", "0.1.0") + "-" + hash.substring(0, 16), folder);
        try (InputStream in = SentenceEncoder.class.getResourceAsStream("/org/sbert4j/native/" + platform() + "/" + LIB)) {
            assertTrue("the jar bundles " + platform(), in != null);
            assertEquals("the extracted file is the jar's", sha256(in.readAllBytes()), hash);
        }
        Path maps = Paths.get("/proc/self/maps");
        if (Files.isReadable(maps)) { // Linux: the mapped library is the extracted file
            String mapped = new String(Files.readAllBytes(maps), StandardCharsets.UTF_8);
            assertTrue("the JVM maps " + lib, mapped.contains(lib.toRealPath().toString()));
        }
    }

    @Test
    public void aSecondClassLoaderOverTheSameJarAlsoWorks() throws Exception {
        URL jar = SentenceEncoder.class.getProtectionDomain().getCodeSource().getLocation();
        assertTrue("sbert4j comes from the published jar, not from class folders: " + jar,
                jar.getPath().endsWith(".jar"));
        float[] mine;
        try (SentenceEncoder enc = SentenceEncoder.open(model())) {
            mine = enc.encode("redeployed");
        }
        // Twice, as an application server redeploying twice without the old loader being collected.
        for (int round = 0; round < 2; round++) {
            try (URLClassLoader loader = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader())) {
                Class<?> theirs = Class.forName("org.sbert4j.SentenceEncoder", true, loader);
                assertNotSame(SentenceEncoder.class, theirs);
                Object enc = theirs.getMethod("open", Path.class).invoke(null, model());
                try {
                    float[] v = (float[]) theirs.getMethod("encode", String.class).invoke(enc, "redeployed");
                    assertArrayEquals(mine, v, 1e-6f);
                    assertEquals("their own native instance holds their model",
                            1, theirs.getMethod("loadedModelCount").invoke(null));
                    assertEquals("ours holds none", 0, SentenceEncoder.loadedModelCount());
                } finally {
                    theirs.getMethod("close").invoke(enc);
                }
            }
        }
        // The private copies the other loaders needed are gone again.
        try (Stream<Path> files = Files.walk(cache())) {
            List<Path> libs = files.filter(p -> p.getFileName().toString().startsWith(LIB.substring(0, LIB.indexOf('.'))))
                    .collect(Collectors.toList());
            assertEquals("files left in the cache: " + libs, 1, libs.size());
        }
    }

    private static String platform() {
        String arch = System.getProperty("os.arch");
        arch = arch.equals("amd64") ? "x86_64" : arch.equals("arm64") ? "aarch64" : arch;
        String os = System.getProperty("os.name").toLowerCase();
        os = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macos" : os.startsWith("windows") ? "windows" : os;
        return os + "-" + arch;
    }

    private static String sha256(byte[] bytes) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (byte b : MessageDigest.getInstance("SHA-256").digest(bytes)) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }
}
