package org.sbert4j;

/**
 * The number format of the model's linear layers (about 95% of the arithmetic), chosen when an encoder is opened
 * ({@link SentenceEncoder.Builder#precision}). The weights are converted once, at load; the float32 copy is not
 * kept. Embeddings, attention, softmax, layer norm, activations, pooling, Dense modules and normalisation stay in
 * float32 at every precision.
 *
 * <p>Quality, measured against sentence-transformers' float32 vectors of all-MiniLM-L6-v2 (the tests in
 * {@code tests/precision.rs}, run under every CPU path; 2026-12-02, avx2 path): on the 1000 benchmark sentences,
 * BF16 min cosine 0.99997 and 99.4% of each sentence's 10 nearest neighbours kept, INT8 min cosine 0.9986 and
 * 96.9%; on the 22 multilingual fixture texts, BF16 min cosine 0.99997, INT8 0.996. The tests require BF16 &ge;
 * 0.999 and 99%, INT8 &ge; 0.99 and 95%.
 */
public enum Precision {
    /** float32 throughout (the default): exactly sentence-transformers' vectors, within 1e-5. */
    FP32,
    /**
     * bfloat16 weights (rounded to nearest, ties to even) and bfloat16 inputs to the matrix products, float32
     * sums. Half the weight memory. On CPUs with AVX512_BF16 (Sapphire Rapids, Zen 4 and later) the products run
     * on {@code vdpbf16ps}; elsewhere they are formed in float32 after a conversion; the vectors are the same
     * within float32 rounding.
     */
    BF16,
    /**
     * int8 weights, quantised per output channel (symmetric, -127..127), each input row quantised on the fly to
     * uint8 with its own scale and zero point (inputs beyond 3 times the row's RMS, a LayerNorm's outlier
     * channels, multiplied in float32 instead), int32 sums (AVX512-VNNI's {@code vpdpbusd} where the CPU has it,
     * else AVX2's {@code vpmaddubsw} on centred inputs, so it never saturates), dequantised with bias and residual
     * as the outputs are stored. A quarter of the weight memory. Every CPU path computes the same integer sums from
     * the same inputs: the same vectors, bit for bit.
     */
    INT8;

    /** The code the native library takes (its {@code convert.rs} agrees). */
    int code() {
        return ordinal();
    }
}
