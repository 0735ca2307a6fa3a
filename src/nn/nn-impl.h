/*
 * nn-impl.h - private structures of the inference engine, shared by the files of src/nn only.
 *
 * A model is a graph of nodes over tensors, both in flat arrays indexed by int. Tensors are
 * float32 activations or constants, or int64 shape values. Life of a model:
 *   1. onnx_load.c parses the protobuf into tensors (initializers, inputs, outputs) and nodes with
 *      raw attributes, and maps each op name to fv__op (unknown ops refused by name).
 *   2. graph_prepare.c infers shapes in node order, evaluates every node whose inputs are all
 *      constant (int64 shape arithmetic included), fuses Conv+BatchNorm and Conv+Relu/PRelu, and
 *      lets each op prepare its fast path (weights repacked once, here).
 *   3. memory_plan.c gives every activation an offset in one arena by lifetime, so buffers are
 *      reused and a run allocates nothing.
 *   4. engine.c runs the live nodes in order.
 * Invariants: nodes are in topological order (checked at load); after prepare every live node's
 * inputs are either constant or produced by an earlier live node; tensor data pointers of
 * activations point into the arena.
 * Threading: a model is used by one thread at a time; kernels may fan out to the model's pool.
 */
#ifndef FAIRVISIT_NN_IMPL_H
#define FAIRVISIT_NN_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fairvisit/alloc.h"
#include "fairvisit/nn.h"
#include "fairvisit/status.h"
#include "../core/pool.h"
#include "cpu/kernels.h"

#define FV_ASSERT(x)                                                                               \
    do {                                                                                           \
        if (!(x)) fv__assert_fail(#x, __FILE__, __LINE__);                                         \
    } while (0)
_Noreturn void fv__assert_fail(const char *expr, const char *file, int line);

/* Limits on what a model file may ask for (checked before any allocation they size). */
#define FV_NN_MAX_MODEL_BYTES ((size_t)1 << 31)
#define FV_NN_MAX_NODES       100000
#define FV_NN_MAX_TENSORS     400000
#define FV_NN_MAX_NUMEL       ((int64_t)1 << 28) /* 1 GiB of float32 in one tensor */
#define FV_NN_MAX_IO          16                 /* inputs or outputs of one node */
#define FV_NN_MAX_ARENA       ((size_t)4 << 30)

/* ONNX TensorProto.DataType codes we accept. */
enum { FV_DT_FLOAT = 1, FV_DT_INT64 = 7 };

typedef enum fv__tensor_kind {
    FV_TK_ACTIVATION = 0, /* produced by a node at run time: lives in the arena */
    FV_TK_CONST,          /* initializer, Constant or folded at prepare: owned by the tensor */
    FV_TK_INPUT,          /* a graph input: own buffer, filled by the caller */
} fv__tensor_kind;

typedef struct fv__tensor {
    char *name;
    int dtype;
    int ndim;
    int64_t dims[FV_NN_MAX_DIMS];
    size_t numel;
    fv__tensor_kind kind;
    void *data;     /* float* or int64_t*: owned when `owned`, else an arena slice */
    bool owned;     /* data was fv_aligned_alloc'd for this tensor */
    bool is_output; /* a graph output: never reused by the planner */
    bool is_initializer;
    int producer;  /* node index, -1 for inputs and initializers */
    int last_use;  /* last node reading it (prepare fills it) */
    size_t offset; /* arena offset (planner) */
} fv__tensor;

typedef enum fv__attr_type {
    FV_AT_FLOAT = 1,
    FV_AT_INT = 2,
    FV_AT_STRING = 3,
    FV_AT_TENSOR = 4,
    FV_AT_FLOATS = 6,
    FV_AT_INTS = 7,
} fv__attr_type;

typedef struct fv__attr {
    char *name;
    fv__attr_type type;
    float f;
    int64_t i;
    char *s;
    int n; /* count of floats/ints */
    float *floats;
    int64_t *ints;
    int tensor; /* tensor index for FV_AT_TENSOR, else -1 */
} fv__attr;

/* The operator table: X(ENUM, "OnnxName", file_prefix). Kernels live in op_<group>.c. */
#define FV__OP_MAP(X)                                                                              \
    X(CONV, "Conv", conv)                                                                          \
    X(RELU, "Relu", relu)                                                                          \
    X(PRELU, "PRelu", prelu)                                                                       \
    X(SIGMOID, "Sigmoid", sigmoid)                                                                 \
    X(EXP, "Exp", exp)                                                                             \
    X(ADD, "Add", binary)                                                                          \
    X(SUB, "Sub", binary)                                                                          \
    X(MUL, "Mul", binary)                                                                          \
    X(DIV, "Div", binary)                                                                          \
    X(BATCHNORM, "BatchNormalization", batchnorm)                                                  \
    X(GEMM, "Gemm", gemm)                                                                          \
    X(MATMUL, "MatMul", matmul)                                                                    \
    X(SOFTMAX, "Softmax", softmax)                                                                 \
    X(GLOBALAVGPOOL, "GlobalAveragePool", gap)                                                     \
    X(CONCAT, "Concat", concat)                                                                    \
    X(RESHAPE, "Reshape", reshape)                                                                 \
    X(FLATTEN, "Flatten", flatten)                                                                 \
    X(TRANSPOSE, "Transpose", transpose)                                                           \
    X(SLICE, "Slice", slice)                                                                       \
    X(SHAPE, "Shape", shape)                                                                       \
    X(GATHER, "Gather", gather)                                                                    \
    X(UNSQUEEZE, "Unsqueeze", unsqueeze)                                                           \
    X(SQUEEZE, "Squeeze", squeeze)                                                                 \
    X(IDENTITY, "Identity", identity)                                                              \
    X(CONSTANT, "Constant", constant)

typedef enum fv__op {
#define FV__OP_ENUM(e, name, fn) FV_OP_##e,
    FV__OP_MAP(FV__OP_ENUM)
#undef FV__OP_ENUM
        FV_OP_COUNT
} fv__op;

/* Activation fused into a producing kernel's epilogue. */
typedef enum fv__act { FV_ACT_NONE = 0, FV_ACT_RELU, FV_ACT_PRELU } fv__act;

/* Conv geometry after attribute parsing and shape inference (2-D; 1-D convs get kh = 1). */
typedef struct fv__conv_params {
    int group;
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l, pad_b, pad_r;
    int auto_pad; /* 0 NOTSET, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
    int cin, cout, ih, iw, oh, ow, batch;
    int path;      /* FV_CONV_PATH_* chosen at prepare */
    float *packed; /* weights repacked for the GEMM path (owned) */
    float *bias;   /* cout floats (owned; zeros when the model has none) */
    float *weight; /* cout * cin/group * kh * kw (owned copy; BN folded) */
    int bn_node;   /* BatchNormalization node folded into this conv, or -1 */
} fv__conv_params;

enum {
    FV_CONV_PATH_GEMM = 0,
    FV_CONV_PATH_DEPTHWISE,       /* one channel per task, vectorised along rows */
    FV_CONV_PATH_DEPTHWISE_BLOCK, /* vw channels per task, vectorised across channels */
    FV_CONV_PATH_DEPTHWISE_FLAT,  /* small planes: phase-split, flattened, all rows per vector */
    FV_CONV_PATH_DEPTHWISE_DOT,   /* window == whole plane, 1x1 output: a dot per channel */
    FV_CONV_PATH_GEMM_PLANES,     /* GEMM packed from padded phase planes of the input */
    FV_CONV_PATH_REFERENCE
};

typedef struct fv__node {
    char *name;
    char *op_type; /* as written in the file, for messages */
    fv__op op;
    int n_in, n_out;
    int in[FV_NN_MAX_IO]; /* tensor indices; -1 for an omitted optional input */
    int out[FV_NN_MAX_IO];
    int out0_orig; /* out[0] as loaded (fusion redirects out[0]) */
    int n_attrs;
    fv__attr *attrs;
    bool dead;        /* folded into constants or fused into another node */
    fv__act act;      /* fused activation */
    float *act_slope; /* per-channel PRelu slope, owned (cout floats) */
    fv__conv_params conv;
    int i0, i1;    /* small op-specific integers (axis, flags) set at prepare */
    int64_t *ints; /* op-specific int array set at prepare (perm, starts...), owned */
    int n_ints;
    size_t scratch; /* bytes of scratch memory the kernel needs */
} fv__node;

struct fv_nn_model {
    char errmsg[256];
    int opset;
    int n_tensors, cap_tensors;
    fv__tensor *tensors;
    int n_nodes, cap_nodes;
    fv__node *nodes;
    int n_inputs, n_outputs;
    int *inputs; /* tensor indices of graph inputs (initializers excluded) */
    int *outputs;
    bool ready; /* prepared and planned */
    unsigned char *arena;
    size_t arena_size;
    float *scratch;
    size_t scratch_size;
    const fv__kernels *k;
    int threads;
    fv__pool *pool;
    double *profile_ms; /* per-node run time when FV_NN_PROFILE is set at open, else NULL */
    long profile_runs;
};

/* Records a formatted message on the model and returns st. */
fv_status fv__nn_fail(fv_nn_model *m, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like fv__nn_fail, prefixed with "node 'name' (Op): ". */
fv_status fv__node_fail(fv_nn_model *m, const fv__node *n, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A printable, bounded copy of a name from the file, for messages (buf of 72 bytes). */
const char *fv__shown(const char *s, char buf[72]);

/* onnx_load.c */
fv_status fv__onnx_load(fv_nn_model *m, const unsigned char *buf, size_t len);
int fv__tensor_add(fv_nn_model *m, const char *name, size_t name_len); /* -1 on NOMEM */
int fv__tensor_find(const fv_nn_model *m, const char *name);
void fv__model_free_graph(fv_nn_model *m);

/* graph_prepare.c */
fv_status fv__graph_prepare(fv_nn_model *m);

/* memory_plan.c */
fv_status fv__memory_plan(fv_nn_model *m);

/* Attribute access (graph_prepare.c). Missing attributes give the default. */
const fv__attr *fv__attr_get(const fv__node *n, const char *name);
int64_t fv__attr_int(const fv__node *n, const char *name, int64_t def);
float fv__attr_float(const fv__node *n, const char *name, float def);

/* Tensor helpers (graph_prepare.c). */
fv_status fv__tensor_set_shape(fv_nn_model *m, int t, int dtype, int ndim, const int64_t *dims);
size_t fv__dtype_size(int dtype);

/*
 * Per-op hooks. infer: check attributes and input shapes, set output shapes/dtypes, fill node
 * params; run: compute outputs from inputs (also used at prepare to fold constants).
 */
typedef fv_status (*fv__infer_fn)(fv_nn_model *m, fv__node *n);
typedef fv_status (*fv__run_fn)(fv_nn_model *m, fv__node *n);

#define FV__OP_DECL(e, name, fn)                                                                   \
    fv_status fv__op_##fn##_infer(fv_nn_model *m, fv__node *n);                                    \
    fv_status fv__op_##fn##_run(fv_nn_model *m, fv__node *n);
FV__OP_MAP(FV__OP_DECL)
#undef FV__OP_DECL

extern const char *const fv__op_names[FV_OP_COUNT];
extern const fv__infer_fn fv__op_infer[FV_OP_COUNT];
extern const fv__run_fn fv__op_run[FV_OP_COUNT];

/* Conv preparation after fusion (op_conv.c): copy/fold weights, choose path, repack. */
fv_status fv__conv_finalize(fv_nn_model *m, fv__node *n);
/* Folds BatchNormalization node `bn` into conv node `c` (op_conv.c). */
fv_status fv__conv_fold_bn(fv_nn_model *m, fv__node *c, const fv__node *bn);

/* Convenience accessors. */
static inline fv__tensor *fv__in(fv_nn_model *m, const fv__node *n, int i) {
    return &m->tensors[n->in[i]];
}
static inline fv__tensor *fv__out(fv_nn_model *m, const fv__node *n, int i) {
    return &m->tensors[n->out[i]];
}
static inline bool fv__has_in(const fv__node *n, int i) {
    return i < n->n_in && n->in[i] >= 0;
}

#endif
