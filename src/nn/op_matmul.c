/*
 * op_matmul.c - Gemm (alpha, beta, transA, transB, C broadcast to [M, N]) and MatMul (2-D, or
 * batched A against a 2-D B). The face models use them as small fully connected layers, so the
 * kernels are the vector dot (B transposed) and axpy (B as stored) from the kernel table.
 */
#include <string.h>

#include "nn-impl.h"

fv_status fv__op_gemm_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in < 2 || n->n_in > 3 || n->n_out != 1 || !fv__has_in(n, 0) || !fv__has_in(n, 1))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects inputs A, B[, C] and one output");
    fv__tensor *a = fv__in(m, n, 0), *b = fv__in(m, n, 1);
    if (a->dtype != FV_DT_FLOAT || b->dtype != FV_DT_FLOAT)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "only float32 is supported");
    if (a->ndim != 2 || b->ndim != 2)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "A and B must be 2-D");
    int ta = fv__attr_int(n, "transA", 0) != 0, tb = fv__attr_int(n, "transB", 0) != 0;
    int64_t M = ta ? a->dims[1] : a->dims[0], K = ta ? a->dims[0] : a->dims[1];
    int64_t Kb = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
    if (K != Kb)
        return fv__node_fail(m, n, FV_ERR_SHAPE, "inner dimensions differ (%lld vs %lld)",
                             (long long)K, (long long)Kb);
    if (fv__has_in(n, 2)) {
        fv__tensor *c = fv__in(m, n, 2);
        int64_t cm = c->ndim >= 2 ? c->dims[c->ndim - 2] : 1,
                cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        if (c->dtype != FV_DT_FLOAT || c->ndim > 2 || (cm != 1 && cm != M) || (cn != 1 && cn != N))
            return fv__node_fail(m, n, FV_ERR_SHAPE, "C does not broadcast to [%lld, %lld]",
                                 (long long)M, (long long)N);
    }
    n->i0 = ta;
    n->i1 = tb;
    int64_t dims[2] = {M, N};
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, 2, dims);
}

fv_status fv__op_gemm_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *at = fv__in(m, n, 0), *bt = fv__in(m, n, 1), *yt = fv__out(m, n, 0);
    const float *A = at->data, *B = bt->data;
    float *Y = yt->data;
    size_t M = (size_t)yt->dims[0], N = (size_t)yt->dims[1];
    size_t K = n->i0 ? (size_t)at->dims[0] : (size_t)at->dims[1];
    float alpha = fv__attr_float(n, "alpha", 1.0f), beta = fv__attr_float(n, "beta", 1.0f);
    const fv__kernels *k = m->k;
    for (size_t i = 0; i < M; i++) {
        float *y = Y + i * N;
        if (!n->i0 && n->i1) {
            for (size_t j = 0; j < N; j++) y[j] = alpha * k->dot(A + i * K, B + j * K, K);
        } else {
            memset(y, 0, N * sizeof(float));
            for (size_t p = 0; p < K; p++) {
                float av = n->i0 ? A[p * M + i] : A[i * K + p];
                if (n->i1) {
                    for (size_t j = 0; j < N; j++) y[j] += av * B[j * K + p];
                } else {
                    k->axpy(av, B + p * N, y, N);
                }
            }
            if (alpha != 1.0f)
                for (size_t j = 0; j < N; j++) y[j] *= alpha;
        }
        if (fv__has_in(n, 2) && beta != 0.0f) {
            fv__tensor *ct = fv__in(m, n, 2);
            const float *C = ct->data;
            size_t cm = ct->ndim >= 2 ? (size_t)ct->dims[0] : 1;
            size_t cn = ct->ndim >= 1 ? (size_t)ct->dims[ct->ndim - 1] : 1;
            for (size_t j = 0; j < N; j++)
                y[j] += beta * C[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
        }
    }
    return FV_OK;
}

fv_status fv__op_matmul_infer(fv_nn_model *m, fv__node *n) {
    if (n->n_in != 2 || n->n_out != 1 || !fv__has_in(n, 0) || !fv__has_in(n, 1))
        return fv__node_fail(m, n, FV_ERR_FORMAT, "expects two inputs and one output");
    fv__tensor *a = fv__in(m, n, 0), *b = fv__in(m, n, 1);
    if (a->dtype != FV_DT_FLOAT || b->dtype != FV_DT_FLOAT)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED, "only float32 is supported");
    if (a->ndim < 2 || b->ndim != 2)
        return fv__node_fail(m, n, FV_ERR_UNSUPPORTED,
                             "supported forms are [..., M, K] x [K, N]; got %d-D x %d-D", a->ndim,
                             b->ndim);
    if (a->dims[a->ndim - 1] != b->dims[0])
        return fv__node_fail(m, n, FV_ERR_SHAPE, "inner dimensions differ (%lld vs %lld)",
                             (long long)a->dims[a->ndim - 1], (long long)b->dims[0]);
    int64_t dims[FV_NN_MAX_DIMS];
    memcpy(dims, a->dims, sizeof dims);
    dims[a->ndim - 1] = b->dims[1];
    return fv__tensor_set_shape(m, n->out[0], FV_DT_FLOAT, a->ndim, dims);
}

fv_status fv__op_matmul_run(fv_nn_model *m, fv__node *n) {
    fv__tensor *at = fv__in(m, n, 0), *bt = fv__in(m, n, 1), *yt = fv__out(m, n, 0);
    size_t K = (size_t)bt->dims[0], N = (size_t)bt->dims[1];
    size_t rows = K ? at->numel / K : 0;
    const float *A = at->data, *B = bt->data;
    float *Y = yt->data;
    for (size_t i = 0; i < rows; i++) {
        float *y = Y + i * N;
        memset(y, 0, N * sizeof(float));
        for (size_t p = 0; p < K; p++) m->k->axpy(A[i * K + p], B + p * N, y, N);
    }
    return FV_OK;
}
