/*
 * te_kafka_role: property roles parsed from librdkafka's property table.
 *
 * rd_kafka_conf_properties_show prints one Markdown table per section:
 *   Property                 | C/P | Range | Default | Importance | Description
 *   fetch.wait.max.ms        |  C  | 0 .. 300000 | 500 | low | ...
 * 'C' is consumer only, 'P' producer only, '*' both. The rows are read once into a
 * fixed table; a property not found is treated as for both (librdkafka judges it).
 */
#include "te_kafka_role.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TE_KAFKA_ROLE_MAX  512 /* rows kept (librdkafka 2.0 has about 200) */
#define TE_KAFKA_ROLE_NAME 64

typedef struct te_kafka_role_row_s {
        char name[TE_KAFKA_ROLE_NAME];
        te_kafka_role_t role;
} te_kafka_role_row_t;

static te_kafka_role_row_t te_kafka_role_rows[TE_KAFKA_ROLE_MAX];
static size_t te_kafka_role_n;
static pthread_once_t te_kafka_role_once = PTHREAD_ONCE_INIT;

/* One table row: "name<spaces>| X |...". Other lines (headings, header row, rule) do
 * not match: their first cell is not followed by a single-letter role cell. */
static void te_kafka_role_line(const char *line, size_t len)
{
        const char *bar = memchr(line, '|', len);
        if (!bar || bar == line || te_kafka_role_n == TE_KAFKA_ROLE_MAX)
                return;
        size_t nl = (size_t)(bar - line);
        while (nl > 0 && line[nl - 1] == ' ')
                nl--;
        if (nl == 0 || nl >= TE_KAFKA_ROLE_NAME || memchr(line, ' ', nl))
                return;
        const char *cell = bar + 1, *end = line + len;
        while (cell < end && *cell == ' ')
                cell++;
        if (cell + 1 >= end || (cell[1] != ' ' && cell[1] != '|'))
                return;
        te_kafka_role_t role;
        switch (*cell) {
        case 'C':
                role = TE_KAFKA_ROLE_CONSUMER;
                break;
        case 'P':
                role = TE_KAFKA_ROLE_PRODUCER;
                break;
        case '*':
                role = TE_KAFKA_ROLE_ANY;
                break;
        default:
                return;
        }
        te_kafka_role_row_t *r = &te_kafka_role_rows[te_kafka_role_n++];
        memcpy(r->name, line, nl);
        r->name[nl] = '\0';
        r->role = role;
}

static void te_kafka_role_load(void)
{
        char *text = NULL;
        size_t size = 0;
        FILE *fp = open_memstream(&text, &size);
        if (!fp)
                return; /* no table: every property is passed on */
        rd_kafka_conf_properties_show(fp);
        if (fclose(fp) != 0 || !text) {
                free(text);
                return;
        }
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                te_kafka_role_line(p, len);
                p += len + (nl ? 1 : 0);
        }
        free(text);
}

te_kafka_role_t te_kafka_prop_role(const char *name)
{
        pthread_once(&te_kafka_role_once, te_kafka_role_load);
        for (size_t i = 0; i < te_kafka_role_n; i++)
                if (strcmp(te_kafka_role_rows[i].name, name) == 0)
                        return te_kafka_role_rows[i].role;
        return TE_KAFKA_ROLE_ANY;
}

int te_kafka_prop_ignored_by(const char *name, rd_kafka_type_t type)
{
        te_kafka_role_t r = te_kafka_prop_role(name);
        return (type == RD_KAFKA_PRODUCER && r == TE_KAFKA_ROLE_CONSUMER) ||
               (type == RD_KAFKA_CONSUMER && r == TE_KAFKA_ROLE_PRODUCER);
}
