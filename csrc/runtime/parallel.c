/* The parallel layer: the one OpenMP region of the library (see fc_parallel.h).
 *
 * On a shared machine the cost of a parallel call is not its work but its waits.  An OpenMP
 * region ends with a join that waits for every thread of the team, including one whose core
 * another process holds; libgomp's default spin-waiting makes it worse, since a spinning
 * worker is preempted rather than woken.  Measured on 2 cores with 2 other busy processes:
 * a 0.9 ms layer took 16 ms on 2 threads.  Three things keep a call close to its serial
 * time here:
 *  - tasks are claimed from atomic counters, so work goes to whoever runs and a thread that
 *    starts late finds nothing left to do;
 *  - the Python package loads libgomp with a short spin-wait (src/fastconv/_openmp.py), so
 *    idle workers soon sleep and a call wakes them, which the scheduler favours;
 *  - each call measures what the team cost: if its wall time exceeds the CPU time all its
 *    threads spent working (the time one thread would have needed) by more than
 *    FC_CONTENTION_MIN_S, the threads were kept waiting by the scheduler; after two such
 *    calls in a row, later calls use half the team for a back-off period (doubling with
 *    each capping call, up to FC_BACKOFF_MAX_S, shrinking slowly with each good one), after
 *    which calls probe the full team again.
 * docs/threads.md has the measurements behind these choices. */
#include <sched.h>
#include <time.h>
#include "fc_runtime.h"
#include "fc_parallel.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* A call is contended when its wall time exceeds the serial estimate by at least this:
 * scheduler delays come in time slices (milliseconds); waking a sleeping thread costs tens
 * of microseconds and must not count.  In a virtual machine it can cost more, once: after an
 * idle gap the host has parked the worker's virtual CPU (AMD EPYC KVM guest, lenet-c1 on 2
 * threads after a 3 ms sleep: 3 of 6 calls over the threshold), which is why one contended
 * call alone does not cap the team (fc_parallel_observe). */
#define FC_CONTENTION_MIN_S 2.0e-4
#define FC_BACKOFF_MIN_S 0.05
#define FC_BACKOFF_MAX_S 2.0
/* Each call that goes well shortens the next back-off by this factor: slowly, because under
 * steady load good and bad calls alternate (halving let 2-thread calls take 1.8x the 1-thread
 * time with 2 busy processes), while an idle machine runs thousands of good calls a second
 * and forgets a stray bad one at once. */
#define FC_BACKOFF_DECAY 0.9
/* Spins (pause instructions) before a thread waiting for a phase yields its core. */
#define FC_PHASE_SPINS 2000

static double clock_s(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* ---- contention state, shared by every call of the process (a heuristic: racing updates
 * only make a decision a call late) ---- */
static double cap_until; /* CLOCK_MONOTONIC seconds: teams are capped before this */
static int cap_threads;  /* the cap */
static double backoff = FC_BACKOFF_MIN_S;
static int64_t contended_calls, parallel_calls;
static int suspect; /* the last call observed was contended */

static double load_d(const double *p) {
    double v;
    __atomic_load(p, &v, __ATOMIC_RELAXED);
    return v;
}

static void store_d(double *p, double v) {
    __atomic_store(p, &v, __ATOMIC_RELAXED);
}

static int team_size(int threads) {
    if (threads <= 1 || fc_in_forked_child()) return 1;
    if (clock_s(CLOCK_MONOTONIC) < load_d(&cap_until)) {
        const int cap = __atomic_load_n(&cap_threads, __ATOMIC_RELAXED);
        if (cap >= 1 && cap < threads) threads = cap;
    }
    return threads > 1 ? fc_team_can_start(threads) : 1;
}

/* What a call on `threads` threads cost: `wall` seconds, `cpu` seconds of work summed over
 * its threads. */
void fc_parallel_observe(int threads, double wall, double cpu) {
    __atomic_add_fetch(&parallel_calls, 1, __ATOMIC_RELAXED);
    double b = load_d(&backoff);
    if (wall > cpu + FC_CONTENTION_MIN_S) {
        __atomic_add_fetch(&contended_calls, 1, __ATOMIC_RELAXED);
        /* Only a second contended call in a row caps the team: a worker asleep on a virtual
         * CPU that the host has parked wakes late once, after an idle gap, and that is no
         * sign of load (see FC_CONTENTION_MIN_S).  No good call clears the mark while the
         * team is capped, so under lasting load each later probe caps again at once. */
        if (__atomic_exchange_n(&suspect, 1, __ATOMIC_RELAXED)) {
            __atomic_store_n(&cap_threads, threads / 2, __ATOMIC_RELAXED);
            store_d(&cap_until, clock_s(CLOCK_MONOTONIC) + b);
            b *= 2;
        }
    } else {
        __atomic_store_n(&suspect, 0, __ATOMIC_RELAXED);
        b *= FC_BACKOFF_DECAY;
    }
    if (b < FC_BACKOFF_MIN_S) b = FC_BACKOFF_MIN_S;
    if (b > FC_BACKOFF_MAX_S) b = FC_BACKOFF_MAX_S;
    store_d(&backoff, b);
}

void fc_parallel_stats(int *cap, int64_t *contended, int64_t *parallel) {
    const int capped = clock_s(CLOCK_MONOTONIC) < load_d(&cap_until);
    *cap = capped ? __atomic_load_n(&cap_threads, __ATOMIC_RELAXED) : 0;
    *contended = __atomic_load_n(&contended_calls, __ATOMIC_RELAXED);
    *parallel = __atomic_load_n(&parallel_calls, __ATOMIC_RELAXED);
}

/* Outputs from this size on are pre-faulted where fresh (fc_prefault): below it (64 pages,
 * about 80 us of faults) the system call that asks is a larger share of the saving.  Pieces
 * of FC_PREFAULT_CHUNK are claimed like tasks, so that 2 threads map halves, as they
 * faulted halves writing. */
#define FC_PREFAULT_MIN ((size_t)256 * 1024)
#define FC_PREFAULT_CHUNK ((size_t)512 * 1024)

/* ---- one call ---- */
typedef struct {
    const fc_parallel_job *job;
    int64_t prefault_chunks;     /* pieces of job->out to map first (0: none) */
    int64_t prefault_next;       /* the next piece to claim */
    int64_t next[FC_MAX_PHASES]; /* the next task to claim */
    int64_t done[FC_MAX_PHASES]; /* tasks finished */
    int failed;                  /* a thread had no workspace: the call fails */
} call_state;

/* One thread's share: claim tasks until none is left, phase by phase. */
static void work(call_state *s) {
    const fc_parallel_job *job = s->job;
    void *ws = job->ws_bytes ? fc_scratch(FC_SCRATCH_TASK, job->ws_bytes) : NULL;
    const int usable = ws || !job->ws_bytes;
    if (!usable) __atomic_store_n(&s->failed, 1, __ATOMIC_RELAXED);
    /* No wait after these: a task that writes a page not mapped yet just faults it. */
    for (int64_t k;
         (k = __atomic_fetch_add(&s->prefault_next, 1, __ATOMIC_RELAXED)) < s->prefault_chunks;) {
        /* pieces aligned to their size (a multiple of the page size): no page is cut */
        const uintptr_t o0 = (uintptr_t)job->out, o1 = o0 + job->out_bytes;
        uintptr_t a = (o0 / FC_PREFAULT_CHUNK + (uintptr_t)k) * FC_PREFAULT_CHUNK;
        uintptr_t b = a + FC_PREFAULT_CHUNK;
        if (a < o0) a = o0;
        if (b > o1) b = o1;
        fc_prefault((void *)a, b - a);
    }
    for (int p = 0; p < job->phases; p++) {
        const fc_phase *ph = &job->phase[p];
        int64_t t;
        while ((t = __atomic_fetch_add(&s->next[p], 1, __ATOMIC_RELAXED)) < ph->tasks) {
            if (usable) ph->run(ph->ctx, t, ws);
            __atomic_add_fetch(&s->done[p], 1, __ATOMIC_RELEASE);
        }
        /* The next phase reads what this one wrote: wait for tasks other threads hold. */
        for (int spin = 0;
             p + 1 < job->phases && __atomic_load_n(&s->done[p], __ATOMIC_ACQUIRE) < ph->tasks;
             spin++) {
            if (spin < FC_PHASE_SPINS) cpu_relax();
            else sched_yield(); /* the holder may be waiting for this core */
        }
    }
    fc_scratch_release(FC_SCRATCH_TASK);
}

fc_status fc_parallel_run(const fc_parallel_job *job, int threads) {
    call_state s = {job, 0, 0, {0}, {0}, 0};
    if (job->out && job->out_bytes >= FC_PREFAULT_MIN &&
        fc_memory_unmapped(job->out, job->out_bytes))
        s.prefault_chunks =
            (int64_t)(((uintptr_t)job->out + job->out_bytes - 1) / FC_PREFAULT_CHUNK -
                      (uintptr_t)job->out / FC_PREFAULT_CHUNK + 1);
    threads = team_size(threads);
#ifdef _OPENMP
    if (threads > 1) {
        double cpu = 0;
        const double start = clock_s(CLOCK_MONOTONIC);
#pragma omp parallel num_threads(threads)
        {
            const double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            work(&s);
            const double used = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
#pragma omp atomic
            cpu += used;
        }
        fc_parallel_observe(threads, clock_s(CLOCK_MONOTONIC) - start, cpu);
        return s.failed ? FC_ERR_NOMEM : FC_OK;
    }
#endif
    work(&s);
    return s.failed ? FC_ERR_NOMEM : FC_OK;
}

/* Below this many FLOPs per extra thread, waking it costs more than it saves (a sleeping
 * thread takes tens of microseconds to wake). */
#define FC_MIN_WORK_PER_THREAD 2.0e5

int fc_threads_for(double work) {
    const int n = fc_get_num_threads();
    const double useful = work / FC_MIN_WORK_PER_THREAD;
    if (useful < 2) return 1;
    return useful < n ? (int)useful : n; /* compared as doubles: no overflow */
}
