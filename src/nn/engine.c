/*
 * engine.c - the public face of the inference engine: open, resize, run, close.
 *
 * Open reads the file into memory, loads the graph (onnx_load.c), fixes symbolic input dims to 1,
 * then prepares and plans it (graph_prepare.c, memory_plan.c). Run executes the live nodes in
 * order; every buffer it touches was allocated at prepare. Errors are recorded in m->errmsg.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn-impl.h"

const char *const fv__op_names[FV_OP_COUNT] = {
#define FV__OP_NAME(e, name, fn) name,
    FV__OP_MAP(FV__OP_NAME)
#undef FV__OP_NAME
};
const fv__infer_fn fv__op_infer[FV_OP_COUNT] = {
#define FV__OP_INFER(e, name, fn) fv__op_##fn##_infer,
    FV__OP_MAP(FV__OP_INFER)
#undef FV__OP_INFER
};
const fv__run_fn fv__op_run[FV_OP_COUNT] = {
#define FV__OP_RUN(e, name, fn) fv__op_##fn##_run,
    FV__OP_MAP(FV__OP_RUN)
#undef FV__OP_RUN
};
_Static_assert(sizeof(fv__op_names) / sizeof(fv__op_names[0]) == FV_OP_COUNT, "op names");
_Static_assert(sizeof(fv__op_infer) / sizeof(fv__op_infer[0]) == FV_OP_COUNT, "op infer");
_Static_assert(sizeof(fv__op_run) / sizeof(fv__op_run[0]) == FV_OP_COUNT, "op run");

void fv__assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "fairvisit: internal invariant failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

static fv_status vfail(fv_nn_model *m, fv_status st, const char *prefix, const char *fmt,
                       va_list ap) {
    if (m == NULL) return st;
    size_t n = 0;
    if (prefix != NULL) {
        snprintf(m->errmsg, sizeof m->errmsg, "%s", prefix);
        n = strlen(m->errmsg);
    }
    vsnprintf(m->errmsg + n, sizeof m->errmsg - n, fmt, ap);
    return st;
}

fv_status fv__nn_fail(fv_nn_model *m, fv_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(m, st, NULL, fmt, ap);
    va_end(ap);
    return st;
}

fv_status fv__node_fail(fv_nn_model *m, const fv__node *n, fv_status st, const char *fmt, ...) {
    char prefix[160], nb[72];
    snprintf(prefix, sizeof prefix, "node '%s' (%s): ", fv__shown(n->name, nb),
             fv__op_names[n->op]);
    va_list ap;
    va_start(ap, fmt);
    vfail(m, st, prefix, fmt, ap);
    va_end(ap);
    return st;
}

static fv_status alloc_inputs(fv_nn_model *m) {
    for (int i = 0; i < m->n_inputs; i++) {
        fv__tensor *t = &m->tensors[m->inputs[i]];
        if (t->owned) fv_aligned_free(t->data);
        t->owned = false;
        t->data = fv_aligned_alloc(t->numel * sizeof(float));
        if (t->data == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
        t->owned = true;
        memset(t->data, 0, t->numel * sizeof(float));
    }
    return FV_OK;
}

static fv_status prepare_all(fv_nn_model *m) {
    m->ready = false;
    fv_status st = alloc_inputs(m);
    if (st == FV_OK) st = fv__graph_prepare(m);
    if (st == FV_OK) st = fv__memory_plan(m);
    if (st == FV_OK) m->ready = true;
    return st;
}

static fv_nn_model *model_new(const fv_nn_options *opt) {
    fv_nn_model *m = fv_calloc(1, sizeof(*m));
    if (m == NULL) return NULL;
    m->k = fv__kernels_select();
    m->threads = opt != NULL && opt->threads > 1 ? opt->threads : 1;
    return m;
}

fv_status fv_nn_open_memory(const void *data, size_t size, const fv_nn_options *opt,
                            fv_nn_model **out) {
    fv_nn_model *m = model_new(opt);
    *out = m;
    if (m == NULL) return FV_ERR_NOMEM;
    if (data == NULL && size > 0) return fv__nn_fail(m, FV_ERR_ARG, "no model data given");
    if (size > FV_NN_MAX_MODEL_BYTES)
        return fv__nn_fail(m, FV_ERR_LIMIT, "model of %zu bytes is larger than the limit", size);
    if (fv__pool_open(m->threads, &m->pool) != FV_OK)
        return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory starting threads");
    fv_status st = fv__onnx_load(m, data, size);
    if (st != FV_OK) return st;
    if (getenv("FV_NN_PROFILE") != NULL && m->n_nodes > 0) {
        m->profile_ms = fv_calloc((size_t)m->n_nodes, sizeof(double));
        if (m->profile_ms == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_inputs; i++) {
        fv__tensor *t = &m->tensors[m->inputs[i]];
        int64_t dims[FV_NN_MAX_DIMS];
        for (int d = 0; d < t->ndim; d++) dims[d] = t->dims[d] < 0 ? 1 : t->dims[d];
        st = fv__tensor_set_shape(m, m->inputs[i], FV_DT_FLOAT, t->ndim, dims);
        if (st != FV_OK) return st;
    }
    return prepare_all(m);
}

fv_status fv_nn_open_file(const char *path, const fv_nn_options *opt, fv_nn_model **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fv_nn_model *m = model_new(opt);
        *out = m;
        return fv__nn_fail(m, FV_ERR_IO, "cannot open model file '%s'", path);
    }
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    fv_status st = FV_OK;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : (size_t)1 << 20;
            if (ncap > FV_NN_MAX_MODEL_BYTES + ((size_t)1 << 20)) {
                st = FV_ERR_LIMIT;
                break;
            }
            unsigned char *nb = fv_realloc(buf, ncap);
            if (nb == NULL) {
                st = FV_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) st = FV_ERR_IO;
            break;
        }
    }
    fclose(f);
    if (st != FV_OK) {
        fv_free(buf);
        fv_nn_model *m = model_new(opt);
        *out = m;
        return fv__nn_fail(m, st, "cannot read model file '%s': %s", path, fv_status_message(st));
    }
    st = fv_nn_open_memory(buf, len, opt, out);
    fv_free(buf);
    return st;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* FV_NN_PROFILE: per-node mean times, slowest first, on stderr at close (no data, only names). */
static void profile_report(const fv_nn_model *m) {
    if (m->profile_ms == NULL || m->profile_runs == 0) return;
    double total = 0.0;
    for (int i = 0; i < m->n_nodes; i++) total += m->profile_ms[i];
    fprintf(stderr, "fairvisit profile: %ld runs, %.3f ms per run\n", m->profile_runs,
            total / (double)m->profile_runs);
    for (int shown_n = 0; shown_n < 25; shown_n++) {
        int best = -1;
        for (int i = 0; i < m->n_nodes; i++)
            if (m->profile_ms[i] > 0 && (best < 0 || m->profile_ms[i] > m->profile_ms[best]))
                best = i;
        if (best < 0) break;
        const fv__node *n = &m->nodes[best];
        const fv__tensor *y = &m->tensors[n->out[0]];
        char nb[72];
        fprintf(stderr, "  %8.4f ms %5.1f%%  %-12s %-24s",
                m->profile_ms[best] / (double)m->profile_runs, 100.0 * m->profile_ms[best] / total,
                fv__op_names[n->op], fv__shown(n->name, nb));
        if (n->op == FV_OP_CONV) {
            const fv__conv_params *p = &n->conv;
            int cg = p->cin / p->group; /* exact: channels per group */
            double flops = 2.0 * p->batch * p->cout * cg * p->kh * p->kw * (double)p->oh * p->ow;
            fprintf(stderr, " %dx%d s%d g%d %d->%d out %dx%d path %d, %.1f GFLOP/s", p->kh, p->kw,
                    p->sw, p->group, p->cin, p->cout, p->oh, p->ow, p->path,
                    flops / (m->profile_ms[best] / (double)m->profile_runs) / 1e6);
        } else
            fprintf(stderr, " out numel %zu", y->numel);
        fprintf(stderr, "\n");
        ((fv_nn_model *)m)->profile_ms[best] = -m->profile_ms[best];
    }
}

void fv_nn_wipe(fv_nn_model *m) {
    if (m == NULL) return;
    for (int i = 0; i < m->n_inputs && m->tensors != NULL; i++) {
        fv__tensor *t = &m->tensors[m->inputs[i]];
        if (t->owned) fv_wipe(t->data, t->numel * fv__dtype_size(t->dtype));
    }
    fv_wipe(m->arena, m->arena_size);
    if (m->scratch != NULL)
        fv_wipe(m->scratch, m->scratch_size * (size_t)fv__pool_threads(m->pool));
}

void fv_nn_close(fv_nn_model *m) {
    if (m == NULL) return;
    fv_nn_wipe(m);
    profile_report(m);
    fv_free(m->profile_ms);
    fv__pool_close(m->pool);
    fv__model_free_graph(m);
    fv_aligned_free(m->arena);
    fv_aligned_free(m->scratch);
    fv_free(m);
}

const char *fv_nn_errmsg(const fv_nn_model *m) {
    if (m == NULL) return "out of memory";
    return m->errmsg[0] ? m->errmsg : "no error";
}

int fv_nn_input_count(const fv_nn_model *m) {
    return m != NULL && m->ready ? m->n_inputs : 0;
}

int fv_nn_output_count(const fv_nn_model *m) {
    return m != NULL && m->ready ? m->n_outputs : 0;
}

static void view(const fv__tensor *t, fv_nn_tensor *out) {
    out->name = t->name;
    out->ndim = t->ndim;
    for (int i = 0; i < t->ndim; i++) out->dims[i] = t->dims[i];
    out->numel = t->numel;
    out->data = t->data;
}

fv_status fv_nn_input(fv_nn_model *m, int index, fv_nn_tensor *out) {
    if (m == NULL || !m->ready) return FV_ERR_STATE;
    if (index < 0 || index >= m->n_inputs)
        return fv__nn_fail(m, FV_ERR_ARG, "input %d does not exist (the model has %d)", index,
                           m->n_inputs);
    view(&m->tensors[m->inputs[index]], out);
    return FV_OK;
}

fv_status fv_nn_output(fv_nn_model *m, int index, fv_nn_tensor *out) {
    if (m == NULL || !m->ready) return FV_ERR_STATE;
    if (index < 0 || index >= m->n_outputs)
        return fv__nn_fail(m, FV_ERR_ARG, "output %d does not exist (the model has %d)", index,
                           m->n_outputs);
    fv__tensor *t = &m->tensors[m->outputs[index]];
    if (t->dtype != FV_DT_FLOAT)
        return fv__nn_fail(m, FV_ERR_UNSUPPORTED, "output %d is not float32", index);
    view(t, out);
    return FV_OK;
}

fv_status fv_nn_resize_input(fv_nn_model *m, int index, const int64_t *dims, int ndim) {
    if (m == NULL || !m->ready) return FV_ERR_STATE;
    if (index < 0 || index >= m->n_inputs)
        return fv__nn_fail(m, FV_ERR_ARG, "input %d does not exist", index);
    fv__tensor *t = &m->tensors[m->inputs[index]];
    int64_t old[FV_NN_MAX_DIMS];
    int old_ndim = t->ndim;
    memcpy(old, t->dims, sizeof old);
    fv_status st = fv__tensor_set_shape(m, m->inputs[index], FV_DT_FLOAT, ndim, dims);
    if (st == FV_OK) st = prepare_all(m);
    if (st != FV_OK) {
        char msg[sizeof m->errmsg];
        memcpy(msg, m->errmsg, sizeof msg);
        if (fv__tensor_set_shape(m, m->inputs[index], FV_DT_FLOAT, old_ndim, old) == FV_OK &&
            prepare_all(m) == FV_OK)
            memcpy(m->errmsg, msg, sizeof msg);
    }
    return st;
}

fv_status fv_nn_run(fv_nn_model *m) {
    if (m == NULL || !m->ready) return FV_ERR_STATE;
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        if (n->dead) continue;
        double t0 = m->profile_ms ? now_ms() : 0.0;
        fv_status st = fv__op_run[n->op](m, n);
        if (st != FV_OK) return st;
        if (m->profile_ms) m->profile_ms[i] += now_ms() - t0;
    }
    if (m->profile_ms) m->profile_runs++;
    return FV_OK;
}

const char *fv_nn_kernel_name(const fv_nn_model *m) {
    return m != NULL && m->k != NULL ? m->k->name : "generic";
}
