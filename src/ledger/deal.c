/*
 * deal.c - deals (成交) and their commission: rule 6 of PRODUCT.md §3.
 *
 * A deal names its buyers by phone, the main buyer first. It goes to the main buyer's channel
 * when their attribution is channel_valid and the deal is signed inside the deal window (first
 * visit + deal_window_days); otherwise to natural. Every buyer with a visit in the project is
 * checked: one whose first visit came before the channel's registration flags the deal and opens
 * a conflict (buyer_visited_before_registration), unless a review already overturned a conflict
 * about that person and that registration in the registration's favour (it was weighed then).
 * Commission follows the channel's rule: basis points of the amount, or a fixed sum; natural deals
 * owe none. Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "ledger-impl.h"

#define BUYERS_MAX 8

typedef struct buyer {
    int64_t person, first_at;
} buyer;

static fv_status find_buyer(fv_ledger *l, int64_t project, const uint8_t *ph, buyer *b) {
    memset(b, 0, sizeof *b);
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT p.id, (SELECT MIN(at) FROM visit WHERE person_id = p.id) FROM person p"
           " WHERE p.project_id = ? AND p.phone_hash = ? AND p.deleted IS NULL");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, project);
    sqlite3_bind_blob(q, 2, ph, FV__LEDGER_HASH_BYTES, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) {
        b->person = sqlite3_column_int64(q, 0);
        b->first_at = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return FV_OK;
}

static fv_status record_deal(fv_ledger *l, const fv_ledger_actor *who,
                             const fv_ledger_deal_request *rq, fv_ledger_deal_result *res,
                             const buyer *b, size_t nb, const uint8_t *rh) {
    int found = 0;
    fv_status st =
        fv__ledger_idem_lookup(l, rq->idempotency_key, "deal", rh, &found, res, sizeof *res);
    if (st != FV_OK || found) return st;
    fv_ledger_project_settings ps;
    st = fv__ledger_project_load(l, rq->project, &ps);
    if (st != FV_OK) return st;
    if (b[0].person == 0)
        return fv__ledger_fail(l, FV_ERR_NOT_FOUND, "the main buyer has no visit in this project");
    int64_t natural = 0, channel = 0, agent = 0, reg = 0, reg_created = 0, first_at = 0;
    char outcome[32] = "";
    st = fv__ledger_query_i64(l,
                              "SELECT id FROM channel WHERE project_id = ? AND"
                              " kind = 'natural'",
                              &natural, 1, rq->project);
    if (st != FV_OK) return st;
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT a.outcome, a.channel_id, COALESCE(a.agent_id, 0),"
           " COALESCE(a.registration_id, 0), COALESCE(r.created, 0), v.at FROM attribution a"
           " JOIN visit v ON v.id = a.first_visit_id"
           " LEFT JOIN registration r ON r.id = a.registration_id WHERE a.person_id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, b[0].person);
    if (sqlite3_step(q) == SQLITE_ROW) {
        snprintf(outcome, sizeof outcome, "%s", (const char *)sqlite3_column_text(q, 0));
        channel = sqlite3_column_int64(q, 1);
        agent = sqlite3_column_int64(q, 2);
        reg = sqlite3_column_int64(q, 3);
        reg_created = sqlite3_column_int64(q, 4);
        first_at = sqlite3_column_int64(q, 5);
    }
    sqlite3_finalize(q);
    memset(res, 0, sizeof *res);
    res->in_window = rq->signed_ms <= first_at + (int64_t)ps.deal_window_days * FV__LEDGER_DAY_MS;
    if (strcmp(outcome, "channel_valid") == 0 && res->in_window) {
        res->channel = channel;
        res->agent = agent;
    } else {
        res->channel = natural;
        reg = 0;
    }
    size_t flagged_buyer = 0;
    if (reg != 0)
        for (size_t i = 0; i < nb; i++) {
            if (b[i].person == 0 || b[i].first_at >= reg_created) continue;
            /* A person whose earlier visit a review already weighed against this registration
             * (a conflict about them and it, overturned in its favour) is not flagged again. */
            int64_t reviewed = 0;
            if (fv__ledger_query_i64(l,
                                     "SELECT COUNT(*) FROM conflict WHERE person_id = ? AND"
                                     " registration_id = ? AND verdict = 'overturn'",
                                     &reviewed, 2, b[i].person, reg) == FV_OK &&
                reviewed > 0)
                continue;
            res->flagged = true;
            flagged_buyer = i;
            break;
        }
    if (res->channel != natural) {
        char kind[16] = "";
        int64_t value = 0;
        q = fv__ledger_prepare(l, "SELECT commission, commission_value FROM channel WHERE id = ?");
        if (q == NULL) return FV_ERR_IO;
        sqlite3_bind_int64(q, 1, res->channel);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(kind, sizeof kind, "%s", (const char *)sqlite3_column_text(q, 0));
            value = sqlite3_column_int64(q, 1);
        }
        sqlite3_finalize(q);
        if (strcmp(kind, "percent") == 0)
            res->commission_cents = (int64_t)((__int128)rq->amount_cents * value / 10000);
        else if (strcmp(kind, "fixed") == 0)
            res->commission_cents = value;
    }
    q = fv__ledger_prepare(l, "INSERT INTO deal(project_id, person_id, signed, amount_cents,"
                              " channel_id, agent_id, in_window, flagged, commission_cents,"
                              " created) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, rq->project);
        sqlite3_bind_int64(q, 2, b[0].person);
        sqlite3_bind_int64(q, 3, rq->signed_ms);
        sqlite3_bind_int64(q, 4, rq->amount_cents);
        sqlite3_bind_int64(q, 5, res->channel);
        fv__ledger_bind_id(q, 6, res->agent);
        sqlite3_bind_int(q, 7, res->in_window);
        sqlite3_bind_int(q, 8, res->flagged);
        sqlite3_bind_int64(q, 9, res->commission_cents);
        sqlite3_bind_int64(q, 10, fv__ledger_now(l));
    }
    st = fv__ledger_step_done(l, q, "deal");
    if (st != FV_OK) return st;
    res->id = sqlite3_last_insert_rowid(l->db);
    for (size_t i = 0; i < nb && st == FV_OK; i++) {
        if (b[i].person == 0) continue;
        q = fv__ledger_prepare(l, "INSERT OR IGNORE INTO deal_buyer(deal_id, person_id, main)"
                                  " VALUES(?, ?, ?)");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, res->id);
            sqlite3_bind_int64(q, 2, b[i].person);
            sqlite3_bind_int(q, 3, i == 0);
        }
        st = fv__ledger_step_done(l, q, "deal buyer");
    }
    if (st == FV_OK) st = fv__ledger_audit(l, who, "deal.record", "deal", res->id);
    if (st == FV_OK && res->flagged) {
        char ev[320];
        snprintf(
            ev, sizeof ev,
            "{\"rule\": 6, \"deal\": %lld, \"buyer_index\": %zu, \"buyer_first_visit_at\":"
            " %lld, \"registration\": %lld, \"registered_at\": %lld, \"matched_by\": \"phone\"}",
            (long long)res->id, flagged_buyer, (long long)b[flagged_buyer].first_at, (long long)reg,
            (long long)reg_created);
        fv__ledger_conflict_new c = {.kind = "buyer_visited_before_registration",
                                     .project = rq->project,
                                     .person = b[flagged_buyer].person,
                                     .registration = reg,
                                     .deal = res->id,
                                     .channel = res->channel,
                                     .agent = res->agent,
                                     .evidence = ev};
        st = fv__ledger_conflict_open(l, who, &c, &res->conflict);
    }
    if (st == FV_OK)
        st = fv__ledger_idem_store(l, rq->idempotency_key, "deal", rh, res, sizeof *res);
    return st;
}

fv_status fv_ledger_deal_record(fv_ledger *l, const fv_ledger_actor *who,
                                const fv_ledger_deal_request *rq, fv_ledger_deal_result *res) {
    fv__ledger_lock(l);
    memset(res, 0, sizeof *res);
    fv_status st = FV_OK;
    buyer b[BUYERS_MAX];
    uint8_t rh[FV__LEDGER_HASH_BYTES];
    if (who->role != FV_LEDGER_ROLE_RECEPTION && who->role != FV_LEDGER_ROLE_ADMIN)
        st = fv__ledger_fail(l, FV_ERR_STATE, "only reception or an admin records deals");
    else if (rq->n_buyers < 1 || rq->n_buyers > BUYERS_MAX || rq->buyer_phones == NULL)
        st = fv__ledger_fail(l, FV_ERR_ARG, "a deal names 1-8 buyers");
    else if (rq->amount_cents < 0)
        st = fv__ledger_fail(l, FV_ERR_ARG, "a deal's amount must not be negative");
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof rh);
    int64_t n[3] = {rq->project, rq->amount_cents, rq->signed_ms};
    crypto_generichash_update(&h, (const unsigned char *)n, sizeof n);
    for (size_t i = 0; st == FV_OK && i < rq->n_buyers; i++) {
        char norm[12];
        uint8_t ph[FV__LEDGER_HASH_BYTES];
        st = fv__ledger_phone_normalise(l, rq->buyer_phones[i], norm);
        if (st != FV_OK) {
            st = fv__ledger_fail(l, st, "buyer %zu: phone is not a mainland mobile number", i + 1);
            break;
        }
        fv__ledger_phone_hash(l, norm, ph);
        sodium_memzero(norm, sizeof norm);
        crypto_generichash_update(&h, ph, sizeof ph);
        st = find_buyer(l, rq->project, ph, &b[i]);
    }
    crypto_generichash_final(&h, rh, sizeof rh);
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st == FV_OK) {
        st = record_deal(l, who, rq, res, b, rq->n_buyers, rh);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) {
            fv__ledger_rollback(l);
            memset(res, 0, sizeof *res);
        }
    }
    fv__ledger_unlock(l);
    return st;
}
