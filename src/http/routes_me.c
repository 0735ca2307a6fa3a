/*
 * routes_me.c - the visitor's self-service endpoints (docs/api/me.md; PRODUCT.md §4.8,
 * COMPLIANCE C4 and C15): log in with the code on the check-in slip (and, for a person with a
 * phone, a one-time code sent to it), see what is held, withdraw consent, delete the record.
 *
 * Login is two anonymous steps: POST /me/otp says whether a phone is needed and sends a code to
 * the slip's phone (the ledger returns a decoy code id for any other phone, and sends nothing);
 * POST /me/session checks slip, phone and code (fv_ledger_person_by_slip) and opens a session of
 * role VISITOR whose scope is the person's row, with the same cookie, CSRF token and lifetimes
 * as a staff login. Both steps are rate-limited per client address and per slip (keys are keyed
 * hashes, never the slip itself), unknown slips included. Every failure of the phone or code
 * check gets one message, so the answers do not tell whether a phone belongs to a slip.
 * Threading: handlers run on connection threads; the ledger serialises itself.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http-impl.h"

#define VISITOR FV__HTTP_ROLE(FV_LEDGER_ROLE_VISITOR)

/* Per client address: 20 at once, 20 a minute; per slip: 10 at once, 10 an hour. */
#define LIMIT_IP_BURST     20.0
#define LIMIT_IP_PER_MIN   20.0
#define LIMIT_SLIP_BURST   10.0
#define LIMIT_SLIP_PER_MIN (10.0 / 60.0)

/* The slip code as printed (10 characters of 2-9 and A-Z without I and O), upper-cased so it may
 * be typed in either case; false after replying 400. */
static bool slip_arg(fv__http_ctx *c, const fv_json *root, char slip[FV_LEDGER_ID_CHARS]) {
    size_t n = 0;
    const char *s = fv_json_string(fv_json_get(root, "slip"), &n);
    if (s == NULL || n != 10) {
        fv__http_error(c, 400, "invalid_request", "a slip code has 10 characters");
        return false;
    }
    for (size_t i = 0; i < n; i++) slip[i] = (char)toupper((unsigned char)s[i]);
    slip[n] = '\0';
    return true;
}

/* Takes one request from the client address's and the slip's buckets; false after replying
 * 429. */
static bool limited(fv__http_ctx *c, const char *slip) {
    char k_ip[48], k_slip[48];
    fv__http_hash_key(c->srv, "meip", c->ip, k_ip);
    fv__http_hash_key(c->srv, "meslip", slip, k_slip);
    int64_t now = fv__http_now();
    bool ip_ok = fv__http_limit_take(c->srv->limits, k_ip, LIMIT_IP_BURST, LIMIT_IP_PER_MIN, now);
    if (ip_ok &&
        fv__http_limit_take(c->srv->limits, k_slip, LIMIT_SLIP_BURST, LIMIT_SLIP_PER_MIN, now))
        return false;
    fv__http_error(c, 429, "rate_limited",
                   "too many attempts; wait a few minutes or ask reception");
    /* a minute refills an address's bucket; a slip gets one more request every 6 minutes */
    fv__http_add_header(c, "Retry-After: %d", ip_ok ? 360 : 60);
    return true;
}

static void send_code(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"slip", FV_JSON_STRING, true},
                                      {"phone", FV_JSON_STRING, false}};
    fv_json_doc *doc = fv__http_body(c, F, 2);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    char slip[FV_LEDGER_ID_CHARS], otp_id[FV_LEDGER_ID_CHARS];
    if (!slip_arg(c, r, slip) || limited(c, slip)) {
        fv_json_free(doc);
        return;
    }
    bool phone_needed = false;
    fv_status st = fv_ledger_slip_otp_send(
        c->srv->ledger, slip, fv_json_string(fv_json_get(r, "phone"), NULL), &phone_needed, otp_id);
    fv_json_free(doc);
    sodium_memzero(slip, sizeof slip);
    if (st == FV_ERR_LIMIT) fv__http_add_header(c, "Retry-After: 3600");
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_sb_printf(&c->out, "{\"phone_needed\": %s, \"otp_id\": ", phone_needed ? "true" : "false");
    if (otp_id[0] != '\0')
        fv_sb_printf(&c->out, "\"%s\"}", otp_id);
    else
        fv_sb_printf(&c->out, "null}");
}

static void open_session(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"slip", FV_JSON_STRING, true},
                                      {"phone", FV_JSON_STRING, false},
                                      {"otp_id", FV_JSON_STRING, false},
                                      {"otp_code", FV_JSON_STRING, false}};
    fv_json_doc *doc = fv__http_body(c, F, 4);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    char slip[FV_LEDGER_ID_CHARS], person[FV_LEDGER_ID_CHARS];
    if (!slip_arg(c, r, slip) || limited(c, slip)) {
        fv_json_free(doc);
        return;
    }
    bool phone_given = fv_json_get(r, "phone") != NULL;
    fv_status st = fv_ledger_person_by_slip(
        c->srv->ledger, slip, fv_json_string(fv_json_get(r, "phone"), NULL),
        fv_json_string(fv_json_get(r, "otp_id"), NULL),
        fv_json_string(fv_json_get(r, "otp_code"), NULL), person);
    fv_json_free(doc);
    sodium_memzero(slip, sizeof slip);
    int64_t row = 0;
    if (st == FV_OK) st = fv_ledger_person_find(c->srv->ledger, person, &row);
    sodium_memzero(person, sizeof person);
    if (st == FV_ERR_STATE) {
        /* wrong phone, unknown, wrong, expired or used code: one answer for all */
        fv__http_error(c, 401, "wrong_login",
                       "the phone or the one-time code does not match this slip, or the code has"
                       " expired or was used; ask for a new code");
        return;
    }
    if (st == FV_ERR_ARG && !phone_given) {
        fv__http_error(c, 400, "invalid_request",
                       "this slip needs the phone number and a one-time code sent to it");
        return;
    }
    if (st != FV_OK) {
        if (st == FV_ERR_LIMIT) fv__http_add_header(c, "Retry-After: 300");
        fv__http_ledger_error(c, st);
        return;
    }
    fv__http_principal p;
    memset(&p, 0, sizeof p);
    p.authenticated = true;
    p.user_id = 0;
    p.role = FV_LEDGER_ROLE_VISITOR;
    p.scope_id = row;
    snprintf(p.login, sizeof p.login, "visitor");
    if (fv__http_session_create(c->srv->sessions, &p, fv__http_now()) != FV_OK) {
        fv__http_error(c, 503, "too_many_sessions", "too many open sessions; try again later");
        return;
    }
    fv__http_add_header(c, "Set-Cookie: fv_session=%s; Path=/; HttpOnly; Secure; SameSite=Strict",
                        p.session);
    fv_sb_printf(&c->out, "{\"csrf\": \"%s\"}", p.csrf);
    sodium_memzero(&p, sizeof p);
}

/* The session's person id; false after replying (404 when the record is gone). */
static bool my_person(fv__http_ctx *c, char person[FV_LEDGER_ID_CHARS]) {
    fv_status st = fv_ledger_person_id(c->srv->ledger, c->who.scope_id, person);
    if (st == FV_OK) return true;
    if (st == FV_ERR_NOT_FOUND)
        fv__http_error(c, 404, "not_found", "no record is held about you any more");
    else
        fv__http_ledger_error(c, st);
    return false;
}

static void export_me(fv__http_ctx *c) {
    char person[FV_LEDGER_ID_CHARS];
    if (!my_person(c, person)) return;
    fv_status st = fv_ledger_person_export(c->srv->ledger, &c->actor, person, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

static void withdraw_me(fv__http_ctx *c) {
    if (c->body_len > 0) { /* no data: an empty body or {} */
        fv_json_doc *doc = fv__http_body(c, NULL, 0);
        if (doc == NULL) return;
        fv_json_free(doc);
    }
    char person[FV_LEDGER_ID_CHARS];
    if (!my_person(c, person)) return;
    fv_status st = fv_ledger_person_withdraw(c->srv->ledger, &c->actor, person);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_sb_printf(&c->out, "{\"withdrawn\": true}");
}

static void delete_me(fv__http_ctx *c) {
    char person[FV_LEDGER_ID_CHARS];
    if (!my_person(c, person)) return;
    fv_status st = fv_ledger_person_delete(c->srv->ledger, &c->actor, person);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv__http_session_drop(c->srv->sessions, c->who.session);
    fv__http_add_header(c, "Set-Cookie: fv_session=; Path=/; HttpOnly; Secure; SameSite=Strict;"
                           " Max-Age=0");
    fv_sb_printf(&c->out, "{\"deleted\": true}");
}

const fv__http_route fv__http_routes_me[] = {
    {FV__HTTP_POST, "/api/v1/me/otp", FV__HTTP_ANON, send_code, 0},
    {FV__HTTP_POST, "/api/v1/me/session", FV__HTTP_ANON, open_session, 0},
    {FV__HTTP_GET, "/api/v1/me", VISITOR, export_me, 0},
    {FV__HTTP_POST, "/api/v1/me/withdraw", VISITOR, withdraw_me, 0},
    {FV__HTTP_DELETE, "/api/v1/me", VISITOR, delete_me, 0},
    {0, NULL, 0, NULL, 0},
};
