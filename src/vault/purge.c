/*
 * purge.c - retention (fv_vault_purge) and renewal of the site transform
 * (fv_vault_rekey_transform): the two operations that change many records at once.
 *
 * Purge order, chosen so that a kill at any point leaves nothing half-deleted:
 *   1. one SQLite transaction: log a count per expired day in purge_log, delete the expired
 *      rows, COMMIT (WAL, synchronous=FULL: all rows gone or none);
 *   2. rewrite the keyring without the expired days' keys (temp + fsync + rename: all or none);
 *   3. drop the deleted records from the in-memory index.
 * Killed before 1 commits: nothing changed. Between 1 and 2: rows gone, keys still there; the
 * next purge (idempotent: keys of every day <= cutoff are destroyed whether or not rows remain)
 * destroys them. The reverse order would leave rows that can no longer be decrypted.
 *
 * Re-key order: write transform.new (sealed, generation g+1); one transaction re-encrypts every
 * record under the new matrix and sets meta.transform_generation = g+1; rename transform.new
 * over transform. fv_vault_open resolves a leftover transform.new by comparing generations.
 * Threading: per handle.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

fv_status fv_vault_purge(fv_vault *v, int64_t now, fv_vault_purge_report *rep) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    fv_vault_purge_report local;
    if (rep == NULL) rep = &local;
    memset(rep, 0, sizeof *rep);
    int64_t cutoff = fv__vault_day_of(now) - v->opt.retention_days;
    rep->cutoff_day = cutoff;
    fv__vault_ids l = {0};
    sqlite3_stmt *s = NULL, *log = NULL;
    fv_status st = fv__vault_exec(v, "BEGIN IMMEDIATE");
    if (st != FV_OK) return st;
    if (sqlite3_prepare_v2(v->db,
                           "SELECT day, count(*) FROM templates WHERE day <= ? GROUP BY day "
                           "ORDER BY day",
                           -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(v->db, "INSERT INTO purge_log(at, day, templates) VALUES(?, ?, ?)", -1,
                           &log, NULL) != SQLITE_OK)
        goto db_error;
    sqlite3_bind_int64(s, 1, cutoff);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t day = sqlite3_column_int64(s, 0), count = sqlite3_column_int64(s, 1);
        if (rep->n_days < FV_VAULT_PURGE_DAYS_MAX) {
            rep->days[rep->n_days].day = day;
            rep->days[rep->n_days].templates = (size_t)count;
            rep->n_days++;
        }
        rep->templates_deleted += (size_t)count;
        sqlite3_reset(log);
        sqlite3_bind_int64(log, 1, now);
        sqlite3_bind_int64(log, 2, day);
        sqlite3_bind_int64(log, 3, count);
        if (sqlite3_step(log) != SQLITE_DONE) goto db_error;
    }
    if (rc != SQLITE_DONE) goto db_error;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(v->db, "SELECT id, project FROM templates WHERE day <= ?", -1, &s,
                           NULL) != SQLITE_OK)
        goto db_error;
    sqlite3_bind_int64(s, 1, cutoff);
    if ((st = fv__vault_collect(v, s, &l)) != FV_OK) goto out;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(v->db, "DELETE FROM templates WHERE day <= ?", -1, &s, NULL) !=
            SQLITE_OK ||
        (sqlite3_bind_int64(s, 1, cutoff), sqlite3_step(s)) != SQLITE_DONE)
        goto db_error;
    sqlite3_finalize(s);
    s = NULL;
    if ((st = fv__vault_exec(v, "COMMIT")) != FV_OK) goto out;
    fv__vault_unindex(v, &l);
    /* Step 2: crypto-shredding. Runs even when no row expired (finishes an interrupted purge). */
    st = fv__vault_keys_destroy_through(v, cutoff, &rep->keys_destroyed);
    /* Deleted pages were zeroed (secure_delete); move them out of the WAL too. Best effort. */
    if (st == FV_OK)
        (void)sqlite3_wal_checkpoint_v2(v->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    goto done;
db_error:
    st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
out:
    (void)sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    memset(rep, 0, sizeof *rep);
    rep->cutoff_day = cutoff;
done:
    sqlite3_finalize(s);
    sqlite3_finalize(log);
    fv__vault_ids_free(&l);
    return st;
}

fv_status fv_vault_rekey_transform(fv_vault *v) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    float *nxf = fv__vault_transform_generate();
    if (nxf == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of secure memory for a transform");
    uint64_t ngen = v->xf_gen + 1;
    sqlite3_stmt *s = NULL, *up = NULL;
    float *orig = v->plain + FV_VAULT_DIM;
    fv_status st = fv__vault_transform_save(v, "transform.new", nxf, ngen);
    if (st != FV_OK) goto out;
    if ((st = fv__vault_exec(v, "BEGIN IMMEDIATE")) != FV_OK) goto out;
    if (sqlite3_prepare_v2(v->db, "SELECT " FV__VAULT_RECORD_COLUMNS " FROM templates", -1, &s,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(v->db,
                           "UPDATE templates SET version = ?, nonce = ?, ct = ? WHERE id = ?", -1,
                           &up, NULL) != SQLITE_OK) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto rollback;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        fv__vault_record r;
        fv__vault_record_from_row(s, &r);
        /* Records without their day key or failing authentication stay as they are: they are
         * unreadable already and will go at the next purge or be reported by open. */
        if (fv__vault_unseal(v, &r, v->plain) != FV_OK) continue;
        fv__vault_transform_apply_inverse(v->xf, v->plain, orig);
        fv__vault_transform_apply(nxf, orig, v->plain);
        r.version = (int64_t)ngen;
        uint8_t nonce[FV__VAULT_NONCE_BYTES], ct[FV__VAULT_CT_BYTES];
        if ((st = fv__vault_seal(v, &r, v->plain, nonce, ct)) != FV_OK) goto rollback;
        sqlite3_reset(up);
        sqlite3_bind_int64(up, 1, r.version);
        sqlite3_bind_blob(up, 2, nonce, sizeof nonce, SQLITE_TRANSIENT);
        sqlite3_bind_blob(up, 3, ct, sizeof ct, SQLITE_TRANSIENT);
        sqlite3_bind_int64(up, 4, r.id);
        if (sqlite3_step(up) != SQLITE_DONE) {
            st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
            goto rollback;
        }
    }
    if (rc != SQLITE_DONE) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto rollback;
    }
    sqlite3_finalize(s);
    s = NULL;
    if ((st = fv__vault_meta_set(v, "transform_generation", (int64_t)ngen)) != FV_OK) goto rollback;
    if ((st = fv__vault_exec(v, "COMMIT")) != FV_OK) goto rollback;
    {
        char *a = fv__vault_path(v->dir, "transform.new"), *b = fv__vault_path(v->dir, "transform");
        if (a == NULL || b == NULL || rename(a, b) != 0)
            st = fv__vault_fail(v, FV_ERR_IO,
                                "re-key committed; transform file not yet renamed "
                                "(finished at next open)");
        fv_free(a);
        fv_free(b);
    }
    /* The store now holds generation ngen: switch to it whatever the rename did. */
    sodium_free(v->xf);
    v->xf = nxf;
    v->xf_gen = ngen;
    nxf = NULL;
    fv__vault_indexes_free(v);
    {
        char keep[sizeof v->err];
        memcpy(keep, v->err, sizeof keep);
        fv_status ls = fv__vault_load_all(v);
        if (ls != FV_OK)
            st = ls;
        else
            memcpy(v->err, keep, sizeof keep);
    }
    goto out;
rollback:
    (void)sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    {
        char *a = fv__vault_path(v->dir, "transform.new");
        if (a) remove(a);
        fv_free(a);
    }
out:
    sqlite3_finalize(s);
    sqlite3_finalize(up);
    sodium_memzero(v->plain, 2 * FV__VAULT_VEC_BYTES);
    if (nxf) sodium_free(nxf);
    return st;
}
