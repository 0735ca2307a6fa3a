/*
 * visits.c - the day's visits of a project, for the reception console: fv_ledger_visits_json.
 *
 * One row per visit of the day (UTC+8), oldest first, with the person's attribution (the outcome
 * of their first visit, its channel and agent), how they were matched, the masked phone (never
 * the phone, never a name of a customer), the escort of a first visit and whether a conflict
 * about the person is waiting for a decision. Who may read: reception, admin, auditor (and
 * scheduled jobs); each read appends one "visits.read" entry to the audit chain in the same
 * transaction as its reads, and the JSON reaches the caller's buffer only when that entry
 * commits.
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

static fv_status may_read(fv_ledger *l, const fv_ledger_actor *who) {
    if (who == NULL) return fv__ledger_fail(l, FV_ERR_ARG, "no actor given");
    if (who->role == FV_LEDGER_ROLE_ADMIN || who->role == FV_LEDGER_ROLE_RECEPTION ||
        who->role == FV_LEDGER_ROLE_AUDITOR || who->role == FV_LEDGER_ROLE_SYSTEM)
        return FV_OK;
    return fv__ledger_fail(l, FV_ERR_STATE,
                           "this role may not list visits (reception, admin, auditor)");
}

/* A text column as a JSON string, or null when empty. */
static void text_or_null(fv_strbuf *b, sqlite3_stmt *q, int col) {
    const char *s = (const char *)sqlite3_column_text(q, col);
    if (s == NULL || s[0] == '\0')
        fv_sb_printf(b, "null");
    else
        fv_sb_json_string(b, s);
}

static fv_status build(fv_ledger *l, int64_t project, int64_t lo, int64_t hi, fv_strbuf *b) {
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT v.id, v.at, v.kind, v.matched_by, COALESCE(a.outcome, ''),"
           " COALESCE(a.channel_id, 0), COALESCE(ch.name, ''), COALESCE(a.agent_id, 0),"
           " COALESCE(ag.name, ''), COALESCE(a.registration_id, 0), COALESCE(p.phone_mask, ''),"
           " CASE WHEN a.first_visit_id = v.id THEN COALESCE(a.escort, '') ELSE '' END,"
           " CASE WHEN a.first_visit_id = v.id AND a.outcome = 'pending_escort'"
           "  THEN COALESCE(a.escort_deadline, 0) ELSE 0 END,"
           " EXISTS(SELECT 1 FROM conflict c WHERE c.project_id = v.project_id"
           "  AND (c.person_id = v.person_id OR c.visit_id = v.id)"
           "  AND c.status IN ('open', 'appealed'))"
           " FROM visit v JOIN person p ON p.id = v.person_id"
           " LEFT JOIN attribution a ON a.person_id = v.person_id"
           " LEFT JOIN channel ch ON ch.id = a.channel_id"
           " LEFT JOIN agent ag ON ag.id = a.agent_id"
           " WHERE v.project_id = ?1 AND v.at >= ?2 AND v.at < ?3 ORDER BY v.at, v.id");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, project);
    sqlite3_bind_int64(q, 2, lo);
    sqlite3_bind_int64(q, 3, hi);
    fv_sb_printf(b, "[");
    int rc, n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        fv_sb_printf(b, "%s{\"visit\": %lld, \"at\": %lld, \"kind\": ", n++ ? ", " : "",
                     (long long)sqlite3_column_int64(q, 0), (long long)sqlite3_column_int64(q, 1));
        fv_sb_json_string(b, (const char *)sqlite3_column_text(q, 2));
        fv_sb_printf(b, ", \"matched_by\": ");
        fv_sb_json_string(b, (const char *)sqlite3_column_text(q, 3));
        fv_sb_printf(b, ", \"outcome\": ");
        text_or_null(b, q, 4);
        fv_sb_printf(
            b, ", \"channel\": %lld, \"channel_name\": ", (long long)sqlite3_column_int64(q, 5));
        text_or_null(b, q, 6);
        fv_sb_printf(b,
                     ", \"agent\": %lld, \"agent_name\": ", (long long)sqlite3_column_int64(q, 7));
        text_or_null(b, q, 8);
        fv_sb_printf(
            b, ", \"registration\": %lld, \"phone_mask\": ", (long long)sqlite3_column_int64(q, 9));
        text_or_null(b, q, 10);
        fv_sb_printf(b, ", \"escort\": ");
        text_or_null(b, q, 11);
        int64_t deadline = sqlite3_column_int64(q, 12);
        if (deadline != 0)
            fv_sb_printf(b, ", \"escort_deadline\": %lld", (long long)deadline);
        else
            fv_sb_printf(b, ", \"escort_deadline\": null");
        fv_sb_printf(b, ", \"conflict_open\": %s}", sqlite3_column_int(q, 13) ? "true" : "false");
    }
    fv_sb_printf(b, "]");
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return fv__ledger_db_fail(l, rc, "visits");
    if (b->oom || b->s == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    return FV_OK;
}

fv_status fv_ledger_visits_json(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                const char *day, fv_strbuf *out) {
    if (l == NULL) return FV_ERR_ARG;
    fv__ledger_lock(l);
    fv_strbuf tmp = {0};
    fv_ledger_project_settings ps;
    int64_t d = 0;
    fv_status st = may_read(l, who);
    if (st == FV_OK && out == NULL) st = fv__ledger_fail(l, FV_ERR_ARG, "no output buffer");
    if (st == FV_OK) {
        if (day == NULL)
            d = fv__ledger_day(fv__ledger_now(l));
        else if (fv__ledger_parse_day(day, &d) != FV_OK)
            st = fv__ledger_fail(l, FV_ERR_ARG, "day: not a valid day (YYYY-MM-DD, 1970 on)");
    }
    if (st == FV_OK) st = fv__ledger_project_load(l, project, &ps);
    if (st == FV_OK) {
        int64_t lo = d * FV__LEDGER_DAY_MS - FV__LEDGER_TZ_MS;
        st = build(l, project, lo, lo + FV__LEDGER_DAY_MS, &tmp);
    }
    if (st == FV_OK)
        st = fv__ledger_audited_delivery(l, who, "visits.read", "project", project, &tmp, out);
    if (tmp.s != NULL) fv_wipe(tmp.s, tmp.cap);
    fv_sb_free(&tmp);
    fv__ledger_unlock(l);
    return st;
}
