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
 * "destroyed" itemises (project, day) pairs: {"project", "day", "date", "templates",
 * "key_destroyed"}, at most FV_VAULT_PURGE_DAYS_MAX of them; "itemised_all" says whether the items
 * add up to the totals. Text has one line per (project, day) before the totals. The vault also
 * keeps the per-day record in vault.db's purge_log (docs/vault.md).
 * Idempotent: a second run destroys nothing and prints zero totals. Exit 0 on success, 1 when
 * the site has no ledger or the purge fails, 2 on wrong usage.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fairvisit/ledger.h"
#include "fairvisit/strbuf.h"

/* "YYYY-MM-DD" of a vault day number (days since 1970-01-01 UTC). */
static void day_date(int64_t day, char *buf, size_t n) {
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%d", &tm) == 0) snprintf(buf, n, "?");
}

/* Whether the itemised days add up to the totals. */
static int itemised_all(const fv_ledger_purge_report *rep) {
    size_t t = 0, k = 0;
    for (size_t i = 0; i < rep->vault.n_days; i++) {
        t += rep->vault.days[i].templates;
        k += rep->vault.days[i].key_destroyed != 0;
    }
    return t == rep->templates_deleted && k == rep->keys_destroyed;
}

static void print_json(int64_t today, const fv_ledger_purge_report *rep) {
    fv_strbuf b = {0};
    fv_sb_printf(&b,
                 "{\"today\": %lld, \"templates_deleted\": %zu, \"keys_destroyed\": %zu, "
                 "\"destroyed\": [",
                 (long long)today, rep->templates_deleted, rep->keys_destroyed);
    for (size_t i = 0; i < rep->vault.n_days; i++) {
        char date[32];
        day_date(rep->vault.days[i].day, date, sizeof date);
        fv_sb_printf(&b, "%s{\"project\": ", i ? ", " : "");
        fv_sb_json_string(&b, rep->vault.days[i].project);
        fv_sb_printf(&b,
                     ", \"day\": %lld, \"date\": \"%s\", \"templates\": %zu, "
                     "\"key_destroyed\": %s}",
                     (long long)rep->vault.days[i].day, date, rep->vault.days[i].templates,
                     rep->vault.days[i].key_destroyed ? "true" : "false");
    }
    fv_sb_printf(&b,
                 "], \"itemised_all\": %s, \"otps_deleted\": %zu, "
                 "\"idempotency_deleted\": %zu, \"escorts_settled\": %zu}\n",
                 itemised_all(rep) ? "true" : "false", rep->otps_deleted, rep->idempotency_deleted,
                 rep->escorts_settled);
    if (b.oom)
        fprintf(stderr, "fairvisit purge: out of memory printing the report\n");
    else
        fputs(b.s, stdout);
    fv_sb_free(&b);
}

static void print_text(const fv_ledger_purge_report *rep) {
    for (size_t i = 0; i < rep->vault.n_days; i++) {
        char date[32];
        day_date(rep->vault.days[i].day, date, sizeof date);
        printf("project %s, day %s: %zu template(s) deleted, key %s\n", rep->vault.days[i].project,
               date, rep->vault.days[i].templates,
               rep->vault.days[i].key_destroyed ? "destroyed" : "kept");
    }
    if (!itemised_all(rep)) printf("(more days than listed; the vault's purge_log has them all)\n");
    printf("purged: %zu template(s) deleted, %zu day key(s) destroyed\n", rep->templates_deleted,
           rep->keys_destroyed);
    printf("ledger: %zu expired one-time code(s), %zu idempotency key(s) deleted, %zu unconfirmed "
           "escort(s) settled\n",
           rep->otps_deleted, rep->idempotency_deleted, rep->escorts_settled);
}

int fv_cli_purge(int argc, char **argv) {
    const char *site = NULL;
    int json = 0;
    if (fv_cli_site_args(argc, argv, "purge", &site, &json, NULL) != 0) return 2;
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
