/*
 * decode.c - format detection from magic numbers and the decoding entry points: input size cap,
 * dispatch to the per-format decoder, then the EXIF orientation.
 *
 * Invariants: the format is decided by the bytes alone; *out is zeroed on every failure.
 * Threading: no shared state.
 */
#include <string.h>

#include "img-impl.h"

static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

fv_img_format fv_img_detect_format(const void *data, size_t len) {
    const unsigned char *p = data;
    if (p == NULL) return FV_IMG_FORMAT_UNKNOWN;
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return FV_IMG_FORMAT_JPEG;
    if (len >= 8 && memcmp(p, png_magic, 8) == 0) return FV_IMG_FORMAT_PNG;
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return FV_IMG_FORMAT_WEBP;
    return FV_IMG_FORMAT_UNKNOWN;
}

const char *fv_img_format_name(fv_img_format fmt) {
    switch (fmt) {
    case FV_IMG_FORMAT_JPEG:
        return "JPEG";
    case FV_IMG_FORMAT_PNG:
        return "PNG";
    case FV_IMG_FORMAT_WEBP:
        return "WebP";
    default:
        return "unknown";
    }
}

fv_status fv_img_decode_as(fv_img_format fmt, const void *data, size_t len,
                           const fv_img_options *opt, fv_image *out, fv_img_error *err) {
    if (err != NULL) err->msg[0] = '\0';
    if (out == NULL) return fv__img_fail(err, FV_ERR_ARG, "no output image given");
    memset(out, 0, sizeof *out);
    if (data == NULL && len > 0) return fv__img_fail(err, FV_ERR_ARG, "no input data given");
    fv__img_limits lim;
    fv__img_limits_from(opt, &lim);
    if (len == 0) return fv__img_fail(err, FV_ERR_FORMAT, "empty input (0 bytes)");
    if (len > lim.max_input)
        return fv__img_fail(err, FV_ERR_LIMIT, "input is %zu bytes; at most %zu are allowed", len,
                            lim.max_input);
    int orientation = 1;
    fv_status st;
    switch (fmt) {
    case FV_IMG_FORMAT_JPEG:
        st = fv__img_decode_jpeg(data, len, &lim, out, &orientation, err);
        break;
    case FV_IMG_FORMAT_PNG:
        st = fv__img_decode_png(data, len, &lim, out, &orientation, err);
        break;
    case FV_IMG_FORMAT_WEBP:
        st = fv__img_decode_webp(data, len, &lim, out, &orientation, err);
        break;
    default:
        return fv__img_fail(err, FV_ERR_FORMAT,
                            "unrecognised image format (not JPEG, PNG or WebP)");
    }
    if (st != FV_OK) return st;
    if (lim.apply_orientation && orientation != 1) {
        st = fv__img_apply_orientation(out, orientation);
        if (st != FV_OK) {
            fv_img_free(out);
            return fv__img_fail(err, st, "cannot apply the EXIF orientation (%s)",
                                fv_status_message(st));
        }
    }
    return FV_OK;
}

fv_status fv_img_decode(const void *data, size_t len, const fv_img_options *opt, fv_image *out,
                        fv_img_error *err) {
    return fv_img_decode_as(fv_img_detect_format(data, len), data, len, opt, out, err);
}
