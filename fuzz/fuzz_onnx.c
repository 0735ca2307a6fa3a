/*
 * fuzz_onnx.c - libFuzzer target for the ONNX loader and graph preparation.
 *
 * Each input is handed to fv_nn_open_memory as a model file. If it opens, the model is run once
 * on its zeroed inputs and closed; if not, the error message must be a terminated string. This
 * covers the protobuf reader, the ONNX loader's checks, every op's shape inference, constant
 * folding, fusion, the memory planner and (for models that open) the kernels.
 *
 * Two guards keep the fuzzer on bugs rather than on legitimately large models: allocations go
 * through a budgeted allocator (fv_set_allocator) that fails once 256 MiB would be live, so
 * huge but valid shapes end in FV_ERR_NOMEM (itself an error path worth exercising); and the
 * run is skipped when the graph's multiply-accumulate count exceeds 5e7, so a valid but enormous
 * convolution is not reported as a timeout.
 */
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "fairvisit/nn.h"
#include "nn-impl.h"

#define BUDGET   ((size_t)256 << 20)
#define MAX_MACS 5e7

/* Live bytes are counted with malloc_usable_size (exact under ASan), so blocks keep no header
 * and ASan still sees every underflow and overflow. */
static size_t g_live;

static void *budget_malloc(size_t size) {
    if (size > BUDGET - g_live) return NULL;
    void *p = malloc(size);
    if (p != NULL) g_live += malloc_usable_size(p);
    return p;
}

static void budget_free(void *ptr) {
    if (ptr == NULL) return;
    g_live -= malloc_usable_size(ptr);
    free(ptr);
}

static void *budget_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return budget_malloc(size);
    size_t old = malloc_usable_size(ptr);
    if (size > old && size - old > BUDGET - g_live) return NULL;
    void *q = realloc(ptr, size);
    if (q == NULL) return NULL;
    g_live = g_live - old + malloc_usable_size(q);
    return q;
}

/* Multiply-accumulates of one run, roughly: convolutions dominate, the rest is per element. */
static double run_cost(const fv_nn_model *m) {
    double macs = 0.0;
    for (int i = 0; i < m->n_nodes; i++) {
        const fv__node *n = &m->nodes[i];
        if (n->dead) continue;
        double out = 0.0;
        for (int k = 0; k < n->n_out; k++) out += (double)m->tensors[n->out[k]].numel;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) out += (double)m->tensors[n->in[k]].numel;
        if (n->op == FV_OP_CONV) {
            const fv__conv_params *p = &n->conv;
            out = (double)p->batch * p->cout * p->oh * p->ow * (double)(p->cin / p->group) * p->kh *
                  p->kw;
        } else if (n->op == FV_OP_GEMM || n->op == FV_OP_MATMUL) {
            const fv__tensor *a = &m->tensors[n->in[0]], *b = &m->tensors[n->in[1]];
            out += (double)a->numel * (double)(b->ndim == 2 ? b->dims[1] + b->dims[0] : 1);
        }
        macs += out;
    }
    return macs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const fv_allocator budget = {budget_malloc, budget_realloc, budget_free};
    fv_set_allocator(&budget);
    fv_nn_model *m = NULL;
    fv_status st = fv_nn_open_memory(data, size, NULL, &m);
    if (st == FV_OK) {
        if (run_cost(m) <= MAX_MACS) {
            fv_nn_tensor t;
            for (int i = 0; i < fv_nn_input_count(m); i++)
                if (fv_nn_input(m, i, &t) == FV_OK) memset(t.data, 0, t.numel * sizeof(float));
            if (fv_nn_run(m) == FV_OK) {
                for (int i = 0; i < fv_nn_output_count(m); i++)
                    if (fv_nn_output(m, i, &t) != FV_OK && strlen(fv_nn_errmsg(m)) == 0) abort();
            }
        }
    } else {
        const char *msg = fv_nn_errmsg(m);
        if (strlen(msg) == 0) abort(); /* every failure must say why */
    }
    fv_nn_close(m);
    if (g_live != 0) abort(); /* a leak through fv_malloc: LeakSanitizer may not see it yet */
    fv_set_allocator(NULL);
    return 0;
}
