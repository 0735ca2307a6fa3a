/*
 * routes_auth.c - logging in and out: POST/GET/DELETE /api/v1/session.
 *
 * Login checks the password (Argon2id, in the ledger) after two rate limits: per login (5 at
 * once, then 5 a minute) and per client address (20, then 20 a minute); both keys are hashes,
 * never the login itself. A session cookie is HttpOnly, Secure, SameSite=Strict; the response
 * carries the CSRF token every state change must send back in X-CSRF-Token. Failed logins get
 * one message whatever the cause.
 * Threading: handlers run on connection threads.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http-impl.h"

static void write_principal(fv__http_ctx *c, const fv__http_principal *p) {
    fv_sb_printf(&c->out, "{\"user\": {\"id\": %lld, \"login\": ", (long long)p->user_id);
    fv_sb_json_string(&c->out, p->login);
    fv_sb_printf(&c->out, ", \"role\": \"%s\", \"scope_id\": %lld}, \"csrf\": \"%s\"}",
                 fv__http_role_name(p->role), (long long)p->scope_id, p->csrf);
}

static void login(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"login", FV_JSON_STRING, true},
                                      {"password", FV_JSON_STRING, true}};
    fv_json_doc *doc = fv__http_body(c, F, 2);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    const char *user = fv_json_string(fv_json_get(r, "login"), NULL);
    const char *pass = fv_json_string(fv_json_get(r, "password"), NULL);
    char k1[48], k2[48];
    fv__http_hash_key(c->srv, "login", user, k1);
    fv__http_hash_key(c->srv, "loginip", c->ip, k2);
    int64_t now = fv__http_now();
    if (!fv__http_limit_take(c->srv->limits, k2, 20, 20, now) ||
        !fv__http_limit_take(c->srv->limits, k1, 5, 5, now)) {
        fv__http_error(c, 429, "rate_limited", "too many login attempts; wait a minute");
        fv__http_add_header(c, "Retry-After: 60");
        fv_json_free(doc);
        return;
    }
    fv_ledger_user u;
    fv_status st = fv_ledger_user_login(c->srv->ledger, user, pass, &u);
    fv_json_free(doc);
    if (st != FV_OK) {
        if (st == FV_ERR_STATE || st == FV_ERR_ARG || st == FV_ERR_NOT_FOUND)
            fv__http_error(c, 401, "wrong_login", "wrong login or password");
        else
            fv__http_ledger_error(c, st);
        return;
    }
    fv__http_principal p;
    memset(&p, 0, sizeof p);
    p.authenticated = true;
    p.user_id = u.id;
    p.role = u.role;
    p.scope_id = u.scope_id;
    snprintf(p.login, sizeof p.login, "%s", u.login);
    if (fv__http_session_create(c->srv->sessions, &p, now) != FV_OK) {
        fv__http_error(c, 503, "too_many_sessions", "too many open sessions; try again later");
        return;
    }
    fv__http_add_header(c, "Set-Cookie: fv_session=%s; Path=/; HttpOnly; Secure; SameSite=Strict",
                        p.session);
    write_principal(c, &p);
    sodium_memzero(&p, sizeof p);
}

static void whoami(fv__http_ctx *c) {
    if (c->who.via_token) {
        fv__http_principal p = c->who;
        p.csrf[0] = '\0';
        write_principal(c, &p);
        return;
    }
    write_principal(c, &c->who);
}

static void logout(fv__http_ctx *c) {
    fv__http_session_drop(c->srv->sessions, c->who.session);
    fv__http_add_header(c, "Set-Cookie: fv_session=; Path=/; HttpOnly; Secure; SameSite=Strict;"
                           " Max-Age=0");
    fv_sb_printf(&c->out, "{\"ok\": true}");
}

#define ANY_USER                                                                                   \
    (FV__HTTP_ROLE(FV_LEDGER_ROLE_ADMIN) | FV__HTTP_ROLE(FV_LEDGER_ROLE_RECEPTION) |               \
     FV__HTTP_ROLE(FV_LEDGER_ROLE_CHANNEL_MANAGER) | FV__HTTP_ROLE(FV_LEDGER_ROLE_AGENT) |         \
     FV__HTTP_ROLE(FV_LEDGER_ROLE_AUDITOR) | FV__HTTP_ROLE(FV_LEDGER_ROLE_KIOSK) |                 \
     FV__HTTP_ROLE(FV_LEDGER_ROLE_VISITOR))

const fv__http_route fv__http_routes_auth[] = {
    {FV__HTTP_POST, "/api/v1/session", FV__HTTP_ANON, login, 0},
    {FV__HTTP_GET, "/api/v1/session", ANY_USER, whoami, 0},
    {FV__HTTP_DELETE, "/api/v1/session", ANY_USER, logout, 0},
    {0, NULL, 0, NULL, 0},
};
