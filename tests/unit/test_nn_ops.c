/*
 * test_nn_ops.c - every operator the engine supports, on small models built in memory
 * (onnx_build.c), against values computed here with plain loops (never the engine's code).
 *
 * The Conv section is the important one: awkward shapes (odd channel counts, groups, depthwise,
 * 1x1/3x3/4x4/5x5 kernels, strides and dilations 1-3, asymmetric pads, auto_pad, widths that
 * are not multiples of the vector width, batch 2, 1-D), each alone and followed by Relu, PRelu,
 * BatchNormalization and BatchNormalization+PRelu (fused), run with every kernel set
 * (FV_CPU_MAX unset, avx2, generic) and with the reference conv path, all against a naive
 * convolution written below. Tolerance: 1e-4 relative to the largest expected magnitude.
 * Also fv_nn_resize_input (re-planning) on a small model and on the real fr_feature model.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/nn.h"
#include "nn-impl.h"
#include "onnx_build.h"
#include "test_paths.h"

void fv__nn_force_reference(fv_nn_model *m);

/* ---- helpers ------------------------------------------------------------------------------- */

static unsigned g_seed = 1;

static float frand(void) {
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)((g_seed >> 8) & 0xffff) / 32768.0f - 1.0f; /* [-1, 1) */
}

static void fill_rand(float *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = frand();
}

static size_t numel_of(int ndim, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    return n;
}

/* Finishes the builder and opens the model; NULL (and a failure) if it does not open. */
static fv_nn_model *open_built(ob_model *b) {
    size_t len;
    unsigned char *bytes = ob_finish(b, &len);
    fv_nn_model *m = NULL;
    fv_status st = fv_nn_open_memory(bytes, len, NULL, &m);
    free(bytes);
    if (st != FV_OK) {
        CHECK_FAIL("open: %s: %s", fv_status_name(st), fv_nn_errmsg(m));
        fv_nn_close(m);
        return NULL;
    }
    return m;
}

/* Copies `in` into input `index` (sizes must agree). */
static int set_input(fv_nn_model *m, int index, const float *in, size_t n) {
    fv_nn_tensor t;
    if (fv_nn_input(m, index, &t) != FV_OK || t.numel != n) {
        CHECK_FAIL("input %d: want %zu elements", index, n);
        return -1;
    }
    memcpy(t.data, in, n * sizeof(float));
    return 0;
}

/* Runs and checks output `index` has the given dims; returns its data or NULL. */
static const float *run_get(fv_nn_model *m, int index, int ndim, const int64_t *dims) {
    fv_status st = fv_nn_run(m);
    if (st != FV_OK) {
        CHECK_FAIL("run: %s: %s", fv_status_name(st), fv_nn_errmsg(m));
        return NULL;
    }
    fv_nn_tensor t;
    if (fv_nn_output(m, index, &t) != FV_OK) {
        CHECK_FAIL("output %d: %s", index, fv_nn_errmsg(m));
        return NULL;
    }
    int same = t.ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t.dims[i] == dims[i];
    if (!same) {
        char got[128] = "", want[128] = "";
        for (int i = 0; i < t.ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%lld ", (long long)t.dims[i]);
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%lld ", (long long)dims[i]);
        CHECK_FAIL("output dims [%s] != expected [%s]", got, want);
        return NULL;
    }
    return t.data;
}

/* max |got - want| <= 1e-4 * max(1e-3, max |want|); returns 0 when close. */
static int compare(const char *what, const float *got, const float *want, size_t n) {
    double scale = 1e-3, worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= worst)) {
            worst = d;
            at = i;
        }
    }
    if (!(worst <= 1e-4 * scale)) {
        CHECK_FAIL("%s: element %zu: got %.7g, want %.7g (max diff %.3g, scale %.3g)", what, at,
                   got[at], want[at], worst, scale);
        return -1;
    }
    return 0;
}

/* Builds, opens, feeds input x, runs and compares output 0 with want (dims given). */
static void check_model(const char *what, ob_model *b, const float *x, size_t nx, int ndim,
                        const int64_t *dims, const float *want) {
    fv_nn_model *m = open_built(b);
    if (m == NULL) return;
    if (x == NULL || set_input(m, 0, x, nx) == 0) {
        const float *y = run_get(m, 0, ndim, dims);
        if (y) compare(what, y, want, numel_of(ndim, dims));
    }
    fv_nn_close(m);
}

/* Index of a broadcast operand element for output position `flat` (NumPy rules). */
static size_t bcast_index(size_t flat, int ynd, const int64_t *ydims, int nd, const int64_t *dims) {
    size_t idx = 0, stride = 1;
    for (int i = ynd - 1, j = nd - 1; i >= 0; i--, j--) {
        size_t coord = flat % (size_t)ydims[i];
        flat /= (size_t)ydims[i];
        if (j >= 0) {
            if (dims[j] != 1) idx += coord * stride;
            stride *= (size_t)dims[j];
        }
    }
    return idx;
}

/* ---- unary --------------------------------------------------------------------------------- */

static void test_unary(void) {
    const char *ops[4] = {"Relu", "Sigmoid", "Exp", "Identity"};
    int64_t d[4] = {2, 3, 4, 5};
    float x[120], want[120];
    fill_rand(x, 120);
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 120; i++) {
            double v = x[i] * 3.0;
            double r = k == 0   ? (v > 0 ? v : 0)
                       : k == 1 ? 1.0 / (1.0 + exp(-v))
                       : k == 2 ? exp(v)
                                : v;
            want[i] = (float)r;
        }
        float x3[120];
        for (int i = 0; i < 120; i++) x3[i] = x[i] * 3.0f;
        ob_model *b = ob_new(13);
        ob_input(b, "x", 4, d);
        ob_node(b, ops[k], ops[k], "x", "y");
        ob_output(b, "y");
        check_model(ops[k], b, x3, 120, 4, d, want);
    }
}

static void test_prelu(void) {
    int64_t d[4] = {2, 3, 4, 5};
    float x[120], want[120];
    fill_rand(x, 120);
    /* slope [C,1,1] per channel, [5] along the last axis, and a scalar [1] */
    int64_t sd1[3] = {3, 1, 1}, sd2[1] = {5}, sd3[1] = {1};
    const int64_t *sds[3] = {sd1, sd2, sd3};
    int snd[3] = {3, 1, 1};
    float slope[5] = {0.25f, -0.5f, 2.0f, 0.1f, 0.0f};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < 120; i++) {
            size_t c = (i / 20) % 3, w = i % 5;
            float s = k == 0 ? slope[c] : k == 1 ? slope[w] : slope[0];
            want[i] = x[i] < 0 ? x[i] * s : x[i];
        }
        ob_model *b = ob_new(9);
        ob_input(b, "x", 4, d);
        ob_init_float(b, "s", snd[k], sds[k], slope);
        ob_node(b, "PRelu", "prelu", "x,s", "y");
        ob_output(b, "y");
        check_model("prelu", b, x, 120, 4, d, want);
    }
}

/* ---- binary with broadcasting -------------------------------------------------------------- */

static void test_binary_broadcast(void) {
    const char *ops[4] = {"Add", "Sub", "Mul", "Div"};
    int64_t xd[4] = {2, 3, 4, 5};
    struct {
        int nd;
        int64_t d[4];
    } cs[] = {
        {4, {2, 3, 4, 5}}, {1, {5}},    {3, {3, 1, 1}},    {0, {0}},
        {4, {2, 1, 4, 1}}, {2, {4, 1}}, {4, {1, 3, 1, 5}}, {1, {1}},
    };
    float x[120], c[120], want[120];
    fill_rand(x, 120);
    for (int i = 0; i < 120; i++) c[i] = 0.5f + (frand() + 1.0f) * 0.5f; /* [0.5, 1.5): no 0 */
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
        for (int k = 0; k < 4; k++) {
            for (int order = 0; order < 2; order++) {
                for (size_t i = 0; i < 120; i++) {
                    float cv = c[bcast_index(i, 4, xd, cs[ci].nd, cs[ci].d)];
                    float a = order ? cv : x[i], bb = order ? x[i] + 3.0f : cv;
                    want[i] = k == 0 ? a + bb : k == 1 ? a - bb : k == 2 ? a * bb : a / bb;
                }
                float xin[120];
                for (int i = 0; i < 120; i++) xin[i] = order ? x[i] + 3.0f : x[i];
                ob_model *b = ob_new(13);
                ob_input(b, "x", 4, xd);
                ob_init_float(b, "c", cs[ci].nd, cs[ci].d, c);
                ob_node(b, ops[k], ops[k], order ? "c,x" : "x,c", "y");
                ob_output(b, "y");
                char what[64];
                snprintf(what, sizeof what, "%s case %zu order %d", ops[k], ci, order);
                check_model(what, b, xin, 120, 4, xd, want);
            }
        }
    }
    /* two run-time inputs, both broadcast: [3,1,5] + [4,1] -> [3,4,5] */
    int64_t ad[3] = {3, 1, 5}, bd[2] = {4, 1}, yd[3] = {3, 4, 5};
    float a[15], bv[4], y[60];
    fill_rand(a, 15);
    fill_rand(bv, 4);
    for (size_t i = 0; i < 60; i++)
        y[i] = a[bcast_index(i, 3, yd, 3, ad)] * bv[bcast_index(i, 3, yd, 2, bd)];
    ob_model *b = ob_new(13);
    ob_input(b, "a", 3, ad);
    ob_input(b, "b", 2, bd);
    ob_node(b, "Mul", "mul", "a,b", "y");
    ob_output(b, "y");
    fv_nn_model *m = open_built(b);
    if (m && set_input(m, 0, a, 15) == 0 && set_input(m, 1, bv, 4) == 0) {
        const float *got = run_get(m, 0, 3, yd);
        if (got) compare("mul two inputs", got, y, 60);
    }
    fv_nn_close(m);
}

/* int64 Add/Sub/Mul/Div (with broadcasting) folded at prepare; observed through Reshape. */
static void test_binary_int64(void) {
    int64_t xd[4] = {2, 3, 4, 5}, one[1] = {1}, four[1] = {4};
    int64_t two = 2, div[4] = {4, 1, 1, 1}, sub[4] = {0, 0, 4, 5}, zero = 0;
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, xd);
    ob_init_int64(b, "two", 1, one, &two); /* [1]: broadcast */
    ob_init_int64(b, "div", 1, four, div);
    ob_init_int64(b, "sub", 1, four, sub);
    ob_init_int64(b, "zero", 0, NULL, &zero); /* scalar */
    ob_node(b, "Shape", "shape", "x", "s");   /* [2,3,4,5] */
    ob_node(b, "Mul", "mul", "s,two", "s1");  /* [4,6,8,10] */
    ob_node(b, "Div", "div", "s1,div", "s2"); /* [1,6,8,10] */
    ob_node(b, "Sub", "sub", "s2,sub", "s3"); /* [1,6,4,5] */
    ob_node(b, "Add", "add", "s3,zero", "s4");
    ob_node(b, "Reshape", "reshape", "x,s4", "y");
    ob_output(b, "y");
    float x[120];
    fill_rand(x, 120);
    int64_t yd[4] = {1, 6, 4, 5};
    check_model("int64 arithmetic", b, x, 120, 4, yd, x);
}

/* ---- normalisation, dense, softmax, pooling ------------------------------------------------ */

static void test_batchnorm(void) {
    int64_t xd[4] = {2, 3, 4, 5}, cd[1] = {3};
    float x[120], want[120], g[3] = {1.5f, -0.5f, 2.0f}, be[3] = {0.1f, 0.2f, -0.3f},
                             mu[3] = {0.3f, -0.2f, 0.0f}, var[3] = {0.5f, 2.0f, 1.0f};
    fill_rand(x, 120);
    float eps = 1e-3f;
    for (size_t i = 0; i < 120; i++) {
        size_t c = (i / 20) % 3;
        want[i] = (float)((x[i] - mu[c]) / sqrt((double)var[c] + eps) * g[c] + be[c]);
    }
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, xd);
    ob_init_float(b, "g", 1, cd, g);
    ob_init_float(b, "be", 1, cd, be);
    ob_init_float(b, "mu", 1, cd, mu);
    ob_init_float(b, "var", 1, cd, var);
    ob_node(b, "BatchNormalization", "bn", "x,g,be,mu,var", "y");
    ob_attr_float(b, "epsilon", eps);
    ob_output(b, "y");
    check_model("batchnorm", b, x, 120, 4, xd, want);
}

static void test_gemm(void) {
    enum { M = 3, K = 19, N = 13 };
    float a[M * K], w[K * N], c[M * N], want[M * N];
    fill_rand(a, M * K);
    fill_rand(w, K * N);
    fill_rand(c, M * N);
    struct {
        int nd;
        int64_t d[2];
    } cs[] = {{1, {N}}, {2, {M, 1}}, {2, {M, N}}, {2, {1, N}}, {0, {0}}, {-1, {0}}};
    for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
            for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
                float alpha = 0.75f, beta = ci == 2 ? 1.0f : -1.25f;
                /* A as given to the model: [M,K] or, with transA, its transpose [K,M] */
                float ain[M * K], win[K * N];
                for (int i = 0; i < M; i++)
                    for (int k = 0; k < K; k++) ain[ta ? k * M + i : i * K + k] = a[i * K + k];
                for (int k = 0; k < K; k++)
                    for (int j = 0; j < N; j++) win[tb ? j * K + k : k * N + j] = w[k * N + j];
                int cnd = cs[ci].nd;
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) {
                        double s = 0;
                        for (int k = 0; k < K; k++) s += (double)a[i * K + k] * w[k * N + j];
                        double cv = 0;
                        if (cnd >= 0) {
                            int64_t yd[2] = {M, N};
                            cv = c[bcast_index((size_t)(i * N + j), 2, yd, cnd, cs[ci].d)];
                        }
                        want[i * N + j] = (float)(alpha * s + beta * cv);
                    }
                }
                int64_t ad[2] = {ta ? K : M, ta ? M : K}, wd[2] = {tb ? N : K, tb ? K : N};
                ob_model *b = ob_new(13);
                ob_input(b, "a", 2, ad);
                ob_init_float(b, "w", 2, wd, win);
                if (cnd >= 0) ob_init_float(b, "c", cnd, cs[ci].d, c);
                ob_node(b, "Gemm", "gemm", cnd >= 0 ? "a,w,c" : "a,w", "y");
                ob_attr_int(b, "transA", ta);
                ob_attr_int(b, "transB", tb);
                ob_attr_float(b, "alpha", alpha);
                if (ci != 2) ob_attr_float(b, "beta", beta);
                ob_output(b, "y");
                char what[64];
                snprintf(what, sizeof what, "gemm transA %d transB %d C case %zu", ta, tb, ci);
                int64_t yd[2] = {M, N};
                check_model(what, b, ain, M * K, 2, yd, want);
            }
        }
    }
}

static void test_matmul(void) {
    /* [2,3,7] x [7,5] and [4,9] x [9,33] */
    int64_t shapes[2][4] = {{2 * 3, 7, 5, 3}, {4, 9, 33, 2}};
    for (int t = 0; t < 2; t++) {
        int rows = (int)shapes[t][0], K = (int)shapes[t][1], N = (int)shapes[t][2];
        int nd = (int)shapes[t][3];
        float *a = malloc(sizeof(float) * (size_t)(rows * K));
        float *w = malloc(sizeof(float) * (size_t)(K * N));
        float *want = malloc(sizeof(float) * (size_t)(rows * N));
        fill_rand(a, (size_t)(rows * K));
        fill_rand(w, (size_t)(K * N));
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double)a[i * K + k] * w[k * N + j];
                want[i * N + j] = (float)s;
            }
        int64_t ad[3], yd[3], wd[2] = {K, N};
        if (nd == 3) {
            ad[0] = 2;
            ad[1] = 3;
            ad[2] = K;
        } else {
            ad[0] = rows;
            ad[1] = K;
        }
        memcpy(yd, ad, sizeof yd);
        yd[nd - 1] = N;
        ob_model *b = ob_new(13);
        ob_input(b, "a", nd, ad);
        ob_init_float(b, "w", 2, wd, w);
        ob_node(b, "MatMul", "mm", "a,w", "y");
        ob_output(b, "y");
        check_model("matmul", b, a, (size_t)(rows * K), nd, yd, want);
        free(a);
        free(w);
        free(want);
    }
}

/* Softmax over groups: `outer` blocks of `len` elements spaced `inner` apart. */
static void softmax_ref(const float *x, float *y, size_t outer, size_t len, size_t inner) {
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            double mx = -1e30, sum = 0;
            for (size_t k = 0; k < len; k++) mx = fmax(mx, x[(o * len + k) * inner + i]);
            for (size_t k = 0; k < len; k++) sum += exp(x[(o * len + k) * inner + i] - mx);
            for (size_t k = 0; k < len; k++)
                y[(o * len + k) * inner + i] =
                    (float)(exp(x[(o * len + k) * inner + i] - mx) / sum);
        }
}

static void test_softmax(void) {
    int64_t d[3] = {2, 3, 4};
    float x[24], want[24];
    fill_rand(x, 24);
    for (int i = 0; i < 24; i++) x[i] *= 4.0f;
    struct {
        int opset, axis;
        size_t outer, len, inner;
    } cs[] = {
        {9, 1, 2, 12, 1}, /* opset < 13: coerced to [2, 12] */
        {9, 2, 6, 4, 1},   {11, -2, 2, 12, 1},
        {9, 99, 0, 0, 0}, /* default axis (1) when attribute left out: see below */
        {13, 1, 2, 3, 4}, /* opset 13: along axis 1 only */
        {13, -1, 6, 4, 1}, {13, 0, 1, 2, 12},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        ob_model *b = ob_new(cs[i].opset);
        ob_input(b, "x", 3, d);
        ob_node(b, "Softmax", "sm", "x", "y");
        if (cs[i].axis != 99) {
            ob_attr_int(b, "axis", cs[i].axis);
            softmax_ref(x, want, cs[i].outer, cs[i].len, cs[i].inner);
        } else {
            softmax_ref(x, want, 2, 12, 1);
        }
        ob_output(b, "y");
        char what[64];
        snprintf(what, sizeof what, "softmax opset %d axis %d", cs[i].opset, cs[i].axis);
        check_model(what, b, x, 24, 3, d, want);
    }
    /* opset 13 default axis -1 */
    ob_model *b = ob_new(13);
    ob_input(b, "x", 3, d);
    ob_node(b, "Softmax", "sm", "x", "y");
    ob_output(b, "y");
    softmax_ref(x, want, 6, 4, 1);
    check_model("softmax opset 13 default", b, x, 24, 3, d, want);
}

static void test_global_avg_pool(void) {
    int64_t d[4] = {2, 3, 5, 7}, yd[4] = {2, 3, 1, 1};
    float x[210], want[6];
    fill_rand(x, 210);
    for (int p = 0; p < 6; p++) {
        double s = 0;
        for (int i = 0; i < 35; i++) s += x[p * 35 + i];
        want[p] = (float)(s / 35);
    }
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, d);
    ob_node(b, "GlobalAveragePool", "gap", "x", "y");
    ob_output(b, "y");
    check_model("gap", b, x, 210, 4, yd, want);
}

/* ---- layout -------------------------------------------------------------------------------- */

static void test_concat(void) {
    int64_t xd[3] = {2, 3, 4}, cd1[3] = {2, 2, 4}, cd2[3] = {2, 3, 1};
    float x[24], c[16], want[40];
    fill_rand(x, 24);
    fill_rand(c, 16);
    /* axis 1: [2,3,4] ++ [2,2,4] -> [2,5,4], x first then c */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 5; j++)
            for (int k = 0; k < 4; k++)
                want[(i * 5 + j) * 4 + k] =
                    j < 3 ? x[(i * 3 + j) * 4 + k] : c[(i * 2 + j - 3) * 4 + k];
    ob_model *b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_float(b, "c", 3, cd1, c);
    ob_node(b, "Concat", "cat", "x,c", "y");
    ob_attr_int(b, "axis", 1);
    ob_output(b, "y");
    int64_t yd1[3] = {2, 5, 4};
    check_model("concat axis 1", b, x, 24, 3, yd1, want);
    /* axis -1, three inputs: c2 ++ x ++ c2 -> [2,3,6] */
    for (int r = 0; r < 6; r++)
        for (int k = 0; k < 6; k++)
            want[r * 6 + k] = k == 0 ? c[r] : k == 5 ? c[r] : x[r * 4 + k - 1];
    b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_float(b, "c", 3, cd2, c);
    ob_node(b, "Concat", "cat", "c,x,c", "y");
    ob_attr_int(b, "axis", -1);
    ob_output(b, "y");
    int64_t yd2[3] = {2, 3, 6};
    check_model("concat axis -1", b, x, 24, 3, yd2, want);
}

static void test_reshape(void) {
    int64_t xd[4] = {2, 3, 4, 5}, sd[1] = {3};
    float x[120];
    fill_rand(x, 120);
    struct {
        int64_t s[3];
        int64_t y[3];
    } cs[] = {
        {{0, -1, 5}, {2, 12, 5}},
        {{-1, 0, 10}, {4, 3, 10}},
        {{6, 4, 5}, {6, 4, 5}},
        {{0, 0, -1}, {2, 3, 20}},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        ob_model *b = ob_new(13);
        ob_input(b, "x", 4, xd);
        ob_init_int64(b, "s", 1, sd, cs[i].s);
        ob_node(b, "Reshape", "reshape", "x,s", "r");
        ob_node(b, "Relu", "relu", "r", "y"); /* not a pure copy of the graph input */
        ob_output(b, "y");
        float want[120];
        for (int k = 0; k < 120; k++) want[k] = x[k] > 0 ? x[k] : 0;
        check_model("reshape", b, x, 120, 3, cs[i].y, want);
    }
}

/* int32 initializers (raw_data of 4-byte values) are widened to int64, negatives included. */
static void test_reshape_int32_shape(void) {
    int64_t xd[4] = {2, 3, 4, 5}, sd[1] = {3}, yd[3] = {2, 12, 5};
    int32_t shp[3] = {2, -1, 5};
    float x[120];
    fill_rand(x, 120);
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, xd);
    ob_init_raw(b, "s", OB_INT32, 1, sd, shp, sizeof shp);
    ob_node(b, "Reshape", "reshape", "x,s", "y");
    ob_output(b, "y");
    check_model("reshape int32 shape", b, x, 120, 3, yd, x);
}

static void test_flatten(void) {
    int64_t xd[4] = {2, 3, 4, 5};
    float x[120];
    fill_rand(x, 120);
    struct {
        int axis;
        int64_t y[2];
    } cs[] = {{0, {1, 120}}, {1, {2, 60}}, {2, {6, 20}}, {-1, {24, 5}}, {4, {120, 1}}};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        ob_model *b = ob_new(13);
        ob_input(b, "x", 4, xd);
        ob_node(b, "Flatten", "flat", "x", "y");
        ob_attr_int(b, "axis", cs[i].axis);
        ob_output(b, "y");
        check_model("flatten", b, x, 120, 2, cs[i].y, x);
    }
}

static void test_transpose(void) {
    int64_t xd[4] = {2, 3, 4, 5};
    float x[120], want[120];
    fill_rand(x, 120);
    int64_t perms[3][4] = {{0, 2, 3, 1}, {3, 1, 0, 2}, {3, 2, 1, 0}};
    for (int t = 0; t < 3; t++) {
        const int64_t *p = perms[t];
        int64_t yd[4];
        for (int i = 0; i < 4; i++) yd[i] = xd[p[i]];
        for (int i0 = 0; i0 < yd[0]; i0++)
            for (int i1 = 0; i1 < yd[1]; i1++)
                for (int i2 = 0; i2 < yd[2]; i2++)
                    for (int i3 = 0; i3 < yd[3]; i3++) {
                        int64_t yi[4] = {i0, i1, i2, i3}, xi[4];
                        for (int k = 0; k < 4; k++) xi[p[k]] = yi[k];
                        size_t xo = (size_t)(((xi[0] * 3 + xi[1]) * 4 + xi[2]) * 5 + xi[3]);
                        size_t yo = (size_t)(((i0 * yd[1] + i1) * yd[2] + i2) * yd[3] + i3);
                        want[yo] = x[xo];
                    }
        ob_model *b = ob_new(13);
        ob_input(b, "x", 4, xd);
        ob_node(b, "Transpose", "tr", "x", "y");
        if (t < 2) ob_attr_ints(b, "perm", 4, p); /* t == 2: the default (reversed) */
        ob_output(b, "y");
        check_model("transpose", b, x, 120, 4, yd, want);
    }
}

/* Slice reference on a [2,3,4,5] tensor: per axis start/step/count already resolved. */
static void slice_ref(const float *x, const int64_t st[4], const int64_t step[4],
                      const int64_t cnt[4], float *y) {
    size_t k = 0;
    for (int64_t a = 0; a < cnt[0]; a++)
        for (int64_t b = 0; b < cnt[1]; b++)
            for (int64_t c = 0; c < cnt[2]; c++)
                for (int64_t d = 0; d < cnt[3]; d++) {
                    int64_t i0 = st[0] + a * step[0], i1 = st[1] + b * step[1],
                            i2 = st[2] + c * step[2], i3 = st[3] + d * step[3];
                    y[k++] = x[((i0 * 3 + i1) * 4 + i2) * 5 + i3];
                }
}

static void test_slice(void) {
    int64_t xd[4] = {2, 3, 4, 5};
    float x[120], want[120];
    fill_rand(x, 120);
    /* opset 9 attributes: axes 1 and 3; start 1..3 on axis 1; start -4 (=1), end huge on 3 */
    {
        int64_t st[2] = {1, -4}, en[2] = {3, 1000}, ax[2] = {1, 3};
        ob_model *b = ob_new(9);
        ob_input(b, "x", 4, xd);
        ob_node(b, "Slice", "slice", "x", "y");
        ob_attr_ints(b, "starts", 2, st);
        ob_attr_ints(b, "ends", 2, en);
        ob_attr_ints(b, "axes", 2, ax);
        ob_output(b, "y");
        int64_t s4[4] = {0, 1, 0, 1}, p4[4] = {1, 1, 1, 1}, c4[4] = {2, 2, 4, 4};
        slice_ref(x, s4, p4, c4, want);
        check_model("slice opset 9", b, x, 120, 4, c4, want);
    }
    /* opset 9 without axes: leading axes; negative end */
    {
        int64_t st[2] = {0, 1}, en[2] = {1, -1};
        ob_model *b = ob_new(9);
        ob_input(b, "x", 4, xd);
        ob_node(b, "Slice", "slice", "x", "y");
        ob_attr_ints(b, "starts", 2, st);
        ob_attr_ints(b, "ends", 2, en);
        ob_output(b, "y");
        int64_t s4[4] = {0, 1, 0, 0}, p4[4] = {1, 1, 1, 1}, c4[4] = {1, 1, 4, 5};
        slice_ref(x, s4, p4, c4, want);
        check_model("slice opset 9 no axes", b, x, 120, 4, c4, want);
    }
    /* a 0-D input with empty starts/ends: a copy of the scalar */
    {
        int64_t zero[1] = {0}, dummy = 0;
        float sx = -2.5f;
        ob_model *b = ob_new(13);
        ob_input(b, "x", 0, NULL);
        ob_init_int64(b, "st", 1, zero, &dummy);
        ob_init_int64(b, "en", 1, zero, &dummy);
        ob_node(b, "Slice", "slice", "x,st,en", "y");
        ob_output(b, "y");
        check_model("slice of a scalar", b, &sx, 1, 0, NULL, &sx);
    }
    /* opset 13 inputs with negative steps */
    struct {
        int n;
        int64_t st[3], en[3], ax[3], sp[3];
        int64_t s4[4], p4[4], c4[4];
    } cs[] = {
        /* whole last axis reversed: start -1, end "minus infinity" */
        {1, {-1}, {INT64_MIN}, {3}, {-1}, {0, 0, 0, 4}, {1, 1, 1, -1}, {2, 3, 4, 5}},
        /* axis 2 from 3 down to (excluding) 0 by -2: 3, 1 */
        {1, {3}, {0}, {2}, {-2}, {0, 0, 3, 0}, {1, 1, -2, 1}, {2, 3, 2, 5}},
        /* axis -1 by 2 from 0; axis 0 from 1 to end; axis 1 start past end clamps, step -1 */
        {3,
         {0, 1, 10},
         {INT64_MAX, 5, 0},
         {-1, 0, 1},
         {2, 1, -1},
         {1, 2, 0, 0},
         {1, -1, 1, 2},
         {1, 2, 4, 3}},
        /* empty along axis 1 when start == end */
        {1, {2}, {2}, {1}, {1}, {0, 2, 0, 0}, {1, 1, 1, 1}, {2, 0, 4, 5}},
        /* step larger than the axis */
        {1, {1}, {4}, {2}, {100}, {0, 0, 1, 0}, {1, 1, 1, 1}, {2, 3, 1, 5}},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        int64_t nd[1] = {cs[i].n};
        ob_model *b = ob_new(13);
        ob_input(b, "x", 4, xd);
        ob_init_int64(b, "st", 1, nd, cs[i].st);
        ob_init_int64(b, "en", 1, nd, cs[i].en);
        ob_init_int64(b, "ax", 1, nd, cs[i].ax);
        ob_init_int64(b, "sp", 1, nd, cs[i].sp);
        ob_node(b, "Slice", "slice", "x,st,en,ax,sp", "y");
        ob_output(b, "y");
        slice_ref(x, cs[i].s4, cs[i].p4, cs[i].c4, want);
        char what[64];
        snprintf(what, sizeof what, "slice opset 13 case %zu", i);
        if (numel_of(4, cs[i].c4) == 0) {
            /* an empty output: only the shape can be checked */
            fv_nn_model *m = open_built(b);
            if (m && set_input(m, 0, x, 120) == 0) (void)run_get(m, 0, 4, cs[i].c4);
            fv_nn_close(m);
            continue;
        }
        check_model(what, b, x, 120, 4, cs[i].c4, want);
    }
}

/* Shape is observed by reshaping a second, flat input to the first input's shape. */
static void test_shape(void) {
    int64_t xd[4] = {2, 3, 4, 5}, zd[1] = {120}, zd2[1] = {60};
    float z[120];
    fill_rand(z, 120);
    ob_model *b = ob_new(13);
    ob_input(b, "z", 1, zd);
    ob_input(b, "x", 4, xd);
    ob_node(b, "Shape", "shape", "x", "s");
    ob_node(b, "Reshape", "reshape", "z,s", "y");
    ob_output(b, "y");
    check_model("shape", b, z, 120, 4, xd, z);
    /* opset 15 start/end: dims[1:] = [3,4,5] */
    b = ob_new(15);
    ob_input(b, "z", 1, zd2);
    ob_input(b, "x", 4, xd);
    ob_node(b, "Shape", "shape", "x", "s");
    ob_attr_int(b, "start", 1);
    ob_node(b, "Reshape", "reshape", "z,s", "y");
    ob_output(b, "y");
    check_model("shape start", b, z, 60, 3, xd + 1, z);
    int64_t zd3[1] = {12};
    b = ob_new(15);
    ob_input(b, "z", 1, zd3);
    ob_input(b, "x", 4, xd);
    ob_node(b, "Shape", "shape", "x", "s");
    ob_attr_int(b, "start", -3);
    ob_attr_int(b, "end", -1); /* [3,4] */
    ob_node(b, "Reshape", "reshape", "z,s", "y");
    ob_output(b, "y");
    check_model("shape start end", b, z, 12, 2, xd + 1, z);
}

static void test_gather(void) {
    int64_t xd[3] = {2, 3, 4};
    float x[24], want[64];
    fill_rand(x, 24);
    /* axis 1, indices [2, 0, -1] -> [2,3,4] */
    int64_t idx[4] = {2, 0, -1, 1}, id1[1] = {3};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            int64_t s = idx[j] < 0 ? idx[j] + 3 : idx[j];
            for (int k = 0; k < 4; k++) want[(i * 3 + j) * 4 + k] = x[(i * 3 + s) * 4 + k];
        }
    ob_model *b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_int64(b, "i", 1, id1, idx);
    ob_node(b, "Gather", "gather", "x,i", "y");
    ob_attr_int(b, "axis", 1);
    ob_output(b, "y");
    check_model("gather axis 1", b, x, 24, 3, xd, want);
    /* scalar index on axis -1: [2,3] */
    int64_t two = 2;
    for (int r = 0; r < 6; r++) want[r] = x[r * 4 + 2];
    b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_int64(b, "i", 0, NULL, &two);
    ob_node(b, "Gather", "gather", "x,i", "y");
    ob_attr_int(b, "axis", -1);
    ob_output(b, "y");
    check_model("gather scalar", b, x, 24, 2, xd, want);
    /* 2-D indices on axis 0 (default): [[1,0],[1,1]] -> [2,2,3,4] */
    int64_t id2[2] = {2, 2}, idx2[4] = {1, 0, 1, 1}, yd[4] = {2, 2, 3, 4};
    for (int q = 0; q < 4; q++)
        for (int r = 0; r < 12; r++) want[q * 12 + r] = x[idx2[q] * 12 + r];
    b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_int64(b, "i", 2, id2, idx2);
    ob_node(b, "Gather", "gather", "x,i", "y");
    ob_output(b, "y");
    check_model("gather 2-D indices", b, x, 24, 4, yd, want);
}

static void test_unsqueeze_squeeze(void) {
    int64_t xd[3] = {3, 1, 4};
    float x[12];
    fill_rand(x, 12);
    /* opset 11 attributes */
    int64_t ax[2] = {0, 3}, yd[5] = {1, 3, 1, 1, 4};
    ob_model *b = ob_new(11);
    ob_input(b, "x", 3, xd);
    ob_node(b, "Unsqueeze", "us", "x", "y");
    ob_attr_ints(b, "axes", 2, ax);
    ob_output(b, "y");
    check_model("unsqueeze opset 11", b, x, 12, 5, yd, x);
    /* opset 13 input axes, negative */
    int64_t one[1] = {1}, axn = -1, yd2[4] = {3, 1, 4, 1};
    b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_int64(b, "a", 1, one, &axn);
    ob_node(b, "Unsqueeze", "us", "x,a", "y");
    ob_output(b, "y");
    check_model("unsqueeze opset 13", b, x, 12, 4, yd2, x);
    /* Squeeze opset 11 axes [1] */
    int64_t a1 = 1, yd3[2] = {3, 4};
    b = ob_new(11);
    ob_input(b, "x", 3, xd);
    ob_node(b, "Squeeze", "sq", "x", "y");
    ob_attr_ints(b, "axes", 1, &a1);
    ob_output(b, "y");
    check_model("squeeze opset 11", b, x, 12, 2, yd3, x);
    /* Squeeze without axes drops every 1 */
    int64_t xd4[5] = {1, 3, 1, 4, 1};
    b = ob_new(13);
    ob_input(b, "x", 5, xd4);
    ob_node(b, "Squeeze", "sq", "x", "y");
    ob_output(b, "y");
    check_model("squeeze all", b, x, 12, 2, yd3, x);
    /* Squeeze opset 13 input axes [-2] */
    int64_t am2 = -2;
    b = ob_new(13);
    ob_input(b, "x", 3, xd);
    ob_init_int64(b, "a", 1, one, &am2);
    ob_node(b, "Squeeze", "sq", "x,a", "y");
    ob_output(b, "y");
    check_model("squeeze opset 13", b, x, 12, 2, yd3, x);
}

static void test_constant(void) {
    int64_t xd[2] = {2, 3};
    float x[6], cv[6] = {1, -2, 3.5f, 4, -5, 6}, want[6];
    fill_rand(x, 6);
    /* value tensor */
    for (int i = 0; i < 6; i++) want[i] = x[i] + cv[i];
    ob_model *b = ob_new(13);
    ob_input(b, "x", 2, xd);
    ob_node(b, "Constant", "c", "", "k");
    ob_attr_tensor_float(b, "value", 2, xd, cv);
    ob_node(b, "Add", "add", "x,k", "y");
    ob_output(b, "y");
    check_model("constant value", b, x, 6, 2, xd, want);
    /* value_float (scalar) */
    for (int i = 0; i < 6; i++) want[i] = x[i] * 2.5f;
    b = ob_new(13);
    ob_input(b, "x", 2, xd);
    ob_node(b, "Constant", "c", "", "k");
    ob_attr_float(b, "value_float", 2.5f);
    ob_node(b, "Mul", "mul", "x,k", "y");
    ob_output(b, "y");
    check_model("constant value_float", b, x, 6, 2, xd, want);
    /* value_floats [3] broadcast on the last axis */
    for (int i = 0; i < 6; i++) want[i] = x[i] - cv[i % 3];
    b = ob_new(13);
    ob_input(b, "x", 2, xd);
    ob_node(b, "Constant", "c", "", "k");
    ob_attr_floats(b, "value_floats", 3, cv);
    ob_node(b, "Sub", "sub", "x,k", "y");
    ob_output(b, "y");
    check_model("constant value_floats", b, x, 6, 2, xd, want);
    /* value_ints as a Reshape target, and an int64 tensor value */
    int64_t shp[2] = {3, 2}, two[1] = {2};
    for (int pass = 0; pass < 2; pass++) {
        b = ob_new(13);
        ob_input(b, "x", 2, xd);
        ob_node(b, "Constant", "c", "", "s");
        if (pass == 0)
            ob_attr_ints(b, "value_ints", 2, shp);
        else
            ob_attr_tensor_int64(b, "value", 1, two, shp);
        ob_node(b, "Reshape", "reshape", "x,s", "y");
        ob_output(b, "y");
        check_model("constant ints", b, x, 6, 2, shp, x);
    }
}

/* ---- Conv ---------------------------------------------------------------------------------- */

typedef struct conv_case {
    int batch, cin, cout, group;
    int ih, iw; /* ih == 0: 1-D conv */
    int kh, kw, sh, sw, dh, dw;
    int pt, pl, pb, pr;
    const char *auto_pad; /* NULL: explicit pads */
    int bias;
} conv_case;

static const conv_case g_convs[] = {
    /* b  cin cout g   ih  iw  kh kw sh sw dh dw  pt pl pb pr  auto           bias */
    {1, 3, 5, 1, 13, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, 1},
    {1, 5, 7, 1, 11, 37, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, NULL, 1},
    {2, 7, 13, 1, 9, 33, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, NULL, 0},
    {1, 13, 17, 1, 10, 19, 5, 5, 1, 1, 1, 1, 2, 1, 0, 3, NULL, 1},
    {1, 4, 6, 2, 12, 15, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, NULL, 1},
    {1, 6, 4, 2, 17, 23, 4, 4, 3, 3, 2, 2, 0, 2, 1, 0, NULL, 1},
    {1, 17, 17, 17, 14, 23, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, 1},
    {2, 5, 5, 5, 15, 31, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, NULL, 1},
    {1, 7, 7, 7, 20, 41, 5, 5, 3, 3, 2, 2, 2, 2, 2, 2, NULL, 0},
    {1, 3, 3, 3, 9, 29, 4, 4, 2, 2, 1, 1, 0, 0, 0, 0, "SAME_LOWER", 1},
    {1, 13, 13, 13, 11, 50, 3, 3, 1, 1, 3, 3, 0, 0, 0, 0, "SAME_UPPER", 1},
    {1, 3, 8, 1, 16, 47, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, "SAME_UPPER", 1},
    {1, 5, 3, 1, 17, 50, 3, 3, 1, 1, 3, 3, 0, 0, 0, 0, "VALID", 1},
    {1, 3, 4, 1, 11, 65, 3, 5, 3, 1, 1, 3, 1, 2, 1, 2, NULL, 1},
    {1, 3, 6, 3, 10, 21, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, NULL, 1}, /* channel multiplier 2 */
    {1, 16, 33, 1, 8, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, 1},
    {2, 3, 16, 1, 7, 65, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, 1},
    {1, 8, 8, 2, 6, 9, 5, 5, 1, 2, 1, 1, 2, 2, 2, 2, "SAME_LOWER", 1},
    {1, 1, 1, 1, 5, 5, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, NULL, 1}, /* 1x1 output */
    {1, 5, 5, 5, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, NULL, 1}, /* window = whole plane */
    {2, 19, 19, 19, 3, 9, 3, 9, 1, 1, 1, 1, 0, 0, 0, 0, NULL, 0},
    {1, 9, 9, 9, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, NULL, 1}, /* small depthwise planes */
    {1, 6, 6, 6, 10, 6, 3, 3, 1, 1, 2, 2, 2, 1, 0, 2, NULL, 1},
    {2, 5, 5, 5, 5, 4, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, "SAME_UPPER", 1},
    {1, 11, 11, 11, 6, 13, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, NULL, 1},
    {2, 5, 7, 1, 0, 45, 1, 3, 1, 2, 1, 2, 0, 1, 0, 2, NULL, 1},         /* 1-D */
    {1, 4, 4, 4, 0, 30, 1, 4, 1, 1, 1, 1, 0, 0, 0, 0, "SAME_UPPER", 1}, /* 1-D depthwise */
    {1, 6, 3, 1, 0, 19, 1, 1, 1, 3, 1, 1, 0, 0, 0, 0, NULL, 0},         /* 1-D 1x1 stride 3 */
};

enum { ACT_NONE, ACT_RELU, ACT_PRELU, ACT_BN, ACT_BN_PRELU, ACT_COUNT };
static const char *const g_act_names[ACT_COUNT] = {"none", "relu", "prelu", "bn", "bn+prelu"};

typedef struct conv_data {
    float *x, *w, *b, *slope, *g, *be, *mu, *var;
    int oh, ow, pt, pl;
    size_t nx, ny;
} conv_data;

/* Output size and leading pads per the ONNX definition. */
static void conv_geometry(const conv_case *c, int *oh, int *ow, int *pt, int *pl) {
    int ih = c->ih ? c->ih : 1;
    int kh = c->ih ? c->kh : 1, dh = c->ih ? c->dh : 1, sh = c->ih ? c->sh : 1;
    int ekh = (kh - 1) * dh + 1, ekw = (c->kw - 1) * c->dw + 1;
    if (c->auto_pad && strcmp(c->auto_pad, "VALID") == 0) {
        *oh = (ih - ekh) / sh + 1;
        *ow = (c->iw - ekw) / c->sw + 1;
        *pt = *pl = 0;
    } else if (c->auto_pad) {
        *oh = (ih + sh - 1) / sh;
        *ow = (c->iw + c->sw - 1) / c->sw;
        int th = (*oh - 1) * sh + ekh - ih, tw = (*ow - 1) * c->sw + ekw - c->iw;
        if (th < 0) th = 0;
        if (tw < 0) tw = 0;
        int upper = strcmp(c->auto_pad, "SAME_UPPER") == 0;
        *pt = upper ? th / 2 : th - th / 2;
        *pl = upper ? tw / 2 : tw - tw / 2;
    } else {
        int pt_ = c->ih ? c->pt : 0, pb_ = c->ih ? c->pb : 0;
        *oh = (ih + pt_ + pb_ - ekh) / sh + 1;
        *ow = (c->iw + c->pl + c->pr - ekw) / c->sw + 1;
        *pt = pt_;
        *pl = c->pl;
    }
}

static void naive_conv(const conv_case *c, const conv_data *d, int act, float *y) {
    int ih = c->ih ? c->ih : 1, kh = c->ih ? c->kh : 1, sh = c->ih ? c->sh : 1,
        dh = c->ih ? c->dh : 1;
    int cg = c->cin / c->group, mg = c->cout / c->group;
    for (int n = 0; n < c->batch; n++)
        for (int o = 0; o < c->cout; o++) {
            int g = o / mg;
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++) {
                    double s = c->bias ? d->b[o] : 0.0;
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < c->kw; kx++) {
                                int iy = oy * sh - d->pt + ky * dh;
                                int ix = ox * c->sw - d->pl + kx * c->dw;
                                if (iy < 0 || iy >= ih || ix < 0 || ix >= c->iw) continue;
                                int ch = g * cg + ci;
                                s += (double)d->w[((o * cg + ci) * kh + ky) * c->kw + kx] *
                                     d->x[((n * c->cin + ch) * ih + iy) * c->iw + ix];
                            }
                    if (act == ACT_BN || act == ACT_BN_PRELU)
                        s = (s - d->mu[o]) / sqrt((double)d->var[o] + 1e-5) * d->g[o] + d->be[o];
                    if (act == ACT_RELU && s < 0) s = 0;
                    if ((act == ACT_PRELU || act == ACT_BN_PRELU) && s < 0) s *= d->slope[o];
                    y[((n * c->cout + o) * d->oh + oy) * d->ow + ox] = (float)s;
                }
        }
}

static unsigned char *conv_model_bytes(const conv_case *c, const conv_data *d, int act,
                                       size_t *len) {
    int one_d = c->ih == 0;
    int64_t xd[4] = {c->batch, c->cin, c->ih, c->iw};
    int64_t wd[4] = {c->cout, c->cin / c->group, c->kh, c->kw};
    if (one_d) {
        xd[2] = c->iw;
        wd[2] = c->kw;
    }
    int nd = one_d ? 3 : 4;
    int64_t cd[1] = {c->cout}, sd[3] = {c->cout, 1, 1};
    ob_model *b = ob_new(13);
    ob_input(b, "x", nd, xd);
    ob_init_float(b, "w", nd, wd, d->w);
    if (c->bias) ob_init_float(b, "b", 1, cd, d->b);
    ob_node(b, "Conv", "conv", c->bias ? "x,w,b" : "x,w", "c");
    if (c->group != 1) ob_attr_int(b, "group", c->group);
    int64_t ks[2] = {c->kh, c->kw}, st[2] = {c->sh, c->sw}, dl[2] = {c->dh, c->dw};
    int64_t pads[4] = {c->pt, c->pl, c->pb, c->pr};
    ob_attr_ints(b, "kernel_shape", nd - 2, one_d ? ks + 1 : ks);
    ob_attr_ints(b, "strides", nd - 2, one_d ? st + 1 : st);
    ob_attr_ints(b, "dilations", nd - 2, one_d ? dl + 1 : dl);
    if (c->auto_pad) {
        ob_attr_string(b, "auto_pad", c->auto_pad);
    } else if (one_d) {
        int64_t p2[2] = {c->pl, c->pr};
        ob_attr_ints(b, "pads", 2, p2);
    } else {
        ob_attr_ints(b, "pads", 4, pads);
    }
    const char *last = "c";
    if (act == ACT_BN || act == ACT_BN_PRELU) {
        ob_init_float(b, "g", 1, cd, d->g);
        ob_init_float(b, "be", 1, cd, d->be);
        ob_init_float(b, "mu", 1, cd, d->mu);
        ob_init_float(b, "var", 1, cd, d->var);
        ob_node(b, "BatchNormalization", "bn", "c,g,be,mu,var", "n");
        last = "n";
    }
    if (act == ACT_RELU) {
        ob_node(b, "Relu", "relu", last, "y");
    } else if (act == ACT_PRELU || act == ACT_BN_PRELU) {
        ob_init_float(b, "slope", one_d ? 2 : 3, sd, d->slope); /* [C,1,1] or [C,1] */
        char ins[32];
        snprintf(ins, sizeof ins, "%s,slope", last);
        ob_node(b, "PRelu", "prelu", ins, "y");
    } else {
        ob_node(b, "Identity", "id", last, "y");
    }
    ob_output(b, "y");
    return ob_finish(b, len);
}

/* How many conv opens chose each path (FV_CONV_PATH_*), to show every fast path was tested. */
static int g_path_seen[FV_CONV_PATH_REFERENCE + 1];

static int live_nodes(const fv_nn_model *m) {
    int k = 0;
    for (int i = 0; i < m->n_nodes; i++) k += !m->nodes[i].dead;
    return k;
}

static void conv_case_run(size_t ci) {
    const conv_case *c = &g_convs[ci];
    conv_data d;
    conv_geometry(c, &d.oh, &d.ow, &d.pt, &d.pl);
    int ih = c->ih ? c->ih : 1, kh = c->ih ? c->kh : 1;
    d.nx = (size_t)c->batch * (size_t)c->cin * (size_t)ih * (size_t)c->iw;
    d.ny = (size_t)c->batch * (size_t)c->cout * (size_t)d.oh * (size_t)d.ow;
    size_t nw = (size_t)c->cout * (size_t)(c->cin / c->group) * (size_t)kh * (size_t)c->kw;
    d.x = malloc(d.nx * sizeof(float));
    d.w = malloc(nw * sizeof(float));
    float *par = malloc(6 * (size_t)c->cout * sizeof(float));
    float *want = malloc(d.ny * sizeof(float)), *fast = calloc(d.ny, sizeof(float));
    d.b = par;
    d.slope = par + c->cout;
    d.g = par + 2 * c->cout;
    d.be = par + 3 * c->cout;
    d.mu = par + 4 * c->cout;
    d.var = par + 5 * c->cout;
    fill_rand(d.x, d.nx);
    fill_rand(d.w, nw);
    fill_rand(par, 5 * (size_t)c->cout);
    for (int o = 0; o < c->cout; o++) d.var[o] = 0.25f + (frand() + 1.0f);
    const char *cpus[3] = {NULL, "avx2", "generic"};
    for (int act = 0; act < ACT_COUNT; act++) {
        naive_conv(c, &d, act, want);
        size_t len;
        unsigned char *bytes = conv_model_bytes(c, &d, act, &len);
        for (int cpu = 0; cpu < 3; cpu++) {
            if (cpus[cpu])
                setenv("FV_CPU_MAX", cpus[cpu], 1);
            else
                unsetenv("FV_CPU_MAX");
            for (int ref = 0; ref < 2; ref++) {
                char what[160];
                snprintf(what, sizeof what, "conv case %zu act %s cpu %s%s", ci, g_act_names[act],
                         cpus[cpu] ? cpus[cpu] : "best", ref ? " reference" : "");
                fv_nn_model *m = NULL;
                fv_status st = fv_nn_open_memory(bytes, len, NULL, &m);
                if (st != FV_OK) {
                    CHECK_FAIL("%s: open: %s", what, fv_nn_errmsg(m));
                    fv_nn_close(m);
                    continue;
                }
                /* Conv+Relu, Conv+PRelu([C,1,1]), Conv+BN(+PRelu) fuse into one live node
                 * (plus the trailing Identity of "none" and "bn"); a 1-D PRelu ([C,1] slope)
                 * stays a node of its own. */
                int want_live = act == ACT_NONE || act == ACT_BN ? 2 : 1;
                if (c->ih == 0 && (act == ACT_PRELU || act == ACT_BN_PRELU)) want_live = 2;
                if (live_nodes(m) != want_live)
                    CHECK_FAIL("%s: %d live nodes, expected %d (fusion)", what, live_nodes(m),
                               want_live);
                for (int i = 0; i < m->n_nodes; i++) {
                    const fv__node *cn = &m->nodes[i];
                    if (cn->op == FV_OP_CONV && !cn->dead && cn->conv.path >= 0 &&
                        cn->conv.path <= FV_CONV_PATH_REFERENCE)
                        g_path_seen[cn->conv.path] += !ref;
                }
                if (ref) fv__nn_force_reference(m);
                int64_t yd[4] = {c->batch, c->cout, d.oh, d.ow};
                if (c->ih == 0) yd[2] = d.ow;
                if (set_input(m, 0, d.x, d.nx) == 0) {
                    const float *y = run_get(m, 0, c->ih ? 4 : 3, yd);
                    if (y) compare(what, y, want, d.ny);
                    /* fast path (kept from ref == 0) against the engine's reference kernel */
                    if (y && !ref) memcpy(fast, y, d.ny * sizeof(float));
                    if (y && ref) compare(what, fast, y, d.ny);
                }
                fv_nn_close(m);
            }
        }
        free(bytes);
    }
    unsetenv("FV_CPU_MAX");
    free(d.x);
    free(d.w);
    free(par);
    free(want);
    free(fast);
}

static void test_conv_paths(void) {
    for (size_t i = 0; i < sizeof g_convs / sizeof g_convs[0]; i++) conv_case_run(i);
    fprintf(stderr, "  conv opens per path:");
    for (int p = 0; p < FV_CONV_PATH_REFERENCE; p++) {
        fprintf(stderr, " %d", g_path_seen[p]);
        if (g_path_seen[p] == 0) CHECK_FAIL("no test case reached conv path %d", p);
    }
    fprintf(stderr, " (reference forced in as many)\n");
}

/* ---- resize -------------------------------------------------------------------------------- */

/* Conv 3x3 pad 1 (3->4) + Relu + GlobalAveragePool + Flatten on any H, W. */
static void small_net_ref(const float *x, const float *w, const float *bias, int n, int h, int wd,
                          float *y) {
    for (int b = 0; b < n; b++)
        for (int o = 0; o < 4; o++) {
            double acc = 0;
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < wd; ox++) {
                    double s = bias[o];
                    for (int c = 0; c < 3; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = oy - 1 + ky, ix = ox - 1 + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                s += (double)w[((o * 3 + c) * 3 + ky) * 3 + kx] *
                                     x[((b * 3 + c) * h + iy) * wd + ix];
                            }
                    acc += s > 0 ? s : 0;
                }
            y[b * 4 + o] = (float)(acc / (h * wd));
        }
}

static void test_resize_small(void) {
    float w[108], bias[4];
    fill_rand(w, 108);
    fill_rand(bias, 4);
    int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 3, 3, 3}, bd[1] = {4}, pads[4] = {1, 1, 1, 1};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, xd);
    ob_init_float(b, "w", 4, wd, w);
    ob_init_float(b, "b", 1, bd, bias);
    ob_node(b, "Conv", "conv_a", "x,w,b", "c");
    ob_attr_ints(b, "pads", 4, pads);
    ob_node(b, "Relu", "relu", "c", "r");
    ob_node(b, "GlobalAveragePool", "gap", "r", "p");
    ob_node(b, "Flatten", "flat", "p", "y");
    ob_output(b, "y");
    fv_nn_model *m = open_built(b);
    if (m == NULL) return;
    float x[2 * 3 * 12 * 10], want[8];
    struct {
        int n, h, w;
    } sizes[3] = {{1, 8, 8}, {2, 12, 10}, {1, 5, 7}};
    for (int s = 0; s < 3; s++) {
        int64_t nd[4] = {sizes[s].n, 3, sizes[s].h, sizes[s].w};
        if (s > 0) {
            fv_status st = fv_nn_resize_input(m, 0, nd, 4);
            CHECK_INT_EQ(st, FV_OK);
            if (st != FV_OK) break;
        }
        size_t nx = numel_of(4, nd);
        fill_rand(x, nx);
        small_net_ref(x, w, bias, sizes[s].n, sizes[s].h, sizes[s].w, want);
        int64_t yd[2] = {sizes[s].n, 4};
        if (set_input(m, 0, x, nx) == 0) {
            const float *y = run_get(m, 0, 2, yd);
            if (y) compare("resize small", y, want, (size_t)sizes[s].n * 4);
        }
    }
    /* wrong channel count: refused naming the conv; the model keeps its last shape and runs */
    int64_t bad[4] = {1, 5, 8, 8};
    fv_status st = fv_nn_resize_input(m, 0, bad, 4);
    CHECK_INT_EQ(st, FV_ERR_SHAPE);
    CHECK_STR_CONTAINS(fv_nn_errmsg(m), "conv_a");
    fv_nn_tensor in;
    CHECK_INT_EQ(fv_nn_input(m, 0, &in), FV_OK);
    CHECK_INT_EQ(in.dims[2], 5);
    CHECK_INT_EQ(in.dims[3], 7);
    fill_rand(x, 35 * 3);
    small_net_ref(x, w, bias, 1, 5, 7, want);
    int64_t yd[2] = {1, 4};
    if (set_input(m, 0, x, 105) == 0) {
        const float *y = run_get(m, 0, 2, yd);
        if (y) compare("after failed resize", y, want, 4);
    }
    /* too small for the kernel with pads: still fine (1x1 input, pad 1) */
    int64_t tiny[4] = {1, 3, 1, 1};
    CHECK_INT_EQ(fv_nn_resize_input(m, 0, tiny, 4), FV_OK);
    int64_t wrong_rank[3] = {1, 3, 8};
    CHECK(fv_nn_resize_input(m, 0, wrong_rank, 3) != FV_OK);
    CHECK(fv_nn_resize_input(m, 1, tiny, 4) == FV_ERR_ARG);
    fv_nn_close(m);
}

static void fill_pattern(fv_nn_model *m) {
    fv_nn_tensor in;
    if (fv_nn_input(m, 0, &in) != FV_OK) return;
    for (size_t i = 0; i < in.numel; i++) in.data[i] = (float)((i * 7919) % 255) / 127.5f - 1.0f;
}

static void test_resize_fr_feature(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fr_feature.onnx", models_dir());
    FILE *f = fopen(path, "rb");
    if (f == NULL) SKIP_TEST("%s not found (set FV_MODELS_DIR)", path);
    fclose(f);
    fv_nn_model *m = NULL;
    fv_status st = fv_nn_open_file(path, NULL, &m);
    CHECK_INT_EQ(st, FV_OK);
    if (st != FV_OK) {
        fprintf(stderr, "%s\n", fv_nn_errmsg(m));
        fv_nn_close(m);
        return;
    }
    fv_nn_tensor in, out;
    CHECK_INT_EQ(fv_nn_input(m, 0, &in), FV_OK);
    CHECK_INT_EQ(in.ndim, 4);
    fill_pattern(m);
    CHECK_INT_EQ(fv_nn_run(m), FV_OK);
    CHECK_INT_EQ(fv_nn_output(m, 0, &out), FV_OK);
    size_t n = out.numel;
    float *first = malloc(n * sizeof(float));
    memcpy(first, out.data, n * sizeof(float));
    /* the same shape again: a full re-plan that must give the same answer */
    int64_t same[4] = {1, 3, 112, 112};
    CHECK_INT_EQ(fv_nn_resize_input(m, 0, same, 4), FV_OK);
    fill_pattern(m);
    CHECK_INT_EQ(fv_nn_run(m), FV_OK);
    CHECK_INT_EQ(fv_nn_output(m, 0, &out), FV_OK);
    if (out.numel == n) compare("fr_feature after resize", out.data, first, n);
    /* a wrong shape: FV_ERR_SHAPE naming a node, and the model still runs as before */
    int64_t wrong[4] = {1, 4, 112, 112};
    st = fv_nn_resize_input(m, 0, wrong, 4);
    CHECK_INT_EQ(st, FV_ERR_SHAPE);
    CHECK_STR_CONTAINS(fv_nn_errmsg(m), "node '");
    fprintf(stderr, "  (expected) %s\n", fv_nn_errmsg(m));
    CHECK_INT_EQ(fv_nn_input(m, 0, &in), FV_OK);
    CHECK_INT_EQ(in.dims[1], 3);
    fill_pattern(m);
    CHECK_INT_EQ(fv_nn_run(m), FV_OK);
    CHECK_INT_EQ(fv_nn_output(m, 0, &out), FV_OK);
    if (out.numel == n) compare("fr_feature after failed resize", out.data, first, n);
    free(first);
    fv_nn_close(m);
}

int main(void) {
    RUN(test_unary);
    RUN(test_prelu);
    RUN(test_binary_broadcast);
    RUN(test_binary_int64);
    RUN(test_batchnorm);
    RUN(test_gemm);
    RUN(test_matmul);
    RUN(test_softmax);
    RUN(test_global_avg_pool);
    RUN(test_concat);
    RUN(test_reshape);
    RUN(test_reshape_int32_shape);
    RUN(test_flatten);
    RUN(test_transpose);
    RUN(test_slice);
    RUN(test_shape);
    RUN(test_gather);
    RUN(test_unsqueeze_squeeze);
    RUN(test_constant);
    RUN(test_conv_paths);
    RUN(test_resize_small);
    RUN(test_resize_fr_feature);
    return check_summary();
}
