package org.sbert4j.cli;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.sbert4j.Precision;
import org.sbert4j.Prompt;

/** The encode command's options: the one table {@code --help} prints, and the parser of the command line. */
final class EncodeOptions {
    /** A mistake on the command line: printed as one line, exit status 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** One option: its flag, the value it takes ("" for none) and what it does. */
    static final class Option {
        final String flag;
        final String value;
        final String help;

        Option(String flag, String value, String help) {
            this.flag = flag;
            this.value = value;
            this.help = help;
        }

        /** {@code --flag VALUE}, as --help and the README show it. */
        String synopsis() {
            return value.isEmpty() ? flag : flag + " " + value;
        }
    }

    static final String DEFAULT_MODEL = "models/all-MiniLM-L6-v2";

    /** Every option, in the order --help lists them. */
    static final List<Option> OPTIONS = Collections.unmodifiableList(Arrays.asList(
            new Option("--model", "DIR", "the sentence-transformers model directory (default `" + DEFAULT_MODEL + "`)"),
            new Option("--input", "FILE", "the texts, one per line (default: standard input)"),
            new Option("--output", "FILE", "where the JSON Lines go (default: standard output)"),
            new Option("--batch-size", "N", "texts per forward pass (default 32)"),
            new Option("--prompt-name", "NAME", "a prompt the model defines, e.g. `query`"),
            new Option("--prompt", "TEXT", "a literal prompt put before every text"),
            new Option("--truncate-dim", "N", "keep the first N components of each vector"),
            new Option("--precision", "fp32|bf16|int8", "the linear layers' number format (default fp32)"),
            new Option("--threads", "N", "the most threads a forward pass keeps busy (default: every CPU this process may use)"),
            new Option("--help", "", "print this help and exit"),
            new Option("--version", "", "print sbert4j's version and exit")));

    Path model = Paths.get(DEFAULT_MODEL);
    boolean modelGiven;
    Path input;
    Path output;
    int batchSize = 32;
    Prompt prompt;
    int truncateDim = -1;
    int threads = -1;
    Precision precision = Precision.FP32;
    boolean help;
    boolean version;

    /** The help text: usage, what the command does, the options. */
    static String helpText() {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: java -jar sbert4j-cli.jar [OPTIONS]\n\n");
        sb.append("Encodes texts, one per line, into sentence embeddings: one JSON object per line,\n");
        sb.append("{\"text\": ..., \"tokens\": N, \"truncated\": false, \"embedding\": [...]}.\n\n");
        sb.append("options:\n");
        int width = 0;
        for (Option o : OPTIONS) {
            width = Math.max(width, o.synopsis().length());
        }
        for (Option o : OPTIONS) {
            sb.append("  ").append(o.synopsis());
            for (int i = o.synopsis().length(); i < width + 3; i++) {
                sb.append(' ');
            }
            sb.append(o.help).append('\n');
        }
        return sb.toString();
    }

    static EncodeOptions parse(String[] args) throws UsageException {
        EncodeOptions o = new EncodeOptions();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--help") || flag.equals("-h")) {
                o.help = true;
                continue;
            }
            if (flag.equals("--version")) {
                o.version = true;
                continue;
            }
            if (OPTIONS.stream().noneMatch(opt -> opt.flag.equals(flag))) {
                throw new UsageException("unknown option '" + flag + "'");
            }
            if (i + 1 >= args.length) {
                throw new UsageException(flag + " needs a value");
            }
            String value = args[++i];
            switch (flag) {
                case "--model": o.model = Paths.get(value); o.modelGiven = true; break;
                case "--input": o.input = pathOrStdio(value); break;
                case "--output": o.output = pathOrStdio(value); break;
                case "--batch-size": o.batchSize = positive(flag, value); break;
                case "--prompt-name": o.prompt = Prompt.named(value); break;
                case "--prompt": o.prompt = Prompt.literal(value); break;
                case "--truncate-dim": o.truncateDim = positive(flag, value); break;
                case "--threads": o.threads = positive(flag, value); break;
                case "--precision": o.precision = precision(value); break;
                default: throw new UsageException("unknown option '" + flag + "'"); // not reached: checked above
            }
        }
        return o;
    }

    private static Path pathOrStdio(String value) {
        return value.isEmpty() || value.equals("-") ? null : Paths.get(value);
    }

    private static int positive(String flag, String value) throws UsageException {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a whole number, got '" + value + "'");
        }
        if (n < 1) {
            throw new UsageException(flag + " must be at least 1, got " + n);
        }
        return n;
    }

    /** {@code fp32}, {@code bf16} or {@code int8} (any case). */
    private static Precision precision(String name) throws UsageException {
        for (Precision p : Precision.values()) {
            if (p.name().equalsIgnoreCase(name.trim())) {
                return p;
            }
        }
        throw new UsageException("unknown precision '" + name + "': use fp32, bf16 or int8");
    }
}
