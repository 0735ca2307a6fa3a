/*
 * test_vault_kill.c - kill -9 at random moments during a stream of inserts and during a purge,
 * then reopen: the keyring and transform still open, every insert the child acknowledged (its
 * record id written to a pipe after fv_vault_insert returned) is there and decrypts, no record
 * fails authentication (nothing half-written), and a purge is all-or-nothing and finishes when
 * run again, for two projects with different retentions; and kill -9 during
 * fv_vault_rekey_transform: every template still authenticates, each original template finds its
 * own record at score > 0.999, and the store is wholly at the old or wholly at the new transform
 * generation. Random unit vectors only, in folders under /tmp.
 *
 * Threading: the parent forks single-threaded children; each child opens its own vault.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/vault.h"

#include "vault_fixture.h"

#define DAY 86400LL
#define T0  (20000 * DAY + 3600)

static vf_ledger ledger;
static uint64_t rnd_state;

static unsigned rnd(unsigned n) {
    rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rnd_state >> 33) % n;
}

static fv_vault *open_site(const char *dir) {
    fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
    fv_vault *v = NULL;
    if (fv_vault_open(dir, &opt, &v) != FV_OK) {
        CHECK_FAIL("open: %s", fv_vault_errmsg(v));
        fv_vault_close(v);
        return NULL;
    }
    return v;
}

static void sleep_us(unsigned us) {
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Child: insert forever (a new day every 8 inserts, so keyring rewrites are killed too). */
static void child_inserts(const char *dir, int fd, int iter) {
    fv_vault *v = NULL;
    fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
    if (fv_vault_open(dir, &opt, &v) != FV_OK) _exit(3);
    uint64_t seed = 1000u + (uint64_t)iter;
    for (int i = 0; i < 100000; i++) {
        float x[FV_VAULT_DIM];
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x);
        int64_t id;
        int64_t t = T0 + (int64_t)(iter * 1000 + i) / 8 * DAY;
        if (fv_vault_insert(v, person, "p1", "c-ok", t, x, &id) != FV_OK) _exit(4);
        if (write(fd, &id, sizeof id) != sizeof id) _exit(5);
    }
    _exit(0);
}

static void test_kill_during_inserts(void) {
    char dir[64];
    vf_tempdir(dir, sizeof dir);
    CHECK_INT_EQ(fv_vault_init_site(dir), FV_OK);
    size_t acked_total = 0;
    static int64_t acked[200000];
    for (int iter = 0; iter < 20; iter++) {
        int p[2];
        if (pipe(p) != 0) abort();
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            child_inserts(dir, p[1], iter);
        }
        close(p[1]);
        sleep_us(20000 + rnd(400000));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status)); /* killed mid-stream, not exited on an error */
        int64_t id;
        size_t n = 0;
        while (read(p[0], &id, sizeof id) == sizeof id && acked_total < 200000) {
            acked[acked_total++] = id;
            n++;
        }
        close(p[0]);
        fv_vault *v = open_site(dir);
        if (v == NULL) break;
        fv_vault_stats st;
        fv_vault_get_stats(v, &st);
        CHECK_INT_EQ(st.failed_auth, 0);
        CHECK_INT_EQ(st.unreadable, 0);
        CHECK(st.templates >= acked_total);
        float out[FV_VAULT_DIM];
        size_t lost = 0;
        for (size_t i = 0; i < acked_total; i++)
            if (fv_vault_read(v, acked[i], out) != FV_OK) lost++;
        CHECK_INT_EQ(lost, 0);
        fv_vault_close(v);
        if (iter % 5 == 4)
            fprintf(stderr, "  after %d kills: %zu acknowledged inserts, all present\n", iter + 1,
                    acked_total);
    }
    CHECK(acked_total > 0);
    vf_rmtree(dir);
}

static void test_kill_during_purge(void) {
    /* p1: default retention 30, 3 per day; p2: retention 20, 1 per day. At day 41 p1's days
     * 0..11 and p2's days 0..21 expire, in one purge. */
    enum { DAYS = 30, PER_DAY = 3, EXPIRED_DAYS = 12, P2_RETENTION = 20, P2_EXPIRED = 22 };
    int killed_mid = 0, rows_gone = 0;
    unsigned span_us = 0; /* how long an unkilled open + purge takes (run 0 measures it) */
    for (int iter = 0; iter < 11; iter++) {
        char dir[64];
        vf_tempdir(dir, sizeof dir);
        CHECK_INT_EQ(fv_vault_init_site(dir), FV_OK);
        fv_vault *v = open_site(dir);
        if (v == NULL) return;
        uint64_t seed = 77;
        int64_t ids[DAYS][PER_DAY], ids2[DAYS];
        CHECK_INT_EQ(fv_vault_set_retention(v, "p2", P2_RETENTION), FV_OK);
        for (int d = 0; d < DAYS; d++) {
            float y[FV_VAULT_DIM];
            uint8_t who[16];
            vf_person(who, (unsigned)(1000 + d));
            vf_random_unit(&seed, y);
            CHECK_INT_EQ(fv_vault_insert(v, who, "p2", "c-p2", T0 + d * DAY, y, &ids2[d]), FV_OK);
            for (int j = 0; j < PER_DAY; j++) {
                float x[FV_VAULT_DIM];
                uint8_t person[16];
                vf_person(person, (unsigned)(d * PER_DAY + j));
                vf_random_unit(&seed, x);
                CHECK_INT_EQ(fv_vault_insert(v, person, "p1", "c-ok", T0 + d * DAY, x, &ids[d][j]),
                             FV_OK);
            }
        }
        fv_vault_close(v);
        /* retention 30: at day 41 days 0..11 expire */
        int64_t now = T0 + (30 + EXPIRED_DAYS - 1) * DAY;
        pid_t pid = fork();
        if (pid == 0) {
            fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
            fv_vault *c = NULL;
            if (fv_vault_open(dir, &opt, &c) != FV_OK) _exit(3);
            fv_vault_purge_report rep;
            if (fv_vault_purge(c, now, &rep) != FV_OK) _exit(4);
            _exit(0);
        }
        int status = 0;
        if (iter == 0) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            waitpid(pid, &status, 0);
            clock_gettime(CLOCK_MONOTONIC, &b);
            span_us = (unsigned)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
        } else {
            sleep_us(rnd(span_us + 1));
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        if (WIFSIGNALED(status))
            killed_mid++;
        else
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        v = open_site(dir);
        if (v == NULL) return;
        fv_vault_stats st;
        fv_vault_get_stats(v, &st);
        CHECK_INT_EQ(st.failed_auth, 0);
        CHECK_INT_EQ(st.unreadable, 0); /* rows are deleted before keys: never a row without key */
        size_t present = 0;
        float out[FV_VAULT_DIM];
        for (int d = 0; d < EXPIRED_DAYS; d++)
            for (int j = 0; j < PER_DAY; j++) present += fv_vault_read(v, ids[d][j], out) == FV_OK;
        for (int d = 0; d < P2_EXPIRED; d++) present += fv_vault_read(v, ids2[d], out) == FV_OK;
        /* all or nothing, across both projects */
        CHECK(present == 0 || present == EXPIRED_DAYS * PER_DAY + P2_EXPIRED);
        if (iter > 0 && WIFSIGNALED(status) && present == 0) rows_gone++;
        for (int d = EXPIRED_DAYS; d < DAYS; d++)
            for (int j = 0; j < PER_DAY; j++) CHECK_INT_EQ(fv_vault_read(v, ids[d][j], out), FV_OK);
        for (int d = P2_EXPIRED; d < DAYS; d++) CHECK_INT_EQ(fv_vault_read(v, ids2[d], out), FV_OK);
        fv_vault_purge_report rep;
        CHECK_INT_EQ(fv_vault_purge(v, now, &rep), FV_OK);
        CHECK_INT_EQ(rep.templates_deleted, present);
        CHECK_INT_EQ(fv_vault_purge(v, now, &rep), FV_OK);
        CHECK_INT_EQ(rep.templates_deleted + rep.keys_destroyed, 0);
        fv_vault_get_stats(v, &st);
        CHECK_INT_EQ(st.templates, (DAYS - EXPIRED_DAYS) * PER_DAY + DAYS - P2_EXPIRED);
        fv_vault_close(v);
        vf_rmtree(dir);
    }
    fprintf(stderr,
            "  purge (%u us unkilled) killed in %d of 10 runs, %d of them after the "
            "row transaction committed\n",
            span_us, killed_mid, rows_gone);
}

/* Rows of vault.db whose `version` (transform generation they were sealed under) is not gen. */
static long long rows_not_at(const char *dir, uint64_t gen) {
    char p[128];
    snprintf(p, sizeof p, "%s/vault.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long n = -1;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM templates WHERE version != ?", -1, &s, NULL) ==
            SQLITE_OK) {
        sqlite3_bind_int64(s, 1, (int64_t)gen);
        if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static void test_kill_during_rekey(void) {
    enum { N = 600, ROUNDS = 12 };
    static float x[N][FV_VAULT_DIM];
    static int64_t ids[N];
    char dir[64];
    vf_tempdir(dir, sizeof dir);
    CHECK_INT_EQ(fv_vault_init_site(dir), FV_OK);
    fv_vault *v = open_site(dir);
    if (v == NULL) return;
    uint64_t seed = 4242;
    for (int i = 0; i < N; i++) {
        uint8_t person[16];
        vf_person(person, (unsigned)i);
        vf_random_unit(&seed, x[i]);
        int64_t t = T0 + (int64_t)(i % 3) * DAY;
        if (fv_vault_insert(v, person, "p1", "c-ok", t, x[i], &ids[i]) != FV_OK) {
            CHECK_FAIL("insert: %s", fv_vault_errmsg(v));
            fv_vault_close(v);
            return;
        }
    }
    fv_vault_stats st;
    fv_vault_get_stats(v, &st);
    fv_vault_close(v);
    uint64_t gen = st.transform_generation;
    unsigned span_us = 0;
    int killed = 0, advanced = 0, kept = 0;
    for (int round = 0; round < ROUNDS; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            fv_vault_options opt = {.consent_ok = vf_consent_ok, .consent_ctx = &ledger};
            fv_vault *c = NULL;
            if (fv_vault_open(dir, &opt, &c) != FV_OK) _exit(3);
            if (fv_vault_rekey_transform(c) != FV_OK) _exit(4);
            _exit(0);
        }
        int status = 0;
        if (round == 0) { /* unkilled: measures how long open + re-key take */
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            waitpid(pid, &status, 0);
            clock_gettime(CLOCK_MONOTONIC, &b);
            span_us = (unsigned)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
        } else {
            /* even rounds: between a quarter of the span (open done, matrix being generated) and
             * its end; odd rounds: in its last quarter (re-encryption, COMMIT, rename) */
            unsigned from = round % 2 ? span_us - span_us / 4 : span_us / 4;
            sleep_us(from + rnd(span_us - from + 1));
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        if (WIFSIGNALED(status))
            killed++;
        else
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        v = open_site(dir);
        if (v == NULL) break;
        fv_vault_get_stats(v, &st);
        CHECK_INT_EQ(st.failed_auth, 0);
        CHECK_INT_EQ(st.unreadable, 0);
        CHECK_INT_EQ(st.templates, N);
        CHECK(st.transform_generation == gen || st.transform_generation == gen + 1);
        if (round == 0) CHECK_INT_EQ(st.transform_generation, gen + 1);
        if (st.transform_generation == gen + 1)
            advanced++;
        else
            kept++;
        gen = st.transform_generation;
        CHECK_INT_EQ(rows_not_at(dir, gen), 0); /* all records at the one generation */
        char p[128];
        snprintf(p, sizeof p, "%s/transform.new", dir);
        CHECK(access(p, F_OK) != 0); /* open resolved any leftover */
        size_t bad_read = 0, bad_match = 0;
        float out[FV_VAULT_DIM];
        for (int i = 0; i < N; i++) {
            if (fv_vault_read(v, ids[i], out) != FV_OK) bad_read++;
            fv_vault_hit hit[1];
            size_t n = 0;
            if (fv_vault_search(v, "p1", "c-ok", x[i], 1, hit, &n) != FV_OK || n != 1 ||
                hit[0].id != ids[i] || !(hit[0].score > 0.999f))
                bad_match++;
        }
        CHECK_INT_EQ(bad_read, 0);
        CHECK_INT_EQ(bad_match, 0);
        fv_vault_close(v);
    }
    fprintf(stderr,
            "  re-key (%u us unkilled, %d templates) killed in %d of %d runs; after those runs "
            "%d opened at the new generation, %d at the old\n",
            span_us, N, killed, ROUNDS - 1, advanced - 1, kept);
    vf_rmtree(dir);
}

int main(void) {
    vf_ledger_add(&ledger, "c-ok", "p1", FV_VAULT_CONSENT_OK);
    vf_ledger_add(&ledger, "c-p2", "p2", FV_VAULT_CONSENT_OK);
    rnd_state = (uint64_t)time(NULL);
    fprintf(stderr, "seed %llu\n", (unsigned long long)rnd_state);
    RUN(test_kill_during_inserts);
    RUN(test_kill_during_purge);
    RUN(test_kill_during_rekey);
    return check_summary();
}
