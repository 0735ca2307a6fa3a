/*
 * test_ledger_report.c - the ledger's reports on a scripted month of a sales office, made
 * through the public API (registrations, reception check-ins, deals) with a fake clock, in a
 * throw-away site under /tmp: exact figures in the JSON (visits per day and channel across the
 * UTC+8 day boundary, first-visit outcomes, registrations and refusals, the funnel, conflicts,
 * deals, commission per month and agent), the same figures in CSV with RFC 4180 quoting of a
 * channel named with a comma and quotes, periods (inclusive days, open ends), bad dates,
 * refused roles, one audit entry per report, no personal data in any output, out of memory at
 * every allocation; persons with stored faces (random unit vectors, never face data) and the
 * impact assessment's 80,000 / 100,000 warnings with lowered thresholds; a handle without the
 * vault.
 *
 * Threading: single-threaded.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/ledger.h"
#include "ledger-impl.h"

static int64_t now_ms;
static int64_t fake_clock(void *ctx) {
    (void)ctx;
    return now_ms;
}

static char base[64], site[80];
static fv_ledger *L;
static int64_t project, ch_natural, ch_a, ch_b, agent_a, agent_b, day0;
static const fv_ledger_actor ADMIN = {FV_LEDGER_ROLE_ADMIN, 1};
static const fv_ledger_actor RECEPTION = {FV_LEDGER_ROLE_RECEPTION, 2};
static const char *const CHANNEL_A = "Agency, \"Best\" Homes";

/* Unix ms of day0 + days at hh:mm in UTC+8. */
static int64_t at(int days, int hh, int mm) {
    return (day0 + days) * FV__LEDGER_DAY_MS - FV__LEDGER_TZ_MS +
           ((int64_t)hh * 60 + mm) * FV__LEDGER_MINUTE_MS;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_site(void) {
    if (base[0] != '\0') nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static fv_ledger *open_ledger(bool no_vault) {
    fv_ledger_options opt = {.now_ms = fake_clock, .no_vault = no_vault};
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(site, &opt, &l);
    if (st != FV_OK) {
        CHECK_FAIL("open: %s: %s", fv_status_name(st), fv_ledger_errmsg(l));
        fv_ledger_close(l);
        return NULL;
    }
    return l;
}

static int64_t reg(int64_t agent, const char *phone, const char *name, const char *want_reason) {
    fv_ledger_registration_request rq = {.project = project, .agent = agent};
    snprintf(rq.customer_name, sizeof rq.customer_name, "%s", name);
    snprintf(rq.phone, sizeof rq.phone, "%s", phone);
    fv_ledger_registration_result res;
    fv_ledger_actor who = {FV_LEDGER_ROLE_AGENT, agent};
    fv_status st = fv_ledger_register(L, &who, &rq, &res);
    if (st != FV_OK) {
        CHECK_FAIL("register: %s: %s", fv_status_name(st), fv_ledger_errmsg(L));
        return 0;
    }
    if (want_reason == NULL)
        CHECK_INT_EQ(res.status, FV_LEDGER_REG_ACCEPTED);
    else
        CHECK(res.status == FV_LEDGER_REG_REFUSED && strcmp(res.reason, want_reason) == 0);
    now_ms += FV__LEDGER_MINUTE_MS;
    return res.id;
}

static void checkin(const char *phone, int64_t escort_agent, fv_ledger_visit_kind kind,
                    fv_ledger_outcome outcome) {
    fv_ledger_checkin_request rq = {.project = project, .escort_agent = escort_agent};
    rq.escort = escort_agent != 0 ? FV_LEDGER_ESCORT_RECEPTION : FV_LEDGER_ESCORT_NONE;
    snprintf(rq.phone, sizeof rq.phone, "%s", phone);
    snprintf(rq.device, sizeof rq.device, "desk-1");
    fv_ledger_checkin_result res;
    fv_status st = fv_ledger_checkin(L, &RECEPTION, &rq, &res);
    if (st != FV_OK) {
        CHECK_FAIL("checkin: %s: %s", fv_status_name(st), fv_ledger_errmsg(L));
        return;
    }
    CHECK_INT_EQ(res.kind, kind);
    CHECK_INT_EQ(res.outcome, outcome);
    now_ms += FV__LEDGER_MINUTE_MS;
}

static void deal(const char *const *phones, size_t n, int64_t amount, int64_t signed_ms,
                 int64_t want_channel, int64_t want_commission, bool want_flag) {
    fv_ledger_deal_request rq = {.project = project,
                                 .buyer_phones = phones,
                                 .n_buyers = n,
                                 .amount_cents = amount,
                                 .signed_ms = signed_ms};
    fv_ledger_deal_result res;
    fv_status st = fv_ledger_deal_record(L, &RECEPTION, &rq, &res);
    if (st != FV_OK) {
        CHECK_FAIL("deal: %s: %s", fv_status_name(st), fv_ledger_errmsg(L));
        return;
    }
    CHECK_INT_EQ(res.channel, want_channel);
    CHECK_INT_EQ(res.commission_cents, want_commission);
    CHECK_INT_EQ(res.flagged, want_flag);
    now_ms += FV__LEDGER_MINUTE_MS;
}

/*
 * The scripted month (days of March 2025, UTC+8):
 *   03-01 10:00  three natural first visits (N1, N2, N3)
 *   03-01 11:00  registrations: R1 A (V1), R2 B (V2), R3 A (V3), R4 B for N1 (refused:
 *                already_visitor), R5 B (V4), R6 A for V4 (refused: registered_by_other_channel),
 *                R7 A (V5)
 *   03-01 12:00  V1 escorted by A's agent: channel_valid; V2 escorted by B's: channel_valid;
 *                V3 without escort: pending_escort
 *   03-02 00:30  returns of N1 and V1 (the day after in UTC+8, still 03-01 in UTC)
 *   03-10 15:00  V5 comes after R7 expired: channel_invalid (natural channel)
 *   03-12        deals: V1 (A, 1% of 1,000,000.00), V2 with co-buyer N1 (B, fixed 5,000.00,
 *                flagged: N1 visited before R2), N2 (natural)
 *   04-10        deal: N3 (natural); registration R8 A (V6): live
 * R5 is never visited: expired without a visit by 04-10.
 */
static void setup(void) {
    snprintf(base, sizeof base, "/tmp/fv-report-XXXXXX");
    if (mkdtemp(base) == NULL) {
        CHECK_FAIL("mkdtemp");
        base[0] = '\0';
        return;
    }
    snprintf(site, sizeof site, "%s/site", base);
    CHECK_INT_EQ(fv_ledger_init_site(site), FV_OK);
    CHECK_INT_EQ(fv__ledger_parse_day("2025-03-01", &day0), FV_OK);
    now_ms = at(-1, 9, 0);
    L = open_ledger(false);
    if (L == NULL) return;
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "sunrise");
    snprintf(ps.name, sizeof ps.name, "Sunrise | Garden");
    snprintf(ps.controller, sizeof ps.controller, "Sunrise Property Ltd");
    CHECK_INT_EQ(fv_ledger_project_create(L, &ADMIN, &ps, &project), FV_OK);
    CHECK_INT_EQ(fv_ledger_channel_natural(L, project, &ch_natural), FV_OK);
    fv_ledger_channel a = {.kind = FV_LEDGER_CHANNEL_AGENCY,
                           .commission = FV_LEDGER_COMMISSION_PERCENT,
                           .commission_value = 100};
    snprintf(a.name, sizeof a.name, "%s", CHANNEL_A);
    CHECK_INT_EQ(fv_ledger_channel_create(L, &ADMIN, project, &a, &ch_a), FV_OK);
    fv_ledger_channel b = {.kind = FV_LEDGER_CHANNEL_REFERRAL,
                           .commission = FV_LEDGER_COMMISSION_FIXED,
                           .commission_value = 500000};
    snprintf(b.name, sizeof b.name, "Referral");
    CHECK_INT_EQ(fv_ledger_channel_create(L, &ADMIN, project, &b, &ch_b), FV_OK);
    fv_ledger_agent ag = {.protection_days = 0};
    snprintf(ag.name, sizeof ag.name, "Agent Wang");
    CHECK_INT_EQ(fv_ledger_agent_create(L, &ADMIN, ch_a, &ag, &agent_a), FV_OK);
    snprintf(ag.name, sizeof ag.name, "Agent Li");
    CHECK_INT_EQ(fv_ledger_agent_create(L, &ADMIN, ch_b, &ag, &agent_b), FV_OK);

    now_ms = at(0, 10, 0);
    checkin("13800000001", 0, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_NATURAL);
    checkin("13800000002", 0, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_NATURAL);
    checkin("13800000003", 0, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_NATURAL);
    now_ms = at(0, 11, 0);
    reg(agent_a, "13900000001", "Customer One", NULL);
    reg(agent_b, "13900000002", "Customer Two", NULL);
    reg(agent_a, "13900000003", "Customer Three", NULL);
    reg(agent_b, "13800000001", "Customer Four", "already_visitor");
    reg(agent_b, "13900000004", "Customer Five", NULL);
    reg(agent_a, "13900000004", "Customer Five", "registered_by_other_channel");
    reg(agent_a, "13900000005", "Customer Six", NULL);
    now_ms = at(0, 12, 0);
    checkin("13900000001", agent_a, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_CHANNEL_VALID);
    checkin("13900000002", agent_b, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_CHANNEL_VALID);
    checkin("13900000003", 0, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_PENDING_ESCORT);
    now_ms = at(1, 0, 30);
    checkin("13800000001", 0, FV_LEDGER_VISIT_RETURN, FV_LEDGER_OUTCOME_NATURAL);
    checkin("13900000001", 0, FV_LEDGER_VISIT_RETURN, FV_LEDGER_OUTCOME_CHANNEL_VALID);
    now_ms = at(9, 15, 0);
    checkin("13900000005", 0, FV_LEDGER_VISIT_FIRST, FV_LEDGER_OUTCOME_CHANNEL_INVALID);
    now_ms = at(11, 16, 0);
    const char *d1[] = {"13900000001"};
    deal(d1, 1, 100000000, at(11, 15, 0), ch_a, 1000000, false);
    const char *d2[] = {"13900000002", "13800000001"};
    deal(d2, 2, 200000000, at(11, 15, 30), ch_b, 500000, true);
    const char *d3[] = {"13800000002"};
    deal(d3, 1, 50000000, at(11, 16, 0), ch_natural, 0, false);
    now_ms = at(40, 10, 0);
    const char *d4[] = {"13800000003"};
    deal(d4, 1, 30000000, at(40, 9, 0), ch_natural, 0, false);
    reg(agent_a, "13900000006", "Customer Seven", NULL);
}

/* What must never appear in a report: phones, masks, customer names, person ids. */
static void check_no_personal_data(const char *s) {
    static const char *const BAD[] = {"1380000", "1390000", "138****", "139****", "Customer"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        if (strstr(s, BAD[i]) != NULL) CHECK_FAIL("report holds '%s'", BAD[i]);
    int64_t n = 0;
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(L->db, "SELECT hex(pid) FROM person", -1, &q, NULL);
    while (q != NULL && sqlite3_step(q) == SQLITE_ROW) {
        const char *hex = (const char *)sqlite3_column_text(q, 0);
        if (strcasestr(s, hex) != NULL) CHECK_FAIL("report holds a person id");
        n++;
    }
    sqlite3_finalize(q);
    CHECK_INT_EQ(n, 7);
}

static int64_t report_reads(void) {
    int64_t n = -1;
    CHECK_INT_EQ(
        fv__ledger_query_i64(L, "SELECT COUNT(*) FROM audit WHERE action = 'report.read'", &n, 0),
        FV_OK);
    return n;
}

static void test_json_figures(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    fv_strbuf b = {0};
    int64_t reads = report_reads();
    CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project, NULL, NULL, &b), FV_OK);
    CHECK_INT_EQ(report_reads(), reads + 1);
    const char *s = b.s;
    CHECK(s != NULL && s[0] == '{' && s[b.len - 1] == '}' && strchr(s, '\n') == NULL);
    CHECK_STR_CONTAINS(s, "{\"project\": {\"code\": \"sunrise\", \"name\": \"Sunrise | Garden\"},"
                          " \"period\": {\"from\": null, \"to\": null, \"timezone\": \"UTC+8\"},"
                          " \"as_of\": \"2025-04-10T10:02:00+08:00\"");
    /* Visits per day (UTC+8) and channel: the 00:30 returns belong to 03-02. */
    CHECK_STR_CONTAINS(s, "\"visits\": ["
                          "{\"day\": \"2025-03-01\", \"channel\": \"natural\", \"first\": 3,"
                          " \"return\": 0}, "
                          "{\"day\": \"2025-03-01\", \"channel\": \"Agency, \\\"Best\\\" Homes\","
                          " \"first\": 2, \"return\": 0}, "
                          "{\"day\": \"2025-03-01\", \"channel\": \"Referral\", \"first\": 1,"
                          " \"return\": 0}, "
                          "{\"day\": \"2025-03-02\", \"channel\": \"natural\", \"first\": 0,"
                          " \"return\": 1}, "
                          "{\"day\": \"2025-03-02\", \"channel\": \"Agency, \\\"Best\\\" Homes\","
                          " \"first\": 0, \"return\": 1}, "
                          "{\"day\": \"2025-03-10\", \"channel\": \"natural\", \"first\": 1,"
                          " \"return\": 0}]");
    CHECK_STR_CONTAINS(s, "\"first_visit_outcomes\": {\"natural\": 3, \"channel_valid\": 2,"
                          " \"channel_invalid\": 1, \"pending_escort\": 1}");
    CHECK_STR_CONTAINS(s, "\"registrations\": ["
                          "{\"channel\": \"Agency, \\\"Best\\\" Homes\", \"status\": \"accepted\","
                          " \"reason\": null, \"count\": 4}, "
                          "{\"channel\": \"Agency, \\\"Best\\\" Homes\", \"status\": \"refused\","
                          " \"reason\": \"registered_by_other_channel\", \"count\": 1}, "
                          "{\"channel\": \"Referral\", \"status\": \"accepted\", \"reason\": null,"
                          " \"count\": 2}, "
                          "{\"channel\": \"Referral\", \"status\": \"refused\","
                          " \"reason\": \"already_visitor\", \"count\": 1}]");
    CHECK_STR_CONTAINS(s, "\"funnel\": ["
                          "{\"channel\": \"Agency, \\\"Best\\\" Homes\", \"registered\": 4,"
                          " \"visited\": 3, \"channel_valid\": 1, \"channel_invalid\": 1,"
                          " \"pending_escort\": 1, \"expired_without_visit\": 0, \"live\": 1,"
                          " \"deals\": 1}, "
                          "{\"channel\": \"Referral\", \"registered\": 2, \"visited\": 1,"
                          " \"channel_valid\": 1, \"channel_invalid\": 0, \"pending_escort\": 0,"
                          " \"expired_without_visit\": 1, \"live\": 0, \"deals\": 1}]");
    CHECK_STR_CONTAINS(s, "\"conflicts\": ["
                          "{\"kind\": \"buyer_visited_before_registration\", \"status\": \"open\","
                          " \"count\": 1}, "
                          "{\"kind\": \"duplicate_registration\", \"status\": \"open\","
                          " \"count\": 1}, "
                          "{\"kind\": \"registration_after_visit\", \"status\": \"open\","
                          " \"count\": 1}, "
                          "{\"kind\": \"registration_expired\", \"status\": \"open\","
                          " \"count\": 1}]");
    CHECK_STR_CONTAINS(s, "\"deals\": ["
                          "{\"channel\": \"natural\", \"deals\": 2, \"amount_cents\": 80000000,"
                          " \"flagged\": 0, \"commission_cents\": 0}, "
                          "{\"channel\": \"Agency, \\\"Best\\\" Homes\", \"deals\": 1,"
                          " \"amount_cents\": 100000000, \"flagged\": 0,"
                          " \"commission_cents\": 1000000}, "
                          "{\"channel\": \"Referral\", \"deals\": 1, \"amount_cents\": 200000000,"
                          " \"flagged\": 1, \"commission_cents\": 500000}]");
    CHECK_STR_CONTAINS(s, "\"commission\": ["
                          "{\"month\": \"2025-03\", \"channel\": \"natural\", \"agent\": null,"
                          " \"deals\": 1, \"amount_cents\": 50000000, \"commission_cents\": 0}, "
                          "{\"month\": \"2025-03\", \"channel\": \"Agency, \\\"Best\\\" Homes\","
                          " \"agent\": \"Agent Wang\", \"deals\": 1, \"amount_cents\": 100000000,"
                          " \"commission_cents\": 1000000}, "
                          "{\"month\": \"2025-03\", \"channel\": \"Referral\","
                          " \"agent\": \"Agent Li\", \"deals\": 1, \"amount_cents\": 200000000,"
                          " \"commission_cents\": 500000}, "
                          "{\"month\": \"2025-04\", \"channel\": \"natural\", \"agent\": null,"
                          " \"deals\": 1, \"amount_cents\": 30000000, \"commission_cents\": 0}]}");
    check_no_personal_data(s);
    fv_sb_free(&b);
}

/* Inclusive days, UTC+8: 03-02..03-31 drops 03-01 and April; an open start keeps 03-01. */
static void test_json_period(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    fv_strbuf b = {0};
    CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project, "2025-03-02", "2025-03-31", &b), FV_OK);
    const char *s = b.s;
    CHECK_STR_CONTAINS(s, "\"period\": {\"from\": \"2025-03-02\", \"to\": \"2025-03-31\"");
    CHECK_STR_CONTAINS(s, "\"visits\": [{\"day\": \"2025-03-02\", \"channel\": \"natural\","
                          " \"first\": 0, \"return\": 1}, {\"day\": \"2025-03-02\"");
    CHECK(s != NULL && strstr(s, "2025-03-01") == NULL);
    CHECK_STR_CONTAINS(s, "\"first_visit_outcomes\": {\"natural\": 0, \"channel_valid\": 0,"
                          " \"channel_invalid\": 1, \"pending_escort\": 0}");
    CHECK_STR_CONTAINS(s, "\"registrations\": [], \"funnel\": [{\"channel\": \"Agency,"
                          " \\\"Best\\\" Homes\", \"registered\": 0, \"visited\": 0");
    CHECK_STR_CONTAINS(s, "\"conflicts\": [{\"kind\": \"buyer_visited_before_registration\","
                          " \"status\": \"open\", \"count\": 1}, {\"kind\":"
                          " \"registration_expired\", \"status\": \"open\", \"count\": 1}]");
    CHECK_STR_CONTAINS(s, "{\"channel\": \"natural\", \"deals\": 1, \"amount_cents\": 50000000,");
    CHECK(s != NULL && strstr(s, "\"month\": \"2025-04\"") == NULL);
    fv_sb_free(&b);

    /* One day, exactly: 03-02 00:30 UTC+8 is in it, 03-01 12:00 is not. */
    b = (fv_strbuf){0};
    CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project, "2025-03-02", "2025-03-02", &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "\"first_visit_outcomes\": {\"natural\": 0, \"channel_valid\": 0,"
                            " \"channel_invalid\": 0, \"pending_escort\": 0}");
    CHECK_STR_CONTAINS(b.s, "{\"day\": \"2025-03-02\", \"channel\": \"Agency, \\\"Best\\\" Homes\","
                            " \"first\": 0, \"return\": 1}]");
    fv_sb_free(&b);

    b = (fv_strbuf){0};
    CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project, NULL, "2025-03-01", &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "\"period\": {\"from\": null, \"to\": \"2025-03-01\"");
    CHECK_STR_CONTAINS(b.s, "\"first_visit_outcomes\": {\"natural\": 3, \"channel_valid\": 2,"
                            " \"channel_invalid\": 0, \"pending_escort\": 1}");
    CHECK_STR_CONTAINS(b.s, "\"deals\": [{\"channel\": \"natural\", \"deals\": 0,"
                            " \"amount_cents\": 0, \"flagged\": 0, \"commission_cents\": 0}");
    CHECK_STR_CONTAINS(b.s, "\"commission\": []}");
    fv_sb_free(&b);
}

static void test_csv(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    fv_strbuf b = {0};
    CHECK_INT_EQ(fv_ledger_report_csv(L, &ADMIN, project, NULL, NULL, &b), FV_OK);
    const char *s = b.s;
    static const char *const LINES[] = {
        "section,code,name,from,to,timezone,as_of\r\n"
        "project,sunrise,Sunrise | Garden,,,UTC+8,2025-04-10T10:02:00+08:00\r\n"
        "section,day,channel,first,return\r\n"
        "visits,2025-03-01,natural,3,0\r\n"
        "visits,2025-03-01,\"Agency, \"\"Best\"\" Homes\",2,0\r\n"
        "visits,2025-03-01,Referral,1,0\r\n",
        "section,natural,channel_valid,channel_invalid,pending_escort\r\n"
        "first_visit_outcomes,3,2,1,1\r\n"
        "section,channel,status,reason,count\r\n"
        "registrations,\"Agency, \"\"Best\"\" Homes\",accepted,,4\r\n",
        "registrations,Referral,refused,already_visitor,1\r\n"
        "section,channel,registered,visited,channel_valid,channel_invalid,pending_escort,"
        "expired_without_visit,live,deals\r\n"
        "funnel,\"Agency, \"\"Best\"\" Homes\",4,3,1,1,1,0,1,1\r\n"
        "funnel,Referral,2,1,1,0,0,1,0,1\r\n"
        "section,kind,status,count\r\n",
        "section,channel,deals,amount_cents,flagged,commission_cents\r\n"
        "deals,natural,2,80000000,0,0\r\n"
        "deals,\"Agency, \"\"Best\"\" Homes\",1,100000000,0,1000000\r\n"
        "deals,Referral,1,200000000,1,500000\r\n"
        "section,month,channel,agent,deals,amount_cents,commission_cents\r\n"
        "commission,2025-03,natural,,1,50000000,0\r\n"
        "commission,2025-03,\"Agency, \"\"Best\"\" Homes\",Agent Wang,1,100000000,1000000\r\n"
        "commission,2025-03,Referral,Agent Li,1,200000000,500000\r\n"
        "commission,2025-04,natural,,1,30000000,0\r\n",
    };
    for (size_t i = 0; i < sizeof LINES / sizeof LINES[0]; i++) CHECK_STR_CONTAINS(s, LINES[i]);
    /* Every line ends in CRLF; every section's header starts "section,"; the file ends a line. */
    size_t sections = 0, lines = 0;
    for (const char *p = s; p != NULL && *p; p++) {
        if (*p == '\n') {
            lines++;
            CHECK(p > s && p[-1] == '\r');
        }
        if ((p == s || p[-1] == '\n') && strncmp(p, "section,", 8) == 0) sections++;
    }
    CHECK_INT_EQ(sections, 8);
    CHECK(s != NULL && b.len >= 2 && strcmp(s + b.len - 2, "\r\n") == 0);
    CHECK_INT_EQ(lines, 2 + 7 + 2 + 5 + 3 + 5 + 4 + 5); /* headers and rows, section by section */
    check_no_personal_data(s);
    fv_sb_free(&b);
}

/* A name starting like a formula is defused; a plain name with a line break is quoted. */
static void test_csv_formula_guard(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "guard");
    snprintf(ps.name, sizeof ps.name, "=HYPERLINK(\"x\")");
    int64_t p2 = 0, ch = 0;
    CHECK_INT_EQ(fv_ledger_project_create(L, &ADMIN, &ps, &p2), FV_OK);
    fv_ledger_channel c = {.kind = FV_LEDGER_CHANNEL_ONLINE};
    snprintf(c.name, sizeof c.name, "@online");
    CHECK_INT_EQ(fv_ledger_channel_create(L, &ADMIN, p2, &c, &ch), FV_OK);
    fv_strbuf b = {0};
    CHECK_INT_EQ(fv_ledger_report_csv(L, &ADMIN, p2, NULL, NULL, &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "project,guard,\"'=HYPERLINK(\"\"x\"\")\",,,UTC+8,");
    CHECK_STR_CONTAINS(b.s, "funnel,'@online,0,0,0,0,0,0,0,0\r\n");
    CHECK_STR_CONTAINS(b.s, "deals,'@online,0,0,0,0\r\n");
    fv_sb_free(&b);
}

static void test_bad_arguments(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    fv_strbuf b = {0};
    int64_t reads = report_reads();
    static const char *const BAD[] = {"2025-02-30", "2025-13-01", "20250301",   "2025-3-1",
                                      "1969-12-31", "",           "2025-03-01x"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project, BAD[i], NULL, &b), FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "from:");
        CHECK_INT_EQ(fv_ledger_report_csv(L, &ADMIN, project, "2025-03-01", BAD[i], &b),
                     FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "to:");
    }
    CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project, "2025-03-02", "2025-03-01", &b),
                 FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "from is after to");
    CHECK_INT_EQ(fv_ledger_report_json(L, &ADMIN, project + 1000, NULL, NULL, &b),
                 FV_ERR_NOT_FOUND);
    static const fv_ledger_role REFUSED[] = {FV_LEDGER_ROLE_AGENT, FV_LEDGER_ROLE_CHANNEL_MANAGER,
                                             FV_LEDGER_ROLE_KIOSK, FV_LEDGER_ROLE_VISITOR};
    for (size_t i = 0; i < sizeof REFUSED / sizeof REFUSED[0]; i++) {
        fv_ledger_actor who = {REFUSED[i], agent_a};
        CHECK_INT_EQ(fv_ledger_report_json(L, &who, project, NULL, NULL, &b), FV_ERR_STATE);
        CHECK_INT_EQ(fv_ledger_report_csv(L, &who, project, NULL, NULL, &b), FV_ERR_STATE);
        CHECK_INT_EQ(fv_ledger_report_impact(L, &who, project, &b), FV_ERR_STATE);
    }
    /* Reception reads the figures but not the impact assessment. */
    CHECK_INT_EQ(fv_ledger_report_impact(L, &RECEPTION, project, &b), FV_ERR_STATE);
    CHECK_INT_EQ(b.len, 0); /* failures append nothing */
    CHECK_INT_EQ(report_reads(), reads);
    CHECK_INT_EQ(fv_ledger_report_json(L, &RECEPTION, project, NULL, NULL, &b), FV_OK);
    reads++;
    CHECK_INT_EQ(report_reads(), reads);
    b.len = 0;
    if (b.s != NULL) b.s[0] = '\0';
    fv_ledger_actor auditor = {FV_LEDGER_ROLE_AUDITOR, 9};
    CHECK_INT_EQ(fv_ledger_report_csv(L, &auditor, project, "2025-03-01", "2025-03-01", &b), FV_OK);
    CHECK_INT_EQ(report_reads(), reads + 1);
    fv_sb_free(&b);
    fv_ledger_audit_report rep;
    CHECK_INT_EQ(fv_ledger_audit_verify(L, &rep), FV_OK);
    CHECK_INT_EQ(rep.first_bad, 0);
}

static int oom_after = -1, oom_allocs;
static void *oom_malloc(size_t n) {
    if (oom_after >= 0 && oom_allocs++ >= oom_after) return NULL;
    return malloc(n);
}
static void *oom_realloc(void *p, size_t n) {
    if (oom_after >= 0 && oom_allocs++ >= oom_after) return NULL;
    return realloc(p, n);
}

/* Fail the Nth fv_ allocation of a report: FV_ERR_NOMEM, nothing appended, no audit entry. */
static void test_out_of_memory(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    fv_allocator a = {oom_malloc, oom_realloc, free};
    int ok = 0;
    for (int n = 0; n < 64 && !ok; n++) {
        for (int kind = 0; kind < 3; kind++) {
            fv_strbuf b = {0};
            int64_t reads = report_reads();
            oom_after = n;
            oom_allocs = 0;
            fv_set_allocator(&a);
            fv_status st = kind == 0   ? fv_ledger_report_json(L, &ADMIN, project, NULL, NULL, &b)
                           : kind == 1 ? fv_ledger_report_csv(L, &ADMIN, project, NULL, NULL, &b)
                                       : fv_ledger_report_impact(L, &ADMIN, project, &b);
            fv_set_allocator(NULL);
            oom_after = -1;
            if (st == FV_OK) {
                ok = kind == 2;
                CHECK(b.len > 0);
                CHECK_INT_EQ(report_reads(), reads + 1);
            } else {
                CHECK_INT_EQ(st, FV_ERR_NOMEM);
                CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "out of memory");
                CHECK(b.len == 0 || b.oom);
                CHECK_INT_EQ(report_reads(), reads);
            }
            fv_sb_free(&b);
        }
    }
    CHECK(ok);
}

static float rnd(void) {
    return (float)randombytes_uniform(1u << 24) / (float)(1u << 24) - 0.5f;
}

static void random_unit(float *v) {
    double n = 0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        v[i] = rnd();
        n += (double)v[i] * v[i];
    }
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)(v[i] / sqrt(n));
}

/* Stores templates of three persons (four templates) under a consent, straight into the vault. */
static void store_faces(void) {
    int version = 0;
    CHECK_INT_EQ(fv_ledger_notice_publish(L, &ADMIN, project, "告知", "notice", &version), FV_OK);
    fv_strbuf nb = {0};
    CHECK_INT_EQ(fv_ledger_notice_current(L, project, &nb), FV_OK);
    const char *h = nb.s != NULL ? strstr(nb.s, "\"hash\": \"") : NULL;
    CHECK(h != NULL);
    fv_ledger_consent_request rq = {.project = project, .notice_version = version};
    if (h != NULL) memcpy(rq.notice_hash, h + 9, 64);
    fv_sb_free(&nb);
    snprintf(rq.device, sizeof rq.device, "kiosk-1");
    snprintf(rq.method, sizeof rq.method, "kiosk_touch");
    char cid[FV_LEDGER_ID_CHARS], gone[FV_LEDGER_ID_CHARS];
    fv_ledger_actor kiosk = {FV_LEDGER_ROLE_KIOSK, 3};
    CHECK_INT_EQ(fv_ledger_consent_record(L, &kiosk, &rq, cid), FV_OK);
    CHECK_INT_EQ(fv_ledger_consent_record(L, &kiosk, &rq, gone), FV_OK);
    CHECK_INT_EQ(fv_ledger_consent_withdraw(L, &kiosk, gone), FV_OK);
    float v[FV_VAULT_DIM];
    uint8_t person[3][FV_VAULT_PERSON_BYTES];
    for (int p = 0; p < 4; p++) {
        if (p < 3) randombytes_buf(person[p], sizeof person[p]);
        random_unit(v);
        int64_t id = 0;
        fv_status st =
            fv_vault_insert(L->vault, person[p % 3], "sunrise", cid, now_ms / 1000, v, &id);
        if (st != FV_OK) CHECK_FAIL("vault insert: %s", fv_vault_errmsg(L->vault));
    }
}

static void test_face_persons_and_impact(void) {
    if (L == NULL) SKIP_TEST("no ledger");
    int64_t n = -1;
    CHECK_INT_EQ(fv_ledger_face_persons(L, &n), FV_OK);
    CHECK_INT_EQ(n, 0);
    store_faces();
    CHECK_INT_EQ(fv_ledger_face_persons(L, &n), FV_OK);
    CHECK_INT_EQ(n, 3);

    fv_strbuf b = {0};
    CHECK_INT_EQ(fv_ledger_report_impact(L, &ADMIN, project, &b), FV_OK);
    const char *s = b.s;
    CHECK_STR_CONTAINS(s, "# Personal information protection impact assessment: Sunrise \\| Garden"
                          " (sunrise)\n");
    CHECK_STR_CONTAINS(s, "## 1. Purpose\n\nAttribution only");
    CHECK_STR_CONTAINS(s, "## 2. Necessity");
    CHECK_STR_CONTAINS(s, "## 3. Data held");
    CHECK_STR_CONTAINS(s, "## 4. Retention\n\n- Face templates: 30 day(s)");
    CHECK_STR_CONTAINS(s, "protects its channel for 7 day(s)");
    CHECK_STR_CONTAINS(s, "deal window of 90 day(s)");
    CHECK_STR_CONTAINS(s, "## 5. Safeguards");
    CHECK_STR_CONTAINS(s, "Consent before capture");
    CHECK_STR_CONTAINS(s, "crypto-shredding");
    CHECK_STR_CONTAINS(s, "| persons | 7 |\n| persons with a phone | 7 |\n");
    CHECK_STR_CONTAINS(s, "| consents live | 1 |\n| consents withdrawn | 1 |\n| visits | 9 |\n");
    CHECK_STR_CONTAINS(s, "| deals | 4 |\n");
    CHECK_STR_CONTAINS(s, "| face templates stored | 4 |\n| persons with stored faces | 3 |\n");
    CHECK_STR_CONTAINS(s, "below the warning level (80,000) and the filing threshold (100,000");
    CHECK(s != NULL && strstr(s, "**WARNING**") == NULL && strstr(s, "**FILING") == NULL);
    check_no_personal_data(s);
    fv_sb_free(&b);

    fv__ledger_impact_thresholds(3, 10);
    b = (fv_strbuf){0};
    CHECK_INT_EQ(fv_ledger_report_impact(L, &ADMIN, project, &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "**WARNING**: this site holds the faces of 3 persons; at 10 persons it"
                            " must file with the cyberspace administration within 30 working days");
    CHECK(b.s != NULL && strstr(b.s, "**FILING") == NULL);
    fv_sb_free(&b);

    fv__ledger_impact_thresholds(2, 3);
    b = (fv_strbuf){0};
    CHECK_INT_EQ(fv_ledger_report_impact(L, &ADMIN, project, &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "**FILING REQUIRED**: this site holds the faces of 3 persons, at or"
                            " above the filing threshold of 3 persons. Within 30 working days");
    CHECK(b.s != NULL && strstr(b.s, "**WARNING**") == NULL);
    fv_sb_free(&b);

    fv__ledger_impact_thresholds(4, 5);
    b = (fv_strbuf){0};
    CHECK_INT_EQ(fv_ledger_report_impact(L, &ADMIN, project, &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "3 persons: below the warning level (4) and the filing threshold (5");
    fv_sb_free(&b);
    fv__ledger_impact_thresholds(0, 0);

    /* A second handle without the vault: no count, and the impact report says it did not check. */
    fv_ledger *nv = open_ledger(true);
    if (nv == NULL) return;
    CHECK_INT_EQ(fv_ledger_face_persons(nv, &n), FV_OK);
    CHECK_INT_EQ(n, 0);
    b = (fv_strbuf){0};
    CHECK_INT_EQ(fv_ledger_report_impact(nv, &ADMIN, project, &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "| persons with stored faces | not available (no vault) |");
    CHECK_STR_CONTAINS(b.s, "Not checked: this report was made without the template vault.");
    fv_sb_free(&b);
    fv_ledger_close(nv);
}

int main(void) {
    check_current = "setup";
    setup();
    RUN(test_json_figures);
    RUN(test_json_period);
    RUN(test_csv);
    RUN(test_csv_formula_guard);
    RUN(test_bad_arguments);
    RUN(test_out_of_memory);
    RUN(test_face_persons_and_impact);
    fv_ledger_close(L);
    remove_site();
    return check_summary();
}
