package org.sbert4j.springai;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.core.io.support.ResourcePatternResolver;

/**
 * Turns {@code sbert4j.model-dir} into a directory the encoder reads: a plain path or a {@code file:} URL as
 * is, a {@code classpath:} location (a model packed in the application's jar) copied once per process into a
 * temporary directory, file by file.
 */
final class ModelLocation {
    private static final String CLASSPATH = "classpath:";
    /** Classpath models already extracted in this process, by location. */
    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();

    private ModelLocation() {}

    /** The local directory of {@code location}. */
    static Path resolve(String location, ResourceLoader loader) {
        String trimmed = location.trim();
        if (trimmed.startsWith(CLASSPATH)) {
            return EXTRACTED.computeIfAbsent(trimmed, l -> extract(l, loader));
        }
        if (trimmed.startsWith("file:")) {
            try {
                return loader.getResource(trimmed).getFile().toPath();
            } catch (IOException e) {
                throw new IllegalArgumentException("sbert4j.model-dir " + trimmed + " is not a local directory: " + e.getMessage(), e);
            }
        }
        return Paths.get(trimmed);
    }

    private static Path extract(String location, ResourceLoader loader) {
        String root = location.substring(CLASSPATH.length()).replaceAll("^/+", "").replaceAll("/+$", "");
        ResourcePatternResolver resolver = new PathMatchingResourcePatternResolver(loader.getClassLoader());
        try {
            Resource[] found = resolver.getResources("classpath*:" + root + "/**");
            Path target = Files.createTempDirectory("sbert4j-model-" + shortHash(location) + "-");
            target.toFile().deleteOnExit();
            int files = 0;
            for (Resource r : found) {
                if (!r.isReadable()) {
                    continue; // a directory entry
                }
                String url = r.getURL().toString();
                int at = url.lastIndexOf("/" + root + "/");
                if (at < 0) {
                    continue;
                }
                String relative = url.substring(at + root.length() + 2);
                if (relative.isEmpty() || relative.endsWith("/") || relative.contains("..")) {
                    continue;
                }
                Path file = target.resolve(relative).normalize();
                if (!file.startsWith(target)) {
                    continue;
                }
                Files.createDirectories(file.getParent());
                try (InputStream in = r.getInputStream()) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                file.toFile().deleteOnExit();
                files++;
            }
            if (files == 0) {
                throw new IllegalArgumentException("sbert4j.model-dir " + location + ": no files found on the class path"
                        + " under '" + root + "/'");
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("sbert4j.model-dir " + location + ": could not copy it out of the class path", e);
        }
    }

    private static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                sb.append(String.format("%02x", d[i]));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
