package example;

import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.Test;

/** examples/plain-encoder/PlainEncoder.java, compiled with the tests, runs and finds the pair a reader expects. */
public class ExamplesTest {
    @Test
    public void plainEncoderFindsTheTwoEatingSentences() throws Exception {
        String out = run(Class.forName("PlainEncoder"), System.getProperty("sbert4j.test.model"));
        assertTrue(out, out.contains("architecture=bert"));
        assertTrue(out, out.contains("most alike") && out.contains("A man is eating food.")
                && out.contains("A man is eating a piece of bread."));
        assertTrue(out, out.contains("EncoderCounters{texts=4"));
    }

    static String run(Class<?> program, String... args) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, "UTF-8"));
        try {
            program.getMethod("main", String[].class).invoke(null, (Object) args);
        } finally {
            System.setOut(old);
        }
        return new String(captured.toByteArray(), StandardCharsets.UTF_8);
    }
}
