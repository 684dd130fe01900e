/* CPU feature detection, done once, and the ISA whose kernels run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "fc_runtime.h"

static int active_isa = -1; /* -1: not decided yet */

fc_isa fc_detected_isa(void) {
#if FC_X86_KERNELS /* never an ISA whose kernels this build lacks */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma"))
        return FC_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return FC_ISA_AVX2;
#endif
    return FC_ISA_BASELINE;
}

const char *fc_isa_name(fc_isa isa) {
    switch (isa) {
    case FC_ISA_AVX512: return "avx512";
    case FC_ISA_AVX2: return "avx2";
    case FC_ISA_BASELINE: return "baseline";
    }
    return "unknown";
}

/* The detected ISA, lowered by FASTCONV_ISA when that names (in any case: AVX2, avx2) one
 * the CPU supports; "scalar" is the baseline's old name. Another value changes nothing; the Python package warns about it when
 * it is imported (fastconv/_isa.py, which follows the same rule). */
static fc_isa initial_isa(void) {
    fc_isa best = fc_detected_isa();
    const char *env = getenv("FASTCONV_ISA");
    if (env && strcasecmp(env, "scalar") == 0) return FC_ISA_BASELINE;
    if (env)
        for (int isa = FC_ISA_BASELINE; isa <= (int)best; isa++)
            if (strcasecmp(env, fc_isa_name((fc_isa)isa)) == 0) return (fc_isa)isa;
    return best;
}

fc_isa fc_get_isa(void) {
    int isa = __atomic_load_n(&active_isa, __ATOMIC_ACQUIRE);
    if (isa < 0) {
        isa = (int)initial_isa();
        __atomic_store_n(&active_isa, isa, __ATOMIC_RELEASE); /* same value in any race */
    }
    return (fc_isa)isa;
}

fc_status fc_set_isa(fc_isa isa) {
    if ((int)isa < FC_ISA_BASELINE || isa > fc_detected_isa()) return FC_ERR_ARG;
    __atomic_store_n(&active_isa, (int)isa, __ATOMIC_RELEASE);
    return FC_OK;
}

/* Data cache sizes of this CPU, for blocking that fits the machine it runs on (sessions
 * have seen 32 and 48 KiB L1d, 1 and 2 MiB L2, a 32 MiB L3).  glibc reads them from CPUID;
 * where it cannot (0 or -1), a common size stands in.  Read once. */
static size_t cache_or(int name, size_t fallback) {
    const long bytes = name >= 0 ? sysconf(name) : -1;
    return bytes > 0 ? (size_t)bytes : fallback;
}

#ifndef _SC_LEVEL1_DCACHE_SIZE /* not glibc: the fallbacks */
#define _SC_LEVEL1_DCACHE_SIZE (-1)
#define _SC_LEVEL2_CACHE_SIZE (-1)
#endif
#ifndef _SC_LEVEL3_CACHE_SIZE
#define _SC_LEVEL3_CACHE_SIZE (-1)
#endif

/* The size of cpu0's level-3 data or unified cache as Linux's sysfs lists it (one
 * instance: what the cores sharing it share), 0 where unknown.  Preferred to glibc's figure,
 * which on a KVM guest of an AMD EPYC (Zen 4) read 320 MiB where sysfs and lscpu
 * read the 32 MiB that a core can use. */
static size_t sysfs_l3(void) {
    for (int i = 0; i < 16; i++) {
        char path[64], type[32] = "", unit = 0;
        unsigned long level = 0, size = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) return 0;
        const int ok = fscanf(f, "%lu", &level) == 1;
        fclose(f);
        if (!ok || level != 3) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%31s", type) != 1) type[0] = 0;
            fclose(f);
        }
        if (!strcmp(type, "Instruction")) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!(f = fopen(path, "r"))) return 0;
        const int n = fscanf(f, "%lu%c", &size, &unit);
        fclose(f);
        if (n < 1) return 0;
        return (size_t)size << (unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0);
    }
    return 0;
}

int fc_cpu_is_amd(void) {
#if FC_X86_KERNELS
    __builtin_cpu_init();
    return __builtin_cpu_is("amd");
#else
    return 0;
#endif
}

/* Vector loads that straddle two cache lines cost an Intel Xeon (AVX-512) enough that
 * copying misaligned filters first paid (1 thread: alexnet-c2-g2 3.32 -> 2.77 ms, AlexNet
 * 11x11/4 1.04 -> 0.96, lenet-c1 1.01 -> 0.94; conv2d_tmpl.h, direct_plan).  Not on AMD:
 * Zen 4, whose 256-bit datapath splits a 64-byte load in any case, ran those layers at the
 * same speed either way at 1 thread (1.244 ms, 0.89, alexnet-c2-g2 3.72-3.78 against
 * 3.73-3.85), and at 2 threads the copy, written by one core and read by both, made them
 * slower (AlexNet 11x11/4 0.70 ms against 0.66, alexnet-c2-g2 1.97-2.36 against
 * 1.94-1.98).  Other CPUs keep the copy.  FASTCONV_ALIGNED_FILTERS=0 or 1 decides instead
 * (tests run both ways on any CPU).  Read once. */
int fc_align_filters(void) {
    static int decided = -1;
    int v = __atomic_load_n(&decided, __ATOMIC_RELAXED);
    if (v >= 0) return v;
    const char *env = getenv("FASTCONV_ALIGNED_FILTERS");
    if (env && (!strcmp(env, "0") || !strcmp(env, "1"))) {
        v = env[0] == '1';
    } else {
        v = !fc_cpu_is_amd();
    }
    __atomic_store_n(&decided, v, __ATOMIC_RELAXED);
    return v;
}

size_t fc_cache_bytes(int level) {
    static size_t l1, l2, l3; /* 0: not read yet (a race only reads them twice) */
    if (!__atomic_load_n(&l1, __ATOMIC_ACQUIRE)) {
        const size_t l3_sysfs = sysfs_l3();
        __atomic_store_n(&l3, l3_sysfs ? l3_sysfs : cache_or(_SC_LEVEL3_CACHE_SIZE, 32u << 20),
                         __ATOMIC_RELAXED);
        __atomic_store_n(&l2, cache_or(_SC_LEVEL2_CACHE_SIZE, 1u << 20), __ATOMIC_RELAXED);
        __atomic_store_n(&l1, cache_or(_SC_LEVEL1_DCACHE_SIZE, 32u << 10), __ATOMIC_RELEASE);
    }
    return level == 1   ? l1
           : level == 2 ? __atomic_load_n(&l2, __ATOMIC_RELAXED)
                        : __atomic_load_n(&l3, __ATOMIC_RELAXED);
}
