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
  fv_fuzz_target(fuzz_img_${fmt} src/img)
endforeach()

# Seed generator for fuzz/corpus/img_*: built, not run by the tests.
add_executable(make_img_seeds fuzz/make_img_seeds.c tests/unit/img_build.c)
target_include_directories(make_img_seeds PRIVATE tests/unit)
target_link_libraries(make_img_seeds PRIVATE fairvisit_lib)
