package example;

import java.nio.file.Paths;
import java.util.List;
import org.sbert4j.SentenceEncoder;

public class QuickStart {
    public static void main(String[] args) {
        try (SentenceEncoder encoder = SentenceEncoder.open(Paths.get("models/all-MiniLM-L6-v2"))) {
            float[] vector = encoder.encode("The quick brown fox");          // 384 floats
            float[][] vectors = encoder.encodeBatch(List.of("first text", "second text"));
            System.out.println(vector.length + " floats, " + vectors.length + " vectors");
        }
    }
}
