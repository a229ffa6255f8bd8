package example;

import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** examples/langchain4j-rag/RagIngestion.java, compiled with the tests, ingests a document and finds a passage. */
public class ExamplesTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void ragIngestionSplitsByTokensAndRetrievesThePassage() throws Exception {
        Path model = Paths.get(System.getProperty("sbert4j.test.model"));
        // Four topics, one paragraph each, each too long to share a 254-token segment with another.
        String[][] topics = {
            {"Knead the dough for ten minutes until it is smooth and elastic.", "Let the bread rise in a warm place.",
             "Bake the loaf in a hot oven until the crust is golden.", "Flour, water, yeast and salt make bread."},
            {"The central bank raised interest rates by a quarter point.", "Bond yields climbed after the decision.",
             "Mortgage rates follow the central bank's policy rate.", "Inflation expectations moved the markets."},
            {"The striker scored twice in the second half.", "The goalkeeper saved a penalty in the last minute.",
             "The home team won the league on goal difference.", "Fans sang until the final whistle."},
            {"Cats sleep most of the day on warm windowsills.", "Dogs need a walk at least twice a day.",
             "A parrot can learn to whistle a tune.", "Goldfish live longer in a large, filtered tank."}};
        StringBuilder document = new StringBuilder();
        for (String[] topic : topics) {
            for (int repeat = 0; repeat < 4; repeat++) {
                for (String sentence : topic) {
                    document.append(sentence).append(' ');
                }
            }
            document.append("\n\n");
        }
        Path text = tmp.newFile("document.txt").toPath();
        Files.write(text, document.toString().getBytes(StandardCharsets.UTF_8));
        String wanted = "How long should I knead bread dough?";
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, "UTF-8"));
        try {
            Class.forName("RagIngestion").getMethod("main", String[].class)
                    .invoke(null, (Object) new String[] {model.toString(), text.toString(), wanted});
        } finally {
            System.setOut(old);
        }
        String out = new String(captured.toByteArray(), StandardCharsets.UTF_8);
        assertTrue(out, out.contains("4 segments of at most 254 tokens"));
        assertTrue(out, out.contains("best segment: Knead the dough"));
    }
}
