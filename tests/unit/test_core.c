/*
 * test_core.c - the foundation: status names and messages (from the X-macro table), checked
 * size arithmetic, 64-byte aligned allocation, and replacing the allocator.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "fairvisit/alloc.h"
#include "fairvisit/status.h"

static void test_status_names(void) {
    CHECK(strcmp(fv_status_name(FV_OK), "FV_OK") == 0);
    CHECK(strcmp(fv_status_name(FV_ERR_NOMEM), "FV_ERR_NOMEM") == 0);
    CHECK(strcmp(fv_status_name(FV_ERR_FORMAT), "FV_ERR_FORMAT") == 0);
    CHECK(strcmp(fv_status_name(FV_ERR_INTERNAL), "FV_ERR_INTERNAL") == 0);
    CHECK(strcmp(fv_status_message(FV_OK), "success") == 0);
    CHECK(strcmp(fv_status_message(FV_ERR_SHAPE), "tensor shape mismatch") == 0);
    CHECK(strcmp(fv_status_message(FV_ERR_LIMIT), "size limit exceeded") == 0);
    CHECK(strcmp(fv_status_name((fv_status)FV_STATUS_COUNT), "FV_UNKNOWN") == 0);
    CHECK(strcmp(fv_status_name((fv_status)-1), "FV_UNKNOWN") == 0);
    CHECK(strcmp(fv_status_message((fv_status)1000), "unknown status") == 0);
}

/* Every code of the table has a distinct "FV_"-prefixed name and a non-empty message. */
static void test_status_table(void) {
    int values[] = {
#define X(name, value, msg) value,
        FV_STATUS_MAP(X)
#undef X
    };
    const char *names[] = {
#define X(name, value, msg) "FV_" #name,
        FV_STATUS_MAP(X)
#undef X
    };
    int count = (int)(sizeof values / sizeof values[0]);
    CHECK_INT_EQ(count, FV_STATUS_COUNT);
    for (int i = 0; i < count; i++) {
        fv_status st = (fv_status)values[i];
        CHECK_INT_EQ(values[i], i); /* dense, so FV_STATUS_COUNT is one past the last */
        CHECK(strcmp(fv_status_name(st), names[i]) == 0);
        CHECK(strlen(fv_status_message(st)) > 0);
        CHECK(strcmp(fv_status_message(st), "unknown status") != 0);
        for (int j = 0; j < i; j++) {
            CHECK(strcmp(fv_status_name(st), fv_status_name((fv_status)values[j])) != 0);
            CHECK(strcmp(fv_status_message(st), fv_status_message((fv_status)values[j])) != 0);
        }
    }
}

static void test_size_arith(void) {
    size_t out = 7;
    CHECK(fv_size_mul(3, 5, &out) && out == 15);
    CHECK(fv_size_mul(0, SIZE_MAX, &out) && out == 0);
    CHECK(fv_size_mul(SIZE_MAX, 0, &out) && out == 0);
    CHECK(fv_size_mul(SIZE_MAX, 1, &out) && out == SIZE_MAX);
    out = 7;
    CHECK(!fv_size_mul(SIZE_MAX, 2, &out) && out == 7);
    CHECK(
        !fv_size_mul((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4), &out) &&
        out == 7);
    CHECK(fv_size_mul(SIZE_MAX / 3, 3, &out) && out == SIZE_MAX / 3 * 3);
    CHECK(!fv_size_mul(SIZE_MAX / 3 + 1, 3, &out));
    CHECK(fv_size_add(1, 2, &out) && out == 3);
    CHECK(fv_size_add(SIZE_MAX - 1, 1, &out) && out == SIZE_MAX);
    out = 7;
    CHECK(!fv_size_add(SIZE_MAX, 1, &out) && out == 7);
    CHECK(!fv_size_add(1, SIZE_MAX, &out) && out == 7);
    CHECK(!fv_size_add(SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 1, &out));
}

static void test_aligned_alloc(void) {
    void *p[40];
    for (int i = 0; i < 40; i++) {
        size_t size = (size_t)i * 13 + (i % 3 == 0 ? 0 : 1);
        p[i] = fv_aligned_alloc(size);
        CHECK(p[i] != NULL);
        CHECK(((uintptr_t)p[i] & 63) == 0);
        if (p[i]) memset(p[i], 0xab, size); /* the whole block is writable (ASan checks) */
    }
    for (int i = 0; i < 40; i++) fv_aligned_free(p[i]);
    fv_aligned_free(NULL);
    CHECK(fv_aligned_alloc(SIZE_MAX) == NULL);
    CHECK(fv_aligned_alloc(SIZE_MAX - 8) == NULL);
}

static void test_basic_alloc(void) {
    void *z = fv_malloc(0);
    CHECK(z != NULL);
    fv_free(z);
    fv_free(NULL);
    unsigned char *c = fv_calloc(16, 4);
    CHECK(c != NULL);
    int zero = 1;
    for (int i = 0; c && i < 64; i++) zero = zero && c[i] == 0;
    CHECK(zero);
    c = fv_realloc(c, 1000);
    CHECK(c != NULL);
    fv_free(c);
    CHECK(fv_calloc(SIZE_MAX / 2, 4) == NULL); /* overflow, not a short block */
    char *s = fv_strdup("fairvisit");
    CHECK(s != NULL && strcmp(s, "fairvisit") == 0);
    fv_free(s);
}

/* A counting allocator that can be told to fail. */
static int g_mallocs, g_reallocs, g_frees, g_fail;

static void *count_malloc(size_t n) {
    g_mallocs++;
    return g_fail ? NULL : malloc(n);
}
static void *count_realloc(void *p, size_t n) {
    g_reallocs++;
    return g_fail ? NULL : realloc(p, n);
}
static void count_free(void *p) {
    g_frees++;
    free(p);
}

static void test_allocator_replacement(void) {
    fv_allocator a = {count_malloc, count_realloc, count_free};
    fv_set_allocator(&a);
    void *p = fv_malloc(10);
    p = fv_realloc(p, 20);
    void *q = fv_aligned_alloc(100);
    char *s = fv_strdup("x");
    fv_free(s);
    fv_aligned_free(q);
    fv_free(p);
    CHECK_INT_EQ(g_mallocs, 3);
    CHECK_INT_EQ(g_reallocs, 1);
    CHECK_INT_EQ(g_frees, 3);
    g_fail = 1;
    CHECK(fv_malloc(8) == NULL);
    CHECK(fv_calloc(2, 8) == NULL);
    CHECK(fv_aligned_alloc(8) == NULL);
    CHECK(fv_strdup("abc") == NULL);
    CHECK(fv_realloc(NULL, 8) == NULL);
    g_fail = 0;
    fv_set_allocator(NULL);
    int before = g_mallocs;
    p = fv_malloc(8);
    fv_free(p);
    CHECK_INT_EQ(g_mallocs, before); /* the C library's allocator is back */
}

int main(void) {
    RUN(test_status_names);
    RUN(test_status_table);
    RUN(test_size_arith);
    RUN(test_aligned_alloc);
    RUN(test_basic_alloc);
    RUN(test_allocator_replacement);
    return check_summary();
}
