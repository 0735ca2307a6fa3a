/*
 * status.c - names and generic messages of fv_status, generated from FV_STATUS_MAP.
 */
#include "fairvisit/status.h"

const char *fv_status_name(fv_status st) {
    switch (st) {
#define FV__STATUS_NAME(name, value, msg)                                                          \
    case FV_##name:                                                                                \
        return "FV_" #name;
        FV_STATUS_MAP(FV__STATUS_NAME)
#undef FV__STATUS_NAME
    default:
        return "FV_UNKNOWN";
    }
}

const char *fv_status_message(fv_status st) {
    switch (st) {
#define FV__STATUS_MSG(name, value, msg)                                                           \
    case FV_##name:                                                                                \
        return msg;
        FV_STATUS_MAP(FV__STATUS_MSG)
#undef FV__STATUS_MSG
    default:
        return "unknown status";
    }
}
