package org.sbert4j;

/**
 * The model directory asks for something sbert4j does not implement: an architecture ({@code model_type}), a
 * module, a pooling mode, an activation... {@link #feature()} says which kind of thing, {@link #value()} what
 * the model asked for; the message lists what is supported.
 */
public class UnsupportedModelException extends ModelLoadException {
    private static final long serialVersionUID = 1L;

    private final String feature;
    private final String value;

    /**
     * @param message what failed, with the path and what is supported
     * @param path the file that asks for it
     * @param feature the kind of thing asked for ({@code "architecture"}, {@code "module"}, ...)
     * @param value what the model asked for
     */
    public UnsupportedModelException(String message, String path, String feature, String value) {
        super(message, path);
        this.feature = feature;
        this.value = value;
    }

    /** The kind of thing the model asks for, as the library names it: {@code "architecture"}, {@code "module"}... */
    public String feature() {
        return feature;
    }

    /** What the model asks for: the architecture's or module's name, for instance. */
    public String value() {
        return value;
    }
}
