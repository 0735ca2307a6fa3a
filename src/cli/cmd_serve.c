/*
 * cmd_serve.c - `fairvisit serve --site DIR [--listen ADDR:PORT] [--https ADDR:PORT]
 * [--models DIR] [--purge-interval S]`: the server and web pages with the scheduled purge.
 *
 * Without --listen and --https it serves plain HTTP on 127.0.0.1:8080 and HTTPS on 0.0.0.0:8443
 * when the site has its certificate. It prints the URLs of the pages, then runs until SIGTERM
 * or SIGINT, when it stops accepting, finishes the requests in flight, stops the purge and
 * closes the site (exit 0). Errors at start: exit 1 with the reason; wrong usage: exit 2.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fairvisit/http.h"

static void usage(void) {
    fprintf(stderr, "usage: fairvisit serve --site DIR [--listen ADDR:PORT] [--https ADDR:PORT]"
                    " [--models DIR] [--purge-interval SECONDS]\n");
}

static void print_urls(const char *scheme, const char *spec, unsigned port) {
    char host[64];
    const char *colon = strrchr(spec, ':');
    size_t n = colon != NULL ? (size_t)(colon - spec) : 0;
    snprintf(host, sizeof host, "%.*s", (int)(n < sizeof host ? n : sizeof host - 1), spec);
    if (strcmp(host, "0.0.0.0") == 0) snprintf(host, sizeof host, "localhost");
    static const char *const PAGES[] = {"",        "kiosk", "reception", "agent",
                                        "reports", "admin", "me",        "poster"};
    printf("%s://%s:%u/ serves:", scheme, host, port);
    for (size_t i = 0; i < sizeof PAGES / sizeof PAGES[0]; i++) printf(" /%s", PAGES[i]);
    printf("\n");
}

int fv_cli_serve(int argc, char **argv) {
    const char *site = NULL, *listen = NULL, *https = NULL, *models = NULL;
    unsigned purge = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--site") == 0 && v)
            site = argv[++i];
        else if (strcmp(a, "--listen") == 0 && v)
            listen = argv[++i];
        else if (strcmp(a, "--https") == 0 && v)
            https = argv[++i];
        else if (strcmp(a, "--models") == 0 && v)
            models = argv[++i];
        else if (strcmp(a, "--purge-interval") == 0 && v)
            purge = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "fairvisit serve: unknown or incomplete option '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (site == NULL) {
        usage();
        return 2;
    }
    if (listen == NULL && https == NULL) {
        listen = "127.0.0.1:8080";
        char cert[4096];
        snprintf(cert, sizeof cert, "%s/tls/cert.pem", site);
        if (access(cert, R_OK) == 0) https = "0.0.0.0:8443";
    }
    /* Block the stop signals before the server's threads start, so they all inherit the mask
     * and only sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    fv_http_options o = {.site_dir = site,
                         .listen = listen,
                         .https = https,
                         .models_dir = models,
                         .purge_interval_s = purge};
    fv_http_server *s = NULL;
    fv_status st = fv_http_start(&o, &s);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit serve: %s\n", fv_http_errmsg(s));
        fv_http_stop(s);
        return 1;
    }
    if (listen != NULL) print_urls("http", listen, fv_http_port(s, 0));
    if (https != NULL) print_urls("https", https, fv_http_port(s, 1));
    printf("fairvisit serve: running; stop with Ctrl-C or SIGTERM\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    printf("fairvisit serve: %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    fflush(stdout);
    fv_http_stop(s);
    printf("fairvisit serve: stopped\n");
    return 0;
}
