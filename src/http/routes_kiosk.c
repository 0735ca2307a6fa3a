/*
 * routes_kiosk.c - the kiosk endpoint group (being written; see docs/api.md when it lands).
 */
#include "http-impl.h"

const fv__http_route fv__http_routes_kiosk[] = {
    {0, NULL, 0, NULL, 0},
};
