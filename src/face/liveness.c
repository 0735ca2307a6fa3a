/*
 * liveness.c - single-frame anti-spoof score from the liveness network.
 *
 * The network sees the face with generous context (the box grown 2.7 times, kept inside the
 * image), 128x128 RGB with raw 0..255 values, and gives three logits; after a softmax, class
 * FV__LIVE_CLASS is "live". A single frame is fooled by good screens: the kiosk adds a cooperative
 * check across frames (blink or head turn) on top of this score.
 */
#include <math.h>

#include "face-impl.h"

#define FV__LIVE_CLASS   0
#define FV__LIVE_CONTEXT 2.7f

fv_status fv__face_liveness(fv_face_engine *e, const fv_image *img, const float box[4],
                            float *live) {
    float W = (float)img->width, H = (float)img->height;
    float bw = box[2] - box[0], bh = box[3] - box[1];
    float k = fminf(FV__LIVE_CONTEXT, fminf((H - 1) / bh, (W - 1) / bw));
    float w = bw * k, h = bh * k;
    float x = box[0] + bw / 2 - w / 2, y = box[1] + bh / 2 - h / 2;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x + w > W - 1) x = W - 1 - w;
    if (y + h > H - 1) y = H - 1 - h;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    fv_image crop = {0};
    fv_status st = fv__face_crop_resize(img, x, y, w, h, 128, 128, &crop);
    if (st != FV_OK) return fv__face_fail(e, st, "out of memory preparing the liveness input");
    fv_nn_tensor in, out;
    st = fv_nn_input(e->liveness, 0, &in);
    if (st == FV_OK) fv__face_fill_input(&crop, 3, 0.0f, 1.0f, in.data);
    fv_img_free(&crop);
    if (st == FV_OK) st = fv_nn_run(e->liveness);
    if (st == FV_OK) st = fv_nn_output(e->liveness, 0, &out);
    if (st != FV_OK) return fv__face_fail(e, st, "liveness: %s", fv_nn_errmsg(e->liveness));
    if (out.numel != 3)
        return fv__face_fail(e, FV_ERR_SHAPE, "liveness model gives %zu values, expected 3",
                             out.numel);
    float mx = fmaxf(out.data[0], fmaxf(out.data[1], out.data[2]));
    float ex[3], sum = 0;
    for (int i = 0; i < 3; i++) sum += ex[i] = expf(out.data[i] - mx);
    *live = ex[FV__LIVE_CLASS] / sum;
    return FV_OK;
}
