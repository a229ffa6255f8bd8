package org.sbert4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Explains a model directory that does not exist but reads like a Hugging Face Hub id
 * ({@code sentence-transformers/all-MiniLM-L6-v2}): sbert4j reads local directories only.
 */
final class HubIds {
    /** {@code owner/name}: two relative segments of the characters the Hub allows. */
    private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");

    private HubIds() {}

    /** Whether {@code dir} is missing and its name has the shape of a Hub id. */
    static boolean looksLikeHubId(Path dir) {
        return !dir.isAbsolute() && HUB_ID.matcher(dir.toString().replace('\\', '/')).matches() && !Files.exists(dir);
    }

    /** {@code e} itself, or, for a missing directory named like a Hub id, the same failure with what to do. */
    static ModelLoadException explain(Path dir, ModelLoadException e) {
        if (!looksLikeHubId(dir)) {
            return e;
        }
        String id = dir.toString().replace('\\', '/');
        ModelLoadException explained = new ModelLoadException(e.getMessage() + ". '" + id + "' looks like a Hugging"
                + " Face Hub id, but sbert4j reads local model directories only and downloads nothing. Save the model"
                + " once with Python: SentenceTransformer('" + id + "').save('models/" + id.substring(id.indexOf('/') + 1)
                + "') (or: huggingface-cli download " + id + " --local-dir models/" + id.substring(id.indexOf('/') + 1)
                + "), then pass that directory.", e.path());
        explained.setStackTrace(e.getStackTrace());
        return explained;
    }
}
