/*
 * Hexadecimal text <-> bytes (include/cardsmith/hex.h), and the one digit
 * decoder lib/ files share (csi_hexval). Management keys go through
 * cs_hex_decode, so it never quotes its input and wipes on failure.
 */
#include <string.h>

#include "internal.h"
#include "cardsmith/hex.h"

#include "banned.h"

int
csi_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
cs_hex_encode(const uint8_t *in, size_t len, char *out, size_t outcap,
    int upper)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	if (out == NULL || outcap == 0)
		return 0;
	out[0] = '\0';
	/* 2 * len + 1 without overflow */
	if (len > (outcap - 1) / 2 || (len > 0 && in == NULL))
		return 0;
	for (i = 0; i < len; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return 2 * len;
}

enum cs_err
cs_hex_decode(struct cs_ctx *ctx, const char *hex, uint8_t *out, size_t cap,
    size_t *outlen)
{
	size_t n, i;
	int h, l;

	if (outlen == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "hex: no output");
	*outlen = 0;
	if (hex == NULL || (out == NULL && cap > 0))
		return csi_fail(ctx, CS_ERR_ARG, "hex: NULL argument");
	n = strlen(hex);
	if (n % 2 != 0)
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "hex: odd number of digits (%zu)", n);
	if (n / 2 > cap)
		return csi_fail(ctx, CS_ERR_LIMIT,
		    "hex: %zu bytes, more than %zu", n / 2, cap);
	for (i = 0; i < n / 2; i++) {
		if ((h = csi_hexval((unsigned char)hex[2 * i])) < 0 ||
		    (l = csi_hexval((unsigned char)hex[2 * i + 1])) < 0) {
			cs_wipe(out, i);
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "hex: not a hex digit at offset %zu",
			    h < 0 ? 2 * i : 2 * i + 1);
		}
		out[i] = (uint8_t)(h << 4 | l);
	}
	*outlen = n / 2;
	return CS_OK;
}
