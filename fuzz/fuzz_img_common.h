/*
 * fuzz_img_common.h - the shared body of the decoder fuzz targets (fuzz_img_jpeg.c, fuzz_img_png.c,
 * fuzz_img_webp.c): each input is decoded with the format forced (so inputs without the magic
 * reach the decoder's own checks too) with a 4-megapixel (4 Mi) limit, then the EXIF orientation
 * is applied as in fv_img_decode.
 *
 * Checks: a failure leaves the output image empty and sets a message; a success gives an image
 * within the limits. Leaks are ASan's to report.
 */
#ifndef FAIRVISIT_FUZZ_IMG_COMMON_H
#define FAIRVISIT_FUZZ_IMG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fairvisit/img.h"

static inline int fuzz_img_decode_one(fv_img_format format, const uint8_t *data, size_t size) {
    fv_img_options opt = {.max_pixels = 4u << 20, .max_side = 8192};
    fv_image im = {0};
    fv_img_error err;
    fv_status st = fv_img_decode_as(format, data, size, &opt, &im, &err);
    if (st == FV_OK) {
        if (im.rgb == NULL || im.width < 1 || im.height < 1 ||
            (size_t)im.width * (size_t)im.height > opt.max_pixels)
            abort();
        volatile unsigned sum = im.rgb[0] + im.rgb[(size_t)im.width * (size_t)im.height * 3 - 1];
        (void)sum;
    } else if (im.rgb != NULL || err.msg[0] == '\0') {
        abort();
    }
    fv_img_free(&im);
    return 0;
}

#endif
