/*
 * fuzz_img_jpeg.c - libFuzzer target for the libjpeg-turbo wrapper (src/img/decode_jpeg.c):
 * every input is decoded as JPEG by fuzz_img_decode_one (fuzz_img_common.h), which holds the
 * checks. Built by cmake/img.cmake (fuzz_img_jpeg with -DFV_FUZZ=ON, fuzz_replay_img_jpeg
 * everywhere).
 */
#include "fuzz_img_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_img_decode_one(FV_IMG_FORMAT_JPEG, data, size);
}
