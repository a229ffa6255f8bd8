package example;

import static org.junit.Assert.assertEquals;

import java.nio.file.Paths;

import org.junit.Test;

public class LangChain4jExampleTest {
    @Test
    public void theReadmeExampleFindsTheBreadRecipe() {
        assertEquals("Knead the dough for ten minutes, then let it rise.",
                LangChain4jExample.nearest(Paths.get(System.getProperty("sbert4j.test.model")), "How do I bake bread?"));
    }
}
