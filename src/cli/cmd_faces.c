/*
 * cmd_faces.c - `fairvisit faces IMG...`, `fairvisit embed IMG...` and `fairvisit compare A B`.
 *
 * faces/embed print one result per image, in the order given: a text summary, or with --json one
 * JSON object per line ({"file", "faces": [...]} or {"file", "error"}); an unreadable image gives
 * its error and the run goes on (exit status 1 at the end if any failed). --threads T spreads the
 * images over T threads, each with its own face engine. compare uses the largest usable face of
 * each image and prints similarity, same and threshold.
 * Models come from --models DIR, else $FV_MODELS_DIR, else ./models.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fairvisit/alloc.h"
#include "fairvisit/face.h"
#include "fairvisit/img.h"
#include "fairvisit/strbuf.h"

typedef struct faces_args {
    const char *cmd;
    const char **files;
    int n_files;
    int json;
    int threads;
    int embed;
    const char *models;
} faces_args;

static const char *models_dir(const char *given) {
    if (given != NULL) return given;
    const char *env = getenv("FV_MODELS_DIR");
    return env != NULL && *env ? env : "models";
}

static int parse(const char *cmd, int argc, char **argv, faces_args *a) {
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->threads = 1;
    a->files = fv_calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    if (a->files == NULL) {
        fprintf(stderr, "fairvisit %s: out of memory\n", cmd);
        return 1;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || *end || v < 1 || v > 64) {
                fprintf(stderr, "fairvisit %s: --threads must be 1..64, got '%s'\n", cmd, argv[i]);
                return 2;
            }
            a->threads = (int)v;
        } else if (strcmp(argv[i], "--models") == 0 && i + 1 < argc) {
            a->models = argv[++i];
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, "fairvisit %s: unknown option '%s'\n", cmd, argv[i]);
            return 2;
        } else {
            a->files[a->n_files++] = argv[i];
        }
    }
    return 0;
}

static void face_json(fv_strbuf *b, const fv_face *f, int with_embedding) {
    fv_sb_printf(b, "{\"box\": [");
    for (int k = 0; k < 4; k++) {
        if (k) fv_sb_printf(b, ", ");
        fv_sb_json_float(b, f->box[k], 6);
    }
    fv_sb_printf(b, "]");
    fv_sb_json_field_float(b, "score", f->score, 4);
    fv_sb_printf(b, ", \"landmarks\": [");
    for (int k = 0; k < 5; k++) {
        fv_sb_printf(b, "%s[", k ? ", " : "");
        fv_sb_json_float(b, f->landmarks[k][0], 6);
        fv_sb_printf(b, ", ");
        fv_sb_json_float(b, f->landmarks[k][1], 6);
        fv_sb_printf(b, "]");
    }
    const fv_face_quality *q = &f->quality;
    fv_sb_printf(b, "], \"quality\": {\"size_px\": ");
    fv_sb_json_float(b, q->size_px, 5);
    fv_sb_json_field_float(b, "visible", q->visible, 3);
    fv_sb_json_field_float(b, "sharpness", q->sharpness, 3);
    fv_sb_json_field_float(b, "yaw", q->yaw, 3);
    fv_sb_json_field_float(b, "pitch", q->pitch, 3);
    fv_sb_json_field_float(b, "roll", q->roll, 3);
    fv_sb_json_field_float(b, "template_norm", q->template_norm, 4);
    fv_sb_json_field_float(b, "occlusion", q->occlusion, 3);
    fv_sb_printf(b, "}");
    fv_sb_json_field_float(b, "liveness", f->liveness, 4);
    fv_sb_printf(b, ", \"usable\": %s, \"reasons\": [", f->usable ? "true" : "false");
    int first = 1;
    for (int bit = 0; bit < FV_FACE_REASON_COUNT; bit++) {
        if (!(f->reasons & (1u << bit))) continue;
        fv_sb_printf(b, "%s", first ? "" : ", ");
        fv_sb_json_string(b, fv_face_reason_code(bit));
        first = 0;
    }
    fv_sb_printf(b, "]");
    if (with_embedding && f->has_embedding) {
        fv_sb_printf(b, ", \"embedding\": [");
        for (int k = 0; k < FV_FACE_EMBEDDING_DIM; k++) {
            if (k) fv_sb_printf(b, ", ");
            fv_sb_json_float(b, f->embedding[k], 7);
        }
        fv_sb_printf(b, "]");
    }
    fv_sb_printf(b, "}");
}

static void face_text(fv_strbuf *b, int i, const fv_face *f) {
    fv_sb_printf(b, "  face %d: box %.0f,%.0f-%.0f,%.0f score %.3f liveness %.3f %s", i, f->box[0],
                 f->box[1], f->box[2], f->box[3], f->score, f->liveness,
                 f->usable ? "usable" : "not usable:");
    for (int bit = 0; bit < FV_FACE_REASON_COUNT; bit++)
        if (f->reasons & (1u << bit)) fv_sb_printf(b, " %s", fv_face_reason_code(bit));
    fv_sb_printf(b, "\n");
}

typedef struct job {
    const faces_args *a;
    fv_strbuf *out; /* one per file */
    int *failed;    /* one per file */
    int next;
    pthread_mutex_t mu;
    const char *open_error;
} job;

static void run_file(fv_face_engine *fe, const faces_args *a, const char *file, fv_strbuf *b,
                     int *failed) {
    fv_image img = {0};
    fv_img_error ierr;
    fv_status st = fv_img_read_file(file, NULL, &img, &ierr);
    fv_face_list faces = {0};
    const char *msg = NULL;
    if (st != FV_OK) {
        msg = ierr.msg;
    } else {
        st = fv_face_analyze(fe, &img, a->embed ? FV_FACE_WANT_EMBEDDING : 0, &faces);
        if (st != FV_OK) msg = fv_face_engine_errmsg(fe);
    }
    if (st != FV_OK) {
        *failed = 1;
        if (a->json) {
            fv_sb_printf(b, "{\"file\": ");
            fv_sb_json_string(b, file);
            fv_sb_printf(b, ", \"error\": ");
            fv_sb_json_string(b, msg);
            fv_sb_printf(b, "}\n");
        } else {
            fv_sb_printf(b, "%s: error: %s\n", file, msg);
        }
    } else if (a->json) {
        fv_sb_printf(b, "{\"file\": ");
        fv_sb_json_string(b, file);
        fv_sb_printf(b, ", \"width\": %d, \"height\": %d, \"faces\": [", img.width, img.height);
        for (int i = 0; i < faces.count; i++) {
            if (i) fv_sb_printf(b, ", ");
            face_json(b, &faces.faces[i], a->embed);
        }
        fv_sb_printf(b, "]}\n");
    } else {
        int usable = 0;
        for (int i = 0; i < faces.count; i++) usable += faces.faces[i].usable;
        fv_sb_printf(b, "%s: %d face(s), %d usable\n", file, faces.count, usable);
        for (int i = 0; i < faces.count; i++) face_text(b, i, &faces.faces[i]);
    }
    fv_face_list_free(&faces);
    fv_img_free(&img);
}

static void *worker(void *arg) {
    job *j = arg;
    fv_face_engine *fe = NULL;
    fv_face_options opt = {.models_dir = models_dir(j->a->models)};
    if (fv_face_engine_open(&opt, &fe) != FV_OK) {
        pthread_mutex_lock(&j->mu);
        if (j->open_error == NULL) j->open_error = fe ? "cannot load the face models" : "oom";
        fprintf(stderr, "fairvisit %s: %s\n", j->a->cmd, fv_face_engine_errmsg(fe));
        pthread_mutex_unlock(&j->mu);
        fv_face_engine_close(fe);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->open_error ? j->a->n_files : j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->a->n_files) break;
        run_file(fe, j->a, j->a->files[i], &j->out[i], &j->failed[i]);
    }
    fv_face_engine_close(fe);
    return NULL;
}

static int faces_or_embed(const char *cmd, int embed, int argc, char **argv) {
    faces_args a;
    int rc = parse(cmd, argc, argv, &a);
    if (rc == 0 && a.n_files == 0) {
        fprintf(stderr, "usage: fairvisit %s IMG... [--json] [--threads T] [--models DIR]\n", cmd);
        rc = 2;
    }
    if (rc != 0) {
        fv_free(a.files);
        return rc;
    }
    a.embed = embed;
    job j = {&a,
             fv_calloc((size_t)a.n_files, sizeof(fv_strbuf)),
             fv_calloc((size_t)a.n_files, sizeof(int)),
             0,
             PTHREAD_MUTEX_INITIALIZER,
             NULL};
    if (j.out == NULL || j.failed == NULL) {
        fprintf(stderr, "fairvisit %s: out of memory\n", cmd);
        rc = 1;
    } else {
        int t = a.threads < a.n_files ? a.threads : a.n_files;
        pthread_t tids[64];
        int started = 0;
        for (int i = 1; i < t; i++)
            if (pthread_create(&tids[started], NULL, worker, &j) == 0) started++;
        worker(&j);
        for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
        if (j.open_error != NULL) rc = 1;
        /* every image's result, in the order given; a failed image only sets the status */
        int any_failed = 0;
        for (int i = 0; i < a.n_files && rc == 0; i++) {
            if (j.out[i].oom) {
                fprintf(stderr, "fairvisit %s: out of memory\n", cmd);
                rc = 1;
                break;
            }
            if (j.out[i].s != NULL) fputs(j.out[i].s, stdout);
            any_failed |= j.failed[i];
        }
        if (any_failed) rc = 1;
        for (int i = 0; i < a.n_files; i++) fv_sb_free(&j.out[i]);
    }
    fv_free(j.out);
    fv_free(j.failed);
    fv_free(a.files);
    return rc;
}

int fv_cli_faces(int argc, char **argv) {
    return faces_or_embed("faces", 0, argc, argv);
}

int fv_cli_embed(int argc, char **argv) {
    return faces_or_embed("embed", 1, argc, argv);
}

/*
 * The largest usable face of file: 0 on success, else prints why and returns 1. Messages name
 * the image by position ("image A"), not by its file name, which may be a person's name.
 */
static int best_embedding(fv_face_engine *fe, const char *file, const char *which, float *emb) {
    fv_image img = {0};
    fv_img_error ierr;
    if (fv_img_read_file(file, NULL, &img, &ierr) != FV_OK) {
        fprintf(stderr, "fairvisit compare: %s: %s\n", which, ierr.msg);
        return 1;
    }
    fv_face_list faces = {0};
    fv_status st = fv_face_analyze(fe, &img, FV_FACE_WANT_EMBEDDING, &faces);
    fv_img_free(&img);
    if (st != FV_OK) {
        fprintf(stderr, "fairvisit compare: %s: %s\n", which, fv_face_engine_errmsg(fe));
        return 1;
    }
    int rc = 1;
    for (int i = 0; i < faces.count; i++) { /* faces come largest first */
        if (faces.faces[i].has_embedding) {
            memcpy(emb, faces.faces[i].embedding, FV_FACE_EMBEDDING_DIM * sizeof(float));
            rc = 0;
            break;
        }
    }
    if (rc != 0) {
        if (faces.count == 0) {
            fprintf(stderr, "fairvisit compare: %s: no face found\n", which);
        } else {
            fprintf(stderr, "fairvisit compare: %s: no usable face (largest:", which);
            for (int bit = 0; bit < FV_FACE_REASON_COUNT; bit++)
                if (faces.faces[0].reasons & (1u << bit))
                    fprintf(stderr, " %s", fv_face_reason_code(bit));
            fprintf(stderr, ")\n");
        }
    }
    fv_face_list_free(&faces);
    return rc;
}

int fv_cli_compare(int argc, char **argv) {
    faces_args a;
    int rc = parse("compare", argc, argv, &a);
    if (rc == 0 && a.n_files != 2) {
        fprintf(stderr, "usage: fairvisit compare A B [--json] [--models DIR]\n");
        rc = 2;
    }
    if (rc != 0) {
        fv_free(a.files);
        return rc;
    }
    fv_face_engine *fe = NULL;
    fv_face_options opt = {.models_dir = models_dir(a.models)};
    if (fv_face_engine_open(&opt, &fe) != FV_OK) {
        fprintf(stderr, "fairvisit compare: %s\n", fv_face_engine_errmsg(fe));
        fv_face_engine_close(fe);
        fv_free(a.files);
        return 1;
    }
    float ea[FV_FACE_EMBEDDING_DIM], eb[FV_FACE_EMBEDDING_DIM];
    rc = best_embedding(fe, a.files[0], "image A", ea);
    if (rc == 0) rc = best_embedding(fe, a.files[1], "image B", eb);
    if (rc == 0) {
        float s = fv_face_similarity(ea, eb);
        int same = s >= FV_FACE_MATCH_THRESHOLD;
        if (a.json)
            printf("{\"similarity\": %.6f, \"same\": %s, \"threshold\": %.4f}\n", s,
                   same ? "true" : "false", FV_FACE_MATCH_THRESHOLD);
        else
            printf("similarity %.4f: %s (threshold %.2f)\n", s, same ? "same person" : "different",
                   FV_FACE_MATCH_THRESHOLD);
    }
    fv_wipe(ea, sizeof ea);
    fv_wipe(eb, sizeof eb);
    fv_face_engine_close(fe);
    fv_free(a.files);
    return rc;
}
