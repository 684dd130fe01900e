/* The runtime's services to the operators and kernels (csrc/runtime/): the CPU's cache
 * sizes and the per-thread scratch buffers. */
#ifndef FC_RUNTIME_H
#define FC_RUNTIME_H

#include "fc_internal.h"

/* Data cache sizes in bytes (runtime/cpu.c): level 1 (L1d) or 2, each core's, or 3, the
 * last level, shared (the whole of it, as the OS reports it). */
size_t fc_cache_bytes(int level);

/* Whether the CPU is an AMD one (x86-64 builds; 0 elsewhere): where the kernels' costs were
 * measured to differ from an Intel Xeon's, the rules that depend on them ask this. */
int fc_cpu_is_amd(void);

/* Whether the direct kernels copy filters that do not start on a cache line to an aligned
 * buffer before a call (runtime/cpu.c; FASTCONV_ALIGNED_FILTERS=0 or 1 overrides it). */
int fc_align_filters(void);

/* Per-thread buffers kept across calls (runtime/scratch.c), one per use. */
typedef enum {
    FC_SCRATCH_WEIGHTS = 0,  /* packed GEMM weights (calling thread) */
    FC_SCRATCH_INPUT,        /* dense NHWC copy of a strided input (calling thread) */
    FC_SCRATCH_OUTPUT,       /* dense NHWC result before a strided store (calling thread) */
    FC_SCRATCH_TASK,         /* a worker's per-task workspace (each OpenMP thread) */
    FC_SCRATCH_PHASE_FILTER, /* an input gradient's flipped phase filter (calling thread) */
    FC_SCRATCH_SLOTS
} fc_scratch_slot;
void *fc_scratch(fc_scratch_slot slot, size_t bytes);
void fc_scratch_release(fc_scratch_slot slot); /* at the end of a call */

/* Memory a call will write in full (runtime/prefault.c): whether its last whole page is
 * not mapped yet (a fresh allocation), and mapping its whole pages writable in one system
 * call instead of a fault per page on first write.  Neither reads or writes its bytes. */
int fc_memory_unmapped(void *p, size_t bytes);
void fc_prefault(void *p, size_t bytes);

#endif
