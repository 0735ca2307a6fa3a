/*
 * transform.c - the site's secret random orthogonal transform (template protection).
 *
 * A matrix Q with i.i.d. Gaussian entries is orthonormalised (modified Gram-Schmidt, twice, in
 * double) into a uniformly random orthogonal matrix; templates are stored as Q x and probes
 * searched as Q q, so <Q x, Q q> = <x, q>. The matrix is sealed in the file `transform`:
 *   "FVXFORM1" | u32 version (1) | u32 dim (512) | u64 generation |
 *   24-byte nonce | XChaCha20-Poly1305(master, nonce, ad = the first 24 bytes,
 *                                      dim*dim float32 row-major, little endian) + 16-byte tag
 * Invariants: the plaintext matrix exists only in sodium_malloc'd memory. Threading: none shared.
 */
#include <math.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

/* 8 bytes, no terminator */
static const uint8_t XF_MAGIC[8] = {'F', 'V', 'X', 'F', 'O', 'R', 'M', '1'};
#define XF_VERSION 1u
#define XF_HEADER  24
#define XF_N       ((size_t)FV_VAULT_DIM * FV_VAULT_DIM)

void fv__vault_secure_free(void *p, size_t n) {
    (void)n;
    if (p) sodium_free(p); /* sodium_free wipes before unmapping */
}

static double uniform_open(void) {
    uint64_t r;
    randombytes_buf(&r, sizeof r);
    return ((double)(r >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

float *fv__vault_transform_generate(void) {
    const size_t d = FV_VAULT_DIM;
    double *m = sodium_malloc(XF_N * sizeof(double));
    float *out = sodium_malloc(XF_N * sizeof(float));
    if (m == NULL || out == NULL) {
        if (m) sodium_free(m);
        if (out) sodium_free(out);
        return NULL;
    }
    for (size_t i = 0; i < XF_N; i += 2) { /* Box-Muller: two normals per pair of uniforms */
        double r = sqrt(-2.0 * log(uniform_open())), t = 6.283185307179586 * uniform_open();
        m[i] = r * cos(t);
        m[i + 1] = r * sin(t);
    }
    for (size_t i = 0; i < d; i++) {
        double *ri = m + i * d;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t j = 0; j < i; j++) {
                const double *rj = m + j * d;
                double dot = 0.0;
                for (size_t c = 0; c < d; c++) dot += ri[c] * rj[c];
                for (size_t c = 0; c < d; c++) ri[c] -= dot * rj[c];
            }
        }
        double n2 = 0.0;
        for (size_t c = 0; c < d; c++) n2 += ri[c] * ri[c];
        double inv = 1.0 / sqrt(n2);
        for (size_t c = 0; c < d; c++) ri[c] *= inv;
    }
    for (size_t i = 0; i < XF_N; i++) out[i] = (float)m[i];
    sodium_free(m);
    return out;
}

static void put_u32(uint8_t *p, uint32_t x) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(x >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) x |= (uint32_t)p[i] << (8 * i);
    return x;
}

fv_status fv__vault_transform_save(fv_vault *v, const char *name, const float *xf, uint64_t gen) {
    size_t plen = XF_N * sizeof(float);
    size_t total = XF_HEADER + FV__VAULT_NONCE_BYTES + plen + FV__VAULT_TAG_BYTES;
    uint8_t *file = fv_malloc(total);
    char *path = fv__vault_path(v->dir, name);
    fv_status st;
    if (file == NULL || path == NULL) {
        st = fv__vault_fail(v, FV_ERR_NOMEM, "out of memory writing the transform");
    } else {
        memcpy(file, XF_MAGIC, 8);
        put_u32(file + 8, XF_VERSION);
        put_u32(file + 12, FV_VAULT_DIM);
        put_u32(file + 16, (uint32_t)gen);
        put_u32(file + 20, (uint32_t)(gen >> 32));
        uint8_t *nonce = file + XF_HEADER;
        randombytes_buf(nonce, FV__VAULT_NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + FV__VAULT_NONCE_BYTES, NULL,
                                                   (const uint8_t *)xf, plen, file, XF_HEADER, NULL,
                                                   nonce, v->master);
        st = fv__vault_write_atomic(v, path, file, total);
    }
    fv_free(file);
    fv_free(path);
    return st;
}

fv_status fv__vault_transform_load(fv_vault *v, const char *name, float **xf, uint64_t *gen) {
    *xf = NULL;
    size_t plen = XF_N * sizeof(float);
    size_t total = XF_HEADER + FV__VAULT_NONCE_BYTES + plen + FV__VAULT_TAG_BYTES;
    char *path = fv__vault_path(v->dir, name);
    if (path == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory");
    uint8_t *file = NULL;
    size_t len = 0;
    fv_status st = fv__vault_read_file(v, path, total, &file, &len);
    fv_free(path);
    if (st != FV_OK) return st;
    st = fv__vault_transform_parse(v, file, len, xf, gen);
    fv_free(file);
    return st;
}

fv_status fv__vault_transform_parse(fv_vault *v, const uint8_t *file, size_t len, float **xf,
                                    uint64_t *gen) {
    *xf = NULL;
    size_t plen = XF_N * sizeof(float);
    size_t total = XF_HEADER + FV__VAULT_NONCE_BYTES + plen + FV__VAULT_TAG_BYTES;
    fv_status st = FV_OK;
    if (len != total || memcmp(file, XF_MAGIC, 8) != 0) {
        st = fv__vault_fail(v, FV_ERR_FORMAT, "transform: bad magic or size");
    } else if (get_u32(file + 8) != XF_VERSION || get_u32(file + 12) != FV_VAULT_DIM) {
        st = fv__vault_fail(v, FV_ERR_UNSUPPORTED, "transform: unsupported version or dimension");
    } else {
        float *m = sodium_malloc(plen);
        const uint8_t *nonce = file + XF_HEADER;
        if (m == NULL) {
            st = fv__vault_fail(v, FV_ERR_NOMEM, "out of secure memory for the transform");
        } else if (crypto_aead_xchacha20poly1305_ietf_decrypt(
                       (uint8_t *)m, NULL, NULL, nonce + FV__VAULT_NONCE_BYTES,
                       plen + FV__VAULT_TAG_BYTES, file, XF_HEADER, nonce, v->master) != 0) {
            sodium_free(m);
            st = fv__vault_fail(v, FV_ERR_FORMAT, "transform failed authentication");
        } else {
            *xf = m;
            *gen = (uint64_t)get_u32(file + 16) | (uint64_t)get_u32(file + 20) << 32;
        }
    }
    return st;
}

void fv__vault_transform_apply(const float *xf, const float *in, float *out) {
    for (size_t r = 0; r < FV_VAULT_DIM; r++) {
        const float *row = xf + r * FV_VAULT_DIM;
        double acc = 0.0;
        for (size_t c = 0; c < FV_VAULT_DIM; c++) acc += (double)row[c] * in[c];
        out[r] = (float)acc;
    }
}

void fv__vault_transform_apply_inverse(const float *xf, const float *in, float *out) {
    double acc[FV_VAULT_DIM] = {0};
    for (size_t r = 0; r < FV_VAULT_DIM; r++) {
        const float *row = xf + r * FV_VAULT_DIM;
        for (size_t c = 0; c < FV_VAULT_DIM; c++) acc[c] += (double)row[c] * in[r];
    }
    for (size_t c = 0; c < FV_VAULT_DIM; c++) out[c] = (float)acc[c];
    sodium_memzero(acc, sizeof acc);
}
