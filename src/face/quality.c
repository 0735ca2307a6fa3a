/*
 * quality.c - the measures of the quality gate: how much of the face is inside the image, how
 * sharp the aligned face is, its pose from the five points, and whether its lower half looks like
 * skin of the same face (a mask, scarf or hand does not).
 *
 * All measures are cheap, deterministic and documented with their thresholds in
 * docs/face-pipeline.md; the thresholds live in face-impl.h.
 */
#include <math.h>

#include "face-impl.h"

float fv__face_visible_fraction(const fv_image *img, const float box[4]) {
    /* the face region: the detector box grown by 10% on each side (chin, forehead) */
    float w = box[2] - box[0], h = box[3] - box[1];
    float x1 = box[0] - 0.1f * w, y1 = box[1] - 0.1f * h, x2 = box[2] + 0.1f * w,
          y2 = box[3] + 0.1f * h;
    float ix = fminf(x2, (float)img->width) - fmaxf(x1, 0.0f);
    float iy = fminf(y2, (float)img->height) - fmaxf(y1, 0.0f);
    if (ix <= 0 || iy <= 0) return 0.0f;
    return ix * iy / ((x2 - x1) * (y2 - y1));
}

static float gray_at(const fv_image *a, int x, int y) {
    const unsigned char *p = a->rgb + 3 * ((size_t)y * (size_t)a->width + (size_t)x);
    return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
}

float fv__face_sharpness(const fv_image *a) {
    /* Laplacian energy over the inner face, divided by the intensity variance there, so that
     * contrast and lighting cancel out and only the loss of fine detail remains. */
    double lap2 = 0, sum = 0, sum2 = 0;
    int n = 0;
    for (int y = 24; y < 100; y++) {
        for (int x = 24; x < 88; x++) {
            float c = gray_at(a, x, y);
            float l = gray_at(a, x - 1, y) + gray_at(a, x + 1, y) + gray_at(a, x, y - 1) +
                      gray_at(a, x, y + 1) - 4.0f * c;
            lap2 += (double)l * l;
            sum += c;
            sum2 += (double)c * c;
            n++;
        }
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    return (float)(lap2 / n / (var + 25.0));
}

void fv__face_pose(const float p[5][2], float *yaw, float *pitch, float *roll) {
    float ex = (p[0][0] + p[1][0]) / 2, ey = (p[0][1] + p[1][1]) / 2;
    float mx = (p[3][0] + p[4][0]) / 2, my = (p[3][1] + p[4][1]) / 2;
    float dx = p[1][0] - p[0][0], dy = p[1][1] - p[0][1];
    float iod = sqrtf(dx * dx + dy * dy);
    if (iod < 1e-3f) iod = 1e-3f;
    float ang = atan2f(dy, dx);
    *roll = ang * 57.29578f;
    /* rotate into the eye-line frame */
    float c = cosf(-ang), s = sinf(-ang);
    float nx = (p[2][0] - ex) * c - (p[2][1] - ey) * s,
          ny = (p[2][0] - ex) * s + (p[2][1] - ey) * c;
    float mxr = (mx - ex) * c - (my - ey) * s, myr = (mx - ex) * s + (my - ey) * c;
    (void)mxr;
    *yaw = nx / iod;
    *pitch = myr > 1e-3f ? ny / myr - 0.5f : 1.0f;
}

typedef struct patch {
    double y, cb, cr;
} patch;

static patch patch_mean(const fv_image *a, int x0, int y0, int x1, int y1) {
    patch m = {0, 0, 0};
    int n = 0;
    for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
            const unsigned char *p = a->rgb + 3 * ((size_t)y * 112 + (size_t)x);
            double r = p[0], g = p[1], b = p[2];
            m.y += 0.299 * r + 0.587 * g + 0.114 * b;
            m.cb += -0.1687 * r - 0.3313 * g + 0.5 * b;
            m.cr += 0.5 * r - 0.4187 * g - 0.0813 * b;
            n++;
        }
    }
    m.y /= n;
    m.cb /= n;
    m.cr /= n;
    return m;
}

static double chroma_dist(patch a, patch b) {
    /* chroma distance, plus luma relative to the brighter patch (shadows change luma only) */
    double dc = hypot(a.cb - b.cb, a.cr - b.cr);
    double dl = fabs(a.y - b.y) / (fmax(a.y, b.y) + 16.0);
    return dc / 24.0 + dl * 0.5;
}

float fv__face_occlusion(const fv_image *a) {
    /* Skin references under the eyes (left, right). The chin and the nose must match one of
     * them (a mask or scarf does not), and so must the forehead (a helmet or cap does not).
     * Each distance is divided by the largest value seen on uncovered faces plus a margin
     * (docs/face-pipeline.md), so the score passes 1 when any region stops looking like skin of
     * this face. Skin-coloured covers (a bare hand) are not reliably seen by this measure; the
     * template-norm gate catches part of them. */
    patch left = patch_mean(a, 28, 58, 44, 68), right = patch_mean(a, 68, 58, 84, 68);
    patch nose = patch_mean(a, 50, 62, 62, 76), chin = patch_mean(a, 46, 100, 66, 108);
    patch fore = patch_mean(a, 44, 22, 68, 34);
    double d_chin = fmin(chroma_dist(chin, left), chroma_dist(chin, right)) / 0.88;
    double d_nose = fmin(chroma_dist(nose, left), chroma_dist(nose, right)) / 0.80;
    double d_fore = fmin(chroma_dist(fore, left), chroma_dist(fore, right)) / 1.00;
    double d = fmax(d_chin, fmax(d_nose, d_fore));
    return (float)(d > 2.0 ? 2.0 : d);
}
