package org.sbert4j;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

/**
 * Run by {@link HugeTextTest} in a JVM of its own whose virtual memory is limited: encodes a string of
 * hundreds of MB (which the native side must not copy whole) and checks that later calls still work.
 * Prints its findings; exits 0 only if every check held.
 */
public final class HugeTextMain {
    private HugeTextMain() {}

    public static void main(String[] args) throws Exception {
        int chars = Integer.parseInt(args[1]);
        String unit = "a pipeline record ";
        String huge = unit.repeat(chars / unit.length()); // one allocation, Latin-1: a byte per character
        System.out.println("string of " + huge.length() + " chars; " + vm());
        try (SentenceEncoder enc = SentenceEncoder.open(Paths.get(args[0]))) {
            float[] want = enc.encode(huge.substring(0, 20_000));
            Encoding one = enc.encodeWithInfo(huge);
            check(Arrays.equals(one.vector(), want), "encode(huge) equals its beginning's vector");
            check(one.truncated(), "truncated");
            List<Encoding> batch = enc.encodeBatchWithInfo(Arrays.asList("short text", huge, "another"));
            check(Arrays.equals(batch.get(1).vector(), want), "encodeBatch: the huge text");
            check(Arrays.equals(batch.get(0).vector(), enc.encode("short text")), "encodeBatch: its neighbours");
            System.out.println("after encoding; " + vm());
            // countTokens must read the whole text: under the cap that memory cannot be had, which is an
            // exception, never an abort.
            try {
                enc.countTokens(huge);
                check(false, "countTokens(huge) under the memory cap fails");
            } catch (SentenceEncoderException e) {
                check(e.getMessage().contains("out of memory"), "countTokens(huge): " + e.getMessage());
            }
            check(enc.encode("the next call").length == enc.dimension(), "the next call works");
        }
        System.out.println("OK");
    }

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "ok: " : "FAILED: ") + what);
        if (!ok) {
            System.exit(1);
        }
    }

    private static String vm() throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmPeak")) {
                return line.replaceAll("\\s+", " ");
            }
        }
        return "";
    }
}
