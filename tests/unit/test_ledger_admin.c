/*
 * test_ledger_admin.c - the ledger calls behind the server's admin and self-service endpoints:
 * project, channel and agent lists as JSON (admin_list.c: who sees which project and which
 * settings, who may list channels and agents), and the self-service lookups (selfservice.c: a
 * slip's first login step sends a code only to the slip's own phone and answers a decoy for any
 * other, a face-only person needs no phone, person id <-> row, and nothing after deletion).
 *
 * Each test makes its own throw-away site under /tmp (fake phones 1380000xxxx; random unit
 * vectors instead of faces).
 * Threading: single-threaded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/ledger.h"
#include "fairvisit/strbuf.h"
#include "fairvisit/vault.h"
#include "vault_fixture.h"

#define PHONE  "13800001234"
#define PHONE2 "13800005678"
#define T0     ((int64_t)1767225600000) /* 2026-01-01T00:00:00Z */

typedef struct site {
    char dir[256];
    int64_t clock;
    int sent;
    char code[16];
    fv_ledger *l;
} site;

static int64_t site_clock(void *ctx) {
    site *s = ctx;
    s->clock += 1000;
    return s->clock;
}

static int capture_code(void *ctx, const char *phone, const char *code) {
    site *s = ctx;
    (void)phone;
    s->sent++;
    snprintf(s->code, sizeof s->code, "%s", code);
    return 0;
}

static bool site_open(site *s, bool with_vault) {
    memset(s, 0, sizeof *s);
    s->clock = T0;
    vf_tempdir(s->dir, sizeof s->dir);
    if (fv_ledger_init_site(s->dir) != FV_OK) {
        CHECK_FAIL("init_site %s", s->dir);
        return false;
    }
    fv_ledger_options opt = {.now_ms = site_clock,
                             .clock_ctx = s,
                             .otp_send = capture_code,
                             .otp_ctx = s,
                             .no_vault = !with_vault};
    fv_status st = fv_ledger_open(s->dir, &opt, &s->l);
    if (st != FV_OK) {
        CHECK_FAIL("open: %s: %s", fv_status_name(st), fv_ledger_errmsg(s->l));
        return false;
    }
    return true;
}

static void site_close(site *s) {
    fv_ledger_close(s->l);
    s->l = NULL;
    vf_rmtree(s->dir);
}

static const fv_ledger_actor ADMIN = {FV_LEDGER_ROLE_ADMIN, 1};
static const fv_ledger_actor RECEPTION = {FV_LEDGER_ROLE_RECEPTION, 2};
static const fv_ledger_actor AUDITOR = {FV_LEDGER_ROLE_AUDITOR, 3};
static const fv_ledger_actor KIOSK = {FV_LEDGER_ROLE_KIOSK, 4};

static int64_t make_project(site *s, const char *code) {
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "%s", code);
    snprintf(ps.name, sizeof ps.name, "Project \"%s\" 项目", code);
    snprintf(ps.controller, sizeof ps.controller, "Sunrise Property Ltd");
    snprintf(ps.controller_contact, sizeof ps.controller_contact, "privacy@example.com");
    ps.match_threshold = 0.4125;
    int64_t id = 0;
    CHECK_INT_EQ(fv_ledger_project_create(s->l, &ADMIN, &ps, &id), FV_OK);
    return id;
}

/* Runs a list call into a fresh buffer; returns its status, *out the text (caller frees). */
#define LIST(call, buf) (fv_sb_free(&(buf)), (call))

static void test_project_lists(void) {
    site s;
    if (!site_open(&s, false)) return;
    int64_t alpha = make_project(&s, "alpha"), beta = make_project(&s, "beta");
    fv_ledger_channel ch = {FV_LEDGER_CHANNEL_AGENCY, "Agency \"A\"", 10,
                            FV_LEDGER_COMMISSION_PERCENT, 150};
    int64_t channel = 0, agent = 0;
    CHECK_INT_EQ(fv_ledger_channel_create(s.l, &ADMIN, alpha, &ch, &channel), FV_OK);
    fv_ledger_agent ag = {"Li Si", "team 1", 0};
    CHECK_INT_EQ(fv_ledger_agent_create(s.l, &ADMIN, channel, &ag, &agent), FV_OK);
    int version = 0;
    CHECK_INT_EQ(fv_ledger_notice_publish(s.l, &ADMIN, alpha, "中文", "English", &version), FV_OK);

    fv_strbuf b = {0};
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &ADMIN, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "[{\"code\": \"alpha\", \"name\": \"Project \\\"alpha\\\" 项目\"");
    CHECK_STR_CONTAINS(b.s, "\"notice_version\": 1, \"match_threshold\": 0.4125");
    CHECK_STR_CONTAINS(b.s, "{\"code\": \"beta\"");
    CHECK_STR_CONTAINS(b.s, "\"notice_version\": null");
    CHECK_STR_CONTAINS(b.s, "\"otp_per_phone_per_hour\": 5}]");
    CHECK(strstr(b.s, "\"created\"") == NULL);

    /* auditor: every setting; reception and kiosk: all projects, no tuning numbers */
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &AUDITOR, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "match_margin");
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &RECEPTION, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "\"beta\"");
    CHECK_STR_CONTAINS(b.s, "\"retention_days\": 30");
    CHECK(strstr(b.s, "match_threshold") == NULL && strstr(b.s, "otp_") == NULL);
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &KIOSK, &b), b), FV_OK);
    CHECK(strstr(b.s, "match_threshold") == NULL);

    /* an agent and a channel manager see their own project only */
    fv_ledger_actor ag_actor = {FV_LEDGER_ROLE_AGENT, agent};
    fv_ledger_actor cm_actor = {FV_LEDGER_ROLE_CHANNEL_MANAGER, channel};
    fv_ledger_actor stray = {FV_LEDGER_ROLE_AGENT, 999};
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &ag_actor, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "\"alpha\"");
    CHECK(strstr(b.s, "\"beta\"") == NULL && strstr(b.s, "match_threshold") == NULL);
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &cm_actor, &b), b), FV_OK);
    CHECK(strstr(b.s, "\"alpha\"") != NULL && strstr(b.s, "\"beta\"") == NULL);
    CHECK_INT_EQ(LIST(fv_ledger_project_list_json(s.l, &stray, &b), b), FV_OK);
    CHECK(b.s != NULL && strcmp(b.s, "[]") == 0);
    CHECK_INT_EQ(LIST(fv_ledger_project_json(s.l, &ag_actor, alpha, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "{\"code\": \"alpha\"");
    CHECK_INT_EQ(LIST(fv_ledger_project_json(s.l, &ag_actor, beta, &b), b), FV_ERR_NOT_FOUND);
    CHECK(b.len == 0);
    CHECK_INT_EQ(LIST(fv_ledger_project_json(s.l, &ADMIN, 4242, &b), b), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(LIST(fv_ledger_project_json(s.l, NULL, alpha, &b), b), FV_ERR_ARG);

    /* channels: the natural one first, then the agency with its rule and agent count */
    CHECK_INT_EQ(LIST(fv_ledger_channel_list_json(s.l, &ADMIN, alpha, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "\"kind\": \"natural\", \"name\": \"natural\", \"protection_days\":"
                            " null, \"commission\": \"none\", \"commission_value\": 0,"
                            " \"agents\": 0");
    CHECK_STR_CONTAINS(b.s, "\"kind\": \"agency\", \"name\": \"Agency \\\"A\\\"\","
                            " \"protection_days\": 10, \"commission\": \"percent\","
                            " \"commission_value\": 150, \"agents\": 1");
    CHECK_INT_EQ(LIST(fv_ledger_channel_list_json(s.l, &ADMIN, beta, &b), b), FV_OK);
    CHECK(strstr(b.s, "agency") == NULL);
    CHECK_INT_EQ(LIST(fv_ledger_channel_list_json(s.l, &RECEPTION, alpha, &b), b), FV_OK);
    CHECK_INT_EQ(LIST(fv_ledger_channel_list_json(s.l, &ag_actor, alpha, &b), b), FV_ERR_STATE);
    CHECK(b.len == 0);
    CHECK_INT_EQ(LIST(fv_ledger_channel_list_json(s.l, &KIOSK, alpha, &b), b), FV_ERR_STATE);
    CHECK_INT_EQ(LIST(fv_ledger_channel_list_json(s.l, &ADMIN, 4242, &b), b), FV_ERR_NOT_FOUND);

    /* agents */
    char want[160];
    snprintf(want, sizeof want,
             "[{\"id\": %lld, \"channel_id\": %lld, \"channel\": \"Agency \\\"A\\\"\","
             " \"name\": \"Li Si\", \"team\": \"team 1\", \"protection_days\": null,",
             (long long)agent, (long long)channel);
    CHECK_INT_EQ(LIST(fv_ledger_agent_list_json(s.l, &AUDITOR, alpha, &b), b), FV_OK);
    CHECK_STR_CONTAINS(b.s, want);
    CHECK_INT_EQ(LIST(fv_ledger_agent_list_json(s.l, &ADMIN, beta, &b), b), FV_OK);
    CHECK(b.s != NULL && strcmp(b.s, "[]") == 0);
    CHECK_INT_EQ(LIST(fv_ledger_agent_list_json(s.l, &cm_actor, alpha, &b), b), FV_ERR_STATE);
    fv_sb_free(&b);
    site_close(&s);
}

/* Checks a person in at reception by phone (no one-time code needed); slip receives the code. */
static bool checkin_phone(site *s, int64_t project, const char *phone,
                          char slip[FV_LEDGER_ID_CHARS], char person[FV_LEDGER_ID_CHARS]) {
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = project;
    snprintf(rq.phone, sizeof rq.phone, "%s", phone);
    snprintf(rq.device, sizeof rq.device, "reception-desk");
    fv_ledger_checkin_result res;
    fv_status st = fv_ledger_checkin(s->l, &RECEPTION, &rq, &res);
    if (st != FV_OK) {
        CHECK_FAIL("checkin: %s: %s", fv_status_name(st), fv_ledger_errmsg(s->l));
        return false;
    }
    memcpy(slip, res.slip, FV_LEDGER_ID_CHARS);
    memcpy(person, res.person, FV_LEDGER_ID_CHARS);
    return true;
}

static void test_slip_phone(void) {
    site s;
    if (!site_open(&s, false)) return;
    int64_t project = make_project(&s, "alpha");
    char slip[FV_LEDGER_ID_CHARS], person[FV_LEDGER_ID_CHARS], otp[FV_LEDGER_ID_CHARS];
    char found[FV_LEDGER_ID_CHARS];
    if (!checkin_phone(&s, project, PHONE, slip, person)) {
        site_close(&s);
        return;
    }
    CHECK_INT_EQ(strlen(slip), 10);
    bool needed = false;

    /* no phone given: a phone is needed, nothing sent */
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, NULL, &needed, otp), FV_OK);
    CHECK(needed);
    CHECK_INT_EQ(strlen(otp), 0);
    CHECK_INT_EQ(s.sent, 0);

    /* another phone: a decoy id of the same shape, nothing sent, and it opens nothing */
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, PHONE2, &needed, otp), FV_OK);
    CHECK(needed);
    CHECK_INT_EQ(strlen(otp), 32);
    CHECK_INT_EQ(s.sent, 0);
    CHECK_INT_EQ(fv_ledger_person_by_slip(s.l, slip, PHONE2, otp, "123456", found), FV_ERR_STATE);
    CHECK_INT_EQ(fv_ledger_person_by_slip(s.l, slip, PHONE, otp, "123456", found), FV_ERR_STATE);

    /* the slip's phone (written another way): a real code, which opens the record */
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, "+86 138-0000-1234", &needed, otp), FV_OK);
    CHECK(needed);
    CHECK_INT_EQ(strlen(otp), 32);
    CHECK_INT_EQ(s.sent, 1);
    CHECK_INT_EQ(fv_ledger_person_by_slip(s.l, slip, PHONE, otp, s.code, found), FV_OK);
    CHECK(strcmp(found, person) == 0);
    int64_t row = 0;
    char back[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv_ledger_person_find(s.l, person, &row), FV_OK);
    CHECK(row > 0);
    CHECK_INT_EQ(fv_ledger_person_id(s.l, row, back), FV_OK);
    CHECK(strcmp(back, person) == 0);
    CHECK_INT_EQ(fv_ledger_person_id(s.l, row + 100, back), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv_ledger_person_find(s.l, "00112233445566778899aabbccddeeff", &row),
                 FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv_ledger_person_find(s.l, "not hex", &row), FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_person_find(s.l, NULL, &row), FV_ERR_ARG);

    /* the visitor session's actor reads its own project only */
    fv_ledger_actor visitor = {FV_LEDGER_ROLE_VISITOR, row};
    fv_strbuf b = {0};
    CHECK_INT_EQ(fv_ledger_project_list_json(s.l, &visitor, &b), FV_OK);
    CHECK_STR_CONTAINS(b.s, "\"alpha\"");
    fv_sb_free(&b);

    /* malformed input; unknown slip */
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, "SHORT", PHONE, &needed, otp), FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, NULL, PHONE, &needed, otp), FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, "12345", &needed, otp), FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, "ZZZZZZZZZZ", PHONE, &needed, otp), FV_ERR_NOT_FOUND);
    CHECK(!needed);
    CHECK_INT_EQ(strlen(otp), 0);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(s.l), "no record for this slip code");

    /* the per-phone hourly limit holds through this path too (5 by default; 1 used) */
    int sent_before = s.sent;
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, PHONE, &needed, otp), FV_OK);
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, PHONE, &needed, otp), FV_ERR_LIMIT);
    CHECK_INT_EQ(s.sent, sent_before + 4);

    /* after deletion the slip, the id and the row lead nowhere */
    CHECK_INT_EQ(fv_ledger_person_delete(s.l, &visitor, person), FV_OK);
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, slip, PHONE, &needed, otp), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv_ledger_person_find(s.l, person, &row), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv_ledger_person_id(s.l, visitor.id, back), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv_ledger_project_list_json(s.l, &visitor, &b), FV_OK);
    CHECK(b.s != NULL && strcmp(b.s, "[]") == 0);
    fv_sb_free(&b);
    site_close(&s);
}

static void test_slip_face_only(void) {
    site s;
    if (!site_open(&s, true)) return;
    int64_t project = make_project(&s, "alpha");
    int version = 0;
    CHECK_INT_EQ(fv_ledger_notice_publish(s.l, &ADMIN, project, "中文", "English", &version),
                 FV_OK);
    fv_strbuf b = {0};
    fv_ledger_consent_request cr;
    memset(&cr, 0, sizeof cr);
    cr.project = project;
    CHECK_INT_EQ(fv_ledger_notice_current(s.l, project, &b), FV_OK);
    CHECK(b.s != NULL && sscanf(b.s, "{\"version\": %d, \"hash\": \"%64[0-9a-f]\"",
                                &cr.notice_version, cr.notice_hash) == 2);
    fv_sb_free(&b);
    snprintf(cr.device, sizeof cr.device, "kiosk-1");
    snprintf(cr.method, sizeof cr.method, "kiosk_touch");
    char consent[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv_ledger_consent_record(s.l, &KIOSK, &cr, consent), FV_OK);
    float emb[FV_VAULT_DIM];
    uint64_t seed = 7;
    vf_random_unit(&seed, emb);
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = project;
    rq.embedding = emb;
    memcpy(rq.consent_id, consent, sizeof consent);
    snprintf(rq.device, sizeof rq.device, "kiosk-1");
    fv_ledger_checkin_result res;
    fv_status st = fv_ledger_checkin(s.l, &KIOSK, &rq, &res);
    CHECK_INT_EQ(st, FV_OK);
    if (st != FV_OK) {
        fprintf(stderr, "checkin: %s\n", fv_ledger_errmsg(s.l));
        site_close(&s);
        return;
    }
    /* a face-only person: no phone needed (a phone given is ignored), nothing sent */
    bool needed = true;
    char otp[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, res.slip, NULL, &needed, otp), FV_OK);
    CHECK(!needed);
    CHECK_INT_EQ(strlen(otp), 0);
    CHECK_INT_EQ(fv_ledger_slip_otp_send(s.l, res.slip, PHONE, &needed, otp), FV_OK);
    CHECK(!needed);
    CHECK_INT_EQ(strlen(otp), 0);
    CHECK_INT_EQ(s.sent, 0);
    char found[FV_LEDGER_ID_CHARS];
    CHECK_INT_EQ(fv_ledger_person_by_slip(s.l, res.slip, NULL, NULL, NULL, found), FV_OK);
    CHECK(strcmp(found, res.person) == 0);
    site_close(&s);
}

int main(void) {
    RUN(test_project_lists);
    RUN(test_slip_phone);
    RUN(test_slip_face_only);
    return check_summary();
}
