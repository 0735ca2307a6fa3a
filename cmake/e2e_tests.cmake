# End-to-end tests of the web pages (tests/e2e/e2e.test.mjs, node:test): a real headless
# Chromium (Debian's /usr/bin/chromium, tools/setup-deps) driven by playwright-core from
# tools/node_modules (tools/npm-install; it never downloads a browser), against
# `fairvisit serve` on a fresh demo site with the face models (tools/fetch-models). The kiosk's
# camera is a fake capture device playing a video the test makes from a development photo
# (FV_FACES_DIR at run time, default as for test_img). Screenshots of every page and step go to
# BUILD/e2e-screenshots. Skipped (77) without Chromium; without the photos only the face flow
# is skipped (and the run reports 77 if the rest passed). Included from cmake/http.cmake.
find_program(FV_NODE_EXE node)
if(FV_NODE_EXE)
  add_test(NAME e2e_web COMMAND ${FV_NODE_EXE} ${CMAKE_SOURCE_DIR}/tests/e2e/e2e.test.mjs)
  set_tests_properties(e2e_web PROPERTIES
    TIMEOUT 900
    SKIP_RETURN_CODE 77
    RUN_SERIAL TRUE
    ENVIRONMENT "FV_BIN=$<TARGET_FILE:fairvisit>;FV_NODE_MODULES=${CMAKE_SOURCE_DIR}/tools/node_modules;FV_MODELS_DIR=${FV_MODELS_DIR};FV_FACES_DIR_DEFAULT=${FV_FACES_DIR_DEFAULT};FV_E2E_OUT=${CMAKE_BINARY_DIR}/e2e-screenshots")
else()
  message(STATUS "node not found: the end-to-end web test (e2e_web) is not registered")
endif()
