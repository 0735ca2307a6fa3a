# Template vault (src/vault): encrypted, consent-gated, expiring template store. Included from CMakeLists.txt.
# Needs libsodium (AEAD, guarded memory) and SQLite (the record store): Debian's libsodium-dev and
# libsqlite3-dev, found through pkg-config (tools/setup-deps installs both).
find_package(PkgConfig REQUIRED)
pkg_check_modules(FV_SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(FV_SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)

target_sources(fairvisit_lib PRIVATE
  src/vault/files.c
  src/vault/keyring.c
  src/vault/purge.c
  src/vault/store.c
  src/vault/transform.c
  src/vault/vault.c
)
target_link_libraries(fairvisit_lib PUBLIC PkgConfig::FV_SODIUM PkgConfig::FV_SQLITE3)
target_include_directories(fairvisit_lib PRIVATE src/vault)

# Unit tests: API, consent, crypto, template protection, purge (test_vault); kill -9 during inserts
# and purges (test_vault_kill). Both reach internals through src/vault/vault-impl.h.
fv_unit_test(test_vault tests/unit/vault_fixture.c)
target_include_directories(test_vault PRIVATE src/vault)
fv_unit_test(test_vault_kill tests/unit/vault_fixture.c)
target_include_directories(test_vault_kill PRIVATE src/vault)

# Fuzz targets for the vault's file readers (fuzz/README.md, "Vault file readers"): the keyring
# and the transform parsers on byte buffers, with a fixed test master key. The committed seeds
# are replayed in every build; fuzz/make_vault_seeds.c writes them.
foreach(what keyring transform)
  fv_fuzz_target(fuzz_vault_${what} src/vault)
endforeach()

# Seed generator for fuzz/corpus/vault_*: built, not run by the tests.
add_executable(make_vault_seeds fuzz/make_vault_seeds.c)
target_include_directories(make_vault_seeds PRIVATE src/vault)
target_link_libraries(make_vault_seeds PRIVATE fairvisit_lib)
