/*
 * idempotency.c - idempotency keys: a retried request returns its first result, changing
 * nothing twice.
 *
 * A key is stored with the operation, a BLAKE2b hash of the request's fields and the result, in
 * the same transaction as the operation's rows; so either both exist or neither. The same key
 * with another operation or other fields is refused (a client bug that must not be papered
 * over). Keys older than a day are deleted by the purge.
 * Threading: inside the caller's transaction.
 */
#include <string.h>

#include "ledger-impl.h"

fv_status fv__ledger_idem_lookup(fv_ledger *l, const char *key, const char *op,
                                 const uint8_t req_hash[FV__LEDGER_HASH_BYTES], int *found,
                                 void *result, size_t size) {
    *found = 0;
    if (key == NULL || key[0] == '\0') return FV_OK;
    if (strnlen(key, FV_LEDGER_IDEM_MAX + 1) > FV_LEDGER_IDEM_MAX)
        return fv__ledger_fail(l, FV_ERR_ARG, "idempotency key longer than 128 bytes");
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT op, request, result FROM idempotency"
                                            " WHERE key = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    fv_status st = FV_OK;
    if (rc == SQLITE_ROW) {
        const char *sop = (const char *)sqlite3_column_text(q, 0);
        if (sop == NULL || strcmp(sop, op) != 0 ||
            sqlite3_column_bytes(q, 1) != FV__LEDGER_HASH_BYTES ||
            memcmp(sqlite3_column_blob(q, 1), req_hash, FV__LEDGER_HASH_BYTES) != 0)
            st = fv__ledger_fail(l, FV_ERR_STATE,
                                 "idempotency key was already used for a different request");
        else if (sqlite3_column_bytes(q, 2) != (int)size)
            st = fv__ledger_fail(l, FV_ERR_STATE,
                                 "idempotency key's stored result is from another version");
        else {
            memcpy(result, sqlite3_column_blob(q, 2), size);
            *found = 1;
        }
    } else if (rc != SQLITE_DONE) {
        st = fv__ledger_db_fail(l, rc, "idempotency");
    }
    sqlite3_finalize(q);
    return st;
}

fv_status fv__ledger_idem_store(fv_ledger *l, const char *key, const char *op,
                                const uint8_t req_hash[FV__LEDGER_HASH_BYTES], const void *result,
                                size_t size) {
    if (key == NULL || key[0] == '\0') return FV_OK;
    sqlite3_stmt *q = fv__ledger_prepare(l, "INSERT INTO idempotency(key, op, request, result,"
                                            " created) VALUES(?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, op, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 3, req_hash, FV__LEDGER_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_blob(q, 4, result, (int)size, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 5, fv__ledger_now(l));
    }
    return fv__ledger_step_done(l, q, "idempotency");
}
