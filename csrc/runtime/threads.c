/* Thread counts, fork safety, and teams that can actually start.
 *
 * set_num_threads and threadpoolctl both act through OpenMP's per-thread nthreads setting
 * (omp_set_num_threads), so either limits fastconv; the process-wide request also caps
 * calls made from other Python threads, which OpenMP would not.  No count ever exceeds
 * the CPUs this process may run on: more threads than cores only wait for each other. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include "fc_runtime.h"
#include "fc_parallel.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static int requested_threads = 0; /* 0: not set, follow OpenMP */
static int cpus = 0;              /* 0: not read yet */
static int team_started = 0;      /* a team of 2 or more threads ran in this process */
static int forked_child = 0;      /* ... and this process is a fork of it */

static int read_cpus(void) {
    int n = 0;
#ifdef CPU_ALLOC
    cpu_set_t *set = CPU_ALLOC(8192);
    const size_t size = CPU_ALLOC_SIZE(8192);
    if (set && sched_getaffinity(0, size, set) == 0) n = CPU_COUNT_S(size, set);
    CPU_FREE(set);
#endif
    if (n < 1) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

int fc_cpus_available(void) {
    int n = __atomic_load_n(&cpus, __ATOMIC_RELAXED);
    if (n == 0) {
        n = read_cpus();
        __atomic_store_n(&cpus, n, __ATOMIC_RELAXED);
    }
    return n;
}

/* A forked child has only the thread that called fork(); libgomp's pool still lists the
 * parent's workers, and a team would wait for them forever (GCC bug 52303).  The child
 * therefore runs every call on its own thread. */
static void in_child(void) {
    forked_child = __atomic_load_n(&team_started, __ATOMIC_RELAXED);
    cpus = 0; /* the child may have been given other CPUs */
}

__attribute__((constructor)) static void install_fork_handler(void) {
    pthread_atfork(NULL, NULL, in_child);
}

int fc_in_forked_child(void) {
    return __atomic_load_n(&forked_child, __ATOMIC_RELAXED);
}

void fc_set_num_threads(int n) {
    const int most = read_cpus(); /* the mask may have changed since: read it again */
    __atomic_store_n(&cpus, most, __ATOMIC_RELAXED);
    n = n < 1 ? 1 : n > most ? most : n;
    __atomic_store_n(&requested_threads, n, __ATOMIC_RELAXED);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

void fc_set_thread_num_threads(int n) {
#ifdef _OPENMP
    const int most = fc_cpus_available();
    omp_set_num_threads(n < 1 ? 1 : n > most ? most : n);
#else
    (void)n;
#endif
}

int fc_thread_num_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int fc_get_num_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    const int req = __atomic_load_n(&requested_threads, __ATOMIC_RELAXED);
    const int most = fc_cpus_available();
    if (req > 0 && req < n) n = req;
    return n > most ? most : n < 1 ? 1 : n;
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

/* libgomp ends the process when it cannot create a team's thread (out of memory for a
 * stack, a process limit).  Before a calling thread first asks for a team of a size, the
 * same number of threads, with the same default attributes libgomp uses, are created here
 * and joined; the team gets as many threads as could be created.  libgomp keeps a pool of
 * workers per calling thread, so the largest size that worked is remembered per thread. */
static __thread int team_verified = 1;

static void *nothing(void *arg) {
    return arg;
}

int fc_team_can_start(int threads) {
    if (threads > team_verified) {
        pthread_t probe[threads - 1];
        int made = 0;
        while (made < threads - 1 && pthread_create(&probe[made], NULL, nothing, NULL) == 0) made++;
        for (int i = 0; i < made; i++) pthread_join(probe[i], NULL);
        if (made + 1 > team_verified) team_verified = made + 1;
        if (made + 1 < threads) threads = made + 1;
    }
    if (threads > 1) __atomic_store_n(&team_started, 1, __ATOMIC_RELAXED);
    return threads;
}
