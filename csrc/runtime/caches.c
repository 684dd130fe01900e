/* Data cache sizes, read once: the kernels size their blocks from them instead of from one
 * machine's constants (the CPUs this library meets range from 32 KiB L1d / 1 MiB L2 to
 * 48 KiB / 2 MiB per core). */
#include <unistd.h>
#include "fc_internal.h"

static int64_t cache_bytes(int name, int64_t fallback) {
    const long v = name >= 0 ? sysconf(name) : -1;
    return v > 0 ? (int64_t)v : fallback;
}

void fc_cache_sizes(int64_t *l1d, int64_t *l2) {
    static int64_t l1 = 0, l2c = 0;   /* 0: not read yet; any race stores the same values */
    if (__atomic_load_n(&l2c, __ATOMIC_ACQUIRE) == 0) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
        const int n1 = _SC_LEVEL1_DCACHE_SIZE, n2 = _SC_LEVEL2_CACHE_SIZE;
#else   /* not glibc: the smallest sizes seen on CPUs with these kernels */
        const int n1 = -1, n2 = -1;
#endif
        __atomic_store_n(&l1, cache_bytes(n1, 32 * 1024), __ATOMIC_RELAXED);
        __atomic_store_n(&l2c, cache_bytes(n2, 1024 * 1024), __ATOMIC_RELEASE);
    }
    *l1d = __atomic_load_n(&l1, __ATOMIC_RELAXED);
    *l2 = __atomic_load_n(&l2c, __ATOMIC_ACQUIRE);
}
