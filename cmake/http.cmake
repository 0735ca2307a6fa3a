# The server (src/http): libmicrohttpd for HTTP/HTTPS, GnuTLS for the site certificate. Debian's
# libmicrohttpd-dev and libgnutls28-dev via pkg-config (tools/setup-deps installs both).
# Included from CMakeLists.txt after the ledger and JSON modules.
pkg_check_modules(FV_MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(FV_GNUTLS REQUIRED IMPORTED_TARGET gnutls)

target_sources(fairvisit_lib PRIVATE
  src/http/cert.c
  src/http/names.c
  src/http/liveness.c
  src/http/ratelimit.c
  src/http/routes_admin.c
  src/http/routes_agent.c
  src/http/routes_auth.c
  src/http/routes_kiosk.c
  src/http/routes_me.c
  src/http/routes_reception.c
  src/http/routes_reports.c
  src/http/routes_web.c
  src/http/server.c
  src/http/session.c
)
target_link_libraries(fairvisit_lib PUBLIC PkgConfig::FV_MHD PkgConfig::FV_GNUTLS)
target_include_directories(fairvisit_lib PRIVATE src/http)
# The liveness state machine of the kiosk's face path (liveness.c) on synthetic landmark frames,
# and the eye aspect ratio of the development photos on the real models (test_http_liveness).
fv_unit_test(test_http_liveness)
target_include_directories(test_http_liveness PRIVATE src/http)
target_compile_definitions(test_http_liveness PRIVATE FV_FACES_DIR_DEFAULT="${FV_FACES_DIR_DEFAULT}")
# The web pages, embedded into the binary (cmake/web.cmake, docs/web.md).
include(cmake/web.cmake)
# API tests over HTTP against the built binary (cmake/http_tests.cmake).
include(cmake/http_tests.cmake)
# End-to-end tests of the web pages in headless Chromium (cmake/e2e_tests.cmake).
include(cmake/e2e_tests.cmake)
