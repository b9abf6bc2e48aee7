/*
 * Hexadecimal text <-> bytes: the project's one hex codec (fingerprints,
 * management keys, serials in file names, slot names).
 */
#ifndef CARDSMITH_HEX_H
#define CARDSMITH_HEX_H

#include "common.h"

/*
 * Write len bytes of in as 2 * len hex digits (lower case, or upper case
 * if upper is non-zero) and a NUL into out. Returns the number of digits
 * written (2 * len), or 0, writing nothing but a NUL when outcap > 0, if
 * outcap < 2 * len + 1. Cannot fail otherwise.
 */
CS_EXPORT size_t cs_hex_encode(const uint8_t *in, size_t len, char *out,
    size_t outcap, int upper);

/*
 * Decode the NUL-terminated hex string hex (digits of either case, no
 * separators, spaces or "0x" prefix) into out (cap bytes); *outlen: bytes
 * written. An odd number of digits or any other character is
 * CS_ERR_MALFORMED, more than cap bytes CS_ERR_LIMIT, NULL pointers
 * CS_ERR_ARG, each with a message in ctx (may be NULL) that never quotes
 * the input, which may be a key. "" decodes to 0 bytes. On failure *outlen
 * is 0 and any bytes already written to out are wiped.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_hex_decode(struct cs_ctx *ctx,
    const char *hex, uint8_t *out, size_t cap, size_t *outlen);

#endif
