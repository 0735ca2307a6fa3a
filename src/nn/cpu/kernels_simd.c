/*
 * kernels_simd.c - the fast kernels, written once with GCC/Clang vector extensions and compiled
 * once per instruction set (FV_KERNEL_ISA: 1 generic/SSE2, 2 AVX2+FMA, 3 AVX-512F). The build
 * gives each compilation its own -m flags; only the table matching the running CPU is ever called.
 *
 * GEMM micro-kernel: an MR x (2*VW) tile of C held in 2*MR vector registers; per k it loads two
 * vectors of packed B and broadcasts MR values of packed A (outer-product form, no reductions).
 * MR is chosen so accumulators + operands fit the register file (16 registers for SSE/AVX2,
 * 32 for AVX-512).
 */
#include "kernels.h"

#include <string.h>

#ifndef FV_KERNEL_ISA
#define FV_KERNEL_ISA 1
#endif

#if FV_KERNEL_ISA == 3
#define VW    16
#define MR    8
#define TABLE fv__kernels_avx512
#define TNAME "avx512"
#elif FV_KERNEL_ISA == 2
#define VW    8
#define MR    6
#define TABLE fv__kernels_avx2
#define TNAME "avx2"
#else
#define VW    4
#define MR    6
#define TABLE fv__kernels_generic
#define TNAME "generic"
#endif
#define NR (2 * VW)

typedef float vf __attribute__((vector_size(VW * 4), aligned(4), may_alias));
typedef int vi __attribute__((vector_size(VW * 4), aligned(4), may_alias));

enum { ACT_NONE = 0, ACT_RELU = 1, ACT_PRELU = 2 };

static inline vf vload(const float *p) {
    return *(const vf *)p;
}
static inline void vstore(float *p, vf v) {
    *(vf *)p = v;
}
static inline vf vsplat(float x) {
    /* The scalar operand is broadcast; x - 0 folds to x for every x (x + 0 would not for -0),
     * so this compiles to a single vbroadcastss. */
    return x - (vf){0};
}
static inline vf vact(vf v, int act, float slope) {
    if (act == ACT_NONE) return v;
    vi pos = v > vsplat(0.0f);
    if (act == ACT_RELU) return (vf)((vi)v & pos);
    vf neg = v * vsplat(slope);
    return (vf)(((vi)v & pos) | ((vi)neg & ~pos));
}

static inline void store_row(float *dst, vf v0, vf v1, int cols) {
    if (cols == NR) {
        vstore(dst, v0);
        vstore(dst + VW, v1);
    } else {
        float tmp[NR];
        vstore(tmp, v0);
        vstore(tmp + VW, v1);
        memcpy(dst, tmp, (size_t)cols * sizeof(float));
    }
}

/* Narrow tiles (cols <= VW): one vector of B per k, so small outputs waste no lanes. */
static void gemm_tile_narrow(int k, const float *restrict a, const float *restrict b, size_t ldb,
                             float *restrict c, size_t ldc, int rows, int cols, const float *bias,
                             int act, const float *slope) {
    vf acc[MR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) acc[r] = vsplat(0.0f);
    for (int p = 0; p < k; p++) {
        vf b0 = vload(b);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) acc[r] += vsplat(a[r]) * b0;
        a += MR;
        b += ldb;
    }
    for (int r = 0; r < rows; r++) {
        float s = act == ACT_PRELU ? slope[r] : 0.0f;
        vf v = vact(acc[r] + vsplat(bias[r]), act, s);
        store_row(c + (size_t)r * ldc, v, v, cols);
    }
}

static void gemm_tile(int k, const float *restrict a, const float *restrict b, size_t ldb,
                      float *restrict c, size_t ldc, int rows, int cols, const float *bias, int act,
                      const float *slope) {
    if (cols <= VW) {
        gemm_tile_narrow(k, a, b, ldb, c, ldc, rows, cols, bias, act, slope);
        return;
    }
    vf acc0[MR], acc1[MR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        acc0[r] = vsplat(0.0f);
        acc1[r] = vsplat(0.0f);
    }
    for (int p = 0; p < k; p++) {
        vf b0 = vload(b), b1 = vload(b + VW);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            vf av = vsplat(a[r]);
            acc0[r] += av * b0;
            acc1[r] += av * b1;
        }
        a += MR;
        b += ldb;
    }
    for (int r = 0; r < rows; r++) {
        vf bv = vsplat(bias[r]);
        float s = act == ACT_PRELU ? slope[r] : 0.0f;
        store_row(c + (size_t)r * ldc, vact(acc0[r] + bv, act, s), vact(acc1[r] + bv, act, s),
                  cols);
    }
}

/* 3x3 taps: one pass per output row, nine FMAs per vector, whole-vector reads into the slack. */
static void dw3x3(const float *plane, size_t phase_len, int s, int oh, int ow, int sh, int dh,
                  int dw, const float *w, float bias, int act, float slope, float *out) {
    size_t row_len = (size_t)s * phase_len;
    size_t co[3];
    for (int kx = 0; kx < 3; kx++) {
        int col = kx * dw;
        co[kx] = (size_t)(col % s) * phase_len + (size_t)(col / s);
    }
    vf wv[9];
    for (int i = 0; i < 9; i++) wv[i] = vsplat(w[i]);
    vf bv = vsplat(bias);
    for (int oy = 0; oy < oh; oy++) {
        const float *r0 = plane + (size_t)(oy * sh) * row_len;
        const float *r1 = r0 + (size_t)dh * row_len, *r2 = r1 + (size_t)dh * row_len;
        float *o = out + (size_t)oy * (size_t)ow;
        for (int x = 0; x < ow; x += VW) {
            vf acc = bv;
            acc += wv[0] * vload(r0 + co[0] + x);
            acc += wv[1] * vload(r0 + co[1] + x);
            acc += wv[2] * vload(r0 + co[2] + x);
            acc += wv[3] * vload(r1 + co[0] + x);
            acc += wv[4] * vload(r1 + co[1] + x);
            acc += wv[5] * vload(r1 + co[2] + x);
            acc += wv[6] * vload(r2 + co[0] + x);
            acc += wv[7] * vload(r2 + co[1] + x);
            acc += wv[8] * vload(r2 + co[2] + x);
            acc = vact(acc, act, slope);
            if (x + VW <= ow) {
                vstore(o + x, acc);
            } else {
                float tmp[VW];
                vstore(tmp, acc);
                memcpy(o + x, tmp, (size_t)(ow - x) * sizeof(float));
            }
        }
    }
}

static void dw_flat(const float *buf, const int64_t *off, const float *w, int taps, size_t len,
                    float bias, int act, float slope, float *out) {
    vf bv = vsplat(bias);
    size_t i = 0;
    for (; i + 2 * VW <= len + VW - 1 && i + VW < len; i += 2 * VW) {
        vf a0 = bv, a1 = bv;
        for (int t = 0; t < taps; t++) {
            vf wv = vsplat(w[t]);
            const float *src = buf + off[t] + i;
            a0 += wv * vload(src);
            a1 += wv * vload(src + VW);
        }
        vstore(out + i, vact(a0, act, slope));
        vstore(out + i + VW, vact(a1, act, slope));
    }
    for (; i < len; i += VW) {
        vf acc = bv;
        for (int t = 0; t < taps; t++) acc += vsplat(w[t]) * vload(buf + off[t] + i);
        vstore(out + i, vact(acc, act, slope));
    }
}

static void dw_channel(const float *plane, int phase_len, int s, int oh, int ow, int sh, int kh,
                       int kw, int dh, int dw, const float *w, float bias, int act, float slope,
                       float *out) {
    if (kh == 3 && kw == 3) {
        dw3x3(plane, (size_t)phase_len, s, oh, ow, sh, dh, dw, w, bias, act, slope, out);
        return;
    }
    size_t row_len = (size_t)s * (size_t)phase_len;
    for (int oy = 0; oy < oh; oy++) {
        float *restrict o = out + (size_t)oy * (size_t)ow;
        for (int x = 0; x < ow; x++) o[x] = bias;
        for (int ky = 0; ky < kh; ky++) {
            const float *r = plane + (size_t)(oy * sh + ky * dh) * row_len;
            for (int kx = 0; kx < kw; kx++) {
                int col = kx * dw;
                const float *restrict src = r + (size_t)(col % s) * (size_t)phase_len + col / s;
                float wv = w[ky * kw + kx];
                for (int x = 0; x < ow; x++) o[x] += wv * src[x];
            }
        }
        if (act == ACT_RELU) {
            for (int x = 0; x < ow; x++) o[x] = o[x] > 0.0f ? o[x] : 0.0f;
        } else if (act == ACT_PRELU) {
            for (int x = 0; x < ow; x++) o[x] = o[x] > 0.0f ? o[x] : o[x] * slope;
        }
    }
}

static void dw_block(const float *in, int pw, int oh, int ow, int sh, int sw, int kh, int kw,
                     int dh, int dw, const float *w, const float *bias, int act, const float *slope,
                     float *out) {
    vf bv = vload(bias), sv = vload(slope), zero = vsplat(0.0f);
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            vf acc = bv;
            const float *wp = w;
            for (int ky = 0; ky < kh; ky++) {
                const float *row =
                    in + ((size_t)(oy * sh + ky * dh) * (size_t)pw + (size_t)(ox * sw)) * VW;
                for (int kx = 0; kx < kw; kx++, wp += VW)
                    acc += vload(wp) * vload(row + (size_t)(kx * dw) * VW);
            }
            if (act != ACT_NONE) {
                vi pos = acc > zero;
                vf neg = acc * sv; /* slope is zero for Relu */
                acc = (vf)(((vi)acc & pos) | ((vi)neg & ~pos));
            }
            vstore(out + ((size_t)oy * (size_t)ow + (size_t)ox) * VW, acc);
        }
    }
}

static float dot(const float *a, const float *b, size_t n) {
    vf acc0 = vsplat(0.0f), acc1 = vsplat(0.0f);
    size_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        acc0 += vload(a + i) * vload(b + i);
        acc1 += vload(a + i + VW) * vload(b + i + VW);
    }
    acc0 += acc1;
    float s = 0.0f;
    for (int j = 0; j < VW; j++) s += acc0[j];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy(float a, const float *restrict x, float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

const fv__kernels TABLE = {
    TNAME, MR, NR, gemm_tile, dw_channel, dw_flat, dw_block, VW, dot, axpy,
};
