package org.sbert4j;

import java.util.Arrays;

/**
 * A sparse vector from a {@link SparseEncoder}: the non-zero dimensions in ascending order and their values (for
 * SPLADE, one weight per vocabulary entry; {@link SparseEncoder#token(int)} names a dimension). Immutable: the
 * accessors return copies.
 */
public final class SparseVector {
    private final int[] indices;
    private final float[] values;

    SparseVector(int[] indices, float[] values) {
        this.indices = indices;
        this.values = values;
    }

    /** The non-zero dimensions, ascending. */
    public int[] indices() {
        return indices.clone();
    }

    /** The values of {@link #indices()}, in the same order. */
    public float[] values() {
        return values.clone();
    }

    /** How many dimensions are non-zero. */
    public int size() {
        return indices.length;
    }

    /** The value of a dimension (0 when it is not active). */
    public float get(int dimension) {
        int at = Arrays.binarySearch(indices, dimension);
        return at >= 0 ? values[at] : 0f;
    }

    /** The dot product with another sparse vector (SPLADE's similarity). */
    public double dot(SparseVector other) {
        double sum = 0;
        int i = 0;
        int j = 0;
        while (i < indices.length && j < other.indices.length) {
            if (indices[i] == other.indices[j]) {
                sum += (double) values[i++] * other.values[j++];
            } else if (indices[i] < other.indices[j]) {
                i++;
            } else {
                j++;
            }
        }
        return sum;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseVector && Arrays.equals(indices, ((SparseVector) o).indices)
                && Arrays.equals(values, ((SparseVector) o).values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(indices) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "SparseVector" + Arrays.toString(indices) + "=" + Arrays.toString(values);
    }
}
