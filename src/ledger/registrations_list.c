/*
 * registrations_list.c - the registrations of a project as the caller may see them:
 * fv_ledger_registrations_json.
 *
 * Scope follows the actor (PRODUCT.md §4.12, C13): an agent sees only their own registrations, a
 * channel manager those of their channel, reception, admins and auditors all of the project;
 * kiosks and visitors none. Rows carry the masked phone only (138****1234), never the customer's
 * name or phone; refused registrations are listed with their reason, so the channel sees why.
 * Each read appends one "registrations.read" entry to the audit chain in the same transaction as
 * its reads; the JSON reaches the caller's buffer only when that entry commits.
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

/* The agent / channel the actor is limited to (0: no limit). */
static fv_status scope_of(fv_ledger *l, const fv_ledger_actor *who, int64_t *agent,
                          int64_t *channel) {
    *agent = 0;
    *channel = 0;
    if (who == NULL) return fv__ledger_fail(l, FV_ERR_ARG, "no actor given");
    switch (who->role) {
    case FV_LEDGER_ROLE_AGENT:
        if (who->id <= 0) return fv__ledger_fail(l, FV_ERR_STATE, "unknown agent");
        *agent = who->id;
        return FV_OK;
    case FV_LEDGER_ROLE_CHANNEL_MANAGER:
        if (who->id <= 0) return fv__ledger_fail(l, FV_ERR_STATE, "unknown channel");
        *channel = who->id;
        return FV_OK;
    case FV_LEDGER_ROLE_ADMIN:
    case FV_LEDGER_ROLE_RECEPTION:
    case FV_LEDGER_ROLE_AUDITOR:
    case FV_LEDGER_ROLE_SYSTEM:
        return FV_OK;
    default:
        return fv__ledger_fail(l, FV_ERR_STATE, "this role may not list registrations");
    }
}

static fv_status build(fv_ledger *l, int64_t project, int64_t agent, int64_t channel,
                       const char *status, int64_t now, fv_strbuf *b) {
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT r.id, r.agent_id, r.channel_id, COALESCE(ch.name, ''), r.phone_mask,"
           " r.created, r.expires, COALESCE(r.expected_visit, 0), r.status,"
           " COALESCE(r.refusal, ''), COALESCE(r.outcome, ''), COALESCE(r.visit_id, 0)"
           " FROM registration r LEFT JOIN channel ch ON ch.id = r.channel_id"
           " WHERE r.project_id = ?1 AND (?2 = 0 OR r.agent_id = ?2)"
           " AND (?3 = 0 OR r.channel_id = ?3) AND (?4 IS NULL OR r.status = ?4)"
           " ORDER BY r.id DESC");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, project);
    sqlite3_bind_int64(q, 2, agent);
    sqlite3_bind_int64(q, 3, channel);
    if (status != NULL)
        sqlite3_bind_text(q, 4, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 4);
    fv_sb_printf(b, "[");
    int rc, n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *st = (const char *)sqlite3_column_text(q, 8);
        const char *refusal = (const char *)sqlite3_column_text(q, 9);
        const char *outcome = (const char *)sqlite3_column_text(q, 10);
        int64_t expires = sqlite3_column_int64(q, 6), expected = sqlite3_column_int64(q, 7);
        int64_t visit = sqlite3_column_int64(q, 11);
        bool live = strcmp(st, "accepted") == 0 && visit == 0 && expires > now;
        fv_sb_printf(b, "%s{\"id\": %lld, \"agent\": %lld, \"channel\": %lld, \"channel_name\": ",
                     n++ ? ", " : "", (long long)sqlite3_column_int64(q, 0),
                     (long long)sqlite3_column_int64(q, 1), (long long)sqlite3_column_int64(q, 2));
        fv_sb_json_string(b, (const char *)sqlite3_column_text(q, 3));
        fv_sb_printf(b, ", \"phone_mask\": ");
        fv_sb_json_string(b, (const char *)sqlite3_column_text(q, 4));
        fv_sb_printf(b, ", \"created\": %lld, \"expires\": %lld, \"expected_visit\": ",
                     (long long)sqlite3_column_int64(q, 5), (long long)expires);
        if (expected != 0)
            fv_sb_printf(b, "%lld", (long long)expected);
        else
            fv_sb_printf(b, "null");
        fv_sb_printf(b, ", \"status\": ");
        fv_sb_json_string(b, st);
        fv_sb_printf(b, ", \"refusal\": ");
        if (refusal[0] != '\0')
            fv_sb_json_string(b, refusal);
        else
            fv_sb_printf(b, "null");
        fv_sb_printf(b, ", \"outcome\": ");
        if (outcome[0] != '\0')
            fv_sb_json_string(b, outcome);
        else
            fv_sb_printf(b, "null");
        fv_sb_printf(b, ", \"visit\": %lld, \"live\": %s}", (long long)visit,
                     live ? "true" : "false");
    }
    fv_sb_printf(b, "]");
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return fv__ledger_db_fail(l, rc, "registrations");
    if (b->oom || b->s == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    return FV_OK;
}

fv_status fv_ledger_registrations_json(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                       const char *status, fv_strbuf *out) {
    if (l == NULL) return FV_ERR_ARG;
    fv__ledger_lock(l);
    fv_strbuf tmp = {0};
    fv_ledger_project_settings ps;
    int64_t agent = 0, channel = 0;
    fv_status st = scope_of(l, who, &agent, &channel);
    if (st == FV_OK && out == NULL) st = fv__ledger_fail(l, FV_ERR_ARG, "no output buffer");
    if (st == FV_OK && status != NULL && strcmp(status, "accepted") != 0 &&
        strcmp(status, "refused") != 0)
        st = fv__ledger_fail(l, FV_ERR_ARG, "status must be accepted or refused");
    if (st == FV_OK) st = fv__ledger_project_load(l, project, &ps);
    if (st == FV_OK) st = build(l, project, agent, channel, status, fv__ledger_now(l), &tmp);
    if (st == FV_OK)
        st = fv__ledger_audited_delivery(l, who, "registrations.read", "project", project, &tmp,
                                         out);
    if (tmp.s != NULL) fv_wipe(tmp.s, tmp.cap);
    fv_sb_free(&tmp);
    fv__ledger_unlock(l);
    return st;
}
