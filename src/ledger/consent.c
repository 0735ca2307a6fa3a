/*
 * consent.c - consent records for face processing, their withdrawal, and the vault's consent
 * check.
 *
 * A consent is made before capture, for one project, for the single purpose of attribution
 * (scope "face_attribution"), naming the notice version and text hash the visitor saw, the
 * device and the method; a minor's needs a guardian's consent (refused otherwise, and the schema
 * refuses such a row too). A face-free project takes no consent at all. Withdrawal stamps the
 * record and deletes the person's templates at once; the attribution stays (it holds no
 * biometrics).
 * Threading: public calls lock the handle; fv_ledger_consent_check runs inside vault calls made
 * by the ledger (the lock is already held) and does not lock.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

fv_status fv_ledger_consent_record(fv_ledger *l, const fv_ledger_actor *who,
                                   const fv_ledger_consent_request *rq,
                                   char consent_id[FV_LEDGER_ID_CHARS]) {
    fv__ledger_lock(l);
    consent_id[0] = '\0';
    fv_ledger_project_settings ps;
    fv_status st = fv__ledger_project_load(l, rq->project, &ps);
    int64_t cur_version = 0;
    char cur_hash[65] = "";
    if (st == FV_OK && ps.face_free)
        st = fv__ledger_fail(l, FV_ERR_STATE, "the project is face-free: no face consent is taken");
    if (st == FV_OK && rq->age == FV_LEDGER_AGE_MINOR && !rq->guardian_consent)
        st = fv__ledger_fail(l, FV_ERR_STATE, "a minor's face needs a guardian's consent");
    if (st == FV_OK && (unsigned)rq->age > FV_LEDGER_AGE_MINOR)
        st = fv__ledger_fail(l, FV_ERR_ARG, "age attestation must be adult or minor");
    if (st == FV_OK && (rq->device[0] == '\0' || rq->method[0] == '\0' ||
                        strnlen(rq->device, sizeof rq->device) == sizeof rq->device ||
                        strnlen(rq->method, sizeof rq->method) == sizeof rq->method))
        st = fv__ledger_fail(l, FV_ERR_ARG, "consent needs a device and a method");
    if (st == FV_OK) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT version, hash FROM notice WHERE"
                                                " project_id = ? ORDER BY version DESC LIMIT 1");
        if (q == NULL) {
            st = FV_ERR_IO;
        } else {
            sqlite3_bind_int64(q, 1, rq->project);
            if (sqlite3_step(q) == SQLITE_ROW) {
                cur_version = sqlite3_column_int64(q, 0);
                snprintf(cur_hash, sizeof cur_hash, "%s", (const char *)sqlite3_column_text(q, 1));
            }
            sqlite3_finalize(q);
        }
    }
    if (st == FV_OK && cur_version == 0)
        st = fv__ledger_fail(l, FV_ERR_STATE, "the project has no notice: publish one first");
    if (st == FV_OK && (rq->notice_version != cur_version ||
                        strncmp(rq->notice_hash, cur_hash, sizeof cur_hash) != 0))
        st = fv__ledger_fail(l, FV_ERR_STATE, "consent names a notice that is not the current one");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    char cid[FV_LEDGER_ID_CHARS];
    fv__ledger_random_hex(cid, 32);
    sqlite3_stmt *q = fv__ledger_prepare(
        l,
        "INSERT INTO consent(cid, project_id, notice_version, notice_hash, scope, method,"
        " device, age, guardian, created) VALUES(?, ?, ?, ?, 'face_attribution', ?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_text(q, 1, cid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, rq->project);
        sqlite3_bind_int64(q, 3, cur_version);
        sqlite3_bind_text(q, 4, cur_hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, rq->method, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 6, rq->device, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 7, rq->age == FV_LEDGER_AGE_ADULT ? "adult" : "minor", -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(q, 8, rq->guardian_consent ? 1 : 0);
        sqlite3_bind_int64(q, 9, fv__ledger_now(l));
    }
    st = fv__ledger_step_done(l, q, "consent");
    if (st == FV_OK)
        st =
            fv__ledger_audit(l, who, "consent.record", "consent", sqlite3_last_insert_rowid(l->db));
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK)
        fv__ledger_rollback(l);
    else
        memcpy(consent_id, cid, sizeof cid);
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv__ledger_vault_forget(fv_ledger *l, const uint8_t *pid) {
    if (l->vault == NULL) return FV_OK;
    size_t removed = 0;
    fv_status st = fv_vault_delete_person(l->vault, pid, &removed);
    return st == FV_OK ? FV_OK : fv__ledger_fail(l, st, "vault: %s", fv_vault_errmsg(l->vault));
}

/* Withdraws consent row `row` (and every other live consent of its person), deleting the
 * person's templates. Inside the caller's transaction. */
fv_status fv__ledger_consent_withdraw_row(fv_ledger *l, const fv_ledger_actor *who, int64_t row) {
    int64_t person = 0;
    fv_status st = fv__ledger_query_i64(
        l, "SELECT COALESCE(person_id, 0) FROM consent WHERE id = ?", &person, 1, row);
    if (st == FV_ERR_NOT_FOUND) return fv__ledger_fail(l, st, "no such consent");
    if (st != FV_OK) return st;
    sqlite3_stmt *q = fv__ledger_prepare(
        l, person ? "UPDATE consent SET withdrawn = ? WHERE withdrawn IS NULL AND (id = ? OR"
                    " person_id = ?)"
                  : "UPDATE consent SET withdrawn = ? WHERE withdrawn IS NULL AND id = ?");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, fv__ledger_now(l));
        sqlite3_bind_int64(q, 2, row);
        if (person) sqlite3_bind_int64(q, 3, person);
    }
    st = fv__ledger_step_done(l, q, "consent withdraw");
    if (st == FV_OK) st = fv__ledger_audit(l, who, "consent.withdraw", "consent", row);
    if (st == FV_OK && person) {
        uint8_t pid[FV_VAULT_PERSON_BYTES];
        sqlite3_stmt *p = fv__ledger_prepare(l, "SELECT pid FROM person WHERE id = ?");
        if (p == NULL) return FV_ERR_IO;
        sqlite3_bind_int64(p, 1, person);
        int ok = sqlite3_step(p) == SQLITE_ROW && sqlite3_column_bytes(p, 0) == (int)sizeof pid;
        if (ok) memcpy(pid, sqlite3_column_blob(p, 0), sizeof pid);
        sqlite3_finalize(p);
        if (!ok) return fv__ledger_fail(l, FV_ERR_INTERNAL, "consent names a missing person");
        st = fv__ledger_vault_forget(l, pid);
        if (st == FV_OK) st = fv__ledger_audit(l, who, "vault.delete_person", "person", person);
    }
    return st;
}

fv_status fv_ledger_consent_withdraw(fv_ledger *l, const fv_ledger_actor *who,
                                     const char *consent_id) {
    fv__ledger_lock(l);
    int64_t row = 0;
    fv_status st = fv__ledger_begin(l);
    if (st == FV_OK) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id FROM consent WHERE cid = ?");
        if (q == NULL) {
            st = FV_ERR_IO;
        } else {
            sqlite3_bind_text(q, 1, consent_id, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(q) == SQLITE_ROW)
                row = sqlite3_column_int64(q, 0);
            else
                st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such consent");
            sqlite3_finalize(q);
        }
        if (st == FV_OK) st = fv__ledger_consent_withdraw_row(l, who, row);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) fv__ledger_rollback(l);
    }
    fv__ledger_unlock(l);
    return st;
}

int fv_ledger_consent_check(void *ctx, const char *consent_id, const char *project_code) {
    fv_ledger *l = ctx;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(l->db,
                           "SELECT c.withdrawn IS NOT NULL, p.code = ?2, p.face_free,"
                           " c.age = 'adult' OR c.guardian = 1 FROM consent c"
                           " JOIN project p ON p.id = c.project_id WHERE c.cid = ?1",
                           -1, &q, NULL) != SQLITE_OK) {
        sqlite3_finalize(q);
        return FV_VAULT_CONSENT_MISSING;
    }
    sqlite3_bind_text(q, 1, consent_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, project_code, -1, SQLITE_TRANSIENT);
    int ans = FV_VAULT_CONSENT_MISSING;
    if (sqlite3_step(q) == SQLITE_ROW) {
        if (sqlite3_column_int(q, 0))
            ans = FV_VAULT_CONSENT_WITHDRAWN;
        else if (!sqlite3_column_int(q, 1) || sqlite3_column_int(q, 2) || !sqlite3_column_int(q, 3))
            ans = FV_VAULT_CONSENT_WRONG_SCOPE;
        else
            ans = FV_VAULT_CONSENT_OK;
    }
    sqlite3_finalize(q);
    return ans;
}

int fv_ledger_consent_status(fv_ledger *l, const char *consent_id, const char *project_code) {
    if (l == NULL || consent_id == NULL || project_code == NULL) return FV_VAULT_CONSENT_MISSING;
    fv__ledger_lock(l);
    int ans = fv_ledger_consent_check(l, consent_id, project_code);
    fv__ledger_unlock(l);
    return ans;
}
