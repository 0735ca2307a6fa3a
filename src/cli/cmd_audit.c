/*
 * cmd_audit.c - `fairvisit audit verify --site DIR [--json]`: checks the ledger's audit chain.
 *
 * Opens the ledger of site DIR without its vault (verification reads ledger.db and the chain key
 * derived from ledger.key; no template is touched) and walks the hash chain with
 * fv_ledger_audit_verify. The chain verifies: exit 0 and
 *   audit chain verifies: N entries, head <hex>
 * It does not: exit 1, naming the first bad entry by its sequence number and the reason, on
 * stderr (and, with --json, the result object on stdout):
 *   {"verified": false, "entries": N, "first_bad": SEQ, "reason": "...", "head": "<hex>"}
 * where entries counts the entries before it that verify and head is the last good hash. With
 * --json a good chain prints {"verified": true, "entries": N, "first_bad": 0, "head": "<hex>"}.
 * A missing site or an unreadable ledger is exit 1 with a message; wrong usage exit 2. Entries
 * hold ids only, so nothing printed here is personal data.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fairvisit/ledger.h"
#include "fairvisit/strbuf.h"

static void print_json(const fv_ledger_audit_report *rep, int verified) {
    fv_strbuf b = {0};
    fv_sb_printf(&b, "{\"verified\": %s, \"entries\": %lld, \"first_bad\": %lld",
                 verified ? "true" : "false", (long long)rep->entries, (long long)rep->first_bad);
    if (!verified) {
        fv_sb_printf(&b, ", \"reason\": ");
        fv_sb_json_string(&b, rep->reason);
    }
    fv_sb_printf(&b, ", \"head\": \"%s\"}\n", rep->head);
    if (b.oom)
        fprintf(stderr, "fairvisit audit verify: out of memory printing the result\n");
    else
        fputs(b.s, stdout);
    fv_sb_free(&b);
}

int fv_cli_audit_verify(int argc, char **argv) {
    const char *site = NULL;
    int json = 0;
    if (fv_cli_site_args(argc, argv, "audit verify", &site, &json, NULL) != 0) return 2;
    fv_ledger_options opt = {.no_vault = true};
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(site, &opt, &l);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit audit verify: cannot open the ledger of site '%s': %s (%s)\n",
                site, fv_ledger_errmsg(l), fv_status_name(st));
        fv_ledger_close(l);
        return 1;
    }
    fv_ledger_audit_report rep;
    st = fv_ledger_audit_verify(l, &rep);
    int rc = 0;
    if (st == FV_OK && rep.first_bad == 0) {
        if (json)
            print_json(&rep, 1);
        else
            printf("audit chain verifies: %lld entries, head %s\n", (long long)rep.entries,
                   rep.head);
    } else if (st == FV_ERR_FORMAT && rep.first_bad > 0) {
        if (json) print_json(&rep, 0);
        fprintf(stderr,
                "fairvisit audit verify: the audit chain does not verify: first bad entry is seq "
                "%lld: %s (%lld entries before it verify, last good head %s)\n",
                (long long)rep.first_bad, rep.reason, (long long)rep.entries, rep.head);
        rc = 1;
    } else {
        fprintf(stderr, "fairvisit audit verify: cannot read the audit chain: %s (%s)\n",
                fv_ledger_errmsg(l), fv_status_name(st));
        rc = 1;
    }
    fv_ledger_close(l);
    return rc;
}
