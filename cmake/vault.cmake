# Template vault (src/vault): encrypted, consent-gated, expiring template store. Included from CMakeLists.txt.
