/*
 * fairvisit/strbuf.h - a growable string for JSON and text output, with JSON string
 * escaping. Out of memory is sticky: the buffer records it and appends become no-ops.
 */
#ifndef FAIRVISIT_STRBUF_H
#define FAIRVISIT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fv_strbuf {
    char *s;
    size_t len, cap;
    bool oom;
} fv_strbuf;

void fv_sb_printf(fv_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void fv_sb_json_string(fv_strbuf *b, const char *s);
/* Appends a float as JSON (non-finite values become null). */
void fv_sb_json_float(fv_strbuf *b, double v, int digits);
/* Appends `, "key": v` (a further member of an open JSON object), v as fv_sb_json_float. */
void fv_sb_json_field_float(fv_strbuf *b, const char *key, double v, int digits);
void fv_sb_free(fv_strbuf *b);

#endif
