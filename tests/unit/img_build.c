/*
 * img_build.c - in-memory image file builders for tests and fuzz seeds (see img_build.h).
 *
 * The JPEG builder's libjpeg errors are fatal for the program (the default error manager): a
 * failure here is a broken test, not input to handle. Buffers come from malloc (test code).
 */
#include "img_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

unsigned char *img_build_jpeg(const unsigned char *pix, int w, int h, int comps, int quality,
                              bool progressive, size_t *len) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buf, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * (size_t)w * (size_t)comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = size;
    return buf;
}

static int png_channels(int color_type) {
    switch (color_type) {
    case 0:
        return 1;
    case 2:
        return 3;
    case 3:
        return 1;
    case 4:
        return 2;
    default:
        return 4;
    }
}

unsigned char *img_build_png(const void *pix, int w, int h, int color_type, int bit_depth,
                             const unsigned char *plte, int n_plte, const unsigned char *exif,
                             size_t exif_len, size_t *len) {
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (ctx == NULL) return NULL;
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {0};
    ihdr.width = (uint32_t)w;
    ihdr.height = (uint32_t)h;
    ihdr.bit_depth = (uint8_t)bit_depth;
    ihdr.color_type = (uint8_t)color_type;
    int rc = spng_set_ihdr(ctx, &ihdr);
    if (rc == 0 && color_type == 3) {
        struct spng_plte p = {0};
        p.n_entries = (uint32_t)n_plte;
        for (int i = 0; i < n_plte; i++) {
            p.entries[i].red = plte[3 * i];
            p.entries[i].green = plte[3 * i + 1];
            p.entries[i].blue = plte[3 * i + 2];
            p.entries[i].alpha = 255;
        }
        rc = spng_set_plte(ctx, &p);
    }
    if (rc == 0 && exif != NULL) {
        struct spng_exif e = {exif_len, (char *)exif};
        rc = spng_set_exif(ctx, &e);
    }
    size_t n = (size_t)w * (size_t)h * (size_t)png_channels(color_type) * (size_t)(bit_depth / 8);
    if (rc == 0) rc = spng_encode_image(ctx, pix, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    unsigned char *out = NULL;
    if (rc == 0) out = spng_get_png_buffer(ctx, len, &rc);
    if (rc != 0) fprintf(stderr, "img_build_png: %s\n", spng_strerror(rc));
    spng_ctx_free(ctx);
    return rc == 0 ? out : NULL;
}

unsigned img_crc32(const unsigned char *p, size_t n) {
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    return crc ^ 0xffffffffu;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void put_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

unsigned char *img_build_png_header(unsigned w, unsigned h, size_t *len) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char *p = malloc(8 + 25 + 12);
    if (p == NULL) return NULL;
    memcpy(p, sig, 8);
    put_be32(p + 8, 13);
    memcpy(p + 12, "IHDR", 4);
    put_be32(p + 16, w);
    put_be32(p + 20, h);
    p[24] = 8, p[25] = 2, p[26] = 0, p[27] = 0, p[28] = 0;
    put_be32(p + 29, img_crc32(p + 12, 17));
    put_be32(p + 33, 0);
    memcpy(p + 37, "IEND", 4);
    put_be32(p + 41, img_crc32(p + 37, 4));
    *len = 45;
    return p;
}

unsigned char *img_build_webp(const unsigned char *rgb, int w, int h, int quality, size_t *len) {
    uint8_t *enc = NULL;
    size_t n = quality < 0 ? WebPEncodeLosslessRGB(rgb, w, h, w * 3, &enc)
                           : WebPEncodeRGB(rgb, w, h, w * 3, (float)quality, &enc);
    if (n == 0) return NULL;
    unsigned char *out = malloc(n);
    if (out != NULL) memcpy(out, enc, n);
    WebPFree(enc);
    *len = n;
    return out;
}

unsigned char *img_build_webp_exif(const unsigned char *rgb, int w, int h,
                                   const unsigned char *exif, size_t exif_len, size_t *len) {
    size_t simple_len;
    unsigned char *simple = img_build_webp(rgb, w, h, -1, &simple_len);
    if (simple == NULL) return NULL;
    /* simple: "RIFF" size "WEBP" then one VP8L chunk (header + payload, padded). */
    size_t vp8l_len = simple_len - 12;
    size_t exif_padded = exif_len + (exif_len & 1);
    size_t total = 12 + 18 + vp8l_len + 8 + exif_padded;
    unsigned char *p = calloc(1, total);
    if (p == NULL) {
        free(simple);
        return NULL;
    }
    memcpy(p, "RIFF", 4);
    put_le32(p + 4, (uint32_t)(total - 8));
    memcpy(p + 8, "WEBP", 4);
    memcpy(p + 12, "VP8X", 4);
    put_le32(p + 16, 10);
    p[20] = 0x08;                        /* EXIF present */
    put_le32(p + 24, (uint32_t)(w - 1)); /* 24-bit fields; the 4th byte is overwritten next */
    put_le32(p + 27, (uint32_t)(h - 1));
    p[30] = 0;
    memcpy(p + 30, simple + 12, vp8l_len);
    memcpy(p + 30 + vp8l_len, "EXIF", 4);
    put_le32(p + 34 + vp8l_len, (uint32_t)exif_len);
    memcpy(p + 38 + vp8l_len, exif, exif_len);
    free(simple);
    *len = total;
    return p;
}

unsigned char *img_build_webp_animated(size_t *len) {
    unsigned char *p = calloc(1, 12 + 18 + 14);
    if (p == NULL) return NULL;
    memcpy(p, "RIFF", 4);
    put_le32(p + 4, 12 + 18 + 14 - 8);
    memcpy(p + 8, "WEBP", 4);
    memcpy(p + 12, "VP8X", 4);
    put_le32(p + 16, 10);
    p[20] = 0x02; /* animation */
    /* canvas 16 x 16: fields hold size - 1 */
    p[24] = 15, p[27] = 15;
    memcpy(p + 30, "ANIM", 4);
    put_le32(p + 34, 6);
    *len = 12 + 18 + 14;
    return p;
}

size_t img_build_tiff_orientation(unsigned char *out, int orientation, bool big_endian,
                                  bool malformed) {
    /* header(8) + count(2) + entry(12) + next IFD offset(4) */
    memset(out, 0, 26);
    unsigned char *e = out + 10;
    if (big_endian) {
        memcpy(out, "MM\0*", 4);
        put_be32(out + 4, malformed ? 0xfffffff0u : 8);
        out[9] = 1;
        e[0] = 0x01, e[1] = 0x12, e[3] = 3, e[7] = 1, e[9] = (unsigned char)orientation;
    } else {
        memcpy(out, "II*\0", 4);
        put_le32(out + 4, malformed ? 0xfffffff0u : 8);
        out[8] = 1;
        e[0] = 0x12, e[1] = 0x01, e[2] = 3, e[4] = 1, e[8] = (unsigned char)orientation;
    }
    return 26;
}

unsigned char *img_jpeg_add_exif(const unsigned char *jpeg, size_t jpeg_len,
                                 const unsigned char *tiff, size_t tiff_len, size_t *len) {
    size_t seg = 2 + 6 + tiff_len; /* length field counts itself */
    unsigned char *p = malloc(jpeg_len + 2 + seg);
    if (p == NULL) return NULL;
    memcpy(p, jpeg, 2); /* SOI */
    p[2] = 0xff, p[3] = 0xe1;
    p[4] = (unsigned char)(seg >> 8), p[5] = (unsigned char)seg;
    memcpy(p + 6, "Exif\0\0", 6);
    memcpy(p + 12, tiff, tiff_len);
    memcpy(p + 12 + tiff_len, jpeg + 2, jpeg_len - 2);
    *len = jpeg_len + 2 + seg;
    return p;
}
