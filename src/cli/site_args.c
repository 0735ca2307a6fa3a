/*
 * site_args.c - the argument form the site commands share: `--site DIR [--demo] [--json]`
 * (init, purge, audit verify), with one wording for unknown arguments and the usage line.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int fv_cli_site_args(int argc, char **argv, const char *cmd, const char **site, int *json,
                     int *demo) {
    *site = NULL;
    *json = 0;
    if (demo != NULL) *demo = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--site") == 0 && i + 1 < argc) {
            *site = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            *json = 1;
        } else if (demo != NULL && strcmp(argv[i], "--demo") == 0) {
            *demo = 1;
        } else {
            fprintf(stderr, "fairvisit %s: unknown argument '%s'\n", cmd, argv[i]);
            return 2;
        }
    }
    if (*site == NULL || **site == '\0') {
        fprintf(stderr, "usage: fairvisit %s --site DIR%s [--json]\n", cmd,
                demo != NULL ? " [--demo]" : "");
        return 2;
    }
    return 0;
}
