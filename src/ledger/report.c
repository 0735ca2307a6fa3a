/*
 * report.c - the ledger's reports: the attribution figures of PRODUCT.md §3 as JSON or CSV, the
 * impact assessment of §4.13 as Markdown, and the count of persons with stored faces (C17).
 *
 * Reports aggregate: they hold counts, sums, days, channel and agent names and the project's
 * code and name, never a customer's name, phone (not even masked), person id or template.
 * Days are the sales office's days (UTC+8); `from` and `to` are inclusive, NULL leaves that end
 * open. Each table filters on its own time: visits on the visit, first-visit outcomes on the
 * first visit, registrations and the funnel on the registration's creation, conflicts on their
 * creation, deals and commission on the signing. "as_of" is the handle's clock when the report
 * was made; it decides which accepted registrations without a visit are expired or still live.
 *
 * JSON (one object):
 *   {"project": {"code", "name"}, "period": {"from", "to", "timezone"}, "as_of",
 *    "visits": [{"day", "channel", "first", "return"}],
 *    "first_visit_outcomes": {"natural", "channel_valid", "channel_invalid", "pending_escort"},
 *    "registrations": [{"channel", "status", "reason", "count"}],
 *    "funnel": [{"channel", "registered", "visited", "channel_valid", "channel_invalid",
 *                "pending_escort", "expired_without_visit", "live", "deals"}],
 *    "conflicts": [{"kind", "status", "count"}],
 *    "deals": [{"channel", "deals", "amount_cents", "flagged", "commission_cents"}],
 *    "commission": [{"month", "channel", "agent", "deals", "amount_cents", "commission_cents"}]}
 *
 * CSV (RFC 4180: CRLF line ends, a field quoted when it holds a comma, a quote, CR or LF, quotes
 * doubled; a text field that starts with = + - or @ gets a leading ' so that a spreadsheet does
 * not run it as a formula): one file holds every table as a section. Each section is a header
 * line whose first field is "section", then its rows, whose first field is the section's name:
 *   section,code,name,from,to,timezone,as_of           project and period (one row)
 *   section,day,channel,first,return                    visits per day, channel and kind
 *   section,natural,channel_valid,channel_invalid,pending_escort
 *                                                       first_visit_outcomes (one row)
 *   section,channel,status,reason,count                 registrations by status and reason
 *   section,channel,registered,visited,channel_valid,channel_invalid,pending_escort,
 *           expired_without_visit,live,deals            funnel (one row per non-natural channel)
 *   section,kind,status,count                           conflicts
 *   section,channel,deals,amount_cents,flagged,commission_cents
 *                                                       deals (one row per channel)
 *   section,month,channel,agent,deals,amount_cents,commission_cents
 *                                                       commission per month, channel and agent
 * The meaning of each column:
 *   from, to: the period's days or empty (open); timezone "UTC+8"; as_of ISO 8601 in UTC+8.
 *   visits: day (YYYY-MM-DD) of the visits, the channel the person is attributed to
 *     ("unattributed" if none), first visits and return visits.
 *   first_visit_outcomes: first visits in the period by the outcome of their attribution.
 *   registrations: channel, status (accepted/refused), the refusal reason (empty when
 *     accepted), number of registrations.
 *   funnel: of the channel's accepted registrations made in the period: registered (all),
 *     visited (the person came), their outcomes channel_valid / channel_invalid / pending_escort,
 *     expired_without_visit and live (no visit yet, window open at as_of), and deals: deals
 *     attributed to the channel whose buyers include a person who came through one of those
 *     registrations (signed at any time).
 *   conflicts: kind, status, number of conflicts opened in the period.
 *   deals: deals signed in the period attributed to the channel, their amount, how many are
 *     flagged (a buyer visited before the registration), and the commission owed.
 *   commission: per month (YYYY-MM, UTC+8) of signing, channel and agent (empty: none): deals,
 *     amount and commission in cents.
 *
 * The impact assessment (Markdown) names the project and its controller and has: 1 purpose
 * (attribution only), 2 necessity and alternatives (phone path, face-free mode), 3 data held,
 * 4 retention (the project's settings), 5 safeguards, 6 live counts of the project (persons,
 * with a phone, deleted, consents live / withdrawn, visits, registrations holding sealed data,
 * deals), 7 live counts of the site (templates and persons with stored faces from the vault,
 * audit entries), 8 the C17 line: "**WARNING**" from 80,000 persons with stored faces,
 * "**FILING REQUIRED**" from 100,000 (filing within 30 working days), else a line saying the
 * count is below both; without the vault, a line saying the count was not checked.
 *
 * Who may read: admin, auditor and scheduled jobs (system). A report's reads run in one read
 * transaction (a consistent snapshot that does not block writers, ledger.db being in WAL mode);
 * then one "report.read" entry is appended to the audit chain in a write transaction of its
 * own, and the report reaches the caller's buffer exactly when that entry commits: on any
 * failure the buffer is left as it was (or marked out of memory).
 * Threading: public calls lock the handle. The impact thresholds are process-wide (tests only).
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fairvisit/alloc.h"
#include "ledger-impl.h"

/* COMPLIANCE C17: warn at 80,000 persons with stored faces; filing at 100,000 (FRM art. 15). */
#define FACE_WARN_AT_DEFAULT 80000
#define FACE_FILE_AT_DEFAULT 100000

static _Atomic int64_t face_warn_at = FACE_WARN_AT_DEFAULT;
static _Atomic int64_t face_file_at = FACE_FILE_AT_DEFAULT;

void fv__ledger_impact_thresholds(int64_t warn_at, int64_t file_at) {
    atomic_store(&face_warn_at, warn_at > 0 ? warn_at : FACE_WARN_AT_DEFAULT);
    atomic_store(&face_file_at, file_at > 0 ? file_at : FACE_FILE_AT_DEFAULT);
}

/* ---- period, permissions -------------------------------------------------------------------- */

typedef struct period {
    const char *from, *to; /* as given (validated), NULL for open ends */
    int64_t lo, hi;        /* Unix ms, [lo, hi) */
} period;

static fv_status parse_period(fv_ledger *l, const char *from, const char *to, period *p) {
    int64_t d0 = 0, d1 = 0;
    p->from = from;
    p->to = to;
    p->lo = INT64_MIN;
    p->hi = INT64_MAX;
    if (from != NULL) {
        if (fv__ledger_parse_day(from, &d0) != FV_OK)
            return fv__ledger_fail(l, FV_ERR_ARG, "from: not a valid day (YYYY-MM-DD, 1970 on)");
        p->lo = d0 * FV__LEDGER_DAY_MS - FV__LEDGER_TZ_MS;
    }
    if (to != NULL) {
        if (fv__ledger_parse_day(to, &d1) != FV_OK)
            return fv__ledger_fail(l, FV_ERR_ARG, "to: not a valid day (YYYY-MM-DD, 1970 on)");
        p->hi = (d1 + 1) * FV__LEDGER_DAY_MS - FV__LEDGER_TZ_MS;
    }
    if (from != NULL && to != NULL && d0 > d1)
        return fv__ledger_fail(l, FV_ERR_ARG, "from is after to");
    return FV_OK;
}

/* Figures (counts, sums, channel and agent names): admin, auditor and reception (the office runs
 * on them); the impact assessment: admin and auditor. */
static fv_status may_read(fv_ledger *l, const fv_ledger_actor *who, bool impact) {
    if (who == NULL) return fv__ledger_fail(l, FV_ERR_ARG, "no actor given");
    if (who->role == FV_LEDGER_ROLE_ADMIN || who->role == FV_LEDGER_ROLE_AUDITOR ||
        who->role == FV_LEDGER_ROLE_SYSTEM || (!impact && who->role == FV_LEDGER_ROLE_RECEPTION))
        return FV_OK;
    return fv__ledger_fail(l, FV_ERR_STATE,
                           impact ? "this role may not read the impact assessment (admin, auditor)"
                                  : "this role may not read reports (admin, auditor, reception)");
}

/* "2025-03-10T14:05:00+08:00" of a time. */
static void format_time(int64_t ms, char out[32]) {
    int64_t t = ms + FV__LEDGER_TZ_MS;
    time_t s = (time_t)(t >= 0 ? t / 1000 : -((-t + 999) / 1000));
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%S+08:00", &tm) == 0)
        snprintf(out, 32, "?");
}

/* ---- tables --------------------------------------------------------------------------------- */

typedef enum report_format { FORMAT_JSON, FORMAT_CSV } report_format;

typedef enum col_kind {
    COL_INT,  /* integer (NULL: 0) */
    COL_TEXT, /* text (NULL: JSON null, CSV empty) */
    COL_DAY,  /* day number (UTC+8) shown as YYYY-MM-DD */
} col_kind;

typedef struct col {
    const char *name;
    col_kind kind;
} col;

#define MAX_COLS 10

/* One table of the report. Its SQL may use ?1 project, ?2 and ?3 the period's [lo, hi) in ms,
 * ?4 now (as_of), ?5 the UTC+8 offset and ?6 a day, both in ms. */
typedef struct table {
    const char *section;
    bool single; /* one row of totals: a JSON object rather than an array */
    const char *sql;
    col cols[MAX_COLS]; /* up to the first NULL name */
} table;

#define N_PARAMS 6

static const table TABLES[] = {
    {"visits",
     false,
     "SELECT g.d, COALESCE(c.name, 'unattributed'), g.f, g.r FROM (SELECT (v.at + ?5) / ?6 AS d,"
     "  a.channel_id AS ch, SUM(v.kind = 'first') AS f, SUM(v.kind = 'return') AS r FROM visit v"
     "  LEFT JOIN attribution a ON a.person_id = v.person_id"
     "  WHERE v.project_id = ?1 AND v.at >= ?2 AND v.at < ?3 GROUP BY d, a.channel_id) g"
     " LEFT JOIN channel c ON c.id = g.ch ORDER BY g.d, g.ch",
     {{"day", COL_DAY}, {"channel", COL_TEXT}, {"first", COL_INT}, {"return", COL_INT}}},
    {"first_visit_outcomes",
     true,
     "SELECT SUM(a.outcome = 'natural'), SUM(a.outcome = 'channel_valid'),"
     " SUM(a.outcome = 'channel_invalid'), SUM(a.outcome = 'pending_escort')"
     " FROM attribution a JOIN visit v ON v.id = a.first_visit_id"
     " WHERE a.project_id = ?1 AND v.at >= ?2 AND v.at < ?3",
     {{"natural", COL_INT},
      {"channel_valid", COL_INT},
      {"channel_invalid", COL_INT},
      {"pending_escort", COL_INT}}},
    {"registrations",
     false,
     "SELECT c.name, g.status, g.refusal, g.n FROM (SELECT channel_id, status, refusal,"
     "  COUNT(*) AS n FROM registration WHERE project_id = ?1 AND created >= ?2 AND created < ?3"
     "  GROUP BY channel_id, status, refusal) g JOIN channel c ON c.id = g.channel_id"
     " ORDER BY g.channel_id, g.status, g.refusal",
     {{"channel", COL_TEXT}, {"status", COL_TEXT}, {"reason", COL_TEXT}, {"count", COL_INT}}},
    /* The cohort of a channel's accepted registrations of the period, followed to its persons
     * (the registration's visit, or the attribution naming it, as after an overturned conflict)
     * and to the deals of the channel that name one of them as a buyer (deal_buyer holds every
     * buyer, the main one included). Each table is aggregated once, then joined to channels. */
    {"funnel",
     false,
     "WITH reg AS (SELECT id, channel_id, visit_id, outcome, expires FROM registration"
     "  WHERE project_id = ?1 AND status = 'accepted' AND created >= ?2 AND created < ?3),"
     " agg AS (SELECT channel_id, COUNT(*) AS registered,"
     "  SUM(visit_id IS NOT NULL OR outcome IS NOT NULL) AS visited,"
     "  SUM(outcome = 'channel_valid') AS valid, SUM(outcome = 'channel_invalid') AS invalid,"
     "  SUM(outcome = 'pending_escort') AS pending,"
     "  SUM(visit_id IS NULL AND outcome IS NULL AND expires <= ?4) AS expired,"
     "  SUM(visit_id IS NULL AND outcome IS NULL AND expires > ?4) AS live"
     "  FROM reg GROUP BY channel_id),"
     " cohort(channel_id, person_id) AS ("
     "  SELECT r.channel_id, v.person_id FROM reg r JOIN visit v ON v.id = r.visit_id UNION"
     "  SELECT r.channel_id, a.person_id FROM reg r JOIN attribution a ON a.registration_id = "
     "r.id),"
     " won AS (SELECT k.channel_id, COUNT(DISTINCT d.id) AS deals FROM cohort k"
     "  JOIN deal_buyer b ON b.person_id = k.person_id"
     "  JOIN deal d ON d.id = b.deal_id AND d.channel_id = k.channel_id GROUP BY k.channel_id)"
     " SELECT c.name, g.registered, g.visited, g.valid, g.invalid, g.pending, g.expired, g.live,"
     " w.deals FROM channel c LEFT JOIN agg g ON g.channel_id = c.id"
     " LEFT JOIN won w ON w.channel_id = c.id"
     " WHERE c.project_id = ?1 AND c.kind <> 'natural' ORDER BY c.id",
     {{"channel", COL_TEXT},
      {"registered", COL_INT},
      {"visited", COL_INT},
      {"channel_valid", COL_INT},
      {"channel_invalid", COL_INT},
      {"pending_escort", COL_INT},
      {"expired_without_visit", COL_INT},
      {"live", COL_INT},
      {"deals", COL_INT}}},
    {"conflicts",
     false,
     "SELECT kind, status, COUNT(*) FROM conflict"
     " WHERE project_id = ?1 AND created >= ?2 AND created < ?3"
     " GROUP BY kind, status ORDER BY kind, status",
     {{"kind", COL_TEXT}, {"status", COL_TEXT}, {"count", COL_INT}}},
    {"deals",
     false,
     "SELECT c.name, x.deals, x.amount, x.flagged, x.commission FROM channel c"
     " LEFT JOIN (SELECT channel_id, COUNT(*) AS deals, SUM(amount_cents) AS amount,"
     "  SUM(flagged <> 0) AS flagged, SUM(commission_cents) AS commission FROM deal"
     "  WHERE project_id = ?1 AND signed >= ?2 AND signed < ?3 GROUP BY channel_id) x"
     " ON x.channel_id = c.id WHERE c.project_id = ?1 ORDER BY c.id",
     {{"channel", COL_TEXT},
      {"deals", COL_INT},
      {"amount_cents", COL_INT},
      {"flagged", COL_INT},
      {"commission_cents", COL_INT}}},
    {"commission",
     false,
     "SELECT strftime('%Y-%m', (d.signed + ?5) / 1000, 'unixepoch') AS m, c.name, a.name,"
     " COUNT(*), SUM(d.amount_cents), SUM(d.commission_cents) FROM deal d"
     " JOIN channel c ON c.id = d.channel_id LEFT JOIN agent a ON a.id = d.agent_id"
     " WHERE d.project_id = ?1 AND d.signed >= ?2 AND d.signed < ?3"
     " GROUP BY m, d.channel_id, d.agent_id ORDER BY m, d.channel_id, d.agent_id",
     {{"month", COL_TEXT},
      {"channel", COL_TEXT},
      {"agent", COL_TEXT},
      {"deals", COL_INT},
      {"amount_cents", COL_INT},
      {"commission_cents", COL_INT}}},
};

/* Appends s as one CSV field (RFC 4180), defused against spreadsheet formulas. */
static void csv_text(fv_strbuf *b, const char *s) {
    const char *guard = (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') ? "'" : "";
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fv_sb_printf(b, "%s%s", guard, s);
        return;
    }
    fv_sb_printf(b, "\"%s", guard);
    for (const char *p = s; *p; p++) {
        const char *q = strchr(p, '"');
        if (q == NULL) {
            fv_sb_printf(b, "%s", p);
            break;
        }
        fv_sb_printf(b, "%.*s\"\"", (int)(q - p), p);
        p = q;
    }
    fv_sb_printf(b, "\"");
}

static void put_text(fv_strbuf *b, report_format f, const char *s) {
    if (f == FORMAT_JSON) {
        if (s == NULL)
            fv_sb_printf(b, "null");
        else
            fv_sb_json_string(b, s);
    } else if (s != NULL) {
        csv_text(b, s);
    }
}

static void put_cell(fv_strbuf *b, report_format f, sqlite3_stmt *q, int i, col_kind k) {
    if (k == COL_TEXT) {
        put_text(b, f, (const char *)sqlite3_column_text(q, i));
    } else if (k == COL_DAY && sqlite3_column_type(q, i) != SQLITE_NULL) {
        char day[11];
        fv__ledger_format_day(sqlite3_column_int64(q, i), day);
        fv_sb_printf(b, f == FORMAT_JSON ? "\"%s\"" : "%s", day);
    } else if (k == COL_DAY) {
        put_text(b, f, NULL);
    } else {
        fv_sb_printf(b, "%lld", (long long)sqlite3_column_int64(q, i));
    }
}

static fv_status run_table(fv_ledger *l, const table *t, const int64_t par[N_PARAMS],
                           report_format f, fv_strbuf *b) {
    sqlite3_stmt *q = fv__ledger_prepare(l, t->sql);
    if (q == NULL) return FV_ERR_IO;
    int np = sqlite3_bind_parameter_count(q);
    for (int i = 0; i < np && i < N_PARAMS; i++) sqlite3_bind_int64(q, i + 1, par[i]);
    if (f == FORMAT_JSON) {
        fv_sb_printf(b, ", \"%s\": %s", t->section, t->single ? "" : "[");
    } else {
        fv_sb_printf(b, "section");
        for (int c = 0; c < MAX_COLS && t->cols[c].name != NULL; c++)
            fv_sb_printf(b, ",%s", t->cols[c].name);
        fv_sb_printf(b, "\r\n");
    }
    int rc, rows = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (f == FORMAT_JSON)
            fv_sb_printf(b, "%s{", rows > 0 ? ", " : "");
        else
            fv_sb_printf(b, "%s", t->section);
        for (int c = 0; c < MAX_COLS && t->cols[c].name != NULL; c++) {
            if (f == FORMAT_JSON)
                fv_sb_printf(b, "%s\"%s\": ", c > 0 ? ", " : "", t->cols[c].name);
            else
                fv_sb_printf(b, ",");
            put_cell(b, f, q, c, t->cols[c].kind);
        }
        fv_sb_printf(b, f == FORMAT_JSON ? "}" : "\r\n");
        rows++;
    }
    sqlite3_finalize(q);
    if (f == FORMAT_JSON && t->single && rows == 0) fv_sb_printf(b, "null");
    if (f == FORMAT_JSON && !t->single) fv_sb_printf(b, "]");
    return rc == SQLITE_DONE ? FV_OK : fv__ledger_db_fail(l, rc, t->section);
}

static void put_head(fv_strbuf *b, report_format f, const fv_ledger_project_settings *ps,
                     const period *p, int64_t now) {
    char as_of[32];
    format_time(now, as_of);
    if (f == FORMAT_JSON) {
        fv_sb_printf(b, "{\"project\": {\"code\": ");
        fv_sb_json_string(b, ps->code);
        fv_sb_printf(b, ", \"name\": ");
        fv_sb_json_string(b, ps->name);
        fv_sb_printf(b, "}, \"period\": {\"from\": ");
        put_text(b, f, p->from);
        fv_sb_printf(b, ", \"to\": ");
        put_text(b, f, p->to);
        fv_sb_printf(b, ", \"timezone\": \"UTC+8\"}, \"as_of\": \"%s\"", as_of);
    } else {
        fv_sb_printf(b, "section,code,name,from,to,timezone,as_of\r\nproject,");
        csv_text(b, ps->code);
        fv_sb_printf(b, ",");
        csv_text(b, ps->name);
        fv_sb_printf(b, ",%s,%s,UTC+8,%s\r\n", p->from ? p->from : "", p->to ? p->to : "", as_of);
    }
}

static fv_status build(fv_ledger *l, int64_t project, const fv_ledger_project_settings *ps,
                       const period *p, report_format f, fv_strbuf *b) {
    int64_t now = fv__ledger_now(l);
    const int64_t par[N_PARAMS] = {project, p->lo, p->hi, now, FV__LEDGER_TZ_MS, FV__LEDGER_DAY_MS};
    put_head(b, f, ps, p, now);
    for (size_t i = 0; i < sizeof TABLES / sizeof TABLES[0]; i++) {
        fv_status st = run_table(l, &TABLES[i], par, f, b);
        if (st != FV_OK) return st;
    }
    if (f == FORMAT_JSON) fv_sb_printf(b, "}");
    return FV_OK;
}

/* A report's reads run in one read transaction: a consistent snapshot which, ledger.db being in
 * WAL mode, does not hold writers (check-ins at the desk) back while a long report runs. */
static fv_status snapshot_begin(fv_ledger *l) {
    return fv__ledger_exec(l, "BEGIN DEFERRED");
}

static void snapshot_end(fv_ledger *l) {
    if (sqlite3_get_autocommit(l->db) == 0) (void)sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
}

/* Takes a delivered report back out of the caller's buffer (the commit failed). */

static fv_status report(fv_ledger *l, const fv_ledger_actor *who, int64_t project, const char *from,
                        const char *to, report_format f, fv_strbuf *out) {
    if (l == NULL) return FV_ERR_ARG;
    fv__ledger_lock(l);
    fv_strbuf tmp = {0};
    period p;
    fv_ledger_project_settings ps;
    fv_status st = may_read(l, who, false);
    if (st == FV_OK && out == NULL) st = fv__ledger_fail(l, FV_ERR_ARG, "no output buffer");
    if (st == FV_OK) st = parse_period(l, from, to, &p);
    if (st == FV_OK) st = snapshot_begin(l);
    if (st == FV_OK) {
        st = fv__ledger_project_load(l, project, &ps);
        if (st == FV_OK) st = build(l, project, &ps, &p, f, &tmp);
        snapshot_end(l);
    }
    if (st == FV_OK)
        st = fv__ledger_audited_delivery(l, who, "report.read", "project", project, &tmp, out);
    fv_sb_free(&tmp);
    fv__ledger_unlock(l);
    return st;
}

fv_status fv_ledger_report_json(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                const char *from, const char *to, fv_strbuf *out) {
    return report(l, who, project, from, to, FORMAT_JSON, out);
}

fv_status fv_ledger_report_csv(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                               const char *from, const char *to, fv_strbuf *out) {
    return report(l, who, project, from, to, FORMAT_CSV, out);
}

/* ---- persons with faces (C17) ---------------------------------------------------------------- */

/* Lock held. *known = false when the handle has no vault (opened with no_vault). */
static fv_status face_counts(fv_ledger *l, int64_t *persons, int64_t *templates, bool *known) {
    *persons = 0;
    *templates = 0;
    *known = l->vault != NULL;
    if (l->vault == NULL) return FV_OK;
    size_t n = 0;
    fv_status st = fv_vault_count_persons(l->vault, &n);
    if (st != FV_OK) return fv__ledger_fail(l, st, "vault: %s", fv_vault_errmsg(l->vault));
    fv_vault_stats vs;
    fv_vault_get_stats(l->vault, &vs);
    *persons = (int64_t)n;
    *templates = (int64_t)vs.templates;
    return FV_OK;
}

fv_status fv_ledger_face_persons(fv_ledger *l, int64_t *count) {
    if (l == NULL || count == NULL) return FV_ERR_ARG;
    fv__ledger_lock(l);
    int64_t templates = 0;
    bool known = false;
    fv_status st = face_counts(l, count, &templates, &known);
    fv__ledger_unlock(l);
    return st;
}

/* ---- impact assessment ------------------------------------------------------------------------
 */

/* "100,000" */
static void thousands(int64_t v, char out[32]) {
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRId64, v < 0 ? -v : v);
    size_t n = strlen(digits), k = 0;
    if (v < 0) out[k++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

/* Appends text with Markdown's special characters escaped (names are shown as text). */
static void md_text(fv_strbuf *b, const char *s) {
    for (const char *p = s; *p; p++) {
        if (strchr("\\`*_[]<>|~", *p) != NULL)
            fv_sb_printf(b, "\\%c", *p);
        else
            fv_sb_printf(b, "%c", *p);
    }
}

typedef struct impact_counts {
    int64_t persons, persons_phone, persons_deleted, consents_live, consents_withdrawn, visits,
        registrations_sealed, deals, audit_entries;
    int64_t face_persons, templates;
    bool faces_known;
} impact_counts;

static fv_status count_all(fv_ledger *l, int64_t project, impact_counts *c) {
    static const struct {
        const char *sql;
        size_t offset;
    } Q[] = {
        {"SELECT COUNT(*) FROM person WHERE project_id = ? AND deleted IS NULL",
         offsetof(impact_counts, persons)},
        {"SELECT COUNT(*) FROM person WHERE project_id = ? AND deleted IS NULL"
         " AND phone_hash IS NOT NULL",
         offsetof(impact_counts, persons_phone)},
        {"SELECT COUNT(*) FROM person WHERE project_id = ? AND deleted IS NOT NULL",
         offsetof(impact_counts, persons_deleted)},
        {"SELECT COUNT(*) FROM consent WHERE project_id = ? AND withdrawn IS NULL",
         offsetof(impact_counts, consents_live)},
        {"SELECT COUNT(*) FROM consent WHERE project_id = ? AND withdrawn IS NOT NULL",
         offsetof(impact_counts, consents_withdrawn)},
        {"SELECT COUNT(*) FROM visit WHERE project_id = ?", offsetof(impact_counts, visits)},
        {"SELECT COUNT(*) FROM registration WHERE project_id = ?"
         " AND (name_ct IS NOT NULL OR phone_ct IS NOT NULL)",
         offsetof(impact_counts, registrations_sealed)},
        {"SELECT COUNT(*) FROM deal WHERE project_id = ?", offsetof(impact_counts, deals)},
        {"SELECT COUNT(*) FROM audit", offsetof(impact_counts, audit_entries)}, /* site-wide */
    };
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
        int64_t *dst = (int64_t *)((char *)c + Q[i].offset);
        fv_status st = fv__ledger_query_i64(l, Q[i].sql, dst, 1, project);
        if (st != FV_OK) return st;
    }
    return face_counts(l, &c->face_persons, &c->templates, &c->faces_known);
}

static void row(fv_strbuf *b, const char *what, int64_t n) {
    char t[32];
    thousands(n, t);
    fv_sb_printf(b, "| %s | %s |\n", what, t);
}

static void impact_warning(fv_strbuf *b, const impact_counts *c) {
    char n[32], warn[32], file[32];
    int64_t warn_at = atomic_load(&face_warn_at), file_at = atomic_load(&face_file_at);
    thousands(c->face_persons, n);
    thousands(warn_at, warn);
    thousands(file_at, file);
    fv_sb_printf(b, "## 8. Persons with stored faces: filing threshold (C17)\n\n");
    if (!c->faces_known) {
        fv_sb_printf(b, "Not checked: this report was made without the template vault. Run it"
                        " on the site's server (with the vault) to count persons with stored"
                        " faces.\n\n");
        return;
    }
    if (c->face_persons >= file_at)
        fv_sb_printf(b,
                     "**FILING REQUIRED**: this site holds the faces of %s persons, at or above"
                     " the filing threshold of %s persons. Within 30 working days, file with"
                     " the cyberspace administration at or above the provincial level (2025"
                     " Measures for the Security Management of Face Recognition Technology"
                     " Applications, art. 15), or bring the number down: shorter retention,"
                     " face-free mode.\n\n",
                     n, file);
    else if (c->face_persons >= warn_at)
        fv_sb_printf(b,
                     "**WARNING**: this site holds the faces of %s persons; at %s persons it"
                     " must file with the cyberspace administration within 30 working days"
                     " (2025 Measures, art. 15). Prepare the filing, or shorten retention or"
                     " switch projects to face-free mode.\n\n",
                     n, file);
    else
        fv_sb_printf(b,
                     "This site holds the faces of %s persons: below the warning level (%s)"
                     " and the filing threshold (%s persons; filing within 30 working days of"
                     " reaching it).\n\n",
                     n, warn, file);
}

static void impact_text(fv_strbuf *b, const fv_ledger_project_settings *ps, const impact_counts *c,
                        int64_t now) {
    char at[32];
    format_time(now, at);
    fv_sb_printf(b, "# Personal information protection impact assessment: ");
    md_text(b, ps->name);
    fv_sb_printf(b, " (");
    md_text(b, ps->code);
    fv_sb_printf(b,
                 ")\n\nMade by fairvisit on %s (PIPL arts. 55-56; 2025 Measures for the"
                 " Security Management of Face Recognition Technology Applications). Keep it"
                 " with the processing records for at least 3 years.\n\n",
                 at);
    fv_sb_printf(b, "Personal information controller: ");
    md_text(b, ps->controller[0] ? ps->controller : "(not set in the project settings)");
    fv_sb_printf(b, "; contact: ");
    md_text(b, ps->controller_contact[0] ? ps->controller_contact : "(not set)");
    fv_sb_printf(b, ".\n\n");

    fv_sb_printf(b,
                 "## 1. Purpose\n\n"
                 "Attribution only: deciding which sales channel (natural visit, agency, referral,"
                 " online source) a visitor of the sales office belongs to, so that registrations,"
                 " visits, deals and commissions are judged by fixed rules (first touch wins) and"
                 " disputes can be reviewed with evidence. Face data is used for nothing else: no"
                 " profiling, no marketing, no evaluation of a person's finances, preferences,"
                 " health or behaviour, and no sharing with channels or the developer group (which"
                 " receive pseudonymous attribution data only).\n\n");
    fv_sb_printf(
        b, "## 2. Necessity and alternatives\n\n"
           "Channels dispute who brought a customer; the same person registered by two channels,"
           " or a customer who first came alone and is later registered by an agent, is"
           " counted twice unless visits are recognised. A verified phone number settles most"
           " cases, and fairvisit works on phones alone: face recognition is optional for"
           " every visitor (declining changes nothing about how they are served; a one-time"
           " code or reception confirms the phone instead), and a project can turn it off"
           " entirely (face-free mode: no model loaded, no camera endpoint). Faces are only"
           " compared 1:N within this project's consented templates.\n\n");
    fv_sb_printf(b, "Face recognition in this project: **%s**.\n\n",
                 ps->face_free ? "off (face-free mode)" : "on, with explicit consent");
    fv_sb_printf(b,
                 "## 3. Data held\n\n"
                 "| data | form |\n| --- | --- |\n"
                 "| face | a 512-number template only (never a photo or video): multiplied by the"
                 " site's secret orthogonal matrix and encrypted (XChaCha20-Poly1305) with a key of"
                 " its project and day; kept on this machine only |\n"
                 "| phone | a keyed hash (BLAKE2b, to match) and an encrypted copy (for authorised"
                 " display); shown masked (138\\*\\*\\*\\*1234) everywhere else |\n"
                 "| customer name (registrations) | encrypted |\n"
                 "| person | a random pseudonymous id; no name |\n"
                 "| consent | notice version and text hash, time, device, method, age attestation"
                 " and guardian consent |\n"
                 "| visits, attributions, conflicts, deals | times, channels, agents, amounts,"
                 " outcomes and evidence (ids, times, scores; never an image) |\n"
                 "| audit chain | who did what to which record (ids only), hash-chained |\n\n");
    fv_sb_printf(b,
                 "## 4. Retention\n\n"
                 "- Face templates: %d day(s) after capture; then the day's key is destroyed"
                 " (crypto-shredding), so copies in old backups are unreadable too. The purge"
                 " runs automatically, is idempotent and records what it destroyed.\n"
                 "- A registration protects its channel for %d day(s); after the first visit"
                 " the attribution protects the channel for a deal window of %d day(s); an"
                 " escort must be confirmed within %d minute(s) of check-in.\n"
                 "- One-time codes live %d second(s).\n"
                 "- Attribution and processing records (no biometric data) are kept at least 3"
                 " years; a person can have their phone, names and templates deleted, leaving"
                 " pseudonymous records.\n\n",
                 ps->retention_days, ps->protection_days, ps->deal_window_days,
                 ps->escort_window_minutes, ps->otp_ttl_seconds);
    fv_sb_printf(
        b,
        "## 5. Safeguards\n\n"
        "- Consent before capture: a separate notice (who, purpose, method, what is stored,"
        " retention, rights; Chinese and English), then an explicit consent record; without"
        " one the system refuses to process a face. Under %d, a guardian's consent.\n"
        "- A face-free option for every visitor, and face-free mode for the project.\n"
        "- Templates only; images are never written to disk or logs and are wiped after"
        " use.\n"
        "- Encryption at rest with keys per project and day; crypto-shredding at expiry.\n"
        "- Rights: a visitor sees what is held, withdraws consent and has their template"
        " deleted at once, from the code on their check-in slip.\n"
        "- Tamper-evident audit chain of every biometric operation and every access to"
        " personal data; `fairvisit audit verify` finds any edit or gap.\n"
        "- Roles with least privilege (admin, reception, channel manager, agent, auditor);"
        " agents see only their own registrations, with masked phones.\n"
        "- Local only: templates never leave this machine; no cloud service.\n\n",
        ps->guardian_age);
    fv_sb_printf(b, "## 6. Live counts (this project)\n\n| | count |\n| --- | --- |\n");
    row(b, "persons", c->persons);
    row(b, "persons with a phone", c->persons_phone);
    row(b, "persons deleted on request", c->persons_deleted);
    row(b, "consents live", c->consents_live);
    row(b, "consents withdrawn", c->consents_withdrawn);
    row(b, "visits", c->visits);
    row(b, "registrations holding an encrypted name or phone", c->registrations_sealed);
    row(b, "deals", c->deals);
    fv_sb_printf(b, "\n## 7. Live counts (this site, all projects)\n\n| | count |\n"
                    "| --- | --- |\n");
    if (c->faces_known) {
        row(b, "face templates stored", c->templates);
        row(b, "persons with stored faces", c->face_persons);
    } else {
        fv_sb_printf(b, "| face templates stored | not available (no vault) |\n"
                        "| persons with stored faces | not available (no vault) |\n");
    }
    row(b, "audit entries", c->audit_entries);
    fv_sb_printf(b, "\n");
    impact_warning(b, c);
}

fv_status fv_ledger_report_impact(fv_ledger *l, const fv_ledger_actor *who, int64_t project,
                                  fv_strbuf *out) {
    if (l == NULL) return FV_ERR_ARG;
    fv__ledger_lock(l);
    fv_strbuf tmp = {0};
    fv_ledger_project_settings ps;
    impact_counts c;
    fv_status st = may_read(l, who, true);
    if (st == FV_OK && out == NULL) st = fv__ledger_fail(l, FV_ERR_ARG, "no output buffer");
    if (st == FV_OK) st = snapshot_begin(l);
    if (st == FV_OK) {
        st = fv__ledger_project_load(l, project, &ps);
        if (st == FV_OK) st = count_all(l, project, &c);
        if (st == FV_OK) impact_text(&tmp, &ps, &c, fv__ledger_now(l));
        snapshot_end(l);
    }
    if (st == FV_OK)
        st = fv__ledger_audited_delivery(l, who, "report.read", "project", project, &tmp, out);
    fv_sb_free(&tmp);
    fv__ledger_unlock(l);
    return st;
}
