/*
 * vault.c - the vault handle: site creation, open/close, consent gate, insert, search, read,
 * deletion of a person, stats and the count of persons with templates.
 *
 * Invariants: see vault-impl.h. Insert writes its day key to the keyring before the row, adds
 * to the index before COMMIT and takes it out again if COMMIT fails, so the index never holds a
 * record the store lacks. Threading: one thread at a time per handle.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

/* ---- guarded storage for the index ------------------------------------------------------- */

static size_t round64(size_t n) {
    return (n + 63) & ~(size_t)63;
}
/* sodium_malloc puts the block against a guard page; a size that is a multiple of 64 makes the
 * returned address 64-byte aligned, as fv_index requires. sodium_malloc mlocks when it can. */
static void *secure_alloc(void *ctx, size_t size) {
    (void)ctx;
    if (size > (size_t)-1 - 64) return NULL;
    return sodium_malloc(round64(size));
}
static void secure_free(void *ctx, void *ptr, size_t size) {
    (void)ctx;
    (void)size;
    sodium_free(ptr);
}

/* ---- site creation ------------------------------------------------------------------------ */

fv_status fv_vault_init_site(const char *dir) {
    if (dir == NULL || *dir == '\0') return FV_ERR_ARG;
    if (sodium_init() < 0) return FV_ERR_INTERNAL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return FV_ERR_IO;
    fv_status st = fv__vault_master_create(dir);
    if (st != FV_OK) return st;
    fv_vault tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.dir = (char *)dir;
    st = fv__vault_master_load(&tmp);
    if (st == FV_OK) st = fv__vault_keyring_save(&tmp, NULL, 0);
    float *xf = st == FV_OK ? fv__vault_transform_generate() : NULL;
    if (st == FV_OK && xf == NULL) st = FV_ERR_NOMEM;
    if (st == FV_OK) st = fv__vault_transform_save(&tmp, "transform", xf, 1);
    if (st == FV_OK) st = fv__vault_db_create(dir);
    if (xf) sodium_free(xf);
    if (tmp.master) sodium_free(tmp.master);
    return st;
}

/* ---- projects and their indexes ------------------------------------------------------------ */

fv_index *fv__vault_project_index(fv_vault *v, const char *project, bool create) {
    for (size_t i = 0; i < v->n_projects; i++)
        if (strcmp(v->projects[i].name, project) == 0) return v->projects[i].ix;
    if (!create) return NULL;
    fv__vault_project *p = fv_realloc(v->projects, (v->n_projects + 1) * sizeof *p);
    if (p == NULL) return NULL;
    v->projects = p;
    fv_index_options io = {.threads = v->opt.threads, .storage = &v->storage};
    fv_index *ix = NULL;
    char *name = fv_strdup(project);
    if (name == NULL || fv_index_open(FV_VAULT_DIM, &io, &ix) != FV_OK) {
        fv_free(name);
        fv_index_close(ix);
        return NULL;
    }
    p[v->n_projects].name = name;
    p[v->n_projects].ix = ix;
    v->n_projects++;
    return ix;
}

void fv__vault_indexes_free(fv_vault *v) {
    for (size_t i = 0; i < v->n_projects; i++) {
        fv_index_close(v->projects[i].ix);
        fv_free(v->projects[i].name);
    }
    fv_free(v->projects);
    v->projects = NULL;
    v->n_projects = 0;
}

fv_status fv__vault_load_all(fv_vault *v) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(v->db, "SELECT " FV__VAULT_RECORD_COLUMNS " FROM templates ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    v->unreadable = v->failed_auth = 0;
    fv_status st = FV_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        fv__vault_record r;
        fv__vault_record_from_row(s, &r);
        fv_status us = fv__vault_unseal(v, &r, v->plain);
        if (us == FV_ERR_NOT_FOUND) {
            v->unreadable++;
            continue;
        }
        if (us != FV_OK) {
            v->failed_auth++;
            continue;
        }
        fv_index *ix = fv__vault_project_index(v, r.project, true);
        if (ix == NULL) {
            st = fv__vault_fail(v, FV_ERR_NOMEM, "out of memory loading the index");
            break;
        }
        st = fv_index_add(ix, (uint64_t)r.id, v->plain);
        if (st != FV_OK) {
            fv__vault_fail(v, st, "cannot index a template: %s", fv_index_errmsg(ix));
            break;
        }
    }
    sodium_memzero(v->plain, FV__VAULT_VEC_BYTES);
    if (st == FV_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    sqlite3_finalize(s);
    /* Messages from skipped records are not the outcome of the open. */
    if (st == FV_OK) v->err[0] = '\0';
    return st;
}

/* ---- open / close ------------------------------------------------------------------------- */

/* Finishes or abandons a re-key that was interrupted (see fv_vault_rekey_transform). */
static fv_status resolve_pending_transform(fv_vault *v, int64_t db_gen) {
    char *path = fv__vault_path(v->dir, "transform.new");
    char *final = fv__vault_path(v->dir, "transform");
    fv_status st = FV_OK;
    if (path == NULL || final == NULL) {
        st = fv__vault_fail(v, FV_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (access(path, F_OK) != 0) goto out;
    float *xf = NULL;
    uint64_t gen = 0;
    st = fv__vault_transform_load(v, "transform.new", &xf, &gen);
    if (xf) sodium_free(xf);
    if (st == FV_OK && (int64_t)gen == db_gen) {
        if (rename(path, final) != 0)
            st = fv__vault_fail(v, FV_ERR_IO, "cannot finish an interrupted re-key");
    } else {
        /* The store was not re-encrypted (or the file was never completed): drop it. */
        st = FV_OK;
        unlink(path);
    }
out:
    fv_free(path);
    fv_free(final);
    return st;
}

fv_status fv_vault_open(const char *dir, const fv_vault_options *opt, fv_vault **out) {
    if (out == NULL) return FV_ERR_ARG;
    *out = NULL;
    fv_vault *v = fv_calloc(1, sizeof *v);
    if (v == NULL) return FV_ERR_NOMEM;
    *out = v;
    if (dir == NULL || opt == NULL || opt->consent_ok == NULL)
        return fv__vault_fail(v, FV_ERR_ARG, "a site folder and a consent check are required");
    v->opt = *opt;
    v->storage.alloc = secure_alloc;
    v->storage.free = secure_free;
    if (sodium_init() < 0) return fv__vault_fail(v, FV_ERR_INTERNAL, "libsodium failed to start");
    v->dir = fv_strdup(dir);
    v->plain = sodium_malloc(2 * FV__VAULT_VEC_BYTES);
    if (v->dir == NULL || v->plain == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory");
    fv_status st = fv__vault_master_load(v);
    if (st == FV_OK) st = fv__vault_keyring_load(v);
    if (st == FV_OK) st = fv__vault_db_open(v);
    int64_t db_gen = 0;
    if (st == FV_OK) st = fv__vault_meta_get(v, "transform_generation", &db_gen);
    if (st == FV_OK) st = resolve_pending_transform(v, db_gen);
    if (st == FV_OK) st = fv__vault_transform_load(v, "transform", &v->xf, &v->xf_gen);
    if (st == FV_OK && (int64_t)v->xf_gen != db_gen)
        st = fv__vault_fail(v, FV_ERR_FORMAT, "transform does not belong to this vault.db");
    if (st == FV_OK) st = fv__vault_load_all(v);
    return st;
}

void fv_vault_close(fv_vault *v) {
    if (v == NULL) return;
    fv__vault_indexes_free(v);
    if (v->db) sqlite3_close(v->db);
    if (v->master) sodium_free(v->master);
    if (v->keys) sodium_free(v->keys);
    if (v->xf) sodium_free(v->xf);
    if (v->plain) sodium_free(v->plain);
    fv_free(v->dir);
    fv_wipe(v, sizeof *v);
    fv_free(v);
}

const char *fv_vault_errmsg(const fv_vault *v) {
    return v ? v->err : "";
}

fv_vault_consent fv_vault_last_refusal(const fv_vault *v) {
    return v ? v->refusal : FV_VAULT_CONSENT_OK;
}

/* ---- consent gate ------------------------------------------------------------------------- */

static bool name_ok(const char *s) {
    return s != NULL && *s != '\0' && strlen(s) <= FV_VAULT_NAME_MAX;
}

static fv_status consent_gate(fv_vault *v, const char *consent_id, const char *project) {
    int c = v->opt.consent_ok(v->opt.consent_ctx, consent_id, project);
    if (c == FV_VAULT_CONSENT_OK) return FV_OK;
    const char *why;
    switch (c) {
    case FV_VAULT_CONSENT_MISSING:
        why = "no such consent record";
        break;
    case FV_VAULT_CONSENT_WITHDRAWN:
        why = "consent was withdrawn";
        break;
    case FV_VAULT_CONSENT_WRONG_SCOPE:
        why = "consent does not cover face processing for this project";
        break;
    default:
        why = "consent check failed";
        c = FV_VAULT_CONSENT_MISSING;
        break;
    }
    v->refusal = (fv_vault_consent)c;
    return fv__vault_fail(v, FV_ERR_STATE, "refused: %s", why);
}

static fv_status check_vec(fv_vault *v, const float *vec) {
    if (vec == NULL) return fv__vault_fail(v, FV_ERR_ARG, "no template given");
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        if (!isfinite(vec[i])) return fv__vault_fail(v, FV_ERR_ARG, "template is not finite");
        n2 += (double)vec[i] * vec[i];
    }
    if (fabs(n2 - 1.0) > 1e-3) return fv__vault_fail(v, FV_ERR_ARG, "template is not unit length");
    return FV_OK;
}

int64_t fv__vault_day_of(int64_t t) {
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* ---- insert ------------------------------------------------------------------------------- */

fv_status fv_vault_insert(fv_vault *v, const uint8_t *person, const char *project,
                          const char *consent_id, int64_t now, const float *vec, int64_t *id) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    v->refusal = FV_VAULT_CONSENT_OK;
    if (person == NULL || id == NULL || !name_ok(project) || !name_ok(consent_id))
        return fv__vault_fail(v, FV_ERR_ARG, "person, project, consent id and id are required");
    fv_status st = consent_gate(v, consent_id, project);
    if (st != FV_OK) return st;
    if ((st = check_vec(v, vec)) != FV_OK) return st;
    fv__vault_record r = {.day = fv__vault_day_of(now),
                          .created = now,
                          .version = (int64_t)v->xf_gen,
                          .person = person,
                          .project = project,
                          .consent = consent_id};
    const uint8_t *key;
    if ((st = fv__vault_key_ensure(v, project, r.day, &key)) != FV_OK) return st;
    fv_index *ix = fv__vault_project_index(v, project, true);
    if (ix == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory for the project index");

    float *prot = v->plain;
    fv__vault_transform_apply(v->xf, vec, prot);
    uint8_t nonce[FV__VAULT_NONCE_BYTES], ct[FV__VAULT_CT_BYTES];
    sqlite3_stmt *s = NULL;
    bool in_tx = false, indexed = false;
    if ((st = fv__vault_exec(v, "BEGIN IMMEDIATE")) != FV_OK) goto out;
    in_tx = true;
    if (sqlite3_prepare_v2(v->db, "SELECT coalesce(max(id), 0) + 1 FROM templates", -1, &s, NULL) !=
            SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto out;
    }
    r.id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if ((st = fv__vault_seal(v, &r, prot, nonce, ct)) != FV_OK) goto out;
    if (sqlite3_prepare_v2(v->db,
                           "INSERT INTO templates(id, person, project, consent, day, created, "
                           "version, nonce, ct) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &s, NULL) != SQLITE_OK) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto out;
    }
    sqlite3_bind_int64(s, 1, r.id);
    sqlite3_bind_blob(s, 2, person, FV_VAULT_PERSON_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, consent_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, r.day);
    sqlite3_bind_int64(s, 6, r.created);
    sqlite3_bind_int64(s, 7, r.version);
    sqlite3_bind_blob(s, 8, nonce, sizeof nonce, SQLITE_STATIC);
    sqlite3_bind_blob(s, 9, ct, sizeof ct, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto out;
    }
    st = fv_index_add(ix, (uint64_t)r.id, prot);
    if (st != FV_OK) {
        fv__vault_fail(v, st, "cannot index the template: %s", fv_index_errmsg(ix));
        goto out;
    }
    indexed = true;
    if ((st = fv__vault_exec(v, "COMMIT")) != FV_OK) goto out;
    in_tx = false;
    *id = r.id;
out:
    sqlite3_finalize(s);
    if (in_tx) {
        (void)fv__vault_exec(v, "ROLLBACK");
        if (indexed &&
            fv_index_remove(ix, (uint64_t)r.id) != FV_OK) { /* cannot happen: just added */
        }
    }
    sodium_memzero(prot, FV__VAULT_VEC_BYTES);
    return st;
}

/* ---- search ------------------------------------------------------------------------------- */

fv_status fv__vault_search_protected(fv_vault *v, const char *project, const float *q, size_t k,
                                     fv_index_hit *hits, size_t *n) {
    *n = 0;
    fv_index *ix = fv__vault_project_index(v, project, false);
    if (ix == NULL || fv_index_count(ix) == 0) return FV_OK;
    fv_status st = fv_index_search(ix, q, k, hits, n);
    if (st != FV_OK) return fv__vault_fail(v, st, "search failed: %s", fv_index_errmsg(ix));
    return FV_OK;
}

fv_status fv_vault_search(fv_vault *v, const char *project, const char *consent_id,
                          const float *probe, size_t k, fv_vault_hit *hits, size_t *n_hits) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    v->refusal = FV_VAULT_CONSENT_OK;
    if (n_hits == NULL || hits == NULL || k == 0 || k > 4096 || !name_ok(project) ||
        !name_ok(consent_id))
        return fv__vault_fail(v, FV_ERR_ARG, "project, consent id, hits and 1 <= k <= 4096 needed");
    *n_hits = 0;
    fv_status st = consent_gate(v, consent_id, project);
    if (st != FV_OK) return st;
    if ((st = check_vec(v, probe)) != FV_OK) return st;
    fv_index_hit *raw = fv_malloc(k * sizeof *raw);
    if (raw == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory for search results");
    float *prot = v->plain;
    fv__vault_transform_apply(v->xf, probe, prot);
    size_t n = 0;
    st = fv__vault_search_protected(v, project, prot, k, raw, &n);
    sodium_memzero(prot, FV__VAULT_VEC_BYTES);
    sqlite3_stmt *s = NULL;
    if (st == FV_OK && n > 0 &&
        sqlite3_prepare_v2(v->db, "SELECT person, consent FROM templates WHERE id = ?", -1, &s,
                           NULL) != SQLITE_OK)
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    for (size_t i = 0; st == FV_OK && i < n; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, (int64_t)raw[i].id);
        if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_bytes(s, 0) != FV_VAULT_PERSON_BYTES)
            continue; /* not in the store: never reported */
        const char *consent = (const char *)sqlite3_column_text(s, 1);
        /* A stored template matches only while its own consent still holds. */
        if (consent == NULL ||
            v->opt.consent_ok(v->opt.consent_ctx, consent, project) != FV_VAULT_CONSENT_OK)
            continue;
        fv_vault_hit *h = &hits[(*n_hits)++];
        h->id = (int64_t)raw[i].id;
        memcpy(h->person, sqlite3_column_blob(s, 0), FV_VAULT_PERSON_BYTES);
        h->score = raw[i].score;
    }
    sqlite3_finalize(s);
    fv_free(raw);
    return st;
}

/* ---- read --------------------------------------------------------------------------------- */

fv_status fv_vault_read(fv_vault *v, int64_t id, float *out) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    if (out == NULL) return fv__vault_fail(v, FV_ERR_ARG, "no output buffer");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(v->db, "SELECT " FV__VAULT_RECORD_COLUMNS " FROM templates WHERE id = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    sqlite3_bind_int64(s, 1, id);
    fv_status st;
    if (sqlite3_step(s) != SQLITE_ROW) {
        st = fv__vault_fail(v, FV_ERR_NOT_FOUND, "no such template record");
    } else {
        fv__vault_record r;
        fv__vault_record_from_row(s, &r);
        st = fv__vault_unseal(v, &r, v->plain);
        if (st == FV_OK)
            memcpy(out, v->plain, FV__VAULT_VEC_BYTES);
        else
            memset(out, 0, FV__VAULT_VEC_BYTES);
        sodium_memzero(v->plain, FV__VAULT_VEC_BYTES);
    }
    sqlite3_finalize(s);
    return st;
}

/* ---- deletion of a person ----------------------------------------------------------------- */

static bool ids_push(fv__vault_ids *l, int64_t id, const char *project) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        int64_t *a = fv_realloc(l->id, cap * sizeof *a);
        if (a == NULL) return false;
        l->id = a;
        char **b = fv_realloc(l->project, cap * sizeof *b);
        if (b == NULL) return false;
        l->project = b;
        l->cap = cap;
    }
    l->project[l->n] = fv_strdup(project ? project : "");
    if (l->project[l->n] == NULL) return false;
    l->id[l->n++] = id;
    return true;
}

void fv__vault_ids_free(fv__vault_ids *l) {
    for (size_t i = 0; i < l->n; i++) fv_free(l->project[i]);
    fv_free(l->id);
    fv_free(l->project);
}

/* Appends (id, project) of every row s returns (columns 0 and 1). */
fv_status fv__vault_collect(fv_vault *v, sqlite3_stmt *s, fv__vault_ids *l) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (!ids_push(l, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1)))
            return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory listing records");
    if (rc != SQLITE_DONE)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    return FV_OK;
}

void fv__vault_unindex(fv_vault *v, const fv__vault_ids *l) {
    for (size_t i = 0; i < l->n; i++) {
        fv_index *ix = fv__vault_project_index(v, l->project[i], false);
        if (ix != NULL && fv_index_remove(ix, (uint64_t)l->id[i]) != FV_OK)
            continue; /* not loaded */
    }
}

/* Deletes the templates of `person` (16 bytes) or, with person NULL, record `id`, in one
 * transaction, then drops them from the index. */
static fv_status delete_where(fv_vault *v, const uint8_t *person, int64_t id, size_t *removed) {
    fv__vault_ids l = {0};
    sqlite3_stmt *s = NULL;
    fv_status st = fv__vault_exec(v, "BEGIN IMMEDIATE");
    if (st != FV_OK) return st;
    const char *sel = person ? "SELECT id, project FROM templates WHERE person = ?"
                             : "SELECT id, project FROM templates WHERE id = ?";
    const char *del =
        person ? "DELETE FROM templates WHERE person = ?" : "DELETE FROM templates WHERE id = ?";
    if (sqlite3_prepare_v2(v->db, sel, -1, &s, NULL) != SQLITE_OK) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto out;
    }
    if (person)
        sqlite3_bind_blob(s, 1, person, FV_VAULT_PERSON_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 1, id);
    if ((st = fv__vault_collect(v, s, &l)) != FV_OK) goto out;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(v->db, del, -1, &s, NULL) != SQLITE_OK) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto out;
    }
    if (person)
        sqlite3_bind_blob(s, 1, person, FV_VAULT_PERSON_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
        goto out;
    }
    st = fv__vault_exec(v, "COMMIT");
out:
    sqlite3_finalize(s);
    if (st != FV_OK) {
        (void)sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    } else {
        fv__vault_unindex(v, &l);
        if (removed) *removed = l.n;
    }
    fv__vault_ids_free(&l);
    return st;
}

fv_status fv_vault_delete_person(fv_vault *v, const uint8_t *person, size_t *removed) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    if (removed) *removed = 0;
    if (person == NULL) return fv__vault_fail(v, FV_ERR_ARG, "no person given");
    return delete_where(v, person, 0, removed);
}

fv_status fv_vault_delete_record(fv_vault *v, int64_t id, size_t *removed) {
    if (v == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    if (removed) *removed = 0;
    return delete_where(v, NULL, id, removed);
}

/* ---- stats -------------------------------------------------------------------------------- */

void fv_vault_get_stats(const fv_vault *v, fv_vault_stats *st) {
    memset(st, 0, sizeof *st);
    if (v == NULL) return;
    for (size_t i = 0; i < v->n_projects; i++) {
        st->templates += fv_index_count(v->projects[i].ix);
        st->memory_per_template = fv_index_bytes_per_template(v->projects[i].ix);
    }
    st->unreadable = v->unreadable;
    st->failed_auth = v->failed_auth;
    st->transform_generation = v->xf_gen;
}

fv_status fv_vault_count_persons(fv_vault *v, size_t *n) {
    if (v == NULL || n == NULL) return FV_ERR_ARG;
    v->err[0] = '\0';
    *n = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(v->db, "SELECT COUNT(DISTINCT person) FROM templates", -1, &s, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(s);
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *n = (size_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errstr(rc));
    return FV_OK;
}
