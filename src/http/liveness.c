/*
 * liveness.c - the cooperative liveness step of a face check-in (PRODUCT.md §5): a blink or a
 * head turn, judged from the landmarks across frames, on top of the single-frame anti-spoof model
 * (whose verdict is part of a face's `usable`), because single-frame models are fooled by phone
 * screens.
 *
 * A check lives in a small fixed table (FV__LIVENESS_MAX entries, 2 minutes each) and walks
 * through stages:
 *   start   a usable frontal face (|yaw| <= 0.15; for a blink, eyes open: the eye aspect ratio
 *           of landmarks 36-41 and 42-47 at least 0.12, which becomes the open level) -> action
 *   action  blink: the eye aspect ratio falls below 70% of the open level (a running mean of the
 *           usable open frames); turn: quality.yaw passes 0.25 in the asked direction (+ for the
 *           visitor's left, as the camera sees them, unmirrored). The face must be in the frame
 *           (not too small, not cut); the pose gate and the anti-spoof model may fail on this
 *           frame. -> finish
 *   finish  a usable face again (for a blink, eyes open again: at least 85% of the open level)
 *           -> passed, once a frontal usable embedding is held.
 * The ratio is relative because the landmark model's open eyes measure 0.15-0.48 on the
 * development photos (narrow or smiling eyes about 0.18): a fixed 0.2 would see those as shut.
 * Only the largest face counts. Another usable face of at least 60% of its height means someone
 * else is in view (C1: only the consenting person): the check starts over. So does a frame with
 * no face, a face whose box jumps (centre by more than half its height, or height by more than
 * x1.5), and a usable face whose embedding is not the held one's person (cosine below the match
 * threshold): the action must be done by the face that gives the template.
 * The embedding kept is the most frontal usable one, in one sodium_malloc'd block for the table,
 * wiped when its check starts over, ends, expires or the table is freed. Ids are 128-bit random
 * and a check answers only to the user who started it.
 * Expiry is checked by every call (with the caller's clock, so tests can move time) and, in the
 * server, by a sweeper thread on the system clock that wipes a check when it expires even if no
 * request comes.
 * Threading: every call takes the table's mutex; fv__http_liveness creates a server's table once
 * under a process-wide mutex, with its sweeper.
 */
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "fairvisit/alloc.h"
#include "http-impl.h"

#define FRONTAL_YAW 0.15f /* |yaw| of a frontal face */
#define TURN_YAW    0.25f /* a head turn passes this */
/* Eye aspect ratio: relative to the person's own open level, since the landmark model's open
 * eyes measure anywhere from 0.15 to 0.48 (development photos; narrow or smiling eyes ~0.18). */
#define EAR_MIN_OPEN 0.12f /* below this at the start the eyes are not open */
#define EAR_SHUT_REL 0.70f /* shut: below 70% of the open level */
#define EAR_OPEN_REL 0.85f /* open again: at least 85% of it */
#define SIMILAR_SIZE 0.60f /* a second face this big (height ratio) is "similar in size" */
#define SAME_PERSON  FV_FACE_MATCH_THRESHOLD

typedef struct entry {
    bool used;
    char id[FV_LEDGER_ID_CHARS];
    char consent[FV_LEDGER_ID_CHARS];
    int64_t project, owner, expires;
    fv__liveness_challenge challenge;
    fv__liveness_stage stage;
    int frames;
    float open_ear; /* blink: eyes-open level (running mean) */
    float box[4];   /* last face box */
    bool has_box;
    bool has_emb;
    float best_yaw; /* |yaw| of the held embedding */
} entry;

struct fv__liveness_table {
    pthread_mutex_t mu;
    entry e[FV__LIVENESS_MAX];
    float *emb; /* sodium_malloc: FV__LIVENESS_MAX x FV_FACE_EMBEDDING_DIM */
    /* the sweeper (fv__liveness_sweep_start): wipes checks when they expire, calls or not */
    pthread_cond_t cv;
    pthread_t sweeper;
    bool sweeping, stop;
};

static void sweep_stop(fv__liveness_table *t);

#define EMB_BYTES (sizeof(float) * FV_FACE_EMBEDDING_DIM)

static float *emb_of(fv__liveness_table *t, const entry *e) {
    return t->emb + (size_t)(e - t->e) * FV_FACE_EMBEDDING_DIM;
}

const char *fv__liveness_challenge_name(fv__liveness_challenge ch) {
    static const char *const N[] = {"blink", "turn_left", "turn_right"};
    _Static_assert(sizeof N / sizeof N[0] == FV__LIVENESS_CHALLENGE_COUNT, "challenge names");
    return (unsigned)ch < FV__LIVENESS_CHALLENGE_COUNT ? N[ch] : "unknown";
}

const char *fv__liveness_stage_name(fv__liveness_stage st) {
    static const char *const N[] = {"start", "action", "finish", "passed"};
    return (unsigned)st < sizeof N / sizeof N[0] ? N[st] : "unknown";
}

fv_status fv__liveness_new(fv__liveness_table **out) {
    *out = NULL;
    if (sodium_init() < 0) return FV_ERR_INTERNAL;
    fv__liveness_table *t = fv_calloc(1, sizeof *t);
    if (t == NULL) return FV_ERR_NOMEM;
    t->emb = sodium_malloc(EMB_BYTES * FV__LIVENESS_MAX);
    if (t->emb == NULL) {
        fv_free(t);
        return FV_ERR_NOMEM;
    }
    sodium_memzero(t->emb, EMB_BYTES * FV__LIVENESS_MAX);
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        sodium_free(t->emb);
        fv_free(t);
        return FV_ERR_INTERNAL;
    }
    if (pthread_cond_init(&t->cv, NULL) != 0) {
        pthread_mutex_destroy(&t->mu);
        sodium_free(t->emb);
        fv_free(t);
        return FV_ERR_INTERNAL;
    }
    *out = t;
    return FV_OK;
}

void fv__liveness_free(fv__liveness_table *t) {
    if (t == NULL) return;
    sweep_stop(t);
    sodium_free(t->emb); /* wipes */
    fv_wipe(t->e, sizeof t->e);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    fv_free(t);
}

/* Back to the start stage, the held embedding wiped. */
static void restart(fv__liveness_table *t, entry *e) {
    e->stage = FV__LIVENESS_STAGE_START;
    e->open_ear = 0;
    e->has_box = false;
    e->has_emb = false;
    e->best_yaw = 0;
    sodium_memzero(emb_of(t, e), EMB_BYTES);
}

static void drop(fv__liveness_table *t, entry *e) {
    sodium_memzero(emb_of(t, e), EMB_BYTES);
    sodium_memzero(e, sizeof *e);
}

static void expire(fv__liveness_table *t, int64_t now) {
    for (int i = 0; i < FV__LIVENESS_MAX; i++)
        if (t->e[i].used && now >= t->e[i].expires) drop(t, &t->e[i]);
}

/* The sweeper: sleeps until the next check expires (at most a minute), then wipes what expired,
 * on the system clock (fv__http_now), so a template never outlives its check by more than a
 * moment even when no request comes. */
static void *sweep_loop(void *arg) {
    fv__liveness_table *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        int64_t now = fv__http_now(), next = now + 60 * 1000;
        expire(t, now);
        for (int i = 0; i < FV__LIVENESS_MAX; i++)
            if (t->e[i].used && t->e[i].expires < next) next = t->e[i].expires;
        struct timespec until = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
        (void)pthread_cond_timedwait(&t->cv, &t->mu, &until);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

fv_status fv__liveness_sweep_start(fv__liveness_table *t) {
    pthread_mutex_lock(&t->mu);
    fv_status st = FV_OK;
    if (!t->sweeping) {
        t->stop = false;
        if (pthread_create(&t->sweeper, NULL, sweep_loop, t) == 0)
            t->sweeping = true;
        else
            st = FV_ERR_INTERNAL;
    }
    pthread_mutex_unlock(&t->mu);
    return st;
}

static void sweep_stop(fv__liveness_table *t) {
    pthread_mutex_lock(&t->mu);
    bool running = t->sweeping;
    t->stop = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (running) pthread_join(t->sweeper, NULL);
    t->sweeping = false;
}

static entry *find(fv__liveness_table *t, const char *id, int64_t owner, int64_t now) {
    expire(t, now);
    if (id == NULL || strlen(id) != FV_LEDGER_ID_CHARS - 1) return NULL;
    for (int i = 0; i < FV__LIVENESS_MAX; i++) {
        entry *e = &t->e[i];
        if (e->used && sodium_memcmp(e->id, id, FV_LEDGER_ID_CHARS - 1) == 0)
            return e->owner == owner ? e : NULL;
    }
    return NULL;
}

fv_status fv__liveness_start(fv__liveness_table *t, int64_t project, int64_t owner,
                             const char *consent_id, fv__liveness_challenge ch, int64_t now_ms,
                             char id[FV_LEDGER_ID_CHARS], int64_t *expires_ms) {
    id[0] = '\0';
    if (consent_id == NULL || strlen(consent_id) >= FV_LEDGER_ID_CHARS ||
        (unsigned)ch >= FV__LIVENESS_CHALLENGE_COUNT)
        return FV_ERR_ARG;
    pthread_mutex_lock(&t->mu);
    expire(t, now_ms);
    entry *e = NULL;
    for (int i = 0; i < FV__LIVENESS_MAX && e == NULL; i++)
        if (!t->e[i].used) e = &t->e[i];
    fv_status st = FV_ERR_LIMIT;
    if (e != NULL) {
        memset(e, 0, sizeof *e);
        uint8_t raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(e->id, sizeof e->id, raw, sizeof raw);
        memcpy(e->consent, consent_id, strlen(consent_id) + 1);
        e->used = true;
        e->project = project;
        e->owner = owner;
        e->challenge = ch;
        e->expires = now_ms + FV__LIVENESS_TTL_MS;
        restart(t, e);
        memcpy(id, e->id, sizeof e->id);
        if (expires_ms != NULL) *expires_ms = e->expires;
        pthread_cond_broadcast(&t->cv); /* the sweeper's next wake-up may be this one's */
        st = FV_OK;
    }
    pthread_mutex_unlock(&t->mu);
    return st;
}

fv_status fv__liveness_info(fv__liveness_table *t, const char *id, int64_t owner, int64_t now_ms,
                            int64_t *project, char consent_id[FV_LEDGER_ID_CHARS],
                            fv__liveness_stage *stage) {
    pthread_mutex_lock(&t->mu);
    entry *e = find(t, id, owner, now_ms);
    if (e != NULL) {
        if (project != NULL) *project = e->project;
        if (consent_id != NULL) memcpy(consent_id, e->consent, sizeof e->consent);
        if (stage != NULL) *stage = e->stage;
    }
    pthread_mutex_unlock(&t->mu);
    return e != NULL ? FV_OK : FV_ERR_NOT_FOUND;
}

static float dist(const float a[2], const float b[2]) {
    float dx = a[0] - b[0], dy = a[1] - b[1];
    return sqrtf(dx * dx + dy * dy);
}

/* (|p2 - p6| + |p3 - p5|) / (2 |p1 - p4|) of the eye whose six points start at `b`. */
static float eye_ratio(const float p[68][2], int b) {
    float w = dist(p[b], p[b + 3]);
    if (!(w > 1e-3f)) return 0;
    return (dist(p[b + 1], p[b + 5]) + dist(p[b + 2], p[b + 4])) / (2 * w);
}

float fv__liveness_eye_ratio(const fv_face *f) {
    return (eye_ratio(f->landmarks68, 36) + eye_ratio(f->landmarks68, 42)) / 2;
}

static float height(const float box[4]) {
    return box[3] - box[1];
}

/* The same face as the last frame's: its centre moved less than half its height and its height
 * changed less than 1.5x. */
static bool same_track(const float a[4], const float b[4]) {
    float ha = height(a), hb = height(b);
    if (!(ha > 0) || !(hb > 0)) return false;
    float dx = (b[0] + b[2]) / 2 - (a[0] + a[2]) / 2, dy = (b[1] + b[3]) / 2 - (a[1] + a[3]) / 2;
    float r = hb / ha;
    return fabsf(dx) <= ha / 2 && fabsf(dy) <= ha / 2 && r <= 1.5f && r >= 1 / 1.5f;
}

/* In the frame well enough to judge an action: found, big enough, not cut by the edge (the pose
 * gate and the anti-spoof model may fail while the head turns or the eyes are shut). */
static bool framed(const fv_face *f) {
    return (f->reasons & (FV_FACE_REASON(TOO_SMALL) | FV_FACE_REASON(CUT))) == 0;
}

static void step(fv__liveness_table *t, entry *e, const fv_face *f) {
    float yaw = f->quality.yaw, ayaw = fabsf(yaw);
    bool usable = f->usable != 0;
    float ear = fv__liveness_eye_ratio(f);
    if (usable && f->has_embedding && ayaw <= FRONTAL_YAW && (!e->has_emb || ayaw < e->best_yaw)) {
        memcpy(emb_of(t, e), f->embedding, EMB_BYTES);
        e->has_emb = true;
        e->best_yaw = ayaw;
    }
    bool blink = e->challenge == FV__LIVENESS_BLINK;
    float dir = e->challenge == FV__LIVENESS_TURN_LEFT ? 1.0f : -1.0f;
    switch (e->stage) {
    case FV__LIVENESS_STAGE_START:
        if (usable && ayaw <= FRONTAL_YAW && (!blink || ear >= EAR_MIN_OPEN)) {
            e->open_ear = ear;
            e->stage = FV__LIVENESS_STAGE_ACTION;
        }
        break;
    case FV__LIVENESS_STAGE_ACTION:
        if (blink) {
            if (framed(f) && ear < EAR_SHUT_REL * e->open_ear)
                e->stage = FV__LIVENESS_STAGE_FINISH;
            else if (usable && ear >= EAR_OPEN_REL * e->open_ear)
                e->open_ear = 0.8f * e->open_ear + 0.2f * ear;
        } else if (framed(f) && dir * yaw >= TURN_YAW) {
            e->stage = FV__LIVENESS_STAGE_FINISH;
        }
        break;
    case FV__LIVENESS_STAGE_FINISH:
        if (usable && (!blink || ear >= EAR_OPEN_REL * e->open_ear) && e->has_emb)
            e->stage = FV__LIVENESS_STAGE_PASSED;
        break;
    case FV__LIVENESS_STAGE_PASSED:
        break;
    }
}

fv_status fv__liveness_frame(fv__liveness_table *t, const char *id, int64_t owner,
                             const fv_face *faces, int count, int64_t now_ms,
                             fv__liveness_reply *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&t->mu);
    fv_status st = FV_OK;
    entry *e = find(t, id, owner, now_ms);
    if (e == NULL) {
        st = FV_ERR_NOT_FOUND;
        goto out;
    }
    out->challenge = e->challenge;
    out->expires_ms = e->expires;
    if (e->stage == FV__LIVENESS_STAGE_PASSED) goto report; /* a passed check stays passed */
    if (++e->frames > FV__LIVENESS_MAX_FRAMES) {
        drop(t, e);
        st = FV_ERR_LIMIT;
        goto out;
    }
    if (faces == NULL || count <= 0) {
        if (e->stage != FV__LIVENESS_STAGE_START || e->has_emb) out->face_changed = true;
        restart(t, e);
        goto report;
    }
    const fv_face *f = &faces[0];
    out->face = true;
    out->usable = f->usable != 0;
    out->reasons = f->reasons;
    for (int i = 1; i < count; i++)
        if (faces[i].usable && height(faces[i].box) >= SIMILAR_SIZE * height(f->box)) {
            out->several_faces = true;
            out->usable = false;
            restart(t, e);
            goto report;
        }
    bool changed = e->has_box && !same_track(e->box, f->box);
    if (!changed && f->usable && f->has_embedding && e->has_emb &&
        fv_face_similarity(f->embedding, emb_of(t, e)) < SAME_PERSON)
        changed = true;
    if (changed) {
        out->face_changed = true;
        restart(t, e);
    }
    memcpy(e->box, f->box, sizeof e->box);
    e->has_box = true;
    step(t, e, f);
report:
    out->stage = e->stage;
    out->progress = (double)e->stage / FV__LIVENESS_STAGE_PASSED;
out:
    pthread_mutex_unlock(&t->mu);
    return st;
}

fv_status fv__liveness_embedding(fv__liveness_table *t, const char *id, int64_t owner,
                                 int64_t project, int64_t now_ms, float *embedding,
                                 char consent_id[FV_LEDGER_ID_CHARS]) {
    pthread_mutex_lock(&t->mu);
    entry *e = find(t, id, owner, now_ms);
    fv_status st = FV_OK;
    if (e == NULL || e->project != project)
        st = FV_ERR_NOT_FOUND;
    else if (e->stage != FV__LIVENESS_STAGE_PASSED || !e->has_emb)
        st = FV_ERR_STATE;
    else {
        memcpy(embedding, emb_of(t, e), EMB_BYTES);
        memcpy(consent_id, e->consent, sizeof e->consent);
    }
    pthread_mutex_unlock(&t->mu);
    return st;
}

void fv__liveness_end(fv__liveness_table *t, const char *id) {
    if (t == NULL || id == NULL || strlen(id) != FV_LEDGER_ID_CHARS - 1) return;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < FV__LIVENESS_MAX; i++)
        if (t->e[i].used && sodium_memcmp(t->e[i].id, id, FV_LEDGER_ID_CHARS - 1) == 0)
            drop(t, &t->e[i]);
    pthread_mutex_unlock(&t->mu);
}

/* ---- the server's table ---------------------------------------------------------------------- */

static pthread_mutex_t g_create_mu = PTHREAD_MUTEX_INITIALIZER;

fv__liveness_table *fv__http_liveness(fv_http_server *s) {
    pthread_mutex_lock(&g_create_mu);
    if (s->liveness == NULL && fv__liveness_new(&s->liveness) == FV_OK &&
        fv__liveness_sweep_start(s->liveness) != FV_OK) {
        fv__liveness_free(s->liveness);
        s->liveness = NULL;
    }
    fv__liveness_table *t = s->liveness;
    pthread_mutex_unlock(&g_create_mu);
    return t;
}

void fv__http_liveness_release(fv_http_server *s) {
    if (s == NULL) return;
    pthread_mutex_lock(&g_create_mu);
    fv__liveness_free(s->liveness);
    s->liveness = NULL;
    pthread_mutex_unlock(&g_create_mu);
}
