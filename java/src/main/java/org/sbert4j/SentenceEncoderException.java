package org.sbert4j;

/**
 * A model could not be loaded, the native library failed, or a text could not be encoded. The message says
 * what failed and, for model files, which file. Unchecked, like the other runtime failures of a data pipeline.
 *
 * <p>Catch a subtype to act on the failure's data:
 * <ul>
 *   <li>{@link ModelLoadException}: a model directory could not be read ({@link ModelLoadException#path()});
 *       {@link UnsupportedModelException}, one of them, when it asks for what sbert4j does not implement
 *       ({@link UnsupportedModelException#feature()}, {@link UnsupportedModelException#value()});</li>
 *   <li>{@link NativeLibraryException}: the native library could not be loaded, or failed inside (an internal
 *       error, which the message asks you to report);</li>
 *   <li>{@link TextEncodingException}: one text of a call could not be encoded
 *       ({@link TextEncodingException#index()}).</li>
 * </ul>
 * Mistakes in the arguments themselves are {@link IllegalArgumentException}s (a null one:
 * {@link NullPointerException}), never this exception.
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
