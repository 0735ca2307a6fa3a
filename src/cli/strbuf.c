/*
 * strbuf.c - growable strings for command output (see strbuf.h).
 */
#include "strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fairvisit/alloc.h"

static bool reserve(strbuf *b, size_t extra) {
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

void sb_printf(strbuf *b, const char *fmt, ...) {
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

void sb_json_string(strbuf *b, const char *s) {
    sb_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(b, "\\%c", *p);
        else if (*p == '\n')
            sb_printf(b, "\\n");
        else if (*p == '\t')
            sb_printf(b, "\\t");
        else if (*p < 0x20)
            sb_printf(b, "\\u%04x", *p);
        else
            sb_printf(b, "%c", *p);
    }
    sb_printf(b, "\"");
}

void sb_json_float(strbuf *b, double v, int digits) {
    if (!isfinite(v)) {
        sb_printf(b, "null");
        return;
    }
    sb_printf(b, "%.*g", digits, v);
}

void sb_json_field_float(strbuf *b, const char *key, double v, int digits) {
    sb_printf(b, ", ");
    sb_json_string(b, key);
    sb_printf(b, ": ");
    sb_json_float(b, v, digits);
}

void sb_free(strbuf *b) {
    fv_wipe(b->s, b->cap); /* output may hold templates */
    fv_free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
