/*
 * test_vault.c - the template vault on random unit vectors (never real face data), in throw-away
 * site folders under /tmp: site creation and master key permissions; refusal without consent,
 * after withdrawal and for the wrong scope; insert/search/reopen; deletion of a person; tamper
 * detection (ciphertext, nonce, metadata); template protection (similarity preserved,
 * unlinkability across sites, renewability after re-key); purge and crypto-shredding of a copy,
 * per project with its own retention; refusal of a version 1 keyring;
 * bytes per template on disk and in memory; out-of-memory at every fv_ allocation of open and
 * insert.
 *
 * Threading: single-threaded apart from the index's search threads.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/vault.h"
#include "vault-impl.h"

#include "vault_fixture.h"

#define DAY             86400LL
#define T0              (20000 * DAY + 3600) /* an arbitrary day */
#define MATCH_THRESHOLD 0.3

static vf_ledger ledger;

static fv_vault *open_site(const char *dir) {
    fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
    fv_vault *v = NULL;
    fv_status st = fv_vault_open(dir, &opt, &v);
    if (st != FV_OK) {
        CHECK_FAIL("open: %s: %s", fv_status_name(st), fv_vault_errmsg(v));
        fv_vault_close(v);
        return NULL;
    }
    return v;
}

static fv_vault *new_site(char *dir, size_t n) {
    vf_tempdir(dir, n);
    fv_status st = fv_vault_init_site(dir);
    CHECK_INT_EQ(st, FV_OK);
    return open_site(dir);
}

static void reset_ledger(void) {
    memset(&ledger, 0, sizeof ledger);
    vf_ledger_add(&ledger, "c-ok", "p1", FV_VAULT_CONSENT_OK);
    vf_ledger_add(&ledger, "c-ok2", "p1", FV_VAULT_CONSENT_OK);
    vf_ledger_add(&ledger, "c-gone", "p1", FV_VAULT_CONSENT_WITHDRAWN);
    vf_ledger_add(&ledger, "c-p2", "p2", FV_VAULT_CONSENT_OK);
    vf_ledger_add(&ledger, "c-p3", "p3", FV_VAULT_CONSENT_OK);
}

/* Site files exist; master.key is 0600; init never overwrites; a readable key is refused. */
static void test_init_and_permissions(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    fv_vault_close(v);
    char p[128];
    snprintf(p, sizeof p, "%s/master.key", dir);
    struct stat sb;
    CHECK(stat(p, &sb) == 0);
    CHECK_INT_EQ(sb.st_mode & 0777, 0600);
    CHECK_INT_EQ(fv_vault_init_site(dir), FV_ERR_STATE);
    chmod(p, 0640);
    fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
    fv_vault *w = NULL;
    CHECK_INT_EQ(fv_vault_open(dir, &opt, &w), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_vault_errmsg(w), "group or others");
    fv_vault_close(w);
    chmod(p, 0600);
    w = open_site(dir);
    CHECK(w != NULL);
    fv_vault_close(w);
    /* No consent callback: refused. */
    fv_vault_options none = {0};
    CHECK_INT_EQ(fv_vault_open(dir, &none, &w), FV_ERR_ARG);
    fv_vault_close(w);
    vf_rmtree(dir);
}

/* Nothing is stored or searched without consent; the message names the reason, not the person. */
static void test_consent_refusals(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    uint64_t seed = 1;
    float x[FV_VAULT_DIM];
    vf_random_unit(&seed, x);
    uint8_t person[16];
    vf_person(person, 7);
    int64_t id = -1;
    struct {
        const char *consent, *project, *why;
        fv_vault_consent c;
    } cases[] = {
        {"c-none", "p1", "no such consent record", FV_VAULT_CONSENT_MISSING},
        {"c-gone", "p1", "withdrawn", FV_VAULT_CONSENT_WITHDRAWN},
        {"c-ok", "p2", "does not cover", FV_VAULT_CONSENT_WRONG_SCOPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT_EQ(fv_vault_insert(v, person, cases[i].project, cases[i].consent, T0, x, &id),
                     FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_vault_errmsg(v), cases[i].why);
        CHECK_INT_EQ(fv_vault_last_refusal(v), cases[i].c);
        fv_vault_hit hits[4];
        size_t n = 99;
        CHECK_INT_EQ(fv_vault_search(v, cases[i].project, cases[i].consent, x, 4, hits, &n),
                     FV_ERR_STATE);
        CHECK_INT_EQ(n, 0);
        CHECK_STR_CONTAINS(fv_vault_errmsg(v), cases[i].why);
    }
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    CHECK_INT_EQ(st.templates, 0);
    /* Withdrawal after storing: the stored template no longer matches, and the search under the
     * withdrawn consent is refused. */
    CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0, x, &id), FV_OK);
    fv_vault_hit hits[4];
    size_t n = 0;
    CHECK_INT_EQ(fv_vault_search(v, "p1", "c-ok2", x, 4, hits, &n), FV_OK);
    CHECK_INT_EQ(n, 1);
    vf_ledger_set(&ledger, "c-ok", FV_VAULT_CONSENT_WITHDRAWN);
    CHECK_INT_EQ(fv_vault_search(v, "p1", "c-ok2", x, 4, hits, &n), FV_OK);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0, x, &id), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_vault_errmsg(v), "withdrawn");
    reset_ledger();
    /* Bad templates are refused before anything is written. */
    float bad[FV_VAULT_DIM] = {0};
    CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0, bad, &id), FV_ERR_ARG);
    bad[0] = NAN;
    CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0, bad, &id), FV_ERR_ARG);
    fv_vault_close(v);
    vf_rmtree(dir);
}

/* Stored templates are found again, with scores equal to the plain cosine, and after reopen. */
static void test_insert_search_reopen(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    enum { N = 40 };
    static float x[N][FV_VAULT_DIM];
    int64_t ids[N];
    uint64_t seed = 2;
    for (int i = 0; i < N; i++) {
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x[i]);
        CHECK_INT_EQ(fv_vault_insert(v, person, i % 2 ? "p1" : "p2", i % 2 ? "c-ok" : "c-p2",
                                     T0 + i * 3600, x[i], &ids[i]),
                     FV_OK);
    }
    for (int round = 0; round < 2; round++) {
        double worst = 0.0;
        for (int i = 0; i < N; i++) {
            float q[FV_VAULT_DIM];
            vf_perturb(&seed, x[i], 0.5, q);
            fv_vault_hit hits[3];
            size_t n = 0;
            const char *proj = i % 2 ? "p1" : "p2";
            CHECK_INT_EQ(fv_vault_search(v, proj, i % 2 ? "c-ok" : "c-p2", q, 3, hits, &n), FV_OK);
            CHECK_INT_EQ(n, 3);
            CHECK_INT_EQ(hits[0].id, ids[i]);
            uint8_t person[16];
            vf_person(person, (unsigned)i);
            CHECK(memcmp(hits[0].person, person, 16) == 0);
            double d = fabs(hits[0].score - vf_cos(x[i], q));
            if (d > worst) worst = d;
        }
        /* Similarity is unchanged by the site transform. */
        CHECK(worst < 1e-5);
        if (round == 0) { /* reopen: everything comes back from disk */
            fv_vault_close(v);
            v = open_site(dir);
            if (v == NULL) return;
            fv_vault_stats st;
            fv_vault_get_stats(v, &st);
            CHECK_INT_EQ(st.templates, N);
            CHECK_INT_EQ(st.failed_auth, 0);
            CHECK_INT_EQ(st.unreadable, 0);
        }
    }
    /* The stored (protected) forms keep pairwise similarities but are not the templates. */
    float a[FV_VAULT_DIM], b[FV_VAULT_DIM];
    CHECK_INT_EQ(fv_vault_read(v, ids[0], a), FV_OK);
    CHECK_INT_EQ(fv_vault_read(v, ids[1], b), FV_OK);
    CHECK_NEAR(vf_cos(a, b), vf_cos(x[0], x[1]), 1e-5);
    CHECK(fabs(vf_cos(a, x[0])) < 0.25);
    CHECK_INT_EQ(fv_vault_read(v, 99999, a), FV_ERR_NOT_FOUND);
    fv_vault_close(v);
    vf_rmtree(dir);
}

/* A deletion request removes every template of the person at once, in memory and on disk. */
static void test_delete_person(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    uint64_t seed = 3;
    float x[FV_VAULT_DIM], other[FV_VAULT_DIM];
    uint8_t p1[16], p2[16];
    vf_person(p1, 1);
    vf_person(p2, 2);
    vf_random_unit(&seed, other);
    int64_t id;
    CHECK_INT_EQ(fv_vault_insert(v, p2, "p1", "c-ok2", T0, other, &id), FV_OK);
    for (int i = 0; i < 3; i++) {
        vf_random_unit(&seed, x);
        CHECK_INT_EQ(fv_vault_insert(v, p1, i == 2 ? "p2" : "p1", i == 2 ? "c-p2" : "c-ok",
                                     T0 + i * DAY, x, &id),
                     FV_OK);
    }
    size_t removed = 0;
    CHECK_INT_EQ(fv_vault_delete_person(v, p1, &removed), FV_OK);
    CHECK_INT_EQ(removed, 3);
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    CHECK_INT_EQ(st.templates, 1);
    fv_vault_hit hits[8];
    size_t n = 0;
    CHECK_INT_EQ(fv_vault_search(v, "p1", "c-ok2", x, 8, hits, &n), FV_OK);
    CHECK_INT_EQ(n, 1);
    CHECK(memcmp(hits[0].person, p2, 16) == 0);
    CHECK_INT_EQ(fv_vault_delete_person(v, p1, &removed), FV_OK); /* idempotent */
    CHECK_INT_EQ(removed, 0);
    fv_vault_close(v);
    v = open_site(dir);
    if (v == NULL) return;
    fv_vault_get_stats(v, &st);
    CHECK_INT_EQ(st.templates, 1);
    fv_vault_close(v);
    vf_rmtree(dir);
}

/* Flips one byte of one column of record `id` directly in vault.db (the vault must be closed). */
static void tamper(const char *dir, int64_t id, const char *column, int offset) {
    char path[128], sql[160];
    snprintf(path, sizeof path, "%s/vault.db", dir);
    sqlite3 *db = NULL;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    if (strcmp(column, "day") == 0 || strcmp(column, "version") == 0) {
        snprintf(sql, sizeof sql, "UPDATE templates SET %s = %s + 1 WHERE id = %lld", column,
                 column, (long long)id);
        CHECK_INT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    } else {
        snprintf(sql, sizeof sql, "SELECT %s FROM templates WHERE id = %lld", column,
                 (long long)id);
        sqlite3_stmt *s = NULL;
        CHECK_INT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        CHECK_INT_EQ(sqlite3_step(s), SQLITE_ROW);
        int n = sqlite3_column_bytes(s, 0);
        unsigned char buf[4096];
        memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
        int is_text = sqlite3_column_type(s, 0) == SQLITE_TEXT;
        sqlite3_finalize(s);
        buf[offset % n] ^= is_text ? 0x01 : 0x80;
        snprintf(sql, sizeof sql, "UPDATE templates SET %s = ? WHERE id = %lld", column,
                 (long long)id);
        CHECK_INT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        if (is_text)
            sqlite3_bind_text(s, 1, (const char *)buf, n, SQLITE_TRANSIENT);
        else
            sqlite3_bind_blob(s, 1, buf, n, SQLITE_TRANSIENT);
        CHECK_INT_EQ(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
}

/* One flipped byte anywhere in a record (ciphertext, tag, nonce, metadata) fails authentication
 * with one generic message, no plaintext left in the output, and the record is not loaded. */
static void test_tamper(void) {
    static const struct {
        const char *column;
        int offset;
    } cases[] = {{"ct", 0},      {"ct", 1000},   {"ct", 2063}, {"nonce", 5},  {"person", 3},
                 {"project", 0}, {"consent", 1}, {"day", 0},   {"version", 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dir[64];
        fv_vault *v = new_site(dir, sizeof dir);
        if (v == NULL) return;
        uint64_t seed = 4;
        float x[FV_VAULT_DIM], out[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, 9);
        int64_t id, keep;
        vf_random_unit(&seed, x);
        CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0, x, &id), FV_OK);
        vf_random_unit(&seed, x);
        CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0, x, &keep), FV_OK);
        fv_vault_close(v);
        tamper(dir, id, cases[c].column, cases[c].offset);
        v = open_site(dir);
        if (v == NULL) return;
        fv_vault_stats st;
        fv_vault_get_stats(v, &st);
        CHECK_INT_EQ(st.templates, 1);
        if (strcmp(cases[c].column, "day") == 0 || strcmp(cases[c].column, "project") == 0) {
            /* The altered (project, day) has no key: unreadable rather than failed. Either way
             * not loaded. */
            CHECK_INT_EQ(st.unreadable + st.failed_auth, 1);
        } else {
            CHECK_INT_EQ(st.failed_auth, 1);
            for (int i = 0; i < FV_VAULT_DIM; i++) out[i] = 1.0f;
            CHECK_INT_EQ(fv_vault_read(v, id, out), FV_ERR_FORMAT);
            CHECK(strcmp(fv_vault_errmsg(v), "template record failed authentication") == 0);
            int zero = 1;
            for (int i = 0; i < FV_VAULT_DIM; i++) zero &= out[i] == 0.0f;
            CHECK(zero);
        }
        CHECK_INT_EQ(fv_vault_read(v, keep, out), FV_OK);
        fv_vault_close(v);
        vf_rmtree(dir);
    }
}

/* ISO/IEC 24745 unlinkability: the same templates stored at two sites look unrelated, and one
 * site's stored forms find nothing in the other's index. */
static void test_unlinkability(void) {
    char da[64], db[64];
    fv_vault *a = new_site(da, sizeof da), *b = new_site(db, sizeof db);
    if (a == NULL || b == NULL) return;
    enum { N = 20 };
    uint64_t seed = 5;
    double worst_cross = 0.0, worst_link = 0.0;
    for (int i = 0; i < N; i++) {
        float x[FV_VAULT_DIM], pa[FV_VAULT_DIM], pb[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x);
        int64_t ia, ib;
        CHECK_INT_EQ(fv_vault_insert(a, person, "p1", "c-ok", T0, x, &ia), FV_OK);
        CHECK_INT_EQ(fv_vault_insert(b, person, "p1", "c-ok", T0, x, &ib), FV_OK);
        CHECK_INT_EQ(fv_vault_read(a, ia, pa), FV_OK);
        CHECK_INT_EQ(fv_vault_read(b, ib, pb), FV_OK);
        if (fabs(vf_cos(pa, pb)) > worst_link) worst_link = fabs(vf_cos(pa, pb));
    }
    for (int64_t id = 1; id <= N; id++) {
        float pa[FV_VAULT_DIM];
        CHECK_INT_EQ(fv_vault_read(a, id, pa), FV_OK);
        fv_index_hit hits[1];
        size_t n = 0;
        CHECK_INT_EQ(fv__vault_search_protected(b, "p1", pa, 1, hits, &n), FV_OK);
        if (n && hits[0].score > worst_cross) worst_cross = hits[0].score;
        /* sanity: at its own site the stored form finds itself */
        CHECK_INT_EQ(fv__vault_search_protected(a, "p1", pa, 1, hits, &n), FV_OK);
        CHECK(n == 1 && hits[0].id == (uint64_t)id && hits[0].score > 0.999);
    }
    fprintf(stderr,
            "  unlinkability: max |cos| same template two sites %.3f, best cross-site "
            "score %.3f (threshold %.2f)\n",
            worst_link, worst_cross, MATCH_THRESHOLD);
    CHECK(worst_link < 0.25);
    CHECK(worst_cross < MATCH_THRESHOLD);
    fv_vault_close(a);
    fv_vault_close(b);
    vf_rmtree(da);
    vf_rmtree(db);
}

/* Renewability: after a re-key the stored forms are new (old copies match nothing) while search
 * on plain probes gives the same scores; the new transform survives reopen. */
static void test_rekey(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    enum { N = 12 };
    static float x[N][FV_VAULT_DIM], old[N][FV_VAULT_DIM];
    uint64_t seed = 6;
    for (int i = 0; i < N; i++) {
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x[i]);
        int64_t id;
        CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0 + i * DAY, x[i], &id), FV_OK);
        CHECK_INT_EQ(fv_vault_read(v, id, old[i]), FV_OK);
    }
    CHECK_INT_EQ(fv_vault_rekey_transform(v), FV_OK);
    for (int round = 0; round < 2; round++) {
        fv_vault_stats st;
        fv_vault_get_stats(v, &st);
        CHECK_INT_EQ(st.transform_generation, 2);
        CHECK_INT_EQ(st.templates, N);
        for (int i = 0; i < N; i++) {
            float now[FV_VAULT_DIM], q[FV_VAULT_DIM];
            CHECK_INT_EQ(fv_vault_read(v, i + 1, now), FV_OK);
            CHECK(fabs(vf_cos(now, old[i])) < 0.25);
            fv_index_hit raw[1];
            size_t n = 0;
            CHECK_INT_EQ(fv__vault_search_protected(v, "p1", old[i], 1, raw, &n), FV_OK);
            CHECK(n == 1 && raw[0].score < MATCH_THRESHOLD);
            vf_perturb(&seed, x[i], 0.5, q);
            fv_vault_hit hits[1];
            CHECK_INT_EQ(fv_vault_search(v, "p1", "c-ok", q, 1, hits, &n), FV_OK);
            CHECK(n == 1 && hits[0].id == i + 1);
            CHECK_NEAR(hits[0].score, vf_cos(q, x[i]), 1e-5);
        }
        if (round == 0) {
            fv_vault_close(v);
            v = open_site(dir);
            if (v == NULL) return;
        }
    }
    /* A transform.new left by a re-key killed after COMMIT is adopted at open. */
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/transform", dir);
    snprintf(b, sizeof b, "%s/transform.new", dir);
    fv_vault_close(v);
    {
        FILE *f = fopen(a, "rb"), *g = fopen(b, "wb");
        int ch;
        while ((ch = fgetc(f)) != EOF) fputc(ch, g);
        fclose(f);
        fclose(g);
        /* a leftover of the current generation (killed before the final rename): adopted */
        fv_vault *w = open_site(dir);
        CHECK(w != NULL);
        fv_vault_close(w);
    }
    vf_rmtree(dir);
}

/* Purge: expired rows go, their day keys are destroyed, the report counts per day, it is
 * idempotent, and a copy of the data taken before the purge cannot be decrypted afterwards. */
static void test_purge_crypto_shredding(void) {
    char dir[64], copy[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    vf_tempdir(copy, sizeof copy);
    uint64_t seed = 7;
    enum { DAYS = 40 };
    int64_t ids[DAYS];
    for (int d = 0; d < DAYS; d++) {
        float x[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, (unsigned)d);
        for (int j = 0; j < (d % 3) + 1; j++) {
            vf_random_unit(&seed, x);
            CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0 + d * DAY, x, &ids[d]), FV_OK);
        }
    }
    fv_vault_close(v);
    /* The "backup": everything, taken before the purge. */
    const char *files[] = {"master.key", "keyring", "transform", "vault.db"};
    for (int i = 0; i < 4; i++) CHECK_INT_EQ(vf_copy(dir, copy, files[i]), 0);
    v = open_site(dir);
    if (v == NULL) return;
    int64_t now = T0 + (DAYS - 1) * DAY; /* today = day 39: days 0..9 expire (retention 30) */
    fv_vault_purge_report rep;
    CHECK_INT_EQ(fv_vault_purge(v, now, &rep), FV_OK);
    size_t expect = 0;
    for (int d = 0; d <= 9; d++) expect += (size_t)(d % 3) + 1;
    CHECK_INT_EQ(rep.templates_deleted, expect);
    CHECK_INT_EQ(rep.keys_destroyed, 10);
    CHECK_INT_EQ(rep.n_days, 10);
    CHECK_INT_EQ(rep.today, T0 / DAY + DAYS - 1);
    CHECK(strcmp(rep.days[0].project, "p1") == 0);
    CHECK_INT_EQ(rep.days[0].day, T0 / DAY);
    CHECK_INT_EQ(rep.days[0].key_destroyed, 1);
    CHECK_INT_EQ(rep.days[1].templates, 2);
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    size_t total = 0;
    for (int d = 0; d < DAYS; d++) total += (size_t)(d % 3) + 1;
    CHECK_INT_EQ(st.templates, total - expect);
    fv_vault_purge_report again;
    CHECK_INT_EQ(fv_vault_purge(v, now, &again), FV_OK);
    CHECK_INT_EQ(again.templates_deleted, 0);
    CHECK_INT_EQ(again.keys_destroyed, 0);
    fv_vault_close(v);
    /* The backup still opens with its own (old) keyring: it did hold the expired templates. */
    fv_vault *c = open_site(copy);
    if (c == NULL) return;
    float out[FV_VAULT_DIM];
    CHECK_INT_EQ(fv_vault_read(c, ids[0], out), FV_OK);
    fv_vault_close(c);
    /* After the purge the site's keyring is the only one; the backup's expired rows are noise. */
    CHECK_INT_EQ(vf_copy(dir, copy, "keyring"), 0);
    c = open_site(copy);
    if (c == NULL) return;
    fv_vault_get_stats(c, &st);
    CHECK_INT_EQ(st.unreadable, expect);
    CHECK_INT_EQ(st.failed_auth, 0);
    for (int d = 0; d < DAYS; d++) {
        fv_status rs = fv_vault_read(c, ids[d], out);
        CHECK_INT_EQ(rs, d <= 9 ? FV_ERR_NOT_FOUND : FV_OK);
    }
    fv_vault_close(c);
    /* The purge is recorded: a count per day, no person ids. */
    char path[128];
    snprintf(path, sizeof path, "%s/vault.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT_EQ(
        sqlite3_prepare_v2(db, "SELECT count(*), sum(templates) FROM purge_log", -1, &s, NULL),
        SQLITE_OK);
    CHECK_INT_EQ(sqlite3_step(s), SQLITE_ROW);
    CHECK_INT_EQ(sqlite3_column_int(s, 0), 10);
    CHECK_INT_EQ(sqlite3_column_int(s, 1), expect);
    sqlite3_finalize(s);
    sqlite3_close(db);
    vf_rmtree(dir);
    vf_rmtree(copy);
}

/* Retention is per project and so is crypto-shredding: with retention 7 (p7) and 30 (p30) and
 * templates of both on days 0..9, a purge at day 10 removes p7's days 0..3 (rows and keys) and
 * nothing of p30; a copy taken before the purge, opened with the site's current keyring, cannot
 * decrypt p7's expired records but still reads everything of p30. */
static void test_purge_per_project(void) {
    char dir[64], copy[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    vf_tempdir(copy, sizeof copy);
    vf_ledger_add(&ledger, "c-p7", "p7", FV_VAULT_CONSENT_OK);
    vf_ledger_add(&ledger, "c-p30", "p30", FV_VAULT_CONSENT_OK);
    int days = 0;
    CHECK_INT_EQ(fv_vault_get_retention(v, "p7", &days), FV_OK);
    CHECK_INT_EQ(days, FV_VAULT_RETENTION_DEFAULT);
    CHECK_INT_EQ(fv_vault_set_retention(v, "p7", 0), FV_ERR_ARG);
    CHECK_INT_EQ(fv_vault_set_retention(v, "p7", 7), FV_OK);
    CHECK_INT_EQ(fv_vault_set_retention(v, "p30", 30), FV_OK);
    CHECK_INT_EQ(fv_vault_get_retention(v, "p7", &days), FV_OK);
    CHECK_INT_EQ(days, 7);
    enum { DAYS = 10, EXPIRED = 3 }; /* today = day 10: p7 days 0..3 expire (10 - 7 = 3) */
    uint64_t seed = 9;
    int64_t id7[DAYS], id30[DAYS];
    for (int d = 0; d < DAYS; d++) {
        float x[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, (unsigned)d);
        vf_random_unit(&seed, x);
        CHECK_INT_EQ(fv_vault_insert(v, person, "p7", "c-p7", T0 + d * DAY, x, &id7[d]), FV_OK);
        vf_random_unit(&seed, x);
        CHECK_INT_EQ(fv_vault_insert(v, person, "p30", "c-p30", T0 + d * DAY, x, &id30[d]), FV_OK);
    }
    /* one key per (project, day) */
    CHECK_INT_EQ(v->n_keys, 2 * DAYS);
    fv_vault_close(v);
    const char *files[] = {"master.key", "keyring", "transform", "vault.db"};
    for (int i = 0; i < 4; i++) CHECK_INT_EQ(vf_copy(dir, copy, files[i]), 0);
    v = open_site(dir);
    if (v == NULL) return;
    /* retention survives reopen */
    CHECK_INT_EQ(fv_vault_get_retention(v, "p7", &days), FV_OK);
    CHECK_INT_EQ(days, 7);
    int64_t now = T0 + DAYS * DAY;
    fv_vault_purge_report rep;
    CHECK_INT_EQ(fv_vault_purge(v, now, &rep), FV_OK);
    CHECK_INT_EQ(rep.templates_deleted, EXPIRED + 1);
    CHECK_INT_EQ(rep.keys_destroyed, EXPIRED + 1);
    CHECK_INT_EQ(rep.n_days, EXPIRED + 1);
    for (size_t i = 0; i < rep.n_days; i++) {
        CHECK(strcmp(rep.days[i].project, "p7") == 0);
        CHECK_INT_EQ(rep.days[i].day, T0 / DAY + (int64_t)i);
        CHECK_INT_EQ(rep.days[i].templates, 1);
        CHECK_INT_EQ(rep.days[i].key_destroyed, 1);
    }
    CHECK_INT_EQ(v->n_keys, 2 * DAYS - (EXPIRED + 1));
    for (int d = 0; d < DAYS; d++) {
        CHECK((fv__vault_key_find(v, "p7", T0 / DAY + d) != NULL) == (d > EXPIRED));
        CHECK(fv__vault_key_find(v, "p30", T0 / DAY + d) != NULL);
    }
    float out[FV_VAULT_DIM];
    for (int d = 0; d < DAYS; d++) {
        CHECK_INT_EQ(fv_vault_read(v, id7[d], out), d <= EXPIRED ? FV_ERR_NOT_FOUND : FV_OK);
        CHECK_INT_EQ(fv_vault_read(v, id30[d], out), FV_OK);
    }
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    CHECK_INT_EQ(st.templates, 2 * DAYS - (EXPIRED + 1));
    /* idempotent */
    CHECK_INT_EQ(fv_vault_purge(v, now, &rep), FV_OK);
    CHECK_INT_EQ(rep.templates_deleted + rep.keys_destroyed + rep.n_days, 0);
    fv_vault_close(v);
    /* The backup with the current keyring: p7's expired rows are there but undecryptable. */
    CHECK_INT_EQ(vf_copy(dir, copy, "keyring"), 0);
    fv_vault *c = open_site(copy);
    if (c == NULL) return;
    fv_vault_get_stats(c, &st);
    CHECK_INT_EQ(st.unreadable, EXPIRED + 1);
    CHECK_INT_EQ(st.failed_auth, 0);
    CHECK_INT_EQ(st.templates, 2 * DAYS - (EXPIRED + 1));
    for (int d = 0; d < DAYS; d++) {
        CHECK_INT_EQ(fv_vault_read(c, id7[d], out), d <= EXPIRED ? FV_ERR_NOT_FOUND : FV_OK);
        CHECK_INT_EQ(fv_vault_read(c, id30[d], out), FV_OK);
    }
    fv_vault_close(c);
    /* purge_log: one row per (project, day), p7 only */
    char path[128];
    snprintf(path, sizeof path, "%s/vault.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT_EQ(sqlite3_prepare_v2(db,
                                    "SELECT count(*), sum(project = 'p7'), sum(templates) "
                                    "FROM purge_log",
                                    -1, &s, NULL),
                 SQLITE_OK);
    CHECK_INT_EQ(sqlite3_step(s), SQLITE_ROW);
    CHECK_INT_EQ(sqlite3_column_int(s, 0), EXPIRED + 1);
    CHECK_INT_EQ(sqlite3_column_int(s, 1), EXPIRED + 1);
    CHECK_INT_EQ(sqlite3_column_int(s, 2), EXPIRED + 1);
    sqlite3_finalize(s);
    sqlite3_close(db);
    /* A purge at day 40 expires p30's days 0..9 as well. */
    v = open_site(dir);
    if (v == NULL) return;
    CHECK_INT_EQ(fv_vault_purge(v, T0 + 40 * DAY, &rep), FV_OK);
    CHECK_INT_EQ(rep.templates_deleted, 2 * DAYS - (EXPIRED + 1));
    CHECK_INT_EQ(v->n_keys, 0);
    fv_vault_close(v);
    reset_ledger();
    vf_rmtree(dir);
    vf_rmtree(copy);
}

/* An old-format keyring (version 1: one key per day for all projects) is refused clearly. */
static void test_keyring_v1_refused(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    fv_vault_close(v);
    char p[128];
    snprintf(p, sizeof p, "%s/keyring", dir);
    FILE *f = fopen(p, "r+b");
    CHECK(f != NULL);
    if (f == NULL) return;
    fseek(f, 8, SEEK_SET);
    const unsigned char one[4] = {1, 0, 0, 0};
    CHECK_INT_EQ(fwrite(one, 1, 4, f), 4);
    fclose(f);
    fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
    fv_vault *w = NULL;
    CHECK_INT_EQ(fv_vault_open(dir, &opt, &w), FV_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(fv_vault_errmsg(w), "version 1");
    fv_vault_close(w);
    vf_rmtree(dir);
}

/* Bytes per template on disk (vault.db after checkpoint) and in memory (index). */
static void test_bytes_per_template(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    long long empty = vf_file_size(dir, "vault.db");
    enum { N = 1000 };
    uint64_t seed = 8;
    for (int i = 0; i < N; i++) {
        float x[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x);
        int64_t id;
        if (fv_vault_insert(v, person, "p1", "c-ok", T0, x, &id) != FV_OK) {
            CHECK_FAIL("insert %d: %s", i, fv_vault_errmsg(v));
            break;
        }
    }
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    fv_vault_close(v); /* last connection: checkpoints the WAL into vault.db */
    long long full = vf_file_size(dir, "vault.db");
    double disk = (double)(full - empty) / N;
    fprintf(stderr, "  bytes per template: disk %.0f (vault.db, %d templates), memory %zu\n", disk,
            N, st.memory_per_template);
    CHECK(disk > 2048 && disk < 3000);
    CHECK(st.memory_per_template >= 2048 && st.memory_per_template < 2300);
    vf_rmtree(dir);
}

/* ---- out of memory -------------------------------------------------------------------------- */

/* An fv_allocator that fails call number fail_at (counting malloc and realloc calls; 0: never)
 * and counts live blocks. sodium_malloc (keys, transform, index storage) does not go through it. */
static struct { long calls, fail_at, live; } oom;

static void *oom_malloc(size_t n) {
    if (++oom.calls == oom.fail_at) return NULL;
    void *p = malloc(n);
    if (p) oom.live++;
    return p;
}
static void *oom_realloc(void *ptr, size_t n) {
    if (++oom.calls == oom.fail_at) return NULL;
    void *p = realloc(ptr, n);
    if (p && ptr == NULL) oom.live++;
    return p;
}
static void oom_free(void *ptr) {
    if (ptr == NULL) return;
    oom.live--;
    free(ptr);
}
static void oom_install(void) {
    static const fv_allocator a = {oom_malloc, oom_realloc, oom_free};
    memset(&oom, 0, sizeof oom);
    fv_set_allocator(&a);
}

/* Templates of the site (opened with the C library's allocator), or -1 if it does not open. */
static long long site_templates(const char *dir) {
    fv_vault *v = open_site(dir);
    if (v == NULL) return -1;
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    fv_vault_close(v);
    return st.failed_auth || st.unreadable ? -1 : (long long)st.templates;
}

/* Fails the Nth fv_ allocation of fv_vault_open for N = 1, 2, ... until it succeeds, then of an
 * insert (new project, new day: keyring rewrite, new project index) until it succeeds: every
 * failure is an error with a message (except the handle's own allocation, N = 1: FV_ERR_NOMEM and
 * no handle), nothing allocated stays live after close (and LSan sees no leak), and the site
 * still opens with all its templates. */
static void test_out_of_memory(void) {
    char dir[64];
    fv_vault *v = new_site(dir, sizeof dir);
    if (v == NULL) return;
    enum { N = 5 };
    uint64_t seed = 9;
    for (int i = 0; i < N; i++) {
        float x[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x);
        int64_t id;
        CHECK_INT_EQ(fv_vault_insert(v, person, i % 2 ? "p1" : "p2", i % 2 ? "c-ok" : "c-p2",
                                     T0 + i * DAY, x, &id),
                     FV_OK);
    }
    fv_vault_close(v);
    fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};

    long n_open = 0;
    for (long fail = 1; fail < 1000; fail++) {
        oom_install();
        oom.fail_at = fail;
        fv_vault *w = NULL;
        fv_status st = fv_vault_open(dir, &opt, &w);
        long calls = oom.calls;
        oom.fail_at = 0;
        if (st != FV_OK) {
            if (w == NULL)
                CHECK(st == FV_ERR_NOMEM && fail == 1);
            else if (fv_vault_errmsg(w)[0] == '\0')
                CHECK_FAIL("open failing allocation %ld: %s without a message", fail,
                           fv_status_name(st));
        }
        fv_vault_stats vs;
        fv_vault_get_stats(w, &vs);
        fv_vault_close(w);
        long live = oom.live;
        fv_set_allocator(NULL);
        if (live != 0) CHECK_FAIL("open failing allocation %ld: %ld blocks leaked", fail, live);
        if (site_templates(dir) != N) CHECK_FAIL("site damaged after failing allocation %ld", fail);
        if (st == FV_OK) {
            CHECK(calls < fail); /* succeeded because the failing call was never reached */
            CHECK_INT_EQ(vs.templates, N);
            n_open = fail - 1;
            break;
        }
    }
    CHECK(n_open > 5);

    long n_insert = 0;
    int inserted = 0;
    for (long fail = 1; fail < 1000; fail++) {
        oom_install();
        fv_vault *w = NULL;
        if (fv_vault_open(dir, &opt, &w) != FV_OK) {
            CHECK_FAIL("open: %s", fv_vault_errmsg(w));
            fv_vault_close(w);
            fv_set_allocator(NULL);
            break;
        }
        float x[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, 900u + (unsigned)fail);
        vf_random_unit(&seed, x);
        int64_t id = 0;
        long before = oom.calls;
        oom.fail_at = before + fail;
        fv_status st = fv_vault_insert(w, person, "p3", "c-p3", T0 + 40 * DAY, x, &id);
        long calls = oom.calls - before;
        oom.fail_at = 0;
        if (st != FV_OK && fv_vault_errmsg(w)[0] == '\0')
            CHECK_FAIL("insert failing allocation %ld: %s without a message", fail,
                       fv_status_name(st));
        fv_vault_stats vs;
        fv_vault_get_stats(w, &vs);
        fv_vault_close(w);
        long live = oom.live;
        fv_set_allocator(NULL);
        if (live != 0) CHECK_FAIL("insert failing allocation %ld: %ld blocks leaked", fail, live);
        inserted += st == FV_OK;
        if (site_templates(dir) != N + inserted)
            CHECK_FAIL("site damaged after insert failing allocation %ld", fail);
        if (st == FV_OK) {
            CHECK(calls < fail);
            CHECK_INT_EQ(vs.templates, N + 1);
            n_insert = fail - 1;
            break;
        }
        CHECK_INT_EQ(vs.templates, N); /* the failed insert is not in the index either */
    }
    CHECK(n_insert > 3);
    fprintf(stderr,
            "  out of memory: %ld fv_ allocations in open, %ld in insert, each failed once\n",
            n_open, n_insert);
    vf_rmtree(dir);
}

int main(void) {
    reset_ledger();
    RUN(test_init_and_permissions);
    RUN(test_consent_refusals);
    RUN(test_insert_search_reopen);
    RUN(test_delete_person);
    RUN(test_tamper);
    RUN(test_unlinkability);
    RUN(test_rekey);
    RUN(test_purge_crypto_shredding);
    RUN(test_purge_per_project);
    RUN(test_keyring_v1_refused);
    RUN(test_bytes_per_template);
    RUN(test_out_of_memory);
    return check_summary();
}
