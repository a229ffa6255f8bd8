package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/**
 * {@link SentenceEncoder.Builder#precision}: BF16 and INT8 through the Java API, against sentence-transformers'
 * float32 vectors of every multilingual fixture text (tests/fixtures/precision, made by
 * tests/reference/make_precision_reference.py); the corpus-wide quality checks are in tests/precision.rs.
 */
public class PrecisionTest {
    static final class Multilingual {
        List<String> texts;
        List<float[]> vectors;
    }

    private static Multilingual reference() throws IOException {
        try (Reader r = Files.newBufferedReader(Paths.get(System.getProperty("sbert4j.test.fixtures", "tests/fixtures"))
                .resolve("precision/multilingual.all-MiniLM-L6-v2.json"), StandardCharsets.UTF_8)) {
            return new Gson().fromJson(r, Multilingual.class);
        }
    }

    @Test
    public void narrowPrecisionsStayCloseToSentenceTransformers() throws IOException {
        Multilingual ref = reference();
        assertEquals(22, ref.texts.size());
        for (Object[] bound : new Object[][] {{Precision.BF16, 0.999}, {Precision.INT8, 0.99}}) {
            Precision precision = (Precision) bound[0];
            try (SentenceEncoder enc = SentenceEncoder.builder(Fixtures.defaultModel()).precision(precision).open()) {
                assertEquals(precision, enc.precision());
                float[][] got = enc.encodeBatch(ref.texts);
                double worst = 1;
                for (int i = 0; i < got.length; i++) {
                    worst = Math.min(worst, Fixtures.cosine(got[i], ref.vectors.get(i)));
                }
                assertTrue(precision + ": min cosine " + worst, worst >= (double) bound[1]);
            }
        }
    }

    @Test
    public void fp32IsTheDefaultAndPrecisionsAreDistinctModels() {
        String text = "客户投诉物流太慢";
        try (SentenceEncoder fp32 = SentenceEncoder.open(Fixtures.defaultModel());
                SentenceEncoder int8 = SentenceEncoder.builder(Fixtures.defaultModel()).precision(Precision.INT8).open();
                SentenceEncoder again = SentenceEncoder.builder(Fixtures.defaultModel()).precision(Precision.FP32).open()) {
            assertEquals(Precision.FP32, fp32.precision());
            assertArrayEquals(fp32.encode(text), again.encode(text), 0f);
            assertFalse(Arrays.equals(fp32.encode(text), int8.encode(text)));
        }
        assertThrows(NullPointerException.class, () -> SentenceEncoder.builder(Fixtures.defaultModel()).precision(null));
    }
}
