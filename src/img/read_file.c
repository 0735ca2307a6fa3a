/*
 * read_file.c - fv_img_read_file: reads a regular file into memory, bounded by the input limit,
 * decodes it, and wipes the file bytes (a compressed face is still a face).
 *
 * Invariants: at most max_input bytes are ever allocated for the file; a file that grows while
 * being read is refused rather than truncated. Error messages carry the OS error text, not the
 * path (file names can name people).
 * Threading: no shared state.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fairvisit/alloc.h"
#include "img-impl.h"

static fv_status read_all(int fd, size_t max_input, unsigned char **out, size_t *out_len,
                          fv_img_error *err) {
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return fv__img_fail(err, FV_ERR_IO, "cannot stat the image file: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return fv__img_fail(err, FV_ERR_IO, "the image path is not a regular file");
    if (sb.st_size < 0 || (unsigned long long)sb.st_size > max_input)
        return fv__img_fail(err, FV_ERR_LIMIT, "image file is %lld bytes; at most %zu are allowed",
                            (long long)sb.st_size, max_input);
    size_t size = (size_t)sb.st_size;
    unsigned char *buf = fv_malloc(size + 1); /* +1: room to notice a file that grew */
    if (buf == NULL) return fv__img_fail(err, FV_ERR_NOMEM, "out of memory reading the file");
    size_t got = 0;
    while (got < size + 1) {
        ssize_t n = read(fd, buf + got, size + 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            fv__img_wipe_free(buf, size + 1);
            return fv__img_fail(err, FV_ERR_IO, "cannot read the image file: %s", strerror(e));
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    if (got != size) {
        fv__img_wipe_free(buf, size + 1);
        return fv__img_fail(err, FV_ERR_IO, "the image file changed size while being read");
    }
    *out = buf;
    *out_len = size;
    return FV_OK;
}

fv_status fv_img_read_file(const char *path, const fv_img_options *opt, fv_image *out,
                           fv_img_error *err) {
    if (err != NULL) err->msg[0] = '\0';
    if (out == NULL || path == NULL)
        return fv__img_fail(err, FV_ERR_ARG, "no path or output image given");
    memset(out, 0, sizeof *out);
    fv__img_limits lim;
    fv__img_limits_from(opt, &lim);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return fv__img_fail(err, e == ENOENT ? FV_ERR_NOT_FOUND : FV_ERR_IO,
                            "cannot open the image file: %s", strerror(e));
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    fv_status st = read_all(fd, lim.max_input, &buf, &len, err);
    close(fd);
    if (st != FV_OK) return st;
    st = fv_img_decode(buf, len, opt, out, err);
    fv__img_wipe_free(buf, len + 1);
    return st;
}
