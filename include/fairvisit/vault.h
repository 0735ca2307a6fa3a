/*
 * fairvisit/vault.h - the template vault: consent-gated, encrypted, expiring face templates with
 * in-memory 1:N search.
 *
 * A vault lives in a site folder (see docs/vault.md for every file byte by byte):
 *   master.key  32 random bytes, mode 0600; the vault refuses to open if group/other may read it
 *   keyring     one 32-byte key per (project, day), sealed with the master key (XChaCha20-Poly1305)
 *   transform   the site's secret random orthogonal 512x512 matrix, sealed with the master key
 *   vault.db    SQLite: pseudonymous person id (16 bytes), project, consent id, day, and the
 *               template encrypted with its project's day key (no names, no phones); and each
 *               project's retention
 *
 * Every template is multiplied by the site's orthogonal matrix before it is encrypted, and every
 * probe before it is searched, so similarities are unchanged while two sites' stores cannot be
 * linked; fv_vault_rekey_transform renews the matrix. Nothing is stored or searched without a
 * consent check through the caller's callback (the ledger provides it). Templates expire after
 * their project's retention period; fv_vault_purge deletes their rows and then destroys their
 * (project, day) key, so copies of the data taken before the purge cannot be decrypted either.
 *
 *     static int consent_ok(void *ctx, const char *consent_id, const char *project) { ... }
 *     if (fv_vault_init_site("/var/lib/fairvisit/site") != FV_OK) ...;   // once, by `init`
 *     fv_vault_options opt = {.consent_ok = consent_ok, .consent_ctx = ledger};
 *     fv_vault *v = NULL;
 *     if (fv_vault_open("/var/lib/fairvisit/site", &opt, &v) != FV_OK) ... fv_vault_errmsg(v);
 *     fv_vault_set_retention(v, "project-a", 7);                        // else 30 days
 *     int64_t id;
 *     fv_vault_insert(v, person, "project-a", "consent-17", time(NULL), embedding, &id);
 *     fv_vault_hit hits[10]; size_t n;
 *     fv_vault_search(v, "project-a", "consent-42", probe, 10, hits, &n);
 *     fv_vault_purge(v, time(NULL), &report);
 *     fv_vault_close(v);
 *
 * Memory: keys, the transform, decrypted templates and the search index live in sodium_malloc'd
 * memory (guard pages, mlock'd where the system allows) and are wiped before they are freed.
 * Errors: every fallible call returns a status and leaves a message on the handle; messages never
 * contain personal data, ids or template values. A record whose authentication fails always
 * reports the same generic message, "template record failed authentication".
 * Threading: one thread at a time per handle. A site folder is used by one process at a time
 * (SQLite serialises writers; the keyring and transform files are rewritten by the owner only).
 */
#ifndef FAIRVISIT_VAULT_H
#define FAIRVISIT_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dimension of the templates a vault holds (FV_FACE_EMBEDDING_DIM). */
#define FV_VAULT_DIM 512
/* Bytes of a pseudonymous person id. */
#define FV_VAULT_PERSON_BYTES 16
/* Longest project and consent id, in bytes. */
#define FV_VAULT_NAME_MAX 128
/* Retention of a project without its own setting, in days. */
#define FV_VAULT_RETENTION_DEFAULT 30
/* Bounds of a project's retention, in days. */
#define FV_VAULT_RETENTION_MAX 36500
/* (project, day) pairs itemised in a purge report (totals count all). */
#define FV_VAULT_PURGE_DAYS_MAX 64

/* What the consent callback answers. Any other value is treated as a refusal. */
typedef enum fv_vault_consent {
    FV_VAULT_CONSENT_OK = 0,        /* exists, not withdrawn, covers face processing for project */
    FV_VAULT_CONSENT_MISSING = 1,   /* no such consent record */
    FV_VAULT_CONSENT_WITHDRAWN = 2, /* the person withdrew it */
    FV_VAULT_CONSENT_WRONG_SCOPE = 3, /* it does not cover face processing for this project */
} fv_vault_consent;

/* consent_id and project are borrowed for the call. Returns an fv_vault_consent value. */
typedef int (*fv_vault_consent_fn)(void *ctx, const char *consent_id, const char *project);

typedef struct fv_vault_options {
    fv_vault_consent_fn consent_ok; /* required */
    void *consent_ctx;              /* borrowed; passed to consent_ok */
    int threads;                    /* search threads (see fv_index_options.threads) */
} fv_vault_options;

typedef struct fv_vault fv_vault;

typedef struct fv_vault_hit {
    int64_t id; /* template record id */
    uint8_t person[FV_VAULT_PERSON_BYTES];
    float score; /* cosine similarity */
} fv_vault_hit;

/* What one fv_vault_purge call destroyed. A project's templates of days <= today - its retention
 * expire. */
typedef struct fv_vault_purge_report {
    int64_t today;            /* day of `now`: days since 1970-01-01 UTC */
    size_t templates_deleted; /* rows deleted by this call, all projects */
    size_t keys_destroyed;    /* (project, day) keys destroyed by this call */
    size_t n_days; /* entries in days[] (at most FV_VAULT_PURGE_DAYS_MAX; the totals count all) */
    struct {
        char project[FV_VAULT_NAME_MAX + 1];
        int64_t day;                 /* days since 1970-01-01 UTC */
        size_t templates;            /* rows of (project, day) deleted by this call */
        int key_destroyed;           /* 1: its key was destroyed by this call */
    } days[FV_VAULT_PURGE_DAYS_MAX]; /* sorted by project, then day */
} fv_vault_purge_report;

typedef struct fv_vault_stats {
    size_t templates;              /* live templates loaded into the search index */
    size_t unreadable;             /* records skipped at open: day key destroyed */
    size_t failed_auth;            /* records skipped at open: authentication failed */
    size_t memory_per_template;    /* index bytes per template (vector, id, map share) */
    uint64_t transform_generation; /* 1 at init, +1 per fv_vault_rekey_transform */
} fv_vault_stats;

/*
 * Creates a site in folder `dir` (created with mode 0700 if missing): master.key (0600), an empty
 * keyring, a fresh transform and an empty vault.db. FV_ERR_STATE if a master.key is already there
 * (an existing site is never overwritten).
 */
FV_NODISCARD fv_status fv_vault_init_site(const char *dir);

/*
 * Opens the site in `dir` (borrowed), finishes an interrupted re-key, and decrypts every live
 * template into the in-memory index. opt is copied. On failure *out may hold a handle carrying
 * the message; close it either way.
 */
FV_NODISCARD fv_status fv_vault_open(const char *dir, const fv_vault_options *opt, fv_vault **out);

/* Wipes keys, the transform and every template in memory, then frees everything. NULL: no-op. */
void fv_vault_close(fv_vault *v);

/* The last failure's message ("" if none). Never personal data. NULL v is fine. */
const char *fv_vault_errmsg(const fv_vault *v);

/* The consent answer behind the last refusal (FV_VAULT_CONSENT_OK if the last call was not one). */
fv_vault_consent fv_vault_last_refusal(const fv_vault *v);

/*
 * Stores template `vec` (FV_VAULT_DIM floats, unit length, borrowed) of `person` (16 bytes) under
 * consent record `consent_id` for `project`, at time `now` (Unix seconds; decides the day key and
 * expiry). Refused with FV_ERR_STATE when consent is not FV_VAULT_CONSENT_OK (message names the
 * reason). On success *id is the record id; the record is durable (fsync'd) before return.
 */
FV_NODISCARD fv_status fv_vault_insert(fv_vault *v, const uint8_t *person, const char *project,
                                       const char *consent_id, int64_t now, const float *vec,
                                       int64_t *id);

/*
 * The k live templates of `project` most similar to `probe` (borrowed), under the probe's consent
 * record `consent_id` (checked as for insert). Hits whose own consent is no longer
 * FV_VAULT_CONSENT_OK are dropped. hits has room for k; *n_hits <= k.
 */
FV_NODISCARD fv_status fv_vault_search(fv_vault *v, const char *project, const char *consent_id,
                                       const float *probe, size_t k, fv_vault_hit *hits,
                                       size_t *n_hits);

/*
 * Decrypts record `id` from disk into `out` (FV_VAULT_DIM floats): the protected template, i.e.
 * after the site transform (the only form the vault keeps). FV_ERR_NOT_FOUND: no such record, or
 * its day key was destroyed; FV_ERR_FORMAT with "template record failed authentication" when the
 * record was altered (out is zeroed).
 */
FV_NODISCARD fv_status fv_vault_read(fv_vault *v, int64_t id, float *out);

/* Removes every template of `person` (rows and index) in one transaction; *removed may be NULL. */
FV_NODISCARD fv_status fv_vault_delete_person(fv_vault *v, const uint8_t *person, size_t *removed);

/* Removes template record `id` (row and index); *removed (may be NULL) is 0 when there was none.
 * Used to undo an insert whose caller's own transaction failed. */
FV_NODISCARD fv_status fv_vault_delete_record(fv_vault *v, int64_t id, size_t *removed);

/*
 * Sets `project`'s retention to `days` (1..FV_VAULT_RETENTION_MAX), stored in vault.db; a project
 * never set has FV_VAULT_RETENTION_DEFAULT. Takes effect at the next fv_vault_purge.
 */
FV_NODISCARD fv_status fv_vault_set_retention(fv_vault *v, const char *project, int days);

/* `project`'s retention in days (FV_VAULT_RETENTION_DEFAULT if never set). */
FV_NODISCARD fv_status fv_vault_get_retention(fv_vault *v, const char *project, int *days);

/*
 * For every project, deletes its templates of expired days (day <= now's day - the project's
 * retention) in one transaction, then destroys exactly those (project, day) keys (keyring
 * rewritten atomically), and logs a count per (project, day) in vault.db. Idempotent; safe to
 * kill at any point; a later purge finishes an interrupted one (docs/vault.md). rep may be NULL.
 */
FV_NODISCARD fv_status fv_vault_purge(fv_vault *v, int64_t now, fv_vault_purge_report *rep);

/* Replaces the site transform with a new random one and re-encrypts every template under it. */
FV_NODISCARD fv_status fv_vault_rekey_transform(fv_vault *v);

/* Counts and sizes; st filled on return. */
void fv_vault_get_stats(const fv_vault *v, fv_vault_stats *st);

/*
 * Number of distinct persons with a stored template, all projects of the site (the count the
 * face-recognition filing threshold is about; PRODUCT.md §4.13). Counts stored rows, so an
 * expired template not yet purged still counts.
 */
FV_NODISCARD fv_status fv_vault_count_persons(fv_vault *v, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
