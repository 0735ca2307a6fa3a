/*
 * ledger.c - a site's ledger: creation, open (keys, migrations, the vault), close, messages.
 *
 * fv_ledger_init_site makes the folder (0700), ledger.key (0600, never overwritten), ledger.db
 * at the newest schema, and the vault in DIR/vault. fv_ledger_open refuses a site whose key is
 * readable by group or others, applies pending migrations, and opens the vault with the ledger's
 * consent check as its callback. Every public call of the ledger takes the handle's mutex, so a
 * handle may be shared by threads (calls are serialised).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

static fv_status db_open(fv_ledger *l, int create) {
    char *path = fv__ledger_path(l->dir, "ledger.db");
    if (path == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &l->db, flags, NULL);
    fv_free(path);
    if (rc != SQLITE_OK)
        return fv__ledger_fail(l, rc == SQLITE_NOMEM ? FV_ERR_NOMEM : FV_ERR_IO,
                               "cannot open ledger.db: %s", sqlite3_errstr(rc));
    sqlite3_busy_timeout(l->db, 10000);
    static const char *const P = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                 " PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;";
    fv_status st = fv__ledger_exec(l, P);
    if (st != FV_OK) return st;
    return fv__ledger_migrate(l);
}

fv_status fv_ledger_init_site(const char *dir) {
    if (dir == NULL || dir[0] == '\0') return FV_ERR_ARG;
    if (sodium_init() < 0) return FV_ERR_INTERNAL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return FV_ERR_IO;
    /* Never build on part of a site: any of its files there means it exists. */
    static const char *const PARTS[] = {"ledger.key", "ledger.db", "vault"};
    for (size_t i = 0; i < sizeof PARTS / sizeof PARTS[0]; i++) {
        char *p = fv__ledger_path(dir, PARTS[i]);
        if (p == NULL) return FV_ERR_NOMEM;
        struct stat sb;
        int there = lstat(p, &sb) == 0;
        fv_free(p);
        if (there) return FV_ERR_STATE;
    }
    fv_status st = fv__ledger_key_create(dir);
    if (st != FV_OK) return st;
    fv_ledger tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.dir = (char *)dir;
    st = db_open(&tmp, 1);
    sqlite3_close(tmp.db);
    if (st != FV_OK) return st;
    /* Owner-only, whatever the umask (SQLite's -wal and -shm files take the same mode). */
    char *db = fv__ledger_path(dir, "ledger.db");
    if (db == NULL) return FV_ERR_NOMEM;
    int ch = chmod(db, 0600);
    fv_free(db);
    if (ch != 0) return FV_ERR_IO;
    char *vdir = fv__ledger_path(dir, "vault");
    if (vdir == NULL) return FV_ERR_NOMEM;
    st = fv_vault_init_site(vdir);
    fv_free(vdir);
    return st;
}

fv_status fv_ledger_open(const char *dir, const fv_ledger_options *opt, fv_ledger **out) {
    *out = NULL;
    if (dir == NULL) return FV_ERR_ARG;
    if (sodium_init() < 0) return FV_ERR_INTERNAL;
    fv_ledger *l = fv_calloc(1, sizeof *l);
    if (l == NULL) return FV_ERR_NOMEM;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        fv_free(l);
        return FV_ERR_INTERNAL;
    }
    l->mu_ok = 1;
    *out = l;
    if (opt != NULL) l->opt = *opt;
    l->dir = fv_strdup(dir);
    if (l->dir == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    struct stat sb;
    char *path = fv__ledger_path(dir, "ledger.db");
    if (path == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    int exists = stat(path, &sb) == 0;
    fv_free(path);
    if (!exists)
        return fv__ledger_fail(l, FV_ERR_NOT_FOUND,
                               "no ledger in the site folder (create one with fairvisit init)");
    fv_status st = fv__ledger_keys_load(l);
    if (st == FV_OK) st = db_open(l, 0);
    if (st != FV_OK || l->opt.no_vault) return st;
    char *vdir = fv__ledger_path(dir, "vault");
    if (vdir == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    fv_vault_options vo = {
        .consent_ok = fv_ledger_consent_check, .consent_ctx = l, .threads = l->opt.threads};
    st = fv_vault_open(vdir, &vo, &l->vault);
    fv_free(vdir);
    if (st != FV_OK) return fv__ledger_fail(l, st, "vault: %s", fv_vault_errmsg(l->vault));
    return FV_OK;
}

void fv_ledger_close(fv_ledger *l) {
    if (l == NULL) return;
    fv_vault_close(l->vault);
    if (l->db != NULL) sqlite3_close(l->db);
    if (l->keys != NULL) sodium_free(l->keys); /* sodium_free wipes */
    if (l->mu_ok) pthread_mutex_destroy(&l->mu);
    fv_free(l->dir);
    fv_free(l);
}

const char *fv_ledger_errmsg(const fv_ledger *l) {
    (void)l;
    return fv__ledger_err;
}

void fv__ledger_lock(fv_ledger *l) {
    pthread_mutex_lock(&l->mu);
    fv__ledger_err[0] = '\0';
}

void fv__ledger_unlock(fv_ledger *l) {
    pthread_mutex_unlock(&l->mu);
}
