package org.sbert4j.docs;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;

/**
 * Every Java snippet of the README and the manual is a region of a source
 * file that {@code gradle test} compiles, character for character (see
 * {@link Snippets} for the markers), so the documents cannot drift from
 * code that compiles.
 */
public class DocSnippetsTest {
    private final Path root = Snippets.repositoryRoot();

    @Test
    public void everyJavaSnippetIsACompiledSourceRegion() {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Path doc : Snippets.documents(root)) {
            String name = root.relativize(doc).toString().replace('\\', '/');
            for (Snippets.Block block : Snippets.blocks(name, Snippets.read(doc))) {
                if (block.sourcePath == null) {
                    if (block.language.equals("java")) {
                        problems.add(block.where() + ": a java block without a '<!-- snippet: PATH#NAME -->' "
                                + "line before it (put the code in a compiled source file and name it there)");
                    }
                    continue;
                }
                if (!block.language.equals("java")) {
                    problems.add(block.where() + ": a snippet marker before a '" + block.language
                            + "' block; markers name Java sources only");
                    continue;
                }
                String problem = check(block);
                if (problem != null) {
                    problems.add(problem);
                }
                checked++;
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " documentation snippet(s) out of step with the code:\n\n"
                    + String.join("\n\n", problems));
        }
        assertTrue("the README shows compiled Java snippets (found " + checked + ")", checked >= 4);
    }

    private String check(Snippets.Block block) {
        String path = block.sourcePath;
        if (Snippets.COMPILED_ROOTS.stream().noneMatch(path::startsWith) || !path.endsWith(".java")) {
            return block.where() + ": " + path + " is not in a source folder gradle test compiles "
                    + Snippets.COMPILED_ROOTS + " (add the folder to Snippets.COMPILED_ROOTS if the build compiles it)";
        }
        Path file = root.resolve(path);
        if (!Files.isRegularFile(file)) {
            return block.where() + ": " + path + " does not exist";
        }
        String expected;
        try {
            expected = Snippets.normalize(Snippets.region(Snippets.read(file), block.region));
        } catch (IllegalArgumentException e) {
            return block.where() + ": " + block.source() + ": " + e.getMessage();
        }
        String actual = Snippets.normalize(block.body);
        if (!expected.equals(actual)) {
            return block.where() + " differs from " + block.source() + "; copy the region into the document.\n"
                    + "--- the code:\n" + expected + "\n--- the document:\n" + actual;
        }
        return null;
    }

    // The checker itself, on made-up documents: it must see what it is for.

    private static final String SOURCE = "package x;\n\nclass A {\n    void f() {\n        // snippet:start body\n"
            + "        int a = 1;\n        int b = a + 1;\n        // snippet:end body\n    }\n}\n";

    @Test
    public void aRegionIsTheLinesBetweenItsMarkersWithoutTheirIndentation() {
        assertEquals("int a = 1;\nint b = a + 1;", Snippets.normalize(Snippets.region(SOURCE, "body")));
        assertTrue(Snippets.region(SOURCE, null).startsWith("class A {"));
    }

    @Test
    public void aMarkerAppliesToTheBlockRightAfterIt() {
        String md = "text\n<!-- snippet: java/src/test/java/x/A.java#body -->\n```java\nint a = 1;\n```\n\n"
                + "<!-- snippet: java/src/test/java/x/A.java -->\nsome prose\n```java\nother();\n```\n"
                + "```sh\nls\n```\n";
        List<Snippets.Block> blocks = Snippets.blocks("t.md", md);
        assertEquals(3, blocks.size());
        assertEquals("java/src/test/java/x/A.java", blocks.get(0).sourcePath);
        assertEquals("body", blocks.get(0).region);
        assertEquals(3, blocks.get(0).line);
        assertNull("prose between a marker and a block cancels the marker", blocks.get(1).sourcePath);
        assertEquals("sh", blocks.get(2).language);
    }

    @Test
    public void aChangedLineIsADifference() {
        String changed = "int a = 1;\nint b = a + 2;\n";
        assertNotEquals(Snippets.normalize(Snippets.region(SOURCE, "body")), Snippets.normalize(changed));
        assertEquals(Snippets.normalize(Snippets.region(SOURCE, "body")),
                Snippets.normalize("    int a = 1;   \n    int b = a + 1;\n\n"));
    }

    @Test
    public void aMissingRegionIsReported() {
        try {
            Snippets.region(SOURCE, "nothere");
            fail("a region that is not in the file");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("snippet:start nothere"));
        }
        assertFalse(Snippets.COMPILED_ROOTS.isEmpty());
    }
}
