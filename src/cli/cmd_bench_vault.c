/*
 * cmd_bench_vault.c - `fairvisit bench vault --templates N [--site DIR] [--seed S]`.
 *
 * Creates a fresh throw-away vault site (a new folder fv-bench-vault-XXXXXX under /tmp, or under
 * DIR with --site), inserts N random 512-d unit vectors under an allow-all consent callback (one
 * project, one day, each insert its own fsync'd transaction), closes the vault, then times
 * fv_vault_open: master key, keyring and transform read and authenticated, every record decrypted
 * and added to the in-memory index. The site is deleted afterwards. Random vectors, never
 * biometric data.
 * Prints human lines and, last, one JSON object:
 * {"templates", "load_ms", "load_ms_per_1000", "insert_s", "disk_bytes_per_template",
 *  "memory_bytes_per_template"}; disk = (vault.db + keyring) / N after close (WAL checkpointed),
 * memory = fv_vault_get_stats' index bytes per template.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/vault.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t gen_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void gen_unit(uint64_t *s, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        double g = -2.0;
        for (int j = 0; j < 4; j++) g += (double)(gen_next(s) >> 11) / 9007199254740992.0;
        v[i] = (float)g;
        n2 += g * g;
    }
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)((double)v[i] * inv);
}

static int allow_all(void *ctx, const char *consent_id, const char *project) {
    (void)ctx;
    (void)consent_id;
    (void)project;
    return FV_VAULT_CONSENT_OK;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static long long file_size(const char *dir, const char *name) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

static int parse_count(const char *s, const char *what, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out) {
    char *end = NULL;
    unsigned long long x = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "fairvisit bench vault: %s must be an integer in [%llu, %llu], got '%s'\n",
                what, lo, hi, s);
        return 1;
    }
    *out = x;
    return 0;
}

/* Inserts n templates into the fresh site dir, then times its open. 0, or 1 with a message. */
static int run(const char *dir, unsigned long long n, uint64_t seed) {
    fv_vault_options opt = {.consent_ok = allow_all};
    fv_vault *v = NULL;
    if (fv_vault_open(dir, &opt, &v) != FV_OK) {
        fprintf(stderr, "fairvisit bench vault: open: %s\n", fv_vault_errmsg(v));
        fv_vault_close(v);
        return 1;
    }
    long long empty_db = file_size(dir, "vault.db");
    const int64_t t = (int64_t)time(NULL);
    float x[FV_VAULT_DIM];
    uint8_t person[FV_VAULT_PERSON_BYTES];
    double t0 = now_s();
    for (unsigned long long i = 0; i < n; i++) {
        gen_unit(&seed, x);
        memset(person, 0, sizeof person);
        memcpy(person, &i, sizeof i);
        int64_t id;
        if (fv_vault_insert(v, person, "bench", "bench-consent", t, x, &id) != FV_OK) {
            fprintf(stderr, "fairvisit bench vault: insert %llu: %s\n", i, fv_vault_errmsg(v));
            fv_vault_close(v);
            return 1;
        }
    }
    double insert_s = now_s() - t0;
    fv_vault_close(v); /* last connection: checkpoints the WAL into vault.db */
    long long db = file_size(dir, "vault.db"), keyring = file_size(dir, "keyring");

    v = NULL;
    t0 = now_s();
    fv_status st = fv_vault_open(dir, &opt, &v);
    double load_ms = (now_s() - t0) * 1e3;
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit bench vault: reopen: %s\n", fv_vault_errmsg(v));
        fv_vault_close(v);
        return 1;
    }
    fv_vault_stats vs;
    fv_vault_get_stats(v, &vs);
    fv_vault_close(v);
    if (vs.templates != n || vs.failed_auth || vs.unreadable) {
        fprintf(stderr, "fairvisit bench vault: reopened with %zu of %llu templates\n",
                vs.templates, n);
        return 1;
    }
    double disk = (double)(db + keyring) / (double)n;
    printf("inserted %llu templates in %.1f s (%.0f per second, each fsync'd)\n", n, insert_s,
           (double)n / insert_s);
    printf("load (open: decrypt all into the index): %.1f ms, %.2f ms per 1000 templates\n",
           load_ms, load_ms * 1000.0 / (double)n);
    printf("disk: %.0f bytes per template (vault.db %lld B (%lld B empty) + keyring %lld B)\n",
           disk, db, empty_db, keyring);
    printf("memory: %zu bytes per template (index)\n", vs.memory_per_template);
    printf("{\"templates\": %llu, \"load_ms\": %.2f, \"load_ms_per_1000\": %.3f, "
           "\"insert_s\": %.2f, \"disk_bytes_per_template\": %.0f, "
           "\"memory_bytes_per_template\": %zu}\n",
           n, load_ms, load_ms * 1000.0 / (double)n, insert_s, disk, vs.memory_per_template);
    return 0;
}

int fv_cli_bench_vault(int argc, char **argv) {
    unsigned long long n = 0, seed = 1;
    const char *parent = "/tmp";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--templates") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], "--templates", 1, 10000000, &n)) return 2;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], "--seed", 0, UINT64_MAX, &seed)) return 2;
        } else if (strcmp(a, "--site") == 0 && i + 1 < argc) {
            parent = argv[++i];
        } else {
            fprintf(stderr, "fairvisit bench vault: unknown option or missing value '%s'\n", a);
            return 2;
        }
    }
    if (n == 0) {
        fprintf(stderr, "usage: fairvisit bench vault --templates N [--site DIR] [--seed S]\n");
        return 2;
    }
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/fv-bench-vault-XXXXXX", parent) >= (int)sizeof dir ||
        mkdtemp(dir) == NULL) {
        fprintf(stderr, "fairvisit bench vault: cannot create a folder under %s\n", parent);
        return 1;
    }
    int rc = 1;
    fv_status st = fv_vault_init_site(dir);
    if (st != FV_OK)
        fprintf(stderr, "fairvisit bench vault: cannot create the site: %s\n", fv_status_name(st));
    else
        rc = run(dir, n, seed);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
