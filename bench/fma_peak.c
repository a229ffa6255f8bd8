/* The machine's single-precision ceiling for one CPU path: each thread runs
 * independent multiply-adds on enough accumulators to cover their latency on
 * two pipes, with no memory traffic. Built once per path of the fast engine:
 *
 *   gcc -O2 -mavx512f -mfma -pthread bench/fma_peak.c -o fma_peak_avx512  # 16 lanes, FMA
 *   gcc -O2 -mavx2 -mfma    -pthread bench/fma_peak.c -o fma_peak_avx2    #  8 lanes, FMA
 *   gcc -O2                 -pthread bench/fma_peak.c -o fma_peak_portable # SSE2: 4 lanes, multiply then add
 *   ./fma_peak_<path> [threads=2] [reps=5] [kind=fp32]
 *
 * (The portable path is plain Rust, which on x86-64 compiles to SSE2 without
 * FMA: its ceiling is separate multiplies and adds on 4 lanes.)
 *
 * Prints one JSON object: the path, best and median GFLOP/s over reps, all
 * threads together. Part of bench/run.sh; each path's figure is the "peak"
 * that path's effective GFLOP/s are divided by.
 *
 * The narrower number formats' ceilings, in GOP/s (a multiply-add is 2 ops,
 * as in GFLOP/s), whatever the path the binary was built for; each is run
 * only where the CPU has its instructions, else the object says
 * "supported": false:
 *   int8            the fast engine's AVX2 INT8 kernel, instruction for
 *                   instruction (int8_avx2.rs): per row and group of 4
 *                   inputs, two broadcasts (the centred inputs and their
 *                   magnitudes), then for each of 2 weight registers
 *                   vpsignb, vpmaddubsw, vpmaddwd, vpaddd; 4 rows.
 *                   Exact (no int16 saturation).
 *   int8-saturating vpmaddubsw, vpmaddwd, vpaddd: what AVX2 INT8 kernels that
 *                   accept int16 saturation (ONNX Runtime's) run.
 *   vnni-256        AVX-VNNI vpdpbusd on 256 bits; vnni-512: AVX512-VNNI on 512.
 *   bf16-512        AVX512_BF16 vdpbf16ps. (On AVX2 the BF16 path widens
 *                   bfloat16 to float32 and runs FMAs: its ceiling is fp32's.) */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__) && defined(__FMA__)
#define PATH "avx512"
#define LANES 16
#define ACC 16 /* of 32 registers */
typedef __m512 vec;
#define SET1 _mm512_set1_ps
#define MADD(c, a, b) _mm512_fmadd_ps(c, a, b)
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#elif defined(__AVX2__) && defined(__FMA__)
#define PATH "avx2"
#define LANES 8
#define ACC 12 /* of 16 registers: 12 accumulators, a and b */
typedef __m256 vec;
#define SET1 _mm256_set1_ps
#define MADD(c, a, b) _mm256_fmadd_ps(c, a, b)
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#else
#define PATH "portable"
#define LANES 4
#define ACC 12
typedef __m128 vec;
#define SET1 _mm_set1_ps
#define MADD(c, a, b) _mm_add_ps(_mm_mul_ps(c, a), b)
#define ADD _mm_add_ps
#define STORE _mm_storeu_ps
#endif

#define ITERS 50000000L /* x ACC multiply-adds x LANES x 2 flops per thread */

static pthread_barrier_t start;
static volatile float sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *worker(void *arg) {
    (void)arg;
    vec a = SET1(0.999999f), b = SET1(1e-7f);
    vec c[ACC];
    for (int j = 0; j < ACC; j++) c[j] = SET1(0.1f * j);
    pthread_barrier_wait(&start);
    for (long i = 0; i < ITERS; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < ACC; j++) c[j] = MADD(c[j], a, b);
    }
    vec s = c[0];
    for (int j = 1; j < ACC; j++) s = ADD(s, c[j]);
    float out[LANES];
    STORE(out, s);
    float total = 0;
    for (int j = 0; j < LANES; j++) total += out[j];
    sink += total;
    return NULL;
}

/* The narrower formats. Each worker runs NARROW_ITERS iterations of 4 rows
 * of its sequence on 8 independent accumulators, the inputs broadcast from a
 * small table that varies per iteration (as the kernel's do per group), so
 * nothing can be hoisted out of the loop. */
#define NARROW_ITERS 20000000L
static int xs[64];

struct narrow {
    const char *name;
    const char *feature; /* for __builtin_cpu_supports */
    double macs_per_iter;
    void *(*worker)(void *);
};

#ifdef __x86_64__
/* A worker: 8 accumulators of ACC_T (zeroed by ZERO); per iteration, 4 rows,
 * each an input broadcast from xs (X_T xv = BCAST(...)) and STEP(acc of its
 * first weight register, acc of its second, xv); the sum goes to sink. */
#define NARROW_WORKER(fn, features, ACC_T, ZERO, X_T, BCAST, STEP, REDUCE) \
    __attribute__((target(features))) static void *fn(void *arg) {          \
        (void)arg;                                                          \
        ACC_T acc[8];                                                       \
        for (int j = 0; j < 8; j++) acc[j] = ZERO;                          \
        pthread_barrier_wait(&start);                                       \
        for (long it = 0; it < NARROW_ITERS; it++) {                        \
            _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {           \
                X_T xv = BCAST(xs[(it * 4 + i) & 63]);                      \
                STEP(acc[2 * i], acc[2 * i + 1], xv);                       \
            }                                                               \
        }                                                                   \
        sink += REDUCE(acc);                                                \
        return NULL;                                                        \
    }

/* The two weight registers of every kind: constants (loads in the kernels). */
#define W0 3
#define W1 -5

/* sbert4j's AVX2 INT8 kernel: x - 128 (x) and its magnitude, both broadcast
 * from memory (the magnitude from the next entry of xs: `it` and `i` are the
 * worker's loop variables), the weights with the sign of x - 128. */
#define STEP_INT8(a0, a1, x) do {                                                                            \
        __m256i c_ = x, m_ = _mm256_set1_epi32(xs[(it * 4 + i + 1) & 63]), one_ = _mm256_set1_epi16(1); \
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(m_, _mm256_sign_epi8(_mm256_set1_epi8(W0), c_)), one_)); \
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(m_, _mm256_sign_epi8(_mm256_set1_epi8(W1), c_)), one_)); \
    } while (0)
#define STEP_INT8_SATURATING(a0, a1, x) do {                                                         \
        __m256i one_ = _mm256_set1_epi16(1);                                                         \
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_maddubs_epi16(x, _mm256_set1_epi8(W0)), one_)); \
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_maddubs_epi16(x, _mm256_set1_epi8(W1)), one_)); \
    } while (0)
#define STEP_VNNI_256(a0, a1, x) do {                                        \
        a0 = _mm256_dpbusd_avx_epi32(a0, x, _mm256_set1_epi8(W0));           \
        a1 = _mm256_dpbusd_avx_epi32(a1, x, _mm256_set1_epi8(W1));           \
    } while (0)
#define STEP_VNNI_512(a0, a1, x) do {                                        \
        a0 = _mm512_dpbusd_epi32(a0, x, _mm512_set1_epi8(W0));               \
        a1 = _mm512_dpbusd_epi32(a1, x, _mm512_set1_epi8(W1));               \
    } while (0)
#define STEP_BF16_512(a0, a1, x) do {                                        \
        a0 = _mm512_dpbf16_ps(a0, x, (__m512bh)_mm512_set1_epi16(0x3f80));   \
        a1 = _mm512_dpbf16_ps(a1, x, (__m512bh)_mm512_set1_epi16(0x3c00));   \
    } while (0)
#define BCAST_BF16(v) ((__m512bh)_mm512_set1_epi32(v))

__attribute__((target("avx2"))) static float sum_i256(__m256i *acc) {
    __m256i s = acc[0];
    for (int j = 1; j < 8; j++) s = _mm256_add_epi32(s, acc[j]);
    return (float)_mm256_extract_epi32(s, 0);
}
__attribute__((target("avx512f"))) static float sum_i512(__m512i *acc) {
    __m512i s = acc[0];
    for (int j = 1; j < 8; j++) s = _mm512_add_epi32(s, acc[j]);
    return (float)_mm512_reduce_add_epi32(s);
}
__attribute__((target("avx512f"))) static float sum_ps512(__m512 *acc) {
    __m512 s = acc[0];
    for (int j = 1; j < 8; j++) s = _mm512_add_ps(s, acc[j]);
    return _mm512_reduce_add_ps(s);
}

NARROW_WORKER(int8_exact, "avx2", __m256i, _mm256_setzero_si256(), __m256i, _mm256_set1_epi32, STEP_INT8, sum_i256)
NARROW_WORKER(int8_saturating, "avx2", __m256i, _mm256_setzero_si256(), __m256i, _mm256_set1_epi32, STEP_INT8_SATURATING, sum_i256)
NARROW_WORKER(vnni_256, "avx2,avxvnni", __m256i, _mm256_setzero_si256(), __m256i, _mm256_set1_epi32, STEP_VNNI_256, sum_i256)
NARROW_WORKER(vnni_512, "avx512f,avx512vnni", __m512i, _mm512_setzero_si512(), __m512i, _mm512_set1_epi32, STEP_VNNI_512, sum_i512)
NARROW_WORKER(bf16_512, "avx512f,avx512bf16", __m512, _mm512_setzero_ps(), __m512bh, BCAST_BF16, STEP_BF16_512, sum_ps512)

/* Multiply-adds per iteration: 4 rows x 2 registers x (bytes or bf16 pairs per register). */
static const struct narrow NARROW[] = {
    {"int8", "avx2", 4 * 2 * 32, int8_exact},
    {"int8-saturating", "avx2", 4 * 2 * 32, int8_saturating},
    {"vnni-256", "avxvnni", 4 * 2 * 32, vnni_256},
    {"vnni-512", "avx512vnni", 4 * 2 * 64, vnni_512},
    {"bf16-512", "avx512bf16", 4 * 2 * 32, bf16_512},
};
#define N_NARROW (sizeof NARROW / sizeof NARROW[0])

static int cpu_has(const char *feature) {
    __builtin_cpu_init();
    if (!strcmp(feature, "avx2")) return __builtin_cpu_supports("avx2");
    if (!strcmp(feature, "avxvnni")) return __builtin_cpu_supports("avxvnni");
    if (!strcmp(feature, "avx512vnni")) return __builtin_cpu_supports("avx512vnni");
    if (!strcmp(feature, "avx512bf16")) return __builtin_cpu_supports("avx512bf16");
    return 0;
}
#else
static const struct narrow NARROW[] = {{"", "", 0, NULL}};
#define N_NARROW 0
static int cpu_has(const char *feature) { (void)feature; return 0; }
#endif

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    const char *kind = argc > 3 ? argv[3] : "fp32";
    if (threads < 1 || reps < 1) {
        fprintf(stderr, "usage: fma_peak [threads>=1] [reps>=1] [fp32|int8|int8-saturating|vnni-256|vnni-512|bf16-512]\n");
        return 2;
    }
    void *(*work)(void *) = worker;
    double ops_per_thread = (double)ITERS * ACC * LANES * 2;
    if (strcmp(kind, "fp32") != 0) {
        const struct narrow *n = NULL;
        for (unsigned k = 0; k < N_NARROW; k++)
            if (!strcmp(kind, NARROW[k].name)) n = &NARROW[k];
        if (!n) {
            fprintf(stderr, "fma_peak: unknown kind %s\n", kind);
            return 2;
        }
        if (!cpu_has(n->feature)) {
            printf("{\"path\": \"%s\", \"kind\": \"%s\", \"supported\": false}\n", PATH, kind);
            return 0;
        }
        for (int i = 0; i < 64; i++) xs[i] = 0x01020304 * (i + 1) ^ (i << 9);
        work = n->worker;
        ops_per_thread = NARROW_ITERS * n->macs_per_iter * 2;
    }
    double *gflops = calloc(reps, sizeof *gflops);
    pthread_t *tid = calloc(threads, sizeof *tid);
    for (int r = 0; r < reps; r++) {
        pthread_barrier_init(&start, NULL, threads + 1);
        for (int t = 0; t < threads; t++) pthread_create(&tid[t], NULL, work, NULL);
        pthread_barrier_wait(&start);
        double t0 = now();
        for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
        double s = now() - t0;
        pthread_barrier_destroy(&start);
        gflops[r] = threads * ops_per_thread / s / 1e9;
    }
    qsort(gflops, reps, sizeof *gflops, cmp);
    if (work == worker)
        printf("{\"path\": \"%s\", \"threads\": %d, \"reps\": %d, \"gflops_best\": %.1f, \"gflops_median\": %.1f, \"gflops_min\": %.1f}\n",
               PATH, threads, reps, gflops[reps - 1], gflops[reps / 2], gflops[0]);
    else
        printf("{\"path\": \"%s\", \"kind\": \"%s\", \"supported\": true, \"threads\": %d, \"reps\": %d, "
               "\"gops_best\": %.1f, \"gops_median\": %.1f, \"gops_min\": %.1f}\n",
               PATH, kind, threads, reps, gflops[reps - 1], gflops[reps / 2], gflops[0]);
    return 0;
}
