/*
 * vault_fixture.c - helpers shared by the vault tests: throw-away site folders under /tmp, random
 * unit vectors (never real face data), an in-memory consent ledger, file copies and raw edits of
 * vault.db. Declared in vault_fixture.h.
 *
 * Threading: single-threaded test helpers.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fairvisit/vault.h"
#include "vault_fixture.h"

/* ---- ledger ------------------------------------------------------------------------------- */

void vf_ledger_add(vf_ledger *l, const char *id, const char *project, int state) {
    vf_consent *c = &l->rec[l->n++];
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->project, sizeof c->project, "%s", project);
    c->state = state;
}

void vf_ledger_set(vf_ledger *l, const char *id, int state) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->rec[i].id, id) == 0) l->rec[i].state = state;
}

int vf_consent_ok(void *ctx, const char *consent_id, const char *project) {
    vf_ledger *l = ctx;
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->rec[i].id, consent_id) != 0) continue;
        if (l->rec[i].state != FV_VAULT_CONSENT_OK) return l->rec[i].state;
        return strcmp(l->rec[i].project, project) == 0 ? FV_VAULT_CONSENT_OK
                                                       : FV_VAULT_CONSENT_WRONG_SCOPE;
    }
    return FV_VAULT_CONSENT_MISSING;
}

/* ---- data --------------------------------------------------------------------------------- */

static uint64_t vf_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vf_random_unit(uint64_t *s, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        double g = 0.0;
        for (int j = 0; j < 4; j++) g += (double)(vf_next(s) >> 11) / 9007199254740992.0;
        v[i] = (float)(g - 2.0);
        n2 += (double)v[i] * v[i];
    }
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)(v[i] / sqrt(n2));
}

/* A noisy copy of src, normalised. */
void vf_perturb(uint64_t *s, const float *src, double amount, float *out) {
    vf_random_unit(s, out);
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        out[i] = (float)(src[i] + amount * out[i]);
        n2 += (double)out[i] * out[i];
    }
    for (int i = 0; i < FV_VAULT_DIM; i++) out[i] = (float)(out[i] / sqrt(n2));
}

double vf_cos(const float *a, const float *b) {
    double d = 0.0, na = 0.0, nb = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        d += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return d / sqrt(na * nb);
}

void vf_person(uint8_t *p, unsigned n) {
    memset(p, 0, FV_VAULT_PERSON_BYTES);
    memcpy(p, &n, sizeof n);
    p[15] = 0xa5;
}

/* ---- folders and files ---------------------------------------------------------------------- */

/* A fresh empty folder under /tmp; path written to buf (>= 64 bytes). */
void vf_tempdir(char *buf, size_t n) {
    snprintf(buf, n, "/tmp/fv-vault-test-XXXXXX");
    if (mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void vf_rmtree(const char *dir) {
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies file `name` from folder a to folder b (keeping mode 0600). 0 on success. */
int vf_copy(const char *a, const char *b, const char *name) {
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    int in = open(pa, O_RDONLY);
    if (in < 0) return -1;
    int out = open(pb, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)r) != r) rc = -1;
    close(in);
    close(out);
    return rc;
}

long long vf_file_size(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (f == NULL) return -1;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}
