/*
 * registration.c - an agent's registration (报备) of a customer: rules 2 and 3 of PRODUCT.md §3.
 *
 * Accepted only if the phone is not already a visitor of the project and not held by a live
 * registration (another channel's: "registered_by_other_channel", a conflict; the same
 * channel's: "already_registered"). A refusal of a claim that contradicts the ledger (the person
 * already visited; another channel holds the phone) is kept as a refused registration and opens
 * a conflict with its evidence, so the channel can see the reason and appeal. A registration
 * lives for the protection window: the agent's number, else the channel's, else the project's.
 * Concurrency: the checks and the insert run in one IMMEDIATE transaction, so of two agents
 * registering one phone at the same moment exactly one wins.
 * Threading: public calls lock the handle.
 */
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

static void req_hash(const fv_ledger_registration_request *rq, const char *norm, uint8_t *out) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, FV__LEDGER_HASH_BYTES);
    int64_t n[3] = {rq->project, rq->agent, rq->expected_visit_ms};
    crypto_generichash_update(&h, (const unsigned char *)n, sizeof n);
    crypto_generichash_update(&h, (const unsigned char *)norm, strlen(norm) + 1);
    crypto_generichash_update(&h, (const unsigned char *)rq->customer_name,
                              strnlen(rq->customer_name, sizeof rq->customer_name));
    crypto_generichash_final(&h, out, FV__LEDGER_HASH_BYTES);
}

/* Agent's channel, protection days (agent's, channel's, project's) and project check. */
static fv_status agent_info(fv_ledger *l, int64_t project, int64_t agent, int64_t *channel,
                            int64_t *days) {
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT a.channel_id, COALESCE(a.protection_days, c.protection_days,"
           " p.protection_days), c.project_id FROM agent a JOIN channel c ON c.id = a.channel_id"
           " JOIN project p ON p.id = c.project_id WHERE a.id = ?");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, agent);
    fv_status st = FV_OK;
    if (sqlite3_step(q) != SQLITE_ROW)
        st = fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such agent");
    else if (sqlite3_column_int64(q, 2) != project)
        st = fv__ledger_fail(l, FV_ERR_STATE, "the agent's channel belongs to another project");
    else {
        *channel = sqlite3_column_int64(q, 0);
        *days = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return st;
}

static fv_status do_register(fv_ledger *l, const fv_ledger_actor *who,
                             const fv_ledger_registration_request *rq,
                             fv_ledger_registration_result *res, const char *norm,
                             const uint8_t *ph, const uint8_t *rh) {
    int found = 0;
    fv_status st =
        fv__ledger_idem_lookup(l, rq->idempotency_key, "register", rh, &found, res, sizeof *res);
    if (st != FV_OK || found) return st;
    int64_t channel = 0, days = 0, now = fv__ledger_now(l);
    st = agent_info(l, rq->project, rq->agent, &channel, &days);
    if (st != FV_OK) return st;
    if (who->role == FV_LEDGER_ROLE_AGENT && who->id != rq->agent)
        return fv__ledger_fail(l, FV_ERR_STATE, "an agent registers only in their own name");
    if (who->role == FV_LEDGER_ROLE_CHANNEL_MANAGER && who->id != channel)
        return fv__ledger_fail(l, FV_ERR_STATE,
                               "a channel manager registers only for their channel");

    /* Rule 2a: already a visitor of the project? */
    int64_t person = 0, first_visit = 0, first_at = 0;
    sqlite3_stmt *q = fv__ledger_prepare(
        l, "SELECT p.id, v.id, v.at FROM person p JOIN visit v ON v.person_id = p.id"
           " WHERE p.project_id = ? AND p.phone_hash = ? AND p.deleted IS NULL"
           " ORDER BY v.at LIMIT 1");
    if (q == NULL) return FV_ERR_IO;
    sqlite3_bind_int64(q, 1, rq->project);
    sqlite3_bind_blob(q, 2, ph, FV__LEDGER_HASH_BYTES, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW) {
        person = sqlite3_column_int64(q, 0);
        first_visit = sqlite3_column_int64(q, 1);
        first_at = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    /* Rule 2b: held by a live registration? */
    int64_t holder = 0, holder_channel = 0, holder_created = 0;
    if (person == 0) {
        q = fv__ledger_prepare(l, "SELECT id, channel_id, created FROM registration WHERE"
                                  " project_id = ? AND phone_hash = ? AND status = 'accepted'"
                                  " AND visit_id IS NULL AND expires > ? ORDER BY created LIMIT 1");
        if (q == NULL) return FV_ERR_IO;
        sqlite3_bind_int64(q, 1, rq->project);
        sqlite3_bind_blob(q, 2, ph, FV__LEDGER_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, now);
        if (sqlite3_step(q) == SQLITE_ROW) {
            holder = sqlite3_column_int64(q, 0);
            holder_channel = sqlite3_column_int64(q, 1);
            holder_created = sqlite3_column_int64(q, 2);
        }
        sqlite3_finalize(q);
    }
    memset(res, 0, sizeof *res);
    if (fv_ledger_phone_mask(norm, res->phone_mask) != FV_OK) res->phone_mask[0] = '\0';
    res->expires_ms = now + days * FV__LEDGER_DAY_MS;
    const char *reason = NULL;
    if (person != 0)
        reason = "already_visitor";
    else if (holder != 0)
        reason = holder_channel != channel ? "registered_by_other_channel" : "already_registered";
    res->status = reason != NULL ? FV_LEDGER_REG_REFUSED : FV_LEDGER_REG_ACCEPTED;
    if (reason != NULL) snprintf(res->reason, sizeof res->reason, "%s", reason);

    uint8_t *pct = NULL, *nct = NULL;
    size_t plen = 0, nlen = 0;
    st = fv__ledger_seal(l, norm, "registration.phone", &pct, &plen);
    if (st == FV_OK) st = fv__ledger_seal(l, rq->customer_name, "registration.name", &nct, &nlen);
    if (st == FV_OK) {
        q = fv__ledger_prepare(
            l, "INSERT INTO registration(project_id, channel_id, agent_id, phone_hash, phone_ct,"
               " phone_mask, name_ct, expected_visit, created, expires, status, refusal)"
               " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (q != NULL) {
            sqlite3_bind_int64(q, 1, rq->project);
            sqlite3_bind_int64(q, 2, channel);
            sqlite3_bind_int64(q, 3, rq->agent);
            sqlite3_bind_blob(q, 4, ph, FV__LEDGER_HASH_BYTES, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 5, pct, (int)plen, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 6, res->phone_mask, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(q, 7, nct, (int)nlen, SQLITE_TRANSIENT);
            fv__ledger_bind_id(q, 8, rq->expected_visit_ms);
            sqlite3_bind_int64(q, 9, now);
            sqlite3_bind_int64(q, 10, res->expires_ms);
            sqlite3_bind_text(q, 11, reason != NULL ? "refused" : "accepted", -1, SQLITE_STATIC);
            if (reason != NULL)
                sqlite3_bind_text(q, 12, reason, -1, SQLITE_STATIC);
            else
                sqlite3_bind_null(q, 12);
        }
        st = fv__ledger_step_done(l, q, "registration");
    }
    fv_free(pct);
    fv_free(nct);
    if (st != FV_OK) return st;
    res->id = sqlite3_last_insert_rowid(l->db);
    st = fv__ledger_audit(l, who, reason ? "registration.refuse" : "registration.accept",
                          "registration", res->id);
    if (st == FV_OK && reason != NULL && strcmp(reason, "already_registered") != 0) {
        char ev[512];
        if (person != 0)
            snprintf(ev, sizeof ev,
                     "{\"rule\": 2, \"matched_by\": \"phone\", \"first_visit\": %lld,"
                     " \"first_visit_at\": %lld, \"registered_at\": %lld}",
                     (long long)first_visit, (long long)first_at, (long long)now);
        else
            snprintf(ev, sizeof ev,
                     "{\"rule\": 2, \"matched_by\": \"phone\", \"holder_registration\": %lld,"
                     " \"holder_channel\": %lld, \"holder_registered_at\": %lld,"
                     " \"registered_at\": %lld}",
                     (long long)holder, (long long)holder_channel, (long long)holder_created,
                     (long long)now);
        fv__ledger_conflict_new c = {.kind = person ? "registration_after_visit"
                                                    : "duplicate_registration",
                                     .project = rq->project,
                                     .person = person,
                                     .registration = res->id,
                                     .other_registration = holder,
                                     .visit = first_visit,
                                     .channel = channel,
                                     .agent = rq->agent,
                                     .evidence = ev};
        st = fv__ledger_conflict_open(l, who, &c, &res->conflict);
    }
    if (st == FV_OK)
        st = fv__ledger_idem_store(l, rq->idempotency_key, "register", rh, res, sizeof *res);
    return st;
}

fv_status fv_ledger_register(fv_ledger *l, const fv_ledger_actor *who,
                             const fv_ledger_registration_request *rq,
                             fv_ledger_registration_result *res) {
    fv__ledger_lock(l);
    memset(res, 0, sizeof *res);
    char norm[12] = "";
    uint8_t ph[FV__LEDGER_HASH_BYTES], rh[FV__LEDGER_HASH_BYTES];
    fv_status st = FV_OK;
    size_t nlen = strnlen(rq->customer_name, sizeof rq->customer_name);
    if (nlen == 0 || nlen == sizeof rq->customer_name)
        st = fv__ledger_fail(l, FV_ERR_ARG, "customer name must be 1-128 bytes");
    if (st == FV_OK) st = fv__ledger_phone_normalise(l, rq->phone, norm);
    if (st == FV_OK && (who->role == FV_LEDGER_ROLE_KIOSK || who->role == FV_LEDGER_ROLE_VISITOR ||
                        who->role == FV_LEDGER_ROLE_AUDITOR))
        st = fv__ledger_fail(l, FV_ERR_STATE, "this role may not register customers");
    if (st == FV_OK) {
        fv__ledger_phone_hash(l, norm, ph);
        req_hash(rq, norm, rh);
        st = fv__ledger_begin(l);
    }
    if (st == FV_OK) {
        st = do_register(l, who, rq, res, norm, ph, rh);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) {
            fv__ledger_rollback(l);
            memset(res, 0, sizeof *res);
        }
    }
    sodium_memzero(norm, sizeof norm);
    fv__ledger_unlock(l);
    return st;
}
