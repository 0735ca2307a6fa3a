/*
 * crop.c - copies a w x h window of an image whose top-left corner is (x, y), which may lie
 * partly or wholly outside the source; pixels outside are zero.
 *
 * Invariants: coordinates are widened to long long before adding, so no int overflow for any
 * int arguments. Threading: none.
 */
#include <string.h>

#include "img-impl.h"

fv_status fv_img_crop(const fv_image *src, int x, int y, int w, int h, fv_image *dst) {
    if (dst == NULL) return FV_ERR_ARG;
    memset(dst, 0, sizeof *dst);
    if (src == NULL || src->rgb == NULL || src->width < 1 || src->height < 1) return FV_ERR_ARG;
    fv_status st = fv_img_alloc(w, h, dst); /* zero-filled */
    if (st != FV_OK) return st;
    /* The overlap, in destination columns [c0, c1) and rows [r0, r1). */
    long long c0 = x < 0 ? -(long long)x : 0, r0 = y < 0 ? -(long long)y : 0;
    long long c1 = (long long)src->width - x, r1 = (long long)src->height - y;
    if (c1 > w) c1 = w;
    if (r1 > h) r1 = h;
    if (c0 >= c1 || r0 >= r1) return FV_OK;
    const size_t n = (size_t)(c1 - c0) * 3;
    for (long long r = r0; r < r1; r++) {
        const unsigned char *s =
            src->rgb + ((size_t)(r + y) * (size_t)src->width + (size_t)(c0 + x)) * 3;
        memcpy(dst->rgb + ((size_t)r * (size_t)w + (size_t)c0) * 3, s, n);
    }
    return FV_OK;
}
