/*
 * rights.c - a visitor's rights (PRODUCT.md §4.8): find their record by the slip code, see what
 * is held, withdraw consent, delete.
 *
 * The slip code alone is enough for a person without a phone; a person with a phone must also
 * pass a one-time code sent to it (or be served by reception). The export holds no templates,
 * only whether one is held and until when; the full phone is shown only to the person and to an
 * admin (an audited read of sealed data), the mask to everyone else. Deletion removes the
 * templates, the phone (hash, sealed copy, mask) and the names and phones of registrations of
 * that phone; visits, attributions and deals stay, pseudonymous, as processing records (they hold
 * no biometrics and no contact data).
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

fv_status fv__ledger_person_row(fv_ledger *l, const char *person, int64_t *row, int64_t *project) {
    uint8_t pid[FV_VAULT_PERSON_BYTES];
    if (fv__ledger_unhex(person, pid, sizeof pid) != FV_OK)
        return fv__ledger_fail(l, FV_ERR_ARG, "person id must be 32 hex digits");
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id, project_id FROM person WHERE pid = ? AND"
                                            " deleted IS NULL");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_blob(q, 1, pid, sizeof pid, SQLITE_TRANSIENT);
    fv_status st = FV_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        *row = sqlite3_column_int64(q, 0);
        if (project != NULL) *project = sqlite3_column_int64(q, 1);
    } else {
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such person");
    }
    sqlite3_finalize(q);
    return st;
}

fv_status fv_ledger_person_by_slip(fv_ledger *l, const char *slip, const char *phone,
                                   const char *otp_id, const char *otp_code,
                                   char person[FV_LEDGER_ID_CHARS]) {
    fv__ledger_lock(l);
    person[0] = '\0';
    fv_status st = FV_OK;
    int64_t project = 0;
    uint8_t pid[FV_VAULT_PERSON_BYTES], stored[FV__LEDGER_HASH_BYTES];
    int has_phone = 0;
    if (slip == NULL || strnlen(slip, 16) != 10)
        st = fv__ledger_fail(l, FV_ERR_ARG, "a slip code has 10 characters");
    sqlite3_stmt *q =
        st == FV_OK ? fv__ledger_prepare(l, "SELECT p.pid, p.project_id, p.phone_hash FROM visit v"
                                            " JOIN person p ON p.id = v.person_id"
                                            " WHERE v.slip = ? AND p.deleted IS NULL")
                    : NULL;
    if (st == FV_OK && q == NULL) st = FV_ERR_IO;
    if (st == FV_OK) {
        sqlite3_bind_text(q, 1, slip, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == FV_VAULT_PERSON_BYTES) {
            memcpy(pid, sqlite3_column_blob(q, 0), sizeof pid);
            project = sqlite3_column_int64(q, 1);
            has_phone = sqlite3_column_bytes(q, 2) == FV__LEDGER_HASH_BYTES;
            if (has_phone) memcpy(stored, sqlite3_column_blob(q, 2), sizeof stored);
        } else {
            st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no record for this slip code");
        }
    }
    sqlite3_finalize(q);
    if (st == FV_OK && has_phone) {
        char norm[12];
        uint8_t ph[FV__LEDGER_HASH_BYTES];
        st = fv__ledger_phone_normalise(l, phone, norm);
        if (st == FV_OK) {
            fv__ledger_phone_hash(l, norm, ph);
            sodium_memzero(norm, sizeof norm);
            if (sodium_memcmp(ph, stored, sizeof ph) != 0)
                st = fv__ledger_fail(l, FV_ERR_STATE, "the phone does not match the slip's record");
            else
                st = fv__ledger_otp_consume(l, project, ph, otp_id, otp_code);
        }
    }
    if (st == FV_OK) fv__ledger_hex(pid, sizeof pid, person);
    fv__ledger_unlock(l);
    return st;
}

static void json_opt_text(fv_strbuf *out, sqlite3_stmt *q, int col) {
    if (sqlite3_column_type(q, col) == SQLITE_NULL)
        fv_sb_printf(out, "null");
    else
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, col));
}

static void json_opt_i64(fv_strbuf *out, sqlite3_stmt *q, int col) {
    if (sqlite3_column_type(q, col) == SQLITE_NULL)
        fv_sb_printf(out, "null");
    else
        fv_sb_printf(out, "%lld", (long long)sqlite3_column_int64(q, col));
}

static fv_status export_person(fv_ledger *l, const fv_ledger_actor *who, int64_t row,
                               const char *person, fv_strbuf *out) {
    int full_phone = who->role == FV_LEDGER_ROLE_ADMIN ||
                     (who->role == FV_LEDGER_ROLE_VISITOR && who->id == row);
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT p.created, p.phone_ct, p.phone_mask,"
                                            " pr.code, pr.retention_days FROM person p"
                                            " JOIN project pr ON pr.id = p.project_id"
                                            " WHERE p.id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, row);
    if (sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such person");
    }
    int retention = sqlite3_column_int(q, 4);
    fv_sb_printf(out, "{\"person\": \"%s\", \"project\": ", person);
    fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 3));
    fv_sb_printf(out, ", \"created\": %lld, \"phone\": ", (long long)sqlite3_column_int64(q, 0));
    fv_status st = FV_OK;
    if (full_phone && sqlite3_column_type(q, 1) != SQLITE_NULL) {
        char phone[32];
        st = fv__ledger_unseal(l, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1),
                               "person.phone", phone, sizeof phone);
        if (st == FV_OK) fv_sb_json_string(out, phone);
        sodium_memzero(phone, sizeof phone);
        if (st == FV_OK) st = fv__ledger_audit(l, who, "person.read_phone", "person", row);
    } else {
        json_opt_text(out, q, 2);
    }
    sqlite3_finalize(q);
    if (st != FV_OK) return st;
    fv_sb_printf(out, ", \"consents\": [");
    q = fv__ledger_prepare(l, "SELECT cid, notice_version, notice_hash, scope, method, device, age,"
                              " guardian, created, withdrawn FROM consent WHERE person_id = ?"
                              " ORDER BY id");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, row);
    for (int n = 0; sqlite3_step(q) == SQLITE_ROW; n++) {
        fv_sb_printf(out,
                     "%s{\"id\": \"%s\", \"notice_version\": %d, \"notice_hash\": \"%s\","
                     " \"scope\": \"%s\", \"method\": ",
                     n ? ", " : "", (const char *)sqlite3_column_text(q, 0),
                     sqlite3_column_int(q, 1), (const char *)sqlite3_column_text(q, 2),
                     (const char *)sqlite3_column_text(q, 3));
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 4));
        fv_sb_printf(out, ", \"device\": ");
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 5));
        fv_sb_printf(out, ", \"age\": \"%s\", \"guardian\": %s, \"created\": %lld, \"withdrawn\": ",
                     (const char *)sqlite3_column_text(q, 6),
                     sqlite3_column_int(q, 7) ? "true" : "false",
                     (long long)sqlite3_column_int64(q, 8));
        json_opt_i64(out, q, 9);
        fv_sb_printf(out, "}");
    }
    sqlite3_finalize(q);
    fv_sb_printf(out, "], \"visits\": [");
    int64_t template_until = 0;
    q = fv__ledger_prepare(l, "SELECT v.at, v.kind, v.matched_by, v.template_stored,"
                              " c.withdrawn IS NULL FROM visit v LEFT JOIN consent c ON"
                              " c.id = v.consent_id WHERE v.person_id = ? ORDER BY v.at");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, row);
    for (int n = 0; sqlite3_step(q) == SQLITE_ROW; n++) {
        int64_t at = sqlite3_column_int64(q, 0);
        fv_sb_printf(out,
                     "%s{\"at\": %lld, \"kind\": \"%s\", \"matched_by\": \"%s\","
                     " \"template_stored\": %s}",
                     n ? ", " : "", (long long)at, (const char *)sqlite3_column_text(q, 1),
                     (const char *)sqlite3_column_text(q, 2),
                     sqlite3_column_int(q, 3) ? "true" : "false");
        if (sqlite3_column_int(q, 3) && sqlite3_column_int(q, 4))
            template_until = at + (int64_t)retention * FV__LEDGER_DAY_MS;
    }
    sqlite3_finalize(q);
    int64_t now = fv__ledger_now(l);
    fv_sb_printf(out, "], \"template\": {\"held\": %s, \"expires_by\": ",
                 template_until > now ? "true" : "false");
    if (template_until > now)
        fv_sb_printf(out, "%lld", (long long)template_until);
    else
        fv_sb_printf(out, "null");
    fv_sb_printf(out, ", \"note\": \"templates are never exported; only whether one is held\"}");
    fv_sb_printf(out, ", \"attribution\": ");
    q = fv__ledger_prepare(l, "SELECT c.name, a.outcome, a.decided, a.evidence FROM attribution a"
                              " JOIN channel c ON c.id = a.channel_id WHERE a.person_id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, row);
    if (sqlite3_step(q) == SQLITE_ROW) {
        fv_sb_printf(out, "{\"channel\": ");
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 0));
        fv_sb_printf(out, ", \"outcome\": \"%s\", \"decided\": %lld, \"evidence\": %s}",
                     (const char *)sqlite3_column_text(q, 1), (long long)sqlite3_column_int64(q, 2),
                     (const char *)sqlite3_column_text(q, 3));
    } else {
        fv_sb_printf(out, "null");
    }
    sqlite3_finalize(q);
    fv_sb_printf(out, ", \"registrations\": [");
    q = fv__ledger_prepare(l, "SELECT c.name, r.created, r.status, r.refusal, r.outcome"
                              " FROM registration r JOIN channel c ON c.id = r.channel_id"
                              " JOIN person p ON p.project_id = r.project_id AND"
                              " p.phone_hash = r.phone_hash WHERE p.id = ? ORDER BY r.id");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, row);
    for (int n = 0; sqlite3_step(q) == SQLITE_ROW; n++) {
        fv_sb_printf(out, "%s{\"channel\": ", n ? ", " : "");
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 0));
        fv_sb_printf(out, ", \"created\": %lld, \"status\": \"%s\", \"refusal\": ",
                     (long long)sqlite3_column_int64(q, 1),
                     (const char *)sqlite3_column_text(q, 2));
        json_opt_text(out, q, 3);
        fv_sb_printf(out, ", \"outcome\": ");
        json_opt_text(out, q, 4);
        fv_sb_printf(out, "}");
    }
    sqlite3_finalize(q);
    fv_sb_printf(out, "], \"deals\": [");
    q = fv__ledger_prepare(l, "SELECT d.signed, b.main, c.name FROM deal_buyer b JOIN deal d ON"
                              " d.id = b.deal_id JOIN channel c ON c.id = d.channel_id"
                              " WHERE b.person_id = ? ORDER BY d.id");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, row);
    for (int n = 0; sqlite3_step(q) == SQLITE_ROW; n++) {
        fv_sb_printf(out, "%s{\"signed\": %lld, \"role\": \"%s\", \"channel\": ", n ? ", " : "",
                     (long long)sqlite3_column_int64(q, 0),
                     sqlite3_column_int(q, 1) ? "buyer" : "co_buyer");
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 2));
        fv_sb_printf(out, "}");
    }
    sqlite3_finalize(q);
    fv_sb_printf(out, "]}");
    if (out->oom) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    return fv__ledger_audit(l, who, "person.export", "person", row);
}

/* Visitors act only on themselves; agents, channel managers and kiosks not at all. */
static fv_status may_act(fv_ledger *l, const fv_ledger_actor *who, int64_t row) {
    if (who->role == FV_LEDGER_ROLE_VISITOR && who->id == row) return FV_OK;
    if (who->role == FV_LEDGER_ROLE_ADMIN || who->role == FV_LEDGER_ROLE_RECEPTION) return FV_OK;
    return fv__ledger_fail(l, FV_ERR_STATE, "this role may not act on a person's record");
}

fv_status fv_ledger_person_export(fv_ledger *l, const fv_ledger_actor *who, const char *person,
                                  fv_strbuf *out) {
    fv__ledger_lock(l);
    int64_t row = 0;
    fv_status st = fv__ledger_person_row(l, person, &row, NULL);
    if (st == FV_OK && who->role != FV_LEDGER_ROLE_AUDITOR) st = may_act(l, who, row);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st == FV_OK) {
        size_t mark = out->len;
        st = export_person(l, who, row, person, out);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) {
            fv__ledger_rollback(l);
            if (out->s != NULL && out->len >= mark) {
                fv_wipe(out->s + mark, out->len - mark);
                out->len = mark;
                out->s[mark] = '\0';
            }
        }
    }
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_person_withdraw(fv_ledger *l, const fv_ledger_actor *who, const char *person) {
    fv__ledger_lock(l);
    int64_t row = 0, consent = 0;
    fv_status st = fv__ledger_person_row(l, person, &row, NULL);
    if (st == FV_OK) st = may_act(l, who, row);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st == FV_OK) {
        st = fv__ledger_query_i64(l,
                                  "SELECT id FROM consent WHERE person_id = ? AND withdrawn IS"
                                  " NULL ORDER BY id LIMIT 1",
                                  &consent, 1, row);
        if (st == FV_ERR_NOT_FOUND)
            st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "the person has no standing consent");
        if (st == FV_OK) st = fv__ledger_consent_withdraw_row(l, who, consent);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) fv__ledger_rollback(l);
    }
    fv__ledger_unlock(l);
    return st;
}

static fv_status exec1(fv_ledger *l, const char *sql, int64_t a, int64_t b) {
    sqlite3_stmt *q = fv__ledger_prepare(l, sql);
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, a);
    if (sqlite3_bind_parameter_count(q) >= 2) sqlite3_bind_int64(q, 2, b);
    return fv__ledger_step_done(l, q, "delete");
}

fv_status fv_ledger_person_delete(fv_ledger *l, const fv_ledger_actor *who, const char *person) {
    fv__ledger_lock(l);
    int64_t row = 0;
    uint8_t pid[FV_VAULT_PERSON_BYTES];
    fv_status st = fv__ledger_person_row(l, person, &row, NULL);
    if (st == FV_OK) st = may_act(l, who, row);
    if (st == FV_OK) st = fv__ledger_unhex(person, pid, sizeof pid);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    int64_t now = fv__ledger_now(l);
    st = exec1(l, "UPDATE consent SET withdrawn = ?2 WHERE person_id = ?1 AND withdrawn IS NULL",
               row, now);
    if (st == FV_OK)
        st = exec1(l,
                   "UPDATE registration SET name_ct = NULL, phone_ct = NULL, phone_hash = NULL,"
                   " phone_mask = '(deleted)' WHERE project_id = (SELECT project_id FROM person"
                   " WHERE id = ?1) AND phone_hash = (SELECT phone_hash FROM person WHERE"
                   " id = ?1)",
                   row, 0);
    if (st == FV_OK)
        st = exec1(l,
                   "UPDATE person SET phone_hash = NULL, phone_ct = NULL, phone_mask = NULL,"
                   " deleted = ?2 WHERE id = ?1",
                   row, now);
    if (st == FV_OK) st = fv__ledger_vault_forget(l, pid);
    if (st == FV_OK) st = fv__ledger_audit(l, who, "vault.delete_person", "person", row);
    if (st == FV_OK) st = fv__ledger_audit(l, who, "person.delete", "person", row);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}
