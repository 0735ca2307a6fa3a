/*
 * selfservice.c - the lookups behind the visitor's self-service page (PRODUCT.md §4.8): the
 * first step of the slip login (is a phone needed, and a one-time code sent to the slip's phone),
 * and the person row <-> 32-hex person id mapping the server's visitor sessions use.
 *
 * The slip login has two steps: fv_ledger_slip_otp_send here, then fv_ledger_person_by_slip
 * (rights.c), which checks the phone and consumes the code. A code is sent only to the phone of
 * the slip's person: for any other phone a decoy code id comes back and nothing is sent, so the
 * gateway cannot be aimed at strangers' phones through a slip, and the answer has the same shape
 * whether or not the phone is the slip's. (Telling a slip with a phone from one without is
 * needed to show the right form; it is asked by whoever holds the slip.)
 * Threading: public calls lock the handle; fv_ledger_slip_otp_send releases it before sending
 * (fv_ledger_otp_send locks on its own).
 */
#include <string.h>

#include "ledger-impl.h"

fv_status fv_ledger_slip_otp_send(fv_ledger *l, const char *slip, const char *phone,
                                  bool *phone_needed, char otp_id[FV_LEDGER_ID_CHARS]) {
    otp_id[0] = '\0';
    *phone_needed = false;
    fv__ledger_lock(l);
    int64_t row = 0, project = 0;
    bool has_phone = false, matches = false;
    uint8_t stored[FV__LEDGER_HASH_BYTES];
    fv_status st = FV_OK;
    if (slip == NULL || strnlen(slip, 16) != 10)
        st = fv__ledger_fail(l, FV_ERR_ARG, "a slip code has 10 characters");
    sqlite3_stmt *q = NULL;
    if (st == FV_OK) {
        q = fv__ledger_prepare(l, "SELECT p.id, p.project_id, p.phone_hash FROM visit v"
                                  " JOIN person p ON p.id = v.person_id"
                                  " WHERE v.slip = ? AND p.deleted IS NULL");
        if (q == NULL) st = FV_ERR_IO;
    }
    if (st == FV_OK) {
        sqlite3_bind_text(q, 1, slip, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            row = sqlite3_column_int64(q, 0);
            project = sqlite3_column_int64(q, 1);
            has_phone = sqlite3_column_bytes(q, 2) == FV__LEDGER_HASH_BYTES;
            if (has_phone) memcpy(stored, sqlite3_column_blob(q, 2), sizeof stored);
        } else {
            st = rc == SQLITE_DONE
                     ? fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no record for this slip code")
                     : fv__ledger_db_fail(l, rc, "slip");
        }
    }
    sqlite3_finalize(q);
    if (st == FV_OK && has_phone && phone != NULL) {
        char norm[12];
        uint8_t ph[FV__LEDGER_HASH_BYTES];
        st = fv__ledger_phone_normalise(l, phone, norm);
        if (st == FV_OK) {
            fv__ledger_phone_hash(l, norm, ph);
            matches = sodium_memcmp(ph, stored, sizeof ph) == 0;
        }
        sodium_memzero(norm, sizeof norm);
        sodium_memzero(ph, sizeof ph);
    }
    sodium_memzero(stored, sizeof stored);
    fv__ledger_unlock(l);
    if (st != FV_OK) return st;
    *phone_needed = has_phone;
    if (!has_phone || phone == NULL) return FV_OK;
    if (!matches) {
        fv__ledger_random_hex(otp_id, 32); /* a decoy: no code exists under it */
        return FV_OK;
    }
    fv_ledger_actor visitor = {FV_LEDGER_ROLE_VISITOR, row};
    return fv_ledger_otp_send(l, &visitor, project, phone, otp_id);
}

fv_status fv_ledger_person_find(fv_ledger *l, const char *person, int64_t *row) {
    fv__ledger_lock(l);
    fv_status st = person == NULL ? fv__ledger_fail(l, FV_ERR_ARG, "no person id given")
                                  : fv__ledger_person_row(l, person, row, NULL);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_person_id(fv_ledger *l, int64_t row, char person[FV_LEDGER_ID_CHARS]) {
    fv__ledger_lock(l);
    person[0] = '\0';
    fv_status st = FV_ERR_IO;
    sqlite3_stmt *q = fv__ledger_prepare(l, "SELECT pid FROM person WHERE id = ? AND"
                                            " deleted IS NULL");
    if (q != NULL) {
        sqlite3_bind_int64(q, 1, row);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == FV_VAULT_PERSON_BYTES) {
            fv__ledger_hex(sqlite3_column_blob(q, 0), FV_VAULT_PERSON_BYTES, person);
            st = FV_OK;
        } else {
            st = rc == SQLITE_ROW || rc == SQLITE_DONE
                     ? fv__ledger_fail(l, FV_ERR_NOT_FOUND, "no such person")
                     : fv__ledger_db_fail(l, rc, "person");
        }
        sqlite3_finalize(q);
    }
    fv__ledger_unlock(l);
    return st;
}
