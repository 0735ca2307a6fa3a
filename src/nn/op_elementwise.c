/*
 * op_elementwise.c - element-wise operators: Add, Sub, Mul, Div (NumPy broadcasting, float32 and
 * int64), Relu, PRelu (slope broadcast to X), Sigmoid, Exp, BatchNormalization (inference) and
 * Identity.
 *
 * Broadcasting collapses adjacent dimensions that broadcast the same way in both operands, so
 * the common cases (same shape, scalar, per-channel [C,1,1] against NCHW) run as flat inner
 * loops over contiguous memory.
 */
#include <math.h>
#include <string.h>

#include "nn-impl.h"

/* ---- broadcasting -------------------------------------------------------------------------- */

static fv_status broadcast_shape(fv_nn_model *m, fv__node *n, const fv__tensor *a,
                                 const fv__tensor *b, int *ndim, int64_t *dims) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return fv__node_fail(m, n, FV_ERR_SHAPE,
                                 "shapes do not broadcast (dimension %d: %lld vs %lld)", i,
                                 (long long)da, (long long)db);
        dims[i] = da == 1 ? db : da;
    }
    *ndim = nd;
    return FV_OK;
}

/* A broadcast iteration plan: up to FV_NN_MAX_DIMS collapsed dims, strides 0 or contiguous. */
typedef struct bplan {
    int nd;
    int64_t dims[FV_NN_MAX_DIMS];
    int64_t sa[FV_NN_MAX_DIMS], sb[FV_NN_MAX_DIMS];
} bplan;

static void make_plan(const fv__tensor *a, const fv__tensor *b, const fv__tensor *y, bplan *pl) {
    int nd = y->ndim;
    int64_t da[FV_NN_MAX_DIMS], db[FV_NN_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        da[i] = ia >= 0 ? a->dims[ia] : 1;
        db[i] = ib >= 0 ? b->dims[ib] : 1;
    }
    /* collapse */
    int k = 0;
    int64_t cd[FV_NN_MAX_DIMS];
    bool ba[FV_NN_MAX_DIMS], bb[FV_NN_MAX_DIMS];
    for (int i = 0; i < nd; i++) {
        if (y->dims[i] == 1) continue;
        bool xa = da[i] == 1, xb = db[i] == 1;
        if (k > 0 && ba[k - 1] == xa && bb[k - 1] == xb) {
            cd[k - 1] *= y->dims[i];
        } else {
            cd[k] = y->dims[i];
            ba[k] = xa;
            bb[k] = xb;
            k++;
        }
    }
    if (k == 0) {
        cd[0] = 1;
        ba[0] = bb[0] = false;
        k = 1;
    }
    pl->nd = k;
    int64_t stra = 1, strb = 1;
    for (int i = k - 1; i >= 0; i--) {
        pl->dims[i] = cd[i];
        pl->sa[i] = ba[i] ? 0 : stra;
        pl->sb[i] = bb[i] ? 0 : strb;
        if (!ba[i]) stra *= cd[i];
        if (!bb[i]) strb *= cd[i];
    }
}

#define BINARY_LOOP(T, EXPR)                                                                       \
    do {                                                                                           \
        const T *A = a->data, *B = b->data;                                                        \
        T *Y = y->data;                                                                            \
        int nd = pl.nd;                                                                            \
        int64_t inner = pl.dims[nd - 1], isa = pl.sa[nd - 1], isb = pl.sb[nd - 1];                 \
        size_t outer = y->numel / (size_t)inner;                                                   \
        int64_t idx[FV_NN_MAX_DIMS] = {0};                                                         \
        int64_t oa = 0, ob = 0;                                                                    \
        for (size_t o = 0; o < outer; o++) {                                                       \
            const T *pa = A + oa, *pb = B + ob;                                                    \
            T *py = Y + o * (size_t)inner;                                                         \
            if (isa && isb) {                                                                      \
                for (int64_t i = 0; i < inner; i++) {                                              \
                    T va = pa[i], vb = pb[i];                                                      \
                    py[i] = EXPR;                                                                  \
                }                                                                                  \
            } else if (isa) {                                                                      \
                T vb = pb[0];                                                                      \
                for (int64_t i = 0; i < inner; i++) {                                              \
                    T va = pa[i];                                                                  \
                    py[i] = EXPR;                                                                  \
                }                                                                                  \
            } else if (isb) {                                                                      \
                T va = pa[0];                                                                      \
                for (int64_t i = 0; i < inner; i++) {                                              \
                    T vb = pb[i];                                                                  \
                    py[i] = EXPR;                                                                  \
                }                                                                                  \
            } else {                                                                               \
                T va = pa[0], vb = pb[0];                                                          \
                for (int64_t i = 0; i < inner; i++) py[i] = EXPR;                                  \
            }                                                                                      \
            for (int d = nd - 2; d >= 0; d--) {                                                    \
                idx[d]++;                                                                          \
                oa += pl.sa[d];                                                                    \
                ob += pl.sb[d];                                                                    \
                if (idx[d] < pl.dims[d]) break;                                                    \
                oa -= pl.sa[d] * pl.dims[d];                                                       \
                ob -= pl.sb[d] * pl.dims[d];                                                       \
                idx[d] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

fv_status fv__op_binary_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 2 || n->n_out != 1 || !fv__has_in(n, 0) || !fv__has_in(n, 1))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects two inputs and one output");
    fv__tensor *a = fv__in(m, n, 0), *b = fv__in(m, n, 1);
    if (a->dtype != b->dtype)
        return fv__node_fail(m, n, FV_ERR_FORMAT, "operands have different element types");
    int nd;
    int64_t dims[FV_NN_MAX_DIMS];
    fv_status st = broadcast_shape(m, n, a, b, &nd, dims);
    if (st != FV_OK) return st;
    return fv__tensor_set_shape(m, n->out[0], a->dtype, nd, dims);
}

fv_status fv__op_binary_run(fv_nn_model *m, fv__node *n) {
    const fv__tensor *a = fv__in(m, n, 0), *b = fv__in(m, n, 1);
    fv__tensor *y = fv__out(m, n, 0);
    if (y->numel == 0) return FV_OK;
    bplan pl;
    make_plan(a, b, y, &pl);
    if (y->dtype == FV_DT_FLOAT) {
        switch (n->op) {
        case FV_OP_ADD:
            BINARY_LOOP(float, va + vb);
            break;
        case FV_OP_SUB:
            BINARY_LOOP(float, va - vb);
            break;
        case FV_OP_MUL:
            BINARY_LOOP(float, va *vb);
            break;
        default:
            BINARY_LOOP(float, va / vb);
            break;
        }
        return FV_OK;
    }
    /* int64 shape arithmetic (constant-folded at prepare); wraps like two's complement */
    bool div0 = false;
    switch (n->op) {
    case FV_OP_ADD:
        BINARY_LOOP(int64_t, (int64_t)((uint64_t)va + (uint64_t)vb));
        break;
    case FV_OP_SUB:
        BINARY_LOOP(int64_t, (int64_t)((uint64_t)va - (uint64_t)vb));
        break;
    case FV_OP_MUL:
        BINARY_LOOP(int64_t, (int64_t)((uint64_t)va * (uint64_t)vb));
        break;
    default:
        BINARY_LOOP(int64_t,
                    (vb == 0 || (va == INT64_MIN && vb == -1)) ? (div0 = true, 0) : va / vb);
        break;
    }
    if (div0) return fv__node_fail(m, n, FV_ERR_FORMAT, "integer division by zero");
    return FV_OK;
}

/* ---- unary --------------------------------------------------------------------------------- */

static fv_status unary_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 1 || n->n_out != 1 || !fv__has_in(n, 0))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects one input and one output");
    fv__tensor *x = fv__in(m, n, 0);
    if (x->dtype != FV_DT_FLOAT && n->op != FV_OP_IDENTITY)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "only float32 is supported");
    return fv__tensor_set_shape(m, n->out[0], x->dtype, x->ndim, x->dims);
}

fv_status fv__op_relu_infer(fv_nn_model *m, fv__node *n) {
    return unary_infer(m, n);
}
fv_status fv__op_relu_run(fv_nn_model *m, fv__node *n) {
    const float *x = fv__in(m, n, 0)->data;
    fv__tensor *yt = fv__out(m, n, 0);
    float *y = yt->data;
    for (size_t i = 0; i < yt->numel; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return FV_OK;
}

fv_status fv__op_sigmoid_infer(fv_nn_model *m, fv__node *n) {
    return unary_infer(m, n);
}
fv_status fv__op_sigmoid_run(fv_nn_model *m, fv__node *n) {
    const float *x = fv__in(m, n, 0)->data;
    fv__tensor *yt = fv__out(m, n, 0);
    float *y = yt->data;
    for (size_t i = 0; i < yt->numel; i++) {
        float v = x[i];
        y[i] = v >= 0.0f ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v));
    }
    return FV_OK;
}

fv_status fv__op_exp_infer(fv_nn_model *m, fv__node *n) {
    return unary_infer(m, n);
}
fv_status fv__op_exp_run(fv_nn_model *m, fv__node *n) {
    const float *x = fv__in(m, n, 0)->data;
    fv__tensor *yt = fv__out(m, n, 0);
    float *y = yt->data;
    for (size_t i = 0; i < yt->numel; i++) y[i] = expf(x[i]);
    return FV_OK;
}

fv_status fv__op_identity_infer(fv_nn_model *m, fv__node *n) {
    return unary_infer(m, n);
}
fv_status fv__op_identity_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *y = fv__out(m, n, 0);
    memcpy(y->data, fv__in(m, n, 0)->data, y->numel * fv__dtype_size(y->dtype));
    return FV_OK;
}

/* ---- PRelu: y = x < 0 ? slope * x : x, slope broadcast to x (unidirectional) -------------- */

fv_status fv__op_prelu_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 2 || n->n_out != 1 || !fv__has_in(n, 0) || !fv__has_in(n, 1))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects inputs X, slope and one output");
    fv__tensor *x = fv__in(m, n, 0), *s = fv__in(m, n, 1);
    if (x->dtype != FV_DT_FLOAT || s->dtype != FV_DT_FLOAT)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "only float32 is supported");
    int nd;
    int64_t dims[FV_NN_MAX_DIMS];
    fv_status st = broadcast_shape(m, n, x, s, &nd, dims);
    if (st != FV_OK) return st;
    if (nd != x->ndim || memcmp(dims, x->dims, (size_t)nd * sizeof(int64_t)) != 0)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "slope must broadcast to the input's shape");
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, x->ndim, x->dims);
}

fv_status fv__op_prelu_run(fv_nn_model *m, fv__node *n) {
    const fv__tensor *a = fv__in(m, n, 0), *b = fv__in(m, n, 1);
    fv__tensor *y = fv__out(m, n, 0);
    if (y->numel == 0) return FV_OK;
    bplan pl;
    make_plan(a, b, y, &pl);
    BINARY_LOOP(float, va < 0.0f ? va * vb : va);
    return FV_OK;
}

/* ---- BatchNormalization (inference mode) --------------------------------------------------- */

fv_status fv__op_batchnorm_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 5 || n->n_out < 1)
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects X, scale, B, mean, var");
    for (int i = 0; i < 5; i++)
        if (!fv__has_in(n, i) || fv__in(m, n, i)->dtype != FV_DT_FLOAT)
            return fv__node_fail(m, n, FV_ERR_FORMAT, "input %d missing or not float32", i);
    if (n->n_out > 1)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "training-mode outputs are not supported");
    fv__tensor *x = fv__in(m, n, 0);
    if (x->ndim < 2) return fv__node_fail(m, n, FV_ERR_SHAPE, "input must be at least 2-D");
    for (int i = 1; i < 5; i++) {
        fv__tensor *p = fv__in(m, n, i);
        if (p->numel != (size_t)x->dims[1])
            return fv__node_fail(m, n, FV_ERR_SHAPE, "parameter %d must have %lld elements", i,
                                 (long long)x->dims[1]);
    }
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, x->ndim, x->dims);
}

fv_status fv__op_batchnorm_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *xt = fv__in(m, n, 0);
    const float *x = xt->data, *g = fv__in(m, n, 1)->data, *b = fv__in(m, n, 2)->data,
                *mu = fv__in(m, n, 3)->data, *var = fv__in(m, n, 4)->data;
    float *y = fv__out(m, n, 0)->data;
    float eps = fv__attr_float(n, "epsilon", 1e-5f);
    size_t c = (size_t)xt->dims[1], inner = 1;
    for (int i = 2; i < xt->ndim; i++) inner *= (size_t)xt->dims[i];
    size_t per = c * inner;
    size_t outer = per != 0 ? xt->numel / per : 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t k = 0; k < c; k++) {
            float s = g[k] / sqrtf(var[k] + eps), sh = b[k] - mu[k] * s;
            const float *px = x + (o * c + k) * inner;
            float *py = y + (o * c + k) * inner;
            for (size_t i = 0; i < inner; i++) py[i] = px[i] * s + sh;
        }
    }
    return FV_OK;
}
