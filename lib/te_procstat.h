/*
 * te_procstat: the process metrics Prometheus users expect, read from /proc/self:
 * CPU time (user + system), resident and virtual memory, open and maximum file
 * descriptors. The parsers take the file contents as text so that they can be tested
 * on any input; te_procstat_read reads the live files.
 */
#ifndef TE_PROCSTAT_H
#define TE_PROCSTAT_H

#include <stddef.h>

typedef struct te_procstat_s {
        double cpu_seconds;    /* utime + stime */
        double resident_bytes; /* rss pages * page size */
        double virtual_bytes;  /* vsize */
        double open_fds;       /* entries of /proc/self/fd, -1 when unknown */
        double max_fds;        /* soft "Max open files", -1 when unknown or unlimited */
} te_procstat_t;

/** Parse the text of /proc/<pid>/stat (the command name may hold spaces and ')';
 *  fields are counted after its last ')'). `ticks` = sysconf(_SC_CLK_TCK), `page` =
 *  the page size in bytes. Sets cpu_seconds, resident_bytes, virtual_bytes.
 *  @returns 0, or -1 when the text is not a stat line (out untouched). */
int te_procstat_parse_stat(const char *text, double ticks, double page,
                           te_procstat_t *out);
/** Parse the text of /proc/<pid>/limits for the soft "Max open files".
 *  @returns 0 with *max (-1 for "unlimited"), or -1 when the line is missing or bad. */
int te_procstat_parse_limits(const char *text, double *max);
/** Read /proc/self. @returns 0, or -1 when /proc/self/stat cannot be read or parsed
 *  (open_fds and max_fds are -1 when their files cannot be read). */
int te_procstat_read(te_procstat_t *out);

#endif
