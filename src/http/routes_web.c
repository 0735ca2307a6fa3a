/*
 * routes_web.c - the web pages: GET / and the page paths (/kiosk, /reception, ...) answer the
 * HTML files of web/, GET /static/<file> the scripts, styles and images of web/static/, all
 * embedded in the binary at build time (cmake/web.cmake, web-assets.h; docs/web.md).
 *
 * The pages hold no data (it comes from the JSON API after login), so every route is open to
 * anonymous callers. Bodies point at the embedded arrays (static storage, never copied). Every
 * response carries the file's ETag and "Cache-Control: no-cache": the browser keeps its copy and
 * revalidates it, and a request with a matching If-None-Match gets 304 without a body, so a new
 * binary's files are picked up at once and an unchanged page costs one small round trip.
 * Threading: handlers run on connection threads and read only constant data.
 */
#include <string.h>

#include "http-impl.h"
#include "web-assets.h"

static const fv__web_asset *asset_find(const char *path) {
    size_t lo = 0, hi = fv__web_n_assets;
    while (lo < hi) { /* the table is sorted by path (strcmp order, as CMake sorts) */
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(fv__web_assets[mid].path, path);
        if (cmp == 0) return &fv__web_assets[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *content_type(const char *path) {
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot == NULL) return "application/octet-stream";
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strcmp(dot, TYPES[i].ext) == 0) return TYPES[i].type;
    return "application/octet-stream";
}

static void serve(fv__http_ctx *c, const char *path) {
    const fv__web_asset *a = asset_find(path);
    if (a == NULL) {
        fv__http_error(c, 404, "not_found", "no such resource");
        return;
    }
    fv__http_add_header(c, "ETag: %s", a->etag);
    fv__http_add_header(c, "Cache-Control: no-cache");
    c->content_type = content_type(path);
    const char *inm = fv__http_header(c, "If-None-Match");
    if (inm != NULL && strstr(inm, a->etag) != NULL) {
        c->status = 304;
        c->raw = "";
        c->raw_len = 0;
        return;
    }
    c->raw = a->data;
    c->raw_len = a->len;
}

static void page_index(fv__http_ctx *c) {
    serve(c, "index.html");
}
static void page_kiosk(fv__http_ctx *c) {
    serve(c, "kiosk.html");
}
static void page_reception(fv__http_ctx *c) {
    serve(c, "reception.html");
}
static void page_agent(fv__http_ctx *c) {
    serve(c, "agent.html");
}
static void page_reports(fv__http_ctx *c) {
    serve(c, "reports.html");
}
static void page_admin(fv__http_ctx *c) {
    serve(c, "admin.html");
}
static void page_me(fv__http_ctx *c) {
    serve(c, "me.html");
}
static void page_poster(fv__http_ctx *c) {
    serve(c, "poster.html");
}

/* /static/<file>: one path segment (the route pattern captures up to the next '/'), so no
 * "../"; only files under web/static/ are reachable. */
static void static_file(fv__http_ctx *c) {
    const char *name = fv__http_param(c, "file");
    char path[128];
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n + sizeof "static/" > sizeof path || name[0] == '.') {
        fv__http_error(c, 404, "not_found", "no such resource");
        return;
    }
    memcpy(path, "static/", sizeof "static/" - 1);
    memcpy(path + sizeof "static/" - 1, name, n + 1);
    serve(c, path);
}

const fv__http_route fv__http_routes_web[] = {
    {FV__HTTP_GET, "/", FV__HTTP_ANON, page_index, 0},
    {FV__HTTP_GET, "/kiosk", FV__HTTP_ANON, page_kiosk, 0},
    {FV__HTTP_GET, "/reception", FV__HTTP_ANON, page_reception, 0},
    {FV__HTTP_GET, "/agent", FV__HTTP_ANON, page_agent, 0},
    {FV__HTTP_GET, "/reports", FV__HTTP_ANON, page_reports, 0},
    {FV__HTTP_GET, "/admin", FV__HTTP_ANON, page_admin, 0},
    {FV__HTTP_GET, "/me", FV__HTTP_ANON, page_me, 0},
    {FV__HTTP_GET, "/poster", FV__HTTP_ANON, page_poster, 0},
    {FV__HTTP_GET, "/static/:file", FV__HTTP_ANON, static_file, 0},
    {0, NULL, 0, NULL, 0},
};
