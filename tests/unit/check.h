/*
 * check.h - a tiny test harness: CHECK macros that print both sides on failure, a registry of
 * test functions run in order, and a skip status (77, which CTest reports as skipped).
 *
 *     static void test_add(void) { CHECK_INT_EQ(1 + 1, 2); }
 *     int main(void) { RUN(test_add); return check_summary(); }
 */
#ifndef FAIRVISIT_TEST_CHECK_H
#define FAIRVISIT_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures, check_tests, check_skips;
static const char *check_current;

#define CHECK_FAIL(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "FAIL %s (%s:%d): ", check_current, __FILE__, __LINE__);                   \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        check_failures++;                                                                          \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) CHECK_FAIL("%s", #cond);                                                      \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ != check_b_)                                                                  \
            CHECK_FAIL("%s == %s: %lld != %lld", #a, #b, check_a_, check_b_);                      \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *check_h_ = (hay), *check_n_ = (needle);                                        \
        if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL)                                \
            CHECK_FAIL("'%s' does not contain '%s'", check_h_ ? check_h_ : "(null)", check_n_);    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double check_a_ = (a), check_b_ = (b);                                                     \
        if (!(fabs(check_a_ - check_b_) <= (tol)))                                                 \
            CHECK_FAIL("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, check_a_, check_b_,               \
                       (double)(tol));                                                             \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        check_current = #fn;                                                                       \
        int check_before_ = check_failures;                                                        \
        fn();                                                                                      \
        check_tests++;                                                                             \
        fprintf(stderr, "%s %s\n", check_failures == check_before_ ? "ok  " : "FAIL", #fn);        \
    } while (0)

#define SKIP_TEST(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "SKIP %s: ", check_current);                                               \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        check_skips++;                                                                             \
        return;                                                                                    \
    } while (0)

static inline int check_summary(void) {
    fprintf(stderr, "%d tests, %d failures, %d skipped\n", check_tests, check_failures,
            check_skips);
    if (check_failures) return 1;
    if (check_skips && check_skips == check_tests) return 77;
    return 0;
}

#endif
