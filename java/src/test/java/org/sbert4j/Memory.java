package org.sbert4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/** Resident memory of this process, from /proc/self/status (Linux). */
final class Memory {
    private Memory() {}

    static long residentBytes() throws IOException {
        return statusKib("VmRSS:") << 10;
    }

    /** The highest RSS since the process started or {@link #resetPeak()} last ran. */
    static long peakResidentBytes() throws IOException {
        return statusKib("VmHWM:") << 10;
    }

    /** Sets the peak (VmHWM) back to the current RSS. */
    static void resetPeak() throws IOException {
        Files.write(Paths.get("/proc/self/clear_refs"), "5".getBytes(StandardCharsets.US_ASCII));
    }

    private static long statusKib(String field) throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IOException(field + " not in /proc/self/status");
    }
}
