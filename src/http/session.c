/*
 * session.c - login sessions, in memory only: a server restart logs everyone out, and no session
 * token is ever written to disk.
 *
 * A session token and its CSRF token are 32 random bytes each, in hex. The table is keyed by a
 * BLAKE2b hash of the token (so a timing difference in the lookup says nothing about the token)
 * and holds at most 10000 sessions; a session dies after 30 idle minutes or 12 hours in all, or
 * when its user's password changes or the user is disabled.
 * Threading: every call takes the table's mutex.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "http-impl.h"

#define MAX_SESSIONS 10000
#define IDLE_MS      ((int64_t)30 * 60 * 1000)
#define ABSOLUTE_MS  ((int64_t)12 * 3600 * 1000)

typedef struct entry {
    uint8_t key[32]; /* hash of the token */
    int64_t created, seen;
    fv__http_principal p;
    bool used;
} entry;

struct fv__http_sessions {
    pthread_mutex_t mu;
    entry *e;
    size_t n; /* slots used (some may be dead) */
};

fv_status fv__http_sessions_new(fv__http_sessions **out) {
    fv__http_sessions *s = fv_calloc(1, sizeof *s);
    if (s == NULL) return FV_ERR_NOMEM;
    s->e = fv_calloc(MAX_SESSIONS, sizeof *s->e);
    if (s->e == NULL) {
        fv_free(s);
        return FV_ERR_NOMEM;
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return FV_OK;
}

void fv__http_sessions_free(fv__http_sessions *s) {
    if (s == NULL) return;
    fv_wipe(s->e, MAX_SESSIONS * sizeof *s->e);
    fv_free(s->e);
    pthread_mutex_destroy(&s->mu);
    fv_free(s);
}

static void hash_token(const char *token, uint8_t key[32]) {
    crypto_generichash(key, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

static bool live(const entry *e, int64_t now) {
    return e->used && now - e->seen < IDLE_MS && now - e->created < ABSOLUTE_MS;
}

static void random_hex(char out[FV__HTTP_TOKEN_CHARS]) {
    uint8_t b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, FV__HTTP_TOKEN_CHARS, b, sizeof b);
    sodium_memzero(b, sizeof b);
}

fv_status fv__http_session_create(fv__http_sessions *s, fv__http_principal *p, int64_t now_ms) {
    random_hex(p->session);
    random_hex(p->csrf);
    pthread_mutex_lock(&s->mu);
    entry *slot = NULL;
    for (size_t i = 0; i < MAX_SESSIONS && slot == NULL; i++)
        if (!live(&s->e[i], now_ms)) slot = &s->e[i];
    fv_status st = FV_ERR_LIMIT;
    if (slot != NULL) {
        memset(slot, 0, sizeof *slot);
        hash_token(p->session, slot->key);
        slot->created = slot->seen = now_ms;
        slot->p = *p;
        slot->used = true;
        st = FV_OK;
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

bool fv__http_session_get(fv__http_sessions *s, const char *token, int64_t now_ms,
                          fv__http_principal *p) {
    if (token == NULL || strlen(token) != FV__HTTP_TOKEN_CHARS - 1) return false;
    uint8_t key[32];
    hash_token(token, key);
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < MAX_SESSIONS && !found; i++) {
        entry *e = &s->e[i];
        if (e->used && sodium_memcmp(e->key, key, sizeof key) == 0) {
            if (live(e, now_ms)) {
                e->seen = now_ms;
                *p = e->p;
                found = true;
            } else {
                memset(e, 0, sizeof *e);
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

void fv__http_session_drop(fv__http_sessions *s, const char *token) {
    if (token == NULL) return;
    uint8_t key[32];
    hash_token(token, key);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < MAX_SESSIONS; i++)
        if (s->e[i].used && sodium_memcmp(s->e[i].key, key, sizeof key) == 0)
            sodium_memzero(&s->e[i], sizeof s->e[i]);
    pthread_mutex_unlock(&s->mu);
}

void fv__http_session_drop_user(fv__http_sessions *s, int64_t user_id) {
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < MAX_SESSIONS; i++)
        if (s->e[i].used && s->e[i].p.user_id == user_id && user_id != 0)
            sodium_memzero(&s->e[i], sizeof s->e[i]);
    pthread_mutex_unlock(&s->mu);
}
