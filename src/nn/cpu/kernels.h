/*
 * kernels.h - the table of CPU kernels, one instance per instruction set, picked once at open.
 *
 * kernels_simd.c is compiled once per instruction set (generic, AVX2+FMA, AVX-512F) with
 * FV_KERNEL_ISA set; each compilation defines one fv__kernels table. fv__kernels_select() picks
 * the best one fv_cpu_features() allows. The plain C reference for every operator lives in the
 * op_*.c files; these kernels are the fast paths and are tested against it.
 *
 * GEMM layout: A (weights, M x K) is packed once at prepare into ceil(M/mr) panels of K x mr
 * floats (zero-padded rows); B (activations, K x N) is packed per call into panels of K x nr
 * floats (zero-padded columns), or read in place when it already has nr readable columns per row
 * (1x1 convolutions): row p of B starts at b + p*ldb. gemm_tile computes one mr x nr tile of
 * C = A*B, adds a per-row bias and applies the fused activation, writing `rows` x `cols` of it
 * (partial tiles at edges; with cols <= nr/2 only the first half of B's columns is read).
 *
 * Threading: every kernel is reentrant; callers give each thread its own scratch.
 */
#ifndef FAIRVISIT_NN_KERNELS_H
#define FAIRVISIT_NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Floats of slack after each phase of a depthwise plane, so kernels may read whole vectors. */
#define FV_DW_SLACK 16

typedef struct fv__kernels {
    const char *name;
    int mr, nr;
    void (*gemm_tile)(int k, const float *a_panel, const float *b, size_t ldb, float *c, size_t ldc,
                      int rows, int cols, const float *bias, int act, const float *slope);
    /*
     * One depthwise output channel from a padded input plane stored as `s` column phases per row
     * (phase q of a padded row holds its columns q, q+s, q+2s...; each phase is phase_len floats,
     * a row is s*phase_len floats, the last FV_DW_SLACK of each phase readable padding).
     * Writes oh x ow floats to out, with bias and activation.
     */
    void (*dw_channel)(const float *plane, int phase_len, int s, int oh, int ow, int sh, int kh,
                       int kw, int dh, int dw, const float *w, float bias, int act, float slope,
                       float *out);
    /*
     * Depthwise conv of one channel over a flattened, phase-split padded plane: out[i] = bias +
     * sum over taps t of w[t] * buf[off[t] + i], for i in [0, len) rounded up to whole vectors
     * (out must have room), then the activation. The caller picks the valid outputs.
     */
    void (*dw_flat)(const float *buf, const int64_t *off, const float *w, int taps, size_t len,
                    float bias, int act, float slope, float *out);
    /*
     * Depthwise conv on a block of vw channels stored channel-innermost: in is [ph][pw][vw]
     * (padding included), w is [kh*kw][vw], bias and slope are [vw]; out is [oh][ow][vw].
     * For small planes, where one channel per vector would leave lanes idle.
     */
    void (*dw_block)(const float *in, int pw, int oh, int ow, int sh, int sw, int kh, int kw,
                     int dh, int dw, const float *w, const float *bias, int act, const float *slope,
                     float *out);
    int vw; /* floats per vector: the channel block of dw_block */
    float (*dot)(const float *a, const float *b, size_t n);
    void (*axpy)(float a, const float *x, float *y, size_t n); /* y += a*x */
} fv__kernels;

extern const fv__kernels fv__kernels_generic;
#if defined(__x86_64__)
extern const fv__kernels fv__kernels_avx2;
extern const fv__kernels fv__kernels_avx512;
#endif

/* The best table for this CPU (honours FV_CPU_MAX). */
const fv__kernels *fv__kernels_select(void);

#endif
