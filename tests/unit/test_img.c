/*
 * test_img.c - the image module: decoding the development photos (sizes checked against known
 * values), synthetic JPEG/PNG/WebP files built in memory (progressive, gray, CMYK, 16-bit,
 * palette, lossy, lossless), EXIF orientation (JPEG both byte orders, PNG eXIf all eight values,
 * WebP EXIF, malformed IFDs), format detection from bytes, bad input with the expected status and
 * message, size limits checked before allocation, out-of-memory injection, the wipe-before-free
 * guarantee, and the pixel operations (resize, gray, crop, affine warp) with exact values.
 *
 * Nothing is written to disk: synthetic files live in memory (fv_img_read_file is exercised on a
 * memfd). The photos are read from $FV_FACES_DIR or FV_FACES_DIR_DEFAULT; missing: skipped.
 */
#define _GNU_SOURCE /* memfd_create */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/img.h"
#include "img-impl.h"
#include "img_alloc.h"
#include "img_build.h"
#include "test_paths.h"

/* ---------------------------------------------------------------------------------------------
 * helpers
 */

static const unsigned char *pix(const fv_image *im, int x, int y) {
    return im->rgb + ((size_t)y * (size_t)im->width + (size_t)x) * 3;
}

static bool near_rgb(const unsigned char *p, int r, int g, int b, int tol) {
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

/* A w x h RGB test pattern: smooth gradients (JPEG-friendly). Caller frees. */
static unsigned char *gradient(int w, int h) {
    unsigned char *p = malloc((size_t)w * (size_t)h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *q = p + ((size_t)y * (size_t)w + (size_t)x) * 3;
            q[0] = (unsigned char)(x * 255 / (w - 1));
            q[1] = (unsigned char)(y * 255 / (h - 1));
            q[2] = (unsigned char)(128 + (x - y) / 2);
        }
    return p;
}

/* Four flat quadrants: top-left red, top-right green, bottom-left blue, bottom-right white. */
static unsigned char *quadrants(int w, int h) {
    unsigned char *p = malloc((size_t)w * (size_t)h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *q = p + ((size_t)y * (size_t)w + (size_t)x) * 3;
            bool right = x >= w / 2, bottom = y >= h / 2;
            q[0] = (unsigned char)(!right && !bottom ? 255 : right && bottom ? 255 : 0);
            q[1] = (unsigned char)(right ? 255 : 0);
            q[2] = (unsigned char)(bottom ? 255 : 0);
        }
    return p;
}

static double mean_abs_diff(const unsigned char *a, const unsigned char *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += abs(a[i] - b[i]);
    return s / (double)n;
}

/* ---------------------------------------------------------------------------------------------
 * development photos
 */

typedef struct known_size {
    const char *name;
    int w, h;
} known_size;

/* From `file` (and python PIL); every photo carries orientation 1 (or none). */
static const known_size known[] = {
    {"32bit.png", 626, 1200},
    {"alex-lacamoire.png", 424, 394},
    {"biden.jpg", 970, 2204},
    {"lin-manuel-miranda.png", 704, 612},
    {"obama-1080p.jpg", 1920, 1080},
    {"obama-240p.jpg", 427, 240},
    {"obama-480p.jpg", 853, 480},
    {"obama-720p.jpg", 1280, 720},
    {"obama.jpg", 910, 1137},
    {"obama2.jpg", 626, 1200},
    {"obama3.jpg", 1434, 2333},
    {"obama_partial_face.jpg", 491, 1137},
    {"obama_partial_face2.jpg", 551, 1137},
    {"obama_small.jpg", 320, 240},
    {"test_alex_lacamoire1.jpg", 1548, 1024},
    {"test_johnsnow_test1.jpg", 768, 1154},
    {"test_kit_with_rose.jpg", 501, 700},
    {"test_obama1.jpg", 1480, 832},           /* progressive */
    {"test_obama_and_biden.jpg", 2000, 1428}, /* progressive */
    {"train_alex_lacamoire_img1.jpg", 874, 1200},
    {"train_biden_biden2.jpg", 1200, 1200},
    {"train_kit_harington_john1.jpeg", 1200, 599},
    {"train_kit_harington_john2.jpeg", 630, 374},
    {"train_rose_leslie_img1.jpg", 1280, 799}, /* progressive */
    {"train_rose_leslie_img2.jpg", 577, 880},
    {"two_people.jpg", 1126, 661},
};

static bool has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void test_faces_decode(void) {
    const char *dir = faces_dir();
    DIR *d = opendir(dir);
    if (d == NULL) SKIP_TEST("face photo folder %s not found (set FV_FACES_DIR)", dir);
    int decoded = 0, matched = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!has_suffix(e->d_name, ".jpg") && !has_suffix(e->d_name, ".jpeg") &&
            !has_suffix(e->d_name, ".png"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fv_image im = {0};
        fv_img_error err;
        fv_status st = fv_img_read_file(path, NULL, &im, &err);
        if (st != FV_OK) {
            CHECK_FAIL("%s: %s %s", e->d_name, fv_status_name(st), err.msg);
            continue;
        }
        decoded++;
        CHECK(im.width > 0 && im.height > 0 && im.rgb != NULL);
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
            if (strcmp(known[i].name, e->d_name) != 0) continue;
            matched++;
            if (im.width != known[i].w || im.height != known[i].h)
                CHECK_FAIL("%s: %dx%d, expected %dx%d", e->d_name, im.width, im.height, known[i].w,
                           known[i].h);
        }
        fv_img_free(&im);
        CHECK(im.rgb == NULL && im.width == 0);
    }
    closedir(d);
    fprintf(stderr, "     decoded %d photos, %d with known sizes\n", decoded, matched);
    CHECK(decoded > 0);
    CHECK(matched >= 20);
}

/* obama.jpg by hand: 910x1137, and the same through fv_img_decode from memory. */
static void test_faces_obama_from_memory(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/obama.jpg", faces_dir());
    FILE *f = fopen(path, "rb");
    if (f == NULL) SKIP_TEST("%s not found", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    CHECK_INT_EQ(fread(buf, 1, (size_t)n, f), n);
    fclose(f);
    CHECK_INT_EQ(fv_img_detect_format(buf, (size_t)n), FV_IMG_FORMAT_JPEG);
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(buf, (size_t)n, NULL, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, 910);
    CHECK_INT_EQ(im.height, 1137);
    CHECK(strcmp(err.msg, "") == 0);
    fv_img_free(&im);
    /* A limit below its size refuses it, naming the declared size. */
    fv_img_options opt = {.max_pixels = 1000000};
    CHECK_INT_EQ(fv_img_decode(buf, (size_t)n, &opt, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "910x1137");
    CHECK(im.rgb == NULL);
    opt = (fv_img_options){.max_side = 1000};
    CHECK_INT_EQ(fv_img_decode(buf, (size_t)n, &opt, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "largest side allowed is 1000");
    opt = (fv_img_options){.max_input = 1000};
    CHECK_INT_EQ(fv_img_decode(buf, (size_t)n, &opt, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "at most 1000 are allowed");
    /* Truncated real photo. */
    CHECK_INT_EQ(fv_img_decode(buf, (size_t)n / 2, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "truncated JPEG data");
    free(buf);
}

/* ---------------------------------------------------------------------------------------------
 * synthetic JPEG
 */

static void test_jpeg_baseline_and_progressive(void) {
    const int w = 48, h = 32;
    unsigned char *src = gradient(w, h);
    for (int prog = 0; prog < 2; prog++) {
        size_t len;
        unsigned char *jpg = img_build_jpeg(src, w, h, 3, 95, prog, &len);
        CHECK(jpg != NULL);
        fv_image im = {0};
        fv_img_error err;
        CHECK_INT_EQ(fv_img_decode(jpg, len, NULL, &im, &err), FV_OK);
        CHECK_INT_EQ(im.width, w);
        CHECK_INT_EQ(im.height, h);
        if (im.rgb) CHECK(mean_abs_diff(im.rgb, src, (size_t)w * h * 3) < 3.0);
        fv_img_free(&im);
        free(jpg);
    }
    free(src);
}

static void test_jpeg_gray(void) {
    const int w = 24, h = 16;
    unsigned char g[24 * 16];
    for (int i = 0; i < w * h; i++) g[i] = (unsigned char)(i % w * 10);
    size_t len;
    unsigned char *jpg = img_build_jpeg(g, w, h, 1, 100, false, &len);
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(jpg, len, NULL, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, w);
    CHECK_INT_EQ(im.height, h);
    for (int i = 0; im.rgb && i < w * h; i++) {
        const unsigned char *p = im.rgb + 3 * i;
        if (p[0] != p[1] || p[1] != p[2]) {
            CHECK_FAIL("gray pixel %d not gray: %d %d %d", i, p[0], p[1], p[2]);
            break;
        }
        if (abs(p[0] - g[i]) > 3) {
            CHECK_FAIL("gray pixel %d: %d vs %d", i, p[0], g[i]);
            break;
        }
    }
    fv_img_free(&im);
    free(jpg);
}

/* CMYK as Adobe writes it (inverted: 255 = no ink); libjpeg adds the Adobe marker. */
static void test_jpeg_cmyk(void) {
    const int w = 16, h = 16;
    unsigned char c[16 * 16 * 4];
    for (int i = 0; i < w * h; i++) {
        bool left = i % w < 8;
        /* left: red (no cyan ink, full magenta and yellow), right: white */
        c[4 * i + 0] = 255;
        c[4 * i + 1] = left ? 0 : 255;
        c[4 * i + 2] = left ? 0 : 255;
        c[4 * i + 3] = 255;
    }
    size_t len;
    unsigned char *jpg = img_build_jpeg(c, w, h, 4, 100, false, &len);
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(jpg, len, NULL, &im, &err), FV_OK);
    if (im.rgb) {
        CHECK(near_rgb(pix(&im, 2, 8), 255, 0, 0, 6));
        CHECK(near_rgb(pix(&im, 13, 8), 255, 255, 255, 6));
    }
    fv_img_free(&im);
    free(jpg);
}

static void test_jpeg_truncated(void) {
    const int w = 64, h = 48;
    unsigned char *src = gradient(w, h);
    for (int prog = 0; prog < 2; prog++) {
        size_t len;
        unsigned char *jpg = img_build_jpeg(src, w, h, 3, 90, prog, &len);
        size_t cuts[] = {3, 4, 20, 100, 200, len / 4, len / 2, len * 3 / 4, len - 40};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            fv_image im = {0};
            fv_img_error err;
            fv_status st = fv_img_decode(jpg, cuts[i], NULL, &im, &err);
            if (st != FV_ERR_FORMAT)
                CHECK_FAIL("progressive=%d cut at %zu of %zu: %s (%s)", prog, cuts[i], len,
                           fv_status_name(st), err.msg);
            CHECK_STR_CONTAINS(err.msg, "JPEG");
            CHECK(im.rgb == NULL && im.width == 0 && im.height == 0);
        }
        /* Cut inside the entropy-coded data: the message says truncated. */
        fv_image im = {0};
        fv_img_error err;
        CHECK_INT_EQ(fv_img_decode(jpg, len / 2 + 100, NULL, &im, &err), FV_ERR_FORMAT);
        CHECK_STR_CONTAINS(err.msg, "truncated JPEG data");
        free(jpg);
    }
    free(src);
}

static void test_jpeg_corrupt_header(void) {
    const int w = 16, h = 16;
    unsigned char *src = gradient(w, h);
    size_t len;
    unsigned char *jpg = img_build_jpeg(src, w, h, 3, 90, false, &len);
    /* Find SOF0 and make its length field absurd. */
    for (size_t i = 2; i + 4 < len; i++) {
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
            jpg[i + 2] = 0x00, jpg[i + 3] = 0x03;
            break;
        }
    }
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(jpg, len, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "JPEG: ");
    CHECK(im.rgb == NULL);
    free(jpg);
    free(src);
}

/* ---------------------------------------------------------------------------------------------
 * EXIF orientation
 */

static void test_exif_parser(void) {
    unsigned char t[64];
    for (int o = 1; o <= 8; o++) {
        size_t n = img_build_tiff_orientation(t, o, o % 2 == 0, false);
        CHECK_INT_EQ(fv__img_exif_orientation(t, n), o);
        unsigned char prefixed[80];
        memcpy(prefixed, "Exif\0\0", 6);
        memcpy(prefixed + 6, t, n);
        CHECK_INT_EQ(fv__img_exif_orientation(prefixed, n + 6), o);
        /* Any truncation of the IFD makes it unreadable: 1, never a read past the end. */
        for (size_t cut = 0; cut < 22; cut++) CHECK_INT_EQ(fv__img_exif_orientation(t, cut), 1);
    }
    size_t n = img_build_tiff_orientation(t, 6, false, true);
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    n = img_build_tiff_orientation(t, 6, true, true);
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    /* Entry count larger than the data. */
    n = img_build_tiff_orientation(t, 6, false, false);
    t[8] = 0xff, t[9] = 0xff;
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    /* Value 9 (invalid), wrong type (LONG), count 2. */
    n = img_build_tiff_orientation(t, 9, false, false);
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    n = img_build_tiff_orientation(t, 6, false, false);
    t[12] = 4;
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    n = img_build_tiff_orientation(t, 6, false, false);
    t[14] = 2;
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    /* Bad magic, bad byte order, NULL. */
    n = img_build_tiff_orientation(t, 6, false, false);
    t[2] = 43;
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    n = img_build_tiff_orientation(t, 6, false, false);
    t[0] = 'X';
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
    CHECK_INT_EQ(fv__img_exif_orientation(NULL, 10), 1);
    /* IFD offset inside the header (< 8) is refused. */
    n = img_build_tiff_orientation(t, 6, false, false);
    t[4] = 2;
    CHECK_INT_EQ(fv__img_exif_orientation(t, n), 1);
}

/* JPEG 32x16 quadrants + APP1 Exif orientation 6 (little-endian) and 3 (big-endian). */
static void test_jpeg_exif_orientation(void) {
    const int w = 32, h = 16;
    unsigned char *src = quadrants(w, h);
    size_t len;
    unsigned char *jpg = img_build_jpeg(src, w, h, 3, 95, false, &len);
    unsigned char t[64];
    fv_img_error err;

    /* 6: rotate 90 clockwise -> 16 x 32; stored top-left (red) ends top-right, stored top-right
     * (green) bottom-right, stored bottom-left (blue) top-left. */
    size_t tn = img_build_tiff_orientation(t, 6, false, false), n6;
    unsigned char *j6 = img_jpeg_add_exif(jpg, len, t, tn, &n6);
    fv_image im = {0};
    CHECK_INT_EQ(fv_img_decode(j6, n6, NULL, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, 16);
    CHECK_INT_EQ(im.height, 32);
    if (im.rgb) {
        CHECK(near_rgb(pix(&im, 12, 3), 255, 0, 0, 12));     /* top-right: red */
        CHECK(near_rgb(pix(&im, 12, 28), 0, 255, 0, 12));    /* bottom-right: green */
        CHECK(near_rgb(pix(&im, 3, 3), 0, 0, 255, 12));      /* top-left: blue */
        CHECK(near_rgb(pix(&im, 3, 28), 255, 255, 255, 12)); /* bottom-left: white */
    }
    fv_img_free(&im);
    /* ignore_orientation returns the stored pixels. */
    fv_img_options opt = {.ignore_orientation = 1};
    CHECK_INT_EQ(fv_img_decode(j6, n6, &opt, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, 32);
    if (im.rgb) CHECK(near_rgb(pix(&im, 3, 3), 255, 0, 0, 12));
    fv_img_free(&im);
    free(j6);

    /* 3: rotate 180 -> white top-left, red bottom-right. */
    tn = img_build_tiff_orientation(t, 3, true, false);
    size_t n3;
    unsigned char *j3 = img_jpeg_add_exif(jpg, len, t, tn, &n3);
    CHECK_INT_EQ(fv_img_decode(j3, n3, NULL, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, 32);
    CHECK_INT_EQ(im.height, 16);
    if (im.rgb) {
        CHECK(near_rgb(pix(&im, 3, 3), 255, 255, 255, 12));
        CHECK(near_rgb(pix(&im, 28, 12), 255, 0, 0, 12));
        CHECK(near_rgb(pix(&im, 28, 3), 0, 0, 255, 12));
        CHECK(near_rgb(pix(&im, 3, 12), 0, 255, 0, 12));
    }
    fv_img_free(&im);
    free(j3);

    /* Malformed IFD (offset out of range): decodes, orientation ignored. */
    for (int be = 0; be < 2; be++) {
        tn = img_build_tiff_orientation(t, 6, be, true);
        size_t nm;
        unsigned char *jm = img_jpeg_add_exif(jpg, len, t, tn, &nm);
        CHECK_INT_EQ(fv_img_decode(jm, nm, NULL, &im, &err), FV_OK);
        CHECK_INT_EQ(im.width, 32);
        CHECK_INT_EQ(im.height, 16);
        if (im.rgb) CHECK(near_rgb(pix(&im, 3, 3), 255, 0, 0, 12));
        fv_img_free(&im);
        free(jm);
    }
    free(jpg);
    free(src);
}

/* Where stored pixels (0,0), (w-1,0) and (0,h-1) must appear in the upright image, per the EXIF
 * definitions ("0th row is the visual right-hand side...") - independent of orient.c's table. */
enum { TL, TR, BL, BR };
static const int corner_of[9][3] = {
    {0, 0, 0},    {TL, TR, BL}, {TR, TL, BR}, {BR, BL, TR}, {BL, BR, TL},
    {TL, BL, TR}, {TR, BR, TL}, {BR, TR, BL}, {BL, TL, BR},
};

static const unsigned char *corner(const fv_image *im, int c) {
    int x = c == TR || c == BR ? im->width - 1 : 0, y = c == BL || c == BR ? im->height - 1 : 0;
    return pix(im, x, y);
}

/* PNG (lossless, exact) 3x2 with unique pixels + eXIf, every orientation, both byte orders. */
static void test_png_exif_all_orientations(void) {
    const int w = 3, h = 2;
    unsigned char src[3 * 2 * 3];
    for (int i = 0; i < w * h * 3; i++) src[i] = (unsigned char)(10 * i + 5);
    for (int o = 1; o <= 8; o++) {
        for (int be = 0; be < 2; be++) {
            unsigned char t[64];
            size_t tn = img_build_tiff_orientation(t, o, be, false), len;
            unsigned char *png = img_build_png(src, w, h, 2, 8, NULL, 0, t, tn, &len);
            CHECK(png != NULL);
            fv_image im = {0};
            fv_img_error err;
            CHECK_INT_EQ(fv_img_decode(png, len, NULL, &im, &err), FV_OK);
            CHECK_INT_EQ(im.width, o >= 5 ? h : w);
            CHECK_INT_EQ(im.height, o >= 5 ? w : h);
            if (im.rgb) {
                const unsigned char *s00 = src, *sw0 = src + 3 * (w - 1), *s0h = src + 3 * w;
                if (memcmp(corner(&im, corner_of[o][0]), s00, 3) != 0 ||
                    memcmp(corner(&im, corner_of[o][1]), sw0, 3) != 0 ||
                    memcmp(corner(&im, corner_of[o][2]), s0h, 3) != 0)
                    CHECK_FAIL("orientation %d (%s): corners misplaced", o, be ? "MM" : "II");
            }
            fv_img_free(&im);
            free(png);
        }
    }
}

/* WebP EXIF chunk (extended container) with orientation 8. */
static void test_webp_exif_orientation(void) {
    const int w = 4, h = 2;
    unsigned char src[4 * 2 * 3];
    for (int i = 0; i < w * h * 3; i++) src[i] = (unsigned char)(7 * i);
    unsigned char t[64];
    size_t tn = img_build_tiff_orientation(t, 8, false, false), len;
    unsigned char *webp = img_build_webp_exif(src, w, h, t, tn, &len);
    CHECK(webp != NULL);
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(webp, len, NULL, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, h);
    CHECK_INT_EQ(im.height, w);
    if (im.rgb) {
        CHECK(memcmp(corner(&im, BL), src, 3) == 0);
        CHECK(memcmp(corner(&im, TL), src + 3 * (w - 1), 3) == 0);
        CHECK(memcmp(corner(&im, BR), src + 3 * w, 3) == 0);
    }
    fv_img_free(&im);
    free(webp);
}

/* ---------------------------------------------------------------------------------------------
 * synthetic PNG
 */

static void test_png_color_types(void) {
    const int w = 5, h = 3;
    unsigned char rgb[5 * 3 * 3], rgba[5 * 3 * 4], gray[5 * 3], ga[5 * 3 * 2], idx[5 * 3];
    uint16_t rgb16[5 * 3 * 3];
    unsigned char plte[4 * 3] = {0, 0, 0, 255, 0, 0, 0, 200, 0, 10, 20, 30};
    for (int i = 0; i < w * h; i++) {
        for (int c = 0; c < 3; c++) {
            rgb[3 * i + c] = (unsigned char)(i * 13 + c * 70);
            rgba[4 * i + c] = rgb[3 * i + c];
            rgb16[3 * i + c] = (uint16_t)(rgb[3 * i + c] * 257);
        }
        rgba[4 * i + 3] = (unsigned char)(i * 17); /* alpha: dropped */
        gray[i] = (unsigned char)(i * 17);
        ga[2 * i] = gray[i];
        ga[2 * i + 1] = (unsigned char)(255 - i);
        idx[i] = (unsigned char)(i % 4);
    }
    struct {
        const char *what;
        const void *data;
        int type, depth;
    } cases[] = {
        {"RGB 8", rgb, 2, 8},   {"RGBA 8", rgba, 6, 8}, {"RGB 16", rgb16, 2, 16},
        {"gray 8", gray, 0, 8}, {"GA 8", ga, 4, 8},     {"palette", idx, 3, 8},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t len;
        unsigned char *png = img_build_png(cases[k].data, w, h, cases[k].type, cases[k].depth, plte,
                                           4, NULL, 0, &len);
        if (png == NULL) {
            CHECK_FAIL("%s: could not build", cases[k].what);
            continue;
        }
        fv_image im = {0};
        fv_img_error err;
        fv_status st = fv_img_decode(png, len, NULL, &im, &err);
        if (st != FV_OK) CHECK_FAIL("%s: %s %s", cases[k].what, fv_status_name(st), err.msg);
        CHECK_INT_EQ(im.width, w);
        CHECK_INT_EQ(im.height, h);
        for (int i = 0; im.rgb && i < w * h; i++) {
            unsigned char want[3];
            if (cases[k].type == 0 || cases[k].type == 4)
                memset(want, gray[i], 3);
            else if (cases[k].type == 3)
                memcpy(want, plte + 3 * idx[i], 3);
            else
                memcpy(want, rgb + 3 * i, 3);
            if (memcmp(im.rgb + 3 * i, want, 3) != 0) {
                CHECK_FAIL("%s: pixel %d is %d,%d,%d, want %d,%d,%d", cases[k].what, i,
                           im.rgb[3 * i], im.rgb[3 * i + 1], im.rgb[3 * i + 2], want[0], want[1],
                           want[2]);
                break;
            }
        }
        fv_img_free(&im);
        free(png);
    }
}

static void test_png_corrupt(void) {
    const int w = 8, h = 8;
    unsigned char *src = gradient(w, h);
    size_t len;
    unsigned char *png = img_build_png(src, w, h, 2, 8, NULL, 0, NULL, 0, &len);
    fv_image im = {0};
    fv_img_error err;
    /* Random bytes after a valid signature. */
    unsigned char junk[200];
    memcpy(junk, png, 8);
    uint32_t x = 12345;
    for (size_t i = 8; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    CHECK_INT_EQ(fv_img_decode(junk, sizeof junk, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "PNG");
    CHECK(im.rgb == NULL);
    /* A flipped bit in IHDR's CRC: CRC mismatch. */
    unsigned char *bad = malloc(len);
    memcpy(bad, png, len);
    bad[30] ^= 0x01;
    CHECK_INT_EQ(fv_img_decode(bad, len, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "PNG: CRC mismatch");
    fv_img_free(&im);
    /* ... and in PLTE's (a palette image: PLTE comes right after IHDR, at byte 33). */
    unsigned char idx[4] = {0, 1, 1, 0}, plte[6] = {1, 2, 3, 4, 5, 6};
    size_t plen;
    unsigned char *pal = img_build_png(idx, 2, 2, 3, 8, plte, 2, NULL, 0, &plen);
    CHECK(memcmp(pal + 37, "PLTE", 4) == 0);
    pal[33 + 8 + 6] ^= 0x80; /* first CRC byte after the 6 palette bytes */
    CHECK_INT_EQ(fv_img_decode(pal, plen, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "PNG: CRC mismatch");
    fv_img_free(&im);
    free(pal);
    /* Truncated at several points. */
    size_t cuts[] = {8, 12, 30, 40, len / 2, len - 20}; /* the last 12 bytes are IEND */
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        fv_status st = fv_img_decode(png, cuts[i], NULL, &im, &err);
        if (st != FV_ERR_FORMAT)
            CHECK_FAIL("cut at %zu of %zu: %s (%s)", cuts[i], len, fv_status_name(st), err.msg);
        CHECK_STR_CONTAINS(err.msg, "PNG");
        CHECK(im.rgb == NULL);
        fv_img_free(&im);
    }
    CHECK_INT_EQ(fv_img_decode(png, len / 2, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "truncated PNG data");
    free(bad);
    free(png);
    free(src);
}

/* IHDR declaring 30000 x 30000: refused from the header, no large allocation at all. */
static void test_png_huge_header(void) {
    size_t len;
    unsigned char *png = img_build_png_header(30000, 30000, &len);
    img_alloc_stats *s = img_alloc_install();
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(png, len, NULL, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "30000x30000");
    CHECK(s->max_request < ((size_t)64 << 20));
    CHECK_INT_EQ(s->live, 0);
    img_alloc_remove();
    free(png);
    png = img_build_png_header(20000, 10, &len);
    CHECK_INT_EQ(fv_img_decode(png, len, NULL, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "20000x10");
    CHECK_STR_CONTAINS(err.msg, "16384");
    free(png);
    /* Raising the limits through the options lets a big header through to the (absent) data. */
    png = img_build_png_header(20000, 10, &len);
    fv_img_options opt = {.max_side = 30000};
    CHECK_INT_EQ(fv_img_decode(png, len, &opt, &im, &err), FV_ERR_FORMAT);
    free(png);
}

/* ---------------------------------------------------------------------------------------------
 * synthetic WebP
 */

static void test_webp_lossy_lossless(void) {
    const int w = 40, h = 24;
    unsigned char *src = gradient(w, h);
    for (int lossless = 0; lossless < 2; lossless++) {
        size_t len;
        unsigned char *webp = img_build_webp(src, w, h, lossless ? -1 : 95, &len);
        CHECK(webp != NULL);
        CHECK_INT_EQ(fv_img_detect_format(webp, len), FV_IMG_FORMAT_WEBP);
        fv_image im = {0};
        fv_img_error err;
        CHECK_INT_EQ(fv_img_decode(webp, len, NULL, &im, &err), FV_OK);
        CHECK_INT_EQ(im.width, w);
        CHECK_INT_EQ(im.height, h);
        if (im.rgb && lossless) CHECK(memcmp(im.rgb, src, (size_t)w * h * 3) == 0);
        if (im.rgb && !lossless) CHECK(mean_abs_diff(im.rgb, src, (size_t)w * h * 3) < 4.0);
        fv_img_free(&im);
        /* Truncated. */
        for (size_t cut = 12; cut < len; cut += len / 5 + 1) {
            fv_status st = fv_img_decode(webp, cut, NULL, &im, &err);
            if (st != FV_ERR_FORMAT)
                CHECK_FAIL("cut at %zu: %s (%s)", cut, fv_status_name(st), err.msg);
            CHECK_STR_CONTAINS(err.msg, "WebP");
        }
        free(webp);
    }
    free(src);
}

/* A VP8L header patched to declare 16384 x 16384 (the format's maximum): refused from it. */
static void test_webp_huge_header(void) {
    unsigned char px[3] = {1, 2, 3};
    size_t len;
    unsigned char *webp = img_build_webp(px, 1, 1, -1, &len);
    CHECK(memcmp(webp + 12, "VP8L", 4) == 0);
    uint32_t bits = (uint32_t)webp[21] | (uint32_t)webp[22] << 8 | (uint32_t)webp[23] << 16 |
                    (uint32_t)webp[24] << 24;
    bits = (bits & ~0x0fffffffu) | 16383u | 16383u << 14;
    for (int i = 0; i < 4; i++) webp[21 + i] = (unsigned char)(bits >> (8 * i));
    img_alloc_stats *s = img_alloc_install();
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(webp, len, NULL, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "16384x16384");
    CHECK_INT_EQ(s->count, 0);
    img_alloc_remove();
    free(webp);
}

static void test_webp_animated(void) {
    size_t len;
    unsigned char *webp = img_build_webp_animated(&len);
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode(webp, len, NULL, &im, &err), FV_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "animated WebP");
    free(webp);
}

/* ---------------------------------------------------------------------------------------------
 * detection, bad input, files
 */

static void test_detect_and_bad_input(void) {
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_decode("", 0, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "empty");
    CHECK_INT_EQ(fv_img_decode(NULL, 0, NULL, &im, &err), FV_ERR_FORMAT);
    const char *text = "Name,Visit\nWang,2026-11-30\n";
    CHECK_INT_EQ(fv_img_decode(text, strlen(text), NULL, &im, &err), FV_ERR_FORMAT);
    CHECK(strcmp(err.msg, "unrecognised image format (not JPEG, PNG or WebP)") == 0);
    CHECK(im.rgb == NULL);
    /* Magic only. */
    CHECK_INT_EQ(fv_img_decode("\xff\xd8\xff", 3, NULL, &im, &err), FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "JPEG");
    CHECK_INT_EQ(fv_img_detect_format("\x89PNG\r\n\x1a\n", 8), FV_IMG_FORMAT_PNG);
    CHECK_INT_EQ(fv_img_detect_format("RIFF\0\0\0\0WEBP", 12), FV_IMG_FORMAT_WEBP);
    CHECK_INT_EQ(fv_img_detect_format("RIFF\0\0\0\0WAVE", 12), FV_IMG_FORMAT_UNKNOWN);
    CHECK_INT_EQ(fv_img_detect_format("\xff\xd8", 2), FV_IMG_FORMAT_UNKNOWN);
    CHECK(strcmp(fv_img_format_name(FV_IMG_FORMAT_WEBP), "WebP") == 0);
    /* Decoding as the wrong format fails cleanly. */
    CHECK_INT_EQ(fv_img_decode_as(FV_IMG_FORMAT_PNG, text, strlen(text), NULL, &im, &err),
                 FV_ERR_FORMAT);
    CHECK_STR_CONTAINS(err.msg, "PNG");
    CHECK_INT_EQ(fv_img_decode_as(FV_IMG_FORMAT_WEBP, text, strlen(text), NULL, &im, &err),
                 FV_ERR_FORMAT);
    CHECK_INT_EQ(fv_img_decode_as(FV_IMG_FORMAT_JPEG, text, strlen(text), NULL, &im, &err),
                 FV_ERR_FORMAT);
    CHECK_INT_EQ(fv_img_decode(text, 4, NULL, NULL, &err), FV_ERR_ARG);
    /* err may be NULL. */
    CHECK_INT_EQ(fv_img_decode(text, strlen(text), NULL, &im, NULL), FV_ERR_FORMAT);
}

/* An in-memory file (memfd) named like a JPEG but holding a WebP: the bytes decide. */
static void test_read_file_format_from_bytes(void) {
    const int w = 6, h = 4;
    unsigned char *src = gradient(w, h);
    size_t len;
    unsigned char *webp = img_build_webp(src, w, h, -1, &len);
    int fd = memfd_create("visitor.jpg", MFD_CLOEXEC);
    if (fd < 0) {
        free(webp);
        free(src);
        SKIP_TEST("memfd_create not available");
    }
    CHECK_INT_EQ(write(fd, webp, len), (long long)len);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    fv_image im = {0};
    fv_img_error err;
    CHECK_INT_EQ(fv_img_read_file(path, NULL, &im, &err), FV_OK);
    CHECK_INT_EQ(im.width, w);
    if (im.rgb) CHECK(memcmp(im.rgb, src, (size_t)w * h * 3) == 0);
    fv_img_free(&im);
    fv_img_options opt = {.max_input = 10};
    CHECK_INT_EQ(fv_img_read_file(path, &opt, &im, &err), FV_ERR_LIMIT);
    CHECK_STR_CONTAINS(err.msg, "at most 10 are allowed");
    close(fd);
    CHECK_INT_EQ(fv_img_read_file("/nonexistent/visitor.jpg", NULL, &im, &err), FV_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "cannot open");
    CHECK(strstr(err.msg, "visitor") == NULL); /* no path in messages */
    CHECK_INT_EQ(fv_img_read_file("/", NULL, &im, &err), FV_ERR_IO);
    CHECK_INT_EQ(fv_img_read_file(NULL, NULL, &im, &err), FV_ERR_ARG);
    free(webp);
    free(src);
}

/* ---------------------------------------------------------------------------------------------
 * out of memory, wiping
 */

typedef struct sample {
    const char *what;
    unsigned char *data;
    size_t len;
} sample;

/* Small files of each kind, orientation included so the rotation's allocation is reached too. */
static int make_samples(sample *s) {
    const int w = 20, h = 12;
    unsigned char *src = gradient(w, h);
    unsigned char t[64];
    size_t tn = img_build_tiff_orientation(t, 6, false, false), len;
    int n = 0;
    unsigned char *jpg = img_build_jpeg(src, w, h, 3, 90, false, &len);
    s[n].what = "jpeg+exif";
    s[n].data = img_jpeg_add_exif(jpg, len, t, tn, &s[n].len);
    n++;
    free(jpg);
    s[n].what = "progressive jpeg";
    s[n].data = img_build_jpeg(src, w, h, 3, 90, true, &s[n].len);
    n++;
    unsigned char c[20 * 12 * 4];
    memset(c, 200, sizeof c);
    s[n].what = "cmyk jpeg";
    s[n].data = img_build_jpeg(c, w, h, 4, 90, false, &s[n].len);
    n++;
    s[n].what = "png+exif";
    s[n].data = img_build_png(src, w, h, 2, 8, NULL, 0, t, tn, &s[n].len);
    n++;
    s[n].what = "webp lossy";
    s[n].data = img_build_webp(src, w, h, 80, &s[n].len);
    n++;
    s[n].what = "webp+exif";
    s[n].data = img_build_webp_exif(src, w, h, t, tn, &s[n].len);
    n++;
    free(src);
    return n;
}

static void test_oom_injection(void) {
    sample s[8];
    int n = make_samples(s);
    for (int k = 0; k < n; k++) {
        int failures = 0;
        bool ok = false;
        for (long fail_at = 1; fail_at < 500 && !ok; fail_at++) {
            img_alloc_stats *st = img_alloc_install();
            st->fail_at = fail_at;
            fv_image im = {0};
            fv_img_error err;
            fv_status rc = fv_img_decode(s[k].data, s[k].len, NULL, &im, &err);
            if (rc == FV_OK) {
                ok = st->count < fail_at; /* the failure was not reached: done */
                if (!ok)
                    CHECK_FAIL("%s: allocation %ld failed but decode succeeded", s[k].what,
                               fail_at);
                fv_img_free(&im);
            } else {
                failures++;
                CHECK(im.rgb == NULL && im.width == 0);
                CHECK(strlen(err.msg) > 0);
            }
            if (st->live != 0)
                CHECK_FAIL("%s: fail_at %ld leaked %ld blocks", s[k].what, fail_at, st->live);
            img_alloc_remove();
        }
        CHECK(ok);
        CHECK(failures >= 1);
        fprintf(stderr, "     %s: %d injected failures, all clean\n", s[k].what, failures);
        free(s[k].data);
    }
}

/* Every block the module frees - pixels, row buffers, libspng's buffers, file bytes - is zero. */
static void test_wipe_before_free(void) {
    sample s[8];
    int n = make_samples(s);
    for (int k = 0; k < n; k++) {
        img_alloc_stats *st = img_alloc_install();
        st->check_wiped = true;
        st->wipe_min = 1;
        fv_image im = {0};
        fv_img_error err;
        CHECK_INT_EQ(fv_img_decode(s[k].data, s[k].len, NULL, &im, &err), FV_OK);
        fv_image small = {0}, crop = {0};
        CHECK_INT_EQ(fv_img_resize(&im, 7, 5, &small), FV_OK);
        CHECK_INT_EQ(fv_img_crop(&im, -2, -2, 6, 6, &crop), FV_OK);
        fv_img_free(&small);
        fv_img_free(&crop);
        fv_img_free(&im);
        /* Error paths wipe too. */
        CHECK(fv_img_decode(s[k].data, s[k].len * 2 / 3, NULL, &im, &err) != FV_OK);
        if (st->unwiped != 0)
            CHECK_FAIL("%s: %ld blocks freed unwiped (last %zu bytes)", s[k].what, st->unwiped,
                       st->unwiped_size);
        CHECK(st->count > 0);
        CHECK_INT_EQ(st->live, 0);
        img_alloc_remove();
        free(s[k].data);
    }
}

/* ---------------------------------------------------------------------------------------------
 * pixel operations
 */

static fv_image make(int w, int h, const unsigned char *rgb) {
    fv_image im;
    if (fv_img_alloc(w, h, &im) != FV_OK) abort();
    memcpy(im.rgb, rgb, (size_t)w * h * 3);
    return im;
}

/* A 1-channel pattern replicated to RGB as (v, v/2, 255-v). */
static fv_image make_gray3(int w, int h, const int *v) {
    fv_image im;
    if (fv_img_alloc(w, h, &im) != FV_OK) abort();
    for (int i = 0; i < w * h; i++) {
        im.rgb[3 * i] = (unsigned char)v[i];
        im.rgb[3 * i + 1] = (unsigned char)(v[i] / 2);
        im.rgb[3 * i + 2] = (unsigned char)(255 - v[i]);
    }
    return im;
}

static void check_r(const fv_image *im, const int *want, const char *what) {
    for (int i = 0; i < im->width * im->height; i++)
        if (im->rgb[3 * i] != want[i]) {
            CHECK_FAIL("%s: pixel %d is %d, want %d", what, i, im->rgb[3 * i], want[i]);
            return;
        }
}

static void test_resize(void) {
    fv_image d = {0};
    /* Upscale 2 -> 4: sx = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1). */
    fv_image a = make_gray3(2, 1, (int[]){0, 100});
    CHECK_INT_EQ(fv_img_resize(&a, 4, 1, &d), FV_OK);
    check_r(&d, (int[]){0, 25, 75, 100}, "2->4");
    CHECK_INT_EQ(d.rgb[3 * 1 + 2], 255 - 25); /* blue channel 255-v */
    fv_img_free(&d);
    /* Downscale 4 -> 2: sx = 0.5, 2.5. */
    fv_image b = make_gray3(4, 1, (int[]){0, 40, 80, 120});
    CHECK_INT_EQ(fv_img_resize(&b, 2, 1, &d), FV_OK);
    check_r(&d, (int[]){20, 100}, "4->2");
    fv_img_free(&d);
    /* 2x2 -> 3x3: taps -1/6 (0), 0.5, 7/6 (1) both ways. */
    fv_image c = make_gray3(2, 2, (int[]){0, 60, 120, 180});
    CHECK_INT_EQ(fv_img_resize(&c, 3, 3, &d), FV_OK);
    check_r(&d, (int[]){0, 30, 60, 60, 90, 120, 120, 150, 180}, "2x2->3x3");
    CHECK_INT_EQ(d.rgb[3 * 4 + 1], 45); /* green = v/2 interpolated: (0+30+60+90)/4 */
    fv_img_free(&d);
    /* Rounding: 0..1 upscaled gives 0.25 -> 0 and 0.75 -> 1. */
    fv_image r = make_gray3(2, 1, (int[]){0, 1});
    CHECK_INT_EQ(fv_img_resize(&r, 4, 1, &d), FV_OK);
    check_r(&d, (int[]){0, 0, 1, 1}, "rounding");
    fv_img_free(&d);
    /* Same size: identity. */
    CHECK_INT_EQ(fv_img_resize(&c, 2, 2, &d), FV_OK);
    CHECK(memcmp(d.rgb, c.rgb, 12) == 0);
    fv_img_free(&d);
    /* 1x1 -> 3x2: constant. */
    fv_image one = make(1, 1, (const unsigned char[]){9, 8, 7});
    CHECK_INT_EQ(fv_img_resize(&one, 3, 2, &d), FV_OK);
    for (int i = 0; i < 6; i++) CHECK(memcmp(d.rgb + 3 * i, one.rgb, 3) == 0);
    fv_img_free(&d);
    CHECK_INT_EQ(fv_img_resize(&one, 0, 2, &d), FV_ERR_ARG);
    CHECK(d.rgb == NULL);
    fv_img_free(&a), fv_img_free(&b), fv_img_free(&c), fv_img_free(&r), fv_img_free(&one);
}

static void test_gray(void) {
    fv_image im = make(6, 1,
                       (const unsigned char[]){255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10,
                                               20, 30, 1, 1, 1});
    unsigned char g[6];
    CHECK_INT_EQ(fv_img_to_gray(&im, g, sizeof g), FV_OK);
    /* 76.245, 149.685, 29.07, 255, 18.15, 1 */
    const int want[6] = {76, 150, 29, 255, 18, 1};
    for (int i = 0; i < 6; i++) CHECK_INT_EQ(g[i], want[i]);
    CHECK_INT_EQ(fv_img_to_gray(&im, g, 5), FV_ERR_ARG);
    fv_img_free(&im);
}

static void test_crop(void) {
    unsigned char px[3 * 2 * 3];
    for (int i = 0; i < 18; i++) px[i] = (unsigned char)(i + 1);
    fv_image im = make(3, 2, px), d = {0};
    /* Window starting one pixel up-left: a zero border on the top and left. */
    CHECK_INT_EQ(fv_img_crop(&im, -1, -1, 3, 3, &d), FV_OK);
    CHECK_INT_EQ(d.width, 3);
    CHECK_INT_EQ(d.height, 3);
    const unsigned char zero[3] = {0, 0, 0};
    CHECK(memcmp(pix(&d, 0, 0), zero, 3) == 0);
    CHECK(memcmp(pix(&d, 2, 0), zero, 3) == 0);
    CHECK(memcmp(pix(&d, 0, 2), zero, 3) == 0);
    CHECK(memcmp(pix(&d, 1, 1), pix(&im, 0, 0), 3) == 0);
    CHECK(memcmp(pix(&d, 2, 2), pix(&im, 1, 1), 3) == 0);
    fv_img_free(&d);
    /* Inside. */
    CHECK_INT_EQ(fv_img_crop(&im, 1, 1, 2, 1, &d), FV_OK);
    CHECK(memcmp(d.rgb, pix(&im, 1, 1), 6) == 0);
    fv_img_free(&d);
    /* Beyond the right/bottom edge and wholly outside (even at extreme coordinates). */
    CHECK_INT_EQ(fv_img_crop(&im, 2, 1, 2, 2, &d), FV_OK);
    CHECK(memcmp(pix(&d, 0, 0), pix(&im, 2, 1), 3) == 0);
    CHECK(memcmp(pix(&d, 1, 0), zero, 3) == 0 && memcmp(pix(&d, 0, 1), zero, 3) == 0);
    fv_img_free(&d);
    CHECK_INT_EQ(fv_img_crop(&im, 2147483647, -2147483647 - 1, 2, 2, &d), FV_OK);
    for (int i = 0; i < 12; i++) CHECK_INT_EQ(d.rgb[i], 0);
    fv_img_free(&d);
    CHECK_INT_EQ(fv_img_crop(&im, 0, 0, 0, 1, &d), FV_ERR_ARG);
    fv_img_free(&im);
}

static void test_warp(void) {
    fv_image d = {0};
    /* Identity: exact copy. */
    unsigned char px[4 * 3 * 3];
    for (int i = 0; i < 36; i++) px[i] = (unsigned char)(i * 7);
    fv_image im = make(4, 3, px);
    const double id[6] = {1, 0, 0, 0, 1, 0};
    CHECK_INT_EQ(fv_img_warp_affine(&im, id, 4, 3, &d), FV_OK);
    CHECK(memcmp(d.rgb, im.rgb, 36) == 0);
    fv_img_free(&d);
    /* Half-pixel shift: 0.5 * 0 + 0.5 * 100 = 50; last column blends with black outside. */
    fv_image a = make_gray3(2, 1, (int[]){0, 100});
    const double shift[6] = {1, 0, 0.5, 0, 1, 0};
    CHECK_INT_EQ(fv_img_warp_affine(&a, shift, 2, 1, &d), FV_OK);
    check_r(&d, (int[]){50, 50}, "shift");
    fv_img_free(&d);
    /* Scale 2x down-sampling the centre between rows: sy = 0.5 for row 0. */
    fv_image c = make_gray3(2, 2, (int[]){0, 60, 120, 180});
    const double mid[6] = {1, 0, 0, 0, 1, 0.5};
    CHECK_INT_EQ(fv_img_warp_affine(&c, mid, 2, 1, &d), FV_OK);
    check_r(&d, (int[]){60, 120}, "row blend");
    fv_img_free(&d);
    /* Rotation by 90 degrees clockwise equals EXIF orientation 6. */
    const double rot[6] = {0, 1, 0, -1, 0, 2}; /* sx = y, sy = h - 1 - x */
    CHECK_INT_EQ(fv_img_warp_affine(&im, rot, 3, 4, &d), FV_OK);
    fv_image o = make(4, 3, px);
    CHECK_INT_EQ(fv__img_apply_orientation(&o, 6), FV_OK);
    CHECK_INT_EQ(o.width, 3);
    CHECK(memcmp(d.rgb, o.rgb, 36) == 0);
    fv_img_free(&d);
    fv_img_free(&o);
    /* Far outside, NaN and infinity: zero. */
    const double far[6] = {1, 0, 1e300, 0, 1, 0};
    const double nan_m[6] = {NAN, 0, 0, 0, 1, 0};
    const double inf_m[6] = {0, 0, -INFINITY, 0, 0, 0};
    const double *bad[3] = {far, nan_m, inf_m};
    for (int k = 0; k < 3; k++) {
        CHECK_INT_EQ(fv_img_warp_affine(&im, bad[k], 3, 3, &d), FV_OK);
        for (int i = 0; i < 27; i++) CHECK_INT_EQ(d.rgb[i], 0);
        fv_img_free(&d);
    }
    CHECK_INT_EQ(fv_img_warp_affine(&im, NULL, 3, 3, &d), FV_ERR_ARG);
    fv_img_free(&im), fv_img_free(&a), fv_img_free(&c);
}

int main(void) {
    RUN(test_faces_decode);
    RUN(test_faces_obama_from_memory);
    RUN(test_jpeg_baseline_and_progressive);
    RUN(test_jpeg_gray);
    RUN(test_jpeg_cmyk);
    RUN(test_jpeg_truncated);
    RUN(test_jpeg_corrupt_header);
    RUN(test_exif_parser);
    RUN(test_jpeg_exif_orientation);
    RUN(test_png_exif_all_orientations);
    RUN(test_webp_exif_orientation);
    RUN(test_png_color_types);
    RUN(test_png_corrupt);
    RUN(test_png_huge_header);
    RUN(test_webp_lossy_lossless);
    RUN(test_webp_huge_header);
    RUN(test_webp_animated);
    RUN(test_detect_and_bad_input);
    RUN(test_read_file_format_from_bytes);
    RUN(test_oom_injection);
    RUN(test_wipe_before_free);
    RUN(test_resize);
    RUN(test_gray);
    RUN(test_crop);
    RUN(test_warp);
    return check_summary();
}
