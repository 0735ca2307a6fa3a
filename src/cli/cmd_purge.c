/*
 * cmd_purge.c - `fairvisit purge --site DIR [--json]`: expire what retention says, now.
 *
 * Opens the vault of site DIR (its folder DIR/vault, docs/vault.md), runs fv_vault_purge with the
 * current time (each project against its own retention), and prints what was destroyed per
 * project and day: counts only, never person ids. Text: one line per (project, day) and a total
 * line. --json: one JSON object
 * {"today", "templates_deleted", "keys_destroyed", "destroyed": [{"project", "day", "date",
 *  "templates", "key_destroyed"}...], "itemised_all"}.
 * Idempotent: a second run destroys nothing and prints zero totals. Exit 0 on success, 1 when
 * the vault is missing or the purge fails, 2 on wrong usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/alloc.h"
#include "fairvisit/vault.h"
#include "fairvisit/strbuf.h"

/*
 * A purge needs no consent decision (it only deletes), but fv_vault_open requires a consent
 * callback: this one refuses everything, so nothing can be stored or searched through this
 * handle even by mistake.
 */
static int refuse_all(void *ctx, const char *consent_id, const char *project) {
    (void)ctx;
    (void)consent_id;
    (void)project;
    return FV_VAULT_CONSENT_MISSING;
}

/* "YYYY-MM-DD" of a day number (days since 1970-01-01 UTC). */
static void day_date(int64_t day, char *buf, size_t n) {
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d", &tm) == 0) snprintf(buf, n, "?");
}

static void print_json(const fv_vault_purge_report *rep) {
    fv_strbuf b = {0};
    size_t t_items = 0, k_items = 0;
    fv_sb_printf(&b,
              "{\"today\": %lld, \"templates_deleted\": %zu, \"keys_destroyed\": %zu, "
              "\"destroyed\": [",
              (long long)rep->today, rep->templates_deleted, rep->keys_destroyed);
    for (size_t i = 0; i < rep->n_days; i++) {
        char date[32];
        day_date(rep->days[i].day, date, sizeof date);
        fv_sb_printf(&b, "%s{\"project\": ", i ? ", " : "");
        fv_sb_json_string(&b, rep->days[i].project);
        fv_sb_printf(&b,
                  ", \"day\": %lld, \"date\": \"%s\", \"templates\": %zu, "
                  "\"key_destroyed\": %s}",
                  (long long)rep->days[i].day, date, rep->days[i].templates,
                  rep->days[i].key_destroyed ? "true" : "false");
        t_items += rep->days[i].templates;
        k_items += rep->days[i].key_destroyed != 0;
    }
    fv_sb_printf(&b, "], \"itemised_all\": %s}\n",
              t_items == rep->templates_deleted && k_items == rep->keys_destroyed ? "true"
                                                                                  : "false");
    if (b.oom)
        fprintf(stderr, "fairvisit purge: out of memory printing the report\n");
    else
        fputs(b.s, stdout);
    fv_sb_free(&b);
}

static void print_text(const fv_vault_purge_report *rep) {
    size_t t_items = 0, k_items = 0;
    for (size_t i = 0; i < rep->n_days; i++) {
        char date[32];
        day_date(rep->days[i].day, date, sizeof date);
        printf("project %s, day %s: %zu template(s) deleted, key %s\n", rep->days[i].project, date,
               rep->days[i].templates, rep->days[i].key_destroyed ? "destroyed" : "kept");
        t_items += rep->days[i].templates;
        k_items += rep->days[i].key_destroyed != 0;
    }
    if (t_items != rep->templates_deleted || k_items != rep->keys_destroyed)
        printf("(more project days than itemised; totals count all)\n");
    printf("purged: %zu template(s) deleted, %zu day key(s) destroyed\n", rep->templates_deleted,
           rep->keys_destroyed);
}

int fv_cli_purge(int argc, char **argv) {
    const char *site = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--site") == 0 && i + 1 < argc) {
            site = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else {
            fprintf(stderr, "fairvisit purge: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (site == NULL || *site == '\0') {
        fprintf(stderr, "usage: fairvisit purge --site DIR [--json]\n");
        return 2;
    }
    size_t n = strlen(site) + sizeof "/vault";
    char *dir = fv_malloc(n);
    if (dir == NULL) {
        fprintf(stderr, "fairvisit purge: out of memory\n");
        return 1;
    }
    snprintf(dir, n, "%s/vault", site);
    struct stat sb;
    int found = stat(dir, &sb) == 0;
    if (!found || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "fairvisit purge: no vault in site '%s' (expected the folder %s: %s)\n",
                site, dir, found ? "not a folder" : strerror(errno));
        fv_free(dir);
        return 1;
    }
    fv_vault_options opt = {.consent_ok = refuse_all};
    fv_vault *v = NULL;
    fv_status st = fv_vault_open(dir, &opt, &v);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit purge: cannot open the vault in %s: %s\n", dir,
                fv_vault_errmsg(v));
        fv_vault_close(v);
        fv_free(dir);
        return 1;
    }
    fv_vault_purge_report rep;
    st = fv_vault_purge(v, (int64_t)time(NULL), &rep);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit purge: %s (%s); run it again to finish\n", fv_vault_errmsg(v),
                fv_status_name(st));
        fv_vault_close(v);
        fv_free(dir);
        return 1;
    }
    if (json)
        print_json(&rep);
    else
        print_text(&rep);
    fv_vault_close(v);
    fv_free(dir);
    return 0;
}
