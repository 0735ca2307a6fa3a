/*
 * op_pool.c - GlobalAveragePool: the mean of each channel's spatial plane, [N,C,...] -> [N,C,1...].
 */
#include "nn-impl.h"

fv_status fv__op_gap_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 1 || n->n_out != 1 || !fv__has_in(n, 0))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects one input and one output");
    fv__tensor *x = fv__in(m, n, 0);
    if (x->dtype != FV_DT_FLOAT || x->ndim < 3)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "input must be float32 and at least 3-D");
    int64_t dims[FV_NN_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) dims[i] = i < 2 ? x->dims[i] : 1;
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, x->ndim, dims);
}

fv_status fv__op_gap_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *x = fv__in(m, n, 0);
    const float *xd = x->data;
    float *y = fv__out(m, n, 0)->data;
    size_t planes = (size_t)x->dims[0] * (size_t)x->dims[1];
    size_t hw = planes ? x->numel / planes : 0;
    for (size_t p = 0; p < planes; p++) {
        const float *s = xd + p * hw;
        float acc[8] = {0};
        size_t i = 0;
        for (; i + 8 <= hw; i += 8)
            for (int k = 0; k < 8; k++) acc[k] += s[i + k];
        float t = 0.0f;
        for (int k = 0; k < 8; k++) t += acc[k];
        for (; i < hw; i++) t += s[i];
        y[p] = hw ? t / (float)hw : 0.0f;
    }
    return FV_OK;
}
