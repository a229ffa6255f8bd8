package example;

import static org.junit.Assert.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

import org.junit.Test;

/** The README's Java example runs as printed, from the repository root (where gradle test runs it). */
public class QuickStartTest {
    @Test
    public void theReadmeExampleEncodesWithTheDefaultModel() throws Exception {
        org.junit.Assert.assertTrue("run from the repository root (gradle test does), with the default model fetched",
                Files.isDirectory(Paths.get("models/all-MiniLM-L6-v2")));
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, "UTF-8"));
        try {
            QuickStart.main(new String[0]);
        } finally {
            System.setOut(saved);
        }
        assertEquals("384 floats, 2 vectors", new String(out.toByteArray(), StandardCharsets.UTF_8).trim());
    }
}
