package org.sbert4j;

/**
 * A model directory could not be loaded: a file is missing, unreadable or malformed. {@link #path()} names the
 * file (or the directory) that failed; the message says what is wrong with it.
 */
public class ModelLoadException extends SentenceEncoderException {
    private static final long serialVersionUID = 1L;

    private final String path;

    /**
     * @param message what failed, with the path
     * @param path the file or directory that failed
     */
    public ModelLoadException(String message, String path) {
        super(message);
        this.path = path;
    }

    /** The file or directory that failed, as the library read it. */
    public String path() {
        return path;
    }
}
