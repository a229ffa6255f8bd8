/* The machine's single-precision ceiling for one CPU path: each thread runs
 * independent multiply-adds on enough accumulators to cover their latency on
 * two pipes, with no memory traffic. Built once per path of the fast engine:
 *
 *   gcc -O2 -mavx512f -mfma -pthread bench/fma_peak.c -o fma_peak_avx512  # 16 lanes, FMA
 *   gcc -O2 -mavx2 -mfma    -pthread bench/fma_peak.c -o fma_peak_avx2    #  8 lanes, FMA
 *   gcc -O2                 -pthread bench/fma_peak.c -o fma_peak_portable # SSE2: 4 lanes, multiply then add
 *   ./fma_peak_<path> [threads=2] [reps=5]
 *
 * (The portable path is plain Rust, which on x86-64 compiles to SSE2 without
 * FMA: its ceiling is separate multiplies and adds on 4 lanes.)
 *
 * Prints one JSON object: the path, best and median GFLOP/s over reps, all
 * threads together. Part of bench/run.sh; each path's figure is the "peak"
 * that path's effective GFLOP/s are divided by. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (threads < 1 || reps < 1) {
        fprintf(stderr, "usage: fma_peak [threads>=1] [reps>=1]\n");
        return 2;
    }
    double *gflops = calloc(reps, sizeof *gflops);
    pthread_t *tid = calloc(threads, sizeof *tid);
    for (int r = 0; r < reps; r++) {
        pthread_barrier_init(&start, NULL, threads + 1);
        for (int t = 0; t < threads; t++) pthread_create(&tid[t], NULL, worker, NULL);
        pthread_barrier_wait(&start);
        double t0 = now();
        for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
        double s = now() - t0;
        pthread_barrier_destroy(&start);
        gflops[r] = (double)threads * ITERS * ACC * LANES * 2 / s / 1e9;
    }
    qsort(gflops, reps, sizeof *gflops, cmp);
    printf("{\"path\": \"%s\", \"threads\": %d, \"reps\": %d, \"gflops_best\": %.1f, \"gflops_median\": %.1f, \"gflops_min\": %.1f}\n",
           PATH, threads, reps, gflops[reps - 1], gflops[reps / 2], gflops[0]);
    return 0;
}
