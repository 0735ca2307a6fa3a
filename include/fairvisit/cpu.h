/*
 * fairvisit/cpu.h - what the CPU can do, detected once, for picking kernels at open time.
 *
 *     if (fv_cpu_features() & FV_CPU_AVX512F) ...
 *
 * The environment variable FV_CPU_MAX=avx2|sse2|generic caps what is reported, so every kernel
 * variant can be tested on one machine. Thread safety: thread-safe (the first call may race
 * harmlessly; every racer computes the same value).
 */
#ifndef FAIRVISIT_CPU_H
#define FAIRVISIT_CPU_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
    FV_CPU_AVX2 = 1u << 0,    /* AVX2 + FMA, OS saves YMM state */
    FV_CPU_AVX512F = 1u << 1, /* AVX-512 F, OS saves ZMM state */
};

unsigned fv_cpu_features(void);
/* "avx512", "avx2" or "generic": the best level fv_cpu_features() allows. */
const char *fv_cpu_level_name(void);

#ifdef __cplusplus
}
#endif
#endif
