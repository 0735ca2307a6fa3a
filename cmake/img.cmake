# Image decoding (src/img): sources, system libraries and tests. Included from CMakeLists.txt.
