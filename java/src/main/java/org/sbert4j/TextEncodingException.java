package org.sbert4j;

/**
 * One text of a call could not be encoded (the whole call fails: no partial results). {@link #index()} is the
 * text's index in the list passed ({@code 0} for a single-text call); the message starts with
 * {@code "text at index N: "} and says why.
 */
public class TextEncodingException extends SentenceEncoderException {
    private static final long serialVersionUID = 1L;

    private final int index;

    /**
     * @param message what failed, starting with {@code "text at index N: "}
     * @param index the text's index in the list passed
     */
    public TextEncodingException(String message, int index) {
        super(message);
        this.index = index;
    }

    /** @param cause the failure this one reports */
    public TextEncodingException(String message, int index, Throwable cause) {
        super(message, cause);
        this.index = index;
    }

    /** The failed text's index in the list passed to the call. */
    public int index() {
        return index;
    }
}
