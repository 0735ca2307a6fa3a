/*
 * demo_seed.c - seeds the demo project of a fresh site (see demo_seed.h) through the public
 * ledger API: settings and a bilingual notice, three channels (an agency on a percentage, a
 * referral programme on a fixed sum, an online source), three agents, and a script of dated
 * events over the last 30 days: registrations (accepted and refused), check-ins confirmed by
 * reception or with a one-time code at the kiosk, escorts by QR scan and by reception, an escort
 * left unconfirmed and settled, return visits, a conflict decided, appealed and decided again,
 * deals (one with a co-buyer who visited before the registration), and at the end a visitor
 * whose escort is still awaited and a live registration not yet visited.
 *
 * Invariants: events run in time order on the context's clock, never after end_ms; phones are
 * 1380000xxxx; customer names are "演示客户 Demo Customer NN"; nothing here prints anything. The
 * one-time code the demo gateway receives is wiped as soon as the check-in used it.
 * Threading: the caller's thread, one context per seeding.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "demo_seed.h"
#include "fairvisit/alloc.h"
#include "fairvisit/strbuf.h"

#define MINUTE_MS ((int64_t)60 * 1000)
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)
#define TZ_MS     (8 * HOUR_MS) /* the sales office's day is UTC+8 */
#define N_AGENTS  FV_DEMO_AGENTS
#define N_PERSONS 14 /* demo visitors 1..13 (index 0 unused) */

static int64_t demo_clock(void *ctx) {
    fv_demo_ctx *c = ctx;
    if (c->now_ms != 0) return c->now_ms;
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int demo_otp_send(void *ctx, const char *phone, const char *code) {
    fv_demo_ctx *c = ctx;
    (void)phone;
    snprintf(c->otp_code, sizeof c->otp_code, "%s", code);
    return 0;
}

void fv_demo_options(fv_demo_ctx *ctx, fv_ledger_options *opt) {
    memset(ctx, 0, sizeof *ctx);
    opt->now_ms = demo_clock;
    opt->clock_ctx = ctx;
    opt->otp_send = demo_otp_send;
    opt->otp_ctx = ctx;
}

/* ---- the notice ---------------------------------------------------------------------------- */

static void notice_texts(const fv_ledger_project_settings *ps, fv_strbuf *zh, fv_strbuf *en) {
    fv_sb_printf(zh,
                 "%s 人脸识别单独告知\n\n"
                 "处理者：%s。联系方式：%s。\n"
                 "处理目的：仅用于判定您的到访属于哪个渠道（判客），不用于任何其他目的。\n"
                 "处理方式：在您明确同意之后，售楼处本机从您这次拍摄的画面中提取人脸特征，"
                 "与本项目已同意的到访者的特征比对；全部在售楼处本机完成，不上传云端。\n"
                 "保存内容：只保存加密的人脸特征模板，不保存照片或视频；特征与您的姓名、"
                 "手机号分开保存。\n"
                 "保存期限：%d 天，期满自动删除（当天的密钥随之销毁，备份中的副本也无法读取）。\n"
                 "您的权利：您可以拒绝，改用手机号验证码或由前台确认到访，服务不受任何影响；"
                 "您可以随时凭到访小票上的代码查看我们保存的您的信息、撤回同意并立即删除人脸"
                 "模板，也可以联系处理者。\n"
                 "未满 %d 周岁：须由监护人同意，否则不采集人脸。\n",
                 ps->name, ps->controller, ps->controller_contact, ps->retention_days,
                 ps->guardian_age);
    fv_sb_printf(en,
                 "%s: separate notice on face recognition\n\n"
                 "Who processes: %s. Contact: %s.\n"
                 "Purpose: only to decide which channel your visit belongs to (attribution), for "
                 "no other purpose.\n"
                 "Method: after your explicit consent, this sales office's own computer derives a "
                 "face template from the picture taken now and compares it with the templates of "
                 "visitors of this project who consented; all of it on this machine, nothing is "
                 "sent to a cloud.\n"
                 "What is stored: an encrypted face template, not a photo or video, kept apart "
                 "from your name and phone number.\n"
                 "Retention: %d days, then deleted automatically (the day's key is destroyed, so "
                 "backup copies become unreadable too).\n"
                 "Your rights: you may decline and check in with a one-time code sent to your "
                 "phone or be confirmed by reception; you are served exactly the same. At any "
                 "time, with the code on your visit slip, you can see what we hold about you, "
                 "withdraw your consent and have your template deleted at once, or contact the "
                 "processor.\n"
                 "Under %d: no face without a guardian's consent.\n",
                 ps->name, ps->controller, ps->controller_contact, ps->retention_days,
                 ps->guardian_age);
}

/* ---- the script ---------------------------------------------------------------------------- */

typedef enum ev_kind {
    EV_REGISTER,    /* agent registers person */
    EV_CHECKIN,     /* reception checks person in by phone (escort: reception saw the agent) */
    EV_CHECKIN_OTP, /* the kiosk checks person in with a one-time code */
    EV_ESCORT_QR,   /* the agent scans the QR code of person's last visit */
    EV_SETTLE,      /* the scheduled settlement of unconfirmed escorts */
    EV_DEAL,        /* person buys (with person2 as co-buyer when given) */
    EV_DECIDE,      /* admin decides person's last conflict */
    EV_APPEAL,      /* the agent appeals person's last conflict */
} ev_kind;

typedef struct ev {
    int days_ago, hour, minute; /* office time (UTC+8); days_ago -1: `minute` minutes before end */
    ev_kind kind;
    int person;  /* 1..N_PERSONS-1 */
    int agent;   /* 0..N_AGENTS-1, or -1 */
    int escort;  /* EV_CHECKIN: 1 = reception confirms agent's escort */
    int person2; /* EV_DEAL: a co-buyer, or 0 */
    int64_t amount_yuan;
    const char *step; /* failure label: no names, no phones */
} ev;

/* Agents: 0 = the agency's, 1 = the referral programme's, 2 = the online desk. */
static const ev SCRIPT[] = {
    {28, 10, 5, EV_CHECKIN, 1, -1, 0, 0, 0, "natural first visit of demo visitor 1"},
    {27, 11, 0, EV_REGISTER, 2, 0, 0, 0, 0, "registration of demo visitor 2 (agency)"},
    {26, 14, 30, EV_CHECKIN, 2, 0, 1, 0, 0, "check-in of demo visitor 2, escort by reception"},
    {25, 10, 0, EV_REGISTER, 3, 1, 0, 0, 0, "registration of demo visitor 3 (referral)"},
    {24, 15, 0, EV_CHECKIN_OTP, 3, -1, 0, 0, 0, "kiosk check-in of demo visitor 3"},
    {24, 15, 20, EV_ESCORT_QR, 3, 1, 0, 0, 0, "QR escort of demo visitor 3"},
    {23, 10, 30, EV_REGISTER, 1, 0, 0, 0, 0, "registration of visitor 1 after a visit (refused)"},
    {23, 16, 0, EV_DECIDE, 1, -1, 0, 0, 0, "decision on the conflict of demo visitor 1"},
    {22, 9, 30, EV_REGISTER, 4, 2, 0, 0, 0, "registration of demo visitor 4 (online)"},
    {22, 10, 0, EV_REGISTER, 4, 0, 0, 0, 0, "second registration of visitor 4 (refused)"},
    {22, 11, 0, EV_APPEAL, 1, 0, 0, 0, 0, "appeal on the conflict of demo visitor 1"},
    {21, 10, 0, EV_DECIDE, 1, -1, 0, 0, 0, "decision on the appeal of demo visitor 1"},
    {20, 11, 0, EV_REGISTER, 5, 0, 0, 0, 0, "registration of demo visitor 5 (agency)"},
    {20, 16, 0, EV_CHECKIN, 4, 2, 1, 0, 0, "check-in of demo visitor 4, escort by reception"},
    {19, 14, 0, EV_CHECKIN, 5, -1, 0, 0, 0, "check-in of demo visitor 5, escort awaited"},
    {19, 17, 0, EV_SETTLE, 0, -1, 0, 0, 0, "settlement of unconfirmed escorts"},
    {18, 10, 0, EV_REGISTER, 6, 1, 0, 0, 0, "registration of demo visitor 6 (referral)"},
    {17, 11, 0, EV_CHECKIN, 7, -1, 0, 0, 0, "natural first visit of demo visitor 7"},
    {15, 15, 0, EV_CHECKIN_OTP, 2, -1, 0, 0, 0, "return visit of demo visitor 2"},
    {14, 10, 0, EV_REGISTER, 11, 0, 0, 0, 0, "registration of demo visitor 11 (agency)"},
    {13, 14, 0, EV_CHECKIN, 11, 0, 1, 0, 0, "check-in of demo visitor 11, escort by reception"},
    {12, 10, 30, EV_CHECKIN, 8, -1, 0, 0, 0, "natural first visit of demo visitor 8"},
    {12, 16, 0, EV_DEAL, 2, -1, 0, 0, 3200000, "deal of demo visitor 2"},
    {10, 11, 0, EV_CHECKIN, 1, -1, 0, 0, 0, "return visit of demo visitor 1"},
    {9, 15, 0, EV_CHECKIN, 6, -1, 0, 0, 0, "check-in of demo visitor 6 after expiry"},
    {8, 14, 0, EV_CHECKIN, 3, -1, 0, 0, 0, "return visit of demo visitor 3"},
    {7, 16, 0, EV_DEAL, 3, -1, 0, 0, 2650000, "deal of demo visitor 3"},
    {6, 15, 0, EV_DEAL, 11, -1, 0, 7, 4100000, "deal of demo visitor 11 with a co-buyer"},
    {5, 10, 0, EV_CHECKIN_OTP, 9, -1, 0, 0, 0, "natural first visit of demo visitor 9"},
    {4, 16, 0, EV_DEAL, 8, -1, 0, 0, 2980000, "deal of demo visitor 8"},
    {3, 11, 0, EV_DEAL, 4, -1, 0, 0, 3560000, "deal of demo visitor 4"},
    {2, 10, 0, EV_REGISTER, 12, 2, 0, 0, 0, "registration of demo visitor 12 (online)"},
    {2, 14, 0, EV_CHECKIN, 10, -1, 0, 0, 0, "natural first visit of demo visitor 10"},
    {1, 10, 0, EV_REGISTER, 12, 1, 0, 0, 0, "registration of visitor 12 by another channel"},
    {1, 11, 0, EV_REGISTER, 9, 0, 0, 0, 0, "registration of visitor 9 after a visit (refused)"},
    {-1, 0, 40, EV_CHECKIN, 12, -1, 0, 0, 0, "check-in of demo visitor 12, escort awaited"},
    {-1, 0, 30, EV_REGISTER, 13, 0, 0, 0, 0, "registration of demo visitor 13 (agency)"},
};

typedef struct seed_state {
    fv_ledger *l;
    fv_demo_ctx *ctx;
    fv_demo_summary *sum;
    int64_t project;
    int64_t agents[N_AGENTS];
    fv_ledger_actor admin, reception, kiosk, system;
    /* per demo visitor */
    char phone[N_PERSONS][16];
    int visited[N_PERSONS];
    int64_t first_at[N_PERSONS];
    fv_ledger_outcome outcome[N_PERSONS];
    char qr[N_PERSONS][FV_LEDGER_ID_CHARS];
    int64_t conflict[N_PERSONS];
    int escort_window_minutes;
} seed_state;

static void note_conflict(seed_state *s, int person, int64_t conflict) {
    if (conflict == 0) return;
    s->conflict[person] = conflict;
    s->sum->conflicts++;
}

static fv_status do_register(seed_state *s, const ev *e) {
    fv_ledger_registration_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = s->project;
    rq.agent = s->agents[e->agent];
    snprintf(rq.customer_name, sizeof rq.customer_name, "演示客户 Demo Customer %02d", e->person);
    snprintf(rq.phone, sizeof rq.phone, "%s", s->phone[e->person]);
    rq.expected_visit_ms = s->ctx->now_ms + 2 * DAY_MS;
    fv_ledger_actor agent = {FV_LEDGER_ROLE_AGENT, s->agents[e->agent]};
    fv_ledger_registration_result res;
    fv_status st = fv_ledger_register(s->l, &agent, &rq, &res);
    if (st != FV_OK) return st;
    s->sum->registrations++;
    if (res.status == FV_LEDGER_REG_REFUSED) s->sum->registrations_refused++;
    note_conflict(s, e->person, res.conflict);
    return FV_OK;
}

static fv_status do_checkin(seed_state *s, const ev *e) {
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = s->project;
    snprintf(rq.phone, sizeof rq.phone, "%s", s->phone[e->person]);
    const fv_ledger_actor *who = &s->reception;
    if (e->kind == EV_CHECKIN_OTP) {
        who = &s->kiosk;
        fv_status st = fv_ledger_otp_send(s->l, who, s->project, rq.phone, rq.otp_id);
        if (st != FV_OK) return st;
        snprintf(rq.otp_code, sizeof rq.otp_code, "%s", s->ctx->otp_code);
        fv_wipe(s->ctx->otp_code, sizeof s->ctx->otp_code);
        snprintf(rq.device, sizeof rq.device, "kiosk-1");
    } else {
        snprintf(rq.device, sizeof rq.device, "reception-1");
    }
    if (e->escort) {
        rq.escort = FV_LEDGER_ESCORT_RECEPTION;
        rq.escort_agent = s->agents[e->agent];
    }
    fv_ledger_checkin_result res;
    fv_status st = fv_ledger_checkin(s->l, who, &rq, &res);
    fv_wipe(rq.otp_code, sizeof rq.otp_code);
    if (st != FV_OK) return st;
    if (res.kind == FV_LEDGER_VISIT_FIRST) {
        s->sum->visits_first++;
        s->first_at[e->person] = s->ctx->now_ms;
    } else if (res.kind == FV_LEDGER_VISIT_RETURN) {
        s->sum->visits_return++;
    }
    s->visited[e->person] = 1;
    s->outcome[e->person] = res.outcome;
    memcpy(s->qr[e->person], res.qr, sizeof res.qr);
    if (res.outcome == FV_LEDGER_OUTCOME_CHANNEL_VALID && e->escort) s->sum->escorts_confirmed++;
    note_conflict(s, e->person, res.conflict);
    return FV_OK;
}

static fv_status do_escort_qr(seed_state *s, const ev *e) {
    fv_ledger_actor agent = {FV_LEDGER_ROLE_AGENT, s->agents[e->agent]};
    fv_ledger_outcome out;
    fv_status st =
        fv_ledger_escort_confirm(s->l, &agent, s->qr[e->person], 0, s->agents[e->agent], &out);
    if (st != FV_OK) return st;
    s->outcome[e->person] = out;
    if (out == FV_LEDGER_OUTCOME_CHANNEL_VALID) s->sum->escorts_confirmed++;
    return FV_OK;
}

static fv_status do_settle(seed_state *s) {
    size_t settled = 0;
    fv_status st = fv_ledger_settle(s->l, &s->system, &settled);
    if (st != FV_OK) return st;
    s->sum->escorts_settled += settled;
    s->sum->conflicts += settled; /* each settled escort opens a conflict */
    int64_t window = (int64_t)s->escort_window_minutes * MINUTE_MS;
    for (int p = 1; p < N_PERSONS; p++)
        if (s->outcome[p] == FV_LEDGER_OUTCOME_PENDING_ESCORT && s->visited[p] &&
            s->first_at[p] + window <= s->ctx->now_ms)
            s->outcome[p] = FV_LEDGER_OUTCOME_CHANNEL_INVALID;
    return FV_OK;
}

static fv_status do_deal(seed_state *s, const ev *e) {
    const char *phones[2] = {s->phone[e->person], e->person2 ? s->phone[e->person2] : NULL};
    fv_ledger_deal_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = s->project;
    rq.buyer_phones = phones;
    rq.n_buyers = e->person2 ? 2 : 1;
    rq.amount_cents = e->amount_yuan * 100;
    rq.signed_ms = s->ctx->now_ms;
    fv_ledger_deal_result res;
    fv_status st = fv_ledger_deal_record(s->l, &s->admin, &rq, &res);
    if (st != FV_OK) return st;
    s->sum->deals++;
    s->sum->deal_buyers += rq.n_buyers;
    s->sum->deals_flagged += res.flagged;
    s->sum->commission_cents += res.commission_cents;
    note_conflict(s, e->person, res.conflict);
    return FV_OK;
}

static fv_status do_decide(seed_state *s, const ev *e) {
    if (s->conflict[e->person] == 0) return FV_OK; /* the ledger opened none: nothing to decide */
    fv_status st = fv_ledger_conflict_decide(
        s->l, &s->admin, s->conflict[e->person], FV_LEDGER_VERDICT_UPHOLD,
        "The visitor's first visit came before the registration; the attribution stands.");
    if (st == FV_OK) s->sum->decisions++;
    return st;
}

static fv_status do_appeal(seed_state *s, const ev *e) {
    if (s->conflict[e->person] == 0) return FV_OK;
    fv_ledger_actor agent = {FV_LEDGER_ROLE_AGENT, s->agents[e->agent]};
    fv_status st = fv_ledger_conflict_appeal(
        s->l, &agent, s->conflict[e->person],
        "The customer contacted our agent by phone before the visit; call log available.");
    if (st == FV_OK) s->sum->decisions++;
    return st;
}

static fv_status setup(seed_state *s) {
    fv_ledger *l = s->l;
    fv_demo_summary *sum = s->sum;
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "%s", FV_DEMO_PROJECT_CODE);
    snprintf(ps.name, sizeof ps.name, "Demo Garden 示范花园");
    snprintf(ps.controller, sizeof ps.controller,
             "示范置业有限公司 Demo Garden Property Co., Ltd. (demo)");
    snprintf(ps.controller_contact, sizeof ps.controller_contact,
             "privacy@demo-garden.invalid; 售楼处前台 the sales office reception");
    s->escort_window_minutes = ps.escort_window_minutes;
    sum->failed_step = "project creation";
    fv_status st = fv_ledger_project_create(l, &s->admin, &ps, &s->project);
    if (st != FV_OK) return st;
    sum->project = s->project;

    sum->failed_step = "notice publication";
    fv_strbuf zh = {0}, en = {0};
    notice_texts(&ps, &zh, &en);
    if (zh.oom || en.oom)
        st = FV_ERR_NOMEM;
    else
        st = fv_ledger_notice_publish(l, &s->admin, s->project, zh.s, en.s, &sum->notice_version);
    fv_sb_free(&zh);
    fv_sb_free(&en);
    if (st != FV_OK) return st;

    static const fv_ledger_channel CHANNELS[N_AGENTS] = {
        {FV_LEDGER_CHANNEL_AGENCY, "安居地产 Anju Realty (agency)", 0, FV_LEDGER_COMMISSION_PERCENT,
         100 /* 1% */},
        {FV_LEDGER_CHANNEL_REFERRAL, "老带新 Owners' Referral", 0, FV_LEDGER_COMMISSION_FIXED,
         500000 /* 5,000 yuan */},
        {FV_LEDGER_CHANNEL_ONLINE, "线上留资 Online Leads", 14, FV_LEDGER_COMMISSION_PERCENT,
         30 /* 0.3% */},
    };
    static const fv_ledger_agent AGENTS[N_AGENTS] = {
        {"李伟 Li Wei (demo)", "东区 East team", 0},
        {"张敏 Zhang Min (demo)", "", 0},
        {"线上顾问 Online Advisor (demo)", "", 0},
    };
    for (int i = 0; i < N_AGENTS; i++) {
        int64_t channel = 0;
        sum->failed_step = "channel creation";
        st = fv_ledger_channel_create(l, &s->admin, s->project, &CHANNELS[i], &channel);
        if (st != FV_OK) return st;
        sum->channels++;
        sum->failed_step = "agent creation";
        st = fv_ledger_agent_create(l, &s->admin, channel, &AGENTS[i], &s->agents[i]);
        if (st != FV_OK) return st;
        sum->channel_ids[i] = channel;
        sum->agent_ids[i] = s->agents[i];
        sum->agents++;
    }
    sum->failed_step = NULL;
    return FV_OK;
}

fv_status fv_demo_seed(fv_ledger *l, fv_demo_ctx *ctx, int64_t end_ms, fv_demo_summary *sum) {
    memset(sum, 0, sizeof *sum);
    seed_state s;
    memset(&s, 0, sizeof s);
    s.l = l;
    s.ctx = ctx;
    s.sum = sum;
    s.admin = (fv_ledger_actor){FV_LEDGER_ROLE_ADMIN, 1};
    s.reception = (fv_ledger_actor){FV_LEDGER_ROLE_RECEPTION, 1};
    s.kiosk = (fv_ledger_actor){FV_LEDGER_ROLE_KIOSK, 1};
    s.system = (fv_ledger_actor){FV_LEDGER_ROLE_SYSTEM, 0};
    for (int p = 1; p < N_PERSONS; p++) snprintf(s.phone[p], sizeof s.phone[p], "138000000%02d", p);

    /* Midnight (UTC+8) of end_ms's day; an event at days_ago d, hh:mm is that minus d days. */
    int64_t midnight = (end_ms + TZ_MS) / DAY_MS * DAY_MS - TZ_MS;
    ctx->now_ms = midnight - 30 * DAY_MS + 9 * HOUR_MS;
    if (ctx->now_ms > end_ms) ctx->now_ms = end_ms;
    sum->from_ms = ctx->now_ms;
    fv_status st = setup(&s);
    for (size_t i = 0; st == FV_OK && i < sizeof SCRIPT / sizeof SCRIPT[0]; i++) {
        const ev *e = &SCRIPT[i];
        int64_t at = e->days_ago < 0 ? end_ms - e->minute * MINUTE_MS
                                     : midnight - e->days_ago * DAY_MS + e->hour * HOUR_MS +
                                           e->minute * MINUTE_MS;
        if (at > end_ms) at = end_ms;
        if (at > ctx->now_ms) ctx->now_ms = at;
        sum->failed_step = e->step;
        switch (e->kind) {
        case EV_REGISTER:
            st = do_register(&s, e);
            break;
        case EV_CHECKIN:
        case EV_CHECKIN_OTP:
            st = do_checkin(&s, e);
            break;
        case EV_ESCORT_QR:
            st = do_escort_qr(&s, e);
            break;
        case EV_SETTLE:
            st = do_settle(&s);
            break;
        case EV_DEAL:
            st = do_deal(&s, e);
            break;
        case EV_DECIDE:
            st = do_decide(&s, e);
            break;
        case EV_APPEAL:
            st = do_appeal(&s, e);
            break;
        }
    }
    if (st != FV_OK) return st;
    sum->failed_step = NULL;
    sum->to_ms = ctx->now_ms;
    for (int p = 1; p < N_PERSONS; p++)
        if (s.visited[p] && (unsigned)s.outcome[p] < 4) sum->outcomes[s.outcome[p]]++;
    ctx->now_ms = end_ms;
    return FV_OK;
}
