/* Pre-faulting an output that a call is about to write in full (fc_runtime.h).
 *
 * A fresh NumPy result is memory the kernel has not mapped yet: glibc hands back to the OS
 * what another library frees at the top of its heap (PyTorch's 3.2 MB result between two of
 * our calls in the bench), so each of its pages faults on its first write.  Asked for in one
 * madvise(MADV_POPULATE_WRITE), the kernel maps them all without a trap per page: lenet-c2's
 * 3.2 MB output (784 pages) took 1.23-1.30 ms to fault in by writing, 0.85-0.94 populated
 * (1 thread, thread CPU time, Linux 6.18 guest, Xeon).  Memory already mapped costs a page
 * table walk (34 us for 3.2 MB), so the caller asks first whether the last page is mapped:
 * a reused heap block is mapped throughout, a fresh one is not (its first page holds
 * malloc's header, so the last is the one to ask about).  Linux 5.14 and later; elsewhere
 * (and where the call fails) the pages fault as they are written, as before. */
#define _DEFAULT_SOURCE /* mincore */
#include <stdint.h>
#include "fc_runtime.h"
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
static uintptr_t page_bytes(void) {
    static long cached;
    long p = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (p <= 0) {
        p = sysconf(_SC_PAGESIZE);
        if (p <= 0) p = 4096;
        __atomic_store_n(&cached, p, __ATOMIC_RELAXED);
    }
    return (uintptr_t)p;
}

/* The whole pages inside [p, p + bytes): [*lo, *hi), possibly empty. */
static void whole_pages(void *p, size_t bytes, uintptr_t *lo, uintptr_t *hi) {
    const uintptr_t ps = page_bytes(), a = (uintptr_t)p;
    *lo = (a + ps - 1) / ps * ps;
    *hi = (a + bytes) / ps * ps;
    if (*hi < *lo) *hi = *lo;
}

int fc_memory_unmapped(void *p, size_t bytes) {
    uintptr_t lo, hi;
    whole_pages(p, bytes, &lo, &hi);
    if (hi == lo) return 0;
    unsigned char resident = 1;
    const uintptr_t last = hi - page_bytes();
    return mincore((void *)last, page_bytes(), &resident) == 0 && !(resident & 1);
}

void fc_prefault(void *p, size_t bytes) {
    uintptr_t lo, hi;
    whole_pages(p, bytes, &lo, &hi);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* a hint */
}
#else
int fc_memory_unmapped(void *p, size_t bytes) {
    (void)p;
    (void)bytes;
    return 0;
}

void fc_prefault(void *p, size_t bytes) {
    (void)p;
    (void)bytes;
}
#endif
