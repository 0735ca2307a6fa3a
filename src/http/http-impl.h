/*
 * http-impl.h - private declarations shared by the files of src/http.
 *
 * A request is served in three steps by server.c: the body is collected (up to the route's
 * limit), the route is found (method + pattern, with :name captures), and the caller is
 * authenticated (session cookie, or an API token in "Authorization: Bearer"); then the route's
 * roles are checked, the CSRF token on every state change by a session (header X-CSRF-Token),
 * and the handler runs with a ctx it fills with a status and a body. Errors are JSON:
 *   {"error": {"code": "machine_readable", "message": "what was wrong"}}
 * Handlers never put names, phones or codes in error messages.
 * Threading: handlers run on the server's connection threads, several at once; the ledger handle
 * serialises itself, the face engines are lent out one request at a time (face_mu, face_cv),
 * sessions behind their own lock.
 */
#ifndef FAIRVISIT_HTTP_IMPL_H
#define FAIRVISIT_HTTP_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "fairvisit/face.h"
#include "fairvisit/http.h"
#include "fairvisit/json.h"
#include "fairvisit/ledger.h"
#include "fairvisit/strbuf.h"

struct MHD_Daemon;
struct MHD_Connection;

#define FV__HTTP_MAX_PARAMS  4
#define FV__HTTP_TOKEN_CHARS 65 /* 64 hex + NUL */
#define FV__HTTP_FACES_MAX   4

typedef enum fv__http_method {
    FV__HTTP_GET = 0,
    FV__HTTP_POST = 1,
    FV__HTTP_PUT = 2,
    FV__HTTP_DELETE = 3,
    FV__HTTP_OTHER = 4,
} fv__http_method;

/* Role bits for routes: 1u << fv_ledger_role, plus anonymous callers. */
#define FV__HTTP_ANON    (1u << 16)
#define FV__HTTP_ROLE(r) (1u << (r))
#define FV__HTTP_STAFF                                                                             \
    (FV__HTTP_ROLE(FV_LEDGER_ROLE_ADMIN) | FV__HTTP_ROLE(FV_LEDGER_ROLE_RECEPTION))

/* Who is calling (after authentication). */
typedef struct fv__http_principal {
    bool authenticated;
    int64_t user_id; /* users row; 0 for a visitor */
    fv_ledger_role role;
    int64_t scope_id; /* agent id (AGENT), channel id (CHANNEL_MANAGER), person row (VISITOR) */
    char login[FV_LEDGER_NAME_MAX + 1];
    char csrf[FV__HTTP_TOKEN_CHARS]; /* the session's CSRF token ("" for API tokens) */
    bool via_token;                  /* API token: no CSRF (no ambient credentials) */
    char session[FV__HTTP_TOKEN_CHARS];
} fv__http_principal;

typedef struct fv_http_server fv_http_server;

typedef struct fv__http_ctx {
    fv_http_server *srv;
    struct MHD_Connection *conn;
    fv__http_method method;
    const char *url;     /* path only */
    const char *pattern; /* the matched route's pattern (for the access log) */
    const char *params[FV__HTTP_MAX_PARAMS];
    char param_buf[512];
    const char *body;
    size_t body_len;
    char ip[64];
    bool tls;
    fv__http_principal who;
    fv_ledger_actor actor; /* role + scope/user id for the ledger */
    /* response */
    int status;
    fv_strbuf out;
    const char *content_type; /* static storage; default application/json */
    char headers[4][512];     /* "Name: value" extra headers (Set-Cookie, Location, ...) */
    int n_headers;
    const void *raw; /* static body instead of out (web assets) */
    size_t raw_len;
} fv__http_ctx;

typedef void (*fv__http_handler)(fv__http_ctx *c);

typedef struct fv__http_route {
    fv__http_method method;
    const char *pattern; /* "/api/v1/projects/:code/registrations" */
    unsigned roles;      /* FV__HTTP_ROLE bits and/or FV__HTTP_ANON */
    fv__http_handler handler;
    size_t max_body; /* 0: the server's JSON limit; else this (uploads) */
} fv__http_route;

/* The route tables of each endpoint group (routes_*.c), terminated by a NULL pattern. */
extern const fv__http_route fv__http_routes_auth[];
extern const fv__http_route fv__http_routes_admin[];
extern const fv__http_route fv__http_routes_kiosk[];
extern const fv__http_route fv__http_routes_reception[];
extern const fv__http_route fv__http_routes_agent[];
extern const fv__http_route fv__http_routes_reports[];
extern const fv__http_route fv__http_routes_me[];
extern const fv__http_route fv__http_routes_web[];

/* Sessions (session.c): in memory, idle timeout 30 min, absolute 12 h, at most 10000. */
typedef struct fv__http_sessions fv__http_sessions;
fv_status fv__http_sessions_new(fv__http_sessions **out);
void fv__http_sessions_free(fv__http_sessions *s);
/* Creates a session for p (csrf and session filled in); FV_ERR_LIMIT when full. */
fv_status fv__http_session_create(fv__http_sessions *s, fv__http_principal *p, int64_t now_ms);
/* Looks a session token up; true and *p when live (its idle timer restarts). */
bool fv__http_session_get(fv__http_sessions *s, const char *token, int64_t now_ms,
                          fv__http_principal *p);
void fv__http_session_drop(fv__http_sessions *s, const char *token);
/* Drops every session of a user (password change, user disabled). */
void fv__http_session_drop_user(fv__http_sessions *s, int64_t user_id);

/* Rate limits (ratelimit.c): a token bucket per key ("login:<ip>", "login:<user>", ...). */
typedef struct fv__http_limits fv__http_limits;
fv_status fv__http_limits_new(fv__http_limits **out);
void fv__http_limits_free(fv__http_limits *l);
/* true when the key may act now (and counts it): at most `burst` at once, refilled at
 * `per_minute`. Keys hold no personal data: callers hash logins and phones first. */
bool fv__http_limit_take(fv__http_limits *l, const char *key, double burst, double per_minute,
                         int64_t now_ms);

/* Liveness checks (liveness.c): the cooperative step of PRODUCT.md §5 before a face check-in.
 * A check is started under a consent record, bound to the project and to the user that started
 * it, and asks for one action (a blink, or a head turn to the visitor's own left or right); the
 * frames' faces are fed to it one by one. It passes when, with only one face in view and that
 * face staying the same (its box and its embedding), a usable frontal frame is followed by the
 * action and then by a usable frame again. The best frontal usable embedding is kept in
 * sodium_malloc'd memory until the check is used, ends or expires (2 minutes), and wiped then.
 * At most FV__LIVENESS_MAX checks are live at once. Threading: every call locks the table. */
#define FV__LIVENESS_MAX        64
#define FV__LIVENESS_TTL_MS     ((int64_t)2 * 60 * 1000)
#define FV__LIVENESS_MAX_FRAMES 600

typedef enum fv__liveness_challenge {
    FV__LIVENESS_BLINK = 0,
    FV__LIVENESS_TURN_LEFT = 1,  /* the visitor's own left: the nose moves to the image's right */
    FV__LIVENESS_TURN_RIGHT = 2, /* the visitor's own right */
    FV__LIVENESS_CHALLENGE_COUNT
} fv__liveness_challenge;

/* "blink", "turn_left", "turn_right". */
const char *fv__liveness_challenge_name(fv__liveness_challenge ch);

typedef enum fv__liveness_stage {
    FV__LIVENESS_STAGE_START = 0,  /* waiting for a usable frontal frame (eyes open) */
    FV__LIVENESS_STAGE_ACTION = 1, /* waiting for the blink or the turn */
    FV__LIVENESS_STAGE_FINISH = 2, /* the action was seen; waiting for a usable frame again */
    FV__LIVENESS_STAGE_PASSED = 3,
} fv__liveness_stage;

/* "start", "action", "finish", "passed". */
const char *fv__liveness_stage_name(fv__liveness_stage st);

/* What one frame told. */
typedef struct fv__liveness_reply {
    bool face;          /* a face was found */
    bool usable;        /* the considered (largest) face passed every gate, anti-spoof included */
    unsigned reasons;   /* its FV_FACE_REASON bits */
    bool several_faces; /* another usable face of similar size: the check started over */
    bool face_changed;  /* the face left or changed between frames: the check started over */
    fv__liveness_stage stage;
    fv__liveness_challenge challenge;
    double progress; /* 0..1 */
    int64_t expires_ms;
} fv__liveness_reply;

typedef struct fv__liveness_table fv__liveness_table;

fv_status fv__liveness_new(fv__liveness_table **out);
/* Wipes every live check, stops the sweeper and frees the table. NULL: no-op. */
void fv__liveness_free(fv__liveness_table *t);
/* Starts a thread that wipes checks as they expire on the system clock (fv__http_now), even
 * when no call comes; the server's table has one (tests that move time do not). */
fv_status fv__liveness_sweep_start(fv__liveness_table *t);
/* Starts a check; id receives its 32-hex id. FV_ERR_LIMIT when FV__LIVENESS_MAX are live. */
fv_status fv__liveness_start(fv__liveness_table *t, int64_t project, int64_t owner,
                             const char *consent_id, fv__liveness_challenge ch, int64_t now_ms,
                             char id[FV_LEDGER_ID_CHARS], int64_t *expires_ms);
/* The project, consent id and stage of a live check of `owner`; FV_ERR_NOT_FOUND when unknown,
 * expired or another user's. */
fv_status fv__liveness_info(fv__liveness_table *t, const char *id, int64_t owner, int64_t now_ms,
                            int64_t *project, char consent_id[FV_LEDGER_ID_CHARS],
                            fv__liveness_stage *stage);
/* Feeds one frame's faces (largest first, as fv_face_analyze lists them; borrowed).
 * FV_ERR_NOT_FOUND as above; FV_ERR_LIMIT after FV__LIVENESS_MAX_FRAMES frames (the check ends). */
fv_status fv__liveness_frame(fv__liveness_table *t, const char *id, int64_t owner,
                             const fv_face *faces, int count, int64_t now_ms,
                             fv__liveness_reply *out);
/* Copies a passed check's embedding (FV_FACE_EMBEDDING_DIM floats, into caller memory it must
 * wipe) and its consent id. FV_ERR_NOT_FOUND as above or when of another project; FV_ERR_STATE
 * when it has not passed. The check stays live (see fv__liveness_end). */
fv_status fv__liveness_embedding(fv__liveness_table *t, const char *id, int64_t owner,
                                 int64_t project, int64_t now_ms, float *embedding,
                                 char consent_id[FV_LEDGER_ID_CHARS]);
/* Ends a check, wiping its embedding. Unknown ids are ignored. */
void fv__liveness_end(fv__liveness_table *t, const char *id);
/* Eye aspect ratio of a face's 68 landmarks 36-41 and 42-47, both eyes averaged (open eyes
 * 0.15-0.48 with the landmark model; a blink drops it well below the person's own level). */
float fv__liveness_eye_ratio(const fv_face *f);

/* The server's table with its sweeper, created on first use (NULL when out of memory); freed by
 * fv_http_stop through fv__http_liveness_release. */
fv__liveness_table *fv__http_liveness(fv_http_server *s);
void fv__http_liveness_release(fv_http_server *s);

struct fv_http_server {
    fv_http_options opt;
    char *site_dir;
    char err[256];
    struct MHD_Daemon *plain, *tls;
    unsigned plain_port, tls_port;
    fv_ledger *ledger;
    /* Face engines, one per core at most (FV__HTTP_FACES_MAX): each is single-threaded, so
     * concurrent kiosks' frames run side by side. Opened lazily, never for face-free use. */
    fv_face_engine *faces[FV__HTTP_FACES_MAX];
    bool face_busy[FV__HTTP_FACES_MAX];
    int n_faces; /* pool size */
    pthread_mutex_t face_mu;
    pthread_cond_t face_cv;
    fv__http_sessions *sessions;
    fv__http_limits *limits;
    pthread_t purge_thread;
    bool purge_running;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    bool stopping;
    pthread_mutex_t log_mu;
    char *cert_pem, *key_pem;
    uint8_t hash_key[32]; /* keys rate-limit/log hashes of logins and phones (random per run) */
    fv__liveness_table *liveness; /* liveness checks (liveness.c), created on first use */
};

/* server.c: response helpers */
int64_t fv__http_now(void);
/* A JSON error reply: {"error": {"code": code, "message": formatted}}. */
void fv__http_error(fv__http_ctx *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A reply from a failed ledger call: status by fv_status (ARG/FORMAT 400, NOT_FOUND 404,
 * STATE 409, LIMIT 429, NOMEM 503, else 500) and the ledger's message. */
void fv__http_ledger_error(fv__http_ctx *c, fv_status st);
/* Parses the body as a JSON object with exactly these fields; on failure replies 400 (413 when
 * too large) and returns NULL. Free the result with fv_json_free. */
fv_json_doc *fv__http_body(fv__http_ctx *c, const fv_json_field *fields, size_t n);
/* A query-string argument or NULL. */
const char *fv__http_query(fv__http_ctx *c, const char *name);
/* A request header or NULL. */
const char *fv__http_header(fv__http_ctx *c, const char *name);
/* Adds a response header line ("Set-Cookie: ..."). */
void fv__http_add_header(fv__http_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The project id of route parameter `name` (a project code); replies 404 and returns 0 if none. */
int64_t fv__http_project(fv__http_ctx *c, const char *name);
/* Route parameter by name (":id" -> "id"), or NULL. */
const char *fv__http_param(fv__http_ctx *c, const char *name);
/* An int64 route parameter; replies 400 and returns false if not a positive integer. */
bool fv__http_param_id(fv__http_ctx *c, const char *name, int64_t *out);
/* names.c: wire names ("reception", "first", "channel_valid") and bounded string fields. */
const char *fv__http_role_name(fv_ledger_role r);
const char *fv__http_kind_name(fv_ledger_visit_kind k);
const char *fv__http_outcome_name(fv_ledger_outcome o);
/* Copies string member `name` of r (absent: "") into out; replies 400 when too long. */
bool fv__http_copy_field(fv__http_ctx *c, const fv_json *r, const char *name, char *out,
                         size_t cap);
/* Hex BLAKE2b-128 of s keyed with srv->hash_key (for rate-limit keys). */
void fv__http_hash_key(const fv_http_server *s, const char *prefix, const char *text, char out[48]);

#endif
