package org.sbert4j;

/**
 * A model could not be loaded or a text could not be encoded. The message
 * says what failed and, for model files, which file. Unchecked, like the
 * other runtime failures of a data pipeline.
 */
public class SentenceEncoderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SentenceEncoderException(String message) {
        super(message);
    }

    public SentenceEncoderException(String message, Throwable cause) {
        super(message, cause);
    }
}
