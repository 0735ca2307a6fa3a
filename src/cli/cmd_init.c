/*
 * cmd_init.c - `fairvisit init --site DIR [--demo] [--json]`: creates a site.
 *
 * A site folder (created 0700 if missing) receives ledger.key (0600, the ledger's site secret),
 * ledger.db (the attribution ledger) and vault/ (the template vault with its master key), through
 * fv_ledger_init_site. An existing site is refused before anything is written: if DIR already
 * holds ledger.key, ledger.db or vault, the command exits 1 and leaves every file as it was.
 * --demo then seeds the demo project (demo_seed.h) through the public ledger API.
 *
 * It also makes the site's TLS key and self-signed certificate (tls/, for the host's name,
 * localhost and 127.0.0.1) and the first login, "admin", with a random password; with --demo also
 * one login per role of the demo (reception, kiosk, auditor, manager, agent1..3), kept in
 * DIR/demo-logins.txt (0600) so the demo can show them again. Passwords are printed once here.
 *
 * Output, text: what was created and where, the demo's counts, the certificate, the logins.
 * --json: one object
 *   {"site", "created": [...], "demo": null | {"project", "name", "notice_version", "from",
 *    "to", "channels", "agents", "registrations", "registrations_refused", "visits_first",
 *    "visits_return", "outcomes": {...}, "escorts_confirmed", "escorts_settled", "deals",
 *    "deals_flagged", "commission_cents", "conflicts", "decisions"},
 *    "logins": [{"login", "role", "password"}...], "note"}
 * Exit 0 on success, 1 when the site exists or cannot be made, 2 on wrong usage. Messages name
 * the folder and the step, never a person.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo_seed.h"
#include "fairvisit/alloc.h"
#include "fairvisit/ledger.h"
#include "fairvisit/http.h"
#include "fairvisit/strbuf.h"
#include "site_logins.h"

static const char *const SITE_FILES[] = {"ledger.key", "ledger.db", "vault", "tls"};
static const char *const CREATED[] = {"ledger.key (mode 0600): the site secret",
                                      "ledger.db: the attribution ledger",
                                      "vault/: the template vault and its master key",
                                      "tls/: the HTTPS key (0600) and self-signed certificate"};
static const char *const LOGINS_NOTE =
    "passwords are shown only now (a demo keeps them in demo-logins.txt, mode 0600); log in at "
    "the URLs fairvisit serve prints";

/* The first site file already in dir, or NULL. */
static const char *existing_site_file(const char *dir) {
    for (size_t i = 0; i < sizeof SITE_FILES / sizeof SITE_FILES[0]; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, SITE_FILES[i]) >= sizeof path)
            return SITE_FILES[i]; /* too long to be ours: treat as taken, write nothing */
        struct stat sb;
        if (lstat(path, &sb) == 0 || errno != ENOENT) return SITE_FILES[i];
    }
    return NULL;
}

/* "YYYY-MM-DD" of a time in ms, in the sales office's day (UTC+8). */
static void office_date(int64_t ms, char out[16]) {
    time_t t = (time_t)((ms + 8 * 3600 * 1000LL) / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 16, "?");
}

static void print_text(const char *site, const fv_demo_summary *d, const fv_cli_login *lg,
                       size_t n_lg) {
    printf("site created in %s:\n", site);
    for (size_t i = 0; i < sizeof CREATED / sizeof CREATED[0]; i++) printf("  %s\n", CREATED[i]);
    if (d != NULL) {
        char from[16], to[16];
        office_date(d->from_ms, from);
        office_date(d->to_ms, to);
        printf("demo project \"%s\" (Demo Garden 示范花园), events from %s to %s:\n",
               FV_DEMO_PROJECT_CODE, from, to);
        printf("  notice version %d published (zh-CN and en)\n", d->notice_version);
        printf("  channels: natural + %zu (agency 1%%, referral 5,000 yuan per deal, online "
               "0.3%%); agents: %zu\n",
               d->channels, d->agents);
        printf("  registrations: %zu (%zu refused)\n", d->registrations, d->registrations_refused);
        printf("  visits: %zu first (%zu natural, %zu channel_valid, %zu channel_invalid, %zu "
               "pending escort), %zu return\n",
               d->visits_first, d->outcomes[FV_LEDGER_OUTCOME_NATURAL],
               d->outcomes[FV_LEDGER_OUTCOME_CHANNEL_VALID],
               d->outcomes[FV_LEDGER_OUTCOME_CHANNEL_INVALID],
               d->outcomes[FV_LEDGER_OUTCOME_PENDING_ESCORT], d->visits_return);
        printf("  escorts: %zu confirmed, %zu settled unconfirmed\n", d->escorts_confirmed,
               d->escorts_settled);
        printf("  deals: %zu (%zu flagged), commission %lld.%02lld yuan\n", d->deals,
               d->deals_flagged, (long long)(d->commission_cents / 100),
               (long long)(d->commission_cents % 100));
        printf("  conflicts opened: %zu; decisions and appeals: %zu\n", d->conflicts, d->decisions);
        printf("  reports: fairvisit report --site %s --project %s\n", site, FV_DEMO_PROJECT_CODE);
    }
    printf("TLS certificate: %s/tls/cert.pem (trust it on kiosks for the camera over HTTPS)\n",
           site);
    printf("logins:\n");
    for (size_t i = 0; i < n_lg; i++)
        printf("  %-10s %-16s password %s\n", lg[i].login, lg[i].role, lg[i].password);
    printf("%s\n", LOGINS_NOTE);
}

static int print_json(const char *site, const fv_demo_summary *d, const fv_cli_login *lg,
                      size_t n_lg) {
    fv_strbuf b = {0};
    fv_sb_printf(&b, "{\"site\": ");
    fv_sb_json_string(&b, site);
    fv_sb_printf(&b, ", \"created\": [");
    for (size_t i = 0; i < sizeof SITE_FILES / sizeof SITE_FILES[0]; i++) {
        fv_sb_printf(&b, "%s", i ? ", " : "");
        fv_sb_json_string(&b, SITE_FILES[i]);
    }
    fv_sb_printf(&b, "], \"demo\": ");
    if (d == NULL) {
        fv_sb_printf(&b, "null");
    } else {
        char from[16], to[16];
        office_date(d->from_ms, from);
        office_date(d->to_ms, to);
        fv_sb_printf(&b, "{\"project\": \"%s\", \"name\": ", FV_DEMO_PROJECT_CODE);
        fv_sb_json_string(&b, "Demo Garden 示范花园");
        fv_sb_printf(
            &b,
            ", \"notice_version\": %d, \"from\": \"%s\", \"to\": \"%s\", "
            "\"channels\": %zu, \"agents\": %zu, \"registrations\": %zu, "
            "\"registrations_refused\": %zu, \"visits_first\": %zu, "
            "\"visits_return\": %zu, \"outcomes\": {\"natural\": %zu, "
            "\"channel_valid\": %zu, \"channel_invalid\": %zu, "
            "\"pending_escort\": %zu}, \"escorts_confirmed\": %zu, "
            "\"escorts_settled\": %zu, \"deals\": %zu, \"deals_flagged\": %zu, "
            "\"commission_cents\": %lld, \"conflicts\": %zu, \"decisions\": %zu}",
            d->notice_version, from, to, d->channels, d->agents, d->registrations,
            d->registrations_refused, d->visits_first, d->visits_return,
            d->outcomes[FV_LEDGER_OUTCOME_NATURAL], d->outcomes[FV_LEDGER_OUTCOME_CHANNEL_VALID],
            d->outcomes[FV_LEDGER_OUTCOME_CHANNEL_INVALID],
            d->outcomes[FV_LEDGER_OUTCOME_PENDING_ESCORT], d->escorts_confirmed, d->escorts_settled,
            d->deals, d->deals_flagged, (long long)d->commission_cents, d->conflicts, d->decisions);
    }
    fv_sb_printf(&b, ", \"logins\": [");
    for (size_t i = 0; i < n_lg; i++) {
        fv_sb_printf(&b, "%s{\"login\": ", i ? ", " : "");
        fv_sb_json_string(&b, lg[i].login);
        fv_sb_printf(&b, ", \"role\": \"%s\", \"password\": ", lg[i].role);
        fv_sb_json_string(&b, lg[i].password);
        fv_sb_printf(&b, "}");
    }
    fv_sb_printf(&b, "], \"note\": ");
    fv_sb_json_string(&b, LOGINS_NOTE);
    fv_sb_printf(&b, "}\n");
    int ok = !b.oom;
    if (ok)
        fputs(b.s, stdout);
    else
        fprintf(stderr, "fairvisit init: out of memory printing the result\n");
    fv_sb_free(&b);
    return ok ? 0 : 1;
}

/* Opens the new site with the demo's clock and seeds the demo project. */
static int seed_demo(const char *site, fv_demo_summary *sum) {
    fv_demo_ctx ctx;
    fv_ledger_options opt = {.no_vault = false};
    fv_demo_options(&ctx, &opt);
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(site, &opt, &l);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit init: the site was created but cannot be opened: %s (%s)\n",
                fv_ledger_errmsg(l), fv_status_name(st));
        fv_ledger_close(l);
        return 1;
    }
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    st = fv_demo_seed(l, &ctx, now, sum);
    if (st != FV_OK)
        fprintf(stderr,
                "fairvisit init: the site was created, but seeding the demo failed at the %s: "
                "%s (%s); remove the folder %s and run init again\n",
                sum->failed_step ? sum->failed_step : "start", fv_ledger_errmsg(l),
                fv_status_name(st), site);
    fv_ledger_close(l);
    return st == FV_OK ? 0 : 1;
}

int fv_cli_init(int argc, char **argv) {
    const char *site = NULL;
    int json = 0, demo = 0;
    if (fv_cli_site_args(argc, argv, "init", &site, &json, &demo) != 0) return 2;
    struct stat sb;
    if (stat(site, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "fairvisit init: '%s' exists and is not a folder; nothing was changed\n",
                site);
        return 1;
    }
    const char *found = existing_site_file(site);
    if (found != NULL) {
        fprintf(stderr,
                "fairvisit init: a site already exists in '%s' (it holds %s); nothing was "
                "changed\n",
                site, found);
        return 1;
    }
    fv_status st = fv_ledger_init_site(site);
    if (st == FV_ERR_STATE) {
        fprintf(stderr, "fairvisit init: a site already exists in '%s'; nothing was changed\n",
                site);
        return 1;
    }
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit init: cannot create the site in '%s': %s (%s)\n", site,
                fv_status_message(st), fv_status_name(st));
        return 1;
    }
    char host[256] = "localhost";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    const char *hosts[] = {host};
    st = fv_http_make_certificate(site, hosts, 1, 825);
    if (st != FV_OK) {
        fprintf(stderr,
                "fairvisit init: the site was created but its TLS certificate could not"
                " be made (%s); remove the folder %s and run init again\n",
                fv_status_name(st), site);
        return 1;
    }
    fv_demo_summary sum;
    if (demo && seed_demo(site, &sum) != 0) return 1;
    fv_cli_login lg[FV_CLI_LOGINS_MAX];
    size_t n_lg = 0;
    if (fv_cli_make_logins(site, demo ? &sum : NULL, lg, &n_lg) != 0) return 1;
    if (demo && fv_cli_save_logins(site, lg, n_lg) != 0) {
        fprintf(stderr, "fairvisit init: cannot write %s/demo-logins.txt\n", site);
        fv_cli_wipe_logins(lg, n_lg);
        return 1;
    }
    int rc = 0;
    if (json)
        rc = print_json(site, demo ? &sum : NULL, lg, n_lg);
    else
        print_text(site, demo ? &sum : NULL, lg, n_lg);
    fv_cli_wipe_logins(lg, n_lg);
    return rc;
}
