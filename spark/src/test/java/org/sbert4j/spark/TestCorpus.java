package org.sbert4j.spark;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

/** The 1000-sentence corpus (src/test/resources/sentences.txt), read from the class path: tests, benchmarks and the cluster job. */
final class TestCorpus {
    private TestCorpus() {}

    static List<String> read() throws IOException {
        try (InputStream in = TestCorpus.class.getResourceAsStream("/sentences.txt")) {
            if (in == null) {
                throw new IOException("sentences.txt is not on the class path");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            return reader.lines().filter(line -> !line.isEmpty()).collect(Collectors.toList());
        }
    }
}
