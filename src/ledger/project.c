/*
 * project.c - projects (with the rule numbers of PRODUCT.md §3 and the privacy settings of §4),
 * channels, agents and notice versions.
 *
 * A project is created with its natural channel (自然来访) and its retention pushed to the
 * vault. A notice version's hash is BLAKE2b-256 over "zh" NUL text_zh NUL "en" NUL text_en, so a
 * consent record proves which exact text was shown.
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/face.h"
#include "ledger-impl.h"

void fv_ledger_project_defaults(fv_ledger_project_settings *s) {
    memset(s, 0, sizeof *s);
    s->protection_days = 7;
    s->deal_window_days = 90;
    s->escort_window_minutes = 120;
    s->retention_days = FV_VAULT_RETENTION_DEFAULT;
    s->guardian_age = 14;
    s->face_free = false;
    s->match_threshold = FV_FACE_MATCH_THRESHOLD;
    s->match_margin = 0.05;
    s->otp_ttl_seconds = 300;
    s->otp_max_attempts = 5;
    s->otp_per_phone_per_hour = 5;
}

static bool text_ok(const char *s, size_t max, bool empty_ok) {
    size_t n = strnlen(s, max + 1);
    if (n > max || (n == 0 && !empty_ok)) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20) return false;
    return true;
}

static fv_status check_settings(fv_ledger *l, const fv_ledger_project_settings *s) {
    size_t n = strnlen(s->code, sizeof s->code);
    if (n == 0 || n > FV_LEDGER_CODE_MAX)
        return fv__ledger_fail(l, FV_ERR_ARG, "project code must be 1-64 characters");
    for (size_t i = 0; i < n; i++) {
        char c = s->code[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return fv__ledger_fail(l, FV_ERR_ARG, "project code may hold only a-z, 0-9 and '-'");
    }
    if (!text_ok(s->name, FV_LEDGER_NAME_MAX, false))
        return fv__ledger_fail(l, FV_ERR_ARG, "project name must be 1-128 bytes of text");
    if (!text_ok(s->controller, FV_LEDGER_NAME_MAX, true) ||
        !text_ok(s->controller_contact, FV_LEDGER_NAME_MAX, true))
        return fv__ledger_fail(l, FV_ERR_ARG,
                               "controller and contact must be at most 128 bytes of text");
#define RANGE(f, lo, hi)                                                                           \
    if (s->f < (lo) || s->f > (hi))                                                                \
        return fv__ledger_fail(l, FV_ERR_ARG, #f " must be between %d and %d", (int)(lo),          \
                               (int)(hi));
    RANGE(protection_days, 1, 3650)
    RANGE(deal_window_days, 1, 3650)
    RANGE(escort_window_minutes, 1, 10080)
    RANGE(retention_days, 1, FV_VAULT_RETENTION_MAX)
    RANGE(guardian_age, 1, 18)
    RANGE(otp_ttl_seconds, 30, 3600)
    RANGE(otp_max_attempts, 1, 20)
    RANGE(otp_per_phone_per_hour, 1, 100)
#undef RANGE
    if (!(s->match_threshold > 0 && s->match_threshold < 1))
        return fv__ledger_fail(l, FV_ERR_ARG, "match_threshold must be in (0, 1)");
    if (!(s->match_margin >= 0 && s->match_margin < 1))
        return fv__ledger_fail(l, FV_ERR_ARG, "match_margin must be in [0, 1)");
    return FV_OK;
}

static void bind_settings(sqlite3_stmt *st, const fv_ledger_project_settings *s, int i) {
    sqlite3_bind_text(st, i++, s->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, i++, s->controller, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, i++, s->controller_contact, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, s->protection_days);
    sqlite3_bind_int(st, i++, s->deal_window_days);
    sqlite3_bind_int(st, i++, s->escort_window_minutes);
    sqlite3_bind_int(st, i++, s->retention_days);
    sqlite3_bind_int(st, i++, s->guardian_age);
    sqlite3_bind_int(st, i++, s->face_free ? 1 : 0);
    sqlite3_bind_double(st, i++, s->match_threshold);
    sqlite3_bind_double(st, i++, s->match_margin);
    sqlite3_bind_int(st, i++, s->otp_ttl_seconds);
    sqlite3_bind_int(st, i++, s->otp_max_attempts);
    sqlite3_bind_int(st, i, s->otp_per_phone_per_hour);
}

static fv_status push_retention(fv_ledger *l, const fv_ledger_project_settings *s) {
    if (l->vault == NULL) return FV_OK;
    fv_status st = fv_vault_set_retention(l->vault, s->code, s->retention_days);
    return st == FV_OK ? FV_OK : fv__ledger_fail(l, st, "vault: %s", fv_vault_errmsg(l->vault));
}

fv_status fv_ledger_project_create(fv_ledger *l, const fv_ledger_actor *who,
                                   const fv_ledger_project_settings *s, int64_t *id) {
    fv__ledger_lock(l);
    fv_status st = check_settings(l, s);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "INSERT INTO project(name, controller, controller_contact, protection_days,"
           " deal_window_days, escort_window_minutes, retention_days, guardian_age, face_free,"
           " match_threshold, match_margin, otp_ttl_seconds, otp_max_attempts,"
           " otp_per_phone_per_hour, code, created) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (q != NULL) {
        bind_settings(q, s, 1);
        sqlite3_bind_text(q, 15, s->code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 16, fv__ledger_now(l));
    }
    st = fv__ledger_step_done(l, q, "project");
    if (st == FV_ERR_STATE)
        st = fv__ledger_fail(l, FV_ERR_STATE, "a project with this code exists");
    if (st == FV_OK) {
        *id = sqlite3_last_insert_rowid(l->db);
        q = fv__ledger_prepare(l, "INSERT INTO channel(project_id, kind, name, commission,"
                                  " commission_value, created) VALUES(?, 'natural', 'natural',"
                                  " 'none', 0, ?)");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, *id);
            sqlite3_bind_int64(q, 2, fv__ledger_now(l));
        }
        st = fv__ledger_step_done(l, q, "natural channel");
    }
    if (st == FV_OK) st = fv__ledger_audit(l, who, "project.create", "project", *id);
    if (st == FV_OK) st = push_retention(l, s);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_project_update(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                   const fv_ledger_project_settings *s) {
    fv__ledger_lock(l);
    fv_ledger_project_settings cur;
    fv_status st = fv__ledger_project_load(l, project, &cur);
    if (st == FV_OK) {
        fv_ledger_project_settings upd = *s;
        memcpy(upd.code, cur.code, sizeof upd.code); /* the code is fixed */
        st = check_settings(l, &upd);
        if (st == FV_OK) st = fv__ledger_begin(l);
        if (st == FV_OK) {
            sqlite3_stmt *q = fv__ledger_prepare(
                l, "UPDATE project SET name=?, controller=?, controller_contact=?,"
                   " protection_days=?, deal_window_days=?, escort_window_minutes=?,"
                   " retention_days=?, guardian_age=?, face_free=?, match_threshold=?,"
                   " match_margin=?, otp_ttl_seconds=?, otp_max_attempts=?,"
                   " otp_per_phone_per_hour=? WHERE id=?");
            if (q != NULL) {
                bind_settings(q, &upd, 1);
                sqlite3_bind_int64(q, 15, project);
            }
            st = fv__ledger_step_done(l, q, "project update");
            if (st == FV_OK) st = fv__ledger_audit(l, who, "project.update", "project", project);
            if (st == FV_OK) st = push_retention(l, &upd);
            if (st == FV_OK) st = fv__ledger_commit(l);
            if (st != FV_OK) fv__ledger_rollback(l);
        }
    }
    fv__ledger_unlock(l);
    return st;
}

fv_status fv__ledger_project_load(fv_ledger *l, int64_t project, fv_ledger_project_settings *s) {
    memset(s, 0, sizeof *s);
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT code, name, controller, controller_contact, protection_days, deal_window_days,"
           " escort_window_minutes, retention_days, guardian_age, face_free, match_threshold,"
           " match_margin, otp_ttl_seconds, otp_max_attempts, otp_per_phone_per_hour"
           " FROM project WHERE id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, project);
    int rc = sqlite3_step(q);
    fv_status st = FV_OK;
    if (rc == SQLITE_ROW) {
        snprintf(s->code, sizeof s->code, "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(s->name, sizeof s->name, "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(s->controller, sizeof s->controller, "%s",
                 (const char *)sqlite3_column_text(q, 2));
        snprintf(s->controller_contact, sizeof s->controller_contact, "%s",
                 (const char *)sqlite3_column_text(q, 3));
        s->protection_days = sqlite3_column_int(q, 4);
        s->deal_window_days = sqlite3_column_int(q, 5);
        s->escort_window_minutes = sqlite3_column_int(q, 6);
        s->retention_days = sqlite3_column_int(q, 7);
        s->guardian_age = sqlite3_column_int(q, 8);
        s->face_free = sqlite3_column_int(q, 9) != 0;
        s->match_threshold = sqlite3_column_double(q, 10);
        s->match_margin = sqlite3_column_double(q, 11);
        s->otp_ttl_seconds = sqlite3_column_int(q, 12);
        s->otp_max_attempts = sqlite3_column_int(q, 13);
        s->otp_per_phone_per_hour = sqlite3_column_int(q, 14);
    } else if (rc == SQLITE_DONE) {
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such project");
    } else {
        st = fv__ledger_db_fail(l, rc, "project");
    }
    sqlite3_finalize(q);
    return st;
}

fv_status fv_ledger_project_get(fv_ledger *l, int64_t project, fv_ledger_project_settings *s) {
    fv__ledger_lock(l);
    fv_status st = fv__ledger_project_load(l, project, s);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_project_find(fv_ledger *l, const char *code, int64_t *id) {
    fv__ledger_lock(l);
    fv_status st = FV_ERR_IO;
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id FROM project WHERE code = ?");
    if (q != NULL) {
        sqlite3_bind_text(q, 1, code, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(q, 0);
            st = FV_OK;
        } else {
            st = rc == SQLITE_DONE
                     ? fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no project with this code")
                     : fv__ledger_db_fail(l, rc, "project");
        }
        sqlite3_finalize(q);
    }
    fv__ledger_unlock(l);
    return st;
}

static const char *const KIND_NAMES[] = {"natural", "agency", "referral", "online"};
static const char *const COMMISSION_NAMES[] = {"none", "percent", "fixed"};

fv_status fv_ledger_channel_create(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                   const fv_ledger_channel *c, int64_t *id) {
    fv__ledger_lock(l);
    fv_status st = FV_OK;
    if ((unsigned)c->kind > FV_LEDGER_CHANNEL_ONLINE || c->kind == FV_LEDGER_CHANNEL_NATURAL)
        st = fv__ledger_fail(l, FV_ERR_ARG, "channel kind must be agency, referral or online");
    else if (!text_ok(c->name, FV_LEDGER_NAME_MAX, false))
        st = fv__ledger_fail(l, FV_ERR_ARG, "channel name must be 1-128 bytes of text");
    else if (c->protection_days < 0 || c->protection_days > 3650)
        st = fv__ledger_fail(l, FV_ERR_ARG, "protection_days must be 0 (project's) to 3650");
    else if ((unsigned)c->commission > FV_LEDGER_COMMISSION_FIXED || c->commission_value < 0 ||
             (c->commission == FV_LEDGER_COMMISSION_PERCENT && c->commission_value > 10000))
        st = fv__ledger_fail(l, FV_ERR_ARG,
                             "commission must be none, percent (0-10000 basis"
                             " points) or fixed (cents >= 0)");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "INSERT INTO channel(project_id, kind, name, protection_days, commission,"
           " commission_value, created) VALUES(?, ?, ?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, project);
        sqlite3_bind_text(q, 2, KIND_NAMES[c->kind], -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, c->name, -1, SQLITE_TRANSIENT);
        if (c->protection_days > 0)
            sqlite3_bind_int(q, 4, c->protection_days);
        else
            sqlite3_bind_null(q, 4);
        sqlite3_bind_text(q, 5, COMMISSION_NAMES[c->commission], -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 6, c->commission_value);
        sqlite3_bind_int64(q, 7, fv__ledger_now(l));
    }
    st = fv__ledger_step_done(l, q, "channel");
    if (st == FV_ERR_STATE)
        st = fv__ledger_fail(l, FV_ERR_STATE, "no such project, or its channel name is taken");
    if (st == FV_OK) {
        *id = sqlite3_last_insert_rowid(l->db);
        st = fv__ledger_audit(l, who, "channel.create", "channel", *id);
    }
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_channel_natural(fv_ledger *l, int64_t project, int64_t *id) {
    fv__ledger_lock(l);
    fv_status st = fv__ledger_query_i64(
        l, "SELECT id FROM channel WHERE project_id = ? AND kind = 'natural'", id, 1, project);
    if (st == FV_ERR_NOT_FOUND) st = fv__ledger_fail(l, st, "no such project");
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_agent_create(fv_ledger *l, const fv_ledger_actor *who, int64_t channel,
                                 const fv_ledger_agent *a, int64_t *id) {
    fv__ledger_lock(l);
    fv_status st = FV_OK;
    int64_t natural = 0;
    if (!text_ok(a->name, FV_LEDGER_NAME_MAX, false) || !text_ok(a->team, FV_LEDGER_NAME_MAX, true))
        st = fv__ledger_fail(l, FV_ERR_ARG, "agent name (1-128 bytes) or team (0-128) is invalid");
    else if (a->protection_days < 0 || a->protection_days > 3650)
        st = fv__ledger_fail(l, FV_ERR_ARG, "protection_days must be 0 (channel's) to 3650");
    else if (fv__ledger_query_i64(l, "SELECT kind = 'natural' FROM channel WHERE id = ?", &natural,
                                  1, channel) != FV_OK)
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such channel");
    else if (natural)
        st = fv__ledger_fail(l, FV_ERR_ARG, "the natural channel has no agents");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    sqlite3_stmt *q = fv__ledger_prepare(l, "INSERT INTO agent(channel_id, name, team,"
                                            " protection_days, created) VALUES(?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, channel);
        sqlite3_bind_text(q, 2, a->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, a->team, -1, SQLITE_TRANSIENT);
        if (a->protection_days > 0)
            sqlite3_bind_int(q, 4, a->protection_days);
        else
            sqlite3_bind_null(q, 4);
        sqlite3_bind_int64(q, 5, fv__ledger_now(l));
    }
    st = fv__ledger_step_done(l, q, "agent");
    if (st == FV_OK) {
        *id = sqlite3_last_insert_rowid(l->db);
        st = fv__ledger_audit(l, who, "agent.create", "agent", *id);
    }
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}

static void notice_hash(const char *zh, const char *en, char hex[65]) {
    crypto_generichash_state h;
    uint8_t out[32];
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    crypto_generichash_update(&h, (const unsigned char *)"zh", 3);
    crypto_generichash_update(&h, (const unsigned char *)zh, strlen(zh) + 1);
    crypto_generichash_update(&h, (const unsigned char *)"en", 3);
    crypto_generichash_update(&h, (const unsigned char *)en, strlen(en) + 1);
    crypto_generichash_final(&h, out, sizeof out);
    fv__ledger_hex(out, sizeof out, hex);
}

fv_status fv_ledger_notice_publish(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                   const char *text_zh, const char *text_en, int *version) {
    fv__ledger_lock(l);
    fv_status st = FV_OK;
    int64_t v = 0;
    if (text_zh == NULL || text_en == NULL || text_zh[0] == '\0' || text_en[0] == '\0' ||
        strnlen(text_zh, FV_LEDGER_NOTICE_MAX + 1) > FV_LEDGER_NOTICE_MAX ||
        strnlen(text_en, FV_LEDGER_NOTICE_MAX + 1) > FV_LEDGER_NOTICE_MAX)
        st = fv__ledger_fail(l, FV_ERR_ARG, "notice texts must be 1-65536 bytes each, zh and en");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    st = fv__ledger_query_i64(l,
                              "SELECT COALESCE(MAX(version), 0) + 1 FROM notice WHERE"
                              " project_id = ?",
                              &v, 1, project);
    if (st == FV_OK) {
        char hash[65];
        notice_hash(text_zh, text_en, hash);
        sqlite3_stmt *q = fv__ledger_prepare(l, "INSERT INTO notice(project_id, version, text_zh,"
                                                " text_en, hash, published) VALUES(?,?,?,?,?,?)");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, project);
            sqlite3_bind_int64(q, 2, v);
            sqlite3_bind_text(q, 3, text_zh, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 4, text_en, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 5, hash, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 6, fv__ledger_now(l));
        }
        st = fv__ledger_step_done(l, q, "notice");
        if (st == FV_ERR_STATE) st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such project");
    }
    if (st == FV_OK)
        st = fv__ledger_audit(l, who, "notice.publish", "notice", sqlite3_last_insert_rowid(l->db));
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
    if (st == FV_OK) *version = (int)v;
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_notice_current(fv_ledger *l, int64_t project, fv_strbuf *out) {
    fv__ledger_lock(l);
    fv_status st = FV_ERR_IO;
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT version, hash, text_zh, text_en, published"
                                            " FROM notice WHERE project_id = ?"
                                            " ORDER BY version DESC LIMIT 1");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, project);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            fv_sb_printf(out,
                         "{\"version\": %d, \"hash\": \"%s\", \"zh\": ", sqlite3_column_int(q, 0),
                         (const char *)sqlite3_column_text(q, 1));
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 2));
            fv_sb_printf(out, ", \"en\": ");
            fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 3));
            fv_sb_printf(out, ", \"published\": %lld}", (long long)sqlite3_column_int64(q, 4));
            st = out->oom ? fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory") : FV_OK;
        } else {
            st = rc == SQLITE_DONE
                     ? fv__ledger_fail(l, FV_ERR_NOT_FOUND, "the project has no notice")
                     : fv__ledger_db_fail(l, rc, "notice");
        }
        sqlite3_finalize(q);
    }
    fv__ledger_unlock(l);
    return st;
}
