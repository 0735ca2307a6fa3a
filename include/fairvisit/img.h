/*
 * fairvisit/img.h - image decoding (JPEG, PNG, WebP) and the pixel operations the face pipeline
 * needs (resize, gray, crop, affine warp).
 *
 * Every decoded image is 8-bit RGB, row-major, tightly packed (3 * width bytes per row), upright:
 * the EXIF orientation (JPEG APP1 Exif, PNG eXIf, WebP EXIF) has been applied. The format is
 * detected from the bytes (magic numbers), never from a file name. Sizes are checked against the
 * limits in fv_img_options from the header, before any large allocation.
 *
 *     fv_image img = {0};
 *     fv_img_error err;
 *     fv_status st = fv_img_read_file("visitor.jpg", NULL, &img, &err);
 *     if (st != FV_OK) {
 *         fprintf(stderr, "%s: %s\n", fv_status_name(st), err.msg);
 *         return 1;
 *     }
 *     fv_image small = {0};
 *     if (fv_img_resize(&img, 160, 120, &small) == FV_OK) use(small.rgb, small.width,
 * small.height); fv_img_free(&small); fv_img_free(&img);   // wipes the pixels, then frees them
 *
 * Privacy: decoded pixels are a person's face. Every buffer this module allocates for pixels,
 * file bytes or decoder state (fv_malloc'd, including libspng's, which is given a wiping
 * allocator) is wiped with explicit_bzero before it is freed; fv_img_free wipes too. libjpeg's and
 * libwebp's own internal buffers are allocated by those libraries and are not wiped by us
 * (decoded rows are written straight into our buffer). Nothing here writes pixels to disk or logs
 * them. Error messages describe the file's structure (sizes, markers), never pixel values or the
 * file's path.
 *
 * Errors: fallible functions return a fv_status and, when `err` is not NULL, write a one-line
 * message into err->msg (always NUL-terminated; "" on success). There is no global error state.
 *
 * Ownership: an fv_image's `rgb` is owned by whoever holds the struct and is released with
 * fv_img_free. Output images (`out`, `dst`) must be zeroed or freed images; on failure they are
 * left zeroed. All other pointer parameters are borrowed for the duration of the call.
 *
 * Threading: no shared state; distinct calls on distinct images may run concurrently.
 */
#ifndef FAIRVISIT_IMG_H
#define FAIRVISIT_IMG_H

#include <stddef.h>

#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An 8-bit RGB image: pixel (x, y) is rgb[3 * (y * width + x) + c], c = 0 R, 1 G, 2 B. */
typedef struct fv_image {
    int width, height;
    unsigned char *rgb; /* 3 * width * height bytes, fv_malloc'd; NULL for an empty image */
} fv_image;

typedef enum fv_img_format {
    FV_IMG_FORMAT_UNKNOWN = 0,
    FV_IMG_FORMAT_JPEG,
    FV_IMG_FORMAT_PNG,
    FV_IMG_FORMAT_WEBP
} fv_img_format;

#define FV_IMG_DEFAULT_MAX_PIXELS ((size_t)40 * 1000 * 1000)
#define FV_IMG_DEFAULT_MAX_SIDE   16384
#define FV_IMG_DEFAULT_MAX_INPUT  ((size_t)64 * 1024 * 1024)

/* Decoding options. A zero field means its default; a NULL options pointer means all defaults. */
typedef struct fv_img_options {
    size_t max_pixels;      /* width * height limit; default FV_IMG_DEFAULT_MAX_PIXELS (40 MP) */
    int max_side;           /* width and height limit; default FV_IMG_DEFAULT_MAX_SIDE */
    size_t max_input;       /* encoded bytes limit; default FV_IMG_DEFAULT_MAX_INPUT (64 MiB) */
    int ignore_orientation; /* non-zero: return the stored pixels, EXIF orientation not applied */
} fv_img_options;

#define FV_IMG_ERRMSG_SIZE 192

/* Filled by fallible functions when passed; the message never contains personal data. */
typedef struct fv_img_error {
    char msg[FV_IMG_ERRMSG_SIZE];
} fv_img_error;

/* The format the bytes start with (magic numbers only); FV_IMG_FORMAT_UNKNOWN otherwise. */
fv_img_format fv_img_detect_format(const void *data, size_t len);
/* "JPEG", "PNG", "WebP" or "unknown". Static storage. */
const char *fv_img_format_name(fv_img_format fmt);

/*
 * Decodes an in-memory JPEG, PNG or WebP file into *out (upright 8-bit RGB).
 * FV_ERR_FORMAT: unrecognised, corrupt or truncated data (a JPEG that libjpeg reports as ending
 * prematurely is an error, not a partial image); FV_ERR_UNSUPPORTED: a valid file using something
 * not supported (animated WebP, 12-bit JPEG, unusual JPEG colour spaces); FV_ERR_LIMIT: input or
 * declared image size over the options' limits (message gives the declared size); FV_ERR_NOMEM.
 */
FV_NODISCARD fv_status fv_img_decode(const void *data, size_t len, const fv_img_options *opt,
                                     fv_image *out, fv_img_error *err);

/* Like fv_img_decode, but the bytes must be of format `fmt` (used by the fuzz targets). */
FV_NODISCARD fv_status fv_img_decode_as(fv_img_format fmt, const void *data, size_t len,
                                        const fv_img_options *opt, fv_image *out,
                                        fv_img_error *err);

/*
 * Reads a regular file (at most opt->max_input bytes, else FV_ERR_LIMIT) and decodes it. The file
 * bytes are wiped after decoding. FV_ERR_IO when the file cannot be opened or read.
 */
FV_NODISCARD fv_status fv_img_read_file(const char *path, const fv_img_options *opt, fv_image *out,
                                        fv_img_error *err);

/* Allocates a zero-filled width x height image (both >= 1, at most 2^31-1 bytes of pixels). */
FV_NODISCARD fv_status fv_img_alloc(int width, int height, fv_image *out);

/* Wipes and frees img->rgb and zeroes *img. NULL and empty images are fine. */
void fv_img_free(fv_image *img);

/*
 * Bilinear resize to dst_w x dst_h (each >= 1). Pixel centres are aligned: the source coordinate
 * of destination column x is (x + 0.5) * src_w / dst_w - 0.5, clamped to [0, src_w - 1] (rows
 * likewise); results are rounded to nearest.
 */
FV_NODISCARD fv_status fv_img_resize(const fv_image *src, int dst_w, int dst_h, fv_image *dst);

/*
 * Gray level of each pixel, round(0.299 R + 0.587 G + 0.114 B), into `gray` (width * height bytes,
 * caller-owned; it holds a face too: wipe it when done).
 */
FV_NODISCARD fv_status fv_img_to_gray(const fv_image *src, unsigned char *gray, size_t gray_size);

/*
 * The w x h window whose top-left corner is (x, y) in src (may lie partly or wholly outside src;
 * pixels outside are zero).
 */
FV_NODISCARD fv_status fv_img_crop(const fv_image *src, int x, int y, int w, int h, fv_image *dst);

/*
 * Affine warp into a dst_w x dst_h image. m maps destination to source coordinates (pixel centres
 * at integers): sx = m[0] x + m[1] y + m[2], sy = m[3] x + m[4] y + m[5]. Bilinear sampling; each
 * of the four neighbours that lies outside src counts as zero (black).
 */
FV_NODISCARD fv_status fv_img_warp_affine(const fv_image *src, const double m[6], int dst_w,
                                          int dst_h, fv_image *dst);

#ifdef __cplusplus
}
#endif
#endif
