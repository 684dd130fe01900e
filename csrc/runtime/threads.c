/* Thread count.  set_num_threads and threadpoolctl both act through OpenMP's per-thread
 * nthreads setting (omp_set_num_threads), so either limits fastconv; the process-wide
 * request also caps calls made from other Python threads, which OpenMP would not. */
#include "fc_internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static int requested_threads = 0;   /* 0: not set, follow OpenMP */

/* Below this many FLOPs per extra thread, waking it costs more than it saves. */
#define FC_MIN_WORK_PER_THREAD 2.0e5

void fc_set_num_threads(int n) {
    __atomic_store_n(&requested_threads, n, __ATOMIC_RELAXED);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int fc_get_num_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    int req = __atomic_load_n(&requested_threads, __ATOMIC_RELAXED);
    return (req > 0 && req < n) ? req : n;
#else
    return 1;
#endif
}

int fc_have_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int fc_threads_for(double work) {
    int n = fc_get_num_threads();
    int useful = (int)(work / FC_MIN_WORK_PER_THREAD);
    if (useful < 1) useful = 1;
    return useful < n ? useful : n;
}
