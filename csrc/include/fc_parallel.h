/* The parallel layer (runtime/parallel.c): the only place that starts threads.
 *
 * An operator describes its call as up to FC_MAX_PHASES phases of independent tasks (copy
 * the input, pack the weights, compute the tiles, copy the output).  Tasks are claimed one
 * at a time from an atomic counter by whichever thread is running, so a thread that the OS
 * has not scheduled yet holds no work: the others take it.  Phase p + 1 starts once every
 * task of phase p has finished (it reads what they wrote).  Which thread runs a task never
 * changes what it computes, so results are bit-identical for any thread count. */
#ifndef FC_PARALLEL_H
#define FC_PARALLEL_H

#include <stddef.h>
#include <stdint.h>
#include "fastconv.h"

#define FC_MAX_PHASES 4

typedef struct {
    int64_t tasks;
    /* Runs task t of this phase; ws: the thread's workspace of the job's ws_bytes. */
    void (*run)(const void *ctx, int64_t t, void *ws);
    const void *ctx;
} fc_phase;

typedef struct {
    fc_phase phase[FC_MAX_PHASES];
    int phases;
    size_t ws_bytes; /* per-thread workspace, kept across calls (0: none) */
    /* Memory the job writes in full (its output), or NULL: where it is not mapped yet, the
     * threads first map it in pieces (runtime/parallel.c, fc_prefault), one system call per
     * piece instead of a fault per page. */
    void *out;
    size_t out_bytes;
} fc_parallel_job;

/* Appends a phase (no-op for 0 tasks). */
static inline void fc_job_add(fc_parallel_job *job, int64_t tasks,
                              void (*run)(const void *, int64_t, void *), const void *ctx) {
    if (tasks > 0 && job->phases < FC_MAX_PHASES) {
        fc_phase p = {tasks, run, ctx};
        job->phase[job->phases++] = p;
    }
}

/* Runs the job on at most `threads` threads (fewer when the machine is contended, in a
 * forked child, or when threads cannot be created); FC_ERR_NOMEM when a thread's
 * workspace cannot be allocated. */
fc_status fc_parallel_run(const fc_parallel_job *job, int threads);

/* Threads worth waking for `work_flops` of arithmetic: 1 below about FC_MIN_WORK_PER_THREAD
 * per thread, never more than fc_get_num_threads(). */
int fc_threads_for(double work_flops);

/* runtime/threads.c: whether this process is a forked child of one that used threads, and
 * how many threads of a team the calling thread can actually have. */
int fc_in_forked_child(void);
int fc_team_can_start(int threads);

#endif
