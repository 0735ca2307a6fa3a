/*
 * strbuf.c - growable strings for JSON and text output (see fairvisit/strbuf.h).
 */
#include "fairvisit/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"

static bool reserve(fv_strbuf *b, size_t extra) {
    if (b->oom) return false;
    size_t need;
    if (!fv_size_add(b->len, extra + 1, &need)) {
        b->oom = true;
        return false;
    }
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *s = fv_realloc(b->s, cap);
    if (s == NULL) {
        b->oom = true;
        return false;
    }
    b->s = s;
    b->cap = cap;
    return true;
}

void fv_sb_printf(fv_strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    (void)vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void fv_sb_json_string(fv_strbuf *b, const char *s) {
    fv_sb_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fv_sb_printf(b, "\\%c", *p);
        else if (*p == '\n')
            fv_sb_printf(b, "\\n");
        else if (*p == '\t')
            fv_sb_printf(b, "\\t");
        else if (*p < 0x20)
            fv_sb_printf(b, "\\u%04x", *p);
        else
            fv_sb_printf(b, "%c", *p);
    }
    fv_sb_printf(b, "\"");
}

void fv_sb_json_float(fv_strbuf *b, double v, int digits) {
    if (!isfinite(v)) {
        fv_sb_printf(b, "null");
        return;
    }
    fv_sb_printf(b, "%.*g", digits, v);
}

void fv_sb_json_field_float(fv_strbuf *b, const char *key, double v, int digits) {
    fv_sb_printf(b, ", ");
    fv_sb_json_string(b, key);
    fv_sb_printf(b, ": ");
    fv_sb_json_float(b, v, digits);
}

void fv_sb_free(fv_strbuf *b) {
    fv_wipe(b->s, b->cap); /* output may hold templates */
    fv_free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
