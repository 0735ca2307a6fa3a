/*
 * onnx_load.c - reads an ONNX ModelProto into the engine's graph (tensors, nodes, attributes).
 *
 * Only what inference needs is kept: the default-domain opset version, the graph's nodes,
 * initializers, inputs and outputs. Everything else is skipped by wire type. Every count and
 * size that comes from the file is checked against the bytes present and the FV_NN_MAX_* limits
 * before it sizes an allocation. Errors name the byte offset, node or tensor at fault; names
 * from the file are sanitised (printable ASCII, truncated) before they enter a message.
 * After parsing, the graph is checked to be topologically ordered with every input defined.
 */
#include <stdio.h>
#include <string.h>

#include "nn-impl.h"
#include "protobuf.h"

/* ---- names and the tensor table ------------------------------------------------------------ */

static char *dup_n(const uint8_t *s, size_t n) {
    char *d = fv_malloc(n + 1);
    if (d == NULL) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A printable, bounded copy of a name for messages. */
const char *fv__shown(const char *s, char buf[72]) {
    size_t i = 0;
    if (s == NULL) s = "";
    for (; s[i] != '\0' && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s[i] != '\0') {
        memcpy(buf + i, "...", 4);
    } else {
        buf[i] = '\0';
    }
    return buf;
}

int fv__tensor_find(const fv_nn_model *m, const char *name) {
    for (int i = m->n_tensors - 1; i >= 0; i--) {
        if (m->tensors[i].name != NULL && strcmp(m->tensors[i].name, name) == 0) return i;
    }
    return -1;
}

/* Adds a tensor (name copied; NULL for anonymous). Returns its index, -1 on NOMEM/limit. */
int fv__tensor_add(fv_nn_model *m, const char *name, size_t name_len) {
    if (m->n_tensors >= FV_NN_MAX_TENSORS) return -1;
    if (m->n_tensors == m->cap_tensors) {
        int cap = m->cap_tensors ? m->cap_tensors * 2 : 64;
        fv__tensor *t = fv_realloc(m->tensors, (size_t)cap * sizeof(*t));
        if (t == NULL) return -1;
        m->tensors = t;
        m->cap_tensors = cap;
    }
    fv__tensor *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof(*t));
    t->producer = -1;
    t->last_use = -1;
    if (name != NULL) {
        t->name = dup_n((const uint8_t *)name, name_len);
        if (t->name == NULL) return -1;
    }
    return m->n_tensors++;
}

/*
 * Name lookup during loading goes through a small open-addressing hash so that hostile files with
 * many tensors stay linear-time.
 */
typedef struct name_map {
    int *slots;
    size_t cap;
    size_t used;
} name_map;

static uint64_t hash_name(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static bool map_grow(name_map *nm, const fv_nn_model *m) {
    size_t cap = nm->cap ? nm->cap * 2 : 1024;
    int *slots = fv_malloc(cap * sizeof(int));
    if (slots == NULL) return false;
    for (size_t i = 0; i < cap; i++) slots[i] = -1;
    for (size_t i = 0; i < nm->cap; i++) {
        int t = nm->slots[i];
        if (t < 0) continue;
        const char *nmn = m->tensors[t].name;
        size_t j = hash_name(nmn, strlen(nmn)) & (cap - 1);
        while (slots[j] >= 0) j = (j + 1) & (cap - 1);
        slots[j] = t;
    }
    fv_free(nm->slots);
    nm->slots = slots;
    nm->cap = cap;
    return true;
}

/* Finds or adds the tensor called name[0..n). Returns -1 on NOMEM or limit. */
static int map_get(name_map *nm, fv_nn_model *m, const char *name, size_t n, bool *created) {
    if ((nm->used + 1) * 2 > nm->cap && !map_grow(nm, m)) return -1;
    size_t j = hash_name(name, n) & (nm->cap - 1);
    while (nm->slots[j] >= 0) {
        const char *cand = m->tensors[nm->slots[j]].name;
        if (strlen(cand) == n && memcmp(cand, name, n) == 0) {
            if (created) *created = false;
            return nm->slots[j];
        }
        j = (j + 1) & (nm->cap - 1);
    }
    int t = fv__tensor_add(m, name, n);
    if (t < 0) return -1;
    nm->slots[j] = t;
    nm->used++;
    if (created) *created = true;
    return t;
}

/* ---- loader state -------------------------------------------------------------------------- */

typedef struct loader {
    fv_nn_model *m;
    const uint8_t *buf;
    size_t len;
    name_map names;
} loader;

static fv_status pb_error(loader *L, const fv__pb *r, const char *where) {
    return fv__nn_fail(L->m, FV_ERR_FORMAT, "malformed model: %s at byte %zu (in %s)",
                       r->err ? r->err : "unexpected wire type", r->err ? r->err_at : r->pos,
                       where);
}

static fv_status nomem(loader *L) {
    return fv__nn_fail(L->m, FV_ERR_NOMEM, "out of memory while loading the model");
}

/* ---- TensorProto --------------------------------------------------------------------------- */

/* Reads a TensorProto into tensor `ti` as a constant (data owned). Name field ignored here. */
static fv_status read_tensor(loader *L, fv__pb *r, int ti, const char *ctx) {
    fv_nn_model *m = L->m;
    int64_t dims[FV_NN_MAX_DIMS];
    int ndim = 0, dtype = 0;
    size_t raw_off = 0, raw_len = 0;
    bool has_raw = false;
    size_t fdata_off = 0, fdata_len = 0, idata_off = 0, idata_len = 0;
    int n_fdata_unpacked = 0, n_idata_unpacked = 0;
    size_t tensor_start = r->pos;
    uint32_t f;
    int w;
    char nb[72];
    while (fv__pb_next(r, &f, &w)) {
        uint64_t v;
        if (f == 1 && w == FV_PB_VARINT) {
            if (!fv__pb_varint(r, &v)) break;
            if (ndim >= FV_NN_MAX_DIMS)
                return fv__nn_fail(m, FV_ERR_LIMIT,
                                   "tensor in %s has more than %d dims at byte %zu",
                                   fv__shown(ctx, nb), FV_NN_MAX_DIMS, r->pos);
            dims[ndim++] = (int64_t)v;
        } else if (f == 1 && w == FV_PB_BYTES) {
            fv__pb sub;
            if (!fv__pb_sub(r, &sub)) break;
            while (!fv__pb_done(&sub)) {
                if (!fv__pb_varint(&sub, &v)) {
                    r->err = sub.err;
                    r->err_at = sub.err_at;
                    return pb_error(L, r, "tensor dims");
                }
                if (ndim >= FV_NN_MAX_DIMS)
                    return fv__nn_fail(m, FV_ERR_LIMIT, "tensor in %s has more than %d dims",
                                       fv__shown(ctx, nb), FV_NN_MAX_DIMS);
                dims[ndim++] = (int64_t)v;
            }
        } else if (f == 2 && w == FV_PB_VARINT) {
            if (!fv__pb_varint(r, &v)) break;
            dtype = (int)(v & 0x7fffffff);
        } else if (f == 9 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &raw_off, &raw_len)) break;
            has_raw = true;
        } else if (f == 4 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &fdata_off, &fdata_len)) break;
        } else if (f == 4 && w == FV_PB_FIXED32) {
            /* Unpacked float_data: rare; counted and re-read below. */
            if (n_fdata_unpacked == 0) fdata_off = r->pos;
            uint32_t x;
            if (!fv__pb_fixed32(r, &x)) break;
            n_fdata_unpacked++;
        } else if ((f == 7 || f == 5) && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &idata_off, &idata_len)) break;
        } else if ((f == 7 || f == 5) && w == FV_PB_VARINT) {
            if (n_idata_unpacked == 0) idata_off = r->pos;
            if (!fv__pb_varint(r, &v)) break;
            n_idata_unpacked++;
        } else if (f == 14 && w == FV_PB_VARINT) {
            if (!fv__pb_varint(r, &v)) break;
            if (v != 0)
                return fv__nn_fail(m, FV_ERR_UNSUPPORTED,
                                   "tensor in %s uses external data, which is not supported",
                                   fv__shown(ctx, nb));
        } else {
            if (!fv__pb_skip(r, w)) break;
        }
    }
    if (r->err) return pb_error(L, r, ctx);
    (void)tensor_start;

    int file_dtype = dtype;              /* as stored: 6 (int32) is told apart from int64 */
    if (dtype == 6) dtype = FV_DT_INT64; /* int32 initializers are widened below */
    if (dtype != FV_DT_FLOAT && dtype != FV_DT_INT64)
        return fv__nn_fail(m, FV_ERR_UNSUPPORTED,
                           "tensor in %s has data type %d; only float32, int32 and int64 are "
                           "supported",
                           fv__shown(ctx, nb), dtype);
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || dims[i] > FV_NN_MAX_NUMEL ||
            !fv_size_mul(numel, (size_t)dims[i], &numel) || numel > (size_t)FV_NN_MAX_NUMEL)
            return fv__nn_fail(m, FV_ERR_LIMIT, "tensor in %s has invalid or too large dims",
                               fv__shown(ctx, nb));
    }
    /* Every element must be in the file before we allocate for it, so that a few bytes of dims
     * cannot make the loader allocate gigabytes; the exact checks follow the allocation. */
    size_t file_esz = file_dtype == FV_DT_INT64 ? 8 : 4; /* bytes per element in raw_data */
    if (has_raw && numel > raw_len / 4)
        return fv__nn_fail(m, FV_ERR_FORMAT,
                           "tensor in %s: raw data has %zu bytes, its shape needs %zu (at byte "
                           "%zu)",
                           fv__shown(ctx, nb), raw_len, numel * file_esz, raw_off);
    if (!has_raw && dtype == FV_DT_FLOAT &&
        numel > (n_fdata_unpacked ? (size_t)n_fdata_unpacked : fdata_len / 4))
        return fv__nn_fail(
            m, FV_ERR_FORMAT, "tensor in %s: float_data holds %zu values, its shape needs %zu",
            fv__shown(ctx, nb), n_fdata_unpacked ? (size_t)n_fdata_unpacked : fdata_len / 4, numel);
    if (!has_raw && dtype == FV_DT_INT64) {
        size_t have = (size_t)n_idata_unpacked;
        if (n_idata_unpacked == 0)
            for (size_t i = 0; i < idata_len; i++) have += (L->buf[idata_off + i] & 0x80) == 0;
        if (numel > have)
            return fv__nn_fail(m, FV_ERR_FORMAT,
                               "tensor in %s: int data holds %zu values, needs %zu",
                               fv__shown(ctx, nb), have, numel);
    }
    fv_status st = fv__tensor_set_shape(m, ti, dtype, ndim, dims);
    if (st != FV_OK) return st;
    fv__tensor *t = &m->tensors[ti];
    t->kind = FV_TK_CONST;
    size_t esz = fv__dtype_size(dtype);
    t->data = fv_aligned_alloc(numel * esz);
    if (t->data == NULL) return nomem(L);
    t->owned = true;

    if (has_raw) {
        size_t want_f = numel * file_esz;
        if (file_dtype == 6 && raw_len == want_f) {
            /* int32 raw data */
            int64_t *d = t->data;
            for (size_t i = 0; i < numel; i++) {
                const uint8_t *p = L->buf + raw_off + i * 4;
                d[i] = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                 (uint32_t)p[3] << 24);
            }
            return FV_OK;
        }
        if (raw_len != want_f)
            return fv__nn_fail(m, FV_ERR_FORMAT,
                               "tensor in %s: raw data has %zu bytes, its shape needs %zu (at "
                               "byte %zu)",
                               fv__shown(ctx, nb), raw_len, want_f, raw_off);
        memcpy(t->data, L->buf + raw_off, raw_len); /* little-endian host assumed (x86/ARM) */
        return FV_OK;
    }
    if (dtype == FV_DT_FLOAT) {
        size_t have = n_fdata_unpacked ? (size_t)n_fdata_unpacked : fdata_len / 4;
        if ((n_fdata_unpacked == 0 && fdata_len % 4 != 0) || have != numel)
            return fv__nn_fail(m, FV_ERR_FORMAT,
                               "tensor in %s: float_data holds %zu values, its shape needs %zu",
                               fv__shown(ctx, nb), have, numel);
        if (n_fdata_unpacked == 0) {
            memcpy(t->data, L->buf + fdata_off, numel * 4);
        } else {
            /* Re-read the unpacked floats: each is key(1 byte: 0x25) + 4 bytes. */
            fv__pb rr;
            fv__pb_init(&rr, L->buf, tensor_start, r->end);
            size_t k = 0;
            while (k < numel && fv__pb_next(&rr, &f, &w)) {
                if (f == 4 && w == FV_PB_FIXED32) {
                    uint32_t x;
                    if (!fv__pb_fixed32(&rr, &x)) break;
                    memcpy((float *)t->data + k++, &x, 4);
                } else if (!fv__pb_skip(&rr, w)) {
                    break;
                }
            }
        }
        return FV_OK;
    }
    /* int64 (or int32 widened) from int64_data / int32_data varints */
    int64_t *d = t->data;
    size_t k = 0;
    if (n_idata_unpacked == 0) {
        fv__pb sub;
        fv__pb_init(&sub, L->buf, idata_off, idata_off + idata_len);
        uint64_t v;
        while (!fv__pb_done(&sub)) {
            if (!fv__pb_varint(&sub, &v)) return pb_error(L, &sub, ctx);
            if (k == numel) break;
            d[k++] = (int64_t)v;
        }
        if (!fv__pb_done(&sub)) k = numel + 1;
    } else {
        fv__pb rr;
        fv__pb_init(&rr, L->buf, tensor_start, r->end);
        while (fv__pb_next(&rr, &f, &w)) {
            uint64_t v;
            if ((f == 7 || f == 5) && w == FV_PB_VARINT) {
                if (!fv__pb_varint(&rr, &v)) break;
                if (k < numel) d[k] = (int64_t)v;
                k++;
            } else if (!fv__pb_skip(&rr, w)) {
                break;
            }
        }
    }
    if (k != numel)
        return fv__nn_fail(m, FV_ERR_FORMAT, "tensor in %s: int data holds %zu values, needs %zu",
                           fv__shown(ctx, nb), k, numel);
    /* int32_data varints are sign-extended 64-bit already */
    return FV_OK;
}

/* Finds the name (field 8) of a TensorProto without consuming the reader. */
static bool tensor_name(const fv__pb *r, size_t *off, size_t *len) {
    fv__pb c = *r;
    uint32_t f;
    int w;
    while (fv__pb_next(&c, &f, &w)) {
        if (f == 8 && w == FV_PB_BYTES) return fv__pb_bytes(&c, off, len);
        if (!fv__pb_skip(&c, w)) return false;
    }
    return false;
}

/* ---- AttributeProto ------------------------------------------------------------------------ */

static fv_status read_attr(loader *L, fv__pb *r, fv__attr *a, const char *node_name) {
    fv_nn_model *m = L->m;
    uint32_t f;
    int w;
    size_t floats_off = 0, floats_len = 0, ints_off = 0, ints_len = 0;
    int n_unpacked_f = 0, n_unpacked_i = 0;
    size_t start = r->pos;
    fv__pb tsub;
    bool has_tensor = false;
    char nb[72];
    memset(a, 0, sizeof(*a));
    a->tensor = -1;
    while (fv__pb_next(r, &f, &w)) {
        uint64_t v;
        uint32_t x;
        size_t off, len;
        if (f == 1 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &off, &len)) break;
            fv_free(a->name);
            a->name = dup_n(L->buf + off, len);
            if (a->name == NULL) return nomem(L);
        } else if (f == 20 && w == FV_PB_VARINT) {
            if (!fv__pb_varint(r, &v)) break;
            a->type = (fv__attr_type)(v & 0xff);
        } else if (f == 2 && w == FV_PB_FIXED32) {
            if (!fv__pb_fixed32(r, &x)) break;
            memcpy(&a->f, &x, 4);
        } else if (f == 3 && w == FV_PB_VARINT) {
            if (!fv__pb_varint(r, &v)) break;
            a->i = (int64_t)v;
        } else if (f == 4 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &off, &len)) break;
            fv_free(a->s);
            a->s = dup_n(L->buf + off, len);
            if (a->s == NULL) return nomem(L);
        } else if (f == 5 && w == FV_PB_BYTES) {
            if (!fv__pb_sub(r, &tsub)) break;
            has_tensor = true;
        } else if (f == 7 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &floats_off, &floats_len)) break;
        } else if (f == 7 && w == FV_PB_FIXED32) {
            if (!fv__pb_fixed32(r, &x)) break;
            n_unpacked_f++;
        } else if (f == 8 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &ints_off, &ints_len)) break;
        } else if (f == 8 && w == FV_PB_VARINT) {
            if (!fv__pb_varint(r, &v)) break;
            n_unpacked_i++;
        } else {
            if (!fv__pb_skip(r, w)) break;
        }
    }
    if (r->err) return pb_error(L, r, "attribute");
    if (a->name == NULL)
        return fv__nn_fail(m, FV_ERR_FORMAT, "node '%s' has an attribute without a name",
                           fv__shown(node_name, nb));
    if (a->type == FV_AT_FLOATS) {
        if (n_unpacked_f == 0 && floats_len % 4 != 0)
            return fv__nn_fail(m, FV_ERR_FORMAT, "attribute '%s' has a truncated float list",
                               fv__shown(a->name, nb));
        size_t n = n_unpacked_f ? (size_t)n_unpacked_f : floats_len / 4;
        if (n > 1u << 20) return fv__nn_fail(m, FV_ERR_LIMIT, "attribute list too long");
        a->floats = fv_malloc(n * sizeof(float));
        if (a->floats == NULL) return nomem(L);
        a->n = (int)n;
        if (n_unpacked_f == 0) {
            memcpy(a->floats, L->buf + floats_off, n * 4);
        } else {
            fv__pb rr;
            fv__pb_init(&rr, L->buf, start, r->end);
            size_t k = 0;
            while (k < n && fv__pb_next(&rr, &f, &w)) {
                uint32_t x;
                if (f == 7 && w == FV_PB_FIXED32) {
                    if (!fv__pb_fixed32(&rr, &x)) break;
                    memcpy(&a->floats[k++], &x, 4);
                } else if (!fv__pb_skip(&rr, w)) {
                    break;
                }
            }
        }
    } else if (a->type == FV_AT_INTS) {
        size_t n = 0;
        if (n_unpacked_i) {
            n = (size_t)n_unpacked_i;
        } else {
            for (size_t i = 0; i < ints_len; i++)
                if ((L->buf[ints_off + i] & 0x80) == 0) n++;
        }
        if (n > 1u << 20) return fv__nn_fail(m, FV_ERR_LIMIT, "attribute list too long");
        a->ints = fv_malloc((n ? n : 1) * sizeof(int64_t));
        if (a->ints == NULL) return nomem(L);
        size_t k = 0;
        fv__pb rr;
        if (n_unpacked_i == 0) {
            fv__pb_init(&rr, L->buf, ints_off, ints_off + ints_len);
            uint64_t v;
            while (!fv__pb_done(&rr) && k < n) {
                if (!fv__pb_varint(&rr, &v)) return pb_error(L, &rr, "attribute ints");
                a->ints[k++] = (int64_t)v;
            }
        } else {
            fv__pb_init(&rr, L->buf, start, r->end);
            while (k < n && fv__pb_next(&rr, &f, &w)) {
                uint64_t v;
                if (f == 8 && w == FV_PB_VARINT) {
                    if (!fv__pb_varint(&rr, &v)) break;
                    a->ints[k++] = (int64_t)v;
                } else if (!fv__pb_skip(&rr, w)) {
                    break;
                }
            }
        }
        if (k != n)
            return fv__nn_fail(m, FV_ERR_FORMAT, "attribute '%s' has a malformed int list",
                               fv__shown(a->name, nb));
        a->n = (int)n;
    } else if (a->type == FV_AT_TENSOR) {
        if (!has_tensor)
            return fv__nn_fail(m, FV_ERR_FORMAT, "attribute '%s' of node '%s' has no tensor",
                               fv__shown(a->name, nb), node_name);
        int ti = fv__tensor_add(m, NULL, 0);
        if (ti < 0) return nomem(L);
        a->tensor = ti;
        fv_status st = read_tensor(L, &tsub, ti, node_name);
        if (st != FV_OK) return st;
    }
    return FV_OK;
}

/* ---- NodeProto ----------------------------------------------------------------------------- */

static fv__op op_lookup(const char *name) {
    for (int i = 0; i < FV_OP_COUNT; i++)
        if (strcmp(fv__op_names[i], name) == 0) return (fv__op)i;
    return FV_OP_COUNT;
}

static fv_status read_node(loader *L, fv__pb *r, int index) {
    fv_nn_model *m = L->m;
    if (m->n_nodes >= FV_NN_MAX_NODES)
        return fv__nn_fail(m, FV_ERR_LIMIT, "model has more than %d nodes", FV_NN_MAX_NODES);
    if (m->n_nodes == m->cap_nodes) {
        int cap = m->cap_nodes ? m->cap_nodes * 2 : 64;
        fv__node *nn = fv_realloc(m->nodes, (size_t)cap * sizeof(*nn));
        if (nn == NULL) return nomem(L);
        m->nodes = nn;
        m->cap_nodes = cap;
    }
    fv__node *n = &m->nodes[m->n_nodes++];
    memset(n, 0, sizeof(*n));
    n->op = FV_OP_COUNT;
    /* First pass: name, op type, domain, counts. */
    fv__pb c = *r;
    uint32_t f;
    int w;
    size_t off, len;
    int n_attr = 0;
    bool foreign_domain = false;
    char nb[72], ob[72];
    while (fv__pb_next(&c, &f, &w)) {
        if (w == FV_PB_BYTES && (f == 3 || f == 4 || f == 7)) {
            if (!fv__pb_bytes(&c, &off, &len)) break;
            if (f == 3) {
                fv_free(n->name);
                n->name = dup_n(L->buf + off, len);
                if (n->name == NULL) return nomem(L);
            } else if (f == 4) {
                fv_free(n->op_type);
                n->op_type = dup_n(L->buf + off, len);
                if (n->op_type == NULL) return nomem(L);
            } else if (len != 0 && !(len == 7 && memcmp(L->buf + off, "ai.onnx", 7) == 0)) {
                foreign_domain = true;
            }
        } else if (f == 5 && w == FV_PB_BYTES) {
            if (!fv__pb_skip(&c, w)) break;
            if (n_attr < 1000) n_attr++;
        } else if (!fv__pb_skip(&c, w)) {
            break;
        }
    }
    if (c.err) return pb_error(L, &c, "node");
    if (n->name == NULL) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "#%d", index);
        n->name = fv_strdup(tmp);
        if (n->name == NULL) return nomem(L);
    }
    if (n->op_type == NULL)
        return fv__nn_fail(m, FV_ERR_FORMAT, "node '%s' has no op_type", fv__shown(n->name, nb));
    if (foreign_domain)
        return fv__nn_fail(m, FV_ERR_UNSUPPORTED,
                           "node '%s': operator '%s' is from a custom domain, which is not "
                           "supported",
                           fv__shown(n->name, nb), fv__shown(n->op_type, ob));
    n->op = op_lookup(n->op_type);
    if (n->op == FV_OP_COUNT)
        return fv__nn_fail(m, FV_ERR_UNSUPPORTED, "node '%s': unsupported operator '%s'",
                           fv__shown(n->name, nb), fv__shown(n->op_type, ob));
    if (n_attr > 0) {
        n->attrs = fv_calloc((size_t)n_attr, sizeof(fv__attr));
        if (n->attrs == NULL) return nomem(L);
        for (int i = 0; i < n_attr; i++) n->attrs[i].tensor = -1;
    }
    /* Second pass: inputs, outputs, attributes. */
    while (fv__pb_next(r, &f, &w)) {
        if ((f == 1 || f == 2) && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &off, &len)) break;
            int *cnt = f == 1 ? &n->n_in : &n->n_out;
            int *arr = f == 1 ? n->in : n->out;
            if (*cnt >= FV_NN_MAX_IO)
                return fv__nn_fail(m, FV_ERR_LIMIT, "node '%s' has more than %d %s",
                                   fv__shown(n->name, nb), FV_NN_MAX_IO,
                                   f == 1 ? "inputs" : "outputs");
            if (len == 0) {
                if (f == 2)
                    return fv__nn_fail(m, FV_ERR_FORMAT, "node '%s' has an unnamed output",
                                       fv__shown(n->name, nb));
                arr[(*cnt)++] = -1;
                continue;
            }
            int t = map_get(&L->names, m, (const char *)L->buf + off, len, NULL);
            if (t < 0) return nomem(L);
            arr[(*cnt)++] = t;
        } else if (f == 5 && w == FV_PB_BYTES && n->n_attrs < n_attr) {
            fv__pb sub;
            if (!fv__pb_sub(r, &sub)) break;
            fv_status st = read_attr(L, &sub, &n->attrs[n->n_attrs], n->name);
            n->n_attrs++;
            if (st != FV_OK) return st;
        } else if (!fv__pb_skip(r, w)) {
            break;
        }
    }
    if (r->err) return pb_error(L, r, "node");
    return FV_OK;
}

/* ---- ValueInfoProto (graph inputs/outputs) ------------------------------------------------- */

static fv_status read_value_info(loader *L, fv__pb *r, bool is_input) {
    fv_nn_model *m = L->m;
    uint32_t f;
    int w;
    size_t off, len;
    int ti = -1;
    int64_t dims[FV_NN_MAX_DIMS];
    int ndim = -1, elem = FV_DT_FLOAT;
    char nb[72];
    while (fv__pb_next(r, &f, &w)) {
        if (f == 1 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(r, &off, &len)) break;
            if (len == 0) return fv__nn_fail(m, FV_ERR_FORMAT, "graph value without a name");
            ti = map_get(&L->names, m, (const char *)L->buf + off, len, NULL);
            if (ti < 0) return nomem(L);
        } else if (f == 2 && w == FV_PB_BYTES) {
            /* TypeProto { tensor_type = 1 { elem_type = 1; shape = 2 { dim = 1 {...} } } } */
            fv__pb type, tt;
            if (!fv__pb_sub(r, &type)) break;
            uint32_t f2;
            int w2;
            while (fv__pb_next(&type, &f2, &w2)) {
                if (!(f2 == 1 && w2 == FV_PB_BYTES)) {
                    if (!fv__pb_skip(&type, w2)) break;
                    continue;
                }
                if (!fv__pb_sub(&type, &tt)) break;
                uint32_t f3;
                int w3;
                while (fv__pb_next(&tt, &f3, &w3)) {
                    uint64_t v;
                    if (f3 == 1 && w3 == FV_PB_VARINT) {
                        if (!fv__pb_varint(&tt, &v)) break;
                        elem = (int)(v & 0xff);
                    } else if (f3 == 2 && w3 == FV_PB_BYTES) {
                        fv__pb shape, dim;
                        if (!fv__pb_sub(&tt, &shape)) break;
                        ndim = 0;
                        uint32_t f4;
                        int w4;
                        while (fv__pb_next(&shape, &f4, &w4)) {
                            if (!(f4 == 1 && w4 == FV_PB_BYTES)) {
                                if (!fv__pb_skip(&shape, w4)) break;
                                continue;
                            }
                            if (!fv__pb_sub(&shape, &dim)) break;
                            if (ndim >= FV_NN_MAX_DIMS)
                                return fv__nn_fail(m, FV_ERR_LIMIT,
                                                   "graph value has more than %d dims",
                                                   FV_NN_MAX_DIMS);
                            int64_t dv = -1; /* symbolic: decided at prepare */
                            uint32_t f5;
                            int w5;
                            while (fv__pb_next(&dim, &f5, &w5)) {
                                if (f5 == 1 && w5 == FV_PB_VARINT) {
                                    if (!fv__pb_varint(&dim, &v)) break;
                                    dv = (int64_t)v;
                                } else if (!fv__pb_skip(&dim, w5)) {
                                    break;
                                }
                            }
                            if (dim.err) return pb_error(L, &dim, "tensor shape");
                            dims[ndim++] = dv;
                        }
                        if (shape.err) return pb_error(L, &shape, "tensor shape");
                    } else if (!fv__pb_skip(&tt, w3)) {
                        break;
                    }
                }
                if (tt.err) return pb_error(L, &tt, "tensor type");
            }
            if (type.err) return pb_error(L, &type, "value type");
        } else if (!fv__pb_skip(r, w)) {
            break;
        }
    }
    if (r->err) return pb_error(L, r, is_input ? "graph input" : "graph output");
    if (ti < 0) return fv__nn_fail(m, FV_ERR_FORMAT, "graph value without a name");
    fv__tensor *t = &m->tensors[ti];
    int **list = is_input ? &m->inputs : &m->outputs;
    int *count = is_input ? &m->n_inputs : &m->n_outputs;
    if (*count >= 64)
        return fv__nn_fail(m, FV_ERR_LIMIT, "model has more than 64 graph %s",
                           is_input ? "inputs" : "outputs");
    int *nl = fv_realloc(*list, (size_t)(*count + 1) * sizeof(int));
    if (nl == NULL) return nomem(L);
    *list = nl;
    nl[(*count)++] = ti;
    if (is_input) {
        if (elem != FV_DT_FLOAT)
            return fv__nn_fail(m, FV_ERR_UNSUPPORTED,
                               "graph input '%s' has element type %d; only float32 inputs are "
                               "supported",
                               fv__shown(t->name, nb), elem);
        if (ndim < 0)
            return fv__nn_fail(m, FV_ERR_FORMAT, "graph input '%s' has no shape",
                               fv__shown(t->name, nb));
        t->ndim = ndim;
        for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
        t->dtype = FV_DT_FLOAT;
    } else {
        t->is_output = true;
    }
    return FV_OK;
}

/* ---- GraphProto / ModelProto --------------------------------------------------------------- */

static fv_status read_graph(loader *L, fv__pb *g) {
    fv_nn_model *m = L->m;
    uint32_t f;
    int w;
    char nb[72];
    /* Pass 1: initializers (so graph inputs that shadow them can be recognised). */
    fv__pb c = *g;
    while (fv__pb_next(&c, &f, &w)) {
        if (f == 5 && w == FV_PB_BYTES) {
            fv__pb sub;
            if (!fv__pb_sub(&c, &sub)) break;
            size_t off, len;
            if (!tensor_name(&sub, &off, &len) || len == 0)
                return fv__nn_fail(m, FV_ERR_FORMAT, "initializer without a name at byte %zu",
                                   sub.pos);
            bool created;
            int ti = map_get(&L->names, m, (const char *)L->buf + off, len, &created);
            if (ti < 0) return nomem(L);
            if (!created)
                return fv__nn_fail(m, FV_ERR_FORMAT, "initializer '%s' is defined twice",
                                   fv__shown(m->tensors[ti].name, nb));
            fv_status st = read_tensor(L, &sub, ti, m->tensors[ti].name);
            if (st != FV_OK) return st;
            m->tensors[ti].is_initializer = true;
        } else if (f == 15 && w == FV_PB_BYTES) {
            return fv__nn_fail(m, FV_ERR_UNSUPPORTED, "sparse initializers are not supported");
        } else if (!fv__pb_skip(&c, w)) {
            break;
        }
    }
    if (c.err) return pb_error(L, &c, "graph");
    /* Pass 2: inputs, outputs, nodes. */
    int index = 0;
    while (fv__pb_next(g, &f, &w)) {
        fv__pb sub;
        if (w == FV_PB_BYTES && (f == 1 || f == 11 || f == 12)) {
            if (!fv__pb_sub(g, &sub)) break;
            fv_status st;
            if (f == 1) {
                st = read_node(L, &sub, index++);
            } else {
                /* inputs that name an initializer are optional overrides: keep them constant */
                st = read_value_info(L, &sub, f == 11);
                if (st == FV_OK && f == 11 && m->tensors[m->inputs[m->n_inputs - 1]].is_initializer)
                    m->n_inputs--;
            }
            if (st != FV_OK) return st;
        } else if (!fv__pb_skip(g, w)) {
            break;
        }
    }
    if (g->err) return pb_error(L, g, "graph");
    return FV_OK;
}

/* Every node input must be produced earlier (or be an input or constant); outputs unique. */
static fv_status check_order(fv_nn_model *m) {
    char nb[72], tb[72];
    for (int i = 0; i < m->n_inputs; i++) {
        fv__tensor *t = &m->tensors[m->inputs[i]];
        t->kind = FV_TK_INPUT;
    }
    bool *defined = fv_calloc((size_t)m->n_tensors + 1, 1);
    if (defined == NULL) return fv__nn_fail(m, FV_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->n_tensors; i++) defined[i] = m->tensors[i].kind != FV_TK_ACTIVATION;
    fv_status st = FV_OK;
    for (int ni = 0; ni < m->n_nodes && st == FV_OK; ni++) {
        fv__node *n = &m->nodes[ni];
        for (int a = 0; a < n->n_attrs; a++)
            if (n->attrs[a].tensor >= 0) defined[n->attrs[a].tensor] = true;
        for (int k = 0; k < n->n_in; k++) {
            int t = n->in[k];
            if (t >= 0 && !defined[t]) {
                st = fv__nn_fail(m, FV_ERR_FORMAT,
                                 "node '%s' (%s) reads '%s', which no earlier node, input or "
                                 "initializer defines",
                                 fv__shown(n->name, nb), fv__op_names[n->op],
                                 fv__shown(m->tensors[t].name, tb));
                break;
            }
        }
        if (n->n_out == 0) {
            st = fv__nn_fail(m, FV_ERR_FORMAT, "node '%s' (%s) has no outputs",
                             fv__shown(n->name, nb), fv__op_names[n->op]);
            break;
        }
        for (int k = 0; k < n->n_out && st == FV_OK; k++) {
            int t = n->out[k];
            if (defined[t]) {
                st = fv__nn_fail(m, FV_ERR_FORMAT, "node '%s' (%s) redefines tensor '%s'",
                                 fv__shown(n->name, nb), fv__op_names[n->op],
                                 fv__shown(m->tensors[t].name, tb));
                break;
            }
            defined[t] = true;
            m->tensors[t].producer = ni;
            if (k == 0) n->out0_orig = t;
        }
    }
    for (int i = 0; i < m->n_outputs && st == FV_OK; i++) {
        int t = m->outputs[i];
        if (!defined[t])
            st = fv__nn_fail(m, FV_ERR_FORMAT, "graph output '%s' is never produced",
                             fv__shown(m->tensors[t].name, tb));
    }
    fv_free(defined);
    return st;
}

fv_status fv__onnx_load(fv_nn_model *m, const unsigned char *buf, size_t len) {
    loader L = {m, buf, len, {NULL, 0, 0}};
    fv__pb r;
    fv__pb_init(&r, buf, 0, len);
    uint32_t f;
    int w;
    size_t g_off = 0, g_len = 0;
    bool has_graph = false;
    int64_t opset = -1;
    fv_status st = FV_OK;
    if (len == 0) return fv__nn_fail(m, FV_ERR_FORMAT, "malformed model: the file is empty");
    while (fv__pb_next(&r, &f, &w)) {
        if (f == 7 && w == FV_PB_BYTES) {
            if (!fv__pb_bytes(&r, &g_off, &g_len)) break;
            has_graph = true;
        } else if (f == 8 && w == FV_PB_BYTES) {
            fv__pb os;
            if (!fv__pb_sub(&r, &os)) break;
            uint32_t f2;
            int w2;
            bool default_domain = true;
            int64_t ver = -1;
            size_t off, l2;
            uint64_t v;
            while (fv__pb_next(&os, &f2, &w2)) {
                if (f2 == 1 && w2 == FV_PB_BYTES) {
                    if (!fv__pb_bytes(&os, &off, &l2)) break;
                    default_domain = l2 == 0 || (l2 == 7 && memcmp(buf + off, "ai.onnx", 7) == 0);
                } else if (f2 == 2 && w2 == FV_PB_VARINT) {
                    if (!fv__pb_varint(&os, &v)) break;
                    ver = (int64_t)v;
                } else if (!fv__pb_skip(&os, w2)) {
                    break;
                }
            }
            if (os.err) {
                st = pb_error(&L, &os, "opset_import");
                goto out;
            }
            if (default_domain) opset = ver;
        } else if (!fv__pb_skip(&r, w)) {
            break;
        }
    }
    if (r.err) {
        st = pb_error(&L, &r, "model");
        goto out;
    }
    if (!has_graph) {
        st = fv__nn_fail(m, FV_ERR_FORMAT, "malformed model: no graph (is this an ONNX file?)");
        goto out;
    }
    if (opset < 1 || opset > 21) {
        st = fv__nn_fail(m, FV_ERR_UNSUPPORTED,
                         "model needs ONNX opset %lld; supported are opsets 7 to 21",
                         (long long)opset);
        goto out;
    }
    m->opset = (int)opset;
    fv__pb g;
    fv__pb_init(&g, buf, g_off, g_off + g_len);
    st = read_graph(&L, &g);
    if (st == FV_OK && m->n_inputs == 0)
        st = fv__nn_fail(m, FV_ERR_FORMAT, "malformed model: the graph has no inputs");
    if (st == FV_OK && m->n_outputs == 0)
        st = fv__nn_fail(m, FV_ERR_FORMAT, "malformed model: the graph has no outputs");
    if (st == FV_OK) st = check_order(m);
out:
    fv_free(L.names.slots);
    return st;
}

void fv__model_free_graph(fv_nn_model *m) {
    for (int i = 0; i < m->n_tensors; i++) {
        fv_free(m->tensors[i].name);
        if (m->tensors[i].owned) fv_aligned_free(m->tensors[i].data);
    }
    fv_free(m->tensors);
    m->tensors = NULL;
    m->n_tensors = m->cap_tensors = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        fv__node *n = &m->nodes[i];
        for (int a = 0; a < n->n_attrs; a++) {
            fv_free(n->attrs[a].name);
            fv_free(n->attrs[a].s);
            fv_free(n->attrs[a].floats);
            fv_free(n->attrs[a].ints);
        }
        fv_free(n->attrs);
        fv_free(n->name);
        fv_free(n->op_type);
        fv_free(n->act_slope);
        fv_free(n->ints);
        fv_aligned_free(n->conv.packed);
        fv_aligned_free(n->conv.bias);
        fv_aligned_free(n->conv.weight);
    }
    fv_free(m->nodes);
    m->nodes = NULL;
    m->n_nodes = m->cap_nodes = 0;
    fv_free(m->inputs);
    fv_free(m->outputs);
    m->inputs = m->outputs = NULL;
    m->n_inputs = m->n_outputs = 0;
}
