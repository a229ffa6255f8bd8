package org.sbert4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The architectures beside the default model, from Java: each small random-weight fixture model
 * (tests/reference/make_test_models.py, make_arch_fixtures.py) against sentence-transformers'
 * vectors for it, text by text and batched.
 */
public class ArchitecturesTest {
    private static final float TOL = 1e-5f;
    /** name, whether its modules.json lists Normalize, max_seq_length. */
    private static final Object[][] MODELS = {
        {"seed-standin", false, 128},       // BertModel + XLM-R Unigram tokenizer, mean pooling
        {"xlm-roberta-cls", true, 512},     // XLMRobertaModel, CLS pooling
        {"distilbert-max", false, 128},     // DistilBertModel, max pooling
        {"bert-pytorch-bin", true, 64},     // weights in pytorch_model.bin only
        {"bert-mean-sqrt-len", false, 256}, // mean_sqrt_len_tokens pooling
        // ModernBertModel (tests/reference/make_arch_fixtures.py): rotary positions, alternating
        // global and sliding-window attention with texts longer than the window, GeGLU.
        {"modernbert-mean-st6", true, 128},      // no biases, mean pooling + Normalize
        {"modernbert-cls-bias-st6", false, 128}, // every bias, CLS pooling
    };

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static Path model(String name) {
        return Paths.get(System.getProperty("sbert4j.test.fixtures", "tests/fixtures")).resolve("models").resolve(name);
    }

    @Test
    public void everyFixtureModelMatchesSentenceTransformers() throws Exception {
        for (Object[] m : MODELS) {
            String name = (String) m[0];
            Fixtures.Case c = Fixtures.reference(name + ".reference.json").cases.get(0);
            try (SentenceEncoder enc = SentenceEncoder.open(model(name))) {
                assertEquals(name, c.vectors.get(0).length, enc.dimension());
                assertEquals(name, (int) (Integer) m[2], enc.maxSequenceLength());
                assertEquals(name, m[1], enc.normalizes());
                float[][] batch = enc.encodeBatch(c.texts);
                for (int i = 0; i < c.texts.size(); i++) {
                    String what = name + ", text " + i;
                    float[] single = enc.encode(c.texts.get(i));
                    Fixtures.assertClose(single, c.vectors.get(i), TOL, what);
                    Fixtures.assertClose(batch[i], c.vectors.get(i), TOL, what + " (batch)");
                    assertTrue(what + ": batch vs single", Fixtures.maxAbsDiff(batch[i], single) <= 1e-5f);
                }
            }
        }
    }

    @Test
    public void normsFollowTheNormalizeModule() {
        for (Object[] m : MODELS) {
            try (SentenceEncoder enc = SentenceEncoder.open(model((String) m[0]))) {
                float[] v = enc.encode("客户投诉物流太慢");
                double norm = 0;
                for (float x : v) {
                    norm += (double) x * x;
                }
                norm = Math.sqrt(norm);
                assertEquals(m[0] + ": norm " + norm, m[1], Math.abs(norm - 1) < 1e-5);
            }
        }
    }

    @Test
    public void batchesOfMixedLengthsEqualSingleTexts() throws Exception {
        for (String name : new String[] {"seed-standin", "modernbert-mean-st6"}) {
            List<String> texts = new ArrayList<>(Fixtures.reference(name + ".reference.json").cases.get(0).texts);
            Collections.reverse(texts);
            texts.addAll(new ArrayList<>(texts));
            try (SentenceEncoder single = SentenceEncoder.open(model(name));
                    SentenceEncoder batched = SentenceEncoder.builder(model(name)).batchSize(7).open()) {
                float[][] got = batched.encodeBatch(texts);
                for (int i = 0; i < texts.size(); i++) {
                    assertTrue(name + ", text " + i, Fixtures.maxAbsDiff(got[i], single.encode(texts.get(i))) <= 1e-5f);
                }
            }
        }
    }

    @Test
    public void anUnsupportedArchitectureIsAClearJavaException() throws Exception {
        Path dir = tmp.newFolder("t5").toPath();
        for (String f : new String[] {"tokenizer.json", "model.safetensors"}) {
            Files.copy(model("bert-mean-sqrt-len").resolve(f), dir.resolve(f));
        }
        Files.write(dir.resolve("config.json"),
                "{\"architectures\": [\"T5EncoderModel\"], \"model_type\": \"t5\", \"d_model\": 24}".getBytes(StandardCharsets.UTF_8));
        try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
            fail("opened a T5 model: " + enc);
        } catch (SentenceEncoderException e) {
            String msg = e.getMessage();
            assertTrue(msg, msg.contains("config.json"));
            assertTrue(msg, msg.contains("T5EncoderModel") || msg.contains("t5"));
            assertTrue(msg, msg.contains("BertModel") && msg.contains("XLMRobertaModel") && msg.contains("DistilBertModel"));
        }
        try (SentenceEncoder enc = SentenceEncoder.open(model("bert-mean-sqrt-len"))) {
            assertEquals(24, enc.dimension()); // a later open of a good model works
        }
    }

    @Test
    public void anUnsupportedDenseActivationIsAClearJavaException() throws Exception {
        Path dir = tmp.newFolder("softsign").toPath();
        Path from = model("distilbert-dense-tanh-st6");
        try (java.util.stream.Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = dir.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Path config = dir.resolve("2_Dense").resolve("config.json");
        String json = new String(Files.readAllBytes(config), StandardCharsets.UTF_8)
                .replace("torch.nn.modules.activation.Tanh", "torch.nn.modules.activation.Softsign");
        Files.write(config, json.getBytes(StandardCharsets.UTF_8));
        try (SentenceEncoder enc = SentenceEncoder.open(dir)) {
            fail("opened a Dense module with an unsupported activation: " + enc);
        } catch (SentenceEncoderException e) {
            String msg = e.getMessage();
            assertTrue(msg, msg.contains("2_Dense") && msg.contains("config.json"));
            assertTrue(msg, msg.contains("torch.nn.modules.activation.Softsign"));
            assertTrue(msg, msg.contains("Tanh") && msg.contains("Identity"));
        }
        try (SentenceEncoder enc = SentenceEncoder.open(model("distilbert-dense-tanh-st6"))) {
            assertEquals(24, enc.dimension()); // the Dense module's out_features
        }
    }
}
