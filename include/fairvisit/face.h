/*
 * fairvisit/face.h - the face pipeline: from a decoded image to face templates that can be
 * trusted for attribution, or a clear reason why a face cannot be.
 *
 * Steps: detect (full frame plus overlapping tiles, so small faces in large photos are found) →
 * 68 landmarks → 5 alignment points → least-squares similarity transform to the standard 112x112
 * template → quality gate (size, cut by the image edge, blur, pose, occlusion) → liveness
 * (single-frame anti-spoof) → 512-d embedding, L2-normalised. A face that fails any gate carries
 * its reason codes and never gets an embedding.
 *
 *     fv_face_engine *fe = NULL;
 *     fv_face_options opt = {.models_dir = "models"};
 *     if (fv_face_engine_open(&opt, &fe) != FV_OK) { puts(fv_face_engine_errmsg(fe)); ... }
 *     fv_face_list faces = {0};
 *     if (fv_face_analyze(fe, &img, FV_FACE_WANT_EMBEDDING, &faces) == FV_OK)
 *         for (int i = 0; i < faces.count; i++)
 *             if (faces.faces[i].usable) store(faces.faces[i].embedding);
 *     fv_face_list_free(&faces);            // wipes the embeddings
 *     fv_face_engine_close(fe);
 *
 * Privacy: the pipeline works on pixels in memory only; every intermediate pixel buffer and every
 * embedding is wiped before it is freed. Nothing is logged.
 * Ownership: the engine owns its models; a list owns its faces. Pointer parameters are borrowed.
 * Threading: one engine is used by one thread at a time; open one engine per thread.
 */
#ifndef FAIRVISIT_FACE_H
#define FAIRVISIT_FACE_H

#include "fairvisit/img.h"
#include "fairvisit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FV_FACE_EMBEDDING_DIM 512

/*
 * Decision threshold on cosine similarity between two templates: `same` above it. Calibrated in
 * docs/face-threshold.md (what it targets and how it was measured).
 */
#define FV_FACE_MATCH_THRESHOLD 0.40f

/* X(NAME, code, message for the visitor) - reasons a face is not usable, one bit each. */
#define FV_FACE_REASON_MAP(X)                                                                      \
    X(TOO_SMALL, "too_small", "please move closer: the face is too small")                         \
    X(CUT, "cut_by_edge", "please step into the frame: the face is cut by the image edge")         \
    X(BLURRED, "blurred", "please hold still: the face is blurred")                                \
    X(POSE, "pose", "please look straight at the camera")                                          \
    X(OCCLUDED, "occluded", "please remove anything covering the face (mask, helmet, hand)")       \
    X(NOT_LIVE, "not_live", "the face does not look live (a photo or a screen?)")

typedef enum fv_face_reason_bit {
#define FV__FACE_REASON_BIT(name, code, msg) FV_FACE_REASON_BIT_##name,
    FV_FACE_REASON_MAP(FV__FACE_REASON_BIT)
#undef FV__FACE_REASON_BIT
        FV_FACE_REASON_COUNT
} fv_face_reason_bit;

#define FV_FACE_REASON(name) (1u << FV_FACE_REASON_BIT_##name)

/* "too_small" and its message; NULL for bits outside the table. Static storage. */
const char *fv_face_reason_code(int bit);
const char *fv_face_reason_message(int bit);

typedef struct fv_face_options {
    const char *models_dir;   /* folder holding fr_detect/landmark/feature/liveness.onnx */
    float detect_threshold;   /* face score to keep a detection; default 0.7 */
    int min_face_px;          /* smallest face height (pixels) the detector must find; default 40 */
    int min_usable_px;        /* quality gate: faces smaller than this are too small; default 48 */
    float liveness_threshold; /* quality gate: live below this; default see docs */
} fv_face_options;

typedef struct fv_face_quality {
    float size_px;   /* face box height in pixels */
    float visible;   /* fraction of the face region inside the image, 0..1 */
    float sharpness; /* normalised Laplacian energy of the aligned face; higher is sharper */
    float yaw;       /* nose offset from the eye midline / eye distance; 0 frontal, ±0.5 ~45° */
    float pitch;     /* (nose - eye line) / (mouth - eye line) - 0.5; 0 about level */
    float roll;      /* eye line angle, degrees */
    float template_norm; /* length of the raw embedding: low for faces the model cannot read */
    float occlusion;     /* 0..2: nose, chin or forehead unlike the cheeks' skin; above 1 covered */
} fv_face_quality;

typedef struct fv_face {
    float box[4];          /* x1, y1, x2, y2 in image pixels */
    float score;           /* detector confidence */
    float landmarks[5][2]; /* left eye, right eye, nose, left mouth corner, right mouth corner */
    float landmarks68[68][2];
    fv_face_quality quality;
    float liveness;   /* probability the face is live, 0..1 */
    unsigned reasons; /* FV_FACE_REASON bits; 0 when usable */
    int usable;
    int has_embedding;
    float embedding[FV_FACE_EMBEDDING_DIM]; /* L2-normalised; only when has_embedding */
} fv_face;

typedef struct fv_face_list {
    int count;
    fv_face *faces; /* fv_malloc'd, largest face first; freed (wiped) by fv_face_list_free */
} fv_face_list;

enum { FV_FACE_WANT_EMBEDDING = 1 };

typedef struct fv_face_engine fv_face_engine;

/* *out is always set (an engine in an error state on failure, NULL only on out of memory). */
FV_NODISCARD fv_status fv_face_engine_open(const fv_face_options *opt, fv_face_engine **out);
void fv_face_engine_close(fv_face_engine *e);
const char *fv_face_engine_errmsg(const fv_face_engine *e);

/* Finds, checks and (with FV_FACE_WANT_EMBEDDING) embeds every face of img. */
FV_NODISCARD fv_status fv_face_analyze(fv_face_engine *e, const fv_image *img, unsigned flags,
                                       fv_face_list *out);
void fv_face_list_free(fv_face_list *list);

/* Cosine similarity of two L2-normalised embeddings (their dot product), in [-1, 1]. */
float fv_face_similarity(const float *a, const float *b);

#ifdef __cplusplus
}
#endif
#endif
