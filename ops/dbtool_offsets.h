/*
 * dbtool_offsets: the `exec-dbtool offsets show|set|reset` subcommand (see
 * dbtool_offsets.c for the syntax): move a consumer group's offsets stored in
 * PostgreSQL, with a dry run.
 */
#ifndef DBTOOL_OFFSETS_H
#define DBTOOL_OFFSETS_H

#include <stdio.h>

#include "te_config.h"

/* exec-dbtool's settings (its config table, main_dbtool.c). */
typedef struct te_dbtool_settings_s {
        const char *db_conninfo;    /* "" = PG* environment */
        const char *bootstrap_file; /* reset: when neither -b nor --bootstrap-file */
        const te_cfg_t *cfg;        /* kafka.* for reset's cluster handle */
} te_dbtool_settings_t;

/** Run `offsets ...`; argv[0] is the first word after "offsets".
 *  @returns the exit status: 0 done, 1 show found nothing, 2 usage/DB/cluster error. */
int te_dbtool_offsets(const te_dbtool_settings_t *set, int argc, char **argv);
/** The usage lines of the subcommand. */
void te_dbtool_offsets_usage(FILE *fp);

#endif
