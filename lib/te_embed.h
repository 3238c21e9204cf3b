/*
 * te_embed: text files compiled into every binary (schemas, manifest, migrations).
 * Names are paths relative to the source tree: "schemas/manifest",
 * "schemas/order_command.avsc", "schemas/migrations/0001_init.sql".
 */
#ifndef TE_EMBED_H
#define TE_EMBED_H

#include <stddef.h>

/** @returns the NUL-terminated contents and their length, or NULL if not embedded. */
const char *te_embed_get(const char *name, size_t *len);
/** @returns the i-th embedded name (sorted by path), or NULL past the end. */
const char *te_embed_name(size_t i);

#endif
