/*
 * fvt.h - reader of the FVT1 tensor fixtures written by tools/gen-reference (format in
 * tests/fixtures/nn/README.md): named float32/uint8 tensors with their shapes.
 */
#ifndef FAIRVISIT_TEST_FVT_H
#define FAIRVISIT_TEST_FVT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fvt_tensor {
    char name[128];
    int dtype; /* 1 float32, 2 uint8 */
    int ndim;
    int64_t dims[8];
    size_t numel;
    void *data;
} fvt_tensor;

typedef struct fvt_file {
    int count;
    fvt_tensor *tensors;
} fvt_file;

/* 0 on success; -1 with a message on stderr. */
int fvt_read(const char *path, fvt_file *out);
void fvt_free(fvt_file *f);
const fvt_tensor *fvt_get(const fvt_file *f, const char *name);

#endif
