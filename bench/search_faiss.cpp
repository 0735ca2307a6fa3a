// search_faiss.cpp - the FAISS peer of `fairvisit bench search`: the same random vectors and
// queries (the generator below is bit-for-bit the one in src/cli/cmd_bench_search.c; both print
// "data_checksum"), the same timing (Q single top-10 searches after a 10-query warm-up).
//
//   search_faiss --templates N [--threads T] [--int8] [--queries Q] [--seed S]
//
// float: faiss::IndexFlatIP. int8: faiss::IndexScalarQuantizer(QT_8bit, inner product), trained
// on the data (per-dimension min/max), plus recall@10 against IndexFlatIP. Threads via
// omp_set_num_threads. Also reports batch_qps: all Q queries in one search() call, FAISS's
// throughput mode (BLAS for float), which single-query serving does not use.
// Last stdout line: JSON with the keys of fairvisit's, so bench/search.sh reads both alike.
#include <faiss/IndexFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int DIM = 512;
constexpr int K = 10;
using idx_t = faiss::Index::idx_t;

// ---- the shared generator (keep identical to src/cli/cmd_bench_search.c) -------------------
uint64_t gen_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double gen_uniform(uint64_t *s) {
    return (double)(gen_next(s) >> 11) / 9007199254740992.0;
}

void gen_unit(uint64_t *s, float *v) {
    double n2 = 0.0;
    for (int i = 0; i < DIM; i++) {
        double g = gen_uniform(s) + gen_uniform(s) + gen_uniform(s) + gen_uniform(s) - 2.0;
        v[i] = (float)g;
        n2 += g * g;
    }
    double inv = 1.0 / std::sqrt(n2);
    for (int i = 0; i < DIM; i++) v[i] = (float)((double)v[i] * inv);
}

void gen_data(uint64_t seed, size_t n, size_t q, float *data, float *queries) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) gen_unit(&s, data + i * DIM);
    float noise[DIM];
    for (size_t j = 0; j < q; j++) {
        const float *src = data + (size_t)(gen_next(&s) % n) * DIM;
        float *v = queries + j * DIM;
        gen_unit(&s, noise);
        double n2 = 0.0;
        for (int i = 0; i < DIM; i++) {
            double x = (double)src[i] + 0.6 * (double)noise[i];
            v[i] = (float)x;
            n2 += x * x;
        }
        double inv = 1.0 / std::sqrt(n2);
        for (int i = 0; i < DIM; i++) v[i] = (float)((double)v[i] * inv);
    }
}

uint64_t checksum(const float *p, size_t nfloats, uint64_t h) {
    for (size_t i = 0; i < nfloats; i++) {
        uint32_t w;
        std::memcpy(&w, &p[i], sizeof w);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}
// ---------------------------------------------------------------------------------------------

double now_s() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void usage(const char *msg) {
    std::fprintf(stderr, "search_faiss: %s\nusage: search_faiss --templates N [--threads T] "
                         "[--int8] [--queries Q] [--seed S]\n", msg);
    std::exit(2);
}

unsigned long long parse(const char *s, const char *what) {
    char *end;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (*end != '\0' || end == s || s[0] == '-') usage((std::string("bad value for ") + what).c_str());
    return v;
}

} // namespace

int main(int argc, char **argv) {
    unsigned long long n = 0, threads = 1, nq = 200, seed = 20261130;
    bool int8 = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        bool v = i + 1 < argc;
        if (a == "--templates" && v) n = parse(argv[++i], "--templates");
        else if (a == "--threads" && v) threads = parse(argv[++i], "--threads");
        else if (a == "--queries" && v) nq = parse(argv[++i], "--queries");
        else if (a == "--seed" && v) seed = parse(argv[++i], "--seed");
        else if (a == "--int8") int8 = true;
        else usage(("unknown option " + a).c_str());
    }
    if (n == 0 || nq == 0 || threads == 0) usage("--templates, --queries and --threads must be >= 1");
    omp_set_num_threads((int)threads);

    std::vector<float> data((size_t)n * DIM), qs((size_t)nq * DIM);
    gen_data(seed, n, nq, data.data(), qs.data());
    uint64_t sum = checksum(qs.data(), qs.size(), checksum(data.data(), data.size(), 14695981039346656037ull));

    double t0 = now_s();
    std::unique_ptr<faiss::Index> index;
    if (int8) {
        auto sq = std::make_unique<faiss::IndexScalarQuantizer>(
            DIM, faiss::ScalarQuantizer::QT_8bit, faiss::METRIC_INNER_PRODUCT);
        sq->train((idx_t)n, data.data());
        index = std::move(sq);
    } else {
        index = std::make_unique<faiss::IndexFlatIP>(DIM);
    }
    index->add((idx_t)n, data.data());
    double load_s = now_s() - t0;
    size_t bpt = int8 ? static_cast<faiss::IndexScalarQuantizer *>(index.get())->code_size
                      : DIM * sizeof(float);

    std::vector<float> dist((size_t)nq * K);
    std::vector<idx_t> ids((size_t)nq * K);
    int warmup = nq < 10 ? (int)nq : 10;
    for (int i = 0; i < warmup; i++) index->search(1, qs.data() + (size_t)i * DIM, K, dist.data(), ids.data());
    std::vector<double> t(nq);
    double t_all = now_s();
    for (size_t i = 0; i < nq; i++) {
        double ts = now_s();
        index->search(1, qs.data() + i * DIM, K, dist.data() + i * K, ids.data() + i * K);
        t[i] = (now_s() - ts) * 1e6;
    }
    t_all = now_s() - t_all;

    // Throughput mode: every query in one call.
    std::vector<float> bdist((size_t)nq * K);
    std::vector<idx_t> bids((size_t)nq * K);
    double tb = now_s();
    index->search((idx_t)nq, qs.data(), K, bdist.data(), bids.data());
    double batch_qps = (double)nq / (now_s() - tb);

    double recall = -1.0;
    if (int8) {
        faiss::IndexFlatIP exact(DIM);
        exact.add((idx_t)n, data.data());
        std::vector<float> rd((size_t)nq * K);
        std::vector<idx_t> ri((size_t)nq * K);
        exact.search((idx_t)nq, qs.data(), K, rd.data(), ri.data());
        size_t found = 0;
        for (size_t i = 0; i < nq; i++)
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++) found += ri[i * K + a] == ids[i * K + b];
        recall = (double)found / (double)(nq * K);
    }

    std::sort(t.begin(), t.end());
    double median = nq % 2 ? t[nq / 2] : (t[nq / 2 - 1] + t[nq / 2]) / 2.0;
    size_t i90 = std::min((size_t)((double)nq * 0.9), (size_t)nq - 1);
    double qps = (double)nq / t_all;
    std::printf("FAISS %s, %llu templates, %llu thread(s): %.0f queries/s, median %.1f us, p90 %.1f us, "
                "%zu bytes/template, batch %.0f queries/s, load %.2f s",
                int8 ? "IndexScalarQuantizer(QT_8bit)" : "IndexFlatIP", n, threads, qps, median, t[i90],
                bpt, batch_qps, load_s);
    if (int8) std::printf(", recall@10 %.4f", recall);
    std::printf("\n{\"templates\": %llu, \"qps\": %.1f, \"median_us\": %.2f, \"p90_us\": %.2f, "
                "\"bytes_per_template\": %zu, \"threads\": %llu, \"int8\": %s, \"batch_qps\": %.1f, ",
                n, qps, median, t[i90], bpt, threads, int8 ? "true" : "false", batch_qps);
    if (int8) std::printf("\"recall_at_10\": %.4f, ", recall);
    std::printf("\"load_s\": %.3f, \"data_checksum\": \"%016" PRIx64 "\"}\n", load_s, sum);
    return 0;
}
