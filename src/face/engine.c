/*
 * engine.c - opens and closes the four face models, keeps the last error, and the small shared
 * helpers of the pipeline (reason tables, similarity, list ownership, model input filling).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "face-impl.h"
#include "fairvisit/alloc.h"

static const char *const g_reason_codes[FV_FACE_REASON_COUNT] = {
#define FV__CODE(name, code, msg) code,
    FV_FACE_REASON_MAP(FV__CODE)
#undef FV__CODE
};
static const char *const g_reason_msgs[FV_FACE_REASON_COUNT] = {
#define FV__MSG(name, code, msg) msg,
    FV_FACE_REASON_MAP(FV__MSG)
#undef FV__MSG
};
_Static_assert(sizeof(g_reason_codes) / sizeof(g_reason_codes[0]) == FV_FACE_REASON_COUNT,
               "reason codes");

const char *fv_face_reason_code(int bit) {
    return bit >= 0 && bit < FV_FACE_REASON_COUNT ? g_reason_codes[bit] : NULL;
}

const char *fv_face_reason_message(int bit) {
    return bit >= 0 && bit < FV_FACE_REASON_COUNT ? g_reason_msgs[bit] : NULL;
}

fv_status fv__face_fail(fv_face_engine *e, fv_status st, const char *fmt, ...) {
    if (e == NULL) return st;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(e->errmsg, sizeof e->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

static fv_status open_model(fv_face_engine *e, const char *dir, const char *name,
                            const int64_t *shape, fv_nn_model **out) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%s.onnx", dir, name) >= (int)sizeof path)
        return fv__face_fail(e, FV_ERR_ARG, "models folder path too long");
    fv_status st = fv_nn_open_file(path, NULL, out);
    if (st != FV_OK)
        return fv__face_fail(e, st, "cannot load model %s: %s", name, fv_nn_errmsg(*out));
    fv_nn_tensor in;
    st = fv_nn_input(*out, 0, &in);
    if (st == FV_OK && (in.ndim != 4 || in.dims[1] != shape[1] || in.dims[2] != shape[2] ||
                        in.dims[3] != shape[3]))
        st = fv_nn_resize_input(*out, 0, shape, 4);
    if (st != FV_OK)
        return fv__face_fail(e, st, "model %s does not take a [1,%lld,%lld,%lld] input: %s", name,
                             (long long)shape[1], (long long)shape[2], (long long)shape[3],
                             fv_nn_errmsg(*out));
    return FV_OK;
}

fv_status fv_face_engine_open(const fv_face_options *opt, fv_face_engine **out) {
    fv_face_engine *e = fv_calloc(1, sizeof(*e));
    *out = e;
    if (e == NULL) return FV_ERR_NOMEM;
    if (opt != NULL) e->opt = *opt;
    /* the folder is borrowed for the duration of this call only */
    const char *dir = e->opt.models_dir && *e->opt.models_dir ? e->opt.models_dir : "models";
    e->opt.models_dir = NULL;
    if (e->opt.detect_threshold <= 0.0f) e->opt.detect_threshold = 0.7f;
    if (e->opt.min_face_px <= 0) e->opt.min_face_px = 40;
    if (e->opt.min_usable_px <= 0) e->opt.min_usable_px = 48;
    if (e->opt.liveness_threshold <= 0.0f) e->opt.liveness_threshold = FV__DEFAULT_LIVENESS;
    if (e->opt.detect_threshold >= 1.0f || e->opt.liveness_threshold >= 1.0f)
        return fv__face_fail(e, FV_ERR_ARG, "thresholds must be below 1");
    static const int64_t det[4] = {1, 3, FV__DET_H, FV__DET_W}, lmk[4] = {1, 1, 64, 64},
                         fea[4] = {1, 3, 112, 112}, liv[4] = {1, 3, 128, 128};
    fv_status st = open_model(e, dir, "fr_detect", det, &e->detect);
    if (st == FV_OK) st = open_model(e, dir, "fr_landmark", lmk, &e->landmark);
    if (st == FV_OK) st = open_model(e, dir, "fr_feature", fea, &e->feature);
    if (st == FV_OK) st = open_model(e, dir, "fr_liveness", liv, &e->liveness);
    return st;
}

void fv_face_engine_close(fv_face_engine *e) {
    if (e == NULL) return;
    fv_nn_close(e->detect);
    fv_nn_close(e->landmark);
    fv_nn_close(e->feature);
    fv_nn_close(e->liveness);
    fv_free(e);
}

const char *fv_face_engine_errmsg(const fv_face_engine *e) {
    if (e == NULL) return "out of memory";
    return e->errmsg[0] ? e->errmsg : "no error";
}

void fv_face_list_free(fv_face_list *list) {
    if (list == NULL) return;
    if (list->faces != NULL) {
        fv_wipe(list->faces, (size_t)list->count * sizeof(fv_face));
        fv_free(list->faces);
    }
    list->faces = NULL;
    list->count = 0;
}

float fv_face_similarity(const float *a, const float *b) {
    double s = 0.0;
    for (int i = 0; i < FV_FACE_EMBEDDING_DIM; i++) s += (double)a[i] * b[i];
    return (float)s;
}

void fv__face_fill_input(const fv_image *img, int channels, float mean, float scale, float *dst) {
    size_t plane = (size_t)img->width * (size_t)img->height;
    const unsigned char *p = img->rgb;
    if (channels == 1) {
        for (size_t i = 0; i < plane; i++) {
            float g = 0.299f * p[3 * i] + 0.587f * p[3 * i + 1] + 0.114f * p[3 * i + 2];
            dst[i] = (floorf(g + 0.5f) - mean) * scale;
        }
        return;
    }
    for (size_t i = 0; i < plane; i++) {
        dst[i] = ((float)p[3 * i] - mean) * scale;
        dst[plane + i] = ((float)p[3 * i + 1] - mean) * scale;
        dst[2 * plane + i] = ((float)p[3 * i + 2] - mean) * scale;
    }
}

fv_status fv__face_crop_resize(const fv_image *img, float x, float y, float w, float h, int dst_w,
                               int dst_h, fv_image *out) {
    /* Shrink by halves first (each half-size bilinear step averages 2x2 pixels), so large
     * reductions are area-filtered rather than aliased; then one bilinear warp to the size. */
    fv_image cur = {0};
    const fv_image *src = img;
    double sx = (double)w / dst_w, sy = (double)h / dst_h;
    double ox = x, oy = y;
    fv_status st = FV_OK;
    if (sx >= 2.0 && sy >= 2.0) {
        /* work on the region only (plus a pixel of context), not the whole image */
        int cx = (int)floorf(x) - 1, cy = (int)floorf(y) - 1;
        int cw = (int)ceilf(x + w) + 1 - cx, ch = (int)ceilf(y + h) + 1 - cy;
        if (cw < img->width || ch < img->height) {
            st = fv_img_crop(img, cx, cy, cw, ch, &cur);
            if (st != FV_OK) return st;
            src = &cur;
            ox -= cx;
            oy -= cy;
        }
    }
    while (sx >= 2.0 && sy >= 2.0 && src->width >= 4 && src->height >= 4) {
        fv_image half = {0};
        st = fv_img_resize(src, src->width / 2, src->height / 2, &half);
        if (st != FV_OK) break;
        double fx = (double)src->width / half.width, fy = (double)src->height / half.height;
        ox /= fx;
        oy /= fy;
        sx /= fx;
        sy /= fy;
        fv_img_free(&cur);
        cur = half;
        src = &cur;
    }
    if (st == FV_OK) {
        /* destination pixel centre (u + 0.5) maps to source ox + (u + 0.5) * sx - 0.5 */
        double m[6] = {sx, 0.0, ox + 0.5 * sx - 0.5, 0.0, sy, oy + 0.5 * sy - 0.5};
        st = fv_img_warp_affine(src, m, dst_w, dst_h, out);
    }
    fv_img_free(&cur);
    return st;
}
