/*
 * Unit tests for lib/buf.c: the bounded cursor and the capped buffer.
 *
 * Every cursor getter is tried on input of exactly the length it needs, one
 * byte short and empty; a failed read must leave the cursor exactly as it
 * was (STYLE.md §4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/buf.h"

#include "banned.h"

static const uint8_t bytes[] = { 0x01, 0x02, 0x03, 0x04, 0x05 };

/* The cursor must still point at p[0..len) after a failed read. */
static void
assert_cur_is(const struct cs_cur *c, const uint8_t *p, size_t len)
{
	assert_ptr_equal(cs_cur_ptr(c), p);
	assert_int_equal(cs_cur_len(c), len);
}

static void
assert_cur_empty(const struct cs_cur *c)
{
	assert_true(cs_cur_is_empty(c));
	assert_int_equal(cs_cur_len(c), 0);
}

/* --- cursor basics --- */

static void
test_cur_init_null_is_empty(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, NULL, 5);
	assert_cur_empty(&c);
}

static void
test_cur_eq_compares_remaining(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, bytes, 3);
	assert_true(cs_cur_eq(&c, bytes, 3));
	assert_false(cs_cur_eq(&c, bytes, 2));
	assert_false(cs_cur_eq(&c, bytes + 1, 3));
}

static void
test_cur_eq_empty(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, NULL, 0);
	assert_true(cs_cur_eq(&c, "", 0));
	assert_false(cs_cur_eq(&c, bytes, 1));
}

/* --- get_u8 --- */

static void
test_cur_get_u8_exact(void **state)
{
	struct cs_cur c;
	uint8_t v = 0;

	cs_cur_init(&c, bytes, 1);
	assert_int_equal(cs_cur_get_u8(&c, &v), CS_OK);
	assert_int_equal(v, 0x01);
	assert_cur_empty(&c);
}

static void
test_cur_get_u8_advances(void **state)
{
	struct cs_cur c;
	uint8_t v = 0;

	cs_cur_init(&c, bytes, 3);
	assert_int_equal(cs_cur_get_u8(&c, &v), CS_OK);
	assert_int_equal(v, 0x01);
	assert_cur_is(&c, bytes + 1, 2);
}

static void
test_cur_get_u8_empty(void **state)
{
	struct cs_cur c;
	uint8_t v = 0xAA;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_get_u8(&c, &v), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
}

/* --- get_u16 --- */

static void
test_cur_get_u16_exact(void **state)
{
	struct cs_cur c;
	uint16_t v = 0;

	cs_cur_init(&c, bytes, 2);
	assert_int_equal(cs_cur_get_u16(&c, &v), CS_OK);
	assert_int_equal(v, 0x0102);
	assert_cur_empty(&c);
}

static void
test_cur_get_u16_short(void **state)
{
	struct cs_cur c;
	uint16_t v = 0;

	cs_cur_init(&c, bytes, 1);
	assert_int_equal(cs_cur_get_u16(&c, &v), CS_ERR_TRUNCATED);
	assert_cur_is(&c, bytes, 1);
}

static void
test_cur_get_u16_empty(void **state)
{
	struct cs_cur c;
	uint16_t v = 0;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_get_u16(&c, &v), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
}

/* --- get_u32 --- */

static void
test_cur_get_u32_exact(void **state)
{
	struct cs_cur c;
	uint32_t v = 0;

	cs_cur_init(&c, bytes, 4);
	assert_int_equal(cs_cur_get_u32(&c, &v), CS_OK);
	assert_int_equal(v, 0x01020304);
	assert_cur_empty(&c);
}

static void
test_cur_get_u32_high_bit(void **state)
{
	static const uint8_t ff[] = { 0xFF, 0xFE, 0xFD, 0xFC };
	struct cs_cur c;
	uint32_t v = 0;

	cs_cur_init(&c, ff, sizeof(ff));
	assert_int_equal(cs_cur_get_u32(&c, &v), CS_OK);
	assert_true(v == 0xFFFEFDFCu);
}

static void
test_cur_get_u32_short(void **state)
{
	struct cs_cur c;
	uint32_t v = 0;

	cs_cur_init(&c, bytes, 3);
	assert_int_equal(cs_cur_get_u32(&c, &v), CS_ERR_TRUNCATED);
	assert_cur_is(&c, bytes, 3);
}

static void
test_cur_get_u32_empty(void **state)
{
	struct cs_cur c;
	uint32_t v = 0;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_get_u32(&c, &v), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
}

/* --- peek_u8 --- */

static void
test_cur_peek_u8_exact(void **state)
{
	struct cs_cur c;
	uint8_t v = 0;

	cs_cur_init(&c, bytes, 1);
	assert_int_equal(cs_cur_peek_u8(&c, &v), CS_OK);
	assert_int_equal(v, 0x01);
	assert_cur_is(&c, bytes, 1);
}

static void
test_cur_peek_u8_empty(void **state)
{
	struct cs_cur c;
	uint8_t v = 0;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_peek_u8(&c, &v), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
}

/* --- get_bytes --- */

static void
test_cur_get_bytes_exact(void **state)
{
	struct cs_cur c, sub;

	cs_cur_init(&c, bytes, 5);
	assert_int_equal(cs_cur_get_bytes(&c, 5, &sub), CS_OK);
	assert_cur_is(&sub, bytes, 5);
	assert_cur_empty(&c);
}

static void
test_cur_get_bytes_partial(void **state)
{
	struct cs_cur c, sub;

	cs_cur_init(&c, bytes, 5);
	assert_int_equal(cs_cur_get_bytes(&c, 2, &sub), CS_OK);
	assert_cur_is(&sub, bytes, 2);
	assert_cur_is(&c, bytes + 2, 3);
}

static void
test_cur_get_bytes_short(void **state)
{
	struct cs_cur c, sub;

	cs_cur_init(&c, bytes, 4);
	assert_int_equal(cs_cur_get_bytes(&c, 5, &sub), CS_ERR_TRUNCATED);
	assert_cur_is(&c, bytes, 4);
}

static void
test_cur_get_bytes_empty(void **state)
{
	struct cs_cur c, sub;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_get_bytes(&c, 1, &sub), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
}

static void
test_cur_get_bytes_zero(void **state)
{
	struct cs_cur c, sub;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_get_bytes(&c, 0, &sub), CS_OK);
	assert_cur_empty(&sub);
	assert_cur_empty(&c);
}

static void
test_cur_get_bytes_huge(void **state)
{
	struct cs_cur c, sub;

	cs_cur_init(&c, bytes, 5);
	assert_int_equal(cs_cur_get_bytes(&c, SIZE_MAX, &sub),
	    CS_ERR_TRUNCATED);
	assert_cur_is(&c, bytes, 5);
}

/* --- copy --- */

static void
test_cur_copy_exact(void **state)
{
	struct cs_cur c;
	uint8_t out[5] = { 0 };

	cs_cur_init(&c, bytes, 5);
	assert_int_equal(cs_cur_copy(&c, out, 5), CS_OK);
	assert_memory_equal(out, bytes, 5);
	assert_cur_empty(&c);
}

static void
test_cur_copy_short(void **state)
{
	struct cs_cur c;
	uint8_t out[5] = { 0 };
	static const uint8_t zero[5] = { 0 };

	cs_cur_init(&c, bytes, 4);
	assert_int_equal(cs_cur_copy(&c, out, 5), CS_ERR_TRUNCATED);
	assert_cur_is(&c, bytes, 4);
	/* Nothing may be written on failure. */
	assert_memory_equal(out, zero, 5);
}

static void
test_cur_copy_empty(void **state)
{
	struct cs_cur c;
	uint8_t out[1] = { 0 };

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_copy(&c, out, 1), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
	assert_int_equal(cs_cur_copy(&c, out, 0), CS_OK);
}

/* --- skip --- */

static void
test_cur_skip_exact(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, bytes, 5);
	assert_int_equal(cs_cur_skip(&c, 5), CS_OK);
	assert_cur_empty(&c);
}

static void
test_cur_skip_short(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, bytes, 4);
	assert_int_equal(cs_cur_skip(&c, 5), CS_ERR_TRUNCATED);
	assert_cur_is(&c, bytes, 4);
}

static void
test_cur_skip_empty(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_skip(&c, 1), CS_ERR_TRUNCATED);
	assert_cur_is(&c, NULL, 0);
}

/* --- dup --- */

static void
test_cur_dup_copies(void **state)
{
	struct cs_cur c;
	uint8_t *out = NULL;
	size_t outlen = 99;

	cs_cur_init(&c, bytes, 5);
	assert_int_equal(cs_cur_dup(&c, &out, &outlen), CS_OK);
	assert_non_null(out);
	assert_int_equal(outlen, 5);
	assert_memory_equal(out, bytes, 5);
	assert_cur_is(&c, bytes, 5);
	cs_free(out);
}

static void
test_cur_dup_empty(void **state)
{
	struct cs_cur c;
	uint8_t *out = NULL;
	size_t outlen = 99;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_cur_dup(&c, &out, &outlen), CS_OK);
	assert_non_null(out);
	assert_int_equal(outlen, 0);
	cs_free(out);
}

/* --- buffer --- */

static void
test_buf_put_exactly_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(5);

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, bytes, 5);
	cs_buf_release(&b);
}

static void
test_buf_put_over_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(4);

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_ERR_LIMIT);
	assert_int_equal(b.len, 0);
	cs_buf_release(&b);
}

static void
test_buf_put_at_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(5);

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	assert_int_equal(cs_buf_put_u8(&b, 0x06), CS_ERR_LIMIT);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, bytes, 5);
	cs_buf_release(&b);
}

static void
test_buf_cap_never_exceeds_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(100);
	size_t i;

	for (i = 0; i < 100; i++)
		assert_int_equal(cs_buf_put_u8(&b, (uint8_t)i), CS_OK);
	assert_true(b.cap <= 100);
	assert_int_equal(b.len, 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	cs_buf_release(&b);
}

static void
test_buf_reserve_size_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(SIZE_MAX);

	assert_int_equal(cs_buf_put_u8(&b, 1), CS_OK);
	/* len + SIZE_MAX wraps; the guard must catch it, not allocate. */
	assert_int_equal(cs_buf_reserve(&b, SIZE_MAX), CS_ERR_LIMIT);
	assert_int_equal(b.len, 1);
	cs_buf_release(&b);
}

static void
test_buf_reserve_zero_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(0);

	assert_int_equal(cs_buf_reserve(&b, 0), CS_OK);
	assert_int_equal(cs_buf_put_u8(&b, 1), CS_ERR_LIMIT);
	cs_buf_release(&b);
}

static void
test_buf_init_sets_fields(void **state)
{
	struct cs_buf b;

	cs_buf_init(&b, 10, true);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 10);
	assert_int_equal(b.secret, 1);
	cs_buf_release(&b);
}

static void
test_buf_put_u16_big_endian(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	static const uint8_t want[] = { 0xAB, 0xCD };

	assert_int_equal(cs_buf_put_u16(&b, 0xABCD), CS_OK);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, want, 2);
	cs_buf_release(&b);
}

static void
test_buf_put_cur_appends(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	struct cs_cur c;

	cs_cur_init(&c, bytes + 1, 3);
	assert_int_equal(cs_buf_put_cur(&b, &c), CS_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, bytes + 1, 3);
	cs_buf_release(&b);
}

static void
test_buf_put_empty_cur(void **state)
{
	struct cs_buf b = CS_BUF_INIT(0);
	struct cs_cur c;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_buf_put_cur(&b, &c), CS_OK);
	assert_int_equal(b.len, 0);
	cs_buf_release(&b);
}

static void
test_buf_insert_middle(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	static const uint8_t ins[] = { 0xA0, 0xA1 };
	static const uint8_t want[] = { 0x01, 0x02, 0xA0, 0xA1, 0x03, 0x04,
		0x05 };

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	assert_int_equal(cs_buf_insert(&b, 2, ins, 2), CS_OK);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	cs_buf_release(&b);
}

static void
test_buf_insert_front_of_empty(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);

	assert_int_equal(cs_buf_insert(&b, 0, bytes, 3), CS_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, bytes, 3);
	cs_buf_release(&b);
}

static void
test_buf_insert_at_end(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);

	assert_int_equal(cs_buf_put(&b, bytes, 3), CS_OK);
	assert_int_equal(cs_buf_insert(&b, 3, bytes + 3, 2), CS_OK);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, bytes, 5);
	cs_buf_release(&b);
}

static void
test_buf_insert_past_end(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);

	assert_int_equal(cs_buf_put(&b, bytes, 3), CS_OK);
	assert_int_equal(cs_buf_insert(&b, 4, bytes, 1), CS_ERR_ARG);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, bytes, 3);
	cs_buf_release(&b);
}

static void
test_buf_insert_over_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(5);

	assert_int_equal(cs_buf_put(&b, bytes, 4), CS_OK);
	assert_int_equal(cs_buf_insert(&b, 0, bytes, 2), CS_ERR_LIMIT);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, bytes, 4);
	cs_buf_release(&b);
}

static void
test_buf_truncate_shrinks(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	cs_buf_truncate(&b, 2);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, bytes, 2);
	cs_buf_release(&b);
}

static void
test_buf_truncate_beyond_len_noop(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);

	assert_int_equal(cs_buf_put(&b, bytes, 3), CS_OK);
	cs_buf_truncate(&b, 10);
	assert_int_equal(b.len, 3);
	cs_buf_release(&b);
}

static void
test_buf_truncate_secret_wipes_tail(void **state)
{
	struct cs_buf b = CS_BUF_INIT_SECRET(16);
	static const uint8_t zero[3] = { 0 };

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	cs_buf_truncate(&b, 2);
	assert_int_equal(b.len, 2);
	/* Still our allocation (cap >= 5), so reading it is defined. */
	assert_memory_equal(b.data + 2, zero, 3);
	cs_buf_release(&b);
}

static void
test_buf_reset_keeps_allocation(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	uint8_t *data;
	size_t cap;

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	data = b.data;
	cap = b.cap;
	cs_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	assert_int_equal(cs_buf_put(&b, bytes + 1, 2), CS_OK);
	assert_memory_equal(b.data, bytes + 1, 2);
	cs_buf_release(&b);
}

static void
test_buf_reset_secret_wipes(void **state)
{
	struct cs_buf b = CS_BUF_INIT_SECRET(16);
	static const uint8_t zero[5] = { 0 };

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	cs_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_memory_equal(b.data, zero, 5);
	cs_buf_release(&b);
}

static void
test_buf_release_clears(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	cs_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	/* The buffer may be reused after release. */
	assert_int_equal(cs_buf_put(&b, bytes, 2), CS_OK);
	assert_int_equal(b.len, 2);
	cs_buf_release(&b);
}

static void
test_buf_release_twice(void **state)
{
	struct cs_buf b = CS_BUF_INIT_SECRET(16);

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	cs_buf_release(&b);
	cs_buf_release(&b);
	assert_null(b.data);
}

static void
test_buf_take_moves_out(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	assert_int_equal(cs_buf_take(&b, &out, &outlen), CS_OK);
	assert_non_null(out);
	assert_int_equal(outlen, 5);
	assert_memory_equal(out, bytes, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	cs_free(out);
	cs_buf_release(&b);
}

static void
test_buf_take_empty(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	uint8_t *out = NULL;
	size_t outlen = 99;

	assert_int_equal(cs_buf_take(&b, &out, &outlen), CS_OK);
	assert_non_null(out);
	assert_int_equal(outlen, 0);
	assert_null(b.data);
	cs_free(out);
	cs_buf_release(&b);
}

static void
test_buf_secret_grows(void **state)
{
	struct cs_buf b = CS_BUF_INIT_SECRET(4096);
	uint8_t chunk[100];
	size_t i;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i * 7 + 1);
	/* 10 x 100 bytes forces several moves past the first 64-byte block. */
	for (i = 0; i < 10; i++)
		assert_int_equal(cs_buf_put(&b, chunk, sizeof(chunk)), CS_OK);
	assert_int_equal(b.len, 1000);
	assert_true(b.cap >= 1000 && b.cap <= 4096);
	assert_int_equal(b.secret, 1);
	for (i = 0; i < 10; i++)
		assert_memory_equal(b.data + i * 100, chunk, sizeof(chunk));
	cs_buf_release(&b);
}

static void
test_buf_secret_take(void **state)
{
	struct cs_buf b = CS_BUF_INIT_SECRET(16);
	uint8_t *out = NULL;
	size_t outlen = 0;

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	assert_int_equal(cs_buf_take(&b, &out, &outlen), CS_OK);
	assert_int_equal(outlen, 5);
	assert_memory_equal(out, bytes, 5);
	cs_free_secret(out, outlen);
}

static void
test_buf_cur_views_contents(void **state)
{
	struct cs_buf b = CS_BUF_INIT(16);
	struct cs_cur c;

	assert_int_equal(cs_buf_put(&b, bytes, 5), CS_OK);
	cs_buf_cur(&b, &c);
	assert_true(cs_cur_eq(&c, bytes, 5));
	cs_buf_release(&b);
	cs_buf_cur(&b, &c);
	assert_cur_empty(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cur_init_null_is_empty),
		cmocka_unit_test(test_cur_eq_compares_remaining),
		cmocka_unit_test(test_cur_eq_empty),
		cmocka_unit_test(test_cur_get_u8_exact),
		cmocka_unit_test(test_cur_get_u8_advances),
		cmocka_unit_test(test_cur_get_u8_empty),
		cmocka_unit_test(test_cur_get_u16_exact),
		cmocka_unit_test(test_cur_get_u16_short),
		cmocka_unit_test(test_cur_get_u16_empty),
		cmocka_unit_test(test_cur_get_u32_exact),
		cmocka_unit_test(test_cur_get_u32_high_bit),
		cmocka_unit_test(test_cur_get_u32_short),
		cmocka_unit_test(test_cur_get_u32_empty),
		cmocka_unit_test(test_cur_peek_u8_exact),
		cmocka_unit_test(test_cur_peek_u8_empty),
		cmocka_unit_test(test_cur_get_bytes_exact),
		cmocka_unit_test(test_cur_get_bytes_partial),
		cmocka_unit_test(test_cur_get_bytes_short),
		cmocka_unit_test(test_cur_get_bytes_empty),
		cmocka_unit_test(test_cur_get_bytes_zero),
		cmocka_unit_test(test_cur_get_bytes_huge),
		cmocka_unit_test(test_cur_copy_exact),
		cmocka_unit_test(test_cur_copy_short),
		cmocka_unit_test(test_cur_copy_empty),
		cmocka_unit_test(test_cur_skip_exact),
		cmocka_unit_test(test_cur_skip_short),
		cmocka_unit_test(test_cur_skip_empty),
		cmocka_unit_test(test_cur_dup_copies),
		cmocka_unit_test(test_cur_dup_empty),
		cmocka_unit_test(test_buf_put_exactly_max),
		cmocka_unit_test(test_buf_put_over_max),
		cmocka_unit_test(test_buf_put_at_max),
		cmocka_unit_test(test_buf_cap_never_exceeds_max),
		cmocka_unit_test(test_buf_reserve_size_max),
		cmocka_unit_test(test_buf_reserve_zero_max),
		cmocka_unit_test(test_buf_init_sets_fields),
		cmocka_unit_test(test_buf_put_u16_big_endian),
		cmocka_unit_test(test_buf_put_cur_appends),
		cmocka_unit_test(test_buf_put_empty_cur),
		cmocka_unit_test(test_buf_insert_middle),
		cmocka_unit_test(test_buf_insert_front_of_empty),
		cmocka_unit_test(test_buf_insert_at_end),
		cmocka_unit_test(test_buf_insert_past_end),
		cmocka_unit_test(test_buf_insert_over_max),
		cmocka_unit_test(test_buf_truncate_shrinks),
		cmocka_unit_test(test_buf_truncate_beyond_len_noop),
		cmocka_unit_test(test_buf_truncate_secret_wipes_tail),
		cmocka_unit_test(test_buf_reset_keeps_allocation),
		cmocka_unit_test(test_buf_reset_secret_wipes),
		cmocka_unit_test(test_buf_release_clears),
		cmocka_unit_test(test_buf_release_twice),
		cmocka_unit_test(test_buf_take_moves_out),
		cmocka_unit_test(test_buf_take_empty),
		cmocka_unit_test(test_buf_secret_grows),
		cmocka_unit_test(test_buf_secret_take),
		cmocka_unit_test(test_buf_cur_views_contents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
