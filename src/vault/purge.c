/*
 * purge.c - retention (fv_vault_purge) and renewal of the site transform
 * (fv_vault_rekey_transform): the two operations that change many records at once.
 *
 * Retention is per project (projects table, default FV_VAULT_RETENTION_DEFAULT): a project's
 * day d has expired when d <= today - its retention. Purge order, chosen so that a kill at any
 * point leaves nothing half-deleted:
 *   1. one SQLite transaction: log a count per expired (project, day) in purge_log, delete the
 *      expired rows, COMMIT (WAL, synchronous=FULL: all rows gone or none);
 *   2. rewrite the keyring without the expired (project, day) keys (temp + fsync + rename: all
 *      or none); then drop the deleted records from the in-memory index.
 * Killed before 1 commits: nothing changed. Between 1 and 2: rows gone, keys still there; the
 * next purge (idempotent: every expired (project, day) key is destroyed whether or not rows
 * remain) destroys them. The reverse order would leave rows that can no longer be decrypted.
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

fv_status fv_vault_set_retention(fv_vault *v, const char *project, int days) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    if (project == NULL || *project == '\0' || strlen(project) > FV_VAULT_NAME_MAX)
        return fv__vault_fail(v, FV_ERR_ARG, "project name must be 1..128 bytes");
    if (days < 1 || days > FV_VAULT_RETENTION_MAX)
        return fv__vault_fail(v, FV_ERR_ARG, "retention must be 1..%d days",
                              FV_VAULT_RETENTION_MAX);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(
            v->db,
            "INSERT INTO projects(project, retention_days) VALUES(?, ?) "
            "ON CONFLICT(project) DO UPDATE SET retention_days = excluded.retention_days",
            -1, &s, NULL) != SQLITE_OK)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    sqlite3_bind_text(s, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, days);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errstr(rc));
    return FV_OK;
}

fv_status fv_vault_get_retention(fv_vault *v, const char *project, int *days) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    if (project == NULL || days == NULL)
        return fv__vault_fail(v, FV_ERR_ARG, "project and days are required");
    return fv__vault_retention(v, project, days);
}

/* Adds counts to the entry of (project, day) in rep, creating it (in (project, day) order) while
 * there is room; past FV_VAULT_PURGE_DAYS_MAX entries only the totals count. */
static void report_add(fv_vault_purge_report *rep, const char *project, int64_t day,
                       size_t templates, int key) {
    size_t at = 0;
    for (; at < rep->n_days; at++) {
        int c = strcmp(project, rep->days[at].project);
        if (c < 0 || (c == 0 && day <= rep->days[at].day)) break;
    }
    if (at < rep->n_days && strcmp(project, rep->days[at].project) == 0 &&
        rep->days[at].day == day) {
        rep->days[at].templates += templates;
        rep->days[at].key_destroyed |= key;
        return;
    }
    if (rep->n_days == FV_VAULT_PURGE_DAYS_MAX) return;
    memmove(&rep->days[at + 1], &rep->days[at], (rep->n_days - at) * sizeof rep->days[0]);
    memset(&rep->days[at], 0, sizeof rep->days[0]);
    snprintf(rep->days[at].project, sizeof rep->days[at].project, "%s", project);
    rep->days[at].day = day;
    rep->days[at].templates = templates;
    rep->days[at].key_destroyed = key;
    rep->n_days++;
}

/* Rows of a project whose day is at or before today (?1) minus the project's retention (default
 * ?2). */
#define EXPIRED                                                                                    \
    " day <= ?1 - coalesce((SELECT retention_days FROM projects p WHERE p.project = t.project), "  \
    "?2)"

fv_status fv_vault_purge(fv_vault *v, int64_t now, fv_vault_purge_report *rep) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    fv_vault_purge_report local;
    if (rep == NULL) rep = &local;
    memset(rep, 0, sizeof *rep);
    int64_t today = fv__vault_day_of(now);
    rep->today = today;
    fv__vault_ids l = {0};
    sqlite3_stmt *s = NULL, *log = NULL;
    bool *drop = NULL;
    fv_status st = fv__vault_exec(v, "BEGIN IMMEDIATE");
    if (st != FV_OK) return st;
    /* Step 1: the rows, per project against its own retention, in one transaction. */
    if (sqlite3_prepare_v2(v->db,
                           "SELECT project, day, count(*) FROM templates t WHERE" EXPIRED
                           " GROUP BY project, day ORDER BY project, day",
                           -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(v->db,
                           "INSERT INTO purge_log(at, project, day, templates) VALUES(?, ?, ?, ?)",
                           -1, &log, NULL) != SQLITE_OK)
        goto db_error;
    sqlite3_bind_int64(s, 1, today);
    sqlite3_bind_int(s, 2, FV_VAULT_RETENTION_DEFAULT);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *project = (const char *)sqlite3_column_text(s, 0);
        int64_t day = sqlite3_column_int64(s, 1), count = sqlite3_column_int64(s, 2);
        if (project == NULL) project = "";
        report_add(rep, project, day, (size_t)count, 0);
        rep->templates_deleted += (size_t)count;
        sqlite3_reset(log);
        sqlite3_bind_int64(log, 1, now);
        sqlite3_bind_text(log, 2, project, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(log, 3, day);
        sqlite3_bind_int64(log, 4, count);
        if (sqlite3_step(log) != SQLITE_DONE) goto db_error;
    }
    if (rc != SQLITE_DONE) goto db_error;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(v->db, "SELECT id, project FROM templates t WHERE" EXPIRED, -1, &s,
                           NULL) != SQLITE_OK)
        goto db_error;
    sqlite3_bind_int64(s, 1, today);
    sqlite3_bind_int(s, 2, FV_VAULT_RETENTION_DEFAULT);
    if ((st = fv__vault_collect(v, s, &l)) != FV_OK) goto out;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(v->db, "DELETE FROM templates AS t WHERE" EXPIRED, -1, &s, NULL) !=
            SQLITE_OK ||
        (sqlite3_bind_int64(s, 1, today), sqlite3_bind_int(s, 2, FV_VAULT_RETENTION_DEFAULT),
         sqlite3_step(s)) != SQLITE_DONE)
        goto db_error;
    sqlite3_finalize(s);
    s = NULL;
    if ((st = fv__vault_exec(v, "COMMIT")) != FV_OK) goto out;
    fv__vault_unindex(v, &l);
    /* Step 2: crypto-shredding, each key against its own project's retention. Runs even when no
     * row expired (finishes an interrupted purge). Keys are sorted by project: one look-up per
     * project. */
    drop = fv_calloc(v->n_keys ? v->n_keys : 1, sizeof *drop);
    if (drop == NULL) {
        st = fv__vault_fail(v, FV_ERR_NOMEM, "out of memory for the purge");
        goto done;
    }
    int retention = FV_VAULT_RETENTION_DEFAULT;
    for (size_t i = 0; i < v->n_keys; i++) {
        if ((i == 0 || strcmp(v->keys[i].project, v->keys[i - 1].project) != 0) &&
            (st = fv__vault_retention(v, v->keys[i].project, &retention)) != FV_OK)
            goto done;
        drop[i] = v->keys[i].day <= today - retention;
    }
    for (size_t i = 0; i < v->n_keys; i++)
        if (drop[i]) report_add(rep, v->keys[i].project, v->keys[i].day, 0, 1);
    st = fv__vault_keys_destroy(v, drop, &rep->keys_destroyed);
    if (st != FV_OK) { /* the keys are still there: the report must not say otherwise */
        for (size_t i = 0; i < rep->n_days; i++) rep->days[i].key_destroyed = 0;
        goto done;
    }
    /* Deleted pages were zeroed (secure_delete); move them out of the WAL too. Best effort. */
    (void)sqlite3_wal_checkpoint_v2(v->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    goto done;
db_error:
    st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
out:
    (void)sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    memset(rep, 0, sizeof *rep);
    rep->today = today;
done:
    sqlite3_finalize(s);
    sqlite3_finalize(log);
    fv_free(drop);
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
