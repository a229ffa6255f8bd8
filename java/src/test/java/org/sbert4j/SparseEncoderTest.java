package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.gson.Gson;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/**
 * {@link SparseEncoder} against sentence-transformers 6.2's {@code SparseEncoder.encode}
 * (tests/reference/make_sparse_fixtures.py): the same non-zero dimensions, cosine ≥ 0.99999, values within 1e-4
 * (relative above 1; see tests/sparse_encoder.rs); {@code max_active_dims}; errors as Java exceptions.
 */
public class SparseEncoderTest {
    static final class Reference {
        int max_seq_length;
        int dimension;
        List<Case> cases;
    }

    static final class Case {
        String name;
        Options options;
        List<String> texts;
        List<Vector> vectors;
    }

    static final class Options {
        Integer max_active_dims;
    }

    static final class Vector {
        int[] indices;
        float[] values;
    }

    private static Reference reference(String name) throws Exception {
        Path path = Paths.get(System.getProperty("sbert4j.test.fixtures", "tests/fixtures")).resolve(name + ".reference.json");
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            return new Gson().fromJson(r, Reference.class);
        }
    }

    private static void check(SparseVector got, Vector want, String what) {
        assertArrayEquals(what + ": dimensions", want.indices, got.indices());
        float[] g = got.values();
        double dot = 0;
        double ng = 0;
        double nw = 0;
        for (int i = 0; i < g.length; i++) {
            dot += (double) g[i] * want.values[i];
            ng += (double) g[i] * g[i];
            nw += (double) want.values[i] * want.values[i];
            float tol = 1e-4f * Math.max(1f, Math.abs(want.values[i]));
            assertTrue(what + ": " + g[i] + " vs " + want.values[i], Math.abs(g[i] - want.values[i]) <= tol);
        }
        assertTrue(what + ": cosine", dot / Math.sqrt(ng * nw) >= 0.99999);
    }

    @Test
    public void everyModelAndCaseMatchesSentenceTransformers() throws Exception {
        for (String name : new String[] {"splade-bert-max", "splade-distilbert-sum", "splade-xlmr-log1p"}) {
            Reference ref = reference(name);
            for (Case c : ref.cases) {
                SparseEncoder.Builder b = SparseEncoder.builder(ArchitecturesTest.model(name)).batchSize(4);
                if (c.options.max_active_dims != null) {
                    b.maxActiveDims(c.options.max_active_dims);
                }
                try (SparseEncoder enc = b.open()) {
                    assertEquals(ref.dimension, enc.dimension());
                    assertEquals(ref.max_seq_length, enc.maxSequenceLength());
                    List<SparseVector> batch = enc.encodeBatch(c.texts);
                    for (int i = 0; i < c.texts.size(); i++) {
                        check(batch.get(i), c.vectors.get(i), name + " / " + c.name + " / text " + i);
                    }
                    check(enc.encode(c.texts.get(0)), c.vectors.get(0), name + " / alone");
                }
            }
        }
    }

    @Test
    public void dimensionsAreNamedAndMisuseIsAnException() throws Exception {
        SparseEncoder enc = SparseEncoder.open(ArchitecturesTest.model("splade-bert-max"));
        assertEquals("[CLS]", enc.token(2));
        assertThrows(IndexOutOfBoundsException.class, () -> enc.token(enc.dimension()));
        assertThrows(IllegalArgumentException.class, () -> enc.encode(null));
        assertThrows(IllegalArgumentException.class, () -> enc.encodeBatch(Arrays.asList("a", null)));
        SparseVector v = enc.encode("hello world");
        assertTrue(v.size() > 0);
        assertEquals(v.values()[0], v.get(v.indices()[0]), 0f);
        assertTrue(v.dot(v) > 0);
        enc.close();
        enc.close(); // twice is fine
        assertThrows(IllegalStateException.class, () -> enc.encode("after close"));
        assertThrows(SentenceEncoderException.class, () -> SparseEncoder.open(ArchitecturesTest.model("prompts-st6")));
        assertThrows(IllegalArgumentException.class, () -> SparseEncoder.builder(ArchitecturesTest.model("splade-bert-max")).maxActiveDims(0));
    }
}
