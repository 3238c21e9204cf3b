/*
 * te_ids: deterministic ids from their inputs (docs/DESIGN.md invariant 1).
 *
 * digest = two FNV-1a-64 lanes over the parts joined with 0x1f, each lane started
 * from its own offset basis and finalised with the murmur3 64-bit mixer, written as
 * 32 lower-case hex characters. The algorithm is part of the contract: changing it
 * changes every id already on the topics and in the database.
 */
#include "te_ids.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#define TE_ID_FNV_PRIME   0x100000001b3ULL
#define TE_ID_FNV_OFFSET1 0xcbf29ce484222325ULL /* the standard FNV-1a offset basis */
#define TE_ID_FNV_OFFSET2 0x6c62272e07bb0142ULL /* a second, independent basis */
#define TE_ID_SEP         0x1f

static uint64_t te_id_mix64(uint64_t h)
{
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 33;
        return h;
}

static void te_id_hex(char *out, uint64_t hi, uint64_t lo)
{
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 16; i++) {
                out[i] = hex[(hi >> (60 - 4 * i)) & 0xf];
                out[16 + i] = hex[(lo >> (60 - 4 * i)) & 0xf];
        }
        out[TE_ID_HEX_LEN] = '\0';
}

/* Feed one part (with its leading separator unless it is the first) to both lanes. */
static void te_id_feed(uint64_t *h1, uint64_t *h2, const char *part, int first)
{
        uint64_t a = *h1, b = *h2;
        if (!first) {
                a = (a ^ TE_ID_SEP) * TE_ID_FNV_PRIME;
                b = (b ^ TE_ID_SEP) * TE_ID_FNV_PRIME;
        }
        for (const unsigned char *p = (const unsigned char *)(part ? part : ""); *p;
             p++) {
                a = (a ^ *p) * TE_ID_FNV_PRIME;
                b = (b ^ *p) * TE_ID_FNV_PRIME;
        }
        *h1 = a;
        *h2 = b;
}

void te_id_digest(char *out, size_t outsz, const char *const *parts, size_t n)
{
        uint64_t h1 = TE_ID_FNV_OFFSET1;
        uint64_t h2 = TE_ID_FNV_OFFSET2;

        assert(outsz >= TE_ID_HEX_LEN + 1);
        if (outsz < TE_ID_HEX_LEN + 1) {
                if (outsz)
                        out[0] = '\0';
                return;
        }
        for (size_t i = 0; i < n; i++)
                te_id_feed(&h1, &h2, parts[i], i == 0);
        te_id_hex(out, te_id_mix64(h1), te_id_mix64(h2));
}

/* prefix + digest(parts) into out (outsz >= 34). */
static void te_id_prefixed(char *out, size_t outsz, char prefix, const char *const *parts,
                           size_t n)
{
        assert(outsz >= TE_ID_HEX_LEN + 2);
        if (outsz < TE_ID_HEX_LEN + 2) {
                if (outsz)
                        out[0] = '\0';
                return;
        }
        out[0] = prefix;
        te_id_digest(out + 1, outsz - 1, parts, n);
}

/* The leg as text: 0-9, the common case, without printf. */
static void te_id_leg(char legs[16], int leg)
{
        if (leg >= 0 && leg < 10) {
                legs[0] = (char)('0' + leg);
                legs[1] = '\0';
        } else {
                snprintf(legs, 16, "%d", leg);
        }
}

void te_id_order_prefix(te_id_prefix_t *pre, const char *decision_id,
                        const char *portfolio_id)
{
        pre->h1 = TE_ID_FNV_OFFSET1;
        pre->h2 = TE_ID_FNV_OFFSET2;
        te_id_feed(&pre->h1, &pre->h2, decision_id, 1);
        te_id_feed(&pre->h1, &pre->h2, portfolio_id, 0);
}

void te_id_order_from(char *out, size_t outsz, const te_id_prefix_t *pre,
                      const char *ticker, int leg)
{
        char legs[16];
        uint64_t h1 = pre->h1, h2 = pre->h2;
        assert(outsz >= TE_ID_HEX_LEN + 2);
        if (outsz < TE_ID_HEX_LEN + 2) {
                if (outsz)
                        out[0] = '\0';
                return;
        }
        te_id_leg(legs, leg);
        te_id_feed(&h1, &h2, ticker, 0);
        te_id_feed(&h1, &h2, legs, 0);
        out[0] = 'o';
        te_id_hex(out + 1, te_id_mix64(h1), te_id_mix64(h2));
}

void te_id_clock(char *out, size_t outsz, const char *portfolio_id, int64_t t_ms)
{
        char ts[32];
        snprintf(ts, sizeof ts, "%" PRId64, t_ms);
        const char *parts[] = {portfolio_id, ts};
        te_id_prefixed(out, outsz, 'c', parts, 2);
}

void te_id_sim_report(char *out, size_t outsz, const char *order_id, const char *kind,
                      int seq)
{
        char seqs[16];
        snprintf(seqs, sizeof seqs, "%d", seq);
        const char *parts[] = {order_id, kind, seqs};
        te_id_prefixed(out, outsz, 'r', parts, 3);
}
