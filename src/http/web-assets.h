/*
 * web-assets.h - the files of web/ embedded in the binary (generated into BUILD/web_assets.c by
 * cmake/web.cmake at build time; served by routes_web.c).
 *
 * Invariants: the table is sorted by path; every array is static storage, NUL-terminated one
 * byte past len (the NUL is not part of the file); etag is a quoted strong validator.
 * Threading: read-only data.
 */
#ifndef FAIRVISIT_WEB_ASSETS_H
#define FAIRVISIT_WEB_ASSETS_H

#include <stddef.h>

typedef struct fv__web_asset {
    const char *path; /* relative to web/: "kiosk.html", "static/kiosk.js" */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"0123456789abcdef\"" (SHA-256 prefix of the content) */
} fv__web_asset;

extern const fv__web_asset fv__web_assets[];
extern const size_t fv__web_n_assets;

#endif
