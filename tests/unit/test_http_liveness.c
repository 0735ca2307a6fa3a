/*
 * test_http_liveness.c - the liveness state machine of the kiosk's face path (src/http/
 * liveness.c) on synthetic frames: faces built by hand with 68 landmarks whose eyes open and
 * shut, a yaw, a box, usable flags and unit-vector "embeddings" (random, never face data).
 * Checks: a blink passes and hands out the most frontal embedding, no blink never passes, a turn
 * the wrong way does not pass (the right way then does), a second face of similar size or a
 * different face restarts the check, a frame with no face restarts it, checks expire after two
 * minutes, answer only to their owner and project, the table holds 64 and frees slots on end and
 * expiry, too many frames end a check. On the real models (skipped without them): the eye
 * aspect ratio of open eyes in the development photos is in the range the check expects, a still
 * photo shown again and again stays at the action stage, eyes narrowed by a quarter are no blink,
 * and the photo's own landmarks with the eyes pulled shut, then open again, pass.
 *
 * The sweeper thread (server tables) wipes a check when it expires on the system clock, with no
 * call coming, and stops with the table.
 * Threading: single-threaded but for the sweeper of test_sweeper.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "check.h"
#include "fairvisit/face.h"
#include "fairvisit/img.h"
#include "http-impl.h"
#include "test_paths.h"

#define DIM FV_FACE_EMBEDDING_DIM

static const char CONSENT[] = "0123456789abcdef0123456789abcdef";
static const int64_t T0 = 1700000000000;
static float person_a[DIM], person_b[DIM];

static void random_unit(float *v, uint32_t seed) {
    uint64_t s = seed * 2654435761u + 1;
    double n = 0;
    for (int i = 0; i < DIM; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(s >> 11) / (double)(1ull << 53) - 0.5);
        n += (double)v[i] * v[i];
    }
    for (int i = 0; i < DIM; i++) v[i] = (float)(v[i] / sqrt(n));
}

/* Six eye points (p1..p6) at centre (cx, cy), width w, opening ratio ear. */
static void eye(float p[68][2], int b, float cx, float cy, float w, float ear) {
    float h = ear * w; /* (|p2-p6| + |p3-p5|) / (2 w) = h / w */
    p[b + 0][0] = cx - w / 2, p[b + 0][1] = cy;
    p[b + 1][0] = cx - w / 6, p[b + 1][1] = cy - h / 2;
    p[b + 2][0] = cx + w / 6, p[b + 2][1] = cy - h / 2;
    p[b + 3][0] = cx + w / 2, p[b + 3][1] = cy;
    p[b + 4][0] = cx + w / 6, p[b + 4][1] = cy + h / 2;
    p[b + 5][0] = cx - w / 6, p[b + 5][1] = cy + h / 2;
}

typedef struct spec {
    float ear, yaw;
    int usable;
    const float *who; /* embedding (usable faces), NULL: none */
    float x, size;    /* box left and height (0: 100, 100) */
} spec;

static fv_face make(spec s) {
    fv_face f;
    memset(&f, 0, sizeof f);
    float x = s.x != 0 ? s.x : 100, h = s.size != 0 ? s.size : 100;
    f.box[0] = x, f.box[1] = 100, f.box[2] = x + h * 0.8f, f.box[3] = 100 + h;
    f.score = 0.99f;
    eye(f.landmarks68, 36, x + h * 0.25f, 140, h * 0.2f, s.ear);
    eye(f.landmarks68, 42, x + h * 0.55f, 140, h * 0.2f, s.ear);
    f.quality.yaw = s.yaw;
    f.quality.size_px = h;
    f.usable = s.usable;
    f.liveness = s.usable ? 0.99f : 0.5f;
    if (!s.usable)
        f.reasons = fabsf(s.yaw) > 0.35f ? FV_FACE_REASON(POSE) : FV_FACE_REASON(NOT_LIVE);
    if (s.usable && s.who != NULL) {
        memcpy(f.embedding, s.who, sizeof f.embedding);
        f.has_embedding = 1;
    }
    return f;
}

static fv__liveness_table *T;

static void start(fv__liveness_challenge ch, char id[FV_LEDGER_ID_CHARS]) {
    int64_t exp = 0;
    CHECK_INT_EQ(fv__liveness_start(T, 7, 42, CONSENT, ch, T0, id, &exp), FV_OK);
    CHECK_INT_EQ(strlen(id), 32);
    CHECK_INT_EQ(exp, T0 + FV__LIVENESS_TTL_MS);
}

/* Feeds one face; returns the stage. */
static fv__liveness_stage feed(const char *id, spec s, int64_t t, fv__liveness_reply *rep) {
    fv__liveness_reply tmp;
    if (rep == NULL) rep = &tmp;
    fv_face f = make(s);
    fv_status st = fv__liveness_frame(T, id, 42, &f, 1, t, rep);
    CHECK_INT_EQ(st, FV_OK);
    return rep->stage;
}

static const spec OPEN = {.ear = 0.30f, .yaw = 0.02f, .usable = 1, .who = person_a};
static const spec OPEN_SIDE = {.ear = 0.30f, .yaw = 0.12f, .usable = 1, .who = person_a};
static const spec SHUT = {.ear = 0.08f, .yaw = 0.02f, .usable = 0};

static void test_eye_ratio(void) {
    fv_face f = make((spec){.ear = 0.31f, .usable = 1});
    CHECK_NEAR(fv__liveness_eye_ratio(&f), 0.31, 1e-4);
    f = make((spec){.ear = 0.05f});
    CHECK_NEAR(fv__liveness_eye_ratio(&f), 0.05, 1e-4);
    memset(f.landmarks68, 0, sizeof f.landmarks68); /* degenerate: no width */
    CHECK_NEAR(fv__liveness_eye_ratio(&f), 0.0, 1e-9);
}

static void test_blink_passes(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    fv__liveness_reply rep;
    float emb[DIM];
    char consent[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(feed(id, OPEN_SIDE, T0 + 100, &rep), FV__LIVENESS_STAGE_ACTION);
    CHECK(rep.face && rep.usable && !rep.several_faces && !rep.face_changed);
    CHECK_NEAR(rep.progress, 1.0 / 3, 1e-9);
    CHECK_INT_EQ(rep.challenge, FV__LIVENESS_BLINK);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 150, emb, consent), FV_ERR_STATE);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 200, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, SHUT, T0 + 300, &rep), FV__LIVENESS_STAGE_FINISH);
    CHECK(rep.face && !rep.usable);
    CHECK_NEAR(rep.progress, 2.0 / 3, 1e-9);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 400, &rep), FV__LIVENESS_STAGE_PASSED);
    CHECK_NEAR(rep.progress, 1.0, 1e-9);
    /* a passed check stays passed whatever comes next */
    CHECK_INT_EQ(feed(id, SHUT, T0 + 450, NULL), FV__LIVENESS_STAGE_PASSED);
    int64_t project = 0;
    fv__liveness_stage stage = FV__LIVENESS_STAGE_START;
    CHECK_INT_EQ(fv__liveness_info(T, id, 42, T0 + 460, &project, consent, &stage), FV_OK);
    CHECK_INT_EQ(project, 7);
    CHECK_INT_EQ(stage, FV__LIVENESS_STAGE_PASSED);
    CHECK(strcmp(consent, CONSENT) == 0);
    /* of another project or user: as if unknown */
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 8, T0 + 470, emb, consent), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 43, 7, T0 + 470, emb, consent), FV_ERR_NOT_FOUND);
    memset(consent, 0, sizeof consent);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 500, emb, consent), FV_OK);
    CHECK(memcmp(emb, person_a, sizeof emb) == 0);
    CHECK(strcmp(consent, CONSENT) == 0);
    fv__liveness_end(T, id);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 600, emb, consent), FV_ERR_NOT_FOUND);
    sodium_memzero(emb, sizeof emb);
}

/* The embedding handed out is the most frontal usable one of the check. */
static void test_most_frontal_kept(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    float a2[DIM], emb[DIM];
    char consent[FV_LEDGER_ID_CHARS];
    /* the same person, a slightly different template (still well above the threshold) */
    for (int i = 0; i < DIM; i++) a2[i] = person_a[i];
    a2[0] += 0.05f;
    double n = 0;
    for (int i = 0; i < DIM; i++) n += (double)a2[i] * a2[i];
    for (int i = 0; i < DIM; i++) a2[i] = (float)(a2[i] / sqrt(n));
    feed(id, OPEN_SIDE, T0 + 1, NULL);
    feed(id, (spec){.ear = 0.3f, .yaw = -0.01f, .usable = 1, .who = a2}, T0 + 2, NULL);
    feed(id, OPEN_SIDE, T0 + 3, NULL);
    feed(id, SHUT, T0 + 4, NULL);
    CHECK_INT_EQ(feed(id, OPEN_SIDE, T0 + 5, NULL), FV__LIVENESS_STAGE_PASSED);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 6, emb, consent), FV_OK);
    CHECK(memcmp(emb, a2, sizeof emb) == 0);
    fv__liveness_end(T, id);
}

static void test_no_blink_never_passes(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    fv__liveness_reply rep;
    for (int i = 0; i < 50; i++) {
        /* eyes narrowing a little (0.30 -> 0.23) is not a blink */
        spec s = OPEN;
        s.ear = 0.30f - 0.07f * (float)(i % 10) / 9;
        CHECK(feed(id, s, T0 + i, &rep) == FV__LIVENESS_STAGE_ACTION);
    }
    /* nor is a shut-eyed frame that is cut by the edge (not in the frame to judge) */
    fv_face f = make(SHUT);
    f.reasons |= FV_FACE_REASON(CUT);
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &f, 1, T0 + 60, &rep), FV_OK);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_ACTION);
    /* a start with shut eyes does not count as the eyes-open start */
    char id2[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id2);
    spec shut_usable = OPEN;
    shut_usable.ear = 0.1f;
    CHECK_INT_EQ(feed(id2, shut_usable, T0 + 1, NULL), FV__LIVENESS_STAGE_START);
    CHECK_INT_EQ(feed(id2, shut_usable, T0 + 2, NULL), FV__LIVENESS_STAGE_START);
    /* a frame without a usable face never starts it either */
    spec unusable = OPEN;
    unusable.usable = 0;
    CHECK_INT_EQ(feed(id2, unusable, T0 + 3, NULL), FV__LIVENESS_STAGE_START);
    /* nor a turned face */
    spec turned = OPEN;
    turned.yaw = 0.3f;
    CHECK_INT_EQ(feed(id2, turned, T0 + 4, NULL), FV__LIVENESS_STAGE_START);
    float emb[DIM];
    char consent[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 70, emb, consent), FV_ERR_STATE);
    fv__liveness_end(T, id);
    fv__liveness_end(T, id2);
}

static void test_turn(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_TURN_LEFT, id);
    spec right = {.ear = 0.3f, .yaw = -0.30f, .usable = 1, .who = person_a};
    spec far_right = {.ear = 0.3f, .yaw = -0.45f, .usable = 0};
    spec left = {.ear = 0.3f, .yaw = 0.30f, .usable = 1, .who = person_a};
    spec far_left = {.ear = 0.3f, .yaw = 0.45f, .usable = 0};
    spec half_left = {.ear = 0.3f, .yaw = 0.2f, .usable = 1, .who = person_a};
    CHECK_INT_EQ(feed(id, OPEN, T0 + 1, NULL), FV__LIVENESS_STAGE_ACTION);
    /* the wrong way, however far, and back: not passed */
    CHECK_INT_EQ(feed(id, right, T0 + 2, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, far_right, T0 + 3, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 4, NULL), FV__LIVENESS_STAGE_ACTION);
    /* not far enough the right way */
    CHECK_INT_EQ(feed(id, half_left, T0 + 5, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 6, NULL), FV__LIVENESS_STAGE_ACTION);
    /* a blink is not a turn */
    CHECK_INT_EQ(feed(id, SHUT, T0 + 7, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 8, NULL), FV__LIVENESS_STAGE_ACTION);
    float emb[DIM];
    char consent[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 9, emb, consent), FV_ERR_STATE);
    /* the asked way (the pose gate may fail while turned), then usable again: passed */
    CHECK_INT_EQ(feed(id, far_left, T0 + 10, NULL), FV__LIVENESS_STAGE_FINISH);
    CHECK_INT_EQ(feed(id, far_left, T0 + 11, NULL), FV__LIVENESS_STAGE_FINISH);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 12, NULL), FV__LIVENESS_STAGE_PASSED);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 13, emb, consent), FV_OK);
    fv__liveness_end(T, id);

    /* turn_right mirrors it; a usable turned frame counts too */
    start(FV__LIVENESS_TURN_RIGHT, id);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 1, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, left, T0 + 2, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, right, T0 + 3, NULL), FV__LIVENESS_STAGE_FINISH);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 4, NULL), FV__LIVENESS_STAGE_PASSED);
    fv__liveness_end(T, id);

    /* no frontal start: turning from the side does not count */
    start(FV__LIVENESS_TURN_LEFT, id);
    CHECK_INT_EQ(feed(id, half_left, T0 + 1, NULL), FV__LIVENESS_STAGE_START);
    CHECK_INT_EQ(feed(id, far_left, T0 + 2, NULL), FV__LIVENESS_STAGE_START);
    CHECK_INT_EQ(feed(id, half_left, T0 + 3, NULL), FV__LIVENESS_STAGE_START);
    fv__liveness_end(T, id);
    sodium_memzero(emb, sizeof emb);
}

static void test_several_faces(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    fv__liveness_reply rep;
    CHECK_INT_EQ(feed(id, OPEN, T0 + 1, NULL), FV__LIVENESS_STAGE_ACTION);
    fv_face two[2] = {
        make(OPEN), make((spec){.ear = 0.3f, .usable = 1, .who = person_b, .x = 400, .size = 70})};
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, two, 2, T0 + 2, &rep), FV_OK);
    CHECK(rep.several_faces);
    CHECK(!rep.usable);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_START);
    /* a small face in the background (under 60% of the height) does not matter */
    two[1] = make((spec){.ear = 0.3f, .usable = 1, .who = person_b, .x = 400, .size = 50});
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, two, 2, T0 + 3, &rep), FV_OK);
    CHECK(!rep.several_faces);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_ACTION);
    /* nor does a big one that is not usable (turned away) */
    two[1] = make((spec){.ear = 0.3f, .yaw = 0.5f, .usable = 0, .x = 400, .size = 100});
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, two, 2, T0 + 4, &rep), FV_OK);
    CHECK(!rep.several_faces);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_ACTION);
    /* a second usable face during the blink resets it */
    feed(id, SHUT, T0 + 5, NULL);
    two[0] = make(OPEN);
    two[1] = make((spec){.ear = 0.3f, .usable = 1, .who = person_b, .x = 400, .size = 90});
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, two, 2, T0 + 6, &rep), FV_OK);
    CHECK(rep.several_faces);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_START);
    fv__liveness_end(T, id);
}

static void test_face_changed(void) {
    char id[FV_LEDGER_ID_CHARS];
    fv__liveness_reply rep;
    float emb[DIM];
    char consent[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    /* person A starts and blinks, person B (same place) finishes: starts over as B */
    CHECK_INT_EQ(feed(id, OPEN, T0 + 1, NULL), FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, SHUT, T0 + 2, NULL), FV__LIVENESS_STAGE_FINISH);
    spec b = OPEN;
    b.who = person_b;
    CHECK_INT_EQ(feed(id, b, T0 + 3, &rep), FV__LIVENESS_STAGE_ACTION);
    CHECK(rep.face_changed);
    /* B blinks: passes, and the template is B's */
    CHECK_INT_EQ(feed(id, SHUT, T0 + 4, NULL), FV__LIVENESS_STAGE_FINISH);
    CHECK_INT_EQ(feed(id, b, T0 + 5, &rep), FV__LIVENESS_STAGE_PASSED);
    CHECK(!rep.face_changed);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 6, emb, consent), FV_OK);
    CHECK(memcmp(emb, person_b, sizeof emb) == 0);
    fv__liveness_end(T, id);

    /* the face jumps across the image between frames: a new face */
    start(FV__LIVENESS_BLINK, id);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 1, NULL), FV__LIVENESS_STAGE_ACTION);
    spec moved = SHUT;
    moved.x = 400;
    CHECK_INT_EQ(feed(id, moved, T0 + 2, &rep), FV__LIVENESS_STAGE_START);
    CHECK(rep.face_changed);
    /* small moves are fine */
    CHECK_INT_EQ(
        feed(id, (spec){.ear = 0.3f, .usable = 1, .who = person_a, .x = 410}, T0 + 3, NULL),
        FV__LIVENESS_STAGE_ACTION);
    CHECK_INT_EQ(feed(id, (spec){.ear = 0.1f, .x = 430, .size = 110}, T0 + 4, NULL),
                 FV__LIVENESS_STAGE_FINISH);
    /* the face leaves the frame: starts over */
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, NULL, 0, T0 + 5, &rep), FV_OK);
    CHECK(!rep.face);
    CHECK(rep.face_changed);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_START);
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 6, emb, consent), FV_ERR_STATE);
    fv__liveness_end(T, id);
    sodium_memzero(emb, sizeof emb);
}

static void test_expiry_and_owner(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    fv__liveness_reply rep;
    fv_face f = make(OPEN);
    /* another user's frames are refused as if the id were unknown */
    CHECK_INT_EQ(fv__liveness_frame(T, id, 43, &f, 1, T0 + 1, &rep), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_info(T, id, 43, T0 + 1, NULL, NULL, NULL), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_info(T, "nope", 42, T0 + 1, NULL, NULL, NULL), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &f, 1, T0 + FV__LIVENESS_TTL_MS - 1, &rep), FV_OK);
    CHECK_INT_EQ(rep.expires_ms, T0 + FV__LIVENESS_TTL_MS);
    /* two minutes after the start it is gone, passed or not */
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &f, 1, T0 + FV__LIVENESS_TTL_MS, &rep),
                 FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_info(T, id, 42, T0 + FV__LIVENESS_TTL_MS, NULL, NULL, NULL),
                 FV_ERR_NOT_FOUND);
    start(FV__LIVENESS_BLINK, id);
    feed(id, OPEN, T0 + 1, NULL);
    feed(id, SHUT, T0 + 2, NULL);
    CHECK_INT_EQ(feed(id, OPEN, T0 + 3, NULL), FV__LIVENESS_STAGE_PASSED);
    float emb[DIM];
    char consent[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + FV__LIVENESS_TTL_MS, emb, consent),
                 FV_ERR_NOT_FOUND);
}

static void test_table_full(void) {
    char ids[FV__LIVENESS_MAX][FV_LEDGER_ID_CHARS], extra[FV_LEDGER_ID_CHARS];
    int64_t exp = 0;
    for (int i = 0; i < FV__LIVENESS_MAX; i++)
        CHECK_INT_EQ(
            fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_BLINK, T0 + i, ids[i], &exp), FV_OK);
    for (int i = 1; i < FV__LIVENESS_MAX; i++) CHECK(strcmp(ids[i], ids[0]) != 0);
    CHECK_INT_EQ(fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_BLINK, T0 + 100, extra, &exp),
                 FV_ERR_LIMIT);
    CHECK_INT_EQ(extra[0], '\0');
    /* ending one frees its slot */
    fv__liveness_end(T, ids[5]);
    CHECK_INT_EQ(fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_BLINK, T0 + 100, extra, &exp),
                 FV_OK);
    CHECK_INT_EQ(fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_BLINK, T0 + 100, extra, &exp),
                 FV_ERR_LIMIT);
    /* expiry frees them all (the first ones first) */
    CHECK_INT_EQ(fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_BLINK,
                                    T0 + FV__LIVENESS_TTL_MS + 1, extra, &exp),
                 FV_OK);
    CHECK_INT_EQ(fv__liveness_info(T, ids[0], 42, T0 + FV__LIVENESS_TTL_MS + 1, NULL, NULL, NULL),
                 FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_info(T, ids[3], 42, T0 + FV__LIVENESS_TTL_MS + 1, NULL, NULL, NULL),
                 FV_OK);
    int ok = 0;
    for (int i = 0; i < FV__LIVENESS_MAX + 4; i++) {
        char id[FV_LEDGER_ID_CHARS];
        if (fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_BLINK, T0 + 3 * FV__LIVENESS_TTL_MS,
                               id, &exp) == FV_OK)
            ok++;
    }
    CHECK_INT_EQ(ok, FV__LIVENESS_MAX); /* every earlier check has expired by then */
    /* bad arguments */
    CHECK_INT_EQ(fv__liveness_start(T, 7, 42, NULL, FV__LIVENESS_BLINK, T0, extra, &exp),
                 FV_ERR_ARG);
    CHECK_INT_EQ(
        fv__liveness_start(T, 7, 42, CONSENT, FV__LIVENESS_CHALLENGE_COUNT, T0, extra, &exp),
        FV_ERR_ARG);
    /* a fresh table for the tests after this one */
    fv__liveness_free(T);
    CHECK_INT_EQ(fv__liveness_new(&T), FV_OK);
}

static void test_too_many_frames(void) {
    char id[FV_LEDGER_ID_CHARS];
    start(FV__LIVENESS_BLINK, id);
    fv__liveness_reply rep;
    fv_face f = make(OPEN);
    for (int i = 0; i < FV__LIVENESS_MAX_FRAMES; i++)
        CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &f, 1, T0 + 1, &rep), FV_OK);
    CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &f, 1, T0 + 2, &rep), FV_ERR_LIMIT);
    CHECK_INT_EQ(fv__liveness_info(T, id, 42, T0 + 3, NULL, NULL, NULL), FV_ERR_NOT_FOUND);
}

static void test_sweeper(void) {
    fv__liveness_table *s = NULL;
    CHECK_INT_EQ(fv__liveness_new(&s), FV_OK);
    CHECK_INT_EQ(fv__liveness_sweep_start(s), FV_OK);
    CHECK_INT_EQ(fv__liveness_sweep_start(s), FV_OK); /* once is enough; twice is harmless */
    int64_t now = fv__http_now(), past = now - FV__LIVENESS_TTL_MS;
    char soon[FV_LEDGER_ID_CHARS], later[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv__liveness_start(s, 7, 42, CONSENT, FV__LIVENESS_BLINK, past + 150, soon, NULL),
                 FV_OK);
    CHECK_INT_EQ(fv__liveness_start(s, 7, 42, CONSENT, FV__LIVENESS_BLINK, now, later, NULL),
                 FV_OK);
    fv_face f = make(OPEN);
    fv__liveness_reply rep;
    CHECK_INT_EQ(fv__liveness_frame(s, soon, 42, &f, 1, past + 160, &rep), FV_OK);
    CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_ACTION); /* a template is held */
    struct timespec nap = {0, 600 * 1000 * 1000};
    nanosleep(&nap, NULL);
    /* asked with a clock at which both would still be live: the sweeper took the expired one */
    CHECK_INT_EQ(fv__liveness_info(s, soon, 42, past + 200, NULL, NULL, NULL), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv__liveness_info(s, later, 42, past + 200, NULL, NULL, NULL), FV_OK);
    fv__liveness_free(s); /* stops the sweeper with a check still live */
}

static void test_names(void) {
    CHECK(strcmp(fv__liveness_challenge_name(FV__LIVENESS_BLINK), "blink") == 0);
    CHECK(strcmp(fv__liveness_challenge_name(FV__LIVENESS_TURN_LEFT), "turn_left") == 0);
    CHECK(strcmp(fv__liveness_challenge_name(FV__LIVENESS_TURN_RIGHT), "turn_right") == 0);
    CHECK(strcmp(fv__liveness_stage_name(FV__LIVENESS_STAGE_PASSED), "passed") == 0);
}

/* The eyes of a real face shut by hand: landmarks 36-47 pulled to their eye's mid line. */
static void shut_eyes(fv_face *f, float keep) {
    for (int b = 36; b <= 42; b += 6) {
        float cy = 0;
        for (int i = 0; i < 6; i++) cy += f->landmarks68[b + i][1] / 6;
        for (int i = 0; i < 6; i++)
            f->landmarks68[b + i][1] = cy + (f->landmarks68[b + i][1] - cy) * keep;
    }
}

/* The real landmark model on the development photos: open eyes measure between the start
 * minimum and 0.6; the same photo shown again and again stays at the action stage; its eyes shut
 * by hand (the real landmarks, pulled together) and opened again pass. */
static void test_real_photos(void) {
    static const char *const PHOTOS[] = {"obama.jpg", "obama-240p.jpg", "biden.jpg",
                                         "test_alex_lacamoire1.jpg", "train_rose_leslie_img1.jpg"};
    fv_face_options o = {.models_dir = models_dir()};
    fv_face_engine *e = NULL;
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/fr_detect.onnx", o.models_dir);
    FILE *pf = fopen(probe, "rb");
    if (pf == NULL) SKIP_TEST("no models in %s", o.models_dir);
    fclose(pf);
    if (fv_face_engine_open(&o, &e) != FV_OK) {
        fv_face_engine_close(e);
        SKIP_TEST("the face engine does not open");
    }
    int seen = 0;
    for (size_t k = 0; k < sizeof PHOTOS / sizeof PHOTOS[0]; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", faces_dir(), PHOTOS[k]);
        fv_image img = {0};
        if (fv_img_read_file(path, NULL, &img, NULL) != FV_OK) continue;
        fv_face_list faces = {0};
        CHECK_INT_EQ(fv_face_analyze(e, &img, FV_FACE_WANT_EMBEDDING, &faces), FV_OK);
        fv_img_free(&img);
        if (faces.count < 1 || !faces.faces[0].usable ||
            fabsf(faces.faces[0].quality.yaw) > 0.15f) {
            fv_face_list_free(&faces);
            continue;
        }
        seen++;
        fv_face *f = &faces.faces[0];
        float ear = fv__liveness_eye_ratio(f);
        fprintf(stderr, "  %s: eye ratio %.3f, yaw %.3f\n", PHOTOS[k], ear, f->quality.yaw);
        CHECK(ear >= 0.12f);
        CHECK(ear < 0.6f);
        char id[FV_LEDGER_ID_CHARS];
        start(FV__LIVENESS_BLINK, id);
        fv__liveness_reply rep;
        for (int i = 0; i < 5; i++)
            CHECK_INT_EQ(fv__liveness_frame(T, id, 42, f, 1, T0 + i, &rep), FV_OK);
        CHECK(rep.usable);
        CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_ACTION);
        fv_face shut = *f;
        shut_eyes(&shut, 0.75f); /* narrowed by a quarter: not a blink */
        CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &shut, 1, T0 + 10, &rep), FV_OK);
        CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_ACTION);
        shut = *f;
        shut_eyes(&shut, 0.3f);
        shut.usable = 0;
        shut.has_embedding = 0;
        shut.reasons = FV_FACE_REASON(NOT_LIVE);
        CHECK_INT_EQ(fv__liveness_frame(T, id, 42, &shut, 1, T0 + 11, &rep), FV_OK);
        CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_FINISH);
        CHECK_INT_EQ(fv__liveness_frame(T, id, 42, f, 1, T0 + 12, &rep), FV_OK);
        CHECK_INT_EQ(rep.stage, FV__LIVENESS_STAGE_PASSED);
        float emb[DIM];
        char consent[FV_LEDGER_ID_CHARS];
        CHECK_INT_EQ(fv__liveness_embedding(T, id, 42, 7, T0 + 13, emb, consent), FV_OK);
        CHECK(memcmp(emb, f->embedding, sizeof emb) == 0);
        sodium_memzero(emb, sizeof emb);
        sodium_memzero(&shut, sizeof shut);
        fv__liveness_end(T, id);
        fv_face_list_free(&faces);
    }
    fv_face_engine_close(e);
    if (seen == 0) SKIP_TEST("no development photos in %s", faces_dir());
}

int main(void) {
    if (sodium_init() < 0) return 1;
    random_unit(person_a, 1);
    random_unit(person_b, 2);
    if (fv__liveness_new(&T) != FV_OK) return 1;
    RUN(test_names);
    RUN(test_eye_ratio);
    RUN(test_blink_passes);
    RUN(test_most_frontal_kept);
    RUN(test_no_blink_never_passes);
    RUN(test_turn);
    RUN(test_several_faces);
    RUN(test_face_changed);
    RUN(test_expiry_and_owner);
    RUN(test_table_full);
    RUN(test_too_many_frames);
    RUN(test_sweeper);
    RUN(test_real_photos);
    fv__liveness_free(T);
    return check_summary();
}
