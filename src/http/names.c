/*
 * names.c - small helpers every endpoint group shares: the wire names of roles, visit kinds and
 * outcomes, and copying a bounded string field out of a request body.
 * Threading: pure functions (fv__http_copy_field writes only the caller's buffers and reply).
 */
#include <string.h>

#include "http-impl.h"

const char *fv__http_role_name(fv_ledger_role r) {
    static const char *const N[] = {"admin",   "reception", "channel_manager", "agent",
                                    "auditor", "kiosk",     "visitor",         "system"};
    _Static_assert(sizeof N / sizeof N[0] == FV_LEDGER_ROLE_COUNT, "a name per role");
    return (unsigned)r < sizeof N / sizeof N[0] ? N[r] : "unknown";
}

const char *fv__http_kind_name(fv_ledger_visit_kind k) {
    return k == FV_LEDGER_VISIT_FIRST    ? "first"
           : k == FV_LEDGER_VISIT_RETURN ? "return"
                                         : "uncertain";
}

const char *fv__http_outcome_name(fv_ledger_outcome o) {
    return o == FV_LEDGER_OUTCOME_NATURAL           ? "natural"
           : o == FV_LEDGER_OUTCOME_CHANNEL_VALID   ? "channel_valid"
           : o == FV_LEDGER_OUTCOME_CHANNEL_INVALID ? "channel_invalid"
                                                    : "pending_escort";
}

bool fv__http_copy_field(fv__http_ctx *c, const fv_json *r, const char *name, char *out,
                         size_t cap) {
    size_t len = 0;
    const char *s = fv_json_string(fv_json_get(r, name), &len);
    out[0] = '\0';
    if (s == NULL) return true;
    if (len >= cap) {
        fv__http_error(c, 400, "invalid_request", "'%s' is too long (at most %zu bytes)", name,
                       cap - 1);
        return false;
    }
    memcpy(out, s, len + 1);
    return true;
}
