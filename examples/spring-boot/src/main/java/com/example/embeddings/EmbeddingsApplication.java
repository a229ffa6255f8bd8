package com.example.embeddings;

import java.util.List;

import org.springframework.ai.document.Document;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A Spring Boot application with the sbert4j starter: the {@code EmbeddingModel} bean comes from
 * {@code src/main/resources/application.properties}, whose {@code sbert4j.model-dir} the command line may
 * override:
 *
 * <pre>
 * java -jar app.jar --sbert4j.model-dir=/opt/models/all-MiniLM-L6-v2
 * </pre>
 *
 * Documents are embedded with the document prompt, the question with the query prompt. Compiled and run by
 * {@code gradle :sbert4j-spring-ai:test} (ExamplesTest).
 */
@SpringBootApplication
public class EmbeddingsApplication {
    public static void main(String[] args) {
        SpringApplication.run(EmbeddingsApplication.class, args).close();
    }

    @Bean
    CommandLineRunner nearest(EmbeddingModel embeddingModel) {
        return args -> {
            List<Document> documents = List.of(
                    new Document("Knead the dough for ten minutes, then let it rise."),
                    new Document("The central bank raised interest rates."),
                    new Document("The striker scored twice in the second half."));
            String question = "How do I bake bread?";
            float[] q = embeddingModel.embed(question);
            Document best = null;
            double bestScore = -2;
            for (Document d : documents) {
                float[] v = embeddingModel.embed(d);
                double dot = 0;
                for (int i = 0; i < v.length; i++) {
                    dot += q[i] * v[i];
                }
                if (dot > bestScore) {
                    bestScore = dot;
                    best = d;
                }
            }
            System.out.println(question + " -> " + best.getText());
        };
    }
}
