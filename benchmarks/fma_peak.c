/* The FMA peak of one core: 24 independent AVX-512 (or AVX2) FMA chains, no memory.
 * Built and run by gemm_targets.py to put "% of peak" beside every GFLOP/s figure.  Timed
 * in this thread's CPU time, not wall time: on a busy machine the wall clock also counts
 * the slices other processes take, which understated the peak (the kernels' figures it is
 * compared with are CPU-time figures too, or taken on an idle machine). */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#ifdef __AVX512F__
typedef __m512 vec;
#define LANES 16
#define FMA _mm512_fmadd_ps
#define SET1 _mm512_set1_ps
#else
typedef __m256 vec;
#define LANES 8
#define FMA _mm256_fmadd_ps
#define SET1 _mm256_set1_ps
#endif

int main(void) {
    vec acc[24], b = SET1(1.0000001f), c = SET1(1e-7f);
    for (int i = 0; i < 24; i++) acc[i] = SET1((float)i);
    const long iters = 100000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++) acc[i] = FMA(acc[i], b, c);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    float sink = 0;
    for (int i = 0; i < 24; i++) sink += ((float *)&acc[i])[0];
    const double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("%.1f\n", (double)iters * 24 * LANES * 2 / s / 1e9 + 0 * sink);
    return 0;
}
