/*
 * test_nn_models.c - the four face models against ONNX Runtime's committed outputs.
 *
 * For every fixture in tests/fixtures/nn (made by tools/gen-reference from real face images),
 * the model's input is rebuilt from the stored pixels exactly as the reference did, run through
 * our engine with each kernel set this CPU has (and the reference conv path), and every output
 * must agree: max |ours - ORT| <= 1e-4 * max |ORT| for that output.
 * Models come from $FV_MODELS_DIR (default: the source tree's models/, filled by
 * tools/fetch-models); without them the test says so and skips.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fairvisit/nn.h"
#include "fvt.h"
#include "test_paths.h"

void fv__nn_force_reference(fv_nn_model *m);

static int have_models(void) {
    char p[1024];
    snprintf(p, sizeof p, "%s/fr_detect.onnx", models_dir());
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* Runs one fixture; returns the worst relative difference seen. */
static double run_fixture(const char *fixture, const char *cpu_max, int reference, int threads) {
    char path[1024], model[256];
    snprintf(path, sizeof path, "%s/nn/%s", FV_FIXTURES_DIR, fixture);
    const char *dash = strchr(fixture, '-');
    snprintf(model, sizeof model, "%.*s", (int)(dash - fixture), fixture);
    fvt_file fx;
    if (fvt_read(path, &fx) != 0) {
        CHECK_FAIL("cannot read fixture %s", path);
        return 1e9;
    }
    if (cpu_max)
        setenv("FV_CPU_MAX", cpu_max, 1);
    else
        unsetenv("FV_CPU_MAX");
    char mpath[1024];
    snprintf(mpath, sizeof mpath, "%s/%s.onnx", models_dir(), model);
    fv_nn_options opt = {threads};
    fv_nn_model *m = NULL;
    fv_status st = fv_nn_open_file(mpath, &opt, &m);
    double worst = 0.0;
    if (st != FV_OK) {
        CHECK_FAIL("open %s: %s", mpath, fv_nn_errmsg(m));
        worst = 1e9;
        goto out;
    }
    if (reference) fv__nn_force_reference(m);
    const fvt_tensor *px = fvt_get(&fx, "pixels"), *mean = fvt_get(&fx, "mean"),
                     *scale = fvt_get(&fx, "scale");
    CHECK(px && mean && scale);
    if (!px || !mean || !scale) goto out;
    fv_nn_tensor in;
    CHECK_INT_EQ(fv_nn_input(m, 0, &in), FV_OK);
    CHECK_INT_EQ(in.numel, px->numel);
    if (in.numel != px->numel) goto out;
    size_t plane = (size_t)px->dims[2] * (size_t)px->dims[3];
    const unsigned char *pv = px->data;
    const float *mv = mean->data, *sv = scale->data;
    for (size_t i = 0; i < px->numel; i++) {
        size_t c = (i / plane) % (size_t)px->dims[1];
        in.data[i] = ((float)pv[i] - mv[c]) * sv[c];
    }
    st = fv_nn_run(m);
    CHECK_INT_EQ(st, FV_OK);
    for (int o = 0; o < fv_nn_output_count(m); o++) {
        fv_nn_tensor out;
        CHECK_INT_EQ(fv_nn_output(m, o, &out), FV_OK);
        char want[160];
        snprintf(want, sizeof want, "out:%s", out.name);
        const fvt_tensor *ref = fvt_get(&fx, want);
        if (ref == NULL) {
            CHECK_FAIL("%s has no reference for output %s", fixture, out.name);
            continue;
        }
        CHECK_INT_EQ(out.numel, ref->numel);
        if (out.numel != ref->numel) continue;
        const float *r = ref->data;
        double maxref = 0.0, maxdiff = 0.0;
        for (size_t i = 0; i < ref->numel; i++) {
            if (fabs(r[i]) > maxref) maxref = fabs(r[i]);
            double d = fabs((double)out.data[i] - r[i]);
            if (!(d <= maxdiff)) maxdiff = d; /* NaN propagates as a failure */
        }
        double rel = maxdiff / (maxref > 0 ? maxref : 1.0);
        if (!(rel <= 1e-4))
            CHECK_FAIL("%s output %s (%s%s): max diff %.3g, max |ref| %.3g, relative %.3g", fixture,
                       out.name, fv_nn_kernel_name(m), reference ? ", reference" : "", maxdiff,
                       maxref, rel);
        if (!(rel <= worst)) worst = rel;
    }
out:
    fv_nn_close(m);
    fvt_free(&fx);
    unsetenv("FV_CPU_MAX");
    return worst;
}

static void for_each_fixture(const char *cpu_max, int reference, int threads) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/nn", FV_FIXTURES_DIR);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (d == NULL) return;
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".fvt") != 0) continue;
        double w = run_fixture(e->d_name, cpu_max, reference, threads);
        fprintf(stderr, "  %-40s %-8s%s threads=%d  worst relative diff %.2e\n", e->d_name,
                cpu_max ? cpu_max : "best", reference ? " (reference conv)" : "", threads, w);
        count++;
    }
    closedir(d);
    CHECK(count >= 11);
}

static void test_models_match_ort_best_kernels(void) {
    if (!have_models()) SKIP_TEST("models not found in %s (run tools/fetch-models)", models_dir());
    for_each_fixture(NULL, 0, 1);
}

static void test_models_match_ort_avx2(void) {
    if (!have_models()) SKIP_TEST("models not found in %s", models_dir());
    for_each_fixture("avx2", 0, 1);
}

static void test_models_match_ort_generic(void) {
    if (!have_models()) SKIP_TEST("models not found in %s", models_dir());
    for_each_fixture("generic", 0, 1);
}

static void test_models_match_ort_reference_conv(void) {
    if (!have_models()) SKIP_TEST("models not found in %s", models_dir());
    for_each_fixture(NULL, 1, 1);
}

static void test_models_match_ort_threads(void) {
    if (!have_models()) SKIP_TEST("models not found in %s", models_dir());
    for_each_fixture(NULL, 0, 3);
}

int main(void) {
    RUN(test_models_match_ort_best_kernels);
    RUN(test_models_match_ort_avx2);
    RUN(test_models_match_ort_generic);
    RUN(test_models_match_ort_reference_conv);
    RUN(test_models_match_ort_threads);
    return check_summary();
}
