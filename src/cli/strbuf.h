/*
 * strbuf.h - a growable string for building command output (JSON lines, text), with JSON string
 * escaping. Out of memory is sticky: the buffer records it and appends become no-ops.
 */
#ifndef FAIRVISIT_CLI_STRBUF_H
#define FAIRVISIT_CLI_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool oom;
} strbuf;

void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void sb_json_string(strbuf *b, const char *s);
/* Appends a float as JSON (non-finite values become null). */
void sb_json_float(strbuf *b, double v, int digits);
/* Appends `, "key": v` (a further member of an open JSON object), v as sb_json_float. */
void sb_json_field_float(strbuf *b, const char *key, double v, int digits);
void sb_free(strbuf *b);

#endif
