package org.sbert4j;

import java.util.Objects;

/**
 * A prompt put in front of each text before it is encoded, as
 * sentence-transformers' {@code encode(prompt_name=...)} and
 * {@code encode(prompt=...)} do (instruction models such as E5, BGE, GTE
 * or nomic-embed expect {@code "query: "}-style prefixes).
 *
 * <p>{@link #named} picks one of the model's own prompts
 * ({@code config_sentence_transformers.json}, see
 * {@link SentenceEncoder#prompts()}); {@link #literal} gives the text itself;
 * {@link #none()} encodes the text alone even when the model has a default
 * prompt. With a Pooling module saying {@code include_prompt: false}, the
 * prompt's tokens are left out of pooling, exactly as sentence-transformers
 * leaves them out.
 */
public final class Prompt {
    private static final Prompt NONE = new Prompt(null, "");

    private final String name;
    private final String text;

    private Prompt(String name, String text) {
        this.name = name;
        this.text = text;
    }

    /** The model's prompt called {@code name}; an unknown name is an {@link IllegalArgumentException} when used. */
    public static Prompt named(String name) {
        if (name == null) {
            throw new IllegalArgumentException("prompt name is null");
        }
        return new Prompt(name, null);
    }

    /** {@code text} itself, put in front of every text ({@code ""}: no prompt). */
    public static Prompt literal(String text) {
        if (text == null) {
            throw new IllegalArgumentException("prompt text is null");
        }
        return text.isEmpty() ? NONE : new Prompt(null, text);
    }

    /** No prompt, whatever the model's default. */
    public static Prompt none() {
        return NONE;
    }

    /** The prompt name, or null for a literal prompt. */
    String name() {
        return name;
    }

    /** The literal text, or null for a named prompt. */
    String text() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prompt && Objects.equals(name, ((Prompt) o).name) && Objects.equals(text, ((Prompt) o).text);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, text);
    }

    @Override
    public String toString() {
        return name != null ? "Prompt.named(" + name + ")" : "Prompt.literal(\"" + text + "\")";
    }
}
