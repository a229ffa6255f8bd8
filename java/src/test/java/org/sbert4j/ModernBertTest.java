package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.Test;

/**
 * ModernBERT from Java: the two random-weight fixtures of tests/reference/make_arch_fixtures.py
 * (rotary positions, alternating global and sliding-window attention with texts longer than the
 * window, GeGLU; one without biases, mean pooling + Normalize, one with every bias, CLS pooling)
 * against sentence-transformers 6.2's vectors, text by text and batched.
 */
public class ModernBertTest {
    private static final float TOL = 1e-5f;
    /** name, whether its modules.json lists Normalize. */
    private static final Object[][] MODELS = {
        {"modernbert-mean-st6", true},
        {"modernbert-cls-bias-st6", false},
    };

    private static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    public void modernBertFixturesMatchSentenceTransformers() throws Exception {
        for (Object[] m : MODELS) {
            String name = (String) m[0];
            Fixtures.Case c = Fixtures.reference(name + ".reference.json").cases.get(0);
            try (SentenceEncoder enc = SentenceEncoder.open(ArchitecturesTest.model(name))) {
                assertEquals(name, c.vectors.get(0).length, enc.dimension());
                assertEquals(name, 128, enc.maxSequenceLength());
                assertEquals(name, m[1], enc.normalizes());
                float[][] batch = enc.encodeBatch(c.texts);
                for (int i = 0; i < c.texts.size(); i++) {
                    String what = name + ", text " + i;
                    float[] single = enc.encode(c.texts.get(i));
                    Fixtures.assertClose(single, c.vectors.get(i), TOL, what);
                    Fixtures.assertClose(batch[i], c.vectors.get(i), TOL, what + " (batch)");
                    assertTrue(what + ": cosine", cosine(single, c.vectors.get(i)) >= 0.99999);
                }
            }
        }
    }

    @Test
    public void batchesOfMixedLengthsEqualSingleTexts() throws Exception {
        List<String> texts = new ArrayList<>(Fixtures.reference("modernbert-mean-st6.reference.json").cases.get(0).texts);
        Collections.reverse(texts);
        texts.addAll(new ArrayList<>(texts));
        try (SentenceEncoder single = SentenceEncoder.open(ArchitecturesTest.model("modernbert-mean-st6"));
                SentenceEncoder batched = SentenceEncoder.builder(ArchitecturesTest.model("modernbert-mean-st6")).batchSize(7).open()) {
            float[][] got = batched.encodeBatch(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertTrue("text " + i, Fixtures.maxAbsDiff(got[i], single.encode(texts.get(i))) <= 1e-5f);
            }
        }
    }
}
