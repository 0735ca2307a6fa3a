/*
 * image.c - the fv_image life cycle (alloc, wiping free) and the module's shared helpers: limits
 * with defaults, error formatting, the size check every decoder runs on the declared header size,
 * and wiping.
 *
 * Invariants: every pixel buffer is 3 * width * height bytes with 1 <= width, height and the
 * product checked with fv_size_mul; fv_img_free wipes before freeing.
 * Threading: no shared state.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "img-impl.h"

void fv__img_wipe(void *p, size_t n) {
    if (p != NULL && n > 0) explicit_bzero(p, n);
}

void fv__img_wipe_free(void *p, size_t n) {
    if (p == NULL) return;
    fv__img_wipe(p, n);
    fv_free(p);
}

fv_status fv__img_fail(fv_img_error *err, fv_status st, const char *fmt, ...) {
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void fv__img_limits_from(const fv_img_options *opt, fv__img_limits *lim) {
    lim->max_pixels = FV_IMG_DEFAULT_MAX_PIXELS;
    lim->max_side = FV_IMG_DEFAULT_MAX_SIDE;
    lim->max_input = FV_IMG_DEFAULT_MAX_INPUT;
    lim->apply_orientation = true;
    if (opt == NULL) return;
    if (opt->max_pixels > 0) lim->max_pixels = opt->max_pixels;
    if (opt->max_side > 0) lim->max_side = opt->max_side;
    if (opt->max_input > 0) lim->max_input = opt->max_input;
    lim->apply_orientation = opt->ignore_orientation == 0;
}

fv_status fv__img_check_size(const char *fmt_name, unsigned long w, unsigned long h,
                             const fv__img_limits *lim, fv_img_error *err) {
    if (w == 0 || h == 0)
        return fv__img_fail(err, FV_ERR_FORMAT, "%s: image declares a zero size (%lux%lu)",
                            fmt_name, w, h);
    size_t pixels, bytes;
    bool fits = fv_size_mul(w, h, &pixels) && fv_size_mul(pixels, 3, &bytes);
    if (w > (unsigned long)lim->max_side || h > (unsigned long)lim->max_side)
        return fv__img_fail(err, FV_ERR_LIMIT,
                            "%s: image declares %lux%lu pixels; the largest side allowed is %d",
                            fmt_name, w, h, lim->max_side);
    if (!fits || pixels > lim->max_pixels)
        return fv__img_fail(err, FV_ERR_LIMIT,
                            "%s: image declares %lux%lu pixels; at most %zu pixels are allowed",
                            fmt_name, w, h, lim->max_pixels);
    return FV_OK;
}

fv_status fv_img_alloc(int width, int height, fv_image *out) {
    if (out == NULL) return FV_ERR_ARG;
    memset(out, 0, sizeof *out);
    if (width < 1 || height < 1) return FV_ERR_ARG;
    size_t n;
    if (!fv_size_mul((size_t)width, (size_t)height, &n) || !fv_size_mul(n, 3, &n) ||
        n > (size_t)0x7fffffff)
        return FV_ERR_LIMIT;
    out->rgb = fv_calloc(n, 1);
    if (out->rgb == NULL) return FV_ERR_NOMEM;
    out->width = width;
    out->height = height;
    return FV_OK;
}

void fv_img_free(fv_image *img) {
    if (img == NULL) return;
    if (img->rgb != NULL && img->width > 0 && img->height > 0)
        fv__img_wipe(img->rgb, (size_t)img->width * (size_t)img->height * 3);
    fv_free(img->rgb);
    memset(img, 0, sizeof *img);
}
