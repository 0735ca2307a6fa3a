/*
 * decode_png.c - PNG decoding with libspng: every bit depth and colour type (gray, gray+alpha,
 * palette, RGB, RGBA; interlaced or not) to 8-bit RGB. Alpha is dropped (not composited), 16-bit
 * samples are scaled to 8 bits by libspng, tRNS and gamma are not applied. The EXIF orientation
 * comes from an eXIf chunk when there is one.
 *
 * libspng is given an allocator (spng_ctx_new2) that goes through fv_malloc and keeps each
 * block's size in a 16-byte header, so that every block it frees - its row buffers and zlib
 * window included, which hold pixel data - is wiped first, and failure injection reaches it.
 * The size is checked from IHDR (spng_get_ihdr reads only the signature and IHDR) before the
 * image is decoded; ancillary chunks are capped by spng_set_chunk_limits.
 *
 * Threading: no shared state (one spng context per call).
 */
#include <string.h>

#include <spng.h>

#include "fairvisit/alloc.h"
#include "img-impl.h"

#define PNG_HDR         16 /* keeps the payload 16-byte aligned */
#define PNG_CHUNK_LIMIT ((size_t)8 << 20)
#define PNG_CACHE_LIMIT ((size_t)32 << 20)

static void *wiping_malloc(size_t size) {
    size_t total;
    if (!fv_size_add(size, PNG_HDR, &total)) return NULL;
    unsigned char *p = fv_malloc(total);
    if (p == NULL) return NULL;
    memcpy(p, &size, sizeof size);
    return p + PNG_HDR;
}

static size_t block_size(const void *ptr) {
    size_t size;
    memcpy(&size, (const unsigned char *)ptr - PNG_HDR, sizeof size);
    return size;
}

static void wiping_free(void *ptr) {
    if (ptr == NULL) return;
    fv__img_wipe_free((unsigned char *)ptr - PNG_HDR, block_size(ptr) + PNG_HDR);
}

static void *wiping_calloc(size_t count, size_t size) {
    size_t n;
    if (!fv_size_mul(count, size, &n)) return NULL;
    void *p = wiping_malloc(n);
    if (p != NULL) memset(p, 0, n);
    return p;
}

/* Never realloc in place: the old block is copied, wiped and freed. */
static void *wiping_realloc(void *ptr, size_t size) {
    if (ptr == NULL) return wiping_malloc(size);
    void *p = wiping_malloc(size);
    if (p == NULL) return NULL;
    size_t old = block_size(ptr);
    memcpy(p, ptr, old < size ? old : size);
    wiping_free(ptr);
    return p;
}

static fv_status png_fail(fv_img_error *err, int rc, const char *what) {
    if (rc == SPNG_EMEM) return fv__img_fail(err, FV_ERR_NOMEM, "PNG: out of memory");
    if (rc == SPNG_IO_EOF || rc == SPNG_EOF)
        return fv__img_fail(err, FV_ERR_FORMAT, "truncated PNG data (%s)", what);
    if (rc == SPNG_ECHUNK_CRC)
        return fv__img_fail(err, FV_ERR_FORMAT, "PNG: CRC mismatch (%s)", what);
    return fv__img_fail(err, FV_ERR_FORMAT, "PNG: %s (%s)", spng_strerror(rc), what);
}

static fv_status decode_with(spng_ctx *ctx, const unsigned char *data, size_t len,
                             const fv__img_limits *lim, fv_image *img, int *orientation,
                             fv_img_error *err) {
    int rc = spng_set_png_buffer(ctx, data, len);
    if (rc == 0) rc = spng_set_chunk_limits(ctx, PNG_CHUNK_LIMIT, PNG_CACHE_LIMIT);
    if (rc != 0) return png_fail(err, rc, "setting up");
    struct spng_ihdr ihdr;
    rc = spng_get_ihdr(ctx, &ihdr);
    if (rc != 0) return png_fail(err, rc, "reading the header");
    fv_status st = fv__img_check_size("PNG", ihdr.width, ihdr.height, lim, err);
    if (st != FV_OK) return st;
    size_t need;
    rc = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &need);
    if (rc != 0) return png_fail(err, rc, "sizing the image");
    st = fv_img_alloc((int)ihdr.width, (int)ihdr.height, img);
    if (st != FV_OK)
        return fv__img_fail(err, st, "PNG: cannot allocate the pixels (%s)", fv_status_message(st));
    if (need != (size_t)img->width * (size_t)img->height * 3)
        return fv__img_fail(err, FV_ERR_INTERNAL, "PNG: unexpected decoded size %zu", need);
    rc = spng_decode_image(ctx, img->rgb, need, SPNG_FMT_RGB8, 0);
    if (rc != 0) return png_fail(err, rc, "decoding the pixels");
    struct spng_exif exif;
    if (spng_get_exif(ctx, &exif) == 0)
        *orientation = fv__img_exif_orientation((const unsigned char *)exif.data, exif.length);
    return FV_OK;
}

fv_status fv__img_decode_png(const unsigned char *data, size_t len, const fv__img_limits *lim,
                             fv_image *out, int *orientation, fv_img_error *err) {
    *orientation = 1;
    struct spng_alloc alloc = {wiping_malloc, wiping_realloc, wiping_calloc, wiping_free};
    spng_ctx *ctx = spng_ctx_new2(&alloc, 0);
    if (ctx == NULL) return fv__img_fail(err, FV_ERR_NOMEM, "PNG: out of memory");
    fv_image img = {0};
    fv_status st = decode_with(ctx, data, len, lim, &img, orientation, err);
    spng_ctx_free(ctx);
    if (st == FV_OK)
        *out = img;
    else
        fv_img_free(&img);
    return st;
}
