/*
 * fairvisit/nn.h - the inference engine: runs standard ONNX models on the CPU, in our own C code.
 *
 * A model is opened from a .onnx file (or a buffer), checked, shape-inferred and memory-planned
 * once; then each run reads the input buffer and writes the output buffers in place, with no
 * allocation. Unsupported operators are refused at open, by name; a malformed file is refused with
 * the byte offset, node or operator at fault.
 *
 *     fv_nn_model *m = NULL;
 *     if (fv_nn_open_file("models/fr_feature.onnx", NULL, &m) != FV_OK) {
 *         fprintf(stderr, "%s\n", fv_nn_errmsg(m));
 *         fv_nn_close(m);
 *         return 1;
 *     }
 *     fv_nn_tensor in, out;
 *     (void)fv_nn_input(m, 0, &in);       // in.data: in.numel floats, NCHW
 *     fill(in.data, in.numel);
 *     if (fv_nn_run(m) == FV_OK && fv_nn_output(m, 0, &out) == FV_OK) use(out.data, out.numel);
 *     fv_nn_close(m);
 *
 * Ownership: the model owns every buffer it hands out; pointers stay valid until the next
 * fv_nn_resize_input or fv_nn_close. Threading: one model is used by one thread at a time; distinct
 * models are independent. fv_nn_options.threads > 1 makes fv_nn_run itself use worker threads.
 */
#ifndef FAIRVISIT_NN_H
#define FAIRVISIT_NN_H

#include <stddef.h>
#include <stdint.h>

#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FV_NN_MAX_DIMS 8

typedef struct fv_nn_model fv_nn_model;

typedef struct fv_nn_options {
    int threads; /* worker threads for one run; 0 or 1 = the calling thread only */
} fv_nn_options;

/* A view of one input or output tensor (float32, row-major). Borrowed from the model. */
typedef struct fv_nn_tensor {
    const char *name;
    int ndim;
    int64_t dims[FV_NN_MAX_DIMS];
    size_t numel;
    float *data;
} fv_nn_tensor;

/*
 * Opens a model. *out is always set: on success to a ready model; on failure to a model in an error
 * state whose fv_nn_errmsg says what was wrong (or NULL when even that could not be allocated).
 * The caller closes *out in both cases. `path` and `opt` are borrowed; `data` is copied.
 */
FV_NODISCARD fv_status fv_nn_open_file(const char *path, const fv_nn_options *opt,
                                       fv_nn_model **out);
FV_NODISCARD fv_status fv_nn_open_memory(const void *data, size_t size, const fv_nn_options *opt,
                                         fv_nn_model **out);
/* Frees everything; NULL is a no-op. */
void fv_nn_close(fv_nn_model *m);

/* The last error's message (never personal data); "out of memory" for NULL. */
const char *fv_nn_errmsg(const fv_nn_model *m);

int fv_nn_input_count(const fv_nn_model *m);
int fv_nn_output_count(const fv_nn_model *m);
FV_NODISCARD fv_status fv_nn_input(fv_nn_model *m, int index, fv_nn_tensor *out);
FV_NODISCARD fv_status fv_nn_output(fv_nn_model *m, int index, fv_nn_tensor *out);

/*
 * Changes input `index` to a new shape and re-plans the graph. Fails with FV_ERR_SHAPE naming the
 * node whose shapes no longer agree; the model then keeps its previous shape.
 */
FV_NODISCARD fv_status fv_nn_resize_input(fv_nn_model *m, int index, const int64_t *dims, int ndim);

/* Runs the graph on the current input buffers. */
FV_NODISCARD fv_status fv_nn_run(fv_nn_model *m);

/*
 * Zeroes every buffer that holds data derived from the inputs (input tensors, activations,
 * scratch), e.g. after a run on a person's face. Outputs read before are gone too. Also done by
 * fv_nn_close.
 */
void fv_nn_wipe(fv_nn_model *m);

/* Which kernel set was chosen at open: "avx512", "avx2" or "generic". */
const char *fv_nn_kernel_name(const fv_nn_model *m);

#ifdef __cplusplus
}
#endif
#endif
