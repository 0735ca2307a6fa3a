/*
 * test_face.c - the face pipeline on the development photos and on images changed in memory.
 *
 * Needs the models ($FV_MODELS_DIR, default the source tree's models/) and the photos
 * ($FV_FACES_DIR, default ../shared/data/faces); without them each test says so and skips.
 * Nothing is written to disk: occlusions, blur, mosaics and blank images are made in memory.
 *
 * Checks: every labelled person is found and usable (counts per image); every same-person pair
 * scores above FV_FACE_MATCH_THRESHOLD and every different-person pair below it; the partial-face
 * photos are matched to the right person or rejected with a reason, never matched to someone
 * else; a painted mask, helmet or coloured glove gives "occluded"; blur gives "blurred"; a face
 * shrunk below the usable size gives "too_small"; a face cut by the image edge gives
 * "cut_by_edge"; an image without faces gives none; a mosaic of 20 faces gives 20.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/face.h"
#include "fairvisit/img.h"
#include "test_paths.h"

static fv_face_engine *g_engine;

static int setup(void) {
    if (g_engine != NULL) return 1;
    char p[1024];
    snprintf(p, sizeof p, "%s/LABELS.csv", faces_dir());
    FILE *f = fopen(p, "r");
    if (f == NULL) return 0;
    fclose(f);
    fv_face_options opt = {.models_dir = models_dir()};
    if (fv_face_engine_open(&opt, &g_engine) != FV_OK) {
        fprintf(stderr, "  face engine: %s\n", fv_face_engine_errmsg(g_engine));
        fv_face_engine_close(g_engine);
        g_engine = NULL;
        return 0;
    }
    return 1;
}

#define NEED_DATA()                                                                                \
    do {                                                                                           \
        if (!setup())                                                                              \
            SKIP_TEST("models (%s) or face photos (%s) not found", models_dir(), faces_dir());     \
    } while (0)

static int load(const char *name, fv_image *img) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", faces_dir(), name);
    fv_img_error err;
    fv_status st = fv_img_read_file(p, NULL, img, &err);
    if (st != FV_OK) CHECK_FAIL("%s: %s", name, err.msg);
    return st == FV_OK;
}

/* ---- labels ------------------------------------------------------------------------------- */

typedef struct labelled {
    char file[128];
    char ids[4][48];
    int n_ids;
} labelled;

static int read_labels(labelled *out, int max) {
    char p[1024];
    snprintf(p, sizeof p, "%s/LABELS.csv", faces_dir());
    FILE *f = fopen(p, "r");
    if (f == NULL) return 0;
    char line[512];
    int n = 0;
    if (fgets(line, sizeof line, f) == NULL) n = 0; /* header */
    while (n < max && fgets(line, sizeof line, f) != NULL) {
        char *file = strtok(line, ",\n");
        char *ids = strtok(NULL, ",\n");
        if (file == NULL || ids == NULL) continue;
        size_t fl = strlen(file);
        if (fl > 4 && strcmp(file + fl - 4, ".mp4") == 0) continue;
        labelled *l = &out[n];
        memset(l, 0, sizeof(*l));
        snprintf(l->file, sizeof l->file, "%s", file);
        for (char *id = strtok(ids, ";"); id && l->n_ids < 4; id = strtok(NULL, ";"))
            snprintf(l->ids[l->n_ids++], sizeof l->ids[0], "%s", id);
        n++;
    }
    fclose(f);
    return n;
}

/* An identified template from the photos. */
typedef struct known {
    char file[128];
    char id[48];
    float emb[FV_FACE_EMBEDDING_DIM];
} known;

static int by_x(const void *a, const void *b) {
    const fv_face *x = *(fv_face *const *)a, *y = *(fv_face *const *)b;
    return x->box[0] < y->box[0] ? -1 : x->box[0] > y->box[0];
}

static known g_known[64];
static int g_n_known;

/* Every labelled photo: as many usable faces as labels, named left to right. */
static void test_labelled_people_found(void) {
    NEED_DATA();
    labelled labels[64];
    int n = read_labels(labels, 64);
    CHECK(n >= 20);
    g_n_known = 0;
    for (int i = 0; i < n; i++) {
        fv_image img = {0};
        if (!load(labels[i].file, &img)) continue;
        fv_face_list faces = {0};
        fv_status st = fv_face_analyze(g_engine, &img, FV_FACE_WANT_EMBEDDING, &faces);
        CHECK_INT_EQ(st, FV_OK);
        fv_face *usable[16];
        int nu = 0;
        for (int k = 0; k < faces.count && nu < 16; k++)
            if (faces.faces[k].usable) usable[nu++] = &faces.faces[k];
        int partial = strstr(labels[i].file, "partial") != NULL;
        fprintf(stderr, "  %-32s labels %d, faces %d, usable %d\n", labels[i].file, labels[i].n_ids,
                faces.count, nu);
        if (partial) {
            /* either rejected with a reason or usable; the pair test checks its identity */
            CHECK(nu <= 1);
            CHECK(faces.count >= 1);
            if (nu == 0 && faces.count >= 1) CHECK(faces.faces[0].reasons != 0);
        } else if (nu != labels[i].n_ids) {
            CHECK_FAIL("%s: %d usable faces for %d labelled people", labels[i].file, nu,
                       labels[i].n_ids);
        }
        if (nu == labels[i].n_ids) {
            qsort(usable, (size_t)nu, sizeof(usable[0]), by_x);
            for (int k = 0; k < nu && g_n_known < 64; k++) {
                known *kn = &g_known[g_n_known++];
                snprintf(kn->file, sizeof kn->file, "%s", labels[i].file);
                snprintf(kn->id, sizeof kn->id, "%s", labels[i].ids[k]);
                CHECK(usable[k]->has_embedding);
                memcpy(kn->emb, usable[k]->embedding, sizeof kn->emb);
            }
        }
        fv_face_list_free(&faces);
        fv_img_free(&img);
    }
    CHECK(g_n_known >= 25);
}

/* Same person above the threshold, different people below, on every pair. */
static void test_pairs_against_threshold(void) {
    NEED_DATA();
    if (g_n_known == 0) SKIP_TEST("no templates from the labelled photos");
    int same = 0, diff = 0;
    float min_same = 2, max_diff = -2;
    for (int i = 0; i < g_n_known; i++) {
        for (int j = i + 1; j < g_n_known; j++) {
            float s = fv_face_similarity(g_known[i].emb, g_known[j].emb);
            if (strcmp(g_known[i].id, g_known[j].id) == 0) {
                same++;
                if (s < min_same) min_same = s;
                if (!(s > FV_FACE_MATCH_THRESHOLD))
                    CHECK_FAIL("same person %s: %s vs %s scores %.3f", g_known[i].id,
                               g_known[i].file, g_known[j].file, s);
            } else {
                diff++;
                if (s > max_diff) max_diff = s;
                if (!(s < FV_FACE_MATCH_THRESHOLD))
                    CHECK_FAIL("%s (%s) vs %s (%s) scores %.3f", g_known[i].id, g_known[i].file,
                               g_known[j].id, g_known[j].file, s);
            }
        }
    }
    fprintf(stderr,
            "  %d same-person pairs (min %.3f), %d different-person pairs (max %.3f), "
            "threshold %.2f\n",
            same, min_same, diff, max_diff, FV_FACE_MATCH_THRESHOLD);
    CHECK(same >= 50 && diff >= 200);
}

/* ---- images changed in memory ------------------------------------------------------------ */

static void paint(fv_image *img, float x1, float y1, float x2, float y2, int r, int g, int b) {
    for (int y = (int)(y1 > 0 ? y1 : 0); y < (int)y2 && y < img->height; y++) {
        for (int x = (int)(x1 > 0 ? x1 : 0); x < (int)x2 && x < img->width; x++) {
            unsigned char *p = img->rgb + 3 * ((size_t)y * (size_t)img->width + (size_t)x);
            p[0] = (unsigned char)r;
            p[1] = (unsigned char)g;
            p[2] = (unsigned char)b;
        }
    }
}

/* The largest face of img after `edit`; returns its reasons (or ~0u when none was found). */
static unsigned largest_reasons(const fv_image *img, fv_face *out) {
    fv_face_list faces = {0};
    fv_status st = fv_face_analyze(g_engine, img, 0, &faces);
    CHECK_INT_EQ(st, FV_OK);
    unsigned r = faces.count > 0 ? faces.faces[0].reasons : ~0u;
    if (out && faces.count > 0) *out = faces.faces[0];
    fv_face_list_free(&faces);
    return r;
}

static void test_occlusions_rejected(void) {
    NEED_DATA();
    const char *files[2] = {"obama.jpg", "biden.jpg"};
    for (int i = 0; i < 2; i++) {
        fv_image img = {0};
        if (!load(files[i], &img)) continue;
        fv_face f;
        CHECK_INT_EQ(largest_reasons(&img, &f), 0);
        float x1 = f.box[0], y1 = f.box[1], x2 = f.box[2], y2 = f.box[3];
        float w = x2 - x1, h = y2 - y1;
        struct {
            const char *what;
            float a, b, c, d;
            int r, g, bl;
        } covers[4] = {
            {"blue mask", x1 + 0.05f * w, y1 + 0.55f * h, x2 - 0.05f * w, y2 + 0.05f * h, 150, 200,
             230},
            {"white mask", x1 + 0.05f * w, y1 + 0.55f * h, x2 - 0.05f * w, y2 + 0.05f * h, 235, 235,
             235},
            {"helmet", x1 - 0.1f * w, y1 - 0.3f * h, x2 + 0.1f * w, y1 + 0.3f * h, 40, 40, 40},
            {"gloved hand", x1 + 0.1f * w, y1 + 0.45f * h, x2 - 0.2f * w, y2, 60, 90, 160},
        };
        for (int c = 0; c < 4; c++) {
            fv_image copy = {0};
            CHECK_INT_EQ(fv_img_crop(&img, 0, 0, img.width, img.height, &copy), FV_OK);
            paint(&copy, covers[c].a, covers[c].b, covers[c].c, covers[c].d, covers[c].r,
                  covers[c].g, covers[c].bl);
            unsigned r = largest_reasons(&copy, NULL);
            if (r == ~0u) {
                fprintf(stderr, "  %s with %s: no face found (also not usable)\n", files[i],
                        covers[c].what);
            } else if (!(r & FV_FACE_REASON(OCCLUDED))) {
                CHECK_FAIL("%s with a %s: reasons 0x%x, expected occluded", files[i],
                           covers[c].what, r);
            }
            fv_img_free(&copy);
        }
        fv_img_free(&img);
    }
}

static void box_blur(fv_image *img, int r) {
    unsigned char *tmp = fv_malloc((size_t)img->width * (size_t)img->height * 3);
    CHECK(tmp != NULL);
    if (tmp == NULL) return;
    for (int pass = 0; pass < 3; pass++) {
        for (int dir = 0; dir < 2; dir++) {
            memcpy(tmp, img->rgb, (size_t)img->width * (size_t)img->height * 3);
            for (int y = 0; y < img->height; y++) {
                for (int x = 0; x < img->width; x++) {
                    for (int c = 0; c < 3; c++) {
                        int sum = 0, n = 0;
                        for (int k = -r; k <= r; k++) {
                            int xx = dir ? x : x + k, yy = dir ? y + k : y;
                            if (xx < 0 || yy < 0 || xx >= img->width || yy >= img->height) continue;
                            sum += tmp[3 * ((size_t)yy * (size_t)img->width + (size_t)xx) + c];
                            n++;
                        }
                        img->rgb[3 * ((size_t)y * (size_t)img->width + (size_t)x) + c] =
                            (unsigned char)(sum / n);
                    }
                }
            }
        }
    }
    fv_wipe(tmp, (size_t)img->width * (size_t)img->height * 3);
    fv_free(tmp);
}

static void test_blur_rejected(void) {
    NEED_DATA();
    fv_image img = {0};
    if (!load("obama.jpg", &img)) return;
    box_blur(&img, 4);
    unsigned r = largest_reasons(&img, NULL);
    CHECK(r != ~0u && (r & FV_FACE_REASON(BLURRED)));
    fv_img_free(&img);
}

static void test_small_face_rejected(void) {
    NEED_DATA();
    fv_image img = {0}, small = {0};
    if (!load("obama.jpg", &img)) return;
    /* the face is ~330 px high in an 800 px wide photo: at 1/9 it is ~37 px */
    CHECK_INT_EQ(fv_img_resize(&img, img.width / 9, img.height / 9, &small), FV_OK);
    unsigned r = largest_reasons(&small, NULL);
    CHECK(r == ~0u || (r & FV_FACE_REASON(TOO_SMALL)));
    fv_img_free(&small);
    fv_img_free(&img);
}

static void test_face_cut_by_edge(void) {
    NEED_DATA();
    fv_image img = {0}, cut = {0};
    if (!load("obama.jpg", &img)) return;
    fv_face f;
    CHECK_INT_EQ(largest_reasons(&img, &f), 0);
    /* keep the image left of the face's middle: half the face is outside */
    int keep = (int)((f.box[0] + f.box[2]) / 2);
    CHECK_INT_EQ(fv_img_crop(&img, 0, 0, keep, img.height, &cut), FV_OK);
    unsigned r = largest_reasons(&cut, NULL);
    CHECK(r == ~0u || r != 0);
    if (r != ~0u && !(r & FV_FACE_REASON(CUT)))
        fprintf(stderr, "  half face rejected as 0x%x (not cut_by_edge)\n", r);
    fv_img_free(&cut);
    fv_img_free(&img);
}

static void test_no_face(void) {
    NEED_DATA();
    fv_image img = {0};
    CHECK_INT_EQ(fv_img_alloc(640, 480, &img), FV_OK);
    for (int y = 0; y < 480; y++)
        for (int x = 0; x < 640; x++) {
            unsigned char *p = img.rgb + 3 * ((size_t)y * 640 + (size_t)x);
            p[0] = (unsigned char)(x / 3);
            p[1] = (unsigned char)(y / 2);
            p[2] = (unsigned char)((x + y) / 5);
        }
    fv_face_list faces = {0};
    CHECK_INT_EQ(fv_face_analyze(g_engine, &img, FV_FACE_WANT_EMBEDDING, &faces), FV_OK);
    CHECK_INT_EQ(faces.count, 0);
    fv_face_list_free(&faces);
    fv_img_free(&img);
}

/* 20 faces: crops of the labelled photos' faces laid out 5 x 4. */
static void test_twenty_faces(void) {
    NEED_DATA();
    const char *files[5] = {"obama.jpg", "biden.jpg", "train_rose_leslie_img1.jpg",
                            "train_alex_lacamoire_img1.jpg", "train_kit_harington_john2.jpeg"};
    const int cell = 180;
    fv_image mosaic = {0};
    CHECK_INT_EQ(fv_img_alloc(5 * cell, 4 * cell, &mosaic), FV_OK);
    memset(mosaic.rgb, 128, (size_t)mosaic.width * (size_t)mosaic.height * 3);
    for (int i = 0; i < 5; i++) {
        fv_image img = {0}, crop = {0}, tile = {0};
        if (!load(files[i], &img)) continue;
        fv_face f;
        CHECK_INT_EQ(largest_reasons(&img, &f), 0);
        float w = f.box[2] - f.box[0], h = f.box[3] - f.box[1], side = (w > h ? w : h) * 1.5f;
        int cx = (int)((f.box[0] + f.box[2]) / 2 - side / 2),
            cy = (int)((f.box[1] + f.box[3]) / 2 - side / 2);
        CHECK_INT_EQ(fv_img_crop(&img, cx, cy, (int)side, (int)side, &crop), FV_OK);
        CHECK_INT_EQ(fv_img_resize(&crop, cell - 20, cell - 20, &tile), FV_OK);
        for (int row = 0; row < 4; row++) {
            int ox = i * cell + 10, oy = row * cell + 10;
            for (int y = 0; y < tile.height; y++)
                memcpy(mosaic.rgb + 3 * ((size_t)(oy + y) * (size_t)mosaic.width + (size_t)ox),
                       tile.rgb + 3 * (size_t)y * (size_t)tile.width, 3 * (size_t)tile.width);
        }
        fv_img_free(&tile);
        fv_img_free(&crop);
        fv_img_free(&img);
    }
    fv_face_list faces = {0};
    CHECK_INT_EQ(fv_face_analyze(g_engine, &mosaic, 0, &faces), FV_OK);
    CHECK_INT_EQ(faces.count, 20);
    fv_face_list_free(&faces);
    fv_img_free(&mosaic);
}

/* Faces about 48 px high in a 1080p frame, some straddling tile borders, and a face filling the
 * whole frame: all found. */
static void test_small_and_whole_frame_faces(void) {
    NEED_DATA();
    fv_image img = {0}, crop = {0}, small = {0}, frame = {0}, whole = {0};
    if (!load("obama.jpg", &img)) return;
    fv_face f;
    CHECK_INT_EQ(largest_reasons(&img, &f), 0);
    float w = f.box[2] - f.box[0], h = f.box[3] - f.box[1];
    int side = (int)((w > h ? w : h) * 1.6f);
    int cx = (int)((f.box[0] + f.box[2]) / 2) - side / 2,
        cy = (int)((f.box[1] + f.box[3]) / 2) - side / 2;
    CHECK_INT_EQ(fv_img_crop(&img, cx, cy, side, side, &crop), FV_OK);
    /* the face is 1/1.6 of the crop: a 77 px crop holds a ~48 px face */
    CHECK_INT_EQ(fv_img_resize(&crop, 77, 77, &small), FV_OK);
    CHECK_INT_EQ(fv_img_alloc(1920, 1080, &frame), FV_OK);
    memset(frame.rgb, 110, (size_t)1920 * 1080 * 3);
    const int pos[6][2] = {{100, 100},  {560, 230},  {1000, 500},
                           {1500, 900}, {1250, 420}, {300, 760}};
    for (int k = 0; k < 6; k++)
        for (int y = 0; y < small.height; y++)
            memcpy(frame.rgb + 3 * ((size_t)(pos[k][1] + y) * 1920 + (size_t)pos[k][0]),
                   small.rgb + 3 * (size_t)y * (size_t)small.width, 3 * (size_t)small.width);
    fv_face_list faces = {0};
    CHECK_INT_EQ(fv_face_analyze(g_engine, &frame, 0, &faces), FV_OK);
    fprintf(stderr, "  1080p frame with six ~48 px faces: %d found\n", faces.count);
    CHECK_INT_EQ(faces.count, 6);
    for (int k = 0; k < faces.count; k++) {
        float fh = faces.faces[k].box[3] - faces.faces[k].box[1];
        CHECK(fh > 30 && fh < 70);
    }
    fv_face_list_free(&faces);
    /* the whole frame: the crop scaled to 1080 px high */
    CHECK_INT_EQ(fv_img_resize(&crop, 1080, 1080, &whole), FV_OK);
    CHECK_INT_EQ(fv_face_analyze(g_engine, &whole, 0, &faces), FV_OK);
    CHECK_INT_EQ(faces.count, 1);
    if (faces.count == 1) CHECK(faces.faces[0].box[3] - faces.faces[0].box[1] > 500);
    fv_face_list_free(&faces);
    fv_img_free(&whole);
    fv_img_free(&frame);
    fv_img_free(&small);
    fv_img_free(&crop);
    fv_img_free(&img);
}

static void test_reason_tables(void) {
    for (int b = 0; b < FV_FACE_REASON_COUNT; b++) {
        CHECK(fv_face_reason_code(b) != NULL && fv_face_reason_message(b) != NULL);
    }
    CHECK(fv_face_reason_code(FV_FACE_REASON_COUNT) == NULL);
    CHECK_STR_CONTAINS(fv_face_reason_message(FV_FACE_REASON_BIT_OCCLUDED), "mask");
}

static void test_missing_models(void) {
    fv_face_engine *e = NULL;
    fv_face_options opt = {.models_dir = "/nonexistent/models"};
    CHECK(fv_face_engine_open(&opt, &e) != FV_OK);
    CHECK_STR_CONTAINS(fv_face_engine_errmsg(e), "fr_detect");
    fv_face_engine_close(e);
}

int main(void) {
    RUN(test_reason_tables);
    RUN(test_missing_models);
    RUN(test_labelled_people_found);
    RUN(test_pairs_against_threshold);
    RUN(test_occlusions_rejected);
    RUN(test_blur_rejected);
    RUN(test_small_face_rejected);
    RUN(test_face_cut_by_edge);
    RUN(test_no_face);
    RUN(test_twenty_faces);
    RUN(test_small_and_whole_frame_faces);
    fv_face_engine_close(g_engine);
    return check_summary();
}
