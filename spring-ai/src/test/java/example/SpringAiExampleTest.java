package example;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Paths;

import org.junit.Test;
import org.sbert4j.SentenceEncoder;
import org.sbert4j.springai.Sbert4jEmbeddingModel;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

public class SpringAiExampleTest {
    @Test
    public void theReadmeExampleRunsWithOneProperty() {
        String model = System.getProperty("sbert4j.test.model");
        Sbert4jEmbeddingModel bean;
        try (ConfigurableApplicationContext context = SpringApplication.run(SpringAiExample.class,
                "--sbert4j.model-dir=" + model, "--spring.main.banner-mode=off");
             SentenceEncoder encoder = SentenceEncoder.open(Paths.get(model))) {
            bean = (Sbert4jEmbeddingModel) context.getBean(EmbeddingModel.class);
            assertArrayEquals(encoder.encode("The quick brown fox"), bean.embed("The quick brown fox"), 0f);
        }
        assertTrue(bean.encoder().isClosed());
    }
}
