/*
 * te_sha256: SHA-256 (FIPS 180-4) of a byte string, as 32 bytes or 64 hex digits.
 * Used to fingerprint the original of a dead letter that had to be cut to fit
 * (te_emit.h), so the copy can be matched with the source message.
 */
#ifndef TE_SHA256_H
#define TE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TE_SHA256_LEN 32
#define TE_SHA256_HEX (2 * TE_SHA256_LEN + 1) /* hex digits and the NUL */

/** The digest of data[0..len) into out. */
void te_sha256(const void *data, size_t len, uint8_t out[TE_SHA256_LEN]);
/** The digest as lower-case hex, NUL-terminated. */
void te_sha256_hex(const void *data, size_t len, char out[TE_SHA256_HEX]);

#endif
