/*
 * cmd_purge.c - `fairvisit purge --site DIR [--json]`: expire what retention says, now.
 *
 * Opens the site's ledger (with its vault) and runs fv_ledger_purge as the SYSTEM actor: the
 * vault's retention purge (each project against its own retention, crypto-shredding its expired
 * day keys), expired one-time codes and day-old idempotency keys deleted, escorts whose window
 * passed settled, and the counts recorded in the audit chain. Prints counts only, never person
 * ids. Text: the total line "purged: N template(s) deleted, K day key(s) destroyed" and a line
 * with the ledger's counts. --json: one JSON object
 * {"today", "templates_deleted", "keys_destroyed", "destroyed": [...], "itemised_all",
 *  "otps_deleted", "idempotency_deleted", "escorts_settled"}.
 * "destroyed" itemised (project, day) pairs when the purge went straight to the vault; the
 * ledger's purge report carries totals only, so it is now empty and "itemised_all" says whether
 * that is complete (true only when nothing was destroyed). The vault keeps the per-day record in
 * vault.db's purge_log (docs/vault.md).
 * Idempotent: a second run destroys nothing and prints zero totals. Exit 0 on success, 1 when
 * the site has no ledger or the purge fails, 2 on wrong usage.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/ledger.h"
#include "fairvisit/strbuf.h"

static void print_json(int64_t today, const fv_ledger_purge_report *rep) {
    fv_strbuf b = {0};
    int nothing = rep->templates_deleted == 0 && rep->keys_destroyed == 0;
    fv_sb_printf(&b,
                 "{\"today\": %lld, \"templates_deleted\": %zu, \"keys_destroyed\": %zu, "
                 "\"destroyed\": [], \"itemised_all\": %s, \"otps_deleted\": %zu, "
                 "\"idempotency_deleted\": %zu, \"escorts_settled\": %zu}\n",
                 (long long)today, rep->templates_deleted, rep->keys_destroyed,
                 nothing ? "true" : "false", rep->otps_deleted, rep->idempotency_deleted,
                 rep->escorts_settled);
    if (b.oom)
        fprintf(stderr, "fairvisit purge: out of memory printing the report\n");
    else
        fputs(b.s, stdout);
    fv_sb_free(&b);
}

static void print_text(const fv_ledger_purge_report *rep) {
    if (rep->templates_deleted != 0 || rep->keys_destroyed != 0)
        printf("(project days are not itemised here; the vault's purge_log records them)\n");
    printf("purged: %zu template(s) deleted, %zu day key(s) destroyed\n", rep->templates_deleted,
           rep->keys_destroyed);
    printf("ledger: %zu expired one-time code(s), %zu idempotency key(s) deleted, %zu unconfirmed "
           "escort(s) settled\n",
           rep->otps_deleted, rep->idempotency_deleted, rep->escorts_settled);
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
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(site, NULL, &l);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit purge: cannot open site '%s': %s (%s)\n", site,
                fv_ledger_errmsg(l), fv_status_name(st));
        fv_ledger_close(l);
        return 1;
    }
    /* The vault's day of the ledger's clock (the system clock here). */
    int64_t today = (int64_t)time(NULL) / 86400;
    fv_ledger_actor system = {FV_LEDGER_ROLE_SYSTEM, 0};
    fv_ledger_purge_report rep;
    st = fv_ledger_purge(l, &system, &rep);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit purge: %s (%s); run it again to finish\n", fv_ledger_errmsg(l),
                fv_status_name(st));
        fv_ledger_close(l);
        return 1;
    }
    if (json)
        print_json(today, &rep);
    else
        print_text(&rep);
    fv_ledger_close(l);
    return 0;
}
