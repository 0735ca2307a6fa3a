/*
 * routes_agent.c - the agent endpoint group (docs/api/agent.md): registrations (报备) and their
 * list, the escort QR scan (扫码带访), and appeals of conflict decisions.
 *
 * An agent acts in their own name only (the session's agent id); a channel manager and an admin
 * register for a named agent (the ledger checks a channel manager's channel). Lists follow the
 * actor's scope in the ledger: an agent sees their own registrations, a channel manager their
 * channel's, reception, admins and auditors all; phones masked, never customers' names (C13).
 * The customer's name and phone are wiped from memory after the call and never appear in errors.
 * Threading: handlers run on connection threads; the ledger serialises itself.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http-impl.h"

/* ---- POST /projects/:code/registrations ------------------------------------------------------ */

static void registration_create(fv__http_ctx *c) {
    static const fv_json_field F[] = {
        {"agent", FV_JSON_INTEGER, false},
        {"customer_name", FV_JSON_STRING, true},
        {"phone", FV_JSON_STRING, true},
        {"expected_visit_ms", FV_JSON_INTEGER, false},
        {"idempotency_key", FV_JSON_STRING, false},
    };
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_registration_request rq;
    memset(&rq, 0, sizeof rq);
    fv_ledger_registration_result res;
    memset(&res, 0, sizeof res);
    rq.project = fv__http_project(c, "code");
    if (rq.project == 0) goto out;
    const fv_json *agent = fv_json_get(r, "agent");
    if (c->who.role == FV_LEDGER_ROLE_AGENT) {
        /* An agent registers as themselves; naming another agent is refused. */
        rq.agent = c->who.scope_id;
        int64_t named = 0;
        if (agent != NULL && (!fv_json_int64(agent, &named) || named != rq.agent)) {
            fv__http_error(c, 409, "refused", "an agent registers only in their own name");
            goto out;
        }
    } else if (agent == NULL) {
        fv__http_error(c, 400, "field_missing", "missing field 'agent' (the registering agent)");
        goto out;
    } else if (!fv_json_int64(agent, &rq.agent) || rq.agent <= 0) {
        fv__http_error(c, 400, "invalid_request", "'agent' must be an agent id");
        goto out;
    }
    const fv_json *ev = fv_json_get(r, "expected_visit_ms");
    if (ev != NULL && (!fv_json_int64(ev, &rq.expected_visit_ms) || rq.expected_visit_ms <= 0)) {
        fv__http_error(c, 400, "invalid_request", "'expected_visit_ms' must be a time in Unix ms");
        goto out;
    }
    if (!fv__http_copy_field(c, r, "customer_name", rq.customer_name, sizeof rq.customer_name) ||
        !fv__http_copy_field(c, r, "phone", rq.phone, sizeof rq.phone) ||
        !fv__http_copy_field(c, r, "idempotency_key", rq.idempotency_key,
                             sizeof rq.idempotency_key))
        goto out;
    fv_status st = fv_ledger_register(c->srv->ledger, &c->actor, &rq, &res);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        goto out;
    }
    fv_sb_printf(&c->out, "{\"id\": %lld, \"status\": \"%s\", \"reason\": ", (long long)res.id,
                 res.status == FV_LEDGER_REG_ACCEPTED ? "accepted" : "refused");
    if (res.reason[0] != '\0')
        fv_sb_json_string(&c->out, res.reason);
    else
        fv_sb_printf(&c->out, "null");
    fv_sb_printf(&c->out, ", \"expires_ms\": %lld, \"conflict\": %lld, \"phone_mask\": ",
                 (long long)res.expires_ms, (long long)res.conflict);
    fv_sb_json_string(&c->out, res.phone_mask);
    fv_sb_printf(&c->out, "}");
out:
    sodium_memzero(&rq, sizeof rq);
    sodium_memzero(&res, sizeof res);
    fv_json_free(doc);
}

/* ---- GET /projects/:code/registrations?status= ------------------------------------------------
 */

static void registration_list(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    const char *status = fv__http_query(c, "status");
    if (status != NULL && status[0] == '\0') status = NULL;
    fv_strbuf b = {0};
    fv_status st = fv_ledger_registrations_json(c->srv->ledger, &c->actor, project, status, &b);
    if (st != FV_OK)
        fv__http_ledger_error(c, st);
    else
        fv_sb_printf(&c->out, "%s", b.s != NULL ? b.s : "[]");
    if (b.s != NULL) sodium_memzero(b.s, b.cap);
    fv_sb_free(&b);
}

/* ---- POST /escort/scan --------------------------------------------------------------------------
 */

static void escort_scan(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"qr", FV_JSON_STRING, true}};
    fv_json_doc *doc = fv__http_body(c, F, 1);
    if (doc == NULL) return;
    char qr[FV_LEDGER_ID_CHARS];
    if (fv__http_copy_field(c, fv_json_root(doc), "qr", qr, sizeof qr)) {
        fv_ledger_outcome o = FV_LEDGER_OUTCOME_NATURAL;
        fv_status st = fv_ledger_escort_confirm(c->srv->ledger, &c->actor, qr, 0, 0, &o);
        if (st != FV_OK)
            fv__http_ledger_error(c, st);
        else
            fv_sb_printf(&c->out, "{\"outcome\": \"%s\"}", fv__http_outcome_name(o));
        sodium_memzero(qr, sizeof qr);
    }
    fv_json_free(doc);
}

/* ---- POST /conflicts/:id/appeal -----------------------------------------------------------------
 */

static void appeal(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"reason", FV_JSON_STRING, true}};
    fv_json_doc *doc = fv__http_body(c, F, 1);
    if (doc == NULL) return;
    int64_t conflict = 0;
    if (fv__http_param_id(c, "id", &conflict)) {
        const char *reason = fv_json_string(fv_json_get(fv_json_root(doc), "reason"), NULL);
        fv_status st = fv_ledger_conflict_appeal(c->srv->ledger, &c->actor, conflict, reason);
        if (st != FV_OK)
            fv__http_ledger_error(c, st);
        else
            fv_sb_printf(&c->out, "{\"conflict\": %lld, \"status\": \"appealed\"}",
                         (long long)conflict);
    }
    fv_json_free(doc);
}

#define ROLE(r) FV__HTTP_ROLE(FV_LEDGER_ROLE_##r)

const fv__http_route fv__http_routes_agent[] = {
    {FV__HTTP_POST, "/api/v1/projects/:code/registrations",
     ROLE(AGENT) | ROLE(CHANNEL_MANAGER) | ROLE(ADMIN), registration_create, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/registrations",
     ROLE(AGENT) | ROLE(CHANNEL_MANAGER) | ROLE(ADMIN) | ROLE(RECEPTION) | ROLE(AUDITOR),
     registration_list, 0},
    {FV__HTTP_POST, "/api/v1/escort/scan", ROLE(AGENT), escort_scan, 0},
    {FV__HTTP_POST, "/api/v1/conflicts/:id/appeal", ROLE(AGENT) | ROLE(CHANNEL_MANAGER), appeal, 0},
    {0, NULL, 0, NULL, 0},
};
