package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.Assume;
import org.junit.Test;

/**
 * The real all-mpnet-base-v2 (models/fetch_mpnet_model.py) from Java against sentence-transformers' own vectors
 * (tests/reference/make_mpnet_reference.py). The Gradle build fetches the model and passes its path; run
 * elsewhere without it, the test is skipped with a message.
 */
public class MpnetTest {
    private static final float TOL = 1e-5f;

    @Test
    public void allMpnetBaseV2MatchesSentenceTransformers() throws Exception {
        String configured = System.getProperty("sbert4j.test.mpnet");
        Path dir = Paths.get(configured != null ? configured : "models/all-mpnet-base-v2");
        boolean present = Files.isRegularFile(dir.resolve("model.safetensors"));
        assertTrue(dir + " is missing although the build fetched it", present || configured == null);
        Assume.assumeTrue(dir + " is missing: run `python3 models/fetch_mpnet_model.py`", present);
        Fixtures.Reference ref = Fixtures.reference("all-mpnet-base-v2.reference.json");
        Fixtures.Case c = ref.cases.get(0);
        try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
            assertEquals(768, enc.dimension());
            assertEquals((int) ref.max_seq_length, enc.maxSequenceLength());
            float[][] batch = enc.encodeBatch(c.texts);
            for (int i = 0; i < c.texts.size(); i++) {
                String what = "all-mpnet-base-v2, text " + i;
                Fixtures.assertClose(enc.encode(c.texts.get(i)), c.vectors.get(i), TOL, what);
                Fixtures.assertClose(batch[i], c.vectors.get(i), TOL, what + " (batch)");
            }
        }
    }
}
