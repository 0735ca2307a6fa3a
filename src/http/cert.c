/*
 * cert.c - the site's TLS certificate, made at `fairvisit init`: an ECDSA P-256 key and a
 * self-signed X.509 certificate (GnuTLS) for the given host names plus localhost and 127.0.0.1,
 * so a kiosk browser on the office network gets a secure origin for its camera once the
 * certificate is trusted there (docs/api.md says how).
 *
 * Files: DIR/tls/key.pem (0600, created with O_EXCL: never overwritten) and DIR/tls/cert.pem
 * (0644), each written to a temporary file, fsync'd and renamed.
 * Threading: no shared state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "http-impl.h"

static int inet_pton_v4(const char *s, unsigned char out[4]) {
    return inet_pton(AF_INET, s, out) == 1;
}

static fv_status write_file(const char *dir, const char *name, const void *data, size_t len,
                            mode_t mode) {
    char tmp[4200], path[4200];
    snprintf(path, sizeof path, "%s/tls/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/tls/%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return FV_ERR_IO;
    int ok = fchmod(fd, mode) == 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    if (close(fd) != 0) ok = 0;
    if (ok && access(path, F_OK) == 0) {
        unlink(tmp);
        return FV_ERR_STATE; /* never overwrite */
    }
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return FV_ERR_IO;
    }
    return FV_OK;
}

fv_status fv_http_make_certificate(const char *site_dir, const char *const *hosts, size_t n_hosts,
                                   int days) {
    char tls[4096];
    snprintf(tls, sizeof tls, "%s/tls", site_dir);
    if (mkdir(tls, 0700) != 0 && errno != EEXIST) return FV_ERR_IO;
    char path[4200];
    snprintf(path, sizeof path, "%s/key.pem", tls);
    if (access(path, F_OK) == 0) return FV_ERR_STATE;
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kpem = {NULL, 0}, cpem = {NULL, 0};
    fv_status st = FV_ERR_INTERNAL;
    if (gnutls_global_init() < 0) return FV_ERR_INTERNAL;
    if (gnutls_x509_privkey_init(&key) < 0 ||
        gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_x509_crt_init(&crt) < 0)
        goto out;
    unsigned char serial[16];
    gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    serial[0] &= 0x7f;
    time_t now = time(NULL);
    const char *cn = n_hosts > 0 ? hosts[0] : "localhost";
    if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof serial) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "fairvisit site",
                                      14) < 0 ||
        gnutls_x509_crt_set_key(crt, key) < 0 ||
        gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                             GNUTLS_FSAN_APPEND) < 0)
        goto out;
    unsigned char ip[4] = {127, 0, 0, 1};
    if (gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND) <
        0)
        goto out;
    for (size_t i = 0; i < n_hosts; i++) {
        unsigned char a[4];
        int r = inet_pton_v4(hosts[i], a)
                    ? gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, a, 4,
                                                           GNUTLS_FSAN_APPEND)
                    : gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, hosts[i],
                                                           (unsigned)strlen(hosts[i]),
                                                           GNUTLS_FSAN_APPEND);
        if (r < 0) goto out;
    }
    if (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
        gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem) < 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem) < 0)
        goto out;
    st = write_file(site_dir, "key.pem", kpem.data, kpem.size, 0600);
    if (st == FV_OK) st = write_file(site_dir, "cert.pem", cpem.data, cpem.size, 0644);
out:
    if (kpem.data != NULL) {
        fv_wipe(kpem.data, kpem.size);
        gnutls_free(kpem.data);
    }
    if (cpem.data != NULL) gnutls_free(cpem.data);
    if (crt != NULL) gnutls_x509_crt_deinit(crt);
    if (key != NULL) gnutls_x509_privkey_deinit(key);
    gnutls_global_deinit();
    return st;
}
