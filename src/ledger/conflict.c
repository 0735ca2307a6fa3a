/*
 * conflict.c - conflicts (claims that contradict the ledger), their review and the one appeal.
 *
 * Life of a conflict: open (made by the rules, with its evidence) -> decided by reception or an
 * admin (uphold: the ledger's judgement stands; overturn: the claim is accepted) -> appealed once
 * by the claiming channel, with a reason, when the judgement went against it -> closed by a final
 * decision. Every step is a row in `decision` (who, when, why) and an audit entry. Overturning
 * applies the claim: the attribution (or the deal) moves to the claiming registration's channel
 * and agent, recorded as channel_valid; for two channels' registrations of one phone, the
 * claiming registration is accepted and the holder's refused, and if the person already came on
 * the holder's registration, that visit passes to the claim (the holder keeps no visit or outcome).
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

void fv__ledger_bind_id(sqlite3_stmt *s, int i, int64_t v) {
    if (v != 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

fv_status fv__ledger_conflict_open(fv_ledger *l, const fv_ledger_actor *who,
                                   const fv__ledger_conflict_new *c, int64_t *id) {
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "INSERT INTO conflict(project_id, kind, person_id, registration_id,"
           " other_registration_id, visit_id, deal_id, channel_id, agent_id, evidence, created,"
           " status) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, c->project);
        sqlite3_bind_text(q, 2, c->kind, -1, SQLITE_STATIC);
        fv__ledger_bind_id(q, 3, c->person);
        fv__ledger_bind_id(q, 4, c->registration);
        fv__ledger_bind_id(q, 5, c->other_registration);
        fv__ledger_bind_id(q, 6, c->visit);
        fv__ledger_bind_id(q, 7, c->deal);
        fv__ledger_bind_id(q, 8, c->channel);
        fv__ledger_bind_id(q, 9, c->agent);
        sqlite3_bind_text(q, 10, c->evidence, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 11, fv__ledger_now(l));
    }
    fv_status st = fv__ledger_step_done(l, q, "conflict");
    if (st != FV_OK) return st;
    *id = sqlite3_last_insert_rowid(l->db);
    return fv__ledger_audit(l, who, "conflict.open", "conflict", *id);
}

typedef struct conflict_row {
    int64_t id, project, person, registration, other_registration, deal, channel, agent;
    char kind[48], status[16], verdict[16];
    int appealed;
} conflict_row;

static fv_status load(fv_ledger *l, int64_t id, conflict_row *c) {
    memset(c, 0, sizeof *c);
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT id, project_id, COALESCE(person_id, 0), COALESCE(registration_id, 0),"
           " COALESCE(other_registration_id, 0), COALESCE(deal_id, 0), COALESCE(channel_id, 0),"
           " COALESCE(agent_id, 0), kind, status, COALESCE(verdict, ''), appealed"
           " FROM conflict WHERE id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    fv_status st = FV_OK;
    if (rc == SQLITE_ROW) {
        c->id = sqlite3_column_int64(q, 0);
        c->project = sqlite3_column_int64(q, 1);
        c->person = sqlite3_column_int64(q, 2);
        c->registration = sqlite3_column_int64(q, 3);
        c->other_registration = sqlite3_column_int64(q, 4);
        c->deal = sqlite3_column_int64(q, 5);
        c->channel = sqlite3_column_int64(q, 6);
        c->agent = sqlite3_column_int64(q, 7);
        snprintf(c->kind, sizeof c->kind, "%s", (const char *)sqlite3_column_text(q, 8));
        snprintf(c->status, sizeof c->status, "%s", (const char *)sqlite3_column_text(q, 9));
        snprintf(c->verdict, sizeof c->verdict, "%s", (const char *)sqlite3_column_text(q, 10));
        c->appealed = sqlite3_column_int(q, 11);
    } else {
        st = rc == SQLITE_DONE ? fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such conflict")
                               : fv__ledger_db_fail(l, rc, "conflict");
    }
    sqlite3_finalize(q);
    return st;
}

static fv_status exec_ids(fv_ledger *l, const char *sql, int64_t a, int64_t b, int64_t c) {
    sqlite3_stmt *q = fv__ledger_prepare(l, sql);
    if (q == NULL) return FV_ERR_IO;
    int n = sqlite3_bind_parameter_count(q);
    if (n >= 1) sqlite3_bind_int64(q, 1, a);
    if (n >= 2) sqlite3_bind_int64(q, 2, b);
    if (n >= 3) sqlite3_bind_int64(q, 3, c);
    return fv__ledger_step_done(l, q, "overturn");
}

/* Applies an accepted claim. */
static fv_status overturn(fv_ledger *l, const conflict_row *c) {
    fv_status st = FV_OK;
    if (strcmp(c->kind, "buyer_visited_before_registration") == 0) {
        int64_t natural = 0;
        st = fv__ledger_query_i64(l,
                                  "SELECT id FROM channel WHERE project_id = ? AND"
                                  " kind = 'natural'",
                                  &natural, 1, c->project);
        if (st == FV_OK)
            st = exec_ids(l,
                          "UPDATE deal SET channel_id = ?, agent_id = NULL,"
                          " commission_cents = 0 WHERE id = ?",
                          natural, c->deal, 0);
        return st;
    }
    if (c->registration == 0) return fv__ledger_fail(l, FV_ERR_INTERNAL, "conflict without claim");
    if (strcmp(c->kind, "duplicate_registration") == 0 && c->other_registration != 0) {
        st = exec_ids(l,
                      "UPDATE registration SET visit_id = (SELECT visit_id FROM registration"
                      " WHERE id = ?2) WHERE id = ?1 AND visit_id IS NULL",
                      c->registration, c->other_registration, 0);
        if (st == FV_OK)
            st = exec_ids(l,
                          "UPDATE registration SET status = 'refused', refusal ="
                          " 'overturned_on_review', visit_id = NULL, outcome = NULL WHERE id = ?",
                          c->other_registration, 0, 0);
    }
    if (st == FV_OK)
        st = exec_ids(l,
                      "UPDATE registration SET status = 'accepted', refusal = NULL,"
                      " outcome = CASE WHEN visit_id IS NOT NULL OR ?2 THEN 'channel_valid'"
                      " ELSE outcome END WHERE id = ?1",
                      c->registration, c->person != 0, 0);
    /* The person's attribution follows the accepted claim (the first visit stays the same). */
    int64_t person = c->person;
    if (person == 0 && c->other_registration != 0) {
        int64_t v = 0;
        if (fv__ledger_query_i64(l,
                                 "SELECT a.person_id FROM attribution a WHERE"
                                 " a.registration_id = ?",
                                 &v, 1, c->other_registration) == FV_OK)
            person = v;
    }
    if (st == FV_OK && person != 0)
        st = exec_ids(l,
                      "UPDATE attribution SET registration_id = ?1, outcome = 'channel_valid',"
                      " channel_id = (SELECT channel_id FROM registration WHERE id = ?1),"
                      " agent_id = (SELECT agent_id FROM registration WHERE id = ?1),"
                      " escort_deadline = NULL WHERE person_id = ?2",
                      c->registration, person, 0);
    return st;
}

static fv_status record(fv_ledger *l, const fv_ledger_actor *who, int64_t conflict,
                        const char *action, const char *verdict, const char *reason) {
    char actor[48];
    snprintf(actor, sizeof actor, "%s:%lld", fv__ledger_role_name(who->role), (long long)who->id);
    sqlite3_stmt *q = fv__ledger_prepare(l, "INSERT INTO decision(conflict_id, at, actor, action,"
                                            " verdict, reason) VALUES(?, ?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, conflict);
        sqlite3_bind_int64(q, 2, fv__ledger_now(l));
        sqlite3_bind_text(q, 3, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, action, -1, SQLITE_STATIC);
        if (verdict != NULL)
            sqlite3_bind_text(q, 5, verdict, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 5);
        sqlite3_bind_text(q, 6, reason, -1, SQLITE_TRANSIENT);
    }
    fv_status st = fv__ledger_step_done(l, q, "decision");
    if (st == FV_OK)
        st = fv__ledger_audit(l, who, action[0] == 'a' ? "conflict.appeal" : "conflict.decide",
                              "conflict", conflict);
    return st;
}

static bool reason_ok(const char *r) {
    return r != NULL && r[0] != '\0' && strnlen(r, FV_LEDGER_TEXT_MAX + 1) <= FV_LEDGER_TEXT_MAX;
}

fv_status fv_ledger_conflict_decide(fv_ledger *l, const fv_ledger_actor *who, int64_t conflict,
                                    fv_ledger_verdict v, const char *reason) {
    fv__ledger_lock(l);
    fv_status st = FV_OK;
    conflict_row c;
    if (who->role != FV_LEDGER_ROLE_RECEPTION && who->role != FV_LEDGER_ROLE_ADMIN)
        st = fv__ledger_fail(l, FV_ERR_STATE, "only reception or an admin decides conflicts");
    else if ((unsigned)v > FV_LEDGER_VERDICT_OVERTURN)
        st = fv__ledger_fail(l, FV_ERR_ARG, "verdict must be uphold or overturn");
    else if (!reason_ok(reason))
        st = fv__ledger_fail(l, FV_ERR_ARG, "a decision needs a reason (1-4000 bytes)");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    st = load(l, conflict, &c);
    int final = 0;
    if (st == FV_OK) {
        if (strcmp(c.status, "open") == 0)
            final = 0;
        else if (strcmp(c.status, "appealed") == 0)
            final = 1;
        else
            st = fv__ledger_fail(l, FV_ERR_STATE, "the conflict is already %s", c.status);
    }
    const char *vname = v == FV_LEDGER_VERDICT_OVERTURN ? "overturn" : "uphold";
    if (st == FV_OK && v == FV_LEDGER_VERDICT_OVERTURN) st = overturn(l, &c);
    if (st == FV_OK)
        st = exec_ids(l,
                      final ? "UPDATE conflict SET status = 'closed' WHERE id = ?"
                            : "UPDATE conflict SET status = 'decided' WHERE id = ?",
                      conflict, 0, 0);
    if (st == FV_OK) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "UPDATE conflict SET verdict = ? WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_text(q, 1, vname, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, conflict);
        }
        st = fv__ledger_step_done(l, q, "conflict verdict");
    }
    if (st == FV_OK)
        st = record(l, who, conflict, final ? "decide_appeal" : "decide", vname, reason);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_conflict_appeal(fv_ledger *l, const fv_ledger_actor *who, int64_t conflict,
                                    const char *reason) {
    fv__ledger_lock(l);
    conflict_row c;
    fv_status st = reason_ok(reason)
                       ? FV_OK
                       : fv__ledger_fail(l, FV_ERR_ARG, "an appeal needs a reason (1-4000 bytes)");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    st = load(l, conflict, &c);
    if (st == FV_OK) {
        int64_t channel = 0;
        if (who->role == FV_LEDGER_ROLE_AGENT)
            (void)fv__ledger_query_i64(l, "SELECT channel_id FROM agent WHERE id = ?", &channel, 1,
                                       who->id);
        else if (who->role == FV_LEDGER_ROLE_CHANNEL_MANAGER)
            channel = who->id;
        if (channel == 0 || channel != c.channel)
            st = fv__ledger_fail(l, FV_ERR_STATE, "only the claiming channel may appeal");
        else if (c.appealed)
            st = fv__ledger_fail(l, FV_ERR_STATE, "the decision was already appealed once");
        else if (!(strcmp(c.status, "open") == 0 ||
                   (strcmp(c.status, "decided") == 0 && strcmp(c.verdict, "uphold") == 0)))
            st = fv__ledger_fail(l, FV_ERR_STATE, "nothing to appeal: the conflict is %s%s%s",
                                 c.status, c.verdict[0] ? " with verdict " : "", c.verdict);
    }
    if (st == FV_OK)
        st = exec_ids(l, "UPDATE conflict SET status = 'appealed', appealed = 1 WHERE id = ?",
                      conflict, 0, 0);
    if (st == FV_OK) st = record(l, who, conflict, "appeal", NULL, reason);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_conflict_list(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                  const char *status, fv_strbuf *out) {
    fv__ledger_lock(l);
    int64_t only_channel = 0;
    fv_status st = FV_OK;
    if (who->role == FV_LEDGER_ROLE_AGENT) {
        if (fv__ledger_query_i64(l, "SELECT channel_id FROM agent WHERE id = ?", &only_channel, 1,
                                 who->id) != FV_OK)
            st = fv__ledger_fail(l, FV_ERR_STATE, "unknown agent");
    } else if (who->role == FV_LEDGER_ROLE_CHANNEL_MANAGER) {
        only_channel = who->id;
    } else if (who->role == FV_LEDGER_ROLE_KIOSK || who->role == FV_LEDGER_ROLE_VISITOR) {
        st = fv__ledger_fail(l, FV_ERR_STATE, "this role may not list conflicts");
    }
    sqlite3_stmt *q = NULL;
    if (st == FV_OK)
        q = fv__ledger_prepare(
            l, "SELECT c.id, c.kind, c.status, COALESCE(c.verdict, ''), c.appealed, c.created,"
               " c.evidence, COALESCE(c.channel_id, 0), COALESCE(ch.name, ''),"
               " COALESCE(c.agent_id, 0), COALESCE(r.phone_mask, ''),"
               " COALESCE(c.registration_id, 0), COALESCE(c.visit_id, 0),"
               " COALESCE(c.deal_id, 0) FROM conflict c"
               " LEFT JOIN channel ch ON ch.id = c.channel_id"
               " LEFT JOIN registration r ON r.id = c.registration_id"
               " WHERE c.project_id = ?1 AND (?2 IS NULL OR c.status = ?2)"
               " AND (?3 = 0 OR c.channel_id = ?3) ORDER BY c.id");
    if (st == FV_OK && q == NULL) st = FV_ERR_IO;
    if (st != FV_OK) goto out;
    sqlite3_bind_int64(q, 1, project);
    if (status != NULL)
        sqlite3_bind_text(q, 2, status, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 2);
    sqlite3_bind_int64(q, 3, only_channel);
    fv_sb_printf(out, "[");
    int rc, n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        fv_sb_printf(out, "%s{\"id\": %lld, \"kind\": \"%s\", \"status\": \"%s\", \"verdict\": ",
                     n++ ? ", " : "", (long long)id, (const char *)sqlite3_column_text(q, 1),
                     (const char *)sqlite3_column_text(q, 2));
        const char *verdict = (const char *)sqlite3_column_text(q, 3);
        if (verdict[0])
            fv_sb_printf(out, "\"%s\"", verdict);
        else
            fv_sb_printf(out, "null");
        fv_sb_printf(out,
                     ", \"appealed\": %s, \"created\": %lld, \"channel\": %lld, \"channel_name\": ",
                     sqlite3_column_int(q, 4) ? "true" : "false",
                     (long long)sqlite3_column_int64(q, 5), (long long)sqlite3_column_int64(q, 7));
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 8));
        fv_sb_printf(out,
                     ", \"agent\": %lld, \"phone_mask\": ", (long long)sqlite3_column_int64(q, 9));
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 10));
        fv_sb_printf(out,
                     ", \"registration\": %lld, \"visit\": %lld, \"deal\": %lld, \"evidence\": %s, "
                     "\"decisions\": [",
                     (long long)sqlite3_column_int64(q, 11), (long long)sqlite3_column_int64(q, 12),
                     (long long)sqlite3_column_int64(q, 13),
                     (const char *)sqlite3_column_text(q, 6));
        sqlite3_stmt *d = fv__ledger_prepare(l, "SELECT at, actor, action, COALESCE(verdict, ''),"
                                                " reason FROM decision WHERE conflict_id = ?"
                                                " ORDER BY id");
        if (d != NULL) {
            sqlite3_bind_int64(d, 1, id);
            int k = 0;
            while (sqlite3_step(d) == SQLITE_ROW) {
                fv_sb_printf(out,
                             "%s{\"at\": %lld, \"by\": \"%s\", \"action\": \"%s\", \"verdict\": "
                             "\"%s\", \"reason\": ",
                             k++ ? ", " : "", (long long)sqlite3_column_int64(d, 0),
                             (const char *)sqlite3_column_text(d, 1),
                             (const char *)sqlite3_column_text(d, 2),
                             (const char *)sqlite3_column_text(d, 3));
                fv_sb_json_string(out, (const char *)sqlite3_column_text(d, 4));
                fv_sb_printf(out, "}");
            }
            sqlite3_finalize(d);
        }
        fv_sb_printf(out, "]}");
    }
    fv_sb_printf(out, "]");
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE)
        st = fv__ledger_db_fail(l, rc, "conflicts");
    else if (out->oom)
        st = fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
out:
    fv__ledger_unlock(l);
    return st;
}
