package org.sbert4j.cli;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.sbert4j.Encoding;
import org.sbert4j.Precision;
import org.sbert4j.Prompt;
import org.sbert4j.SentenceEncoder;

/**
 * The main job: one text per line in, one JSON object per line out,
 * {@code {"text": "...", "tokens": N, "truncated": false, "embedding": [...]}}
 * ({@code tokens}: tokens that went through the model; {@code truncated}:
 * whether the text was cut at the model's maximum sequence length). Reads a
 * file or standard input; writes a file or standard output; reports
 * progress on standard error when reading a file, and a summary line (how
 * many texts, how many truncated) at the end.
 *
 * <pre>
 * usage: EncodeCommand [--model DIR] [--input FILE] [--output FILE] [--batch-size N]
 *                      [--prompt-name NAME | --prompt TEXT] [--truncate-dim N] [--precision fp32|bf16|int8]
 * </pre>
 */
public final class EncodeCommand {
    private static final String DEFAULT_MODEL = "models/all-MiniLM-L6-v2";
    private static final int CHUNK = 256;

    private EncodeCommand() {}

    public static void main(String[] args) throws IOException {
        Path model = Paths.get(DEFAULT_MODEL);
        Path input = null;
        Path output = null;
        int batchSize = 32;
        Precision precision = Precision.FP32;
        Prompt prompt = null;
        int truncateDim = -1;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--model": model = Paths.get(require(value, args[i])); i++; break;
                case "--input": input = blankToNull(require(value, args[i])); i++; break;
                case "--output": output = blankToNull(require(value, args[i])); i++; break;
                case "--batch-size": batchSize = Integer.parseInt(require(value, args[i])); i++; break;
                case "--prompt-name": prompt = Prompt.named(require(value, args[i])); i++; break;
                case "--prompt": prompt = Prompt.literal(require(value, args[i])); i++; break;
                case "--truncate-dim": truncateDim = Integer.parseInt(require(value, args[i])); i++; break;
                case "--precision": precision = precision(require(value, args[i])); i++; break;
                default: usage("unknown argument " + args[i]);
            }
        }
        long total = input == null ? -1 : countLines(input);
        SentenceEncoder.Builder builder = SentenceEncoder.builder(model).batchSize(batchSize).precision(precision);
        if (prompt != null) {
            builder.defaultPrompt(prompt);
        }
        if (truncateDim > 0) {
            builder.truncateDim(truncateDim);
        }
        try (SentenceEncoder encoder = builder.open();
             BufferedReader in = input == null
                     ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                     : Files.newBufferedReader(input, StandardCharsets.UTF_8);
             Writer out = new BufferedWriter(new OutputStreamWriter(
                     output == null ? nonClosing(System.out) : Files.newOutputStream(output), StandardCharsets.UTF_8))) {
            List<String> chunk = new ArrayList<>(CHUNK);
            long[] counts = new long[2]; // texts, truncated texts
            long started = System.nanoTime();
            String line;
            while ((line = in.readLine()) != null) {
                chunk.add(line);
                if (chunk.size() == CHUNK) {
                    write(encoder, chunk, out, counts);
                    progress(counts[0], total, started);
                }
            }
            write(encoder, chunk, out, counts);
            progress(counts[0], total, started);
            System.err.printf("encoded %d texts, %d truncated at %d tokens%n",
                    counts[0], counts[1], encoder.maxSequenceLength());
        }
    }

    private static void write(SentenceEncoder encoder, List<String> texts, Writer out, long[] counts)
            throws IOException {
        if (texts.isEmpty()) {
            return;
        }
        List<Encoding> encodings = encoder.encodeBatchWithInfo(texts);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            Encoding e = encodings.get(i);
            sb.setLength(0);
            sb.append("{\"text\":");
            Json.string(sb, texts.get(i));
            sb.append(",\"tokens\":").append(e.tokens());
            sb.append(",\"truncated\":").append(e.truncated());
            sb.append(",\"embedding\":");
            Json.floats(sb, e.vector());
            sb.append("}\n");
            out.write(sb.toString());
            counts[1] += e.truncated() ? 1 : 0;
        }
        counts[0] += texts.size();
        texts.clear();
    }

    private static void progress(long done, long total, long started) {
        if (total < 0) {
            return;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.err.printf("encoded %d/%d texts (%.0f%%), %.0f texts/s%n",
                done, total, total == 0 ? 100.0 : 100.0 * done / total, seconds > 0 ? done / seconds : 0.0);
    }

    private static long countLines(Path file) throws IOException {
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.count();
        }
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    private static Path blankToNull(String s) {
        return s.isEmpty() || s.equals("-") ? null : Paths.get(s);
    }

    /** {@code fp32}, {@code bf16} or {@code int8} (any case). */
    private static Precision precision(String name) {
        for (Precision p : Precision.values()) {
            if (p.name().equalsIgnoreCase(name.trim())) {
                return p;
            }
        }
        usage("unknown precision '" + name + "': use fp32, bf16 or int8");
        return Precision.FP32; // not reached: usage exits
    }

    private static String require(String value, String flag) {
        if (value == null) {
            usage(flag + " needs a value");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: EncodeCommand [--model DIR] [--input FILE|-] [--output FILE|-] [--batch-size N]"
                + " [--prompt-name NAME | --prompt TEXT] [--truncate-dim N] [--precision fp32|bf16|int8]");
        System.exit(2);
    }
}
