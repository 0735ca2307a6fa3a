# Image decoding (src/img): sources, system libraries and tests. Included from CMakeLists.txt.
# Decoders: libjpeg-turbo (libjpeg62-turbo-dev), libspng (libspng-dev), libwebp (libwebp-dev),
# found through pkg-config (tools/setup-deps installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(FV_IMG_DEPS REQUIRED IMPORTED_TARGET libjpeg spng libwebp)

target_sources(fairvisit_lib PRIVATE
  src/img/crop.c
  src/img/decode.c
  src/img/decode_jpeg.c
  src/img/decode_png.c
  src/img/decode_webp.c
  src/img/exif.c
  src/img/gray.c
  src/img/image.c
  src/img/orient.c
  src/img/read_file.c
  src/img/resize.c
  src/img/warp.c
)
target_link_libraries(fairvisit_lib PUBLIC PkgConfig::FV_IMG_DEPS)

# Unit tests: synthetic images are encoded in memory with the same libraries; the development face
# photos are read from FV_FACES_DIR at run time (default below), never copied.
set(FV_FACES_DIR_DEFAULT ${CMAKE_SOURCE_DIR}/../shared/data/faces)
fv_unit_test(test_img tests/unit/img_build.c tests/unit/img_alloc.c)
target_include_directories(test_img PRIVATE src/img)
target_compile_definitions(test_img PRIVATE FV_FACES_DIR_DEFAULT="${FV_FACES_DIR_DEFAULT}")

# Fuzz targets (fuzz/README.md, "Image decoders"): one per decoder plus the EXIF reader. Their
# committed seeds are replayed in every build; fuzz/make_img_seeds.c writes them.
foreach(fmt jpeg png webp exif)
  add_executable(fuzz_replay_img_${fmt} fuzz/replay.c fuzz/fuzz_img_${fmt}.c)
  target_include_directories(fuzz_replay_img_${fmt} PRIVATE src/img)
  target_link_libraries(fuzz_replay_img_${fmt} PRIVATE fairvisit_lib)
  add_test(NAME fuzz_replay_img_${fmt}
    COMMAND fuzz_replay_img_${fmt} ${CMAKE_SOURCE_DIR}/fuzz/corpus/img_${fmt})
  set_tests_properties(fuzz_replay_img_${fmt} PROPERTIES TIMEOUT 600)
  if(FV_FUZZ)
    add_executable(fuzz_img_${fmt} fuzz/fuzz_img_${fmt}.c)
    target_include_directories(fuzz_img_${fmt} PRIVATE src/img)
    target_link_libraries(fuzz_img_${fmt} PRIVATE fairvisit_lib)
    target_link_options(fuzz_img_${fmt} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# Seed generator for fuzz/corpus/img_*: built, not run by the tests.
add_executable(make_img_seeds fuzz/make_img_seeds.c tests/unit/img_build.c)
target_include_directories(make_img_seeds PRIVATE tests/unit)
target_link_libraries(make_img_seeds PRIVATE fairvisit_lib)
