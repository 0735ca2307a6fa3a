/*
 * embed.c - the 512-d template of an aligned 112x112 face: (v - 127) / 128 RGB in, L2-normalised
 * out. The raw output's length is kept as a quality signal (faces the network cannot read well
 * give short vectors).
 */
#include <math.h>

#include "face-impl.h"
#include "fairvisit/alloc.h"

fv_status fv__face_embed(fv_face_engine *e, const fv_image *aligned, float *embedding,
                         float *raw_norm) {
    fv_nn_tensor in, out;
    fv_status st = fv_nn_input(e->feature, 0, &in);
    if (st == FV_OK) fv__face_fill_input(aligned, 3, 127.0f, 1.0f / 128.0f, in.data);
    if (st == FV_OK) st = fv_nn_run(e->feature);
    if (st == FV_OK) st = fv_nn_output(e->feature, 0, &out);
    if (st != FV_OK) return fv__face_fail(e, st, "embedding: %s", fv_nn_errmsg(e->feature));
    if (out.numel != FV_FACE_EMBEDDING_DIM)
        return fv__face_fail(e, FV_ERR_SHAPE, "embedding model gives %zu values, expected %d",
                             out.numel, FV_FACE_EMBEDDING_DIM);
    double n2 = 0;
    for (int i = 0; i < FV_FACE_EMBEDDING_DIM; i++) n2 += (double)out.data[i] * out.data[i];
    double n = sqrt(n2);
    *raw_norm = (float)n;
    double inv = n > 0 ? 1.0 / n : 0.0;
    for (int i = 0; i < FV_FACE_EMBEDDING_DIM; i++) embedding[i] = (float)(out.data[i] * inv);
    /* the model's output buffer held the template too: wipe it */
    fv_wipe(out.data, out.numel * sizeof(float));
    return FV_OK;
}
