/*
 * op_conv.c - ONNX Conv (1-D and 2-D; groups, depthwise, pads, auto_pad, strides, dilations).
 *
 * Three paths, chosen once at prepare:
 *   - GEMM: per group, C[M/g x OH*OW] = A[M/g x K] * B[K x OH*OW], K = C/g*kh*kw. A (weights,
 *     with any BatchNormalization folded in) is repacked at prepare for the kernel table's tile;
 *     B is packed panel by panel straight from the input (im2col on the fly; plain copy for 1x1).
 *   - DEPTHWISE (group == C == M): each channel's padded plane is laid out by column phase so
 *     the kernel reads contiguous rows for any stride.
 *   - REFERENCE: the direct 7-loop definition, used as the oracle in tests.
 * Bias and the fused activation (Relu/PRelu) are applied in the kernels' epilogues.
 * Threading: GEMM panels and depthwise channels are spread over the model's pool; each thread
 * packs into its own slice of the scratch buffer.
 */
#include <math.h>
#include <string.h>

#include "nn-impl.h"

/* Widest output row for the flat depthwise path (wider rows use the row path). */
#define FLAT_MAX_W 15
static size_t plane_phase_len(const fv__conv_params *p);
static size_t plane_floats(const fv__conv_params *p);

/*
 * Flat depthwise geometry: the padded plane (PH x PW) is split into sh*sw phase sub-planes of
 * H2 x W2 (sub-plane (a, b) holds padded rows a, a+sh, ... and columns b, b+sw, ...), so that
 * output (oy, ox) reads sub-plane element (oy + r/sh, ox + c/sw) for tap offset (r, c): a
 * constant offset from oy*W2 + ox. All output rows are computed as one flat run of oh*W2.
 */
typedef struct flat_geom {
    size_t h2, w2, sub_len, buf_floats, out_len, out_floats;
} flat_geom;

static void flat_geometry(const fv__conv_params *p, int vw, flat_geom *g) {
    size_t ph = (size_t)p->ih + (size_t)p->pad_t + (size_t)p->pad_b;
    size_t pw = (size_t)p->iw + (size_t)p->pad_l + (size_t)p->pad_r;
    g->h2 = (ph + (size_t)p->sh - 1) / (size_t)p->sh;
    g->w2 = (pw + (size_t)p->sw - 1) / (size_t)p->sw;
    g->sub_len = g->h2 * g->w2;
    g->out_len = (size_t)p->oh * g->w2;
    /* reads reach out_len rounded up to two vectors past the largest tap offset */
    g->buf_floats = (size_t)p->sh * (size_t)p->sw * g->sub_len + g->w2 + 2 * (size_t)vw + 16;
    g->out_floats = g->out_len + 2 * (size_t)vw;
}

static int pad_attr(fv_nn_model *m, fv__node *n, int spatial, int *pads) {
    const fv__attr *a = fv__attr_get(n, "pads");
    for (int i = 0; i < 4; i++) pads[i] = 0;
    if (a == NULL) return 0;
    if (a->type != FV_AT_INTS || a->n != 2 * spatial) {
        fv__node_fail(m, n, FV_ERR_FORMAT, "'pads' must hold %d integers", 2 * spatial);
        return -1;
    }
    for (int i = 0; i < a->n; i++) {
        if (a->ints[i] < 0 || a->ints[i] > 4096) {
            fv__node_fail(m, n, FV_ERR_FORMAT, "pad %lld out of range", (long long)a->ints[i]);
            return -1;
        }
    }
    if (spatial == 2) {
        pads[0] = (int)a->ints[0];
        pads[1] = (int)a->ints[1];
        pads[2] = (int)a->ints[2];
        pads[3] = (int)a->ints[3];
    } else {
        pads[1] = (int)a->ints[0];
        pads[3] = (int)a->ints[1];
    }
    return 0;
}

static int pair_attr(fv_nn_model *m, fv__node *n, const char *name, int spatial, int *out2, int lo,
                     int hi) {
    const fv__attr *a = fv__attr_get(n, name);
    out2[0] = out2[1] = 1;
    if (a == NULL) return 0;
    if (a->type != FV_AT_INTS || a->n != spatial) {
        fv__node_fail(m, n, FV_ERR_FORMAT, "'%s' must hold %d integers", name, spatial);
        return -1;
    }
    for (int i = 0; i < a->n; i++) {
        if (a->ints[i] < lo || a->ints[i] > hi) {
            fv__node_fail(m, n, FV_ERR_FORMAT, "'%s' value %lld out of range [%d, %d]", name,
                          (long long)a->ints[i], lo, hi);
            return -1;
        }
    }
    if (spatial == 2) {
        out2[0] = (int)a->ints[0];
        out2[1] = (int)a->ints[1];
    } else {
        out2[1] = (int)a->ints[0];
    }
    return 0;
}

fv_status fv__op_conv_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in < 2 || n->n_in > 3 || n->n_out != 1 || !fv__has_in(n, 0) || !fv__has_in(n, 1))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects inputs X, W[, B] and one output");
    fv__tensor *x = fv__in(m, n, 0), *w = fv__in(m, n, 1);
    fv__tensor *b = fv__has_in(n, 2) ? fv__in(m, n, 2) : NULL;
    if (x->dtype != FV_DT_FLOAT || w->dtype != FV_DT_FLOAT || (b && b->dtype != FV_DT_FLOAT))
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "only float32 is supported");
    if (x->ndim != 4 && x->ndim != 3)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "input must be 3-D or 4-D, got %d-D", x->ndim);
    if (w->kind != FV_TK_CONST || (b && b->kind != FV_TK_CONST))
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "weights and bias must be constant");
    int spatial = x->ndim - 2;
    if (w->ndim != x->ndim)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "weights are %d-D for a %d-D input", w->ndim,
                             x->ndim);
    fv__conv_params *p = &n->conv;
    int64_t group = fv__attr_int(n, "group", 1);
    if (group < 1 || group > (1 << 20))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "group %lld out of range", (long long)group);
    p->group = (int)group;
    p->batch = (int)x->dims[0];
    p->cin = (int)x->dims[1];
    p->cout = (int)w->dims[0];
    p->ih = spatial == 2 ? (int)x->dims[2] : 1;
    p->iw = (int)x->dims[x->ndim - 1];
    p->kh = spatial == 2 ? (int)w->dims[2] : 1;
    p->kw = (int)w->dims[w->ndim - 1];
    if (x->dims[1] > (1 << 20) || w->dims[0] > (1 << 20) || x->dims[x->ndim - 1] > (1 << 20) ||
        (spatial == 2 && x->dims[2] > (1 << 20)) || w->dims[w->ndim - 1] > 4096 ||
        (spatial == 2 && w->dims[2] > 4096))
        return fv__node_fail(m, n, FV_ERR_LIMIT, "dimensions too large");
    if (p->cin % p->group != 0 || p->cout % p->group != 0 || w->dims[1] * group != x->dims[1])
        return fv__node_fail(m, n, FV_ERR_SHAPE,
                             "%d input channels, %d output channels and group %d do not match "
                             "weights [%lld, %lld, ...]",
                             p->cin, p->cout, p->group, (long long)w->dims[0],
                             (long long)w->dims[1]);
    if (b && (b->ndim != 1 || b->dims[0] != p->cout))
        return fv__node_fail(m, n, FV_ERR_SHAPE, "bias must have %d elements", p->cout);
    const fv__attr *ks = fv__attr_get(n, "kernel_shape");
    if (ks && (ks->type != FV_AT_INTS || ks->n != spatial ||
               (spatial == 2 && (ks->ints[0] != p->kh || ks->ints[1] != p->kw)) ||
               (spatial == 1 && ks->ints[0] != p->kw)))
        return fv__node_fail(m, n, FV_ERR_SHAPE, "kernel_shape disagrees with the weights");
    int st2[2], dl[2], pads[4];
    if (pair_attr(m, n, "strides", spatial, st2, 1, 4096) ||
        pair_attr(m, n, "dilations", spatial, dl, 1, 4096) || pad_attr(m, n, spatial, pads))
        return FV_ERR_FORMAT;
    p->sh = st2[0];
    p->sw = st2[1];
    p->dh = dl[0];
    p->dw = dl[1];
    const fv__attr *ap = fv__attr_get(n, "auto_pad");
    p->auto_pad = 0;
    if (ap && ap->s) {
        if (strcmp(ap->s, "SAME_UPPER") == 0)
            p->auto_pad = 1;
        else if (strcmp(ap->s, "SAME_LOWER") == 0)
            p->auto_pad = 2;
        else if (strcmp(ap->s, "VALID") == 0)
            p->auto_pad = 3;
        else if (strcmp(ap->s, "NOTSET") != 0 && ap->s[0] != '\0')
            return fv__node_fail(m, n, FV_ERR_FORMAT, "unknown auto_pad value");
    }
    int64_t ekh = (int64_t)(p->kh - 1) * p->dh + 1, ekw = (int64_t)(p->kw - 1) * p->dw + 1;
    int64_t oh, ow;
    if (p->auto_pad == 1 || p->auto_pad == 2) {
        oh = (p->ih + p->sh - 1) / p->sh;
        ow = (p->iw + p->sw - 1) / p->sw;
        int64_t ph = (oh - 1) * p->sh + ekh - p->ih, pw = (ow - 1) * p->sw + ekw - p->iw;
        if (ph < 0) ph = 0;
        if (pw < 0) pw = 0;
        int64_t small_h = ph / 2, small_w = pw / 2;
        pads[0] = (int)(p->auto_pad == 1 ? small_h : ph - small_h);
        pads[2] = (int)(ph - pads[0]);
        pads[1] = (int)(p->auto_pad == 1 ? small_w : pw - small_w);
        pads[3] = (int)(pw - pads[1]);
    } else if (p->auto_pad == 3) {
        pads[0] = pads[1] = pads[2] = pads[3] = 0;
    }
    p->pad_t = pads[0];
    p->pad_l = pads[1];
    p->pad_b = pads[2];
    p->pad_r = pads[3];
    oh = ((int64_t)p->ih + p->pad_t + p->pad_b - ekh) / p->sh + 1;
    ow = ((int64_t)p->iw + p->pad_l + p->pad_r - ekw) / p->sw + 1;
    if ((int64_t)p->ih + p->pad_t + p->pad_b < ekh || (int64_t)p->iw + p->pad_l + p->pad_r < ekw ||
        oh < 1 || ow < 1)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "kernel %dx%d does not fit input %dx%d", p->kh,
                             p->kw, p->ih, p->iw);
    p->oh = (int)oh;
    p->ow = (int)ow;
    int64_t dims[4] = {x->dims[0], p->cout, oh, ow};
    if (spatial == 1) dims[2] = ow;
    p->path = FV_CONV_PATH_REFERENCE;
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, x->ndim, dims);
}

/* ---- weights: copy, fold BatchNormalization, repack ---------------------------------------- */

fv_status fv__conv_fold_bn(fv_nn_model *m, fv__node *c, const fv__node *bn) {
    fv__conv_params *p = &c->conv;
    const fv__tensor *sc = fv__in(m, bn, 1), *bb = fv__in(m, bn, 2), *mean = fv__in(m, bn, 3),
                     *var = fv__in(m, bn, 4);
    if (sc->numel != (size_t)p->cout || bb->numel != (size_t)p->cout ||
        mean->numel != (size_t)p->cout || var->numel != (size_t)p->cout)
        return fv__node_fail(m, bn, FV_ERR_SHAPE, "parameters must have %d elements", p->cout);
    double eps = fv__attr_float(bn, "epsilon", 1e-5f);
    size_t per = (size_t)(p->cin / p->group) * (size_t)p->kh * (size_t)p->kw;
    const float *g = sc->data, *be = bb->data, *mu = mean->data, *v = var->data;
    for (int o = 0; o < p->cout; o++) {
        double s = g[o] / sqrt((double)v[o] + eps);
        for (size_t k = 0; k < per; k++)
            p->weight[o * per + k] = (float)(p->weight[o * per + k] * s);
        p->bias[o] = (float)((p->bias[o] - mu[o]) * s + be[o]);
    }
    return FV_OK;
}

fv_status fv__conv_finalize(fv_nn_model *m, fv__node *n) {
    fv__conv_params *p = &n->conv;
    const fv__tensor *w = fv__in(m, n, 1);
    size_t per = (size_t)(p->cin / p->group) * (size_t)p->kh * (size_t)p->kw;
    p->weight = fv_aligned_alloc(w->numel * sizeof(float));
    p->bias = fv_aligned_alloc((size_t)p->cout * sizeof(float));
    if (p->weight == NULL || p->bias == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    memcpy(p->weight, w->data, w->numel * sizeof(float));
    if (fv__has_in(n, 2)) {
        memcpy(p->bias, fv__in(m, n, 2)->data, (size_t)p->cout * sizeof(float));
    } else {
        memset(p->bias, 0, (size_t)p->cout * sizeof(float));
    }
    if (p->bn_node >= 0) {
        fv_status st = fv__conv_fold_bn(m, n, &m->nodes[p->bn_node]);
        if (st != FV_OK) return st;
    }
    bool use_planes = false;
    if (p->group == 1 && (p->kh > 1 || p->kw > 1)) {
        /* padded, phase-split copies of the input channels make every im2col row of a panel
         * a contiguous copy: no bounds checks, no strided gathers */
        size_t bytes;
        use_planes = fv_size_mul((size_t)p->cin, plane_floats(p) * sizeof(float), &bytes) &&
                     bytes <= ((size_t)16 << 20);
    }
    if (p->group == p->cin && p->group == p->cout && p->group > 1 && p->oh == 1 && p->ow == 1 &&
        p->kh == p->ih && p->kw == p->iw && p->pad_t == 0 && p->pad_l == 0) {
        /* the window covers the whole plane: one dot product per channel */
        p->path = FV_CONV_PATH_DEPTHWISE_DOT;
        return FV_OK;
    }
    if (p->group == p->cin && p->group == p->cout && p->group > 1 && p->ow <= FLAT_MAX_W &&
        p->sh == 1 && p->sw == 1) {
        p->path = FV_CONV_PATH_DEPTHWISE_FLAT;
        flat_geom g;
        flat_geometry(p, m->k->vw, &g);
        n->scratch = (g.buf_floats + g.out_floats) * sizeof(float);
        /* tap offsets into the phase-split buffer, computed once */
        size_t taps = (size_t)p->kh * (size_t)p->kw;
        n->ints = fv_malloc(taps * sizeof(int64_t));
        if (n->ints == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
        n->n_ints = (int)taps;
        size_t t = 0;
        for (int ky = 0; ky < p->kh; ky++) {
            for (int kx = 0; kx < p->kw; kx++) {
                size_t r = (size_t)ky * (size_t)p->dh, q = (size_t)kx * (size_t)p->dw;
                n->ints[t++] = (int64_t)(((r % (size_t)p->sh) * (size_t)p->sw + q % (size_t)p->sw) *
                                             g.sub_len +
                                         (r / (size_t)p->sh) * g.w2 + q / (size_t)p->sw);
            }
        }
        return FV_OK;
    }
    if (p->group == p->cin && p->group == p->cout && p->group > 1 && p->ow < 16) {
        /* small planes: blocks of vw channels, channel-innermost */
        p->path = FV_CONV_PATH_DEPTHWISE_BLOCK;
        size_t ph = (size_t)p->ih + (size_t)p->pad_t + (size_t)p->pad_b;
        size_t pw = (size_t)p->iw + (size_t)p->pad_l + (size_t)p->pad_r;
        size_t floats =
            (ph * pw + (size_t)p->kh * (size_t)p->kw + 2 + (size_t)p->oh * (size_t)p->ow) *
            (size_t)m->k->vw;
        n->scratch = floats * sizeof(float);
        return FV_OK;
    }
    if (p->group == p->cin && p->group == p->cout && p->group > 1) {
        p->path = FV_CONV_PATH_DEPTHWISE;
        n->scratch = plane_floats(p) * sizeof(float);
        return FV_OK;
    }
    p->path = FV_CONV_PATH_GEMM;
    int mr = m->k->mr, nr = m->k->nr;
    int mg = p->cout / p->group;
    size_t tiles = (size_t)(mg + mr - 1) / (size_t)mr;
    size_t group_floats = tiles * per * (size_t)mr;
    p->packed = fv_aligned_alloc(group_floats * (size_t)p->group * sizeof(float));
    if (p->packed == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    for (int g = 0; g < p->group; g++) {
        float *dst = p->packed + (size_t)g * group_floats;
        for (size_t t = 0; t < tiles; t++) {
            for (size_t k = 0; k < per; k++) {
                for (int r = 0; r < mr; r++) {
                    size_t row = t * (size_t)mr + (size_t)r;
                    dst[(t * per + k) * (size_t)mr + (size_t)r] =
                        row < (size_t)mg ? p->weight[((size_t)g * (size_t)mg + row) * per + k]
                                         : 0.0f;
                }
            }
        }
    }
    /* B panel (K x nr floats) plus the panel's output coordinates for im2col. */
    n->scratch = per * (size_t)nr * sizeof(float) + (size_t)nr * 2 * sizeof(int) + 64;
    if (use_planes) {
        /* thread 0's region starts with the shared planes; each thread's panel follows them */
        p->path = FV_CONV_PATH_GEMM_PLANES;
        n->scratch += (size_t)p->cin * plane_floats(p) * sizeof(float);
    }
    return FV_OK;
}

/* ---- reference ----------------------------------------------------------------------------- */

static float act1(float v, int act, float slope) {
    if (act == FV_ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (act == FV_ACT_PRELU) return v > 0.0f ? v : v * slope;
    return v;
}

static void conv_reference(const fv__node *n, const float *x, float *y) {
    const fv__conv_params *p = &n->conv;
    int cg = p->cin / p->group, mg = p->cout / p->group;
    for (int b = 0; b < p->batch; b++) {
        for (int o = 0; o < p->cout; o++) {
            int g = o / mg;
            const float *wo = p->weight + (size_t)o * (size_t)cg * (size_t)p->kh * (size_t)p->kw;
            float slope = n->act == FV_ACT_PRELU ? n->act_slope[o] : 0.0f;
            for (int oy = 0; oy < p->oh; oy++) {
                for (int ox = 0; ox < p->ow; ox++) {
                    double acc = p->bias[o];
                    for (int c = 0; c < cg; c++) {
                        const float *xc = x + (((size_t)b * (size_t)p->cin + (size_t)(g * cg + c)) *
                                               (size_t)p->ih * (size_t)p->iw);
                        for (int ky = 0; ky < p->kh; ky++) {
                            int iy = oy * p->sh - p->pad_t + ky * p->dh;
                            if (iy < 0 || iy >= p->ih) continue;
                            for (int kx = 0; kx < p->kw; kx++) {
                                int ix = ox * p->sw - p->pad_l + kx * p->dw;
                                if (ix < 0 || ix >= p->iw) continue;
                                acc += (double)wo[((size_t)c * (size_t)p->kh + (size_t)ky) *
                                                      (size_t)p->kw +
                                                  (size_t)kx] *
                                       xc[(size_t)iy * (size_t)p->iw + (size_t)ix];
                            }
                        }
                    }
                    y[(((size_t)b * (size_t)p->cout + (size_t)o) * (size_t)p->oh + (size_t)oy) *
                          (size_t)p->ow +
                      (size_t)ox] = act1((float)acc, n->act, slope);
                }
            }
        }
    }
}

/* ---- GEMM path ----------------------------------------------------------------------------- */

typedef struct conv_job {
    fv_nn_model *m;
    const fv__node *n;
    const float *x; /* this batch item, this group's first input channel */
    float *y;       /* this batch item, this group's first output channel */
    int g;
    bool direct_b;       /* B is the input itself (1x1, stride 1, no padding) */
    const float *planes; /* GEMM_PLANES: the padded input planes (in thread 0's scratch) */
    size_t planes_bytes; /* offset of each thread's panel within its scratch region */
} conv_job;

static bool is_pointwise(const fv__conv_params *p) {
    return p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pad_t == 0 && p->pad_l == 0 &&
           p->pad_b == 0 && p->pad_r == 0;
}

static void pack_b(const fv__conv_params *p, const float *x, int j0, int cols, int nr, float *panel,
                   int *coords) {
    size_t npix = (size_t)p->oh * (size_t)p->ow;
    int cg = p->cin / p->group;
    if (is_pointwise(p)) {
        for (int c = 0; c < cg; c++) {
            float *dst = panel + (size_t)c * (size_t)nr;
            memcpy(dst, x + (size_t)c * npix + (size_t)j0, (size_t)cols * sizeof(float));
            for (int t = cols; t < nr; t++) dst[t] = 0.0f;
        }
        return;
    }
    (void)coords;
    /* Split the panel into runs of output positions on the same output row: along a run the
     * input columns advance by the stride, so each (c, ky, kx) row of the panel is a strided
     * copy with zeros where the kernel window hangs over the padding. */
    size_t plane = (size_t)p->ih * (size_t)p->iw;
    for (int t0 = 0; t0 < cols;) {
        int j = j0 + t0;
        int oy = j / p->ow, ox0 = j % p->ow;
        int run = p->ow - ox0;
        if (run > cols - t0) run = cols - t0;
        size_t k = 0;
        for (int c = 0; c < cg; c++) {
            const float *xc = x + (size_t)c * plane;
            for (int ky = 0; ky < p->kh; ky++) {
                int iy = oy * p->sh - p->pad_t + ky * p->dh;
                bool row_ok = (unsigned)iy < (unsigned)p->ih;
                const float *xr = xc + (size_t)(row_ok ? iy : 0) * (size_t)p->iw;
                for (int kx = 0; kx < p->kw; kx++, k++) {
                    float *dst = panel + k * (size_t)nr + t0;
                    if (!row_ok) {
                        memset(dst, 0, (size_t)run * sizeof(float));
                        continue;
                    }
                    int ix0 = ox0 * p->sw - p->pad_l + kx * p->dw;
                    /* t in [lo, hi) has 0 <= ix0 + t*sw < iw */
                    int lo = ix0 >= 0 ? 0 : (-ix0 + p->sw - 1) / p->sw;
                    int hi = ix0 >= p->iw ? 0 : (p->iw - ix0 + p->sw - 1) / p->sw;
                    if (hi > run) hi = run;
                    if (lo > hi) lo = hi;
                    for (int t = 0; t < lo; t++) dst[t] = 0.0f;
                    if (p->sw == 1) {
                        memcpy(dst + lo, xr + ix0 + lo, (size_t)(hi - lo) * sizeof(float));
                    } else if (p->sw == 2) {
                        const float *src = xr + ix0;
                        for (int t = lo; t < hi; t++) dst[t] = src[2 * t]; /* vectorises */
                    } else {
                        const float *src = xr + ix0;
                        for (int t = lo; t < hi; t++) dst[t] = src[t * p->sw];
                    }
                    for (int t = hi; t < run; t++) dst[t] = 0.0f;
                }
            }
        }
        t0 += run;
    }
    if (cols < nr) {
        size_t K = (size_t)cg * (size_t)p->kh * (size_t)p->kw;
        for (size_t k = 0; k < K; k++)
            for (int t = cols; t < nr; t++) panel[k * (size_t)nr + t] = 0.0f;
    }
}

/* Packs panel columns [j0, j0 + cols) from padded phase planes: every row a contiguous run. */
static void pack_b_planes(const fv__conv_params *p, const float *planes, int j0, int cols, int nr,
                          float *panel) {
    size_t pf = plane_floats(p), phase_len = plane_phase_len(p);
    size_t row_len = (size_t)p->sw * phase_len;
    for (int t0 = 0; t0 < cols;) {
        int j = j0 + t0;
        int oy = j / p->ow, ox0 = j % p->ow;
        int run = p->ow - ox0;
        if (run > cols - t0) run = cols - t0;
        size_t k = 0;
        for (int c = 0; c < p->cin; c++) {
            const float *plane = planes + (size_t)c * pf;
            for (int ky = 0; ky < p->kh; ky++) {
                const float *row = plane + (size_t)(oy * p->sh + ky * p->dh) * row_len;
                for (int kx = 0; kx < p->kw; kx++, k++) {
                    int col = kx * p->dw;
                    const float *src =
                        row + (size_t)(col % p->sw) * phase_len + (size_t)(col / p->sw) + ox0;
                    float *dst = panel + k * (size_t)nr + t0;
                    for (int t = 0; t < run; t++) dst[t] = src[t];
                }
            }
        }
        t0 += run;
    }
    if (cols < nr) {
        size_t K = (size_t)p->cin * (size_t)p->kh * (size_t)p->kw;
        for (size_t k = 0; k < K; k++)
            for (int t = cols; t < nr; t++) panel[k * (size_t)nr + t] = 0.0f;
    }
}

static void conv_gemm_panel(void *ctx, int panel_index, int tid) {
    const conv_job *job = ctx;
    const fv__node *n = job->n;
    const fv__conv_params *p = &n->conv;
    const fv__kernels *k = job->m->k;
    int mr = k->mr, nr = k->nr;
    int N = p->oh * p->ow;
    int K = (p->cin / p->group) * p->kh * p->kw;
    int mg = p->cout / p->group;
    int j0 = panel_index * nr;
    int cols = N - j0 < nr ? N - j0 : nr;
    float *panel = (float *)((unsigned char *)job->m->scratch + (size_t)tid * job->m->scratch_size);
    int *coords = (int *)(panel + (size_t)K * (size_t)nr);
    /* 1x1 stride-1 unpadded convs read full-width B rows in place; others are packed. */
    const float *b = panel;
    size_t ldb = (size_t)nr;
    if (job->direct_b && cols == nr) {
        b = job->x + j0;
        ldb = (size_t)N;
    } else if (job->planes != NULL) {
        panel = (float *)((unsigned char *)panel + job->planes_bytes);
        pack_b_planes(p, job->planes, j0, cols, nr, panel);
        b = panel;
    } else {
        pack_b(p, job->x, j0, cols, nr, panel, coords);
    }
    size_t tiles = (size_t)(mg + mr - 1) / (size_t)mr;
    const float *a = p->packed + (size_t)job->g * tiles * (size_t)K * (size_t)mr;
    for (size_t t = 0; t < tiles; t++) {
        int row0 = (int)t * mr;
        int rows = mg - row0 < mr ? mg - row0 : mr;
        int o0 = job->g * mg + row0;
        k->gemm_tile(K, a + t * (size_t)K * (size_t)mr, b, ldb,
                     job->y + (size_t)row0 * (size_t)N + (size_t)j0, (size_t)N, rows, cols,
                     p->bias + o0, n->act, n->act == FV_ACT_PRELU ? n->act_slope + o0 : NULL);
    }
}

/* ---- depthwise path ------------------------------------------------------------------------ */

typedef struct dw_job {
    fv_nn_model *m;
    const fv__node *n;
    const float *x;
    float *y;
    flat_geom flat; /* flat path only */
} dw_job;

/* Padded-plane geometry shared by the depthwise and direct paths. */
static size_t plane_phase_len(const fv__conv_params *p) {
    size_t pw = (size_t)p->iw + (size_t)p->pad_l + (size_t)p->pad_r;
    return (pw + (size_t)p->sw - 1) / (size_t)p->sw + FV_DW_SLACK;
}

static size_t plane_floats(const fv__conv_params *p) {
    size_t ph = (size_t)p->ih + (size_t)p->pad_t + (size_t)p->pad_b;
    return ph * (size_t)p->sw * plane_phase_len(p);
}

/*
 * Copies one input channel into its padded plane, by column phase. The padding was zeroed once
 * for the node (fv__op_conv_run) and every channel writes the same interior positions, so only
 * the input rows are copied.
 */
static void fill_plane(const fv__conv_params *p, const float *xc, float *plane) {
    int s = p->sw;
    size_t phase_len = plane_phase_len(p), row_len = (size_t)s * phase_len;
    for (int iy = 0; iy < p->ih; iy++) {
        float *row = plane + ((size_t)iy + (size_t)p->pad_t) * row_len;
        const float *src = xc + (size_t)iy * (size_t)p->iw;
        if (s == 1) {
            memcpy(row + p->pad_l, src, (size_t)p->iw * sizeof(float));
        } else if (s == 2) {
            /* padded column px = ix + pad_l goes to phase px % 2, index px / 2 */
            float *ev = row, *od = row + phase_len;
            int q0 = p->pad_l & 1, base = p->pad_l >> 1;
            float *first = q0 ? od : ev, *second = q0 ? ev : od;
            int half = p->iw / 2;
            for (int i = 0; i < half; i++) {
                first[base + i] = src[2 * i];
                second[base + q0 + i] = src[2 * i + 1];
            }
            if (p->iw & 1) first[base + half] = src[p->iw - 1];
        } else {
            for (int q = 0; q < s; q++) {
                /* phase q holds padded columns q, q+s, ...; column px is input px - pad_l */
                float *dst = row + (size_t)q * phase_len;
                int first = q >= p->pad_l ? 0 : (p->pad_l - q + s - 1) / s;
                for (int idx = first;; idx++) {
                    int ix = idx * s + q - p->pad_l;
                    if (ix >= p->iw) break;
                    dst[idx] = src[ix];
                }
            }
        }
    }
}

static void conv_dw_channel(void *ctx, int ch, int tid) {
    const dw_job *job = ctx;
    const fv__node *n = job->n;
    const fv__conv_params *p = &n->conv;
    int b = ch / p->cout, c = ch % p->cout;
    float *plane = (float *)((unsigned char *)job->m->scratch + (size_t)tid * job->m->scratch_size);
    const float *xc =
        job->x + ((size_t)b * (size_t)p->cin + (size_t)c) * (size_t)p->ih * (size_t)p->iw;
    fill_plane(p, xc, plane);
    float slope = n->act == FV_ACT_PRELU ? n->act_slope[c] : 0.0f;
    float *out = job->y + ((size_t)b * (size_t)p->cout + (size_t)c) * (size_t)p->oh * (size_t)p->ow;
    job->m->k->dw_channel(plane, (int)plane_phase_len(p), p->sw, p->oh, p->ow, p->sh, p->kh, p->kw,
                          p->dh, p->dw, p->weight + (size_t)c * (size_t)p->kh * (size_t)p->kw,
                          p->bias[c], n->act, slope, out);
}

static void conv_dw_flat(void *ctx, int ch, int tid) {
    const dw_job *job = ctx;
    const fv__node *n = job->n;
    const fv__conv_params *p = &n->conv;
    const fv__kernels *k = job->m->k;
    int b = ch / p->cout, c = ch % p->cout;
    const flat_geom g = job->flat;
    float *buf = (float *)((unsigned char *)job->m->scratch + (size_t)tid * job->m->scratch_size);
    float *tmp = buf + g.buf_floats;
    int sh = p->sh, sw = p->sw;
    /* scatter the input channel into the phase sub-planes (padding stays zero) */
    const float *xc =
        job->x + ((size_t)b * (size_t)p->cin + (size_t)c) * (size_t)p->ih * (size_t)p->iw;
    for (int iy = 0; iy < p->ih; iy++) {
        size_t py = (size_t)iy + (size_t)p->pad_t;
        float *sub_row =
            buf + (py % (size_t)sh) * (size_t)sw * g.sub_len + (py / (size_t)sh) * g.w2;
        const float *src = xc + (size_t)iy * (size_t)p->iw;
        if (sw == 1) {
            float *dst = sub_row + p->pad_l;
            for (int ix = 0; ix < p->iw; ix++) dst[ix] = src[ix]; /* short rows: no call */
            continue;
        }
        if (sw == 2) {
            /* padded column px = ix + pad_l goes to phase px % 2, index px / 2 */
            int q0 = p->pad_l & 1, base = p->pad_l >> 1;
            float *first = sub_row + (size_t)q0 * g.sub_len + base;
            float *second = sub_row + (size_t)(1 - q0) * g.sub_len + base + q0;
            int half = p->iw / 2;
            for (int i = 0; i < half; i++) {
                first[i] = src[2 * i];
                second[i] = src[2 * i + 1];
            }
            if (p->iw & 1) first[half] = src[p->iw - 1];
            continue;
        }
        for (int q = 0; q < sw; q++) {
            /* column phase q holds padded columns q, q+sw, ...: input column idx*sw+q-pad_l */
            float *dst = sub_row + (size_t)q * g.sub_len;
            int idx = q >= p->pad_l ? 0 : (p->pad_l - q + sw - 1) / sw;
            for (int ix = idx * sw + q - p->pad_l; ix < p->iw; ix += sw, idx++) dst[idx] = src[ix];
        }
    }
    int taps = n->n_ints;
    float slope = n->act == FV_ACT_PRELU ? n->act_slope[c] : 0.0f;
    k->dw_flat(buf, (const int64_t *)n->ints, p->weight + (size_t)c * (size_t)taps, taps, g.out_len,
               p->bias[c], n->act, slope, tmp);
    float *out = job->y + ((size_t)b * (size_t)p->cout + (size_t)c) * (size_t)p->oh * (size_t)p->ow;
    for (int oy = 0; oy < p->oh; oy++) {
        float *dst = out + (size_t)oy * (size_t)p->ow;
        const float *src = tmp + (size_t)oy * g.w2;
        for (int ox = 0; ox < p->ow; ox++) dst[ox] = src[ox];
    }
}

/* One block of vw channels: transpose in (with zero padding), compute, transpose out. */
static void conv_dw_block(void *ctx, int blk, int tid) {
    const dw_job *job = ctx;
    const fv__node *n = job->n;
    const fv__conv_params *p = &n->conv;
    const fv__kernels *k = job->m->k;
    int vw = k->vw;
    int nblk = (p->cout + vw - 1) / vw;
    int b = blk / nblk, c0 = (blk % nblk) * vw;
    int nc = p->cout - c0 < vw ? p->cout - c0 : vw;
    size_t ph = (size_t)p->ih + (size_t)p->pad_t + (size_t)p->pad_b;
    size_t pw = (size_t)p->iw + (size_t)p->pad_l + (size_t)p->pad_r;
    size_t taps = (size_t)p->kh * (size_t)p->kw;
    size_t vwz = (size_t)vw;
    float *tin = (float *)((unsigned char *)job->m->scratch + (size_t)tid * job->m->scratch_size);
    float *wt = tin + ph * pw * vwz, *bt = wt + taps * vwz, *st = bt + vwz, *tout = st + vwz;
    /* padding of tin was zeroed once for this node; interior is overwritten per block */
    size_t plane_in = (size_t)p->ih * (size_t)p->iw, plane_out = (size_t)p->oh * (size_t)p->ow;
    for (int c = 0; c < nc; c++) {
        const float *src = job->x + ((size_t)b * (size_t)p->cin + (size_t)(c0 + c)) * plane_in;
        for (int iy = 0; iy < p->ih; iy++) {
            float *dst =
                tin + (((size_t)iy + (size_t)p->pad_t) * pw + (size_t)p->pad_l) * vwz + (size_t)c;
            const float *s = src + (size_t)iy * (size_t)p->iw;
            for (int ix = 0; ix < p->iw; ix++) dst[(size_t)ix * vwz] = s[ix];
        }
    }
    for (int c = 0; c < vw; c++) {
        bool on = c < nc;
        for (size_t t = 0; t < taps; t++)
            wt[t * vwz + (size_t)c] = on ? p->weight[(size_t)(c0 + c) * taps + t] : 0.0f;
        bt[c] = on ? p->bias[c0 + c] : 0.0f;
        st[c] = on && n->act == FV_ACT_PRELU ? n->act_slope[c0 + c] : 0.0f;
    }
    k->dw_block(tin, (int)pw, p->oh, p->ow, p->sh, p->sw, p->kh, p->kw, p->dh, p->dw, wt, bt,
                n->act, st, tout);
    for (int c = 0; c < nc; c++) {
        float *dst = job->y + ((size_t)b * (size_t)p->cout + (size_t)(c0 + c)) * plane_out;
        for (size_t i = 0; i < plane_out; i++) dst[i] = tout[i * vwz + (size_t)c];
    }
}

fv_status fv__op_conv_run(fv_nn_model *m, fv__node *n) {
    const fv__conv_params *p = &n->conv;
    const float *x = fv__in(m, n, 0)->data;
    float *y = fv__out(m, n, 0)->data;
    if (p->path == FV_CONV_PATH_REFERENCE) {
        if (p->weight == NULL) {
            /* constant folding before finalize: finalize a temporary copy */
            fv_status st = fv__conv_finalize(m, n);
            if (st != FV_OK) return st;
            n->conv.path = FV_CONV_PATH_REFERENCE;
        }
        conv_reference(n, x, y);
        return FV_OK;
    }
    if (p->path == FV_CONV_PATH_DEPTHWISE_BLOCK || p->path == FV_CONV_PATH_DEPTHWISE ||
        p->path == FV_CONV_PATH_DEPTHWISE_FLAT) {
        /* zero each thread's plane once: the padding stays zero across channels */
        for (int t = 0; t < fv__pool_threads(m->pool); t++)
            memset((unsigned char *)m->scratch + (size_t)t * m->scratch_size, 0, n->scratch);
    }
    if (p->path == FV_CONV_PATH_DEPTHWISE_DOT) {
        size_t taps = (size_t)p->kh * (size_t)p->kw;
        for (int b = 0; b < p->batch; b++) {
            for (int c = 0; c < p->cout; c++) {
                size_t at = (size_t)b * (size_t)p->cout + (size_t)c;
                float v = p->bias[c] + m->k->dot(p->weight + (size_t)c * taps, x + at * taps, taps);
                y[at] = act1(v, n->act, n->act == FV_ACT_PRELU ? n->act_slope[c] : 0.0f);
            }
        }
        return FV_OK;
    }
    if (p->path == FV_CONV_PATH_DEPTHWISE_FLAT) {
        dw_job job = {m, n, x, y, {0}};
        flat_geometry(p, m->k->vw, &job.flat);
        fv__pool_run(m->pool, p->batch * p->cout, conv_dw_flat, &job);
        return FV_OK;
    }
    if (p->path == FV_CONV_PATH_DEPTHWISE_BLOCK) {
        dw_job job = {m, n, x, y, {0}};
        int nblk = (p->cout + m->k->vw - 1) / m->k->vw;
        fv__pool_run(m->pool, p->batch * nblk, conv_dw_block, &job);
        return FV_OK;
    }
    if (p->path == FV_CONV_PATH_DEPTHWISE) {
        dw_job job = {m, n, x, y, {0}};
        fv__pool_run(m->pool, p->batch * p->cout, conv_dw_channel, &job);
        return FV_OK;
    }
    int nr = m->k->nr;
    int N = p->oh * p->ow;
    int panels = (N + nr - 1) / nr;
    if (p->path == FV_CONV_PATH_GEMM_PLANES) {
        size_t pf = plane_floats(p), in_plane = (size_t)p->ih * (size_t)p->iw;
        size_t planes_bytes = (size_t)p->cin * pf * sizeof(float);
        memset(m->scratch, 0, planes_bytes);
        for (int b = 0; b < p->batch; b++) {
            for (int c = 0; c < p->cin; c++)
                fill_plane(p, x + ((size_t)b * (size_t)p->cin + (size_t)c) * in_plane,
                           m->scratch + (size_t)c * pf);
            conv_job job = {m, n,     NULL,       y + (size_t)b * (size_t)p->cout * (size_t)N,
                            0, false, m->scratch, planes_bytes};
            fv__pool_run(m->pool, panels, conv_gemm_panel, &job);
        }
        return FV_OK;
    }
    size_t in_plane = (size_t)p->ih * (size_t)p->iw, out_plane = (size_t)N;
    int cg = p->cin / p->group, mg = p->cout / p->group;
    for (int b = 0; b < p->batch; b++) {
        for (int g = 0; g < p->group; g++) {
            conv_job job = {m,
                            n,
                            x + ((size_t)b * (size_t)p->cin + (size_t)(g * cg)) * in_plane,
                            y + ((size_t)b * (size_t)p->cout + (size_t)(g * mg)) * out_plane,
                            g,
                            is_pointwise(p),
                            NULL,
                            0};
            fv__pool_run(m->pool, panels, conv_gemm_panel, &job);
        }
    }
    return FV_OK;
}

/* Test hook: force the reference path on every conv of a prepared model. */
void fv__nn_force_reference(fv_nn_model *m);
void fv__nn_force_reference(fv_nn_model *m) {
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].op == FV_OP_CONV && !m->nodes[i].dead)
            m->nodes[i].conv.path = FV_CONV_PATH_REFERENCE;
}
