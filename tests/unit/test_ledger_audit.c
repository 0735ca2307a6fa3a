/*
 * test_ledger_audit.c - the ledger's audit chain (PRODUCT.md §4.11): entries made through the
 * public API (project, channel, agent, notice, consent, one-time code, registration, check-in)
 * verify; then, with the ledger closed, ledger.db is edited directly through SQLite as an
 * attacker with file access would, and fv_ledger_audit_verify must name the first bad entry for
 * each edit: a changed actor, action, record, time or hash; a deleted middle entry; a deleted
 * last entry (caught by the chain head); two rows with their contents swapped; renumbered
 * sequences; an edited, rolled back or missing chain head; an appended forged entry; a chain
 * checked with another site's key. A fresh site (no entries) verifies. Audit entries hold ids
 * only: no phone digits, names or codes (§4.12).
 *
 * Each case makes its own throw-away site under /tmp (fake phones 1380000xxxx, no face data).
 * Threading: single-threaded.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/ledger.h"
#include "ledger-impl.h"

#define PHONE     "13800001234"
#define PHONE2    "13800005678"
#define CUSTOMER  "Zhang Sanfeng 张三丰"
#define AGENT     "Li Siguang 李四光"
#define MIDDLE    3                        /* the entry most cases tamper with */
#define T0        ((int64_t)1767225600000) /* 2026-01-01T00:00:00Z */
#define MINUTE_MS ((int64_t)60000)

typedef struct site {
    char dir[64];
    int64_t entries; /* audit entries made by populate() */
    int64_t clock;
    char otp_code[16];
} site;

static int64_t site_clock(void *ctx) {
    site *s = ctx;
    s->clock += MINUTE_MS;
    return s->clock;
}

static int capture_code(void *ctx, const char *phone, const char *code) {
    site *s = ctx;
    (void)phone;
    snprintf(s->otp_code, sizeof s->otp_code, "%s", code);
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void site_remove(site *s) {
    if (s->dir[0]) nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
}

static fv_ledger *site_open(site *s, bool with_vault) {
    fv_ledger_options opt = {.now_ms = site_clock,
                             .clock_ctx = s,
                             .otp_send = capture_code,
                             .otp_ctx = s,
                             .no_vault = !with_vault};
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(s->dir, &opt, &l);
    if (st != FV_OK) {
        CHECK_FAIL("open: %s: %s", fv_status_name(st), fv_ledger_errmsg(l));
        fv_ledger_close(l);
        return NULL;
    }
    return l;
}

static bool site_make(site *s) {
    memset(s, 0, sizeof *s);
    s->clock = T0;
    snprintf(s->dir, sizeof s->dir, "/tmp/fv_audit_XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        CHECK_FAIL("mkdtemp");
        s->dir[0] = '\0';
        return false;
    }
    fv_status st = fv_ledger_init_site(s->dir);
    CHECK_INT_EQ(st, FV_OK);
    return st == FV_OK;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        fv_status ok_st_ = (call);                                                                 \
        if (ok_st_ != FV_OK) {                                                                     \
            CHECK_FAIL("%s: %s: %s", #call, fv_status_name(ok_st_), fv_ledger_errmsg(l));          \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

/* Entries through the public API: project, channel, agent, notice, a consent and its withdrawal,
 * a one-time code, a registration, check-ins by code and by reception. */
static bool populate(site *s, fv_ledger *l) {
    fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1}, kiosk = {FV_LEDGER_ROLE_KIOSK, 2};
    fv_ledger_actor reception = {FV_LEDGER_ROLE_RECEPTION, 3};
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "audit-test");
    snprintf(ps.name, sizeof ps.name, "Audit Garden");
    snprintf(ps.controller, sizeof ps.controller, "Audit Property Co.");
    snprintf(ps.controller_contact, sizeof ps.controller_contact, "privacy@example.invalid");
    int64_t project = 0, channel = 0, agent = 0;
    OK(fv_ledger_project_create(l, &admin, &ps, &project));
    fv_ledger_channel ch = {FV_LEDGER_CHANNEL_AGENCY, "Agency One", 0, FV_LEDGER_COMMISSION_PERCENT,
                            100};
    OK(fv_ledger_channel_create(l, &admin, project, &ch, &channel));
    fv_ledger_agent ag = {AGENT, "", 0};
    OK(fv_ledger_agent_create(l, &admin, channel, &ag, &agent));
    int version = 0;
    OK(fv_ledger_notice_publish(l, &admin, project, "告知 v1", "notice v1", &version));
    fv_strbuf nb = {0};
    OK(fv_ledger_notice_current(l, project, &nb));
    fv_ledger_consent_request crq;
    memset(&crq, 0, sizeof crq);
    crq.project = project;
    crq.notice_version = version;
    const char *h = strstr(nb.s, "\"hash\": \"");
    if (h != NULL) snprintf(crq.notice_hash, sizeof crq.notice_hash, "%.64s", h + 9);
    fv_sb_free(&nb);
    snprintf(crq.device, sizeof crq.device, "kiosk-2");
    snprintf(crq.method, sizeof crq.method, "kiosk_touch");
    char consent[FV_LEDGER_ID_CHARS];
    OK(fv_ledger_consent_record(l, &kiosk, &crq, consent));
    OK(fv_ledger_consent_withdraw(l, &kiosk, consent));

    fv_ledger_registration_request rrq;
    memset(&rrq, 0, sizeof rrq);
    rrq.project = project;
    rrq.agent = agent;
    snprintf(rrq.customer_name, sizeof rrq.customer_name, CUSTOMER);
    snprintf(rrq.phone, sizeof rrq.phone, PHONE);
    fv_ledger_registration_result rres;
    fv_ledger_actor agent_actor = {FV_LEDGER_ROLE_AGENT, agent};
    OK(fv_ledger_register(l, &agent_actor, &rrq, &rres));

    fv_ledger_checkin_request q;
    memset(&q, 0, sizeof q);
    q.project = project;
    snprintf(q.phone, sizeof q.phone, PHONE);
    OK(fv_ledger_otp_send(l, &kiosk, project, PHONE, q.otp_id));
    snprintf(q.otp_code, sizeof q.otp_code, "%s", s->otp_code);
    snprintf(q.device, sizeof q.device, "kiosk-2");
    fv_ledger_checkin_result res;
    OK(fv_ledger_checkin(l, &kiosk, &q, &res));
    memset(&q, 0, sizeof q);
    q.project = project;
    snprintf(q.phone, sizeof q.phone, PHONE2);
    snprintf(q.device, sizeof q.device, "reception-1");
    OK(fv_ledger_checkin(l, &reception, &q, &res));
    return true;
}

#undef OK

/* ---- direct access to ledger.db, as an attacker with the file would have ---------------- */

static sqlite3 *db_open(const site *s) {
    char path[128];
    snprintf(path, sizeof path, "%s/ledger.db", s->dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        CHECK_FAIL("sqlite3_open %s", path);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Runs sql on the closed site's ledger.db. */
static bool tamper(const site *s, const char *sql) {
    sqlite3 *db = db_open(s);
    if (db == NULL) return false;
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) CHECK_FAIL("tamper '%s': %s", sql, err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

static bool db_i64(const site *s, const char *sql, int64_t *out) {
    sqlite3 *db = db_open(s);
    if (db == NULL) return false;
    sqlite3_stmt *q = NULL;
    bool ok =
        sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW;
    if (ok)
        *out = sqlite3_column_int64(q, 0);
    else
        CHECK_FAIL("query '%s': %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return ok;
}

/* A site with populate()'s entries, closed. */
static bool site_populate_new(site *s) {
    if (!site_make(s)) return false;
    fv_ledger *l = site_open(s, true);
    if (l == NULL) return false;
    bool ok = populate(s, l);
    fv_ledger_close(l);
    if (ok) ok = db_i64(s, "SELECT COUNT(*) FROM audit", &s->entries);
    if (ok && s->entries < MIDDLE + 2) {
        CHECK_FAIL("only %lld audit entries", (long long)s->entries);
        ok = false;
    }
    return ok;
}

static bool copy_file(const char *from_dir, const char *to_dir, const char *name, int must) {
    char from[128], to[128];
    snprintf(from, sizeof from, "%s/%s", from_dir, name);
    snprintf(to, sizeof to, "%s/%s", to_dir, name);
    FILE *in = fopen(from, "rb");
    if (in == NULL) {
        if (must) CHECK_FAIL("cannot read %s", from);
        return !must;
    }
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    bool ok = out != NULL;
    char buf[8192];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (out != NULL && fclose(out) != 0) ok = false;
    if (out == NULL && fd >= 0) close(fd);
    fclose(in);
    if (!ok) CHECK_FAIL("cannot copy %s", name);
    return ok;
}

/* The populated site is made once (a site's vault takes a while to create under the
 * sanitizers) and each case gets a copy of its ledger (the cases open it without the vault). */
static site pristine;
static bool pristine_ok;

static bool site_populated(site *s) {
    if (!pristine_ok && pristine.dir[0] == '\0') pristine_ok = site_populate_new(&pristine);
    if (!pristine_ok) return false;
    memset(s, 0, sizeof *s);
    s->clock = pristine.clock;
    s->entries = pristine.entries;
    memcpy(s->otp_code, pristine.otp_code, sizeof s->otp_code);
    snprintf(s->dir, sizeof s->dir, "/tmp/fv_audit_XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        s->dir[0] = '\0';
        CHECK_FAIL("mkdtemp");
        return false;
    }
    return copy_file(pristine.dir, s->dir, "ledger.key", 1) &&
           copy_file(pristine.dir, s->dir, "ledger.db", 1) &&
           copy_file(pristine.dir, s->dir, "ledger.db-wal", 0);
}

/* Verifies the closed site through a fresh handle without the vault. */
static fv_status verify(site *s, fv_ledger_audit_report *rep) {
    memset(rep, 0, sizeof *rep);
    fv_ledger *l = site_open(s, false);
    if (l == NULL) return FV_ERR_IO;
    fv_status st = fv_ledger_audit_verify(l, rep);
    fv_ledger_close(l);
    return st;
}

/* lower-case hex of the hash of entry seq (64 zeros for seq 0). */
static void entry_hex(const site *s, int64_t seq, char out[65]) {
    memset(out, '0', 2 * FV__LEDGER_HASH_BYTES);
    out[2 * FV__LEDGER_HASH_BYTES] = '\0';
    if (seq == 0) return;
    sqlite3 *db = db_open(s);
    if (db == NULL) return;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT lower(hex(hash)) FROM audit WHERE seq = ?", -1, &q, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(q, 1, seq);
        if (sqlite3_step(q) == SQLITE_ROW)
            snprintf(out, 65, "%s", (const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* A fresh site has no entries and verifies. */
static void test_fresh_site_verifies(void) {
    site s;
    if (site_make(&s)) {
        fv_ledger_audit_report rep;
        CHECK_INT_EQ(verify(&s, &rep), FV_OK);
        CHECK_INT_EQ(rep.entries, 0);
        CHECK_INT_EQ(rep.first_bad, 0);
        char zeros[65];
        entry_hex(&s, 0, zeros);
        CHECK_STR_CONTAINS(rep.head, zeros);
    }
    site_remove(&s);
}

/* Entries made through the API verify, across handles, and the head is the last entry's hash. */
static void test_untouched_chain_verifies(void) {
    site s;
    if (site_populated(&s)) {
        fv_ledger_audit_report rep;
        CHECK_INT_EQ(verify(&s, &rep), FV_OK);
        CHECK_INT_EQ(rep.entries, s.entries);
        CHECK_INT_EQ(rep.first_bad, 0);
        char last[65];
        entry_hex(&s, s.entries, last);
        CHECK(strcmp(rep.head, last) == 0);
        /* a later handle appends to the same chain */
        fv_ledger *l = site_open(&s, false);
        if (l != NULL) {
            fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1};
            fv_ledger_project_settings ps;
            fv_ledger_project_defaults(&ps);
            snprintf(ps.code, sizeof ps.code, "second");
            snprintf(ps.name, sizeof ps.name, "Second Garden");
            int64_t id = 0;
            CHECK_INT_EQ(fv_ledger_project_create(l, &admin, &ps, &id), FV_OK);
            fv_ledger_close(l);
        }
        CHECK_INT_EQ(verify(&s, &rep), FV_OK);
        CHECK_INT_EQ(rep.entries, s.entries + 1);
        CHECK_INT_EQ(rep.first_bad, 0);
    }
    site_remove(&s);
}

/* Tamper cases: SQL run on the closed ledger.db, with {M} the middle entry, {M1} the one after
 * it, {L} the last entry; the first bad entry expected ("1", "M", "L" or "L1" = last + 1) and a
 * word of the reason. walk: the verifier stops on an entry, so the entries before it verified and
 * the report's head is the hash of the entry before it. */
typedef struct tamper_case {
    const char *name, *sql, *first_bad, *reason;
    bool walk;
} tamper_case;

static const tamper_case CASES[] = {
    {"edited actor", "UPDATE audit SET actor = 'admin:999' WHERE seq = {M}", "M", "altered", true},
    {"edited action", "UPDATE audit SET action = 'nothing.happened' WHERE seq = {M}", "M",
     "altered", true},
    {"edited record", "UPDATE audit SET record = 'project:999' WHERE seq = {M}", "M", "altered",
     true},
    {"edited time", "UPDATE audit SET at = at + 1 WHERE seq = {M}", "M", "altered", true},
    {"edited hash", "UPDATE audit SET hash = zeroblob(32) WHERE seq = {M}", "M", "altered", true},
    {"hash of the next entry",
     "UPDATE audit SET hash = (SELECT hash FROM audit WHERE seq = {M1})"
     " WHERE seq = {M}",
     "M", "altered", true},
    {"truncated hash", "UPDATE audit SET hash = substr(hash, 1, 31) WHERE seq = {M}", "M",
     "malformed", true},
    {"edited first entry", "UPDATE audit SET actor = 'kiosk:1' WHERE seq = 1", "1", "altered",
     true},
    {"deleted middle entry", "DELETE FROM audit WHERE seq = {M}", "M", "missing", true},
    {"deleted first entry", "DELETE FROM audit WHERE seq = 1", "1", "missing", true},
    {"deleted last entry", "DELETE FROM audit WHERE seq = {L}", "L", "before its head", false},
    {"deleted last two entries", "DELETE FROM audit WHERE seq >= {L} - 1", "L0", "before its head",
     false},
    {"deleted every entry", "DELETE FROM audit", "1", "before its head", false},
    {"swapped pair",
     "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN ({M}, {M1});"
     "UPDATE audit SET (at, actor, action, record, hash) = (SELECT at, actor, action, record, hash"
     " FROM t WHERE seq = {M1}) WHERE seq = {M};"
     "UPDATE audit SET (at, actor, action, record, hash) = (SELECT at, actor, action, record, hash"
     " FROM t WHERE seq = {M}) WHERE seq = {M1};",
     "M", "altered", true},
    {"two sequence numbers exchanged",
     "UPDATE audit SET seq = -1 WHERE seq = {M}; UPDATE audit SET seq = {M} WHERE seq = {M1};"
     " UPDATE audit SET seq = {M1} WHERE seq = -1",
     "M", "altered", true},
    {"sequence renumbered from 2",
     "UPDATE audit SET seq = seq + 1000; UPDATE audit SET seq = seq - 999", "1", "missing", true},
    {"sequence renumbered after a deletion",
     "DELETE FROM audit WHERE seq = {M}; UPDATE audit SET seq = seq + 1000 WHERE seq > {M};"
     " UPDATE audit SET seq = seq - 1001 WHERE seq > 1000; UPDATE audit_head SET seq = seq - 1",
     "M", "altered", true},
    {"last entry renumbered", "UPDATE audit SET seq = seq + 1 WHERE seq = {L}", "L", "missing",
     true},
    {"edited head hash", "UPDATE audit_head SET hash = zeroblob(32)", "L", "head does not match",
     false},
    {"head rolled back one entry",
     "UPDATE audit_head SET seq = {L} - 1, hash = (SELECT hash FROM audit WHERE seq = {L} - 1)",
     "L", "not covered", false},
    {"head moved forward", "UPDATE audit_head SET seq = {L} + 1", "L1", "before its head", false},
    {"head removed", "DELETE FROM audit_head", "1", "head is missing", false},
    {"forged entry appended",
     "INSERT INTO audit(seq, at, actor, action, record, hash) VALUES({L} + 1, 0, 'admin:1',"
     " 'project.create', 'project:1', zeroblob(32))",
     "L1", "altered", true},
    {"forged entry appended with its head",
     "INSERT INTO audit(seq, at, actor, action, record, hash) VALUES({L} + 1, 0, 'admin:1',"
     " 'project.create', 'project:1', randomblob(32));"
     "UPDATE audit_head SET seq = {L} + 1, hash = (SELECT hash FROM audit WHERE seq = {L} + 1)",
     "L1", "altered", true},
};

/* sql with {M}, {M1} and {L} replaced. */
static void expand(const char *tmpl, int64_t mid, int64_t last, char *out, size_t n) {
    size_t o = 0;
    while (*tmpl && o + 24 < n) {
        int64_t v = 0;
        size_t skip = 0;
        if (strncmp(tmpl, "{M1}", 4) == 0)
            v = mid + 1, skip = 4;
        else if (strncmp(tmpl, "{M}", 3) == 0)
            v = mid, skip = 3;
        else if (strncmp(tmpl, "{L}", 3) == 0)
            v = last, skip = 3;
        if (skip) {
            o += (size_t)snprintf(out + o, n - o, "%lld", (long long)v);
            tmpl += skip;
        } else {
            out[o++] = *tmpl++;
        }
    }
    out[o] = '\0';
}

static int64_t expected_seq(const char *which, int64_t last) {
    if (strcmp(which, "M") == 0) return MIDDLE;
    if (strcmp(which, "L") == 0) return last;
    if (strcmp(which, "L0") == 0) return last - 1;
    if (strcmp(which, "L1") == 0) return last + 1;
    return atoll(which);
}

static void run_case(const tamper_case *c) {
    site s;
    if (site_populated(&s)) {
        char sql[2048];
        expand(c->sql, MIDDLE, s.entries, sql, sizeof sql);
        int64_t want = expected_seq(c->first_bad, s.entries);
        char good_head[65];
        if (c->walk) entry_hex(&s, want - 1, good_head); /* before tampering */
        if (tamper(&s, sql)) {
            fv_ledger_audit_report rep;
            fv_status st = verify(&s, &rep);
            if (st != FV_ERR_FORMAT || rep.first_bad != want ||
                strstr(rep.reason, c->reason) == NULL)
                CHECK_FAIL("%s: status %s, first bad %lld (want %lld), reason '%s' (want '%s')",
                           c->name, fv_status_name(st), (long long)rep.first_bad, (long long)want,
                           rep.reason, c->reason);
            if (c->walk && (rep.entries != want - 1 || strcmp(rep.head, good_head) != 0))
                CHECK_FAIL("%s: %lld entries verified (want %lld), head %s (want %s)", c->name,
                           (long long)rep.entries, (long long)(want - 1), rep.head, good_head);
        }
    }
    site_remove(&s);
}

static void test_tampering_is_named(void) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
}

/* The chain is keyed: another site's ledger.key cannot verify it (nor could it extend it). */
static void test_other_key_fails(void) {
    site a, b;
    memset(&b, 0, sizeof b);
    if (site_populated(&a) && site_make(&b)) {
        char from[128], to[128];
        snprintf(from, sizeof from, "%s/ledger.key", b.dir);
        snprintf(to, sizeof to, "%s/ledger.key", a.dir);
        CHECK_INT_EQ(rename(from, to), 0);
        fv_ledger_audit_report rep;
        CHECK_INT_EQ(verify(&a, &rep), FV_ERR_FORMAT);
        CHECK_INT_EQ(rep.first_bad, 1);
        CHECK_STR_CONTAINS(rep.reason, "altered");
    }
    site_remove(&a);
    site_remove(&b);
}

/* Audit entries are ids only: role:id, a dotted action, kind:id; no phone digits, names, masks,
 * codes. And ledger.db keeps the phone and the customer's name nowhere in clear. */
static bool shape_ok(const char *s, bool colon_id, bool dots) {
    size_t i = 0;
    while (s[i] && (islower((unsigned char)s[i]) || s[i] == '_' || (dots && s[i] == '.'))) i++;
    if (i == 0) return false;
    if (!colon_id) return s[i] == '\0';
    if (s[i++] != ':') return false;
    size_t digits = 0;
    if (s[i] == '-') i++;
    while (isdigit((unsigned char)s[i])) i++, digits++;
    return s[i] == '\0' && digits >= 1 && digits <= 6;
}

static void test_entries_hold_no_personal_data(void) {
    site s;
    if (site_populated(&s)) {
        const char *banned[] = {PHONE,   PHONE2,   "1380000",    "1234",   "5678",    "****",
                                "Zhang", "张三丰", "Li Siguang", "李四光", s.otp_code};
        sqlite3 *db = db_open(&s);
        sqlite3_stmt *q = NULL;
        int rows = 0;
        if (db != NULL && sqlite3_prepare_v2(db, "SELECT seq, actor, action, record FROM audit", -1,
                                             &q, NULL) == SQLITE_OK) {
            while (sqlite3_step(q) == SQLITE_ROW) {
                rows++;
                long long seq = sqlite3_column_int64(q, 0);
                const char *f[3];
                for (int k = 0; k < 3; k++) f[k] = (const char *)sqlite3_column_text(q, k + 1);
                if (!shape_ok(f[0], true, false) || !shape_ok(f[1], false, true) ||
                    !shape_ok(f[2], true, false))
                    CHECK_FAIL("entry %lld is not ids only: '%s' '%s' '%s'", seq, f[0], f[1], f[2]);
                for (int k = 0; k < 3; k++)
                    for (size_t b = 0; b < sizeof banned / sizeof banned[0]; b++)
                        if (banned[b][0] && strstr(f[k], banned[b]) != NULL)
                            CHECK_FAIL("entry %lld holds '%s'", seq, banned[b]);
            }
        }
        sqlite3_finalize(q);
        sqlite3_close(db);
        CHECK_INT_EQ(rows, s.entries);
        CHECK(strlen(s.otp_code) == 6); /* the code path ran */
        /* the whole file: no phone, no customer name in clear */
        char path[128];
        snprintf(path, sizeof path, "%s/ledger.db", s.dir);
        FILE *fp = fopen(path, "rb");
        CHECK(fp != NULL);
        if (fp != NULL) {
            fseek(fp, 0, SEEK_END);
            long n = ftell(fp);
            fseek(fp, 0, SEEK_SET);
            char *buf = malloc((size_t)n + 1);
            if (buf != NULL && fread(buf, 1, (size_t)n, fp) == (size_t)n) {
                const char *clear[] = {PHONE, PHONE2, "Zhang Sanfeng", "张三丰"};
                for (size_t b = 0; b < sizeof clear / sizeof clear[0]; b++)
                    CHECK(memmem(buf, (size_t)n, clear[b], strlen(clear[b])) == NULL);
            }
            free(buf);
            fclose(fp);
        }
    }
    site_remove(&s);
}

int main(void) {
    RUN(test_fresh_site_verifies);
    RUN(test_untouched_chain_verifies);
    RUN(test_tampering_is_named);
    RUN(test_other_key_fails);
    RUN(test_entries_hold_no_personal_data);
    site_remove(&pristine);
    return check_summary();
}
