/*
 * users.c - the server's users (logins with Argon2id passwords) and API tokens.
 *
 * Passwords are stored only as libsodium crypto_pwhash strings (Argon2id, interactive limits:
 * about 64 MiB and 50-100 ms per hash); tokens ("fvt_" + 60 hex digits, 240 random bits) only as
 * BLAKE2b-256 keyed with the site's token key (keys.c, subkey 5), so a copy of ledger.db without
 * ledger.key does not let anyone test guesses of a token. A token is shown once, at creation.
 *
 * Login: an unknown login is verified against a fixed dummy hash (made once per process, at the
 * first login), and a disabled user's password is verified too, so an unknown login, a wrong
 * password and a disabled user take the same time and get the same message, "wrong login or
 * password" (FV_ERR_STATE). A malformed login or a password longer than FV_LEDGER_PASSWORD_MAX
 * is refused with that message at once, without hashing: its shape is the caller's own knowledge.
 * A successful login appends "user.login" to the audit chain; failed attempts are not recorded
 * here (the server logs them without personal data and limits their rate).
 *
 * Who may do what: only ADMIN or SYSTEM (the CLI at init) creates users, lists them, disables
 * them, changes another user's password and creates or revokes tokens ("only an admin ...",
 * FV_ERR_STATE). Anyone may change their own password; the caller (the server) must have checked
 * the current one first. The actor names a user by its role and an id, and that id is the user
 * id for ADMIN, RECEPTION, AUDITOR and KIOSK but the agent id for AGENT and the channel id for
 * CHANNEL_MANAGER (fv_ledger_actor), so for those two "self" means a user of the actor's role
 * whose scope_id is the actor's id, and only when exactly one user has it (two managers of one
 * channel cannot be told apart by the actor, so an admin changes their passwords).
 * The last enabled admin cannot be disabled. fv_ledger_user_list gives each user's tokens too
 * ({id, name, created, revoked}, never the hash): fv_ledger_token_create returns only the token,
 * so the list is where an admin finds the id fv_ledger_token_revoke takes. Revoking a revoked
 * token, or setting the disabled flag it already has, changes and records nothing.
 * Audit entries: user.create, user.password, user.disable / user.enable, token.create,
 * token.revoke, user.login, each as "user:<id>" or "token:<id>", written in the change's own
 * transaction. No password, hash or token ever goes into a message or the audit chain.
 *
 * Threading: public calls lock the handle, except while Argon2id runs: a hash takes 50-100 ms,
 * and holding the mutex that long would stall every check-in sharing the handle. Those calls
 * check and read under the lock, unlock to hash, then lock again and check again inside the
 * write transaction (the user may have been disabled meanwhile). Several logins may hash at
 * once, each with its own 64 MiB.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

#define PW_HASH_CHARS crypto_pwhash_STRBYTES
#define TOKEN_PREFIX  "fvt_"
#define TOKEN_HEX     (FV_LEDGER_TOKEN_CHARS - 1 - (int)(sizeof TOKEN_PREFIX - 1))
_Static_assert(TOKEN_HEX == 60, "a token is fvt_ and 60 hex digits");

static const char GENERIC_LOGIN[] = "wrong login or password";
static const char GENERIC_TOKEN[] = "invalid token";

/* ---- checks ---------------------------------------------------------------------------------- */

static bool login_ok(const char *login) {
    if (login == NULL) return false;
    size_t n = strnlen(login, FV_LEDGER_LOGIN_MAX + 1);
    if (n == 0 || n > FV_LEDGER_LOGIN_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = login[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static fv_status check_login(fv_ledger *l, const char *login) {
    if (login_ok(login)) return FV_OK;
    return fv__ledger_fail(l, FV_ERR_ARG,
                           "a login must be 1-%d characters of a-z, 0-9, '.', '_' and '-'",
                           FV_LEDGER_LOGIN_MAX);
}

static bool password_len_ok(const char *password) {
    if (password == NULL) return false;
    size_t n = strnlen(password, FV_LEDGER_PASSWORD_MAX + 1);
    return n >= FV_LEDGER_PASSWORD_MIN && n <= FV_LEDGER_PASSWORD_MAX;
}

static fv_status check_password(fv_ledger *l, const char *password) {
    if (password_len_ok(password)) return FV_OK;
    return fv__ledger_fail(l, FV_ERR_ARG, "a password must be %d to %d bytes long",
                           FV_LEDGER_PASSWORD_MIN, FV_LEDGER_PASSWORD_MAX);
}

static bool is_admin(const fv_ledger_actor *who) {
    return who != NULL && (who->role == FV_LEDGER_ROLE_ADMIN || who->role == FV_LEDGER_ROLE_SYSTEM);
}

static fv_status need_admin(fv_ledger *l, const fv_ledger_actor *who, const char *what) {
    if (who == NULL) return fv__ledger_fail(l, FV_ERR_ARG, "no actor");
    if (is_admin(who)) return FV_OK;
    return fv__ledger_fail(l, FV_ERR_STATE, "only an admin %s", what);
}

static bool user_role(fv_ledger_role r) {
    return r == FV_LEDGER_ROLE_ADMIN || r == FV_LEDGER_ROLE_RECEPTION ||
           r == FV_LEDGER_ROLE_CHANNEL_MANAGER || r == FV_LEDGER_ROLE_AGENT ||
           r == FV_LEDGER_ROLE_AUDITOR || r == FV_LEDGER_ROLE_KIOSK;
}

static bool role_from_name(const char *name, fv_ledger_role *r) {
    for (int i = 0; i < FV_LEDGER_ROLE_COUNT; i++)
        if (name != NULL && strcmp(name, fv__ledger_role_name((fv_ledger_role)i)) == 0) {
            *r = (fv_ledger_role)i;
            return true;
        }
    return false;
}

static bool scoped(fv_ledger_role r) {
    return r == FV_LEDGER_ROLE_AGENT || r == FV_LEDGER_ROLE_CHANNEL_MANAGER;
}

/* The actor a user acts as (fv_ledger_actor): the scope for agents and channel managers. */
static fv_ledger_actor actor_of(const fv_ledger_user *u) {
    return (fv_ledger_actor){u->role, scoped(u->role) ? u->scope_id : u->id};
}

/* A role's scope: an existing agent, an existing channel that is not natural, or 0. */
static fv_status check_scope(fv_ledger *l, fv_ledger_role role, int64_t scope_id) {
    if (!scoped(role)) {
        if (scope_id == 0) return FV_OK;
        return fv__ledger_fail(l, FV_ERR_ARG,
                               "scope_id is for agent and channel manager users only (give 0)");
    }
    if (role == FV_LEDGER_ROLE_AGENT) {
        int64_t one = 0;
        fv_status st =
            fv__ledger_query_i64(l, "SELECT 1 FROM agent WHERE id = ?", &one, 1, scope_id);
        if (st == FV_ERR_NOT_FOUND)
            return fv__ledger_fail(l, FV_ERR_ARG, "an agent user's scope_id must be an agent id");
        return st;
    }
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT kind FROM channel WHERE id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, scope_id);
    int rc = sqlite3_step(q);
    fv_status st = FV_OK;
    if (rc == SQLITE_DONE)
        st = fv__ledger_fail(l, FV_ERR_ARG, "a channel manager's scope_id must be a channel id");
    else if (rc != SQLITE_ROW)
        st = fv__ledger_db_fail(l, rc, "channel");
    else if (strcmp((const char *)sqlite3_column_text(q, 0), "natural") == 0)
        st = fv__ledger_fail(l, FV_ERR_ARG,
                             "the natural channel has no manager (give an agency, referral or"
                             " online channel)");
    sqlite3_finalize(q);
    return st;
}

/* ---- rows ------------------------------------------------------------------------------------ */

/* Reads the user row `id` into u, and its password hash into pw (NULL: not wanted). */
static fv_status load_user(fv_ledger *l, int64_t id, fv_ledger_user *u, char pw[PW_HASH_CHARS]) {
    memset(u, 0, sizeof *u);
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT id, login, role, COALESCE(scope_id, 0), disabled, pw_hash FROM user"
           " WHERE id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    fv_status st = FV_OK;
    if (rc == SQLITE_ROW) {
        u->id = sqlite3_column_int64(q, 0);
        snprintf(u->login, sizeof u->login, "%s", (const char *)sqlite3_column_text(q, 1));
        if (!role_from_name((const char *)sqlite3_column_text(q, 2), &u->role))
            st = fv__ledger_fail(l, FV_ERR_FORMAT, "user has an unknown role");
        u->scope_id = sqlite3_column_int64(q, 3);
        u->disabled = sqlite3_column_int(q, 4) != 0;
        if (pw != NULL) {
            const char *h = (const char *)sqlite3_column_text(q, 5);
            if (h == NULL || strlen(h) >= PW_HASH_CHARS)
                st = fv__ledger_fail(l, FV_ERR_FORMAT, "user has a malformed password hash");
            else
                memcpy(pw, h, strlen(h) + 1);
        }
    } else if (rc == SQLITE_DONE) {
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such user");
    } else {
        st = fv__ledger_db_fail(l, rc, "user");
    }
    sqlite3_finalize(q);
    return st;
}

static fv_status find_login(fv_ledger *l, const char *login, int64_t *id) {
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id FROM user WHERE login = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_text(q, 1, login, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    fv_status st = FV_OK;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(q, 0);
    else
        st = rc == SQLITE_DONE ? FV_ERR_NOT_FOUND : fv__ledger_db_fail(l, rc, "user");
    sqlite3_finalize(q);
    return st;
}

/* Argon2id of password into out; FV_ERR_NOMEM when libsodium cannot get its memory. Runs
 * without the handle's lock (touches nothing of l). */
static fv_status hash_password(const char *password, char out[PW_HASH_CHARS]) {
    if (crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return FV_ERR_NOMEM;
    return FV_OK;
}

/* The dummy hash unknown logins are verified against: a random password's, made once. */
static pthread_mutex_t dummy_mu = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[PW_HASH_CHARS];
static int dummy_ready;

static const char *dummy(void) {
    pthread_mutex_lock(&dummy_mu);
    if (!dummy_ready) {
        char pw[33];
        fv__ledger_random_hex(pw, 32);
        dummy_ready = hash_password(pw, dummy_hash) == FV_OK;
        sodium_memzero(pw, sizeof pw);
    }
    const char *h = dummy_ready ? dummy_hash : NULL;
    pthread_mutex_unlock(&dummy_mu);
    return h;
}

/* ---- users ----------------------------------------------------------------------------------- */

fv_status fv_ledger_user_create(fv_ledger *l, const fv_ledger_actor *who, const char *login,
                                const char *password, fv_ledger_role role, int64_t scope_id,
                                int64_t *id) {
    fv__ledger_lock(l);
    fv_status st = need_admin(l, who, "creates users");
    if (st == FV_OK && !user_role(role))
        st = fv__ledger_fail(l, FV_ERR_ARG,
                             "a user's role must be admin, reception, channel_manager, agent,"
                             " auditor or kiosk");
    if (st == FV_OK) st = check_login(l, login);
    if (st == FV_OK) st = check_password(l, password);
    if (st == FV_OK) st = check_scope(l, role, scope_id);
    int64_t other = 0;
    if (st == FV_OK && find_login(l, login, &other) == FV_OK) /* fail before the slow hash */
        st = fv__ledger_fail(l, FV_ERR_STATE, "a user with this login exists");
    fv__ledger_unlock(l);
    if (st != FV_OK) return st;

    char pw[PW_HASH_CHARS];
    fv_status hs = hash_password(password, pw);

    fv__ledger_lock(l);
    if (hs != FV_OK) {
        st = fv__ledger_fail(l, hs, "out of memory for the password hash");
        goto out;
    }
    st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    st = check_scope(l, role, scope_id);
    if (st == FV_OK) {
        fv_status f = find_login(l, login, &other);
        if (f == FV_OK)
            st = fv__ledger_fail(l, FV_ERR_STATE, "a user with this login exists");
        else if (f != FV_ERR_NOT_FOUND)
            st = f;
    }
    int64_t uid = 0;
    if (st == FV_OK) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "INSERT INTO user(login, role, scope_id, pw_hash,"
                                                " disabled, created) VALUES(?, ?, ?, ?, 0, ?)");
        if (q != NULL) {
            sqlite3_bind_text(q, 1, login, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 2, fv__ledger_role_name(role), -1, SQLITE_STATIC);
            fv__ledger_bind_id(q, 3, scope_id);
            sqlite3_bind_text(q, 4, pw, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 5, fv__ledger_now(l));
        }
        st = fv__ledger_step_done(l, q, "user");
        uid = sqlite3_last_insert_rowid(l->db);
    }
    if (st == FV_OK) st = fv__ledger_audit(l, who, "user.create", "user", uid);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK)
        fv__ledger_rollback(l);
    else if (id != NULL)
        *id = uid;
out:
    fv__ledger_unlock(l);
    sodium_memzero(pw, sizeof pw);
    return st;
}

fv_status fv_ledger_user_login(fv_ledger *l, const char *login, const char *password,
                               fv_ledger_user *out) {
    fv_ledger_user u;
    memset(&u, 0, sizeof u);
    if (out != NULL) memset(out, 0, sizeof *out);
    const char *dh = dummy(); /* before anything, so the first unknown login is not slower */
    fv__ledger_lock(l);
    if (!login_ok(login) || password == NULL ||
        strnlen(password, FV_LEDGER_PASSWORD_MAX + 1) > FV_LEDGER_PASSWORD_MAX) {
        fv_status st = fv__ledger_fail(l, FV_ERR_STATE, "%s", GENERIC_LOGIN);
        fv__ledger_unlock(l);
        return st;
    }
    char pw[PW_HASH_CHARS];
    int64_t uid = 0;
    fv_status st = find_login(l, login, &uid);
    int known = st == FV_OK;
    if (known) st = load_user(l, uid, &u, pw);
    fv__ledger_unlock(l);
    if (st != FV_OK && st != FV_ERR_NOT_FOUND) { /* a database failure, not a no */
        sodium_memzero(pw, sizeof pw);
        return st;
    }

    int good;
    if (known) {
        good = crypto_pwhash_str_verify(pw, password, strlen(password)) == 0;
    } else {
        /* the same work as for a real user; the answer is no whatever it says */
        int ignored = dh != NULL ? crypto_pwhash_str_verify(dh, password, strlen(password)) : -1;
        (void)ignored;
        good = 0;
    }
    good = good && !u.disabled;

    fv__ledger_lock(l);
    if (!good) {
        st = fv__ledger_fail(l, FV_ERR_STATE, "%s", GENERIC_LOGIN);
        goto out;
    }
    /* Still the same user, enabled, with the password just checked? Then record the login. */
    st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    fv_ledger_user now;
    char pw_now[PW_HASH_CHARS];
    st = load_user(l, uid, &now, pw_now);
    if (st == FV_OK && (now.disabled || strcmp(pw_now, pw) != 0))
        st = fv__ledger_fail(l, FV_ERR_STATE, "%s", GENERIC_LOGIN);
    sodium_memzero(pw_now, sizeof pw_now);
    fv_ledger_actor self = actor_of(&now);
    if (st == FV_OK) st = fv__ledger_audit(l, &self, "user.login", "user", uid);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK)
        fv__ledger_rollback(l);
    else if (out != NULL)
        *out = now;
out:
    fv__ledger_unlock(l);
    sodium_memzero(pw, sizeof pw);
    return st;
}

fv_status fv_ledger_user_get(fv_ledger *l, int64_t id, fv_ledger_user *out) {
    fv__ledger_lock(l);
    fv_status st = load_user(l, id, out, NULL);
    fv__ledger_unlock(l);
    return st;
}

/* May `who` set user `id`'s password? An admin for anyone; a user for themselves (see the top
 * of the file for what "themselves" means for agents and channel managers). */
static fv_status may_set_password(fv_ledger *l, const fv_ledger_actor *who, int64_t id) {
    if (who == NULL) return fv__ledger_fail(l, FV_ERR_ARG, "no actor");
    fv_ledger_user u;
    fv_status st = load_user(l, id, &u, NULL);
    if (st != FV_OK || is_admin(who)) return st;
    fv_ledger_actor self = actor_of(&u);
    if (who->role != self.role || who->id != self.id)
        return fv__ledger_fail(l, FV_ERR_STATE, "only an admin changes another user's password");
    if (u.disabled) return fv__ledger_fail(l, FV_ERR_STATE, "the user is disabled");
    if (scoped(u.role)) {
        sqlite3_stmt *q =
            fv__ledger_prepare(l, "SELECT COUNT(*) FROM user WHERE role = ? AND scope_id = ?");
        if (q == NULL) return FV_ERR_IO;
        sqlite3_bind_text(q, 1, fv__ledger_role_name(u.role), -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, u.scope_id);
        int rc = sqlite3_step(q);
        int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
        st = rc == SQLITE_ROW ? FV_OK : fv__ledger_db_fail(l, rc, "user");
        sqlite3_finalize(q);
        if (st == FV_OK && n != 1)
            st = fv__ledger_fail(l, FV_ERR_STATE,
                                 "several users act as this %s; only an admin changes their"
                                 " passwords",
                                 u.role == FV_LEDGER_ROLE_AGENT ? "agent" : "channel");
    }
    return st;
}

fv_status fv_ledger_user_set_password(fv_ledger *l, const fv_ledger_actor *who, int64_t id,
                                      const char *password) {
    fv__ledger_lock(l);
    fv_status st = may_set_password(l, who, id);
    if (st == FV_OK) st = check_password(l, password);
    fv__ledger_unlock(l);
    if (st != FV_OK) return st;

    char pw[PW_HASH_CHARS];
    fv_status hs = hash_password(password, pw);

    fv__ledger_lock(l);
    if (hs != FV_OK) {
        st = fv__ledger_fail(l, hs, "out of memory for the password hash");
        goto out;
    }
    st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    st = may_set_password(l, who, id); /* again: the user may have been disabled meanwhile */
    if (st == FV_OK) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "UPDATE user SET pw_hash = ? WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_text(q, 1, pw, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, id);
        }
        st = fv__ledger_step_done(l, q, "user password");
    }
    if (st == FV_OK) st = fv__ledger_audit(l, who, "user.password", "user", id);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    sodium_memzero(pw, sizeof pw);
    return st;
}

fv_status fv_ledger_user_set_disabled(fv_ledger *l, const fv_ledger_actor *who, int64_t id,
                                      bool disabled) {
    fv__ledger_lock(l);
    fv_status st = need_admin(l, who, "disables or enables users");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    fv_ledger_user u;
    st = load_user(l, id, &u, NULL);
    if (st == FV_OK && u.disabled == disabled) goto commit; /* nothing changes, nothing recorded */
    if (st == FV_OK && disabled && u.role == FV_LEDGER_ROLE_ADMIN) {
        int64_t admins = 0;
        st = fv__ledger_query_i64(l,
                                  "SELECT COUNT(*) FROM user WHERE role = 'admin'"
                                  " AND disabled = 0",
                                  &admins, 0);
        if (st == FV_OK && admins <= 1)
            st = fv__ledger_fail(l, FV_ERR_STATE, "the last enabled admin cannot be disabled");
    }
    if (st == FV_OK) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "UPDATE user SET disabled = ? WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_int(q, 1, disabled ? 1 : 0);
            sqlite3_bind_int64(q, 2, id);
        }
        st = fv__ledger_step_done(l, q, "user disable");
    }
    if (st == FV_OK)
        st = fv__ledger_audit(l, who, disabled ? "user.disable" : "user.enable", "user", id);
commit:
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}

/* Appends the tokens of user `id` as a JSON array (ids, names, times; never hashes). */
static void list_tokens(fv_ledger *l, int64_t id, fv_strbuf *out, int *rc_out) {
    fv_sb_printf(out, "[");
    sqlite3_stmt *t = fv__ledger_prepare(
        l, "SELECT id, name, created, revoked FROM api_token WHERE user_id = ? ORDER BY id");
    if (t == NULL) {
        *rc_out = SQLITE_ERROR;
        return;
    }
    sqlite3_bind_int64(t, 1, id);
    int rc, k = 0;
    while ((rc = sqlite3_step(t)) == SQLITE_ROW) {
        fv_sb_printf(out, "%s{\"id\": %lld, \"name\": ", k++ ? ", " : "",
                     (long long)sqlite3_column_int64(t, 0));
        fv_sb_json_string(out, (const char *)sqlite3_column_text(t, 1));
        fv_sb_printf(out,
                     ", \"created\": %lld, \"revoked\": ", (long long)sqlite3_column_int64(t, 2));
        if (sqlite3_column_type(t, 3) == SQLITE_NULL)
            fv_sb_printf(out, "null}");
        else
            fv_sb_printf(out, "%lld}", (long long)sqlite3_column_int64(t, 3));
    }
    sqlite3_finalize(t);
    fv_sb_printf(out, "]");
    if (rc != SQLITE_DONE) *rc_out = rc;
}

fv_status fv_ledger_user_list(fv_ledger *l, const fv_ledger_actor *who, fv_strbuf *out) {
    fv__ledger_lock(l);
    fv_status st = need_admin(l, who, "lists users");
    sqlite3_stmt *q = NULL;
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "SELECT id, login, role, COALESCE(scope_id, 0), disabled,"
                                  " created FROM user ORDER BY id");
        if (q == NULL) st = FV_ERR_IO;
    }
    if (st != FV_OK) goto out;
    fv_sb_printf(out, "[");
    int rc, n = 0, trc = SQLITE_DONE;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        fv_sb_printf(out, "%s{\"id\": %lld, \"login\": ", n++ ? ", " : "", (long long)id);
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 1));
        fv_sb_printf(out, ", \"role\": ");
        fv_sb_json_string(out, (const char *)sqlite3_column_text(q, 2));
        fv_sb_printf(out, ", \"scope_id\": %lld, \"disabled\": %s, \"created\": %lld, \"tokens\": ",
                     (long long)sqlite3_column_int64(q, 3),
                     sqlite3_column_int(q, 4) ? "true" : "false",
                     (long long)sqlite3_column_int64(q, 5));
        list_tokens(l, id, out, &trc);
        fv_sb_printf(out, "}");
    }
    fv_sb_printf(out, "]");
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE || trc != SQLITE_DONE)
        st = fv__ledger_db_fail(l, rc != SQLITE_DONE ? rc : trc, "users");
    else if (out->oom)
        st = fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
out:
    fv__ledger_unlock(l);
    return st;
}

/* ---- API tokens ------------------------------------------------------------------------------ */

static void token_hash(const fv_ledger *l, const char *token, uint8_t out[FV__LEDGER_HASH_BYTES]) {
    crypto_generichash(out, FV__LEDGER_HASH_BYTES, (const unsigned char *)token, strlen(token),
                       l->keys->token, FV__LEDGER_KEY_BYTES);
}

static bool token_shape_ok(const char *token) {
    if (token == NULL || strnlen(token, FV_LEDGER_TOKEN_CHARS) != FV_LEDGER_TOKEN_CHARS - 1 ||
        strncmp(token, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0)
        return false;
    for (const char *p = token + sizeof TOKEN_PREFIX - 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

static bool name_ok(const char *s) {
    if (s == NULL) return false;
    size_t n = strnlen(s, FV_LEDGER_NAME_MAX + 1);
    if (n == 0 || n > FV_LEDGER_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

fv_status fv_ledger_token_create(fv_ledger *l, const fv_ledger_actor *who, int64_t id,
                                 const char *name, char token[FV_LEDGER_TOKEN_CHARS]) {
    fv__ledger_lock(l);
    token[0] = '\0';
    char t[FV_LEDGER_TOKEN_CHARS];
    uint8_t h[FV__LEDGER_HASH_BYTES];
    fv_status st = need_admin(l, who, "creates API tokens");
    if (st == FV_OK && !name_ok(name))
        st = fv__ledger_fail(l, FV_ERR_ARG, "a token name must be 1-%d bytes of text",
                             FV_LEDGER_NAME_MAX);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    fv_ledger_user u;
    st = load_user(l, id, &u, NULL);
    if (st == FV_OK && u.disabled)
        st = fv__ledger_fail(l, FV_ERR_STATE, "the user is disabled; enable them first");
    int64_t tid = 0;
    if (st == FV_OK) {
        memcpy(t, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
        fv__ledger_random_hex(t + sizeof TOKEN_PREFIX - 1, TOKEN_HEX);
        token_hash(l, t, h);
        sqlite3_stmt *q = fv__ledger_prepare(
            l, "INSERT INTO api_token(user_id, name, hash, created) VALUES(?, ?, ?, ?)");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 3, h, sizeof h, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 4, fv__ledger_now(l));
        }
        st = fv__ledger_step_done(l, q, "api token");
        tid = sqlite3_last_insert_rowid(l->db);
    }
    if (st == FV_OK) st = fv__ledger_audit(l, who, "token.create", "token", tid);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK)
        fv__ledger_rollback(l);
    else
        memcpy(token, t, FV_LEDGER_TOKEN_CHARS);
out:
    sodium_memzero(t, sizeof t);
    sodium_memzero(h, sizeof h);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_token_check(fv_ledger *l, const char *token, fv_ledger_user *out) {
    fv__ledger_lock(l);
    if (out != NULL) memset(out, 0, sizeof *out);
    fv_status st = FV_OK;
    if (!token_shape_ok(token)) {
        st = fv__ledger_fail(l, FV_ERR_STATE, "%s", GENERIC_TOKEN);
        goto out;
    }
    uint8_t h[FV__LEDGER_HASH_BYTES];
    token_hash(l, token, h);
    sqlite3_stmt *q =
        fv__ledger_prepare(l, "SELECT t.user_id FROM api_token t JOIN user u ON u.id = t.user_id"
                              " WHERE t.hash = ? AND t.revoked IS NULL AND u.disabled = 0");
    if (q == NULL) {
        st = FV_ERR_IO;
        goto out;
    }
    sqlite3_bind_blob(q, 1, h, sizeof h, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    int64_t uid = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (rc == SQLITE_DONE)
        st = fv__ledger_fail(l, FV_ERR_STATE, "%s", GENERIC_TOKEN);
    else if (rc != SQLITE_ROW)
        st = fv__ledger_db_fail(l, rc, "api token");
    fv_ledger_user u;
    if (st == FV_OK) st = load_user(l, uid, &u, NULL);
    if (st == FV_OK && out != NULL) *out = u;
    sodium_memzero(h, sizeof h);
out:
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_token_revoke(fv_ledger *l, const fv_ledger_actor *who, int64_t token_id) {
    fv__ledger_lock(l);
    fv_status st = need_admin(l, who, "revokes API tokens");
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    int64_t revoked = 0;
    st = fv__ledger_query_i64(l, "SELECT revoked IS NOT NULL FROM api_token WHERE id = ?", &revoked,
                              1, token_id);
    if (st == FV_ERR_NOT_FOUND) st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such API token");
    if (st == FV_OK && !revoked) { /* revoking twice changes nothing and records nothing */
        sqlite3_stmt *q = fv__ledger_prepare(l, "UPDATE api_token SET revoked = ? WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, fv__ledger_now(l));
            sqlite3_bind_int64(q, 2, token_id);
        }
        st = fv__ledger_step_done(l, q, "api token revoke");
        if (st == FV_OK) st = fv__ledger_audit(l, who, "token.revoke", "token", token_id);
    }
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) fv__ledger_rollback(l);
out:
    fv__ledger_unlock(l);
    return st;
}
