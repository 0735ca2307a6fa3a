/*
 * fuzz_img_exif.c - libFuzzer target for the EXIF orientation reader (src/img/exif.c), which
 * parses TIFF/IFD structures from JPEG APP1, PNG eXIf and WebP EXIF blocks on its own: each input
 * is one such block. The result must be 1..8; out-of-range reads are ASan's to report.
 */
#include <stdint.h>
#include <stdlib.h>

#include "img-impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int o = fv__img_exif_orientation(data, size);
    if (o < 1 || o > 8) abort();
    return 0;
}
