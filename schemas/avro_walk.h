/*
 * avro_walk: check Avro binary against a schema without allocating, so that avro-c
 * (which allocates a wire length before checking it, accepts out-of-range enum indexes
 * and ignores trailing bytes) only ever sees well-formed input.
 *
 * A schema is compiled once into a small node graph; a walk then reads the bytes
 * exactly as a decoder would and checks:
 *   - varints: at most 10 bytes for long, 5 for int, no overflow;
 *   - string/bytes lengths: non-negative, within the remaining bytes, and within the
 *     node's maximum (set per field with te_avro_walk_set_max);
 *   - enum and union indexes in range, booleans 0 or 1;
 *   - array/map blocks, including negative counts followed by a byte size that must
 *     match the items, with the total item count capped;
 *   - nesting depth capped (TE_AVRO_WALK_MAX_DEPTH), and the record ending exactly at the
 * end of the buffer. Errors name the field path and the byte offset ("field
 * 'targets[3].ticker' at byte 57: length 100000 exceeds remaining 12"); text is formatted
 * only on failure.
 */
#ifndef TE_AVRO_WALK_H
#define TE_AVRO_WALK_H

#include <stddef.h>
#include <stdint.h>

#include <avro.h>

#define TE_AVRO_WALK_MAX_DEPTH 32 /* nested records/arrays/maps/unions */
#define TE_AVRO_WALK_DEFAULT_MAX_ITEMS                                                   \
        (1u << 20) /* array/map items unless set per node */

typedef enum {
        TE_AVRO_WALK_OK = 0,
        TE_AVRO_WALK_TRUNCATED, /* the bytes end inside a value (or a length passes the
                                   end) */
        TE_AVRO_WALK_MALFORMED, /* bad varint, negative length, index out of range, ... */
        TE_AVRO_WALK_TRAILING,  /* bytes left after the record */
        TE_AVRO_WALK_TOO_LARGE  /* a string, array or nesting above its cap */
} te_avro_walk_err_t;

typedef struct te_avro_walk_s te_avro_walk_t;

/** Compile `schema` (any Avro type; named types referenced twice share their node,
 *  recursive types are allowed). The schema is not referenced afterwards.
 *  @returns NULL with errstr on failure (unsupported type, schema too big, OOM). */
te_avro_walk_t *te_avro_walk_compile(avro_schema_t schema, char *errstr, size_t errsz);
/** Accepts NULL. */
void te_avro_walk_destroy(te_avro_walk_t *w);

/** The root node id. */
int te_avro_walk_root(const te_avro_walk_t *w);
/** A child node id: field i of a record, branch i of a union, the items of an array or
 *  the values of a map (i ignored). @returns -1 if there is no such child. */
int te_avro_walk_child(const te_avro_walk_t *w, int node, size_t i);
/** Set the cap of a string/bytes node (longest accepted length in bytes) or of an
 *  array/map node (most items in total). A named record shared by several fields
 *  shares its children's caps. @returns 0, or -1 for another kind of node. */
int te_avro_walk_set_max(te_avro_walk_t *w, int node, uint64_t max);

/** Walk `len` bytes that must hold exactly one value of the root type. `base_off` is
 *  added to the byte offsets in errstr (e.g. the length of a framing header).
 *  @returns TE_AVRO_WALK_OK, or an error with errstr saying which field, where and why.
 */
te_avro_walk_err_t te_avro_walk_walk(const te_avro_walk_t *w, const void *buf, size_t len,
                                     size_t base_off, char *errstr, size_t errsz);

#endif
