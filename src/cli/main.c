/*
 * main.c - dispatches `fairvisit <command> ...` to the command implementations in src/cli.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: fairvisit <command> [options]\n"
            "\n"
            "commands:\n"
            "  bench nn MODEL.onnx [--runs N] [--threads T] [--warmup W]\n"
            "      time the inference engine on one model; the last line is JSON\n"
            "      {model, median_ms, p90_ms, peak_rss_mb}\n"
            "  bench face IMG [--runs N] [--models DIR]\n"
            "      time the whole face pipeline on one image; the last line is JSON\n"
            "  bench search --templates N [--threads T] [--int8] [--rerank] [--queries Q]\n"
            "      time top-10 1:N search over N random 512-d templates; the last line is JSON\n"
            "      {templates, qps, median_us, bytes_per_template, threads, int8, ...}\n"
            "  bench vault --templates N [--site DIR] [--seed S]\n"
            "      insert N random templates into a throw-away vault (under /tmp or DIR), time\n"
            "      its open (decrypt all into the index); the last line is JSON\n"
            "      {templates, load_ms, disk_bytes_per_template, memory_bytes_per_template, ...}\n"
            "  bench checkin [--persons N] [--checkins M] [--face] [--site DIR] [--threads T]\n"
            "      time M ledger check-ins (phone; with --face also by face) against a store of\n"
            "      N persons (kept in DIR for reuse); the last lines are JSON, one per path\n"
            "      {persons, checkins, path, per_second, p50_ms, p99_ms}\n"
            "  faces IMG... [--json] [--threads T] [--models DIR]\n"
            "      faces found, with quality, liveness and the reasons a face is not usable\n"
            "  embed IMG... [--json] [--threads T] [--models DIR]\n"
            "      the same plus each usable face's 512-d embedding\n"
            "  compare A B [--json] [--models DIR]\n"
            "      similarity of the largest usable faces, same (at the threshold), threshold\n"
            "  purge --site DIR [--json]\n"
            "      expire what retention says, now, through the ledger (audited): deletes each\n"
            "      project's expired templates and destroys their day keys, deletes expired\n"
            "      one-time codes and idempotency keys, settles missed escorts; prints counts\n"
            "  init --site DIR [--demo] [--json]\n"
            "      create a site: DIR/ledger.key (0600), DIR/ledger.db and DIR/vault; refuses\n"
            "      when a site exists; --demo adds a demo project with a month of data\n"
            "  audit verify --site DIR [--json]\n"
            "      exit 0 when the audit chain verifies; otherwise 1, naming the first bad entry\n"
            "  serve --site DIR [--listen ADDR:PORT] [--https ADDR:PORT] [--models DIR]\n"
            "      the server and web pages (plain HTTP on loopback, HTTPS with the site's\n"
            "      certificate) with the scheduled purge; stops cleanly on SIGTERM\n"
            "  report --site DIR --project CODE [--from D] [--to D] [--csv | --json | --impact]\n"
            "      the project's figures (visits, outcomes, registrations, funnel, conflicts,\n"
            "      deals, commission) for days D (YYYY-MM-DD, UTC+8, inclusive) as text tables,\n"
            "      CSV or one JSON line; --impact: the impact assessment (Markdown)\n"
            "  help      this text\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "bench") == 0) {
        if (argc >= 3 && strcmp(argv[2], "nn") == 0) return fv_cli_bench_nn(argc - 3, argv + 3);
        if (argc >= 3 && strcmp(argv[2], "face") == 0) return fv_cli_bench_face(argc - 3, argv + 3);
        if (argc >= 3 && strcmp(argv[2], "search") == 0)
            return fv_cli_bench_search(argc - 3, argv + 3);
        if (argc >= 3 && strcmp(argv[2], "vault") == 0)
            return fv_cli_bench_vault(argc - 3, argv + 3);
        if (argc >= 3 && strcmp(argv[2], "checkin") == 0)
            return fv_cli_bench_checkin(argc - 3, argv + 3);
        fprintf(stderr,
                "fairvisit bench: unknown benchmark '%s' (known: nn, face, search, vault,"
                " checkin)\n",
                argc >= 3 ? argv[2] : "");
        return 2;
    }
    if (strcmp(argv[1], "faces") == 0) return fv_cli_faces(argc - 2, argv + 2);
    if (strcmp(argv[1], "embed") == 0) return fv_cli_embed(argc - 2, argv + 2);
    if (strcmp(argv[1], "compare") == 0) return fv_cli_compare(argc - 2, argv + 2);
    if (strcmp(argv[1], "purge") == 0) return fv_cli_purge(argc - 2, argv + 2);
    if (strcmp(argv[1], "report") == 0) return fv_cli_report(argc - 2, argv + 2);
    if (strcmp(argv[1], "init") == 0) return fv_cli_init(argc - 2, argv + 2);
    if (strcmp(argv[1], "serve") == 0) return fv_cli_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "audit") == 0) {
        if (argc >= 3 && strcmp(argv[2], "verify") == 0)
            return fv_cli_audit_verify(argc - 3, argv + 3);
        fprintf(stderr, "fairvisit audit: unknown subcommand '%s' (known: verify)\n",
                argc >= 3 ? argv[2] : "");
        return 2;
    }
    fprintf(stderr, "fairvisit: unknown command '%s' (try 'fairvisit help')\n", argv[1]);
    return 2;
}
