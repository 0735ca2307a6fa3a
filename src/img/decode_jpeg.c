/*
 * decode_jpeg.c - JPEG decoding with libjpeg-turbo (jpeglib.h): baseline, progressive and
 * arithmetic-coded; gray, YCbCr/RGB, and CMYK/YCCK (converted to RGB) colour spaces.
 *
 * libjpeg reports fatal errors through error_exit, which must not return: ours longjmps back to
 * decode_inner, whose caller owns all state (the decompressor, our buffers) in a struct reached
 * through a pointer, so nothing the cleanup needs lives in a local of the setjmp frame.
 * Warnings go through emit_message: "premature end of data" (JWRN_JPEG_EOF, which libjpeg would
 * answer by padding the image with gray) is treated as an error ("truncated JPEG data"); other
 * corrupt-data warnings are tolerated, as in most decoders. Data after the last scanline is not
 * read. A progress monitor caps the number of progressive scans (a tiny file can declare
 * thousands of them, each a pass over the whole image).
 *
 * The size is checked from the header (jpeg_read_header) before jpeg_start_decompress allocates
 * the coefficient buffers. Scanlines are written straight into the output image; only CMYK uses a
 * row buffer of ours, wiped before it is freed. libjpeg's own buffers are its own.
 *
 * Threading: no shared state (one decompressor per call).
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "fairvisit/alloc.h"
#include "img-impl.h"

#define JPEG_MAX_SCANS 500

typedef struct jpeg_state {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    bool created;
    fv_status fail_status;
    char msg[JMSG_LENGTH_MAX + 40];
    fv_image img;
    unsigned char *row; /* CMYK row buffer, 4 * width bytes */
    size_t row_size;
} jpeg_state;

static jpeg_state *state_of(j_common_ptr cinfo) {
    /* cinfo is the first member of jpeg_state (a decompressor is the only kind we create). */
    return (jpeg_state *)(void *)cinfo;
}

static void on_error_exit(j_common_ptr cinfo) {
    jpeg_state *s = state_of(cinfo);
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    switch (cinfo->err->msg_code) {
    case JERR_OUT_OF_MEMORY:
        s->fail_status = FV_ERR_NOMEM;
        break;
    case JERR_BAD_PRECISION:
    case JERR_NOT_COMPILED:
    case JERR_SOF_UNSUPPORTED:
    case JERR_ARITH_NOTIMPL:
    case JERR_CONVERSION_NOTIMPL:
        s->fail_status = FV_ERR_UNSUPPORTED;
        break;
    default:
        s->fail_status = FV_ERR_FORMAT;
        break;
    }
    snprintf(s->msg, sizeof s->msg, "JPEG: %s", text);
    longjmp(s->jmp, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return; /* trace messages */
    cinfo->err->num_warnings++;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_state *s = state_of(cinfo);
        s->fail_status = FV_ERR_FORMAT;
        snprintf(s->msg, sizeof s->msg, "truncated JPEG data (premature end of data)");
        longjmp(s->jmp, 1);
    }
}

static void on_output_message(j_common_ptr cinfo) {
    (void)cinfo; /* never print */
}

static void on_progress(j_common_ptr cinfo) {
    jpeg_state *s = state_of(cinfo);
    if (s->cinfo.input_scan_number > JPEG_MAX_SCANS) {
        s->fail_status = FV_ERR_LIMIT;
        snprintf(s->msg, sizeof s->msg, "JPEG: more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(s->jmp, 1);
    }
}

static int exif_orientation_of(j_decompress_ptr cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6) continue;
        if (memcmp(m->data, "Exif\0\0", 6) != 0) continue;
        return fv__img_exif_orientation(m->data, m->data_length);
    }
    return 1;
}

static inline unsigned char mul255(unsigned a, unsigned b) {
    return (unsigned char)((a * b + 127) / 255);
}

/* One CMYK (or Adobe's inverted CMYK) row to RGB. */
static void cmyk_to_rgb(const unsigned char *in, unsigned char *out, size_t w, bool inverted) {
    for (size_t i = 0; i < w; i++, in += 4, out += 3) {
        unsigned c = in[0], m = in[1], y = in[2], k = in[3];
        if (!inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
        out[0] = mul255(c, k);
        out[1] = mul255(m, k);
        out[2] = mul255(y, k);
    }
}

/* Runs the decoder; errors longjmp back here. All state is in *s (owned by the caller). */
static fv_status decode_inner(jpeg_state *s, const unsigned char *data, size_t len,
                              const fv__img_limits *lim, int *orientation, fv_img_error *err) {
    struct jpeg_decompress_struct *ci = &s->cinfo;
    if (setjmp(s->jmp) != 0) return fv__img_fail(err, s->fail_status, "%s", s->msg);
    jpeg_create_decompress(ci);
    s->created = true;
    jpeg_mem_src(ci, data, (unsigned long)len);
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
    if (jpeg_read_header(ci, TRUE) != JPEG_HEADER_OK)
        return fv__img_fail(err, FV_ERR_FORMAT, "JPEG: no image in the data (tables only)");
    fv_status st = fv__img_check_size("JPEG", ci->image_width, ci->image_height, lim, err);
    if (st != FV_OK) return st;

    bool cmyk = false;
    switch (ci->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        ci->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        ci->out_color_space = JCS_CMYK;
        cmyk = true;
        break;
    default:
        return fv__img_fail(err, FV_ERR_UNSUPPORTED,
                            "JPEG: colour space with %d components is not supported",
                            ci->num_components);
    }
    *orientation = exif_orientation_of(ci);

    s->progress.progress_monitor = on_progress;
    ci->progress = &s->progress;
    jpeg_start_decompress(ci);
    if (ci->output_width != ci->image_width || ci->output_height != ci->image_height ||
        ci->output_components != (cmyk ? 4 : 3))
        return fv__img_fail(err, FV_ERR_INTERNAL, "JPEG: unexpected output layout");

    st = fv_img_alloc((int)ci->output_width, (int)ci->output_height, &s->img);
    if (st != FV_OK)
        return fv__img_fail(err, st, "JPEG: cannot allocate the pixels (%s)",
                            fv_status_message(st));
    const size_t w = ci->output_width;
    if (cmyk) {
        s->row_size = 4 * w;
        s->row = fv_malloc(s->row_size);
        if (s->row == NULL) return fv__img_fail(err, FV_ERR_NOMEM, "JPEG: out of memory");
    }
    while (ci->output_scanline < ci->output_height) {
        unsigned char *dst = s->img.rgb + (size_t)ci->output_scanline * w * 3;
        JSAMPROW row = cmyk ? s->row : dst;
        if (jpeg_read_scanlines(ci, &row, 1) != 1)
            return fv__img_fail(err, FV_ERR_FORMAT, "truncated JPEG data");
        if (cmyk) cmyk_to_rgb(s->row, dst, w, ci->saw_Adobe_marker);
    }
    return FV_OK;
}

fv_status fv__img_decode_jpeg(const unsigned char *data, size_t len, const fv__img_limits *lim,
                              fv_image *out, int *orientation, fv_img_error *err) {
    jpeg_state *s = fv_calloc(1, sizeof *s);
    if (s == NULL) return fv__img_fail(err, FV_ERR_NOMEM, "JPEG: out of memory");
    s->cinfo.err = jpeg_std_error(&s->jerr);
    s->jerr.error_exit = on_error_exit;
    s->jerr.emit_message = on_emit_message;
    s->jerr.output_message = on_output_message;
    s->fail_status = FV_ERR_FORMAT;
    *orientation = 1;
    fv_status st = decode_inner(s, data, len, lim, orientation, err);
    if (s->created) jpeg_destroy_decompress(&s->cinfo);
    fv__img_wipe_free(s->row, s->row_size);
    if (st == FV_OK)
        *out = s->img;
    else
        fv_img_free(&s->img);
    fv__img_wipe_free(s, sizeof *s);
    return st;
}
