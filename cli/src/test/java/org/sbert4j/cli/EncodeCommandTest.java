package org.sbert4j.cli;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.sbert4j.SentenceEncoder;

/** The encode command: --help against the README's option list, clean one-line errors, vectors, java -jar anywhere. */
public class EncodeCommandTest {
    private static final Path MODEL = Paths.get(System.getProperty("sbert4j.test.model"));

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** Exit status, standard output and standard error of one in-process run. */
    private static final class Run {
        int status;
        String out;
        String err;
    }

    private static Run run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Run r = new Run();
        r.status = EncodeCommand.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true), new PrintStream(err, true));
        r.out = new String(out.toByteArray(), StandardCharsets.UTF_8);
        r.err = new String(err.toByteArray(), StandardCharsets.UTF_8);
        return r;
    }

    @Test
    public void helpListsExactlyTheReadmesOptions() throws Exception {
        Run r = run("", "--help");
        assertEquals(0, r.status);
        List<String> fromHelp = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^  (--\\S+(?: \\S+)?)\\s{2,}(.*)$").matcher(r.out);
        while (m.find()) {
            fromHelp.add("- `" + m.group(1) + "`: " + m.group(2));
        }
        String readme = new String(Files.readAllBytes(Paths.get(System.getProperty("sbert4j.test.readme"))),
                StandardCharsets.UTF_8);
        int start = readme.indexOf("<!-- cli-options:start -->");
        int end = readme.indexOf("<!-- cli-options:end -->");
        assertTrue("README.md has no cli-options block", start >= 0 && end > start);
        List<String> fromReadme = new ArrayList<>();
        for (String line : readme.substring(start, end).split("\n")) {
            if (line.startsWith("- `")) {
                fromReadme.add(line.trim());
            }
        }
        assertEquals(EncodeOptions.OPTIONS.size(), fromHelp.size());
        assertEquals(fromReadme, fromHelp);
    }

    @Test
    public void versionPrintsTheVersion() {
        Run r = run("", "--version");
        assertEquals(0, r.status);
        assertEquals("sbert4j " + System.getProperty("sbert4j.test.version"), r.out.trim());
    }

    @Test
    public void mistakesAreOneLineWithStatus2() {
        for (String[] args : Arrays.asList(new String[] {"--batch-size", "x"}, new String[] {"--batch-size", "0"},
                new String[] {"--truncate-dim", "-3"}, new String[] {"--precision", "fp16"},
                new String[] {"--frobnicate"}, new String[] {"--model"})) {
            Run r = run("", args);
            assertEquals(Arrays.toString(args) + ": " + r.err, 2, r.status);
            assertEquals(r.err, 1, r.err.trim().split("\n").length);
            assertTrue(r.err, r.err.startsWith("sbert4j: ") && r.err.contains("--help"));
        }
        assertTrue(run("", "--batch-size", "x").err.contains("--batch-size needs a whole number, got 'x'"));
    }

    @Test
    public void failuresWhileRunningAreOneLineWithStatus1() throws Exception {
        Path missing = tmp.getRoot().toPath().resolve("no-such-model");
        Run r = run("a\n", "--model", missing.toString());
        assertEquals(r.err, 1, r.status);
        assertEquals(r.err, 1, r.err.trim().split("\n").length);
        assertTrue(r.err, r.err.startsWith("sbert4j: ") && r.err.contains("no-such-model") && !r.err.contains("\tat "));

        r = run("", "--model", MODEL.toString(), "--input", tmp.getRoot().toPath().resolve("nope.txt").toString());
        assertEquals(r.err, 1, r.status);
        assertTrue(r.err, r.err.startsWith("sbert4j: no such file: ") && r.err.contains("nope.txt"));

        r = run("a\n", "--model", MODEL.toString(), "--prompt-name", "query");
        assertEquals(r.err, 1, r.status);
        assertTrue(r.err, r.err.contains("Prompt.literal") || r.err.contains("query"));
    }

    @Test
    public void encodesWhatTheLibraryEncodes() throws Exception {
        List<String> texts = Arrays.asList("The quick brown fox", "客户投诉物流太慢");
        Run r = run(String.join("\n", texts) + "\n", "--model", MODEL.toString(), "--truncate-dim", "64",
                "--batch-size", "1");
        assertEquals(r.err, 0, r.status);
        String[] lines = r.out.trim().split("\n");
        assertEquals(2, lines.length);
        try (SentenceEncoder enc = SentenceEncoder.builder(MODEL).truncateDim(64).open()) {
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(enc.encode(texts.get(i)), embedding(lines[i]), 1e-6f);
            }
        }
    }

    /** The "embedding" array of one output line (the writer's own format: floats after "embedding":[). */
    private static float[] embedding(String line) {
        String body = line.substring(line.indexOf("\"embedding\":[") + 13, line.lastIndexOf(']'));
        String[] parts = body.split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.parseFloat(parts[i]);
        }
        return v;
    }

    @Test
    public void javaJarWorksFromAnyDirectory() throws Exception {
        // The two jars side by side, as a user downloads them; run from an unrelated working directory.
        Path lib = tmp.newFolder("lib").toPath();
        Path elsewhere = tmp.newFolder("elsewhere").toPath();
        Path cliJar = lib.resolve("sbert4j-cli.jar");
        Files.copy(Paths.get(System.getProperty("sbert4j.test.cliJar")), cliJar, StandardCopyOption.REPLACE_EXISTING);
        Path coreJar = Paths.get(System.getProperty("sbert4j.test.coreJar"));
        Files.copy(coreJar, lib.resolve(coreJar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Path input = lib.resolve("texts.txt");
        Files.write(input, Arrays.asList("hello from elsewhere"), StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(java, "-Dsbert4j.cache.dir=" + System.getProperty("sbert4j.cache.dir"),
                "-jar", cliJar.toString(), "--model", MODEL.toAbsolutePath().toString(), "--input", input.toString())
                .directory(elsewhere.toFile()).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(err, 0, p.exitValue());
        // Standard error: the command's own summary, not the library's INFO log lines.
        assertFalse(err, err.contains("INFO") || err.contains("sbert4j opened"));
        assertTrue(err, err.contains("encoded 1 texts"));
        String line = new String(out, StandardCharsets.UTF_8).trim();
        assertTrue(line, line.startsWith("{\"text\":\"hello from elsewhere\""));
        try (SentenceEncoder enc = SentenceEncoder.open(MODEL)) {
            assertArrayEquals(enc.encode("hello from elsewhere"), embedding(line), 1e-6f);
        }
        // Without --model, from a directory without models/: one clean line.
        Process q = new ProcessBuilder(java, "-jar", cliJar.toString()).directory(elsewhere.toFile()).start();
        q.getOutputStream().close();
        String qerr = new String(q.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(q.waitFor(120, TimeUnit.SECONDS));
        assertEquals(qerr, 2, q.exitValue());
        assertTrue(qerr, qerr.startsWith("sbert4j: no model directory: pass --model DIR"));
        assertFalse(qerr, qerr.contains("Exception"));
    }
}
