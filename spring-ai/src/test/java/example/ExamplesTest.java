package example;

import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.junit.Test;

/**
 * examples/spring-boot, compiled with the tests, starts with its own application.properties (the model
 * directory given on the command line, as a deployment would) and answers its question.
 */
public class ExamplesTest {
    @Test
    public void theSpringBootApplicationStartsAndFindsTheBreadRecipe() throws Exception {
        Path model = Paths.get(System.getProperty("sbert4j.test.model"));
        Path properties = model.getParent().getParent().resolve("examples/spring-boot/src/main/resources/application.properties");
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, "UTF-8"));
        try {
            com.example.embeddings.EmbeddingsApplication.main(new String[] {
                    "--spring.config.location=file:" + properties, "--sbert4j.model-dir=" + model,
                    "--spring.main.web-application-type=none"});
        } finally {
            System.setOut(old);
        }
        String out = new String(captured.toByteArray(), StandardCharsets.UTF_8);
        assertTrue(out, out.contains("How do I bake bread? -> Knead the dough for ten minutes, then let it rise."));
    }
}
