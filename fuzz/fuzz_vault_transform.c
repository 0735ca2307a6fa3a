/*
 * fuzz_vault_transform.c - libFuzzer target for the vault's transform reader
 * (fv__vault_transform_parse, the part of fv__vault_transform_load after the file is read), with
 * a fixed test master key.
 *
 * A sealed transform is 1,048,624 bytes (a 512x512 float32 matrix), far above the sizes worth
 * fuzzing, and its tag cannot be forged. So an input is used twice: parsed raw as a whole file
 * (size, magic, version, dimension checks; never authenticates unless it is a real file), and,
 * unless it starts with the magic, as a header + matrix prefix: bytes 8..23 of the input become
 * the header's version, dimension and generation (magic forced), the rest is the start of the
 * matrix (zero-padded to full size); that file is sealed under the test key and parsed, which
 * reaches the checks after the size check and the decryption. Aborts if a failure leaves no
 * message or a matrix, or a success does not return exactly the sealed matrix and generation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault-impl.h"

#define HEADER 24
#define PLEN   ((size_t)FV_VAULT_DIM * FV_VAULT_DIM * sizeof(float))
#define TOTAL  (HEADER + FV__VAULT_NONCE_BYTES + PLEN + FV__VAULT_TAG_BYTES)

static uint8_t *g_master;
static uint8_t *g_file; /* TOTAL bytes, reused */

/* The test master key; make_vault_seeds.c seals its seeds with the same bytes. */
static void setup(void) {
    if (g_master != NULL) return;
    if (sodium_init() < 0) abort();
    g_master = sodium_malloc(FV__VAULT_KEY_BYTES);
    g_file = malloc(TOTAL);
    if (g_master == NULL || g_file == NULL) abort();
    for (int i = 0; i < FV__VAULT_KEY_BYTES; i++) g_master[i] = (uint8_t)(0xa5 ^ (i * 7));
}

static fv_status parse(const uint8_t *data, size_t size, float **xf, uint64_t *gen) {
    fv_vault v;
    memset(&v, 0, sizeof v);
    v.master = g_master;
    *gen = 0;
    fv_status st = fv__vault_transform_parse(&v, data, size, xf, gen);
    if (st != FV_OK && (v.err[0] == '\0' || *xf != NULL)) abort();
    if (st == FV_OK && *xf == NULL) abort();
    return st;
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    float *xf = NULL;
    uint64_t gen;
    if (parse(data, size, &xf, &gen) == FV_OK) sodium_free(xf);
    if (size >= 8 && memcmp(data, "FVXFORM1", 8) == 0) return 0;

    uint8_t *f = g_file;
    memset(f, 0, HEADER);
    memcpy(f, "FVXFORM1", 8);
    if (size > 8) memcpy(f + 8, data + 8, size < HEADER ? size - 8 : HEADER - 8);
    size_t body = size > HEADER ? size - HEADER : 0;
    if (body > PLEN) body = PLEN;
    uint8_t *nonce = f + HEADER, *ct = nonce + FV__VAULT_NONCE_BYTES;
    memset(nonce, 0x3c, FV__VAULT_NONCE_BYTES);
    memset(ct, 0, PLEN);
    if (body) memcpy(ct, data + HEADER, body);
    /* in-place encryption of the plaintext matrix (libsodium allows c == m) */
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, ct, PLEN, f, HEADER, NULL, nonce,
                                               g_master);
    fv_status st = parse(f, TOTAL, &xf, &gen);
    int want_ok = get_u32(f + 8) == 1 && get_u32(f + 12) == FV_VAULT_DIM;
    if ((st == FV_OK) != want_ok) abort();
    if (st == FV_OK) {
        uint64_t want_gen = (uint64_t)get_u32(f + 16) | (uint64_t)get_u32(f + 20) << 32;
        if (gen != want_gen) abort();
        if (body && memcmp(xf, data + HEADER, body) != 0) abort();
        if (!sodium_is_zero((const uint8_t *)xf + body, PLEN - body)) abort();
        sodium_free(xf);
    }
    return 0;
}
