/*
 * kernels_select.c - picks the kernel table for this CPU once, from fv_cpu_features().
 */
#include "kernels.h"

#include "fairvisit/cpu.h"

const fv__kernels *fv__kernels_select(void) {
#if defined(__x86_64__)
    unsigned f = fv_cpu_features();
    if (f & FV_CPU_AVX512F) return &fv__kernels_avx512;
    if (f & FV_CPU_AVX2) return &fv__kernels_avx2;
#endif
    return &fv__kernels_generic;
}
