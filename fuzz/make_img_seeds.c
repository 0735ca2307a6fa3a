/*
 * make_img_seeds.c - writes the seed corpora of the image fuzz targets, all generated in memory
 * from synthetic patterns (never from the face photos):
 *
 *     ./build/make_img_seeds fuzz/corpus     # writes img_jpeg/, img_png/, img_webp/, img_exif/
 *
 * The directories must exist. Every seed is a few hundred bytes to a few KiB (< 16 KiB).
 * Built by cmake/img.cmake, not run by the tests.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img_build.h"

static const char *g_root;
static int g_errors;

static void put(const char *dir, const char *name, const unsigned char *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", g_root, dir, name);
    FILE *f = p ? fopen(path, "wb") : NULL;
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_img_seeds: cannot write %s\n", path);
        g_errors++;
        return;
    }
    printf("%s (%zu bytes)\n", path, n);
}

static void put_free(const char *dir, const char *name, unsigned char *p, size_t n) {
    put(dir, name, p, n);
    free(p);
}

/* `build` stores the length in n (a local of main); sequenced before the write. */
#define SEED(dir, name, build)                                                                     \
    do {                                                                                           \
        n = 0;                                                                                     \
        unsigned char *seed_ = (build);                                                            \
        put_free(dir, name, seed_, n);                                                             \
    } while (0)

static unsigned char *pattern(int w, int h, int comps) {
    unsigned char *p = malloc((size_t)w * (size_t)h * (size_t)comps);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comps; c++)
                p[((size_t)y * (size_t)w + (size_t)x) * (size_t)comps + (size_t)c] =
                    (unsigned char)((x * 17 + y * 29 + c * 80) ^ (x * y));
    return p;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_img_seeds CORPUS_ROOT\n");
        return 2;
    }
    g_root = argv[1];
    size_t n, tn;
    unsigned char t[64];
    unsigned char *rgb = pattern(16, 16, 3), *gray = pattern(16, 16, 1);
    unsigned char *cmyk = pattern(16, 16, 4), *rgba = pattern(16, 16, 4);
    unsigned char *ga = pattern(16, 16, 2);
    uint16_t rgb16[16 * 16 * 3], gray16[16 * 16];
    for (int i = 0; i < 16 * 16 * 3; i++) rgb16[i] = (uint16_t)(rgb[i] * 257 + i);
    for (int i = 0; i < 16 * 16; i++) gray16[i] = (uint16_t)(gray[i] * 250);
    unsigned char idx[16 * 16], plte[16 * 3];
    for (int i = 0; i < 16 * 16; i++) idx[i] = (unsigned char)(i % 16);
    for (int i = 0; i < 16 * 3; i++) plte[i] = (unsigned char)(i * 5);

    /* JPEG */
    SEED("img_jpeg", "seed_baseline.jpg", img_build_jpeg(rgb, 16, 16, 3, 80, false, &n));
    SEED("img_jpeg", "seed_progressive.jpg", img_build_jpeg(rgb, 16, 16, 3, 80, true, &n));
    SEED("img_jpeg", "seed_gray.jpg", img_build_jpeg(gray, 16, 16, 1, 80, false, &n));
    SEED("img_jpeg", "seed_gray_progressive.jpg", img_build_jpeg(gray, 16, 16, 1, 80, true, &n));
    SEED("img_jpeg", "seed_cmyk.jpg", img_build_jpeg(cmyk, 16, 16, 4, 80, false, &n));
    unsigned char *jpg = img_build_jpeg(rgb, 16, 16, 3, 80, false, &n);
    size_t jn = n;
    for (int o = 2; o <= 8; o += 3) {
        char name[64];
        snprintf(name, sizeof name, "seed_exif_orientation%d_%s.jpg", o, o % 2 ? "mm" : "ii");
        tn = img_build_tiff_orientation(t, o, o % 2, false);
        SEED("img_jpeg", name, img_jpeg_add_exif(jpg, jn, t, tn, &n));
    }
    tn = img_build_tiff_orientation(t, 6, false, true);
    SEED("img_jpeg", "seed_exif_malformed.jpg", img_jpeg_add_exif(jpg, jn, t, tn, &n));
    put("img_jpeg", "seed_truncated.jpg", jpg, jn / 2);
    free(jpg);

    /* PNG */
    SEED("img_png", "seed_rgb8.png", img_build_png(rgb, 16, 16, 2, 8, NULL, 0, NULL, 0, &n));
    SEED("img_png", "seed_rgba8.png", img_build_png(rgba, 16, 16, 6, 8, NULL, 0, NULL, 0, &n));
    SEED("img_png", "seed_rgb16.png", img_build_png(rgb16, 16, 16, 2, 16, NULL, 0, NULL, 0, &n));
    SEED("img_png", "seed_gray8.png", img_build_png(gray, 16, 16, 0, 8, NULL, 0, NULL, 0, &n));
    SEED("img_png", "seed_gray16.png", img_build_png(gray16, 16, 16, 0, 16, NULL, 0, NULL, 0, &n));
    SEED("img_png", "seed_gray_alpha8.png", img_build_png(ga, 16, 16, 4, 8, NULL, 0, NULL, 0, &n));
    SEED("img_png", "seed_palette.png", img_build_png(idx, 16, 16, 3, 8, plte, 16, NULL, 0, &n));
    tn = img_build_tiff_orientation(t, 6, true, false);
    SEED("img_png", "seed_exif_orientation6.png",
         img_build_png(rgb, 16, 16, 2, 8, NULL, 0, t, tn, &n));
    SEED("img_png", "seed_header_30000x30000.png", img_build_png_header(30000, 30000, &n));

    /* WebP */
    SEED("img_webp", "seed_lossy.webp", img_build_webp(rgb, 16, 16, 75, &n));
    SEED("img_webp", "seed_lossless.webp", img_build_webp(rgb, 16, 16, -1, &n));
    tn = img_build_tiff_orientation(t, 8, false, false);
    SEED("img_webp", "seed_exif_orientation8.webp", img_build_webp_exif(rgb, 16, 16, t, tn, &n));
    SEED("img_webp", "seed_animated_header.webp", img_build_webp_animated(&n));

    /* EXIF (TIFF blocks, with and without the APP1 prefix) */
    for (int o = 1; o <= 8; o++) {
        char name[64];
        snprintf(name, sizeof name, "seed_orientation%d_%s.tiff", o, o % 2 ? "mm" : "ii");
        tn = img_build_tiff_orientation(t, o, o % 2, false);
        put("img_exif", name, t, tn);
    }
    tn = img_build_tiff_orientation(t, 6, false, true);
    put("img_exif", "seed_malformed_offset.tiff", t, tn);
    unsigned char pre[80];
    memcpy(pre, "Exif\0\0", 6);
    tn = img_build_tiff_orientation(pre + 6, 3, true, false);
    put("img_exif", "seed_app1_prefix.bin", pre, tn + 6);

    free(rgb), free(gray), free(cmyk), free(rgba), free(ga);
    return g_errors ? 1 : 0;
}
