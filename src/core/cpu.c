/*
 * cpu.c - CPU feature detection with cpuid/xgetbv (x86-64); other architectures report none.
 */
#include "fairvisit/cpu.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static unsigned detect(void) {
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0;
    unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (((b >> 5) & 1) && fma) f |= FV_CPU_AVX2;
    if (((b >> 16) & 1) && (xcr0 & 0xe0) == 0xe0 && (f & FV_CPU_AVX2)) f |= FV_CPU_AVX512F;
    return f;
}
#else
static unsigned detect(void) {
    return 0;
}
#endif

static unsigned cap(unsigned f) {
    const char *m = getenv("FV_CPU_MAX");
    if (m == NULL) return f;
    if (strcmp(m, "generic") == 0 || strcmp(m, "sse2") == 0) return 0;
    if (strcmp(m, "avx2") == 0) return f & FV_CPU_AVX2;
    return f;
}

unsigned fv_cpu_features(void) {
    static int done;
    static unsigned feats;
    if (!done) {
        feats = detect();
        done = 1;
    }
    return cap(feats); /* the cap is read each time so tests can switch kernel sets */
}

const char *fv_cpu_level_name(void) {
    unsigned f = fv_cpu_features();
    if (f & FV_CPU_AVX512F) return "avx512";
    if (f & FV_CPU_AVX2) return "avx2";
    return "generic";
}
