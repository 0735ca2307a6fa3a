/*
 * demo_seed.h - a demo project for a fresh site (`fairvisit init --demo`, and the server's demo
 * mode): project "demo" with a bilingual notice, three channels, three agents and a month of
 * registrations, check-ins, escorts, conflicts and deals, written through the public ledger API
 * only, so every rule of PRODUCT.md §3 runs on it and every report has data.
 *
 * The demo's events lie in the past: the ledger handle must be opened with the options from
 * fv_demo_options, whose clock the seeding moves from about 30 days ago up to `end_ms`, and whose
 * one-time-code gateway keeps the code in the context (for the kiosk check-ins of the demo)
 * instead of showing it. Phones are in the fake range 1380000xxxx; no face is involved (the
 * visitors check in by phone, with reception or with a one-time code).
 *
 *     fv_demo_ctx ctx;
 *     fv_ledger_options opt = {.no_vault = false};
 *     fv_demo_options(&ctx, &opt);
 *     fv_ledger_open(dir, &opt, &l);
 *     fv_demo_summary sum;
 *     if (fv_demo_seed(l, &ctx, now_ms, &sum) != FV_OK)
 *         fprintf(stderr, "%s: %s\n", sum.failed_step, fv_ledger_errmsg(l));
 *     fv_ledger_close(l);               // ctx must outlive the handle
 *
 * Threading: one seeding per context; the handle is used by the calling thread only.
 */
#ifndef FAIRVISIT_CLI_DEMO_SEED_H
#define FAIRVISIT_CLI_DEMO_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "fairvisit/ledger.h"

#define FV_DEMO_PROJECT_CODE "demo"
#define FV_DEMO_AGENTS       3 /* one per channel besides natural */

/* The demo's clock and its one-time-code gateway's mailbox. Caller-owned. */
typedef struct fv_demo_ctx {
    int64_t now_ms;
    char otp_code[16]; /* the last code "sent"; wiped once used */
} fv_demo_ctx;

/* Clears ctx (its clock reads the system time until seeding moves it) and points opt's clock and
 * one-time-code gateway at it; opt's other fields are kept. */
void fv_demo_options(fv_demo_ctx *ctx, fv_ledger_options *opt);

/* What the seeding made (counts; ids of the project). */
typedef struct fv_demo_summary {
    int64_t project;
    int notice_version;
    int64_t from_ms, to_ms;  /* first and last event */
    size_t channels, agents; /* besides the natural channel */
    size_t registrations, registrations_refused;
    size_t visits_first, visits_return;
    size_t outcomes[4]; /* first visits by fv_ledger_outcome at the end of the seeding */
    size_t escorts_confirmed, escorts_settled;
    size_t deals, deals_flagged, deal_buyers;
    int64_t commission_cents;
    size_t conflicts, decisions;
    int64_t channel_ids[FV_DEMO_AGENTS]; /* agency, referral, online */
    int64_t agent_ids[FV_DEMO_AGENTS];   /* one agent in each of them */
    const char *failed_step; /* on failure: which step (static text, no personal data) */
} fv_demo_summary;

/* Seeds the demo project into the ledger opened with fv_demo_options(ctx, ...): events from about
 * 30 days before end_ms up to end_ms (the clock ends at end_ms). On failure returns the ledger's
 * status (message on the handle) and names the step in sum->failed_step. */
FV_NODISCARD fv_status fv_demo_seed(fv_ledger *l, fv_demo_ctx *ctx, int64_t end_ms,
                                    fv_demo_summary *sum);

#endif
