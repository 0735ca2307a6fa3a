/*
 * resize.c - bilinear resize of an RGB image to any size.
 *
 * Pixel centres are aligned: destination column x samples source column
 * sx = (x + 0.5) * src_w / dst_w - 0.5, clamped to [0, src_w - 1]; its two neighbours are
 * floor(sx) and floor(sx) + 1 (clamped), weighted by the fraction. Rows likewise. Each channel is
 * rounded to nearest (ties up). Per-column and per-row taps are computed once.
 *
 * Invariants: src is a valid image; dst is allocated here (zeroed on failure); the tap tables
 * hold no pixel data but are wiped like every block of this module. Threading: none.
 */
#include <math.h>
#include <string.h>

#include "fairvisit/alloc.h"
#include "img-impl.h"

typedef struct tap {
    int i0, i1;
    double f; /* weight of i1 */
} tap;

static void make_taps(tap *t, int n_dst, int n_src) {
    double scale = (double)n_src / (double)n_dst;
    for (int i = 0; i < n_dst; i++) {
        double s = ((double)i + 0.5) * scale - 0.5;
        if (s < 0) s = 0;
        if (s > n_src - 1) s = n_src - 1;
        int i0 = (int)floor(s);
        t[i].i0 = i0;
        t[i].i1 = i0 + 1 < n_src ? i0 + 1 : n_src - 1;
        t[i].f = s - i0;
    }
}

fv_status fv_img_resize(const fv_image *src, int dst_w, int dst_h, fv_image *dst) {
    if (dst == NULL) return FV_ERR_ARG;
    memset(dst, 0, sizeof *dst);
    if (src == NULL || src->rgb == NULL || src->width < 1 || src->height < 1 || dst_w < 1 ||
        dst_h < 1)
        return FV_ERR_ARG;
    tap *tx = fv_malloc(sizeof(tap) * (size_t)dst_w);
    tap *ty = fv_malloc(sizeof(tap) * (size_t)dst_h);
    fv_status st = tx && ty ? fv_img_alloc(dst_w, dst_h, dst) : FV_ERR_NOMEM;
    if (st == FV_OK) {
        make_taps(tx, dst_w, src->width);
        make_taps(ty, dst_h, src->height);
        const size_t sstride = (size_t)src->width * 3;
        unsigned char *o = dst->rgb;
        for (int y = 0; y < dst_h; y++) {
            const unsigned char *r0 = src->rgb + (size_t)ty[y].i0 * sstride;
            const unsigned char *r1 = src->rgb + (size_t)ty[y].i1 * sstride;
            const double fy = ty[y].f;
            for (int x = 0; x < dst_w; x++) {
                const size_t a = (size_t)tx[x].i0 * 3, b = (size_t)tx[x].i1 * 3;
                const double fx = tx[x].f;
                for (int c = 0; c < 3; c++) {
                    double top = r0[a + c] + (r0[b + c] - r0[a + c]) * fx;
                    double bot = r1[a + c] + (r1[b + c] - r1[a + c]) * fx;
                    double v = top + (bot - top) * fy;
                    *o++ = (unsigned char)(v + 0.5);
                }
            }
        }
    }
    fv__img_wipe_free(tx, sizeof(tap) * (size_t)dst_w);
    fv__img_wipe_free(ty, sizeof(tap) * (size_t)dst_h);
    return st;
}
