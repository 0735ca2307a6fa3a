/*
 * cmd_bench_nn.c - `fairvisit bench nn MODEL [--runs N] [--threads T] [--warmup W]`.
 *
 * Opens the model, fills its inputs with fixed pseudo-random values in [-1, 1), runs it W times
 * to warm caches, then N timed runs. Prints a human line and, last, one JSON object:
 * {"model", "median_ms", "p90_ms", "peak_rss_mb", "runs", "threads", "kernels"}.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/alloc.h"
#include "fairvisit/nn.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Peak resident memory of this process image: VmHWM from /proc/self/status, which starts afresh
 * at exec (getrusage's ru_maxrss keeps the parent's high-water mark across fork+exec, so a
 * benchmark spawned from Node would report Node's memory). Falls back to ru_maxrss.
 */
static double peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f != NULL) {
        char line[256];
        long kb = -1;
        while (fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
        fclose(f);
        if (kb >= 0) return (double)kb / 1024.0;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_int(const char *s, const char *what, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
        fprintf(stderr, "fairvisit bench nn: %s must be an integer in [%d, %d], got '%s'\n", what,
                lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int fv_cli_bench_nn(int argc, char **argv) {
    const char *path = NULL;
    int runs = 100, threads = 1, warmup = 10;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], "--runs", 1, 1000000, &runs)) return 2;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], "--threads", 1, 256, &threads)) return 2;
        } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], "--warmup", 0, 100000, &warmup)) return 2;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "fairvisit bench nn: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (path == NULL) {
            path = argv[i];
        } else {
            fprintf(stderr, "fairvisit bench nn: more than one model given\n");
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "usage: fairvisit bench nn MODEL.onnx [--runs N] [--threads T]\n");
        return 2;
    }
    fv_nn_options opt = {threads};
    fv_nn_model *m = NULL;
    if (fv_nn_open_file(path, &opt, &m) != FV_OK) {
        fprintf(stderr, "fairvisit bench nn: %s\n", fv_nn_errmsg(m));
        fv_nn_close(m);
        return 1;
    }
    uint32_t seed = 12345;
    for (int i = 0; i < fv_nn_input_count(m); i++) {
        fv_nn_tensor in;
        if (fv_nn_input(m, i, &in) != FV_OK) continue;
        for (size_t k = 0; k < in.numel; k++) {
            seed = seed * 1664525u + 1013904223u;
            in.data[k] = (float)(seed >> 8) / 8388608.0f - 1.0f;
        }
    }
    double *t = fv_malloc((size_t)runs * sizeof(double));
    if (t == NULL) {
        fprintf(stderr, "fairvisit bench nn: out of memory\n");
        fv_nn_close(m);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < warmup + runs && rc == 0; i++) {
        double t0 = now_ms();
        if (fv_nn_run(m) != FV_OK) {
            fprintf(stderr, "fairvisit bench nn: run failed: %s\n", fv_nn_errmsg(m));
            rc = 1;
        }
        if (i >= warmup) t[i - warmup] = now_ms() - t0;
    }
    if (rc == 0) {
        qsort(t, (size_t)runs, sizeof(double), cmp_double);
        double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2.0;
        int i90 = (int)((double)runs * 0.9);
        if (i90 >= runs) i90 = runs - 1;
        double p90 = t[i90];
        double rss_mb = peak_rss_mb();
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        printf("%s: median %.3f ms, p90 %.3f ms over %d runs, %d thread(s), kernels %s\n", base,
               median, p90, runs, threads, fv_nn_kernel_name(m));
        printf("{\"model\": \"%s\", \"median_ms\": %.4f, \"p90_ms\": %.4f, \"peak_rss_mb\": %.1f, "
               "\"runs\": %d, \"threads\": %d, \"kernels\": \"%s\"}\n",
               base, median, p90, rss_mb, runs, threads, fv_nn_kernel_name(m));
    }
    fv_free(t);
    fv_nn_close(m);
    return rc;
}
