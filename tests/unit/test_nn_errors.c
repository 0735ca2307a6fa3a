/*
 * test_nn_errors.c - malformed or unsupported models get a clear error, never a crash or leak.
 *
 * Covers: empty and random buffers; a real model (fr_landmark, from $FV_MODELS_DIR or the
 * source tree's models/; skipped with a message when absent) truncated at every 997th byte and
 * with bytes flipped; a small built model truncated at every length and with every byte flipped;
 * each loader/prepare check (unsupported op, custom domain, unsupported dtype, raw_data length,
 * undefined tensor, no inputs/outputs, absurd dims, bad opset, missing file, resize to a wrong
 * shape), checking the status AND the words of fv_nn_errmsg. Finally out-of-memory injection:
 * an allocator failing the Nth allocation, for every N until the open succeeds, on a small
 * model and on fr_landmark; every failing open must report FV_ERR_NOMEM and free everything
 * (counted here, and LeakSanitizer checks again in the ASan build).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/nn.h"
#include "onnx_build.h"
#include "test_paths.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 20, n = 0;
    unsigned char *p = malloc(cap);
    for (;;) {
        if (n == cap) p = realloc(p, cap *= 2);
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return p;
}

static unsigned char *landmark_model(size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/fr_landmark.onnx", models_dir());
    unsigned char *p = read_file(path, len);
    if (p == NULL) fprintf(stderr, "  %s not found (set FV_MODELS_DIR)\n", path);
    return p;
}

/* Opens bytes; when it opens, runs once. Returns the open status; checks the message. */
static fv_status try_open(const void *data, size_t len, char *msg, size_t msg_size) {
    fv_nn_model *m = NULL;
    fv_status st = fv_nn_open_memory(data, len, NULL, &m);
    if (st == FV_OK) {
        fv_status rs = fv_nn_run(m);
        if (rs != FV_OK) CHECK_FAIL("opened but failed to run: %s", fv_nn_errmsg(m));
    } else if (strlen(fv_nn_errmsg(m)) == 0 || strcmp(fv_nn_errmsg(m), "no error") == 0) {
        CHECK_FAIL("status %s without a message", fv_status_name(st));
    }
    if (msg) snprintf(msg, msg_size, "%s", fv_nn_errmsg(m));
    fv_nn_close(m);
    return st;
}

/* Builds and opens; checks the status and that the message contains every word given. */
static void expect(ob_model *b, fv_status want, const char *w1, const char *w2) {
    size_t len;
    unsigned char *bytes = ob_finish(b, &len);
    char msg[300];
    fv_status st = try_open(bytes, len, msg, sizeof msg);
    free(bytes);
    if (st != want)
        CHECK_FAIL("status %s, want %s (%s)", fv_status_name(st), fv_status_name(want), msg);
    if (w1) CHECK_STR_CONTAINS(msg, w1);
    if (w2) CHECK_STR_CONTAINS(msg, w2);
}

static const int64_t D4[4] = {1, 3, 8, 8};

/* A valid model of a few KB with most ops: conv, bn, prelu, shape chain, gemm, softmax. */
static unsigned char *small_model(size_t *len) {
    static float w[16 * 3 * 3 * 3 + 64];
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        w[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
    int64_t wd[4] = {16, 3, 3, 3}, cd[1] = {16}, sd[3] = {16, 1, 1}, pads[4] = {1, 1, 1, 1};
    int64_t fd[2] = {4, 16}, one[1] = {1}, zero = 0, minus1 = -1;
    ob_model *b = ob_new(11);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, wd, w);
    ob_init_float(b, "bias", 1, cd, w + 5);
    ob_init_float(b, "g", 1, cd, w + 7);
    ob_init_float(b, "be", 1, cd, w + 9);
    ob_init_float(b, "mu", 1, cd, w + 11);
    float var[16];
    for (int i = 0; i < 16; i++) var[i] = 1.0f + (float)i / 16.0f;
    ob_init_float(b, "var", 1, cd, var);
    ob_init_float(b, "slope", 3, sd, w + 13);
    ob_init_float(b, "fc", 2, fd, w + 17);
    ob_init_int64(b, "i0", 0, NULL, &zero);
    ob_init_int64(b, "m1", 1, one, &minus1);
    ob_node(b, "Conv", "conv", "x,w,bias", "c");
    ob_attr_ints(b, "pads", 4, pads);
    ob_attr_ints(b, "kernel_shape", 2, wd + 2);
    ob_node(b, "BatchNormalization", "bn", "c,g,be,mu,var", "n");
    ob_node(b, "PRelu", "prelu", "n,slope", "p");
    ob_node(b, "GlobalAveragePool", "gap", "p", "q");
    ob_node(b, "Shape", "shape", "q", "s");
    ob_node(b, "Gather", "gather", "s,i0", "n0");
    ob_node(b, "Unsqueeze", "unsq", "n0", "n1");
    ob_attr_ints(b, "axes", 1, &zero);
    ob_node(b, "Concat", "cat", "n1,m1", "shp");
    ob_attr_int(b, "axis", 0);
    ob_node(b, "Reshape", "reshape", "q,shp", "r");
    ob_node(b, "Gemm", "gemm", "r,fc", "f");
    ob_attr_int(b, "transB", 1);
    ob_node(b, "Softmax", "softmax", "f", "y");
    ob_output(b, "y");
    return ob_finish(b, len);
}

static unsigned g_seed = 7;
static unsigned rnd(void) {
    g_seed = g_seed * 1103515245u + 12345u;
    return g_seed >> 8;
}

/* ---- malformed bytes ----------------------------------------------------------------------- */

static void test_empty_and_random(void) {
    char msg[300];
    CHECK_INT_EQ(try_open("", 0, msg, sizeof msg), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(msg, "empty");
    CHECK_INT_EQ(try_open(NULL, 0, msg, sizeof msg), FV_ERR_FORMAT);
    CHECK_INT_EQ(try_open(NULL, 10, msg, sizeof msg), FV_ERR_ARG);
    unsigned char buf[4096];
    for (int t = 0; t < 500; t++) {
        size_t len = 1 + rnd() % sizeof buf;
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)rnd();
        fv_status st = try_open(buf, len, NULL, 0);
        if (st == FV_OK) CHECK_FAIL("random buffer %d opened", t);
    }
    /* plain text, and a protobuf that is not a model */
    const char *text = "this is not an ONNX model\n";
    CHECK(try_open(text, strlen(text), msg, sizeof msg) != FV_OK);
    unsigned char nograph[] = {0x08, 0x07, 0x12, 0x01, 'x'};
    CHECK_INT_EQ(try_open(nograph, sizeof nograph, msg, sizeof msg), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(msg, "no graph");
}

static void test_truncated_small(void) {
    size_t len;
    unsigned char *p = small_model(&len);
    CHECK(len > 2000);
    CHECK_INT_EQ(try_open(p, len, NULL, 0), FV_OK);
    size_t limit = len < 2000 ? len : 2000;
    for (size_t n = 0; n < limit; n++) {
        unsigned char *c = malloc(n ? n : 1); /* exact size so ASan sees any over-read */
        memcpy(c, p, n);
        char msg[300];
        fv_status st = try_open(c, n, msg, sizeof msg);
        if (st == FV_OK) CHECK_FAIL("truncated at %zu opened", n);
        free(c);
    }
    for (size_t n = limit; n < len; n += 7) {
        unsigned char *c = malloc(n);
        memcpy(c, p, n);
        if (try_open(c, n, NULL, 0) == FV_OK) CHECK_FAIL("truncated at %zu opened", n);
        free(c);
    }
    free(p);
}

static void test_flipped_small(void) {
    size_t len;
    unsigned char *p = small_model(&len);
    unsigned char *c = malloc(len);
    int opened = 0;
    for (size_t i = 0; i < len; i++) {
        static const unsigned char masks[3] = {0xff, 0x80, 0x01};
        for (int k = 0; k < 3; k++) {
            memcpy(c, p, len);
            c[i] ^= masks[k];
            opened += try_open(c, len, NULL, 0) == FV_OK; /* any status; never a crash */
        }
    }
    fprintf(stderr, "  %d of %zu flipped variants still opened (weights, names)\n", opened,
            3 * len);
    free(c);
    free(p);
}

static void test_truncated_real(void) {
    size_t len;
    unsigned char *p = landmark_model(&len);
    if (p == NULL) SKIP_TEST("fr_landmark.onnx is missing");
    char msg[300];
    CHECK_INT_EQ(try_open(p, len, msg, sizeof msg), FV_OK);
    int count = 0;
    for (size_t n = 0; n < len; n += 997) {
        unsigned char *c = malloc(n ? n : 1);
        memcpy(c, p, n);
        fv_status st = try_open(c, n, msg, sizeof msg);
        if (st == FV_OK) CHECK_FAIL("fr_landmark truncated at %zu opened", n);
        if (n > 0 && st == FV_ERR_FORMAT) CHECK_STR_CONTAINS(msg, "byte");
        free(c);
        count++;
    }
    fprintf(stderr, "  %d truncations of %zu bytes refused\n", count, len);
    free(p);
}

static void test_flipped_real(void) {
    size_t len;
    unsigned char *p = landmark_model(&len);
    if (p == NULL) SKIP_TEST("fr_landmark.onnx is missing");
    unsigned char *c = malloc(len);
    /* the structure (names, shapes, attributes) is in the first and last few KB */
    for (int t = 0; t < 120; t++) {
        size_t at = t < 40 ? rnd() % 4096 : t < 80 ? len - 1 - rnd() % 8192 : rnd() % len;
        memcpy(c, p, len);
        c[at] ^= (unsigned char)(1u << (rnd() % 8));
        (void)try_open(c, len, NULL, 0);
    }
    free(c);
    free(p);
}

/* ---- specific checks ----------------------------------------------------------------------- */

static void test_unsupported_op(void) {
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Erf", "my_erf_node", "x", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_UNSUPPORTED, "Erf", "my_erf_node");
}

static void test_custom_domain(void) {
    ob_model *b = ob_new(13);
    ob_opset(b, "com.example", 1);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Relu", "custom_relu", "x", "y");
    ob_node_domain(b, "com.example");
    ob_output(b, "y");
    expect(b, FV_ERR_UNSUPPORTED, "custom domain", "custom_relu");
}

static void test_unsupported_dtype(void) {
    double v[3] = {1, 2, 3};
    int64_t d[1] = {3};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 1, d);
    ob_init_raw(b, "dbl", OB_DOUBLE, 1, d, v, sizeof v);
    ob_node(b, "Add", "add", "x,dbl", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_UNSUPPORTED, "data type 11", "dbl");
    /* an int64 graph input */
    b = ob_new(13);
    ob_input_typed(b, "ids", OB_INT64, 1, d);
    ob_node(b, "Identity", "id", "ids", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_UNSUPPORTED, "ids", "element type");
}

static void test_raw_length(void) {
    float w[100] = {0};
    int64_t wd[4] = {4, 3, 3, 3};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_raw(b, "weights", OB_FLOAT, 4, wd, w, 100);
    ob_node(b, "Conv", "conv", "x,weights", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "raw data has 100 bytes", "needs 432");
    /* int64 with 4 bytes per element is not silently read as int32 */
    int32_t half[2] = {3, 64};
    int64_t two[1] = {2};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_raw(b, "half_shape", OB_INT64, 1, two, half, sizeof half);
    ob_node(b, "Reshape", "reshape", "x,half_shape", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "raw data has 8 bytes", "needs 16");
}

static void test_undefined_tensor(void) {
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Add", "adder", "x,nowhere", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "'nowhere'", "adder");
    /* used before it is produced (not topologically ordered) */
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Relu", "second", "t", "y");
    ob_node(b, "Relu", "first", "x", "t");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "'t'", "second");
    /* a graph output nobody produces */
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "ghost");
    expect(b, FV_ERR_FORMAT, "ghost", "never produced");
}

static void test_resize_wrong_shape(void) {
    float w[27];
    for (int i = 0; i < 27; i++) w[i] = (float)i / 27.0f;
    int64_t wd[4] = {1, 3, 3, 3};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, wd, w);
    ob_node(b, "Conv", "the_conv", "x,w", "y");
    ob_output(b, "y");
    size_t len;
    unsigned char *bytes = ob_finish(b, &len);
    fv_nn_model *m = NULL;
    fv_status st = fv_nn_open_memory(bytes, len, NULL, &m);
    free(bytes);
    CHECK_INT_EQ(st, FV_OK);
    if (st == FV_OK) {
        int64_t bad[4] = {1, 2, 8, 8};
        CHECK_INT_EQ(fv_nn_resize_input(m, 0, bad, 4), FV_ERR_SHAPE);
        CHECK_STR_CONTAINS(fv_nn_errmsg(m), "the_conv");
        int64_t small[4] = {1, 3, 2, 2}; /* smaller than the 3x3 kernel without pads */
        CHECK_INT_EQ(fv_nn_resize_input(m, 0, small, 4), FV_ERR_SHAPE);
        CHECK_STR_CONTAINS(fv_nn_errmsg(m), "the_conv");
        int64_t huge[4] = {1, 3, 1 << 20, 1 << 20};
        CHECK_INT_EQ(fv_nn_resize_input(m, 0, huge, 4), FV_ERR_LIMIT);
        int64_t neg[4] = {1, 3, -8, 8};
        CHECK(fv_nn_resize_input(m, 0, neg, 4) != FV_OK);
        CHECK_INT_EQ(fv_nn_run(m), FV_OK); /* still usable at its old shape */
    }
    fv_nn_close(m);
}

static void test_no_inputs_outputs(void) {
    float c[1] = {1};
    int64_t d[1] = {1};
    ob_model *b = ob_new(13);
    ob_init_float(b, "c", 1, d, c);
    ob_node(b, "Relu", "relu", "c", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "no inputs", NULL);
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Relu", "relu", "x", "y");
    expect(b, FV_ERR_FORMAT, "no outputs", NULL);
    b = ob_new(13);
    ob_input_typed(b, "x", OB_FLOAT, -1, NULL);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "'x' has no shape", NULL);
}

static void test_absurd_dims(void) {
    int64_t big[4] = {1, 3, 100000, 100000};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, big);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_LIMIT, "'x'", "too large");
    /* an initializer claiming 2^40 elements (with 4 bytes of data) */
    int64_t huge[1] = {(int64_t)1 << 40};
    float f = 1;
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_raw(b, "huge_init", OB_FLOAT, 1, huge, &f, 4);
    ob_node(b, "Add", "add", "x,huge_init", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_LIMIT, "huge_init", "too large");
    /* more than FV_NN_MAX_DIMS dims */
    int64_t many[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    b = ob_new(13);
    ob_input(b, "x", 9, many);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_LIMIT, "dims", NULL);
    /* a reshape target that multiplies past the limit */
    int64_t shp[4] = {1 << 20, 1 << 20, 1 << 20, 0}, four[1] = {4};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_int64(b, "s", 1, four, shp);
    ob_node(b, "Reshape", "big_reshape", "x,s", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_SHAPE, "big_reshape", NULL);
}

static void *small_only_malloc(size_t n) {
    return n > ((size_t)64 << 20) ? NULL : malloc(n);
}
static void *small_only_realloc(void *p, size_t n) {
    return n > ((size_t)64 << 20) ? NULL : realloc(p, n);
}

/* Dims promising 2^27 floats with 4 bytes of data: refused as malformed before any big
 * allocation (an allocator refusing blocks > 64 MiB would turn one into FV_ERR_NOMEM). */
static void test_short_data_no_big_alloc(void) {
    static const fv_allocator a = {small_only_malloc, small_only_realloc, free};
    int64_t many[1] = {(int64_t)1 << 27};
    float f = 1;
    for (int pass = 0; pass < 2; pass++) {
        ob_model *b = ob_new(13);
        ob_input(b, "x", 4, D4);
        if (pass == 0) {
            ob_init_raw(b, "short_init", OB_FLOAT, 1, many, &f, 4);
        } else {
            int64_t v = 5;
            ob_init_raw(b, "short_init", OB_INT64, 1, many, &v, 8);
        }
        ob_node(b, "Add", "add", "x,short_init", "y");
        ob_output(b, "y");
        fv_set_allocator(&a);
        expect(b, FV_ERR_FORMAT, "short_init", "raw data has");
        fv_set_allocator(NULL);
    }
}

static void test_bad_opset_and_file(void) {
    ob_model *b = ob_new(99);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_UNSUPPORTED, "opset 99", NULL);
    b = ob_new(0); /* no opset_import */
    ob_input(b, "x", 4, D4);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_UNSUPPORTED, "opset", NULL);
    fv_nn_model *m = NULL;
    CHECK_INT_EQ(fv_nn_open_file("/nonexistent/dir/model.onnx", NULL, &m), FV_ERR_IO);
    CHECK_STR_CONTAINS(fv_nn_errmsg(m), "cannot open");
    CHECK_STR_CONTAINS(fv_nn_errmsg(m), "model.onnx");
    fv_nn_close(m);
    m = NULL;
    CHECK(fv_nn_open_file("/", NULL, &m) != FV_OK); /* a directory */
    fv_nn_close(m);
    /* the API on a failed model */
    m = NULL;
    CHECK(fv_nn_open_memory("", 0, NULL, &m) != FV_OK);
    fv_nn_tensor t;
    CHECK_INT_EQ(fv_nn_run(m), FV_ERR_STATE);
    CHECK_INT_EQ(fv_nn_input(m, 0, &t), FV_ERR_STATE);
    CHECK_INT_EQ(fv_nn_input_count(m), 0);
    fv_nn_close(m);
    CHECK_STR_CONTAINS(fv_nn_errmsg(NULL), "out of memory");
}

static void test_bad_attributes(void) {
    float w[27] = {0};
    int64_t wd[4] = {1, 3, 3, 3}, st0[2] = {0, 1};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, wd, w);
    ob_node(b, "Conv", "conv_bad", "x,w", "y");
    ob_attr_ints(b, "strides", 2, st0);
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "conv_bad", "strides");
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, wd, w);
    ob_node(b, "Conv", "conv_pad", "x,w", "y");
    ob_attr_string(b, "auto_pad", "SAME_MIDDLE");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "conv_pad", "auto_pad");
    int64_t perm[3] = {0, 1, 1};
    b = ob_new(13);
    ob_input(b, "x", 3, D4);
    ob_node(b, "Transpose", "tr", "x", "y");
    ob_attr_ints(b, "perm", 3, perm);
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "tr", "permutation");
    /* an omitted (empty-named) required input */
    b = ob_new(13);
    ob_input(b, "x", 3, D4);
    ob_node(b, "Gather", "gather_no_indices", "x,", "y");
    ob_output(b, "y");
    expect(b, FV_ERR_FORMAT, "gather_no_indices", "indices");
}

/* ---- out-of-memory injection --------------------------------------------------------------- */

static long g_alloc_count, g_fail_at, g_live;

static void *oom_malloc(size_t n) {
    if (++g_alloc_count == g_fail_at) return NULL;
    void *p = malloc(n);
    if (p) g_live++;
    return p;
}
static void *oom_realloc(void *p, size_t n) {
    if (++g_alloc_count == g_fail_at) return NULL;
    void *q = realloc(p, n);
    if (q && p == NULL) g_live++;
    return q;
}
static void oom_free(void *p) {
    if (p) g_live--;
    free(p);
}

/* Fails allocation N = 1, 2, ... until the open succeeds; returns the count of failing opens. */
static long oom_sweep(const char *what, const unsigned char *data, size_t len, long step) {
    static const fv_allocator a = {oom_malloc, oom_realloc, oom_free};
    long fails = 0;
    for (long n = 1;; n += n < 200 ? 1 : step) {
        g_alloc_count = 0;
        g_fail_at = n;
        g_live = 0;
        fv_set_allocator(&a);
        fv_nn_model *m = NULL;
        fv_status st = fv_nn_open_memory(data, len, NULL, &m);
        const char *msg = fv_nn_errmsg(m);
        int ok = st == FV_OK;
        char saved[300];
        snprintf(saved, sizeof saved, "%s", msg);
        if (ok) {
            fv_status rs = fv_nn_run(m);
            if (rs != FV_OK) CHECK_FAIL("%s: run after open with N=%ld: %s", what, n, msg);
        }
        fv_nn_close(m);
        long live = g_live;
        fv_set_allocator(NULL);
        if (live != 0) CHECK_FAIL("%s: failing allocation %ld leaked %ld blocks", what, n, live);
        if (ok) {
            if (g_alloc_count >= n)
                CHECK_FAIL("%s: open succeeded despite failing allocation %ld", what, n);
            break;
        }
        fails++;
        if (st != FV_ERR_NOMEM)
            CHECK_FAIL("%s: failing allocation %ld gave %s (%s), want FV_ERR_NOMEM", what, n,
                       fv_status_name(st), saved);
        if (m != NULL && strstr(saved, "out of memory") == NULL)
            CHECK_FAIL("%s: failing allocation %ld: message '%s'", what, n, saved);
        if (n > 200000) {
            CHECK_FAIL("%s: no success after %ld allocations", what, n);
            break;
        }
    }
    fprintf(stderr, "  %s: %ld failing opens, all FV_ERR_NOMEM without leaks\n", what, fails);
    return fails;
}

static void test_oom_small(void) {
    size_t len;
    unsigned char *p = small_model(&len);
    CHECK(oom_sweep("small model", p, len, 1) > 10);
    free(p);
}

static void test_oom_real(void) {
    size_t len;
    unsigned char *p = landmark_model(&len);
    if (p == NULL) SKIP_TEST("fr_landmark.onnx is missing");
    CHECK(oom_sweep("fr_landmark", p, len, 1) > 10);
    free(p);
}

int main(void) {
    RUN(test_empty_and_random);
    RUN(test_truncated_small);
    RUN(test_flipped_small);
    RUN(test_truncated_real);
    RUN(test_flipped_real);
    RUN(test_unsupported_op);
    RUN(test_custom_domain);
    RUN(test_unsupported_dtype);
    RUN(test_raw_length);
    RUN(test_undefined_tensor);
    RUN(test_resize_wrong_shape);
    RUN(test_no_inputs_outputs);
    RUN(test_absurd_dims);
    RUN(test_short_data_no_big_alloc);
    RUN(test_bad_opset_and_file);
    RUN(test_bad_attributes);
    RUN(test_oom_small);
    RUN(test_oom_real);
    return check_summary();
}
