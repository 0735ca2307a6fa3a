# 1:N search index (src/index): sources, kernels, tests and benchmarks. Included from CMakeLists.txt.
