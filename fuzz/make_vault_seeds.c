/*
 * make_vault_seeds.c - writes the seed corpora fuzz/corpus/vault_keyring and
 * fuzz/corpus/vault_transform, sealed with the fuzz targets' fixed test master key through the
 * vault's own writers (fv__vault_keyring_save, fv__vault_transform_save). Keys and matrices are
 * random: no face data.
 *
 *     make_vault_seeds fuzz/corpus        (the two folders must exist)
 *
 * Keyring seeds: valid files with 0, 1, 3 and 12 keys (one with a 128-byte project name); each
 * truncated, with one bit flipped in the header, the nonce, the ciphertext and the tag, with a
 * count that does not match and as version 1 and 3; plaintext seeds (whole 172-byte entries, no
 * magic) for the target's plaintext mode: valid, out of order, duplicate, bad length, non-zero
 * padding. Transform seeds: a sealed transform is 1 MiB, so only its first 48 bytes (header and
 * nonce) and truncations at 4 KiB and 60 KiB are written, plus header prefixes for the target's
 * seal-and-parse mode (version 1 and dim 512; version 2; dim 256; generation 2^40).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

static const char *g_out;

static void put(const char *sub, const char *name, const uint8_t *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", g_out, sub, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_vault_seeds: cannot write %s\n", path);
        exit(1);
    }
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) exit(1);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(*n ? *n : 1);
    if (p == NULL || fread(p, 1, *n, f) != *n) exit(1);
    fclose(f);
    unlink(path);
    return p;
}

/* Writes a keyring of keys[0..n) (sorted) through the vault's writer; returns its bytes. */
static uint8_t *keyring_bytes(fv_vault *v, const fv__vault_daykey *keys, size_t n, size_t *len) {
    if (fv__vault_keyring_save(v, keys, n) != FV_OK) {
        fprintf(stderr, "make_vault_seeds: %s\n", v->err);
        exit(1);
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/keyring", v->dir);
    return slurp(path, len);
}

static void variants(const char *stem, const uint8_t *p, size_t n) {
    char name[128];
    uint8_t *q = malloc(n);
    if (q == NULL) exit(1);
    snprintf(name, sizeof name, "%s.bin", stem);
    put("vault_keyring", name, p, n);
    snprintf(name, sizeof name, "%s_trunc.bin", stem);
    put("vault_keyring", name, p, n / 2);
    const struct {
        const char *what;
        size_t at;
    } flips[] = {{"hdr", 5}, {"nonce", 20}, {"ct", 60}, {"tag", n - 3}};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        if (flips[i].at >= n) continue;
        memcpy(q, p, n);
        q[flips[i].at] ^= 0x10;
        snprintf(name, sizeof name, "%s_flip_%s.bin", stem, flips[i].what);
        put("vault_keyring", name, q, n);
    }
    memcpy(q, p, n);
    q[12] ^= 1; /* count */
    snprintf(name, sizeof name, "%s_count.bin", stem);
    put("vault_keyring", name, q, n);
    for (uint8_t ver = 1; ver <= 3; ver += 2) {
        memcpy(q, p, n);
        q[8] = ver;
        snprintf(name, sizeof name, "%s_v%u.bin", stem, ver);
        put("vault_keyring", name, q, n);
    }
    free(q);
}

static void entry(uint8_t *e, const char *project, size_t lp, int64_t day, uint8_t fill) {
    memset(e, 0, 172);
    for (int i = 0; i < 4; i++) e[i] = (uint8_t)(lp >> (8 * i));
    memcpy(e + 4, project, strlen(project) < 128 ? strlen(project) : 128);
    for (int i = 0; i < 8; i++) e[132 + i] = (uint8_t)((uint64_t)day >> (8 * i));
    memset(e + 140, fill, 32);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr,
                "usage: make_vault_seeds OUTDIR (holding vault_keyring/, vault_transform/)\n");
        return 2;
    }
    g_out = argv[1];
    if (sodium_init() < 0) return 1;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vault_keyring", g_out);
    fv_vault v;
    memset(&v, 0, sizeof v);
    v.dir = dir;
    v.master = sodium_malloc(FV__VAULT_KEY_BYTES);
    fv__vault_daykey *keys = sodium_malloc(12 * sizeof *keys);
    if (v.master == NULL || keys == NULL) return 1;
    for (int i = 0; i < FV__VAULT_KEY_BYTES; i++) v.master[i] = (uint8_t)(0xa5 ^ (i * 7));

    /* ---- keyring files ---- */
    memset(keys, 0, 12 * sizeof *keys);
    const char *projects[3] = {"p1", "p2", "project-b"};
    for (int i = 0; i < 12; i++) {
        snprintf(keys[i].project, sizeof keys[i].project, "%s", projects[i / 4]);
        keys[i].day = 20000 + i % 4;
        randombytes_buf(keys[i].key, FV__VAULT_KEY_BYTES);
    }
    const size_t counts[] = {0, 1, 3, 12};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t len;
        uint8_t *p = keyring_bytes(&v, keys, counts[c], &len);
        char stem[32];
        snprintf(stem, sizeof stem, "seed_keys%zu", counts[c]);
        variants(stem, p, len);
        free(p);
    }
    memset(keys[0].project, 'x', FV_VAULT_NAME_MAX); /* longest name */
    keys[0].day = -3;
    size_t len;
    uint8_t *p = keyring_bytes(&v, keys, 1, &len);
    put("vault_keyring", "seed_longname.bin", p, len);
    free(p);

    /* ---- keyring plaintexts (the target seals them) ---- */
    uint8_t e[4 * 172];
    entry(e, "p1", 2, 20000, 1);
    entry(e + 172, "p1", 2, 20001, 2);
    entry(e + 344, "p2", 2, 19999, 3);
    put("vault_keyring", "plain_valid3.bin", e, 3 * 172);
    entry(e + 344, "p0", 2, 20005, 3);
    put("vault_keyring", "plain_unordered.bin", e, 3 * 172);
    entry(e + 172, "p1", 2, 20000, 2);
    put("vault_keyring", "plain_duplicate.bin", e, 2 * 172);
    entry(e, "p1", 0, 20000, 1);
    put("vault_keyring", "plain_len0.bin", e, 172);
    entry(e, "p1", 129, 20000, 1);
    put("vault_keyring", "plain_len129.bin", e, 172);
    entry(e, "p1", 2, 20000, 1);
    e[4 + 100] = 'z';
    put("vault_keyring", "plain_padding.bin", e, 172);
    entry(e, "p\0q", 3, 20000, 1);
    put("vault_keyring", "plain_nul.bin", e, 172);

    /* ---- transform: header-only and truncated (a whole one is 1 MiB) ---- */
    snprintf(dir, sizeof dir, "%s/vault_transform", g_out);
    float *xf = fv__vault_transform_generate();
    if (xf == NULL || fv__vault_transform_save(&v, "transform", xf, 7) != FV_OK) return 1;
    char path[1100];
    snprintf(path, sizeof path, "%s/transform", dir);
    uint8_t *t = slurp(path, &len);
    put("vault_transform", "seed_header48.bin", t, 48);
    put("vault_transform", "seed_trunc4k.bin", t, 4096);
    put("vault_transform", "seed_trunc60k.bin", t, 60 * 1024);
    free(t);
    sodium_free(xf);
    /* header prefixes for the seal-and-parse mode (magic replaced so it is not taken as a file) */
    uint8_t h[24 + 64];
    memset(h, 0, sizeof h);
    memcpy(h, "BADMAGIC", 8); /* a wrong magic: must be refused */
    const uint32_t hv[][4] = {{1, 512, 1, 0}, {2, 512, 1, 0}, {1, 256, 1, 0}, {1, 512, 0, 256}};
    const char *hn[] = {"hdr_valid.bin", "hdr_v2.bin", "hdr_dim256.bin", "hdr_gen2p40.bin"};
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 16; i++) h[8 + i] = (uint8_t)(hv[k][i / 4] >> (8 * (i % 4)));
        for (int i = 0; i < 64; i++) h[24 + i] = (uint8_t)(i * 13);
        put("vault_transform", hn[k], h, sizeof h);
    }
    sodium_free(keys);
    sodium_free(v.master);
    return 0;
}
