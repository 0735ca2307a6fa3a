/*
 * store.c - vault.db: schema, pragmas, and the sealing of one template record.
 *
 * A record's ciphertext is XChaCha20-Poly1305((project, day) key, fresh random 24-byte nonce, ad,
 * protected template as 512 float32 little endian) with ad binding the row to its metadata: "FVT1"
 * | i64 id | i64 day | i64 created | i64 version | person (16) | u32 len | project | u32 len |
 * consent           (integers little endian) so moving a ciphertext to another row, person,
 * project, consent, day or transform generation makes it fail authentication. Decrypted templates
 * go only to sodium_malloc'd buffers; on failure the output is wiped and one generic message is
 * set. Threading: per handle.
 */
#include <string.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

#define SCHEMA_VERSION 2

static const char *const SCHEMA =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE templates("
    " id INTEGER PRIMARY KEY,"
    " person BLOB NOT NULL CHECK(length(person) = 16),"
    " project TEXT NOT NULL, consent TEXT NOT NULL,"
    " day INTEGER NOT NULL, created INTEGER NOT NULL, version INTEGER NOT NULL,"
    " nonce BLOB NOT NULL, ct BLOB NOT NULL);"
    "CREATE INDEX templates_day ON templates(day);"
    "CREATE INDEX templates_person ON templates(person);"
    "CREATE TABLE projects(project TEXT PRIMARY KEY,"
    " retention_days INTEGER NOT NULL CHECK(retention_days > 0));"
    "CREATE TABLE purge_log(at INTEGER NOT NULL, project TEXT NOT NULL, day INTEGER NOT NULL,"
    " templates INTEGER NOT NULL);"
    "INSERT INTO meta VALUES('schema', 2), ('transform_generation', 1);";

static fv_status db_pragmas(fv_vault *v, sqlite3 *db) {
    static const char *const P =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        "PRAGMA secure_delete=ON; PRAGMA busy_timeout=5000;";
    char *msg = NULL;
    if (sqlite3_exec(db, P, NULL, NULL, &msg) != SQLITE_OK) {
        fv_status st = fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", msg ? msg : "pragma failed");
        sqlite3_free(msg);
        return st;
    }
    return FV_OK;
}

fv_status fv__vault_db_create(const char *dir) {
    char *path = fv__vault_path(dir, "vault.db");
    if (path == NULL) return FV_ERR_NOMEM;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    fv_free(path);
    fv_status st = FV_OK;
    /* 16 KiB pages: seven ~2.2 KB records per page instead of one per 4 KiB page. */
    if (rc != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA page_size=16384;", NULL, NULL, NULL) != SQLITE_OK ||
        db_pragmas(NULL, db) != FV_OK ||
        sqlite3_exec(db, "BEGIN;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
        st = FV_ERR_IO;
    sqlite3_close(db);
    return st;
}

fv_status fv__vault_db_open(fv_vault *v) {
    char *path = fv__vault_path(v->dir, "vault.db");
    if (path == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory");
    int rc = sqlite3_open_v2(path, &v->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    fv_free(path);
    if (rc != SQLITE_OK)
        return fv__vault_fail(v, rc == SQLITE_NOMEM ? FV_ERR_NOMEM : FV_ERR_IO,
                              "cannot open vault.db: %s", sqlite3_errstr(rc));
    fv_status st = db_pragmas(v, v->db);
    if (st != FV_OK) return st;
    int64_t schema = 0;
    st = fv__vault_meta_get(v, "schema", &schema);
    if (st != FV_OK) return st;
    if (schema == 1)
        return fv__vault_fail(v, FV_ERR_UNSUPPORTED,
                              "vault.db: schema 1 (one retention for all projects) is not "
                              "supported; this build needs schema 2 (per-project retention)");
    if (schema != SCHEMA_VERSION)
        return fv__vault_fail(v, FV_ERR_UNSUPPORTED, "vault.db: unsupported schema version");
    return FV_OK;
}

fv_status fv__vault_exec(fv_vault *v, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(v->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return FV_OK;
    fv_status st = fv__vault_fail(v, rc == SQLITE_NOMEM ? FV_ERR_NOMEM : FV_ERR_IO, "vault.db: %s",
                                  msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return st;
}

fv_status fv__vault_meta_get(fv_vault *v, const char *key, int64_t *value) {
    sqlite3_stmt *s = NULL;
    fv_status st = FV_OK;
    if (sqlite3_prepare_v2(v->db, "SELECT value FROM meta WHERE key = ?", -1, &s, NULL) !=
        SQLITE_OK)
        return fv__vault_fail(v, FV_ERR_FORMAT, "vault.db: %s", sqlite3_errmsg(v->db));
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        *value = sqlite3_column_int64(s, 0);
    else
        st = fv__vault_fail(v, FV_ERR_FORMAT, "vault.db: metadata missing");
    sqlite3_finalize(s);
    return st;
}

fv_status fv__vault_meta_set(fv_vault *v, const char *key, int64_t value) {
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(v->db, "UPDATE meta SET value = ? WHERE key = ?", -1, &s, NULL) !=
        SQLITE_OK)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    sqlite3_bind_int64(s, 1, value);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errstr(rc));
    return FV_OK;
}

fv_status fv__vault_retention(fv_vault *v, const char *project, int *days) {
    sqlite3_stmt *s = NULL;
    *days = FV_VAULT_RETENTION_DEFAULT;
    if (sqlite3_prepare_v2(v->db, "SELECT retention_days FROM projects WHERE project = ?", -1, &s,
                           NULL) != SQLITE_OK)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errmsg(v->db));
    sqlite3_bind_text(s, 1, project, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t d = sqlite3_column_int64(s, 0);
        if (d > 0 && d <= FV_VAULT_RETENTION_MAX) *days = (int)d;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fv__vault_fail(v, FV_ERR_IO, "vault.db: %s", sqlite3_errstr(rc));
    return FV_OK;
}

static size_t put_le(uint8_t *p, uint64_t x, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(x >> (8 * i));
    return (size_t)n;
}

/* Builds the associated data of r into ad (room for 64 + 2 * FV_VAULT_NAME_MAX); 0 if r is bad. */
static size_t record_ad(const fv__vault_record *r, uint8_t *ad) {
    size_t lp = strlen(r->project), lc = strlen(r->consent), n = 0;
    if (lp > FV_VAULT_NAME_MAX || lc > FV_VAULT_NAME_MAX) return 0;
    static const uint8_t tag[4] = {'F', 'V', 'T', '1'};
    memcpy(ad, tag, sizeof tag);
    n = 4;
    n += put_le(ad + n, (uint64_t)r->id, 8);
    n += put_le(ad + n, (uint64_t)r->day, 8);
    n += put_le(ad + n, (uint64_t)r->created, 8);
    n += put_le(ad + n, (uint64_t)r->version, 8);
    memcpy(ad + n, r->person, FV_VAULT_PERSON_BYTES);
    n += FV_VAULT_PERSON_BYTES;
    n += put_le(ad + n, lp, 4);
    memcpy(ad + n, r->project, lp);
    n += lp;
    n += put_le(ad + n, lc, 4);
    memcpy(ad + n, r->consent, lc);
    return n + lc;
}

#define AD_MAX (64 + 2 * FV_VAULT_NAME_MAX)

fv_status fv__vault_seal(fv_vault *v, const fv__vault_record *r, const float *vec, uint8_t *nonce,
                         uint8_t *ct) {
    uint8_t ad[AD_MAX];
    size_t adn = record_ad(r, ad);
    const uint8_t *key = fv__vault_key_find(v, r->project, r->day);
    if (adn == 0 || key == NULL)
        return fv__vault_fail(v, FV_ERR_INTERNAL, "cannot seal a record (no day key)");
    randombytes_buf(nonce, FV__VAULT_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, (const uint8_t *)vec, FV__VAULT_VEC_BYTES,
                                               ad, adn, NULL, nonce, key);
    return FV_OK;
}

fv_status fv__vault_unseal(fv_vault *v, const fv__vault_record *r, float *out) {
    const uint8_t *key = fv__vault_key_find(v, r->project, r->day);
    if (key == NULL)
        return fv__vault_fail(v, FV_ERR_NOT_FOUND,
                              "template record's day key was destroyed (expired)");
    uint8_t ad[AD_MAX];
    size_t adn = r->person ? record_ad(r, ad) : 0;
    if (adn == 0 || r->nonce_len != FV__VAULT_NONCE_BYTES || r->ct_len != FV__VAULT_CT_BYTES ||
        r->nonce == NULL || r->ct == NULL ||
        crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)out, NULL, NULL, r->ct, r->ct_len, ad,
                                                   adn, r->nonce, key) != 0) {
        sodium_memzero(out, FV__VAULT_VEC_BYTES);
        return fv__vault_fail(v, FV_ERR_FORMAT, FV__VAULT_AUTH_MSG);
    }
    return FV_OK;
}

void fv__vault_record_from_row(sqlite3_stmt *s, fv__vault_record *r) {
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    r->person =
        sqlite3_column_bytes(s, 1) == FV_VAULT_PERSON_BYTES ? sqlite3_column_blob(s, 1) : NULL;
    r->project = (const char *)sqlite3_column_text(s, 2);
    r->consent = (const char *)sqlite3_column_text(s, 3);
    if (r->project == NULL) r->project = "";
    if (r->consent == NULL) r->consent = "";
    r->day = sqlite3_column_int64(s, 4);
    r->created = sqlite3_column_int64(s, 5);
    r->version = sqlite3_column_int64(s, 6);
    r->nonce = sqlite3_column_blob(s, 7);
    r->nonce_len = (size_t)sqlite3_column_bytes(s, 7);
    r->ct = sqlite3_column_blob(s, 8);
    r->ct_len = (size_t)sqlite3_column_bytes(s, 8);
}
