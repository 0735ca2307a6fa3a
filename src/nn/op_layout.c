/*
 * op_layout.c - operators that move or describe data without arithmetic: Shape, Constant,
 * Reshape, Flatten, Unsqueeze, Squeeze, Transpose, Slice, Concat and Gather (float32 and int64).
 *
 * Shape-describing inputs (Reshape's shape, Slice's starts/ends in opset >= 10, Unsqueeze's axes
 * in opset >= 13, Gather's indices) must be constant by prepare time; graph_prepare.c folds the
 * usual Shape -> Gather -> Unsqueeze -> Concat chains into constants before they are read here.
 */
#include <string.h>

#include "nn-impl.h"

static fv_status need_io(fv_nn_model *m, fv__node *n, int min_in, int max_in) {
    if (n->n_in < min_in || n->n_in > max_in || n->n_out != 1 || !fv__has_in(n, 0))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects %d to %d inputs and one output", min_in,
                             max_in);
    return FV_OK;
}

/* A constant int64 input as a list (count <= FV_NN_MAX_DIMS*4). */
static fv_status const_ints(fv_nn_model *m, fv__node *n, int i, const int64_t **v, size_t *cnt) {
    if (!fv__has_in(n, i)) {
        *v = NULL;
        *cnt = 0;
        return FV_OK;
    }
    fv__tensor *t = fv__in(m, n, i);
    if (t->kind != FV_TK_CONST || t->dtype != FV_DT_INT64)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "input %d must be a constant int64 tensor",
                             i);
    if (t->ndim > 1 || t->numel > 64)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "input %d must be a short 1-D list", i);
    *v = t->data;
    *cnt = t->numel;
    return FV_OK;
}

static int norm_axis(int64_t axis, int ndim) {
    if (axis < 0) axis += ndim;
    return axis < 0 || axis >= ndim ? -1 : (int)axis;
}

static fv_status copy_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *y = fv__out(m, n, 0);
    memcpy(y->data, fv__in(m, n, 0)->data, y->numel * fv__dtype_size(y->dtype));
    return FV_OK;
}

/* ---- Shape --------------------------------------------------------------------------------- */

fv_status fv__op_shape_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 1, 1);
    if (st != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    int start = (int)fv__attr_int(n, "start", 0), end = (int)fv__attr_int(n, "end", x->ndim);
    if (start < 0) start += x->ndim;
    if (end < 0) end += x->ndim;
    if (start < 0) start = 0;
    if (end > x->ndim) end = x->ndim;
    if (end < start) end = start;
    n->i0 = start;
    n->i1 = end;
    int64_t d = end - start;
    return fv__tensor_set_shape(m, n->out[0], FV_DT_INT64, 1, &d);
}

fv_status fv__op_shape_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *x = fv__in(m, n, 0);
    int64_t *y = fv__out(m, n, 0)->data;
    for (int i = n->i0; i < n->i1; i++) y[i - n->i0] = x->dims[i];
    return FV_OK;
}

/* ---- Constant ------------------------------------------------------------------------------ */

fv_status fv__op_constant_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 0 || n->n_out != 1)
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects no inputs and one output");
    const fv__attr *a = fv__attr_get(n, "value");
    if (a != NULL && a->tensor >= 0) {
        fv__tensor *t = &m->tensors[a->tensor];
        return fv__tensor_set_shape(m, n->out[0], t->dtype, t->ndim, t->dims);
    }
    int64_t cnt;
    if ((a = fv__attr_get(n, "value_float")) != NULL && a->type == FV_AT_FLOAT)
        return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, 0, NULL);
    if ((a = fv__attr_get(n, "value_int")) != NULL && a->type == FV_AT_INT)
        return fv__tensor_set_shape(m, n->out[0], FV_DT_INT64, 0, NULL);
    if ((a = fv__attr_get(n, "value_floats")) != NULL && a->type == FV_AT_FLOATS) {
        cnt = a->n;
        return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, 1, &cnt);
    }
    if ((a = fv__attr_get(n, "value_ints")) != NULL && a->type == FV_AT_INTS) {
        cnt = a->n;
        return fv__tensor_set_shape(m, n->out[0], FV_DT_INT64, 1, &cnt);
    }
    return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "needs a 'value' tensor or a numeric value");
}

fv_status fv__op_constant_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *y = fv__out(m, n, 0);
    const fv__attr *a = fv__attr_get(n, "value");
    if (a != NULL && a->tensor >= 0) {
        memcpy(y->data, m->tensors[a->tensor].data, y->numel * fv__dtype_size(y->dtype));
    } else if ((a = fv__attr_get(n, "value_float")) != NULL && a->type == FV_AT_FLOAT) {
        *(float *)y->data = a->f;
    } else if ((a = fv__attr_get(n, "value_int")) != NULL && a->type == FV_AT_INT) {
        *(int64_t *)y->data = a->i;
    } else if ((a = fv__attr_get(n, "value_floats")) != NULL && a->type == FV_AT_FLOATS) {
        memcpy(y->data, a->floats, (size_t)a->n * sizeof(float));
    } else if ((a = fv__attr_get(n, "value_ints")) != NULL && a->type == FV_AT_INTS) {
        memcpy(y->data, a->ints, (size_t)a->n * sizeof(int64_t));
    }
    return FV_OK;
}

/* ---- Reshape / Flatten / Unsqueeze / Squeeze / Identity-like copies ------------------------ */

fv_status fv__op_reshape_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 2, 2);
    if (st != FV_OK) return st;
    const int64_t *s;
    size_t cnt;
    if ((st = const_ints(m, n, 1, &s, &cnt)) != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    if (cnt > FV_NN_MAX_DIMS) return fv__node_fail(m, n, FV_ERR_LIMIT, "too many dimensions");
    bool allowzero = fv__attr_int(n, "allowzero", 0) != 0;
    int64_t dims[FV_NN_MAX_DIMS];
    int infer_at = -1;
    size_t known = 1;
    for (size_t i = 0; i < cnt; i++) {
        int64_t d = s[i];
        if (d == 0 && !allowzero) {
            if ((int)i >= x->ndim)
                return fv__node_fail(m, n, FV_ERR_SHAPE, "0 copies a dimension the input lacks");
            d = x->dims[i];
        }
        if (d == -1) {
            if (infer_at >= 0) return fv__node_fail(m, n, FV_ERR_SHAPE, "more than one -1");
            infer_at = (int)i;
            d = 1;
        } else if (d < 0) {
            return fv__node_fail(m, n, FV_ERR_SHAPE, "negative dimension %lld", (long long)d);
        }
        dims[i] = d;
        if (!fv_size_mul(known, (size_t)d, &known))
            return fv__node_fail(m, n, FV_ERR_LIMIT, "shape too large");
    }
    if (infer_at >= 0) {
        if (known == 0 || x->numel % known != 0)
            return fv__node_fail(m, n, FV_ERR_SHAPE, "cannot infer -1: %zu elements into %zu",
                                 x->numel, known);
        dims[infer_at] = (int64_t)(x->numel / known);
        known = x->numel;
    }
    if (known != x->numel)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "cannot reshape %zu elements into %zu", x->numel,
                             known);
    return fv__tensor_set_shape(m, n->out[0], x->dtype, (int)cnt, dims);
}

fv_status fv__op_reshape_run(fv_nn_model *m, fv__node *n) {
    return copy_run(m, n);
}

fv_status fv__op_flatten_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 1, 1);
    if (st != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    int64_t axis = fv__attr_int(n, "axis", 1);
    if (axis < 0) axis += x->ndim;
    if (axis < 0 || axis > x->ndim) return fv__node_fail(m, n, FV_ERR_FORMAT, "axis out of range");
    int64_t dims[2] = {1, 1};
    for (int i = 0; i < x->ndim; i++) dims[i < axis ? 0 : 1] *= x->dims[i];
    return fv__tensor_set_shape(m, n->out[0], x->dtype, 2, dims);
}

fv_status fv__op_flatten_run(fv_nn_model *m, fv__node *n) {
    return copy_run(m, n);
}

static fv_status axes_list(fv_nn_model *m, fv__node *n, const int64_t **axes, size_t *cnt) {
    if (m->opset >= 13) return const_ints(m, n, 1, axes, cnt);
    const fv__attr *a = fv__attr_get(n, "axes");
    if (a == NULL || a->type != FV_AT_INTS) {
        *axes = NULL;
        *cnt = 0;
        return FV_OK;
    }
    *axes = a->ints;
    *cnt = (size_t)a->n;
    return FV_OK;
}

fv_status fv__op_unsqueeze_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 1, 2);
    if (st != FV_OK) return st;
    const int64_t *axes;
    size_t cnt;
    if ((st = axes_list(m, n, &axes, &cnt)) != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    int nd = x->ndim + (int)cnt;
    if (cnt == 0 || nd > FV_NN_MAX_DIMS)
        return fv__node_fail(m, n, FV_ERR_FORMAT, "needs 1 to %d axes", FV_NN_MAX_DIMS - x->ndim);
    bool mark[FV_NN_MAX_DIMS] = {false};
    for (size_t i = 0; i < cnt; i++) {
        int a = norm_axis(axes[i], nd);
        if (a < 0 || mark[a]) return fv__node_fail(m, n, FV_ERR_FORMAT, "invalid or repeated axis");
        mark[a] = true;
    }
    int64_t dims[FV_NN_MAX_DIMS];
    for (int i = 0, j = 0; i < nd; i++) dims[i] = mark[i] ? 1 : x->dims[j++];
    return fv__tensor_set_shape(m, n->out[0], x->dtype, nd, dims);
}

fv_status fv__op_unsqueeze_run(fv_nn_model *m, fv__node *n) {
    return copy_run(m, n);
}

fv_status fv__op_squeeze_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 1, 2);
    if (st != FV_OK) return st;
    const int64_t *axes;
    size_t cnt;
    if ((st = axes_list(m, n, &axes, &cnt)) != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    bool drop[FV_NN_MAX_DIMS] = {false};
    for (size_t i = 0; i < cnt; i++) {
        int a = norm_axis(axes[i], x->ndim);
        if (a < 0 || x->dims[a] != 1)
            return fv__node_fail(m, n, FV_ERR_SHAPE, "axis %lld is not a dimension of size 1",
                                 (long long)axes[i]);
        drop[a] = true;
    }
    int64_t dims[FV_NN_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < x->ndim; i++) {
        bool d = cnt ? drop[i] : x->dims[i] == 1;
        if (!d) dims[nd++] = x->dims[i];
    }
    return fv__tensor_set_shape(m, n->out[0], x->dtype, nd, dims);
}

fv_status fv__op_squeeze_run(fv_nn_model *m, fv__node *n) {
    return copy_run(m, n);
}

/* ---- Transpose ----------------------------------------------------------------------------- */

fv_status fv__op_transpose_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 1, 1);
    if (st != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    const fv__attr *a = fv__attr_get(n, "perm");
    n->ints = fv_malloc(FV_NN_MAX_DIMS * sizeof(int64_t));
    if (n->ints == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    n->n_ints = x->ndim;
    bool seen[FV_NN_MAX_DIMS] = {false};
    if (a != NULL && (a->type != FV_AT_INTS || a->n != x->ndim))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "perm must list %d axes", x->ndim);
    int64_t dims[FV_NN_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        int64_t p = a ? a->ints[i] : x->ndim - 1 - i;
        if (p < 0 || p >= x->ndim || seen[p])
            return fv__node_fail(m, n, FV_ERR_FORMAT, "perm is not a permutation");
        seen[p] = true;
        n->ints[i] = p;
        dims[i] = x->dims[p];
    }
    return fv__tensor_set_shape(m, n->out[0], x->dtype, x->ndim, dims);
}

fv_status fv__op_transpose_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *x = fv__in(m, n, 0), *y = fv__out(m, n, 0);
    int nd = x->ndim;
    size_t es = fv__dtype_size(x->dtype);
    if (y->numel == 0) return FV_OK;
    int64_t xs[FV_NN_MAX_DIMS], s[FV_NN_MAX_DIMS], idx[FV_NN_MAX_DIMS] = {0};
    int64_t st = 1;
    for (int i = nd - 1; i >= 0; i--) {
        xs[i] = st;
        st *= x->dims[i];
    }
    for (int i = 0; i < nd; i++) s[i] = xs[n->ints[i]]; /* input stride of output axis i */
    const unsigned char *src = x->data;
    unsigned char *dst = y->data;
    if (nd == 0) {
        memcpy(dst, src, es);
        return FV_OK;
    }
    int64_t inner = y->dims[nd - 1], is = s[nd - 1];
    size_t outer = y->numel / (size_t)inner;
    int64_t off = 0;
    for (size_t o = 0; o < outer; o++) {
        unsigned char *d = dst + o * (size_t)inner * es;
        if (es == 4) {
            const float *sp = (const float *)src + off;
            float *dp = (float *)d;
            for (int64_t i = 0; i < inner; i++) dp[i] = sp[i * is];
        } else {
            const int64_t *sp = (const int64_t *)src + off;
            int64_t *dp = (int64_t *)d;
            for (int64_t i = 0; i < inner; i++) dp[i] = sp[i * is];
        }
        for (int k = nd - 2; k >= 0; k--) {
            idx[k]++;
            off += s[k];
            if (idx[k] < y->dims[k]) break;
            off -= s[k] * y->dims[k];
            idx[k] = 0;
        }
    }
    return FV_OK;
}

/* ---- Slice --------------------------------------------------------------------------------- */

fv_status fv__op_slice_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 1, 5);
    if (st != FV_OK) return st;
    fv__tensor *x = fv__in(m, n, 0);
    const int64_t *starts, *ends, *axes = NULL, *steps = NULL;
    size_t ns, ne, na = 0, nst = 0;
    if (m->opset < 10) {
        const fv__attr *as = fv__attr_get(n, "starts"), *ae = fv__attr_get(n, "ends"),
                       *aa = fv__attr_get(n, "axes");
        if (as == NULL || ae == NULL || as->type != FV_AT_INTS || ae->type != FV_AT_INTS)
            return fv__node_fail(m, n, FV_ERR_FORMAT, "needs 'starts' and 'ends'");
        starts = as->ints;
        ns = (size_t)as->n;
        ends = ae->ints;
        ne = (size_t)ae->n;
        if (aa != NULL && aa->type == FV_AT_INTS) {
            axes = aa->ints;
            na = (size_t)aa->n;
        }
    } else {
        if (n->n_in < 3) return fv__node_fail(m, n, FV_ERR_FORMAT, "needs starts and ends");
        if ((st = const_ints(m, n, 1, &starts, &ns)) != FV_OK ||
            (st = const_ints(m, n, 2, &ends, &ne)) != FV_OK ||
            (st = const_ints(m, n, 3, &axes, &na)) != FV_OK ||
            (st = const_ints(m, n, 4, &steps, &nst)) != FV_OK)
            return st;
    }
    if (ns != ne || (axes && na != ns) || (steps && nst != ns) || ns > (size_t)x->ndim)
        return fv__node_fail(m, n, FV_ERR_FORMAT, "starts, ends, axes and steps disagree");
    /* ints: per axis start, step (2*ndim) */
    n->ints = fv_malloc(2 * FV_NN_MAX_DIMS * sizeof(int64_t));
    if (n->ints == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    n->n_ints = 2 * x->ndim;
    int64_t dims[FV_NN_MAX_DIMS];
    bool seen[FV_NN_MAX_DIMS] = {false};
    for (int i = 0; i < x->ndim; i++) {
        n->ints[2 * i] = 0;
        n->ints[2 * i + 1] = 1;
        dims[i] = x->dims[i];
    }
    for (size_t i = 0; i < ns; i++) {
        int a = norm_axis(axes ? axes[i] : (int64_t)i, x->ndim);
        if (a < 0 || seen[a]) return fv__node_fail(m, n, FV_ERR_FORMAT, "invalid or repeated axis");
        seen[a] = true;
        int64_t step = steps ? steps[i] : 1, d = x->dims[a];
        if (step == 0) return fv__node_fail(m, n, FV_ERR_FORMAT, "step 0");
        /* a step longer than the axis selects at most one element: clamp it so the length and
         * offset arithmetic below cannot overflow */
        if (step > d) step = d > 0 ? d : 1;
        if (step < -d) step = d > 0 ? -d : -1;
        int64_t s = starts[i], e = ends[i];
        if (s < 0) s = s < -d ? 0 : s + d;
        if (e < 0) e = e < -d ? -1 : e + d; /* for negative steps -1 means before the first */
        if (step > 0) {
            if (s > d) s = d;
            if (e > d) e = d;
            if (e < 0) e = 0;
        } else {
            if (s > d - 1) s = d - 1;
            if (e > d - 1) e = d - 1;
        }
        int64_t len = step > 0 ? (e > s ? (e - s + step - 1) / step : 0)
                               : (s > e ? (s - e + (-step) - 1) / (-step) : 0);
        n->ints[2 * a] = s;
        n->ints[2 * a + 1] = step;
        dims[a] = len;
    }
    return fv__tensor_set_shape(m, n->out[0], x->dtype, x->ndim, dims);
}

fv_status fv__op_slice_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *x = fv__in(m, n, 0), *y = fv__out(m, n, 0);
    int nd = x->ndim;
    size_t es = fv__dtype_size(x->dtype);
    if (y->numel == 0) return FV_OK;
    if (nd == 0) { /* a scalar: nothing to slice (and no last axis to index below) */
        memcpy(y->data, x->data, es);
        return FV_OK;
    }
    int64_t xs[FV_NN_MAX_DIMS], idx[FV_NN_MAX_DIMS] = {0};
    int64_t st = 1;
    for (int i = nd - 1; i >= 0; i--) {
        xs[i] = st;
        st *= x->dims[i];
    }
    int64_t base = 0;
    for (int i = 0; i < nd; i++) base += n->ints[2 * i] * xs[i];
    const unsigned char *src = x->data;
    unsigned char *dst = y->data;
    int64_t inner = y->dims[nd - 1], istep = n->ints[2 * (nd - 1) + 1] * xs[nd - 1];
    size_t outer = y->numel / (size_t)inner;
    int64_t off = base;
    for (size_t o = 0; o < outer; o++) {
        if (istep == 1) {
            memcpy(dst + o * (size_t)inner * es, src + (size_t)off * es, (size_t)inner * es);
        } else {
            for (int64_t i = 0; i < inner; i++)
                memcpy(dst + (o * (size_t)inner + (size_t)i) * es,
                       src + (size_t)(off + i * istep) * es, es);
        }
        for (int k = nd - 2; k >= 0; k--) {
            idx[k]++;
            off += n->ints[2 * k + 1] * xs[k];
            if (idx[k] < y->dims[k]) break;
            off -= n->ints[2 * k + 1] * xs[k] * y->dims[k];
            idx[k] = 0;
        }
    }
    return FV_OK;
}

/* ---- Concat -------------------------------------------------------------------------------- */

fv_status fv__op_concat_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in < 1 || n->n_out != 1)
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects inputs and one output");
    fv__tensor *x0 = NULL;
    for (int i = 0; i < n->n_in; i++) {
        if (!fv__has_in(n, i)) return fv__node_fail(m, n, FV_ERR_FORMAT, "missing input %d", i);
        if (x0 == NULL) x0 = fv__in(m, n, i);
    }
    const fv__attr *aa = fv__attr_get(n, "axis");
    if (aa == NULL) return fv__node_fail(m, n, FV_ERR_FORMAT, "needs 'axis'");
    int axis = norm_axis(aa->i, x0->ndim);
    if (axis < 0) return fv__node_fail(m, n, FV_ERR_FORMAT, "axis out of range");
    n->i0 = axis;
    int64_t dims[FV_NN_MAX_DIMS];
    memcpy(dims, x0->dims, sizeof dims);
    dims[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        fv__tensor *x = fv__in(m, n, i);
        if (x->ndim != x0->ndim || x->dtype != x0->dtype)
            return fv__node_fail(m, n, FV_ERR_SHAPE, "input %d has a different rank or type", i);
        for (int d = 0; d < x->ndim; d++)
            if (d != axis && x->dims[d] != x0->dims[d])
                return fv__node_fail(m, n, FV_ERR_SHAPE,
                                     "input %d differs in dimension %d (%lld vs %lld)", i, d,
                                     (long long)x->dims[d], (long long)x0->dims[d]);
        dims[axis] += x->dims[axis];
    }
    return fv__tensor_set_shape(m, n->out[0], x0->dtype, x0->ndim, dims);
}

fv_status fv__op_concat_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *y = fv__out(m, n, 0);
    size_t es = fv__dtype_size(y->dtype);
    size_t outer = 1, inner = 1;
    for (int d = 0; d < n->i0; d++) outer *= (size_t)y->dims[d];
    for (int d = n->i0 + 1; d < y->ndim; d++) inner *= (size_t)y->dims[d];
    size_t yrow = (size_t)y->dims[n->i0] * inner * es;
    size_t at = 0;
    for (int i = 0; i < n->n_in; i++) {
        fv__tensor *x = fv__in(m, n, i);
        size_t xrow = (size_t)x->dims[n->i0] * inner * es;
        for (size_t o = 0; o < outer; o++)
            memcpy((unsigned char *)y->data + o * yrow + at,
                   (const unsigned char *)x->data + o * xrow, xrow);
        at += xrow;
    }
    return FV_OK;
}

/* ---- Gather -------------------------------------------------------------------------------- */

fv_status fv__op_gather_infer(fv_nn_model *m, fv__node *n) {
    fv_status st = need_io(m, n, 2, 2);
    if (st != FV_OK) return st;
    if (!fv__has_in(n, 1)) return fv__node_fail(m, n, FV_ERR_FORMAT, "needs an indices input");
    fv__tensor *x = fv__in(m, n, 0), *ix = fv__in(m, n, 1);
    if (ix->dtype != FV_DT_INT64 || ix->kind != FV_TK_CONST)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "indices must be constant integers");
    int axis = norm_axis(fv__attr_int(n, "axis", 0), x->ndim);
    if (axis < 0) return fv__node_fail(m, n, FV_ERR_FORMAT, "axis out of range");
    n->i0 = axis;
    int nd = x->ndim - 1 + ix->ndim;
    if (nd > FV_NN_MAX_DIMS) return fv__node_fail(m, n, FV_ERR_LIMIT, "too many dimensions");
    const int64_t *iv = ix->data;
    for (size_t i = 0; i < ix->numel; i++)
        if (iv[i] < -x->dims[axis] || iv[i] >= x->dims[axis])
            return fv__node_fail(m, n, FV_ERR_SHAPE, "index %lld out of range [%lld, %lld)",
                                 (long long)iv[i], (long long)-x->dims[axis],
                                 (long long)x->dims[axis]);
    int64_t dims[FV_NN_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < axis; d++) dims[k++] = x->dims[d];
    for (int d = 0; d < ix->ndim; d++) dims[k++] = ix->dims[d];
    for (int d = axis + 1; d < x->ndim; d++) dims[k++] = x->dims[d];
    return fv__tensor_set_shape(m, n->out[0], x->dtype, nd, dims);
}

fv_status fv__op_gather_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *x = fv__in(m, n, 0), *ix = fv__in(m, n, 1), *y = fv__out(m, n, 0);
    size_t es = fv__dtype_size(x->dtype);
    size_t outer = 1, inner = 1;
    for (int d = 0; d < n->i0; d++) outer *= (size_t)x->dims[d];
    for (int d = n->i0 + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
    int64_t dim = x->dims[n->i0];
    const int64_t *iv = ix->data;
    unsigned char *dst = y->data;
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < ix->numel; i++) {
            int64_t k = iv[i] < 0 ? iv[i] + dim : iv[i];
            memcpy(dst,
                   (const unsigned char *)x->data + ((o * (size_t)dim + (size_t)k) * inner) * es,
                   inner * es);
            dst += inner * es;
        }
    }
    return FV_OK;
}
