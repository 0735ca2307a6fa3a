/*
 * site_logins.h - the logins `fairvisit init` makes: the site's first admin always, and with
 * --demo one login per role of the demo project, each with a random password shown once.
 */
#ifndef FAIRVISIT_CLI_SITE_LOGINS_H
#define FAIRVISIT_CLI_SITE_LOGINS_H

#include <stddef.h>

#include "demo_seed.h"

#define FV_CLI_LOGINS_MAX 8

typedef struct fv_cli_login {
    char login[32];
    const char *role; /* static: "admin", "reception", ... */
    char password[24];
} fv_cli_login;

/* Creates the logins in the site (opened here without the vault): "admin", and when demo is not
 * NULL also reception, kiosk, auditor, manager (the agency channel) and agent1..3 (the demo's
 * agents). Returns 0 on success (out[0..*n) filled), 1 after printing what failed. */
int fv_cli_make_logins(const char *site, const fv_demo_summary *demo, fv_cli_login *out, size_t *n);

/* Writes the logins to DIR/demo-logins.txt, mode 0600, one "login role password" per line, so a
 * demo can print them again later. Returns 0 on success. */
int fv_cli_save_logins(const char *site, const fv_cli_login *logins, size_t n);

/* Wipes the passwords. */
void fv_cli_wipe_logins(fv_cli_login *logins, size_t n);

#endif
