# 1:N search index (src/index): sources, kernels, tests and benchmarks. Included from CMakeLists.txt.

# Search kernels: src/index/scan_simd.c compiled once per instruction set, picked at open by
# src/index/scan_select.c (FV_INDEX_ISA: 1 generic, 2 AVX2+FMA, 3 AVX-512F/BW, 4 + VNNI).
function(fv_index_kernel_variant name isa flags)
  add_library(fv_index_kernels_${name} OBJECT src/index/scan_simd.c)
  target_compile_definitions(fv_index_kernels_${name} PRIVATE FV_INDEX_ISA=${isa})
  target_compile_options(fv_index_kernels_${name} PRIVATE -O3 -ffp-contract=fast ${flags})
  target_include_directories(fv_index_kernels_${name} PRIVATE include src/index)
  set_target_properties(fv_index_kernels_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_sources(fairvisit_lib PRIVATE $<TARGET_OBJECTS:fv_index_kernels_${name}>)
endfunction()
fv_index_kernel_variant(generic 1 "")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  fv_index_kernel_variant(avx2 2 "-mavx2;-mfma")
  fv_index_kernel_variant(avx512 3 "-mavx512f;-mavx512bw;-mavx2;-mfma")
  fv_index_kernel_variant(avx512vnni 4 "-mavx512f;-mavx512bw;-mavx512vnni;-mavx2;-mfma")
endif()

target_sources(fairvisit_lib PRIVATE
  src/index/idmap.c
  src/index/index.c
  src/index/scan_select.c
  src/index/search.c
)

# Unit tests (the test reaches the kernel tables directly, hence src/index).
fv_unit_test(test_index)
target_include_directories(test_index PRIVATE src/index)

# FAISS peer for bench/search.sh: built only when Debian's libfaiss-dev and a C++ compiler are
# there (tools/setup-deps installs both). Not under sanitizers or fuzzing: it is a timing tool.
if(NOT FV_SANITIZE AND NOT FV_FUZZ)
  include(CheckLanguage)
  check_language(CXX)
  if(CMAKE_CXX_COMPILER)
    enable_language(CXX)
    find_package(faiss CONFIG QUIET)
    find_package(OpenMP QUIET COMPONENTS CXX)
    if(faiss_FOUND AND OpenMP_CXX_FOUND)
      add_executable(search_faiss bench/search_faiss.cpp)
      set_target_properties(search_faiss PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
      # Replaces the C warning set inherited from the directory (-Wstrict-prototypes is C-only).
      set_property(TARGET search_faiss PROPERTY COMPILE_OPTIONS -O2 -Wall -Wextra -Werror)
      target_link_libraries(search_faiss PRIVATE faiss OpenMP::OpenMP_CXX)
    else()
      message(STATUS "FAISS (libfaiss-dev) or OpenMP not found: bench/search_faiss.cpp not built")
    endif()
  endif()
endif()
