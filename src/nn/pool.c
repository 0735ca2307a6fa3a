/*
 * pool.c - a small fixed pool of worker threads for splitting one kernel across cores.
 *
 * fv__pool_run hands out task indices through an atomic counter; the calling thread works too
 * (as tid 0) and returns when every task is done. One run at a time per pool (a model is used by
 * one thread at a time). Workers sleep on a condition variable between runs.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "nn-impl.h"

struct fv__pool {
    int threads; /* including the caller */
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    bool stop;
    int busy; /* workers still in the current run */
    void (*fn)(void *ctx, int i, int tid);
    void *ctx;
    int count;
    atomic_int next;
};

typedef struct worker_arg {
    fv__pool *p;
    int tid;
} worker_arg;

static void drain(fv__pool *p, int tid) {
    for (;;) {
        int i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count) break;
        p->fn(p->ctx, i, tid);
    }
}

static void *worker(void *arg) {
    fv__pool *p = ((worker_arg *)arg)->p;
    int tid = ((worker_arg *)arg)->tid;
    fv_free(arg);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, tid);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

fv_status fv__pool_open(int threads, fv__pool **out) {
    *out = NULL;
    if (threads <= 1) return FV_OK;
    if (threads > 256) threads = 256;
    fv__pool *p = fv_calloc(1, sizeof(*p));
    if (p == NULL) return FV_ERR_NOMEM;
    p->tids = fv_calloc((size_t)threads, sizeof(pthread_t));
    if (p->tids == NULL) {
        fv_free(p);
        return FV_ERR_NOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = 1;
    for (int i = 1; i < threads; i++) {
        worker_arg *a = fv_malloc(sizeof(*a));
        if (a == NULL) break;
        a->p = p;
        a->tid = i;
        if (pthread_create(&p->tids[i], NULL, worker, a) != 0) {
            fv_free(a);
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
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tids[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    fv_free(p->tids);
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
    p->busy = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
