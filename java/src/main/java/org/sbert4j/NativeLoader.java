package org.sbert4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * Loads libsbert4j once per class loader, on first use (never in a static
 * initializer, whose failure would surface as an opaque
 * ExceptionInInitializerError). In order:
 *
 * <ol>
 *   <li>{@code -Dsbert4j.library.path=/path/to/libsbert4j.so}: when set, the
 *       only place tried (a misconfigured explicit path must not be hidden
 *       by a silent fallback);</li>
 *   <li>{@code System.loadLibrary("sbert4j")}, i.e. {@code java.library.path};</li>
 *   <li>the library bundled in the jar under
 *       {@code org/sbert4j/native/<os>-<arch>/}, extracted into a per-user
 *       cache directory {@code <cache>/<version>-<sha256 prefix>/} (see
 *       {@link #cacheDirs}): written to a temporary file and atomically
 *       renamed, so JVMs starting together never load a half-written file,
 *       and reused by later starts once its SHA-256 is verified.</li>
 * </ol>
 *
 * <p>The JVM refuses to load one file into two class loaders (an application
 * server redeploying, say). When a step meets that refusal it loads a private
 * copy of the same file instead, which the dynamic linker treats as a
 * separate library; the copy is deleted right after loading where the OS
 * allows. If every step fails, one {@link SentenceEncoderException} lists
 * what was tried, why each step failed, and how to fix it.
 */
final class NativeLoader {
    static final String LIBRARY = "sbert4j";
    static final String PATH_PROPERTY = "sbert4j.library.path";
    static final String CACHE_PROPERTY = "sbert4j.cache.dir";
    /** {@code auto|avx512|avx2|neon|portable}: the CPU path (see the README, "Platforms"). */
    static final String CPU_PROPERTY = "sbert4j.cpu";
    /** The thread budget: the most threads a forward pass keeps busy. */
    static final String THREADS_PROPERTY = "sbert4j.threads";
    /** Resource folder of the bundled builds; "native" is a keyword, so never a package. */
    static final String RESOURCE_ROOT = "org/sbert4j/native/";
    /** Written by the build: {@code version} and the {@code platforms} bundled. */
    static final String INDEX = RESOURCE_ROOT + "sbert4j-native.properties";
    private static final int HASH_PREFIX = 16;
    /** The library's one INFO line when it loads; {@code org.sbert4j} is the logger of every sbert4j line. */
    private static final System.Logger LOG = System.getLogger("org.sbert4j");

    private static volatile String loadedFrom;

    /** How a file is linked into the JVM; tests substitute it. */
    interface Linker {
        void load(String absolutePath);

        void loadLibrary(String name);
    }

    /** The real one. System.load is caller-sensitive: calling it from here binds the library to this class loader. */
    private static final class SystemLinker implements Linker {
        @Override
        public void load(String absolutePath) {
            System.load(absolutePath);
        }

        @Override
        public void loadLibrary(String name) {
            System.loadLibrary(name);
        }
    }

    /** Raised inside a step; its message is the step's reason in the final error. */
    static final class StepFailure extends Exception {
        private static final long serialVersionUID = 1L;

        StepFailure(String message) {
            super(message);
        }
    }

    final String platform;
    final String fileName;
    final String explicitPath;
    final String javaLibraryPath;
    final List<Path> cacheDirs;
    final Function<String, InputStream> resources;
    final Linker linker;
    private final String osDescription;
    private final String version;

    NativeLoader(String osName, String osArch, String fileName, String explicitPath, String javaLibraryPath,
            List<Path> cacheDirs, Function<String, InputStream> resources, Linker linker) {
        this.platform = platform(osName, osArch);
        this.osDescription = "os.name=" + osName + ", os.arch=" + osArch;
        this.fileName = fileName;
        this.explicitPath = explicitPath;
        this.javaLibraryPath = javaLibraryPath;
        this.cacheDirs = cacheDirs;
        this.resources = resources;
        this.linker = linker;
        this.version = index().getProperty("version", "unversioned").replaceAll("[^A-Za-z0-9._+-]+", "_");
    }

    /** The loader for this JVM: its system properties, environment, and this class loader's resources. */
    static NativeLoader forThisJvm() {
        return new NativeLoader(System.getProperty("os.name"), System.getProperty("os.arch"),
                System.mapLibraryName(LIBRARY), System.getProperty(PATH_PROPERTY),
                System.getProperty("java.library.path"),
                cacheDirs(System.getProperty(CACHE_PROPERTY), System.getenv(), System.getProperty("os.name"),
                        System.getProperty("user.home"), System.getProperty("java.io.tmpdir"),
                        System.getProperty("user.name")),
                name -> NativeLoader.class.getResourceAsStream("/" + name), new SystemLinker());
    }

    static void ensureLoaded() {
        if (loadedFrom != null) {
            return;
        }
        synchronized (NativeLoader.class) {
            if (loadedFrom == null) {
                String from = forThisJvm().load();
                checkVersion(from);
                NativeBridge.configure(System.getProperty(CPU_PROPERTY), System.getProperty(THREADS_PROPERTY));
                loadedFrom = from;
                LOG.log(System.Logger.Level.INFO, "sbert4j {0} loaded: CPU path {1}, {2} threads, from {3}",
                        NativeBridge.VERSION, NativeBridge.cpuPath(), NativeBridge.threadBudget(), from);
            }
        }
    }

    /**
     * Refuses a library of another version than these classes (a stale libsbert4j on java.library.path): calls
     * with mismatched arguments could crash the JVM.
     */
    static void checkVersion(String from) {
        String version;
        int abi;
        try {
            version = NativeBridge.nativeVersion();
            abi = NativeBridge.nativeAbi();
        } catch (UnsatisfiedLinkError e) {
            throw new NativeLibraryException("the native library loaded from " + from + " is older than these sbert4j"
                    + " classes (it reports no version; they need version " + NativeBridge.VERSION + ", ABI "
                    + NativeBridge.ABI + "). Remove the stale library or point -D" + PATH_PROPERTY
                    + " at the matching one; the jar carries its own copy.");
        }
        if (!NativeBridge.VERSION.equals(version) || abi != NativeBridge.ABI) {
            throw new NativeLibraryException("the native library loaded from " + from + " is version " + version
                    + " (ABI " + abi + "), but these sbert4j classes are version " + NativeBridge.VERSION + " (ABI "
                    + NativeBridge.ABI + "). Remove the stale library or point -D" + PATH_PROPERTY
                    + " at the matching one; the jar carries its own copy.");
        }
    }

    /** Where this class loader's copy of the library came from (null before loading); for diagnostics and tests. */
    static String loadedFrom() {
        return loadedFrom;
    }

    /** {@code <os>-<arch>} as the jar names its folders: linux-x86_64, macos-aarch64, windows-x86_64, ... */
    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "macos";
        } else if (os.startsWith("windows")) {
            os = "windows";
        } else {
            os = os.replaceAll("[^a-z0-9]+", "");
        }
        String arch = osArch.toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
            case "x64":
                arch = "x86_64";
                break;
            case "aarch64":
            case "arm64":
                arch = "aarch64";
                break;
            case "x86":
            case "i386":
            case "i486":
            case "i586":
            case "i686":
                arch = "x86";
                break;
            default:
                arch = arch.replaceAll("[^a-z0-9_]+", "");
        }
        return os + "-" + arch;
    }

    /**
     * Where the bundled library may be extracted, best first: {@code
     * -Dsbert4j.cache.dir} if set; the per-user cache ({@code
     * $XDG_CACHE_HOME/sbert4j}, else {@code ~/.cache/sbert4j}; {@code
     * ~/Library/Caches/sbert4j} on macOS, {@code %LOCALAPPDATA%\sbert4j} on
     * Windows); then {@code <java.io.tmpdir>/sbert4j-<user>}.
     */
    static List<Path> cacheDirs(String property, Map<String, String> env, String osName, String userHome,
            String tmpDir, String userName) {
        List<Path> dirs = new ArrayList<>();
        if (property != null && !property.isEmpty()) {
            dirs.add(Paths.get(property));
        }
        String os = osName.toLowerCase(Locale.ROOT);
        String xdg = env.get("XDG_CACHE_HOME");
        String localAppData = env.get("LOCALAPPDATA");
        if (xdg != null && Paths.get(xdg).isAbsolute()) { // the XDG spec says to ignore relative paths
            dirs.add(Paths.get(xdg, "sbert4j"));
        } else if (os.startsWith("windows") && localAppData != null && !localAppData.isEmpty()) {
            dirs.add(Paths.get(localAppData, "sbert4j"));
        } else if ((os.startsWith("mac") || os.startsWith("darwin")) && userHome != null) {
            dirs.add(Paths.get(userHome, "Library", "Caches", "sbert4j"));
        } else if (userHome != null && !userHome.isEmpty() && !userHome.equals("?")) {
            dirs.add(Paths.get(userHome, ".cache", "sbert4j"));
        }
        if (tmpDir != null) {
            String user = userName == null ? "" : userName.replaceAll("[^A-Za-z0-9._-]+", "_");
            dirs.add(Paths.get(tmpDir, "sbert4j-" + user));
        }
        return dirs;
    }

    /** Loads the library; returns where it came from. */
    String load() {
        List<String> tried = new ArrayList<>();
        if (explicitPath != null && !explicitPath.isEmpty()) {
            try {
                return loadFile(Paths.get(explicitPath).toAbsolutePath(), null);
            } catch (StepFailure f) {
                tried.add("-D" + PATH_PROPERTY + "=" + explicitPath + ": " + f.getMessage());
                throw failure(tried, "nothing else was tried because -D" + PATH_PROPERTY
                        + " is set: fix or remove it");
            }
        }
        tried.add("-D" + PATH_PROPERTY + ": not set");
        try {
            return fromJavaLibraryPath();
        } catch (StepFailure f) {
            tried.add("System.loadLibrary(\"" + LIBRARY + "\") with java.library.path=" + javaLibraryPath + ": "
                    + f.getMessage());
        }
        try {
            return fromJar();
        } catch (StepFailure f) {
            tried.add("the library bundled in the jar (" + RESOURCE_ROOT + platform + "/" + fileName + "): "
                    + f.getMessage());
        }
        throw failure(tried, "use an sbert4j jar built for " + platform + " (run `gradle jar` on a " + platform
                + " machine; see the README, \"Platforms\"), or build the library with `cargo build --release` and"
                + " pass -D" + PATH_PROPERTY + "=/path/to/" + fileName);
    }

    private NativeLibraryException failure(List<String> tried, String fix) {
        StringBuilder msg = new StringBuilder("cannot load the native library " + fileName + " for " + platform
                + " (" + osDescription + "); tried, in order:");
        for (int i = 0; i < tried.size(); i++) {
            msg.append("\n  ").append(i + 1).append(". ").append(tried.get(i));
        }
        msg.append("\nTo fix: ").append(fix).append('.');
        return new NativeLibraryException(msg.toString());
    }

    private String fromJavaLibraryPath() throws StepFailure {
        try {
            linker.loadLibrary(LIBRARY);
            Path found = findOnJavaLibraryPath();
            return found != null ? found.toString() : "System.loadLibrary(\"" + LIBRARY + "\")";
        } catch (UnsatisfiedLinkError e) {
            if (!loadedByAnotherClassLoader(e)) {
                String msg = String.valueOf(e.getMessage());
                // The JDK's message repeats the whole java.library.path, already in the step's label.
                throw new StepFailure(msg.startsWith("no " + LIBRARY + " in java.library.path")
                        ? "no " + fileName + " in any of its directories" : msg);
            }
            Path found = findOnJavaLibraryPath();
            if (found == null) {
                throw new StepFailure(e.getMessage() + ", and " + fileName
                        + " is not a file in any java.library.path entry to copy");
            }
            return loadCopy(found, sha256(found), e.getMessage());
        }
    }

    private Path findOnJavaLibraryPath() {
        if (javaLibraryPath == null) {
            return null;
        }
        for (String entry : javaLibraryPath.split(java.io.File.pathSeparator)) {
            if (!entry.isEmpty()) {
                Path p = Paths.get(entry, fileName).toAbsolutePath();
                if (Files.isRegularFile(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    private String fromJar() throws StepFailure {
        String resource = RESOURCE_ROOT + platform + "/" + fileName;
        byte[] bytes;
        try (InputStream in = resources.apply(resource)) {
            if (in == null) {
                throw new StepFailure("not there; this jar has builds for: " + bundledPlatforms());
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new StepFailure("cannot read it from the jar: " + e);
        }
        String hash = sha256(bytes);
        List<String> reasons = new ArrayList<>();
        for (Path base : cacheDirs) {
            Path dir = base.resolve(version + "-" + hash.substring(0, HASH_PREFIX));
            try {
                Path file = extract(base, dir, bytes, hash);
                return loadFile(file, hash) + " (extracted from the jar)";
            } catch (IOException | StepFailure | SecurityException | UnsupportedOperationException e) {
                // e.g. not writable, or mounted noexec (dlopen then fails): try the next one
                reasons.add(dir + ": " + reason(e));
            }
        }
        throw new StepFailure("no cache directory worked: " + String.join("; ", reasons));
    }

    private static String reason(Exception e) {
        return e instanceof StepFailure ? e.getMessage() : e.toString();
    }

    /** The {@code platforms} line of the index the build writes, or "(none)". */
    private String bundledPlatforms() {
        String platforms = index().getProperty("platforms", "").trim();
        return platforms.isEmpty() ? "(none)" : platforms;
    }

    /** The index the build writes into the jar (empty if missing). */
    private Properties index() {
        Properties p = new Properties();
        try (InputStream in = resources.apply(INDEX)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an empty index: it only names the cache folder and improves messages
        }
        return p;
    }

    /**
     * Loads {@code file}; if another class loader already holds it, loads a
     * private copy. {@code hash} is the file's SHA-256 when known.
     */
    private String loadFile(Path file, String hash) throws StepFailure {
        if (!Files.isRegularFile(file)) {
            throw new StepFailure("no such file");
        }
        try {
            linker.load(file.toString());
            return file.toString();
        } catch (UnsatisfiedLinkError e) {
            if (!loadedByAnotherClassLoader(e)) {
                throw new StepFailure(String.valueOf(e.getMessage()));
            }
            return loadCopy(file, hash != null ? hash : sha256(file), e.getMessage());
        }
    }

    static boolean loadedByAnotherClassLoader(UnsatisfiedLinkError e) {
        // JDK 11-21: "Native Library X already loaded in another classloader" / "is being loaded in another classloader"
        return e.getMessage() != null && e.getMessage().contains("in another classloader");
    }

    /**
     * Loads a class loader's private copy of {@code source}: a new file with a
     * distinct name (and inode, so the dynamic linker does not take it for the
     * loaded one) in the cache folder of that content, deleted once loaded.
     */
    private String loadCopy(Path source, String hash, String why) throws StepFailure {
        List<String> reasons = new ArrayList<>();
        for (Path base : cacheDirs) {
            Path dir = base.resolve(version + "-" + hash.substring(0, HASH_PREFIX));
            Path copy = null;
            try {
                prepareDir(base, dir);
                copy = Files.createTempFile(dir, stem(fileName) + "-", extension(fileName));
                Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
                if (!hash.equals(sha256(copy))) {
                    throw new StepFailure(copy + " does not match the SHA-256 of " + source);
                }
                linker.load(copy.toString());
                return copy + " (a private copy of " + source + " for this class loader, as " + why + ")";
            } catch (IOException | StepFailure | SecurityException | UnsupportedOperationException e) {
                reasons.add(dir + ": " + reason(e));
            } catch (UnsatisfiedLinkError e) {
                reasons.add(dir + ": " + e.getMessage());
            } finally {
                deleteLoadedCopy(copy);
            }
        }
        throw new StepFailure(why + ", and no private copy for this class loader worked: " + String.join("; ", reasons));
    }

    private static void deleteLoadedCopy(Path copy) {
        if (copy == null) {
            return;
        }
        try {
            Files.deleteIfExists(copy); // fine once mapped on Linux and macOS
        } catch (IOException e) {
            copy.toFile().deleteOnExit(); // Windows: the file is in use
        }
    }

    /**
     * The bundled library as the file {@code dir/<fileName>}: reused if its
     * SHA-256 matches, otherwise written to a temporary file in {@code dir}
     * and atomically renamed over it (a reader never sees a partial file).
     */
    Path extract(Path base, Path dir, byte[] bytes, String hash) throws IOException, StepFailure {
        prepareDir(base, dir);
        Path target = dir.resolve(fileName);
        if (Files.isRegularFile(target) && hash.equals(sha256(target))) {
            return target;
        }
        Path tmp = Files.createTempFile(dir, fileName + ".", ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                // Windows cannot replace a file another process has loaded: fine if another JVM wrote the same.
                if (!(Files.isRegularFile(target) && hash.equals(sha256(target)))) {
                    throw e;
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }

    /**
     * Creates {@code base} and {@code dir} (owner-only where POSIX) and
     * refuses them if others could swap the library between verifying and
     * loading it: on POSIX both must be owned by this user (the owner of a
     * file we create there) and not writable by group or others.
     */
    private static void prepareDir(Path base, Path dir) throws IOException, StepFailure {
        boolean posix = base.getFileSystem().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attrs = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))}
                : new FileAttribute<?>[0];
        Files.createDirectories(dir, attrs);
        if (!posix) {
            return;
        }
        Path probe = Files.createTempFile(dir, ".probe-", ".tmp");
        try {
            Object me = Files.getOwner(probe);
            for (Path d : new Path[] {base, dir}) {
                PosixFileAttributeView view = Files.getFileAttributeView(d, PosixFileAttributeView.class);
                if (!view.getOwner().equals(me)) {
                    throw new StepFailure(d + " is owned by " + view.getOwner() + ", not by " + me);
                }
                Set<PosixFilePermission> perms = view.readAttributes().permissions();
                if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                    throw new StepFailure(d + " is writable by others (" + PosixFilePermissions.toString(perms) + ")");
                }
            }
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    static String sha256(byte[] bytes) {
        return hex(digest().digest(bytes));
    }

    static String sha256(Path file) throws StepFailure {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new StepFailure("cannot read " + file + ": " + e);
        }
        return hex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return sb.toString();
    }

    private static String stem(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    private static String extension(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? "" : name.substring(dot);
    }
}
