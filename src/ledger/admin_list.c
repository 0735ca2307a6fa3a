/*
 * admin_list.c - projects, channels and agents as JSON lists for the server's admin pages and
 * for the project pickers of the other pages.
 *
 * Reads only: nothing here changes the ledger or reads personal data of visitors (agent names
 * are the staff's own working names), so nothing is audited. The tuning numbers of a project
 * (face threshold and margin, one-time code limits) go only to ADMIN, AUDITOR and SYSTEM; an
 * AGENT, CHANNEL_MANAGER or VISITOR sees only the project they belong to. Channel and agent
 * lists (with commission rules) are for ADMIN, RECEPTION, AUDITOR and SYSTEM.
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

/* The one project an actor is tied to (agent, channel manager, visitor): *only > 0; -1 when the
 * actor's record is gone (sees nothing); 0 for roles that see every project. */
static fv_status actor_project(fv_ledger *l, const fv_ledger_actor *who, int64_t *only) {
    *only = 0;
    const char *sql = who->role == FV_LEDGER_ROLE_AGENT
                          ? "SELECT c.project_id FROM agent a JOIN channel c ON c.id = a.channel_id"
                            " WHERE a.id = ?"
                      : who->role == FV_LEDGER_ROLE_CHANNEL_MANAGER
                          ? "SELECT project_id FROM channel WHERE id = ?"
                      : who->role == FV_LEDGER_ROLE_VISITOR
                          ? "SELECT project_id FROM person WHERE id = ? AND deleted IS NULL"
                          : NULL;
    if (sql == NULL) return FV_OK;
    fv_status st = fv__ledger_query_i64(l, sql, only, 1, who->id);
    if (st == FV_ERR_NOT_FOUND) {
        *only = -1;
        st = FV_OK;
    }
    return st;
}

static bool sees_tuning(const fv_ledger_actor *who) {
    return who->role == FV_LEDGER_ROLE_ADMIN || who->role == FV_LEDGER_ROLE_AUDITOR ||
           who->role == FV_LEDGER_ROLE_SYSTEM;
}

static fv_status write_project(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                               fv_strbuf *out) {
    fv_ledger_project_settings s;
    fv_status st = fv__ledger_project_load(l, project, &s);
    if (st != FV_OK) return st;
    int64_t notice = 0;
    st =
        fv__ledger_query_i64(l, "SELECT COALESCE(MAX(version), 0) FROM notice WHERE project_id = ?",
                             &notice, 1, project);
    if (st != FV_OK) return st;
    fv_sb_printf(out, "{\"code\": ");
    fv_sb_json_string(out, s.code);
    fv_sb_printf(out, ", \"name\": ");
    fv_sb_json_string(out, s.name);
    fv_sb_printf(out, ", \"controller\": ");
    fv_sb_json_string(out, s.controller);
    fv_sb_printf(out, ", \"controller_contact\": ");
    fv_sb_json_string(out, s.controller_contact);
    fv_sb_printf(out,
                 ", \"face_free\": %s, \"retention_days\": %d, \"guardian_age\": %d,"
                 " \"protection_days\": %d, \"deal_window_days\": %d,"
                 " \"escort_window_minutes\": %d, \"notice_version\": ",
                 s.face_free ? "true" : "false", s.retention_days, s.guardian_age,
                 s.protection_days, s.deal_window_days, s.escort_window_minutes);
    if (notice > 0)
        fv_sb_printf(out, "%lld", (long long)notice);
    else
        fv_sb_printf(out, "null");
    if (sees_tuning(who)) {
        /* 6 significant digits: the default threshold is a float's value (0.4f is
         * 0.400000005960464 in full), and settings are typed to a few decimals. */
        fv_sb_json_field_float(out, "match_threshold", s.match_threshold, 6);
        fv_sb_json_field_float(out, "match_margin", s.match_margin, 6);
        fv_sb_printf(out,
                     ", \"otp_ttl_seconds\": %d, \"otp_max_attempts\": %d,"
                     " \"otp_per_phone_per_hour\": %d",
                     s.otp_ttl_seconds, s.otp_max_attempts, s.otp_per_phone_per_hour);
    }
    fv_sb_printf(out, "}");
    return FV_OK;
}

/* Drops what a failed call appended after `mark`. */
static void truncate_to(fv_strbuf *out, size_t mark) {
    if (out->s != NULL && out->len > mark) {
        out->len = mark;
        out->s[mark] = '\0';
    }
}

static fv_status finish(fv_ledger *l, fv_status st, fv_strbuf *out, size_t mark) {
    if (st == FV_OK && out->oom) st = fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    if (st != FV_OK) truncate_to(out, mark);
    return st;
}

fv_status fv_ledger_project_json(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                 fv_strbuf *out) {
    fv__ledger_lock(l);
    size_t mark = out->len;
    int64_t only = 0;
    fv_status st = who == NULL ? fv__ledger_fail(l, FV_ERR_ARG, "no actor given")
                               : actor_project(l, who, &only);
    if (st == FV_OK && only != 0 && only != project)
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such project");
    if (st == FV_OK) st = write_project(l, who, project, out);
    st = finish(l, st, out, mark);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_project_list_json(fv_ledger *l, const fv_ledger_actor *who, fv_strbuf *out) {
    fv__ledger_lock(l);
    size_t mark = out->len;
    int64_t only = 0;
    fv_status st = who == NULL ? fv__ledger_fail(l, FV_ERR_ARG, "no actor given")
                               : actor_project(l, who, &only);
    sqlite3_stmt *q = NULL;
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "SELECT id FROM project WHERE ?1 = 0 OR id = ?1 ORDER BY code");
        if (q == NULL) st = FV_ERR_IO;
    }
    if (st == FV_OK) {
        sqlite3_bind_int64(q, 1, only);
        fv_sb_printf(out, "[");
        int rc = SQLITE_DONE, n = 0;
        while (st == FV_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (n++) fv_sb_printf(out, ", ");
            st = write_project(l, who, sqlite3_column_int64(q, 0), out);
        }
        if (st == FV_OK && rc != SQLITE_DONE) st = fv__ledger_db_fail(l, rc, "projects");
        fv_sb_printf(out, "]");
    }
    sqlite3_finalize(q);
    st = finish(l, st, out, mark);
    fv__ledger_unlock(l);
    return st;
}

static fv_status may_list(fv_ledger *l, const fv_ledger_actor *who, int64_t project) {
    if (who == NULL) return fv__ledger_fail(l, FV_ERR_ARG, "no actor given");
    if (who->role != FV_LEDGER_ROLE_ADMIN && who->role != FV_LEDGER_ROLE_RECEPTION &&
        who->role != FV_LEDGER_ROLE_AUDITOR && who->role != FV_LEDGER_ROLE_SYSTEM)
        return fv__ledger_fail(l, FV_ERR_STATE,
                               "this role may not list channels and agents (admin, reception,"
                               " auditor)");
    int64_t one = 0;
    fv_status st = fv__ledger_query_i64(l, "SELECT 1 FROM project WHERE id = ?", &one, 1, project);
    if (st == FV_ERR_NOT_FOUND) st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such project");
    return st;
}

static void json_opt_int(fv_strbuf *out, sqlite3_stmt *q, int col) {
    if (sqlite3_column_type(q, col) == SQLITE_NULL)
        fv_sb_printf(out, "null");
    else
        fv_sb_printf(out, "%lld", (long long)sqlite3_column_int64(q, col));
}

fv_status fv_ledger_channel_list_json(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                      fv_strbuf *out) {
    fv__ledger_lock(l);
    size_t mark = out->len;
    fv_status st = may_list(l, who, project);
    sqlite3_stmt *q = NULL;
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "SELECT c.id, c.kind, c.name, c.protection_days, c.commission,"
                                  " c.commission_value, c.created, (SELECT COUNT(*) FROM agent a"
                                  " WHERE a.channel_id = c.id) FROM channel c"
                                  " WHERE c.project_id = ? ORDER BY c.id");
        if (q == NULL) st = FV_ERR_IO;
    }
    if (st == FV_OK) {
        sqlite3_bind_int64(q, 1, project);
        fv_sb_printf(out, "[");
        int rc, n = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            fv_sb_printf(out, "%s{\"id\": %lld, \"kind\": ", n++ ? ", " : "",
                         (long long)sqlite3_column_int64(q, 0));
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 1));
            fv_sb_printf(out, ", \"name\": ");
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 2));
            fv_sb_printf(out, ", \"protection_days\": ");
            json_opt_int(out, q, 3);
            fv_sb_printf(out, ", \"commission\": ");
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 4));
            fv_sb_printf(out, ", \"commission_value\": %lld, \"agents\": %lld, \"created\": %lld}",
                         (long long)sqlite3_column_int64(q, 5),
                         (long long)sqlite3_column_int64(q, 7),
                         (long long)sqlite3_column_int64(q, 6));
        }
        fv_sb_printf(out, "]");
        if (rc != SQLITE_DONE) st = fv__ledger_db_fail(l, rc, "channels");
    }
    sqlite3_finalize(q);
    st = finish(l, st, out, mark);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_agent_list_json(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                    fv_strbuf *out) {
    fv__ledger_lock(l);
    size_t mark = out->len;
    fv_status st = may_list(l, who, project);
    sqlite3_stmt *q = NULL;
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "SELECT a.id, a.channel_id, c.name, a.name, a.team,"
                                  " a.protection_days, a.created FROM agent a JOIN channel c"
                                  " ON c.id = a.channel_id WHERE c.project_id = ? ORDER BY a.id");
        if (q == NULL) st = FV_ERR_IO;
    }
    if (st == FV_OK) {
        sqlite3_bind_int64(q, 1, project);
        fv_sb_printf(out, "[");
        int rc, n = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            fv_sb_printf(
                out, "%s{\"id\": %lld, \"channel_id\": %lld, \"channel\": ", n++ ? ", " : "",
                (long long)sqlite3_column_int64(q, 0), (long long)sqlite3_column_int64(q, 1));
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 2));
            fv_sb_printf(out, ", \"name\": ");
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 3));
            fv_sb_printf(out, ", \"team\": ");
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 4));
            fv_sb_printf(out, ", \"protection_days\": ");
            json_opt_int(out, q, 5);
            fv_sb_printf(out, ", \"created\": %lld}", (long long)sqlite3_column_int64(q, 6));
        }
        fv_sb_printf(out, "]");
        if (rc != SQLITE_DONE) st = fv__ledger_db_fail(l, rc, "agents");
    }
    sqlite3_finalize(q);
    st = finish(l, st, out, mark);
    fv__ledger_unlock(l);
    return st;
}
