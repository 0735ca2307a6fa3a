/*
 * exif.c - reads the orientation (tag 0x0112) from the first IFD of an EXIF TIFF structure.
 *
 * Layout (TIFF 6.0): "II" (little-endian) or "MM" (big-endian), the number 42 (u16), the offset of
 * IFD0 (u32, from the start of the TIFF header). An IFD is a u16 entry count followed by 12-byte
 * entries: tag u16, type u16, count u32, value-or-offset u32. Orientation is type SHORT (3), count
 * 1, its value in the first two bytes of the value field.
 *
 * Invariants: this is outside data. Every read is checked against `len` first; an IFD whose
 * entries do not all fit, or any other inconsistency, makes the result 1 (no rotation). No
 * allocation, no recursion, no loops beyond the entry count (at most (len - 2) / 12).
 * Threading: pure.
 */
#include <stdint.h>
#include <string.h>

#include "img-impl.h"

static uint32_t rd16(const unsigned char *p, bool le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | (uint32_t)p[1];
}

static uint32_t rd32(const unsigned char *p, bool le) {
    return le ? rd16(p, true) | rd16(p + 2, true) << 16 : rd16(p, false) << 16 | rd16(p + 2, false);
}

int fv__img_exif_orientation(const unsigned char *data, size_t len) {
    if (data == NULL) return 1;
    if (len >= 6 && memcmp(data, "Exif\0\0", 6) == 0) {
        data += 6;
        len -= 6;
    }
    if (len < 8) return 1;
    bool le;
    if (data[0] == 'I' && data[1] == 'I')
        le = true;
    else if (data[0] == 'M' && data[1] == 'M')
        le = false;
    else
        return 1;
    if (rd16(data + 2, le) != 42) return 1;
    uint32_t ifd = rd32(data + 4, le);
    if (ifd < 8 || ifd > len || len - ifd < 2) return 1;
    uint32_t count = rd16(data + ifd, le);
    if ((size_t)count * 12 > len - ifd - 2) return 1; /* entries must all be inside */
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = data + ifd + 2 + (size_t)i * 12;
        if (rd16(e, le) != 0x0112) continue;
        if (rd16(e + 2, le) != 3 || rd32(e + 4, le) != 1) return 1;
        uint32_t v = rd16(e + 8, le);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}
