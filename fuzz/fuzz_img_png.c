/*
 * fuzz_img_png.c - libFuzzer target for the libspng wrapper (src/img/decode_png.c): every input
 * is decoded as PNG by fuzz_img_decode_one (fuzz_img_common.h), which holds the checks. Built by
 * cmake/img.cmake (fuzz_img_png with -DFV_FUZZ=ON, fuzz_replay_img_png everywhere).
 */
#include "fuzz_img_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_img_decode_one(FV_IMG_FORMAT_PNG, data, size);
}
