package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Vectors from Java through the native library against sentence-transformers' own output. */
public class ParityTest {
    private static final float TOL = 1e-5f;

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void everyReferenceCaseMatchesSentenceTransformers() throws Exception {
        Fixtures.Reference ref = Fixtures.reference("all-MiniLM-L6-v2.reference.json");
        assertTrue(ref.cases.size() >= 7);
        for (Fixtures.Case c : ref.cases) {
            Path dir = Fixtures.materialize(Fixtures.defaultModel(), c, tmp.newFolder().toPath());
            try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
                assertEquals(c.name, c.vectors.get(0).length, enc.dimension());
                float[][] batch = enc.encodeBatch(c.texts);
                for (int i = 0; i < c.texts.size(); i++) {
                    String what = "case '" + c.name + "', text " + i;
                    Fixtures.assertClose(enc.encode(c.texts.get(i)), c.vectors.get(i), TOL, what);
                    Fixtures.assertClose(batch[i], c.vectors.get(i), TOL, what + " (batch)");
                }
            }
        }
    }

    @Test
    public void builderOptionsOverrideTheModelDirectory() throws Exception {
        Fixtures.Reference ref = Fixtures.reference("all-MiniLM-L6-v2.reference.json");
        Fixtures.Case plain = Fixtures.find(ref, "mean, no normalize");
        try (SentenceEncoder enc = SentenceEncoder.builder(Fixtures.defaultModel()).normalize(false).open()) {
            for (int i = 0; i < plain.texts.size(); i++) {
                Fixtures.assertClose(enc.encode(plain.texts.get(i)), plain.vectors.get(i), TOL, "normalize(false), text " + i);
            }
        }
        Fixtures.Case shortCase = Fixtures.find(ref, "max_seq_length 16");
        try (SentenceEncoder enc = SentenceEncoder.builder(Fixtures.defaultModel()).maxSequenceLength(16).open()) {
            assertEquals(16, enc.maxSequenceLength());
            for (int i = 0; i < shortCase.texts.size(); i++) {
                Fixtures.assertClose(enc.encode(shortCase.texts.get(i)), shortCase.vectors.get(i), TOL, "maxSequenceLength(16), text " + i);
            }
        }
    }
}
