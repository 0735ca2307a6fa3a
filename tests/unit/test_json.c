/*
 * test_json.c - the strict JSON reader: valid documents and their values, every refusal with its
 * machine-readable code and byte offset, limits (size, depth, values, string length, members),
 * UTF-8 and escapes, duplicate keys, the field checker (unknown, missing, wrong type, integer),
 * errors that never quote the input, and out-of-memory at every allocation.
 * Threading: single-threaded.
 */
#include <string.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/json.h"
#include "fairvisit/strbuf.h"

static fv_json_doc *parse_ok(const char *s) {
    fv_json_doc *d = NULL;
    fv_json_error e;
    fv_status st = fv_json_parse(s, strlen(s), NULL, &d, &e);
    if (st != FV_OK) CHECK_FAIL("parse '%s': %s (%s)", s, e.message, e.code);
    return d;
}

static void expect_error(const char *s, const fv_json_limits *lim, const char *code,
                         fv_status want) {
    fv_json_doc *d = NULL;
    fv_json_error e;
    fv_status st = fv_json_parse(s, strlen(s), lim, &d, &e);
    if (st != want || d != NULL || strcmp(e.code, code) != 0)
        CHECK_FAIL("'%s': got %s/%s (%s), want %s/%s", s, fv_status_name(st), e.code, e.message,
                   fv_status_name(want), code);
    CHECK_STR_CONTAINS(e.message, "at byte");
    fv_json_free(d);
}

static void test_values(void) {
    fv_json_doc *d =
        parse_ok(" {\"a\": [1, -2.5, 3e2, true, false, null], \"s\": \"x\\n\\u00e9\\ud83d\\ude00\","
                 " \"o\": {}, \"e\": []} ");
    const fv_json *r = fv_json_root(d);
    CHECK_INT_EQ(fv_json_type_of(r), FV_JSON_OBJECT);
    CHECK_INT_EQ(fv_json_count(r), 4);
    const fv_json *a = fv_json_get(r, "a");
    CHECK_INT_EQ(fv_json_count(a), 6);
    int64_t i = 0;
    CHECK(fv_json_int64(fv_json_at(a, 0), &i) && i == 1);
    CHECK(!fv_json_int64(fv_json_at(a, 1), &i));
    CHECK_NEAR(fv_json_number(fv_json_at(a, 1)), -2.5, 0);
    CHECK(fv_json_int64(fv_json_at(a, 2), &i) && i == 300);
    CHECK(fv_json_bool(fv_json_at(a, 3)) && !fv_json_bool(fv_json_at(a, 4)));
    CHECK_INT_EQ(fv_json_type_of(fv_json_at(a, 5)), FV_JSON_NULL);
    size_t len = 0;
    const char *s = fv_json_string(fv_json_get(r, "s"), &len);
    CHECK(s != NULL && strcmp(s, "x\n\xc3\xa9\xf0\x9f\x98\x80") == 0 && len == 8);
    CHECK(fv_json_get(r, "missing") == NULL && fv_json_get(a, "x") == NULL);
    CHECK(fv_json_at(a, 6) == NULL && fv_json_key_at(a, 0) == NULL);
    CHECK(strcmp(fv_json_key_at(r, 3), "e") == 0);
    fv_json_free(d);
    d = parse_ok("\"中文\"");
    CHECK(strcmp(fv_json_string(fv_json_root(d), NULL), "中文") == 0);
    fv_json_free(d);
    d = parse_ok("9007199254740993");
    CHECK(!fv_json_int64(fv_json_root(d), &i)); /* beyond 2^53: not an exact integer */
    fv_json_free(d);
}

static void test_refusals(void) {
    static const struct {
        const char *text, *code;
    } cases[] = {
        {"", "json_syntax"},
        {"   ", "json_syntax"},
        {"{", "json_syntax"},
        {"[1,]", "json_syntax"},
        {"{\"a\":1,}", "json_syntax"},
        {"{\"a\" 1}", "json_syntax"},
        {"{a:1}", "json_syntax"},
        {"[1 2]", "json_syntax"},
        {"01", "json_syntax"},
        {"1.", "json_syntax"},
        {".5", "json_syntax"},
        {"1e", "json_syntax"},
        {"-", "json_syntax"},
        {"NaN", "json_syntax"},
        {"Infinity", "json_syntax"},
        {"tru", "json_syntax"},
        {"nul", "json_syntax"},
        {"{} {}", "json_syntax"},
        {"1e999", "json_syntax"},
        {"\"abc", "json_syntax"},
        {"\"\\x\"", "json_syntax"},
        {"\"\\u12\"", "json_syntax"},
        {"\"\\u0000\"", "json_syntax"},
        {"\"a\tb\"", "json_syntax"},
        {"// c\n1", "json_syntax"},
        {"'a'", "json_syntax"},
        {"\"\\ud800\"", "json_invalid_utf8"},
        {"\"\\udc00\"", "json_invalid_utf8"},
        {"\"\\ud800\\u0041\"", "json_invalid_utf8"},
        {"\"\xff\"", "json_invalid_utf8"},
        {"\"\xc0\xaf\"", "json_invalid_utf8"},
        {"\"\xed\xa0\x80\"", "json_invalid_utf8"},
        {"\"\xf4\x90\x80\x80\"", "json_invalid_utf8"},
        {"\"\xe4\xb8\"", "json_invalid_utf8"},
        {"{\"a\":1,\"a\":2}", "json_duplicate_key"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        expect_error(cases[k].text, NULL, cases[k].code,
                     strcmp(cases[k].code, "json_too_large") == 0 ? FV_ERR_LIMIT : FV_ERR_FORMAT);
    /* The offset points at the problem. */
    fv_json_doc *d = NULL;
    fv_json_error e;
    CHECK_INT_EQ(fv_json_parse("{\"a\": 1 \"b\"}", 12, NULL, &d, &e), FV_ERR_FORMAT);
    CHECK_INT_EQ(e.offset, 8);
    /* Messages never quote the input. */
    CHECK_INT_EQ(fv_json_parse("{\"13800001234\" 1}", 17, NULL, &d, &e), FV_ERR_FORMAT);
    CHECK(strstr(e.message, "13800001234") == NULL);
    /* Not NUL-terminated input is read only up to len. */
    CHECK_INT_EQ(fv_json_parse("[1]garbage", 3, NULL, &d, &e), FV_OK);
    fv_json_free(d);
}

static void test_limits(void) {
    fv_json_limits lim = {64, 3, 10, 8};
    char big[100];
    memset(big, ' ', sizeof big - 1);
    big[0] = '1';
    big[sizeof big - 1] = '\0';
    expect_error(big, &lim, "json_too_large", FV_ERR_LIMIT);
    expect_error("[[[[1]]]]", &lim, "json_too_deep", FV_ERR_LIMIT);
    expect_error("[1,2,3,4,5,6,7,8,9,10]", &lim, "json_too_large", FV_ERR_LIMIT);
    expect_error("\"123456789\"", &lim, "json_too_large", FV_ERR_LIMIT);
    fv_json_doc *d = NULL;
    CHECK_INT_EQ(fv_json_parse("[[[1]]]", 7, &lim, &d, NULL), FV_OK);
    fv_json_free(d);
    CHECK_INT_EQ(fv_json_parse("\"12345678\"", 10, &lim, &d, NULL), FV_OK);
    fv_json_free(d);
    /* Objects are capped at 1024 members (duplicate detection stays cheap). */
    fv_strbuf b = {0};
    fv_sb_printf(&b, "{");
    for (int i = 0; i < 1100; i++) fv_sb_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    fv_sb_printf(&b, "}");
    fv_json_error e;
    CHECK_INT_EQ(fv_json_parse(b.s, b.len, NULL, &d, &e), FV_ERR_LIMIT);
    CHECK(strcmp(e.code, "json_too_large") == 0);
    fv_sb_free(&b);
    /* 100 levels of nesting under the default depth limit of 32. */
    char deep[201];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    CHECK_INT_EQ(fv_json_parse(deep, 200, NULL, &d, &e), FV_ERR_LIMIT);
    CHECK(strcmp(e.code, "json_too_deep") == 0);
}

static void test_fields(void) {
    static const fv_json_field F[] = {{"phone", FV_JSON_STRING, true},
                                      {"agent", FV_JSON_INTEGER, false},
                                      {"note", FV_JSON_NULL, false}};
    static const struct {
        const char *text, *code, *msg;
    } cases[] = {
        {"{\"phone\": \"1\"}", "", ""},
        {"{\"phone\": \"1\", \"agent\": 7, \"note\": [1]}", "", ""},
        {"{\"agent\": 7}", "field_missing", "field 'phone' is required"},
        {"{\"phone\": 1}", "field_type", "field 'phone' must be a string"},
        {"{\"phone\": \"1\", \"agent\": 7.5}", "field_type", "field 'agent' must be an integer"},
        {"{\"phone\": \"1\", \"agent\": \"7\"}", "field_type", "must be an integer"},
        {"{\"phone\": \"1\", \"role\": \"admin\"}", "field_unknown", "unknown field 'role'"},
        {"{\"phone\": \"1\", \"13800001234 name\": 1}", "field_unknown", "unknown field"},
        {"[1]", "field_type", "must be a JSON object"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fv_json_doc *d = parse_ok(cases[k].text);
        fv_json_error e;
        fv_status st = fv_json_check_object(fv_json_root(d), F, 3, &e);
        if (cases[k].code[0] == '\0') {
            CHECK_INT_EQ(st, FV_OK);
        } else {
            CHECK_INT_EQ(st, FV_ERR_FORMAT);
            CHECK(strcmp(e.code, cases[k].code) == 0);
            CHECK_STR_CONTAINS(e.message, cases[k].msg);
            CHECK(strstr(e.message, "13800001234") == NULL);
        }
        fv_json_free(d);
    }
}

static int fail_after = -1, allocs;
static void *t_malloc(size_t n) {
    if (fail_after >= 0 && allocs++ >= fail_after) return NULL;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n) {
    if (fail_after >= 0 && allocs++ >= fail_after) return NULL;
    return realloc(p, n);
}

static void test_out_of_memory(void) {
    static const char text[] = "{\"a\": [1, 2, {\"b\": \"x\"}], \"c\": \"y\"}";
    fv_set_allocator(&(fv_allocator){t_malloc, t_realloc, free});
    int ok = 0;
    for (int n = 0; n < 64 && !ok; n++) {
        fail_after = n;
        allocs = 0;
        fv_json_doc *d = NULL;
        fv_json_error e;
        fv_status st = fv_json_parse(text, sizeof text - 1, NULL, &d, &e);
        if (st == FV_OK) {
            ok = 1;
        } else if (st != FV_ERR_NOMEM || strcmp(e.code, "out_of_memory") != 0 || d != NULL) {
            CHECK_FAIL("allocation %d: %s %s", n, fv_status_name(st), e.code);
        }
        fv_json_free(d);
    }
    fail_after = -1;
    fv_set_allocator(NULL);
    CHECK(ok);
}

int main(void) {
    RUN(test_values);
    RUN(test_refusals);
    RUN(test_limits);
    RUN(test_fields);
    RUN(test_out_of_memory);
    return check_summary();
}
