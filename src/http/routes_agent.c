/*
 * routes_agent.c - the agent endpoint group (being written; see docs/api.md when it lands).
 */
#include "http-impl.h"

const fv__http_route fv__http_routes_agent[] = {
    {0, NULL, 0, NULL, 0},
};
