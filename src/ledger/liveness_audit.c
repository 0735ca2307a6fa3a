/*
 * liveness_audit.c - the audit entries of the server's liveness checks (PRODUCT.md §4.11: every
 * biometric operation is in the chain): fv_ledger_liveness_audit.
 *
 * The server runs the cooperative liveness step (a blink or a head turn, judged across camera
 * frames) before a face check-in; its frames are processed in memory only and nothing of them is
 * kept. What the chain records is that a check started, and that it passed, under which consent
 * record: "liveness.start" / "liveness.pass", record "consent:<row>", with the actor. Before
 * recording, the consent must cover face processing in the project (not withdrawn, the project
 * not face-free, a minor's with a guardian's consent): no consent, no biometrics (§4.1).
 * Threading: public calls lock the handle.
 */
#include <string.h>

#include "ledger-impl.h"

fv_status fv_ledger_liveness_audit(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                   const char *consent_id, bool passed) {
    if (l == NULL) return FV_ERR_ARG;
    fv__ledger_lock(l);
    fv_ledger_project_settings ps;
    int64_t row = 0;
    fv_status st = FV_OK;
    if (who == NULL || consent_id == NULL)
        st = fv__ledger_fail(l, FV_ERR_ARG, "no actor or consent given");
    else if (who->role != FV_LEDGER_ROLE_KIOSK && who->role != FV_LEDGER_ROLE_RECEPTION &&
             who->role != FV_LEDGER_ROLE_ADMIN && who->role != FV_LEDGER_ROLE_SYSTEM)
        st = fv__ledger_fail(l, FV_ERR_STATE, "only the kiosk or reception runs liveness checks");
    if (st == FV_OK) st = fv__ledger_project_load(l, project, &ps);
    if (st == FV_OK && ps.face_free)
        st = fv__ledger_fail(l, FV_ERR_STATE, "the project is face-free: no face operation");
    if (st == FV_OK && fv_ledger_consent_check(l, consent_id, ps.code) != FV_VAULT_CONSENT_OK)
        st = fv__ledger_fail(l, FV_ERR_STATE,
                             "no standing consent to face processing in this project:"
                             " face processing refused");
    if (st == FV_OK) {
        sqlite3_stmt *q =
            fv__ledger_prepare(l, "SELECT id FROM consent WHERE cid = ? AND project_id = ?");
        if (q == NULL) {
            st = FV_ERR_IO;
        } else {
            sqlite3_bind_text(q, 1, consent_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(q, 2, project);
            if (sqlite3_step(q) == SQLITE_ROW) row = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
            if (row == 0)
                st = fv__ledger_fail(l, FV_ERR_STATE,
                                     "no such consent record for this project:"
                                     " face processing refused");
        }
    }
    if (st == FV_OK) st = fv__ledger_begin(l);
    if (st == FV_OK) {
        st = fv__ledger_audit(l, who, passed ? "liveness.pass" : "liveness.start", "consent", row);
        if (st == FV_OK) st = fv__ledger_commit(l);
        if (st != FV_OK) fv__ledger_rollback(l);
    }
    fv__ledger_unlock(l);
    return st;
}
