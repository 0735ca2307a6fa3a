/*
 * align.c - aligns a face to the standard 112x112 template with a least-squares similarity
 * transform (rotation, uniform scale, translation) fitted to the five points.
 *
 * Why not the 3-point affine of the models' vendor: an affine through three points fits them
 * exactly and shears the face whenever the landmarks are noisy or the head is tilted; the
 * similarity transform keeps the face's shape and spreads landmark noise over all five points
 * (Umeyama's closed form without reflection).
 */
#include <math.h>

#include "face-impl.h"

/* The reference five points of the 112x112 template (eyes, nose, mouth corners). */
static const double g_ref[5][2] = {
    {38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366},
    {41.5493, 92.3655}, {70.7299, 92.2041},
};

void fv__face_similarity_transform(const float pts5[5][2], double m[6]) {
    /* Fit ref = s R p + t over the 5 pairs (p: image points). */
    double mpx = 0, mpy = 0, mrx = 0, mry = 0;
    for (int i = 0; i < 5; i++) {
        mpx += pts5[i][0];
        mpy += pts5[i][1];
        mrx += g_ref[i][0];
        mry += g_ref[i][1];
    }
    mpx /= 5;
    mpy /= 5;
    mrx /= 5;
    mry /= 5;
    double a = 0, b = 0, var = 0; /* a = sum(px rx + py ry), b = sum(px ry - py rx) */
    for (int i = 0; i < 5; i++) {
        double px = pts5[i][0] - mpx, py = pts5[i][1] - mpy;
        double rx = g_ref[i][0] - mrx, ry = g_ref[i][1] - mry;
        a += px * rx + py * ry;
        b += px * ry - py * rx;
        var += px * px + py * py;
    }
    if (var < 1e-9) var = 1e-9;
    /* forward: [rx; ry] = [c -d; d c] [px; py] + t, with c = a/var, d = b/var */
    double c = a / var, d = b / var;
    double tx = mrx - (c * mpx - d * mpy), ty = mry - (d * mpx + c * mpy);
    /* inverse (destination -> source): p = M^-1 (r - t), M^-1 = [c d; -d c] / (c^2 + d^2) */
    double k = c * c + d * d;
    if (k < 1e-12) k = 1e-12;
    double ic = c / k, id = d / k;
    m[0] = ic;
    m[1] = id;
    m[2] = -(ic * tx + id * ty);
    m[3] = -id;
    m[4] = ic;
    m[5] = -(-id * tx + ic * ty);
}

fv_status fv__face_align(const fv_image *img, const float pts5[5][2], fv_image *aligned) {
    double m[6];
    fv__face_similarity_transform(pts5, m);
    return fv_img_warp_affine(img, m, 112, 112, aligned);
}
