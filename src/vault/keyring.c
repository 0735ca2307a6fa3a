/*
 * keyring.c - the master key file and the keyring of per-(project, day) keys (format in
 * docs/vault.md).
 *
 * keyring file: "FVKEYRNG" | u32 version (2) | u32 count | 24-byte nonce |
 *               XChaCha20-Poly1305(master key, nonce, ad = the first 16 bytes,
 *                                  count x (u32 len, project[128] zero-padded, i64 day,
 *                                  32-byte key), little endian) + 16-byte tag
 * Version 1 (one key per day shared by all projects) is refused: its keys cannot be shredded per
 * project. Invariants: v->keys is sorted by (project bytes, day), unique, and equals the file
 * after every call; the plaintext keyring only ever exists in sodium_malloc'd memory.
 * Threading: per handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

/* 8 bytes, no terminator */
static const uint8_t KR_MAGIC[8] = {'F', 'V', 'K', 'E', 'Y', 'R', 'N', 'G'};
#define KR_VERSION 2u
#define KR_HEADER  16
#define KR_ENTRY   (4 + FV_VAULT_NAME_MAX + 8 + FV__VAULT_KEY_BYTES)
_Static_assert(KR_ENTRY == 172 && KR_HEADER == 16, "FV__VAULT_KEYRING_MAX assumes this layout");

/* Order of keys: project bytes (strcmp compares as unsigned char), then day. */
static int key_cmp(const char *project, int64_t day, const fv__vault_daykey *k) {
    int c = strcmp(project, k->project);
    if (c != 0) return c;
    return day < k->day ? -1 : day > k->day;
}

static void put_u32(uint8_t *p, uint32_t x) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(x >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) x |= (uint32_t)p[i] << (8 * i);
    return x;
}
static void put_i64(uint8_t *p, int64_t v) {
    uint64_t x = (uint64_t)v;
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(x >> (8 * i));
}
static int64_t get_i64(const uint8_t *p) {
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x |= (uint64_t)p[i] << (8 * i);
    return (int64_t)x;
}

fv_status fv__vault_master_create(const char *dir) {
    char *path = fv__vault_path(dir, "master.key");
    if (path == NULL) return FV_ERR_NOMEM;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    fv_free(path);
    if (fd < 0) return errno == EEXIST ? FV_ERR_STATE : FV_ERR_IO;
    uint8_t key[FV__VAULT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    fv_status st = FV_OK;
    if (fchmod(fd, 0600) != 0 || write(fd, key, sizeof key) != (ssize_t)sizeof key ||
        fsync(fd) != 0)
        st = FV_ERR_IO;
    sodium_memzero(key, sizeof key);
    close(fd);
    return st;
}

fv_status fv__vault_master_load(fv_vault *v) {
    char *path = fv__vault_path(v->dir, "master.key");
    if (path == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    fv_free(path);
    if (fd < 0)
        return fv__vault_fail(v, errno == ENOENT ? FV_ERR_NOT_FOUND : FV_ERR_IO,
                              "cannot open master.key: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fv__vault_fail(v, FV_ERR_IO, "master.key is not a regular file");
    }
    if (sb.st_mode & 077) {
        close(fd);
        return fv__vault_fail(v, FV_ERR_STATE,
                              "master.key is accessible to group or others (must be mode 0600)");
    }
    if (sb.st_size != FV__VAULT_KEY_BYTES) {
        close(fd);
        return fv__vault_fail(v, FV_ERR_FORMAT, "master.key has the wrong size");
    }
    v->master = sodium_malloc(FV__VAULT_KEY_BYTES);
    if (v->master == NULL) {
        close(fd);
        return fv__vault_fail(v, FV_ERR_NOMEM, "out of secure memory for the master key");
    }
    ssize_t r = read(fd, v->master, FV__VAULT_KEY_BYTES);
    close(fd);
    if (r != FV__VAULT_KEY_BYTES) return fv__vault_fail(v, FV_ERR_IO, "cannot read master.key");
    return FV_OK;
}

/* A fresh sodium_malloc'd key array with room for cap entries. */
static fv__vault_daykey *keys_alloc(size_t cap) {
    size_t n;
    if (cap == 0) cap = 1;
    if (!fv_size_mul(cap, sizeof(fv__vault_daykey), &n)) return NULL;
    return sodium_malloc(n);
}

fv_status fv__vault_keyring_save(fv_vault *v, const fv__vault_daykey *keys, size_t n) {
    size_t plen = n * KR_ENTRY,
           total = KR_HEADER + FV__VAULT_NONCE_BYTES + plen + FV__VAULT_TAG_BYTES;
    uint8_t *plain = sodium_malloc(plen ? plen : 1);
    uint8_t *file = fv_malloc(total);
    char *path = fv__vault_path(v->dir, "keyring");
    fv_status st = FV_OK;
    if (plain == NULL || file == NULL || path == NULL) {
        st = fv__vault_fail(v, FV_ERR_NOMEM, "out of memory writing the keyring");
        goto out;
    }
    memset(plain, 0, plen);
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = plain + i * KR_ENTRY;
        size_t lp = strlen(keys[i].project);
        put_u32(e, (uint32_t)lp);
        memcpy(e + 4, keys[i].project, lp);
        put_i64(e + 4 + FV_VAULT_NAME_MAX, keys[i].day);
        memcpy(e + 4 + FV_VAULT_NAME_MAX + 8, keys[i].key, FV__VAULT_KEY_BYTES);
    }
    memcpy(file, KR_MAGIC, 8);
    put_u32(file + 8, KR_VERSION);
    put_u32(file + 12, (uint32_t)n);
    uint8_t *nonce = file + KR_HEADER;
    randombytes_buf(nonce, FV__VAULT_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + FV__VAULT_NONCE_BYTES, NULL, plain, plen,
                                               file, KR_HEADER, NULL, nonce, v->master);
    st = fv__vault_write_atomic(v, path, file, total);
out:
    if (plain) sodium_free(plain);
    fv_free(file);
    fv_free(path);
    return st;
}

fv_status fv__vault_keyring_load(fv_vault *v) {
    char *path = fv__vault_path(v->dir, "keyring");
    if (path == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory");
    uint8_t *file = NULL;
    size_t len = 0;
    fv_status st = fv__vault_read_file(v, path, FV__VAULT_KEYRING_MAX, &file, &len);
    fv_free(path);
    if (st != FV_OK) return st;
    st = fv__vault_keyring_parse(v, file, len);
    fv_free(file);
    return st;
}

fv_status fv__vault_keyring_parse(fv_vault *v, const uint8_t *file, size_t len) {
    uint8_t *plain = NULL;
    fv_status st = FV_OK;
    if (len > FV__VAULT_KEYRING_MAX) return fv__vault_fail(v, FV_ERR_FORMAT, "keyring: too large");
    if (len < KR_HEADER + FV__VAULT_NONCE_BYTES + FV__VAULT_TAG_BYTES ||
        memcmp(file, KR_MAGIC, 8) != 0) {
        st = fv__vault_fail(v, FV_ERR_FORMAT, "keyring: bad magic or size");
        goto out;
    }
    if (get_u32(file + 8) == 1) {
        st = fv__vault_fail(v, FV_ERR_UNSUPPORTED,
                            "keyring: version 1 (one key per day for all projects) is not "
                            "supported; this build needs version 2 (one key per project and day)");
        goto out;
    }
    if (get_u32(file + 8) != KR_VERSION) {
        st = fv__vault_fail(v, FV_ERR_UNSUPPORTED, "keyring: unsupported version");
        goto out;
    }
    size_t n = get_u32(file + 12);
    if (n > FV__VAULT_KEYS_MAX ||
        len != KR_HEADER + FV__VAULT_NONCE_BYTES + n * KR_ENTRY + FV__VAULT_TAG_BYTES) {
        st = fv__vault_fail(v, FV_ERR_FORMAT, "keyring: count does not match size");
        goto out;
    }
    plain = sodium_malloc(n * KR_ENTRY + 1);
    fv__vault_daykey *keys = keys_alloc(n);
    if (plain == NULL || keys == NULL) {
        if (keys) sodium_free(keys);
        st = fv__vault_fail(v, FV_ERR_NOMEM, "out of secure memory for the keyring");
        goto out;
    }
    const uint8_t *nonce = file + KR_HEADER;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, nonce + FV__VAULT_NONCE_BYTES,
                                                   n * KR_ENTRY + FV__VAULT_TAG_BYTES, file,
                                                   KR_HEADER, nonce, v->master) != 0) {
        sodium_free(keys);
        st = fv__vault_fail(v, FV_ERR_FORMAT, "keyring failed authentication");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = plain + i * KR_ENTRY;
        size_t lp = get_u32(e);
        bool ok = lp >= 1 && lp <= FV_VAULT_NAME_MAX && memchr(e + 4, 0, lp) == NULL;
        for (size_t j = lp; ok && j < FV_VAULT_NAME_MAX; j++) ok = e[4 + j] == 0;
        memset(keys[i].project, 0, sizeof keys[i].project);
        if (ok) memcpy(keys[i].project, e + 4, lp);
        keys[i].day = get_i64(e + 4 + FV_VAULT_NAME_MAX);
        memcpy(keys[i].key, e + 4 + FV_VAULT_NAME_MAX + 8, FV__VAULT_KEY_BYTES);
        if (!ok || (i > 0 && key_cmp(keys[i].project, keys[i].day, &keys[i - 1]) <= 0)) {
            sodium_free(keys);
            st = fv__vault_fail(v, FV_ERR_FORMAT,
                                ok ? "keyring: keys out of order" : "keyring: bad project name");
            goto out;
        }
    }
    if (v->keys) sodium_free(v->keys);
    v->keys = keys;
    v->n_keys = n;
    v->cap_keys = n ? n : 1;
out:
    if (plain) sodium_free(plain);
    return st;
}

/* Index of the first key not ordered before (project, day). */
static size_t key_lower_bound(const fv_vault *v, const char *project, int64_t day) {
    size_t lo = 0, hi = v->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(project, day, &v->keys[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const uint8_t *fv__vault_key_find(const fv_vault *v, const char *project, int64_t day) {
    if (project == NULL || strlen(project) > FV_VAULT_NAME_MAX) return NULL;
    size_t at = key_lower_bound(v, project, day);
    if (at < v->n_keys && key_cmp(project, day, &v->keys[at]) == 0) return v->keys[at].key;
    return NULL;
}

/* Installs a new key array: saved to disk first, then swapped in. Takes ownership of keys. */
static fv_status keys_commit(fv_vault *v, fv__vault_daykey *keys, size_t n, size_t cap) {
    fv_status st = fv__vault_keyring_save(v, keys, n);
    if (st != FV_OK) {
        sodium_free(keys);
        return st;
    }
    sodium_free(v->keys);
    v->keys = keys;
    v->n_keys = n;
    v->cap_keys = cap;
    return FV_OK;
}

fv_status fv__vault_key_ensure(fv_vault *v, const char *project, int64_t day, const uint8_t **key) {
    *key = NULL;
    size_t lp = project ? strlen(project) : 0;
    if (lp == 0 || lp > FV_VAULT_NAME_MAX)
        return fv__vault_fail(v, FV_ERR_ARG, "project name must be 1..128 bytes");
    *key = fv__vault_key_find(v, project, day);
    if (*key != NULL) return FV_OK;
    if (v->n_keys >= FV__VAULT_KEYS_MAX)
        return fv__vault_fail(v, FV_ERR_LIMIT, "keyring is full (purge expired days)");
    size_t cap = v->n_keys + 1;
    fv__vault_daykey *keys = keys_alloc(cap);
    if (keys == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of secure memory for a day key");
    size_t at = key_lower_bound(v, project, day);
    memcpy(keys, v->keys, at * sizeof *keys);
    memset(keys[at].project, 0, sizeof keys[at].project);
    memcpy(keys[at].project, project, lp);
    keys[at].day = day;
    randombytes_buf(keys[at].key, FV__VAULT_KEY_BYTES);
    memcpy(keys + at + 1, v->keys + at, (v->n_keys - at) * sizeof *keys);
    fv_status st = keys_commit(v, keys, v->n_keys + 1, cap);
    if (st != FV_OK) return st;
    *key = fv__vault_key_find(v, project, day);
    return FV_OK;
}

fv_status fv__vault_keys_destroy(fv_vault *v, const bool *drop, size_t *destroyed) {
    size_t n_drop = 0;
    for (size_t i = 0; i < v->n_keys; i++) n_drop += drop[i];
    *destroyed = 0;
    if (n_drop == 0) return FV_OK;
    size_t n = v->n_keys - n_drop;
    fv__vault_daykey *keys = keys_alloc(n);
    if (keys == NULL)
        return fv__vault_fail(v, FV_ERR_NOMEM, "out of secure memory for the keyring");
    for (size_t i = 0, j = 0; i < v->n_keys; i++)
        if (!drop[i]) keys[j++] = v->keys[i];
    fv_status st = keys_commit(v, keys, n, n ? n : 1);
    if (st == FV_OK) *destroyed = n_drop;
    return st;
}
