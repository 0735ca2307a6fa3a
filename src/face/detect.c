/*
 * detect.c - finds every face in an image with the fixed-size (320x240) detector.
 *
 * The model decodes its own prior boxes: output `boxes` holds x1, y1, x2, y2 in [0, 1] of its
 * input and `scores` holds (background, face) per prior. One input covers the whole image
 * (aspect kept, black padding); when that shrinks the image so far that a face of min_face_px
 * would fall below the detector's smallest anchors, overlapping tiles at a finer scale follow,
 * so small faces in large photos are not lost. Detections from a tile that touch a tile edge
 * inside the image are dropped (the face continues in a neighbour or the full view). All passes
 * are merged by non-maximum suppression (IoU, and containment for one face seen at two scales).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "face-impl.h"
#include "fairvisit/alloc.h"

/* Fraction of a tile shared with its neighbour. */
#define FV__TILE_OVERLAP 0.3f

typedef struct det_buf {
    fv__det *d;
    int n, cap;
} det_buf;

static fv_status push(det_buf *b, const fv__det *d) {
    if (b->n == b->cap) {
        int cap = b->cap ? b->cap * 2 : 64;
        if (cap > 1 << 20) return FV_ERR_LIMIT;
        fv__det *nd = fv_realloc(b->d, (size_t)cap * sizeof(*nd));
        if (nd == NULL) return FV_ERR_NOMEM;
        b->d = nd;
        b->cap = cap;
    }
    b->d[b->n++] = *d;
    return FV_OK;
}

/*
 * Runs the detector on region (x, y, w, h) of img, scaled by s across and sy down (w * s <= 320,
 * h * sy <= 240; the aspect is kept, s == sy, which finds fewer false faces than stretching),
 * and appends detections in image coordinates. `inner` marks which region edges lie inside the
 * image (left, top, right, bottom): detections touching those are dropped.
 */
static fv_status run_region(fv_face_engine *e, const fv_image *img, float x, float y, float w,
                            float h, double s, double sy, const int inner[4], det_buf *out) {
    int rw = (int)lround(w * s), rh = (int)lround(h * sy);
    if (rw < 1) rw = 1;
    if (rh < 1) rh = 1;
    if (rw > FV__DET_W) rw = FV__DET_W;
    if (rh > FV__DET_H) rh = FV__DET_H;
    fv_image region = {0}, canvas = {0};
    fv_status st = fv__face_crop_resize(img, x, y, w, h, rw, rh, &region);
    if (st == FV_OK) st = fv_img_alloc(FV__DET_W, FV__DET_H, &canvas);
    if (st != FV_OK) {
        fv_img_free(&region);
        return fv__face_fail(e, st, "out of memory preparing the detector input");
    }
    memset(canvas.rgb, 0, (size_t)FV__DET_W * FV__DET_H * 3);
    for (int r = 0; r < rh; r++)
        memcpy(canvas.rgb + (size_t)r * FV__DET_W * 3, region.rgb + (size_t)r * (size_t)rw * 3,
               (size_t)rw * 3);
    fv_img_free(&region);
    fv_nn_tensor in, scores, boxes;
    st = fv_nn_input(e->detect, 0, &in);
    if (st == FV_OK) fv__face_fill_input(&canvas, 3, 127.0f, 1.0f / 128.0f, in.data);
    fv_img_free(&canvas);
    if (st == FV_OK) st = fv_nn_run(e->detect);
    if (st == FV_OK) st = fv_nn_output(e->detect, 0, &scores);
    if (st == FV_OK) st = fv_nn_output(e->detect, 1, &boxes);
    if (st != FV_OK) return fv__face_fail(e, st, "detector: %s", fv_nn_errmsg(e->detect));
    if (scores.numel * 2 != boxes.numel)
        return fv__face_fail(e, FV_ERR_SHAPE, "detector outputs disagree in size");
    size_t priors = scores.numel / 2;
    float edge = 2.0f; /* detector pixels */
    for (size_t i = 0; i < priors; i++) {
        float sc = scores.data[2 * i + 1];
        if (!(sc >= e->opt.detect_threshold)) continue;
        const float *b = boxes.data + 4 * i;
        float bx1 = b[0] * FV__DET_W, by1 = b[1] * FV__DET_H, bx2 = b[2] * FV__DET_W,
              by2 = b[3] * FV__DET_H;
        if (!(bx2 > bx1 && by2 > by1)) continue;
        if ((inner[0] && bx1 < edge) || (inner[1] && by1 < edge) ||
            (inner[2] && bx2 > (float)rw - edge) || (inner[3] && by2 > (float)rh - edge))
            continue;
        /* a tile keeps only faces centred in its core (the tile less half the overlap on its
         * inner sides): a face cut by a tile edge can give a box short of that edge, and the
         * neighbouring tile, or the full view for large faces, sees the whole face */
        float cx = (bx1 + bx2) / 2, cy = (by1 + by2) / 2;
        float mx = (float)rw * FV__TILE_OVERLAP / 2, my = (float)rh * FV__TILE_OVERLAP / 2;
        if ((inner[0] && cx < mx) || (inner[1] && cy < my) || (inner[2] && cx > (float)rw - mx) ||
            (inner[3] && cy > (float)rh - my))
            continue;
        /* and only faces that fit in the overlap: larger ones belong to the full view */
        if ((inner[0] || inner[2]) && bx2 - bx1 > (float)rw * FV__TILE_OVERLAP) continue;
        if ((inner[1] || inner[3]) && by2 - by1 > (float)rh * FV__TILE_OVERLAP) continue;
        fv__det d = {{(float)(x + bx1 / s), (float)(y + by1 / sy), (float)(x + bx2 / s),
                      (float)(y + by2 / sy)},
                     sc};
        st = push(out, &d);
        if (st != FV_OK) return fv__face_fail(e, st, "too many detections");
    }
    return FV_OK;
}

static float area(const float b[4]) {
    return (b[2] - b[0]) * (b[3] - b[1]);
}

static int by_score_desc(const void *a, const void *b) {
    const fv__det *x = a, *y = b;
    return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

static int by_area_desc(const void *a, const void *b) {
    float x = area(((const fv__det *)a)->box), y = area(((const fv__det *)b)->box);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Suppresses boxes overlapping a better one: IoU above the limit, or mostly inside it. */
static int nms(fv__det *d, int n) {
    if (n == 0) return 0;
    qsort(d, (size_t)n, sizeof(*d), by_score_desc);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        bool keep = true;
        for (int j = 0; j < kept && keep; j++) {
            const float *a = d[i].box, *b = d[j].box;
            float ix = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
            float iy = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
            if (ix <= 0 || iy <= 0) continue;
            float inter = ix * iy;
            float uni = area(a) + area(b) - inter;
            float smaller = fminf(area(a), area(b));
            if (inter / uni > FV__NMS_IOU || inter / smaller > 0.8f) keep = false;
        }
        if (keep) d[kept++] = d[i];
    }
    return kept;
}

fv_status fv__face_detect(fv_face_engine *e, const fv_image *img, fv__det **out, int *count) {
    *out = NULL;
    *count = 0;
    det_buf buf = {0};
    float W = (float)img->width, H = (float)img->height;
    double s_full = fmin((double)FV__DET_W / W, (double)FV__DET_H / H);
    const int none[4] = {0, 0, 0, 0};
    fv_status st = run_region(e, img, 0.0f, 0.0f, W, H, s_full, s_full, none, &buf);
    /* Tiles when a min_face_px face would be below the detector's smallest anchors. */
    double s_need = FV__DET_MIN_FACE / (double)e->opt.min_face_px;
    if (st == FV_OK && s_full < s_need) {
        double s = s_need > 1.0 ? 1.0 : s_need;
        float tw = (float)(FV__DET_W / s), th = (float)(FV__DET_H / s);
        if (tw > W) tw = W;
        if (th > H) th = H;
        /* tiles overlap by FV__TILE_OVERLAP of their size; faces larger than the overlap are
         * large enough for the full view (checked: overlap * s_full / s >= min anchor) */
        float stepx = tw * (1.0f - FV__TILE_OVERLAP), stepy = th * (1.0f - FV__TILE_OVERLAP);
        int nx = W > tw ? (int)ceilf((W - tw) / stepx) + 1 : 1;
        int ny = H > th ? (int)ceilf((H - th) / stepy) + 1 : 1;
        for (int ty = 0; ty < ny && st == FV_OK; ty++) {
            for (int tx = 0; tx < nx && st == FV_OK; tx++) {
                float x0 = nx > 1 ? (W - tw) * (float)tx / (float)(nx - 1) : 0.0f;
                float y0 = ny > 1 ? (H - th) * (float)ty / (float)(ny - 1) : 0.0f;
                int inner[4] = {x0 > 0.5f, y0 > 0.5f, x0 + tw < W - 0.5f, y0 + th < H - 0.5f};
                st = run_region(e, img, x0, y0, tw, th, s, s, inner, &buf);
            }
        }
    }
    if (st != FV_OK) {
        fv_free(buf.d);
        return st;
    }
    int n = nms(buf.d, buf.n);
    if (n > 1) qsort(buf.d, (size_t)n, sizeof(*buf.d), by_area_desc);
    *out = buf.d;
    *count = n;
    return FV_OK;
}
