/*
 * vault-impl.h - private declarations shared by the files of src/vault.
 *
 * Invariants: v->master, v->keys, v->xf and v->plain are sodium_malloc'd and wiped before free;
 * every live record whose day key exists and that authenticates is in exactly one project index
 * under its record id; the keyring on disk and v->keys hold the same (project, day) keys after
 * every call.
 * Threading: one thread at a time per handle.
 */
#ifndef FAIRVISIT_VAULT_IMPL_H
#define FAIRVISIT_VAULT_IMPL_H

#include <sodium.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "fairvisit/index.h"
#include "fairvisit/vault.h"

#define FV__VAULT_KEY_BYTES   32
#define FV__VAULT_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define FV__VAULT_TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define FV__VAULT_VEC_BYTES   (FV_VAULT_DIM * sizeof(float))
#define FV__VAULT_CT_BYTES    (FV__VAULT_VEC_BYTES + FV__VAULT_TAG_BYTES)
#define FV__VAULT_KEYS_MAX    100000
#define FV__VAULT_AUTH_MSG    "template record failed authentication"

/* One (project, day) key. project is NUL-terminated, 1..FV_VAULT_NAME_MAX bytes, rest zero. */
typedef struct fv__vault_daykey {
    char project[FV_VAULT_NAME_MAX + 1];
    int64_t day;
    uint8_t key[FV__VAULT_KEY_BYTES];
} fv__vault_daykey;

typedef struct fv__vault_project {
    char *name;
    fv_index *ix;
} fv__vault_project;

struct fv_vault {
    char *dir;
    fv_vault_options opt;
    char err[256];
    fv_vault_consent refusal;
    uint8_t *master;        /* FV__VAULT_KEY_BYTES, sodium_malloc */
    fv__vault_daykey *keys; /* sodium_malloc, n_keys used of cap_keys, by (project, day) */
    size_t n_keys, cap_keys;
    float *xf; /* FV_VAULT_DIM^2 row-major, sodium_malloc */
    uint64_t xf_gen;
    float *plain; /* 2 * FV_VAULT_DIM scratch for decrypted/transformed vectors */
    sqlite3 *db;
    fv__vault_project *projects;
    size_t n_projects;
    fv_index_storage storage;
    size_t unreadable, failed_auth;
};

fv_status fv__vault_fail(fv_vault *v, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *fv__vault_path(const char *dir, const char *name);
/* Writes len bytes to path via path.tmp (0600) + fsync + rename + fsync of the folder. */
fv_status fv__vault_write_atomic(fv_vault *v, const char *path, const void *data, size_t len);
/* Reads a whole file (at most max bytes) into fv_malloc'd *data. */
fv_status fv__vault_read_file(fv_vault *v, const char *path, size_t max, uint8_t **data,
                              size_t *len);

/* keyring.c */
fv_status fv__vault_master_create(const char *dir);
fv_status fv__vault_master_load(fv_vault *v);
fv_status fv__vault_keyring_save(fv_vault *v, const fv__vault_daykey *keys, size_t n);
fv_status fv__vault_keyring_load(fv_vault *v);
/* Largest keyring file: header, nonce, FV__VAULT_KEYS_MAX entries of 172 bytes, tag. */
#define FV__VAULT_KEYRING_MAX                                                                      \
    (16 + FV__VAULT_NONCE_BYTES + (size_t)FV__VAULT_KEYS_MAX * 172 + FV__VAULT_TAG_BYTES)
/* Parses and authenticates a keyring file's bytes (borrowed) with v->master; on success replaces
 * v->keys. The part of fv__vault_keyring_load after the read (fuzzed by fuzz_vault_keyring.c). */
fv_status fv__vault_keyring_parse(fv_vault *v, const uint8_t *file, size_t len);
const uint8_t *fv__vault_key_find(const fv_vault *v, const char *project, int64_t day);
fv_status fv__vault_key_ensure(fv_vault *v, const char *project, int64_t day, const uint8_t **key);
/* Destroys every key i of v->keys with drop[i] set (one atomic keyring rewrite); *destroyed =
 * how many (0 on failure). */
fv_status fv__vault_keys_destroy(fv_vault *v, const bool *drop, size_t *destroyed);

/* transform.c */
float *fv__vault_transform_generate(void);
fv_status fv__vault_transform_save(fv_vault *v, const char *name, const float *xf, uint64_t gen);
fv_status fv__vault_transform_load(fv_vault *v, const char *name, float **xf, uint64_t *gen);
/* Parses and authenticates a transform file's bytes (borrowed) with v->master: *xf is a
 * sodium_malloc'd matrix on success, NULL otherwise (fuzzed by fuzz_vault_transform.c). */
fv_status fv__vault_transform_parse(fv_vault *v, const uint8_t *file, size_t len, float **xf,
                                    uint64_t *gen);
/* out = xf * in (FV_VAULT_DIM); out = xf^T * in. */
void fv__vault_transform_apply(const float *xf, const float *in, float *out);
void fv__vault_transform_apply_inverse(const float *xf, const float *in, float *out);
void fv__vault_secure_free(void *p, size_t n);

/* store.c */
typedef struct fv__vault_record {
    int64_t id, day, created, version;
    const uint8_t *person; /* 16 bytes */
    const char *project, *consent;
    const uint8_t *nonce, *ct;
    size_t nonce_len, ct_len;
} fv__vault_record;
fv_status fv__vault_db_create(const char *dir);
fv_status fv__vault_db_open(fv_vault *v);
fv_status fv__vault_exec(fv_vault *v, const char *sql);
fv_status fv__vault_meta_get(fv_vault *v, const char *key, int64_t *value);
fv_status fv__vault_meta_set(fv_vault *v, const char *key, int64_t value);
/* project's retention in days (FV_VAULT_RETENTION_DEFAULT when the projects table has none). */
fv_status fv__vault_retention(fv_vault *v, const char *project, int *days);
/* Encrypts vec (protected form) for record r (nonce filled with fresh random bytes, ct out). */
fv_status fv__vault_seal(fv_vault *v, const fv__vault_record *r, const float *vec, uint8_t *nonce,
                         uint8_t *ct);
/* Decrypts r into out; FV_ERR_NOT_FOUND without its day key, FV_ERR_FORMAT on failed auth. */
fv_status fv__vault_unseal(fv_vault *v, const fv__vault_record *r, float *out);
void fv__vault_record_from_row(sqlite3_stmt *s, fv__vault_record *r);
#define FV__VAULT_RECORD_COLUMNS "id, person, project, consent, day, created, version, nonce, ct"

/* vault.c */
typedef struct fv__vault_ids {
    int64_t *id;
    char **project;
    size_t n, cap;
} fv__vault_ids;
fv_status fv__vault_collect(fv_vault *v, sqlite3_stmt *s, fv__vault_ids *l);
void fv__vault_unindex(fv_vault *v, const fv__vault_ids *l);
void fv__vault_ids_free(fv__vault_ids *l);
int64_t fv__vault_day_of(int64_t unix_seconds);
fv_index *fv__vault_project_index(fv_vault *v, const char *project, bool create);
fv_status fv__vault_load_all(fv_vault *v);
void fv__vault_indexes_free(fv_vault *v);
/* Test hook: search project's index with an already protected query (no transform, no consent). */
fv_status fv__vault_search_protected(fv_vault *v, const char *project, const float *q, size_t k,
                                     fv_index_hit *hits, size_t *n);

#endif
