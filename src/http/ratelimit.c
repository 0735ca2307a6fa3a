/*
 * ratelimit.c - token buckets keyed by short strings ("login:<hash>", "otp:<hash>"), for logins
 * and one-time codes. Keys are hashes made by fv__http_hash_key, never logins or phones.
 *
 * A fixed table of 4096 buckets with least-recently-used replacement: an attacker who floods it
 * with new keys evicts old buckets, which then start full again; so every key also shares a
 * global bucket per prefix that bounds the total rate.
 * Threading: every call takes the table's mutex.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "http-impl.h"

#define BUCKETS 4096

typedef struct bucket {
    char key[48];
    double tokens;
    int64_t at;
} bucket;

struct fv__http_limits {
    pthread_mutex_t mu;
    bucket b[BUCKETS];
};

fv_status fv__http_limits_new(fv__http_limits **out) {
    fv__http_limits *l = fv_calloc(1, sizeof *l);
    if (l == NULL) return FV_ERR_NOMEM;
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return FV_OK;
}

void fv__http_limits_free(fv__http_limits *l) {
    if (l == NULL) return;
    pthread_mutex_destroy(&l->mu);
    fv_free(l);
}

static bool take(fv__http_limits *l, const char *key, double burst, double per_minute,
                 int64_t now) {
    bucket *hit = NULL, *oldest = &l->b[0];
    for (size_t i = 0; i < BUCKETS && hit == NULL; i++) {
        if (strcmp(l->b[i].key, key) == 0) hit = &l->b[i];
        if (l->b[i].at < oldest->at) oldest = &l->b[i];
    }
    if (hit == NULL) {
        hit = oldest;
        snprintf(hit->key, sizeof hit->key, "%s", key);
        hit->tokens = burst;
        hit->at = now;
    }
    hit->tokens += (double)(now - hit->at) * per_minute / 60000.0;
    if (hit->tokens > burst) hit->tokens = burst;
    hit->at = now;
    if (hit->tokens < 1) return false;
    hit->tokens -= 1;
    return true;
}

bool fv__http_limit_take(fv__http_limits *l, const char *key, double burst, double per_minute,
                         int64_t now_ms) {
    char global[48];
    size_t n = strcspn(key, ":");
    snprintf(global, sizeof global, "%.*s:*", (int)(n < 40 ? n : 40), key);
    pthread_mutex_lock(&l->mu);
    bool ok = take(l, key, burst, per_minute, now_ms) &&
              take(l, global, burst * 50, per_minute * 50, now_ms);
    pthread_mutex_unlock(&l->mu);
    return ok;
}
