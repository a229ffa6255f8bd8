package org.sbert4j.docs;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.Test;

/**
 * Every relative link of the README and of every page under docs/
 * (measurement logs included) names a file or folder that exists, so
 * moving a page or a source file cannot leave a dead link behind.
 */
public class DocLinksTest {
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

    @Test
    public void everyRelativeLinkResolves() throws IOException {
        Path root = Snippets.repositoryRoot();
        List<Path> docs = new ArrayList<>();
        docs.add(root.resolve("README.md"));
        try (Stream<Path> walk = Files.walk(root.resolve("docs"))) {
            docs.addAll(walk.filter(p -> p.toString().endsWith(".md")).sorted().collect(Collectors.toList()));
        }
        List<String> dead = new ArrayList<>();
        int links = 0;
        for (Path doc : docs) {
            String text = Snippets.read(doc);
            String[] lines = text.split("\n", -1);
            boolean inFence = false;
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].trim().startsWith("```")) {
                    inFence = !inFence;
                    continue;
                }
                if (inFence) {
                    continue;
                }
                Matcher m = LINK.matcher(lines[i]);
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") || target.startsWith("#")) {
                        continue; // http:, https:, mailto:, and anchors within the page
                    }
                    String path = target.replaceFirst("#.*$", "");
                    links++;
                    if (!Files.exists(doc.getParent().resolve(path).normalize())) {
                        dead.add(root.relativize(doc) + ":" + (i + 1) + ": " + target);
                    }
                }
            }
        }
        if (!dead.isEmpty()) {
            fail(dead.size() + " dead link(s):\n" + String.join("\n", dead));
        }
        assertTrue("links found: " + links, links > 10);
    }
}
