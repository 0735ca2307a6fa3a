/*
 * cmd_report.c - `fairvisit report --site DIR --project CODE [--from D] [--to D]
 *                 [--csv | --json | --impact]`: the reports of PRODUCT.md §3 and §4.13.
 *
 * D is a day, YYYY-MM-DD, of the sales office (UTC+8); --from and --to are inclusive and either
 * may be left out (open end). Output on stdout:
 *   (default)  readable tables: visits per day and channel, first-visit outcomes, registrations,
 *              the funnel per channel, conflicts, deals and commission per month and agent
 *              (amounts in yuan); the same figures as the CSV, laid out for a terminal
 *   --csv      the report as CSV sections (fv_ledger_report_csv; RFC 4180, CRLF line ends)
 *   --json     the report as one JSON object on one line (fv_ledger_report_json)
 *   --impact   the impact assessment as Markdown (fv_ledger_report_impact), with the live
 *              counts and the warnings at 80,000 / 100,000 persons with stored faces
 * Reports hold counts, sums, days and channel and agent names, never a customer's name or
 * phone. The command acts as the site's administrator ("admin:0" in the audit chain, where
 * each report adds one "report.read" entry). It opens the ledger without the template vault
 * for the figures (nothing biometric is read, and a running server keeps the vault), and with
 * the vault for --impact, which counts persons with stored faces.
 * Exit 0 on success, 1 when the site or project cannot be read, 2 on wrong usage (unknown or
 * conflicting options, a day that is not YYYY-MM-DD, --from after --to).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fairvisit/alloc.h"
#include "fairvisit/ledger.h"
#include "fairvisit/strbuf.h"

#define USAGE                                                                                      \
    "usage: fairvisit report --site DIR --project CODE [--from YYYY-MM-DD] [--to YYYY-MM-DD]"      \
    " [--csv | --json | --impact]\n"

typedef enum report_mode { MODE_TEXT, MODE_CSV, MODE_JSON, MODE_IMPACT } report_mode;

typedef struct report_args {
    const char *site, *project, *from, *to;
    report_mode mode;
} report_args;

static int parse(int argc, char **argv, report_args *a) {
    int modes = 0;
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char **value = strcmp(o, "--site") == 0      ? &a->site
                             : strcmp(o, "--project") == 0 ? &a->project
                             : strcmp(o, "--from") == 0    ? &a->from
                             : strcmp(o, "--to") == 0      ? &a->to
                                                           : NULL;
        if (value != NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "fairvisit report: %s needs a value\n" USAGE, o);
                return 2;
            }
            *value = argv[++i];
        } else if (strcmp(o, "--csv") == 0 || strcmp(o, "--json") == 0 ||
                   strcmp(o, "--impact") == 0) {
            a->mode = o[2] == 'c' ? MODE_CSV : o[2] == 'j' ? MODE_JSON : MODE_IMPACT;
            modes++;
        } else {
            fprintf(stderr, "fairvisit report: unknown argument '%s'\n" USAGE, o);
            return 2;
        }
    }
    if (a->site == NULL || a->site[0] == '\0' || a->project == NULL || a->project[0] == '\0') {
        fprintf(stderr, "fairvisit report: --site and --project are required\n" USAGE);
        return 2;
    }
    if (modes > 1) {
        fprintf(stderr, "fairvisit report: choose one of --csv, --json and --impact\n" USAGE);
        return 2;
    }
    if (a->mode == MODE_IMPACT && (a->from != NULL || a->to != NULL)) {
        fprintf(stderr, "fairvisit report: --impact describes the site as it is now; it takes no"
                        " --from or --to\n");
        return 2;
    }
    return 0;
}

/* ---- text: the CSV sections laid out as tables ---------------------------------------------- */

#define MAX_FIELDS 16

typedef struct csv_record {
    char *fields[MAX_FIELDS];
    size_t n_fields;
} csv_record;

/* Reads one RFC 4180 record at *p (in place: fields are NUL-terminated inside the buffer and
 * unquoted). Returns 0 at the end of the input. */
static int next_record(char **p, csv_record *r) {
    char *s = *p;
    if (*s == '\0') return 0;
    r->n_fields = 0;
    for (;;) {
        char *out = s, *start = s;
        if (*s == '"') {
            s++;
            for (;;) {
                if (*s == '\0') break;
                if (*s == '"' && s[1] == '"') {
                    *out++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *out++ = *s++;
                }
            }
        } else {
            while (*s != '\0' && *s != ',' && *s != '\r' && *s != '\n') *out++ = *s++;
        }
        char sep = *s;
        *out = '\0';
        if (r->n_fields < MAX_FIELDS) r->fields[r->n_fields++] = start;
        if (sep == ',') {
            s++;
            continue;
        }
        if (sep == '\r') s++;
        if (*s == '\n') s++;
        break;
    }
    *p = s;
    return 1;
}

/* Display columns of a UTF-8 string: East Asian wide characters count two. */
static size_t display_width(const char *s) {
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t c = *p;
        int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (n > 1) c &= 0xFFu >> (n + 1);
        for (int k = 1; k < n && (p[k] & 0xC0) == 0x80; k++) c = (c << 6) | (p[k] & 0x3F);
        for (int k = 0; k < n && *p; k++) p++;
        bool wide = (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
                    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
                    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                    (c >= 0xFFE0 && c <= 0xFFE6) || c >= 0x20000;
        w += wide ? 2 : 1;
    }
    return w;
}

/* Undoes the CSV's formula guard for the terminal: "'=x" is shown as "=x". */
static const char *unguard(const char *s) {
    return s[0] == '\'' && s[1] != '\0' && strchr("=+-@", s[1]) != NULL ? s + 1 : s;
}

static bool is_number(const char *s) {
    if (*s == '-') s++;
    if (*s == '\0') return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/* "1,234,567.89" of a number of cents. */
static void money(const char *cents, char *out, size_t cap) {
    long long v = strtoll(cents, NULL, 10);
    unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", a / 100);
    size_t n = strlen(digits), k = 0;
    if (v < 0 && k + 1 < cap) out[k++] = '-';
    for (size_t i = 0; i < n && k + 5 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) out[k++] = ',';
        out[k++] = digits[i];
    }
    snprintf(out + k, cap - k, ".%02llu", a % 100);
}

/* The sections after "project", in the order the report has them (an empty section has only its
 * header line, which does not name it). */
static const struct {
    const char *section, *title;
} TITLES[] = {
    {"visits", "Visits per day (UTC+8) and channel"},
    {"first_visit_outcomes", "First-visit outcomes"},
    {"registrations", "Registrations by channel, status and refusal reason"},
    {"funnel", "Funnel: the channel's registrations of the period, followed to visits and deals"},
    {"conflicts", "Conflicts opened in the period"},
    {"deals", "Deals per channel (amounts in yuan)"},
    {"commission", "Commission per month (UTC+8), channel and agent (amounts in yuan)"},
};

#define N_TITLES (sizeof TITLES / sizeof TITLES[0])

typedef struct text_table {
    const char *title;
    csv_record head;
    csv_record *rows;
    size_t n_rows, cap;
} text_table;

static void print_table(FILE *f, const text_table *t) {
    fprintf(f, "\n%s\n", t->title);
    if (t->n_rows == 0) {
        fprintf(f, "  (none)\n");
        return;
    }
    size_t nc = t->head.n_fields, width[MAX_FIELDS] = {0};
    bool numeric[MAX_FIELDS], cents[MAX_FIELDS];
    char names[MAX_FIELDS][64], cells[MAX_FIELDS][160];
    for (size_t c = 1; c < nc; c++) {
        const char *h = t->head.fields[c];
        size_t hl = strlen(h);
        cents[c] = hl > 6 && strcmp(h + hl - 6, "_cents") == 0;
        snprintf(names[c], sizeof names[c], "%.*s", (int)(cents[c] ? hl - 6 : hl), h);
        width[c] = strlen(names[c]);
        numeric[c] = true;
        for (size_t r = 0; r < t->n_rows; r++) {
            const char *v = c < t->rows[r].n_fields ? t->rows[r].fields[c] : "";
            if (!is_number(v)) numeric[c] = false;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            fprintf(f, " ");
            for (size_t c = 1; c < nc; c++) {
                int w = (int)width[c];
                if (numeric[c])
                    fprintf(f, " %*s", w, names[c]);
                else
                    fprintf(f, " %-*s", w, names[c]);
            }
            fprintf(f, "\n");
        }
        for (size_t r = 0; r < t->n_rows; r++) {
            if (pass == 1) fprintf(f, " ");
            for (size_t c = 1; c < nc; c++) {
                const char *v = c < t->rows[r].n_fields ? t->rows[r].fields[c] : "";
                if (cents[c] && numeric[c]) {
                    money(v, cells[c], sizeof cells[c]);
                    v = cells[c];
                } else {
                    v = unguard(v[0] != '\0' ? v : "-");
                }
                size_t w = display_width(v);
                if (pass == 0) {
                    if (w > width[c]) width[c] = w;
                } else {
                    size_t pad = width[c] > w ? width[c] - w : 0;
                    fprintf(f, " %*s%s%*s", numeric[c] ? (int)pad : 0, "", v,
                            numeric[c] ? 0 : (int)pad, "");
                }
            }
            if (pass == 1) fprintf(f, "\n");
        }
    }
}

/* The project section: code, name, from, to, timezone, as_of. */
static void print_head(FILE *f, const csv_record *r) {
    if (r->n_fields < 7) return;
    fprintf(f, "Project %s: %s\n", unguard(r->fields[1]), unguard(r->fields[2]));
    fprintf(f, "Period: %s to %s (days in %s, inclusive); as of %s\n",
            r->fields[3][0] ? r->fields[3] : "the start", r->fields[4][0] ? r->fields[4] : "now",
            r->fields[5], r->fields[6]);
}

/* Lays out the CSV report (modified in place) as text tables. -1: out of memory. */
static int print_text(FILE *f, char *csv) {
    char *p = csv;
    csv_record rec;
    text_table t = {0};
    int section = -1; /* headers seen - 1: 0 is the project, then TITLES in order */
    while (next_record(&p, &rec)) {
        if (rec.n_fields == 0) continue;
        if (strcmp(rec.fields[0], "section") == 0) {
            if (section >= 1) print_table(f, &t);
            section++;
            t.title = section >= 1 && (size_t)section <= N_TITLES ? TITLES[section - 1].title
                                                                  : "(more figures)";
            t.head = rec;
            t.n_rows = 0;
        } else if (section == 0) {
            print_head(f, &rec);
        } else {
            if (t.n_rows == t.cap) {
                size_t cap = t.cap ? 2 * t.cap : 64;
                csv_record *rows = fv_realloc(t.rows, cap * sizeof *rows);
                if (rows == NULL) {
                    fv_free(t.rows);
                    return -1;
                }
                t.rows = rows;
                t.cap = cap;
            }
            t.rows[t.n_rows++] = rec;
        }
    }
    if (section >= 1) print_table(f, &t);
    fv_free(t.rows);
    return 0;
}

int fv_cli_report(int argc, char **argv) {
    report_args a;
    int rc = parse(argc, argv, &a);
    if (rc != 0) return rc;
    fv_ledger_options opt = {.no_vault = a.mode != MODE_IMPACT};
    fv_ledger *l = NULL;
    fv_status st = fv_ledger_open(a.site, &opt, &l);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit report: cannot open the ledger of site '%s': %s (%s)\n", a.site,
                fv_ledger_errmsg(l), fv_status_name(st));
        fv_ledger_close(l);
        return 1;
    }
    int64_t project = 0;
    st = fv_ledger_project_find(l, a.project, &project);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit report: no project '%s' in site '%s'%s%s\n", a.project, a.site,
                st == FV_ERR_NOT_FOUND ? "" : ": ",
                st == FV_ERR_NOT_FOUND ? "" : fv_ledger_errmsg(l));
        fv_ledger_close(l);
        return 1;
    }
    const fv_ledger_actor admin = {FV_LEDGER_ROLE_ADMIN, 0};
    fv_strbuf b = {0};
    switch (a.mode) {
    case MODE_JSON:
        st = fv_ledger_report_json(l, &admin, project, a.from, a.to, &b);
        break;
    case MODE_IMPACT:
        st = fv_ledger_report_impact(l, &admin, project, &b);
        break;
    case MODE_CSV:
    case MODE_TEXT:
        st = fv_ledger_report_csv(l, &admin, project, a.from, a.to, &b);
        break;
    }
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit report: %s%s (%s)\n", st == FV_ERR_ARG ? "bad period: " : "",
                fv_ledger_errmsg(l), fv_status_name(st));
        rc = st == FV_ERR_ARG ? 2 : 1;
    } else if (a.mode == MODE_TEXT) {
        if (print_text(stdout, b.s) != 0) {
            fprintf(stderr, "fairvisit report: out of memory printing the report\n");
            rc = 1;
        }
    } else {
        fputs(b.s, stdout);
        if (a.mode == MODE_JSON) fputc('\n', stdout);
    }
    fv_sb_free(&b);
    fv_ledger_close(l);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "fairvisit report: cannot write the report to standard output\n");
        rc = 1;
    }
    return rc;
}
