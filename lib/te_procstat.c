/*
 * te_procstat: process CPU, memory and file-descriptor figures from /proc/self
 * (te_procstat.h).
 */
#include "te_procstat.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int te_procstat_parse_stat(const char *text, double ticks, double page,
                           te_procstat_t *out)
{
        const char *p = strrchr(text, ')');
        if (!p || ticks <= 0 || page <= 0)
                return -1;
        p++;
        /* fields after the name, numbered as in proc(5): 3 state, ..., 14 utime,
         * 15 stime, 23 vsize, 24 rss */
        double utime = -1, stime = -1, vsize = -1, rss = -1;
        for (int field = 3; field <= 24; field++) {
                while (*p == ' ')
                        p++;
                if (!*p || *p == '\n')
                        return -1;
                const char *start = p;
                while (*p && *p != ' ' && *p != '\n')
                        p++;
                if (field == 3)
                        continue; /* the state letter */
                char *end;
                errno = 0;
                double v = strtod(start, &end);
                if (end != p || errno != 0)
                        return -1;
                switch (field) {
                case 14:
                        utime = v;
                        break;
                case 15:
                        stime = v;
                        break;
                case 23:
                        vsize = v;
                        break;
                case 24:
                        rss = v;
                        break;
                default:
                        break;
                }
        }
        if (utime < 0 || stime < 0 || vsize < 0 || rss < 0)
                return -1;
        out->cpu_seconds = (utime + stime) / ticks;
        out->virtual_bytes = vsize;
        out->resident_bytes = rss * page;
        return 0;
}

int te_procstat_parse_limits(const char *text, double *max)
{
        static const char key[] = "Max open files";
        const char *line = text;
        while (line && *line) {
                if (strncmp(line, key, sizeof key - 1) == 0) {
                        const char *p = line + sizeof key - 1;
                        while (*p == ' ')
                                p++;
                        if (strncmp(p, "unlimited", 9) == 0) {
                                *max = -1;
                                return 0;
                        }
                        char *end;
                        errno = 0;
                        double v = strtod(p, &end);
                        if (end == p || errno != 0 || v < 0 || (*end != ' ' && *end))
                                return -1;
                        *max = v;
                        return 0;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return -1;
}

/* Read a small /proc file into buf (NUL-terminated). @returns 0 or -1. */
static int te_procstat_slurp(const char *path, char *buf, size_t bufsz)
{
        FILE *fp = fopen(path, "r");
        if (!fp)
                return -1;
        size_t n = fread(buf, 1, bufsz - 1, fp);
        int bad = ferror(fp);
        fclose(fp);
        if (bad)
                return -1;
        buf[n] = '\0';
        return 0;
}

int te_procstat_read(te_procstat_t *out)
{
        char buf[4096];
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        if (te_procstat_slurp("/proc/self/stat", buf, sizeof buf) != 0 ||
            te_procstat_parse_stat(buf, (double)ticks, (double)page, out) != 0)
                return -1;
        out->max_fds = -1;
        if (te_procstat_slurp("/proc/self/limits", buf, sizeof buf) == 0)
                (void)te_procstat_parse_limits(buf, &out->max_fds);
        out->open_fds = -1;
        DIR *d = opendir("/proc/self/fd");
        if (d) {
                long n = 0;
                struct dirent *e;
                while ((e = readdir(d)) != NULL)
                        if (e->d_name[0] != '.')
                                n++;
                closedir(d);
                out->open_fds = (double)(n - 1); /* not the directory's own fd */
        }
        return 0;
}
