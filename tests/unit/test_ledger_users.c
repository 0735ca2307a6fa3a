/*
 * test_ledger_users.c - the server's users and API tokens (src/ledger/users.c): users of each
 * role with their scope checks, refused logins/passwords with messages that state the rule,
 * login answers that do not tell an unknown login from a wrong password or a disabled user,
 * password changes (by an admin, by the user themselves, refused to others), the admin-only
 * calls refused to every other role, tokens (create, check, revoke, a disabled user's), the list
 * as JSON without hashes, the audit entries, and ledger.db scanned for every password and token
 * used here (none may be stored in clear).
 *
 * One site for the whole file, the tests building on each other in order: Argon2id costs about
 * 50-100 ms and 64 MiB per hash, so the number of hashes is kept to a few dozen.
 * Threading: single-threaded.
 */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fairvisit/json.h"
#include "fairvisit/ledger.h"

/* Every password and token of the test, for the scan of ledger.db at the end. */
#define PW_ADMIN    "admin-Secret-0001"
#define PW_DESK     "desk-Secret-00002"
#define PW_DESK_2   "desk-Secret-00003"
#define PW_DESK_3   "desk-Secret-00004"
#define PW_AUDITOR  "auditor-Secret-05"
#define PW_KIOSK    "kiosk-Secret-0006"
#define PW_CM       "manager-Secret-07"
#define PW_CM_2     "manager-Secret-08"
#define PW_AGENT    "agent-Secret-0009"
#define PW_AGENT_2  "agent-Secret-0010"
#define PW_LONGNAME "longname-Secret-11"
static const char *const PASSWORDS[] = {PW_ADMIN,   PW_DESK,    PW_DESK_2,  PW_DESK_3,
                                        PW_AUDITOR, PW_KIOSK,   PW_CM,      PW_CM_2,
                                        PW_AGENT,   PW_AGENT_2, PW_LONGNAME};
static char TOKENS[3][FV_LEDGER_TOKEN_CHARS];

static const fv_ledger_actor SYSTEM = {FV_LEDGER_ROLE_SYSTEM, 0};
static char *g_site;
static fv_ledger *L;
static fv_ledger_actor ADMIN = {FV_LEDGER_ROLE_ADMIN, 0}; /* id set once the admin exists */
static int64_t g_natural, g_channel, g_agent;
static int64_t u_admin, u_desk, u_auditor, u_kiosk, u_cm, u_agent;

static char *make_site(void) {
    static char tmpl[64];
    snprintf(tmpl, sizeof tmpl, "/tmp/fv-ledger-users-XXXXXX");
    char *d = mkdtemp(tmpl);
    if (d == NULL) return NULL;
    char site[128];
    snprintf(site, sizeof site, "%s/site", d);
    if (fv_ledger_init_site(site) != FV_OK) return NULL;
    return strdup(site);
}

static void rm_rf(const char *dir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* The site's parent (the mkdtemp folder). */
static void remove_site(void) {
    char *slash = strrchr(g_site, '/');
    if (slash != NULL) *slash = '\0';
    rm_rf(g_site);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs a query with one text result on ledger.db (a second connection; WAL lets it read). */
static int db_text(const char *sql, char *out, size_t cap) {
    char p[256];
    snprintf(p, sizeof p, "%s/ledger.db", g_site);
    sqlite3 *db = NULL;
    int ok = 0;
    out[0] = '\0';
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL) {
            snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
            ok = 1;
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return ok;
}

static int64_t db_count(const char *sql) {
    char buf[32];
    return db_text(sql, buf, sizeof buf) ? strtoll(buf, NULL, 10) : -1;
}

static void test_setup(void) {
    g_site = make_site();
    CHECK(g_site != NULL);
    if (g_site == NULL) exit(1);
    CHECK_INT_EQ(fv_ledger_open(g_site, &(fv_ledger_options){.no_vault = true}, &L), FV_OK);
    fv_ledger_project_settings ps;
    fv_ledger_project_defaults(&ps);
    snprintf(ps.code, sizeof ps.code, "sunrise");
    snprintf(ps.name, sizeof ps.name, "Sunrise");
    int64_t project = 0;
    CHECK_INT_EQ(fv_ledger_project_create(L, &SYSTEM, &ps, &project), FV_OK);
    CHECK_INT_EQ(fv_ledger_channel_natural(L, project, &g_natural), FV_OK);
    fv_ledger_channel c = {.kind = FV_LEDGER_CHANNEL_AGENCY, .name = "Agency A"};
    CHECK_INT_EQ(fv_ledger_channel_create(L, &SYSTEM, project, &c, &g_channel), FV_OK);
    /* a few agents, so that agent ids and user ids differ */
    fv_ledger_agent a = {.name = "Agent"};
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ(fv_ledger_agent_create(L, &SYSTEM, g_channel, &a, &g_agent), FV_OK);
}

static void test_create_each_role(void) {
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &SYSTEM, "admin", PW_ADMIN, FV_LEDGER_ROLE_ADMIN, 0, &u_admin),
        FV_OK);
    ADMIN.id = u_admin;
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, "desk", PW_DESK, FV_LEDGER_ROLE_RECEPTION, 0, &u_desk),
        FV_OK);
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "auditor", PW_AUDITOR, FV_LEDGER_ROLE_AUDITOR, 0,
                                       &u_auditor),
                 FV_OK);
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, "kiosk.1", PW_KIOSK, FV_LEDGER_ROLE_KIOSK, 0, &u_kiosk),
        FV_OK);
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "cm_agency-a", PW_CM,
                                       FV_LEDGER_ROLE_CHANNEL_MANAGER, g_channel, &u_cm),
                 FV_OK);
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "agent-4", PW_AGENT, FV_LEDGER_ROLE_AGENT,
                                       g_agent, &u_agent),
                 FV_OK);
    CHECK(g_agent != u_agent);

    fv_ledger_user u;
    CHECK_INT_EQ(fv_ledger_user_get(L, u_agent, &u), FV_OK);
    CHECK_INT_EQ(u.id, u_agent);
    CHECK(strcmp(u.login, "agent-4") == 0);
    CHECK_INT_EQ(u.role, FV_LEDGER_ROLE_AGENT);
    CHECK_INT_EQ(u.scope_id, g_agent);
    CHECK(!u.disabled);
    CHECK_INT_EQ(fv_ledger_user_get(L, u_cm, &u), FV_OK);
    CHECK_INT_EQ(u.role, FV_LEDGER_ROLE_CHANNEL_MANAGER);
    CHECK_INT_EQ(u.scope_id, g_channel);
    CHECK_INT_EQ(fv_ledger_user_get(L, u_kiosk, &u), FV_OK);
    CHECK_INT_EQ(u.role, FV_LEDGER_ROLE_KIOSK);
    CHECK_INT_EQ(u.scope_id, 0);
    CHECK_INT_EQ(fv_ledger_user_get(L, 9999, &u), FV_ERR_NOT_FOUND);

    /* Scopes: refused before any hashing. */
    int64_t id = 0;
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "cm-natural", PW_CM,
                                       FV_LEDGER_ROLE_CHANNEL_MANAGER, g_natural, &id),
                 FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "natural channel has no manager");
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "cm-none", PW_CM, FV_LEDGER_ROLE_CHANNEL_MANAGER,
                                       9999, &id),
                 FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "must be a channel id");
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, "agent-none", PW_AGENT, FV_LEDGER_ROLE_AGENT, 9999, &id),
        FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "must be an agent id");
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, "agent-zero", PW_AGENT, FV_LEDGER_ROLE_AGENT, 0, &id),
        FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "desk-scoped", PW_DESK, FV_LEDGER_ROLE_RECEPTION,
                                       g_channel, &id),
                 FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "scope_id is for agent and channel manager");
    /* Visitors and the system are not users. */
    static const fv_ledger_role NOT_USERS[] = {FV_LEDGER_ROLE_VISITOR, FV_LEDGER_ROLE_SYSTEM,
                                               FV_LEDGER_ROLE_COUNT, (fv_ledger_role)-1};
    for (size_t i = 0; i < sizeof NOT_USERS / sizeof NOT_USERS[0]; i++) {
        CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "someone", PW_DESK, NOT_USERS[i], 0, &id),
                     FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "role must be admin, reception");
    }
}

static void test_bad_logins_and_passwords(void) {
    int64_t id = 0;
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, "desk", PW_DESK_2, FV_LEDGER_ROLE_RECEPTION, 0, &id),
        FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "a user with this login exists");

    char long_login[FV_LEDGER_LOGIN_MAX + 2];
    memset(long_login, 'a', sizeof long_login - 1);
    long_login[FV_LEDGER_LOGIN_MAX + 1] = '\0';
    const char *bad[] = {"", "Desk", "a b", "a/b", "caf\xc3\xa9", "desk\n", "a@b", long_login};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(
            fv_ledger_user_create(L, &ADMIN, bad[i], PW_DESK, FV_LEDGER_ROLE_RECEPTION, 0, &id),
            FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "1-64 characters of a-z, 0-9, '.', '_' and '-'");
    }
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, NULL, PW_DESK, FV_LEDGER_ROLE_RECEPTION, 0, &id),
                 FV_ERR_ARG);
    /* 64 characters is the longest login. */
    long_login[FV_LEDGER_LOGIN_MAX] = '\0';
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, long_login, PW_LONGNAME, FV_LEDGER_ROLE_AUDITOR, 0, &id),
        FV_OK);

    char long_pw[FV_LEDGER_PASSWORD_MAX + 2];
    memset(long_pw, 'p', sizeof long_pw - 1);
    long_pw[FV_LEDGER_PASSWORD_MAX + 1] = '\0';
    const char *bad_pw[] = {"", "short-pw9", long_pw};
    for (size_t i = 0; i < sizeof bad_pw / sizeof bad_pw[0]; i++) {
        CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "newdesk", bad_pw[i],
                                           FV_LEDGER_ROLE_RECEPTION, 0, &id),
                     FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "a password must be 10 to 256 bytes long");
        if (bad_pw[i][0] != '\0') CHECK(strstr(fv_ledger_errmsg(L), bad_pw[i]) == NULL);
        CHECK_INT_EQ(fv_ledger_user_set_password(L, &ADMIN, u_desk, bad_pw[i]), FV_ERR_ARG);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "10 to 256 bytes");
    }
    CHECK_INT_EQ(
        fv_ledger_user_create(L, &ADMIN, "newdesk", NULL, FV_LEDGER_ROLE_RECEPTION, 0, &id),
        FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &ADMIN, 9999, PW_DESK_2), FV_ERR_NOT_FOUND);
}

/* Logs in; on failure copies the message into msg. */
static fv_status login(const char *who, const char *pw, fv_ledger_user *u, char msg[256]) {
    fv_status st = fv_ledger_user_login(L, who, pw, u);
    snprintf(msg, 256, "%s", fv_ledger_errmsg(L));
    return st;
}

static void test_login(void) {
    fv_ledger_user u;
    char msg[256];
    CHECK_INT_EQ(login("desk", PW_DESK, &u, msg), FV_OK);
    CHECK_INT_EQ(u.id, u_desk);
    CHECK_INT_EQ(u.role, FV_LEDGER_ROLE_RECEPTION);
    CHECK(strcmp(u.login, "desk") == 0);

    /* Wrong password, unknown login, disabled user, malformed login: one answer. */
    double t0 = now_s();
    CHECK_INT_EQ(login("desk", PW_DESK_2, &u, msg), FV_ERR_STATE);
    double t_wrong = now_s() - t0;
    CHECK(strcmp(msg, "wrong login or password") == 0);
    CHECK_INT_EQ(u.id, 0);
    t0 = now_s();
    CHECK_INT_EQ(login("nobody", PW_DESK, &u, msg), FV_ERR_STATE);
    double t_unknown = now_s() - t0;
    CHECK(strcmp(msg, "wrong login or password") == 0);
    /* The unknown login was hashed too (a loose bound: the machine is shared). */
    if (!(t_unknown * 4 >= t_wrong))
        CHECK_FAIL("unknown login took %.3f s, wrong password %.3f s", t_unknown, t_wrong);
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_auditor, true), FV_OK);
    fv_ledger_user g;
    CHECK_INT_EQ(fv_ledger_user_get(L, u_auditor, &g), FV_OK);
    CHECK(g.disabled);
    CHECK_INT_EQ(login("auditor", PW_AUDITOR, &u, msg), FV_ERR_STATE);
    CHECK(strcmp(msg, "wrong login or password") == 0);
    CHECK_INT_EQ(login("Desk", PW_DESK, &u, msg), FV_ERR_STATE);
    CHECK(strcmp(msg, "wrong login or password") == 0);
    CHECK_INT_EQ(login("desk", NULL, &u, msg), FV_ERR_STATE);
    CHECK(strcmp(msg, "wrong login or password") == 0);
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_auditor, false), FV_OK);
    CHECK_INT_EQ(login("auditor", PW_AUDITOR, &u, msg), FV_OK);
    CHECK_INT_EQ(u.id, u_auditor);

    /* An agent logs in as its agent: the audit entry names the agent. */
    CHECK_INT_EQ(login("agent-4", PW_AGENT, &u, msg), FV_OK);
    CHECK_INT_EQ(u.scope_id, g_agent);
    char actor[64], want[64];
    CHECK(db_text("SELECT actor || ' ' || record FROM audit ORDER BY seq DESC LIMIT 1", actor,
                  sizeof actor));
    snprintf(want, sizeof want, "agent:%lld user:%lld", (long long)g_agent, (long long)u_agent);
    CHECK(strcmp(actor, want) == 0);
    CHECK_INT_EQ(db_count("SELECT COUNT(*) FROM audit WHERE action = 'user.login'"), 3);
}

static void test_password_change(void) {
    fv_ledger_user u;
    char msg[256];
    /* By an admin: the old password stops working. */
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &ADMIN, u_desk, PW_DESK_2), FV_OK);
    CHECK_INT_EQ(login("desk", PW_DESK, &u, msg), FV_ERR_STATE);
    CHECK(strcmp(msg, "wrong login or password") == 0);
    CHECK_INT_EQ(login("desk", PW_DESK_2, &u, msg), FV_OK);
    /* By the user themselves (reception: actor id = user id). */
    fv_ledger_actor desk = {FV_LEDGER_ROLE_RECEPTION, u_desk};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &desk, u_desk, PW_DESK_3), FV_OK);
    CHECK_INT_EQ(login("desk", PW_DESK_2, &u, msg), FV_ERR_STATE);
    /* Not by another user, nor by an actor of another role with the same id. */
    fv_ledger_actor kiosk = {FV_LEDGER_ROLE_KIOSK, u_kiosk};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &kiosk, u_desk, PW_KIOSK), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin changes another user's password");
    fv_ledger_actor fake = {FV_LEDGER_ROLE_AUDITOR, u_desk};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &fake, u_desk, PW_KIOSK), FV_ERR_STATE);
    fv_ledger_actor desk_on_admin = {FV_LEDGER_ROLE_RECEPTION, u_admin};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &desk_on_admin, u_admin, PW_KIOSK), FV_ERR_STATE);
    /* An agent acts with its agent id, not its user id. */
    fv_ledger_actor agent_by_user_id = {FV_LEDGER_ROLE_AGENT, u_agent};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &agent_by_user_id, u_agent, PW_AGENT_2),
                 FV_ERR_STATE);
    fv_ledger_actor agent = {FV_LEDGER_ROLE_AGENT, g_agent};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &agent, u_agent, PW_AGENT_2), FV_OK);
    CHECK_INT_EQ(login("agent-4", PW_AGENT_2, &u, msg), FV_OK);
    /* A channel manager with its channel id; not once a second manager shares the channel. */
    fv_ledger_actor cm = {FV_LEDGER_ROLE_CHANNEL_MANAGER, g_channel};
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &cm, u_cm, PW_CM_2), FV_OK);
    int64_t u_cm2 = 0;
    CHECK_INT_EQ(fv_ledger_user_create(L, &ADMIN, "cm-2", PW_CM, FV_LEDGER_ROLE_CHANNEL_MANAGER,
                                       g_channel, &u_cm2),
                 FV_OK);
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &cm, u_cm, PW_CM), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "several users act as this channel");
    CHECK_INT_EQ(login("cm_agency-a", PW_CM_2, &u, msg), FV_OK);
    /* A disabled user cannot change their own password. */
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_kiosk, true), FV_OK);
    CHECK_INT_EQ(fv_ledger_user_set_password(L, &kiosk, u_kiosk, PW_KIOSK), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "disabled");
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_kiosk, false), FV_OK);
    CHECK_INT_EQ(fv_ledger_user_set_password(L, NULL, u_kiosk, PW_KIOSK), FV_ERR_ARG);
}

static void test_admin_only(void) {
    static const fv_ledger_role ROLES[] = {FV_LEDGER_ROLE_RECEPTION, FV_LEDGER_ROLE_CHANNEL_MANAGER,
                                           FV_LEDGER_ROLE_AGENT,     FV_LEDGER_ROLE_AUDITOR,
                                           FV_LEDGER_ROLE_KIOSK,     FV_LEDGER_ROLE_VISITOR};
    int64_t before = db_count("SELECT COUNT(*) FROM audit");
    for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0]; i++) {
        fv_ledger_actor who = {ROLES[i], i == 1 ? g_channel : i == 2 ? g_agent : u_desk};
        int64_t id = 0;
        CHECK_INT_EQ(
            fv_ledger_user_create(L, &who, "intruder", PW_DESK, FV_LEDGER_ROLE_ADMIN, 0, &id),
            FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin creates users");
        CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &who, u_admin, true), FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin");
        CHECK_INT_EQ(fv_ledger_user_set_password(L, &who, u_admin, PW_DESK), FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin");
        fv_strbuf sb = {0};
        CHECK_INT_EQ(fv_ledger_user_list(L, &who, &sb), FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin lists users");
        fv_sb_free(&sb);
        char tok[FV_LEDGER_TOKEN_CHARS] = "x";
        CHECK_INT_EQ(fv_ledger_token_create(L, &who, u_desk, "mine", tok), FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin creates API tokens");
        CHECK(tok[0] == '\0');
        CHECK_INT_EQ(fv_ledger_token_revoke(L, &who, 1), FV_ERR_STATE);
        CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "only an admin revokes API tokens");
    }
    CHECK_INT_EQ(db_count("SELECT COUNT(*) FROM audit"), before); /* nothing happened */
    int64_t id = 0;
    CHECK_INT_EQ(fv_ledger_user_create(L, NULL, "intruder", PW_DESK, FV_LEDGER_ROLE_ADMIN, 0, &id),
                 FV_ERR_ARG);
    /* The last enabled admin stays. */
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_admin, true), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "last enabled admin");
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &SYSTEM, u_admin, true), FV_ERR_STATE);
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, 9999, true), FV_ERR_NOT_FOUND);
}

/* The id of the token named `name` in the user list (what an admin screen would use). */
static int64_t token_id_from_list(const char *name) {
    fv_strbuf sb = {0};
    int64_t found = 0;
    CHECK_INT_EQ(fv_ledger_user_list(L, &ADMIN, &sb), FV_OK);
    fv_json_doc *doc = NULL;
    fv_json_error err;
    CHECK_INT_EQ(fv_json_parse(sb.s, sb.len, NULL, &doc, &err), FV_OK);
    const fv_json *users = fv_json_root(doc);
    for (size_t i = 0; i < fv_json_count(users); i++) {
        const fv_json *tokens = fv_json_get(fv_json_at(users, i), "tokens");
        for (size_t k = 0; k < fv_json_count(tokens); k++) {
            const fv_json *t = fv_json_at(tokens, k);
            const char *n = fv_json_string(fv_json_get(t, "name"), NULL);
            if (n != NULL && strcmp(n, name) == 0)
                CHECK(fv_json_int64(fv_json_get(t, "id"), &found));
        }
    }
    fv_json_free(doc);
    fv_sb_free(&sb);
    return found;
}

static void test_tokens(void) {
    char *desk_tok = TOKENS[0], *agent_tok = TOKENS[1], *spare = TOKENS[2];
    CHECK_INT_EQ(fv_ledger_token_create(L, &ADMIN, u_desk, "desk tablet", desk_tok), FV_OK);
    CHECK_INT_EQ(strlen(desk_tok), FV_LEDGER_TOKEN_CHARS - 1);
    CHECK(strncmp(desk_tok, "fvt_", 4) == 0);
    CHECK(strspn(desk_tok + 4, "0123456789abcdef") == 60);
    CHECK_INT_EQ(fv_ledger_token_create(L, &ADMIN, u_agent, "agent phone", agent_tok), FV_OK);
    CHECK(strcmp(desk_tok, agent_tok) != 0);

    fv_ledger_user u;
    CHECK_INT_EQ(fv_ledger_token_check(L, desk_tok, &u), FV_OK);
    CHECK_INT_EQ(u.id, u_desk);
    CHECK_INT_EQ(u.role, FV_LEDGER_ROLE_RECEPTION);
    CHECK_INT_EQ(fv_ledger_token_check(L, agent_tok, &u), FV_OK);
    CHECK_INT_EQ(u.id, u_agent);
    CHECK_INT_EQ(u.scope_id, g_agent);

    /* Wrong or malformed tokens: one message, never echoing the token. */
    char wrong[FV_LEDGER_TOKEN_CHARS];
    memcpy(wrong, desk_tok, sizeof wrong);
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    char upper[FV_LEDGER_TOKEN_CHARS];
    memcpy(upper, desk_tok, sizeof upper);
    for (char *p = upper + 4; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
    const char *bad[] = {wrong, upper, "", "fvt_", "fvt_abc", desk_tok + 1, NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        u.id = 77;
        CHECK_INT_EQ(fv_ledger_token_check(L, bad[i], &u), FV_ERR_STATE);
        CHECK(strcmp(fv_ledger_errmsg(L), "invalid token") == 0);
        CHECK_INT_EQ(u.id, 0);
    }

    /* A disabled user's token is refused, and works again once the user is enabled. */
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_agent, true), FV_OK);
    CHECK_INT_EQ(fv_ledger_token_check(L, agent_tok, &u), FV_ERR_STATE);
    CHECK(strcmp(fv_ledger_errmsg(L), "invalid token") == 0);
    CHECK_INT_EQ(fv_ledger_token_create(L, &ADMIN, u_agent, "another", spare), FV_ERR_STATE);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "disabled");
    CHECK_INT_EQ(fv_ledger_user_set_disabled(L, &ADMIN, u_agent, false), FV_OK);
    CHECK_INT_EQ(fv_ledger_token_check(L, agent_tok, &u), FV_OK);

    /* Revocation, by the id the list shows. */
    int64_t tid = token_id_from_list("desk tablet");
    CHECK(tid > 0);
    CHECK_INT_EQ(fv_ledger_token_revoke(L, &ADMIN, tid), FV_OK);
    CHECK_INT_EQ(fv_ledger_token_check(L, desk_tok, &u), FV_ERR_STATE);
    CHECK(strcmp(fv_ledger_errmsg(L), "invalid token") == 0);
    CHECK_INT_EQ(fv_ledger_token_check(L, agent_tok, &u), FV_OK); /* the other one lives */
    CHECK_INT_EQ(fv_ledger_token_revoke(L, &ADMIN, tid), FV_OK);  /* again: nothing changes */
    CHECK_INT_EQ(db_count("SELECT COUNT(*) FROM audit WHERE action = 'token.revoke'"), 1);
    CHECK_INT_EQ(fv_ledger_token_revoke(L, &ADMIN, 9999), FV_ERR_NOT_FOUND);

    /* Arguments. */
    CHECK_INT_EQ(fv_ledger_token_create(L, &ADMIN, 9999, "x", spare), FV_ERR_NOT_FOUND);
    CHECK_INT_EQ(fv_ledger_token_create(L, &ADMIN, u_desk, "", spare), FV_ERR_ARG);
    CHECK_INT_EQ(fv_ledger_token_create(L, &ADMIN, u_desk, "a\nb", spare), FV_ERR_ARG);
    CHECK_STR_CONTAINS(fv_ledger_errmsg(L), "token name");
    CHECK_INT_EQ(fv_ledger_token_create(L, &SYSTEM, u_kiosk, "kiosk 1", spare), FV_OK);
    CHECK_INT_EQ(fv_ledger_token_check(L, spare, &u), FV_OK);
    CHECK_INT_EQ(u.id, u_kiosk);
}

static void test_list_json(void) {
    fv_strbuf sb = {0};
    CHECK_INT_EQ(fv_ledger_user_list(L, &ADMIN, &sb), FV_OK);
    CHECK(sb.s != NULL);
    if (sb.s == NULL) return;
    fv_json_doc *doc = NULL;
    fv_json_error err;
    CHECK_INT_EQ(fv_json_parse(sb.s, sb.len, NULL, &doc, &err), FV_OK);
    const fv_json *users = fv_json_root(doc);
    CHECK_INT_EQ(fv_json_type_of(users), FV_JSON_ARRAY);
    CHECK_INT_EQ(fv_json_count(users), 8);
    static const fv_json_field USER[] = {
        {"id", FV_JSON_INTEGER, true},    {"login", FV_JSON_STRING, true},
        {"role", FV_JSON_STRING, true},   {"scope_id", FV_JSON_INTEGER, true},
        {"disabled", FV_JSON_BOOL, true}, {"created", FV_JSON_INTEGER, true},
        {"tokens", FV_JSON_ARRAY, true},
    };
    static const fv_json_field TOKEN[] = {
        {"id", FV_JSON_INTEGER, true},
        {"name", FV_JSON_STRING, true},
        {"created", FV_JSON_INTEGER, true},
        {"revoked", FV_JSON_NULL, true},
    };
    for (size_t i = 0; i < fv_json_count(users); i++) {
        const fv_json *u = fv_json_at(users, i);
        CHECK_INT_EQ(fv_json_check_object(u, USER, sizeof USER / sizeof USER[0], &err), FV_OK);
        const fv_json *t = fv_json_get(u, "tokens");
        for (size_t k = 0; k < fv_json_count(t); k++)
            CHECK_INT_EQ(
                fv_json_check_object(fv_json_at(t, k), TOKEN, sizeof TOKEN / sizeof TOKEN[0], &err),
                FV_OK);
    }
    const fv_json *agent = fv_json_at(users, 5);
    CHECK(strcmp(fv_json_string(fv_json_get(agent, "login"), NULL), "agent-4") == 0);
    CHECK(strcmp(fv_json_string(fv_json_get(agent, "role"), NULL), "agent") == 0);
    int64_t scope = 0;
    CHECK(fv_json_int64(fv_json_get(agent, "scope_id"), &scope) && scope == g_agent);
    fv_json_free(doc);
    /* No password hash, no token hash, no token. */
    CHECK(strstr(sb.s, "argon2") == NULL);
    CHECK(strstr(sb.s, "hash") == NULL);
    CHECK(strstr(sb.s, "fvt_") == NULL);
    fv_sb_free(&sb);
}

static void test_audit(void) {
    static const struct {
        const char *action;
        int64_t n;
    } WANT[] = {
        {"user.create", 8}, {"user.password", 4}, {"user.disable", 3}, {"user.enable", 3},
        {"user.login", 6},  {"token.create", 3},  {"token.revoke", 1},
    };
    for (size_t i = 0; i < sizeof WANT / sizeof WANT[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit WHERE action = '%s'", WANT[i].action);
        int64_t n = db_count(sql);
        if (n != WANT[i].n)
            CHECK_FAIL("%s: %lld entries, expected %lld", WANT[i].action, (long long)n,
                       (long long)WANT[i].n);
    }
    CHECK_INT_EQ(db_count("SELECT COUNT(*) FROM audit WHERE record LIKE 'user:%' OR"
                          " record LIKE 'token:%'"),
                 28);
    fv_ledger_audit_report rep;
    CHECK_INT_EQ(fv_ledger_audit_verify(L, &rep), FV_OK);
    CHECK_INT_EQ(rep.first_bad, 0);
}

/* Every byte of a file; NULL if missing. */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (nb == NULL) break;
            buf = nb;
        }
        size_t r = fread(buf + *n, 1, cap - *n, f);
        if (r == 0) break;
        *n += r;
    }
    fclose(f);
    return buf;
}

static void test_nothing_in_clear_on_disk(void) {
    fv_ledger_close(L); /* checkpoints the WAL into ledger.db */
    L = NULL;
    static const char *const FILES[] = {"ledger.db", "ledger.db-wal", "ledger.key"};
    int scanned = 0, control = 0;
    for (size_t f = 0; f < sizeof FILES / sizeof FILES[0]; f++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", g_site, FILES[f]);
        size_t n = 0;
        unsigned char *b = slurp(p, &n);
        if (b == NULL) continue;
        scanned++;
        /* control: the scan sees what is stored (a login, an Argon2id string) */
        if (memmem(b, n, "cm_agency-a", 11) != NULL && memmem(b, n, "$argon2id$", 10) != NULL)
            control = 1;
        for (size_t i = 0; i < sizeof PASSWORDS / sizeof PASSWORDS[0]; i++)
            if (memmem(b, n, PASSWORDS[i], strlen(PASSWORDS[i])) != NULL)
                CHECK_FAIL("password %zu is in %s in clear", i, FILES[f]);
        for (size_t i = 0; i < 3; i++) {
            CHECK(strlen(TOKENS[i]) == 64);
            /* the whole token, and its random part alone */
            if (memmem(b, n, TOKENS[i], strlen(TOKENS[i])) != NULL ||
                memmem(b, n, TOKENS[i] + 4, 60) != NULL)
                CHECK_FAIL("token %zu is in %s in clear", i, FILES[f]);
        }
        free(b);
    }
    CHECK(scanned >= 2);
    CHECK(control);
    /* The hashes are Argon2id strings. */
    char h[256];
    CHECK(db_text("SELECT pw_hash FROM user WHERE login = 'desk'", h, sizeof h));
    CHECK(strncmp(h, "$argon2id$", 10) == 0);
    CHECK_INT_EQ(db_count("SELECT COUNT(*) FROM api_token WHERE length(hash) = 32"), 3);
    /* After reopening, the same tokens and passwords still work (keys derived the same). */
    CHECK_INT_EQ(fv_ledger_open(g_site, &(fv_ledger_options){.no_vault = true}, &L), FV_OK);
    fv_ledger_user u;
    CHECK_INT_EQ(fv_ledger_token_check(L, TOKENS[1], &u), FV_OK);
    CHECK_INT_EQ(u.id, u_agent);
}

int main(void) {
    RUN(test_setup);
    RUN(test_create_each_role);
    RUN(test_bad_logins_and_passwords);
    RUN(test_login);
    RUN(test_password_change);
    RUN(test_admin_only);
    RUN(test_tokens);
    RUN(test_list_json);
    RUN(test_audit);
    RUN(test_nothing_in_clear_on_disk);
    fv_ledger_close(L);
    remove_site();
    free(g_site);
    return check_summary();
}
