/*
 * db.c - ledger.db transactions, statements and the handle's error message.
 *
 * Every ledger write runs between fv__ledger_begin (BEGIN IMMEDIATE: the write lock is taken
 * before anything is read, so concurrent writers are judged one after the other) and
 * fv__ledger_commit; any failure in between rolls the whole call back. SQLite messages are
 * copied into errors; they name tables and constraints, never bound values.
 * Threading: per handle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

_Thread_local char fv__ledger_err[256];

fv_status fv__ledger_fail(fv_ledger *l, fv_status st, const char *fmt, ...) {
    (void)l;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fv__ledger_err, sizeof fv__ledger_err, fmt, ap);
    va_end(ap);
    return st;
}

fv_status fv__ledger_db_fail(fv_ledger *l, int rc, const char *what) {
    int prim = rc & 0xff;
    fv_status st = prim == SQLITE_NOMEM                              ? FV_ERR_NOMEM
                   : prim == SQLITE_CONSTRAINT                       ? FV_ERR_STATE
                   : prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB ? FV_ERR_FORMAT
                   : prim == SQLITE_BUSY || prim == SQLITE_LOCKED    ? FV_ERR_STATE
                                                                     : FV_ERR_IO;
    const char *msg = l != NULL && l->db != NULL ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc);
    return fv__ledger_fail(l, st, "ledger.db: %s: %s", what, msg);
}

int64_t fv__ledger_now(fv_ledger *l) {
    if (l->opt.now_ms != NULL) return l->opt.now_ms(l->opt.clock_ctx);
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *fv__ledger_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = fv_malloc(n);
    if (p == NULL) return NULL;
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

fv_status fv__ledger_exec(fv_ledger *l, const char *sql) {
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? FV_OK : fv__ledger_db_fail(l, rc, "exec");
}

fv_status fv__ledger_begin(fv_ledger *l) {
    if (l->in_tx) return fv__ledger_fail(l, FV_ERR_INTERNAL, "nested ledger transaction");
    int rc = sqlite3_exec(l->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return fv__ledger_db_fail(l, rc, "begin");
    l->in_tx = 1;
    return FV_OK;
}

fv_status fv__ledger_commit(fv_ledger *l) {
    int rc = sqlite3_exec(l->db, "COMMIT;", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        fv_status st = fv__ledger_db_fail(l, rc, "commit");
        fv__ledger_rollback(l);
        return st;
    }
    l->in_tx = 0;
    return FV_OK;
}

void fv__ledger_rollback(fv_ledger *l) {
    if (sqlite3_get_autocommit(l->db) == 0)
        (void)sqlite3_exec(l->db, "ROLLBACK;", NULL, NULL, NULL);
    l->in_tx = 0;
}

sqlite3_stmt *fv__ledger_prepare(fv_ledger *l, const char *sql) {
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(l->db, sql, -1, &s, NULL);
    if (rc != SQLITE_OK) {
        (void)fv__ledger_db_fail(l, rc, "prepare");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

fv_status fv__ledger_step_done(fv_ledger *l, sqlite3_stmt *s, const char *what) {
    if (s == NULL) return FV_ERR_IO; /* fv__ledger_prepare left the message */
    int rc = sqlite3_step(s);
    fv_status st = rc == SQLITE_DONE || rc == SQLITE_ROW ? FV_OK : fv__ledger_db_fail(l, rc, what);
    sqlite3_finalize(s);
    return st;
}

fv_status fv__ledger_query_i64(fv_ledger *l, const char *sql, int64_t *out, int nargs, ...) {
    sqlite3_stmt *s = fv__ledger_prepare(l, sql);
    if (s == NULL) return FV_ERR_IO;
    va_list ap;
    va_start(ap, nargs);
    for (int i = 0; i < nargs; i++) sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
    va_end(ap);
    int rc = sqlite3_step(s);
    fv_status st = FV_OK;
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE)
        st = FV_ERR_NOT_FOUND;
    else
        st = fv__ledger_db_fail(l, rc, "query");
    sqlite3_finalize(s);
    return st;
}
