/*
 * fvt.c - reads FVT1 fixtures (see fvt.h); bounds-checked, little-endian.
 */
#include "fvt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rd(FILE *f, void *p, size_t n) {
    return fread(p, 1, n, f) == n ? 0 : -1;
}

static uint32_t u32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int fvt_read(const char *path, fvt_file *out) {
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fvt: cannot open %s\n", path);
        return -1;
    }
    unsigned char hdr[8];
    if (rd(f, hdr, 8) || memcmp(hdr, "FVT1", 4) != 0 || u32(hdr + 4) > 1000) goto bad;
    out->count = (int)u32(hdr + 4);
    out->tensors = calloc((size_t)out->count, sizeof(fvt_tensor));
    if (out->tensors == NULL) goto bad;
    for (int i = 0; i < out->count; i++) {
        fvt_tensor *t = &out->tensors[i];
        unsigned char b[4];
        if (rd(f, b, 2)) goto bad;
        size_t nl = (size_t)b[0] | (size_t)b[1] << 8;
        if (nl >= sizeof t->name || rd(f, t->name, nl)) goto bad;
        if (rd(f, b, 2)) goto bad;
        t->dtype = b[0];
        t->ndim = b[1];
        if ((t->dtype != 1 && t->dtype != 2) || t->ndim > 8) goto bad;
        t->numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (rd(f, b, 4)) goto bad;
            t->dims[d] = u32(b);
            t->numel *= (size_t)t->dims[d];
            if (t->numel > ((size_t)1 << 28)) goto bad;
        }
        size_t bytes = t->numel * (t->dtype == 1 ? 4 : 1);
        t->data = malloc(bytes ? bytes : 1);
        if (t->data == NULL || rd(f, t->data, bytes)) goto bad;
    }
    fclose(f);
    return 0;
bad:
    fprintf(stderr, "fvt: %s is not a valid FVT1 file\n", path);
    fclose(f);
    fvt_free(out);
    return -1;
}

void fvt_free(fvt_file *f) {
    for (int i = 0; i < f->count && f->tensors; i++) free(f->tensors[i].data);
    free(f->tensors);
    memset(f, 0, sizeof(*f));
}

const fvt_tensor *fvt_get(const fvt_file *f, const char *name) {
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}
