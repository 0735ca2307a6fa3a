/*
 * keys.c - ledger.key: the site secret of the ledger, and the keys derived from it.
 *
 * ledger.key is 32 random bytes, created once with mode 0600 (O_EXCL: never overwritten); the
 * ledger refuses to open when group or others may read it. Five 32-byte keys are derived with
 * crypto_kdf (BLAKE2b) under context "fvledger": 1 phone hash, 2 personal-data encryption,
 * 3 audit chain, 4 one-time code hashing, 5 API token hashing (ids are never reused). The derived
 * keys live in sodium_malloc'd memory (l->keys), the file's bytes only on the stack for the
 * derivation and are wiped at once.
 * Threading: per handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

fv_status fv__ledger_key_create(const char *dir) {
    char *path = fv__ledger_path(dir, "ledger.key");
    if (path == NULL) return FV_ERR_NOMEM;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    fv_free(path);
    if (fd < 0) return errno == EEXIST ? FV_ERR_STATE : FV_ERR_IO;
    uint8_t key[FV__LEDGER_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    ssize_t w = write(fd, key, sizeof key);
    sodium_memzero(key, sizeof key);
    int ok = w == (ssize_t)sizeof key && fsync(fd) == 0;
    if (close(fd) != 0) ok = 0;
    return ok ? FV_OK : FV_ERR_IO;
}

fv_status fv__ledger_keys_load(fv_ledger *l) {
    char *path = fv__ledger_path(l->dir, "ledger.key");
    if (path == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    fv_free(path);
    if (fd < 0)
        return fv__ledger_fail(l, errno == ENOENT ? FV_ERR_NOT_FOUND : FV_ERR_IO,
                               "cannot open ledger.key: %s", strerror(errno));
    struct stat sb;
    fv_status st = FV_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = fv__ledger_fail(l, FV_ERR_IO, "ledger.key is not a regular file");
    else if (sb.st_mode & 077)
        st = fv__ledger_fail(l, FV_ERR_STATE,
                             "ledger.key is accessible to group or others (must be mode 0600)");
    else if (sb.st_size != FV__LEDGER_KEY_BYTES)
        st = fv__ledger_fail(l, FV_ERR_FORMAT, "ledger.key has the wrong size");
    uint8_t key[FV__LEDGER_KEY_BYTES];
    if (st == FV_OK && read(fd, key, sizeof key) != (ssize_t)sizeof key)
        st = fv__ledger_fail(l, FV_ERR_IO, "cannot read ledger.key");
    close(fd);
    if (st == FV_OK) {
        l->keys = sodium_malloc(sizeof *l->keys);
        if (l->keys == NULL) st = fv__ledger_fail(l, FV_ERR_NOMEM, "out of secure memory for keys");
    }
    if (st == FV_OK) {
        crypto_kdf_derive_from_key(l->keys->phone_hash, FV__LEDGER_KEY_BYTES, 1, "fvledger", key);
        crypto_kdf_derive_from_key(l->keys->pii, FV__LEDGER_KEY_BYTES, 2, "fvledger", key);
        crypto_kdf_derive_from_key(l->keys->audit, FV__LEDGER_KEY_BYTES, 3, "fvledger", key);
        crypto_kdf_derive_from_key(l->keys->code, FV__LEDGER_KEY_BYTES, 4, "fvledger", key);
        crypto_kdf_derive_from_key(l->keys->token, FV__LEDGER_KEY_BYTES, 5, "fvledger", key);
    }
    sodium_memzero(key, sizeof key);
    return st;
}

void fv__ledger_random_hex(char *out, size_t n_chars) {
    static const char HEX[] = "0123456789abcdef";
    uint8_t b[64];
    size_t nb = (n_chars + 1) / 2;
    if (nb > sizeof b) nb = sizeof b;
    randombytes_buf(b, nb);
    for (size_t i = 0; i < n_chars && i / 2 < nb; i++)
        out[i] = HEX[(i & 1) ? (b[i / 2] & 15) : (b[i / 2] >> 4)];
    out[n_chars] = '\0';
}

void fv__ledger_hex(const uint8_t *bin, size_t n, char *out) {
    static const char HEX[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[bin[i] >> 4];
        out[2 * i + 1] = HEX[bin[i] & 15];
    }
    out[2 * n] = '\0';
}

fv_status fv__ledger_unhex(const char *hex, uint8_t *bin, size_t n) {
    if (hex == NULL || strlen(hex) != 2 * n) return FV_ERR_ARG;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return FV_ERR_ARG;
        if (i & 1)
            bin[i / 2] = (uint8_t)(bin[i / 2] | v);
        else
            bin[i / 2] = (uint8_t)(v << 4);
    }
    return FV_OK;
}
