/*
 * fuzz_json.c - libFuzzer target for the JSON request reader (fv_json_parse) and the field
 * checker (fv_json_check_object), with small limits so the limit paths are reached too.
 *
 * Aborts when a failure leaves no error code or message, when a success yields strings that are
 * not NUL-terminated at their length or contain a NUL, or when walking the tree finds more values
 * or more depth than the limits allow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fairvisit/json.h"

static size_t walk(const fv_json *v, size_t depth, size_t max_depth) {
    if (depth > max_depth) abort();
    size_t n = 1;
    switch (fv_json_type_of(v)) {
    case FV_JSON_STRING: {
        size_t len = 0;
        const char *s = fv_json_string(v, &len);
        if (s == NULL || strlen(s) != len) abort();
        break;
    }
    case FV_JSON_ARRAY:
    case FV_JSON_OBJECT:
        for (size_t i = 0; i < fv_json_count(v); i++) {
            if (fv_json_type_of(v) == FV_JSON_OBJECT) {
                const char *k = fv_json_key_at(v, i);
                if (k == NULL || fv_json_get(v, k) != fv_json_at(v, i)) abort();
            }
            n += walk(fv_json_at(v, i), depth + 1, max_depth);
        }
        break;
    default:
        break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const fv_json_limits lim = {4096, 8, 200, 256};
    fv_json_doc *doc = NULL;
    fv_json_error err;
    fv_status st = fv_json_parse((const char *)data, size, &lim, &doc, &err);
    if (st != FV_OK) {
        if (doc != NULL || err.code == NULL || err.code[0] == '\0' || err.message[0] == '\0')
            abort();
        return 0;
    }
    if (doc == NULL || walk(fv_json_root(doc), 1, lim.max_depth + 1) > lim.max_values) abort();
    static const fv_json_field F[] = {{"phone", FV_JSON_STRING, true},
                                      {"agent", FV_JSON_INTEGER, false},
                                      {"tags", FV_JSON_ARRAY, false},
                                      {"any", FV_JSON_NULL, false}};
    if (fv_json_check_object(fv_json_root(doc), F, 4, &err) != FV_OK &&
        (err.code[0] == '\0' || err.message[0] == '\0'))
        abort();
    fv_json_free(doc);
    return 0;
}
