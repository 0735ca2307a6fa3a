/*
 * fairvisit/ledger.h - the attribution ledger: projects, channels, agents, consent, registrations,
 * visits, attributions, conflicts, deals, one-time codes, rights, reports and the audit chain.
 *
 * A site folder holds the ledger next to the template vault (docs/ledger.md):
 *   ledger.key  32 random bytes, mode 0600: the site secret the phone hash key, the personal-data
 *               encryption key and the audit chain key are derived from (crypto_kdf)
 *   ledger.db   SQLite (WAL, synchronous=FULL, foreign keys, versioned migrations); any number
 *               of projects
 *   vault/      the template vault (fairvisit/vault.h); its consent callback is the ledger's
 *
 * Persons are pseudonymous (16 random bytes). A phone is kept as a keyed BLAKE2b hash (to match)
 * and encrypted (for authorised display); everywhere else it is masked, 138****1234. Customer
 * names of registrations are kept encrypted. Every write is one IMMEDIATE transaction, so two
 * concurrent check-ins or registrations are serialised and judged one after the other; requests
 * may carry an idempotency key, and a retried request returns the first result without changing
 * anything again. Every biometric operation and every read of personal data appends an entry to
 * the audit chain in the same transaction (ids only, never names, phones or templates).
 *
 *     fv_ledger *l = NULL;
 *     if (fv_ledger_init_site(dir) != FV_OK) ...;                     // once (fairvisit init)
 *     if (fv_ledger_open(dir, NULL, &l) != FV_OK) ... fv_ledger_errmsg(l);
 *     fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1};
 *     fv_ledger_project_settings ps;
 *     fv_ledger_project_defaults(&ps);
 *     snprintf(ps.code, sizeof ps.code, "sunrise");
 *     int64_t project, channel, agent;
 *     fv_ledger_project_create(l, &admin, &ps, &project);
 *     fv_ledger_channel_create(l, &admin, project, &(fv_ledger_channel){...}, &channel);
 *     fv_ledger_checkin_request rq = {.project = project, .phone = "13800001234", ...};
 *     fv_ledger_checkin_result res;
 *     fv_ledger_checkin(l, &reception, &rq, &res);               // res.kind, res.outcome, ...
 *     fv_ledger_close(l);
 *
 * Times are Unix milliseconds from the handle's clock (fv_ledger_options.now_ms; the system clock
 * by default), so tests can move time. Errors: every fallible call returns a status and leaves a
 * message on the handle; messages never contain names, phones, codes or templates.
 * Threading: a handle may be shared by threads (each call holds the handle's mutex). Several
 * handles (threads or processes) may share a site's ledger.db, SQLite serialising their writes,
 * but only one of them may own the vault (the others are opened with no_vault).
 */
#ifndef FAIRVISIT_LEDGER_H
#define FAIRVISIT_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fairvisit/status.h"
#include "fairvisit/strbuf.h"
#include "fairvisit/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FV_LEDGER_CODE_MAX   64   /* project code (also the vault's project name) */
#define FV_LEDGER_NAME_MAX   128  /* names of projects, channels, agents, customers; bytes */
#define FV_LEDGER_TEXT_MAX   4000 /* reasons, notice texts are limited separately */
#define FV_LEDGER_NOTICE_MAX 65536
#define FV_LEDGER_ID_CHARS   33 /* 32 hex digits + NUL: person ids, consent ids, slips, QR tokens */
#define FV_LEDGER_MASK_CHARS 16 /* "138****1234" + NUL, with room */
#define FV_LEDGER_IDEM_MAX   128 /* idempotency key length */

typedef enum fv_ledger_role {
    FV_LEDGER_ROLE_ADMIN = 0,
    FV_LEDGER_ROLE_RECEPTION = 1,
    FV_LEDGER_ROLE_CHANNEL_MANAGER = 2,
    FV_LEDGER_ROLE_AGENT = 3,
    FV_LEDGER_ROLE_AUDITOR = 4,
    FV_LEDGER_ROLE_KIOSK = 5,   /* the consent kiosk device */
    FV_LEDGER_ROLE_VISITOR = 6, /* a visitor on the self-service page (id = person row) */
    FV_LEDGER_ROLE_SYSTEM = 7,  /* scheduled jobs: purge, settlement */
    FV_LEDGER_ROLE_COUNT
} fv_ledger_role;

/* Who acts: the role and an id: for AGENT the agent id, for CHANNEL_MANAGER the channel id they
 * manage, for VISITOR the person row, otherwise the user or device id. Audit entries record
 * "role:id". */
typedef struct fv_ledger_actor {
    fv_ledger_role role;
    int64_t id;
} fv_ledger_actor;

typedef struct fv_ledger fv_ledger;

/* One-time code gateway: deliver `code` to `phone` (both borrowed). Returns 0 on success. */
typedef int (*fv_ledger_otp_send_fn)(void *ctx, const char *phone, const char *code);

typedef struct fv_ledger_options {
    int64_t (*now_ms)(void *ctx); /* NULL: the system clock */
    void *clock_ctx;
    fv_ledger_otp_send_fn otp_send; /* NULL: the console gateway (masked phone + code on stderr) */
    void *otp_ctx;
    bool no_vault; /* do not open the vault (face operations then fail with FV_ERR_STATE) */
    int threads;   /* vault search threads */
} fv_ledger_options;

/* Creates ledger.key (0600), ledger.db and the vault in `dir` (created 0700 if missing).
 * FV_ERR_STATE when a site is already there: nothing is overwritten. */
FV_NODISCARD fv_status fv_ledger_init_site(const char *dir);

/* Opens the site in `dir` (borrowed); applies pending migrations; opens the vault unless
 * opt->no_vault. opt is copied (NULL: defaults). On failure *out may hold a handle carrying the
 * message; close it either way. */
FV_NODISCARD fv_status fv_ledger_open(const char *dir, const fv_ledger_options *opt,
                                      fv_ledger **out);
void fv_ledger_close(fv_ledger *l);
/* The message of the calling thread's last failed ledger call ("" after a success); it is kept
 * per thread, so threads sharing a handle each read their own. Never personal data. */
const char *fv_ledger_errmsg(const fv_ledger *l);

/* ---- projects, channels, agents, notices ------------------------------------------------ */

typedef struct fv_ledger_project_settings {
    char code[FV_LEDGER_CODE_MAX + 1]; /* [a-z0-9-], 1..64; fixed at creation */
    char name[FV_LEDGER_NAME_MAX + 1];
    char controller[FV_LEDGER_NAME_MAX + 1];         /* who processes (the notice names them) */
    char controller_contact[FV_LEDGER_NAME_MAX + 1]; /* how to reach them */
    int protection_days;       /* rule 3: a registration lives this long (7) */
    int deal_window_days;      /* rule 3/6: the channel is protected this long after visit (90) */
    int escort_window_minutes; /* rule 4: escort must be confirmed this soon after check-in (120) */
    int retention_days;        /* §4.7: templates expire after (30) */
    int guardian_age;          /* §4.9: under this age, face needs a guardian's consent (14) */
    bool face_free;            /* §4.4: no face operation at all */
    double match_threshold;    /* §5: cosine for a face match (FV_FACE_MATCH_THRESHOLD) */
    double match_margin;       /* §5: over the second-best person, else uncertain (0.05) */
    int otp_ttl_seconds;       /* one-time code lifetime (300) */
    int otp_max_attempts;      /* wrong codes before a code is dead (5) */
    int otp_per_phone_per_hour; /* codes sent to one phone per hour (5) */
} fv_ledger_project_settings;

void fv_ledger_project_defaults(fv_ledger_project_settings *s);
FV_NODISCARD fv_status fv_ledger_project_create(fv_ledger *l, const fv_ledger_actor *who,
                                                const fv_ledger_project_settings *s, int64_t *id);
/* Updates every setting but the code. Retention also goes to the vault. */
FV_NODISCARD fv_status fv_ledger_project_update(fv_ledger *l, const fv_ledger_actor *who,
                                                int64_t project,
                                                const fv_ledger_project_settings *s);
FV_NODISCARD fv_status fv_ledger_project_get(fv_ledger *l, int64_t project,
                                             fv_ledger_project_settings *s);
/* The project's id from its code; FV_ERR_NOT_FOUND. */
FV_NODISCARD fv_status fv_ledger_project_find(fv_ledger *l, const char *code, int64_t *id);

typedef enum fv_ledger_channel_kind {
    FV_LEDGER_CHANNEL_NATURAL = 0, /* one per project, created with it (自然来访) */
    FV_LEDGER_CHANNEL_AGENCY = 1,
    FV_LEDGER_CHANNEL_REFERRAL = 2,
    FV_LEDGER_CHANNEL_ONLINE = 3,
} fv_ledger_channel_kind;

typedef enum fv_ledger_commission {
    FV_LEDGER_COMMISSION_NONE = 0,
    FV_LEDGER_COMMISSION_PERCENT = 1, /* value in basis points of the deal amount */
    FV_LEDGER_COMMISSION_FIXED = 2,   /* value in cents per deal */
} fv_ledger_commission;

typedef struct fv_ledger_channel {
    fv_ledger_channel_kind kind;
    char name[FV_LEDGER_NAME_MAX + 1];
    int protection_days; /* 0: the project's */
    fv_ledger_commission commission;
    int64_t commission_value;
} fv_ledger_channel;

FV_NODISCARD fv_status fv_ledger_channel_create(fv_ledger *l, const fv_ledger_actor *who,
                                                int64_t project, const fv_ledger_channel *c,
                                                int64_t *id);
/* The project's natural channel. */
FV_NODISCARD fv_status fv_ledger_channel_natural(fv_ledger *l, int64_t project, int64_t *id);

typedef struct fv_ledger_agent {
    char name[FV_LEDGER_NAME_MAX + 1];
    char team[FV_LEDGER_NAME_MAX + 1]; /* optional */
    int protection_days;               /* 0: the channel's (per-team protection numbers) */
} fv_ledger_agent;

FV_NODISCARD fv_status fv_ledger_agent_create(fv_ledger *l, const fv_ledger_actor *who,
                                              int64_t channel, const fv_ledger_agent *a,
                                              int64_t *id);

/* Publishes a new notice version (texts borrowed, UTF-8, each <= FV_LEDGER_NOTICE_MAX); *version
 * is 1, 2, ... per project. Consent records name the version and its text hash. */
FV_NODISCARD fv_status fv_ledger_notice_publish(fv_ledger *l, const fv_ledger_actor *who,
                                                int64_t project, const char *text_zh,
                                                const char *text_en, int *version);
/* The current notice: version, hash (hex of BLAKE2b-256 over both texts) and texts as JSON
 * {"version", "hash", "zh", "en", "published"} appended to out. FV_ERR_NOT_FOUND if none. */
FV_NODISCARD fv_status fv_ledger_notice_current(fv_ledger *l, int64_t project, fv_strbuf *out);

/* ---- consent ------------------------------------------------------------------------------ */

typedef enum fv_ledger_age {
    FV_LEDGER_AGE_ADULT = 0, /* attests to being at least the project's guardian_age */
    FV_LEDGER_AGE_MINOR = 1, /* younger: face needs guardian consent */
} fv_ledger_age;

typedef struct fv_ledger_consent_request {
    int64_t project;
    int notice_version;                  /* the version shown; must be the current one */
    char notice_hash[65];                /* hex of the text hash shown; must match it */
    char device[FV_LEDGER_NAME_MAX + 1]; /* kiosk / device id */
    char method[32];                     /* "kiosk_touch", "reception_paper", ... */
    fv_ledger_age age;
    bool guardian_consent; /* a guardian consented (required when age is MINOR) */
} fv_ledger_consent_request;

/* Records an explicit consent to face processing for attribution in the project, made before
 * capture; consent_id receives its id (32 hex). Refused (FV_ERR_STATE) for a face-free project, a
 * stale notice version or hash, or a minor without guardian consent. */
FV_NODISCARD fv_status fv_ledger_consent_record(fv_ledger *l, const fv_ledger_actor *who,
                                                const fv_ledger_consent_request *rq,
                                                char consent_id[FV_LEDGER_ID_CHARS]);
/* Withdraws the consent; the person's templates are deleted from the vault at once. */
FV_NODISCARD fv_status fv_ledger_consent_withdraw(fv_ledger *l, const fv_ledger_actor *who,
                                                  const char *consent_id);
/* The vault's consent callback (ctx = the fv_ledger); see fv_vault_consent_fn. */
int fv_ledger_consent_check(void *ctx, const char *consent_id, const char *project_code);
/* The same answer (an fv_vault_consent value: 0 = OK, consent usable for face processing in the
 * project named by its code) for callers outside the vault: takes the handle's lock. */
int fv_ledger_consent_status(fv_ledger *l, const char *consent_id, const char *project_code);
/* Records that the server's liveness check (a blink or head turn across camera frames, before a
 * face check-in) started (passed false) or passed, under consent_id (borrowed): audit entry
 * "liveness.start" / "liveness.pass" on "consent:<row>". FV_ERR_STATE when the consent does not
 * cover face processing in the project (unknown, withdrawn, face-free project) or the actor is
 * not the kiosk, reception or an admin. */
FV_NODISCARD fv_status fv_ledger_liveness_audit(fv_ledger *l, const fv_ledger_actor *who,
                                                int64_t project, const char *consent_id,
                                                bool passed);

/* ---- one-time codes ------------------------------------------------------------------------- */

/* Sends a 6-digit code to `phone` through the gateway; otp_id receives the code's id. Refused
 * with FV_ERR_LIMIT past otp_per_phone_per_hour. */
FV_NODISCARD fv_status fv_ledger_otp_send(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                          const char *phone, char otp_id[FV_LEDGER_ID_CHARS]);

/* ---- registrations ------------------------------------------------------------------------------
 */

typedef struct fv_ledger_registration_request {
    int64_t project;
    int64_t agent; /* the registering agent (its channel follows) */
    char customer_name[FV_LEDGER_NAME_MAX + 1];
    char phone[32];
    int64_t expected_visit_ms;                    /* 0: not given */
    char idempotency_key[FV_LEDGER_IDEM_MAX + 1]; /* "" = none */
} fv_ledger_registration_request;

typedef enum fv_ledger_reg_status {
    FV_LEDGER_REG_ACCEPTED = 0,
    FV_LEDGER_REG_REFUSED = 1,
} fv_ledger_reg_status;

typedef struct fv_ledger_registration_result {
    int64_t id; /* the registration row (refused ones are kept too, with their reason) */
    fv_ledger_reg_status status;
    char reason[64]; /* refused: "already_visitor", "registered_by_other_channel",
                        "already_registered" */
    int64_t expires_ms;
    int64_t conflict; /* the conflict opened by a refusal of a contradicting claim, or 0 */
    char phone_mask[FV_LEDGER_MASK_CHARS];
} fv_ledger_registration_result;

FV_NODISCARD fv_status fv_ledger_register(fv_ledger *l, const fv_ledger_actor *who,
                                          const fv_ledger_registration_request *rq,
                                          fv_ledger_registration_result *res);
/* The project's registrations the actor may see, newest first, as a JSON array of
 * {id, agent, channel, channel_name, phone_mask, created, expires, expected_visit, status,
 * refusal, outcome, visit, live}: an agent's own, a channel manager's channel's, all for
 * reception, admin and auditor (others: FV_ERR_STATE). status "accepted", "refused" or NULL for
 * both. Masked phones only, never names. Appends a "registrations.read" audit entry. */
FV_NODISCARD fv_status fv_ledger_registrations_json(fv_ledger *l, const fv_ledger_actor *who,
                                                    int64_t project, const char *status,
                                                    fv_strbuf *out);

/* ---- check-in -----------------------------------------------------------------------------------
 */

typedef enum fv_ledger_escort {
    FV_LEDGER_ESCORT_NONE = 0,
    FV_LEDGER_ESCORT_AGENT_QR = 1,  /* the agent scanned the visit's QR code */
    FV_LEDGER_ESCORT_RECEPTION = 2, /* reception confirmed the accompanying agent */
} fv_ledger_escort;

typedef struct fv_ledger_checkin_request {
    int64_t project;
    char phone[32];                  /* "" = none */
    char otp_id[FV_LEDGER_ID_CHARS]; /* with phone, unless the actor is reception */
    char otp_code[16];
    char consent_id[FV_LEDGER_ID_CHARS]; /* with embedding */
    const float *embedding;              /* FV_VAULT_DIM floats, unit length (borrowed) or NULL */
    fv_ledger_escort escort;             /* RECEPTION: reception confirms the escort now */
    int64_t escort_agent;                /* with escort: the agent reception saw */
    char device[FV_LEDGER_NAME_MAX + 1];
    char idempotency_key[FV_LEDGER_IDEM_MAX + 1];
} fv_ledger_checkin_request;

typedef enum fv_ledger_visit_kind {
    FV_LEDGER_VISIT_FIRST = 0,
    FV_LEDGER_VISIT_RETURN = 1,
    FV_LEDGER_VISIT_UNCERTAIN = 2, /* face match uncertain and no phone: nothing recorded; ask
                                      for the phone or send to reception */
} fv_ledger_visit_kind;

typedef enum fv_ledger_outcome {
    FV_LEDGER_OUTCOME_NATURAL = 0,
    FV_LEDGER_OUTCOME_CHANNEL_VALID = 1,
    FV_LEDGER_OUTCOME_CHANNEL_INVALID = 2,
    FV_LEDGER_OUTCOME_PENDING_ESCORT = 3, /* a live registration matches; the escort is awaited */
} fv_ledger_outcome;

typedef struct fv_ledger_checkin_result {
    int64_t visit;
    fv_ledger_visit_kind kind;
    fv_ledger_outcome outcome; /* of the person's first visit (the attribution) */
    char person[FV_LEDGER_ID_CHARS];
    int64_t channel, agent, registration; /* the attribution's (agent/registration 0 if none) */
    char matched_by[8];                   /* "face", "phone" or "none" */
    double score;                         /* best face score (0 without face) */
    char slip[FV_LEDGER_ID_CHARS];        /* self-service code printed on the slip (10 chars) */
    char qr[FV_LEDGER_ID_CHARS];          /* the token of the visit's escort QR code */
    int64_t conflict;                     /* a conflict opened by this check-in, or 0 */
    bool template_stored;                 /* a template was stored (first visit or re-enrolment) */
} fv_ledger_checkin_result;

/* Checks a person in (rule 4). With an embedding: under consent_id, searched in the vault; with
 * a phone: verified by the one-time code (or by reception). A match is a return visit; no match a
 * first visit, judged natural / channel_valid / channel_invalid (or pending the escort). */
FV_NODISCARD fv_status fv_ledger_checkin(fv_ledger *l, const fv_ledger_actor *who,
                                         const fv_ledger_checkin_request *rq,
                                         fv_ledger_checkin_result *res);

/* Confirms the escort of the visit whose QR token is `qr` (by the agent who scanned it: actor
 * AGENT) or of visit `visit` by reception (qr NULL; agent = the accompanying agent). */
FV_NODISCARD fv_status fv_ledger_escort_confirm(fv_ledger *l, const fv_ledger_actor *who,
                                                const char *qr, int64_t visit, int64_t agent,
                                                fv_ledger_outcome *outcome);

/* Settles first visits whose escort window passed without confirmation: channel_invalid with a
 * conflict each. *settled may be NULL. Called by the purge and the server's schedule. */
FV_NODISCARD fv_status fv_ledger_settle(fv_ledger *l, const fv_ledger_actor *who, size_t *settled);

/* The visits of one day ("YYYY-MM-DD", UTC+8; NULL: today) of the project, oldest first, as a
 * JSON array of {visit, at, kind, matched_by, outcome, channel, channel_name, agent, agent_name,
 * registration, phone_mask, escort, escort_deadline, conflict_open}: the outcome, channel and
 * agent are the person's attribution; escort and escort_deadline only on a first visit; masked
 * phones only. Reception, admin, auditor. Appends a "visits.read" audit entry. */
FV_NODISCARD fv_status fv_ledger_visits_json(fv_ledger *l, const fv_ledger_actor *who,
                                             int64_t project, const char *day, fv_strbuf *out);

/* ---- conflicts and appeals ------------------------------------------------------------------- */

typedef enum fv_ledger_verdict {
    FV_LEDGER_VERDICT_UPHOLD = 0,   /* the ledger's judgement stands */
    FV_LEDGER_VERDICT_OVERTURN = 1, /* the claim is accepted: the attribution goes to the claim */
} fv_ledger_verdict;

/* Reception/admin decides an open conflict, or an appealed one (final). reason borrowed. */
FV_NODISCARD fv_status fv_ledger_conflict_decide(fv_ledger *l, const fv_ledger_actor *who,
                                                 int64_t conflict, fv_ledger_verdict v,
                                                 const char *reason);
/* The claiming channel (its agent or channel manager) appeals once, with a reason. */
FV_NODISCARD fv_status fv_ledger_conflict_appeal(fv_ledger *l, const fv_ledger_actor *who,
                                                 int64_t conflict, const char *reason);
/* Conflicts of the project as a JSON array (status "open", "decided", "appealed", "closed" or
 * NULL for all), each with its evidence and decisions; masked phones only. */
FV_NODISCARD fv_status fv_ledger_conflict_list(fv_ledger *l, const fv_ledger_actor *who,
                                               int64_t project, const char *status, fv_strbuf *out);

/* ---- deals and commission ------------------------------------------------------------------- */

typedef struct fv_ledger_deal_request {
    int64_t project;
    const char *const *buyer_phones; /* borrowed; the first is the main buyer */
    size_t n_buyers;                 /* 1..8 */
    int64_t amount_cents;
    int64_t signed_ms;
    char idempotency_key[FV_LEDGER_IDEM_MAX + 1];
} fv_ledger_deal_request;

typedef struct fv_ledger_deal_result {
    int64_t id;
    int64_t channel, agent; /* attributed (natural channel, agent 0, outside the window) */
    bool in_window;
    bool flagged; /* a buyer visited before the channel's registration */
    int64_t conflict;
    int64_t commission_cents;
} fv_ledger_deal_result;

FV_NODISCARD fv_status fv_ledger_deal_record(fv_ledger *l, const fv_ledger_actor *who,
                                             const fv_ledger_deal_request *rq,
                                             fv_ledger_deal_result *res);

/* ---- rights ------------------------------------------------------------------------------------
 */

/* The person of a slip code (self-service) after the phone's one-time code, or by reception. */
FV_NODISCARD fv_status fv_ledger_person_by_slip(fv_ledger *l, const char *slip, const char *phone,
                                                const char *otp_id, const char *otp_code,
                                                char person[FV_LEDGER_ID_CHARS]);
/* What is held about the person, as JSON (consents, visits, attribution, registrations naming
 * them, deals; the phone in full only to the person and to admin; no templates: only their count
 * and expiry). Audited. */
FV_NODISCARD fv_status fv_ledger_person_export(fv_ledger *l, const fv_ledger_actor *who,
                                               const char *person, fv_strbuf *out);
/* Withdraws every consent of the person and deletes their templates at once. */
FV_NODISCARD fv_status fv_ledger_person_withdraw(fv_ledger *l, const fv_ledger_actor *who,
                                                 const char *person);
/* Deletes the person: templates, phone hash and ciphertext, registrations' names and phones of
 * them; visits, attributions and deals stay as pseudonymous processing records. */
FV_NODISCARD fv_status fv_ledger_person_delete(fv_ledger *l, const fv_ledger_actor *who,
                                               const char *person);

/* ---- reports --------------------------------------------------------------------------------- */

/* Days are "YYYY-MM-DD" (UTC+8, the sales office's day) or NULL for open ends. */
FV_NODISCARD fv_status fv_ledger_report_json(fv_ledger *l, const fv_ledger_actor *who,
                                             int64_t project, const char *from, const char *to,
                                             fv_strbuf *out);
FV_NODISCARD fv_status fv_ledger_report_csv(fv_ledger *l, const fv_ledger_actor *who,
                                            int64_t project, const char *from, const char *to,
                                            fv_strbuf *out);
/* The impact-assessment report (§4.13) as Markdown, with live counts and the 80,000 / 100,000
 * persons-with-faces warnings. */
FV_NODISCARD fv_status fv_ledger_report_impact(fv_ledger *l, const fv_ledger_actor *who,
                                               int64_t project, fv_strbuf *out);

/* ---- maintenance and audit ------------------------------------------------------------------- */

typedef struct fv_ledger_purge_report {
    size_t templates_deleted, keys_destroyed; /* vault */
    size_t otps_deleted, idempotency_deleted, escorts_settled;
    fv_vault_purge_report vault; /* the vault's itemised report (zeros without a vault) */
} fv_ledger_purge_report;

/* The vault purge, expired one-time codes and idempotency keys, escort settlement; recorded in
 * the audit chain. */
FV_NODISCARD fv_status fv_ledger_purge(fv_ledger *l, const fv_ledger_actor *who,
                                       fv_ledger_purge_report *rep);

typedef struct fv_ledger_audit_report {
    int64_t entries;   /* entries checked */
    int64_t first_bad; /* seq of the first bad entry, 0 if all verify */
    char reason[128];  /* why it is bad */
    char head[65];     /* hex hash of the last good entry */
} fv_ledger_audit_report;

/* Verifies the audit chain; FV_OK with first_bad 0 when it verifies, FV_ERR_FORMAT otherwise. */
FV_NODISCARD fv_status fv_ledger_audit_verify(fv_ledger *l, fv_ledger_audit_report *rep);

/* Number of distinct persons with live stored templates in the site (§4.13, C17). */
FV_NODISCARD fv_status fv_ledger_face_persons(fv_ledger *l, int64_t *count);

/* ---- users and API tokens (the server's logins) -------------------------------------------- */

#define FV_LEDGER_LOGIN_MAX    64
#define FV_LEDGER_PASSWORD_MIN 10
#define FV_LEDGER_PASSWORD_MAX 256
#define FV_LEDGER_TOKEN_CHARS  65 /* "fvt_" + hex, NUL-terminated; shown once at creation */

typedef struct fv_ledger_user {
    int64_t id;
    char login[FV_LEDGER_LOGIN_MAX + 1];
    fv_ledger_role role; /* ADMIN, RECEPTION, CHANNEL_MANAGER, AGENT, AUDITOR or KIOSK */
    int64_t scope_id;    /* AGENT: agent id; CHANNEL_MANAGER: channel id; else 0 */
    bool disabled;
} fv_ledger_user;

/* Creates a login ([a-z0-9._-], 1..64) with an Argon2id password hash (libsodium
 * crypto_pwhash_str, interactive limits); password FV_LEDGER_PASSWORD_MIN..MAX bytes. Only an
 * admin (or SYSTEM, at init) creates users. */
FV_NODISCARD fv_status fv_ledger_user_create(fv_ledger *l, const fv_ledger_actor *who,
                                             const char *login, const char *password,
                                             fv_ledger_role role, int64_t scope_id, int64_t *id);
/* Checks a login and password; FV_ERR_STATE with one generic message ("wrong login or
 * password") for an unknown login, a wrong password or a disabled user, in the same time. */
FV_NODISCARD fv_status fv_ledger_user_login(fv_ledger *l, const char *login, const char *password,
                                            fv_ledger_user *out);
FV_NODISCARD fv_status fv_ledger_user_get(fv_ledger *l, int64_t id, fv_ledger_user *out);
FV_NODISCARD fv_status fv_ledger_user_set_password(fv_ledger *l, const fv_ledger_actor *who,
                                                   int64_t id, const char *password);
FV_NODISCARD fv_status fv_ledger_user_set_disabled(fv_ledger *l, const fv_ledger_actor *who,
                                                   int64_t id, bool disabled);
/* Users as a JSON array [{id, login, role, scope_id, disabled, created}] (admin only). */
FV_NODISCARD fv_status fv_ledger_user_list(fv_ledger *l, const fv_ledger_actor *who,
                                           fv_strbuf *out);
/* Creates an API token for user `id` (admin only); token receives it (shown once; only its
 * hash is stored). */
FV_NODISCARD fv_status fv_ledger_token_create(fv_ledger *l, const fv_ledger_actor *who, int64_t id,
                                              const char *name, char token[FV_LEDGER_TOKEN_CHARS]);
/* The user of a live token; FV_ERR_STATE "invalid token" otherwise (revoked, disabled user). */
FV_NODISCARD fv_status fv_ledger_token_check(fv_ledger *l, const char *token, fv_ledger_user *out);
FV_NODISCARD fv_status fv_ledger_token_revoke(fv_ledger *l, const fv_ledger_actor *who,
                                              int64_t token_id);

/* ---- lists for the server's admin pages (admin_list.c) ------------------------------------- */

/* A project's settings as one JSON object appended to out: {"code", "name", "controller",
 * "controller_contact", "face_free", "retention_days", "guardian_age", "protection_days",
 * "deal_window_days", "escort_window_minutes", "notice_version" (null: none yet)}, and for
 * ADMIN, AUDITOR and SYSTEM also the tuning numbers "match_threshold", "match_margin" (to 6
 * significant digits), "otp_ttl_seconds", "otp_max_attempts", "otp_per_phone_per_hour". An AGENT,
 * CHANNEL_MANAGER or VISITOR sees only the project they belong to (FV_ERR_NOT_FOUND for the
 * others). */
FV_NODISCARD fv_status fv_ledger_project_json(fv_ledger *l, const fv_ledger_actor *who,
                                              int64_t project, fv_strbuf *out);
/* The projects the actor may see, as a JSON array (ordered by code) of fv_ledger_project_json
 * objects. */
FV_NODISCARD fv_status fv_ledger_project_list_json(fv_ledger *l, const fv_ledger_actor *who,
                                                   fv_strbuf *out);
/* The project's channels as a JSON array [{"id", "kind", "name", "protection_days" (null: the
 * project's), "commission" ("none", "percent", "fixed"), "commission_value", "agents" (count),
 * "created"}] (ADMIN, RECEPTION, AUDITOR, SYSTEM). */
FV_NODISCARD fv_status fv_ledger_channel_list_json(fv_ledger *l, const fv_ledger_actor *who,
                                                   int64_t project, fv_strbuf *out);
/* The project's agents as a JSON array [{"id", "channel_id", "channel", "name", "team",
 * "protection_days" (null: the channel's), "created"}] (ADMIN, RECEPTION, AUDITOR, SYSTEM). */
FV_NODISCARD fv_status fv_ledger_agent_list_json(fv_ledger *l, const fv_ledger_actor *who,
                                                 int64_t project, fv_strbuf *out);

/* ---- self-service lookups (selfservice.c) ------------------------------------------------- */

/* Step one of the self-service login (§4.8): the person of slip code `slip` (borrowed). For a
 * person without a phone *phone_needed is false and nothing is sent. For a person with a phone
 * *phone_needed is true and, when `phone` (borrowed, may be NULL) is given, otp_id receives a
 * code id: a real one-time code is sent (fv_ledger_otp_send, audited as the visitor) only when
 * `phone` is the person's phone; for any other phone a decoy id is returned and nothing is sent,
 * so the answer does not tell whether a phone belongs to a slip. FV_ERR_NOT_FOUND for an unknown
 * slip (or a deleted person), FV_ERR_ARG for a malformed slip or phone, FV_ERR_LIMIT past the
 * project's codes per phone and hour. otp_id is "" when no code id is returned. */
FV_NODISCARD fv_status fv_ledger_slip_otp_send(fv_ledger *l, const char *slip, const char *phone,
                                               bool *phone_needed, char otp_id[FV_LEDGER_ID_CHARS]);
/* The person row (the VISITOR actor's id) of a 32-hex person id; FV_ERR_NOT_FOUND when unknown
 * or deleted. */
FV_NODISCARD fv_status fv_ledger_person_find(fv_ledger *l, const char *person, int64_t *row);
/* The 32-hex person id of person row `row`; FV_ERR_NOT_FOUND when unknown or deleted. */
FV_NODISCARD fv_status fv_ledger_person_id(fv_ledger *l, int64_t row,
                                           char person[FV_LEDGER_ID_CHARS]);

/* Text helpers: the masked form of a phone (borrowed); FV_ERR_ARG when not a mainland mobile. */
FV_NODISCARD fv_status fv_ledger_phone_mask(const char *phone, char mask[FV_LEDGER_MASK_CHARS]);

#ifdef __cplusplus
}
#endif
#endif
