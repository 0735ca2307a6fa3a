/*
 * test_ledger_kill.c - the ledger under kill -9: a child process checks visitors in, one after
 * another, and is killed at a random moment; the parent reopens the site and checks that nothing
 * acknowledged was lost and nothing was half-written, then the next round continues on the same
 * site.
 *
 * Setup (parent, once): a site under /tmp, a project with an agency channel, an agent and a
 * notice; before each round it registers a few of the phones the round's child will use (every
 * second one of its first new phones), so first visits are judged natural, pending_escort or
 * channel_valid.
 * Child (one per round, fork()ed after the parent closed every handle): opens the site and runs a
 * stream of check-ins as RECEPTION, each with an idempotency key: a new phone (some with the
 * escort confirmed by reception), a return of an earlier phone, a new face (a consent recorded
 * first, then a random 512-d unit vector, some with a new phone too), a return by face (an
 * earlier face's vector under a new consent), a return by phone of a person without a template
 * with a new face (re-enrolment). Before each check-in it writes an "intent" record to
 * a pipe and after each FV_OK an "ack" record (visit id, kind, outcome, person, ...); records are
 * smaller than PIPE_BUF, so each arrives whole or not at all. A round's child first retries the
 * previous round's unacknowledged check-in with the same request and key. The kill comes up to
 * 0.7 s after the fork in even rounds (sometimes during the open), and in odd rounds up to 20 ms
 * after the child acknowledged a random number (0..39) of check-ins.
 * After each kill the parent checks: the site opens (ledger and vault); the audit chain verifies;
 * PRAGMA integrity_check and foreign_key_check of ledger.db and vault.db are clean; every
 * acknowledged check-in's visit is there with its kind, person, attribution (outcome,
 * registration) and template flag, and returns name the same person as the phone's or face's
 * first visit; no half-written check-in (every visit has its person and its audit entry, every
 * first visit exactly one attribution, every person exactly one first visit and an attribution,
 * attributions and registration outcomes agree both ways, every stored idempotency result names an
 * existing visit of its person); a retried check-in whose first attempt had committed returns
 * that attempt's visit (a replay); and every visit with template_stored = 1 has its template in
 * the vault (a search with the vector that was checked in finds the visit's person at > 0.999).
 * Vault templates of check-ins killed between the vault insert and the ledger commit are counted
 * and printed, not failed: those of persons never committed are ignored by searches; those of
 * re-enrolled committed persons are used by searches though the ledger records no visit or audit
 * entry for them (a gap in checkin.c: the re-enrolment template is not removed when the check-in
 * fails either).
 * Random unit vectors and fake phones (139xxxxxxxx) only.
 *
 * Threading: the parent forks single-threaded children; each opens its own ledger handle.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/ledger.h"
#include "fairvisit/vault.h"

#include "vault_fixture.h"

#define ROUNDS    20
#define PER_ROUND 4000 /* phone and face indices of round r are r * PER_ROUND + 0.. */
#define N_IDX     (ROUNDS * PER_ROUND)
#define N_REG     8 /* phones registered per round: new phones 0, 2, ..., 14 */
#define CODE      "kill"
#define MAX_RECS  200000

enum { REC_INTENT = 1, REC_ACK = 2 };

/* One pipe record (< PIPE_BUF: written atomically). */
typedef struct rec {
    int32_t type, round, j, escort;
    int64_t phone, face; /* indices, -1: none */
    int32_t face_return; /* face is an earlier face checked in again */
    int32_t kind, outcome, template_stored;
    int64_t visit, registration;
    char matched_by[8];
    char person[FV_LEDGER_ID_CHARS];
    char cid[FV_LEDGER_ID_CHARS];
} rec;

/* What the parent knows; the children inherit it through fork(). */
static char dir[64];
static int64_t project, agent;
static fv_ledger_consent_request consent_rq;
static int64_t reg_of[N_IDX];                        /* registration id of a phone index, 0: none */
static char phone_person[N_IDX][FV_LEDGER_ID_CHARS]; /* "" until acknowledged */
static char face_person[N_IDX][FV_LEDGER_ID_CHARS];
static int64_t known_phones[N_IDX], known_faces[N_IDX], phone_only[N_IDX];
static size_t n_known_phones, n_known_faces, n_phone_only; /* phone_only: no template yet */
static rec recs[MAX_RECS];                                 /* this round's records */
static size_t n_recs;
static rec inflight;           /* the last intent without an ack (type 0: none) */
static int64_t inflight_visit; /* its visit when its first attempt committed, else 0 */
/* Intents of face check-ins: consent cid -> face index, kept across rounds. */
static struct {
    char cid[FV_LEDGER_ID_CHARS];
    int64_t face;
} cids[MAX_RECS];
static size_t n_cids;
static uint64_t rnd_state;

static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rnd_state >> 33) % n;
}

static void phone_of(int64_t idx, char out[32]) {
    snprintf(out, 32, "139%08lld", (long long)idx);
}

static void face_vector(int64_t face, float *x) {
    uint64_t seed = 0x5eed0000ull + (uint64_t)face;
    vf_random_unit(&seed, x);
}

static void sleep_us(unsigned us) {
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int allow_all(void *ctx, const char *consent_id, const char *p) {
    (void)ctx;
    (void)consent_id;
    (void)p;
    return FV_VAULT_CONSENT_OK;
}

/* ---- the child ---------------------------------------------------------------------------- */

static void put(int fd, const rec *r) {
    if (write(fd, r, sizeof *r) != (ssize_t)sizeof *r) _exit(5);
}

static fv_ledger *child_ledger;

static _Noreturn void child_fail(const char *what) {
    fprintf(stderr, "child: %s: %s\n", what, fv_ledger_errmsg(child_ledger));
    _exit(4);
}

/* Runs the check-in of intent r (the request follows from its fields alone, so a retry in a
 * later round is the identical request); writes the intent, then the ack. */
static void child_checkin(int fd, rec *r) {
    fv_ledger_actor reception = {FV_LEDGER_ROLE_RECEPTION, 7};
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = project;
    if (r->phone >= 0) phone_of(r->phone, rq.phone);
    float x[FV_VAULT_DIM];
    if (r->face >= 0) {
        face_vector(r->face, x);
        rq.embedding = x;
        snprintf(rq.consent_id, sizeof rq.consent_id, "%s", r->cid);
    }
    if (r->escort) {
        rq.escort = FV_LEDGER_ESCORT_RECEPTION;
        rq.escort_agent = agent;
    }
    snprintf(rq.device, sizeof rq.device, "desk-1");
    snprintf(rq.idempotency_key, sizeof rq.idempotency_key, "kill-%d-%d", r->round, r->j);
    r->type = REC_INTENT;
    put(fd, r);
    fv_ledger_checkin_result res;
    if (fv_ledger_checkin(child_ledger, &reception, &rq, &res) != FV_OK) child_fail("check-in");
    r->type = REC_ACK;
    r->visit = res.visit;
    r->kind = (int32_t)res.kind;
    r->outcome = (int32_t)res.outcome;
    r->template_stored = res.template_stored;
    r->registration = res.registration;
    snprintf(r->matched_by, sizeof r->matched_by, "%s", res.matched_by);
    snprintf(r->person, sizeof r->person, "%s", res.person);
    put(fd, r);
}

static _Noreturn void child_run(int fd, int round) {
    fv_ledger_options opt = {.threads = 1};
    if (fv_ledger_open(dir, &opt, &child_ledger) != FV_OK) child_fail("open");
    if (inflight.type != 0) { /* the previous round's unacknowledged check-in, once more */
        rec r = inflight;
        child_checkin(fd, &r);
    }
    rnd_state ^= 0x9e3779b97f4a7c15ull * (uint64_t)(round + 1);
    /* Phones and faces this child was acknowledged, for its own returns. */
    static int64_t my_phones[PER_ROUND], my_faces[PER_ROUND];
    size_t n_my_phones = 0, n_my_faces = 0;
    int64_t next_phone = (int64_t)round * PER_ROUND, next_face = (int64_t)round * PER_ROUND;
    fv_ledger_actor kiosk = {FV_LEDGER_ROLE_KIOSK, 2};
    for (int j = 0; j < PER_ROUND; j++) {
        rec r;
        memset(&r, 0, sizeof r);
        r.round = round;
        r.j = j;
        r.phone = r.face = -1;
        size_t n_phones = n_known_phones + n_my_phones, n_faces = n_known_faces + n_my_faces;
        unsigned op = rnd(100);
        if (op >= 30 && op < 45 && n_phones > 0) { /* return by phone */
            size_t k = rnd((unsigned)n_phones);
            r.phone = k < n_known_phones ? known_phones[k] : my_phones[k - n_known_phones];
        } else if (op >= 45 && op < 55 && n_phone_only > 0) {
            /* a return by phone of a person without a template, now with a face: the template
             * is stored for that person (re-enrolment) */
            r.phone = phone_only[rnd((unsigned)n_phone_only)];
            r.face = next_face++;
        } else if (op >= 80 && n_faces > 0) { /* return by face, under a new consent */
            size_t k = rnd((unsigned)n_faces);
            r.face = k < n_known_faces ? known_faces[k] : my_faces[k - n_known_faces];
            r.face_return = 1;
        } else if (op >= 55) { /* a new face, a third of them with a new phone */
            r.face = next_face++;
            if (rnd(3) == 0) r.phone = next_phone++;
        } else { /* a new phone, half of them with the escort confirmed */
            r.phone = next_phone++;
            r.escort = (int32_t)rnd(2);
        }
        if (r.face >= 0 &&
            fv_ledger_consent_record(child_ledger, &kiosk, &consent_rq, r.cid) != FV_OK)
            child_fail("consent");
        child_checkin(fd, &r);
        if (r.phone >= 0 && r.kind == FV_LEDGER_VISIT_FIRST) my_phones[n_my_phones++] = r.phone;
        if (r.face >= 0 && !r.face_return && r.template_stored) my_faces[n_my_faces++] = r.face;
    }
    for (;;) pause(); /* all indices used: wait for the kill */
}

/* ---- the parent's checks ------------------------------------------------------------------ */

static int64_t q1(sqlite3 *db, const char *sql) {
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    else
        CHECK_FAIL("query failed: %s: %s", sqlite3_errmsg(db), sql);
    sqlite3_finalize(s);
    return v;
}

static void check_pragmas(const char *path) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        CHECK_FAIL("cannot open %s", path);
        sqlite3_close(db);
        return;
    }
    sqlite3_stmt *s = NULL;
    const char *res = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        res = (const char *)sqlite3_column_text(s, 0);
    if (res == NULL || strcmp(res, "ok") != 0)
        CHECK_FAIL("%s: integrity_check: %s", path, res ? res : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_DONE)
        CHECK_FAIL("%s: foreign_key_check finds rows (or fails)", path);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static const char *const OUTCOMES[] = {"natural", "channel_valid", "channel_invalid",
                                       "pending_escort"};

/* Nothing half-written: structural invariants of ledger.db, each a count that must be 0. */
static void check_invariants(sqlite3 *db) {
    static const struct {
        const char *what, *sql;
    } Q[] = {
        {"visits without their person",
         "SELECT COUNT(*) FROM visit v WHERE NOT EXISTS(SELECT 1 FROM person p WHERE"
         " p.id = v.person_id)"},
        {"first visits without exactly one attribution",
         "SELECT COUNT(*) FROM visit v WHERE v.kind = 'first' AND (SELECT COUNT(*) FROM"
         " attribution a WHERE a.first_visit_id = v.id AND a.person_id = v.person_id) != 1"},
        {"persons without exactly one first visit",
         "SELECT COUNT(*) FROM person p WHERE (SELECT COUNT(*) FROM visit v WHERE"
         " v.person_id = p.id AND v.kind = 'first') != 1"},
        {"persons without an attribution",
         "SELECT COUNT(*) FROM person p WHERE NOT EXISTS(SELECT 1 FROM attribution a WHERE"
         " a.person_id = p.id)"},
        {"attributions whose first visit is missing or not the person's first",
         "SELECT COUNT(*) FROM attribution a LEFT JOIN visit v ON v.id = a.first_visit_id WHERE"
         " v.id IS NULL OR v.kind != 'first' OR v.person_id != a.person_id"},
        {"return visits before the person's first visit",
         "SELECT COUNT(*) FROM visit v JOIN attribution a ON a.person_id = v.person_id WHERE"
         " v.kind = 'return' AND v.id < a.first_visit_id"},
        {"registrations naming a missing visit or without an outcome",
         "SELECT COUNT(*) FROM registration r LEFT JOIN visit v ON v.id = r.visit_id WHERE"
         " r.visit_id IS NOT NULL AND (v.id IS NULL OR r.outcome IS NULL)"},
        {"attributions disagreeing with their registration",
         "SELECT COUNT(*) FROM attribution a LEFT JOIN registration r ON r.id = a.registration_id"
         " WHERE a.registration_id IS NOT NULL AND (r.id IS NULL OR r.visit_id IS NOT"
         " a.first_visit_id OR r.outcome IS NOT a.outcome OR r.channel_id != a.channel_id)"},
        {"registrations judged at a first visit that no attribution names",
         "SELECT COUNT(*) FROM registration r JOIN visit v ON v.id = r.visit_id WHERE"
         " v.kind = 'first' AND NOT EXISTS(SELECT 1 FROM attribution a WHERE"
         " a.registration_id = r.id)"},
        {"registrations judged at a return visit (none expected here)",
         "SELECT COUNT(*) FROM registration r JOIN visit v ON v.id = r.visit_id WHERE"
         " v.kind = 'return'"},
        {"pending escorts without a deadline, confirmed ones without the escort",
         "SELECT COUNT(*) FROM attribution WHERE (outcome = 'pending_escort' AND"
         " escort_deadline IS NULL) OR (outcome = 'channel_valid' AND (escort IS NOT 'reception'"
         " OR escort_at IS NULL))"},
        {"visits without their audit entry",
         "SELECT COUNT(*) FROM visit v WHERE NOT EXISTS(SELECT 1 FROM audit WHERE"
         " record = 'visit:' || v.id AND action = 'checkin.' || v.kind)"},
        {"stored templates without consent or audit entry",
         "SELECT COUNT(*) FROM visit v WHERE v.template_stored = 1 AND (v.consent_id IS NULL OR"
         " NOT EXISTS(SELECT 1 FROM audit WHERE action = 'vault.insert' AND"
         " record = 'person:' || v.person_id))"},
        {"face visits whose consent is not linked to their person",
         "SELECT COUNT(*) FROM visit v JOIN consent c ON c.id = v.consent_id WHERE"
         " c.person_id IS NOT v.person_id"},
        {"persons with a phone hash but no sealed phone or mask",
         "SELECT COUNT(*) FROM person WHERE phone_hash IS NOT NULL AND (phone_ct IS NULL OR"
         " phone_mask IS NULL)"},
    };
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
        int64_t n = q1(db, Q[i].sql);
        if (n != 0) CHECK_FAIL("%s: %lld", Q[i].what, (long long)n);
    }
    /* Every stored idempotency result names a visit of its person (stored in the same
     * transaction as the visit). */
    sqlite3_stmt *s = NULL, *v = NULL;
    if (sqlite3_prepare_v2(db, "SELECT result FROM idempotency WHERE op = 'checkin'", -1, &s,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT lower(hex(p.pid)) FROM visit v JOIN person p ON"
                           " p.id = v.person_id WHERE v.id = ?",
                           -1, &v, NULL) != SQLITE_OK) {
        CHECK_FAIL("idempotency query: %s", sqlite3_errmsg(db));
        sqlite3_finalize(s);
        sqlite3_finalize(v);
        return;
    }
    size_t bad = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        fv_ledger_checkin_result res;
        if (sqlite3_column_bytes(s, 0) != (int)sizeof res) {
            bad++;
            continue;
        }
        memcpy(&res, sqlite3_column_blob(s, 0), sizeof res);
        sqlite3_reset(v);
        sqlite3_bind_int64(v, 1, res.visit);
        if (sqlite3_step(v) != SQLITE_ROW ||
            strcasecmp((const char *)sqlite3_column_text(v, 0), res.person) != 0)
            bad++;
    }
    sqlite3_finalize(s);
    sqlite3_finalize(v);
    if (bad) CHECK_FAIL("%zu stored check-in results name no visit of their person", bad);
}

/* The visit a stored idempotency result names, or 0. */
static int64_t stored_visit(sqlite3 *db, const char *key) {
    sqlite3_stmt *s = NULL;
    int64_t visit = 0;
    if (sqlite3_prepare_v2(db, "SELECT result FROM idempotency WHERE key = ?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
        fv_ledger_checkin_result res;
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == (int)sizeof res) {
            memcpy(&res, sqlite3_column_blob(s, 0), sizeof res);
            visit = res.visit;
        }
    }
    sqlite3_finalize(s);
    return visit;
}

static void remember_cid(const rec *r) {
    for (size_t i = n_cids; i-- > 0;)
        if (strcmp(cids[i].cid, r->cid) == 0) return;
    if (n_cids < MAX_RECS) {
        snprintf(cids[n_cids].cid, sizeof cids[n_cids].cid, "%s", r->cid);
        cids[n_cids++].face = r->face;
    }
}

static int64_t face_of_cid(const char *cid) {
    for (size_t i = 0; i < n_cids; i++)
        if (strcmp(cids[i].cid, cid) == 0) return cids[i].face;
    return -1;
}

/* An acknowledged check-in: what the child was told must be in the ledger, and agree with what
 * earlier check-ins of the phone or face were told. */
static void check_ack(sqlite3_stmt *q, const rec *r, size_t *replays) {
    if (inflight.type != 0 && r->round == inflight.round && r->j == inflight.j) {
        if (inflight_visit != 0) {
            CHECK_INT_EQ(r->visit, inflight_visit); /* a replay of the committed first try */
            ++*replays;
        }
        inflight.type = 0;
    }
    int first = r->kind == FV_LEDGER_VISIT_FIRST;
    if (r->face_return) {
        CHECK_INT_EQ(r->kind, FV_LEDGER_VISIT_RETURN);
        CHECK(strcasecmp(r->person, face_person[r->face]) == 0);
        CHECK(strcmp(r->matched_by, "face") == 0);
    } else if (r->phone >= 0 && phone_person[r->phone][0] != '\0') {
        CHECK_INT_EQ(r->kind, FV_LEDGER_VISIT_RETURN);
        CHECK(strcasecmp(r->person, phone_person[r->phone]) == 0);
    } else {
        CHECK_INT_EQ(r->kind, FV_LEDGER_VISIT_FIRST);
        int64_t reg = r->phone >= 0 ? reg_of[r->phone] : 0;
        CHECK_INT_EQ(r->registration, reg);
        CHECK_INT_EQ(r->outcome, reg == 0    ? FV_LEDGER_OUTCOME_NATURAL
                                 : r->escort ? FV_LEDGER_OUTCOME_CHANNEL_VALID
                                             : FV_LEDGER_OUTCOME_PENDING_ESCORT);
        CHECK_INT_EQ(r->template_stored, r->face >= 0);
    }
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, r->visit);
    if (sqlite3_step(q) != SQLITE_ROW) {
        CHECK_FAIL("acknowledged visit %lld (round %d, #%d) is not in the ledger",
                   (long long)r->visit, r->round, r->j);
        return;
    }
    const char *kind = (const char *)sqlite3_column_text(q, 0);
    const char *pid = (const char *)sqlite3_column_text(q, 1);
    const char *outcome = (const char *)sqlite3_column_text(q, 3);
    CHECK(kind != NULL && strcmp(kind, first ? "first" : "return") == 0);
    CHECK(pid != NULL && strcasecmp(pid, r->person) == 0);
    CHECK_INT_EQ(sqlite3_column_int(q, 2), r->template_stored);
    CHECK(outcome != NULL && (unsigned)r->outcome < 4 &&
          strcmp(outcome, OUTCOMES[r->outcome]) == 0);
    CHECK_INT_EQ(sqlite3_column_int64(q, 4), r->registration);
    if (r->phone >= 0 && phone_person[r->phone][0] == '\0') {
        snprintf(phone_person[r->phone], FV_LEDGER_ID_CHARS, "%s", r->person);
        known_phones[n_known_phones++] = r->phone;
        if (r->face < 0) phone_only[n_phone_only++] = r->phone;
    }
    /* A face whose template was stored (not a second face of a person who had a live one). */
    if (r->face >= 0 && !r->face_return && r->template_stored && face_person[r->face][0] == '\0') {
        snprintf(face_person[r->face], FV_LEDGER_ID_CHARS, "%s", r->person);
        known_faces[n_known_faces++] = r->face;
    }
}

/* Every visit with a stored template: a search with the vector checked in finds its person. */
static void check_vault(sqlite3 *db, size_t *with_template, int64_t *orphans,
                        int64_t *unaccounted) {
    char vdir[96];
    snprintf(vdir, sizeof vdir, "%s/vault", dir);
    fv_vault_options vo = {.consent_ok = allow_all};
    fv_vault *v = NULL;
    if (fv_vault_open(vdir, &vo, &v) != FV_OK) {
        CHECK_FAIL("vault open: %s", fv_vault_errmsg(v));
        fv_vault_close(v);
        return;
    }
    fv_vault_stats vs;
    fv_vault_get_stats(v, &vs);
    CHECK_INT_EQ(vs.failed_auth, 0);
    CHECK_INT_EQ(vs.unreadable, 0);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT lower(hex(p.pid)), c.cid, v.id FROM visit v JOIN person p ON"
                           " p.id = v.person_id JOIN consent c ON c.id = v.consent_id WHERE"
                           " v.template_stored = 1",
                           -1, &s, NULL) != SQLITE_OK) {
        CHECK_FAIL("template query: %s", sqlite3_errmsg(db));
        fv_vault_close(v);
        return;
    }
    size_t n = 0, missing = 0, unknown = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        n++;
        const char *pid = (const char *)sqlite3_column_text(s, 0);
        int64_t face = face_of_cid((const char *)sqlite3_column_text(s, 1));
        if (face < 0) {
            unknown++;
            continue;
        }
        float x[FV_VAULT_DIM];
        face_vector(face, x);
        fv_vault_hit hits[4];
        size_t nh = 0;
        int found = 0;
        if (fv_vault_search(v, CODE, "any", x, 4, hits, &nh) == FV_OK) {
            for (size_t i = 0; i < nh; i++) {
                char hex[2 * FV_VAULT_PERSON_BYTES + 1];
                for (int b = 0; b < FV_VAULT_PERSON_BYTES; b++)
                    snprintf(hex + 2 * b, 3, "%02x", hits[i].person[b]);
                if (strcmp(hex, pid) == 0 && hits[i].score > 0.999f) found = 1;
            }
        }
        if (!found) {
            missing++;
            CHECK_FAIL("visit %lld: its template is not in the vault",
                       (long long)sqlite3_column_int64(s, 2));
        }
    }
    sqlite3_finalize(s);
    CHECK_INT_EQ(unknown, 0); /* every stored template came from a consent the child named */
    CHECK_INT_EQ(missing, 0);
    *with_template = n;
    fv_vault_close(v);
    /* Templates of check-ins killed between the vault insert and the ledger commit: of a new
     * person the ledger never committed (searches ignore them; retention expires them), or of a
     * committed person re-enrolled at a return visit: searches use those, though no visit and no
     * audit entry records them (a known gap of checkin.c; counted here, not failed). */
    char attach[160];
    snprintf(attach, sizeof attach, "ATTACH DATABASE '%s/vault.db' AS vault", vdir);
    if (sqlite3_exec(db, attach, NULL, NULL, NULL) != SQLITE_OK) {
        CHECK_FAIL("attach vault.db: %s", sqlite3_errmsg(db));
        return;
    }
    *orphans = q1(db, "SELECT COUNT(*) FROM vault.templates t WHERE NOT EXISTS(SELECT 1 FROM"
                      " person p WHERE p.pid = t.person)");
    *unaccounted = q1(db, "SELECT COUNT(*) FROM vault.templates t JOIN person p ON"
                          " p.pid = t.person WHERE NOT EXISTS(SELECT 1 FROM visit v JOIN consent c"
                          " ON c.id = v.consent_id WHERE c.cid = t.consent AND"
                          " v.template_stored = 1 AND v.person_id = p.id)");
    (void)sqlite3_exec(db, "DETACH DATABASE vault", NULL, NULL, NULL);
}

/* Registers the phones N_REG new phones of round `round` will use (every second one). */
static void register_round(fv_ledger *l, int round) {
    fv_ledger_actor as_agent = {FV_LEDGER_ROLE_AGENT, agent};
    for (int k = 0; k < N_REG; k++) {
        int64_t idx = (int64_t)round * PER_ROUND + 2 * k;
        fv_ledger_registration_request rq;
        memset(&rq, 0, sizeof rq);
        rq.project = project;
        rq.agent = agent;
        snprintf(rq.customer_name, sizeof rq.customer_name, "Customer %lld", (long long)idx);
        phone_of(idx, rq.phone);
        fv_ledger_registration_result res;
        fv_status st = fv_ledger_register(l, &as_agent, &rq, &res);
        if (st != FV_OK || res.status != FV_LEDGER_REG_ACCEPTED) {
            CHECK_FAIL("register: %s: %s", fv_status_name(st), fv_ledger_errmsg(l));
            continue;
        }
        reg_of[idx] = res.id;
    }
}

static int setup(void) {
    vf_tempdir(dir, sizeof dir);
    CHECK_INT_EQ(fv_ledger_init_site(dir), FV_OK);
    fv_ledger *l = NULL;
    if (fv_ledger_open(dir, NULL, &l) != FV_OK) {
        CHECK_FAIL("open: %s", fv_ledger_errmsg(l));
        fv_ledger_close(l);
        return -1;
    }
    fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1};
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, CODE);
    snprintf(ps.name, sizeof ps.name, "Kill Garden");
    snprintf(ps.controller, sizeof ps.controller, "Kill Property Co.");
    snprintf(ps.controller_contact, sizeof ps.controller_contact, "privacy@example.invalid");
    fv_ledger_channel ch = {FV_LEDGER_CHANNEL_AGENCY, "Agency One", 0, FV_LEDGER_COMMISSION_NONE,
                            0};
    fv_ledger_agent ag = {"Agent One", "", 0};
    int64_t channel = 0;
    int version = 0;
    fv_strbuf nb = {0};
    int ok = fv_ledger_project_create(l, &admin, &ps, &project) == FV_OK &&
             fv_ledger_channel_create(l, &admin, project, &ch, &channel) == FV_OK &&
             fv_ledger_agent_create(l, &admin, channel, &ag, &agent) == FV_OK &&
             fv_ledger_notice_publish(l, &admin, project, "告知", "notice", &version) == FV_OK &&
             fv_ledger_notice_current(l, project, &nb) == FV_OK;
    const char *h = ok ? strstr(nb.s, "\"hash\": \"") : NULL;
    if (h == NULL) {
        CHECK_FAIL("setup: %s", fv_ledger_errmsg(l));
        fv_sb_free(&nb);
        fv_ledger_close(l);
        return -1;
    }
    memset(&consent_rq, 0, sizeof consent_rq);
    consent_rq.project = project;
    consent_rq.notice_version = version;
    snprintf(consent_rq.notice_hash, sizeof consent_rq.notice_hash, "%.64s", h + 9);
    snprintf(consent_rq.device, sizeof consent_rq.device, "kiosk-2");
    snprintf(consent_rq.method, sizeof consent_rq.method, "kiosk_touch");
    fv_sb_free(&nb);
    register_round(l, 0);
    fv_ledger_close(l);
    return 0;
}

static void test_kill_during_checkins(void) {
    if (setup() != 0) return;
    size_t acked_total = 0, replays = 0, committed_unacked = 0, templates = 0;
    int64_t orphans = 0, unaccounted = 0;
    int64_t audit_entries = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        if (pipe(p) != 0) abort();
        (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* a full pipe would only stall the child */
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) abort();
        if (pid == 0) {
            close(p[0]);
            child_run(p[1], round);
        }
        close(p[1]);
        /* Even rounds: killed up to 0.7 s after the fork (sometimes during the open). Odd
         * rounds: after the child has acknowledged 0..39 check-ins (counted as they arrive),
         * then up to 20 ms more, so however slow the machine, kills land among check-ins. */
        n_recs = 0;
        if (round % 2) {
            unsigned target = rnd(40), acks = 0;
            while (acks < target && n_recs < MAX_RECS &&
                   read(p[0], &recs[n_recs], sizeof recs[0]) == sizeof recs[0])
                acks += recs[n_recs++].type == REC_ACK;
            sleep_us(rnd(20000));
        } else {
            sleep_us(rnd(700000));
        }
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) { /* stopped on an error of its own: the message is above */
            CHECK_FAIL("round %d: the child exited (status %d) before the kill", round,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            close(p[0]);
            break;
        }
        while (n_recs < MAX_RECS && read(p[0], &recs[n_recs], sizeof recs[0]) == sizeof recs[0])
            n_recs++;
        close(p[0]);

        fv_ledger *l = NULL;
        if (fv_ledger_open(dir, NULL, &l) != FV_OK) {
            CHECK_FAIL("round %d: reopen: %s", round, fv_ledger_errmsg(l));
            fv_ledger_close(l);
            break;
        }
        fv_ledger_audit_report ar;
        fv_status st = fv_ledger_audit_verify(l, &ar);
        if (st != FV_OK || ar.first_bad != 0)
            CHECK_FAIL("round %d: audit chain: first bad %lld: %s", round, (long long)ar.first_bad,
                       ar.reason);
        CHECK(ar.entries >= audit_entries);
        audit_entries = ar.entries;
        fv_ledger_close(l);

        char path[128];
        snprintf(path, sizeof path, "%s/ledger.db", dir);
        check_pragmas(path);
        snprintf(path, sizeof path, "%s/vault/vault.db", dir);
        check_pragmas(path);

        snprintf(path, sizeof path, "%s/ledger.db", dir);
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db,
                               "SELECT v.kind, lower(hex(p.pid)), v.template_stored, a.outcome,"
                               " COALESCE(a.registration_id, 0) FROM visit v JOIN person p ON"
                               " p.id = v.person_id LEFT JOIN attribution a ON"
                               " a.person_id = p.id WHERE v.id = ?",
                               -1, &q, NULL) != SQLITE_OK) {
            CHECK_FAIL("round %d: ledger.db: %s", round, sqlite3_errmsg(db));
            sqlite3_close(db);
            break;
        }
        size_t acked = 0;
        rec last = {0};
        for (size_t i = 0; i < n_recs; i++) {
            const rec *r = &recs[i];
            if (r->type == REC_INTENT) {
                if (r->face >= 0) remember_cid(r);
                last = *r;
            } else if (r->type == REC_ACK) {
                check_ack(q, r, &replays);
                acked++;
                last.type = 0;
            }
        }
        sqlite3_finalize(q);
        check_invariants(db);
        if (last.type == REC_INTENT) { /* killed during this check-in: did it commit? */
            inflight = last;
            char key[64];
            snprintf(key, sizeof key, "kill-%d-%d", last.round, last.j);
            inflight_visit = stored_visit(db, key);
            committed_unacked += inflight_visit != 0;
        }
        size_t with_template = 0;
        check_vault(db, &with_template, &orphans, &unaccounted);
        templates = with_template;
        int64_t visits = q1(db, "SELECT COUNT(*) FROM visit");
        sqlite3_close(db);
        acked_total += acked;
        if (round % 5 == 4 || round == ROUNDS - 1)
            fprintf(stderr,
                    "  after %d kills: %zu acknowledged check-ins all present (%lld visits,"
                    " %zu with a template, all found; %lld audit entries verify)\n",
                    round + 1, acked_total, (long long)visits, templates, (long long)audit_entries);

        if (round + 1 < ROUNDS) { /* the next round's registrations */
            l = NULL;
            if (fv_ledger_open(dir, &(fv_ledger_options){.no_vault = true}, &l) != FV_OK) {
                CHECK_FAIL("open: %s", fv_ledger_errmsg(l));
                fv_ledger_close(l);
                break;
            }
            register_round(l, round + 1);
            fv_ledger_close(l);
        }
        if (check_failures) break;
    }
    fprintf(stderr,
            "  %zu kills landed after a commit and before its acknowledgement; the retries"
            " replayed %zu of them; vault templates of check-ins killed before their ledger"
            " commit: %lld of persons never committed, %lld re-enrolments of committed persons"
            " that the ledger does not record\n",
            committed_unacked, replays, (long long)orphans, (long long)unaccounted);
    CHECK(acked_total > 0);
    vf_rmtree(dir);
}

int main(void) {
    rnd_state = (uint64_t)time(NULL);
    fprintf(stderr, "seed %llu\n", (unsigned long long)rnd_state);
    RUN(test_kill_during_checkins);
    return check_summary();
}
