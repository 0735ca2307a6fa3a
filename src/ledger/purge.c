/*
 * purge.c - the ledger's scheduled maintenance: the vault's retention purge (crypto-shredding),
 * expired one-time codes and idempotency keys, and the settlement of escorts whose window passed.
 *
 * The vault purge is idempotent and crash-safe on its own (docs/vault.md); the ledger's part runs
 * in one transaction that also records what was destroyed in the audit chain (counts only). A
 * purge killed between the two parts is finished by the next one.
 * Threading: public calls lock the handle.
 */
#include <string.h>

#include "ledger-impl.h"

static fv_status delete_older(fv_ledger *l, const char *sql, int64_t before, size_t *n) {
    sqlite3_stmt *q = fv__ledger_prepare(l, sql);
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, before);
    fv_status st = fv__ledger_step_done(l, q, "purge");
    if (st == FV_OK) *n = (size_t)sqlite3_changes(l->db);
    return st;
}

fv_status fv_ledger_purge(fv_ledger *l, const fv_ledger_actor *who, fv_ledger_purge_report *rep) {
    fv__ledger_lock(l);
    fv_ledger_purge_report r;
    memset(&r, 0, sizeof r);
    fv_status st = FV_OK;
    int64_t now = fv__ledger_now(l);
    if (l->vault != NULL) {
        st = fv_vault_purge(l->vault, now / 1000, &r.vault);
        if (st != FV_OK) {
            st = fv__ledger_fail(l, st, "vault purge: %s", fv_vault_errmsg(l->vault));
            memset(&r.vault, 0, sizeof r.vault);
        }
        r.templates_deleted = r.vault.templates_deleted;
        r.keys_destroyed = r.vault.keys_destroyed;
    }
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st == FV_OK) {
        st = delete_older(l, "DELETE FROM otp WHERE expires < ?", now - FV__LEDGER_DAY_MS,
                          &r.otps_deleted);
        if (st == FV_OK)
            st = delete_older(l, "DELETE FROM idempotency WHERE created < ?",
                              now - FV__LEDGER_DAY_MS, &r.idempotency_deleted);
        if (st == FV_OK) st = fv__ledger_settle(l, who, &r.escorts_settled);
        if (st == FV_OK)
            st = fv__ledger_audit(l, who, "vault.purge", "templates", (int64_t)r.templates_deleted);
        if (st == FV_OK)
            st = fv__ledger_audit(l, who, "vault.purge", "day_keys", (int64_t)r.keys_destroyed);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) fv__ledger_rollback(l);
    }
    if (rep != NULL) *rep = r;
    fv__ledger_unlock(l);
    return st;
}
