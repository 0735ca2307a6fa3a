/*
 * idmap.c - the id -> slot map of an index: open addressing over a power-of-two table, linear
 * probing, backward-shift deletion (no tombstones, so lookups stay short under churn).
 *
 * Invariants: the table is never more than half full (the index sizes it at twice its capacity);
 * every stored id is reachable from its home bucket without crossing a free bucket. Any 64-bit
 * id is allowed: a free bucket is marked in `slots`, not `keys`.
 * Threading: none of its own; reads may run concurrently, writes may not.
 */
#include <string.h>

#include "index-impl.h"

/* splitmix64's finaliser: ids may be sequential, so spread them over the table. */
static size_t home(const fv__index_map *m, uint64_t id) {
    id ^= id >> 30;
    id *= 0xbf58476d1ce4e5b9ull;
    id ^= id >> 27;
    id *= 0x94d049bb133111ebull;
    id ^= id >> 31;
    return (size_t)id & m->mask;
}

bool fv__index_map_init(fv__index_map *m, size_t buckets) {
    memset(m, 0, sizeof(*m));
    m->keys = fv_malloc(buckets * sizeof(uint64_t));
    m->slots = fv_malloc(buckets * sizeof(uint32_t));
    if (m->keys == NULL || m->slots == NULL) {
        fv_free(m->keys);
        fv_free(m->slots);
        memset(m, 0, sizeof(*m));
        return false;
    }
    memset(m->slots, 0xff, buckets * sizeof(uint32_t)); /* FV__INDEX_MAP_EMPTY everywhere */
    memset(m->keys, 0, buckets * sizeof(uint64_t));
    m->mask = buckets - 1;
    return true;
}

void fv__index_map_free(fv__index_map *m) {
    if (m->keys != NULL) {
        fv_wipe(m->keys, (m->mask + 1) * sizeof(uint64_t));
        fv_wipe(m->slots, (m->mask + 1) * sizeof(uint32_t));
    }
    fv_free(m->keys);
    fv_free(m->slots);
    memset(m, 0, sizeof(*m));
}

size_t fv__index_map_find(const fv__index_map *m, uint64_t id) {
    if (m->keys == NULL) return SIZE_MAX;
    for (size_t b = home(m, id);; b = (b + 1) & m->mask) {
        if (m->slots[b] == FV__INDEX_MAP_EMPTY) return SIZE_MAX;
        if (m->keys[b] == id) return b;
    }
}

void fv__index_map_insert(fv__index_map *m, uint64_t id, uint32_t slot) {
    size_t b = home(m, id);
    while (m->slots[b] != FV__INDEX_MAP_EMPTY) b = (b + 1) & m->mask;
    m->keys[b] = id;
    m->slots[b] = slot;
}

void fv__index_map_erase(fv__index_map *m, size_t b) {
    /* Pull later members of the probe run back into the hole when their home allows it. */
    size_t hole = b;
    for (size_t j = (b + 1) & m->mask; m->slots[j] != FV__INDEX_MAP_EMPTY; j = (j + 1) & m->mask) {
        size_t h = home(m, m->keys[j]);
        /* j may move to the hole iff its home is not in (hole, j] (cyclically). */
        bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
        if (stays) continue;
        m->keys[hole] = m->keys[j];
        m->slots[hole] = m->slots[j];
        hole = j;
    }
    m->keys[hole] = 0;
    m->slots[hole] = FV__INDEX_MAP_EMPTY;
}
