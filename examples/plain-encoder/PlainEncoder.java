import java.nio.file.Paths;
import java.util.List;

import org.sbert4j.ModelLoadException;
import org.sbert4j.SentenceEncoder;

/**
 * A plain encoder: the sentences most alike in a small list.
 *
 * <pre>
 * java -cp sbert4j-0.1.0.jar PlainEncoder.java models/all-MiniLM-L6-v2
 * </pre>
 *
 * Compiled and run by {@code gradle :test} (ExamplesTest).
 */
public class PlainEncoder {
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: PlainEncoder MODEL_DIR");
            System.exit(2);
        }
        List<String> texts = List.of(
                "A man is eating food.",
                "A man is eating a piece of bread.",
                "The girl is carrying a baby.",
                "A man is riding a horse.");
        try (SentenceEncoder encoder = SentenceEncoder.open(Paths.get(args[0]))) {
            System.out.println(encoder.info());
            float[][] vectors = encoder.encodeBatch(texts);
            int bestI = 0, bestJ = 1;
            double best = -2;
            for (int i = 0; i < texts.size(); i++) {
                for (int j = i + 1; j < texts.size(); j++) {
                    double cosine = cosine(vectors[i], vectors[j]);
                    if (cosine > best) {
                        best = cosine;
                        bestI = i;
                        bestJ = j;
                    }
                }
            }
            System.out.printf("most alike (cosine %.3f):%n  %s%n  %s%n", best, texts.get(bestI), texts.get(bestJ));
            System.out.println(encoder.counters());
        } catch (ModelLoadException e) {
            System.err.println("cannot load the model: " + e.getMessage());
            System.exit(1);
        }
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
