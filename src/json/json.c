/*
 * json.c - the strict JSON reader of fairvisit/json.h: recursive descent over the bytes, values
 * in an arena owned by the document.
 *
 * Invariants: pos never passes end; depth <= lim.max_depth; every string in the arena is
 * NUL-terminated valid UTF-8 without NUL; the arena is wiped before it is freed. Limits are
 * checked before the allocation they guard.
 * Threading: a parse is single-threaded; a finished document is immutable.
 */
#include "fairvisit/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fairvisit/alloc.h"

struct fv_json {
    fv_json_type type;
    union {
        bool b;
        double num;
        struct {
            char *s;
            size_t len;
        } str;
        struct {
            fv_json **items;
            char **keys; /* objects only */
            size_t n;
        } list;
    } u;
};

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} block;

struct fv_json_doc {
    block *blocks;
    fv_json *root;
};

typedef struct parser {
    const char *p, *end, *start;
    fv_json_limits lim;
    size_t depth, values;
    fv_json_doc *doc;
    fv_json_error *err;
    fv_status st;
} parser;

static void *arena(parser *ps, size_t n) {
    n = (n + 15) & ~(size_t)15;
    block *b = ps->doc->blocks;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        b = fv_malloc(sizeof *b + cap);
        if (b == NULL) return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = ps->doc->blocks;
        ps->doc->blocks = b;
    }
    void *r = b->data + b->used;
    b->used += n;
    return r;
}

static fv_status fail(parser *ps, fv_status st, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static fv_status fail(parser *ps, fv_status st, const char *code, const char *fmt, ...) {
    if (ps->st != FV_OK) return ps->st; /* keep the first error */
    ps->st = st;
    ps->err->code = code;
    ps->err->offset = (size_t)(ps->p - ps->start);
    char msg[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err->message, sizeof ps->err->message, "%s at byte %zu", msg, ps->err->offset);
    return st;
}

static fv_status nomem(parser *ps) {
    return fail(ps, FV_ERR_NOMEM, "out_of_memory", "out of memory");
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static fv_json *new_value(parser *ps, fv_json_type t) {
    if (++ps->values > ps->lim.max_values) {
        fail(ps, FV_ERR_LIMIT, "json_too_large", "more than %zu values", ps->lim.max_values);
        return NULL;
    }
    fv_json *v = arena(ps, sizeof *v);
    if (v == NULL) {
        nomem(ps);
        return NULL;
    }
    memset(v, 0, sizeof *v);
    v->type = t;
    return v;
}

/* Length of the UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Parses a string at ps->p (at the opening quote) into arena memory. */
static fv_status parse_string(parser *ps, char **out, size_t *out_len) {
    const char *s = ++ps->p; /* after the quote */
    /* Pass 1: find the closing quote (escapes skipped) to size the output. */
    const char *q = s;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) return fail(ps, FV_ERR_FORMAT, "json_syntax", "unterminated string");
    size_t raw = (size_t)(q - s);
    if (raw > ps->lim.max_string * 6)
        return fail(ps, FV_ERR_LIMIT, "json_too_large", "string longer than %zu bytes",
                    ps->lim.max_string);
    char *o = arena(ps, raw + 1);
    if (o == NULL) return nomem(ps);
    size_t n = 0;
    while (ps->p < q) {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20)
            return fail(ps, FV_ERR_FORMAT, "json_syntax", "control character in a string");
        if (c != '\\') {
            size_t k = utf8_len((const unsigned char *)ps->p, (size_t)(q - ps->p));
            if (k == 0)
                return fail(ps, FV_ERR_FORMAT, "json_invalid_utf8", "invalid UTF-8 in a string");
            memcpy(o + n, ps->p, k);
            n += k;
            ps->p += k;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        switch (e) {
        case '"':
            o[n++] = '"';
            break;
        case '\\':
            o[n++] = '\\';
            break;
        case '/':
            o[n++] = '/';
            break;
        case 'b':
            o[n++] = '\b';
            break;
        case 'f':
            o[n++] = '\f';
            break;
        case 'n':
            o[n++] = '\n';
            break;
        case 'r':
            o[n++] = '\r';
            break;
        case 't':
            o[n++] = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (q - ps->p < 4 || hex4(ps->p, &cp) != 0)
                return fail(ps, FV_ERR_FORMAT, "json_syntax", "bad \\u escape");
            ps->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                    hex4(ps->p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(ps, FV_ERR_FORMAT, "json_invalid_utf8", "unpaired surrogate");
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return fail(ps, FV_ERR_FORMAT, "json_invalid_utf8", "unpaired surrogate");
            } else if (cp == 0) {
                return fail(ps, FV_ERR_FORMAT, "json_syntax", "\\u0000 is not allowed");
            }
            n += put_utf8(o + n, cp);
            break;
        }
        default:
            ps->p--;
            return fail(ps, FV_ERR_FORMAT, "json_syntax", "bad escape in a string");
        }
    }
    ps->p = q + 1;
    if (n > ps->lim.max_string)
        return fail(ps, FV_ERR_LIMIT, "json_too_large", "string longer than %zu bytes",
                    ps->lim.max_string);
    o[n] = '\0';
    *out = o;
    *out_len = n;
    return FV_OK;
}

static fv_status parse_number(parser *ps, fv_json **out) {
    const char *s = ps->p, *p = s;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end) return fail(ps, FV_ERR_FORMAT, "json_syntax", "bad number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    } else {
        return fail(ps, FV_ERR_FORMAT, "json_syntax", "bad number");
    }
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return fail(ps, FV_ERR_FORMAT, "json_syntax", "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return fail(ps, FV_ERR_FORMAT, "json_syntax", "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    char buf[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf) return fail(ps, FV_ERR_LIMIT, "json_too_large", "number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (!isfinite(d)) return fail(ps, FV_ERR_FORMAT, "json_syntax", "number out of range");
    fv_json *v = new_value(ps, FV_JSON_NUMBER);
    if (v == NULL) return ps->st;
    v->u.num = d;
    ps->p = p;
    *out = v;
    return FV_OK;
}

static fv_status parse_value(parser *ps, fv_json **out);

/* Grows a temporary pointer vector. */
static int grow(void ***v, size_t *cap, size_t n) {
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void **nv = fv_realloc(*v, nc * sizeof **v);
    if (nv == NULL) return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

static fv_status parse_container(parser *ps, fv_json **out, int object) {
    if (++ps->depth > ps->lim.max_depth)
        return fail(ps, FV_ERR_LIMIT, "json_too_deep", "nested deeper than %zu", ps->lim.max_depth);
    fv_json *v = new_value(ps, object ? FV_JSON_OBJECT : FV_JSON_ARRAY);
    if (v == NULL) return ps->st;
    ps->p++; /* [ or { */
    void **items = NULL, **keys = NULL;
    size_t n = 0, cap_i = 0, cap_k = 0;
    char close = object ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            char *key = NULL;
            size_t klen = 0;
            if (object) {
                if (ps->p >= ps->end || *ps->p != '"') {
                    fail(ps, FV_ERR_FORMAT, "json_syntax", "expected a key string");
                    break;
                }
                if (n >= 1024) {
                    fail(ps, FV_ERR_LIMIT, "json_too_large", "object with more than 1024 members");
                    break;
                }
                if (parse_string(ps, &key, &klen) != FV_OK) break;
                for (size_t i = 0; i < n; i++)
                    if (strcmp(keys[i], key) == 0) {
                        fail(ps, FV_ERR_FORMAT, "json_duplicate_key", "duplicate key");
                        break;
                    }
                if (ps->st != FV_OK) break;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') {
                    fail(ps, FV_ERR_FORMAT, "json_syntax", "expected ':' after a key");
                    break;
                }
                ps->p++;
            }
            fv_json *item = NULL;
            if (parse_value(ps, &item) != FV_OK) break;
            if (grow(&items, &cap_i, n) != 0 || (object && grow(&keys, &cap_k, n) != 0)) {
                nomem(ps);
                break;
            }
            items[n] = item;
            if (object) keys[n] = key;
            n++;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                break;
            }
            fail(ps, FV_ERR_FORMAT, "json_syntax",
                 object ? "expected ',' or '}'" : "expected ',' or ']'");
            break;
        }
    }
    if (ps->st == FV_OK && n > 0) {
        v->u.list.items = arena(ps, n * sizeof(fv_json *));
        if (object) v->u.list.keys = arena(ps, n * sizeof(char *));
        if (v->u.list.items == NULL || (object && v->u.list.keys == NULL)) {
            nomem(ps);
        } else {
            memcpy(v->u.list.items, items, n * sizeof(fv_json *));
            if (object) memcpy(v->u.list.keys, keys, n * sizeof(char *));
            v->u.list.n = n;
        }
    }
    fv_free(items);
    fv_free(keys);
    ps->depth--;
    *out = v;
    return ps->st;
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return 1;
    }
    return 0;
}

static fv_status parse_value(parser *ps, fv_json **out) {
    skip_ws(ps);
    if (ps->p >= ps->end) return fail(ps, FV_ERR_FORMAT, "json_syntax", "unexpected end");
    char c = *ps->p;
    if (c == '{' || c == '[') return parse_container(ps, out, c == '{');
    if (c == '"') {
        fv_json *v = new_value(ps, FV_JSON_STRING);
        if (v == NULL) return ps->st;
        *out = v;
        return parse_string(ps, &v->u.str.s, &v->u.str.len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, out);
    fv_json *v = NULL;
    if (literal(ps, "true") || literal(ps, "false")) {
        v = new_value(ps, FV_JSON_BOOL);
        if (v != NULL) v->u.b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
    } else if (literal(ps, "null")) {
        v = new_value(ps, FV_JSON_NULL);
    } else {
        return fail(ps, FV_ERR_FORMAT, "json_syntax", "unexpected character");
    }
    if (v == NULL) return ps->st;
    *out = v;
    return FV_OK;
}

void fv_json_free(fv_json_doc *doc) {
    if (doc == NULL) return;
    for (block *b = doc->blocks, *next; b != NULL; b = next) {
        next = b->next;
        fv_wipe(b->data, b->used);
        fv_free(b);
    }
    fv_free(doc);
}

fv_status fv_json_parse(const char *text, size_t len, const fv_json_limits *lim, fv_json_doc **out,
                        fv_json_error *err) {
    static fv_json_error dummy;
    if (err == NULL) err = &dummy;
    memset(err, 0, sizeof *err);
    err->code = "";
    *out = NULL;
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.lim = (fv_json_limits){1 << 20, 32, 100000, 256 * 1024};
    if (lim != NULL) {
        if (lim->max_bytes) ps.lim.max_bytes = lim->max_bytes;
        if (lim->max_depth) ps.lim.max_depth = lim->max_depth;
        if (lim->max_values) ps.lim.max_values = lim->max_values;
        if (lim->max_string) ps.lim.max_string = lim->max_string;
    }
    ps.err = err;
    ps.start = ps.p = text;
    ps.end = text + len;
    if (text == NULL) len = 0, ps.start = ps.p = ps.end = "";
    if (len > ps.lim.max_bytes)
        return fail(&ps, FV_ERR_LIMIT, "json_too_large", "body larger than %zu bytes",
                    ps.lim.max_bytes);
    ps.doc = fv_calloc(1, sizeof *ps.doc);
    if (ps.doc == NULL) return nomem(&ps);
    fv_json *root = NULL;
    if (parse_value(&ps, &root) == FV_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end) fail(&ps, FV_ERR_FORMAT, "json_syntax", "text after the value");
    }
    if (ps.st != FV_OK) {
        fv_json_free(ps.doc);
        return ps.st;
    }
    ps.doc->root = root;
    *out = ps.doc;
    return FV_OK;
}

const fv_json *fv_json_root(const fv_json_doc *doc) {
    return doc ? doc->root : NULL;
}
fv_json_type fv_json_type_of(const fv_json *v) {
    return v ? v->type : FV_JSON_NULL;
}

const fv_json *fv_json_get(const fv_json *v, const char *key) {
    if (v == NULL || v->type != FV_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < v->u.list.n; i++)
        if (strcmp(v->u.list.keys[i], key) == 0) return v->u.list.items[i];
    return NULL;
}

size_t fv_json_count(const fv_json *v) {
    return v && (v->type == FV_JSON_ARRAY || v->type == FV_JSON_OBJECT) ? v->u.list.n : 0;
}

const fv_json *fv_json_at(const fv_json *v, size_t i) {
    return i < fv_json_count(v) ? v->u.list.items[i] : NULL;
}

const char *fv_json_key_at(const fv_json *v, size_t i) {
    return v && v->type == FV_JSON_OBJECT && i < v->u.list.n ? v->u.list.keys[i] : NULL;
}

const char *fv_json_string(const fv_json *v, size_t *len) {
    if (v == NULL || v->type != FV_JSON_STRING) return NULL;
    if (len != NULL) *len = v->u.str.len;
    return v->u.str.s;
}

bool fv_json_bool(const fv_json *v) {
    return v && v->type == FV_JSON_BOOL && v->u.b;
}
double fv_json_number(const fv_json *v) {
    return v && v->type == FV_JSON_NUMBER ? v->u.num : 0;
}

bool fv_json_int64(const fv_json *v, int64_t *out) {
    if (v == NULL || v->type != FV_JSON_NUMBER) return false;
    double d = v->u.num;
    if (!(fabs(d) < 9007199254740992.0) || d != floor(d)) return false;
    *out = (int64_t)d;
    return true;
}

static const char *type_name(fv_json_type t) {
    static const char *const N[] = {"null",  "boolean", "number", "string",
                                    "array", "object",  "integer"};
    return (unsigned)t < sizeof N / sizeof N[0] ? N[t] : "?";
}

fv_status fv_json_check_object(const fv_json *v, const fv_json_field *fields, size_t n_fields,
                               fv_json_error *err) {
    memset(err, 0, sizeof *err);
    err->code = "";
    if (fv_json_type_of(v) != FV_JSON_OBJECT) {
        err->code = "field_type";
        snprintf(err->message, sizeof err->message, "the body must be a JSON object");
        return FV_ERR_FORMAT;
    }
    for (size_t i = 0; i < v->u.list.n; i++) {
        const char *key = v->u.list.keys[i];
        const fv_json *item = v->u.list.items[i];
        const fv_json_field *f = NULL;
        for (size_t k = 0; k < n_fields && f == NULL; k++)
            if (strcmp(fields[k].name, key) == 0) f = &fields[k];
        if (f == NULL) {
            err->code = "field_unknown";
            /* Unknown keys are echoed only when short and printable ASCII. */
            int printable = strlen(key) <= 40;
            for (const char *c = key; printable && *c; c++)
                printable = *c > 0x20 && *c < 0x7f && *c != '"';
            snprintf(err->message, sizeof err->message, "unknown field%s%s%s",
                     printable ? " '" : "", printable ? key : "", printable ? "'" : "");
            return FV_ERR_FORMAT;
        }
        int64_t iv;
        bool ok = f->type == FV_JSON_NULL || item->type == f->type ||
                  (f->type == FV_JSON_INTEGER && fv_json_int64(item, &iv));
        if (!ok) {
            err->code = "field_type";
            snprintf(err->message, sizeof err->message, "field '%s' must be %s %s", f->name,
                     f->type == FV_JSON_INTEGER || f->type == FV_JSON_ARRAY ||
                             f->type == FV_JSON_OBJECT
                         ? "an"
                         : "a",
                     type_name(f->type));
            return FV_ERR_FORMAT;
        }
    }
    for (size_t k = 0; k < n_fields; k++)
        if (fields[k].required && fv_json_get(v, fields[k].name) == NULL) {
            err->code = "field_missing";
            snprintf(err->message, sizeof err->message, "field '%s' is required", fields[k].name);
            return FV_ERR_FORMAT;
        }
    return FV_OK;
}
