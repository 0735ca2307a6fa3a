/*
 * face-impl.h - private declarations of the face pipeline (src/face only).
 *
 * The engine holds one inference model per network, each prepared for its fixed input shape,
 * plus scratch images reused across calls. Every function here works on images in memory and
 * wipes what it allocates for pixels before freeing it.
 * Threading: an engine and its scratch belong to one thread at a time.
 */
#ifndef FAIRVISIT_FACE_IMPL_H
#define FAIRVISIT_FACE_IMPL_H

#include <stddef.h>

#include "fairvisit/face.h"
#include "fairvisit/img.h"
#include "fairvisit/nn.h"

/* Detector input, fixed by the model (its prior boxes are baked in). */
#define FV__DET_W 320
#define FV__DET_H 240
/* Smallest face the detector finds reliably, in detector pixels (its smallest anchors). */
#define FV__DET_MIN_FACE 16.0f
#define FV__NMS_IOU      0.4f

/* Quality thresholds (docs/face-pipeline.md explains each). */
#define FV__MIN_VISIBLE       0.90f  /* fraction of the face region inside the image */
#define FV__MIN_SHARPNESS     0.060f /* normalised Laplacian energy of the aligned face */
#define FV__MAX_YAW           0.35f
#define FV__MAX_PITCH         0.30f
#define FV__MAX_ROLL          40.0f
#define FV__MIN_TEMPLATE_NORM 2.5f
#define FV__MAX_OCCLUSION     1.0f
#define FV__DEFAULT_LIVENESS  0.10f

struct fv_face_engine {
    char errmsg[256];
    fv_face_options opt;
    fv_nn_model *detect, *landmark, *feature, *liveness;
};

fv_status fv__face_fail(fv_face_engine *e, fv_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A detection before the later stages. */
typedef struct fv__det {
    float box[4];
    float score;
} fv__det;

/* detect.c: all faces of img, after NMS, largest first. *out is fv_malloc'd. */
fv_status fv__face_detect(fv_face_engine *e, const fv_image *img, fv__det **out, int *count);

/* landmarks.c: 68 points for a face box; then the 5 alignment points. */
fv_status fv__face_landmarks(fv_face_engine *e, const fv_image *img, const float box[4],
                             float pts68[68][2]);
void fv__face_five_points(const float pts68[68][2], float pts5[5][2]);

/* align.c: least-squares similarity transform taking pts5 onto the 112x112 template, as the
 * destination-to-source matrix fv_img_warp_affine takes; and the aligned face itself. */
void fv__face_similarity_transform(const float pts5[5][2], double dst_to_src[6]);
fv_status fv__face_align(const fv_image *img, const float pts5[5][2], fv_image *aligned);

/* quality.c */
float fv__face_visible_fraction(const fv_image *img, const float box[4]);
float fv__face_sharpness(const fv_image *aligned);
void fv__face_pose(const float pts5[5][2], float *yaw, float *pitch, float *roll);
float fv__face_occlusion(const fv_image *aligned);

/* liveness.c: probability that the face is live. */
fv_status fv__face_liveness(fv_face_engine *e, const fv_image *img, const float box[4],
                            float *live);

/* embed.c: the raw embedding's length and the L2-normalised embedding. */
fv_status fv__face_embed(fv_face_engine *e, const fv_image *aligned, float *embedding,
                         float *raw_norm);

/* Model input from an RGB (or gray, channels == 1) image: (v - mean) * scale, NCHW. */
void fv__face_fill_input(const fv_image *img, int channels, float mean, float scale, float *dst);

/* Crop box (x, y, w, h) of img, resized to dst_w x dst_h (area-filtered when shrinking). */
fv_status fv__face_crop_resize(const fv_image *img, float x, float y, float w, float h, int dst_w,
                               int dst_h, fv_image *out);

#endif
