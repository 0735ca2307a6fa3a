/*
 * audit.c - the tamper-evident audit log: an append-only hash chain in ledger.db.
 *
 * Entry seq (1, 2, ...) stores at (ms), actor ("reception:3"), action ("vault.search"), record
 * ("visit:12") and hash = BLAKE2b-256 keyed with the site's audit key over
 *   prev hash (32 bytes; zeros for seq 1) | seq (i64 LE) | at (i64 LE) | actor NUL | action NUL |
 *   record NUL
 * audit_head holds the last seq and hash, updated in the same transaction. Verification walks
 * the chain from seq 1: a changed field breaks that entry's hash, a removed entry leaves a gap in
 * seq (or a head that points past the end), a swapped pair breaks the first of them. The key
 * makes the chain impossible to recompute without ledger.key. Entries carry ids only: never
 * names, phones, codes or templates (callers pass record kinds and row ids).
 * Threading: per handle; appends run inside the caller's transaction.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

static const char *const ROLE_NAMES[FV_LEDGER_ROLE_COUNT] = {
    "admin", "reception", "channel_manager", "agent", "auditor", "kiosk", "visitor", "system",
};
_Static_assert(sizeof ROLE_NAMES / sizeof ROLE_NAMES[0] == FV_LEDGER_ROLE_COUNT, "role names");

const char *fv__ledger_role_name(fv_ledger_role r) {
    return (unsigned)r < FV_LEDGER_ROLE_COUNT ? ROLE_NAMES[r] : "unknown";
}

static void put64(uint8_t *p, int64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static void entry_hash(const fv_ledger *l, const uint8_t *prev, int64_t seq, int64_t at,
                       const char *actor, const char *action, const char *record, uint8_t *out) {
    crypto_generichash_state h;
    uint8_t n[16];
    put64(n, seq);
    put64(n + 8, at);
    crypto_generichash_init(&h, l->keys->audit, FV__LEDGER_KEY_BYTES, FV__LEDGER_HASH_BYTES);
    crypto_generichash_update(&h, prev, FV__LEDGER_HASH_BYTES);
    crypto_generichash_update(&h, n, sizeof n);
    crypto_generichash_update(&h, (const unsigned char *)actor, strlen(actor) + 1);
    crypto_generichash_update(&h, (const unsigned char *)action, strlen(action) + 1);
    crypto_generichash_update(&h, (const unsigned char *)record, strlen(record) + 1);
    crypto_generichash_final(&h, out, FV__LEDGER_HASH_BYTES);
}

fv_status fv__ledger_audit(fv_ledger *l, const fv_ledger_actor *who, const char *action,
                           const char *record_kind, int64_t record_id) {
    char actor[48], record[64];
    snprintf(actor, sizeof actor, "%s:%lld", fv__ledger_role_name(who->role), (long long)who->id);
    snprintf(record, sizeof record, "%s:%lld", record_kind, (long long)record_id);
    uint8_t prev[FV__LEDGER_HASH_BYTES] = {0}, hash[FV__LEDGER_HASH_BYTES];
    int64_t seq = 1;
    sqlite3_stmt *s = fv__ledger_prepare(l, "SELECT seq, hash FROM audit_head WHERE one = 1");
    if (s == NULL) return FV_ERR_IO;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 1) == FV__LEDGER_HASH_BYTES) {
        seq = sqlite3_column_int64(s, 0) + 1;
        memcpy(prev, sqlite3_column_blob(s, 1), FV__LEDGER_HASH_BYTES);
    } else if (rc != SQLITE_DONE) {
        fv_status st = rc == SQLITE_ROW
                           ? fv__ledger_fail(l, FV_ERR_FORMAT, "audit head is malformed")
                           : fv__ledger_db_fail(l, rc, "audit head");
        sqlite3_finalize(s);
        return st;
    }
    sqlite3_finalize(s);
    int64_t at = fv__ledger_now(l);
    entry_hash(l, prev, seq, at, actor, action, record, hash);
    s = fv__ledger_prepare(l, "INSERT INTO audit(seq, at, actor, action, record, hash)"
                              " VALUES(?, ?, ?, ?, ?, ?)");
    if (s == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, actor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, record, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 6, hash, sizeof hash, SQLITE_TRANSIENT);
    fv_status st = fv__ledger_step_done(l, s, "audit append");
    if (st != FV_OK) return st;
    s = fv__ledger_prepare(l, "INSERT INTO audit_head(one, seq, hash) VALUES(1, ?, ?)"
                              " ON CONFLICT(one) DO UPDATE SET seq = excluded.seq,"
                              " hash = excluded.hash");
    if (s == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_blob(s, 2, hash, sizeof hash, SQLITE_TRANSIENT);
    return fv__ledger_step_done(l, s, "audit head");
}

fv_status fv__ledger_audited_delivery(fv_ledger *l, const fv_ledger_actor *who, const char *action,
                                      const char *record_kind, int64_t record_id,
                                      const fv_strbuf *built, fv_strbuf *out) {
    if (built->oom || built->s == NULL) return fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    fv_status st = fv__ledger_begin(l);
    if (st != FV_OK) return st;
    size_t mark = out->len;
    st = fv__ledger_audit(l, who, action, record_kind, record_id);
    if (st == FV_OK) {
        fv_sb_printf(out, "%s", built->s);
        if (out->oom) st = fv__ledger_fail(l, FV_ERR_NOMEM, "out of memory");
    }
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) {
        fv__ledger_rollback(l);
        if (out->s != NULL && out->len > mark) {
            fv_wipe(out->s + mark, out->len - mark);
            out->len = mark;
            out->s[mark] = '\0';
        }
    }
    return st;
}

static fv_status bad(fv_ledger_audit_report *rep, int64_t seq, const char *why) {
    rep->first_bad = seq;
    snprintf(rep->reason, sizeof rep->reason, "%s", why);
    return FV_ERR_FORMAT;
}

static fv_status verify(fv_ledger *l, fv_ledger_audit_report *rep);

fv_status fv_ledger_audit_verify(fv_ledger *l, fv_ledger_audit_report *rep) {
    fv__ledger_lock(l);
    fv_status st = verify(l, rep);
    fv__ledger_unlock(l);
    return st;
}

static fv_status verify(fv_ledger *l, fv_ledger_audit_report *rep) {
    memset(rep, 0, sizeof *rep);
    uint8_t prev[FV__LEDGER_HASH_BYTES] = {0}, h[FV__LEDGER_HASH_BYTES];
    fv__ledger_hex(prev, sizeof prev, rep->head);
    sqlite3_stmt *s = fv__ledger_prepare(
        l, "SELECT seq, at, actor, action, record, hash FROM audit ORDER BY seq");
    if (s == NULL) return FV_ERR_IO;
    int64_t expect = 1;
    fv_status st = FV_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0), at = sqlite3_column_int64(s, 1);
        const char *actor = (const char *)sqlite3_column_text(s, 2);
        const char *action = (const char *)sqlite3_column_text(s, 3);
        const char *record = (const char *)sqlite3_column_text(s, 4);
        if (seq != expect) {
            st = bad(rep, expect,
                     seq > expect ? "entry is missing (a gap in the sequence)"
                                  : "entry is out of sequence");
            break;
        }
        if (actor == NULL || action == NULL || record == NULL ||
            sqlite3_column_bytes(s, 5) != FV__LEDGER_HASH_BYTES) {
            st = bad(rep, seq, "entry is malformed");
            break;
        }
        entry_hash(l, prev, seq, at, actor, action, record, h);
        if (sodium_memcmp(h, sqlite3_column_blob(s, 5), FV__LEDGER_HASH_BYTES) != 0) {
            st = bad(rep, seq, "entry was altered, or an entry before it was moved");
            break;
        }
        memcpy(prev, h, sizeof h);
        fv__ledger_hex(prev, sizeof prev, rep->head);
        rep->entries++;
        expect++;
    }
    if (st == FV_OK && rc != SQLITE_DONE) st = fv__ledger_db_fail(l, rc, "audit read");
    sqlite3_finalize(s);
    if (st != FV_OK) return st;
    /* The head must name the last entry: entries removed from the end show here. */
    s = fv__ledger_prepare(l, "SELECT seq, hash FROM audit_head WHERE one = 1");
    if (s == NULL) return FV_ERR_IO;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t hseq = sqlite3_column_int64(s, 0);
        if (hseq != expect - 1)
            st = bad(rep, hseq > expect - 1 ? expect : hseq + 1,
                     hseq > expect - 1 ? "entry is missing (the chain ends before its head)"
                                       : "entry is not covered by the chain head");
        else if (sqlite3_column_bytes(s, 1) != FV__LEDGER_HASH_BYTES ||
                 sodium_memcmp(sqlite3_column_blob(s, 1), prev, FV__LEDGER_HASH_BYTES) != 0)
            st = bad(rep, hseq, "chain head does not match the last entry");
    } else if (rc == SQLITE_DONE) {
        if (expect != 1) st = bad(rep, 1, "chain head is missing");
    } else {
        st = fv__ledger_db_fail(l, rc, "audit head");
    }
    sqlite3_finalize(s);
    return st;
}
