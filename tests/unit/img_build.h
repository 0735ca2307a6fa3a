/*
 * img_build.h - builds small image files in memory for the image tests and the fuzz seed
 * generator: JPEG (libjpeg, jpeg_mem_dest), PNG (libspng encoder), WebP (libwebp), plus EXIF
 * blocks and hand-made headers. Nothing is written to disk.
 *
 * Every builder returns a malloc'd buffer (release with free()) and its length through *len, or
 * NULL on failure. Pixels are synthetic, never a person's.
 */
#ifndef FAIRVISIT_TEST_IMG_BUILD_H
#define FAIRVISIT_TEST_IMG_BUILD_H

#include <stdbool.h>
#include <stddef.h>

/* comps: 1 (gray), 3 (RGB) or 4 (CMYK, stored as given: pass Adobe-inverted values). */
unsigned char *img_build_jpeg(const unsigned char *pix, int w, int h, int comps, int quality,
                              bool progressive, size_t *len);

/* PNG colour types as in the spec: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. `pix` holds
 * samples in that layout (16-bit samples in host byte order, as libspng takes them);
 * `plte` is 3 * n_plte bytes for type 3. `exif` (may be NULL) becomes an eXIf chunk. */
unsigned char *img_build_png(const void *pix, int w, int h, int color_type, int bit_depth,
                             const unsigned char *plte, int n_plte, const unsigned char *exif,
                             size_t exif_len, size_t *len);

/* PNG signature + IHDR (valid CRC, 8-bit RGB) + IEND: only a header, no pixels. */
unsigned char *img_build_png_header(unsigned w, unsigned h, size_t *len);

/* quality < 0: lossless. */
unsigned char *img_build_webp(const unsigned char *rgb, int w, int h, int quality, size_t *len);

/* A lossless WebP wrapped in an extended (VP8X) container with an EXIF chunk. */
unsigned char *img_build_webp_exif(const unsigned char *rgb, int w, int h,
                                   const unsigned char *exif, size_t exif_len, size_t *len);

/* A VP8X header that declares an animation (ANIM chunk, no frames). */
unsigned char *img_build_webp_animated(size_t *len);

/* A TIFF block (no "Exif\0\0" prefix) with one IFD0 entry: orientation. `big_endian` picks MM.
 * `malformed`: the IFD offset points past the end. Returns the length written into out (<= 64). */
size_t img_build_tiff_orientation(unsigned char *out, int orientation, bool big_endian,
                                  bool malformed);

/* Inserts an APP1 segment ("Exif\0\0" + tiff) right after the SOI of a JPEG. */
unsigned char *img_jpeg_add_exif(const unsigned char *jpeg, size_t jpeg_len,
                                 const unsigned char *tiff, size_t tiff_len, size_t *len);

/* CRC-32 as in PNG chunks (over type and data). */
unsigned img_crc32(const unsigned char *p, size_t n);

#endif
