/*
 * test_ledger_schema.c - the ledger's site files and schema: ledger.key permissions and refusal
 * to overwrite a site, migrations (applied once, a newer database refused), phone normalisation
 * and masking, and the column allow-list.
 *
 * The allow-list is the privacy review of the schema (COMPLIANCE rows C1, C9, C20): every column
 * of ledger.db is listed here with what it holds, and the test fails when a column appears that
 * is not listed, so no new field (a photo, a name in clear, a score about a person's finances or
 * behaviour) can be added without updating this list and docs/ledger.md.
 * Threading: single-threaded.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/ledger.h"

static char *make_site(void) {
    static char tmpl[64];
    snprintf(tmpl, sizeof tmpl, "/tmp/fv-ledger-schema-XXXXXX");
    char *d = mkdtemp(tmpl);
    if (d == NULL) return NULL;
    char site[128];
    snprintf(site, sizeof site, "%s/site", d);
    if (fv_ledger_init_site(site) != FV_OK) return NULL;
    return strdup(site);
}

static void rm_rf(const char *dir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

static void test_site_files(void) {
    char *site = make_site();
    CHECK(site != NULL);
    if (site == NULL) return;
    char p[256];
    struct stat sb;
    snprintf(p, sizeof p, "%s/ledger.key", site);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32);
    snprintf(p, sizeof p, "%s/vault/master.key", site);
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(stat(site, &sb) == 0 && (sb.st_mode & 077) == 0);
    /* A second init refuses and leaves the key alone. */
    unsigned char before[32], after[32];
    snprintf(p, sizeof p, "%s/ledger.key", site);
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL && fread(before, 1, 32, f) == 32);
    if (f) fclose(f);
    CHECK_INT_EQ(fv_ledger_init_site(site), FV_ERR_STATE);
    f = fopen(p, "rb");
    CHECK(f != NULL && fread(after, 1, 32, f) == 32);
    if (f) fclose(f);
    CHECK(memcmp(before, after, 32) == 0);
    /* A key readable by others is refused with a message saying so. */
    CHECK(chmod(p, 0644) == 0);
    fv_ledger *l = NULL;
    CHECK_INT_EQ(fv_ledger_open(site, NULL, &l), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(l), "ledger.key");
    fv_ledger_close(l);
    CHECK(chmod(p, 0600) == 0);
    l = NULL;
    CHECK_INT_EQ(fv_ledger_open(site, NULL, &l), FV_OK);
    fv_ledger_close(l);
    /* No site: a clear error. */
    l = NULL;
    CHECK_INT_EQ(fv_ledger_open("/tmp/fv-no-such-site-folder", NULL, &l), FV_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(l), "fairvisit init");
    fv_ledger_close(l);
    rm_rf(site);
    free(site);
}

static int user_version(const char *site) {
    char p[256];
    snprintf(p, sizeof p, "%s/ledger.db", site);
    sqlite3 *db = NULL;
    int v = -1;
    if (sqlite3_open(p, &db) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return v;
}

static void test_migrations(void) {
    char *site = make_site();
    CHECK(site != NULL);
    if (site == NULL) return;
    int v = user_version(site);
    CHECK(v >= 1);
    for (int i = 0; i < 2; i++) {
        fv_ledger *l = NULL;
        CHECK_INT_EQ(fv_ledger_open(site, &(fv_ledger_options){.no_vault = true}, &l), FV_OK);
        fv_ledger_close(l);
        CHECK_INT_EQ(user_version(site), v);
    }
    char p[256];
    snprintf(p, sizeof p, "%s/ledger.db", site);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    fv_ledger *l = NULL;
    CHECK_INT_EQ(fv_ledger_open(site, &(fv_ledger_options){.no_vault = true}, &l),
                 FV_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(l), "schema version 999");
    fv_ledger_close(l);
    rm_rf(site);
    free(site);
}

static void test_phone_mask(void) {
    static const struct {
        const char *in, *mask;
    } ok[] = {
        {"13812341234", "138****1234"},
        {"+86 138 1234 1234", "138****1234"},
        {"0086-13812341234", "138****1234"},
        {"8619912345678", "199****5678"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char m[FV_LEDGER_MASK_CHARS] = "";
        CHECK_INT_EQ(fv_ledger_phone_mask(ok[i].in, m), FV_OK);
        CHECK(strcmp(m, ok[i].mask) == 0);
    }
    static const char *const bad[] = {"",
                                      "1381234123",
                                      "138123412345",
                                      "12812341234",
                                      "23812341234",
                                      "1381234123a",
                                      "+1 138 1234 1234",
                                      "13812341234\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char m[FV_LEDGER_MASK_CHARS];
        CHECK_INT_EQ(fv_ledger_phone_mask(bad[i], m), FV_ERR_ARG);
    }
}

/* table.column: what it holds. Keep in step with docs/ledger.md ("What ledger.db holds"). */
static const char *const ALLOWED[] = {
    "project.id",
    "project.code",
    "project.name",
    "project.controller",
    "project.controller_contact",
    "project.protection_days",
    "project.deal_window_days",
    "project.escort_window_minutes",
    "project.retention_days",
    "project.guardian_age",
    "project.face_free",
    "project.match_threshold",
    "project.match_margin",
    "project.otp_ttl_seconds",
    "project.otp_max_attempts",
    "project.otp_per_phone_per_hour",
    "project.created",
    "channel.id",
    "channel.project_id",
    "channel.kind",
    "channel.name",
    "channel.protection_days",
    "channel.commission",
    "channel.commission_value",
    "channel.created",
    "agent.id",
    "agent.channel_id",
    "agent.name",
    "agent.team",
    "agent.protection_days",
    "agent.created",
    "notice.id",
    "notice.project_id",
    "notice.version",
    "notice.text_zh",
    "notice.text_en",
    "notice.hash",
    "notice.published",
    /* pseudonymous person: random id, keyed phone hash, sealed phone, mask */
    "person.id",
    "person.project_id",
    "person.pid",
    "person.phone_hash",
    "person.phone_ct",
    "person.phone_mask",
    "person.created",
    "person.deleted",
    "consent.id",
    "consent.cid",
    "consent.project_id",
    "consent.person_id",
    "consent.notice_version",
    "consent.notice_hash",
    "consent.scope",
    "consent.method",
    "consent.device",
    "consent.age",
    "consent.guardian",
    "consent.created",
    "consent.withdrawn",
    /* the customer's name and phone only sealed; the mask for display */
    "registration.id",
    "registration.project_id",
    "registration.channel_id",
    "registration.agent_id",
    "registration.phone_hash",
    "registration.phone_ct",
    "registration.phone_mask",
    "registration.name_ct",
    "registration.expected_visit",
    "registration.created",
    "registration.expires",
    "registration.status",
    "registration.refusal",
    "registration.visit_id",
    "registration.outcome",
    /* a visit: when, how matched (face score, never a template or image) */
    "visit.id",
    "visit.project_id",
    "visit.person_id",
    "visit.at",
    "visit.kind",
    "visit.matched_by",
    "visit.score",
    "visit.device",
    "visit.consent_id",
    "visit.template_stored",
    "visit.template_id", /* the vault record it went to (migration 3) */
    "visit.slip",
    "visit.qr",
    "attribution.id",
    "attribution.project_id",
    "attribution.person_id",
    "attribution.first_visit_id",
    "attribution.channel_id",
    "attribution.agent_id",
    "attribution.registration_id",
    "attribution.outcome",
    "attribution.escort",
    "attribution.escort_at",
    "attribution.escort_deadline",
    "attribution.decided",
    "attribution.evidence",
    "conflict.id",
    "conflict.project_id",
    "conflict.kind",
    "conflict.person_id",
    "conflict.registration_id",
    "conflict.other_registration_id",
    "conflict.visit_id",
    "conflict.deal_id",
    "conflict.channel_id",
    "conflict.agent_id",
    "conflict.evidence",
    "conflict.created",
    "conflict.status",
    "conflict.verdict",
    "conflict.appealed",
    "decision.id",
    "decision.conflict_id",
    "decision.at",
    "decision.actor",
    "decision.action",
    "decision.verdict",
    "decision.reason",
    "deal.id",
    "deal.project_id",
    "deal.person_id",
    "deal.signed",
    "deal.amount_cents",
    "deal.channel_id",
    "deal.agent_id",
    "deal.in_window",
    "deal.flagged",
    "deal.commission_cents",
    "deal.created",
    "deal_buyer.deal_id",
    "deal_buyer.person_id",
    "deal_buyer.main",
    /* one-time codes: hashes only */
    "otp.id",
    "otp.oid",
    "otp.project_id",
    "otp.phone_hash",
    "otp.code_hash",
    "otp.created",
    "otp.expires",
    "otp.attempts",
    "otp.used",
    "idempotency.key",
    "idempotency.op",
    "idempotency.request",
    "idempotency.result",
    "idempotency.created",
    "audit.seq",
    "audit.at",
    "audit.actor",
    "audit.action",
    "audit.record",
    "audit.hash",
    "audit_head.one",
    "audit_head.seq",
    "audit_head.hash",
    /* the server's users: login, role and scope; the password only as an Argon2id string */
    "user.id",
    "user.login",
    "user.role",
    "user.scope_id",
    "user.pw_hash",
    "user.disabled",
    "user.created",
    /* API tokens: only their keyed hash (the token is shown once, at creation) */
    "api_token.id",
    "api_token.user_id",
    "api_token.name",
    "api_token.hash",
    "api_token.created",
    "api_token.revoked",
};

static int allowed(const char *tc) {
    for (size_t i = 0; i < sizeof ALLOWED / sizeof ALLOWED[0]; i++)
        if (strcmp(ALLOWED[i], tc) == 0) return 1;
    return 0;
}

static void test_column_allowlist(void) {
    char *site = make_site();
    CHECK(site != NULL);
    if (site == NULL) return;
    char p[256];
    snprintf(p, sizeof p, "%s/ledger.db", site);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(p, &db) == SQLITE_OK);
    sqlite3_stmt *s = NULL;
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT m.name || '.' || c.name FROM sqlite_master m,"
                             " pragma_table_info(m.name) c WHERE m.type = 'table'",
                             -1, &s, NULL) == SQLITE_OK);
    size_t n = 0;
    while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
        const char *tc = (const char *)sqlite3_column_text(s, 0);
        n++;
        if (!allowed(tc)) CHECK_FAIL("column %s is not in the reviewed allow-list", tc);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    CHECK_INT_EQ(n, sizeof ALLOWED / sizeof ALLOWED[0]); /* and every listed column exists */
    rm_rf(site);
    free(site);
}

int main(void) {
    RUN(test_site_files);
    RUN(test_migrations);
    RUN(test_phone_mask);
    RUN(test_column_allowlist);
    return check_summary();
}
