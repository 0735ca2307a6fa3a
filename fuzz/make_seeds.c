/*
 * make_seeds.c - writes the fuzz seed corpus (fuzz/corpus/onnx) with tests/unit/onnx_build.
 *
 *     make_seeds fuzz/corpus/onnx
 *
 * One small valid model per operator (several for ops with opset-dependent forms), a few
 * multi-op graphs like the face models' (Conv+BN+PRelu, Shape->Gather->Unsqueeze->Concat->
 * Reshape, Gemm+Softmax) and near-valid models (bad attribute, wrong data length, unknown op,
 * undefined tensor) so the fuzzer starts next to every check. Built by CMake, not run by tests;
 * the files it writes are committed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "onnx_build.h"

static const char *g_dir;
static int g_count;

static void save(ob_model *b, const char *name) {
    size_t len;
    unsigned char *p = ob_finish(b, &len);
    char path[1024];
    snprintf(path, sizeof path, "%s/seed_%s.onnx", g_dir, name);
    if (ob_write_file(path, p, len) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
    free(p);
    g_count++;
}

static float g_w[4096];

static void fill(void) {
    unsigned s = 12345;
    for (int i = 0; i < 4096; i++) {
        s = s * 1103515245u + 12345u;
        g_w[i] = (float)((s >> 16) & 0x7fff) / 16384.0f - 1.0f;
    }
}

static const int64_t D4[4] = {1, 3, 6, 6};

static ob_model *unary(const char *op, int opset) {
    ob_model *b = ob_new(opset);
    ob_input(b, "x", 4, D4);
    ob_node(b, op, op, "x", "y");
    ob_output(b, "y");
    return b;
}

static void seeds_conv(void) {
    int64_t wd[4] = {4, 3, 3, 3}, bd[1] = {4};
    ob_model *b = ob_new(11);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, wd, g_w);
    ob_init_float(b, "b", 1, bd, g_w + 200);
    ob_node(b, "Conv", "conv", "x,w,b", "y");
    int64_t pads[4] = {1, 0, 2, 1}, strides[2] = {2, 1};
    ob_attr_ints(b, "pads", 4, pads);
    ob_attr_ints(b, "strides", 2, strides);
    ob_attr_ints(b, "kernel_shape", 2, wd + 2);
    ob_output(b, "y");
    save(b, "conv");

    /* depthwise, SAME_UPPER, dilation 2, + Relu */
    int64_t dwd[4] = {3, 1, 3, 3};
    b = ob_new(11);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, dwd, g_w);
    ob_node(b, "Conv", "dw", "x,w", "c");
    ob_attr_int(b, "group", 3);
    ob_attr_string(b, "auto_pad", "SAME_UPPER");
    int64_t dil[2] = {2, 2};
    ob_attr_ints(b, "dilations", 2, dil);
    ob_node(b, "Relu", "relu", "c", "y");
    ob_output(b, "y");
    save(b, "conv_depthwise_relu");

    /* 1-D conv */
    int64_t x1[3] = {1, 2, 9}, w1[3] = {3, 2, 4};
    b = ob_new(13);
    ob_input(b, "x", 3, x1);
    ob_init_float(b, "w", 3, w1, g_w);
    ob_node(b, "Conv", "c1d", "x,w", "y");
    ob_attr_string(b, "auto_pad", "SAME_LOWER");
    ob_output(b, "y");
    save(b, "conv1d");

    /* Conv + BatchNormalization + PRelu, grouped */
    int64_t gw[4] = {4, 1, 1, 1}, c4[1] = {4}, s4[3] = {4, 1, 1};
    int64_t xg[4] = {2, 2, 5, 7};
    float var[4] = {1.0f, 0.5f, 2.0f, 0.25f};
    b = ob_new(9);
    ob_input(b, "x", 4, xg);
    ob_init_float(b, "w", 4, gw, g_w);
    ob_init_float(b, "g", 1, c4, g_w + 10);
    ob_init_float(b, "be", 1, c4, g_w + 20);
    ob_init_float(b, "mu", 1, c4, g_w + 30);
    ob_init_float(b, "var", 1, c4, var);
    ob_init_float(b, "slope", 3, s4, g_w + 40);
    ob_node(b, "Conv", "conv", "x,w", "c");
    ob_attr_int(b, "group", 2);
    ob_node(b, "BatchNormalization", "bn", "c,g,be,mu,var", "n");
    ob_attr_float(b, "epsilon", 1e-3f);
    ob_node(b, "PRelu", "prelu", "n,slope", "y");
    ob_output(b, "y");
    save(b, "conv_bn_prelu");
}

static void seeds_elementwise(void) {
    save(unary("Relu", 13), "relu");
    save(unary("Sigmoid", 13), "sigmoid");
    save(unary("Exp", 13), "exp");
    save(unary("Identity", 13), "identity");

    int64_t s3[3] = {3, 1, 1};
    ob_model *b = ob_new(9);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "s", 3, s3, g_w);
    ob_node(b, "PRelu", "prelu", "x,s", "y");
    ob_output(b, "y");
    save(b, "prelu");

    const char *ops[4] = {"Add", "Sub", "Mul", "Div"};
    for (int i = 0; i < 4; i++) {
        int64_t cd[2] = {6, 1};
        b = ob_new(13);
        ob_input(b, "x", 4, D4);
        ob_init_float(b, "c", 2, cd, g_w + 1);
        ob_node(b, ops[i], ops[i], "x,c", "y");
        ob_output(b, "y");
        char name[32];
        snprintf(name, sizeof name, "%s_broadcast", ops[i]);
        save(b, name);
    }

    int64_t c3[1] = {3};
    float var[3] = {1.0f, 2.0f, 0.5f};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "g", 1, c3, g_w);
    ob_init_float(b, "be", 1, c3, g_w + 3);
    ob_init_float(b, "mu", 1, c3, g_w + 6);
    ob_init_float(b, "var", 1, c3, var);
    ob_node(b, "BatchNormalization", "bn", "x,g,be,mu,var", "y");
    ob_output(b, "y");
    save(b, "batchnorm");
}

static void seeds_dense(void) {
    int64_t xd[2] = {2, 5}, wd[2] = {4, 5}, cd[1] = {4};
    ob_model *b = ob_new(13);
    ob_input(b, "x", 2, xd);
    ob_init_float(b, "w", 2, wd, g_w);
    ob_init_float(b, "c", 1, cd, g_w + 50);
    ob_node(b, "Gemm", "fc", "x,w,c", "g");
    ob_attr_int(b, "transB", 1);
    ob_attr_float(b, "alpha", 0.5f);
    ob_attr_float(b, "beta", 2.0f);
    ob_node(b, "Softmax", "sm", "g", "y");
    ob_output(b, "y");
    save(b, "gemm_softmax");

    int64_t ad[3] = {2, 3, 5}, bd[2] = {5, 4};
    b = ob_new(13);
    ob_input(b, "a", 3, ad);
    ob_init_float(b, "b", 2, bd, g_w);
    ob_node(b, "MatMul", "mm", "a,b", "y");
    ob_output(b, "y");
    save(b, "matmul");

    b = ob_new(9);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Softmax", "sm", "x", "y");
    ob_attr_int(b, "axis", 2);
    ob_output(b, "y");
    save(b, "softmax_opset9");

    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "GlobalAveragePool", "gap", "x", "p");
    ob_node(b, "Flatten", "flat", "p", "y");
    ob_output(b, "y");
    save(b, "gap_flatten");
}

static void seeds_layout(void) {
    /* Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exported by PyTorch */
    int64_t one[1] = {1}, idx0 = 0, minus1 = -1;
    ob_model *b = ob_new(11);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Shape", "shape", "x", "s");
    ob_init_int64(b, "i0", 0, NULL, &idx0);
    ob_node(b, "Gather", "gather", "s,i0", "n");
    ob_attr_int(b, "axis", 0);
    ob_node(b, "Unsqueeze", "unsq", "n", "n1");
    int64_t ax0[1] = {0};
    ob_attr_ints(b, "axes", 1, ax0);
    ob_init_int64(b, "m1", 1, one, &minus1);
    ob_node(b, "Concat", "cat", "n1,m1", "shp");
    ob_attr_int(b, "axis", 0);
    ob_node(b, "Reshape", "reshape", "x,shp", "y");
    ob_output(b, "y");
    save(b, "shape_gather_reshape");

    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Transpose", "tr", "x", "t");
    int64_t perm[4] = {0, 2, 3, 1};
    ob_attr_ints(b, "perm", 4, perm);
    int64_t ax[1] = {0};
    ob_init_int64(b, "ax", 1, one, ax);
    ob_node(b, "Squeeze", "sq", "t,ax", "q");
    ob_node(b, "Unsqueeze", "us", "q,ax", "y");
    ob_output(b, "y");
    save(b, "transpose_squeeze_unsqueeze");

    b = ob_new(9);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Slice", "slice", "x", "y");
    int64_t st[2] = {1, -4}, en[2] = {3, 100}, axs[2] = {1, 3};
    ob_attr_ints(b, "starts", 2, st);
    ob_attr_ints(b, "ends", 2, en);
    ob_attr_ints(b, "axes", 2, axs);
    ob_output(b, "y");
    save(b, "slice_opset9");

    int64_t two[1] = {2};
    int64_t s13[2] = {-1, 5}, e13[2] = {-100, 0}, a13[2] = {2, -1}, p13[2] = {-2, -1};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_int64(b, "st", 1, two, s13);
    ob_init_int64(b, "en", 1, two, e13);
    ob_init_int64(b, "ax", 1, two, a13);
    ob_init_int64(b, "sp", 1, two, p13);
    ob_node(b, "Slice", "slice", "x,st,en,ax,sp", "y");
    ob_output(b, "y");
    save(b, "slice_opset13_negstep");

    int64_t cd[4] = {1, 2, 6, 6};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "c", 4, cd, g_w);
    ob_node(b, "Concat", "cat", "x,c", "y");
    ob_attr_int(b, "axis", 1);
    ob_output(b, "y");
    save(b, "concat");

    int64_t gi[2] = {2, 0}, gd[1] = {2};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_int64(b, "i", 1, gd, gi);
    ob_node(b, "Gather", "gather", "x,i", "y");
    ob_attr_int(b, "axis", 1);
    ob_output(b, "y");
    save(b, "gather");

    int64_t shp[3] = {0, -1, 4};
    int64_t three[1] = {3};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Constant", "const", "", "shp");
    ob_attr_tensor_int64(b, "value", 1, three, shp);
    ob_node(b, "Reshape", "reshape", "x,shp", "r");
    ob_node(b, "Constant", "constf", "", "k");
    ob_attr_float(b, "value_float", 2.0f);
    ob_node(b, "Mul", "mul", "r,k", "y");
    ob_output(b, "y");
    save(b, "constant_reshape");

    /* int64 arithmetic folded at prepare */
    int64_t iv[2] = {6, 3};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Shape", "shape", "x", "s");
    ob_init_int64(b, "k", 1, one, iv + 1);
    ob_node(b, "Div", "div", "s,k", "s2");
    ob_node(b, "Mul", "mul", "s2,k", "s3");
    ob_node(b, "Sub", "sub", "s3,k", "s4");
    ob_node(b, "Add", "add", "s4,k", "s5");
    ob_node(b, "Identity", "id", "x", "y");
    ob_output(b, "y");
    save(b, "int64_arith");
}

static void seeds_near_valid(void) {
    ob_model *b = unary("Erf", 13);
    save(b, "bad_unknown_op");

    b = unary("Relu", 13);
    ob_node_domain(b, "com.example");
    save(b, "bad_custom_domain");

    int64_t wd[4] = {4, 3, 3, 3};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_raw(b, "w", OB_FLOAT, 4, wd, g_w, 100);
    ob_node(b, "Conv", "conv", "x,w", "y");
    ob_output(b, "y");
    save(b, "bad_raw_length");

    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_node(b, "Add", "add", "x,nowhere", "y");
    ob_output(b, "y");
    save(b, "bad_undefined_tensor");

    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_float(b, "w", 4, wd, g_w);
    ob_node(b, "Conv", "conv", "x,w", "y");
    ob_attr_string(b, "auto_pad", "SAME_MIDDLE");
    int64_t dil[2] = {0, 1};
    ob_attr_ints(b, "dilations", 2, dil);
    ob_output(b, "y");
    save(b, "bad_conv_attrs");

    int64_t big[4] = {1, 3, 100000, 100000};
    b = ob_new(13);
    ob_input(b, "x", 4, big);
    ob_node(b, "Relu", "relu", "x", "y");
    ob_output(b, "y");
    save(b, "bad_huge_input");

    /* 2^27 elements promised, 4 bytes given: must fail before allocating 512 MiB */
    int64_t many[1] = {(int64_t)1 << 27};
    b = ob_new(13);
    ob_input(b, "x", 4, D4);
    ob_init_raw(b, "c", OB_FLOAT, 1, many, g_w, 4);
    ob_node(b, "Add", "add", "x,c", "y");
    ob_output(b, "y");
    save(b, "bad_huge_initializer");

    b = ob_new(13);
    ob_set_packed(b, 1);
    ob_input(b, "x", 4, D4);
    int64_t perm[4] = {3, 2, 1, 0};
    ob_node(b, "Transpose", "tr", "x", "y");
    ob_attr_ints(b, "perm", 4, perm);
    ob_output(b, "y");
    save(b, "packed_transpose");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTPUT_DIR\n");
        return 2;
    }
    g_dir = argv[1];
    fill();
    seeds_conv();
    seeds_elementwise();
    seeds_dense();
    seeds_layout();
    seeds_near_valid();
    printf("wrote %d seeds to %s\n", g_count, g_dir);
    return 0;
}
