/*
 * phone.c - phones and names as the ledger keeps them: normalised, hashed, sealed and masked.
 *
 * A phone is accepted as a mainland mobile number: 11 digits starting with 1 and 3..9 after
 * spaces and dashes are dropped and an optional +86 / 0086 prefix is removed. Matching uses
 * BLAKE2b-256 keyed with the site's phone key (so a copy of ledger.db without ledger.key cannot
 * be searched by phone); display uses the sealed copy (XChaCha20-Poly1305 with the pii key, a
 * fresh 24-byte nonce, the row kind as associated data: blob = nonce | ciphertext | tag), and
 * everything else the mask 138****1234. Error messages never repeat the input.
 * Threading: per handle; fv_ledger_phone_mask is pure.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG   crypto_aead_xchacha20poly1305_ietf_ABYTES

static int normalise(const char *in, char out[12]) {
    char d[32];
    size_t n = 0;
    if (in == NULL) return -1;
    size_t len = strnlen(in, 64);
    if (len >= 64) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ' ' || c == '-') continue;
        if (c == '+' && n == 0 && i == 0) continue;
        if (c < '0' || c > '9' || n >= sizeof d - 1) return -1;
        d[n++] = c;
    }
    d[n] = '\0';
    const char *p = d;
    if (n == 15 && strncmp(d, "0086", 4) == 0)
        p += 4;
    else if (n == 13 && strncmp(d, "86", 2) == 0)
        p += 2;
    if (strlen(p) != 11 || p[0] != '1' || p[1] < '3') return -1;
    memcpy(out, p, 12);
    return 0;
}

fv_status fv__ledger_phone_normalise(fv_ledger *l, const char *in, char out[12]) {
    if (normalise(in, out) != 0)
        return fv__ledger_fail(l, FV_ERR_ARG,
                               "phone is not a mainland mobile number (11 digits starting 13-19)");
    return FV_OK;
}

fv_status fv_ledger_phone_mask(const char *phone, char mask[FV_LEDGER_MASK_CHARS]) {
    char n[12];
    if (normalise(phone, n) != 0) return FV_ERR_ARG;
    snprintf(mask, FV_LEDGER_MASK_CHARS, "%.3s****%.4s", n, n + 7);
    sodium_memzero(n, sizeof n);
    return FV_OK;
}

void fv__ledger_phone_hash(const fv_ledger *l, const char *norm,
                           uint8_t out[FV__LEDGER_HASH_BYTES]) {
    crypto_generichash(out, FV__LEDGER_HASH_BYTES, (const unsigned char *)norm, strlen(norm),
                       l->keys->phone_hash, FV__LEDGER_KEY_BYTES);
}

fv_status fv__ledger_seal(fv_ledger *l, const char *text, const char *ad, uint8_t **blob,
                          size_t *len) {
    size_t n = strlen(text);
    *blob = NULL;
    *len = 0;
    uint8_t *b = fv_malloc(NONCE + n + TAG);
    if (b == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    randombytes_buf(b, NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(b + NONCE, &clen, (const unsigned char *)text, n,
                                               (const unsigned char *)ad, strlen(ad), NULL, b,
                                               l->keys->pii);
    *blob = b;
    *len = NONCE + (size_t)clen;
    return FV_OK;
}

fv_status fv__ledger_unseal(fv_ledger *l, const uint8_t *blob, size_t len, const char *ad,
                            char *out, size_t cap) {
    if (cap > 0) out[0] = '\0';
    if (blob == NULL || len < NONCE + TAG || len - NONCE - TAG >= cap)
        return fv__ledger_fail(l, FV_ERR_FORMAT, "sealed personal data has a wrong length");
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out, &plen, NULL, blob + NONCE,
                                                   len - NONCE, (const unsigned char *)ad,
                                                   strlen(ad), blob, l->keys->pii) != 0) {
        sodium_memzero(out, cap);
        return fv__ledger_fail(l, FV_ERR_FORMAT, "sealed personal data failed authentication");
    }
    out[plen] = '\0';
    return FV_OK;
}

int64_t fv__ledger_day(int64_t ms) {
    int64_t t = ms + FV__LEDGER_TZ_MS;
    return t >= 0 ? t / FV__LEDGER_DAY_MS : -((-t + FV__LEDGER_DAY_MS - 1) / FV__LEDGER_DAY_MS);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

fv_status fv__ledger_parse_day(const char *s, int64_t *day) {
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return FV_ERR_ARG;
    int v[8], k = 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) continue;
        if (s[i] < '0' || s[i] > '9') return FV_ERR_ARG;
        v[k++] = s[i] - '0';
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
    static const int DIM[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > DIM[m - 1]) return FV_ERR_ARG;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap) return FV_ERR_ARG;
    *day = days_from_civil(y, m, d);
    return FV_OK;
}

void fv__ledger_format_day(int64_t day, char out[11]) {
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) == 0) strcpy(out, "?");
}
