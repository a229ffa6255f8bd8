package org.sbert4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import org.sbert4j.SentenceEncoder;

/**
 * Soak: N single-text encodes (default 1,000,000) through one encoder,
 * printing resident memory (VmRSS) and Java heap every 10%, to show that
 * memory stays flat after warm-up. Not part of the test run.
 *
 * <pre>
 * usage: SoakCommand [--model DIR] [--encodes N] [--texts FILE]
 * </pre>
 */
public final class SoakCommand {
    private SoakCommand() {}

    public static void main(String[] args) throws IOException {
        Path model = Paths.get("models/all-MiniLM-L6-v2");
        long n = 1_000_000;
        List<String> texts = defaultTexts();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--model": model = Paths.get(args[i + 1]); break;
                case "--encodes": n = Long.parseLong(args[i + 1]); break;
                case "--texts": texts = Files.readAllLines(Paths.get(args[i + 1]), StandardCharsets.UTF_8); break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        try (SentenceEncoder enc = SentenceEncoder.open(model)) {
            System.out.printf("soak: %d encodes of %d distinct texts; after loading: RSS %d MiB, heap %d MiB%n",
                    n, texts.size(), rssMiB(), heapMiB());
            System.out.println("done%    encodes     seconds   encodes/s   RSS MiB   heap MiB");
            long started = System.nanoTime();
            long step = Math.max(1, n / 10);
            double checksum = 0;
            for (long i = 1; i <= n; i++) {
                float[] v = enc.encode(texts.get((int) (i % texts.size())));
                checksum += v[0];
                if (i % step == 0 || i == n) {
                    double s = (System.nanoTime() - started) / 1e9;
                    System.out.printf("%5.0f %11d %11.1f %11.0f %9d %10d%n", 100.0 * i / n, i, s, i / s, rssMiB(), heapMiB());
                }
            }
            System.out.printf("checksum %.6f%n", checksum);
        }
    }

    private static List<String> defaultTexts() {
        String[] seeds = {
            "The quick brown fox jumps over the lazy dog.",
            "客户投诉物流太慢，希望尽快处理退款。",
            "Привет, как дела? Всё хорошо.",
            "I love pizza 🍕 and sushi 🍣!",
            "The committee adjourned without agreement after a long afternoon of debate over the budget.",
            "",
        };
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            texts.add(seeds[i % seeds.length] + (i % seeds.length == 5 ? "" : " #" + i));
        }
        return texts;
    }

    private static long rssMiB() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: no RSS figure
        }
        return -1;
    }

    private static long heapMiB() {
        Runtime rt = Runtime.getRuntime();
        return (rt.totalMemory() - rt.freeMemory()) >> 20;
    }
}
