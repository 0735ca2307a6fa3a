/*
 * fairvisit/json.h - a strict JSON reader for request bodies, with limits, and a field checker
 * that turns unknown fields and wrong types into precise errors.
 *
 * Strict RFC 8259: one value, no comments, no trailing commas, no NaN/Infinity, strings valid
 * UTF-8 with no unescaped control characters, no unpaired surrogates and no \u0000 (strings are
 * handed out NUL-terminated), and no duplicate keys in an object (a request with two "role"
 * fields is an attack, not a request). Limits on size, depth, value count and string length are
 * checked while reading, before allocating. The whole document lives in one allocation set freed
 * (and wiped: bodies carry phones and names) by fv_json_free.
 *
 *     fv_json_error err;
 *     fv_json_doc *doc = NULL;
 *     if (fv_json_parse(body, len, NULL, &doc, &err) != FV_OK)
 *         reply(400, err.code, err.message);          // "expected ':' after a key at byte 17"
 *     static const fv_json_field F[] = {{"phone", FV_JSON_STRING, true}, {"name", FV_JSON_STRING,
 * false}}; if (fv_json_check_object(fv_json_root(doc), F, 2, &err) != FV_OK) reply(400, ...); const
 * char *phone = fv_json_string(fv_json_get(fv_json_root(doc), "phone"), NULL); fv_json_free(doc);
 *
 * Errors never quote the input (it may be personal data); they name a byte offset or a field.
 * Threading: a document is immutable after parsing and may be read by several threads.
 */
#ifndef FAIRVISIT_JSON_H
#define FAIRVISIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fv_json_type {
    FV_JSON_NULL = 0,
    FV_JSON_BOOL = 1,
    FV_JSON_NUMBER = 2,
    FV_JSON_STRING = 3,
    FV_JSON_ARRAY = 4,
    FV_JSON_OBJECT = 5,
    FV_JSON_INTEGER = 6, /* only in fv_json_field: a number that is an exact int64 */
} fv_json_type;

typedef struct fv_json fv_json;
typedef struct fv_json_doc fv_json_doc;

typedef struct fv_json_limits {
    size_t max_bytes;  /* whole text (default 1 MiB) */
    size_t max_depth;  /* nesting of arrays/objects (default 32) */
    size_t max_values; /* values in the document (default 100000) */
    size_t max_string; /* bytes of one decoded string (default 256 KiB) */
} fv_json_limits;

typedef struct fv_json_error {
    const char *code; /* machine-readable: "json_syntax", "json_too_large", "json_too_deep",
                         "json_duplicate_key", "json_invalid_utf8", "field_unknown",
                         "field_missing", "field_type", "out_of_memory" (static storage) */
    size_t offset;    /* byte offset of a syntax error */
    char message[160];
} fv_json_error;

/* Parses text[0..len) (borrowed; need not be NUL-terminated). lim NULL: defaults. On failure
 * *out is NULL and err says what and where. */
FV_NODISCARD fv_status fv_json_parse(const char *text, size_t len, const fv_json_limits *lim,
                                     fv_json_doc **out, fv_json_error *err);
/* Wipes and frees the document. NULL: no-op. */
void fv_json_free(fv_json_doc *doc);

const fv_json *fv_json_root(const fv_json_doc *doc);
/* FV_JSON_NULL for a NULL node. */
fv_json_type fv_json_type_of(const fv_json *v);
/* Member `key` of an object, NULL if absent or v is not an object. */
const fv_json *fv_json_get(const fv_json *v, const char *key);
/* Elements of an array or members of an object; 0 otherwise. */
size_t fv_json_count(const fv_json *v);
const fv_json *fv_json_at(const fv_json *v, size_t i);
const char *fv_json_key_at(const fv_json *v, size_t i);
/* The string (NUL-terminated, owned by the document) or NULL if not a string; *len may be NULL. */
const char *fv_json_string(const fv_json *v, size_t *len);
bool fv_json_bool(const fv_json *v);
double fv_json_number(const fv_json *v);
/* true and *out when v is a number that is an integer of magnitude below 2^53 (exact). */
bool fv_json_int64(const fv_json *v, int64_t *out);

typedef struct fv_json_field {
    const char *name;
    fv_json_type type; /* FV_JSON_INTEGER for integers; FV_JSON_NULL accepts any type */
    bool required;
} fv_json_field;

/* Checks that v is an object whose members are all among fields (no unknown ones), each of its
 * type, and that every required field is present. FV_ERR_FORMAT with err naming the field. */
FV_NODISCARD fv_status fv_json_check_object(const fv_json *v, const fv_json_field *fields,
                                            size_t n_fields, fv_json_error *err);

#ifdef __cplusplus
}
#endif
#endif
