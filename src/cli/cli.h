/*
 * cli.h - the fairvisit command-line front end: one function per subcommand.
 *
 * Each command takes its argv after the command words, prints results to stdout and errors to
 * stderr (never personal data), and returns the process exit status: 0 success, 1 failure of the
 * work, 2 wrong usage.
 */
#ifndef FAIRVISIT_CLI_H
#define FAIRVISIT_CLI_H

int fv_cli_bench_nn(int argc, char **argv);
int fv_cli_bench_face(int argc, char **argv);
int fv_cli_bench_search(int argc, char **argv);
int fv_cli_bench_vault(int argc, char **argv);
int fv_cli_bench_checkin(int argc, char **argv);
int fv_cli_faces(int argc, char **argv);
int fv_cli_embed(int argc, char **argv);
int fv_cli_compare(int argc, char **argv);
int fv_cli_purge(int argc, char **argv);
int fv_cli_init(int argc, char **argv);
int fv_cli_audit_verify(int argc, char **argv);
int fv_cli_report(int argc, char **argv);
int fv_cli_serve(int argc, char **argv);

/* site_args.c: parses `--site DIR [--demo] [--json]` (--demo only when demo is not NULL) for
 * command `cmd`; on wrong usage prints why and the usage line, and returns 2; else 0. */
int fv_cli_site_args(int argc, char **argv, const char *cmd, const char **site, int *json,
                     int *demo);

#endif
