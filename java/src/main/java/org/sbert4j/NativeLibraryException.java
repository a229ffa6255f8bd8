package org.sbert4j;

/**
 * The native library failed: it could not be found, extracted or loaded, it is of another version than these
 * classes, the CPU lacks what was asked of it ({@code -Dsbert4j.cpu}), or it failed inside (an internal error:
 * a bug, which the message names with the library's version and asks you to report).
 */
public class NativeLibraryException extends SentenceEncoderException {
    private static final long serialVersionUID = 1L;

    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
