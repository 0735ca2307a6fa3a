/*
 * onnx_build.c - the ONNX model writer for tests (see onnx_build.h).
 *
 * Each nested message is encoded into its own growable buffer and then appended to its parent
 * as a length-delimited field, so no lengths need to be known in advance. The graph keeps one
 * buffer per repeated field (nodes, initializers, inputs, outputs) and the node being built;
 * ob_finish concatenates them in ONNX field order.
 */
#include "onnx_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

struct ob_model {
    int packed;
    buf opsets; /* encoded opset_import fields of the ModelProto */
    buf nodes;  /* encoded node fields of the GraphProto */
    buf inits;
    buf inputs;
    buf outputs;
    buf cur; /* the NodeProto being built (without its key/length) */
    int has_cur;
};

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL) {
            fprintf(stderr, "onnx_build: out of memory\n");
            abort();
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_varint(buf *b, uint64_t v) {
    unsigned char tmp[10];
    size_t k = 0;
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        tmp[k++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
    put(b, tmp, k);
}

static void put_key(buf *b, uint32_t field, int wire) {
    put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

static void put_varint_field(buf *b, uint32_t field, uint64_t v) {
    put_key(b, field, 0);
    put_varint(b, v);
}

static void put_bytes_field(buf *b, uint32_t field, const void *data, size_t n) {
    put_key(b, field, 2);
    put_varint(b, n);
    put(b, data, n);
}

static void put_string_field(buf *b, uint32_t field, const char *s) {
    put_bytes_field(b, field, s, strlen(s));
}

static void put_fixed32_field(buf *b, uint32_t field, float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    unsigned char le[4] = {(unsigned char)x, (unsigned char)(x >> 8), (unsigned char)(x >> 16),
                           (unsigned char)(x >> 24)};
    put_key(b, field, 5);
    put(b, le, 4);
}

/* Appends the message in `inner` as a length-delimited field, then frees `inner`. */
static void put_message(buf *b, uint32_t field, buf *inner) {
    put_bytes_field(b, field, inner->p, inner->n);
    free(inner->p);
    memset(inner, 0, sizeof *inner);
}

static void put_int64s(buf *b, uint32_t field, int n, const int64_t *v, int packed) {
    if (packed) {
        buf tmp = {0};
        for (int i = 0; i < n; i++) put_varint(&tmp, (uint64_t)v[i]);
        put_message(b, field, &tmp);
        return;
    }
    for (int i = 0; i < n; i++) put_varint_field(b, field, (uint64_t)v[i]);
}

/* A TensorProto with raw_data. */
static void encode_tensor(buf *t, const char *name, int dtype, int ndim, const int64_t *dims,
                          const void *raw, size_t raw_len, int packed) {
    put_int64s(t, 1, ndim, dims, packed);
    put_varint_field(t, 2, (uint64_t)dtype);
    if (name != NULL) put_string_field(t, 8, name);
    put_bytes_field(t, 9, raw, raw_len);
}

static size_t count_of(int ndim, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    return n;
}

ob_model *ob_new(int opset) {
    ob_model *b = calloc(1, sizeof *b);
    if (b == NULL) abort();
    if (opset > 0) ob_opset(b, "", opset);
    return b;
}

void ob_opset(ob_model *b, const char *domain, int version) {
    buf os = {0};
    if (domain != NULL && domain[0] != '\0') put_string_field(&os, 1, domain);
    put_varint_field(&os, 2, (uint64_t)version);
    put_message(&b->opsets, 8, &os);
}

void ob_set_packed(ob_model *b, int packed) {
    b->packed = packed;
}

void ob_input_typed(ob_model *b, const char *name, int elem_type, int ndim, const int64_t *dims) {
    buf vi = {0}, type = {0}, tt = {0}, shape = {0};
    put_string_field(&vi, 1, name);
    put_varint_field(&tt, 1, (uint64_t)elem_type);
    if (ndim >= 0) {
        for (int i = 0; i < ndim; i++) {
            buf dim = {0};
            if (dims[i] >= 0) {
                put_varint_field(&dim, 1, (uint64_t)dims[i]);
            } else {
                char sym[16];
                snprintf(sym, sizeof sym, "d%d", i);
                put_string_field(&dim, 2, sym);
            }
            put_message(&shape, 1, &dim);
        }
        put_message(&tt, 2, &shape);
    }
    put_message(&type, 1, &tt);
    put_message(&vi, 2, &type);
    put_message(&b->inputs, 11, &vi);
}

void ob_input(ob_model *b, const char *name, int ndim, const int64_t *dims) {
    ob_input_typed(b, name, OB_FLOAT, ndim, dims);
}

void ob_output(ob_model *b, const char *name) {
    buf vi = {0}, type = {0}, tt = {0};
    put_string_field(&vi, 1, name);
    put_varint_field(&tt, 1, OB_FLOAT);
    put_message(&type, 1, &tt);
    put_message(&vi, 2, &type);
    put_message(&b->outputs, 12, &vi);
}

void ob_init_raw(ob_model *b, const char *name, int dtype, int ndim, const int64_t *dims,
                 const void *raw, size_t raw_len) {
    buf t = {0};
    encode_tensor(&t, name, dtype, ndim, dims, raw, raw_len, b->packed);
    put_message(&b->inits, 5, &t);
}

void ob_init_float(ob_model *b, const char *name, int ndim, const int64_t *dims, const float *v) {
    ob_init_raw(b, name, OB_FLOAT, ndim, dims, v, count_of(ndim, dims) * sizeof(float));
}

void ob_init_int64(ob_model *b, const char *name, int ndim, const int64_t *dims, const int64_t *v) {
    ob_init_raw(b, name, OB_INT64, ndim, dims, v, count_of(ndim, dims) * sizeof(int64_t));
}

static void flush_node(ob_model *b) {
    if (b->has_cur) put_message(&b->nodes, 1, &b->cur);
    b->has_cur = 0;
}

/* Writes each comma-separated item of `list` as a string field. */
static void put_list(buf *b, uint32_t field, const char *list) {
    if (list == NULL || list[0] == '\0') return;
    const char *s = list;
    for (;;) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        put_bytes_field(b, field, s, n);
        if (c == NULL) break;
        s = c + 1;
    }
}

void ob_node(ob_model *b, const char *op_type, const char *name, const char *inputs,
             const char *outputs) {
    flush_node(b);
    b->has_cur = 1;
    put_list(&b->cur, 1, inputs);
    put_list(&b->cur, 2, outputs);
    if (name != NULL) put_string_field(&b->cur, 3, name);
    put_string_field(&b->cur, 4, op_type);
}

void ob_node_domain(ob_model *b, const char *domain) {
    put_string_field(&b->cur, 7, domain);
}

/* AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, type = 20 */
static void attr_begin(buf *a, const char *name) {
    memset(a, 0, sizeof *a);
    put_string_field(a, 1, name);
}

static void attr_end(ob_model *b, buf *a, int type) {
    put_varint_field(a, 20, (uint64_t)type);
    put_message(&b->cur, 5, a);
}

void ob_attr_int(ob_model *b, const char *name, int64_t v) {
    buf a;
    attr_begin(&a, name);
    put_varint_field(&a, 3, (uint64_t)v);
    attr_end(b, &a, 2);
}

void ob_attr_float(ob_model *b, const char *name, float v) {
    buf a;
    attr_begin(&a, name);
    put_fixed32_field(&a, 2, v);
    attr_end(b, &a, 1);
}

void ob_attr_ints(ob_model *b, const char *name, int n, const int64_t *v) {
    buf a;
    attr_begin(&a, name);
    put_int64s(&a, 8, n, v, b->packed);
    attr_end(b, &a, 7);
}

void ob_attr_floats(ob_model *b, const char *name, int n, const float *v) {
    buf a;
    attr_begin(&a, name);
    if (b->packed) {
        buf tmp = {0};
        for (int i = 0; i < n; i++) {
            uint32_t x;
            memcpy(&x, &v[i], 4);
            unsigned char le[4] = {(unsigned char)x, (unsigned char)(x >> 8),
                                   (unsigned char)(x >> 16), (unsigned char)(x >> 24)};
            put(&tmp, le, 4);
        }
        put_message(&a, 7, &tmp);
    } else {
        for (int i = 0; i < n; i++) put_fixed32_field(&a, 7, v[i]);
    }
    attr_end(b, &a, 6);
}

void ob_attr_string(ob_model *b, const char *name, const char *s) {
    buf a;
    attr_begin(&a, name);
    put_string_field(&a, 4, s);
    attr_end(b, &a, 3);
}

static void attr_tensor(ob_model *b, const char *name, int dtype, int ndim, const int64_t *dims,
                        const void *raw, size_t raw_len) {
    buf a, t = {0};
    attr_begin(&a, name);
    encode_tensor(&t, NULL, dtype, ndim, dims, raw, raw_len, b->packed);
    put_message(&a, 5, &t);
    attr_end(b, &a, 4);
}

void ob_attr_tensor_float(ob_model *b, const char *name, int ndim, const int64_t *dims,
                          const float *v) {
    attr_tensor(b, name, OB_FLOAT, ndim, dims, v, count_of(ndim, dims) * sizeof(float));
}

void ob_attr_tensor_int64(ob_model *b, const char *name, int ndim, const int64_t *dims,
                          const int64_t *v) {
    attr_tensor(b, name, OB_INT64, ndim, dims, v, count_of(ndim, dims) * sizeof(int64_t));
}

unsigned char *ob_finish(ob_model *b, size_t *len) {
    flush_node(b);
    buf graph = {0}, model = {0};
    put(&graph, b->nodes.p, b->nodes.n);
    put_string_field(&graph, 2, "test_graph");
    put(&graph, b->inits.p, b->inits.n);
    put(&graph, b->inputs.p, b->inputs.n);
    put(&graph, b->outputs.p, b->outputs.n);
    put_varint_field(&model, 1, 7); /* ir_version */
    put_string_field(&model, 2, "fairvisit-tests");
    put_message(&model, 7, &graph);
    put(&model, b->opsets.p, b->opsets.n);
    free(b->opsets.p);
    free(b->nodes.p);
    free(b->inits.p);
    free(b->inputs.p);
    free(b->outputs.p);
    free(b->cur.p);
    free(b);
    *len = model.n;
    return model.p;
}

int ob_write_file(const char *path, const unsigned char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -1;
    size_t w = fwrite(data, 1, len, f);
    int bad = fclose(f) != 0 || w != len;
    return bad ? -1 : 0;
}
