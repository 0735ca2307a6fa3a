/*
 * orient.c - turns stored pixels upright for an EXIF orientation (TIFF tag 0x0112, values 1..8).
 *
 * For output pixel (x, y) of the upright image the stored pixel is, with w x h the stored size:
 *   1 (x, y)            2 (w-1-x, y)         3 (w-1-x, h-1-y)     4 (x, h-1-y)
 *   5 (y, x)            6 (y, h-1-x)         7 (w-1-y, h-1-x)     8 (w-1-y, x)
 * Orientations 5..8 swap width and height (6: rotate 90 degrees clockwise, 8: counter-clockwise).
 *
 * Invariants: the old buffer is wiped before it is freed. Threading: none.
 */
#include <string.h>

#include "fairvisit/alloc.h"
#include "img-impl.h"

fv_status fv__img_apply_orientation(fv_image *img, int orientation) {
    if (orientation < 2 || orientation > 8 || img->rgb == NULL) return FV_OK;
    const int w = img->width, h = img->height;
    const bool swap = orientation >= 5;
    fv_image up;
    fv_status st = fv_img_alloc(swap ? h : w, swap ? w : h, &up);
    if (st != FV_OK) return st;
    for (int y = 0; y < up.height; y++) {
        unsigned char *dst = up.rgb + (size_t)y * (size_t)up.width * 3;
        for (int x = 0; x < up.width; x++) {
            int sx, sy;
            switch (orientation) {
            case 2:
                sx = w - 1 - x, sy = y;
                break;
            case 3:
                sx = w - 1 - x, sy = h - 1 - y;
                break;
            case 4:
                sx = x, sy = h - 1 - y;
                break;
            case 5:
                sx = y, sy = x;
                break;
            case 6:
                sx = y, sy = h - 1 - x;
                break;
            case 7:
                sx = w - 1 - y, sy = h - 1 - x;
                break;
            default:
                sx = w - 1 - y, sy = x;
                break; /* 8 */
            }
            memcpy(dst + (size_t)x * 3, img->rgb + ((size_t)sy * (size_t)w + (size_t)sx) * 3, 3);
        }
    }
    fv_img_free(img);
    *img = up;
    return FV_OK;
}
