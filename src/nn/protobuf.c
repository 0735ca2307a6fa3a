/*
 * protobuf.c - bounds-checked protobuf wire-format reader (see protobuf.h).
 * Invariant: pos <= end <= size of the underlying buffer; every read checks against `end`.
 */
#include "protobuf.h"

#include <string.h>

static bool fail(fv__pb *r, const char *what) {
    if (r->err == NULL) {
        r->err = what;
        r->err_at = r->pos;
    }
    r->pos = r->end;
    return false;
}

void fv__pb_init(fv__pb *r, const uint8_t *base, size_t pos, size_t end) {
    r->base = base;
    r->pos = pos;
    r->end = end;
    r->err = NULL;
    r->err_at = 0;
}

bool fv__pb_done(const fv__pb *r) {
    return r->err != NULL || r->pos >= r->end;
}

bool fv__pb_varint(fv__pb *r, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->pos >= r->end) return fail(r, "truncated varint");
        uint8_t b = r->base[r->pos++];
        if (shift == 63 && (b & 0x7e) != 0) return fail(r, "varint overflows 64 bits");
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return true;
        }
    }
    return fail(r, "varint longer than 10 bytes");
}

bool fv__pb_next(fv__pb *r, uint32_t *field, int *wire) {
    if (fv__pb_done(r)) return false;
    uint64_t key;
    if (!fv__pb_varint(r, &key)) return false;
    uint64_t f = key >> 3;
    if (f == 0 || f > 536870911u) return fail(r, "invalid field number");
    *field = (uint32_t)f;
    *wire = (int)(key & 7);
    return true;
}

bool fv__pb_fixed32(fv__pb *r, uint32_t *v) {
    if (r->end - r->pos < 4) return fail(r, "truncated fixed32");
    const uint8_t *p = r->base + r->pos;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    r->pos += 4;
    return true;
}

bool fv__pb_bytes(fv__pb *r, size_t *off, size_t *len) {
    uint64_t n;
    size_t at = r->pos;
    if (!fv__pb_varint(r, &n)) return false;
    if (n > (uint64_t)(r->end - r->pos)) {
        r->pos = at;
        return fail(r, "length runs past the end of its message");
    }
    *off = r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return true;
}

bool fv__pb_skip(fv__pb *r, int wire) {
    uint64_t v;
    size_t off, len;
    switch (wire) {
    case FV_PB_VARINT:
        return fv__pb_varint(r, &v);
    case FV_PB_FIXED64:
        if (r->end - r->pos < 8) return fail(r, "truncated fixed64");
        r->pos += 8;
        return true;
    case FV_PB_BYTES:
        return fv__pb_bytes(r, &off, &len);
    case FV_PB_FIXED32:
        if (r->end - r->pos < 4) return fail(r, "truncated fixed32");
        r->pos += 4;
        return true;
    default:
        return fail(r, "unsupported wire type");
    }
}

bool fv__pb_sub(fv__pb *r, fv__pb *sub) {
    size_t off, len;
    if (!fv__pb_bytes(r, &off, &len)) return false;
    fv__pb_init(sub, r->base, off, off + len);
    return true;
}
