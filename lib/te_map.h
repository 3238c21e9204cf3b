/*
 * te_map: string-keyed hash map (open addressing, linear probing) for in-memory state:
 * the planner's book, the simulator's orders. Keys are copied; values are opaque
 * pointers the caller owns.
 */
#ifndef TE_MAP_H
#define TE_MAP_H

#include <stddef.h>

typedef struct te_map_s te_map_t;

/** @returns a new empty map, or NULL on OOM. */
te_map_t *te_map_new(void);
/** A map that does not copy its keys: each key passed to te_map_put must stay valid,
 *  unchanged, while its entry is in the map (typically a string inside the value, so
 *  that a lookup touches one allocation instead of two). @returns NULL on OOM. */
te_map_t *te_map_new_borrowed(void);
/** Free the map and its key copies; calls `free_value` on each value if non-NULL.
 *  Accepts NULL. */
void te_map_destroy(te_map_t *m, void (*free_value)(void *));
/** @returns the value for `key`, or NULL. */
void *te_map_get(const te_map_t *m, const char *key);
/** Insert or replace. @returns 0, or -1 on OOM (map unchanged). */
int te_map_put(te_map_t *m, const char *key, void *value);
/** Remove `key`. @returns the value it had, or NULL. */
void *te_map_del(te_map_t *m, const char *key);
size_t te_map_count(const te_map_t *m);
/** Iterate: start with *pos = 0; @returns 1 and sets key/value, or 0 at the end.
 *  The map must not be modified during iteration. Order is unspecified. */
int te_map_next(const te_map_t *m, size_t *pos, const char **key, void **value);

#endif
