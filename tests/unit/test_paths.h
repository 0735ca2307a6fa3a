/*
 * test_paths.h - where the tests find their outside data: models_dir() is $FV_MODELS_DIR, else
 * FV_MODELS_DIR_DEFAULT (the source tree's models/); faces_dir() is $FV_FACES_DIR, else
 * FV_FACES_DIR_DEFAULT (only for tests whose CMake target defines it).
 */
#ifndef FAIRVISIT_TEST_PATHS_H
#define FAIRVISIT_TEST_PATHS_H

#include <stdlib.h>

static inline const char *test_dir_from_env(const char *var, const char *fallback) {
    const char *d = getenv(var);
    return d && *d ? d : fallback;
}

#ifdef FV_MODELS_DIR_DEFAULT
static inline const char *models_dir(void) {
    return test_dir_from_env("FV_MODELS_DIR", FV_MODELS_DIR_DEFAULT);
}
#endif

#ifdef FV_FACES_DIR_DEFAULT
static inline const char *faces_dir(void) {
    return test_dir_from_env("FV_FACES_DIR", FV_FACES_DIR_DEFAULT);
}
#endif

#endif
