package org.sbert4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A sentence-transformers {@code SparseEncoder} (SPLADE: a masked-language-model Transformer and SpladePooling,
 * optionally {@code max_active_dims}), computed in-process: the same sparse vectors as
 * {@code SparseEncoder(dir).encode(texts)} of sentence-transformers 6.2. Thread-safe; {@link #close()} waits for
 * running calls and frees the model.
 *
 * <pre>{@code
 * try (SparseEncoder splade = SparseEncoder.open(Path.of("models/splade"))) {
 *     SparseVector v = splade.encode("what is a sparse vector?");
 *     for (int i = 0; i < v.size(); i++) System.out.println(splade.token(v.indices()[i]) + " " + v.values()[i]);
 * }
 * }</pre>
 */
public final class SparseEncoder implements AutoCloseable {
    private final long handle;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed; // guarded by the write lock
    private final int dimension;

    private SparseEncoder(long handle) {
        this.handle = handle;
        this.dimension = NativeBridge.sparseDimension(handle);
    }

    /** Opens the SparseEncoder directory with the options it was saved with. */
    public static SparseEncoder open(Path modelDir) {
        return builder(modelDir).open();
    }

    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /** The vocabulary size: the dimension every vector lives in. */
    public int dimension() {
        return dimension;
    }

    /** The vocabulary entry (token) a dimension stands for. */
    public String token(int index) {
        if (index < 0 || index >= dimension) {
            throw new IndexOutOfBoundsException("dimension " + index + " is outside 0.." + (dimension - 1));
        }
        return call(() -> NativeBridge.sparseToken(handle, index));
    }

    /** Inputs are truncated to this many tokens, special tokens included. */
    public int maxSequenceLength() {
        return call(() -> NativeBridge.sparseMaxSequenceLength(handle));
    }

    public SparseVector encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        return encodeBatch(Collections.singletonList(text)).get(0);
    }

    /** Encodes every text, all or nothing (a failing text fails the call, naming its index). */
    public List<SparseVector> encodeBatch(List<String> texts) {
        return encodeBatch(texts, null);
    }

    /** As {@link #encodeBatch(List)}, with {@code prompt} in front of every text (null: the model's default). */
    public List<SparseVector> encodeBatch(List<String> texts, String prompt) {
        if (texts == null) {
            throw new IllegalArgumentException("texts is null");
        }
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null) {
                throw new IllegalArgumentException("text " + i + " is null");
            }
        }
        if (texts.isEmpty()) {
            return Collections.emptyList();
        }
        Utf8.Packed packed = Utf8.pack(texts, 0, texts.size());
        Object[] flat = call(() -> NativeBridge.sparseEncode(handle, packed.bytes, packed.ends, prompt));
        int[] counts = (int[]) flat[0];
        int[] indices = (int[]) flat[1];
        float[] values = (float[]) flat[2];
        List<SparseVector> out = new ArrayList<>(counts.length);
        int at = 0;
        for (int n : counts) {
            int[] idx = new int[n];
            float[] val = new float[n];
            System.arraycopy(indices, at, idx, 0, n);
            System.arraycopy(values, at, val, 0, n);
            out.add(new SparseVector(idx, val));
            at += n;
        }
        return Collections.unmodifiableList(out);
    }

    private <T> T call(java.util.function.Supplier<T> body) {
        lock.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("SparseEncoder is closed");
            }
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Waits for running calls, then frees the model; later calls throw {@link IllegalStateException}. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                NativeBridge.sparseRelease(handle);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    public static final class Builder {
        private final Path modelDir;
        private int maxSequenceLength = -1;
        private int maxActiveDims = -1;
        private int batchSize = -1;
        private int threads = -1;
        private Precision precision = Precision.FP32;

        private Builder(Path modelDir) {
            this.modelDir = modelDir;
        }

        /** Truncate inputs at this many tokens instead of the model's {@code max_seq_length}. */
        public Builder maxSequenceLength(int tokens) {
            this.maxSequenceLength = positive(tokens, "max sequence length");
            return this;
        }

        /** Keep only the {@code k} largest values of every vector (sentence-transformers' {@code max_active_dims}). */
        public Builder maxActiveDims(int k) {
            this.maxActiveDims = positive(k, "max active dims");
            return this;
        }

        public Builder batchSize(int texts) {
            this.batchSize = positive(texts, "batch size");
            return this;
        }

        public Builder threads(int threads) {
            this.threads = positive(threads, "threads");
            return this;
        }

        /** The number format of the linear layers (FP32 matches sentence-transformers; BF16/INT8 are faster). */
        public Builder precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        public SparseEncoder open() {
            if (modelDir == null) {
                throw new IllegalArgumentException("model directory is null");
            }
            NativeLoader.ensureLoaded();
            long handle = NativeBridge.sparseOpen(Objects.toString(modelDir.toAbsolutePath()), maxSequenceLength,
                    maxActiveDims, batchSize, threads, precision.code());
            return new SparseEncoder(handle);
        }

        private static int positive(int v, String what) {
            if (v < 1) {
                throw new IllegalArgumentException(what + " must be at least 1, got " + v);
            }
            return v;
        }
    }
}
