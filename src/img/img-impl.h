/*
 * img-impl.h - declarations shared inside the image module (src/img): resolved limits, error
 * formatting, wiping, the per-format decoders, the EXIF orientation reader and the orientation
 * transform.
 *
 * Invariants: a decoder either returns FV_OK with out->rgb holding width * height * 3 bytes that
 * passed fv__img_check_size, or an error with *out zeroed and every buffer it allocated wiped and
 * freed. Decoders report the stored (not yet rotated) pixels plus the EXIF orientation (1..8, 1
 * when absent or unreadable); fv_img_decode_as applies it.
 *
 * Threading: everything here works on its arguments only.
 */
#ifndef FAIRVISIT_IMG_IMPL_H
#define FAIRVISIT_IMG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "fairvisit/img.h"

/* fv_img_options with the defaults filled in. */
typedef struct fv__img_limits {
    size_t max_pixels;
    int max_side;
    size_t max_input;
    bool apply_orientation;
} fv__img_limits;

void fv__img_limits_from(const fv_img_options *opt, fv__img_limits *lim);

/* printf into err->msg when err is not NULL; returns st for `return fv__img_fail(...)`. */
fv_status fv__img_fail(fv_img_error *err, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * FV_OK when a declared w x h image fits the limits (and 3 * w * h fits size_t); otherwise
 * FV_ERR_LIMIT (FV_ERR_FORMAT for a zero side) with a message naming the format and the declared
 * size.
 */
fv_status fv__img_check_size(const char *fmt_name, unsigned long w, unsigned long h,
                             const fv__img_limits *lim, fv_img_error *err);

/* explicit_bzero, not optimised away. */
void fv__img_wipe(void *p, size_t n);
/* Wipes n bytes at p, then fv_free(p). NULL is fine. */
void fv__img_wipe_free(void *p, size_t n);

/* Per-format decoders: see the invariants above. `orientation` receives 1..8. */
fv_status fv__img_decode_jpeg(const unsigned char *data, size_t len, const fv__img_limits *lim,
                              fv_image *out, int *orientation, fv_img_error *err);
fv_status fv__img_decode_png(const unsigned char *data, size_t len, const fv__img_limits *lim,
                             fv_image *out, int *orientation, fv_img_error *err);
fv_status fv__img_decode_webp(const unsigned char *data, size_t len, const fv__img_limits *lim,
                              fv_image *out, int *orientation, fv_img_error *err);

/*
 * The orientation tag (0x0112) of IFD0 of a TIFF structure ("II*\0" or "MM\0*" header), as found
 * in EXIF blocks. An optional leading "Exif\0\0" is skipped. Returns 1..8, or 1 when the tag is
 * absent, has an invalid value, or the structure is malformed (any offset out of range).
 */
int fv__img_exif_orientation(const unsigned char *data, size_t len);

/*
 * Replaces img with its upright version for EXIF orientation 2..8 (1 and others: untouched).
 * The old pixels are wiped. FV_ERR_NOMEM leaves img unchanged.
 */
fv_status fv__img_apply_orientation(fv_image *img, int orientation);

#endif
