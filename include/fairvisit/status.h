/*
 * fairvisit/status.h - the one status code every fallible fairvisit function returns.
 *
 * The codes, their names and their generic messages come from one X-macro table, so the three can
 * never drift apart. A status says what kind of thing went wrong; the detail (which node, which
 * byte offset) hangs off the handle that failed, e.g. fv_nn_errmsg(). Messages never contain
 * personal data.
 *
 *     fv_status st = fv_nn_open(path, NULL, &model);
 *     if (st != FV_OK) fprintf(stderr, "%s: %s\n", fv_status_name(st), fv_nn_errmsg(model));
 *
 * Thread safety: all functions here are pure and thread-safe.
 */
#ifndef FAIRVISIT_STATUS_H
#define FAIRVISIT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, generic message) */
#define FV_STATUS_MAP(X)                                                                           \
    X(OK, 0, "success")                                                                            \
    X(ERR_NOMEM, 1, "out of memory")                                                               \
    X(ERR_IO, 2, "input/output error")                                                             \
    X(ERR_FORMAT, 3, "malformed input")                                                            \
    X(ERR_UNSUPPORTED, 4, "unsupported feature")                                                   \
    X(ERR_SHAPE, 5, "tensor shape mismatch")                                                       \
    X(ERR_ARG, 6, "invalid argument")                                                              \
    X(ERR_LIMIT, 7, "size limit exceeded")                                                         \
    X(ERR_STATE, 8, "operation not valid in the current state")                                    \
    X(ERR_NOT_FOUND, 9, "not found")                                                               \
    X(ERR_INTERNAL, 10, "internal error")

typedef enum fv_status {
#define FV__STATUS_ENUM(name, value, msg) FV_##name = value,
    FV_STATUS_MAP(FV__STATUS_ENUM)
#undef FV__STATUS_ENUM
        FV_STATUS_COUNT
} fv_status;

/* "FV_ERR_FORMAT"; "FV_UNKNOWN" for values outside the table. Static storage. */
const char *fv_status_name(fv_status st);
/* "malformed input"; a generic message for the code. Static storage. */
const char *fv_status_message(fv_status st);

#if defined(__GNUC__)
#define FV_NODISCARD __attribute__((warn_unused_result))
#else
#define FV_NODISCARD
#endif

#ifdef __cplusplus
}
#endif
#endif
