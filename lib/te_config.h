/*
 * te_config: one key=value file per process, described by one table.
 *
 * A process declares its settings as an array of te_cfg_item_t (name, type, field
 * offset, default, range). Values come, in increasing priority, from the defaults,
 * the config file, environment variables and command-line `-o key=value` overrides.
 *
 * File syntax: `key = value` per line, `#` starts a comment line, blank lines ignored,
 * surrounding whitespace trimmed. A value may be quoted, "..." or '...' (kept as is
 * between the quotes, no escapes). A `#` at the start of an unquoted value or after
 * a blank starts a trailing comment (`a#b` is the value a#b). -o and environment
 * values are taken literally (the shell did the quoting).
 *
 * Keys starting with `kafka.` are not in the table: they are collected and passed to
 * librdkafka with the prefix removed (`kafka.bootstrap.servers` -> `bootstrap.servers`).
 *
 * Environment: for a table key `a.b_c` the variable is `EXEC_A_B_C` (upper case, '.' and
 * '-' become '_'). librdkafka properties come from `EXEC_KAFKA_<NAME>` where '_' in NAME
 * becomes '.' and NAME is lower-cased (`EXEC_KAFKA_BOOTSTRAP_SERVERS`).
 *
 * Errors are reported as "file:line: key: why" (or "env EXEC_X: key: why",
 * "override: key: why") in the caller's errstr; an unknown key or a bad value is an
 * error, and so is a key the table lists as renamed (TE_CFG_RENAMED): the message names
 * the key to use instead.
 */
#ifndef TE_CONFIG_H
#define TE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
        TE_CFG_STRING, /* char[size] field; value longer than size-1 is an error */
        TE_CFG_INT,    /* int64_t field (int when size is sizeof(int)), range [min,max] */
        TE_CFG_DOUBLE, /* double field, finite, range [min,max] */
        TE_CFG_BOOL,   /* int field: true/false/1/0/yes/no/on/off */
        TE_CFG_ENUM,   /* int field: index into enum_names (NULL-terminated) */
        TE_CFG_RENAMED, /* a key that was renamed: no field; `def` holds the new name
                         * and setting it is an error naming it (never taken silently) */
        TE_CFG_FLAGS,   /* unsigned field: a set of enum_names, given as a comma-separated
                         * list ("" = none); bit i is enum_names[i] */
} te_cfg_type_t;

typedef struct te_cfg_item_s {
        const char *name;
        te_cfg_type_t type;
        size_t offset; /* offsetof(struct, field), e.g. offsetof(conf_t, sim.fill.lot) */
        size_t size;   /* sizeof(field); 0 for INT means int64_t */
        const char *def; /* default as text; NULL = "" / 0 */
        double min, max; /* INT/DOUBLE range (inclusive) */
        const char *const *enum_names;
        const char *help;
} te_cfg_item_t;

typedef struct te_cfg_s te_cfg_t;

/** Create a config bound to `target` (the struct the offsets refer to) and apply the
 *  table's defaults. The table must outlive the config.
 *  @returns NULL with errstr set if a default does not parse (a programming error). */
te_cfg_t *te_cfg_new(const te_cfg_item_t *items, size_t n_items, void *target,
                     char *errstr, size_t errsz);
void te_cfg_destroy(te_cfg_t *cfg); /* accepts NULL */
/** A whole decimal number in [min, max] (no sign "+", no blank). @returns 0, or -1
 *  for NULL, "" or anything else. */
int te_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/** Apply only the table's defaults to `target` (what te_cfg_new does first): the one
 *  place a module's default settings come from, also for tests and tools that build a
 *  module config without a process. @returns 0, or -1 with errstr. */
int te_cfg_defaults(const te_cfg_item_t *items, size_t n_items, void *target,
                    char *errstr, size_t errsz);

/** Set one key. `where` names the origin for error messages ("file:12", "env EXEC_X").
 *  @returns 0, or -1 with errstr "where: key: why". */
int te_cfg_set(te_cfg_t *cfg, const char *key, const char *value, const char *where,
               char *errstr, size_t errsz);
/** Read a file. @returns 0, or -1 with errstr "path:line: key: why" (or "path: why"). */
int te_cfg_load_file(te_cfg_t *cfg, const char *path, char *errstr, size_t errsz);
/** Apply EXEC_* variables from a NULL-terminated environment array (pass `environ`).
 *  A variable that matches a table key or is EXEC_KAFKA_* is applied (a bad value is
 *  an error). Any other EXEC_* variable belongs to another process (one env file can
 *  serve them all): it is skipped and counted (te_cfg_env_ignored_*). Variables not
 *  starting with "EXEC_" are not looked at. @returns 0 or -1. */
int te_cfg_apply_env(te_cfg_t *cfg, char *const *envp, char *errstr, size_t errsz);
/** EXEC_* variables skipped by te_cfg_apply_env; names of the first 16 are kept. */
size_t te_cfg_env_ignored_count(const te_cfg_t *cfg);
const char *te_cfg_env_ignored_name(const te_cfg_t *cfg, size_t i); /* NULL past 16 */
/** Parse a "key=value" override. @returns 0 or -1. */
int te_cfg_apply_override(te_cfg_t *cfg, const char *kv, char *errstr, size_t errsz);

/** librdkafka pass-through properties, in the order they were last set (a key set twice
 *  keeps one entry with the latest value). Names are without the `kafka.` prefix. */
size_t te_cfg_kafka_count(const te_cfg_t *cfg);
const char *te_cfg_kafka_name(const te_cfg_t *cfg, size_t i);
const char *te_cfg_kafka_value(const te_cfg_t *cfg, size_t i);
/** Look up a pass-through property by name (without prefix). @returns NULL if unset. */
const char *te_cfg_kafka_get(const te_cfg_t *cfg, const char *name);

/** Write "key = value" lines for every table key and kafka.* key to `fp`;
 *  values of keys containing "password", "secret" or "sasl" are written as "***". */
void te_cfg_dump(const te_cfg_t *cfg, FILE *fp);

/** Usual start-up sequence used by every main(): load `path` if non-NULL, then the
 *  environment, then each of `overrides` (n of them). @returns 0 or -1 with errstr. */
int te_cfg_load_all(te_cfg_t *cfg, const char *path, char *const *envp,
                    char *const *overrides, size_t n_overrides, char *errstr,
                    size_t errsz);

#endif
