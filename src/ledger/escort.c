/*
 * escort.c - confirming that an agent accompanied a first visit (扫码带访), and settling the
 * visits whose escort never came.
 *
 * A first visit with a live registration waits, pending_escort, for the escort window: the
 * registering channel's agent scans the visit's QR code, or reception confirms the accompanying
 * agent; either makes it channel_valid. An agent of another channel, a return visit, a visit
 * without a live registration, or a confirmation after the window is refused with the reason.
 * fv_ledger_settle turns pending visits past their window into channel_invalid: the channel
 * moves to natural and a conflict (escort_not_confirmed) awaits review. The window's last
 * millisecond (the deadline itself) still belongs to it, for the scan and the settlement alike.
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

fv_status fv_ledger_escort_confirm(fv_ledger *l, const fv_ledger_actor *who, const char *qr,
                                   int64_t visit, int64_t agent, fv_ledger_outcome *outcome) {
    fv__ledger_lock(l);
    fv_status st = FV_OK;
    const char *how = NULL;
    if (qr != NULL && who->role == FV_LEDGER_ROLE_AGENT) {
        how = "agent_qr";
        agent = who->id;
    } else if (qr == NULL &&
               (who->role == FV_LEDGER_ROLE_RECEPTION || who->role == FV_LEDGER_ROLE_ADMIN)) {
        how = "reception";
    } else {
        st = fv__ledger_fail(l, FV_ERR_STATE,
                             "an escort is confirmed by the agent's QR scan or"
                             " by reception");
    }
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    sqlite3_stmt *q = fv__ledger_prepare(
        l, qr != NULL ? "SELECT v.id, v.kind, a.id, a.outcome, COALESCE(a.escort_deadline, 0),"
                        " COALESCE(r.channel_id, 0), a.person_id FROM visit v"
                        " LEFT JOIN attribution a ON a.first_visit_id = v.id"
                        " LEFT JOIN registration r ON r.id = a.registration_id WHERE v.qr = ?"
                      : "SELECT v.id, v.kind, a.id, a.outcome, COALESCE(a.escort_deadline, 0),"
                        " COALESCE(r.channel_id, 0), a.person_id FROM visit v"
                        " LEFT JOIN attribution a ON a.first_visit_id = v.id"
                        " LEFT JOIN registration r ON r.id = a.registration_id WHERE v.id = ?");
    if (q == NULL) {
        st = FV_ERR_IO;
        goto rollback;
    }
    if (qr != NULL)
        sqlite3_bind_text(q, 1, qr, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(q, 1, visit);
    int64_t attribution = 0, deadline = 0, reg_channel = 0, agent_channel = 0;
    if (sqlite3_step(q) != SQLITE_ROW) {
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such visit");
    } else {
        visit = sqlite3_column_int64(q, 0);
        const char *kind = (const char *)sqlite3_column_text(q, 1);
        const char *o = (const char *)sqlite3_column_text(q, 3);
        attribution = sqlite3_column_int64(q, 2);
        deadline = sqlite3_column_int64(q, 4);
        reg_channel = sqlite3_column_int64(q, 5);
        if (strcmp(kind, "first") != 0)
            st = fv__ledger_fail(l, FV_ERR_STATE, "a return visit has no escort to confirm");
        else if (o == NULL || strcmp(o, "pending_escort") != 0)
            st = fv__ledger_fail(l, FV_ERR_STATE,
                                 "the visit has no registration awaiting its"
                                 " escort (outcome %s)",
                                 o ? o : "none");
        else if (fv__ledger_now(l) > deadline)
            st = fv__ledger_fail(l, FV_ERR_STATE, "the escort window of the visit has passed");
    }
    sqlite3_finalize(q);
    if (st == FV_OK && fv__ledger_query_i64(l, "SELECT channel_id FROM agent WHERE id = ?",
                                            &agent_channel, 1, agent) != FV_OK)
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such agent");
    if (st == FV_OK && agent_channel != reg_channel)
        st = fv__ledger_fail(l, FV_ERR_STATE, "the agent is not of the registering channel");
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "UPDATE attribution SET outcome = 'channel_valid', escort = ?,"
                                  " escort_at = ?, escort_deadline = NULL WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_text(q, 1, how, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, fv__ledger_now(l));
            sqlite3_bind_int64(q, 3, attribution);
        }
        st = fv__ledger_step_done(l, q, "escort");
    }
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "UPDATE registration SET outcome = 'channel_valid' WHERE"
                                  " visit_id = ?");
        if (q != NULL) sqlite3_bind_int64(q, 1, visit);
        st = fv__ledger_step_done(l, q, "registration outcome");
    }
    if (st == FV_OK) st = fv__ledger_audit(l, who, "escort.confirm", "visit", visit);
    if (st == FV_OK) st = fv__ledger_commit(l);
rollback:
    if (st != FV_OK) fv__ledger_rollback(l);
    if (st == FV_OK && outcome != NULL) *outcome = FV_LEDGER_OUTCOME_CHANNEL_VALID;
out:
    fv__ledger_unlock(l);
    return st;
}

/* Settles pending visits past their window; inside the caller's transaction. */
fv_status fv__ledger_settle(fv_ledger *l, const fv_ledger_actor *who, size_t *settled) {
    *settled = 0;
    int64_t now = fv__ledger_now(l);
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT a.id, a.project_id, a.person_id, a.first_visit_id, a.registration_id,"
           " a.channel_id, COALESCE(a.agent_id, 0), a.escort_deadline, v.at,"
           " (SELECT id FROM channel WHERE project_id = a.project_id AND kind = 'natural')"
           " FROM attribution a JOIN visit v ON v.id = a.first_visit_id"
           " WHERE a.outcome = 'pending_escort' AND a.escort_deadline < ? ORDER BY a.id");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, now);
    fv_status st = FV_OK;
    int rc;
    while (st == FV_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0), project = sqlite3_column_int64(q, 1),
                person = sqlite3_column_int64(q, 2), visit = sqlite3_column_int64(q, 3),
                reg = sqlite3_column_int64(q, 4), channel = sqlite3_column_int64(q, 5),
                agent = sqlite3_column_int64(q, 6), deadline = sqlite3_column_int64(q, 7),
                at = sqlite3_column_int64(q, 8), natural = sqlite3_column_int64(q, 9);
        sqlite3_stmt *u = fv__ledger_prepare(
            l, "UPDATE attribution SET outcome = 'channel_invalid', channel_id = ?,"
               " agent_id = NULL, escort_deadline = NULL WHERE id = ?");
        if (u != NULL) {
            sqlite3_bind_int64(u, 1, natural);
            sqlite3_bind_int64(u, 2, id);
        }
        st = fv__ledger_step_done(l, u, "settle");
        if (st == FV_OK) {
            u = fv__ledger_prepare(l, "UPDATE registration SET outcome = 'channel_invalid'"
                                      " WHERE id = ?");
            if (u != NULL) sqlite3_bind_int64(u, 1, reg);
            st = fv__ledger_step_done(l, u, "settle registration");
        }
        if (st == FV_OK) {
            char ev[256];
            snprintf(ev, sizeof ev,
                     "{\"rule\": 4, \"visit\": %lld, \"at\": %lld, \"registration\": %lld,"
                     " \"escort_deadline\": %lld, \"escort\": null}",
                     (long long)visit, (long long)at, (long long)reg, (long long)deadline);
            fv__ledger_conflict_new c = {.kind = "escort_not_confirmed",
                                         .project = project,
                                         .person = person,
                                         .registration = reg,
                                         .visit = visit,
                                         .channel = channel,
                                         .agent = agent,
                                         .evidence = ev};
            int64_t cid = 0;
            st = fv__ledger_conflict_open(l, who, &c, &cid);
        }
        if (st == FV_OK) (*settled)++;
    }
    sqlite3_finalize(q);
    return st;
}

fv_status fv_ledger_settle(fv_ledger *l, const fv_ledger_actor *who, size_t *settled) {
    fv__ledger_lock(l);
    size_t n = 0;
    fv_status st = fv__ledger_begin(l);
    if (st == FV_OK) {
        st = fv__ledger_settle(l, who, &n);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) {
            fv__ledger_rollback(l);
            n = 0;
        }
    }
    if (settled != NULL) *settled = n;
    fv__ledger_unlock(l);
    return st;
}
