/*
 * schema.c - ledger.db's schema as a list of migrations, applied in order at open.
 *
 * PRAGMA user_version is the number of migrations applied. Each migration runs in its own
 * IMMEDIATE transaction together with the user_version bump, so a crash leaves the database at
 * one version or the next, never between. A database newer than this build is refused.
 *
 * Conventions: times are Unix milliseconds; phones appear only as phone_hash (keyed BLAKE2b),
 * phone_ct (sealed, see phone.c) and phone_mask; names only sealed (name_ct). Ids shown outside
 * (person, consent, slip, QR, one-time code) are random hex, never row numbers. Passwords appear
 * only as Argon2id strings (user.pw_hash), API tokens only as keyed BLAKE2b (api_token.hash).
 * A migration, once released, is never edited: changes are new elements of MIGRATIONS.
 * Threading: called by fv_ledger_open only.
 */
#include <stdio.h>

#include "ledger-impl.h"

static const char *const MIGRATIONS[] = {
    /* 1: the ledger */
    "CREATE TABLE project("
    " id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " controller TEXT NOT NULL, controller_contact TEXT NOT NULL,"
    " protection_days INTEGER NOT NULL CHECK(protection_days BETWEEN 1 AND 3650),"
    " deal_window_days INTEGER NOT NULL CHECK(deal_window_days BETWEEN 1 AND 3650),"
    " escort_window_minutes INTEGER NOT NULL CHECK(escort_window_minutes BETWEEN 1 AND 10080),"
    " retention_days INTEGER NOT NULL CHECK(retention_days BETWEEN 1 AND 36500),"
    " guardian_age INTEGER NOT NULL CHECK(guardian_age BETWEEN 1 AND 18),"
    " face_free INTEGER NOT NULL CHECK(face_free IN (0, 1)),"
    " match_threshold REAL NOT NULL CHECK(match_threshold > 0 AND match_threshold < 1),"
    " match_margin REAL NOT NULL CHECK(match_margin >= 0 AND match_margin < 1),"
    " otp_ttl_seconds INTEGER NOT NULL CHECK(otp_ttl_seconds BETWEEN 30 AND 3600),"
    " otp_max_attempts INTEGER NOT NULL CHECK(otp_max_attempts BETWEEN 1 AND 20),"
    " otp_per_phone_per_hour INTEGER NOT NULL CHECK(otp_per_phone_per_hour BETWEEN 1 AND 100),"
    " created INTEGER NOT NULL);"

    "CREATE TABLE channel("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " kind TEXT NOT NULL CHECK(kind IN ('natural', 'agency', 'referral', 'online')),"
    " name TEXT NOT NULL, protection_days INTEGER CHECK(protection_days BETWEEN 1 AND 3650),"
    " commission TEXT NOT NULL CHECK(commission IN ('none', 'percent', 'fixed')),"
    " commission_value INTEGER NOT NULL CHECK(commission_value >= 0),"
    " created INTEGER NOT NULL, UNIQUE(project_id, name));"
    "CREATE UNIQUE INDEX channel_natural ON channel(project_id) WHERE kind = 'natural';"

    "CREATE TABLE agent("
    " id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL REFERENCES channel(id),"
    " name TEXT NOT NULL, team TEXT NOT NULL DEFAULT '',"
    " protection_days INTEGER CHECK(protection_days BETWEEN 1 AND 3650),"
    " created INTEGER NOT NULL);"

    "CREATE TABLE notice("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " version INTEGER NOT NULL, text_zh TEXT NOT NULL, text_en TEXT NOT NULL,"
    " hash TEXT NOT NULL, published INTEGER NOT NULL, UNIQUE(project_id, version));"

    "CREATE TABLE person("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " pid BLOB NOT NULL UNIQUE CHECK(length(pid) = 16),"
    " phone_hash BLOB CHECK(phone_hash IS NULL OR length(phone_hash) = 32),"
    " phone_ct BLOB, phone_mask TEXT, created INTEGER NOT NULL, deleted INTEGER);"
    "CREATE UNIQUE INDEX person_phone ON person(project_id, phone_hash)"
    " WHERE phone_hash IS NOT NULL;"

    "CREATE TABLE consent("
    " id INTEGER PRIMARY KEY, cid TEXT NOT NULL UNIQUE,"
    " project_id INTEGER NOT NULL REFERENCES project(id), person_id INTEGER REFERENCES person(id),"
    " notice_version INTEGER NOT NULL, notice_hash TEXT NOT NULL,"
    " scope TEXT NOT NULL CHECK(scope = 'face_attribution'), method TEXT NOT NULL,"
    " device TEXT NOT NULL, age TEXT NOT NULL CHECK(age IN ('adult', 'minor')),"
    " guardian INTEGER NOT NULL CHECK(guardian IN (0, 1)),"
    " created INTEGER NOT NULL, withdrawn INTEGER,"
    " CHECK(age = 'adult' OR guardian = 1));"
    "CREATE INDEX consent_person ON consent(person_id);"

    "CREATE TABLE registration("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " channel_id INTEGER NOT NULL REFERENCES channel(id),"
    " agent_id INTEGER NOT NULL REFERENCES agent(id),"
    " phone_hash BLOB, phone_ct BLOB, phone_mask TEXT NOT NULL, name_ct BLOB,"
    " expected_visit INTEGER, created INTEGER NOT NULL, expires INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('accepted', 'refused')), refusal TEXT,"
    " visit_id INTEGER REFERENCES visit(id),"
    " outcome TEXT CHECK(outcome IN ('channel_valid', 'channel_invalid', 'pending_escort')));"
    "CREATE INDEX registration_phone ON registration(project_id, phone_hash, status, expires);"
    "CREATE INDEX registration_agent ON registration(agent_id);"

    "CREATE TABLE visit("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " person_id INTEGER NOT NULL REFERENCES person(id), at INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('first', 'return')),"
    " matched_by TEXT NOT NULL CHECK(matched_by IN ('face', 'phone', 'none')),"
    " score REAL, device TEXT NOT NULL, consent_id INTEGER REFERENCES consent(id),"
    " template_stored INTEGER NOT NULL DEFAULT 0 CHECK(template_stored IN (0, 1)),"
    " slip TEXT NOT NULL UNIQUE, qr TEXT NOT NULL UNIQUE);"
    "CREATE INDEX visit_person ON visit(person_id, at);"
    "CREATE INDEX visit_project ON visit(project_id, at);"

    "CREATE TABLE attribution("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " person_id INTEGER NOT NULL UNIQUE REFERENCES person(id),"
    " first_visit_id INTEGER NOT NULL REFERENCES visit(id),"
    " channel_id INTEGER NOT NULL REFERENCES channel(id), agent_id INTEGER REFERENCES agent(id),"
    " registration_id INTEGER REFERENCES registration(id),"
    " outcome TEXT NOT NULL CHECK(outcome IN"
    "  ('natural', 'channel_valid', 'channel_invalid', 'pending_escort')),"
    " escort TEXT CHECK(escort IN ('agent_qr', 'reception')), escort_at INTEGER,"
    " escort_deadline INTEGER, decided INTEGER NOT NULL, evidence TEXT NOT NULL);"
    "CREATE INDEX attribution_pending ON attribution(outcome, escort_deadline);"

    "CREATE TABLE conflict("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " kind TEXT NOT NULL CHECK(kind IN ('registration_after_visit', 'duplicate_registration',"
    "  'registration_expired', 'escort_not_confirmed', 'registered_after_earlier_visit',"
    "  'buyer_visited_before_registration')),"
    " person_id INTEGER REFERENCES person(id), registration_id INTEGER REFERENCES registration(id),"
    " other_registration_id INTEGER REFERENCES registration(id),"
    " visit_id INTEGER REFERENCES visit(id), deal_id INTEGER REFERENCES deal(id),"
    " channel_id INTEGER REFERENCES channel(id), agent_id INTEGER REFERENCES agent(id),"
    " evidence TEXT NOT NULL, created INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('open', 'decided', 'appealed', 'closed')),"
    " verdict TEXT CHECK(verdict IN ('uphold', 'overturn')), appealed INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX conflict_project ON conflict(project_id, status);"

    "CREATE TABLE decision("
    " id INTEGER PRIMARY KEY, conflict_id INTEGER NOT NULL REFERENCES conflict(id),"
    " at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL CHECK(action IN ('decide', 'appeal', 'decide_appeal')),"
    " verdict TEXT CHECK(verdict IN ('uphold', 'overturn')), reason TEXT NOT NULL);"

    "CREATE TABLE deal("
    " id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES project(id),"
    " person_id INTEGER NOT NULL REFERENCES person(id), signed INTEGER NOT NULL,"
    " amount_cents INTEGER NOT NULL CHECK(amount_cents >= 0),"
    " channel_id INTEGER NOT NULL REFERENCES channel(id), agent_id INTEGER REFERENCES agent(id),"
    " in_window INTEGER NOT NULL, flagged INTEGER NOT NULL, commission_cents INTEGER NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE deal_buyer("
    " deal_id INTEGER NOT NULL REFERENCES deal(id), person_id INTEGER NOT NULL REFERENCES "
    "person(id),"
    " main INTEGER NOT NULL, PRIMARY KEY(deal_id, person_id));"

    "CREATE TABLE otp("
    " id INTEGER PRIMARY KEY, oid TEXT NOT NULL UNIQUE,"
    " project_id INTEGER NOT NULL REFERENCES project(id), phone_hash BLOB NOT NULL,"
    " code_hash BLOB NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, used INTEGER);"
    "CREATE INDEX otp_phone ON otp(project_id, phone_hash, created);"

    "CREATE TABLE idempotency("
    " key TEXT PRIMARY KEY, op TEXT NOT NULL, request BLOB NOT NULL, result BLOB NOT NULL,"
    " created INTEGER NOT NULL);"

    "CREATE TABLE audit("
    " seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
    " record TEXT NOT NULL, hash BLOB NOT NULL);"
    "CREATE TABLE audit_head(one INTEGER PRIMARY KEY CHECK(one = 1), seq INTEGER NOT NULL,"
    " hash BLOB NOT NULL);",

    /* 2: the server's users (Argon2id password hashes) and API tokens (keyed hashes only) */
    "CREATE TABLE user("
    " id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK(role IN"
    "  ('admin', 'reception', 'channel_manager', 'agent', 'auditor', 'kiosk')),"
    " scope_id INTEGER, pw_hash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0 CHECK(disabled IN (0, 1)), created INTEGER NOT NULL);"
    "CREATE TABLE api_token("
    " id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES user(id), name TEXT NOT NULL,"
    " hash BLOB NOT NULL UNIQUE CHECK(length(hash) = 32), created INTEGER NOT NULL,"
    " revoked INTEGER);"
    "CREATE INDEX api_token_user ON api_token(user_id);",
    /* 3: the vault record each stored template went to, so a search trusts only templates a
     * committed visit recorded (one stored before a crash or a failed commit is an orphan) */
    ("ALTER TABLE visit ADD COLUMN template_id INTEGER;"
     "CREATE INDEX visit_template ON visit(template_id) WHERE template_id IS NOT NULL;"),
};

#define N_MIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

int fv__ledger_schema_version(void) {
    return N_MIGRATIONS;
}

fv_status fv__ledger_migrate(fv_ledger *l) {
    int64_t have = 0;
    fv_status st = fv__ledger_query_i64(l, "PRAGMA user_version", &have, 0);
    if (st != FV_OK) return st;
    if (have > N_MIGRATIONS)
        return fv__ledger_fail(l, FV_ERR_UNSUPPORTED,
                               "ledger.db has schema version %lld; this build knows up to %d",
                               (long long)have, N_MIGRATIONS);
    for (int v = (int)have; v < N_MIGRATIONS; v++) {
        st = fv__ledger_begin(l);
        if (st != FV_OK) return st;
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1);
        st = fv__ledger_exec(l, MIGRATIONS[v]);
        if (st == FV_OK) st = fv__ledger_exec(l, bump);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) {
            fv__ledger_rollback(l);
            return st;
        }
    }
    return FV_OK;
}
