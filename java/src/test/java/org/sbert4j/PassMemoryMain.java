package org.sbert4j;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Run by {@link PassMemoryTest} in a JVM of its own: once the model (all-mpnet-base-v2) is open and warm, caps
 * its own virtual memory ({@code prlimit --as}, what {@code ulimit -v} sets) 16 MiB above what it uses, then
 * encodes a batch of long texts: its forward pass needs hundreds of MB, and each text's own pass (384 tokens)
 * about 25 MB. That must be a {@link SentenceEncoderException}, never an abort, and the next call must still
 * work. Prints its findings; exits 0 only if every check held.
 */
public final class PassMemoryMain {
    private static final long HEADROOM_KB = 16 * 1024;

    private PassMemoryMain() {}

    public static void main(String[] args) throws Exception {
        try (SentenceEncoder enc = SentenceEncoder.builder(Paths.get(args[0])).batchSize(16).open()) {
            String longText = "a pipeline record with words enough to be long ".repeat(60);
            List<String> batch = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                batch.add(i + " " + longText);
            }
            float[] want = enc.encode("the next call");
            check(enc.encodeBatch(batch).length == 16, "the batch encodes before the cap");
            // Everything the failure path needs, loaded before the cap.
            check(new SentenceEncoderException("warm-up").getMessage() != null, "exception class loaded");
            long cap = vm("VmSize") + HEADROOM_KB;
            long pid = ManagementFactory.getRuntimeMXBean().getPid();
            Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(pid), "--as=" + cap * 1024)
                    .inheritIO().start();
            check(prlimit.waitFor() == 0, "prlimit capped this JVM at " + cap + " kB");
            System.out.println("capped: " + vm("VmSize") + " kB used of " + cap + " kB");
            try {
                enc.encodeBatch(batch);
                check(false, "a batch of 16 texts of 384 tokens under the cap fails");
            } catch (SentenceEncoderException e) {
                check(e.getMessage().contains("out of memory"), "encodeBatch: " + e.getMessage());
            }
            float[] next = enc.encode("the next call");
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(next[i] - want[i]));
            }
            check(worst <= 1e-6, "the next call works, the same vector (max difference " + worst + ")");
        }
        System.out.println("OK");
    }

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "ok: " : "FAILED: ") + what);
        if (!ok) {
            System.exit(1);
        }
    }

    /** A {@code /proc/self/status} field, in kB. */
    private static long vm(String field) throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
