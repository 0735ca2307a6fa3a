/*
 * checkin.c - check-in (rule 4 of PRODUCT.md §3): who is this, first visit or return, and for a
 * first visit, which channel.
 *
 * The person is looked up by face (only under the probe's consent record, through the vault) and
 * by the phone (verified by a one-time code, or by reception). A face is a match only at or above
 * the project's threshold and with the margin over the second-best person; a score above the
 * threshold without the margin is uncertain: with a phone the phone decides, without one nothing
 * is recorded but the search's audit entry and the caller is told to ask for the phone or send
 * the visitor to reception. A match is a return visit and never changes the channel (rule 1). No
 * match is a first visit, judged against the registrations of the phone: none -> natural; a live
 * one -> pending the escort, or channel_valid when reception confirms the accompanying agent now;
 * only expired ones -> channel_invalid (conflict registration_expired). A registration made after
 * the person's earlier visit is judged channel_invalid at the return visit (conflict).
 * Templates: stored at a first visit with consent, and again at a return when the person has no
 * live template (it expired or was withdrawn), linking the new template to the same person.
 * Concurrency: the search, the decision and the writes run in one IMMEDIATE transaction, so two
 * check-ins of one new person at the same moment are judged one after the other (the second is
 * a return). The vault insert (durable) precedes the ledger commit, and the visit records the
 * template's record id; if the commit fails the template is deleted, and a search trusts only
 * templates a committed visit recorded: any other (left by a crash between the two) is an orphan,
 * ignored and deleted (audited as vault.delete_orphan).
 * Threading: public calls lock the handle.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

#define HITS 16

typedef struct ctx {
    fv_ledger *l;
    const fv_ledger_actor *who;
    const fv_ledger_checkin_request *rq;
    fv_ledger_checkin_result *res;
    fv_ledger_project_settings ps;
    int64_t now;
    char norm[12];
    int has_phone;
    uint8_t ph[FV__LEDGER_HASH_BYTES];
    int64_t consent_row;
    int64_t stored_id; /* the template record this call stored (0: none), undone on failure */
} ctx;

static void req_hash(const ctx *c, uint8_t *out) {
    const fv_ledger_checkin_request *rq = c->rq;
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, FV__LEDGER_HASH_BYTES);
    int64_t n[3] = {rq->project, (int64_t)rq->escort, rq->escort_agent};
    crypto_generichash_update(&h, (const unsigned char *)n, sizeof n);
    crypto_generichash_update(&h, (const unsigned char *)c->norm, strlen(c->norm) + 1);
    crypto_generichash_update(&h, (const unsigned char *)rq->consent_id,
                              strnlen(rq->consent_id, sizeof rq->consent_id) + 1);
    crypto_generichash_update(&h, (const unsigned char *)rq->device,
                              strnlen(rq->device, sizeof rq->device) + 1);
    if (rq->embedding != NULL)
        crypto_generichash_update(&h, (const unsigned char *)rq->embedding,
                                  FV_VAULT_DIM * sizeof(float));
    crypto_generichash_final(&h, out, FV__LEDGER_HASH_BYTES);
}

static void make_slip(char out[FV_LEDGER_ID_CHARS]) {
    static const char A[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    for (int i = 0; i < 10; i++) out[i] = A[randombytes_uniform(32)];
    out[10] = '\0';
}

/* Face search: *match = person row of a match (0 none); *uncertain set when above the threshold
 * without the margin. */
static fv_status face_search(ctx *c, int64_t *match, int *uncertain) {
    fv_ledger *l = c->l;
    *match = 0;
    *uncertain = 0;
    fv_vault_hit hits[HITS];
    size_t n = 0;
    fv_status st =
        fv_vault_search(l->vault, c->ps.code, c->rq->consent_id, c->rq->embedding, HITS, hits, &n);
    if (st != FV_OK)
        return fv__ledger_fail(l, st, "face search refused: %s", fv_vault_errmsg(l->vault));
    st = fv__ledger_audit(l, c->who, "vault.search", "consent", c->consent_row);
    if (st != FV_OK) return st;
    int64_t best_person = 0;
    double best = -2, second = -2;
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id FROM person WHERE pid = ? AND"
                                            " project_id = ? AND deleted IS NULL");
    if (q == NULL) return FV_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_blob(q, 1, hits[i].person, FV_VAULT_PERSON_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, c->rq->project);
        int found = sqlite3_step(q) == SQLITE_ROW;
        int64_t p = found ? sqlite3_column_int64(q, 0) : 0;
        int64_t recorded = 0;
        if (found && fv__ledger_query_i64(l, "SELECT COUNT(*) FROM visit WHERE template_id = ?",
                                          &recorded, 1, hits[i].id) != FV_OK)
            recorded = 0;
        if (!recorded) {
            /* Stored by a call whose ledger transaction never committed (a crash or a failed
             * check-in): no visit recorded it, so it is not trusted, and it is removed. */
            size_t gone = 0;
            if (fv_vault_delete_record(l->vault, hits[i].id, &gone) == FV_OK && gone > 0) {
                fv_status ast =
                    fv__ledger_audit(l, c->who, "vault.delete_orphan", "template", hits[i].id);
                if (ast != FV_OK) {
                    sqlite3_finalize(q);
                    return ast;
                }
            }
            continue;
        }
        double s = hits[i].score;
        if (p == best_person)
            continue; /* hits are sorted: later ones of the same person are lower */
        if (s > best) {
            second = best;
            best = s;
            best_person = p;
        } else if (s > second) {
            second = s;
        }
    }
    sqlite3_finalize(q);
    c->res->score = best > -2 ? best : 0;
    if (best >= c->ps.match_threshold) {
        if (second < -1 || best - second >= c->ps.match_margin)
            *match = best_person;
        else
            *uncertain = 1;
    }
    return FV_OK;
}

static fv_status person_by_phone(ctx *c, int64_t *person) {
    *person = 0;
    if (!c->has_phone) return FV_OK;
    sqlite3_stmt *q = fv__ledger_prepare(c->l, "SELECT id FROM person WHERE project_id = ? AND"
                                               " phone_hash = ? AND deleted IS NULL");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, c->rq->project);
    sqlite3_bind_blob(q, 2, c->ph, sizeof c->ph, SQLITE_TRANSIENT);
    *person = 0;
    if (sqlite3_step(q) == SQLITE_ROW) *person = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return FV_OK;
}

static fv_status set_phone(ctx *c, int64_t person) {
    uint8_t *ct = NULL;
    size_t len = 0;
    char mask[FV_LEDGER_MASK_CHARS];
    if (fv_ledger_phone_mask(c->norm, mask) != FV_OK) mask[0] = '\0';
    fv_status st = fv__ledger_seal(c->l, c->norm, "person.phone", &ct, &len);
    if (st != FV_OK) return st;
    sqlite3_stmt *q = fv__ledger_prepare(c->l, "UPDATE person SET phone_hash = ?, phone_ct = ?,"
                                               " phone_mask = ? WHERE id = ?");
    if (q != NULL) {
        sqlite3_bind_blob(q, 1, c->ph, sizeof c->ph, SQLITE_TRANSIENT);
        sqlite3_bind_blob(q, 2, ct, (int)len, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, mask, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 4, person);
    }
    fv_free(ct);
    return fv__ledger_step_done(c->l, q, "person phone");
}

static fv_status person_pid(ctx *c, int64_t person, uint8_t *pid) {
    sqlite3_stmt *q = fv__ledger_prepare(c->l, "SELECT pid FROM person WHERE id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, person);
    fv_status st = FV_OK;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == FV_VAULT_PERSON_BYTES)
        memcpy(pid, sqlite3_column_blob(q, 0), FV_VAULT_PERSON_BYTES);
    else
        st = fv__ledger_fail(c->l, FV_ERR_INTERNAL, "person row without id");
    sqlite3_finalize(q);
    return st;
}

static fv_status store_template(ctx *c, int64_t person) {
    uint8_t pid[FV_VAULT_PERSON_BYTES];
    fv_status st = person_pid(c, person, pid);
    if (st != FV_OK) return st;
    int64_t id = 0;
    st = fv_vault_insert(c->l->vault, pid, c->ps.code, c->rq->consent_id, c->now / 1000,
                         c->rq->embedding, &id);
    if (st != FV_OK)
        return fv__ledger_fail(c->l, st, "template not stored: %s", fv_vault_errmsg(c->l->vault));
    c->stored_id = id;
    c->res->template_stored = true;
    return fv__ledger_audit(c->l, c->who, "vault.insert", "person", person);
}

/* Has the person a template that is still live (stored within retention, consent standing)? */
static fv_status has_live_template(ctx *c, int64_t person, int *live) {
    int64_t n = 0;
    fv_status st = fv__ledger_query_i64(
        c->l,
        "SELECT COUNT(*) FROM visit v JOIN consent k ON k.id = v.consent_id WHERE"
        " v.person_id = ? AND v.template_stored = 1 AND v.at > ? AND k.withdrawn IS NULL",
        &n, 2, person, c->now - (int64_t)(c->ps.retention_days - 1) * FV__LEDGER_DAY_MS);
    *live = n > 0;
    return st;
}

/* The registration that judges a first visit: the earliest live one, else the latest expired. */
typedef struct reg {
    int64_t id, channel, agent, created, expires;
    int live;
} reg;

static fv_status find_registration(ctx *c, reg *r) {
    memset(r, 0, sizeof *r);
    if (!c->has_phone) return FV_OK;
    sqlite3_stmt *q = fv__ledger_prepare(
        c->l, "SELECT id, channel_id, agent_id, created, expires, expires > ?3 AS live"
              " FROM registration WHERE project_id = ?1 AND phone_hash = ?2 AND"
              " status = 'accepted' AND visit_id IS NULL"
              " ORDER BY live DESC, CASE WHEN expires > ?3 THEN created ELSE -expires END LIMIT 1");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, c->rq->project);
    sqlite3_bind_blob(q, 2, c->ph, sizeof c->ph, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 3, c->now);
    if (sqlite3_step(q) == SQLITE_ROW) {
        r->id = sqlite3_column_int64(q, 0);
        r->channel = sqlite3_column_int64(q, 1);
        r->agent = sqlite3_column_int64(q, 2);
        r->created = sqlite3_column_int64(q, 3);
        r->expires = sqlite3_column_int64(q, 4);
        r->live = sqlite3_column_int(q, 5);
    }
    sqlite3_finalize(q);
    return FV_OK;
}

static fv_status insert_visit(ctx *c, int64_t person, const char *kind, const char *by,
                              int64_t *visit) {
    fv_ledger_checkin_result *res = c->res;
    make_slip(res->slip);
    fv__ledger_random_hex(res->qr, 32);
    sqlite3_stmt *q = fv__ledger_prepare(
        c->l, "INSERT INTO visit(project_id, person_id, at, kind, matched_by, score, device,"
              " consent_id, slip, qr) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, c->rq->project);
        sqlite3_bind_int64(q, 2, person);
        sqlite3_bind_int64(q, 3, c->now);
        sqlite3_bind_text(q, 4, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, by, -1, SQLITE_STATIC);
        if (c->rq->embedding != NULL)
            sqlite3_bind_double(q, 6, res->score);
        else
            sqlite3_bind_null(q, 6);
        sqlite3_bind_text(q, 7, c->rq->device, -1, SQLITE_TRANSIENT);
        fv__ledger_bind_id(q, 8, c->consent_row);
        sqlite3_bind_text(q, 9, res->slip, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 10, res->qr, -1, SQLITE_TRANSIENT);
    }
    fv_status st = fv__ledger_step_done(c->l, q, "visit");
    if (st != FV_OK) return st;
    *visit = sqlite3_last_insert_rowid(c->l->db);
    res->visit = *visit;
    snprintf(res->matched_by, sizeof res->matched_by, "%s", by);
    return fv__ledger_audit(c->l, c->who, kind[0] == 'f' ? "checkin.first" : "checkin.return",
                            "visit", *visit);
}

static const char *const OUTCOME_NAMES[] = {"natural", "channel_valid", "channel_invalid",
                                            "pending_escort"};

static fv_status first_visit(ctx *c, int64_t person, int64_t visit) {
    fv_ledger *l = c->l;
    fv_ledger_checkin_result *res = c->res;
    int64_t natural = 0;
    fv_status st = fv__ledger_query_i64(l,
                                        "SELECT id FROM channel WHERE project_id = ? AND"
                                        " kind = 'natural'",
                                        &natural, 1, c->rq->project);
    if (st != FV_OK) return st;
    reg r;
    st = find_registration(c, &r);
    if (st != FV_OK) return st;
    fv_ledger_outcome out = FV_LEDGER_OUTCOME_NATURAL;
    int64_t channel = natural, agent = 0, deadline = 0;
    const char *escort = NULL;
    if (r.id != 0 && r.live) {
        int64_t esc_channel = 0;
        if (c->rq->escort == FV_LEDGER_ESCORT_RECEPTION && c->rq->escort_agent != 0)
            (void)fv__ledger_query_i64(l, "SELECT channel_id FROM agent WHERE id = ?", &esc_channel,
                                       1, c->rq->escort_agent);
        channel = r.channel;
        agent = r.agent;
        if (esc_channel == r.channel) {
            out = FV_LEDGER_OUTCOME_CHANNEL_VALID;
            escort = "reception";
        } else {
            out = FV_LEDGER_OUTCOME_PENDING_ESCORT;
            deadline = c->now + (int64_t)c->ps.escort_window_minutes * FV__LEDGER_MINUTE_MS;
        }
    } else if (r.id != 0) {
        out = FV_LEDGER_OUTCOME_CHANNEL_INVALID; /* expired before the visit: natural channel */
    }
    char ev[512];
    snprintf(ev, sizeof ev,
             "{\"rule\": 4, \"visit\": %lld, \"at\": %lld, \"matched_by\": \"none\","
             " \"face_score\": %.4f, \"threshold\": %.4f, \"registration\": %lld,"
             " \"registration_created\": %lld, \"registration_expires\": %lld}",
             (long long)visit, (long long)c->now, res->score, c->ps.match_threshold,
             (long long)r.id, (long long)r.created, (long long)r.expires);
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "INSERT INTO attribution(project_id, person_id, first_visit_id, channel_id, agent_id,"
           " registration_id, outcome, escort, escort_at, escort_deadline, decided, evidence)"
           " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, c->rq->project);
        sqlite3_bind_int64(q, 2, person);
        sqlite3_bind_int64(q, 3, visit);
        sqlite3_bind_int64(q, 4, channel);
        fv__ledger_bind_id(q, 5, agent);
        fv__ledger_bind_id(q, 6, r.id);
        sqlite3_bind_text(q, 7, OUTCOME_NAMES[out], -1, SQLITE_STATIC);
        if (escort != NULL) {
            sqlite3_bind_text(q, 8, escort, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 9, c->now);
        } else {
            sqlite3_bind_null(q, 8);
            sqlite3_bind_null(q, 9);
        }
        fv__ledger_bind_id(q, 10, deadline);
        sqlite3_bind_int64(q, 11, c->now);
        sqlite3_bind_text(q, 12, ev, -1, SQLITE_TRANSIENT);
    }
    st = fv__ledger_step_done(l, q, "attribution");
    if (st == FV_OK && r.id != 0) {
        q = fv__ledger_prepare(l, "UPDATE registration SET visit_id = ?, outcome = ? WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, visit);
            sqlite3_bind_text(q, 2, OUTCOME_NAMES[out], -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3, r.id);
        }
        st = fv__ledger_step_done(l, q, "registration outcome");
    }
    if (st == FV_OK && out == FV_LEDGER_OUTCOME_CHANNEL_INVALID) {
        fv__ledger_conflict_new cf = {.kind = "registration_expired",
                                      .project = c->rq->project,
                                      .person = person,
                                      .registration = r.id,
                                      .visit = visit,
                                      .channel = r.channel,
                                      .agent = r.agent,
                                      .evidence = ev};
        st = fv__ledger_conflict_open(l, c->who, &cf, &res->conflict);
    }
    res->outcome = out;
    res->channel = channel;
    res->agent = agent;
    res->registration = r.id;
    return st;
}

/* A return visit: the attribution stands; a live registration made after the first visit is
 * judged channel_invalid. */
static fv_status return_visit(ctx *c, int64_t person, int64_t visit) {
    fv_ledger *l = c->l;
    fv_ledger_checkin_result *res = c->res;
    int64_t first_at = 0;
    sqlite3_stmt *q =
        fv__ledger_prepare(l, "SELECT a.outcome, a.channel_id, COALESCE(a.agent_id, 0),"
                              " COALESCE(a.registration_id, 0), v.at FROM attribution a"
                              " JOIN visit v ON v.id = a.first_visit_id WHERE a.person_id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, person);
    fv_status st = FV_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *o = (const char *)sqlite3_column_text(q, 0);
        for (int i = 0; i < 4; i++)
            if (strcmp(o, OUTCOME_NAMES[i]) == 0) res->outcome = (fv_ledger_outcome)i;
        res->channel = sqlite3_column_int64(q, 1);
        res->agent = sqlite3_column_int64(q, 2);
        res->registration = sqlite3_column_int64(q, 3);
        first_at = sqlite3_column_int64(q, 4);
    } else {
        st = fv__ledger_fail(l, FV_ERR_INTERNAL, "person without attribution");
    }
    sqlite3_finalize(q);
    if (st != FV_OK || !c->has_phone) return st;
    reg r;
    st = find_registration(c, &r);
    if (st != FV_OK || r.id == 0 || !r.live || r.created <= first_at) return st;
    q = fv__ledger_prepare(l, "UPDATE registration SET visit_id = ?, outcome = 'channel_invalid'"
                              " WHERE id = ?");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, visit);
        sqlite3_bind_int64(q, 2, r.id);
    }
    st = fv__ledger_step_done(l, q, "registration outcome");
    if (st != FV_OK) return st;
    char ev[384];
    snprintf(ev, sizeof ev,
             "{\"rule\": 4, \"matched_by\": \"%s\", \"first_visit_at\": %lld,"
             " \"registration\": %lld, \"registered_at\": %lld, \"visit\": %lld, \"at\": %lld}",
             res->matched_by, (long long)first_at, (long long)r.id, (long long)r.created,
             (long long)visit, (long long)c->now);
    fv__ledger_conflict_new cf = {.kind = "registered_after_earlier_visit",
                                  .project = c->rq->project,
                                  .person = person,
                                  .registration = r.id,
                                  .visit = visit,
                                  .channel = r.channel,
                                  .agent = r.agent,
                                  .evidence = ev};
    return fv__ledger_conflict_open(l, c->who, &cf, &res->conflict);
}

static fv_status link_consent(ctx *c, int64_t person) {
    if (c->consent_row == 0) return FV_OK;
    int64_t linked = 0;
    fv_status st = fv__ledger_query_i64(c->l,
                                        "SELECT COALESCE(person_id, 0) FROM consent WHERE"
                                        " id = ?",
                                        &linked, 1, c->consent_row);
    if (st != FV_OK) return st;
    if (linked != 0 && linked != person)
        return fv__ledger_fail(c->l, FV_ERR_STATE, "the consent record belongs to another person");
    sqlite3_stmt *q = fv__ledger_prepare(c->l, "UPDATE consent SET person_id = ? WHERE id = ?");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, person);
        sqlite3_bind_int64(q, 2, c->consent_row);
    }
    return fv__ledger_step_done(c->l, q, "consent link");
}

static fv_status judge(ctx *c, const uint8_t *rh) {
    fv_ledger *l = c->l;
    fv_ledger_checkin_result *res = c->res;
    int found = 0;
    fv_status st =
        fv__ledger_idem_lookup(l, c->rq->idempotency_key, "checkin", rh, &found, res, sizeof *res);
    if (st != FV_OK || found) return st;
    int64_t face_person = 0, phone_person = 0;
    int uncertain = 0;
    if (c->rq->embedding != NULL) {
        st = face_search(c, &face_person, &uncertain);
        if (st != FV_OK) return st;
    }
    st = person_by_phone(c, &phone_person);
    if (st != FV_OK) return st;
    int64_t person = phone_person != 0 ? phone_person : face_person;
    const char *by = phone_person != 0  ? (face_person == phone_person ? "face" : "phone")
                     : face_person != 0 ? "face"
                                        : "none";
    if (person == 0 && uncertain) {
        res->kind = FV_LEDGER_VISIT_UNCERTAIN;
        snprintf(res->matched_by, sizeof res->matched_by, "none");
        return FV_OK; /* only the search's audit entry is kept */
    }
    int64_t visit = 0;
    if (person == 0) {
        uint8_t new_pid[FV_VAULT_PERSON_BYTES];
        randombytes_buf(new_pid, sizeof new_pid);
        sqlite3_stmt *q = fv__ledger_prepare(l, "INSERT INTO person(project_id, pid, created)"
                                                " VALUES(?, ?, ?)");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, c->rq->project);
            sqlite3_bind_blob(q, 2, new_pid, sizeof new_pid, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 3, c->now);
        }
        st = fv__ledger_step_done(l, q, "person");
        if (st != FV_OK) return st;
        person = sqlite3_last_insert_rowid(l->db);
        if (c->has_phone) st = set_phone(c, person);
        if (st == FV_OK) st = link_consent(c, person);
        if (st == FV_OK && c->rq->embedding != NULL) st = store_template(c, person);
        if (st == FV_OK) st = insert_visit(c, person, "first", "none", &visit);
        if (st == FV_OK) st = first_visit(c, person, visit);
        res->kind = FV_LEDGER_VISIT_FIRST;
    } else {
        int64_t has_phone = 0;
        if (c->has_phone && phone_person == 0) {
            /* Face matched a person: give them the verified phone if they have none. */
            st = fv__ledger_query_i64(l, "SELECT phone_hash IS NOT NULL FROM person WHERE id = ?",
                                      &has_phone, 1, person);
            if (st == FV_OK && !has_phone) st = set_phone(c, person);
        }
        int live = 1;
        if (st == FV_OK && c->rq->embedding != NULL && face_person != person)
            st = has_live_template(c, person, &live);
        if (st == FV_OK) st = link_consent(c, person);
        if (st == FV_OK && !live) st = store_template(c, person);
        if (st == FV_OK) st = insert_visit(c, person, "return", by, &visit);
        if (st == FV_OK) st = return_visit(c, person, visit);
        res->kind = FV_LEDGER_VISIT_RETURN;
    }
    if (st == FV_OK && res->template_stored) {
        sqlite3_stmt *q = fv__ledger_prepare(l, "UPDATE visit SET template_stored = 1,"
                                                " template_id = ? WHERE id = ?");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, c->stored_id);
            sqlite3_bind_int64(q, 2, visit);
        }
        st = fv__ledger_step_done(l, q, "visit");
    }
    if (st == FV_OK) {
        uint8_t pid[FV_VAULT_PERSON_BYTES];
        st = person_pid(c, person, pid);
        if (st == FV_OK) fv__ledger_hex(pid, sizeof pid, res->person);
    }
    if (st == FV_OK)
        st = fv__ledger_idem_store(l, c->rq->idempotency_key, "checkin", rh, res, sizeof *res);
    return st;
}

static fv_status validate(ctx *c) {
    fv_ledger *l = c->l;
    const fv_ledger_checkin_request *rq = c->rq;
    fv_status st = fv__ledger_project_load(l, rq->project, &c->ps);
    if (st != FV_OK) return st;
    fv_ledger_role r = c->who->role;
    if (r != FV_LEDGER_ROLE_KIOSK && r != FV_LEDGER_ROLE_RECEPTION && r != FV_LEDGER_ROLE_ADMIN)
        return fv__ledger_fail(l, FV_ERR_STATE, "only the kiosk or reception checks visitors in");
    if (rq->embedding == NULL && rq->phone[0] == '\0')
        return fv__ledger_fail(l, FV_ERR_ARG, "a check-in needs a face (with consent) or a phone");
    if (strnlen(rq->device, sizeof rq->device) == sizeof rq->device)
        return fv__ledger_fail(l, FV_ERR_ARG, "device name longer than 128 bytes");
    if (rq->escort != FV_LEDGER_ESCORT_NONE &&
        (rq->escort != FV_LEDGER_ESCORT_RECEPTION ||
         (r != FV_LEDGER_ROLE_RECEPTION && r != FV_LEDGER_ROLE_ADMIN)))
        return fv__ledger_fail(l, FV_ERR_STATE, "only reception confirms an escort at check-in");
    if (rq->embedding != NULL) {
        if (c->ps.face_free)
            return fv__ledger_fail(l, FV_ERR_STATE, "the project is face-free: no face operation");
        if (l->vault == NULL)
            return fv__ledger_fail(l, FV_ERR_STATE, "this ledger handle has no vault");
        if (rq->consent_id[0] == '\0')
            return fv__ledger_fail(l, FV_ERR_STATE, "no consent record: face processing refused");
        double norm = 0;
        for (int i = 0; i < FV_VAULT_DIM; i++) {
            if (!isfinite(rq->embedding[i]))
                return fv__ledger_fail(l, FV_ERR_ARG, "embedding has a non-finite value");
            norm += (double)rq->embedding[i] * rq->embedding[i];
        }
        if (fabs(norm - 1.0) > 1e-3)
            return fv__ledger_fail(l, FV_ERR_ARG, "embedding is not unit length");
        sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT id FROM consent WHERE cid = ? AND"
                                                " project_id = ?");
        if (q == NULL) return FV_ERR_IO;
        sqlite3_bind_text(q, 1, rq->consent_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, rq->project);
        if (sqlite3_step(q) == SQLITE_ROW) c->consent_row = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (c->consent_row == 0)
            return fv__ledger_fail(l, FV_ERR_STATE,
                                   "no such consent record for this project:"
                                   " face processing refused");
    }
    if (rq->phone[0] != '\0') {
        st = fv__ledger_phone_normalise(l, rq->phone, c->norm);
        if (st != FV_OK) return st;
        c->has_phone = 1;
        fv__ledger_phone_hash(l, c->norm, c->ph);
    }
    return FV_OK;
}

fv_status fv_ledger_checkin(fv_ledger *l, const fv_ledger_actor *who,
                            const fv_ledger_checkin_request *rq, fv_ledger_checkin_result *res) {
    fv__ledger_lock(l);
    memset(res, 0, sizeof *res);
    ctx c;
    memset(&c, 0, sizeof c);
    c.l = l;
    c.who = who;
    c.rq = rq;
    c.res = res;
    c.now = fv__ledger_now(l);
    uint8_t rh[FV__LEDGER_HASH_BYTES];
    fv_status st = validate(&c);
    if (st != FV_OK) goto out;
    req_hash(&c, rh);
    int replay = 0;
    if (rq->idempotency_key[0] != '\0') {
        /* A retry must not need a second one-time code. */
        st = fv__ledger_begin(l);
        if (st == FV_OK) {
            st = fv__ledger_idem_lookup(l, rq->idempotency_key, "checkin", rh, &replay, res,
                                        sizeof *res);
            fv__ledger_rollback(l);
        }
        if (st != FV_OK || replay) goto out;
    }
    if (c.has_phone && who->role == FV_LEDGER_ROLE_KIOSK) {
        st = fv__ledger_otp_consume(l, rq->project, c.ph, rq->otp_id, rq->otp_code);
        if (st != FV_OK) goto out;
    }
    st = fv__ledger_begin(l);
    if (st != FV_OK) goto out;
    st = judge(&c, rh);
    if (st == FV_OK) st = fv__ledger_commit(l);
    if (st != FV_OK) {
        fv__ledger_rollback(l);
        /* If this fails too, the template's person was never committed: searches ignore it
         * and retention expires it. */
        if (c.stored_id != 0 && fv_vault_delete_record(l->vault, c.stored_id, NULL) != FV_OK)
            c.stored_id = 0;
    }
out:
    if (st != FV_OK) memset(res, 0, sizeof *res);
    sodium_memzero(c.norm, sizeof c.norm);
    fv__ledger_unlock(l);
    return st;
}
