/*
 * cmd_bench_face.c - `fairvisit bench face IMG [--runs N] [--warmup W] [--models DIR]`.
 *
 * Times the whole pipeline on one image file, single thread: read and decode → detect →
 * landmarks → align → quality → liveness → embed, N times after W warm-up runs. Prints a human
 * line and, last, one JSON object {image, faces, usable, median_ms, p90_ms, faces_per_s}.
 * The image is decoded inside the timed region on every run, as a check-in would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/alloc.h"
#include "fairvisit/face.h"
#include "fairvisit/img.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int read_all(const char *path, unsigned char **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = fv_malloc(cap);
    while (b != NULL) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            if (cap > ((size_t)64 << 20)) break;
            unsigned char *nb = fv_realloc(b, cap * 2);
            if (nb == NULL) {
                fv_free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b == NULL) return -1;
    *buf = b;
    *len = n;
    return 0;
}

int fv_cli_bench_face(int argc, char **argv) {
    const char *path = NULL, *models = NULL;
    int runs = 50, warmup = 3;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--runs") == 0 || strcmp(argv[i], "--warmup") == 0) && i + 1 < argc) {
            char *end;
            errno = 0;
            long v = strtol(argv[i + 1], &end, 10);
            if (errno || *end || v < (argv[i][2] == 'r' ? 1 : 0) || v > 100000) {
                fprintf(stderr, "fairvisit bench face: bad value for %s: '%s'\n", argv[i],
                        argv[i + 1]);
                return 2;
            }
            if (argv[i][2] == 'r')
                runs = (int)v;
            else
                warmup = (int)v;
            i++;
        } else if (strcmp(argv[i], "--models") == 0 && i + 1 < argc) {
            models = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0 || path != NULL) {
            fprintf(stderr, "usage: fairvisit bench face IMG [--runs N] [--warmup W] "
                            "[--models DIR]\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        fprintf(stderr, "usage: fairvisit bench face IMG [--runs N] [--warmup W] [--models DIR]\n");
        return 2;
    }
    if (models == NULL) models = getenv("FV_MODELS_DIR");
    fv_face_options opt = {.models_dir = models && *models ? models : "models"};
    fv_face_engine *fe = NULL;
    if (fv_face_engine_open(&opt, &fe) != FV_OK) {
        fprintf(stderr, "fairvisit bench face: %s\n", fv_face_engine_errmsg(fe));
        fv_face_engine_close(fe);
        return 1;
    }
    unsigned char *file = NULL;
    size_t len = 0;
    if (read_all(path, &file, &len) != 0) {
        fprintf(stderr, "fairvisit bench face: cannot read the image file\n");
        fv_face_engine_close(fe);
        return 1;
    }
    double *t = fv_malloc((size_t)runs * sizeof(double));
    int rc = t == NULL, faces = 0, usable = 0;
    for (int i = 0; i < warmup + runs && rc == 0; i++) {
        double t0 = now_ms();
        fv_image img = {0};
        fv_img_error err;
        fv_face_list list = {0};
        fv_status st = fv_img_decode(file, len, NULL, &img, &err);
        if (st != FV_OK) {
            fprintf(stderr, "fairvisit bench face: %s\n", err.msg);
            rc = 1;
        } else if (fv_face_analyze(fe, &img, FV_FACE_WANT_EMBEDDING, &list) != FV_OK) {
            fprintf(stderr, "fairvisit bench face: %s\n", fv_face_engine_errmsg(fe));
            rc = 1;
        }
        faces = list.count;
        usable = 0;
        for (int k = 0; k < list.count; k++) usable += list.faces[k].usable;
        fv_face_list_free(&list);
        fv_img_free(&img);
        if (i >= warmup && rc == 0) t[i - warmup] = now_ms() - t0;
    }
    if (rc == 0) {
        qsort(t, (size_t)runs, sizeof(double), cmp_double);
        double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2.0;
        int i90 = (int)((double)runs * 0.9);
        double p90 = t[i90 < runs ? i90 : runs - 1];
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        printf("%s: %d face(s), %d usable; median %.2f ms, p90 %.2f ms, %.1f faces/s\n", base,
               faces, usable, median, p90, faces * 1000.0 / median);
        printf("{\"image\": \"%s\", \"faces\": %d, \"usable\": %d, \"median_ms\": %.3f, "
               "\"p90_ms\": %.3f, \"faces_per_s\": %.2f}\n",
               base, faces, usable, median, p90, faces * 1000.0 / median);
    }
    fv_free(t);
    fv_wipe(file, len);
    fv_free(file);
    fv_face_engine_close(fe);
    return rc;
}
