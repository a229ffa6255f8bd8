package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The default model and the sentence-transformers reference fixtures (see tests/reference/). */
final class Fixtures {
    private Fixtures() {}

    /** One configuration of the reference file: texts and the vectors sentence-transformers gave. */
    static final class Case {
        String name;
        Map<String, JsonElement> files;
        /** The {@code SentenceTransformer.encode} arguments (newer fixtures). */
        Options options;
        List<String> texts;
        List<float[]> vectors;
        /** Per text (newer fixtures): tokens used, tokens before truncation, truncated. */
        List<Integer> tokens;
        List<Integer> token_counts;
        List<Boolean> truncated;
    }

    static final class Options {
        String prompt_name;
        String prompt;
        Integer truncate_dim;
        Boolean normalize_embeddings;
    }

    static final class Reference {
        String model;
        Integer max_seq_length;
        List<Case> cases;
    }

    /**
     * The built jar's classes in a class loader of their own, which loads a native instance of its own at
     * its first use (configured by the system properties set then): for tests of what happens at loading.
     */
    static final class FreshCopy implements AutoCloseable {
        private final URLClassLoader loader;
        private final Class<?> encoder;

        FreshCopy() throws Exception {
            Path jar = Paths.get(System.getProperty("sbert4j.test.jar", "build/libs/sbert4j-0.1.0.jar"));
            loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
            encoder = Class.forName("org.sbert4j.SentenceEncoder", true, loader);
        }

        /**
         * Calls the copy's static {@code SentenceEncoder.method(args)}, which must throw its
         * NativeLibraryException (a SentenceEncoderException: the library failed to load or configure); returns
         * that exception's message.
         */
        String failure(String method, Class<?>[] types, Object... args) {
            InvocationTargetException e = assertThrows(InvocationTargetException.class,
                    () -> encoder.getMethod(method, types).invoke(null, args));
            assertEquals("org.sbert4j.NativeLibraryException", e.getCause().getClass().getName());
            assertEquals("org.sbert4j.SentenceEncoderException", e.getCause().getClass().getSuperclass().getName());
            return e.getCause().getMessage();
        }

        /** The message of the copy's failure to open the default model. */
        String openFailure() {
            return failure("open", new Class<?>[] {Path.class}, defaultModel());
        }

        @Override
        public void close() throws IOException {
            loader.close();
        }
    }

    static Path defaultModel() {
        Path dir = Paths.get(System.getProperty("sbert4j.test.model", "models/all-MiniLM-L6-v2"));
        assertTrue(dir + " is missing: run `python3 models/fetch_default_model.py`",
                Files.isRegularFile(dir.resolve("model.safetensors")));
        return dir;
    }

    static Reference reference(String file) throws IOException {
        Path path = Paths.get(System.getProperty("sbert4j.test.fixtures", "tests/fixtures")).resolve(file);
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            return new Gson().fromJson(r, Reference.class);
        }
    }

    static Case find(Reference ref, String name) {
        return ref.cases.stream().filter(c -> c.name.equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no case " + name));
    }

    /** The model directory a case was computed on: links to {@code base}'s files, the case's own files written over. */
    static Path materialize(Path base, Case c, Path into) throws IOException {
        if (c.files.isEmpty()) {
            return base;
        }
        try (Stream<Path> all = Files.walk(base)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isRegularFile(p)) {
                    Path dest = into.resolve(base.relativize(p).toString());
                    Files.createDirectories(dest.getParent());
                    Files.createSymbolicLink(dest, p.toAbsolutePath());
                }
            }
        }
        for (Map.Entry<String, JsonElement> f : c.files.entrySet()) {
            Path dest = into.resolve(f.getKey());
            Files.deleteIfExists(dest);
            Files.createDirectories(dest.getParent());
            Files.write(dest, new Gson().toJson(f.getValue()).getBytes(StandardCharsets.UTF_8));
        }
        return into;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    static void assertClose(float[] got, float[] want, float tol, String what) {
        double cos = cosine(got, want);
        float diff = maxAbsDiff(got, want);
        assertTrue(what + ": cosine " + cos + ", max |difference| " + diff + " (allowed " + tol + ")",
                cos >= 0.99999 && diff <= tol);
    }

}
