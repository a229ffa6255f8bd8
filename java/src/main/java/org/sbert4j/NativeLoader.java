package org.sbert4j;

/**
 * Loads libsbert4j once, on first use (never in a static initializer, whose
 * failure would surface as an opaque ExceptionInInitializerError).
 */
final class NativeLoader {
    static final String LIBRARY = "sbert4j";
    private static volatile boolean loaded;

    private NativeLoader() {}

    static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (NativeLoader.class) {
            if (loaded) {
                return;
            }
            try {
                System.loadLibrary(LIBRARY);
            } catch (UnsatisfiedLinkError e) {
                throw new SentenceEncoderException("cannot load the native library '" + System.mapLibraryName(LIBRARY)
                        + "' for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
                        + " from java.library.path=" + System.getProperty("java.library.path")
                        + " (build it with `cargo build --release` and add target/release to java.library.path): "
                        + e.getMessage(), e);
            }
            loaded = true;
        }
    }
}
