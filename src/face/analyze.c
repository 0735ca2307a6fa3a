/*
 * analyze.c - the pipeline for one image: detect, then for each face landmarks, alignment, the
 * quality gate, liveness and (when asked and usable) the embedding.
 *
 * A face is usable only when every gate passes; otherwise its reason bits say why and no
 * embedding is computed for it. The aligned face is wiped and freed before the next face.
 */
#include <math.h>
#include <string.h>

#include "face-impl.h"
#include "fairvisit/alloc.h"

static fv_status analyze_one(fv_face_engine *e, const fv_image *img, const fv__det *d,
                             unsigned flags, fv_face *f) {
    memset(f, 0, sizeof(*f));
    memcpy(f->box, d->box, sizeof f->box);
    f->score = d->score;
    fv_status st = fv__face_landmarks(e, img, d->box, f->landmarks68);
    if (st != FV_OK) return st;
    fv__face_five_points(f->landmarks68, f->landmarks);
    fv_face_quality *q = &f->quality;
    q->size_px = d->box[3] - d->box[1];
    q->visible = fv__face_visible_fraction(img, d->box);
    fv__face_pose(f->landmarks, &q->yaw, &q->pitch, &q->roll);
    fv_image aligned = {0};
    st = fv__face_align(img, f->landmarks, &aligned);
    if (st != FV_OK) return fv__face_fail(e, st, "out of memory aligning a face");
    q->sharpness = fv__face_sharpness(&aligned);
    q->occlusion = fv__face_occlusion(&aligned);
    /* The embedding's raw length is itself a gate, so the network always runs; the template
     * is kept only when every gate passes. */
    float emb[FV_FACE_EMBEDDING_DIM];
    st = fv__face_embed(e, &aligned, emb, &q->template_norm);
    fv_img_free(&aligned);
    if (st == FV_OK) st = fv__face_liveness(e, img, d->box, &f->liveness);
    if (st != FV_OK) {
        fv_wipe(emb, sizeof emb);
        return st;
    }
    unsigned r = 0;
    if (q->size_px < (float)e->opt.min_usable_px) r |= FV_FACE_REASON(TOO_SMALL);
    if (q->visible < FV__MIN_VISIBLE) r |= FV_FACE_REASON(CUT);
    if (q->sharpness < FV__MIN_SHARPNESS) r |= FV_FACE_REASON(BLURRED);
    if (fabsf(q->yaw) > FV__MAX_YAW || fabsf(q->pitch) > FV__MAX_PITCH ||
        fabsf(q->roll) > FV__MAX_ROLL)
        r |= FV_FACE_REASON(POSE);
    if (q->occlusion > FV__MAX_OCCLUSION || q->template_norm < FV__MIN_TEMPLATE_NORM)
        r |= FV_FACE_REASON(OCCLUDED);
    if (f->liveness < e->opt.liveness_threshold) r |= FV_FACE_REASON(NOT_LIVE);
    f->reasons = r;
    f->usable = r == 0;
    if (f->usable && (flags & FV_FACE_WANT_EMBEDDING)) {
        memcpy(f->embedding, emb, sizeof emb);
        f->has_embedding = 1;
    }
    fv_wipe(emb, sizeof emb);
    return FV_OK;
}

fv_status fv_face_analyze(fv_face_engine *e, const fv_image *img, unsigned flags,
                          fv_face_list *out) {
    out->count = 0;
    out->faces = NULL;
    if (e == NULL || e->detect == NULL) return FV_ERR_STATE;
    if (img == NULL || img->rgb == NULL || img->width < 1 || img->height < 1)
        return fv__face_fail(e, FV_ERR_ARG, "empty image");
    fv__det *dets = NULL;
    int n = 0;
    fv_status st = fv__face_detect(e, img, &dets, &n);
    if (st != FV_OK) return st;
    if (n > 0) {
        out->faces = fv_calloc((size_t)n, sizeof(fv_face));
        if (out->faces == NULL) st = fv__face_fail(e, FV_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n && st == FV_OK; i++) {
        st = analyze_one(e, img, &dets[i], flags, &out->faces[i]);
        if (st == FV_OK) out->count++;
    }
    fv_free(dets);
    /* the networks' buffers held this image's pixels and templates */
    fv_nn_wipe(e->detect);
    fv_nn_wipe(e->landmark);
    fv_nn_wipe(e->feature);
    fv_nn_wipe(e->liveness);
    if (st != FV_OK) {
        out->count = n; /* wipe everything allocated */
        fv_face_list_free(out);
    }
    return st;
}
