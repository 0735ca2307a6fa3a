/*
 * protobuf.h - a bounds-checked reader of the protobuf wire format (private to src/nn).
 *
 * Why our own reader rather than protobuf-c: the engine needs a handful of ONNX messages, read
 * once, and the reader is the attack surface for hostile model files. A 150-line reader that checks
 * every length against the bytes that remain, reports the byte offset of any fault and never
 * allocates is easier to audit and fuzz than generated code plus a runtime library and .proto
 * files to keep in step.
 *
 * A reader is a window [pos, end) into one buffer; sub-messages are read with a new window over
 * their bytes. Offsets in errors are absolute (relative to `base`). Not thread-safe per reader.
 */
#ifndef FAIRVISIT_NN_PROTOBUF_H
#define FAIRVISIT_NN_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { FV_PB_VARINT = 0, FV_PB_FIXED64 = 1, FV_PB_BYTES = 2, FV_PB_FIXED32 = 5 };

typedef struct fv__pb {
    const uint8_t *base;
    size_t pos, end;
    size_t err_at;   /* offset of the first fault */
    const char *err; /* static description of the first fault, NULL if none */
} fv__pb;

void fv__pb_init(fv__pb *r, const uint8_t *base, size_t pos, size_t end);
/* True when the window is exhausted or an error occurred. */
bool fv__pb_done(const fv__pb *r);
/* Reads the next key; false at end or on error (check r->err). */
bool fv__pb_next(fv__pb *r, uint32_t *field, int *wire);
bool fv__pb_varint(fv__pb *r, uint64_t *v);
bool fv__pb_fixed32(fv__pb *r, uint32_t *v);
/* A length-delimited field: off and len give its bytes (absolute offset). */
bool fv__pb_bytes(fv__pb *r, size_t *off, size_t *len);
bool fv__pb_skip(fv__pb *r, int wire);
/* A sub-reader over a length-delimited field just read. */
bool fv__pb_sub(fv__pb *r, fv__pb *sub);

#endif
