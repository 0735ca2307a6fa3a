/*
 * test_face_reference.c - the face pipeline against the ONNX Runtime reference pipeline.
 *
 * tests/fixtures/face/reference-embeddings.fvt holds, for every face tools/ref-pipeline found in
 * the development photos, its box, liveness and 512-d embedding (`<stem>#<k>:box`, `:liveness`,
 * `:embedding`). Here fv_face_analyze runs on every photo (*.jpg, *.jpeg, *.png); each fixture face
 * must be found again (box IoU >= 0.5, no face of ours left over), and for every usable face the
 * cosine between our embedding and the reference's must be >= 0.999 (liveness within 0.01).
 * Models come from $FV_MODELS_DIR (default: the source tree's models/), photos from $FV_FACES_DIR
 * (default: FV_FACES_DIR_DEFAULT); without either the test says so and skips. Photos are decoded
 * in memory only.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/face.h"
#include "fairvisit/img.h"
#include "fvt.h"
#include "test_paths.h"

#define MIN_COSINE    0.999
#define MIN_IOU       0.5
#define MAX_LIVE_DIFF 0.01
#define MAX_IMAGES    256

static int have_models(void) {
    char p[1024];
    snprintf(p, sizeof p, "%s/fr_feature.onnx", models_dir());
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static int is_dev_image(const char *name) {
    const char *dot = strrchr(name, '.');
    if (dot == NULL || name[0] == '.') return 0;
    char ext[8] = {0};
    for (size_t i = 0; i + 1 < sizeof ext && dot[1 + i]; i++)
        ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    return strcmp(ext, "jpg") == 0 || strcmp(ext, "jpeg") == 0 || strcmp(ext, "png") == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static double iou(const float *a, const float *b) {
    double ix = fmin(a[2], b[2]) - fmax(a[0], b[0]);
    double iy = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (ix <= 0 || iy <= 0) return 0.0;
    double inter = ix * iy;
    double ua = ((double)a[2] - a[0]) * ((double)a[3] - a[1]);
    double ub = ((double)b[2] - b[0]) * ((double)b[3] - b[1]);
    return inter / (ua + ub - inter);
}

static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

/* The fixture's tensor `<stem>#<k>:<what>` with `numel` floats, or NULL. */
static const float *fixture_get(const fvt_file *fx, const char *stem, int k, const char *what,
                                size_t numel) {
    char name[160];
    snprintf(name, sizeof name, "%s#%d:%s", stem, k, what);
    const fvt_tensor *t = fvt_get(fx, name);
    if (t == NULL) return NULL;
    if (t->dtype != 1 || t->numel != numel) {
        CHECK_FAIL("fixture tensor %s has dtype %d and %zu values, expected float32 x %zu", name,
                   t->dtype, t->numel, numel);
        return NULL;
    }
    return t->data;
}

/* Runs one photo and checks it against the fixture; returns its number of fixture faces. */
static int check_image(fv_face_engine *fe, const fvt_file *fx, const char *dir, const char *file,
                       int *checked, double *min_cos) {
    char path[1024], stem[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(stem, sizeof stem, "%s", file);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = '\0';
    fv_image img = {0};
    fv_img_error err;
    fv_status st = fv_img_read_file(path, NULL, &img, &err);
    if (st != FV_OK) {
        CHECK_FAIL("%s: cannot decode: %s", file, err.msg);
        return 0;
    }
    fv_face_list list = {0};
    st = fv_face_analyze(fe, &img, FV_FACE_WANT_EMBEDDING, &list);
    fv_img_free(&img);
    if (st != FV_OK) {
        CHECK_FAIL("%s: fv_face_analyze: %s", file, fv_face_engine_errmsg(fe));
        return 0;
    }
    int taken[64] = {0};
    int k = 0;
    for (;; k++) {
        const float *box = fixture_get(fx, stem, k, "box", 4);
        if (box == NULL) break;
        const float *emb = fixture_get(fx, stem, k, "embedding", FV_FACE_EMBEDDING_DIM);
        const float *live = fixture_get(fx, stem, k, "liveness", 1);
        int best = -1;
        double best_iou = MIN_IOU;
        for (int i = 0; i < list.count && i < 64; i++) {
            double v = iou(box, list.faces[i].box);
            if (!taken[i] && v >= best_iou) {
                best = i;
                best_iou = v;
            }
        }
        if (best < 0) {
            CHECK_FAIL("%s: reference face %d (box %.1f %.1f %.1f %.1f) not found", file, k,
                       (double)box[0], (double)box[1], (double)box[2], (double)box[3]);
            continue;
        }
        taken[best] = 1;
        const fv_face *f = &list.faces[best];
        if (live != NULL && !(fabs((double)f->liveness - live[0]) <= MAX_LIVE_DIFF))
            CHECK_FAIL("%s#%d: liveness %.4f, reference %.4f", file, k, (double)f->liveness,
                       (double)live[0]);
        if (!f->has_embedding) {
            fprintf(stderr, "  %-32s #%d  IoU %.4f  not usable (no embedding to compare)\n", file,
                    k, best_iou);
            continue;
        }
        if (emb == NULL) {
            CHECK_FAIL("%s#%d: the fixture has no embedding", file, k);
            continue;
        }
        double c = cosine(f->embedding, emb, FV_FACE_EMBEDDING_DIM);
        fprintf(stderr, "  %-32s #%d  IoU %.4f  cosine %.6f\n", file, k, best_iou, c);
        if (!(c >= MIN_COSINE))
            CHECK_FAIL("%s#%d: cosine %.6f with the reference embedding, below %.3f", file, k, c,
                       MIN_COSINE);
        if (c < *min_cos) *min_cos = c;
        (*checked)++;
    }
    for (int i = 0; i < list.count; i++)
        if (i >= 64 || !taken[i])
            CHECK_FAIL("%s: face at %.1f %.1f %.1f %.1f is not in the reference", file,
                       (double)list.faces[i].box[0], (double)list.faces[i].box[1],
                       (double)list.faces[i].box[2], (double)list.faces[i].box[3]);
    fv_face_list_free(&list);
    return k;
}

static void test_embeddings_match_reference(void) {
    if (!have_models()) SKIP_TEST("models not found in %s (run tools/fetch-models)", models_dir());
    const char *dir = faces_dir();
    DIR *d = opendir(dir);
    if (d == NULL) SKIP_TEST("face photo folder %s not found (set FV_FACES_DIR)", dir);
    char *names[MAX_IMAGES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_IMAGES)
        if (is_dev_image(e->d_name)) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);

    char fixture[1024];
    snprintf(fixture, sizeof fixture, "%s/face/reference-embeddings.fvt", FV_FIXTURES_DIR);
    fvt_file fx;
    if (fvt_read(fixture, &fx) != 0) {
        CHECK_FAIL("cannot read %s (regenerate: node tools/ref-pipeline --fixture %s)", fixture,
                   fixture);
        for (int i = 0; i < n; i++) free(names[i]);
        return;
    }
    fv_face_options opt = {.models_dir = models_dir()};
    fv_face_engine *fe = NULL;
    if (fv_face_engine_open(&opt, &fe) != FV_OK) {
        CHECK_FAIL("fv_face_engine_open: %s", fv_face_engine_errmsg(fe));
    } else {
        int faces = 0, checked = 0;
        double min_cos = 1.0;
        for (int i = 0; i < n; i++)
            faces += check_image(fe, &fx, dir, names[i], &checked, &min_cos);
        /* three tensors per face: every fixture face belongs to a photo that is still there */
        CHECK_INT_EQ(faces * 3, fx.count);
        CHECK(checked > 0);
        fprintf(stderr,
                "  %d photos, %d reference faces, %d embeddings compared, min cosine %.6f\n", n,
                faces, checked, min_cos);
    }
    fv_face_engine_close(fe);
    fvt_free(&fx);
    for (int i = 0; i < n; i++) free(names[i]);
}

int main(void) {
    RUN(test_embeddings_match_reference);
    return check_summary();
}
