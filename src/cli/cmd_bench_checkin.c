/*
 * cmd_bench_checkin.c - `fairvisit bench checkin [--persons N] [--checkins M] [--face]
 * [--site DIR] [--threads T] [--seed S]`: check-in throughput and latency of the ledger.
 *
 * Setup: a site with project "bench" whose store holds N persons (default 50000), made through
 * the public API: person i checks in as RECEPTION with phone 137xxxxxxxx (i in the digits); with
 * --face each also under a consent of its own with a random 512-d unit vector (seeded by i), so
 * every person has a stored template. Without --site the site is a throw-away folder
 * /tmp/fv-bench-checkin-XXXXXX, deleted afterwards; with --site DIR it is DIR (created when it
 * holds no site) and kept, with DIR/bench-checkin.meta counting the persons made so far, so a
 * later run reuses them and only tops up what is missing (setup of 50k persons with templates
 * takes minutes: every check-in is fsync'd). The setup time is printed.
 * Timed: M check-ins (default 2000; after an untimed warm-up of min(50, M/10)) per path, each call
 * of fv_ledger_checkin timed alone:
 *   phone: RECEPTION with a phone, half of them returns of a random setup person, half first
 *          visits of new phones (138xxxxxxxx);
 *   face (with --face, after the phone path): RECEPTION with a consent recorded just before (not
 *          in the timing; its time is printed apart) and an embedding: half of them returns (a
 *          setup person's vector with noise of norm 0.6, renormalised: cosine about 0.86), half
 *          new faces (a fresh random vector, no phone).
 * Prints per path check-ins/s (M / summed call time), p50 and p99 latency (nearest rank), also
 * split into first visits and returns; and, before and after the timing, a bare sync on the
 * site's filesystem for comparison (200 times: 4 KiB overwritten in a 1 MiB file + fdatasync, as
 * SQLite syncs its WAL; 4 KiB appended + fsync), since every commit is synced (WAL,
 * synchronous=FULL; the vault's inserts too). The last line per path is JSON
 * {"persons", "checkins", "path", "per_second", "p50_ms", "p99_ms"}; persons = persons in the
 * project's store when that path's timing began (for face: persons with a live template).
 * Random vectors and fake phones only, never biometric data.
 */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fairvisit/ledger.h"
#include "fairvisit/vault.h"

#define WHO     "fairvisit bench checkin"
#define PROJECT "bench"
#define META    "bench-checkin.meta"

typedef struct bench {
    char dir[4096];
    fv_ledger *l;
    int64_t project;
    fv_ledger_consent_request crq;
    unsigned long long phone_persons; /* setup persons 0..phone_persons-1 have a phone */
    unsigned long long face_persons;  /* setup persons 0..face_persons-1 have a template */
    unsigned long long other_persons; /* first visits of earlier timed runs */
    uint64_t rng;
} bench;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t gen_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void gen_unit(uint64_t *s, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        double g = -2.0;
        for (int j = 0; j < 4; j++) g += (double)(gen_next(s) >> 11) / 9007199254740992.0;
        v[i] = (float)g;
        n2 += g * g;
    }
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)((double)v[i] * inv);
}

/* Setup person i's vector (the same in every run, so a kept site's templates stay findable). */
static void person_vector(unsigned long long i, float *v) {
    uint64_t s = 0xface000000000000ull + i;
    gen_unit(&s, v);
}

/* v + noise of norm `amount`, renormalised. */
static void perturb(uint64_t *s, float *v, double amount) {
    float n[FV_VAULT_DIM];
    gen_unit(s, n);
    double n2 = 0.0;
    for (int i = 0; i < FV_VAULT_DIM; i++) {
        v[i] = (float)(v[i] + amount * n[i]);
        n2 += (double)v[i] * v[i];
    }
    double inv = 1.0 / sqrt(n2);
    for (int i = 0; i < FV_VAULT_DIM; i++) v[i] = (float)((double)v[i] * inv);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int parse_count(const char *s, const char *what, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || x < lo || x > hi) {
        fprintf(stderr, WHO ": %s must be an integer in [%llu, %llu], got '%s'\n", what, lo, hi, s);
        return 1;
    }
    *out = x;
    return 0;
}

static int fail(bench *b, const char *what) {
    fprintf(stderr, WHO ": %s: %s\n", what, fv_ledger_errmsg(b->l));
    return 1;
}

/* ---- the site's bookkeeping ------------------------------------------------------------------ */

static void meta_read(bench *b) {
    char p[4200];
    snprintf(p, sizeof p, "%s/" META, b->dir);
    FILE *f = fopen(p, "r");
    if (f == NULL) return;
    if (fscanf(f, "fv-bench-checkin 1 phone_persons %llu face_persons %llu other_persons %llu",
               &b->phone_persons, &b->face_persons, &b->other_persons) != 3)
        b->phone_persons = b->face_persons = b->other_persons = 0;
    fclose(f);
}

/* Written to a temporary file and renamed: an interrupted setup resumes from the last count. */
static int meta_write(const bench *b) {
    char p[4200], t[4210];
    snprintf(p, sizeof p, "%s/" META, b->dir);
    snprintf(t, sizeof t, "%s.tmp", p);
    FILE *f = fopen(t, "w");
    if (f == NULL) return 1;
    fprintf(f, "fv-bench-checkin 1 phone_persons %llu face_persons %llu other_persons %llu\n",
            b->phone_persons, b->face_persons, b->other_persons);
    int bad = fclose(f) != 0;
    if (bad || rename(t, p) != 0) {
        fprintf(stderr, WHO ": cannot write %s\n", p);
        return 1;
    }
    return 0;
}

/* The project (created with a notice on first use) and the consent request for its notice. */
static int project_ready(bench *b) {
    fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 1};
    fv_status st = fv_ledger_project_find(b->l, PROJECT, &b->project);
    if (st == FV_ERR_NOT_FOUND) {
        fv_ledger_project_settings ps;
        fv_ledger_project_defaults(&ps);
        snprintf(ps.code, sizeof ps.code, PROJECT);
        snprintf(ps.name, sizeof ps.name, "Bench Garden");
        snprintf(ps.controller, sizeof ps.controller, "Bench Property Co.");
        snprintf(ps.controller_contact, sizeof ps.controller_contact, "privacy@example.invalid");
        int version = 0;
        if (fv_ledger_project_create(b->l, &admin, &ps, &b->project) != FV_OK)
            return fail(b, "project");
        if (fv_ledger_notice_publish(b->l, &admin, b->project, "基准测试告知", "bench notice",
                                     &version) != FV_OK)
            return fail(b, "notice");
    } else if (st != FV_OK) {
        return fail(b, "project");
    }
    fv_strbuf nb = {0};
    if (fv_ledger_notice_current(b->l, b->project, &nb) != FV_OK) return fail(b, "notice");
    const char *v = strstr(nb.s, "\"version\": ");
    const char *h = strstr(nb.s, "\"hash\": \"");
    memset(&b->crq, 0, sizeof b->crq);
    b->crq.project = b->project;
    if (v != NULL) b->crq.notice_version = atoi(v + 11);
    if (h != NULL) snprintf(b->crq.notice_hash, sizeof b->crq.notice_hash, "%.64s", h + 9);
    fv_sb_free(&nb);
    if (v == NULL || h == NULL) {
        fprintf(stderr, WHO ": the project's notice has no version or hash\n");
        return 1;
    }
    snprintf(b->crq.device, sizeof b->crq.device, "bench-kiosk");
    snprintf(b->crq.method, sizeof b->crq.method, "kiosk_touch");
    return 0;
}

/* One check-in as reception: phone (or NULL) and vector (or NULL, else under a new consent).
 * *call_s receives the time of the fv_ledger_checkin call, *consent_s the consent's. */
static int checkin(bench *b, const char *phone, const float *x, fv_ledger_checkin_result *res,
                   double *call_s, double *consent_s) {
    fv_ledger_actor reception = {FV_LEDGER_ROLE_RECEPTION, 1};
    fv_ledger_actor kiosk = {FV_LEDGER_ROLE_KIOSK, 1};
    fv_ledger_checkin_request rq;
    memset(&rq, 0, sizeof rq);
    rq.project = b->project;
    if (phone != NULL) snprintf(rq.phone, sizeof rq.phone, "%s", phone);
    snprintf(rq.device, sizeof rq.device, "bench-desk");
    if (x != NULL) {
        double t0 = now_s();
        if (fv_ledger_consent_record(b->l, &kiosk, &b->crq, rq.consent_id) != FV_OK)
            return fail(b, "consent");
        if (consent_s != NULL) *consent_s = now_s() - t0;
        rq.embedding = x;
    }
    double t0 = now_s();
    fv_status st = fv_ledger_checkin(b->l, &reception, &rq, res);
    if (call_s != NULL) *call_s = now_s() - t0;
    return st == FV_OK ? 0 : fail(b, "check-in");
}

static void setup_phone(unsigned long long i, char out[32]) {
    snprintf(out, 32, "137%08llu", i % 100000000ull);
}

/* Tops the store up to n persons (with templates when face). */
static int setup(bench *b, unsigned long long n, int face) {
    unsigned long long from_p = b->phone_persons, from_f = b->face_persons;
    unsigned long long missing =
        face ? (n > from_f ? n - from_f : 0) : (n > from_p ? n - from_p : 0);
    if (missing == 0) {
        printf("setup: reused the site's %llu persons (%llu with a template, %llu from earlier"
               " timed runs)\n",
               b->phone_persons, b->face_persons, b->other_persons);
        return 0;
    }
    fprintf(stderr, WHO ": setting up %llu persons%s (each check-in fsync'd; minutes at 50k)\n",
            missing, face ? " with templates" : "");
    double t0 = now_s();
    unsigned long long done = 0;
    for (unsigned long long i = face ? from_f : from_p; i < n; i++) {
        char phone[32];
        setup_phone(i, phone);
        float x[FV_VAULT_DIM];
        if (face) person_vector(i, x);
        fv_ledger_checkin_result res;
        if (checkin(b, phone, face ? x : NULL, &res, NULL, NULL) != 0) return 1;
        if (face && !res.template_stored) {
            fprintf(stderr, WHO ": setup person %llu: no template stored\n", i);
            return 1;
        }
        if (i + 1 > b->phone_persons) b->phone_persons = i + 1;
        if (face) b->face_persons = i + 1;
        done++;
        if (done % 1000 == 0 || i + 1 == n) {
            if (meta_write(b) != 0) return 1;
            if (done % 5000 == 0) {
                double el = now_s() - t0;
                fprintf(stderr, "  %llu of %llu in %.0f s (%.0f/s)\n", done, missing, el,
                        (double)done / el);
            }
        }
    }
    double el = now_s() - t0;
    printf("setup: %llu persons%s made in %.1f s (%.1f per second, %.2f ms each); the store"
           " holds %llu setup persons (%llu with a template)\n",
           done, face ? " with templates" : "", el, (double)done / el, el * 1e3 / (double)done,
           b->phone_persons, b->face_persons);
    return 0;
}

/* ---- timing ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static double pct(const double *sorted, size_t n, double p) {
    size_t r = (size_t)ceil(p * (double)n);
    return sorted[r == 0 ? 0 : r - 1];
}

typedef struct stats {
    double per_second, p50_ms, p99_ms, mean_ms, max_ms;
} stats;

static stats summarise(double *t, size_t n) {
    stats s = {0};
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += t[i];
    qsort(t, n, sizeof *t, cmp_double);
    s.per_second = (double)n / sum;
    s.p50_ms = pct(t, n, 0.50) * 1e3;
    s.p99_ms = pct(t, n, 0.99) * 1e3;
    s.mean_ms = sum * 1e3 / (double)n;
    s.max_ms = t[n - 1] * 1e3;
    return s;
}

/* Call times of one path: all of them, and split by the kind of visit. */
typedef struct timing {
    double *all, *first, *ret;
    size_t n, n_first, n_ret;
} timing;

static void record(timing *t, double s, fv_ledger_visit_kind kind) {
    t->all[t->n++] = s;
    if (kind == FV_LEDGER_VISIT_FIRST) t->first[t->n_first++] = s;
    if (kind == FV_LEDGER_VISIT_RETURN) t->ret[t->n_ret++] = s;
}

static void report(const char *path, timing *t, const stats *s) {
    printf("%s: %zu check-ins, %.1f per second, p50 %.2f ms, p99 %.2f ms (mean %.2f, max %.2f)",
           path, t->n, s->per_second, s->p50_ms, s->p99_ms, s->mean_ms, s->max_ms);
    if (t->n_first > 0) {
        stats f = summarise(t->first, t->n_first);
        printf("; first visits (%zu): p50 %.2f ms, p99 %.2f ms", t->n_first, f.p50_ms, f.p99_ms);
    }
    if (t->n_ret > 0) {
        stats r = summarise(t->ret, t->n_ret);
        printf("; returns (%zu): p50 %.2f ms, p99 %.2f ms", t->n_ret, r.p50_ms, r.p99_ms);
    }
    printf("\n");
}

static void json(const char *path, unsigned long long persons, size_t m, const stats *s) {
    printf("{\"persons\": %llu, \"checkins\": %zu, \"path\": \"%s\", \"per_second\": %.1f,"
           " \"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
           persons, m, path, s->per_second, s->p50_ms, s->p99_ms);
}

/* Phone path: half returns of setup persons, half new phones. */
static int time_phone(bench *b, size_t m, size_t warm, timing *t) {
    unsigned long long base = gen_next(&b->rng) % (100000000ull - m - warm - 1);
    size_t wrong = 0;
    for (size_t k = 0; k < warm + m; k++) {
        char phone[32];
        int ret = b->phone_persons > 0 && (gen_next(&b->rng) & 1);
        if (ret)
            setup_phone(gen_next(&b->rng) % b->phone_persons, phone);
        else
            snprintf(phone, sizeof phone, "138%08llu", base + k);
        fv_ledger_checkin_result res;
        double s = 0;
        if (checkin(b, phone, NULL, &res, &s, NULL) != 0) return 1;
        if (res.kind == FV_LEDGER_VISIT_FIRST) b->other_persons++;
        if (k < warm) continue;
        record(t, s, res.kind);
        wrong += ret != (res.kind == FV_LEDGER_VISIT_RETURN);
    }
    if (wrong)
        printf("phone: %zu new phones were returns (used by an earlier run on this site)\n", wrong);
    return 0;
}

/* Face path: half returns by face (noisy setup vectors), half new faces without a phone. */
static int time_face(bench *b, size_t m, size_t warm, timing *t) {
    size_t by_face = 0, intended = 0;
    double consent_sum = 0;
    for (size_t k = 0; k < warm + m; k++) {
        float x[FV_VAULT_DIM];
        int ret = b->face_persons > 0 && (gen_next(&b->rng) & 1);
        if (ret) {
            person_vector(gen_next(&b->rng) % b->face_persons, x);
            perturb(&b->rng, x, 0.6);
        } else {
            gen_unit(&b->rng, x);
        }
        fv_ledger_checkin_result res;
        double s = 0, c = 0;
        if (checkin(b, NULL, x, &res, &s, &c) != 0) return 1;
        if (res.kind == FV_LEDGER_VISIT_FIRST) b->other_persons++;
        if (k < warm) continue;
        record(t, s, res.kind);
        consent_sum += c;
        intended += ret;
        by_face += ret && res.kind == FV_LEDGER_VISIT_RETURN && strcmp(res.matched_by, "face") == 0;
    }
    printf("face: %zu of %zu returning faces matched; consent recorded before each check-in:"
           " mean %.2f ms (not in the check-in times)\n",
           by_face, intended, consent_sum * 1e3 / (double)m);
    return 0;
}

/* One probe of the filesystem under dir: 200 times write 4 KiB and sync. overwrite: at rotating
 * offsets of a 1 MiB file, then fdatasync (as SQLite syncs its WAL, which is reused after a
 * checkpoint); else appended, then fsync. p50/p99 in ms; 1 if it could not run. */
static int sync_probe(const char *dir, int overwrite, double *p50, double *p99) {
    char p[4200];
    snprintf(p, sizeof p, "%s/fsync-probe", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 1;
    enum { N = 200, BLOCK = 4096, SPAN = 256 };
    static char buf[BLOCK];
    memset(buf, 0x5a, sizeof buf);
    int ok = 1;
    if (overwrite) {
        for (int i = 0; i < SPAN && ok; i++) ok = write(fd, buf, BLOCK) == BLOCK;
        ok = ok && fsync(fd) == 0;
    }
    double t[N];
    size_t n = 0;
    for (int i = 0; i < N && ok; i++) {
        off_t at = overwrite ? (off_t)(i % SPAN) * BLOCK : (off_t)i * BLOCK;
        if (pwrite(fd, buf, BLOCK, at) != BLOCK) break;
        double t0 = now_s();
        if ((overwrite ? fdatasync(fd) : fsync(fd)) != 0) break;
        t[n++] = now_s() - t0;
    }
    close(fd);
    unlink(p);
    if (n == 0) return 1;
    qsort(t, n, sizeof *t, cmp_double);
    *p50 = pct(t, n, 0.5) * 1e3;
    *p99 = pct(t, n, 0.99) * 1e3;
    return 0;
}

static void fsync_probe(const char *dir, const char *when) {
    double a50 = 0, a99 = 0, b50 = 0, b99 = 0;
    if (sync_probe(dir, 1, &a50, &a99) != 0 || sync_probe(dir, 0, &b50, &b99) != 0) {
        printf("bare fsync %s: could not be measured in %s\n", when, dir);
        return;
    }
    printf("bare sync on the site's filesystem %s (200 each): overwrite 4 KiB + fdatasync p50"
           " %.2f ms, p99 %.2f ms; append 4 KiB + fsync p50 %.2f ms, p99 %.2f ms\n",
           when, a50, a99, b50, b99);
}

static int run(bench *b, unsigned long long n, size_t m, int face) {
    meta_read(b);
    if (project_ready(b) != 0) return 1;
    if (setup(b, n, face) != 0) return 1;
    size_t warm = m / 10 < 50 ? m / 10 : 50;
    double *mem = malloc(6 * m * sizeof *mem);
    if (mem == NULL) {
        fprintf(stderr, WHO ": out of memory\n");
        return 1;
    }
    timing tp = {mem, mem + m, mem + 2 * m, 0, 0, 0};
    timing tf = {mem + 3 * m, mem + 4 * m, mem + 5 * m, 0, 0, 0};
    unsigned long long p_persons = b->phone_persons + b->other_persons;
    int64_t templates = 0;
    fsync_probe(b->dir, "before");
    int rc = time_phone(b, m, warm, &tp);
    if (rc == 0 && face) {
        if (fv_ledger_face_persons(b->l, &templates) != FV_OK)
            rc = fail(b, "face persons");
        else
            rc = time_face(b, m, warm, &tf);
    }
    if (meta_write(b) != 0) rc = 1;
    if (rc == 0) {
        fsync_probe(b->dir, "after");
        stats ph = summarise(tp.all, tp.n), fc = {0};
        report("phone", &tp, &ph);
        if (face) {
            fc = summarise(tf.all, tf.n);
            report("face", &tf, &fc);
        }
        json("phone", p_persons, m, &ph);
        if (face) json("face", (unsigned long long)templates, m, &fc);
    }
    free(mem);
    return rc;
}

int fv_cli_bench_checkin(int argc, char **argv) {
    unsigned long long n = 50000, m = 2000, seed = 0, threads = 1;
    int face = 0;
    const char *site = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--persons") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], "--persons", 0, 10000000, &n)) return 2;
        } else if (strcmp(a, "--checkins") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], "--checkins", 1, 10000000, &m)) return 2;
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], "--threads", 1, 256, &threads)) return 2;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], "--seed", 0, UINT64_MAX, &seed)) return 2;
        } else if (strcmp(a, "--site") == 0 && i + 1 < argc) {
            site = argv[++i];
        } else if (strcmp(a, "--face") == 0) {
            face = 1;
        } else {
            fprintf(stderr,
                    WHO ": unknown option or missing value '%s'\n"
                        "usage: fairvisit bench checkin [--persons N] [--checkins M] [--face]"
                        " [--site DIR] [--threads T] [--seed S]\n",
                    a);
            return 2;
        }
    }
    static bench b;
    memset(&b, 0, sizeof b);
    b.rng = seed != 0 ? seed : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    int keep = site != NULL;
    if (site != NULL) {
        if (snprintf(b.dir, sizeof b.dir, "%s", site) >= (int)sizeof b.dir) {
            fprintf(stderr, WHO ": --site path too long\n");
            return 2;
        }
        char p[4200];
        snprintf(p, sizeof p, "%s/ledger.db", b.dir);
        struct stat sb;
        if (stat(p, &sb) != 0) {
            fv_status st = fv_ledger_init_site(b.dir);
            if (st != FV_OK) {
                fprintf(stderr, WHO ": cannot create a site in %s: %s\n", b.dir,
                        fv_status_name(st));
                return 1;
            }
        }
    } else {
        snprintf(b.dir, sizeof b.dir, "/tmp/fv-bench-checkin-XXXXXX");
        if (mkdtemp(b.dir) == NULL) {
            fprintf(stderr, WHO ": cannot create a folder under /tmp\n");
            return 1;
        }
        fv_status st = fv_ledger_init_site(b.dir);
        if (st != FV_OK) {
            fprintf(stderr, WHO ": cannot create the site: %s\n", fv_status_name(st));
            nftw(b.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
            return 1;
        }
    }
    fv_ledger_options opt = {.threads = (int)threads};
    int rc = 1;
    if (fv_ledger_open(b.dir, &opt, &b.l) != FV_OK)
        fail(&b, "open");
    else
        rc = run(&b, n, (size_t)m, face);
    fv_ledger_close(b.l);
    if (!keep) nftw(b.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
