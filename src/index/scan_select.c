/*
 * scan_select.c - picks the search kernel table once, at open, from fv_cpu_features() (which
 * honours FV_CPU_MAX) plus two AVX-512 extensions the core detection does not report: BW (byte
 * and word vectors, needed by the AVX-512 int8 kernel) and VNNI (vpdpbusd).
 *
 * Threading: thread-safe (cpuid only).
 */
#include "fairvisit/cpu.h"
#include "index-impl.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* Leaf 7 bits: EBX[30] AVX512BW, ECX[11] AVX512_VNNI. */
static void avx512_extensions(int *bw, int *vnni) {
    unsigned a, b, c, d;
    *bw = *vnni = 0;
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    *bw = (int)((b >> 30) & 1);
    *vnni = (int)((c >> 11) & 1);
}
#endif

const fv__index_kernels *fv__index_kernels_select(void) {
#if defined(__x86_64__)
    unsigned f = fv_cpu_features();
    if (f & FV_CPU_AVX512F) {
        int bw, vnni;
        avx512_extensions(&bw, &vnni);
        if (bw && vnni) return &fv__index_kernels_avx512vnni;
        if (bw) return &fv__index_kernels_avx512;
    }
    if (f & FV_CPU_AVX2) return &fv__index_kernels_avx2;
#endif
    return &fv__index_kernels_generic;
}
