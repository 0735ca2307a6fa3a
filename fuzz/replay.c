/*
 * replay.c - runs the fuzz target over files without libFuzzer, so the corpus is a CTest
 * regression test in every build (gcc included).
 *
 *     fuzz_replay_onnx fuzz/corpus/onnx [more dirs or files...]
 *
 * Every regular file in the given directories (not recursive), and every file given directly,
 * is read and passed to LLVMFuzzerTestOneInput. Prints how many inputs were replayed; exits 1 if
 * a path cannot be read or nothing was replayed. A crash is the sanitizers' to report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                fclose(f);
                return -1;
            }
            data = p;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(data);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

int main(int argc, char **argv) {
    int count = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            errors++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (replay_file(argv[i]) == 0)
                count++;
            else
                errors++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (d == NULL) {
            errors++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
            if (replay_file(path) == 0)
                count++;
            else
                errors++;
        }
        closedir(d);
    }
    printf("replayed %d inputs, %d unreadable\n", count, errors);
    return errors || count == 0 ? 1 : 0;
}
