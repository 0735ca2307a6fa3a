/*
 * op_softmax.c - Softmax. Opset < 13: the input is seen as 2-D [prod(dims[:axis]),
 * prod(dims[axis:])] and each row is normalised (default axis 1); opset >= 13: along one axis
 * (default -1). Max-subtracted for stability.
 */
#include <math.h>

#include "nn-impl.h"

fv_status fv__op_softmax_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 1 || n->n_out != 1 || !fv__has_in(n, 0))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects one input and one output");
    fv__tensor *x = fv__in(m, n, 0);
    if (x->dtype != FV_DT_FLOAT)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "only float32 is supported");
    int64_t axis = fv__attr_int(n, "axis", m->opset < 13 ? 1 : -1);
    if (axis < 0) axis += x->ndim;
    if (axis < 0 || axis >= (x->ndim ? x->ndim : 1))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "axis out of range");
    n->i0 = (int)axis;
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, x->ndim, x->dims);
}

fv_status fv__op_softmax_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *x = fv__in(m, n, 0);
    const float *xd = x->data;
    float *y = fv__out(m, n, 0)->data;
    size_t outer = 1, len = 1, inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        size_t v = (size_t)x->dims[d];
        if (d < n->i0)
            outer *= v;
        else if (d == n->i0 || m->opset < 13)
            len *= v;
        else
            inner *= v;
    }
    for (size_t o = 0; o < outer; o++) {
        for (size_t i = 0; i < inner; i++) {
            const float *s = xd + o * len * inner + i;
            float *t = y + o * len * inner + i;
            float mx = -INFINITY;
            for (size_t k = 0; k < len; k++) mx = s[k * inner] > mx ? s[k * inner] : mx;
            float sum = 0.0f;
            for (size_t k = 0; k < len; k++) {
                t[k * inner] = expf(s[k * inner] - mx);
                sum += t[k * inner];
            }
            float inv = 1.0f / sum;
            for (size_t k = 0; k < len; k++) t[k * inner] *= inv;
        }
    }
    return FV_OK;
}
