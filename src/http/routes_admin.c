/*
 * routes_admin.c - the admin endpoint group (docs/api/admin.md): projects and their settings,
 * channels, agents, users and API tokens, consent notices, audit chain verification and purge.
 *
 * Every change is an admin's; projects (and their current notice) may also be read by the other
 * staff roles and kiosks, who get them without the tuning numbers (face threshold, one-time code
 * limits) and, for agents and channel managers, only their own project (the ledger decides,
 * admin_list.c). Reception also reads the agent list (to name the agent who escorts a visitor).
 * Texts from a body are copied into the ledger's fixed buffers only when they fit: a text that is
 * too long is refused, never cut. Integers are range-checked before they become ints. Disabling a
 * user or changing a password drops the user's sessions at once; an API token is checked on every
 * request, so revoking one takes effect at once.
 * Threading: handlers run on connection threads; the ledger serialises itself.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http-impl.h"

#define ROLE(r)    FV__HTTP_ROLE(FV_LEDGER_ROLE_##r)
#define ADMIN_ONLY ROLE(ADMIN)
#define PROJECT_READERS                                                                            \
    (ROLE(ADMIN) | ROLE(RECEPTION) | ROLE(AUDITOR) | ROLE(CHANNEL_MANAGER) | ROLE(AGENT) |         \
     ROLE(KIOSK))
#define NOTICE_READERS (ROLE(ADMIN) | ROLE(RECEPTION) | ROLE(AUDITOR) | ROLE(KIOSK))

/* Notice texts are up to FV_LEDGER_NOTICE_MAX bytes each, and a Chinese character escaped as
 * \uXXXX takes 6 bytes of JSON for its 3 of UTF-8: room for two full texts written plainly. */
#define NOTICE_MAX_BODY (200 * 1024)

/* ---- body helpers ------------------------------------------------------------------------- */

/* Copies string field `name` into dst (cap bytes with the NUL) when present; a text that does
 * not fit is refused (400), never cut. */
static bool copy_text(fv__http_ctx *c, const fv_json *root, const char *name, char *dst,
                      size_t cap) {
    const fv_json *v = fv_json_get(root, name);
    if (v == NULL) return true;
    size_t n = 0;
    const char *s = fv_json_string(v, &n);
    if (s == NULL || n >= cap) {
        fv__http_error(c, 400, "invalid_request", "'%s' is too long (at most %zu bytes)", name,
                       cap - 1);
        return false;
    }
    memcpy(dst, s, n + 1);
    return true;
}

/* Integer field `name` into *dst when present; out of int range is 400. */
static bool get_int(fv__http_ctx *c, const fv_json *root, const char *name, int *dst) {
    const fv_json *v = fv_json_get(root, name);
    if (v == NULL) return true;
    int64_t x = 0;
    if (!fv_json_int64(v, &x) || x < INT_MIN || x > INT_MAX) {
        fv__http_error(c, 400, "invalid_request", "'%s' is out of range", name);
        return false;
    }
    *dst = (int)x;
    return true;
}

static void get_bool(const fv_json *root, const char *name, bool *dst) {
    const fv_json *v = fv_json_get(root, name);
    if (v != NULL) *dst = fv_json_bool(v);
}

static void get_double(const fv_json *root, const char *name, double *dst) {
    const fv_json *v = fv_json_get(root, name);
    if (v != NULL) *dst = fv_json_number(v);
}

/* The settings fields every project body may carry (code is POST only). */
#define SETTINGS_FIELDS(req)                                                                       \
    {"name", FV_JSON_STRING, req}, {"controller", FV_JSON_STRING, req},                            \
        {"controller_contact", FV_JSON_STRING, req}, {"protection_days", FV_JSON_INTEGER, false},  \
        {"deal_window_days", FV_JSON_INTEGER, false},                                              \
        {"escort_window_minutes", FV_JSON_INTEGER, false},                                         \
        {"retention_days", FV_JSON_INTEGER, false}, {"guardian_age", FV_JSON_INTEGER, false},      \
        {"face_free", FV_JSON_BOOL, false}, {"match_threshold", FV_JSON_NUMBER, false},            \
        {"match_margin", FV_JSON_NUMBER, false}, {"otp_ttl_seconds", FV_JSON_INTEGER, false},      \
        {"otp_max_attempts", FV_JSON_INTEGER, false}, {                                            \
        "otp_per_phone_per_hour", FV_JSON_INTEGER, false                                           \
    }

/* Applies the settings present in the body over s; false after replying 400. The ledger checks
 * the ranges. */
static bool apply_settings(fv__http_ctx *c, const fv_json *r, fv_ledger_project_settings *s) {
    if (!copy_text(c, r, "name", s->name, sizeof s->name) ||
        !copy_text(c, r, "controller", s->controller, sizeof s->controller) ||
        !copy_text(c, r, "controller_contact", s->controller_contact,
                   sizeof s->controller_contact) ||
        !get_int(c, r, "protection_days", &s->protection_days) ||
        !get_int(c, r, "deal_window_days", &s->deal_window_days) ||
        !get_int(c, r, "escort_window_minutes", &s->escort_window_minutes) ||
        !get_int(c, r, "retention_days", &s->retention_days) ||
        !get_int(c, r, "guardian_age", &s->guardian_age) ||
        !get_int(c, r, "otp_ttl_seconds", &s->otp_ttl_seconds) ||
        !get_int(c, r, "otp_max_attempts", &s->otp_max_attempts) ||
        !get_int(c, r, "otp_per_phone_per_hour", &s->otp_per_phone_per_hour))
        return false;
    get_bool(r, "face_free", &s->face_free);
    get_double(r, "match_threshold", &s->match_threshold);
    get_double(r, "match_margin", &s->match_margin);
    return true;
}

/* A body that must be empty or {}: for POSTs that carry no data. */
static bool empty_body(fv__http_ctx *c) {
    if (c->body_len == 0) return true;
    fv_json_doc *doc = fv__http_body(c, NULL, 0);
    fv_json_free(doc);
    return doc != NULL;
}

/* ---- projects ----------------------------------------------------------------------------- */

static void list_projects(fv__http_ctx *c) {
    fv_status st = fv_ledger_project_list_json(c->srv->ledger, &c->actor, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

static void create_project(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"code", FV_JSON_STRING, true}, SETTINGS_FIELDS(true)};
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_project_settings s;
    fv_ledger_project_defaults(&s);
    bool ok = copy_text(c, r, "code", s.code, sizeof s.code) && apply_settings(c, r, &s);
    fv_json_free(doc);
    if (!ok) return;
    int64_t id = 0;
    fv_status st = fv_ledger_project_create(c->srv->ledger, &c->actor, &s, &id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    c->status = 201;
    fv_sb_printf(&c->out, "{\"code\": ");
    fv_sb_json_string(&c->out, s.code);
    fv_sb_printf(&c->out, "}");
}

static void get_project(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_project_json(c->srv->ledger, &c->actor, project, &c->out);
    if (st == FV_ERR_NOT_FOUND)
        fv__http_error(c, 404, "project_not_found", "no such project");
    else if (st != FV_OK)
        fv__http_ledger_error(c, st);
}

static void update_project(fv__http_ctx *c) {
    static const fv_json_field F[] = {SETTINGS_FIELDS(false)};
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    fv_ledger_project_settings s;
    fv_status st = fv_ledger_project_get(c->srv->ledger, project, &s);
    if (st != FV_OK) {
        fv_json_free(doc);
        fv__http_ledger_error(c, st);
        return;
    }
    bool ok = apply_settings(c, fv_json_root(doc), &s);
    fv_json_free(doc);
    if (!ok) return;
    st = fv_ledger_project_update(c->srv->ledger, &c->actor, project, &s);
    if (st == FV_OK) st = fv_ledger_project_json(c->srv->ledger, &c->actor, project, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

/* ---- channels and agents ------------------------------------------------------------------ */

static void list_channels(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_channel_list_json(c->srv->ledger, &c->actor, project, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

static void create_channel(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"kind", FV_JSON_STRING, true},
                                      {"name", FV_JSON_STRING, true},
                                      {"protection_days", FV_JSON_INTEGER, false},
                                      {"commission", FV_JSON_STRING, true},
                                      {"commission_value", FV_JSON_INTEGER, false}};
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_channel ch;
    memset(&ch, 0, sizeof ch);
    const char *kind = fv_json_string(fv_json_get(r, "kind"), NULL);
    const char *comm = fv_json_string(fv_json_get(r, "commission"), NULL);
    bool ok = true;
    if (strcmp(kind, "agency") == 0) {
        ch.kind = FV_LEDGER_CHANNEL_AGENCY;
    } else if (strcmp(kind, "referral") == 0) {
        ch.kind = FV_LEDGER_CHANNEL_REFERRAL;
    } else if (strcmp(kind, "online") == 0) {
        ch.kind = FV_LEDGER_CHANNEL_ONLINE;
    } else {
        fv__http_error(c, 400, "invalid_request",
                       "'kind' must be agency, referral or online (natural is made with the"
                       " project)");
        ok = false;
    }
    if (ok && strcmp(comm, "none") == 0) {
        ch.commission = FV_LEDGER_COMMISSION_NONE;
    } else if (ok && strcmp(comm, "percent") == 0) {
        ch.commission = FV_LEDGER_COMMISSION_PERCENT;
    } else if (ok && strcmp(comm, "fixed") == 0) {
        ch.commission = FV_LEDGER_COMMISSION_FIXED;
    } else if (ok) {
        fv__http_error(c, 400, "invalid_request", "'commission' must be none, percent or fixed");
        ok = false;
    }
    const fv_json *cv = fv_json_get(r, "commission_value");
    if (ok && cv != NULL) (void)fv_json_int64(cv, &ch.commission_value);
    ok = ok && copy_text(c, r, "name", ch.name, sizeof ch.name) &&
         get_int(c, r, "protection_days", &ch.protection_days);
    fv_json_free(doc);
    if (!ok) return;
    int64_t id = 0;
    fv_status st = fv_ledger_channel_create(c->srv->ledger, &c->actor, project, &ch, &id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    c->status = 201;
    fv_sb_printf(&c->out, "{\"id\": %lld}", (long long)id);
}

static void list_agents(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_agent_list_json(c->srv->ledger, &c->actor, project, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

static void create_agent(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"name", FV_JSON_STRING, true},
                                      {"team", FV_JSON_STRING, false},
                                      {"protection_days", FV_JSON_INTEGER, false}};
    int64_t channel = 0;
    if (!fv__http_param_id(c, "id", &channel)) return;
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_agent a;
    memset(&a, 0, sizeof a);
    bool ok = copy_text(c, r, "name", a.name, sizeof a.name) &&
              copy_text(c, r, "team", a.team, sizeof a.team) &&
              get_int(c, r, "protection_days", &a.protection_days);
    fv_json_free(doc);
    if (!ok) return;
    int64_t id = 0;
    fv_status st = fv_ledger_agent_create(c->srv->ledger, &c->actor, channel, &a, &id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    c->status = 201;
    fv_sb_printf(&c->out, "{\"id\": %lld}", (long long)id);
}

/* ---- users and API tokens ----------------------------------------------------------------- */

static bool role_of(const char *name, fv_ledger_role *r) {
    static const struct {
        const char *name;
        fv_ledger_role role;
    } R[] = {{"admin", FV_LEDGER_ROLE_ADMIN},
             {"reception", FV_LEDGER_ROLE_RECEPTION},
             {"channel_manager", FV_LEDGER_ROLE_CHANNEL_MANAGER},
             {"agent", FV_LEDGER_ROLE_AGENT},
             {"auditor", FV_LEDGER_ROLE_AUDITOR},
             {"kiosk", FV_LEDGER_ROLE_KIOSK}};
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
        if (strcmp(name, R[i].name) == 0) {
            *r = R[i].role;
            return true;
        }
    return false;
}

static void write_user(fv__http_ctx *c, const fv_ledger_user *u) {
    fv_sb_printf(&c->out, "{\"id\": %lld, \"login\": ", (long long)u->id);
    fv_sb_json_string(&c->out, u->login);
    fv_sb_printf(&c->out, ", \"role\": \"%s\", \"scope_id\": %lld, \"disabled\": %s}",
                 fv__http_role_name(u->role), (long long)u->scope_id,
                 u->disabled ? "true" : "false");
}

static void list_users(fv__http_ctx *c) {
    fv_status st = fv_ledger_user_list(c->srv->ledger, &c->actor, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

static void create_user(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"login", FV_JSON_STRING, true},
                                      {"password", FV_JSON_STRING, true},
                                      {"role", FV_JSON_STRING, true},
                                      {"scope_id", FV_JSON_INTEGER, false}};
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_role role = FV_LEDGER_ROLE_ADMIN;
    int64_t scope = 0, id = 0;
    const fv_json *sv = fv_json_get(r, "scope_id");
    if (sv != NULL) (void)fv_json_int64(sv, &scope);
    if (!role_of(fv_json_string(fv_json_get(r, "role"), NULL), &role)) {
        fv_json_free(doc);
        fv__http_error(c, 400, "invalid_request",
                       "'role' must be admin, reception, channel_manager, agent, auditor or"
                       " kiosk");
        return;
    }
    fv_status st = fv_ledger_user_create(
        c->srv->ledger, &c->actor, fv_json_string(fv_json_get(r, "login"), NULL),
        fv_json_string(fv_json_get(r, "password"), NULL), role, scope, &id);
    fv_json_free(doc); /* wipes the password */
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    c->status = 201;
    fv_sb_printf(&c->out, "{\"id\": %lld}", (long long)id);
}

static void update_user(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"password", FV_JSON_STRING, false},
                                      {"disabled", FV_JSON_BOOL, false}};
    int64_t id = 0;
    if (!fv__http_param_id(c, "id", &id)) return;
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    const fv_json *pw = fv_json_get(r, "password"), *dis = fv_json_get(r, "disabled");
    if (pw == NULL && dis == NULL) {
        fv_json_free(doc);
        fv__http_error(c, 400, "invalid_request", "give 'password' and/or 'disabled'");
        return;
    }
    fv_status st = FV_OK;
    bool drop = false;
    /* Enable before a new password (a disabled user's password cannot be set); disable after. */
    if (dis != NULL && !fv_json_bool(dis))
        st = fv_ledger_user_set_disabled(c->srv->ledger, &c->actor, id, false);
    if (st == FV_OK && pw != NULL) {
        st = fv_ledger_user_set_password(c->srv->ledger, &c->actor, id, fv_json_string(pw, NULL));
        drop = st == FV_OK;
    }
    if (st == FV_OK && dis != NULL && fv_json_bool(dis)) {
        st = fv_ledger_user_set_disabled(c->srv->ledger, &c->actor, id, true);
        drop = drop || st == FV_OK;
    }
    fv_json_free(doc); /* wipes the password */
    if (drop) fv__http_session_drop_user(c->srv->sessions, id);
    fv_ledger_user u;
    if (st == FV_OK) st = fv_ledger_user_get(c->srv->ledger, id, &u);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    write_user(c, &u);
    sodium_memzero(&u, sizeof u);
}

static void create_token(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"name", FV_JSON_STRING, true}};
    int64_t id = 0;
    if (!fv__http_param_id(c, "id", &id)) return;
    fv_json_doc *doc = fv__http_body(c, F, 1);
    if (doc == NULL) return;
    char token[FV_LEDGER_TOKEN_CHARS];
    fv_status st =
        fv_ledger_token_create(c->srv->ledger, &c->actor, id,
                               fv_json_string(fv_json_get(fv_json_root(doc), "name"), NULL), token);
    fv_json_free(doc);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    c->status = 201;
    fv_sb_printf(&c->out, "{\"token\": \"%s\"}", token);
    sodium_memzero(token, sizeof token);
}

static void revoke_token(fv__http_ctx *c) {
    int64_t id = 0;
    if (!fv__http_param_id(c, "id", &id)) return;
    fv_status st = fv_ledger_token_revoke(c->srv->ledger, &c->actor, id);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_sb_printf(&c->out, "{\"ok\": true}");
}

/* ---- notices ------------------------------------------------------------------------------ */

static void publish_notice(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"text_zh", FV_JSON_STRING, true},
                                      {"text_en", FV_JSON_STRING, true}};
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    /* fv__http_body's limits are the ordinary JSON ones (strings of 16 KiB); a notice needs
     * its own: the route's body limit and strings of a whole notice. */
    const char *ct = fv__http_header(c, "Content-Type");
    if (ct == NULL || strncmp(ct, "application/json", 16) != 0) {
        fv__http_error(c, 415, "unsupported_media_type", "the body must be application/json");
        return;
    }
    fv_json_limits lim = {NOTICE_MAX_BODY, 4, 16, FV_LEDGER_NOTICE_MAX};
    fv_json_doc *doc = NULL;
    fv_json_error err;
    fv_status st = fv_json_parse(c->body, c->body_len, &lim, &doc, &err);
    if (st != FV_OK) {
        fv__http_error(c,
                       st == FV_ERR_LIMIT   ? 413
                       : st == FV_ERR_NOMEM ? 503
                                            : 400,
                       err.code, "%s", err.message);
        return;
    }
    if (fv_json_check_object(fv_json_root(doc), F, 2, &err) != FV_OK) {
        fv__http_error(c, 400, err.code, "%s", err.message);
        fv_json_free(doc);
        return;
    }
    const fv_json *r = fv_json_root(doc);
    int version = 0;
    st = fv_ledger_notice_publish(c->srv->ledger, &c->actor, project,
                                  fv_json_string(fv_json_get(r, "text_zh"), NULL),
                                  fv_json_string(fv_json_get(r, "text_en"), NULL), &version);
    fv_json_free(doc);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    c->status = 201;
    fv_sb_printf(&c->out, "{\"version\": %d}", version);
}

static void current_notice(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_notice_current(c->srv->ledger, project, &c->out);
    if (st != FV_OK) fv__http_ledger_error(c, st);
}

/* ---- audit and purge ---------------------------------------------------------------------- */

static void audit_verify(fv__http_ctx *c) {
    fv_ledger_audit_report rep;
    memset(&rep, 0, sizeof rep);
    fv_status st = fv_ledger_audit_verify(c->srv->ledger, &rep);
    if (st != FV_OK && st != FV_ERR_FORMAT) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_sb_printf(&c->out, "{\"ok\": %s, \"entries\": %lld, \"first_bad\": %lld, \"reason\": ",
                 st == FV_OK && rep.first_bad == 0 ? "true" : "false", (long long)rep.entries,
                 (long long)rep.first_bad);
    fv_sb_json_string(&c->out, rep.reason);
    fv_sb_printf(&c->out, ", \"head\": ");
    fv_sb_json_string(&c->out, rep.head);
    fv_sb_printf(&c->out, "}");
}

static void purge_now(fv__http_ctx *c) {
    if (!empty_body(c)) return;
    fv_ledger_purge_report rep;
    memset(&rep, 0, sizeof rep);
    fv_status st = fv_ledger_purge(c->srv->ledger, &c->actor, &rep);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        return;
    }
    fv_sb_printf(&c->out,
                 "{\"templates_deleted\": %zu, \"keys_destroyed\": %zu, \"otps_deleted\": %zu,"
                 " \"idempotency_deleted\": %zu, \"escorts_settled\": %zu}",
                 rep.templates_deleted, rep.keys_destroyed, rep.otps_deleted,
                 rep.idempotency_deleted, rep.escorts_settled);
}

const fv__http_route fv__http_routes_admin[] = {
    {FV__HTTP_GET, "/api/v1/projects", PROJECT_READERS, list_projects, 0},
    {FV__HTTP_POST, "/api/v1/projects", ADMIN_ONLY, create_project, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code", PROJECT_READERS, get_project, 0},
    {FV__HTTP_PUT, "/api/v1/projects/:code", ADMIN_ONLY, update_project, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/channels", ADMIN_ONLY, list_channels, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/channels", ADMIN_ONLY, create_channel, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/agents", ROLE(ADMIN) | ROLE(RECEPTION), list_agents, 0},
    {FV__HTTP_POST, "/api/v1/channels/:id/agents", ADMIN_ONLY, create_agent, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/notices", NOTICE_READERS, current_notice, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/notices", ADMIN_ONLY, publish_notice, NOTICE_MAX_BODY},
    {FV__HTTP_GET, "/api/v1/users", ADMIN_ONLY, list_users, 0},
    {FV__HTTP_POST, "/api/v1/users", ADMIN_ONLY, create_user, 0},
    {FV__HTTP_PUT, "/api/v1/users/:id", ADMIN_ONLY, update_user, 0},
    {FV__HTTP_POST, "/api/v1/users/:id/tokens", ADMIN_ONLY, create_token, 0},
    {FV__HTTP_DELETE, "/api/v1/tokens/:id", ADMIN_ONLY, revoke_token, 0},
    {FV__HTTP_GET, "/api/v1/audit/verify", ROLE(ADMIN) | ROLE(AUDITOR), audit_verify, 0},
    {FV__HTTP_POST, "/api/v1/purge", ADMIN_ONLY, purge_now, 0},
    {0, NULL, 0, NULL, 0},
};
