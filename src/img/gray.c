/*
 * gray.c - RGB to 8-bit gray: round(0.299 R + 0.587 G + 0.114 B), computed exactly in integers
 * as (299 R + 587 G + 114 B + 500) / 1000.
 *
 * Invariants: writes exactly width * height bytes into the caller's buffer; allocates nothing.
 * Threading: none.
 */
#include "img-impl.h"

fv_status fv_img_to_gray(const fv_image *src, unsigned char *gray, size_t gray_size) {
    if (src == NULL || src->rgb == NULL || gray == NULL || src->width < 1 || src->height < 1)
        return FV_ERR_ARG;
    const size_t n = (size_t)src->width * (size_t)src->height;
    if (gray_size < n) return FV_ERR_ARG;
    const unsigned char *p = src->rgb;
    for (size_t i = 0; i < n; i++, p += 3)
        gray[i] = (unsigned char)((299u * p[0] + 587u * p[1] + 114u * p[2] + 500u) / 1000u);
    return FV_OK;
}
