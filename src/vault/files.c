/*
 * files.c - the vault's file primitives: paths in the site folder, whole-file reads, and atomic
 * replacement (temp file, fsync, rename, fsync of the folder), plus the handle's error message.
 *
 * Invariant: a file written here is either entirely the old content or entirely the new one,
 * whatever the moment the process dies. Threading: no shared state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "vault-impl.h"

fv_status fv__vault_fail(fv_vault *v, fv_status st, const char *fmt, ...) {
    if (v == NULL) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, sizeof v->err, fmt, ap);
    va_end(ap);
    return st;
}

char *fv__vault_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name), n;
    if (!fv_size_add(a, b + 2, &n)) return NULL;
    char *p = fv_malloc(n);
    if (p == NULL) return NULL;
    (void)snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int fsync_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (n >= sizeof dir) return -1;
    if (slash) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    } else {
        strcpy(dir, ".");
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

fv_status fv__vault_write_atomic(fv_vault *v, const char *path, const void *data, size_t len) {
    size_t n = strlen(path);
    char *tmp = fv_malloc(n + 5);
    if (tmp == NULL) return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory writing a site file");
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp", 5);
    fv_status st = FV_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = fv__vault_fail(v, FV_ERR_IO, "cannot create a site file: %s", strerror(errno));
        goto out;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            st = fv__vault_fail(v, FV_ERR_IO, "cannot write a site file: %s", strerror(errno));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (st == FV_OK && fsync(fd) != 0)
        st = fv__vault_fail(v, FV_ERR_IO, "cannot sync a site file: %s", strerror(errno));
    close(fd);
    if (st == FV_OK && rename(tmp, path) != 0)
        st = fv__vault_fail(v, FV_ERR_IO, "cannot replace a site file: %s", strerror(errno));
    if (st == FV_OK && fsync_parent(path) != 0)
        st = fv__vault_fail(v, FV_ERR_IO, "cannot sync the site folder: %s", strerror(errno));
    if (st != FV_OK) unlink(tmp);
out:
    fv_free(tmp);
    return st;
}

fv_status fv__vault_read_file(fv_vault *v, const char *path, size_t max, uint8_t **data,
                              size_t *len) {
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return fv__vault_fail(v, FV_ERR_NOT_FOUND, "a site file is missing");
        return fv__vault_fail(v, FV_ERR_IO, "cannot open a site file: %s", strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > max) {
        close(fd);
        return fv__vault_fail(v, FV_ERR_FORMAT, "a site file has an impossible size");
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = fv_malloc(n);
    if (buf == NULL) {
        close(fd);
        return fv__vault_fail(v, FV_ERR_NOMEM, "out of memory reading a site file");
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        fv_free(buf);
        return fv__vault_fail(v, FV_ERR_IO, "short read of a site file");
    }
    *data = buf;
    *len = n;
    return FV_OK;
}
