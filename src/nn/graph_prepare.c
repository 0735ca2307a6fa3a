/*
 * graph_prepare.c - turns a loaded graph into a runnable plan for the current input shapes.
 *
 * In node order: infer every node's output shapes (each op's infer hook checks its attributes
 * and inputs), and evaluate right away every node whose inputs are all constant, plus Shape
 * (its result depends only on shapes): their outputs become constants and the node is dead.
 * Then fuse Conv with a following BatchNormalization, Relu or PRelu (when the conv's output has
 * that single reader), let each Conv repack its weights, and record each tensor's last reader
 * for the memory planner. Re-running prepare (after an input resize) first undoes the previous
 * one, so it is idempotent.
 * Invariant after success: live nodes read only constants, graph inputs and outputs of earlier
 * live nodes; every int64 tensor is constant.
 */
#include <string.h>

#include "nn-impl.h"

const fv__attr *fv__attr_get(const fv__node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t fv__attr_int(const fv__node *n, const char *name, int64_t def) {
    const fv__attr *a = fv__attr_get(n, name);
    return a != NULL && a->type == FV_AT_INT ? a->i : def;
}

float fv__attr_float(const fv__node *n, const char *name, float def) {
    const fv__attr *a = fv__attr_get(n, name);
    return a != NULL && a->type == FV_AT_FLOAT ? a->f : def;
}

size_t fv__dtype_size(int dtype) {
    return dtype == FV_DT_INT64 ? 8 : 4;
}

fv_status fv__tensor_set_shape(fv_nn_model *m, int ti, int dtype, int ndim, const int64_t *dims) {
    fv__tensor *t = &m->tensors[ti];
    char nb[72];
    if (ndim < 0 || ndim > FV_NN_MAX_DIMS)
        return fv__nn_fail(m, FV_ERR_LIMIT, "tensor '%s' would have %d dims (limit %d)",
                           fv__shown(t->name, nb), ndim, FV_NN_MAX_DIMS);
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || dims[i] > FV_NN_MAX_NUMEL ||
            !fv_size_mul(numel, (size_t)dims[i], &numel) || numel > (size_t)FV_NN_MAX_NUMEL)
            return fv__nn_fail(m, FV_ERR_LIMIT, "tensor '%s' would be too large or negative",
                               fv__shown(t->name, nb));
    }
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    t->numel = numel;
    return FV_OK;
}

static bool is_const(const fv_nn_model *m, int t) {
    return t < 0 || m->tensors[t].kind == FV_TK_CONST;
}

/* Undoes a previous prepare: folded constants freed, fusions and repacks forgotten. */
static void reset(fv_nn_model *m) {
    for (int i = 0; i < m->n_tensors; i++) {
        fv__tensor *t = &m->tensors[i];
        if (t->producer >= 0) {
            if (t->owned) fv_aligned_free(t->data);
            t->owned = false;
            t->data = NULL;
            t->kind = FV_TK_ACTIVATION;
        }
        t->last_use = -1;
    }
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        if (n->n_out > 0) n->out[0] = n->out0_orig;
        n->dead = false;
        n->act = FV_ACT_NONE;
        fv_free(n->act_slope);
        n->act_slope = NULL;
        fv_free(n->ints);
        n->ints = NULL;
        n->n_ints = 0;
        n->scratch = 0;
        fv_aligned_free(n->conv.packed);
        fv_aligned_free(n->conv.bias);
        fv_aligned_free(n->conv.weight);
        memset(&n->conv, 0, sizeof(n->conv));
        n->conv.bn_node = -1;
    }
}

/* Evaluates node n now, making its outputs constants. */
static fv_status fold(fv_nn_model *m, fv__node *n) {
    for (int k = 0; k < n->n_out; k++) {
        fv__tensor *t = fv__out(m, n, k);
        t->data = fv_aligned_alloc(t->numel * fv__dtype_size(t->dtype));
        if (t->data == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
        t->owned = true;
        t->kind = FV_TK_CONST;
    }
    n->dead = true;
    return fv__op_run[n->op](m, n);
}

/* Readers of each tensor among live nodes (graph outputs count as a reader). */
static fv_status count_readers(fv_nn_model *m, int *readers) {
    memset(readers, 0, (size_t)m->n_tensors * sizeof(int));
    for (int i = 0; i < m->n_nodes; i++) {
        const fv__node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) readers[n->in[k]]++;
    }
    for (int i = 0; i < m->n_outputs; i++) readers[m->outputs[i]] += 1000;
    return FV_OK;
}

/* The single live reader of tensor t, or NULL. */
static fv__node *only_reader(fv_nn_model *m, int t, const int *readers) {
    if (readers[t] != 1) return NULL;
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == t) return n;
    }
    return NULL;
}

static fv_status fuse(fv_nn_model *m) {
    int *readers = fv_malloc((size_t)m->n_tensors * sizeof(int));
    if (readers == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    count_readers(m, readers);
    fv_status st = FV_OK;
    for (int i = 0; i < m->n_nodes && st == FV_OK; i++) {
        fv__node *c = &m->nodes[i];
        if (c->dead || c->op != FV_OP_CONV) continue;
        int cout = (int)fv__in(m, c, 1)->dims[0];
        /* Conv -> BatchNormalization (constant parameters, per output channel). */
        fv__node *r = only_reader(m, c->out[0], readers);
        if (r != NULL && r->op == FV_OP_BATCHNORM && r->in[0] == c->out[0] && r->n_in == 5 &&
            is_const(m, r->in[1]) && is_const(m, r->in[2]) && is_const(m, r->in[3]) &&
            is_const(m, r->in[4]) && c->conv.bn_node < 0) {
            c->conv.bn_node = (int)(r - m->nodes);
            c->out[0] = r->out[0];
            m->tensors[c->out[0]].producer = i;
            r->dead = true;
            count_readers(m, readers);
            r = only_reader(m, c->out[0], readers);
        }
        /* Conv -> Relu / PRelu with a per-channel or scalar constant slope. */
        if (r != NULL && r->op == FV_OP_RELU) {
            c->act = FV_ACT_RELU;
        } else if (r != NULL && r->op == FV_OP_PRELU && r->in[0] == c->out[0] &&
                   is_const(m, r->in[1])) {
            fv__tensor *s = fv__in(m, r, 1);
            /* [C,1,1] / [1,C,1,1] broadcast along channels of an NCHW output; [1] is scalar */
            bool per_channel = s->numel == (size_t)cout && s->ndim >= 3 &&
                               s->dims[s->ndim - 3] == cout && fv__out(m, c, 0)->ndim == 4;
            if (per_channel || s->numel == 1) {
                c->act = FV_ACT_PRELU;
                c->act_slope = fv_malloc((size_t)cout * sizeof(float));
                if (c->act_slope == NULL) {
                    st = fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
                    break;
                }
                const float *sd = s->data;
                for (int k = 0; k < cout; k++) c->act_slope[k] = s->numel == 1 ? sd[0] : sd[k];
            } else {
                r = NULL;
            }
        } else {
            r = NULL;
        }
        if (r != NULL) {
            c->out[0] = r->out[0];
            m->tensors[c->out[0]].producer = i;
            r->dead = true;
            count_readers(m, readers);
        }
    }
    fv_free(readers);
    return st;
}

fv_status fv__graph_prepare(fv_nn_model *m) {
    reset(m);
    fv_status st;
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        for (int k = 0; k < n->n_out; k++) m->tensors[n->out[k]].producer = i;
        st = fv__op_infer[n->op](m, n);
        if (st != FV_OK) return st;
        bool all_const = true;
        for (int k = 0; k < n->n_in; k++) all_const = all_const && is_const(m, n->in[k]);
        if (all_const || n->op == FV_OP_SHAPE) {
            st = fold(m, n);
            if (st != FV_OK) return st;
            continue;
        }
        for (int k = 0; k < n->n_out; k++) {
            if (fv__out(m, n, k)->dtype != FV_DT_FLOAT)
                return fv__node_fail(m, n, FV_ERR_UNSUPPORTED,
                                     "an integer tensor computed from run-time data is not "
                                     "supported");
        }
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k] >= 0 && !is_const(m, n->in[k]) &&
                m->tensors[n->in[k]].dtype != FV_DT_FLOAT)
                return fv__node_fail(m, n, FV_ERR_UNSUPPORTED,
                                     "an integer input computed at run time is not supported");
        }
    }
    st = fuse(m);
    if (st != FV_OK) return st;
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        if (n->dead || n->op != FV_OP_CONV) continue;
        st = fv__conv_finalize(m, n);
        if (st != FV_OK) return st;
    }
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) m->tensors[n->in[k]].last_use = i;
    }
    for (int i = 0; i < m->n_outputs; i++) m->tensors[m->outputs[i]].last_use = m->n_nodes;
    return FV_OK;
}
