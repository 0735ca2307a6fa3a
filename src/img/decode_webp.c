/*
 * decode_webp.c - WebP decoding with libwebp (lossy, lossless, extended/VP8X with alpha; alpha is
 * dropped). Animated WebP is refused. The EXIF orientation comes from the EXIF chunk of an
 * extended file, found by walking the RIFF chunks ourselves (bounds-checked).
 *
 * WebPGetFeatures reads the declared size from the header, which is checked before the pixel
 * buffer is allocated; WebPDecode then writes straight into it (external memory, MODE_RGB).
 * libwebp's own scratch buffers are its own.
 *
 * Threading: no shared state.
 */
#include <stdint.h>
#include <string.h>

#include <webp/decode.h>

#include "img-impl.h"

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* RIFF layout: "RIFF" size "WEBP", then chunks: fourcc, u32 size, payload padded to even. */
static int webp_orientation(const unsigned char *data, size_t len) {
    if (len < 12) return 1;
    size_t riff_end = (size_t)le32(data + 4);
    if (riff_end > len - 8) riff_end = len - 8;
    riff_end += 8; /* end of the RIFF payload within data */
    size_t pos = 12;
    while (pos + 8 <= riff_end) {
        size_t size = le32(data + pos + 4);
        if (size > riff_end - pos - 8) return 1;
        if (memcmp(data + pos, "EXIF", 4) == 0)
            return fv__img_exif_orientation(data + pos + 8, size);
        pos += 8 + size + (size & 1);
    }
    return 1;
}

static const char *vp8_status_text(VP8StatusCode s) {
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY:
        return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
        return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
        return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
        return "suspended";
    case VP8_STATUS_USER_ABORT:
        return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return "truncated WebP data";
    default:
        return "error";
    }
}

fv_status fv__img_decode_webp(const unsigned char *data, size_t len, const fv__img_limits *lim,
                              fv_image *out, int *orientation, fv_img_error *err) {
    *orientation = 1;
    WebPBitstreamFeatures feat;
    VP8StatusCode vs = WebPGetFeatures(data, len, &feat);
    if (vs == VP8_STATUS_OUT_OF_MEMORY)
        return fv__img_fail(err, FV_ERR_NOMEM, "WebP: out of memory");
    if (vs == VP8_STATUS_NOT_ENOUGH_DATA)
        return fv__img_fail(err, FV_ERR_FORMAT, "truncated WebP data (header)");
    if (vs != VP8_STATUS_OK)
        return fv__img_fail(err, FV_ERR_FORMAT, "WebP: %s in the header", vp8_status_text(vs));
    if (feat.has_animation)
        return fv__img_fail(err, FV_ERR_UNSUPPORTED, "WebP: animated WebP is not supported");
    if (feat.width < 0 || feat.height < 0)
        return fv__img_fail(err, FV_ERR_FORMAT, "WebP: negative size in the header");
    fv_status st =
        fv__img_check_size("WebP", (unsigned long)feat.width, (unsigned long)feat.height, lim, err);
    if (st != FV_OK) return st;
    fv_image img;
    st = fv_img_alloc(feat.width, feat.height, &img);
    if (st != FV_OK)
        return fv__img_fail(err, st, "WebP: cannot allocate the pixels (%s)",
                            fv_status_message(st));
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) {
        fv_img_free(&img);
        return fv__img_fail(err, FV_ERR_INTERNAL, "WebP: library version mismatch");
    }
    cfg.output.colorspace = MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = img.rgb;
    cfg.output.u.RGBA.stride = img.width * 3;
    cfg.output.u.RGBA.size = (size_t)img.width * (size_t)img.height * 3;
    vs = WebPDecode(data, len, &cfg);
    WebPFreeDecBuffer(&cfg.output); /* external memory: frees nothing of ours */
    if (vs != VP8_STATUS_OK) {
        fv_img_free(&img);
        if (vs == VP8_STATUS_OUT_OF_MEMORY)
            return fv__img_fail(err, FV_ERR_NOMEM, "WebP: out of memory");
        if (vs == VP8_STATUS_NOT_ENOUGH_DATA)
            return fv__img_fail(err, FV_ERR_FORMAT, "truncated WebP data");
        return fv__img_fail(
            err, vs == VP8_STATUS_UNSUPPORTED_FEATURE ? FV_ERR_UNSUPPORTED : FV_ERR_FORMAT,
            "WebP: %s in the image data", vp8_status_text(vs));
    }
    *orientation = webp_orientation(data, len);
    *out = img;
    return FV_OK;
}
