# The HTTP API over real HTTP on loopback (tests/http/api.test.mjs): a demo site, `fairvisit
# serve` as a child process, every endpoint of every route table called by every role. Needs
# Node.js 18 or later (node:test, no npm packages); skipped (77) when node is not installed.
# Included from cmake/http.cmake.
find_program(FV_NODE_EXECUTABLE NAMES node nodejs)
if(FV_NODE_EXECUTABLE)
  add_test(NAME test_http_api
    COMMAND ${FV_NODE_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/http/api.test.mjs)
else()
  add_test(NAME test_http_api
    COMMAND sh -c "echo 'test_http_api: node not found: skipped'; exit 77")
endif()
set_tests_properties(test_http_api PROPERTIES
  TIMEOUT 600
  SKIP_RETURN_CODE 77
  ENVIRONMENT "FV_BIN=$<TARGET_FILE:fairvisit>;FV_MODELS_DIR=${FV_MODELS_DIR}")
