/*
 * server.c - the libmicrohttpd glue: listeners, body collection with limits, routing,
 * authentication, role and CSRF checks, response headers, the access log, the purge thread, and
 * graceful stop.
 *
 * Model: one thread per connection (MHD_USE_THREAD_PER_CONNECTION), capped in number overall and
 * per client address, with an idle timeout; so a slow face check-in never stalls other
 * connections. A body larger than its route's limit is discarded as it arrives and answered 413;
 * a route that does not exist is 404 (405 for a known path with another method). JSON endpoints
 * need Content-Type application/json on every state change, which together with SameSite=Strict
 * cookies and the X-CSRF-Token header closes cross-site requests. Responses carry nosniff,
 * no-referrer, frame denial and a strict content security policy; API responses are not cached.
 * The access log names the method (a known one, else OTHER), the route pattern (never the URL's
 * ids or query), the status, the size and the time; nothing personal, nothing the client typed.
 * Threading: the access handler runs on MHD's connection threads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "http-impl.h"

#define DEFAULT_MAX_BODY   (64 * 1024)
#define DEFAULT_MAX_UPLOAD (8 * 1024 * 1024)

static const fv__http_route *const TABLES[] = {
    fv__http_routes_auth,      fv__http_routes_admin, fv__http_routes_kiosk,
    fv__http_routes_reception, fv__http_routes_agent, fv__http_routes_reports,
    fv__http_routes_me,        fv__http_routes_web,
};

int64_t fv__http_now(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- routing -------------------------------------------------------------------------------- */

static fv__http_method method_of(const char *m) {
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) return FV__HTTP_GET;
    if (strcmp(m, "POST") == 0) return FV__HTTP_POST;
    if (strcmp(m, "PUT") == 0) return FV__HTTP_PUT;
    if (strcmp(m, "DELETE") == 0) return FV__HTTP_DELETE;
    return FV__HTTP_OTHER;
}

/* Matches url against pattern; captures go to c->params (copied into c->param_buf). */
static bool match(const char *pattern, const char *url, fv__http_ctx *c) {
    size_t used = 0;
    int np = 0;
    const char *p = pattern, *u = url;
    while (*p != '\0' && *u != '\0') {
        if (*p == ':') {
            while (*p != '\0' && *p != '/') p++;
            const char *start = u;
            while (*u != '\0' && *u != '/') u++;
            size_t n = (size_t)(u - start);
            if (n == 0 || np >= FV__HTTP_MAX_PARAMS || used + n + 1 > sizeof c->param_buf)
                return false;
            memcpy(c->param_buf + used, start, n);
            c->param_buf[used + n] = '\0';
            c->params[np++] = c->param_buf + used;
            used += n + 1;
        } else if (*p++ != *u++) {
            return false;
        }
    }
    return *p == '\0' && *u == '\0';
}

static const fv__http_route *find_route(fv__http_ctx *c, bool *path_known) {
    *path_known = false;
    for (size_t t = 0; t < sizeof TABLES / sizeof TABLES[0]; t++)
        for (const fv__http_route *r = TABLES[t]; r->pattern != NULL; r++) {
            fv__http_ctx scratch;
            if (!match(r->pattern, c->url, &scratch)) continue;
            *path_known = true;
            if (r->method != c->method) continue;
            match(r->pattern, c->url, c);
            c->pattern = r->pattern;
            return r;
        }
    return NULL;
}

const char *fv__http_param(fv__http_ctx *c, const char *name) {
    /* Captures are numbered in pattern order. */
    int i = 0;
    for (const char *p = c->pattern; p != NULL && *p != '\0'; p++) {
        if (*p != ':') continue;
        size_t n = strcspn(p + 1, "/");
        if (strlen(name) == n && strncmp(p + 1, name, n) == 0)
            return i < FV__HTTP_MAX_PARAMS ? c->params[i] : NULL;
        i++;
    }
    return NULL;
}

bool fv__http_param_id(fv__http_ctx *c, const char *name, int64_t *out) {
    const char *s = fv__http_param(c, name);
    char *end = NULL;
    errno = 0;
    long long v = s != NULL ? strtoll(s, &end, 10) : 0;
    if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || v <= 0 || s[0] == '+') {
        fv__http_error(c, 400, "bad_id", "'%s' must be a positive integer", name);
        return false;
    }
    *out = v;
    return true;
}

int64_t fv__http_project(fv__http_ctx *c, const char *name) {
    const char *code = fv__http_param(c, name);
    int64_t id = 0;
    if (code == NULL || fv_ledger_project_find(c->srv->ledger, code, &id) != FV_OK) {
        fv__http_error(c, 404, "project_not_found", "no such project");
        return 0;
    }
    return id;
}

/* ---- responses ------------------------------------------------------------------------------- */

void fv__http_error(fv__http_ctx *c, int status, const char *code, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fv_wipe(c->out.s, c->out.cap);
    c->out.len = 0;
    if (c->out.s != NULL) c->out.s[0] = '\0';
    c->raw = NULL;
    c->status = status;
    c->content_type = "application/json";
    fv_sb_printf(&c->out, "{\"error\": {\"code\": ");
    fv_sb_json_string(&c->out, code);
    fv_sb_printf(&c->out, ", \"message\": ");
    fv_sb_json_string(&c->out, msg);
    fv_sb_printf(&c->out, "}}");
}

void fv__http_ledger_error(fv__http_ctx *c, fv_status st) {
    int status = st == FV_ERR_ARG || st == FV_ERR_FORMAT ? 400
                 : st == FV_ERR_NOT_FOUND                ? 404
                 : st == FV_ERR_STATE                    ? 409
                 : st == FV_ERR_LIMIT                    ? 429
                 : st == FV_ERR_NOMEM                    ? 503
                                                         : 500;
    const char *code = st == FV_ERR_ARG || st == FV_ERR_FORMAT ? "invalid_request"
                       : st == FV_ERR_NOT_FOUND                ? "not_found"
                       : st == FV_ERR_STATE                    ? "refused"
                       : st == FV_ERR_LIMIT                    ? "rate_limited"
                                                               : "server_error";
    /* The ledger's message hangs off the shared handle: another connection's call may have
     * cleared it (or replaced it) since this call returned; an empty one falls back to the
     * status's own message. */
    const char *msg = fv_ledger_errmsg(c->srv->ledger);
    if (msg[0] == '\0') msg = fv_status_message(st);
    fv__http_error(c, status, code, "%s", status >= 500 ? fv_status_message(st) : msg);
}

void fv__http_add_header(fv__http_ctx *c, const char *fmt, ...) {
    if (c->n_headers >= (int)(sizeof c->headers / sizeof c->headers[0])) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->headers[c->n_headers++], sizeof c->headers[0], fmt, ap);
    va_end(ap);
}

const char *fv__http_query(fv__http_ctx *c, const char *name) {
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *fv__http_header(fv__http_ctx *c, const char *name) {
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

fv_json_doc *fv__http_body(fv__http_ctx *c, const fv_json_field *fields, size_t n) {
    const char *ct = fv__http_header(c, "Content-Type");
    if (ct == NULL || strncmp(ct, "application/json", 16) != 0) {
        fv__http_error(c, 415, "unsupported_media_type", "the body must be application/json");
        return NULL;
    }
    fv_json_doc *doc = NULL;
    fv_json_error err;
    fv_json_limits lim = {c->srv->opt.max_body, 16, 10000, 16384};
    fv_status st = fv_json_parse(c->body, c->body_len, &lim, &doc, &err);
    if (st != FV_OK) {
        fv__http_error(c,
                       st == FV_ERR_LIMIT   ? 413
                       : st == FV_ERR_NOMEM ? 503
                                            : 400,
                       err.code, "%s", err.message);
        return NULL;
    }
    if (fv_json_check_object(fv_json_root(doc), fields, n, &err) != FV_OK) {
        fv__http_error(c, 400, err.code, "%s", err.message);
        fv_json_free(doc);
        return NULL;
    }
    return doc;
}

void fv__http_hash_key(const fv_http_server *s, const char *prefix, const char *text,
                       char out[48]) {
    uint8_t h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, strlen(text), s->hash_key,
                       sizeof s->hash_key);
    int n = snprintf(out, 48, "%.14s:", prefix);
    for (size_t i = 0; i < sizeof h && n + 2 < 48; i++)
        n += snprintf(out + n, 48 - (size_t)n, "%02x", h[i]);
}

/* ---- authentication ---------------------------------------------------------------------------
 */

static void principal_from_user(fv__http_principal *p, const fv_ledger_user *u) {
    memset(p, 0, sizeof *p);
    p->authenticated = true;
    p->user_id = u->id;
    p->role = u->role;
    p->scope_id = u->scope_id;
    snprintf(p->login, sizeof p->login, "%s", u->login);
}

static void authenticate(fv__http_ctx *c) {
    memset(&c->who, 0, sizeof c->who);
    const char *auth = fv__http_header(c, "Authorization");
    if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0) {
        fv_ledger_user u;
        if (fv_ledger_token_check(c->srv->ledger, auth + 7, &u) == FV_OK) {
            principal_from_user(&c->who, &u);
            c->who.via_token = true;
        }
    } else {
        const char *tok = MHD_lookup_connection_value(c->conn, MHD_COOKIE_KIND, "fv_session");
        if (tok != NULL) fv__http_session_get(c->srv->sessions, tok, fv__http_now(), &c->who);
    }
    c->actor.role = c->who.role;
    c->actor.id = c->who.role == FV_LEDGER_ROLE_AGENT ||
                          c->who.role == FV_LEDGER_ROLE_CHANNEL_MANAGER ||
                          c->who.role == FV_LEDGER_ROLE_VISITOR
                      ? c->who.scope_id
                      : c->who.user_id;
}

/* ---- the access handler ------------------------------------------------------------------------
 */

typedef struct req_state {
    fv__http_ctx c;
    char *body;
    size_t len, cap, limit;
    bool too_large, known_path;
    const fv__http_route *route;
    int64_t t0;
} req_state;

/* The method as logged: a known one, else "OTHER" (the client's bytes never reach the log). */
static const char *log_method(const char *m) {
    static const char *const KNOWN[] = {"GET",     "HEAD",  "POST",  "PUT",    "DELETE",
                                        "OPTIONS", "PATCH", "TRACE", "CONNECT"};
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        if (strcmp(m, KNOWN[i]) == 0) return KNOWN[i];
    return "OTHER";
}

static void access_log(fv_http_server *s, const req_state *r, const char *method, size_t bytes) {
    char when[32];
    time_t t = (time_t)(r->t0 / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    FILE *f = s->opt.access_log != NULL ? s->opt.access_log : stderr;
    pthread_mutex_lock(&s->log_mu);
    fprintf(f, "%s %s %s %s %d %zu %lldms\n", when, r->c.tls ? "https" : "http", log_method(method),
            r->c.pattern != NULL ? r->c.pattern : "(no route)", r->c.status, bytes,
            (long long)(fv__http_now() - r->t0));
    fflush(f);
    pthread_mutex_unlock(&s->log_mu);
}

static enum MHD_Result respond(fv_http_server *s, req_state *r, const char *method) {
    fv__http_ctx *c = &r->c;
    const void *data = c->raw != NULL ? c->raw : c->out.s;
    size_t len = c->raw != NULL ? c->raw_len : c->out.len;
    if (c->out.oom) {
        fv__http_error(c, 503, "out_of_memory", "out of memory");
        data = c->out.s;
        len = c->out.s != NULL ? c->out.len : 0;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)(data != NULL ? data : ""),
        c->raw != NULL ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) return MHD_NO;
    const char *ct = c->content_type != NULL ? c->content_type : "application/json";
    MHD_add_response_header(resp, "Content-Type", ct);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' "
                            "blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
                            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    MHD_add_response_header(resp, "Permissions-Policy",
                            strncmp(c->url, "/kiosk", 6) == 0 || strncmp(c->url, "/agent", 6) == 0
                                ? "camera=(self)" /* the kiosk's capture; the agent's QR scan */
                                : "camera=()");
    if (strncmp(c->url, "/api/", 5) == 0 || c->raw == NULL)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (c->tls) MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
    for (int i = 0; i < c->n_headers; i++) {
        char *colon = strchr(c->headers[i], ':');
        if (colon == NULL) continue;
        *colon = '\0';
        MHD_add_response_header(resp, c->headers[i], colon + 1 + (colon[1] == ' '));
    }
    enum MHD_Result ret = MHD_queue_response(c->conn, (unsigned)c->status, resp);
    MHD_destroy_response(resp);
    access_log(s, r, method, len);
    return ret;
}

static void dispatch(req_state *r) {
    fv__http_ctx *c = &r->c;
    c->status = 200;
    if (r->route == NULL) {
        if (r->known_path)
            fv__http_error(c, 405, "method_not_allowed", "method not allowed here");
        else
            fv__http_error(c, 404, "not_found", "no such resource");
        return;
    }
    if (r->too_large) {
        fv__http_error(c, 413, "body_too_large", "the body is larger than %zu bytes", r->limit);
        return;
    }
    c->body = r->body != NULL ? r->body : "";
    c->body_len = r->len;
    authenticate(c);
    unsigned roles = r->route->roles;
    if (!(roles & FV__HTTP_ANON)) {
        if (!c->who.authenticated) {
            fv__http_error(c, 401, "unauthenticated", "log in first");
            return;
        }
        if (!(roles & FV__HTTP_ROLE(c->who.role))) {
            fv__http_error(c, 403, "forbidden", "the role %s may not do this",
                           c->who.role == FV_LEDGER_ROLE_ADMIN             ? "admin"
                           : c->who.role == FV_LEDGER_ROLE_RECEPTION       ? "reception"
                           : c->who.role == FV_LEDGER_ROLE_CHANNEL_MANAGER ? "channel_manager"
                           : c->who.role == FV_LEDGER_ROLE_AGENT           ? "agent"
                           : c->who.role == FV_LEDGER_ROLE_AUDITOR         ? "auditor"
                           : c->who.role == FV_LEDGER_ROLE_KIOSK           ? "kiosk"
                                                                           : "visitor");
            return;
        }
    }
    if (c->method != FV__HTTP_GET && c->who.authenticated && !c->who.via_token) {
        const char *tok = fv__http_header(c, "X-CSRF-Token");
        if (tok == NULL || strlen(tok) != strlen(c->who.csrf) ||
            sodium_memcmp(tok, c->who.csrf, strlen(c->who.csrf)) != 0) {
            fv__http_error(c, 403, "csrf", "missing or wrong X-CSRF-Token header");
            return;
        }
    }
    r->route->handler(c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
    (void)version;
    fv_http_server *s = cls;
    req_state *r = *con_cls;
    if (r == NULL) {
        r = fv_calloc(1, sizeof *r);
        if (r == NULL) return MHD_NO;
        *con_cls = r;
        r->t0 = fv__http_now();
        r->c.srv = s;
        r->c.conn = conn;
        r->c.method = method_of(method);
        r->c.url = url;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, r->c.ip,
                      sizeof r->c.ip);
        const union MHD_ConnectionInfo *ti =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_PROTOCOL);
        r->c.tls = ti != NULL && ti->protocol != 0;
        r->route = find_route(&r->c, &r->known_path);
        r->limit = r->route != NULL && r->route->max_body ? r->route->max_body : s->opt.max_body;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_large || r->len + n > r->limit) {
            r->too_large = true;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n + 1) cap *= 2;
            if (cap > r->limit + 1) cap = r->limit + 1;
            char *nb = fv_malloc(cap);
            if (nb == NULL) {
                r->too_large = true;
                return MHD_YES;
            }
            if (r->body != NULL) {
                memcpy(nb, r->body, r->len);
                fv_wipe(r->body, r->cap);
                fv_free(r->body);
            }
            r->body = nb;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    dispatch(r);
    return respond(s, r, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    req_state *r = *con_cls;
    if (r == NULL) return;
    if (r->body != NULL) {
        fv_wipe(r->body, r->cap); /* bodies carry phones, names and images */
        fv_free(r->body);
    }
    if (r->c.out.s != NULL) fv_wipe(r->c.out.s, r->c.out.cap);
    fv_sb_free(&r->c.out);
    fv_wipe(&r->c.who, sizeof r->c.who);
    fv_free(r);
    *con_cls = NULL;
}

/* ---- start and stop
 * ------------------------------------------------------------------------------ */

static fv_status fail(fv_http_server *s, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static fv_status fail(fv_http_server *s, fv_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return st;
}

static int parse_addr(const char *spec, struct sockaddr_in *sa) {
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || (size_t)(colon - spec) >= sizeof host) return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535 || colon[1] == '\0') return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return -1;
    return 0;
}

static char *read_text(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tls/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = fv_malloc(65536);
    size_t n = buf != NULL ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf != NULL) buf[n] = '\0';
    return buf;
}

static struct MHD_Daemon *start_daemon(fv_http_server *s, const struct sockaddr_in *sa, bool tls) {
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | (tls ? MHD_USE_TLS : 0);
    if (tls)
        return MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
            MHD_OPTION_CONNECTION_LIMIT, s->opt.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            s->opt.max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, s->opt.timeout_s,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
            MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_CONNECTION_LIMIT, s->opt.max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->opt.max_connections_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, s->opt.timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
}

static unsigned bound_port(struct MHD_Daemon *d) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return di != NULL ? di->port : 0;
}

static void *purge_loop(void *arg) {
    fv_http_server *s = arg;
    fv_ledger_actor sys = {FV_LEDGER_ROLE_SYSTEM, 0};
    pthread_mutex_lock(&s->stop_mu);
    while (!s->stopping) {
        pthread_mutex_unlock(&s->stop_mu);
        fv_ledger_purge_report rep;
        fv_status st = fv_ledger_purge(s->ledger, &sys, &rep);
        pthread_mutex_lock(&s->log_mu);
        FILE *f = s->opt.access_log != NULL ? s->opt.access_log : stderr;
        if (st == FV_OK)
            fprintf(f,
                    "purge: %zu template(s) deleted, %zu day key(s) destroyed, %zu escort(s)"
                    " settled\n",
                    rep.templates_deleted, rep.keys_destroyed, rep.escorts_settled);
        else
            fprintf(f, "purge failed: %s\n", fv_status_name(st));
        fflush(f);
        pthread_mutex_unlock(&s->log_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->opt.purge_interval_s;
        pthread_mutex_lock(&s->stop_mu);
        while (!s->stopping &&
               pthread_cond_timedwait(&s->stop_cv, &s->stop_mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&s->stop_mu);
    return NULL;
}

fv_status fv_http_start(const fv_http_options *opt, fv_http_server **out) {
    *out = NULL;
    if (opt == NULL || opt->site_dir == NULL) return FV_ERR_ARG;
    if (sodium_init() < 0) return FV_ERR_INTERNAL;
    fv_http_server *s = fv_calloc(1, sizeof *s);
    if (s == NULL) return FV_ERR_NOMEM;
    *out = s;
    s->opt = *opt;
    pthread_mutex_init(&s->face_mu, NULL);
    pthread_cond_init(&s->face_cv, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s->n_faces = cores < 1 ? 1 : cores > FV__HTTP_FACES_MAX ? FV__HTTP_FACES_MAX : (int)cores;
    pthread_mutex_init(&s->stop_mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    pthread_cond_init(&s->stop_cv, NULL);
    if (!s->opt.max_body) s->opt.max_body = DEFAULT_MAX_BODY;
    if (!s->opt.max_upload) s->opt.max_upload = DEFAULT_MAX_UPLOAD;
    if (!s->opt.timeout_s) s->opt.timeout_s = 30;
    if (!s->opt.max_connections) s->opt.max_connections = 128;
    if (!s->opt.max_connections_per_ip) s->opt.max_connections_per_ip = 32;
    if (!s->opt.purge_interval_s) s->opt.purge_interval_s = 3600;
    s->site_dir = fv_strdup(opt->site_dir);
    s->opt.site_dir = s->site_dir;
    randombytes_buf(s->hash_key, sizeof s->hash_key);
    if (s->site_dir == NULL) return fail(s, FV_ERR_NOMEM, "out of memory");
    if (opt->listen == NULL && opt->https == NULL)
        return fail(s, FV_ERR_ARG, "nothing to listen on: give --listen and/or --https");
    struct sockaddr_in plain_sa, tls_sa;
    if (opt->listen != NULL) {
        if (parse_addr(opt->listen, &plain_sa) != 0)
            return fail(s, FV_ERR_ARG, "--listen must be IPV4:PORT, e.g. 127.0.0.1:8080");
        if ((ntohl(plain_sa.sin_addr.s_addr) >> 24) != 127)
            return fail(s, FV_ERR_ARG,
                        "plain HTTP listens on loopback only (127.x.x.x); use"
                        " --https for other addresses");
    }
    if (opt->https != NULL && parse_addr(opt->https, &tls_sa) != 0)
        return fail(s, FV_ERR_ARG, "--https must be IPV4:PORT, e.g. 0.0.0.0:8443");
    if (opt->https != NULL) {
        s->cert_pem = read_text(s->site_dir, "cert.pem");
        s->key_pem = read_text(s->site_dir, "key.pem");
        if (s->cert_pem == NULL || s->key_pem == NULL)
            return fail(s, FV_ERR_NOT_FOUND,
                        "the site has no TLS certificate (tls/cert.pem and"
                        " tls/key.pem; fairvisit init makes them)");
    }
    fv_status st = fv_ledger_open(s->site_dir, NULL, &s->ledger);
    if (st != FV_OK) return fail(s, st, "cannot open the site: %s", fv_ledger_errmsg(s->ledger));
    if (fv__http_sessions_new(&s->sessions) != FV_OK || fv__http_limits_new(&s->limits) != FV_OK)
        return fail(s, FV_ERR_NOMEM, "out of memory");
    if (pthread_create(&s->purge_thread, NULL, purge_loop, s) != 0)
        return fail(s, FV_ERR_INTERNAL, "cannot start the purge thread");
    s->purge_running = true;
    if (opt->listen != NULL) {
        s->plain = start_daemon(s, &plain_sa, false);
        if (s->plain == NULL)
            return fail(s, FV_ERR_IO, "cannot listen on %s (in use, or not allowed)", opt->listen);
        s->plain_port = bound_port(s->plain);
    }
    if (opt->https != NULL) {
        s->tls = start_daemon(s, &tls_sa, true);
        if (s->tls == NULL)
            return fail(s, FV_ERR_IO,
                        "cannot listen on %s (in use, not allowed, or a bad"
                        " certificate)",
                        opt->https);
        s->tls_port = bound_port(s->tls);
    }
    return FV_OK;
}

void fv_http_stop(fv_http_server *s) {
    if (s == NULL) return;
    if (s->plain != NULL) MHD_stop_daemon(s->plain);
    if (s->tls != NULL) MHD_stop_daemon(s->tls);
    if (s->purge_running) {
        pthread_mutex_lock(&s->stop_mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->stop_cv);
        pthread_mutex_unlock(&s->stop_mu);
        pthread_join(s->purge_thread, NULL);
    }
    fv__http_liveness_release(s); /* wipes the templates of live liveness checks */
    for (int i = 0; i < FV__HTTP_FACES_MAX; i++) fv_face_engine_close(s->faces[i]);
    fv_ledger_close(s->ledger);
    fv__http_sessions_free(s->sessions);
    fv__http_limits_free(s->limits);
    if (s->key_pem != NULL) {
        fv_wipe(s->key_pem, strlen(s->key_pem));
        fv_free(s->key_pem);
    }
    fv_free(s->cert_pem);
    fv_free(s->site_dir);
    pthread_mutex_destroy(&s->face_mu);
    pthread_cond_destroy(&s->face_cv);
    pthread_mutex_destroy(&s->stop_mu);
    pthread_mutex_destroy(&s->log_mu);
    pthread_cond_destroy(&s->stop_cv);
    sodium_memzero(s->hash_key, sizeof s->hash_key);
    fv_free(s);
}

const char *fv_http_errmsg(const fv_http_server *s) {
    return s != NULL ? s->err : "";
}

unsigned fv_http_port(const fv_http_server *s, int https) {
    return s == NULL ? 0 : https ? s->tls_port : s->plain_port;
}
