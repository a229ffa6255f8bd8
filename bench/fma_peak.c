/* The machine's single-precision FMA ceiling: each thread runs independent
 * AVX-512 fused multiply-adds (16 lanes x 2 flops each) on 16 accumulators,
 * enough to cover FMA latency on two FMA pipes, with no memory traffic.
 *
 *   gcc -O2 -mavx512f -mfma -pthread bench/fma_peak.c -o fma_peak
 *   ./fma_peak [threads=2] [reps=5]
 *
 * Prints one JSON object: best and median GFLOP/s over reps, all threads
 * together. Part of bench/run.sh; the figure is the "peak" the benchmark's
 * effective GFLOP/s are divided by. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 50000000L /* x 16 FMAs x 32 flops = 25.6 GFLOP per thread */

static pthread_barrier_t start;
static volatile float sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *worker(void *arg) {
    (void)arg;
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f), c2 = _mm512_set1_ps(0.2f), c3 = _mm512_set1_ps(0.3f);
    __m512 c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f), c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f);
    __m512 c8 = _mm512_set1_ps(0.8f), c9 = _mm512_set1_ps(0.9f), ca = _mm512_set1_ps(1.0f), cb = _mm512_set1_ps(1.1f);
    __m512 cc = _mm512_set1_ps(1.2f), cd = _mm512_set1_ps(1.3f), ce = _mm512_set1_ps(1.4f), cf = _mm512_set1_ps(1.5f);
    pthread_barrier_wait(&start);
    for (long i = 0; i < ITERS; i++) {
        c0 = _mm512_fmadd_ps(c0, a, b); c1 = _mm512_fmadd_ps(c1, a, b);
        c2 = _mm512_fmadd_ps(c2, a, b); c3 = _mm512_fmadd_ps(c3, a, b);
        c4 = _mm512_fmadd_ps(c4, a, b); c5 = _mm512_fmadd_ps(c5, a, b);
        c6 = _mm512_fmadd_ps(c6, a, b); c7 = _mm512_fmadd_ps(c7, a, b);
        c8 = _mm512_fmadd_ps(c8, a, b); c9 = _mm512_fmadd_ps(c9, a, b);
        ca = _mm512_fmadd_ps(ca, a, b); cb = _mm512_fmadd_ps(cb, a, b);
        cc = _mm512_fmadd_ps(cc, a, b); cd = _mm512_fmadd_ps(cd, a, b);
        ce = _mm512_fmadd_ps(ce, a, b); cf = _mm512_fmadd_ps(cf, a, b);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(ca, cb)),
                                       _mm512_add_ps(_mm512_add_ps(cc, cd), _mm512_add_ps(ce, cf))));
    sink += _mm512_reduce_add_ps(s);
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
        gflops[r] = (double)threads * ITERS * 16 * 16 * 2 / s / 1e9;
    }
    qsort(gflops, reps, sizeof *gflops, cmp);
    printf("{\"threads\": %d, \"reps\": %d, \"gflops_best\": %.1f, \"gflops_median\": %.1f, \"gflops_min\": %.1f}\n",
           threads, reps, gflops[reps - 1], gflops[reps / 2], gflops[0]);
    return 0;
}
