package consumer;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import javax.xml.parsers.DocumentBuilderFactory;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.Test;
import org.sbert4j.Precision;
import org.sbert4j.SentenceEncoder;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What Maven Central asks of each published artifact, read from build/repo,
 * and the command-line jar run as a user without Gradle runs it.
 */
public class PublishedArtifactsTest {
    private static final Path REPO = Paths.get(System.getProperty("sbert4j.test.repo"));
    private static final String VERSION = System.getProperty("sbert4j.test.version");
    /** Every artifact the build publishes, each with Maven Central's metadata (gradle/maven-artifact.gradle). */
    private static final List<String> ARTIFACTS = List.of("sbert4j", "sbert4j-cli", "sbert4j-langchain4j", "sbert4j-spring-ai",
            "sbert4j-spark_2.12", "sbert4j-spark_2.13");

    private static Path file(String artifact, String suffix) {
        return REPO.resolve("org/sbert4j/" + artifact + "/" + VERSION + "/" + artifact + "-" + VERSION + suffix);
    }

    private static Document pom(String artifact) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file(artifact, ".pom").toFile());
    }

    private static String text(Document pom, String path) {
        Element e = pom.getDocumentElement();
        for (String name : path.split("/")) {
            NodeList children = e.getElementsByTagName(name);
            if (children.getLength() == 0) {
                return null;
            }
            e = (Element) children.item(0);
        }
        return e.getTextContent().trim();
    }

    @Test
    public void everyArtifactHasCentralsMetadataSourcesJavadocAndAModuleName() throws Exception {
        for (String artifact : ARTIFACTS) {
            Document pom = pom(artifact);
            for (String field : List.of("name", "description", "url", "licenses/license/name", "licenses/license/url",
                    "scm/url", "scm/connection", "developers/developer/name")) {
                String value = text(pom, field);
                assertNotNull(artifact + ": POM lacks " + field, value);
                assertFalse(artifact + ": POM has an empty " + field, value.isEmpty());
            }
            try (JarFile sources = new JarFile(file(artifact, "-sources.jar").toFile())) {
                assertTrue(artifact + ": sources jar has no .java",
                        sources.stream().anyMatch(e -> e.getName().endsWith(".java")));
            }
            try (JarFile javadoc = new JarFile(file(artifact, "-javadoc.jar").toFile())) {
                assertNotNull(artifact + ": javadoc jar has no index.html", javadoc.getEntry("index.html"));
            }
            try (JarFile jar = new JarFile(file(artifact, ".jar").toFile())) {
                String module = jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name");
                assertNotNull(artifact + ": no Automatic-Module-Name", module);
                assertTrue(artifact + ": " + module, module.startsWith("org.sbert4j"));
            }
        }
    }

    @Test
    public void adaptersDeclareWhatTheirApiExposesAtCompileScope() throws Exception {
        for (String artifact : List.of("sbert4j-cli", "sbert4j-langchain4j", "sbert4j-spring-ai")) {
            NodeList deps = pom(artifact).getElementsByTagName("dependency");
            boolean core = false;
            for (int i = 0; i < deps.getLength(); i++) {
                Element dep = (Element) deps.item(i);
                String id = dep.getElementsByTagName("artifactId").item(0).getTextContent();
                NodeList scope = dep.getElementsByTagName("scope");
                String s = scope.getLength() == 0 ? "compile" : scope.item(0).getTextContent();
                if (id.equals("sbert4j")) {
                    core = true;
                    if (!artifact.equals("sbert4j-cli")) {
                        assertEquals(artifact + ": the core", "compile", s);
                    }
                }
                if (id.equals("langchain4j-core") || id.equals("spring-ai-model") || id.equals("spring-boot-autoconfigure")) {
                    assertEquals(artifact + ": " + id, "compile", s);
                }
            }
            assertTrue(artifact + " depends on the core", core);
        }
    }

    @Test
    public void theEncodeCommandRunsAsJavaJarFromTheRepository() throws Exception {
        Path dir = Files.createTempDirectory("sbert4j-cli");
        Path input = dir.resolve("texts.txt");
        Path output = dir.resolve("vectors.jsonl");
        List<String> texts = List.of("The quick brown fox", "客户投诉物流太慢", "");
        Files.write(input, texts, StandardCharsets.UTF_8);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", file("sbert4j-cli", ".jar").toString(),
                "--model", MavenConsumerTest.MODEL.toString(), "--input", input.toString(), "--output", output.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(dir.resolve("log.txt").toFile());
        Process p = pb.start();
        assertTrue("encode command did not finish", p.waitFor(120, TimeUnit.SECONDS));
        String log = new String(Files.readAllBytes(dir.resolve("log.txt")), StandardCharsets.UTF_8);
        assertEquals(log, 0, p.exitValue());
        List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
        assertEquals(texts.size(), lines.size());
        try (SentenceEncoder encoder = SentenceEncoder.open(MavenConsumerTest.MODEL)) {
            for (int i = 0; i < texts.size(); i++) {
                JsonObject line = JsonParser.parseString(lines.get(i)).getAsJsonObject();
                assertEquals(texts.get(i), line.get("text").getAsString());
                JsonArray array = line.getAsJsonArray("embedding");
                float[] v = new float[array.size()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = array.get(j).getAsFloat();
                }
                assertArrayEquals(texts.get(i), encoder.encode(texts.get(i)), v, 1e-6f);
            }
        }
    }

    @Test
    public void theEncodeCommandTakesAPrecision() throws Exception {
        Path dir = Files.createTempDirectory("sbert4j-cli-precision");
        Path input = dir.resolve("texts.txt");
        Path output = dir.resolve("vectors.jsonl");
        List<String> texts = List.of("The quick brown fox", "客户投诉物流太慢");
        Files.write(input, texts, StandardCharsets.UTF_8);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String jar = file("sbert4j-cli", ".jar").toString();
        String model = MavenConsumerTest.MODEL.toString();
        Process p = new ProcessBuilder(java, "-jar", jar, "--model", model, "--input", input.toString(),
                "--output", output.toString(), "--precision", "int8").redirectErrorStream(true)
                .redirectOutput(dir.resolve("log.txt").toFile()).start();
        assertTrue("encode command did not finish", p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(new String(Files.readAllBytes(dir.resolve("log.txt")), StandardCharsets.UTF_8), 0, p.exitValue());
        List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
        try (SentenceEncoder encoder = SentenceEncoder.builder(MavenConsumerTest.MODEL).precision(Precision.INT8).open()) {
            for (int i = 0; i < texts.size(); i++) {
                JsonArray array = JsonParser.parseString(lines.get(i)).getAsJsonObject().getAsJsonArray("embedding");
                float[] v = new float[array.size()];
                for (int j = 0; j < v.length; j++) {
                    v[j] = array.get(j).getAsFloat();
                }
                assertArrayEquals(texts.get(i), encoder.encode(texts.get(i)), v, 1e-6f);
            }
        }
        Process bad = new ProcessBuilder(java, "-jar", jar, "--model", model, "--input", input.toString(),
                "--output", output.toString(), "--precision", "fp16").redirectErrorStream(true)
                .redirectOutput(dir.resolve("bad.txt").toFile()).start();
        assertTrue(bad.waitFor(120, TimeUnit.SECONDS));
        String log = new String(Files.readAllBytes(dir.resolve("bad.txt")), StandardCharsets.UTF_8);
        assertEquals(log, 2, bad.exitValue());
        assertTrue(log, log.contains("unknown precision 'fp16'"));
    }
}
