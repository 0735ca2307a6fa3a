/*
 * scan_simd.c - the search kernels, written once with GCC/Clang vector extensions and compiled
 * once per instruction set (FV_INDEX_ISA: 1 generic/SSE2, 2 AVX2+FMA, 3 AVX-512F/BW,
 * 4 AVX-512F/BW + VNNI). The build gives each compilation its own -m flags; only the table the
 * running CPU supports is ever called (scan_select.c).
 *
 * Float: four rows per step against the query, two accumulators per row, so each query vector
 * loaded from L1 feeds four FMAs and eight independent chains hide FMA latency. A short last
 * step repeats its last row (and drops the extra results), so every row is computed by exactly
 * the same instruction sequence: a score never depends on where a scan starts or ends.
 *
 * Int8: exact int32 dot products. Generic/AVX2/AVX-512 widen to 16 bits and multiply-add pairs
 * (pmaddwd, from the compiler's dot-product idiom, on a query widened once to int16); the VNNI
 * variant uses vpdpbusd, which wants one unsigned operand: the row is flipped to unsigned (x ^ 0x80
 * = x + 128) and 128 * sum(q) is subtracted afterwards. Integer sums are exact, so every variant
 * returns the same values.
 *
 * Threading: reentrant; no state.
 */
#include "index-impl.h"

#ifndef FV_INDEX_ISA
#define FV_INDEX_ISA 1
#endif

#if FV_INDEX_ISA == 4
#include <immintrin.h>
#define VW    16
#define TABLE fv__index_kernels_avx512vnni
#define TNAME "avx512-vnni"
#elif FV_INDEX_ISA == 3
#define VW    16
#define TABLE fv__index_kernels_avx512
#define TNAME "avx512"
#elif FV_INDEX_ISA == 2
#define VW    8
#define TABLE fv__index_kernels_avx2
#define TNAME "avx2"
#else
#define VW    4
#define TABLE fv__index_kernels_generic
#define TNAME "generic"
#endif

_Static_assert(FV__INDEX_FLOAT_ALIGN % (2 * VW) == 0, "float rows must hold whole vector pairs");

typedef float vf __attribute__((vector_size(VW * 4), aligned(4), may_alias));

static inline vf vload(const float *p) {
    return *(const vf *)p;
}

static inline float hsum(vf v) {
    float s = 0.0f;
    for (int j = 0; j < VW; j++) s += v[j];
    return s;
}

static void scores_f32(const float *q, const float *x, size_t stride, size_t n, float *out) {
    for (size_t i = 0; i < n; i += 4) {
        size_t left = n - i;
        const float *r0 = x + i * stride;
        const float *r1 = left > 1 ? r0 + stride : r0;
        const float *r2 = left > 2 ? r1 + stride : r1;
        const float *r3 = left > 3 ? r2 + stride : r2;
        vf a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};
        for (size_t d = 0; d < stride; d += 2 * VW) {
            vf q0 = vload(q + d), q1 = vload(q + d + VW);
            a0 += q0 * vload(r0 + d);
            b0 += q1 * vload(r0 + d + VW);
            a1 += q0 * vload(r1 + d);
            b1 += q1 * vload(r1 + d + VW);
            a2 += q0 * vload(r2 + d);
            b2 += q1 * vload(r2 + d + VW);
            a3 += q0 * vload(r3 + d);
            b3 += q1 * vload(r3 + d + VW);
        }
        float s0 = hsum(a0 + b0), s1 = hsum(a1 + b1), s2 = hsum(a2 + b2), s3 = hsum(a3 + b3);
        out[i] = s0;
        if (left > 1) out[i + 1] = s1;
        if (left > 2) out[i + 2] = s2;
        if (left > 3) out[i + 3] = s3;
    }
}

#if FV_INDEX_ISA == 4
static inline int32_t hsum_epi32(__m512i v) {
    return _mm512_reduce_add_epi32(v);
}

static void scores_i8(const int8_t *q, const int16_t *q16, const int8_t *x, size_t stride, size_t n,
                      int32_t *out) {
    (void)q16;
    int32_t qsum = 0;
    for (size_t d = 0; d < stride; d++) qsum += q[d];
    const int32_t bias = 128 * qsum;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (size_t i = 0; i < n; i += 4) {
        size_t left = n - i;
        const int8_t *r0 = x + i * stride;
        const int8_t *r1 = left > 1 ? r0 + stride : r0;
        const int8_t *r2 = left > 2 ? r1 + stride : r1;
        const int8_t *r3 = left > 3 ? r2 + stride : r2;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t d = 0; d < stride; d += 64) {
            __m512i qv = _mm512_loadu_si512((const void *)(q + d));
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512((const void *)(r0 + d)) ^ flip, qv);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512((const void *)(r1 + d)) ^ flip, qv);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512((const void *)(r2 + d)) ^ flip, qv);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512((const void *)(r3 + d)) ^ flip, qv);
        }
        out[i] = hsum_epi32(a0) - bias;
        if (left > 1) out[i + 1] = hsum_epi32(a1) - bias;
        if (left > 2) out[i + 2] = hsum_epi32(a2) - bias;
        if (left > 3) out[i + 3] = hsum_epi32(a3) - bias;
    }
}
#else
static void scores_i8(const int8_t *q, const int16_t *q16, const int8_t *x, size_t stride, size_t n,
                      int32_t *out) {
    (void)q;
    for (size_t i = 0; i < n; i += 4) {
        size_t left = n - i;
        const int8_t *restrict r0 = x + i * stride;
        const int8_t *restrict r1 = left > 1 ? r0 + stride : r0;
        const int8_t *restrict r2 = left > 2 ? r1 + stride : r1;
        const int8_t *restrict r3 = left > 3 ? r2 + stride : r2;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        /* int16 query times sign-extended int8 row: the compiler's dot-product idiom, which
         * becomes widening multiply-adds (pmaddwd) on whole vectors. */
        for (size_t d = 0; d < stride; d++) {
            int16_t qv = q16[d];
            a0 += qv * (int16_t)r0[d];
            a1 += qv * (int16_t)r1[d];
            a2 += qv * (int16_t)r2[d];
            a3 += qv * (int16_t)r3[d];
        }
        out[i] = a0;
        if (left > 1) out[i + 1] = a1;
        if (left > 2) out[i + 2] = a2;
        if (left > 3) out[i + 3] = a3;
    }
}
#endif

const fv__index_kernels TABLE = {TNAME, scores_f32, scores_i8};
