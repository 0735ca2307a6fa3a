/*
 * test_ledger_rules.c - the attribution rules of PRODUCT.md §3 (and the privacy lines of §4 they
 * touch) as scenario tables, each run by one small interpreter against a real ledger: a site made
 * with fv_ledger_init_site in a fresh folder under /tmp (real ledger.db, real vault), a fake clock
 * that only the tables move (fv_ledger_options.now_ms), and a one-time-code gateway that keeps the
 * last code sent, so the kiosk's phone path runs with real codes.
 *
 * A table is a list of steps read as given / when / then: {AT, .when = "day 3 10:00"} moves the
 * clock (day 0 00:00 is 2026-01-01 00:00 in the sales office's time, UTC+8); an action step names
 * its inputs (.agent = "A1", .phone = P1, .face = "F1", .consent = "K1") and its expectations
 * (.expect_status = REFUSED, .expect_kind = FIRST, .expect_outcome = CHANNEL_VALID,
 * .expect_conflict = "registration_expired", .expect_st = FV_ERR_STATE, ...); an unset
 * expectation is not checked, .expect_st defaults to FV_OK. .save = "v1" names the step's result
 * (visit, registration, deal, conflict, consent, person) for later steps.
 *
 * Every site has the project "sunrise" (the defaults: protection 7 days, deal window 90 days,
 * escort window 120 minutes, retention 30 days, codes of 300 s, 5 attempts, 5 per phone and
 * hour), a notice, and two channels: CA "Agency A" (1.5 % of the amount) with agents A1, A2 and
 * A3 (A3's team protects 3 days only), and CB "Referral B" (5,000.00 per deal) with agent B1.
 * Faces are random unit vectors (512-d, deterministic per name, never face data): a face's first
 * probe is its vector, later probes the vector plus noise renormalised to cosine ~0.9; another
 * name is a stranger. Phones (1380000000x, 1370000xxxx, 1390000xxxx) and customer names are made
 * up. After every table the audit chain must verify, and no file of the site (ledger.db and its
 * journal, the vault) may hold any phone or customer name the table used in clear; no error
 * message, conflict list, report or export may hold them either (but for the person's own phone
 * in an export read by the person or an admin).
 *
 * FV_TEST_VERBOSE=1 prints every step.
 * Threading: the tables run single-threaded; RACE_REGISTER and RACE_CHECKIN run two threads,
 * each with its own handle (opened with no_vault) on the table's site, released together round
 * after round by a barrier.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/ledger.h"
#include "fairvisit/vault.h"
#include "vault_fixture.h"

#define MINUTE_MS ((int64_t)60 * 1000)
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)
#define T0        ((int64_t)1767196800000) /* 2026-01-01 00:00 UTC+8: "day 0 00:00" */

/* Made-up customers. */
#define P1           "13800000001"
#define P2           "13800000002"
#define P3           "13800000003"
#define P4           "13800000004"
#define P5           "13800000005"
#define P6           "13800000006"
#define P9           "13800000009"
#define N1           "张伟 Zhang Wei"
#define N2           "王芳 Wang Fang"
#define N3           "李娜 Li Na"
#define N4           "刘洋 Liu Yang"
#define N5           "陈静 Chen Jing"
#define N6           "杨帆 Yang Fan"
#define DEFAULT_NAME "赵磊 Zhao Lei"

/* ---- the table language --------------------------------------------------------------------- */

typedef enum op {
    AT,       /* when: "day D HH:MM" */
    SETTINGS, /* project update: .face_free, .retention_days */
    CONSENT,  /* a consent at the kiosk (current notice) saved as .consent; .minor, .guardian */
    WITHDRAW_CONSENT, /* .consent */
    WITHDRAW_PERSON,  /* .person */
    REGISTER,         /* .agent registers .phone (.name) */
    OTP_SEND,         /* a one-time code to .phone (kept as "the last code") */
    CHECKIN,          /* .phone and/or .face under .consent; .escort_agent; .otp at the kiosk */
    ESCORT_QR,        /* .agent scans the QR code of visit .visit */
    ESCORT_RECEPTION, /* reception confirms .agent for visit .visit */
    SETTLE,           /* expect_n visits settled */
    PURGE,            /* expect_n templates deleted */
    DEAL,             /* .phone (+ .cobuyer) sign for .amount cents now */
    DECIDE,           /* .conflict, .verdict, .reason */
    APPEAL,           /* .conflict, .reason; by .agent (or a MANAGER of .channel) */
    EXPECT_CONFLICT,  /* conflict .conflict (or the one of .visit and kind .expect_conflict) */
    EXPECT_PERSON,    /* the export of .person */
    SLIP,             /* the self-service lookup by the slip of .visit (+ .phone and a code) */
    DELETE_PERSON,    /* .person */
    FACE_PERSONS,     /* expect_n persons with templates in the vault */
    COUNT,            /* .sql (one integer, read-only on ledger.db) == expect_n */
    REPORT,           /* the JSON report's .section holds .expect_text */
    RACE_REGISTER,    /* .agent and .agent2 register the same phone at once, .rounds phones */
    RACE_CHECKIN,     /* two desks check the same phone in at once, .rounds phones */
    SCAN,             /* close, scan the site's files for phones and names, reopen */
} op;

static const char *const OP_NAMES[] = {
    [AT] = "AT",
    [SETTINGS] = "SETTINGS",
    [CONSENT] = "CONSENT",
    [WITHDRAW_CONSENT] = "WITHDRAW_CONSENT",
    [WITHDRAW_PERSON] = "WITHDRAW_PERSON",
    [REGISTER] = "REGISTER",
    [OTP_SEND] = "OTP_SEND",
    [CHECKIN] = "CHECKIN",
    [ESCORT_QR] = "ESCORT_QR",
    [ESCORT_RECEPTION] = "ESCORT_RECEPTION",
    [SETTLE] = "SETTLE",
    [PURGE] = "PURGE",
    [DEAL] = "DEAL",
    [DECIDE] = "DECIDE",
    [APPEAL] = "APPEAL",
    [EXPECT_CONFLICT] = "EXPECT_CONFLICT",
    [EXPECT_PERSON] = "EXPECT_PERSON",
    [SLIP] = "SLIP",
    [DELETE_PERSON] = "DELETE_PERSON",
    [FACE_PERSONS] = "FACE_PERSONS",
    [COUNT] = "COUNT",
    [REPORT] = "REPORT",
    [RACE_REGISTER] = "RACE_REGISTER",
    [RACE_CHECKIN] = "RACE_CHECKIN",
    [SCAN] = "SCAN",
};

/* Who acts (BY_DEFAULT: the step's usual actor). */
typedef enum by {
    BY_DEFAULT,
    RECEPTION,
    KIOSK,
    ADMIN,
    AGENT,   /* .agent */
    MANAGER, /* the channel manager of .channel */
    VISITOR, /* the person of .as, else of .person */
    AUDITOR,
    SYSTEM,
} by;

/* Expectations: 0 is "not checked". */
typedef enum kind { ANY_KIND, FIRST, RETURN, UNCERTAIN } kind;
typedef enum outcome {
    ANY_OUTCOME,
    NATURAL,
    CHANNEL_VALID,
    CHANNEL_INVALID,
    PENDING_ESCORT
} outcome;
typedef enum reg_status { ANY_STATUS, ACCEPTED, REFUSED } reg_status;
typedef enum tri { UNCHECKED, YES, NO } tri;
typedef enum verdict { NO_VERDICT, UPHOLD, OVERTURN } verdict;
/* The kiosk's one-time code: send a fresh one and use it, the last one sent, the last one with a
 * wrong code, or none. */
typedef enum otp_mode { OTP_AUTO, OTP_LAST, OTP_WRONG, OTP_NONE } otp_mode;

#define MAX_TEXTS 4

typedef struct step {
    op op;
    const char *when;
    by by;
    const char *agent, *agent2, *channel, *as;
    const char *phone, *cobuyer, *name;
    const char *face, *consent, *visit, *person, *conflict;
    const char *escort_agent;
    otp_mode otp;
    const char *idem;
    bool minor, guardian, face_free;
    int retention_days;
    int64_t amount;
    verdict verdict;
    const char *reason;
    int rounds;
    const char *sql, *section;
    /* then */
    fv_status expect_st;
    const char *expect_msg;
    kind expect_kind;
    outcome expect_outcome;
    reg_status expect_status;
    const char *expect_reason;
    const char *expect_channel, *expect_agent; /* labels; "natural", "none" */
    const char *expect_matched;
    const char *expect_conflict; /* a kind, or "none" */
    const char *expect_cstatus;
    tri expect_template, expect_window, expect_flagged, phone_shown;
    int64_t expect_commission; /* DEAL: always checked */
    int64_t expect_n;          /* SETTLE, PURGE, FACE_PERSONS, COUNT: always checked */
    int expect_visits;         /* EXPECT_PERSON: visits in the export (0: unchecked) */
    const char *expect_person, *expect_not_person; /* same / another person than label's */
    const char *expect_same;                       /* the same row (visit, registration, deal) */
    const char *expect_text[MAX_TEXTS], *expect_absent[MAX_TEXTS];
    const char *save;
} step;

/* ---- the world a table runs in -------------------------------------------------------------- */

#define MAX_LABELS  64
#define MAX_FACES   8
#define MAX_SECRETS 192
#define MAX_ROUNDS  64

typedef struct label {
    char name[16];
    int64_t id;       /* visit, registration or deal row */
    int64_t conflict; /* the conflict the step opened (or found) */
    char qr[FV_LEDGER_ID_CHARS], slip[FV_LEDGER_ID_CHARS], person[FV_LEDGER_ID_CHARS];
    char consent[FV_LEDGER_ID_CHARS];
} label;

typedef struct face {
    char name[16];
    float base[FV_VAULT_DIM];
    int shown;
} face;

typedef struct secret {
    char text[64];
    bool phone;
} secret;

typedef struct world {
    const char *table;
    size_t step, n_steps; /* the step running (n_steps: setup or the closing checks) */
    char dir[64];
    fv_ledger *l;
    int64_t now;
    char otp_code[16], otp_phone[16], otp_id[FV_LEDGER_ID_CHARS];
    int otp_sent; /* codes the gateway delivered */
    int64_t project, natural, channels[2], agents[4];
    uint64_t noise;
    label labels[MAX_LABELS];
    int n_labels;
    face faces[MAX_FACES];
    int n_faces;
    secret secrets[MAX_SECRETS];
    int n_secrets;
} world;

static const struct {
    const char *label, *name;
    fv_ledger_channel_kind kind;
    fv_ledger_commission rule;
    int64_t value;
} CHANNELS[] = {
    {"CA", "Agency A", FV_LEDGER_CHANNEL_AGENCY, FV_LEDGER_COMMISSION_PERCENT, 150},
    {"CB", "Referral B", FV_LEDGER_CHANNEL_REFERRAL, FV_LEDGER_COMMISSION_FIXED, 500000},
};

static const struct {
    const char *label, *channel, *name, *team;
    int protection_days;
} AGENTS[] = {
    {"A1", "CA", "agent A1", "", 0},
    {"A2", "CA", "agent A2", "", 0},
    {"A3", "CA", "agent A3", "short-window team", 3},
    {"B1", "CB", "agent B1", "", 0},
};

#define N_CHANNELS ((int)(sizeof CHANNELS / sizeof CHANNELS[0]))
#define N_AGENTS   ((int)(sizeof AGENTS / sizeof AGENTS[0]))

static bool verbose;

static void step_fail(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step_fail(world *w, const char *fmt, ...) {
    if (w->step < w->n_steps)
        fprintf(stderr, "FAIL %s: table %s, step %zu: ", check_current, w->table, w->step + 1);
    else
        fprintf(stderr, "FAIL %s: table %s, %s: ", check_current, w->table,
                w->n_steps ? "after the last step" : "setup");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    check_failures++;
}

static int64_t world_clock(void *ctx) {
    return ((const world *)ctx)->now;
}

static int capture_code(void *ctx, const char *phone, const char *code) {
    world *w = ctx;
    snprintf(w->otp_code, sizeof w->otp_code, "%s", code);
    snprintf(w->otp_phone, sizeof w->otp_phone, "%s", phone);
    w->otp_sent++;
    return 0;
}

static void add_secret(world *w, const char *text, bool phone) {
    if (text == NULL || text[0] == '\0') return;
    for (int i = 0; i < w->n_secrets; i++)
        if (strcmp(w->secrets[i].text, text) == 0) return;
    if (w->n_secrets == MAX_SECRETS) {
        step_fail(w, "too many phones and names for the privacy scan");
        return;
    }
    snprintf(w->secrets[w->n_secrets].text, sizeof w->secrets[0].text, "%s", text);
    w->secrets[w->n_secrets++].phone = phone;
}

/* No phone or name of the table in `text` (a message, a list, a report). */
static void check_no_secret(world *w, const char *text, const char *what) {
    if (text == NULL) return;
    for (int i = 0; i < w->n_secrets; i++) {
        const char *s = w->secrets[i].text;
        if (strstr(text, s) != NULL)
            step_fail(w, "%s holds the %s '%s' in clear", what,
                      w->secrets[i].phone ? "phone" : "name", s);
    }
}

static label *label_find(world *w, const char *name) {
    for (int i = 0; i < w->n_labels; i++)
        if (strcmp(w->labels[i].name, name) == 0) return &w->labels[i];
    return NULL;
}

/* The label a step refers to; a missing one is a mistake in the table. */
static label *label_get(world *w, const char *name) {
    static label none;
    label *l = name != NULL ? label_find(w, name) : NULL;
    if (l == NULL) {
        step_fail(w, "no result named '%s' (a mistake in the table)", name ? name : "(null)");
        memset(&none, 0, sizeof none);
        return &none;
    }
    return l;
}

/* A fresh (or overwritten) label for a step's result. */
static label *label_new(world *w, const char *name) {
    label *l = label_find(w, name);
    if (l == NULL) {
        if (w->n_labels == MAX_LABELS) {
            step_fail(w, "too many named results");
            static label spare;
            return &spare;
        }
        l = &w->labels[w->n_labels++];
    }
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name);
    return l;
}

static int64_t agent_id(world *w, const char *name) {
    for (int i = 0; name != NULL && i < N_AGENTS; i++)
        if (strcmp(AGENTS[i].label, name) == 0) return w->agents[i];
    step_fail(w, "no agent '%s' (a mistake in the table)", name ? name : "(null)");
    return 0;
}

static int64_t channel_id(world *w, const char *name) {
    if (name != NULL && strcmp(name, "natural") == 0) return w->natural;
    for (int i = 0; name != NULL && i < N_CHANNELS; i++)
        if (strcmp(CHANNELS[i].label, name) == 0) return w->channels[i];
    step_fail(w, "no channel '%s' (a mistake in the table)", name ? name : "(null)");
    return 0;
}

static const char *channel_name(const char *lbl) {
    for (int i = 0; i < N_CHANNELS; i++)
        if (strcmp(CHANNELS[i].label, lbl) == 0) return CHANNELS[i].name;
    return "natural";
}

static const char *channel_label_of(const world *w, int64_t id) {
    if (id == w->natural) return "natural";
    for (int i = 0; i < N_CHANNELS; i++)
        if (w->channels[i] == id) return CHANNELS[i].label;
    return "?";
}

static const char *agent_label_of(const world *w, int64_t id) {
    if (id == 0) return "none";
    for (int i = 0; i < N_AGENTS; i++)
        if (w->agents[i] == id) return AGENTS[i].label;
    return "?";
}

static uint64_t name_seed(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static face *face_get(world *w, const char *name) {
    for (int i = 0; i < w->n_faces; i++)
        if (strcmp(w->faces[i].name, name) == 0) return &w->faces[i];
    if (w->n_faces == MAX_FACES) {
        step_fail(w, "too many faces");
        return &w->faces[0];
    }
    face *f = &w->faces[w->n_faces++];
    snprintf(f->name, sizeof f->name, "%s", name);
    uint64_t seed = name_seed(name);
    vf_random_unit(&seed, f->base);
    f->shown = 0;
    return f;
}

/* The face's first probe is its vector; later ones carry noise (cosine ~0.9 to the vector). */
static void face_probe(world *w, face *f, float *out) {
    if (!f->shown) {
        memcpy(out, f->base, sizeof f->base);
        return;
    }
    vf_perturb(&w->noise, f->base, 0.484, out);
    double c = vf_cos(out, f->base);
    if (c < 0.85 || c > 0.95) step_fail(w, "probe of %s has cosine %.3f, not ~0.9", f->name, c);
}

/* ---- reading ledger.db for checks (read-only) ------------------------------------------------ */

static int64_t db_int(world *w, const char *sql, const char *text_arg) {
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", w->dir);
    sqlite3 *db = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
            if (text_arg != NULL) sqlite3_bind_text(q, 1, text_arg, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
        } else {
            step_fail(w, "sql: %s", sqlite3_errmsg(db));
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return v;
}

/* The person row of a person id (what the self-service page acts as). */
static int64_t person_row(world *w, const char *person) {
    return db_int(w, "SELECT id FROM person WHERE lower(hex(pid)) = ?", person);
}

/* ---- actors, statuses ------------------------------------------------------------------------ */

static fv_ledger_actor actor(world *w, const step *s, by dflt) {
    by k = s->by != BY_DEFAULT ? s->by : dflt;
    switch (k) {
    case KIOSK:
        return (fv_ledger_actor){FV_LEDGER_ROLE_KIOSK, 3};
    case ADMIN:
        return (fv_ledger_actor){FV_LEDGER_ROLE_ADMIN, 1};
    case AGENT:
        return (fv_ledger_actor){FV_LEDGER_ROLE_AGENT, agent_id(w, s->agent)};
    case MANAGER:
        return (fv_ledger_actor){FV_LEDGER_ROLE_CHANNEL_MANAGER, channel_id(w, s->channel)};
    case VISITOR:
        return (fv_ledger_actor){FV_LEDGER_ROLE_VISITOR,
                                 person_row(w, label_get(w, s->as ? s->as : s->person)->person)};
    case AUDITOR:
        return (fv_ledger_actor){FV_LEDGER_ROLE_AUDITOR, 5};
    case SYSTEM:
        return (fv_ledger_actor){FV_LEDGER_ROLE_SYSTEM, 4};
    case RECEPTION:
    case BY_DEFAULT:
        break;
    }
    return (fv_ledger_actor){FV_LEDGER_ROLE_RECEPTION, 2};
}

/* Compares a call's status with the step's; a refusal's message must name the reason and hold no
 * phone or name. True when the call succeeded as expected (its results are then checked). */
static bool status_ok(world *w, const step *s, fv_ledger *l, fv_status st) {
    const char *m = fv_ledger_errmsg(l);
    if (st != s->expect_st) {
        step_fail(w, "%s, expected %s (%s)", fv_status_name(st), fv_status_name(s->expect_st), m);
        return false;
    }
    if (st != FV_OK) {
        if (s->expect_msg != NULL && strstr(m, s->expect_msg) == NULL)
            step_fail(w, "message '%s' does not say '%s'", m, s->expect_msg);
        check_no_secret(w, m, "the error message");
        return false;
    }
    return true;
}

static const char *const KIND_NAMES[] = {"-", "first", "return", "uncertain"};
static const char *const OUTCOME_NAMES[] = {"-", "natural", "channel_valid", "channel_invalid",
                                            "pending_escort"};

static void check_kind(world *w, kind want, fv_ledger_visit_kind got) {
    if (want != ANY_KIND && (int)got != (int)want - 1)
        step_fail(w, "visit is %s, expected %s", KIND_NAMES[got + 1], KIND_NAMES[want]);
}

static void check_outcome(world *w, outcome want, fv_ledger_outcome got) {
    if (want != ANY_OUTCOME && (int)got != (int)want - 1)
        step_fail(w, "outcome %s, expected %s", OUTCOME_NAMES[got + 1], OUTCOME_NAMES[want]);
}

static void check_channel(world *w, const char *want, int64_t got) {
    if (want != NULL && got != channel_id(w, want))
        step_fail(w, "channel %s, expected %s", channel_label_of(w, got), want);
}

static void check_agent(world *w, const char *want, int64_t got) {
    if (want == NULL) return;
    int64_t id = strcmp(want, "none") == 0 ? 0 : agent_id(w, want);
    if (got != id) step_fail(w, "agent %s, expected %s", agent_label_of(w, got), want);
}

static void check_tri(world *w, const char *what, tri want, bool got) {
    if (want != UNCHECKED && got != (want == YES))
        step_fail(w, "%s is %s, expected %s", what, got ? "true" : "false",
                  want == YES ? "true" : "false");
}

static void check_texts(world *w, const step *s, const char *text, const char *what) {
    for (int i = 0; i < MAX_TEXTS; i++) {
        if (s->expect_text[i] != NULL && (text == NULL || strstr(text, s->expect_text[i]) == NULL))
            step_fail(w, "%s does not hold '%s':\n  %s", what, s->expect_text[i],
                      text ? text : "(null)");
        if (s->expect_absent[i] != NULL && text != NULL && strstr(text, s->expect_absent[i]))
            step_fail(w, "%s holds '%s':\n  %s", what, s->expect_absent[i], text);
    }
}

/* ---- conflicts ------------------------------------------------------------------------------- */

/* Copies the object of conflict `id` out of a conflict list; false if it is not listed. */
static bool conflict_object(const char *list, int64_t id, char *out, size_t cap) {
    char key[48];
    snprintf(key, sizeof key, "{\"id\": %lld, ", (long long)id);
    const char *p = strstr(list, key);
    if (p == NULL) return false;
    const char *end = strstr(p + 1, ", {\"id\": ");
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static fv_status list_conflicts(world *w, const fv_ledger_actor *who, fv_strbuf *b) {
    fv_status st = fv_ledger_conflict_list(w->l, who, w->project, NULL, b);
    if (st == FV_OK) check_no_secret(w, b->s, "the conflict list");
    return st;
}

/* A result's conflict: "none", or opened with this kind. */
static void check_conflict(world *w, const char *want, int64_t id) {
    if (want == NULL) return;
    if (strcmp(want, "none") == 0) {
        if (id != 0) step_fail(w, "a conflict (%lld) was opened", (long long)id);
        return;
    }
    if (id == 0) {
        step_fail(w, "no conflict opened, expected %s", want);
        return;
    }
    fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1};
    fv_strbuf b = {0};
    char obj[8192], kind_key[80];
    if (list_conflicts(w, &admin, &b) != FV_OK || !conflict_object(b.s, id, obj, sizeof obj)) {
        step_fail(w, "conflict %lld is not listed", (long long)id);
    } else {
        snprintf(kind_key, sizeof kind_key, "\"kind\": \"%s\"", want);
        if (strstr(obj, kind_key) == NULL)
            step_fail(w, "conflict %lld is not %s: %s", (long long)id, want, obj);
    }
    fv_sb_free(&b);
}

/* ---- steps ----------------------------------------------------------------------------------- */

/* Sends a code; on success it is "the last code" (a refused send leaves the last one). */
static fv_status send_code(world *w, const char *phone) {
    fv_ledger_actor kiosk = {FV_LEDGER_ROLE_KIOSK, 3};
    char id[FV_LEDGER_ID_CHARS];
    int sent = w->otp_sent;
    fv_status st = fv_ledger_otp_send(w->l, &kiosk, w->project, phone, id);
    if (st == FV_OK) {
        memcpy(w->otp_id, id, sizeof id);
        if (w->otp_sent != sent + 1 || strlen(w->otp_code) != 6 || strcmp(w->otp_phone, phone))
            step_fail(w, "the gateway did not get one code for the phone");
    } else if (w->otp_sent != sent) {
        step_fail(w, "a refused code went out through the gateway");
    }
    return st;
}

/* Fills the one-time code of a kiosk or self-service request; false if none could be sent. */
static bool fill_code(world *w, const step *s, const char *phone, char *id, size_t id_cap,
                      char *code, size_t code_cap) {
    id[0] = code[0] = '\0';
    if (s->otp == OTP_NONE) return true;
    if (s->otp == OTP_AUTO) {
        fv_status st = send_code(w, phone);
        if (st != FV_OK) {
            step_fail(w, "no one-time code sent: %s (%s)", fv_status_name(st),
                      fv_ledger_errmsg(w->l));
            return false;
        }
    }
    snprintf(id, id_cap, "%s", w->otp_id);
    snprintf(code, code_cap, "%s", w->otp_code);
    if (s->otp == OTP_WRONG && code[0] != '\0') code[0] = (char)('0' + (code[0] - '0' + 1) % 10);
    return true;
}

static void do_at(world *w, const step *s) {
    int d = 0, h = 0, m = 0;
    if (s->when == NULL || sscanf(s->when, "day %d %d:%d", &d, &h, &m) != 3) {
        step_fail(w, "AT needs \"day D HH:MM\"");
        return;
    }
    int64_t t = T0 + d * DAY_MS + h * HOUR_MS + m * MINUTE_MS;
    if (t < w->now) step_fail(w, "time goes back to %s", s->when);
    w->now = t;
}

static void do_settings(world *w, const step *s) {
    fv_ledger_project_settings ps;
    if (fv_ledger_project_get(w->l, w->project, &ps) != FV_OK) {
        step_fail(w, "project_get: %s", fv_ledger_errmsg(w->l));
        return;
    }
    if (s->face_free) ps.face_free = true;
    if (s->retention_days > 0) ps.retention_days = s->retention_days;
    fv_ledger_actor who = actor(w, s, ADMIN);
    (void)status_ok(w, s, w->l, fv_ledger_project_update(w->l, &who, w->project, &ps));
}

static void do_consent(world *w, const step *s) {
    label *k = label_new(w, s->consent);
    fv_strbuf b = {0};
    fv_ledger_consent_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = w->project;
    if (fv_ledger_notice_current(w->l, w->project, &b) != FV_OK ||
        sscanf(b.s, "{\"version\": %d, \"hash\": \"%64[0-9a-f]\"", &rq.notice_version,
               rq.notice_hash) != 2)
        step_fail(w, "no current notice: %s", fv_ledger_errmsg(w->l));
    fv_sb_free(&b);
    snprintf(rq.device, sizeof rq.device, "kiosk-1");
    snprintf(rq.method, sizeof rq.method, "kiosk_touch");
    rq.age = s->minor ? FV_LEDGER_AGE_MINOR : FV_LEDGER_AGE_ADULT;
    rq.guardian_consent = s->guardian;
    fv_ledger_actor who = actor(w, s, KIOSK);
    char id[FV_LEDGER_ID_CHARS] = "";
    if (status_ok(w, s, w->l, fv_ledger_consent_record(w->l, &who, &rq, id))) {
        if (strlen(id) != 32) step_fail(w, "consent id '%s'", id);
        memcpy(k->consent, id, sizeof id);
    }
}

static void do_withdraw(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, RECEPTION);
    fv_status st = s->op == WITHDRAW_CONSENT
                       ? fv_ledger_consent_withdraw(w->l, &who, label_get(w, s->consent)->consent)
                       : fv_ledger_person_withdraw(w->l, &who, label_get(w, s->person)->person);
    (void)status_ok(w, s, w->l, st);
}

static void do_register(world *w, const step *s) {
    fv_ledger_registration_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = w->project;
    rq.agent = agent_id(w, s->agent);
    const char *name = s->name != NULL ? s->name : DEFAULT_NAME;
    snprintf(rq.customer_name, sizeof rq.customer_name, "%s", name);
    snprintf(rq.phone, sizeof rq.phone, "%s", s->phone);
    if (s->idem != NULL) snprintf(rq.idempotency_key, sizeof rq.idempotency_key, "%s", s->idem);
    add_secret(w, s->phone, true);
    add_secret(w, name, false);
    fv_ledger_actor who = actor(w, s, AGENT);
    fv_ledger_registration_result res;
    if (!status_ok(w, s, w->l, fv_ledger_register(w->l, &who, &rq, &res))) return;
    static const char *const ST[] = {"-", "accepted", "refused"};
    if (s->expect_status != ANY_STATUS && (int)res.status != (int)s->expect_status - 1)
        step_fail(w, "registration %s (%s), expected %s", ST[res.status + 1], res.reason,
                  ST[s->expect_status]);
    if (s->expect_reason != NULL && strcmp(res.reason, s->expect_reason) != 0)
        step_fail(w, "reason '%s', expected '%s'", res.reason, s->expect_reason);
    char mask[FV_LEDGER_MASK_CHARS];
    if (fv_ledger_phone_mask(s->phone, mask) != FV_OK || strcmp(mask, res.phone_mask) != 0)
        step_fail(w, "phone mask '%s'", res.phone_mask);
    if (res.status == FV_LEDGER_REG_ACCEPTED && res.expires_ms <= w->now)
        step_fail(w, "accepted registration expires at once");
    check_conflict(w, s->expect_conflict, res.conflict);
    if (s->expect_same != NULL && res.id != label_get(w, s->expect_same)->id)
        step_fail(w, "registration %lld, expected the same as %s", (long long)res.id,
                  s->expect_same);
    if (s->save != NULL) {
        label *r = label_new(w, s->save);
        r->id = res.id;
        r->conflict = res.conflict;
    }
}

static void do_otp_send(world *w, const step *s) {
    add_secret(w, s->phone, true);
    (void)status_ok(w, s, w->l, send_code(w, s->phone));
}

static void do_checkin(world *w, const step *s) {
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = w->project;
    fv_ledger_actor who = actor(w, s, RECEPTION);
    snprintf(rq.device, sizeof rq.device, "%s",
             who.role == FV_LEDGER_ROLE_KIOSK ? "kiosk-1" : "reception-desk");
    if (s->phone != NULL) {
        add_secret(w, s->phone, true);
        snprintf(rq.phone, sizeof rq.phone, "%s", s->phone);
        if (who.role == FV_LEDGER_ROLE_KIOSK &&
            !fill_code(w, s, s->phone, rq.otp_id, sizeof rq.otp_id, rq.otp_code,
                       sizeof rq.otp_code))
            return;
    }
    float emb[FV_VAULT_DIM];
    face *f = NULL;
    if (s->face != NULL) {
        f = face_get(w, s->face);
        face_probe(w, f, emb);
        rq.embedding = emb;
    }
    if (s->consent != NULL)
        snprintf(rq.consent_id, sizeof rq.consent_id, "%s", label_get(w, s->consent)->consent);
    if (s->escort_agent != NULL) {
        rq.escort = FV_LEDGER_ESCORT_RECEPTION;
        rq.escort_agent = agent_id(w, s->escort_agent);
    }
    if (s->idem != NULL) snprintf(rq.idempotency_key, sizeof rq.idempotency_key, "%s", s->idem);
    fv_ledger_checkin_result res;
    if (!status_ok(w, s, w->l, fv_ledger_checkin(w->l, &who, &rq, &res))) return;
    if (f != NULL) f->shown = 1;
    if (verbose)
        fprintf(stderr, "      -> %s, %s, channel %s, agent %s, by %s, score %.3f\n",
                KIND_NAMES[res.kind + 1], OUTCOME_NAMES[res.outcome + 1],
                channel_label_of(w, res.channel), agent_label_of(w, res.agent), res.matched_by,
                res.score);
    check_kind(w, s->expect_kind, res.kind);
    check_outcome(w, s->expect_outcome, res.outcome);
    check_channel(w, s->expect_channel, res.channel);
    check_agent(w, s->expect_agent, res.agent);
    if (s->expect_matched != NULL && strcmp(res.matched_by, s->expect_matched) != 0)
        step_fail(w, "matched by %s, expected %s", res.matched_by, s->expect_matched);
    check_conflict(w, s->expect_conflict, res.conflict);
    check_tri(w, "template_stored", s->expect_template, res.template_stored);
    if (res.kind != FV_LEDGER_VISIT_UNCERTAIN && (res.visit == 0 || strlen(res.slip) != 10 ||
                                                  strlen(res.qr) != 32 || strlen(res.person) != 32))
        step_fail(w, "visit %lld with slip '%s', qr '%s', person '%s'", (long long)res.visit,
                  res.slip, res.qr, res.person);
    if (s->expect_person != NULL && strcmp(res.person, label_get(w, s->expect_person)->person))
        step_fail(w, "another person than %s's", s->expect_person);
    if (s->expect_not_person != NULL &&
        strcmp(res.person, label_get(w, s->expect_not_person)->person) == 0)
        step_fail(w, "the same person as %s's", s->expect_not_person);
    if (s->expect_same != NULL && res.visit != label_get(w, s->expect_same)->id)
        step_fail(w, "visit %lld, expected the same as %s", (long long)res.visit, s->expect_same);
    if (s->save != NULL) {
        label *v = label_new(w, s->save);
        v->id = res.visit;
        v->conflict = res.conflict;
        memcpy(v->qr, res.qr, sizeof v->qr);
        memcpy(v->slip, res.slip, sizeof v->slip);
        memcpy(v->person, res.person, sizeof v->person);
    }
}

static void do_escort(world *w, const step *s) {
    fv_ledger_outcome out = FV_LEDGER_OUTCOME_NATURAL;
    label *v = label_get(w, s->visit);
    fv_status st;
    if (s->op == ESCORT_QR) {
        fv_ledger_actor who = actor(w, s, AGENT);
        st = fv_ledger_escort_confirm(w->l, &who, v->qr, 0, 0, &out);
    } else {
        fv_ledger_actor who = actor(w, s, RECEPTION);
        st = fv_ledger_escort_confirm(w->l, &who, NULL, v->id, agent_id(w, s->agent), &out);
    }
    if (status_ok(w, s, w->l, st)) check_outcome(w, s->expect_outcome, out);
}

static void do_settle(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, SYSTEM);
    size_t n = 0;
    if (status_ok(w, s, w->l, fv_ledger_settle(w->l, &who, &n)) && (int64_t)n != s->expect_n)
        step_fail(w, "%zu visits settled, expected %lld", n, (long long)s->expect_n);
}

static void do_purge(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, SYSTEM);
    fv_ledger_purge_report rep;
    if (status_ok(w, s, w->l, fv_ledger_purge(w->l, &who, &rep)) &&
        (int64_t)rep.templates_deleted != s->expect_n)
        step_fail(w, "%zu templates deleted, expected %lld", rep.templates_deleted,
                  (long long)s->expect_n);
}

static void do_deal(world *w, const step *s) {
    const char *phones[2] = {s->phone, s->cobuyer};
    fv_ledger_deal_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = w->project;
    rq.buyer_phones = phones;
    rq.n_buyers = s->cobuyer != NULL ? 2 : 1;
    rq.amount_cents = s->amount;
    rq.signed_ms = w->now;
    if (s->idem != NULL) snprintf(rq.idempotency_key, sizeof rq.idempotency_key, "%s", s->idem);
    add_secret(w, s->phone, true);
    add_secret(w, s->cobuyer, true);
    fv_ledger_actor who = actor(w, s, RECEPTION);
    fv_ledger_deal_result res;
    if (!status_ok(w, s, w->l, fv_ledger_deal_record(w->l, &who, &rq, &res))) return;
    check_channel(w, s->expect_channel, res.channel);
    check_agent(w, s->expect_agent, res.agent);
    check_tri(w, "in_window", s->expect_window, res.in_window);
    check_tri(w, "flagged", s->expect_flagged, res.flagged);
    if (res.commission_cents != s->expect_commission)
        step_fail(w, "commission %lld cents, expected %lld", (long long)res.commission_cents,
                  (long long)s->expect_commission);
    check_conflict(w, s->expect_conflict, res.conflict);
    if (s->expect_same != NULL && res.id != label_get(w, s->expect_same)->id)
        step_fail(w, "deal %lld, expected the same as %s", (long long)res.id, s->expect_same);
    if (s->save != NULL) {
        label *d = label_new(w, s->save);
        d->id = res.id;
        d->conflict = res.conflict;
    }
}

static void do_decide(world *w, const step *s) {
    if (s->verdict == NO_VERDICT) {
        step_fail(w, "DECIDE needs a verdict");
        return;
    }
    fv_ledger_actor who = actor(w, s, RECEPTION);
    fv_ledger_verdict v =
        s->verdict == OVERTURN ? FV_LEDGER_VERDICT_OVERTURN : FV_LEDGER_VERDICT_UPHOLD;
    const char *reason = s->reason != NULL ? s->reason : "reviewed at the office";
    (void)status_ok(
        w, s, w->l,
        fv_ledger_conflict_decide(w->l, &who, label_get(w, s->conflict)->conflict, v, reason));
}

static void do_appeal(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, AGENT);
    const char *reason = s->reason != NULL ? s->reason : "the customer came with our agent";
    (void)status_ok(
        w, s, w->l,
        fv_ledger_conflict_appeal(w->l, &who, label_get(w, s->conflict)->conflict, reason));
}

/* The conflict named by .conflict, or the first one of kind .expect_conflict (and of .visit's
 * visit); 0 if none. */
static int64_t find_conflict(world *w, const step *s, const char *list) {
    if (s->conflict != NULL) return label_get(w, s->conflict)->conflict;
    char kind_key[80], visit_key[48] = "";
    snprintf(kind_key, sizeof kind_key, "\"kind\": \"%s\"",
             s->expect_conflict ? s->expect_conflict : "");
    if (s->visit != NULL)
        snprintf(visit_key, sizeof visit_key, "\"visit\": %lld,",
                 (long long)label_get(w, s->visit)->id);
    static char obj[8192];
    for (const char *p = strstr(list, "{\"id\": "); p != NULL; p = strstr(p + 1, "{\"id\": ")) {
        long long id = 0;
        if (sscanf(p, "{\"id\": %lld", &id) != 1 || !conflict_object(list, id, obj, sizeof obj))
            continue;
        if (strstr(obj, kind_key) != NULL && strstr(obj, visit_key) != NULL) return id;
    }
    return 0;
}

static void do_expect_conflict(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, ADMIN);
    fv_strbuf b = {0};
    fv_status st = list_conflicts(w, &who, &b);
    if (st != FV_OK) {
        step_fail(w, "conflict list: %s (%s)", fv_status_name(st), fv_ledger_errmsg(w->l));
        fv_sb_free(&b);
        return;
    }
    static char obj[8192];
    int64_t id = find_conflict(w, s, b.s);
    bool listed = id != 0 && conflict_object(b.s, id, obj, sizeof obj);
    if (s->expect_st == FV_ERR_NOT_FOUND) { /* the actor must not see it */
        if (listed) step_fail(w, "conflict %lld is listed: %s", (long long)id, obj);
        fv_sb_free(&b);
        return;
    }
    if (!listed) {
        step_fail(w, "conflict not listed:\n  %s", b.s);
        fv_sb_free(&b);
        return;
    }
    char key[80];
    if (s->expect_conflict != NULL) {
        snprintf(key, sizeof key, "\"kind\": \"%s\"", s->expect_conflict);
        if (strstr(obj, key) == NULL) step_fail(w, "not %s: %s", s->expect_conflict, obj);
    }
    if (s->expect_cstatus != NULL) {
        snprintf(key, sizeof key, "\"status\": \"%s\"", s->expect_cstatus);
        if (strstr(obj, key) == NULL) step_fail(w, "not %s: %s", s->expect_cstatus, obj);
    }
    check_texts(w, s, obj, "the conflict");
    if (s->save != NULL) label_new(w, s->save)->conflict = id;
    fv_sb_free(&b);
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Numbers with a fractional part: a template would bring hundreds. */
static int count_decimals(const char *s) {
    int n = 0;
    for (; s[0] && s[1] && s[2]; s++)
        if (isdigit((unsigned char)s[0]) && s[1] == '.' && isdigit((unsigned char)s[2])) n++;
    return n;
}

static void do_expect_person(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, ADMIN);
    fv_strbuf b = {0};
    label *p = label_get(w, s->person);
    fv_status st = fv_ledger_person_export(w->l, &who, p->person, &b);
    if (!status_ok(w, s, w->l, st)) {
        fv_sb_free(&b);
        return;
    }
    char key[160];
    if (s->expect_channel != NULL) {
        snprintf(key, sizeof key, "\"attribution\": {\"channel\": \"%s\"",
                 channel_name(s->expect_channel));
        if (strstr(b.s, key) == NULL) step_fail(w, "attribution is not %s:\n  %s", key, b.s);
    }
    if (s->expect_outcome != ANY_OUTCOME) {
        const char *a = strstr(b.s, "\"attribution\": {");
        snprintf(key, sizeof key, "\"outcome\": \"%s\"", OUTCOME_NAMES[s->expect_outcome]);
        if (a == NULL || strstr(a, key) == NULL)
            step_fail(w, "attribution's outcome is not %s:\n  %s", key, b.s);
    }
    if (s->phone_shown != UNCHECKED) {
        char mask[FV_LEDGER_MASK_CHARS] = "";
        if (fv_ledger_phone_mask(s->phone, mask) != FV_OK) step_fail(w, "not a phone");
        bool full = strstr(b.s, s->phone) != NULL, masked = strstr(b.s, mask) != NULL;
        if (s->phone_shown == YES && !full) step_fail(w, "the full phone is not shown");
        if (s->phone_shown == NO && (full || !masked))
            step_fail(w, "the phone is not masked:\n  %s", b.s);
    }
    if (s->expect_visits > 0 && count_of(b.s, "\"template_stored\": ") != s->expect_visits)
        step_fail(w, "%d visits exported, expected %d", count_of(b.s, "\"template_stored\": "),
                  s->expect_visits);
    /* Never a template: only whether one is held. */
    if (strstr(b.s, "\"template\": {\"held\": ") == NULL || count_decimals(b.s) > 8 ||
        strstr(b.s, "embedding") != NULL)
        step_fail(w, "the export shows template data:\n  %s", b.s);
    /* Names never; phones only to the person and an admin (the person's own, by the checks
     * above when .phone is given). */
    bool may_see_phone = who.role == FV_LEDGER_ROLE_ADMIN || who.role == FV_LEDGER_ROLE_VISITOR;
    for (int i = 0; i < w->n_secrets; i++)
        if (!(w->secrets[i].phone && may_see_phone) && strstr(b.s, w->secrets[i].text) != NULL)
            step_fail(w, "the export holds the %s '%s' in clear",
                      w->secrets[i].phone ? "phone" : "name", w->secrets[i].text);
    check_texts(w, s, b.s, "the export");
    fv_sb_free(&b);
}

static void do_slip(world *w, const step *s) {
    label *v = label_get(w, s->visit);
    char id[FV_LEDGER_ID_CHARS] = "", code[16] = "", person[FV_LEDGER_ID_CHARS] = "";
    if (s->phone != NULL) {
        add_secret(w, s->phone, true);
        if (!fill_code(w, s, s->phone, id, sizeof id, code, sizeof code)) return;
    }
    fv_status st = fv_ledger_person_by_slip(w->l, v->slip, s->phone, id[0] ? id : NULL,
                                            code[0] ? code : NULL, person);
    if (!status_ok(w, s, w->l, st)) return;
    if (s->expect_person != NULL && strcmp(person, label_get(w, s->expect_person)->person))
        step_fail(w, "the slip leads to another person than %s's", s->expect_person);
}

static void do_delete(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, RECEPTION);
    (void)status_ok(w, s, w->l,
                    fv_ledger_person_delete(w->l, &who, label_get(w, s->person)->person));
}

static void do_face_persons(world *w, const step *s) {
    int64_t n = -1;
    if (status_ok(w, s, w->l, fv_ledger_face_persons(w->l, &n)) && n != s->expect_n)
        step_fail(w, "%lld persons with templates, expected %lld", (long long)n,
                  (long long)s->expect_n);
}

static void do_count(world *w, const step *s) {
    int64_t n = db_int(w, s->sql, NULL);
    if (n != s->expect_n)
        step_fail(w, "%s: %lld, expected %lld", s->sql, (long long)n, (long long)s->expect_n);
}

static void do_report(world *w, const step *s) {
    fv_ledger_actor who = actor(w, s, ADMIN);
    fv_strbuf b = {0};
    if (status_ok(w, s, w->l, fv_ledger_report_json(w->l, &who, w->project, NULL, NULL, &b))) {
        check_no_secret(w, b.s, "the report");
        char key[64];
        snprintf(key, sizeof key, "\"%s\": ", s->section ? s->section : "");
        const char *sec = strstr(b.s, key);
        if (sec == NULL)
            step_fail(w, "the report has no section %s", key);
        else
            check_texts(w, s, sec, "the report's section");
    }
    fv_sb_free(&b);
}

/* ---- races ----------------------------------------------------------------------------------- */

static fv_ledger *open_handle(world *w, bool vault) {
    fv_ledger_options opt = {.now_ms = world_clock,
                             .clock_ctx = w,
                             .otp_send = capture_code,
                             .otp_ctx = w,
                             .no_vault = !vault};
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(w->dir, &opt, &l);
    if (st != FV_OK) {
        step_fail(w, "open: %s (%s)", fv_status_name(st), fv_ledger_errmsg(l));
        fv_ledger_close(l);
        return NULL;
    }
    return l;
}

typedef struct racer {
    world *w;
    const step *s;
    fv_ledger *l;
    int64_t agent; /* RACE_REGISTER */
    pthread_barrier_t *bar;
    fv_status st[MAX_ROUNDS];
    char msg[MAX_ROUNDS][96];
    fv_ledger_registration_result reg[MAX_ROUNDS];
    fv_ledger_checkin_result visit[MAX_ROUNDS];
} racer;

static void race_phone(const step *s, int round, char out[16]) {
    snprintf(out, 16, "%s%04u", s->op == RACE_REGISTER ? "1390000" : "1370000",
             (unsigned)round % 10000u);
}

static void *race_main(void *arg) {
    racer *r = arg;
    for (int i = 0; i < r->s->rounds; i++) {
        char phone[16];
        race_phone(r->s, i, phone);
        if (r->s->op == RACE_REGISTER) {
            fv_ledger_registration_request rq;
            memset(&rq, 0, sizeof rq);
            rq.project = r->w->project;
            rq.agent = r->agent;
            snprintf(rq.customer_name, sizeof rq.customer_name, "%s", DEFAULT_NAME);
            snprintf(rq.phone, sizeof rq.phone, "%s", phone);
            fv_ledger_actor who = {FV_LEDGER_ROLE_AGENT, r->agent};
            pthread_barrier_wait(r->bar);
            r->st[i] = fv_ledger_register(r->l, &who, &rq, &r->reg[i]);
        } else {
            fv_ledger_checkin_request rq;
            memset(&rq, 0, sizeof rq);
            rq.project = r->w->project;
            snprintf(rq.phone, sizeof rq.phone, "%s", phone);
            snprintf(rq.device, sizeof rq.device, "reception-desk");
            fv_ledger_actor who = {FV_LEDGER_ROLE_RECEPTION, 2};
            pthread_barrier_wait(r->bar);
            r->st[i] = fv_ledger_checkin(r->l, &who, &rq, &r->visit[i]);
        }
        snprintf(r->msg[i], sizeof r->msg[i], "%s", fv_ledger_errmsg(r->l));
    }
    return NULL;
}

static void do_race(world *w, const step *s) {
    if (s->rounds < 1 || s->rounds > MAX_ROUNDS) {
        step_fail(w, "rounds must be 1-%d", MAX_ROUNDS);
        return;
    }
    for (int i = 0; i < s->rounds; i++) {
        char phone[16];
        race_phone(s, i, phone);
        add_secret(w, phone, true);
    }
    add_secret(w, DEFAULT_NAME, false);
    static racer rs[2];
    memset(rs, 0, sizeof rs);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    pthread_t th[2];
    int started = 0;
    for (int k = 0; k < 2; k++) {
        rs[k].w = w;
        rs[k].s = s;
        rs[k].bar = &bar;
        rs[k].l = open_handle(w, false);
        if (s->op == RACE_REGISTER) rs[k].agent = agent_id(w, k == 0 ? s->agent : s->agent2);
    }
    if (rs[0].l != NULL && rs[1].l != NULL)
        for (int k = 0; k < 2; k++)
            if (pthread_create(&th[k], NULL, race_main, &rs[k]) == 0) started++;
    if (started == 1) { /* let the lone thread through its barriers */
        step_fail(w, "could not start the second thread");
        for (int i = 0; i < s->rounds; i++) pthread_barrier_wait(&bar);
    }
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    pthread_barrier_destroy(&bar);
    fv_ledger_close(rs[0].l);
    fv_ledger_close(rs[1].l);
    if (started != 2) return;
    int wins[2] = {0, 0};
    for (int i = 0; i < s->rounds; i++) {
        if (rs[0].st[i] != FV_OK || rs[1].st[i] != FV_OK) {
            step_fail(w, "round %d: %s (%s) / %s (%s)", i, fv_status_name(rs[0].st[i]),
                      rs[0].msg[i], fv_status_name(rs[1].st[i]), rs[1].msg[i]);
            continue;
        }
        if (s->op == RACE_REGISTER) {
            int acc = (rs[0].reg[i].status == FV_LEDGER_REG_ACCEPTED) +
                      (rs[1].reg[i].status == FV_LEDGER_REG_ACCEPTED);
            int loser = rs[0].reg[i].status == FV_LEDGER_REG_ACCEPTED ? 1 : 0;
            if (acc != 1)
                step_fail(w, "round %d: %d registrations accepted", i, acc);
            else if (strcmp(rs[loser].reg[i].reason, "registered_by_other_channel") != 0 ||
                     rs[loser].reg[i].conflict == 0)
                step_fail(w, "round %d: the second is refused as '%s' (conflict %lld)", i,
                          rs[loser].reg[i].reason, (long long)rs[loser].reg[i].conflict);
            else
                wins[1 - loser]++;
        } else {
            int firsts = (rs[0].visit[i].kind == FV_LEDGER_VISIT_FIRST) +
                         (rs[1].visit[i].kind == FV_LEDGER_VISIT_FIRST);
            int returns = (rs[0].visit[i].kind == FV_LEDGER_VISIT_RETURN) +
                          (rs[1].visit[i].kind == FV_LEDGER_VISIT_RETURN);
            if (firsts != 1 || returns != 1)
                step_fail(w, "round %d: %d first visits, %d returns", i, firsts, returns);
            else if (strcmp(rs[0].visit[i].person, rs[1].visit[i].person) != 0)
                step_fail(w, "round %d: two persons for one phone", i);
            else
                wins[rs[0].visit[i].kind == FV_LEDGER_VISIT_FIRST ? 0 : 1]++;
        }
    }
    if (verbose) fprintf(stderr, "      -> first wins: %d / %d\n", wins[0], wins[1]);
    /* What the ledger holds agrees. */
    if (s->op == RACE_REGISTER) {
        int64_t n = db_int(w,
                           "SELECT COUNT(*) FROM registration WHERE status = 'accepted' AND"
                           " phone_mask LIKE ?",
                           "139****%");
        if (n != s->rounds) step_fail(w, "%lld accepted registrations", (long long)n);
    } else {
        int64_t persons =
            db_int(w, "SELECT COUNT(*) FROM person WHERE phone_mask LIKE ?", "137****%");
        int64_t firsts = db_int(w,
                                "SELECT COUNT(*) FROM visit v JOIN person p ON p.id ="
                                " v.person_id WHERE v.kind = 'first' AND p.phone_mask LIKE ?",
                                "137****%");
        if (persons != s->rounds || firsts != s->rounds)
            step_fail(w, "%lld persons, %lld first visits for %d phones", (long long)persons,
                      (long long)firsts, s->rounds);
    }
}

/* ---- the site and the privacy scan ----------------------------------------------------------- */

static world *scan_world;
static const char *scan_site_dir;

static int scan_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)ftw;
    if (flag != FTW_F) return 0;
    world *w = scan_world;
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 0;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        step_fail(w, "out of memory reading %s", path);
        return 0;
    }
    for (int i = 0; i < w->n_secrets; i++) {
        const char *s = w->secrets[i].text;
        if (memmem(buf, len, s, strlen(s)) != NULL)
            step_fail(w, "%s holds the %s '%s' in clear", path + strlen(scan_site_dir),
                      w->secrets[i].phone ? "phone" : "name", s);
    }
    free(buf);
    return 0;
}

/* Every file of the site, ledger closed (its journal checkpointed). */
static void scan_site(world *w) {
    scan_world = w;
    scan_site_dir = w->dir;
    if (nftw(w->dir, scan_file, 16, FTW_PHYS) != 0) step_fail(w, "cannot walk %s", w->dir);
}

static void do_scan(world *w) {
    fv_ledger_close(w->l);
    w->l = NULL;
    scan_site(w);
    w->l = open_handle(w, true);
}

static bool setup(world *w) {
    vf_tempdir(w->dir, sizeof w->dir);
    w->now = T0;
    w->noise = name_seed(w->table);
    fv_status st = fv_ledger_init_site(w->dir);
    if (st != FV_OK) {
        step_fail(w, "init_site: %s", fv_status_name(st));
        return false;
    }
    w->l = open_handle(w, true);
    if (w->l == NULL) return false;
    fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1};
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "sunrise");
    snprintf(ps.name, sizeof ps.name, "Sunrise Garden");
    snprintf(ps.controller, sizeof ps.controller, "Sunrise Property Co.");
    snprintf(ps.controller_contact, sizeof ps.controller_contact, "privacy@sunrise.example");
    int version = 0;
    st = fv_ledger_project_create(w->l, &admin, &ps, &w->project);
    if (st == FV_OK) st = fv_ledger_channel_natural(w->l, w->project, &w->natural);
    for (int i = 0; st == FV_OK && i < N_CHANNELS; i++) {
        fv_ledger_channel c = {.kind = CHANNELS[i].kind,
                               .commission = CHANNELS[i].rule,
                               .commission_value = CHANNELS[i].value};
        snprintf(c.name, sizeof c.name, "%s", CHANNELS[i].name);
        st = fv_ledger_channel_create(w->l, &admin, w->project, &c, &w->channels[i]);
    }
    for (int i = 0; st == FV_OK && i < N_AGENTS; i++) {
        fv_ledger_agent a = {.protection_days = AGENTS[i].protection_days};
        snprintf(a.name, sizeof a.name, "%s", AGENTS[i].name);
        snprintf(a.team, sizeof a.team, "%s", AGENTS[i].team);
        st = fv_ledger_agent_create(w->l, &admin, channel_id(w, AGENTS[i].channel), &a,
                                    &w->agents[i]);
    }
    if (st == FV_OK)
        st = fv_ledger_notice_publish(
            w->l, &admin, w->project,
            "日出花园售楼处使用人脸模板判定客户渠道，仅用于判客，保存30天。",
            "Sunrise Garden's sales office uses a face template to attribute visitors to"
            " channels, for attribution only, kept 30 days.",
            &version);
    if (st != FV_OK) step_fail(w, "setup: %s (%s)", fv_status_name(st), fv_ledger_errmsg(w->l));
    return st == FV_OK;
}

static void teardown(world *w) {
    if (w->l != NULL) {
        fv_ledger_audit_report rep;
        fv_status st = fv_ledger_audit_verify(w->l, &rep);
        if (st != FV_OK || rep.first_bad != 0)
            step_fail(w, "audit chain: %s, first bad entry %lld (%s)", fv_status_name(st),
                      (long long)rep.first_bad, rep.reason);
        fv_ledger_close(w->l);
        w->l = NULL;
        scan_site(w);
    }
    vf_rmtree(w->dir);
}

static void run_step(world *w, const step *s) {
    if (w->l == NULL && s->op != AT) {
        step_fail(w, "no ledger");
        return;
    }
    switch (s->op) {
    case AT:
        do_at(w, s);
        break;
    case SETTINGS:
        do_settings(w, s);
        break;
    case CONSENT:
        do_consent(w, s);
        break;
    case WITHDRAW_CONSENT:
    case WITHDRAW_PERSON:
        do_withdraw(w, s);
        break;
    case REGISTER:
        do_register(w, s);
        break;
    case OTP_SEND:
        do_otp_send(w, s);
        break;
    case CHECKIN:
        do_checkin(w, s);
        break;
    case ESCORT_QR:
    case ESCORT_RECEPTION:
        do_escort(w, s);
        break;
    case SETTLE:
        do_settle(w, s);
        break;
    case PURGE:
        do_purge(w, s);
        break;
    case DEAL:
        do_deal(w, s);
        break;
    case DECIDE:
        do_decide(w, s);
        break;
    case APPEAL:
        do_appeal(w, s);
        break;
    case EXPECT_CONFLICT:
        do_expect_conflict(w, s);
        break;
    case EXPECT_PERSON:
        do_expect_person(w, s);
        break;
    case SLIP:
        do_slip(w, s);
        break;
    case DELETE_PERSON:
        do_delete(w, s);
        break;
    case FACE_PERSONS:
        do_face_persons(w, s);
        break;
    case COUNT:
        do_count(w, s);
        break;
    case REPORT:
        do_report(w, s);
        break;
    case RACE_REGISTER:
    case RACE_CHECKIN:
        do_race(w, s);
        break;
    case SCAN:
        do_scan(w);
        break;
    }
}

static void run_table(const char *name, const step *steps, size_t n) {
    fprintf(stderr, "scenario %s (%zu steps)\n", name, n);
    world *w = calloc(1, sizeof *w);
    if (w == NULL) {
        CHECK_FAIL("out of memory");
        return;
    }
    w->table = name;
    if (setup(w)) {
        w->n_steps = n;
        for (size_t i = 0; i < n; i++) {
            w->step = i;
            if (verbose)
                fprintf(stderr, "  %2zu %s%s%s\n", i + 1, OP_NAMES[steps[i].op],
                        steps[i].when ? " " : "", steps[i].when ? steps[i].when : "");
            run_step(w, &steps[i]);
        }
        w->step = n;
    }
    teardown(w);
    free(w);
}

#define RUN_TABLE(t) run_table(#t, t, sizeof t / sizeof t[0])

/* ---- 1. first visit, then a registration ----------------------------------------------------- */

/* A natural first visit; the next day an agent registers the phone: refused (already_visitor),
 * kept with a conflict the claiming channel sees; the person stays natural. */
static const step first_visit_then_registration[] = {
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .phone = P1, .expect_kind = FIRST, .expect_outcome = NATURAL,
     .expect_channel = "natural", .expect_agent = "none", .expect_matched = "none",
     .expect_conflict = "none", .save = "v1"},
    {AT, .when = "day 1 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_reason = "already_visitor", .expect_conflict = "registration_after_visit",
     .save = "r1"},
    {EXPECT_CONFLICT, .conflict = "r1", .expect_conflict = "registration_after_visit",
     .expect_cstatus = "open",
     .expect_text = {"\"rule\": 2", "\"matched_by\": \"phone\"",
                     "\"phone_mask\": \"138****0001\""}},
    /* The claiming agent sees it (masked phone only); another channel's agent does not. */
    {EXPECT_CONFLICT, .by = AGENT, .agent = "A1", .conflict = "r1", .expect_cstatus = "open"},
    {EXPECT_CONFLICT, .by = AGENT, .agent = "B1", .conflict = "r1", .expect_st = FV_ERR_NOT_FOUND},
    /* Nothing changed: natural, even with the agent at the visitor's side. */
    {AT, .when = "day 2 10:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_kind = RETURN, .expect_outcome = NATURAL,
     .expect_channel = "natural", .expect_matched = "phone", .expect_person = "v1",
     .expect_conflict = "none"},
    {EXPECT_PERSON, .person = "v1", .expect_channel = "natural", .expect_outcome = NATURAL,
     .expect_text = {"\"refusal\": \"already_visitor\""}, .expect_visits = 2},
};

static void test_first_visit_then_registration(void) {
    RUN_TABLE(first_visit_then_registration);
}

/* ---- 2. registration, then an accompanied visit ---------------------------------------------- */

/* channel_valid by the agent's QR scan, by reception at check-in and by reception afterwards; an
 * agent of another channel is no escort; only reception confirms at check-in. */
static const step accompanied_visit[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED,
     .expect_conflict = "none"},
    {REGISTER, .agent = "A2", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .expect_status = ACCEPTED},
    {AT, .when = "day 1 10:00"},
    /* (a) The agent scans the visit's QR code on the spot (扫码带访). */
    {CHECKIN, .phone = P1, .expect_kind = FIRST, .expect_outcome = PENDING_ESCORT,
     .expect_channel = "CA", .expect_agent = "A1", .expect_conflict = "none", .save = "v1"},
    {AT, .when = "day 1 10:05"},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_st = FV_ERR_STATE,
     .expect_msg = "outcome channel_valid"},
    {CHECKIN, .phone = P1, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CA", .expect_agent = "A1", .expect_person = "v1", .save = "v1r"},
    {ESCORT_QR, .visit = "v1r", .agent = "A1", .expect_st = FV_ERR_STATE,
     .expect_msg = "return visit"},
    /* (b) Reception confirms the accompanying agent at check-in. */
    {CHECKIN, .phone = P2, .escort_agent = "A2", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA", .expect_agent = "A2"},
    /* (c) Reception confirms after the check-in. */
    {CHECKIN, .phone = P3, .expect_kind = FIRST, .expect_outcome = PENDING_ESCORT, .save = "v3"},
    {ESCORT_RECEPTION, .visit = "v3", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {EXPECT_PERSON, .person = "v3", .expect_channel = "CA", .expect_outcome = CHANNEL_VALID},
    /* An agent of another channel at the visitor's side is no escort of this registration. */
    {CHECKIN, .phone = P4, .escort_agent = "B1", .expect_kind = FIRST,
     .expect_outcome = PENDING_ESCORT, .expect_channel = "CA", .save = "v4"},
    {ESCORT_RECEPTION, .visit = "v4", .agent = "B1", .expect_st = FV_ERR_STATE,
     .expect_msg = "not of the registering channel"},
    {ESCORT_RECEPTION, .visit = "v4", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    /* The kiosk does not confirm escorts; no registration, no channel. */
    {CHECKIN, .by = KIOSK, .phone = P5, .escort_agent = "A1", .expect_st = FV_ERR_STATE,
     .expect_msg = "only reception"},
    {CHECKIN, .phone = P6, .escort_agent = "A1", .expect_kind = FIRST, .expect_outcome = NATURAL,
     .expect_channel = "natural"},
};

static void test_accompanied_visit(void) {
    RUN_TABLE(accompanied_visit);
}

/* ---- 3. two channels, one phone ---------------------------------------------------------------
 */

/* First to register wins; the second channel is refused with a conflict, the same channel just
 * refused; the phone is free again when the window closes; then 32 rounds of two agents of
 * different channels registering one phone at the same moment from two handles. */
static const step two_channels_race[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED, .save = "r1"},
    {REGISTER, .agent = "A1", .phone = P5, .name = N5, .expect_status = ACCEPTED},
    {AT, .when = "day 0 09:01"},
    {REGISTER, .agent = "B1", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_reason = "registered_by_other_channel", .expect_conflict = "duplicate_registration",
     .save = "r2"},
    {EXPECT_CONFLICT, .conflict = "r2", .expect_cstatus = "open",
     .expect_text = {"\"holder_registration\": ", "\"holder_channel\": "}},
    {REGISTER, .agent = "A2", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_reason = "already_registered", .expect_conflict = "none"},
    {AT, .when = "day 0 11:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA", .expect_agent = "A1"},
    /* P5's protection ends at day 7 09:00. */
    {AT, .when = "day 7 08:59"},
    {REGISTER, .agent = "B1", .phone = P5, .name = N5, .expect_status = REFUSED,
     .expect_reason = "registered_by_other_channel"},
    {AT, .when = "day 7 09:00"},
    {REGISTER, .agent = "B1", .phone = P5, .name = N5, .expect_status = ACCEPTED},
    {RACE_REGISTER, .agent = "A1", .agent2 = "B1", .rounds = 32},
};

static void test_two_channels_race(void) {
    RUN_TABLE(two_channels_race);
}

/* ---- 4. a registration that expired before the visit ------------------------------------------
 */

static const step registration_expired[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A3", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    /* A3's team protects 3 days. */
    {AT, .when = "day 3 10:00"},
    {CHECKIN, .phone = P3, .escort_agent = "A3", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_INVALID, .expect_channel = "natural", .expect_agent = "none",
     .expect_conflict = "registration_expired"},
    /* The project's 7 days: still live a minute before. */
    {AT, .when = "day 7 08:59"},
    {CHECKIN, .phone = P2, .escort_agent = "A1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA"},
    {AT, .when = "day 8 10:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_INVALID, .expect_channel = "natural", .expect_agent = "none",
     .expect_conflict = "registration_expired", .save = "v1"},
    {EXPECT_CONFLICT, .conflict = "v1", .expect_cstatus = "open",
     .expect_text = {"\"registration_expires\": "}},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_st = FV_ERR_STATE,
     .expect_msg = "outcome channel_invalid"},
    {AT, .when = "day 9 10:00"},
    {CHECKIN, .phone = P1, .expect_kind = RETURN, .expect_outcome = CHANNEL_INVALID,
     .expect_channel = "natural", .expect_person = "v1", .expect_conflict = "none"},
    {DEAL, .phone = P1, .amount = 250000000, .expect_channel = "natural", .expect_agent = "none",
     .expect_commission = 0},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_reason = "already_visitor"},
};

static void test_registration_expired(void) {
    RUN_TABLE(registration_expired);
}

/* ---- 5. a return visit never changes the channel ----------------------------------------------
 */

static const step return_never_changes_channel[] = {
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .phone = P1, .expect_kind = FIRST, .expect_outcome = NATURAL, .save = "v1"},
    {AT, .when = "day 1 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_reason = "already_visitor", .expect_conflict = "registration_after_visit"},
    {AT, .when = "day 2 10:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_kind = RETURN, .expect_outcome = NATURAL,
     .expect_channel = "natural", .expect_person = "v1"},
    /* A channel's person stays with it, whoever brings them back. */
    {REGISTER, .agent = "A1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {CHECKIN, .phone = P2, .escort_agent = "A1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA", .save = "v2"},
    {AT, .when = "day 3 10:00"},
    {REGISTER, .agent = "B1", .phone = P2, .name = N2, .expect_status = REFUSED,
     .expect_reason = "already_visitor", .expect_conflict = "registration_after_visit"},
    {CHECKIN, .phone = P2, .escort_agent = "B1", .expect_kind = RETURN,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA", .expect_agent = "A1",
     .expect_person = "v2"},
    {AT, .when = "day 60 10:00"},
    {CHECKIN, .phone = P2, .expect_kind = RETURN, .expect_channel = "CA", .expect_agent = "A1",
     .expect_person = "v2"},
    /* A face-only first visitor: the ledger does not know the phone, so a registration of it is
     * accepted... */
    {CONSENT, .consent = "K1"},
    {AT, .when = "day 61 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .expect_kind = FIRST,
     .expect_outcome = NATURAL, .expect_matched = "none", .expect_template = YES, .save = "v3"},
    {AT, .when = "day 62 09:00"},
    {REGISTER, .agent = "A1", .phone = P3, .name = N3, .expect_status = ACCEPTED,
     .expect_conflict = "none"},
    /* ...and when the phone comes with the face, the claim contradicts the earlier visit. */
    {AT, .when = "day 63 10:00"},
    {CONSENT, .consent = "K2"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K2", .phone = P3, .expect_kind = RETURN,
     .expect_outcome = NATURAL, .expect_channel = "natural", .expect_matched = "face",
     .expect_person = "v3", .expect_template = NO,
     .expect_conflict = "registered_after_earlier_visit", .save = "v3r"},
    {EXPECT_CONFLICT, .conflict = "v3r", .expect_cstatus = "open",
     .expect_text = {"\"first_visit_at\": ", "\"registered_at\": "}},
    {ESCORT_QR, .visit = "v3r", .agent = "A1", .expect_st = FV_ERR_STATE},
    {EXPECT_PERSON, .person = "v3", .expect_channel = "natural", .expect_outcome = NATURAL,
     .expect_text =
         {"\"status\": \"accepted\", \"refusal\": null, \"outcome\": \"channel_invalid\""}},
    /* The phone now finds the same person. */
    {AT, .when = "day 64 10:00"},
    {CHECKIN, .phone = P3, .expect_kind = RETURN, .expect_outcome = NATURAL,
     .expect_matched = "phone", .expect_person = "v3", .expect_conflict = "none"},
};

static void test_return_never_changes_channel(void) {
    RUN_TABLE(return_never_changes_channel);
}

/* ---- 6. deals inside and outside the deal window ----------------------------------------------
 */

static const step deal_window[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {REGISTER, .agent = "B1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P2, .escort_agent = "B1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P3, .expect_outcome = NATURAL},
    {AT, .when = "day 30 15:00"},
    /* 1.5 % of 3,000,000.00 */
    {DEAL, .phone = P1, .amount = 300000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_window = YES, .expect_flagged = NO, .expect_commission = 4500000,
     .expect_conflict = "none"},
    /* 5,000.00 per deal */
    {DEAL, .phone = P2, .amount = 250000000, .expect_channel = "CB", .expect_agent = "B1",
     .expect_window = YES, .expect_commission = 500000},
    {DEAL, .phone = P3, .amount = 180000000, .expect_channel = "natural", .expect_agent = "none",
     .expect_window = YES, .expect_commission = 0},
    /* 90 days after the first visit, to the minute, is still inside; a minute later is not. */
    {AT, .when = "day 90 10:00"},
    {DEAL, .phone = P1, .amount = 120000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_window = YES, .expect_commission = 1800000},
    {AT, .when = "day 90 10:01"},
    {DEAL, .phone = P2, .amount = 250000000, .expect_channel = "natural", .expect_agent = "none",
     .expect_window = NO, .expect_commission = 0},
    {DEAL, .phone = P1, .amount = 100000000, .expect_channel = "natural", .expect_window = NO,
     .expect_commission = 0},
    /* A buyer who never visited is not judged. */
    {DEAL, .phone = P9, .amount = 100, .expect_st = FV_ERR_NOT_FOUND},
};

static void test_deal_window(void) {
    RUN_TABLE(deal_window);
}

/* ---- 7. the phone path at the kiosk ------------------------------------------------------------
 */

/* A visitor declines face: phone and one-time code. Wrong codes count, 5 kill the code, codes
 * expire after 300 s, are used once, are for their phone only, and at most 5 per phone and hour
 * are sent. */
static const step kiosk_phone_path[] = {
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_NONE, .expect_st = FV_ERR_STATE,
     .expect_msg = "one-time code is required"},
    {OTP_SEND, .phone = P1},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE,
     .expect_msg = "wrong one-time code"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE,
     .expect_msg = "wrong one-time code"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_LAST, .expect_kind = FIRST,
     .expect_outcome = NATURAL, .expect_template = NO, .save = "v1"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_LAST, .expect_st = FV_ERR_STATE,
     .expect_msg = "already used"},
    {OTP_SEND, .phone = P2},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_LAST, .expect_st = FV_ERR_STATE,
     .expect_msg = "another phone"},
    {AT, .when = "day 0 10:10"},
    {OTP_SEND, .phone = P1},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE,
     .expect_msg = "wrong one-time code"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_LAST, .expect_st = FV_ERR_LIMIT,
     .expect_msg = "too many wrong attempts"},
    {OTP_SEND, .phone = P1},
    {AT, .when = "day 0 10:16"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_LAST, .expect_st = FV_ERR_STATE,
     .expect_msg = "expired"},
    /* Codes to P1 so far: 10:00, 10:10, 10:10. */
    {OTP_SEND, .phone = P1},
    {OTP_SEND, .phone = P1},
    {OTP_SEND, .phone = P1, .expect_st = FV_ERR_LIMIT, .expect_msg = "too many one-time codes"},
    {CHECKIN, .by = KIOSK, .phone = P1, .otp = OTP_LAST, .expect_kind = RETURN,
     .expect_matched = "phone", .expect_person = "v1"},
    /* Reception checks the visitor in without a code. */
    {CHECKIN, .by = RECEPTION, .phone = P1, .expect_kind = RETURN, .expect_person = "v1"},
    /* An hour on, codes are sent again. */
    {AT, .when = "day 0 11:11"},
    {CHECKIN, .by = KIOSK, .phone = P1, .expect_kind = RETURN, .expect_person = "v1"},
    {EXPECT_PERSON, .person = "v1", .expect_visits = 4},
};

static void test_kiosk_phone_path(void) {
    RUN_TABLE(kiosk_phone_path);
}

/* ---- 8. a face-free project --------------------------------------------------------------------
 */

static const step face_free_project[] = {
    {SETTINGS, .face_free = true},
    {CONSENT, .consent = "K1", .expect_st = FV_ERR_STATE, .expect_msg = "face-free"},
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .phone = P1, .expect_st = FV_ERR_STATE,
     .expect_msg = "face-free"},
    {CHECKIN, .by = KIOSK, .phone = P1, .expect_kind = FIRST, .expect_outcome = PENDING_ESCORT,
     .expect_channel = "CA", .expect_template = NO, .save = "v1"},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .by = KIOSK, .phone = P2, .expect_kind = FIRST, .expect_outcome = NATURAL},
    {AT, .when = "day 3 10:00"},
    {CHECKIN, .by = KIOSK, .phone = P1, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CA", .expect_person = "v1"},
    {REGISTER, .agent = "B1", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_reason = "already_visitor"},
    {AT, .when = "day 20 10:00"},
    {DEAL, .phone = P1, .amount = 200000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_commission = 3000000},
    {FACE_PERSONS, .expect_n = 0},
};

static void test_face_free_project(void) {
    RUN_TABLE(face_free_project);
}

/* ---- 9. a template that expired ----------------------------------------------------------------
 */

/* Retention (30 days) ends, the purge destroys the template; the person comes back with face and
 * phone: the phone links them to their first visit and a template is stored again. */
static const step template_expired[] = {
    {CONSENT, .consent = "K1"},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .phone = P1, .expect_kind = FIRST,
     .expect_outcome = NATURAL, .expect_template = YES, .save = "v1"},
    {AT, .when = "day 5 10:00"},
    {CONSENT, .consent = "K2"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K2", .expect_kind = RETURN,
     .expect_matched = "face", .expect_person = "v1", .expect_template = NO},
    {FACE_PERSONS, .expect_n = 1},
    {AT, .when = "day 29 10:00"},
    {PURGE, .expect_n = 0},
    {AT, .when = "day 31 10:00"},
    {PURGE, .expect_n = 1},
    {PURGE, .expect_n = 0},
    {FACE_PERSONS, .expect_n = 0},
    {EXPECT_PERSON, .person = "v1", .expect_text = {"\"held\": false"}},
    {CONSENT, .consent = "K3"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K3", .phone = P1, .expect_kind = RETURN,
     .expect_matched = "phone", .expect_outcome = NATURAL, .expect_person = "v1",
     .expect_template = YES},
    {FACE_PERSONS, .expect_n = 1},
    {EXPECT_PERSON, .person = "v1", .expect_text = {"\"held\": true"}, .expect_visits = 3},
    /* The face alone finds them again. */
    {AT, .when = "day 32 10:00"},
    {CONSENT, .consent = "K4"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K4", .expect_kind = RETURN,
     .expect_matched = "face", .expect_person = "v1", .expect_template = NO},
};

static void test_template_expired(void) {
    RUN_TABLE(template_expired);
}

/* ---- 10. consent withdrawn
 * ------------------------------------------------------------------------ */

static const step consent_withdrawn[] = {
    {CONSENT, .consent = "K1"},
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .phone = P1, .expect_kind = FIRST,
     .expect_outcome = PENDING_ESCORT, .expect_template = YES, .save = "v1"},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {AT, .when = "day 1 10:00"},
    {CONSENT, .consent = "K2"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K2", .expect_kind = RETURN,
     .expect_matched = "face", .expect_outcome = CHANNEL_VALID, .expect_channel = "CA",
     .expect_person = "v1"},
    /* Withdrawal deletes the templates at once; the person's other consent goes too. */
    {WITHDRAW_CONSENT, .consent = "K1"},
    {FACE_PERSONS, .expect_n = 0},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K2", .expect_st = FV_ERR_STATE,
     .expect_msg = "withdrawn"},
    {EXPECT_PERSON, .person = "v1", .expect_channel = "CA", .expect_outcome = CHANNEL_VALID,
     .expect_text = {"\"held\": false"}, .expect_absent = {"\"withdrawn\": null"}},
    /* The face no longer matches: alone it is a new first visit... */
    {CONSENT, .consent = "K3"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K3", .expect_kind = FIRST,
     .expect_outcome = NATURAL, .expect_not_person = "v1", .expect_template = YES, .save = "v2"},
    /* ...while the phone finds the first visit, whose attribution stands. */
    {CHECKIN, .by = KIOSK, .phone = P1, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CA", .expect_agent = "A1", .expect_person = "v1"},
    /* Withdrawal of a whole person from the self-service page; a return with face and phone. */
    {CONSENT, .consent = "K4"},
    {AT, .when = "day 2 09:00"},
    {REGISTER, .agent = "B1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {AT, .when = "day 2 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F2", .consent = "K4", .phone = P2, .expect_kind = FIRST,
     .expect_outcome = PENDING_ESCORT, .expect_template = YES, .save = "v3"},
    {ESCORT_RECEPTION, .visit = "v3", .agent = "B1", .expect_outcome = CHANNEL_VALID},
    {FACE_PERSONS, .expect_n = 2},
    {WITHDRAW_PERSON, .by = VISITOR, .as = "v2", .person = "v3", .expect_st = FV_ERR_STATE},
    {WITHDRAW_PERSON, .by = VISITOR, .person = "v3"},
    {WITHDRAW_PERSON, .by = VISITOR, .person = "v3", .expect_st = FV_ERR_NOT_FOUND,
     .expect_msg = "no standing consent"},
    {FACE_PERSONS, .expect_n = 1},
    {AT, .when = "day 3 10:00"},
    {CONSENT, .consent = "K5"},
    {CHECKIN, .by = KIOSK, .face = "F2", .consent = "K5", .phone = P2, .expect_kind = RETURN,
     .expect_matched = "phone", .expect_outcome = CHANNEL_VALID, .expect_channel = "CB",
     .expect_agent = "B1", .expect_person = "v3", .expect_template = YES},
    {FACE_PERSONS, .expect_n = 2},
};

static void test_consent_withdrawn(void) {
    RUN_TABLE(consent_withdrawn);
}

/* ---- 11. concurrent duplicate check-ins, idempotency --------------------------------------------
 */

static const step concurrent_checkins[] = {
    {AT, .when = "day 0 10:00"},
    {RACE_CHECKIN, .rounds = 32},
    /* A retried request (same key, same request) returns the first result, changing nothing. */
    {CHECKIN, .phone = P1, .idem = "desk-1/0001", .expect_kind = FIRST, .expect_outcome = NATURAL,
     .save = "v1"},
    {CHECKIN, .phone = P1, .idem = "desk-1/0001", .expect_kind = FIRST, .expect_same = "v1",
     .expect_person = "v1"},
    {EXPECT_PERSON, .person = "v1", .expect_visits = 1},
    {CHECKIN, .phone = P2, .idem = "desk-1/0001", .expect_st = FV_ERR_STATE,
     .expect_msg = "different request"},
    {REGISTER, .agent = "A1", .phone = P1, .idem = "desk-1/0001", .expect_st = FV_ERR_STATE},
    {CHECKIN, .phone = P1, .idem = "desk-1/0002", .expect_kind = RETURN, .expect_person = "v1"},
    {EXPECT_PERSON, .person = "v1", .expect_visits = 2},
    /* A kiosk retry needs no second one-time code. */
    {CHECKIN, .by = KIOSK, .phone = P3, .idem = "kiosk-1/0001", .expect_kind = FIRST, .save = "v3"},
    {CHECKIN, .by = KIOSK, .phone = P3, .idem = "kiosk-1/0001", .otp = OTP_NONE,
     .expect_kind = FIRST, .expect_same = "v3"},
    {EXPECT_PERSON, .person = "v3", .expect_visits = 1},
    /* Registrations and deals. */
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .idem = "a1/0001", .expect_status = ACCEPTED,
     .save = "r4"},
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .idem = "a1/0001", .expect_status = ACCEPTED,
     .expect_same = "r4"},
    {REGISTER, .agent = "A1", .phone = P5, .name = N5, .idem = "a1/0001",
     .expect_st = FV_ERR_STATE},
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .expect_status = REFUSED,
     .expect_reason = "already_registered"},
    {AT, .when = "day 0 11:00"},
    {CHECKIN, .phone = P4, .escort_agent = "A1", .expect_outcome = CHANNEL_VALID},
    {DEAL, .phone = P4, .amount = 100000000, .idem = "deal/0001", .expect_channel = "CA",
     .expect_commission = 1500000, .save = "d4"},
    {DEAL, .phone = P4, .amount = 100000000, .idem = "deal/0001", .expect_channel = "CA",
     .expect_commission = 1500000, .expect_same = "d4"},
    {DEAL, .phone = P4, .amount = 100000001, .idem = "deal/0001", .expect_st = FV_ERR_STATE},
    {COUNT, .sql = "SELECT COUNT(*) FROM deal", .expect_n = 1},
};

static void test_concurrent_checkins_and_idempotency(void) {
    RUN_TABLE(concurrent_checkins);
}

/* ---- 12. the first-visit outcomes and the escort window ----------------------------------------
 */

static const step outcomes_and_escort_window[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    {AT, .when = "day 8 09:00"},
    {REGISTER, .agent = "A1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P5, .name = N5, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P6, .name = N6, .expect_status = ACCEPTED},
    {AT, .when = "day 8 10:00"},
    {CHECKIN, .phone = P1, .expect_kind = FIRST, .expect_outcome = NATURAL,
     .expect_channel = "natural", .expect_conflict = "none"},
    {CHECKIN, .phone = P2, .escort_agent = "A1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA", .expect_conflict = "none"},
    {CHECKIN, .phone = P3, .expect_kind = FIRST, .expect_outcome = CHANNEL_INVALID,
     .expect_channel = "natural", .expect_conflict = "registration_expired"},
    {CHECKIN, .phone = P4, .expect_kind = FIRST, .expect_outcome = PENDING_ESCORT,
     .expect_channel = "CA", .expect_agent = "A1", .expect_conflict = "none", .save = "v4"},
    {CHECKIN, .phone = P5, .expect_kind = FIRST, .expect_outcome = PENDING_ESCORT, .save = "v5"},
    {CHECKIN, .phone = P6, .expect_kind = FIRST, .expect_outcome = PENDING_ESCORT, .save = "v6"},
    {AT, .when = "day 8 10:30"},
    {ESCORT_QR, .visit = "v5", .agent = "B1", .expect_st = FV_ERR_STATE,
     .expect_msg = "not of the registering channel"},
    {ESCORT_QR, .by = RECEPTION, .visit = "v5", .expect_st = FV_ERR_STATE, .expect_msg = "QR scan"},
    {SETTLE, .expect_n = 0},
    /* Any agent of the registering channel may scan. */
    {ESCORT_QR, .visit = "v5", .agent = "A2", .expect_outcome = CHANNEL_VALID},
    /* The window is 120 minutes, its last millisecond included, for the scan and the settlement
     * alike. */
    {AT, .when = "day 8 12:00"},
    {SETTLE, .expect_n = 0},
    {ESCORT_QR, .visit = "v6", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {AT, .when = "day 8 12:01"},
    {ESCORT_QR, .visit = "v4", .agent = "A1", .expect_st = FV_ERR_STATE,
     .expect_msg = "escort window"},
    {SETTLE, .expect_n = 1},
    {SETTLE, .expect_n = 0},
    {EXPECT_CONFLICT, .visit = "v4", .expect_conflict = "escort_not_confirmed",
     .expect_cstatus = "open", .expect_text = {"\"escort_deadline\": "}, .save = "c4"},
    {EXPECT_PERSON, .person = "v4", .expect_channel = "natural", .expect_outcome = CHANNEL_INVALID},
    {ESCORT_RECEPTION, .visit = "v4", .agent = "A1", .expect_st = FV_ERR_STATE,
     .expect_msg = "outcome channel_invalid"},
    {CHECKIN, .phone = P4, .expect_kind = RETURN, .expect_outcome = CHANNEL_INVALID,
     .expect_channel = "natural", .expect_person = "v4"},
    {CHECKIN, .phone = P5, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CA", .expect_agent = "A1"},
    /* The channel appeals the settlement; review accepts it: the channel is back. */
    {APPEAL, .agent = "A1", .conflict = "c4", .reason = "A1 was there; the scanner failed"},
    {DECIDE, .by = ADMIN, .conflict = "c4", .verdict = OVERTURN, .reason = "camera-free desk log"},
    {CHECKIN, .phone = P4, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CA", .expect_agent = "A1", .expect_person = "v4"},
};

static void test_first_visit_outcomes_and_escort_window(void) {
    RUN_TABLE(outcomes_and_escort_window);
}

/* ---- 13. appeals
 * ----------------------------------------------------------------------------------- */

static const step appeals[] = {
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .phone = P1, .expect_outcome = NATURAL, .save = "v1"},
    {CHECKIN, .phone = P2, .expect_outcome = NATURAL, .save = "v2"},
    {AT, .when = "day 1 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = REFUSED,
     .expect_conflict = "registration_after_visit", .save = "c1"},
    {REGISTER, .agent = "B1", .phone = P2, .name = N2, .expect_status = REFUSED,
     .expect_conflict = "registration_after_visit", .save = "c2"},
    /* Accepted on appeal: upheld, appealed once by the claiming agent, overturned as final. */
    {AT, .when = "day 2 10:00"},
    {DECIDE, .by = AGENT, .agent = "A1", .conflict = "c1", .verdict = OVERTURN,
     .expect_st = FV_ERR_STATE, .expect_msg = "only reception or an admin"},
    {DECIDE, .conflict = "c1", .verdict = UPHOLD, .reason = "", .expect_st = FV_ERR_ARG,
     .expect_msg = "reason"},
    {DECIDE, .conflict = "c1", .verdict = UPHOLD,
     .reason = "the visitor came alone on day 0 (reception log)"},
    {APPEAL, .agent = "A1", .conflict = "c1", .reason = "", .expect_st = FV_ERR_ARG},
    {APPEAL, .agent = "B1", .conflict = "c1", .expect_st = FV_ERR_STATE,
     .expect_msg = "only the claiming channel"},
    {APPEAL, .agent = "A1", .conflict = "c1",
     .reason = "the customer called agent A1 three days before; call log attached"},
    {APPEAL, .agent = "A1", .conflict = "c1", .expect_st = FV_ERR_STATE,
     .expect_msg = "already appealed"},
    {APPEAL, .agent = "A2", .conflict = "c1", .expect_st = FV_ERR_STATE,
     .expect_msg = "already appealed"},
    {EXPECT_CONFLICT, .conflict = "c1", .expect_cstatus = "appealed",
     .expect_text = {"\"by\": \"reception:2\", \"action\": \"decide\", \"verdict\": \"uphold\","
                     " \"reason\": \"the visitor came alone on day 0 (reception log)\"",
                     "\"action\": \"appeal\"", "call log attached"}},
    {AT, .when = "day 3 10:00"},
    {DECIDE, .by = ADMIN, .conflict = "c1", .verdict = OVERTURN,
     .reason = "the call log predates the visit"},
    {EXPECT_CONFLICT, .conflict = "c1", .expect_cstatus = "closed",
     .expect_text = {"\"verdict\": \"overturn\", \"appealed\": true",
                     "\"by\": \"admin:1\", \"action\": \"decide_appeal\", \"verdict\": "
                     "\"overturn\", \"reason\": \"the call log predates the visit\""}},
    {DECIDE, .conflict = "c1", .verdict = UPHOLD, .expect_st = FV_ERR_STATE,
     .expect_msg = "already closed"},
    {APPEAL, .agent = "A1", .conflict = "c1", .expect_st = FV_ERR_STATE},
    {EXPECT_PERSON, .person = "v1", .expect_channel = "CA", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P1, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CA", .expect_agent = "A1", .expect_person = "v1"},
    {DEAL, .phone = P1, .amount = 200000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_commission = 3000000},
    /* Rejected: upheld, appealed by the channel's manager, upheld as final. */
    {DECIDE, .conflict = "c2", .verdict = UPHOLD, .reason = "no contact before the visit"},
    {APPEAL, .by = MANAGER, .channel = "CB", .conflict = "c2",
     .reason = "our referrer recommended the project"},
    {DECIDE, .conflict = "c2", .verdict = UPHOLD,
     .reason = "a recommendation is not a registration"},
    {EXPECT_CONFLICT, .conflict = "c2", .expect_cstatus = "closed",
     .expect_text = {"\"verdict\": \"uphold\", \"appealed\": true",
                     "\"by\": \"channel_manager:", "our referrer recommended the project",
                     "a recommendation is not a registration"}},
    {APPEAL, .by = MANAGER, .channel = "CB", .conflict = "c2", .expect_st = FV_ERR_STATE},
    {EXPECT_PERSON, .person = "v2", .expect_channel = "natural", .expect_outcome = NATURAL},
    {DEAL, .phone = P2, .amount = 200000000, .expect_channel = "natural", .expect_commission = 0},
    /* Two channels on one phone, overturned at once: nothing left to appeal for the claimant. */
    {REGISTER, .agent = "A1", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    {AT, .when = "day 3 10:05"},
    {REGISTER, .agent = "B1", .phone = P3, .name = N3, .expect_status = REFUSED,
     .expect_conflict = "duplicate_registration", .save = "c3"},
    {DECIDE, .conflict = "c3", .verdict = OVERTURN,
     .reason = "the customer chose Referral B in writing"},
    {APPEAL, .agent = "B1", .conflict = "c3", .expect_st = FV_ERR_STATE,
     .expect_msg = "nothing to appeal"},
    {AT, .when = "day 4 10:00"},
    {CHECKIN, .phone = P3, .escort_agent = "B1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CB", .expect_agent = "B1"},
    /* The same, overturned after the holder's visit: the attribution and the visit go to the
     * claim, and the holder's registration keeps no outcome of a visit that is no longer its. */
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .expect_status = ACCEPTED},
    {AT, .when = "day 4 10:05"},
    {REGISTER, .agent = "B1", .phone = P4, .name = N4, .expect_status = REFUSED,
     .expect_conflict = "duplicate_registration", .save = "c4"},
    {AT, .when = "day 4 11:00"},
    {CHECKIN, .phone = P4, .escort_agent = "A1", .expect_kind = FIRST,
     .expect_outcome = CHANNEL_VALID, .expect_channel = "CA", .save = "v4"},
    {DECIDE, .conflict = "c4", .verdict = OVERTURN, .reason = "Referral B registered first"},
    {EXPECT_PERSON, .person = "v4", .expect_channel = "CB", .expect_outcome = CHANNEL_VALID,
     .expect_text = {"\"status\": \"accepted\", \"refusal\": null, \"outcome\": \"channel_valid\"",
                     "\"status\": \"refused\", \"refusal\": \"overturned_on_review\", \"outcome\": "
                     "null"}},
    {CHECKIN, .phone = P4, .expect_kind = RETURN, .expect_outcome = CHANNEL_VALID,
     .expect_channel = "CB", .expect_agent = "B1", .expect_person = "v4"},
    {COUNT,
     .sql = "SELECT COUNT(*) FROM registration WHERE status = 'refused' AND"
            " (visit_id IS NOT NULL OR outcome IS NOT NULL)",
     .expect_n = 0},
    {COUNT,
     .sql = "SELECT COUNT(*) FROM registration r JOIN attribution a ON a.registration_id = r.id"
            " JOIN visit v ON v.id = r.visit_id WHERE v.person_id = a.person_id AND"
            " r.outcome = 'channel_valid' AND a.outcome = 'channel_valid'",
     .expect_n = 2},
};

static void test_appeals(void) {
    RUN_TABLE(appeals);
}

/* ---- 14. a co-buyer who visited before the registration ----------------------------------------
 */

static const step co_buyer_before_registration[] = {
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .phone = P2, .expect_kind = FIRST, .expect_outcome = NATURAL, .save = "v2"},
    {AT, .when = "day 1 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    {AT, .when = "day 1 10:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_outcome = CHANNEL_VALID, .save = "v1"},
    {CHECKIN, .phone = P3, .escort_agent = "A1", .expect_outcome = CHANNEL_VALID},
    {AT, .when = "day 2 10:00"},
    {CHECKIN, .phone = P4, .expect_outcome = NATURAL},
    {AT, .when = "day 10 15:00"},
    /* P2, the co-buyer, came the day before the channel registered P1. */
    {DEAL, .phone = P1, .cobuyer = P2, .amount = 300000000, .expect_channel = "CA",
     .expect_agent = "A1", .expect_window = YES, .expect_flagged = YES,
     .expect_commission = 4500000, .expect_conflict = "buyer_visited_before_registration",
     .save = "d1"},
    {EXPECT_CONFLICT, .conflict = "d1", .expect_cstatus = "open",
     .expect_text = {"\"rule\": 6", "\"buyer_index\": 1", "\"registered_at\": "}},
    /* Co-buyers who came after the registration, or never, flag nothing. */
    {DEAL, .phone = P3, .cobuyer = P4, .amount = 100000000, .expect_channel = "CA",
     .expect_flagged = NO, .expect_commission = 1500000, .expect_conflict = "none"},
    {DEAL, .phone = P3, .cobuyer = P5, .amount = 100000000, .expect_channel = "CA",
     .expect_flagged = NO, .expect_commission = 1500000, .expect_conflict = "none"},
    /* Review: the co-buyer's own earlier visit makes it a natural deal. */
    {DECIDE, .conflict = "d1", .verdict = OVERTURN,
     .reason = "the co-buyer's own visit came first"},
    {EXPECT_PERSON, .person = "v1",
     .expect_text = {"\"role\": \"buyer\", \"channel\": \"natural\""}},
    {EXPECT_PERSON, .person = "v2",
     .expect_text = {"\"role\": \"co_buyer\", \"channel\": \"natural\""}},
};

static void test_co_buyer_before_registration(void) {
    RUN_TABLE(co_buyer_before_registration);
}

/* ---- 15. commission per channel and agent for a month ------------------------------------------
 */

static const step monthly_commission[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A2", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    {REGISTER, .agent = "B1", .phone = P4, .name = N4, .expect_status = ACCEPTED},
    {REGISTER, .agent = "B1", .phone = P5, .name = N5, .expect_status = ACCEPTED},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .phone = P1, .escort_agent = "A1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P2, .escort_agent = "A1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P3, .escort_agent = "A2", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P4, .escort_agent = "B1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P5, .escort_agent = "B1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P6, .expect_outcome = NATURAL},
    /* January (UTC+8). */
    {AT, .when = "day 10 11:00"},
    {DEAL, .phone = P1, .amount = 100000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_commission = 1500000},
    {AT, .when = "day 12 11:00"},
    {DEAL, .phone = P2, .amount = 200000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_commission = 3000000},
    {AT, .when = "day 14 11:00"},
    {DEAL, .phone = P3, .amount = 150000000, .expect_channel = "CA", .expect_agent = "A2",
     .expect_commission = 2250000},
    {AT, .when = "day 15 11:00"},
    {DEAL, .phone = P4, .amount = 180000000, .expect_channel = "CB", .expect_agent = "B1",
     .expect_commission = 500000},
    {AT, .when = "day 16 11:00"},
    {DEAL, .phone = P5, .amount = 90000000, .expect_channel = "CB", .expect_agent = "B1",
     .expect_commission = 500000},
    {AT, .when = "day 17 11:00"},
    {DEAL, .phone = P6, .amount = 120000000, .expect_channel = "natural", .expect_agent = "none",
     .expect_commission = 0},
    /* The last minute of January in the office's time, then February. */
    {AT, .when = "day 30 23:59"},
    {DEAL, .phone = P2, .amount = 100000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_commission = 1500000},
    {AT, .when = "day 31 00:00"},
    {DEAL, .phone = P1, .amount = 80000000, .expect_channel = "CA", .expect_agent = "A1",
     .expect_commission = 1200000},
    {REPORT, .section = "commission",
     .expect_text = {"{\"month\": \"2026-01\", \"channel\": \"Agency A\", \"agent\": \"agent A1\","
                     " \"deals\": 3, \"amount_cents\": 400000000, \"commission_cents\": 6000000}",
                     "{\"month\": \"2026-01\", \"channel\": \"Agency A\", \"agent\": \"agent A2\","
                     " \"deals\": 1, \"amount_cents\": 150000000, \"commission_cents\": 2250000}",
                     "{\"month\": \"2026-01\", \"channel\": \"Referral B\", \"agent\": \"agent "
                     "B1\", \"deals\": 2, \"amount_cents\": 270000000, \"commission_cents\": "
                     "1000000}",
                     "{\"month\": \"2026-02\", \"channel\": \"Agency A\", \"agent\": \"agent A1\","
                     " \"deals\": 1, \"amount_cents\": 80000000, \"commission_cents\": 1200000}"}},
    {REPORT, .section = "commission",
     .expect_text = {"{\"month\": \"2026-01\", \"channel\": \"natural\", \"agent\": null,"
                     " \"deals\": 1, \"amount_cents\": 120000000, \"commission_cents\": 0}"}},
};

static void test_monthly_commission(void) {
    RUN_TABLE(monthly_commission);
}

/* ---- 16. minors --------------------------------------------------------------------------------
 */

static const step minors[] = {
    {CONSENT, .consent = "K1", .minor = true, .expect_st = FV_ERR_STATE, .expect_msg = "guardian"},
    {CONSENT, .consent = "K2", .minor = true, .guardian = true},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .expect_st = FV_ERR_STATE,
     .expect_msg = "no consent record"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K2", .expect_kind = FIRST,
     .expect_template = YES, .save = "v1"},
    {EXPECT_PERSON, .person = "v1", .expect_text = {"\"age\": \"minor\", \"guardian\": true"}},
    {CONSENT, .consent = "K3"},
    {CHECKIN, .by = KIOSK, .face = "F2", .consent = "K3", .expect_kind = FIRST,
     .expect_template = YES, .save = "v2"},
    {EXPECT_PERSON, .person = "v2", .expect_text = {"\"age\": \"adult\", \"guardian\": false"}},
    /* Without a guardian, the phone path. */
    {CHECKIN, .by = KIOSK, .phone = P1, .expect_kind = FIRST, .expect_template = NO},
    {FACE_PERSONS, .expect_n = 2},
};

static void test_minors(void) {
    RUN_TABLE(minors);
}

/* ---- 17. rights: slip, export, deletion ---------------------------------------------------------
 */

static const step rights[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {CONSENT, .consent = "K1"},
    {CONSENT, .consent = "K2"},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .phone = P1, .expect_kind = FIRST,
     .expect_outcome = PENDING_ESCORT, .expect_template = YES, .save = "v1"},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .by = KIOSK, .face = "F2", .consent = "K2", .expect_kind = FIRST,
     .expect_template = YES, .save = "v2"},
    {FACE_PERSONS, .expect_n = 2},
    /* The self-service page: the slip's code, then a one-time code to the phone on record. */
    {AT, .when = "day 1 20:00"},
    {SLIP, .visit = "v1", .phone = P1, .expect_person = "v1"},
    {SLIP, .visit = "v1", .phone = P1, .otp = OTP_NONE, .expect_st = FV_ERR_STATE,
     .expect_msg = "one-time code is required"},
    {OTP_SEND, .phone = P1},
    {SLIP, .visit = "v1", .phone = P1, .otp = OTP_WRONG, .expect_st = FV_ERR_STATE,
     .expect_msg = "wrong one-time code"},
    {SLIP, .visit = "v1", .phone = P2, .expect_st = FV_ERR_STATE, .expect_msg = "does not match"},
    {SLIP, .visit = "v2", .expect_person = "v2"},
    /* What is held: no template values; the full phone for the person and an admin only. */
    {EXPECT_PERSON, .by = VISITOR, .person = "v1", .phone = P1, .phone_shown = YES,
     .expect_channel = "CA", .expect_outcome = CHANNEL_VALID, .expect_visits = 1,
     .expect_text = {"\"held\": true", "\"note\": \"templates are never exported"}},
    {EXPECT_PERSON, .by = ADMIN, .person = "v1", .phone = P1, .phone_shown = YES},
    {EXPECT_PERSON, .by = RECEPTION, .person = "v1", .phone = P1, .phone_shown = NO},
    {EXPECT_PERSON, .by = AUDITOR, .person = "v1", .phone = P1, .phone_shown = NO},
    {EXPECT_PERSON, .by = AGENT, .agent = "A1", .person = "v1", .expect_st = FV_ERR_STATE},
    {EXPECT_PERSON, .by = VISITOR, .as = "v2", .person = "v1", .expect_st = FV_ERR_STATE},
    /* Deletion: phone, templates, the registration's name and phone; the visits stay. */
    {DELETE_PERSON, .by = VISITOR, .as = "v2", .person = "v1", .expect_st = FV_ERR_STATE},
    {DELETE_PERSON, .by = VISITOR, .person = "v1"},
    {FACE_PERSONS, .expect_n = 1},
    {EXPECT_PERSON, .person = "v1", .expect_st = FV_ERR_NOT_FOUND},
    {SLIP, .visit = "v1", .phone = P1, .expect_st = FV_ERR_NOT_FOUND},
    {COUNT,
     .sql = "SELECT COUNT(*) FROM registration WHERE name_ct IS NOT NULL OR phone_ct IS NOT NULL"
            " OR phone_hash IS NOT NULL",
     .expect_n = 0},
    {COUNT, .sql = "SELECT COUNT(*) FROM visit", .expect_n = 2},
    {COUNT, .sql = "SELECT COUNT(*) FROM attribution WHERE outcome = 'channel_valid'",
     .expect_n = 1},
    /* The phone and the face are strangers now. */
    {AT, .when = "day 2 10:00"},
    {CHECKIN, .by = KIOSK, .phone = P1, .expect_kind = FIRST, .expect_outcome = NATURAL,
     .expect_not_person = "v1"},
    {CONSENT, .consent = "K3"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K3", .expect_kind = FIRST,
     .expect_not_person = "v1", .expect_template = YES},
};

static void test_rights(void) {
    RUN_TABLE(rights);
}

/* ---- 18. privacy: nothing in clear -------------------------------------------------------------
 */

/* Every table ends with a scan of the site's files; this one scans in the middle too, after
 * registrations, refusals, faces, escorts, deals, conflicts, exports and a deletion. */
static const step privacy_scan[] = {
    {AT, .when = "day 0 09:00"},
    {REGISTER, .agent = "A1", .phone = P1, .name = N1, .expect_status = ACCEPTED},
    {REGISTER, .agent = "B1", .phone = P1, .name = N6, .expect_status = REFUSED},
    {REGISTER, .agent = "B1", .phone = P2, .name = N2, .expect_status = ACCEPTED},
    {REGISTER, .agent = "A2", .phone = P3, .name = N3, .expect_status = ACCEPTED},
    {CONSENT, .consent = "K1"},
    {AT, .when = "day 0 10:00"},
    {CHECKIN, .by = KIOSK, .face = "F1", .consent = "K1", .phone = P1, .expect_kind = FIRST,
     .save = "v1"},
    {ESCORT_QR, .visit = "v1", .agent = "A1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .by = KIOSK, .phone = P2, .expect_outcome = PENDING_ESCORT, .save = "v2"},
    {ESCORT_RECEPTION, .visit = "v2", .agent = "B1", .expect_outcome = CHANNEL_VALID},
    {CHECKIN, .phone = P4, .expect_outcome = NATURAL},
    {AT, .when = "day 5 10:00"},
    {CHECKIN, .phone = P3, .escort_agent = "A2", .expect_outcome = CHANNEL_VALID},
    {REGISTER, .agent = "A1", .phone = P4, .name = N4, .expect_status = REFUSED},
    {DEAL, .phone = P1, .cobuyer = P4, .amount = 300000000, .expect_channel = "CA",
     .expect_flagged = NO, .expect_commission = 4500000},
    {DEAL, .phone = P2, .amount = 100000000, .expect_channel = "CB", .expect_commission = 500000},
    {EXPECT_CONFLICT, .by = AGENT, .agent = "B1", .expect_conflict = "duplicate_registration",
     .expect_text = {"\"phone_mask\": \"138****0001\""}},
    {EXPECT_PERSON, .by = RECEPTION, .person = "v1", .phone = P1, .phone_shown = NO},
    {REPORT, .section = "deals"},
    {.op = SCAN},
    {DELETE_PERSON, .by = ADMIN, .person = "v2"},
    {.op = SCAN},
    {CHECKIN, .phone = P1, .expect_kind = RETURN, .expect_person = "v1"},
};

static void test_privacy_scan(void) {
    RUN_TABLE(privacy_scan);
}

int main(void) {
    const char *v = getenv("FV_TEST_VERBOSE");
    verbose = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
    RUN(test_first_visit_then_registration);
    RUN(test_accompanied_visit);
    RUN(test_two_channels_race);
    RUN(test_registration_expired);
    RUN(test_return_never_changes_channel);
    RUN(test_deal_window);
    RUN(test_kiosk_phone_path);
    RUN(test_face_free_project);
    RUN(test_template_expired);
    RUN(test_consent_withdrawn);
    RUN(test_concurrent_checkins_and_idempotency);
    RUN(test_first_visit_outcomes_and_escort_window);
    RUN(test_appeals);
    RUN(test_co_buyer_before_registration);
    RUN(test_monthly_commission);
    RUN(test_minors);
    RUN(test_rights);
    RUN(test_privacy_scan);
    return check_summary();
}
