/*
 * make_vault_site.c - test helper for tests/cli/test_cli_purge.sh (built only for the tests).
 *
 *   make_vault_site SITE          fills SITE/vault (made by `fairvisit init`, or here with
 *                                 fv_vault_init_site when missing) with random unit vectors
 *                                 (never face data) under two vault projects:
 *                                 "p7" (retention 7 days): 2 templates 20 days ago, 1 ten days
 *                                 ago, 1 three days ago; "p30" (retention 30 days): 3 templates
 *                                 40 days ago, 1 twenty days ago, 1 three days ago.
 *                                 A purge now destroys p7's days -20 and -10 and p30's day -40.
 *   make_vault_site --count SITE  prints "templates N unreadable U failed_auth F" for SITE/vault.
 *
 * Exit 0 on success, 1 on failure (message on stderr). Single-threaded.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fairvisit/vault.h"

#define DAY 86400

/* Accepts only the helper's own consent ids, each for its own project. */
static int consent_ok(void *ctx, const char *consent_id, const char *project) {
    (void)ctx;
    if (strncmp(consent_id, "consent-", 8) == 0 && strcmp(consent_id + 8, project) == 0)
        return FV_VAULT_CONSENT_OK;
    return FV_VAULT_CONSENT_MISSING;
}

static uint64_t next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void random_unit(uint64_t *s, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        v[i] = (float)((double)(next(s) >> 11) / 9007199254740992.0 - 0.5);
        n2 += (double)v[i] * v[i];
    }
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)(v[i] / sqrt(n2));
}

static int fail(fv_vault *v, const char *what) {
    fprintf(stderr, "make_vault_site: %s: %s\n", what, fv_vault_errmsg(v));
    fv_vault_close(v);
    return 1;
}

int main(int argc, char **argv) {
    int count = argc == 3 && strcmp(argv[1], "--count") == 0;
    if (argc != 2 && !count) {
        fprintf(stderr, "usage: make_vault_site [--count] SITE\n");
        return 2;
    }
    const char *site = argv[argc - 1];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/vault", site);
    struct stat sb;
    if (!count && stat(dir, &sb) != 0) { /* a site made by `fairvisit init` has its vault */
        if (mkdir(site, 0700) != 0 && errno != EEXIST) {
            perror("make_vault_site: mkdir");
            return 1;
        }
        if (fv_vault_init_site(dir) != FV_OK) {
            fprintf(stderr, "make_vault_site: cannot create the vault in %s\n", dir);
            return 1;
        }
    }
    fv_vault_options opt = {.consent_ok = consent_ok};
    fv_vault *v = NULL;
    if (fv_vault_open(dir, &opt, &v) != FV_OK) return fail(v, "open");
    if (count) {
        fv_vault_stats st;
        fv_vault_get_stats(v, &st);
        printf("templates %zu unreadable %zu failed_auth %zu\n", st.templates, st.unreadable,
               st.failed_auth);
        fv_vault_close(v);
        return 0;
    }
    if (fv_vault_set_retention(v, "p7", 7) != FV_OK ||
        fv_vault_set_retention(v, "p30", 30) != FV_OK)
        return fail(v, "retention");
    static const struct {
        const char *project;
        int days_ago, n;
    } plan[] = {{"p7", 20, 2},  {"p7", 10, 1},  {"p7", 3, 1},
                {"p30", 40, 3}, {"p30", 20, 1}, {"p30", 3, 1}};
    int64_t now = (int64_t)time(NULL);
    uint64_t seed = 42;
    unsigned person_no = 0;
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        char consent[64];
        snprintf(consent, sizeof consent, "consent-%s", plan[i].project);
        for (int j = 0; j < plan[i].n; j++) {
            float x[FV_VAULT_DIM];
            uint8_t person[FV_VAULT_PERSON_BYTES] = {0};
            memcpy(person, &person_no, sizeof person_no);
            person_no++;
            random_unit(&seed, x);
            int64_t id;
            if (fv_vault_insert(v, person, plan[i].project, consent,
                                now - (int64_t)plan[i].days_ago * DAY, x, &id) != FV_OK)
                return fail(v, "insert");
        }
    }
    fv_vault_close(v);
    return 0;
}
