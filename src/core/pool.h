/*
 * pool.h - a fixed pool of worker threads shared by the modules (private to the library).
 *
 *     fv__pool *p = NULL;
 *     if (fv__pool_open(threads, &p) != FV_OK) ...     // threads <= 1: p stays NULL
 *     fv__pool_run(p, count, fn, ctx);                  // fn(ctx, i, tid) for i in [0, count)
 *     fv__pool_close(p);
 *
 * The caller of run works too, as tid 0; tid < fv__pool_threads(p). Threading: one run at a
 * time per pool.
 */
#ifndef FAIRVISIT_CORE_POOL_H
#define FAIRVISIT_CORE_POOL_H

#include "fairvisit/status.h"

typedef struct fv__pool fv__pool;

/* threads <= 1: *out = NULL (run then works inline). Fewer workers than asked if threads could
 * not be started; fv__pool_threads says how many there are. */
FV_NODISCARD fv_status fv__pool_open(int threads, fv__pool **out);
void fv__pool_close(fv__pool *p);
int fv__pool_threads(const fv__pool *p);
/* Calls fn(ctx, i, tid) for every i in [0, count) across the pool; returns when all are done. */
void fv__pool_run(fv__pool *p, int count, void (*fn)(void *ctx, int i, int tid), void *ctx);

#endif
