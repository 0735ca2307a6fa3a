/*
 * routes_kiosk.c - the kiosk endpoint group (docs/api/kiosk.md): the public notice, consent,
 * one-time codes, check-in by phone, and the face path (a liveness check fed with camera frames,
 * then a check-in with the check's template).
 *
 * Privacy: no consent, no biometrics (PRODUCT.md §4.1): a liveness check starts only under a
 * consent record of the project, every frame re-checks it, and a face-free project (or a server
 * started without faces) refuses the whole face path before any model is loaded (§4.4). Frames
 * are decoded in memory, analysed by one of the server's face engines and wiped (the encoded bytes
 * and the pixels); nothing of an image is written anywhere (§4.5). The template of a passed check
 * stays in the check's sodium_malloc'd slot (liveness.c) until the check-in uses it, and the
 * copy handed to the ledger is wiped right after. Errors and logs carry no phones, names, codes
 * or images. One-time codes are rate-limited here per client address and per phone (a keyed
 * hash, never the phone) on top of the ledger's per-phone hourly limit.
 * Threading: handlers run on connection threads; the face engines (one per core, at most
 * FV__HTTP_FACES_MAX) are opened lazily and lent to one request at a time (face_acquire).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "fairvisit/alloc.h"
#include "fairvisit/img.h"
#include "fairvisit/vault.h"
#include "http-impl.h"

#define EMB_BYTES (sizeof(float) * FV_FACE_EMBEDDING_DIM)
/* Largest camera frame decoded (pixels): a kiosk sends at most a few megapixels. */
#define MAX_FRAME_PIXELS ((size_t)16 * 1000 * 1000)

/* ---- helpers -------------------------------------------------------------------------------- */

static void string_or_null(fv_strbuf *b, const char *s) {
    if (s[0] == '\0')
        fv_sb_printf(b, "null");
    else
        fv_sb_json_string(b, s);
}

static void write_checkin(fv__http_ctx *c, const fv_ledger_checkin_result *r) {
    fv_strbuf *b = &c->out;
    bool uncertain = r->kind == FV_LEDGER_VISIT_UNCERTAIN;
    fv_sb_printf(b, "{\"visit\": %lld, \"kind\": \"%s\", \"outcome\": ", (long long)r->visit,
                 fv__http_kind_name(r->kind));
    if (uncertain)
        fv_sb_printf(b, "null");
    else
        fv_sb_printf(b, "\"%s\"", fv__http_outcome_name(r->outcome));
    fv_sb_printf(b, ", \"person\": ");
    string_or_null(b, r->person);
    fv_sb_printf(b,
                 ", \"channel\": %lld, \"agent\": %lld, \"registration\": %lld, \"matched_by\": ",
                 (long long)r->channel, (long long)r->agent, (long long)r->registration);
    fv_sb_json_string(b, r->matched_by[0] ? r->matched_by : "none");
    fv_sb_json_field_float(b, "score", r->score, 4);
    fv_sb_printf(b, ", \"slip\": ");
    string_or_null(b, r->slip);
    fv_sb_printf(b, ", \"qr\": ");
    string_or_null(b, r->qr);
    fv_sb_printf(b, ", \"conflict\": %lld, \"template_stored\": %s}", (long long)r->conflict,
                 r->template_stored ? "true" : "false");
}

/* The device name of a request: the body's, else the caller's login. */
static bool device_of(fv__http_ctx *c, const fv_json *r, char out[FV_LEDGER_NAME_MAX + 1]) {
    if (!fv__http_copy_field(c, r, "device", out, FV_LEDGER_NAME_MAX + 1)) return false;
    if (out[0] == '\0') snprintf(out, FV_LEDGER_NAME_MAX + 1, "%s", c->who.login);
    return true;
}

/* Phone, one-time code and idempotency key of a check-in body into rq; the kiosk must verify a
 * phone with a one-time code. */
static bool phone_fields(fv__http_ctx *c, const fv_json *r, fv_ledger_checkin_request *rq) {
    if (!fv__http_copy_field(c, r, "phone", rq->phone, sizeof rq->phone) ||
        !fv__http_copy_field(c, r, "otp_id", rq->otp_id, sizeof rq->otp_id) ||
        !fv__http_copy_field(c, r, "otp_code", rq->otp_code, sizeof rq->otp_code) ||
        !fv__http_copy_field(c, r, "idempotency_key", rq->idempotency_key,
                             sizeof rq->idempotency_key) ||
        !device_of(c, r, rq->device))
        return false;
    if (rq->phone[0] != '\0' && c->who.role == FV_LEDGER_ROLE_KIOSK &&
        (rq->otp_id[0] == '\0' || rq->otp_code[0] == '\0')) {
        fv__http_error(c, 400, "field_missing",
                       "the kiosk verifies a phone with a one-time code: give otp_id and otp_code");
        return false;
    }
    return true;
}

/* 409 unless the project may process faces here. */
static bool face_allowed(fv__http_ctx *c, const fv_ledger_project_settings *ps) {
    if (ps->face_free) {
        fv__http_error(c, 409, "refused", "the project is face-free: no face operation");
        return false;
    }
    if (c->srv->opt.no_face) {
        fv__http_error(c, 409, "refused", "face recognition is turned off on this server");
        return false;
    }
    return true;
}

static fv__liveness_table *liveness_table(fv__http_ctx *c) {
    fv__liveness_table *t = fv__http_liveness(c->srv);
    if (t == NULL) fv__http_error(c, 503, "out_of_memory", "out of memory");
    return t;
}

/* ---- GET /projects/:code/notice ----------------------------------------------------------- */

static void notice(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_ledger_project_settings ps;
    fv_status st = fv_ledger_project_get(c->srv->ledger, project, &ps);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_strbuf n = {0};
    st = fv_ledger_notice_current(c->srv->ledger, project, &n);
    if (st == FV_OK && (n.oom || n.len < 2 || n.s[n.len - 1] != '}')) st = FV_ERR_NOMEM;
    if (st != FV_OK && st != FV_ERR_NOT_FOUND) {
        fv_sb_free(&n);
        fv__http_ledger_error(c, st);
        return;
    }
    if (st == FV_OK) {
        n.s[n.len - 1] = '\0'; /* the notice object, reopened to add the project's fields */
        fv_sb_printf(&c->out, "%s, ", n.s);
    } else {
        fv_sb_printf(&c->out, "{\"version\": null, \"hash\": null, \"zh\": null, \"en\": null,"
                              " \"published\": null, ");
    }
    fv_sb_free(&n);
    fv_sb_printf(&c->out, "\"project\": ");
    fv_sb_json_string(&c->out, ps.code);
    fv_sb_printf(&c->out, ", \"name\": ");
    fv_sb_json_string(&c->out, ps.name);
    fv_sb_printf(&c->out, ", \"controller\": ");
    fv_sb_json_string(&c->out, ps.controller);
    fv_sb_printf(&c->out, ", \"controller_contact\": ");
    fv_sb_json_string(&c->out, ps.controller_contact);
    fv_sb_printf(&c->out, ", \"retention_days\": %d, \"guardian_age\": %d, \"face_free\": %s}",
                 ps.retention_days, ps.guardian_age, ps.face_free ? "true" : "false");
}

/* ---- POST /consents/:id/withdraw --------------------------------------------------------------
 */

/* The visitor agreed, then changed their mind before any face was taken (or after): the kiosk
 * withdraws the consent it just recorded, which also deletes any template made under it. Consent
 * ids are 128-bit random and known only to the kiosk that made them. */
static void consent_withdraw(fv__http_ctx *c) {
    const char *id = fv__http_param(c, "id");
    if (c->body_len > 0) {
        fv_json_doc *doc = fv__http_body(c, NULL, 0); /* {} or nothing */
        if (doc == NULL) return;
        fv_json_free(doc);
    }
    if (id == NULL || strlen(id) != FV_LEDGER_ID_CHARS - 1) {
        fv__http_error(c, 400, "bad_id", "a consent id has 32 hex digits");
        return;
    }
    fv_status st = fv_ledger_consent_withdraw(c->srv->ledger, &c->actor, id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_sb_printf(&c->out, "{\"withdrawn\": true}");
}

/* ---- POST /projects/:code/consents --------------------------------------------------------- */

static void consent(fv__http_ctx *c) {
    static const fv_json_field F[] = {
        {"notice_version", FV_JSON_INTEGER, true},
        {"notice_hash", FV_JSON_STRING, true},
        {"device", FV_JSON_STRING, false},
        {"method", FV_JSON_STRING, false},
        {"age", FV_JSON_STRING, true},
        {"guardian_consent", FV_JSON_BOOL, false},
    };
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_consent_request rq;
    memset(&rq, 0, sizeof rq);
    int64_t version = 0;
    const char *age = fv_json_string(fv_json_get(r, "age"), NULL);
    rq.project = fv__http_project(c, "code");
    if (rq.project == 0) goto out;
    if (!fv_json_int64(fv_json_get(r, "notice_version"), &version) || version < 1 ||
        version > 1000000) {
        fv__http_error(c, 400, "invalid_request", "'notice_version' must be a positive integer");
        goto out;
    }
    rq.notice_version = (int)version;
    if (strcmp(age, "adult") == 0) {
        rq.age = FV_LEDGER_AGE_ADULT;
    } else if (strcmp(age, "minor") == 0) {
        rq.age = FV_LEDGER_AGE_MINOR;
    } else {
        fv__http_error(c, 400, "invalid_request", "'age' must be \"adult\" or \"minor\"");
        goto out;
    }
    rq.guardian_consent = fv_json_bool(fv_json_get(r, "guardian_consent"));
    if (!fv__http_copy_field(c, r, "notice_hash", rq.notice_hash, sizeof rq.notice_hash) ||
        !fv__http_copy_field(c, r, "method", rq.method, sizeof rq.method) ||
        !device_of(c, r, rq.device))
        goto out;
    if (rq.method[0] == '\0')
        snprintf(rq.method, sizeof rq.method, "%s",
                 c->who.role == FV_LEDGER_ROLE_KIOSK ? "kiosk_touch" : "reception_paper");
    char id[FV_LEDGER_ID_CHARS];
    fv_status st = fv_ledger_consent_record(c->srv->ledger, &c->actor, &rq, id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        goto out;
    }
    fv_sb_printf(&c->out, "{\"consent_id\": \"%s\"}", id);
out:
    fv_json_free(doc);
}

/* ---- POST /projects/:code/otp ------------------------------------------------------------- */

/* The last 11 digits of a phone as entered, so "+86 138..." and "138..." share a limit. */
static void phone_key(const char *phone, char out[12]) {
    char d[64];
    size_t n = 0;
    for (const char *p = phone; *p != '\0' && n < sizeof d - 1; p++)
        if (isdigit((unsigned char)*p)) d[n++] = *p;
    d[n] = '\0';
    snprintf(out, 12, "%s", n > 11 ? d + n - 11 : d);
    sodium_memzero(d, sizeof d);
}

static void otp(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"phone", FV_JSON_STRING, true}};
    fv_json_doc *doc = fv__http_body(c, F, 1);
    if (doc == NULL) return;
    const char *phone = fv_json_string(fv_json_get(fv_json_root(doc), "phone"), NULL);
    int64_t project = fv__http_project(c, "code");
    if (project == 0) goto out;
    char digits[12], k_ip[48], k_phone[48];
    phone_key(phone, digits);
    fv__http_hash_key(c->srv, "otpip", c->ip, k_ip);
    fv__http_hash_key(c->srv, "otpphone", digits, k_phone);
    sodium_memzero(digits, sizeof digits);
    int64_t now = fv__http_now();
    if (!fv__http_limit_take(c->srv->limits, k_ip, 10, 10, now) ||
        !fv__http_limit_take(c->srv->limits, k_phone, 3, 1, now)) {
        fv__http_error(c, 429, "rate_limited", "too many one-time codes; wait a minute");
        fv__http_add_header(c, "Retry-After: 60");
        goto out;
    }
    char id[FV_LEDGER_ID_CHARS];
    fv_status st = fv_ledger_otp_send(c->srv->ledger, &c->actor, project, phone, id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        goto out;
    }
    fv_sb_printf(&c->out, "{\"otp_id\": \"%s\"}", id);
out:
    fv_json_free(doc);
}

/* ---- POST /projects/:code/checkins (phone) ------------------------------------------------- */

static void checkin_phone(fv__http_ctx *c) {
    static const fv_json_field F[] = {
        {"phone", FV_JSON_STRING, true},     {"otp_id", FV_JSON_STRING, false},
        {"otp_code", FV_JSON_STRING, false}, {"escort_agent", FV_JSON_INTEGER, false},
        {"device", FV_JSON_STRING, false},   {"idempotency_key", FV_JSON_STRING, false},
    };
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = fv__http_project(c, "code");
    if (rq.project == 0 || !phone_fields(c, r, &rq)) goto out;
    const fv_json *esc = fv_json_get(r, "escort_agent");
    if (esc != NULL) {
        if (!fv_json_int64(esc, &rq.escort_agent) || rq.escort_agent <= 0) {
            fv__http_error(c, 400, "invalid_request", "'escort_agent' must be an agent id");
            goto out;
        }
        rq.escort = FV_LEDGER_ESCORT_RECEPTION;
    }
    fv_ledger_checkin_result res;
    fv_status st = fv_ledger_checkin(c->srv->ledger, &c->actor, &rq, &res);
    if (st != FV_OK)
        fv__http_ledger_error(c, st);
    else
        write_checkin(c, &res);
    sodium_memzero(&res, sizeof res);
out:
    sodium_memzero(&rq, sizeof rq);
    fv_json_free(doc);
}

/* ---- POST /projects/:code/liveness ---------------------------------------------------------- */

static void liveness_start(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"consent_id", FV_JSON_STRING, true}};
    fv_json_doc *doc = fv__http_body(c, F, 1);
    if (doc == NULL) return;
    char consent_id[FV_LEDGER_ID_CHARS];
    int64_t project = fv__http_project(c, "code");
    fv_ledger_project_settings ps;
    if (project == 0 ||
        !fv__http_copy_field(c, fv_json_root(doc), "consent_id", consent_id, sizeof consent_id))
        goto out;
    fv_status st = fv_ledger_project_get(c->srv->ledger, project, &ps);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        goto out;
    }
    if (!face_allowed(c, &ps)) goto out;
    if (fv_ledger_consent_status(c->srv->ledger, consent_id, ps.code) != FV_VAULT_CONSENT_OK) {
        fv__http_error(c, 409, "refused",
                       "no standing consent to face processing in this project: face processing"
                       " refused");
        goto out;
    }
    char key[48], uid[32];
    snprintf(uid, sizeof uid, "%lld", (long long)c->who.user_id);
    fv__http_hash_key(c->srv, "liveness", uid, key);
    int64_t now = fv__http_now();
    if (!fv__http_limit_take(c->srv->limits, key, 10, 20, now)) {
        fv__http_error(c, 429, "rate_limited", "too many liveness checks; wait a minute");
        fv__http_add_header(c, "Retry-After: 60");
        goto out;
    }
    fv__liveness_table *t = liveness_table(c);
    if (t == NULL) goto out;
    fv__liveness_challenge ch =
        (fv__liveness_challenge)randombytes_uniform((uint32_t)FV__LIVENESS_CHALLENGE_COUNT);
    char id[FV_LEDGER_ID_CHARS];
    int64_t expires = 0;
    st = fv__liveness_start(t, project, c->who.user_id, consent_id, ch, now, id, &expires);
    if (st == FV_ERR_LIMIT) {
        fv__http_error(c, 503, "too_many_sessions",
                       "too many liveness checks in progress; try again in a minute");
        fv__http_add_header(c, "Retry-After: 60");
        goto out;
    }
    if (st != FV_OK) {
        fv__http_error(c, 500, "server_error", "%s", fv_status_message(st));
        goto out;
    }
    st = fv_ledger_liveness_audit(c->srv->ledger, &c->actor, project, consent_id, false);
    if (st != FV_OK) {
        fv__liveness_end(t, id);
        fv__http_ledger_error(c, st);
        goto out;
    }
    fv_sb_printf(&c->out, "{\"liveness_id\": \"%s\", \"challenge\": \"%s\", \"expires_ms\": %lld}",
                 id, fv__liveness_challenge_name(ch), (long long)expires);
out:
    fv_json_free(doc);
}

/* ---- POST /liveness/:id/frames ----------------------------------------------------------------
 */

/* Opens a face engine (first use of a pool slot). */
static fv_status face_engine_open(fv_http_server *s, fv_face_engine **out) {
    const char *dir = s->opt.models_dir;
    if (dir == NULL) dir = getenv("FV_MODELS_DIR");
    if (dir == NULL || dir[0] == '\0') dir = "models";
    fv_face_options o = {.models_dir = dir};
    fv_face_engine *e = NULL;
    fv_status st = fv_face_engine_open(&o, &e);
    if (st != FV_OK) {
        pthread_mutex_lock(&s->log_mu);
        FILE *f = s->opt.access_log != NULL ? s->opt.access_log : stderr;
        fprintf(f, "face engine: %s\n", e != NULL ? fv_face_engine_errmsg(e) : "out of memory");
        fflush(f);
        pthread_mutex_unlock(&s->log_mu);
        fv_face_engine_close(e);
        return st;
    }
    *out = e;
    return FV_OK;
}

/* Borrows an idle face engine (opening a new one while the pool is not full), waiting while
 * every engine is busy; give it back with face_release. */
static fv_status face_acquire(fv_http_server *s, int *slot) {
    pthread_mutex_lock(&s->face_mu);
    for (;;) {
        int empty = -1;
        for (int i = 0; i < s->n_faces; i++) {
            if (s->faces[i] != NULL && !s->face_busy[i]) {
                s->face_busy[i] = true;
                pthread_mutex_unlock(&s->face_mu);
                *slot = i;
                return FV_OK;
            }
            if (s->faces[i] == NULL && !s->face_busy[i] && empty < 0) empty = i;
        }
        if (empty >= 0) {
            /* Reserve the slot and open outside the lock (loading takes a moment). */
            s->face_busy[empty] = true;
            pthread_mutex_unlock(&s->face_mu);
            fv_face_engine *e = NULL;
            fv_status st = face_engine_open(s, &e);
            pthread_mutex_lock(&s->face_mu);
            if (st != FV_OK) {
                s->face_busy[empty] = false;
                pthread_cond_broadcast(&s->face_cv);
                pthread_mutex_unlock(&s->face_mu);
                return st;
            }
            s->faces[empty] = e;
            pthread_mutex_unlock(&s->face_mu);
            *slot = empty;
            return FV_OK;
        }
        pthread_cond_wait(&s->face_cv, &s->face_mu);
    }
}

static void face_release(fv_http_server *s, int slot) {
    pthread_mutex_lock(&s->face_mu);
    s->face_busy[slot] = false;
    pthread_cond_signal(&s->face_cv);
    pthread_mutex_unlock(&s->face_mu);
}

static bool image_type(const char *ct) {
    static const char *const T[] = {"image/jpeg", "image/png", "image/webp"};
    if (ct == NULL) return false;
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        size_t n = strlen(T[i]);
        if (strncasecmp(ct, T[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return true;
    }
    return false;
}

static void write_frame(fv__http_ctx *c, const fv__liveness_reply *r) {
    fv_strbuf *b = &c->out;
    fv_sb_printf(b, "{\"face\": %s, \"usable\": %s, \"reasons\": [", r->face ? "true" : "false",
                 r->usable ? "true" : "false");
    int n = 0;
    if (!r->face) fv_sb_printf(b, "%s\"no_face\"", n++ ? ", " : "");
    if (r->several_faces) fv_sb_printf(b, "%s\"several_faces\"", n++ ? ", " : "");
    if (r->face_changed) fv_sb_printf(b, "%s\"face_changed\"", n++ ? ", " : "");
    for (int i = 0; i < FV_FACE_REASON_COUNT; i++)
        if (r->reasons & (1u << i))
            fv_sb_printf(b, "%s\"%s\"", n++ ? ", " : "", fv_face_reason_code(i));
    fv_sb_printf(b, "], \"messages\": [");
    n = 0;
    if (!r->face) {
        fv_sb_printf(b, "\"please look at the camera: no face is in view\"");
        n++;
    }
    if (r->several_faces) {
        fv_sb_printf(b, "%s\"several faces: only the person who consented may be in view\"",
                     n++ ? ", " : "");
    }
    if (r->face_changed) {
        fv_sb_printf(b, "%s\"the face in view changed: the check starts again\"", n++ ? ", " : "");
    }
    for (int i = 0; i < FV_FACE_REASON_COUNT; i++)
        if (r->reasons & (1u << i)) {
            fv_sb_printf(b, "%s", n++ ? ", " : "");
            fv_sb_json_string(b, fv_face_reason_message(i));
        }
    fv_sb_printf(b, "], \"challenge\": \"%s\", \"stage\": \"%s\"",
                 fv__liveness_challenge_name(r->challenge), fv__liveness_stage_name(r->stage));
    fv_sb_json_field_float(b, "progress", r->progress, 2);
    fv_sb_printf(b, ", \"passed\": %s, \"expires_ms\": %lld}",
                 r->stage == FV__LIVENESS_STAGE_PASSED ? "true" : "false",
                 (long long)r->expires_ms);
}

static void liveness_frame(fv__http_ctx *c) {
    const char *id = fv__http_param(c, "id");
    fv__liveness_table *t = liveness_table(c);
    if (t == NULL) return;
    if (!image_type(fv__http_header(c, "Content-Type"))) {
        fv__http_error(c, 415, "unsupported_media_type",
                       "a frame is sent as image/jpeg, image/png or image/webp");
        return;
    }
    int64_t project = 0, now = fv__http_now();
    char consent_id[FV_LEDGER_ID_CHARS];
    fv__liveness_stage before = FV__LIVENESS_STAGE_START;
    if (fv__liveness_info(t, id, c->who.user_id, now, &project, consent_id, &before) != FV_OK) {
        fv__http_error(c, 409, "refused",
                       "no live liveness check with this id (expired, ended or unknown): start"
                       " again");
        return;
    }
    if (before == FV__LIVENESS_STAGE_PASSED) {
        fv__http_error(c, 409, "refused", "the liveness check has passed: check in now");
        return;
    }
    fv_ledger_project_settings ps;
    fv_status st = fv_ledger_project_get(c->srv->ledger, project, &ps);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    if (!face_allowed(c, &ps)) {
        fv__liveness_end(t, id);
        return;
    }
    if (fv_ledger_consent_status(c->srv->ledger, consent_id, ps.code) != FV_VAULT_CONSENT_OK) {
        fv__liveness_end(t, id);
        fv__http_error(c, 409, "refused",
                       "the consent no longer covers face processing: face processing refused");
        return;
    }
    if (c->body_len == 0) {
        fv__http_error(c, 400, "bad_image", "the body must be the frame's image bytes");
        return;
    }
    fv_image img = {0};
    fv_img_error err;
    fv_img_options io = {.max_pixels = MAX_FRAME_PIXELS, .max_input = c->srv->opt.max_upload};
    st = fv_img_decode(c->body, c->body_len, &io, &img, &err);
    fv_wipe((void *)c->body, c->body_len); /* the encoded frame is a face too */
    if (st != FV_OK) {
        if (st == FV_ERR_NOMEM)
            fv__http_error(c, 503, "out_of_memory", "out of memory");
        else if (st == FV_ERR_LIMIT)
            fv__http_error(c, 413, "body_too_large", "%s", err.msg);
        else
            fv__http_error(c, 400, "bad_image", "%s", err.msg);
        return;
    }
    fv_face_list faces = {0};
    int slot = 0;
    st = face_acquire(c->srv, &slot);
    if (st == FV_OK) {
        st = fv_face_analyze(c->srv->faces[slot], &img, FV_FACE_WANT_EMBEDDING, &faces);
        face_release(c->srv, slot);
    }
    fv_img_free(&img);
    if (st != FV_OK) {
        fv_face_list_free(&faces);
        if (st == FV_ERR_NOMEM)
            fv__http_error(c, 503, "out_of_memory", "out of memory");
        else
            fv__http_error(c, 503, "server_error",
                           "the face engine is not available (are the models installed?)");
        return;
    }
    fv__liveness_reply rep;
    st = fv__liveness_frame(t, id, c->who.user_id, faces.faces, faces.count, fv__http_now(), &rep);
    fv_face_list_free(&faces);
    if (st == FV_ERR_LIMIT) {
        fv__http_error(c, 409, "refused", "too many frames for one liveness check: start again");
        return;
    }
    if (st != FV_OK) {
        fv__http_error(c, 409, "refused", "the liveness check expired or ended: start again");
        return;
    }
    if (rep.stage == FV__LIVENESS_STAGE_PASSED) {
        st = fv_ledger_liveness_audit(c->srv->ledger, &c->actor, project, consent_id, true);
        if (st != FV_OK) {
            fv__liveness_end(t, id);
            fv__http_ledger_error(c, st);
            return;
        }
    }
    write_frame(c, &rep);
}

/* ---- POST /projects/:code/checkins/face ---------------------------------------------------- */

static void checkin_face(fv__http_ctx *c) {
    static const fv_json_field F[] = {
        {"liveness_id", FV_JSON_STRING, true}, {"phone", FV_JSON_STRING, false},
        {"otp_id", FV_JSON_STRING, false},     {"otp_code", FV_JSON_STRING, false},
        {"device", FV_JSON_STRING, false},     {"idempotency_key", FV_JSON_STRING, false},
    };
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    char lid[FV_LEDGER_ID_CHARS];
    float *emb = NULL;
    fv_ledger_project_settings ps;
    rq.project = fv__http_project(c, "code");
    if (rq.project == 0 || !fv__http_copy_field(c, r, "liveness_id", lid, sizeof lid) ||
        !phone_fields(c, r, &rq))
        goto out;
    fv_status st = fv_ledger_project_get(c->srv->ledger, rq.project, &ps);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        goto out;
    }
    if (!face_allowed(c, &ps)) goto out;
    fv__liveness_table *t = liveness_table(c);
    if (t == NULL) goto out;
    emb = sodium_malloc(EMB_BYTES);
    if (emb == NULL) {
        fv__http_error(c, 503, "out_of_memory", "out of memory");
        goto out;
    }
    st = fv__liveness_embedding(t, lid, c->who.user_id, rq.project, fv__http_now(), emb,
                                rq.consent_id);
    if (st != FV_OK) {
        fv__http_error(c, 409, "refused", "%s",
                       st == FV_ERR_STATE
                           ? "the liveness check has not passed yet"
                           : "no live liveness check with this id for this project (expired,"
                             " used or unknown): start again");
        goto out;
    }
    rq.embedding = emb;
    fv_ledger_checkin_result res;
    st = fv_ledger_checkin(c->srv->ledger, &c->actor, &rq, &res);
    sodium_memzero(emb, EMB_BYTES);
    rq.embedding = NULL;
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
    } else {
        /* Used: the check ends (its template wiped), except when the match was uncertain and
         * nothing was recorded: the kiosk may ask for the phone and try again. */
        if (res.kind != FV_LEDGER_VISIT_UNCERTAIN) fv__liveness_end(t, lid);
        write_checkin(c, &res);
    }
    sodium_memzero(&res, sizeof res);
out:
    sodium_free(emb);
    sodium_memzero(&rq, sizeof rq);
    fv_json_free(doc);
}

#define KIOSK     FV__HTTP_ROLE(FV_LEDGER_ROLE_KIOSK)
#define RECEPTION FV__HTTP_ROLE(FV_LEDGER_ROLE_RECEPTION)
#define ADMIN     FV__HTTP_ROLE(FV_LEDGER_ROLE_ADMIN)
#define UPLOAD    ((size_t)8 * 1024 * 1024) /* the server's default max_upload */

const fv__http_route fv__http_routes_kiosk[] = {
    {FV__HTTP_GET, "/api/v1/projects/:code/notice", FV__HTTP_ANON, notice, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/consents", KIOSK | RECEPTION, consent, 0},
    {FV__HTTP_POST, "/api/v1/consents/:id/withdraw", KIOSK | RECEPTION | ADMIN, consent_withdraw,
     0},
    {FV__HTTP_POST, "/api/v1/projects/:code/otp", KIOSK | RECEPTION, otp, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/checkins", KIOSK | RECEPTION | ADMIN, checkin_phone, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/liveness", KIOSK | RECEPTION, liveness_start, 0},
    {FV__HTTP_POST, "/api/v1/liveness/:id/frames", KIOSK | RECEPTION, liveness_frame, UPLOAD},
    {FV__HTTP_POST, "/api/v1/projects/:code/checkins/face", KIOSK | RECEPTION, checkin_face, 0},
    {0, NULL, 0, NULL, 0},
};
