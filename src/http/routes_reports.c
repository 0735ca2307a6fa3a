/*
 * routes_reports.c - the reports endpoint group (docs/api/reports.md): a project's attribution
 * figures (PRODUCT.md §3) as JSON or as a CSV download, and its impact assessment (§4.13) as
 * Markdown.
 *
 * The reports are made by the ledger (report.c), which decides who may read them and appends a
 * "report.read" entry to the audit chain for every read; they hold counts, sums, days and
 * channel and agent names, never a visitor's name, phone or id. The period is ?from=YYYY-MM-DD
 * &to=YYYY-MM-DD (days of the sales office, UTC+8, inclusive; either may be left out).
 * Threading: handlers run on connection threads; the ledger serialises itself.
 */
#include <string.h>

#include "http-impl.h"

#define ROLE(r)        FV__HTTP_ROLE(FV_LEDGER_ROLE_##r)
#define REPORT_READERS (ROLE(ADMIN) | ROLE(RECEPTION) | ROLE(AUDITOR))
#define IMPACT_READERS (ROLE(ADMIN) | ROLE(AUDITOR))

/* ?from= and ?to=; an empty value is an open end. */
static const char *day_arg(fv__http_ctx *c, const char *name) {
    const char *v = fv__http_query(c, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* A ledger refusal of the caller's role is 403 here, like the server's own role check. */
static void report_error(fv__http_ctx *c, fv_status st) {
    const char *msg = fv_ledger_errmsg(c->srv->ledger); /* may be cleared by another connection */
    if (st == FV_ERR_STATE)
        fv__http_error(c, 403, "forbidden", "%s", msg[0] ? msg : "this role may not read reports");
    else
        fv__http_ledger_error(c, st);
}

static void report_json(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_report_json(c->srv->ledger, &c->actor, project, day_arg(c, "from"),
                                         day_arg(c, "to"), &c->out);
    if (st != FV_OK) report_error(c, st);
}

static void report_csv(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_report_csv(c->srv->ledger, &c->actor, project, day_arg(c, "from"),
                                        day_arg(c, "to"), &c->out);
    if (st != FV_OK) {
        report_error(c, st);
        return;
    }
    c->content_type = "text/csv; charset=utf-8";
    /* The code is [a-z0-9-] (the ledger's rule): safe inside the quoted file name. */
    fv__http_add_header(c, "Content-Disposition: attachment; filename=\"fairvisit-%s-report.csv\"",
                        fv__http_param(c, "code"));
}

static void report_impact(fv__http_ctx *c) {
    int64_t project = fv__http_project(c, "code");
    if (project == 0) return;
    fv_status st = fv_ledger_report_impact(c->srv->ledger, &c->actor, project, &c->out);
    if (st != FV_OK) {
        report_error(c, st);
        return;
    }
    c->content_type = "text/markdown; charset=utf-8";
}

const fv__http_route fv__http_routes_reports[] = {
    {FV__HTTP_GET, "/api/v1/projects/:code/report", REPORT_READERS, report_json, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/report.csv", REPORT_READERS, report_csv, 0},
    {FV__HTTP_GET, "/api/v1/projects/:code/impact", IMPACT_READERS, report_impact, 0},
    {0, NULL, 0, NULL, 0},
};
