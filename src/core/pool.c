/*
 * pool.c - a fixed pool of worker threads for splitting one kernel or one search across cores
 * (used by the inference engine and the 1:N index).
 *
 * A run publishes (fn, ctx, count), bumps a generation counter and wakes the workers; everyone,
 * the caller included as tid 0, takes task indices from an atomic counter until none are left.
 * The caller returns once every worker has reported back, so ctx may live on its stack.
 * A search or a layer takes tens of microseconds, about what a condition-variable wake-up costs, so
 * idle workers first spin on the generation for SPIN_NS (as OpenMP runtimes do) and only then
 * sleep; the caller spins for the workers' reports. Invariants: one run at a time per pool (a model
 * or an index is used by one thread at a time); workers touch (fn, ctx, count) only between a
 * generation bump and their report; the generation is written under the mutex and read either under
 * it or with acquire ordering.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "pool.h"

#include <stdbool.h>

#include "fairvisit/alloc.h"

#define POOL_MAX_THREADS 256
#define SPIN_NS          200000L /* an idle worker polls this long before it sleeps */

struct fv__pool {
    int threads; /* workers started + the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_ulong generation;
    bool stopping;
    atomic_int running; /* workers not yet done with the current generation */
    void (*fn)(void *ctx, int i, int tid);
    void *ctx;
    int count;
    atomic_int next;
};

typedef struct start_arg {
    fv__pool *pool;
    int tid;
} start_arg;

static void take_tasks(fv__pool *p, int tid) {
    int i;
    while ((i = atomic_fetch_add(&p->next, 1)) < p->count) p->fn(p->ctx, i, tid);
}

static long elapsed_ns(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Polls for a generation other than `seen` for up to SPIN_NS; true if one came. */
static bool spin_for_work(fv__pool *p, unsigned long seen) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&p->generation, memory_order_acquire) != seen) return true;
        cpu_relax();
        if (i % 256 == 0 && elapsed_ns(&t0) > SPIN_NS) return false;
    }
}

static void *worker_main(void *arg) {
    start_arg sa = *(start_arg *)arg;
    fv_free(arg);
    fv__pool *p = sa.pool;
    unsigned long seen = 0;
    while (true) {
        if (!spin_for_work(p, seen)) {
            pthread_mutex_lock(&p->mu);
            while (!p->stopping && atomic_load(&p->generation) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        pthread_mutex_lock(&p->mu);
        bool stop = p->stopping;
        pthread_mutex_unlock(&p->mu);
        if (stop) break;
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        take_tasks(p, sa.tid);
        atomic_fetch_sub_explicit(&p->running, 1, memory_order_release);
    }
    return NULL;
}

fv_status fv__pool_open(int threads, fv__pool **out) {
    *out = NULL;
    if (threads <= 1) return FV_OK;
    if (threads > POOL_MAX_THREADS) threads = POOL_MAX_THREADS;
    fv__pool *p = fv_calloc(1, sizeof(*p));
    if (p == NULL) return FV_ERR_NOMEM;
    p->workers = fv_calloc((size_t)threads, sizeof(pthread_t));
    if (p->workers == NULL) {
        fv_free(p);
        return FV_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->running, 0);
    p->threads = 1;
    for (int t = 1; t < threads; t++) {
        start_arg *sa = fv_malloc(sizeof(*sa));
        if (sa == NULL) break; /* fewer workers; searches still complete */
        sa->pool = p;
        sa->tid = t;
        if (pthread_create(&p->workers[t], NULL, worker_main, sa) != 0) {
            fv_free(sa);
            break;
        }
        p->threads++;
    }
    *out = p;
    return FV_OK;
}

void fv__pool_close(fv__pool *p) {
    if (p == NULL) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    atomic_fetch_add(&p->generation, 1); /* wakes spinners too */
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->threads; t++) pthread_join(p->workers[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    fv_free(p->workers);
    fv_free(p);
}

int fv__pool_threads(const fv__pool *p) {
    return p == NULL ? 1 : p->threads;
}

void fv__pool_run(fv__pool *p, int count, void (*fn)(void *ctx, int i, int tid), void *ctx) {
    if (p == NULL || p->threads == 1 || count <= 1) {
        for (int i = 0; i < count; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->count = count;
    atomic_store(&p->next, 0);
    atomic_store(&p->running, p->threads - 1);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    take_tasks(p, 0);
    /* The workers are finishing their last task: wait for them without sleeping, yielding now
     * and then in case one of them is not on a CPU. */
    for (unsigned i = 1; atomic_load_explicit(&p->running, memory_order_acquire) > 0; i++) {
        cpu_relax();
        if (i % 1024 == 0) sched_yield();
    }
}
