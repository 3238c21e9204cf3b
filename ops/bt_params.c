/*
 * bt_params: a backtest run's parameters (see bt_params.h).
 */
#include "bt_params.h"

#include <jansson.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "te_buf.h"
#include "te_build_commit.h" /* generated: TE_BT_BUILD_COMMIT */

/* does [v, v + len) hold a secret: "password" in any case, or a URI's user:secret@ */
static int secret_value(const char *v, size_t len)
{
        for (size_t i = 0; i + 8 <= len; i++)
                if (strncasecmp(v + i, "password", 8) == 0)
                        return 1;
        for (size_t i = 0; i + 3 <= len; i++) {
                if (memcmp(v + i, "://", 3) != 0)
                        continue;
                int colon = 0;
                for (size_t j = i + 3; j < len && v[j] != '/'; j++) {
                        if (v[j] == ':')
                                colon = 1;
                        else if (v[j] == '@' && colon)
                                return 1;
                }
        }
        return 0;
}

char *te_bt_params_masked(const char *lines)
{
        te_buf_t b;
        te_buf_init(&b, 1u << 24);
        const char *s = lines;
        int bad = 0;
        while (*s && !bad) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t)(nl - s) : strlen(s);
                const char *eq = memchr(s, '=', len);
                if (eq && secret_value(eq + 1, (size_t)(s + len - eq - 1)))
                        bad = te_buf_append(&b, s, (size_t)(eq - s)) != 0 ||
                              te_buf_puts(&b, "= ***") != 0;
                else
                        bad = te_buf_append(&b, s, len) != 0;
                if (nl && !bad)
                        bad = te_buf_puts(&b, "\n") != 0;
                s += len + (nl ? 1 : 0);
        }
        if (bad || !te_buf_cstr(&b)) { /* te_buf_cstr: NUL-terminated, even if empty */
                te_buf_free(&b);
                return NULL;
        }
        return (char *)b.data;
}

const char *te_bt_build_commit(void)
{
        return TE_BT_BUILD_COMMIT;
}

int te_bt_params_init(te_bt_params_t *p, const te_bt_conf_t *c, const te_cfg_t *cfg)
{
        memset(p, 0, sizeof *p);
        te_strlcpy(p->run_id, c->run_id, sizeof p->run_id);
        p->capital = c->capital;
        te_strlcpy(p->capital_source, c->capital > 0 ? "capital option" : "not yet known",
                   sizeof p->capital_source);
        p->risk_free = c->risk_free;
        if (c->targets_file[0]) {
                snprintf(p->source, sizeof p->source, "targets file %s", c->targets_file);
        } else {
                char from[48] = "earliest", to[48] = "end at start";
                if (c->from_offset >= 0)
                        snprintf(from, sizeof from, "%lld", (long long)c->from_offset);
                if (c->to_offset >= 0)
                        snprintf(to, sizeof to, "%lld", (long long)c->to_offset);
                snprintf(p->source, sizeof p->source, "topic %s offsets %s..%s",
                         c->source_topic, from, to);
        }
        if (c->from_asof[0] || c->to_asof[0]) {
                size_t l = strlen(p->source);
                snprintf(p->source + l, sizeof p->source - l, ", as_of %s..%s",
                         c->from_asof[0] ? c->from_asof : "-",
                         c->to_asof[0] ? c->to_asof : "-");
        }
        if (c->bars_db)
                te_strlcpy(p->bars_source, "prices_daily (main database)",
                           sizeof p->bars_source);
        else
                snprintf(p->bars_source, sizeof p->bars_source, "CSV %s", c->bars_csv);
        te_strlcpy(p->build_commit, te_bt_build_commit(), sizeof p->build_commit);
        if (cfg) {
                char *text = NULL;
                size_t len = 0;
                FILE *fp = open_memstream(&text, &len);
                if (!fp)
                        return -1;
                te_cfg_dump(cfg, fp);
                if (fclose(fp) != 0) {
                        free(text);
                        return -1;
                }
                p->options = te_bt_params_masked(text);
                free(text);
                if (!p->options)
                        return -1;
        }
        return 0;
}

void te_bt_params_capital(te_bt_params_t *p, double capital, const char *why)
{
        p->capital = capital;
        te_strlcpy(p->capital_source, why, sizeof p->capital_source);
}

char *te_bt_params_json(const te_bt_params_t *p)
{
        json_t *o = json_object(), *opts = json_object();
        if (!o || !opts) {
                json_decref(o);
                json_decref(opts);
                return NULL;
        }
        /* options: "key = value" lines as an object */
        const char *s = p->options ? p->options : "";
        while (*s) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t)(nl - s) : strlen(s);
                const char *eq = memchr(s, '=', len);
                if (eq && eq > s) {
                        char key[256];
                        size_t kl = (size_t)(eq - s);
                        while (kl > 0 && s[kl - 1] == ' ')
                                kl--;
                        if (kl < sizeof key) {
                                memcpy(key, s, kl);
                                key[kl] = '\0';
                                const char *v = eq + 1;
                                while (v < s + len && *v == ' ')
                                        v++;
                                json_object_set_new(
                                    opts, key, json_stringn(v, (size_t)(s + len - v)));
                        }
                }
                s += len + (nl ? 1 : 0);
        }
        json_object_set_new(o, "run_id", json_string(p->run_id));
        json_object_set_new(o, "capital", json_real(p->capital));
        json_object_set_new(o, "capital_source", json_string(p->capital_source));
        json_object_set_new(o, "risk_free", json_real(p->risk_free));
        json_object_set_new(o, "source", json_string(p->source));
        json_object_set_new(o, "bars_source", json_string(p->bars_source));
        json_object_set_new(o, "build_commit", json_string(p->build_commit));
        json_object_set_new(o, "options", opts);
        char *out = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
        json_decref(o);
        return out;
}

void te_bt_params_free(te_bt_params_t *p)
{
        free(p->options);
        p->options = NULL;
}
