package example;

import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * The README's Spring AI example (compiled and run by the tests). With
 * sbert4j-spring-ai on the class path and, in application.properties,
 * {@code sbert4j.model-dir=models/all-MiniLM-L6-v2}.
 */
@SpringBootApplication
public class SpringAiExample {
    public static void main(String[] args) {
        SpringApplication.run(SpringAiExample.class, args);
    }

    @Bean
    CommandLineRunner embed(EmbeddingModel embeddingModel) {
        return args -> {
            float[] vector = embeddingModel.embed("The quick brown fox");
            System.out.println(vector.length + " floats from " + embeddingModel.getClass().getSimpleName());
        };
    }
}
