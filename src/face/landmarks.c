/*
 * landmarks.c - 68 facial landmarks from the landmark network, and the 5 alignment points.
 *
 * The network takes the face box (shifted inside the image if it sticks out), resized to 64x64
 * gray scaled by 1/256, and returns 68 (x, y) pairs relative to that crop. The 5 points are the
 * eye centres (mean of each eye's four lid points), the nose tip and the mouth corners (mean of
 * the outer and inner lip corner), in the usual order: left eye, right eye, nose, left mouth,
 * right mouth (left/right as seen in the image).
 */
#include <string.h>

#include "face-impl.h"

/* Moves box (x, y, w, h) inside the image without resizing it where possible. */
static void fit_inside(float *x, float *y, float *w, float *h, float W, float H) {
    if (*w > W) *w = W;
    if (*h > H) *h = H;
    if (*x < 0) *x = 0;
    if (*y < 0) *y = 0;
    if (*x + *w > W) *x = W - *w;
    if (*y + *h > H) *y = H - *h;
}

fv_status fv__face_landmarks(fv_face_engine *e, const fv_image *img, const float box[4],
                             float pts68[68][2]) {
    float x = box[0], y = box[1], w = box[2] - box[0], h = box[3] - box[1];
    fit_inside(&x, &y, &w, &h, (float)img->width, (float)img->height);
    fv_image crop = {0};
    fv_status st = fv__face_crop_resize(img, x, y, w, h, 64, 64, &crop);
    if (st != FV_OK) return fv__face_fail(e, st, "out of memory preparing the landmark input");
    fv_nn_tensor in, out;
    st = fv_nn_input(e->landmark, 0, &in);
    if (st == FV_OK) fv__face_fill_input(&crop, 1, 0.0f, 1.0f / 256.0f, in.data);
    fv_img_free(&crop);
    if (st == FV_OK) st = fv_nn_run(e->landmark);
    if (st == FV_OK) st = fv_nn_output(e->landmark, 0, &out);
    if (st != FV_OK) return fv__face_fail(e, st, "landmarks: %s", fv_nn_errmsg(e->landmark));
    if (out.numel != 136)
        return fv__face_fail(e, FV_ERR_SHAPE, "landmark model gives %zu values, expected 136",
                             out.numel);
    for (int i = 0; i < 68; i++) {
        pts68[i][0] = x + out.data[2 * i] * w;
        pts68[i][1] = y + out.data[2 * i + 1] * h;
    }
    return FV_OK;
}

static void mean_of(const float pts68[68][2], const int *idx, int n, float out[2]) {
    float sx = 0, sy = 0;
    for (int i = 0; i < n; i++) {
        sx += pts68[idx[i]][0];
        sy += pts68[idx[i]][1];
    }
    out[0] = sx / (float)n;
    out[1] = sy / (float)n;
}

void fv__face_five_points(const float pts68[68][2], float pts5[5][2]) {
    static const int left_eye[4] = {37, 38, 40, 41}, right_eye[4] = {43, 44, 46, 47};
    static const int left_mouth[2] = {48, 60}, right_mouth[2] = {54, 64};
    mean_of(pts68, left_eye, 4, pts5[0]);
    mean_of(pts68, right_eye, 4, pts5[1]);
    pts5[2][0] = pts68[30][0];
    pts5[2][1] = pts68[30][1];
    mean_of(pts68, left_mouth, 2, pts5[3]);
    mean_of(pts68, right_mouth, 2, pts5[4]);
}
