/*
 * routes_reception.c - the reception endpoint group (docs/api/reception.md): the day's visits,
 * escort confirmation, the conflict queue and its decisions, deals, and settling missed escorts.
 *
 * Reception and admins act; auditors read the visits and conflicts; agents and channel managers
 * read the conflicts of their own channel (the ledger filters by the actor). Lists carry masked
 * phones only. Buyers' phones of a deal are wiped from memory after the call.
 * Threading: handlers run on connection threads; the ledger serialises itself.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http-impl.h"

/* A positive integer member; replies 400 and returns false otherwise. */
static bool positive_id(fv__http_ctx *c, const fv_json *r, const char *name, int64_t *out) {
    if (!fv_json_int64(fv_json_get(r, name), out) || *out <= 0) {
        fv__http_error(c, 400, "invalid_request", "'%s' must be a positive integer id", name);
        return false;
    }
    return true;
}

/* Replies with the list a ledger call wrote into b (or its error). */
static void reply_list(fv__http_ctx *c, fv_status st, fv_strbuf *b) {
    if (st != FV_OK)
        fv__http_ledger_error(c, st);
    else
        fv_sb_printf(&c->out, "%s", b->s != NULL ? b->s : "[]");
    if (b->s != NULL) sodium_memzero(b->s, b->cap);
    fv_sb_free(b);
}

/* ---- GET /projects/:code/visits?day=YYYY-MM-DD ---------------------------------------------- */

static void visits(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    const char *day = fv__http_query(c, "day");
    if (day != NULL && day[0] == '\0') day = NULL;
    fv_strbuf b = {0};
    fv_status st = fv_ledger_visits_json(c->srv->ledger, &c->actor, project, day, &b);
    reply_list(c, st, &b);
}

/* ---- POST /visits/:id/escort ------------------------------------------------------------------
 */

static void escort(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"agent", FV_JSON_INTEGER, true}};
    fv_json_doc *doc = fv__http_body(c, F, 1);
    if (doc == NULL) return;
    int64_t visit = 0, agent = 0;
    if (fv__http_param_id(c, "id", &visit) && positive_id(c, fv_json_root(doc), "agent", &agent)) {
        fv_ledger_outcome o = FV_LEDGER_OUTCOME_NATURAL;
        fv_status st = fv_ledger_escort_confirm(c->srv->ledger, &c->actor, NULL, visit, agent, &o);
        if (st != FV_OK)
            fv__http_ledger_error(c, st);
        else
            fv_sb_printf(&c->out, "{\"visit\": %lld, \"outcome\": \"%s\"}", (long long)visit,
                         fv__http_outcome_name(o));
    }
    fv_json_free(doc);
}

/* ---- GET /projects/:code/conflicts?status= ----------------------------------------------------
 */

static void conflicts(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    const char *status = fv__http_query(c, "status");
    if (status != NULL && status[0] == '\0') status = NULL;
    if (status != NULL && strcmp(status, "open") != 0 && strcmp(status, "decided") != 0 &&
        strcmp(status, "appealed") != 0 && strcmp(status, "closed") != 0) {
        fv__http_error(c, 400, "invalid_request",
                       "status must be open, decided, appealed or closed");
        return;
    }
    fv_strbuf b = {0};
    fv_status st = fv_ledger_conflict_list(c->srv->ledger, &c->actor, project, status, &b);
    reply_list(c, st, &b);
}

/* ---- POST /conflicts/:id/decision -------------------------------------------------------------
 */

static void decision(fv__http_ctx *c) {
    static const fv_json_field F[] = {{"verdict", FV_JSON_STRING, true},
                                      {"reason", FV_JSON_STRING, true}};
    fv_json_doc *doc = fv__http_body(c, F, 2);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    const char *verdict = fv_json_string(fv_json_get(r, "verdict"), NULL);
    const char *reason = fv_json_string(fv_json_get(r, "reason"), NULL);
    int64_t conflict = 0;
    if (!fv__http_param_id(c, "id", &conflict)) goto out;
    fv_ledger_verdict v;
    if (strcmp(verdict, "uphold") == 0) {
        v = FV_LEDGER_VERDICT_UPHOLD;
    } else if (strcmp(verdict, "overturn") == 0) {
        v = FV_LEDGER_VERDICT_OVERTURN;
    } else {
        fv__http_error(c, 400, "invalid_request", "'verdict' must be \"uphold\" or \"overturn\"");
        goto out;
    }
    fv_status st = fv_ledger_conflict_decide(c->srv->ledger, &c->actor, conflict, v, reason);
    if (st != FV_OK)
        fv__http_ledger_error(c, st);
    else
        fv_sb_printf(&c->out, "{\"conflict\": %lld, \"verdict\": \"%s\"}", (long long)conflict,
                     verdict);
out:
    fv_json_free(doc);
}

/* ---- POST /projects/:code/deals ---------------------------------------------------------------
 */

#define MAX_BUYERS 8

static void deal(fv__http_ctx *c) {
    static const fv_json_field F[] = {
        {"buyer_phones", FV_JSON_ARRAY, true},
        {"amount_cents", FV_JSON_INTEGER, true},
        {"signed_ms", FV_JSON_INTEGER, true},
        {"idempotency_key", FV_JSON_STRING, false},
    };
    fv_json_doc *doc = fv__http_body(c, F, sizeof F / sizeof F[0]);
    if (doc == NULL) return;
    const fv_json *r = fv_json_root(doc);
    fv_ledger_deal_request rq;
    memset(&rq, 0, sizeof rq);
    const char *phones[MAX_BUYERS];
    rq.project = fv__http_project(c, "code");
    if (rq.project == 0) goto out;
    const fv_json *arr = fv_json_get(r, "buyer_phones");
    size_t n = fv_json_count(arr);
    if (n < 1 || n > MAX_BUYERS) {
        fv__http_error(c, 400, "invalid_request", "'buyer_phones' names 1-8 buyers");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        phones[i] = fv_json_string(fv_json_at(arr, i), NULL);
        if (phones[i] == NULL) {
            fv__http_error(c, 400, "field_type", "'buyer_phones' must hold strings");
            goto out;
        }
    }
    if (!fv_json_int64(fv_json_get(r, "amount_cents"), &rq.amount_cents) || rq.amount_cents < 0) {
        fv__http_error(c, 400, "invalid_request", "'amount_cents' must not be negative");
        goto out;
    }
    if (!fv_json_int64(fv_json_get(r, "signed_ms"), &rq.signed_ms) || rq.signed_ms <= 0) {
        fv__http_error(c, 400, "invalid_request", "'signed_ms' must be a time in Unix ms");
        goto out;
    }
    if (!fv__http_copy_field(c, r, "idempotency_key", rq.idempotency_key,
                             sizeof rq.idempotency_key))
        goto out;
    rq.buyer_phones = phones;
    rq.n_buyers = n;
    fv_ledger_deal_result res;
    fv_status st = fv_ledger_deal_record(c->srv->ledger, &c->actor, &rq, &res);
    if (st != FV_OK) {
        fv__http_ledger_error(c, st);
        goto out;
    }
    fv_sb_printf(&c->out,
                 "{\"id\": %lld, \"channel\": %lld, \"agent\": %lld, \"in_window\": %s,"
                 " \"flagged\": %s, \"conflict\": %lld, \"commission_cents\": %lld}",
                 (long long)res.id, (long long)res.channel, (long long)res.agent,
                 res.in_window ? "true" : "false", res.flagged ? "true" : "false",
                 (long long)res.conflict, (long long)res.commission_cents);
out:
    sodium_memzero(&rq, sizeof rq);
    fv_json_free(doc); /* wipes the phones */
}

/* ---- POST /projects/:code/settle ----------------------------------------------------------------
 */

static void settle(fv__http_ctx *c) {
    fv_json_doc *doc = fv__http_body(c, NULL, 0); /* an empty object: {} */
    if (doc == NULL) return;
    fv_json_free(doc);
    if (fv__http_project(c, "code") == 0) return;
    size_t n = 0;
    fv_status st = fv_ledger_settle(c->srv->ledger, &c->actor, &n);
    if (st != FV_OK)
        fv__http_ledger_error(c, st);
    else
        fv_sb_printf(&c->out, "{\"settled\": %zu}", n);
}

#define ROLE(r)   FV__HTTP_ROLE(FV_LEDGER_ROLE_##r)
#define DESK      (ROLE(RECEPTION) | ROLE(ADMIN))
#define DESK_READ (DESK | ROLE(AUDITOR))
#define CONFLICTS (DESK_READ | ROLE(CHANNEL_MANAGER) | ROLE(AGENT))

const fv__http_route fv__http_routes_reception[] = {
    {FV__HTTP_GET, "/api/v1/projects/:code/visits", DESK_READ, visits, 0},
    {FV__HTTP_POST, "/api/v1/visits/:id/escort", DESK, escort, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/conflicts", CONFLICTS, conflicts, 0},
    {FV__HTTP_POST, "/api/v1/conflicts/:id/decision", DESK, decision, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/deals", DESK, deal, 0},
    {FV__HTTP_POST, "/api/v1/projects/:code/settle", DESK, settle, 0},
    {0, NULL, 0, NULL, 0},
};
