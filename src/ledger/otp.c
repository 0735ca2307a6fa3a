/*
 * otp.c - one-time codes for the phone path: sent through a pluggable gateway, limited in
 * number per phone and hour, in wrong attempts, and in lifetime.
 *
 * A code is 6 random digits; only its keyed BLAKE2b hash (code key, over the code id and the
 * code) is stored, next to the phone's keyed hash. A code is consumed by its first successful
 * use; after otp_max_attempts wrong tries it is dead. The console gateway (the default) shows the
 * code and the masked phone on the server's terminal (/dev/tty, else stderr), nowhere else.
 * Threading: public calls lock the handle; the gateway is called with the lock held.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

static void code_hash(const fv_ledger *l, const char *oid, const char *code, uint8_t *out) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, l->keys->code, FV__LEDGER_KEY_BYTES, FV__LEDGER_HASH_BYTES);
    crypto_generichash_update(&h, (const unsigned char *)oid, strlen(oid) + 1);
    crypto_generichash_update(&h, (const unsigned char *)code, strlen(code));
    crypto_generichash_final(&h, out, FV__LEDGER_HASH_BYTES);
}

static int console_send(const char *phone, const char *code) {
    char mask[FV_LEDGER_MASK_CHARS];
    if (fv_ledger_phone_mask(phone, mask) != FV_OK) return -1;
    FILE *tty = fopen("/dev/tty", "w");
    FILE *f = tty != NULL ? tty : stderr;
    fprintf(f, "fairvisit: one-time code for %s: %s\n", mask, code);
    fflush(f);
    if (tty != NULL) fclose(tty);
    return 0;
}

fv_status fv_ledger_otp_send(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                             const char *phone, char otp_id[FV_LEDGER_ID_CHARS]) {
    fv__ledger_lock(l);
    otp_id[0] = '\0';
    char norm[12], code[8];
    uint8_t ph[FV__LEDGER_HASH_BYTES], ch[FV__LEDGER_HASH_BYTES];
    fv_ledger_project_settings ps;
    fv_status st = fv__ledger_phone_normalise(l, phone, norm);
    if (st == FV_OK) st = fv__ledger_project_load(l, project, &ps);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    int64_t now = fv__ledger_now(l), recent = 0;
    fv__ledger_phone_hash(l, norm, ph);
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT COUNT(*) FROM otp WHERE project_id = ? AND"
                                            " phone_hash = ? AND created > ?");
    if (q == NULL) {
        st = FV_ERR_IO;
    } else {
        sqlite3_bind_int64(q, 1, project);
        sqlite3_bind_blob(q, 2, ph, sizeof ph, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, now - 3600 * 1000);
        if (sqlite3_step(q) == SQLITE_ROW) recent = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    if (st == FV_OK && recent >= ps.otp_per_phone_per_hour)
        st = fv__ledger_fail(l, FV_ERR_LIMIT,
                             "too many one-time codes for this phone in the last"
                             " hour; try later or ask reception");
    if (st == FV_OK) {
        char oid[FV_LEDGER_ID_CHARS];
        fv__ledger_random_hex(oid, 32);
        snprintf(code, sizeof code, "%06u", (unsigned)randombytes_uniform(1000000));
        code_hash(l, oid, code, ch);
        q = fv__ledger_prepare(l, "INSERT INTO otp(oid, project_id, phone_hash, code_hash,"
                                  " created, expires) VALUES(?, ?, ?, ?, ?, ?)");
        if (q != NULL) {
            sqlite3_bind_text(q, 1, oid, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, project);
            sqlite3_bind_blob(q, 3, ph, sizeof ph, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 4, ch, sizeof ch, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, now);
            sqlite3_bind_int64(q, 6, now + (int64_t)ps.otp_ttl_seconds * 1000);
        }
        st = fv__ledger_step_done(l, q, "one-time code");
        if (st == FV_OK)
            st = fv__ledger_audit(l, who, "otp.send", "otp", sqlite3_last_insert_rowid(l->db));
        if (st == FV_OK) {
            int sent = l->opt.otp_send != NULL ? l->opt.otp_send(l->opt.otp_ctx, norm, code)
                                               : console_send(norm, code);
            if (sent != 0) st = fv__ledger_fail(l, FV_ERR_IO, "the one-time code gateway failed");
        }
        if (st == FV_OK) memcpy(otp_id, oid, sizeof oid);
    }
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) {
        fv__ledger_rollback(l);
        otp_id[0] = '\0';
    }
out:
    sodium_memzero(norm, sizeof norm);
    sodium_memzero(code, sizeof code);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv__ledger_otp_consume(fv_ledger *l, int64_t project, const uint8_t *phone_hash,
                                 const char *otp_id, const char *code) {
    if (otp_id == NULL || code == NULL || otp_id[0] == '\0' || code[0] == '\0')
        return fv__ledger_fail(l, FV_ERR_STATE, "phone not verified: a one-time code is required");
    fv_status st = fv__ledger_begin(l);
    if (st != FV_OK) return st;
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id, project_id, phone_hash, code_hash,"
                                            " expires, attempts, used, oid FROM otp WHERE oid = ?");
    if (q == NULL) {
        fv__ledger_rollback(l);
        return FV_ERR_IO;
    }
    sqlite3_bind_text(q, 1, otp_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    int64_t row = 0, max_attempts = 5;
    int wrong = 0;
    if (rc != SQLITE_ROW) {
        st = rc == SQLITE_DONE ? fv__ledger_fail(l, FV_ERR_STATE, "unknown one-time code")
                               : fv__ledger_db_fail(l, rc, "one-time code");
    } else {
        row = sqlite3_column_int64(q, 0);
        (void)fv__ledger_query_i64(l, "SELECT otp_max_attempts FROM project WHERE id = ?",
                                   &max_attempts, 1, project);
        uint8_t ch[FV__LEDGER_HASH_BYTES];
        code_hash(l, (const char *)sqlite3_column_text(q, 7), code, ch);
        if (sqlite3_column_int64(q, 1) != project ||
            sqlite3_column_bytes(q, 2) != FV__LEDGER_HASH_BYTES ||
            sodium_memcmp(sqlite3_column_blob(q, 2), phone_hash, FV__LEDGER_HASH_BYTES) != 0)
            st = fv__ledger_fail(l, FV_ERR_STATE, "the one-time code was sent to another phone");
        else if (sqlite3_column_type(q, 6) != SQLITE_NULL)
            st = fv__ledger_fail(l, FV_ERR_STATE, "the one-time code was already used");
        else if (sqlite3_column_int64(q, 4) <= fv__ledger_now(l))
            st = fv__ledger_fail(l, FV_ERR_STATE, "the one-time code has expired");
        else if (sqlite3_column_int64(q, 5) >= max_attempts)
            st = fv__ledger_fail(l, FV_ERR_LIMIT, "too many wrong attempts for this one-time code");
        else if (sqlite3_column_bytes(q, 3) != FV__LEDGER_HASH_BYTES ||
                 sodium_memcmp(sqlite3_column_blob(q, 3), ch, FV__LEDGER_HASH_BYTES) != 0) {
            st = fv__ledger_fail(l, FV_ERR_STATE, "wrong one-time code");
            wrong = 1;
        }
    }
    sqlite3_finalize(q);
    if (st == FV_OK || wrong) {
        char err[sizeof fv__ledger_err];
        memcpy(err, fv__ledger_err, sizeof err);
        sqlite3_stmt *u =
            fv__ledger_prepare(l, wrong ? "UPDATE otp SET attempts = attempts + 1 WHERE id = ?"
                                        : "UPDATE otp SET used = ? WHERE id = ?");
        if (u != NULL) {
            if (wrong) {
                sqlite3_bind_int64(u, 1, row);
            } else {
                sqlite3_bind_int64(u, 1, fv__ledger_now(l));
                sqlite3_bind_int64(u, 2, row);
            }
        }
        fv_status us = fv__ledger_step_done(l, u, "one-time code");
        if (us == FV_OK) us = fv__ledger_commit(l);
        if (us != FV_OK) {
            fv__ledger_rollback(l);
            return us;
        }
        memcpy(fv__ledger_err, err, sizeof err);
        return st;
    }
    fv__ledger_rollback(l);
    return st;
}
