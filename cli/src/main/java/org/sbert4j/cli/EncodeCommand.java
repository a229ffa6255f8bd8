package org.sbert4j.cli;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.sbert4j.Encoding;
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
 * <p>{@code --help} lists the options ({@link EncodeOptions#OPTIONS}). Every failure is one line on standard
 * error, never a stack trace: exit status 2 for a mistake on the command line, 1 for a failure while running
 * (a model that does not load, a file that cannot be read).
 */
public final class EncodeCommand {
    private static final int CHUNK = 256;
    /**
     * The library's INFO lines (library loaded, model opened) stay out of the command's standard error, which
     * carries its own progress and summary; warnings still show. Held here: java.util.logging keeps loggers weakly.
     */
    private static final java.util.logging.Logger LIBRARY_LOG = java.util.logging.Logger.getLogger("org.sbert4j");

    private EncodeCommand() {}

    public static void main(String[] args) {
        LIBRARY_LOG.setLevel(java.util.logging.Level.WARNING);
        int status = run(args, System.in, System.out, System.err);
        System.out.flush();
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs the command; returns its exit status. */
    static int run(String[] args, InputStream stdin, PrintStream stdout, PrintStream stderr) {
        EncodeOptions options;
        try {
            options = EncodeOptions.parse(args);
        } catch (EncodeOptions.UsageException e) {
            stderr.println("sbert4j: " + e.getMessage() + " (see --help)");
            return 2;
        }
        if (options.help) {
            stdout.print(EncodeOptions.helpText());
            return 0;
        }
        if (options.version) {
            stdout.println("sbert4j " + SentenceEncoder.version());
            return 0;
        }
        if (!options.modelGiven && !Files.isDirectory(options.model)) {
            stderr.println("sbert4j: no model directory: pass --model DIR (the default, " + EncodeOptions.DEFAULT_MODEL
                    + ", does not exist in " + Paths.get("").toAbsolutePath() + ")");
            return 2;
        }
        try {
            encode(options, stdin, stdout, stderr);
            return 0;
        } catch (IOException | UncheckedIOException e) {
            Throwable cause = e instanceof UncheckedIOException ? e.getCause() : e;
            stderr.println("sbert4j: " + ioMessage((IOException) cause));
            return 1;
        } catch (RuntimeException e) {
            // SentenceEncoderException and its kinds, IllegalArgumentException (an unknown prompt name, a
            // truncate dimension past the model's): their messages say what is wrong.
            stderr.println("sbert4j: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
    }

    private static String ioMessage(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file: " + e.getMessage();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        return e.getMessage() == null ? e.toString() : e.toString().replaceFirst("^java\\.io\\.", "");
    }

    private static void encode(EncodeOptions options, InputStream stdin, PrintStream stdout, PrintStream stderr)
            throws IOException {
        Path input = options.input;
        long total = input == null ? -1 : countLines(input);
        SentenceEncoder.Builder builder = SentenceEncoder.builder(options.model).batchSize(options.batchSize)
                .precision(options.precision);
        if (options.prompt != null) {
            builder.defaultPrompt(options.prompt);
        }
        if (options.truncateDim > 0) {
            builder.truncateDim(options.truncateDim);
        }
        if (options.threads > 0) {
            builder.threads(options.threads);
        }
        try (SentenceEncoder encoder = builder.open();
             BufferedReader in = input == null
                     ? new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8))
                     : Files.newBufferedReader(input, StandardCharsets.UTF_8);
             Writer out = new BufferedWriter(new OutputStreamWriter(
                     options.output == null ? nonClosing(stdout) : Files.newOutputStream(options.output),
                     StandardCharsets.UTF_8))) {
            List<String> chunk = new ArrayList<>(CHUNK);
            long[] counts = new long[2]; // texts, truncated texts
            long started = System.nanoTime();
            String line;
            while ((line = in.readLine()) != null) {
                chunk.add(line);
                if (chunk.size() == CHUNK) {
                    write(encoder, chunk, out, counts);
                    progress(stderr, counts[0], total, started);
                }
            }
            write(encoder, chunk, out, counts);
            progress(stderr, counts[0], total, started);
            stderr.printf("encoded %d texts, %d truncated at %d tokens%n",
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

    private static void progress(PrintStream stderr, long done, long total, long started) {
        if (total < 0) {
            return;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        stderr.printf("encoded %d/%d texts (%.0f%%), %.0f texts/s%n",
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
}
