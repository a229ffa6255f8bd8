package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The loading order, the cache and the error message of {@link NativeLoader},
 * with a recording linker instead of System.load (a JVM loads a library once;
 * the real loading is tested by ClassLoaderTest and tests/consumer).
 */
public class NativeLoaderTest {
    private static final String RESOURCE = "org/sbert4j/native/linux-x86_64/libsbert4j.so";
    private static final byte[] LIBRARY = "pretend this is an ELF file".getBytes(StandardCharsets.UTF_8);

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** Records what it is asked to load (with the file's content at that moment); refuses what {@code refuse} says. */
    static final class RecordingLinker implements NativeLoader.Linker {
        final List<String> loaded = Collections.synchronizedList(new ArrayList<>());
        final Map<String, byte[]> contentAtLoad = Collections.synchronizedMap(new HashMap<>());
        final List<String> loadLibraryCalls = Collections.synchronizedList(new ArrayList<>());
        Function<String, String> refuse = path -> null; // error message, or null to accept
        String loadLibraryError = "no sbert4j in java.library.path: /nowhere";

        @Override
        public void load(String path) {
            String error = refuse.apply(path);
            if (error != null) {
                throw new UnsatisfiedLinkError(error);
            }
            try {
                contentAtLoad.put(path, Files.readAllBytes(Paths.get(path)));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            loaded.add(path);
        }

        @Override
        public void loadLibrary(String name) {
            loadLibraryCalls.add(name);
            if (loadLibraryError != null) {
                throw new UnsatisfiedLinkError(loadLibraryError);
            }
        }
    }

    private static Function<String, InputStream> jar(String index, byte[] library) {
        return name -> {
            if (name.equals(NativeLoader.INDEX) && index != null) {
                return new ByteArrayInputStream(index.getBytes(StandardCharsets.UTF_8));
            }
            if (name.equals(RESOURCE) && library != null) {
                return new ByteArrayInputStream(library);
            }
            return null;
        };
    }

    private static NativeLoader loader(String explicit, String javaLibraryPath, List<Path> cacheDirs,
            Function<String, InputStream> jar, RecordingLinker linker) {
        return new NativeLoader("Linux", "amd64", "libsbert4j.so", explicit, javaLibraryPath, cacheDirs, jar, linker);
    }

    private NativeLoader bundled(List<Path> cacheDirs, RecordingLinker linker) {
        return loader(null, "/nowhere", cacheDirs, jar("version=9.9.9\nplatforms=linux-x86_64\n", LIBRARY), linker);
    }

    private static Path expectedFile(Path cacheDir) {
        return cacheDir.resolve("9.9.9-" + NativeLoader.sha256(LIBRARY).substring(0, 16)).resolve("libsbert4j.so");
    }

    private static List<Path> filesIn(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).collect(Collectors.toList());
        }
    }

    @Test
    public void platformsAreNamedOsDashArch() {
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "amd64"));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "aarch64"));
        assertEquals("macos-aarch64", NativeLoader.platform("Mac OS X", "aarch64"));
        assertEquals("macos-x86_64", NativeLoader.platform("Mac OS X", "x86_64"));
        assertEquals("windows-x86_64", NativeLoader.platform("Windows 11", "amd64"));
        assertEquals("freebsd-x86", NativeLoader.platform("FreeBSD", "i386"));
    }

    @Test
    public void cacheDirectoriesFollowPropertyThenXdgThenHomeThenTmp() {
        Map<String, String> xdg = Collections.singletonMap("XDG_CACHE_HOME", "/xdg");
        assertEquals(Arrays.asList(Paths.get("/explicit"), Paths.get("/xdg/sbert4j"), Paths.get("/tmp/sbert4j-ann")),
                NativeLoader.cacheDirs("/explicit", xdg, "Linux", "/home/ann", "/tmp", "ann"));
        assertEquals(Arrays.asList(Paths.get("/home/ann/.cache/sbert4j"), Paths.get("/tmp/sbert4j-ann")),
                NativeLoader.cacheDirs(null, Collections.emptyMap(), "Linux", "/home/ann", "/tmp", "ann"));
        assertEquals("a relative XDG_CACHE_HOME is ignored, as the spec says",
                Arrays.asList(Paths.get("/home/ann/.cache/sbert4j"), Paths.get("/tmp/sbert4j-ann")),
                NativeLoader.cacheDirs("", Collections.singletonMap("XDG_CACHE_HOME", "rel"), "Linux", "/home/ann",
                        "/tmp", "ann"));
        assertEquals(Arrays.asList(Paths.get("/Users/ann/Library/Caches/sbert4j"), Paths.get("/tmp/sbert4j-ann")),
                NativeLoader.cacheDirs(null, Collections.emptyMap(), "Mac OS X", "/Users/ann", "/tmp", "ann"));
        assertEquals("no home: only java.io.tmpdir, with the user name made file-safe",
                Collections.singletonList(Paths.get("/tmp/sbert4j-a_b")),
                NativeLoader.cacheDirs(null, Collections.emptyMap(), "Linux", "?", "/tmp", "a/b"));
    }

    @Test
    public void extractsIntoVersionAndHashFolderAndReusesTheVerifiedFile() throws Exception {
        Path cache = tmp.newFolder("cache").toPath();
        RecordingLinker linker = new RecordingLinker();
        String from = bundled(List.of(cache), linker).load();

        Path file = expectedFile(cache);
        assertEquals(file + " (extracted from the jar)", from);
        assertEquals(List.of("sbert4j"), linker.loadLibraryCalls); // java.library.path came first
        assertEquals(List.of(file.toString()), linker.loaded);
        assertArrayEquals(LIBRARY, Files.readAllBytes(file));
        assertEquals("nothing but the library is left", List.of(file), filesIn(cache));
        if (Files.getFileStore(cache).supportsFileAttributeView("posix")) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        }

        Object inode = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        bundled(List.of(cache), linker).load();
        assertEquals("a second start reuses the file", inode,
                Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey());

        Files.write(file, "truncated".getBytes(StandardCharsets.UTF_8));
        bundled(List.of(cache), linker).load();
        assertArrayEquals("a file with the wrong hash is replaced", LIBRARY, Files.readAllBytes(file));
        assertArrayEquals("and the replacement is what was loaded", LIBRARY, linker.contentAtLoad.get(file.toString()));
        assertEquals(List.of(file), filesIn(cache));
    }

    @Test
    public void concurrentStartsAllLoadOneCompleteFile() throws Exception {
        Path cache = tmp.newFolder("cache").toPath();
        byte[] big = new byte[4 << 20];
        new java.util.Random(7).nextBytes(big);
        int n = 8;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<RecordingLinker> linkers = new ArrayList<>();
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                RecordingLinker linker = new RecordingLinker();
                linkers.add(linker);
                NativeLoader l = loader(null, "/nowhere", List.of(cache), jar("version=9.9.9\n", big), linker);
                results.add(pool.submit((Callable<String>) () -> {
                    start.await();
                    return l.load();
                }));
            }
            start.countDown();
            Set<String> distinct = new HashSet<>();
            for (Future<String> f : results) {
                distinct.add(f.get());
            }
            assertEquals("every start loads the same file: " + distinct, 1, distinct.size());
            for (RecordingLinker linker : linkers) {
                assertArrayEquals("never a partial file", big, linker.contentAtLoad.get(linker.loaded.get(0)));
            }
            assertEquals("no temporary files left", 1, filesIn(cache).size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void unusableCacheDirectoriesFallThroughToTheNext() throws Exception {
        Path notADir = tmp.newFile("a-file").toPath();
        Path shared = tmp.newFolder("shared").toPath();
        boolean posix = Files.getFileStore(shared).supportsFileAttributeView("posix");
        if (posix) {
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        Path good = tmp.newFolder("good").toPath();
        RecordingLinker linker = new RecordingLinker();
        String from = bundled(List.of(notADir.resolve("sub"), shared, good), linker).load();
        assertEquals(expectedFile(good) + " (extracted from the jar)", from);
        assertFalse("a directory others may write to is never used", Files.exists(expectedFile(shared)));
    }

    @Test
    public void aLibraryThatWillNotLinkFromOneCacheIsTriedFromTheNext() throws Exception {
        Path noexec = tmp.newFolder("noexec").toPath();
        Path good = tmp.newFolder("good").toPath();
        RecordingLinker linker = new RecordingLinker();
        linker.refuse = p -> p.startsWith(noexec.toString()) ? p + ": failed to map segment from shared object" : null;
        assertEquals(expectedFile(good) + " (extracted from the jar)", bundled(List.of(noexec, good), linker).load());
    }

    @Test
    public void anotherClassLoadersFileIsReplacedByAPrivateCopy() throws Exception {
        Path cache = tmp.newFolder("cache").toPath();
        Path shared = expectedFile(cache);
        RecordingLinker linker = new RecordingLinker();
        linker.refuse = p -> p.equals(shared.toString())
                ? "Native Library " + p + " already loaded in another classloader" : null;
        String from = bundled(List.of(cache), linker).load();

        assertEquals(1, linker.loaded.size());
        String copy = linker.loaded.get(0);
        assertNotEquals(shared.toString(), copy);
        assertEquals("the copy sits next to the shared file", shared.getParent(), Paths.get(copy).getParent());
        assertTrue(copy, Paths.get(copy).getFileName().toString().matches("libsbert4j-.+\\.so"));
        assertArrayEquals(LIBRARY, linker.contentAtLoad.get(copy));
        assertTrue(from, from.startsWith(copy + " (a private copy of " + shared));
        assertFalse("the copy is deleted once loaded", Files.exists(Paths.get(copy)));
        assertTrue("the shared file stays", Files.exists(shared));
    }

    @Test
    public void javaLibraryPathComesBeforeTheJarAndIsCopiedForAnotherClassLoader() throws Exception {
        Path dir = tmp.newFolder("lib").toPath();
        Path lib = Files.write(dir.resolve("libsbert4j.so"), "built by cargo".getBytes(StandardCharsets.UTF_8));
        Path cache = tmp.newFolder("cache").toPath();

        RecordingLinker ok = new RecordingLinker();
        ok.loadLibraryError = null;
        String from = loader(null, "/nowhere" + java.io.File.pathSeparator + dir, List.of(cache), jar("version=9.9.9\n", LIBRARY), ok).load();
        assertEquals(lib.toString(), from);
        assertEquals("the jar is not touched", List.of(), ok.loaded);

        RecordingLinker taken = new RecordingLinker();
        taken.loadLibraryError = "Native Library " + lib + " already loaded in another classloader";
        from = loader(null, "/nowhere" + java.io.File.pathSeparator + dir, List.of(cache), jar("version=9.9.9\n", LIBRARY), taken).load();
        assertEquals(1, taken.loaded.size());
        assertArrayEquals("a copy of the java.library.path file, not the jar's",
                "built by cargo".getBytes(StandardCharsets.UTF_8), taken.contentAtLoad.get(taken.loaded.get(0)));
        assertTrue(from, from.contains("a private copy of " + lib));
    }

    @Test
    public void anExplicitPathIsTheOnlyPlaceTried() throws Exception {
        Path lib = tmp.newFile("custom.so").toPath();
        RecordingLinker linker = new RecordingLinker();
        assertEquals(lib.toString(), loader(lib.toString(), "/nowhere", List.of(), jar(null, LIBRARY), linker).load());
        assertEquals(List.of(lib.toString()), linker.loaded);
        assertEquals(List.of(), linker.loadLibraryCalls);

        RecordingLinker other = new RecordingLinker();
        SentenceEncoderException e = assertThrows(SentenceEncoderException.class,
                () -> loader("/missing/libsbert4j.so", "/nowhere", List.of(tmp.getRoot().toPath()),
                        jar("version=9.9.9\n", LIBRARY), other).load());
        assertEquals("cannot load the native library libsbert4j.so for linux-x86_64 (os.name=Linux, os.arch=amd64);"
                + " tried, in order:\n"
                + "  1. -Dsbert4j.library.path=/missing/libsbert4j.so: no such file\n"
                + "To fix: nothing else was tried because -Dsbert4j.library.path is set: fix or remove it.",
                e.getMessage());
        assertEquals("neither java.library.path nor the jar", List.of(), other.loadLibraryCalls);
        assertEquals(List.of(), other.loaded);
    }

    @Test
    public void whenEverythingFailsOneMessageSaysWhatWasTriedAndHowToFixIt() throws Exception {
        RecordingLinker linker = new RecordingLinker();
        SentenceEncoderException e = assertThrows(SentenceEncoderException.class,
                () -> loader(null, "/usr/lib", List.of(tmp.getRoot().toPath()),
                        jar("version=9.9.9\nplatforms=macos-aarch64,windows-x86_64\n", null), linker).load());
        assertEquals("cannot load the native library libsbert4j.so for linux-x86_64 (os.name=Linux, os.arch=amd64);"
                + " tried, in order:\n"
                + "  1. -Dsbert4j.library.path: not set\n"
                + "  2. System.loadLibrary(\"sbert4j\") with java.library.path=/usr/lib: no libsbert4j.so in any of its directories\n"
                + "  3. the library bundled in the jar (org/sbert4j/native/linux-x86_64/libsbert4j.so): not there;"
                + " this jar has builds for: macos-aarch64,windows-x86_64\n"
                + "To fix: use an sbert4j jar built for linux-x86_64 (run `gradle jar` on a linux-x86_64 machine;"
                + " see the README, \"Platforms\"), or build the library with `cargo build --release` and pass"
                + " -Dsbert4j.library.path=/path/to/libsbert4j.so.",
                e.getMessage());
    }

    @Test
    public void aBundledLibraryThatCannotBeExtractedOrLinkedNamesEachDirectory() throws Exception {
        Path notADir = tmp.newFile("a-file").toPath();
        Path good = tmp.newFolder("good").toPath();
        RecordingLinker linker = new RecordingLinker();
        linker.refuse = p -> p + ": version `GLIBC_2.34' not found";
        SentenceEncoderException e = assertThrows(SentenceEncoderException.class,
                () -> bundled(List.of(notADir, good), linker).load());
        String msg = e.getMessage();
        Predicate<String> has = msg::contains;
        assertTrue(msg, has.test("  3. the library bundled in the jar (org/sbert4j/native/linux-x86_64/libsbert4j.so):"
                + " no cache directory worked: " + notADir.resolve("9.9.9-")));
        assertTrue(msg, has.test("; " + expectedFile(good).getParent() + ": " + expectedFile(good) + ": version `GLIBC_2.34' not found"));
        assertTrue(msg, has.test("To fix: "));
    }
}
