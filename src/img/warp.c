/*
 * warp.c - affine warp with bilinear sampling: destination pixel (x, y) takes the source value at
 * sx = m[0] x + m[1] y + m[2], sy = m[3] x + m[4] y + m[5] (pixel centres at integers). The four
 * neighbours floor(sx) + {0,1}, floor(sy) + {0,1} are weighted by the fractions; a neighbour
 * outside the source counts as zero, so the image fades to black over one pixel at its border.
 * Results are rounded to nearest.
 *
 * Invariants: non-finite or far-away coordinates produce zero, never an out-of-range index
 * (coordinates are range-checked as doubles before conversion to int). Threading: none.
 */
#include <math.h>
#include <string.h>

#include "img-impl.h"

static inline const unsigned char *px(const fv_image *s, long long x, long long y) {
    if (x < 0 || y < 0 || x >= s->width || y >= s->height) return NULL;
    return s->rgb + ((size_t)y * (size_t)s->width + (size_t)x) * 3;
}

fv_status fv_img_warp_affine(const fv_image *src, const double m[6], int dst_w, int dst_h,
                             fv_image *dst) {
    if (dst == NULL) return FV_ERR_ARG;
    memset(dst, 0, sizeof *dst);
    if (src == NULL || src->rgb == NULL || src->width < 1 || src->height < 1 || m == NULL)
        return FV_ERR_ARG;
    fv_status st = fv_img_alloc(dst_w, dst_h, dst); /* zero-filled */
    if (st != FV_OK) return st;
    unsigned char *o = dst->rgb;
    for (int y = 0; y < dst_h; y++) {
        for (int x = 0; x < dst_w; x++, o += 3) {
            const double sx = m[0] * x + m[1] * y + m[2];
            const double sy = m[3] * x + m[4] * y + m[5];
            /* The test is false for NaN too; beyond it all four neighbours are outside. */
            if (!(sx > -1.0 && sy > -1.0 && sx < src->width && sy < src->height)) continue;
            const double fx0 = floor(sx), fy0 = floor(sy);
            const long long x0 = (long long)fx0, y0 = (long long)fy0;
            const double fx = sx - fx0, fy = sy - fy0;
            const unsigned char *p00 = px(src, x0, y0), *p01 = px(src, x0 + 1, y0);
            const unsigned char *p10 = px(src, x0, y0 + 1), *p11 = px(src, x0 + 1, y0 + 1);
            const double w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy);
            const double w10 = (1 - fx) * fy, w11 = fx * fy;
            for (int c = 0; c < 3; c++) {
                double v = (p00 ? w00 * p00[c] : 0) + (p01 ? w01 * p01[c] : 0) +
                           (p10 ? w10 * p10[c] : 0) + (p11 ? w11 * p11[c] : 0);
                o[c] = (unsigned char)(v + 0.5);
            }
        }
    }
    return FV_OK;
}
