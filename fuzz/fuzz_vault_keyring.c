/*
 * fuzz_vault_keyring.c - libFuzzer target for the vault's keyring reader (fv__vault_keyring_parse,
 * the part of fv__vault_keyring_load after the file is read), with a fixed test master key.
 *
 * An input that starts with the keyring magic is parsed as a whole file: the header checks
 * (magic, version, count against size) and the authentication. The tag cannot be forged, so an
 * input without the magic is also used as the *plaintext* of a keyring: its whole 172-byte entries
 * (at most 64) are sealed under the test key with a correct header and parsed, which reaches the
 * checks after authentication (name length, zero padding, order). Every input is also parsed raw.
 * Aborts if a failure leaves no message or installs keys, or a success installs keys that are not
 * strictly ordered, badly named, or not found by fv__vault_key_find. The master key check at open
 * (fv__vault_master_load) parses nothing: 32 bytes of a 0600 regular file, read as is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault-impl.h"

#define ENTRY       172
#define MAX_ENTRIES 64

static uint8_t *g_master;

/* The test master key; make_vault_seeds.c seals its seeds with the same bytes. */
static void setup(void) {
    if (g_master != NULL) return;
    if (sodium_init() < 0) abort();
    g_master = sodium_malloc(FV__VAULT_KEY_BYTES);
    if (g_master == NULL) abort();
    for (int i = 0; i < FV__VAULT_KEY_BYTES; i++) g_master[i] = (uint8_t)(0xa5 ^ (i * 7));
}

static void check(fv_vault *v, fv_status st) {
    if (st != FV_OK) {
        if (v->err[0] == '\0' || v->keys != NULL) abort();
        return;
    }
    if (v->keys == NULL || v->n_keys > FV__VAULT_KEYS_MAX) abort();
    for (size_t i = 0; i < v->n_keys; i++) {
        const fv__vault_daykey *k = &v->keys[i];
        size_t lp = strnlen(k->project, sizeof k->project);
        if (lp == 0 || lp > FV_VAULT_NAME_MAX) abort();
        if (i > 0) {
            int c = strcmp(k->project, v->keys[i - 1].project);
            if (c < 0 || (c == 0 && k->day <= v->keys[i - 1].day)) abort();
        }
        if (fv__vault_key_find(v, k->project, k->day) != k->key) abort();
    }
    sodium_free(v->keys);
    v->keys = NULL;
    v->n_keys = v->cap_keys = 0;
}

static void parse(const uint8_t *data, size_t size) {
    fv_vault v;
    memset(&v, 0, sizeof v);
    v.master = g_master;
    check(&v, fv__vault_keyring_parse(&v, data, size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    parse(data, size);
    if (size >= 8 && memcmp(data, "FVKEYRNG", 8) == 0) return 0;
    /* Plaintext mode: seal the input's whole entries under a valid header. */
    size_t n = size / ENTRY;
    if (n > MAX_ENTRIES) n = MAX_ENTRIES;
    size_t plen = n * ENTRY, total = 16 + FV__VAULT_NONCE_BYTES + plen + FV__VAULT_TAG_BYTES;
    uint8_t *file = malloc(total);
    if (file == NULL) abort();
    memcpy(file, "FVKEYRNG", 8);
    const uint32_t hdr[2] = {2, (uint32_t)n};
    for (int i = 0; i < 8; i++) file[8 + i] = (uint8_t)(hdr[i / 4] >> (8 * (i % 4)));
    uint8_t *nonce = file + 16;
    memset(nonce, 0x3c, FV__VAULT_NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + FV__VAULT_NONCE_BYTES, NULL, data, plen,
                                               file, 16, NULL, nonce, g_master);
    parse(file, total);
    free(file);
    return 0;
}
