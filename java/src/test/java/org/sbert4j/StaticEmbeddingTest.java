package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.Test;

/**
 * Static embeddings (sentence-transformers' StaticEmbedding: the mean of the token vectors) from Java, against
 * sentence-transformers 6.2 (tests/reference/make_static_fixtures.py): one text at a time and in a batch; texts
 * without tokens give the zero vector, as sentence-transformers does.
 */
public class StaticEmbeddingTest {
    private static final float TOL = 1e-5f;

    @Test
    public void staticModelsMatchSentenceTransformers() throws Exception {
        for (String name : new String[] {"static-st6", "static-model2vec"}) {
            Fixtures.Case c = Fixtures.reference(name + ".reference.json").cases.get(0);
            Path dir = ArchitecturesTest.model(name);
            try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
                assertEquals(name, c.vectors.get(0).length, enc.dimension());
                float[][] batch = enc.encodeBatch(c.texts);
                int zeros = 0;
                for (int i = 0; i < c.texts.size(); i++) {
                    float[] want = c.vectors.get(i);
                    String what = name + " text " + i;
                    if (isZero(want)) {
                        zeros++;
                        assertTrue(what, isZero(batch[i]) && isZero(enc.encode(c.texts.get(i))));
                    } else {
                        Fixtures.assertClose(batch[i], want, TOL, what);
                        Fixtures.assertClose(enc.encode(c.texts.get(i)), want, TOL, what + " (alone)");
                    }
                }
                assertTrue(name + " has texts without tokens", zeros > 0);
            }
        }
    }

    @Test
    public void theTokenizersOwnTruncationIsTheLimit() throws Exception {
        try (SentenceEncoder enc = SentenceEncoder.open(ArchitecturesTest.model("static-st6"))) {
            assertEquals(48, enc.maxSequenceLength());
            assertTrue(enc.normalizes());
        }
    }

    private static boolean isZero(float[] v) {
        for (float x : v) {
            if (x != 0f) {
                return false;
            }
        }
        return true;
    }
}
