/*
 * site_logins.c - the first logins of a site (see site_logins.h).
 *
 * Passwords are 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I), 80 bits from
 * libsodium's generator; the ledger keeps only their Argon2id hashes. The demo's logins are also
 * written to DIR/demo-logins.txt (0600, inside the 0700 site folder) because the demo command
 * prints them again each time it starts the server; a real site has only its admin, whose
 * password is printed once and stored nowhere.
 */
#include "site_logins.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fairvisit/ledger.h"

static void random_password(char out[24]) {
    static const char A[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 16; i++) out[i] = A[randombytes_uniform((uint32_t)(sizeof A - 1))];
    out[16] = '\0';
}

typedef struct want_login {
    const char *login, *role_name;
    fv_ledger_role role;
    int64_t scope;
} want_login;

int fv_cli_make_logins(const char *site, const fv_demo_summary *demo, fv_cli_login *out,
                       size_t *n) {
    *n = 0;
    want_login want[FV_CLI_LOGINS_MAX] = {{"admin", "admin", FV_LEDGER_ROLE_ADMIN, 0}};
    size_t k = 1;
    if (demo != NULL) {
        want[k++] = (want_login){"reception", "reception", FV_LEDGER_ROLE_RECEPTION, 0};
        want[k++] = (want_login){"kiosk", "kiosk", FV_LEDGER_ROLE_KIOSK, 0};
        want[k++] = (want_login){"auditor", "auditor", FV_LEDGER_ROLE_AUDITOR, 0};
        want[k++] = (want_login){"manager", "channel_manager", FV_LEDGER_ROLE_CHANNEL_MANAGER,
                                 demo->channel_ids[0]};
        want[k++] = (want_login){"agent1", "agent", FV_LEDGER_ROLE_AGENT, demo->agent_ids[0]};
        want[k++] = (want_login){"agent2", "agent", FV_LEDGER_ROLE_AGENT, demo->agent_ids[1]};
        want[k++] = (want_login){"agent3", "agent", FV_LEDGER_ROLE_AGENT, demo->agent_ids[2]};
    }
    fv_ledger *l = NULL;
    fv_ledger_options opt = {.no_vault = true};
    fv_status st = fv_ledger_open(site, &opt, &l);
    fv_ledger_actor system = {FV_LEDGER_ROLE_SYSTEM, 0};
    for (size_t i = 0; st == FV_OK && i < k; i++) {
        fv_cli_login *o = &out[i];
        snprintf(o->login, sizeof o->login, "%s", want[i].login);
        o->role = want[i].role_name;
        random_password(o->password);
        int64_t id = 0;
        st = fv_ledger_user_create(l, &system, o->login, o->password, want[i].role, want[i].scope,
                                   &id);
        if (st == FV_OK) *n = i + 1;
    }
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit init: cannot create the site's logins: %s (%s)\n",
                fv_ledger_errmsg(l), fv_status_name(st));
        fv_cli_wipe_logins(out, k);
        *n = 0;
    }
    fv_ledger_close(l);
    return st == FV_OK ? 0 : 1;
}

int fv_cli_save_logins(const char *site, const fv_cli_login *logins, size_t n) {
    char path[4200];
    snprintf(path, sizeof path, "%s/demo-logins.txt", site);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return 1;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s %s %s\n", logins[i].login, logins[i].role, logins[i].password);
    int ok = fflush(f) == 0 && fsync(fd) == 0;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : 1;
}

void fv_cli_wipe_logins(fv_cli_login *logins, size_t n) {
    for (size_t i = 0; i < n; i++) sodium_memzero(logins[i].password, sizeof logins[i].password);
}
