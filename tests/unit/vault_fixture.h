/*
 * vault_fixture.h - helpers shared by the vault tests (defined in vault_fixture.c): throw-away
 * site folders under /tmp, random unit vectors (never real face data), an in-memory consent
 * ledger, file copies and sizes.
 */
#ifndef FAIRVISIT_TEST_VAULT_FIXTURE_H
#define FAIRVISIT_TEST_VAULT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct vf_consent {
    char id[32], project[32];
    int state; /* fv_vault_consent */
} vf_consent;

typedef struct vf_ledger {
    vf_consent rec[64];
    int n;
} vf_ledger;

void vf_ledger_add(vf_ledger *l, const char *id, const char *project, int state);
void vf_ledger_set(vf_ledger *l, const char *id, int state);
int vf_consent_ok(void *ctx, const char *consent_id, const char *project);
void vf_random_unit(uint64_t *s, float *v);
void vf_perturb(uint64_t *s, const float *src, double amount, float *out);
double vf_cos(const float *a, const float *b);
void vf_person(uint8_t *p, unsigned n);
void vf_tempdir(char *buf, size_t n);
void vf_rmtree(const char *dir);
int vf_copy(const char *a, const char *b, const char *name);
long long vf_file_size(const char *dir, const char *name);

#endif
