/*
 * fairvisit/http.h - the server: the JSON API (/api/v1, docs/api.md) and the web pages, over
 * plain HTTP on loopback (development) and HTTPS (the camera needs a secure origin), served by
 * libmicrohttpd from the fairvisit binary.
 *
 *     fv_http_options o = {.site_dir = "/var/lib/fairvisit/site", .listen = "127.0.0.1:8080",
 *                          .https = "0.0.0.0:8443"};
 *     fv_http_server *s = NULL;
 *     if (fv_http_start(&o, &s) != FV_OK) fprintf(stderr, "%s\n", fv_http_errmsg(s));
 *     ... wait for SIGTERM ...
 *     fv_http_stop(s);                          // finishes requests in flight, then closes
 *
 * The server owns one ledger handle (with the vault) shared by its connection threads, the face
 * engine (loaded only when some project is not face-free), the in-memory sessions and rate
 * limits, and a purge thread that runs fv_ledger_purge every purge_interval_s. Plain HTTP is
 * refused on anything but a loopback address. The access log (one line per request: time,
 * method, route pattern, status, bytes, milliseconds) carries no query strings, bodies, cookies,
 * ids, names or phones.
 * Threading: fv_http_start/fv_http_stop from one thread; requests are served by the server's own
 * threads.
 */
#ifndef FAIRVISIT_HTTP_H
#define FAIRVISIT_HTTP_H

#include <stddef.h>
#include <stdio.h>

#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fv_http_options {
    const char *site_dir;     /* required (borrowed for the call; copied) */
    const char *listen;       /* "127.0.0.1:8080" plain HTTP, loopback only; NULL: none */
    const char *https;        /* "0.0.0.0:8443"; NULL: none; needs DIR/tls/cert.pem, key.pem */
    const char *models_dir;   /* face models (NULL: FV_MODELS_DIR or ./models) */
    size_t max_body;          /* JSON body bytes (default 64 KiB) */
    size_t max_upload;        /* image upload bytes (default 8 MiB) */
    unsigned timeout_s;       /* idle connection timeout (default 30) */
    unsigned max_connections; /* (default 128) */
    unsigned max_connections_per_ip; /* (default 32) */
    unsigned purge_interval_s;       /* (default 3600; the first purge runs at start) */
    FILE *access_log;                /* NULL: stderr */
    int no_face;                     /* 1: never load the face engine (tests of face-free sites) */
} fv_http_options;

typedef struct fv_http_server fv_http_server;

/* Opens the site, loads the vault (and the face engine if needed), starts the listeners and the
 * purge thread. On failure *out may hold a handle with the message; fv_http_stop it either way. */
FV_NODISCARD fv_status fv_http_start(const fv_http_options *opt, fv_http_server **out);
/* Stops accepting, finishes requests in flight, stops the purge thread, closes everything. */
void fv_http_stop(fv_http_server *s);
const char *fv_http_errmsg(const fv_http_server *s);
/* The bound port of the plain (https = 0) or TLS (https = 1) listener; 0 if none. Port 0 in the
 * options binds a free port (tests). */
unsigned fv_http_port(const fv_http_server *s, int https);

/* Creates DIR/tls/key.pem (0600) and a self-signed DIR/tls/cert.pem for the given host names
 * (and 127.0.0.1, localhost), valid for `days`. Used by fairvisit init. */
FV_NODISCARD fv_status fv_http_make_certificate(const char *site_dir, const char *const *hosts,
                                                size_t n_hosts, int days);

#ifdef __cplusplus
}
#endif
#endif
