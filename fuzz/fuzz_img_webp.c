/*
 * fuzz_img_webp.c - libFuzzer target for the libwebp wrapper (src/img/decode_webp.c): every input
 * is decoded as WEBP by fuzz_img_decode_one (fuzz_img_common.h), which holds the checks. Built by
 * cmake/img.cmake (fuzz_img_webp with -DFV_FUZZ=ON, fuzz_replay_img_webp everywhere).
 */
#include "fuzz_img_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_img_decode_one(FV_IMG_FORMAT_WEBP, data, size);
}
