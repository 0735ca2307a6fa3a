/*
 * ledger-impl.h - private declarations shared by the files of src/ledger.
 *
 * Invariants: l->keys is sodium_malloc'd and wiped before free; every write runs inside
 * fv__ledger_begin/fv__ledger_commit (BEGIN IMMEDIATE), so a call's rows and its audit entries
 * commit together or not at all; the error message never holds names, phones, codes or templates.
 * Threading: public calls hold l->mu for their whole duration; the fv__ helpers assume it is held.
 */
#ifndef FAIRVISIT_LEDGER_IMPL_H
#define FAIRVISIT_LEDGER_IMPL_H

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>

#include "fairvisit/ledger.h"
#include "fairvisit/vault.h"

#define FV__LEDGER_KEY_BYTES  32
#define FV__LEDGER_HASH_BYTES 32
#define FV__LEDGER_MINUTE_MS  ((int64_t)60 * 1000)
#define FV__LEDGER_DAY_MS     ((int64_t)86400 * 1000)
/* The sales office's day boundary: UTC+8. */
#define FV__LEDGER_TZ_MS ((int64_t)8 * 3600 * 1000)

/* Keys derived from ledger.key (crypto_kdf, context "fvledger"). */
typedef struct fv__ledger_keys {
    uint8_t phone_hash[FV__LEDGER_KEY_BYTES]; /* keyed BLAKE2b of normalised phones */
    uint8_t pii[FV__LEDGER_KEY_BYTES];        /* XChaCha20-Poly1305 of phones and names */
    uint8_t audit[FV__LEDGER_KEY_BYTES];      /* keyed BLAKE2b of the audit chain */
    uint8_t code[FV__LEDGER_KEY_BYTES];       /* keyed BLAKE2b of one-time codes */
    uint8_t token[FV__LEDGER_KEY_BYTES];      /* keyed BLAKE2b of API tokens (users.c) */
} fv__ledger_keys;

struct fv_ledger {
    char *dir;
    fv_ledger_options opt;
    sqlite3 *db;
    fv__ledger_keys *keys; /* sodium_malloc */
    fv_vault *vault;       /* NULL with opt.no_vault */
    int in_tx;
    pthread_mutex_t mu; /* every public call holds it */
    int mu_ok;
};

/* Public entry points: lock, clear the message; unlock before returning. */
void fv__ledger_lock(fv_ledger *l);
void fv__ledger_unlock(fv_ledger *l);

/* The calling thread's last failure message. A handle is shared by the server's threads, so the
 * message lives with the thread that made the call, not with the handle (fv_ledger_errmsg). */
extern _Thread_local char fv__ledger_err[256];

fv_status fv__ledger_fail(fv_ledger *l, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Maps an SQLite failure to a status with the SQLite message (never carries bound values). */
fv_status fv__ledger_db_fail(fv_ledger *l, int rc, const char *what);
int64_t fv__ledger_now(fv_ledger *l);
char *fv__ledger_path(const char *dir, const char *name);

/* db.c: transactions and statements */
fv_status fv__ledger_begin(fv_ledger *l);
fv_status fv__ledger_commit(fv_ledger *l);
void fv__ledger_rollback(fv_ledger *l);
/* Prepares sql; on failure sets the message and returns NULL. */
sqlite3_stmt *fv__ledger_prepare(fv_ledger *l, const char *sql);
/* Steps a statement that returns no row (SQLITE_DONE), then finalizes it. */
fv_status fv__ledger_step_done(fv_ledger *l, sqlite3_stmt *s, const char *what);
/* Runs `SELECT <one integer>`; FV_ERR_NOT_FOUND with no row. Binds i64 parameters. */
fv_status fv__ledger_query_i64(fv_ledger *l, const char *sql, int64_t *out, int nargs, ...);
fv_status fv__ledger_exec(fv_ledger *l, const char *sql);

/* schema.c */
fv_status fv__ledger_migrate(fv_ledger *l);
int fv__ledger_schema_version(void);

/* keys.c */
fv_status fv__ledger_key_create(const char *dir);
fv_status fv__ledger_keys_load(fv_ledger *l);
void fv__ledger_random_hex(char *out, size_t n_chars); /* n_chars hex digits + NUL */

/* phone.c: normalised form is the 11 digits of a mainland mobile number */
fv_status fv__ledger_phone_normalise(fv_ledger *l, const char *in, char out[12]);
void fv__ledger_phone_hash(const fv_ledger *l, const char *norm,
                           uint8_t out[FV__LEDGER_HASH_BYTES]);
/* Seals text with the pii key; ad binds it to its row's kind ("person", "registration"...). */
fv_status fv__ledger_seal(fv_ledger *l, const char *text, const char *ad, uint8_t **blob,
                          size_t *len);
/* Opens a sealed blob into out (NUL-terminated, cap bytes); FV_ERR_FORMAT on failed auth. */
fv_status fv__ledger_unseal(fv_ledger *l, const uint8_t *blob, size_t len, const char *ad,
                            char *out, size_t cap);

/* audit.c */
/* Appends an entry (inside the caller's transaction): who, action, record ("visit:12"). */
fv_status fv__ledger_audit(fv_ledger *l, const fv_ledger_actor *who, const char *action,
                           const char *record_kind, int64_t record_id);
const char *fv__ledger_role_name(fv_ledger_role r);
/* A read of personal data delivered only if its audit entry commits: appends an entry (action on
 * record_kind:record_id) in a transaction of its own and, inside it, `built` to out; on any
 * failure out is left as it was (the appended part wiped). */
fv_status fv__ledger_audited_delivery(fv_ledger *l, const fv_ledger_actor *who, const char *action,
                                      const char *record_kind, int64_t record_id,
                                      const fv_strbuf *built, fv_strbuf *out);

/* idempotency.c: inside the caller's transaction. Results are the public result structs, stored
 * as bytes (they hold no pointers) and kept for a day. */
/* *found = 1 and the stored result copied into result (size bytes) when key was used by the same
 * op and request; FV_ERR_STATE when it was used with another request or op. */
fv_status fv__ledger_idem_lookup(fv_ledger *l, const char *key, const char *op,
                                 const uint8_t req_hash[FV__LEDGER_HASH_BYTES], int *found,
                                 void *result, size_t size);
fv_status fv__ledger_idem_store(fv_ledger *l, const char *key, const char *op,
                                const uint8_t req_hash[FV__LEDGER_HASH_BYTES], const void *result,
                                size_t size);

/* otp.c: verifies and consumes code `code` of one-time code `otp_id` for the phone, in a
 * transaction of its own (a wrong code's attempt counts even though the caller then fails).
 * FV_ERR_STATE with a message naming the reason (unknown, expired, used, too many attempts,
 * wrong code). */
fv_status fv__ledger_otp_consume(fv_ledger *l, int64_t project, const uint8_t *phone_hash,
                                 const char *otp_id, const char *code);

/* conflict.c: opens a conflict (inside the caller's transaction); ids 0 = none; evidence is a
 * JSON object (borrowed) with ids, times, which identifiers matched, scores; never personal data.
 */
typedef struct fv__ledger_conflict_new {
    const char *kind;
    int64_t project, person, registration, other_registration, visit, deal, channel, agent;
    const char *evidence;
} fv__ledger_conflict_new;
fv_status fv__ledger_conflict_open(fv_ledger *l, const fv_ledger_actor *who,
                                   const fv__ledger_conflict_new *c, int64_t *id);
/* Binds i64 `v` at `i`, NULL when v == 0. */
void fv__ledger_bind_id(sqlite3_stmt *s, int i, int64_t v);

/* escort.c: settles pending escorts past their window (inside the caller's transaction). */
fv_status fv__ledger_settle(fv_ledger *l, const fv_ledger_actor *who, size_t *settled);

/* project.c */
fv_status fv__ledger_project_load(fv_ledger *l, int64_t project, fv_ledger_project_settings *s);
/* person.c */
/* The person row of a 32-hex person id; FV_ERR_NOT_FOUND. */
fv_status fv__ledger_person_row(fv_ledger *l, const char *person, int64_t *row, int64_t *project);
void fv__ledger_hex(const uint8_t *bin, size_t n, char *out);
fv_status fv__ledger_unhex(const char *hex, uint8_t *bin, size_t n);
/* consent.c: withdraws consent row `row` and every live consent of its person, and deletes the
 * person's templates; inside the caller's transaction. */
fv_status fv__ledger_consent_withdraw_row(fv_ledger *l, const fv_ledger_actor *who, int64_t row);
/* Deletes the person's templates from the vault (no-op without one). */
fv_status fv__ledger_vault_forget(fv_ledger *l, const uint8_t *pid);

/* Day number (UTC+8) of a time, and "YYYY-MM-DD" parsing/printing of such days. */
int64_t fv__ledger_day(int64_t ms);
fv_status fv__ledger_parse_day(const char *s, int64_t *day);
void fv__ledger_format_day(int64_t day, char out[11]);

/* report.c: the C17 warning levels of the impact assessment (persons with stored faces), for
 * tests only; 0 restores the defaults (80,000 and 100,000). Process-wide; set before use. */
void fv__ledger_impact_thresholds(int64_t warn_at, int64_t file_at);

#endif
