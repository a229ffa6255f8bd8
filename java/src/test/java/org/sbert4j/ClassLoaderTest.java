package org.sbert4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The classes loaded again by another class loader over the built jar, as an
 * application server does on redeploy, while this class loader already holds
 * the library (from java.library.path, as the build sets it). The JVM refuses
 * to load one file into two class loaders; each new loader must get a
 * working encoder of its own.
 */
public class ClassLoaderTest {
    /** This class loader takes the library first (as a deployed application's first version would). */
    @BeforeClass
    public static void loadInThisClassLoader() {
        SentenceEncoder.loadedModelCount();
    }

    private static URL builtJar() throws Exception {
        Path jar = Paths.get(System.getProperty("sbert4j.test.jar", "build/libs/sbert4j-0.1.0.jar"));
        assertTrue(jar + " is missing: run `gradle jar`", Files.isRegularFile(jar));
        return jar.toUri().toURL();
    }

    private static URLClassLoader freshLoader() throws Exception {
        return new URLClassLoader(new URL[] {builtJar()}, ClassLoader.getPlatformClassLoader());
    }

    private static Object call(Class<?> c, Object target, String name, Class<?>[] types, Object... args)
            throws Exception {
        Method m = c.getDeclaredMethod(name, types);
        m.setAccessible(true);
        return m.invoke(target, args);
    }

    @Test
    public void everyNewClassLoaderGetsAWorkingEncoder() throws Exception {
        Path model = Fixtures.defaultModel();
        float[] mine;
        try (SentenceEncoder enc = SentenceEncoder.open(model)) {
            mine = enc.encode("redeployed");
        }
        assertEquals("this loader uses target/release (java.library.path)",
                Paths.get(System.getProperty("java.library.path"), System.mapLibraryName("sbert4j")).toString(),
                NativeLoader.loadedFrom());

        for (int round = 0; round < 3; round++) {
            try (URLClassLoader loader = freshLoader()) {
                Class<?> theirs = Class.forName("org.sbert4j.SentenceEncoder", true, loader);
                assertNotSame(SentenceEncoder.class, theirs);
                Object enc = theirs.getMethod("open", Path.class).invoke(null, model);
                try {
                    float[] v = (float[]) theirs.getMethod("encode", String.class).invoke(enc, "redeployed");
                    assertArrayEquals(mine, v, 1e-6f);
                    assertEquals("their native instance holds their model", 1,
                            theirs.getMethod("loadedModelCount").invoke(null));
                    assertEquals("ours holds none", 0, SentenceEncoder.loadedModelCount());
                } finally {
                    theirs.getMethod("close").invoke(enc);
                }
                String from = (String) call(Class.forName("org.sbert4j.NativeLoader", false, loader), null,
                        "loadedFrom", new Class<?>[0]);
                assertTrue(from, from.contains("a private copy of " + NativeLoader.loadedFrom()));
                assertTrue(from, from.contains("already loaded in another classloader"));
            }
        }
        // The copies were deleted once loaded.
        Path cache = Paths.get(System.getProperty(NativeLoader.CACHE_PROPERTY));
        try (Stream<Path> s = Files.walk(cache)) {
            List<Path> left = s.filter(Files::isRegularFile).collect(Collectors.toList());
            assertEquals("left in " + cache + ": " + left, List.of(), left);
        }
        // Loaders gone, their libraries possibly unloaded: ours still works.
        System.gc();
        try (SentenceEncoder enc = SentenceEncoder.open(model)) {
            assertArrayEquals(mine, enc.encode("redeployed"), 1e-6f);
        }
    }

    @Test
    public void loadingIsLazyAndABadExplicitPathGivesOneClearError() throws Exception {
        String before = System.getProperty(NativeLoader.PATH_PROPERTY);
        System.setProperty(NativeLoader.PATH_PROPERTY, "/no/such/dir/libsbert4j.so");
        try (URLClassLoader loader = freshLoader()) {
            // Initialising the classes and using what needs no library never loads it.
            Class<?> theirs = Class.forName("org.sbert4j.SentenceEncoder", true, loader);
            Object builder = theirs.getMethod("builder", Path.class).invoke(null, Fixtures.defaultModel());
            builder.getClass().getMethod("batchSize", int.class).invoke(builder, 4);
            InvocationTargetException e = org.junit.Assert.assertThrows(InvocationTargetException.class,
                    () -> builder.getClass().getMethod("open").invoke(builder));
            Throwable cause = e.getCause();
            assertEquals("org.sbert4j.NativeLibraryException", cause.getClass().getName());
            assertEquals("org.sbert4j.SentenceEncoderException", cause.getClass().getSuperclass().getName());
            String msg = cause.getMessage();
            assertTrue(msg, msg.startsWith("cannot load the native library " + System.mapLibraryName("sbert4j") + " for "
                    + NativeLoader.platform(System.getProperty("os.name"), System.getProperty("os.arch"))));
            assertTrue(msg, msg.contains("1. -Dsbert4j.library.path=/no/such/dir/libsbert4j.so: no such file"));
            assertTrue(msg, msg.contains("To fix: nothing else was tried because -Dsbert4j.library.path is set"));
            // The failure is not remembered: fixed configuration, next call works.
            System.clearProperty(NativeLoader.PATH_PROPERTY);
            Object enc = builder.getClass().getMethod("open").invoke(builder);
            theirs.getMethod("close").invoke(enc);
        } finally {
            if (before == null) {
                System.clearProperty(NativeLoader.PATH_PROPERTY);
            } else {
                System.setProperty(NativeLoader.PATH_PROPERTY, before);
            }
        }
    }
}
