/*
 * Unit tests for lib/hex.c: cs_hex_encode and the strict cs_hex_decode
 * (odd length, bad digits, capacity, wipe on failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/cardsmith.h"

#include "banned.h"

static const uint8_t bytes[] = { 0x00, 0x9c, 0xab, 0xff };

static int
ctx_setup(void **state)
{
	struct cs_ctx *ctx = NULL;

	if (cs_ctx_new(&ctx) != CS_OK)
		return -1;
	*state = ctx;
	return 0;
}

static int
ctx_teardown(void **state)
{
	cs_ctx_free(*state);
	return 0;
}

static void
test_hex_encode_cases(void **state)
{
	char out[9];

	assert_int_equal(cs_hex_encode(bytes, 4, out, sizeof(out), 0), 8);
	assert_string_equal(out, "009cabff");
	assert_int_equal(cs_hex_encode(bytes, 4, out, sizeof(out), 1), 8);
	assert_string_equal(out, "009CABFF");
	assert_int_equal(cs_hex_encode(bytes, 0, out, sizeof(out), 0), 0);
	assert_string_equal(out, "");
}

static void
test_hex_encode_needs_room_for_nul(void **state)
{
	char out[9];

	memset(out, 'x', sizeof(out));
	assert_int_equal(cs_hex_encode(bytes, 4, out, 8, 0), 0);
	assert_int_equal(out[0], '\0');
	assert_int_equal(cs_hex_encode(bytes, 1, out, 0, 0), 0);
	assert_int_equal(cs_hex_encode(bytes, 1, out, 3, 0), 2);
	assert_string_equal(out, "00");
	/* 2 * len + 1 must not wrap around */
	assert_int_equal(cs_hex_encode(bytes, SIZE_MAX / 2 + 1, out, 2, 0), 0);
}

static void
test_hex_decode_roundtrip(void **state)
{
	struct cs_ctx *ctx = *state;
	uint8_t out[4];
	size_t n = 99;

	assert_int_equal(cs_hex_decode(ctx, "009cABfF", out, sizeof(out), &n),
	    CS_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(out, bytes, 4);
	assert_int_equal(cs_hex_decode(ctx, "", out, sizeof(out), &n), CS_OK);
	assert_int_equal(n, 0);
}

static void
test_hex_decode_rejects_odd_length(void **state)
{
	struct cs_ctx *ctx = *state;
	uint8_t out[4];
	size_t n = 99;

	assert_int_equal(cs_hex_decode(ctx, "abc", out, sizeof(out), &n),
	    CS_ERR_MALFORMED);
	assert_int_equal(n, 0);
	assert_string_equal(cs_ctx_errmsg(ctx), "hex: odd number of digits (3)");
}

static void
test_hex_decode_rejects_bad_digit(void **state)
{
	static const char *const bad[] = { "0g", "ab 0", "0x12", "zz", "a-",
		"\xc3\xa9" };
	struct cs_ctx *ctx = *state;
	uint8_t out[4];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0x55, sizeof(out));
		n = 99;
		assert_int_equal(cs_hex_decode(ctx, bad[i], out, sizeof(out),
		    &n), CS_ERR_MALFORMED);
		assert_int_equal(n, 0);
	}
	/* what was decoded before the bad digit is wiped, never quoted */
	memset(out, 0x55, sizeof(out));
	assert_int_equal(cs_hex_decode(ctx, "abcdx0", out, sizeof(out), &n),
	    CS_ERR_MALFORMED);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 0x55);
	assert_string_equal(cs_ctx_errmsg(ctx),
	    "hex: not a hex digit at offset 4");
}

static void
test_hex_decode_respects_cap(void **state)
{
	struct cs_ctx *ctx = *state;
	uint8_t out[4];
	size_t n = 99;

	assert_int_equal(cs_hex_decode(ctx, "0011223344", out, 4, &n),
	    CS_ERR_LIMIT);
	assert_int_equal(n, 0);
	assert_int_equal(cs_hex_decode(ctx, "00112233", out, 4, &n), CS_OK);
	assert_int_equal(n, 4);
	assert_int_equal(cs_hex_decode(ctx, "00", NULL, 0, &n), CS_ERR_LIMIT);
	assert_int_equal(cs_hex_decode(ctx, NULL, out, 4, &n), CS_ERR_ARG);
	assert_int_equal(cs_hex_decode(ctx, "00", out, 4, NULL), CS_ERR_ARG);
}

#define C_(f) cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_encode_cases),
		cmocka_unit_test(test_hex_encode_needs_room_for_nul),
		C_(test_hex_decode_roundtrip),
		C_(test_hex_decode_rejects_odd_length),
		C_(test_hex_decode_rejects_bad_digit),
		C_(test_hex_decode_respects_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
