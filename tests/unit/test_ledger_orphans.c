/*
 * test_ledger_orphans.c - templates the ledger never committed are never trusted.
 *
 * A face check-in stores its template in the vault before the ledger commits the visit that
 * records it. Two ways to be left with a template and no visit: the ledger transaction fails
 * after the insert (here: a trigger makes the visit insert fail), and the process dies between
 * the two (here: a template put straight into the vault for an existing person, as a crash would
 * leave it). In the first case the check-in deletes the template it stored; in the second the
 * next search finds a template no visit recorded, does not match on it, deletes it and audits
 * that (vault.delete_orphan). Random unit vectors only, never face data.
 * Threading: single-threaded.
 */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fairvisit/ledger.h"
#include "fairvisit/vault.h"

static const fv_ledger_actor ADMIN = {FV_LEDGER_ROLE_ADMIN, 1};
static const fv_ledger_actor RECEPTION = {FV_LEDGER_ROLE_RECEPTION, 2};

static void unit_vector(float *v, unsigned seed) {
    double n = 0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((double)(seed >> 8) / (1u << 24) - 0.5);
        n += (double)v[i] * v[i];
    }
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)(v[i] / sqrt(n));
}

static int exec_sql(const char *site, const char *sql) {
    char p[512];
    snprintf(p, sizeof p, "%s/ledger.db", site);
    sqlite3 *db = NULL;
    int rc = sqlite3_open(p, &db) == SQLITE_OK ? sqlite3_exec(db, sql, NULL, NULL, NULL) : -1;
    sqlite3_close(db);
    return rc;
}

static int64_t count_sql(const char *site, const char *sql) {
    char p[512];
    snprintf(p, sizeof p, "%s/ledger.db", site);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_open(p, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static fv_status consent(fv_ledger *l, int64_t project, char id[FV_LEDGER_ID_CHARS]) {
    fv_strbuf nb = {0};
    fv_status st = fv_ledger_notice_current(l, project, &nb);
    fv_ledger_consent_request rq = {.project = project, .age = FV_LEDGER_AGE_ADULT};
    const char *v = nb.s ? strstr(nb.s, "\"version\": ") : NULL;
    const char *h = nb.s ? strstr(nb.s, "\"hash\": \"") : NULL;
    if (st == FV_OK && v && h) {
        rq.notice_version = atoi(v + 11);
        memcpy(rq.notice_hash, h + 9, 64);
        snprintf(rq.device, sizeof rq.device, "kiosk-1");
        snprintf(rq.method, sizeof rq.method, "kiosk_touch");
        st = fv_ledger_consent_record(l, &RECEPTION, &rq, id);
    }
    fv_sb_free(&nb);
    return st;
}

static int consent_any(void *ctx, const char *c, const char *p) {
    (void)ctx;
    (void)c;
    (void)p;
    return FV_VAULT_CONSENT_OK;
}

static void test_orphans(void) {
    char tmpl[] = "/tmp/fv-orphans-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (dir == NULL) return;
    char site[256];
    snprintf(site, sizeof site, "%s/site", dir);
    CHECK_INT_EQ(fv_ledger_init_site(site), FV_OK);
    fv_ledger *l = NULL;
    CHECK_INT_EQ(fv_ledger_open(site, NULL, &l), FV_OK);
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "p1");
    snprintf(ps.name, sizeof ps.name, "Project one");
    int64_t project = 0;
    int version = 0;
    CHECK_INT_EQ(fv_ledger_project_create(l, &ADMIN, &ps, &project), FV_OK);
    CHECK_INT_EQ(fv_ledger_notice_publish(l, &ADMIN, project, "告知", "notice", &version), FV_OK);

    /* A visitor checks in by phone (no template). */
    fv_ledger_checkin_request rq = {.project = project};
    fv_ledger_checkin_result res;
    snprintf(rq.phone, sizeof rq.phone, "13900000001");
    CHECK_INT_EQ(fv_ledger_checkin(l, &RECEPTION, &rq, &res), FV_OK);
    char person[FV_LEDGER_ID_CHARS];
    memcpy(person, res.person, sizeof person);

    /* 1. They come back with a face, but the ledger transaction fails after the vault insert:
     * the check-in fails and leaves no template behind. */
    float v[FV_VAULT_DIM];
    unit_vector(v, 7);
    char cid[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(consent(l, project, cid), FV_OK);
    CHECK_INT_EQ(exec_sql(site, "CREATE TRIGGER no_visits BEFORE INSERT ON visit BEGIN"
                                " SELECT RAISE(ABORT, 'test: visit refused'); END;"),
                 SQLITE_OK);
    rq.embedding = v;
    memcpy(rq.consent_id, cid, sizeof cid);
    CHECK(fv_ledger_checkin(l, &RECEPTION, &rq, &res) != FV_OK);
    CHECK_INT_EQ(exec_sql(site, "DROP TRIGGER no_visits;"), SQLITE_OK);
    int64_t n_persons = 99;
    CHECK_INT_EQ(fv_ledger_face_persons(l, &n_persons), FV_OK);
    CHECK_INT_EQ(n_persons, 0);
    fv_ledger_close(l);

    /* 2. A crash between the vault insert and the ledger commit, for that same person: a template
     * in the vault that no visit recorded. */
    char vdir[300];
    snprintf(vdir, sizeof vdir, "%s/vault", site);
    fv_vault_options vo = {.consent_ok = consent_any};
    fv_vault *vault = NULL;
    CHECK_INT_EQ(fv_vault_open(vdir, &vo, &vault), FV_OK);
    uint8_t pid[FV_VAULT_PERSON_BYTES];
    for (int i = 0; i < FV_VAULT_PERSON_BYTES; i++) {
        unsigned x = 0;
        sscanf(person + 2 * i, "%2x", &x);
        pid[i] = (uint8_t)x;
    }
    int64_t orphan = 0;
    CHECK_INT_EQ(fv_vault_insert(vault, pid, "p1", cid, (int64_t)time(NULL), v, &orphan), FV_OK);
    fv_vault_close(vault);

    CHECK_INT_EQ(fv_ledger_open(site, NULL, &l), FV_OK);
    CHECK_INT_EQ(fv_ledger_face_persons(l, &n_persons), FV_OK);
    CHECK_INT_EQ(n_persons, 1); /* the orphan is there */
    /* A face-only check-in with exactly that vector must not match the person. */
    char cid2[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(consent(l, project, cid2), FV_OK);
    memset(&rq, 0, sizeof rq);
    rq.project = project;
    rq.embedding = v;
    memcpy(rq.consent_id, cid2, sizeof cid2);
    CHECK_INT_EQ(fv_ledger_checkin(l, &RECEPTION, &rq, &res), FV_OK);
    CHECK_INT_EQ(res.kind, FV_LEDGER_VISIT_FIRST);
    CHECK(strcmp(res.person, person) != 0);
    CHECK(strcmp(res.matched_by, "none") == 0);
    fv_ledger_close(l);
    CHECK_INT_EQ(count_sql(site, "SELECT COUNT(*) FROM audit WHERE action = 'vault.delete_orphan'"),
                 1);
    /* Only the new visitor's own template remains; the next search matches it. */
    CHECK_INT_EQ(fv_ledger_open(site, NULL, &l), FV_OK);
    CHECK_INT_EQ(fv_ledger_face_persons(l, &n_persons), FV_OK);
    CHECK_INT_EQ(n_persons, 1);
    char cid3[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(consent(l, project, cid3), FV_OK);
    memcpy(rq.consent_id, cid3, sizeof cid3);
    fv_ledger_checkin_result again;
    CHECK_INT_EQ(fv_ledger_checkin(l, &RECEPTION, &rq, &again), FV_OK);
    CHECK_INT_EQ(again.kind, FV_LEDGER_VISIT_RETURN);
    CHECK(strcmp(again.person, res.person) == 0);
    fv_ledger_audit_report rep;
    CHECK_INT_EQ(fv_ledger_audit_verify(l, &rep), FV_OK);
    fv_ledger_close(l);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    RUN(test_orphans);
    return check_summary();
}
