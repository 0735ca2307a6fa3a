# Strict JSON reader for request bodies (src/json). Included from CMakeLists.txt.
target_sources(fairvisit_lib PRIVATE src/json/json.c)

# Unit test: values, refusals with codes and offsets, limits, field checks, out-of-memory.
fv_unit_test(test_json)

# Fuzz target for the reader and the field checker (fuzz/README.md, "JSON"); seeds in
# fuzz/corpus/json are replayed in every build.
fv_fuzz_target(fuzz_json src/json)
