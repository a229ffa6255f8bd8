package org.sbert4j.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The Java snippets of the README and the manual, and the compiled source
 * regions they must equal.
 *
 * <p>In a Markdown file, a fenced {@code java} block is preceded by a marker
 * naming its source: {@code <!-- snippet: PATH#NAME -->} for the lines
 * between {@code // snippet:start NAME} and {@code // snippet:end NAME} of
 * the Java file PATH (relative to the repository root), or
 * {@code <!-- snippet: PATH -->} for the whole file without its
 * {@code package} line. PATH must lie in a source folder the Gradle build
 * compiles ({@link #COMPILED_ROOTS}), so every snippet a reader sees has
 * been compiled by {@code gradle test}. Both sides are compared after
 * removing their common indentation, trailing spaces and surrounding blank
 * lines.
 */
final class Snippets {
    /** Source folders {@code gradle test} compiles (root project and subprojects). */
    static final List<String> COMPILED_ROOTS = Arrays.asList(
            "java/src/main/java/", "java/src/test/java/",
            "cli/src/main/java/", "cli/src/test/java/",
            "spark/src/main/java/", "spark/src/test/java/",
            "langchain4j/src/main/java/", "langchain4j/src/test/java/",
            "spring-ai/src/main/java/", "spring-ai/src/test/java/");

    private static final Pattern MARKER = Pattern.compile("^<!--\\s*snippet:\\s*([^#\\s]+)(?:#(\\S+))?\\s*-->\\s*$");
    private static final Pattern FENCE = Pattern.compile("^(\\s*)(```+)\\s*([A-Za-z0-9_+-]*).*$");

    private Snippets() {}

    /** One fenced block of a Markdown file, with the marker before it, if any. */
    static final class Block {
        final String file;
        final int line; // 1-based line of the opening fence
        final String language;
        final String body;
        final String sourcePath; // null without a marker
        final String region; // null: the whole file

        Block(String file, int line, String language, String body, String sourcePath, String region) {
            this.file = file;
            this.line = line;
            this.language = language;
            this.body = body;
            this.sourcePath = sourcePath;
            this.region = region;
        }

        String where() {
            return file + ":" + line;
        }

        String source() {
            return sourcePath + (region == null ? "" : "#" + region);
        }
    }

    /** The repository root: the test's working directory (Gradle runs the root project's tests there). */
    static Path repositoryRoot() {
        Path dir = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("settings.gradle"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (README.md and settings.gradle) at or above " + dir);
    }

    /** README.md and every Markdown page under docs/, except the measurement logs. */
    static List<Path> documents(Path root) {
        List<Path> docs = new ArrayList<>();
        docs.add(root.resolve("README.md"));
        try (Stream<Path> walk = Files.walk(root.resolve("docs"))) {
            walk.filter(p -> p.toString().endsWith(".md"))
                    .filter(p -> !root.relativize(p).toString().replace('\\', '/').startsWith("docs/measurements/"))
                    .sorted()
                    .forEach(docs::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /** The fenced blocks of one Markdown text; {@code name} is how messages name the file. */
    static List<Block> blocks(String name, String markdown) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = markdown.split("\n", -1);
        String pendingPath = null;
        String pendingRegion = null;
        for (int i = 0; i < lines.length; i++) {
            String line = stripCr(lines[i]);
            Matcher marker = MARKER.matcher(line.trim());
            if (marker.matches()) {
                pendingPath = marker.group(1);
                pendingRegion = marker.group(2);
                continue;
            }
            Matcher fence = FENCE.matcher(line);
            if (fence.matches()) {
                String ticks = fence.group(2);
                int open = i;
                StringBuilder body = new StringBuilder();
                int j = i + 1;
                while (j < lines.length && !stripCr(lines[j]).trim().startsWith(ticks)) {
                    body.append(stripCr(lines[j])).append('\n');
                    j++;
                }
                blocks.add(new Block(name, open + 1, fence.group(3).toLowerCase(), body.toString(),
                        pendingPath, pendingRegion));
                pendingPath = null;
                pendingRegion = null;
                i = j;
                continue;
            }
            if (!line.trim().isEmpty()) {
                pendingPath = null; // a marker applies only to the block right after it
                pendingRegion = null;
            }
        }
        return blocks;
    }

    /**
     * The lines of a Java source a marker names: the region between
     * {@code // snippet:start NAME} and {@code // snippet:end NAME}, or the
     * whole file without its package line when {@code region} is null.
     */
    static String region(String javaSource, String region) {
        List<String> lines = Arrays.stream(javaSource.split("\n", -1)).map(Snippets::stripCr)
                .collect(Collectors.toList());
        if (region == null) {
            List<String> kept = new ArrayList<>();
            for (String l : lines) {
                if (kept.isEmpty() && (l.trim().startsWith("package ") || l.trim().isEmpty())) {
                    continue;
                }
                kept.add(l);
            }
            return String.join("\n", kept);
        }
        int start = -1;
        int end = -1;
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).trim();
            if (t.equals("// snippet:start " + region)) {
                if (start >= 0) {
                    throw new IllegalArgumentException("two '// snippet:start " + region + "' lines");
                }
                start = i;
            } else if (t.equals("// snippet:end " + region) && start >= 0 && end < 0) {
                end = i;
            }
        }
        if (start < 0 || end < 0) {
            throw new IllegalArgumentException("no region between '// snippet:start " + region
                    + "' and '// snippet:end " + region + "'");
        }
        return String.join("\n", lines.subList(start + 1, end));
    }

    /** Common indentation, trailing spaces and surrounding blank lines removed. */
    static String normalize(String text) {
        List<String> lines = Arrays.stream(text.split("\n", -1)).map(Snippets::stripTrailing)
                .collect(Collectors.toList());
        while (!lines.isEmpty() && lines.get(0).isEmpty()) {
            lines.remove(0);
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isEmpty()) {
                int n = 0;
                while (n < l.length() && l.charAt(n) == ' ') {
                    n++;
                }
                indent = Math.min(indent, n);
            }
        }
        final int cut = indent == Integer.MAX_VALUE ? 0 : indent;
        return lines.stream().map(l -> l.isEmpty() ? l : l.substring(cut)).collect(Collectors.joining("\n"));
    }

    static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String stripCr(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private static String stripTrailing(String s) {
        int n = s.length();
        while (n > 0 && Character.isWhitespace(s.charAt(n - 1))) {
            n--;
        }
        return s.substring(0, n);
    }
}
