/*
 * Unit tests for lib/tlv.c: PIV BER-TLV (SP 800-73-4, ISO 7816-4 §5.2).
 *
 * Decoding: tag and length forms, every rejection, truncation at each offset
 * of a nested object, and the cursor-unchanged-on-failure rule. Encoding:
 * minimal headers at each length-form boundary, nested open/close, and the
 * arguments that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/tlv.h"

#include "banned.h"

/* clang-format off */
/* Certificate container (SP 800-73-4 part 1 Table 10), a toy 8-byte cert. */
static const uint8_t cert_obj[] = {
	0x53, 0x0F,
	    0x70, 0x08, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02,
	    0x71, 0x01, 0x00,
	    0xFE, 0x00,
};
/* clang-format on */

static void
assert_cur_is(const struct cs_cur *c, const uint8_t *p, size_t len)
{
	assert_ptr_equal(cs_cur_ptr(c), p);
	assert_int_equal(cs_cur_len(c), len);
}

/* cs_tlv_get on in[0..n) must fail with want and leave the cursor alone. */
static void
assert_get_fails(const uint8_t *in, size_t n, enum cs_err want)
{
	struct cs_cur c, val;
	uint32_t tag = 0xdead;

	cs_cur_init(&c, in, n);
	assert_int_equal(cs_tlv_get(&c, &tag, &val), want);
	assert_cur_is(&c, n == 0 ? NULL : in, n);
	assert_int_equal(tag, 0);
	assert_int_equal(cs_cur_len(&val), 0);
}

/* cs_tlv_get on in[0..n) must give tag and a value of vlen at in + voff. */
static void
assert_get_ok(const uint8_t *in, size_t n, uint32_t wtag, size_t voff,
    size_t vlen)
{
	struct cs_cur c, val;
	uint32_t tag = 0;

	cs_cur_init(&c, in, n);
	assert_int_equal(cs_tlv_get(&c, &tag, &val), CS_OK);
	assert_int_equal(tag, wtag);
	assert_int_equal(cs_cur_len(&val), vlen);
	if (vlen > 0)
		assert_ptr_equal(cs_cur_ptr(&val), in + voff);
	assert_int_equal(cs_cur_len(&c), n - voff - vlen);
}

/* Buffer of n bytes: tag header, then n - hdr value bytes i & 0xff. */
static uint8_t *
make_tlv(const uint8_t *hdr, size_t hlen, size_t vlen, size_t *n)
{
	uint8_t *p;
	size_t i;

	*n = hlen + vlen;
	p = malloc(*n);
	assert_non_null(p);
	memcpy(p, hdr, hlen);
	for (i = 0; i < vlen; i++)
		p[hlen + i] = (uint8_t)i;
	return p;
}

/* --- tags --- */

static void
test_tlv_get_one_byte_tag(void **state)
{
	static const uint8_t in[] = { 0x53, 0x02, 0xAA, 0xBB };

	assert_get_ok(in, sizeof(in), 0x53, 2, 2);
}

static void
test_tlv_get_two_byte_tag(void **state)
{
	static const uint8_t in[] = { 0x7F, 0x49, 0x03, 0x86, 0x01, 0x04 };

	assert_get_ok(in, sizeof(in), 0x7F49, 3, 3);
}

static void
test_tlv_get_three_byte_tag(void **state)
{
	static const uint8_t in[] = { 0x5F, 0xC1, 0x05, 0x01, 0x00 };

	assert_get_ok(in, sizeof(in), 0x5FC105, 4, 1);
}

static void
test_tlv_get_leaves_next_sibling(void **state)
{
	static const uint8_t in[] = { 0x71, 0x01, 0x00, 0xFE, 0x00 };
	struct cs_cur c, val;
	uint32_t tag;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_get(&c, &tag, &val), CS_OK);
	assert_int_equal(tag, 0x71);
	assert_cur_is(&c, in + 3, 2);
	assert_int_equal(cs_tlv_get(&c, &tag, &val), CS_OK);
	assert_int_equal(tag, 0xFE);
	assert_int_equal(cs_cur_len(&val), 0);
	assert_true(cs_cur_is_empty(&c));
}

static void
test_tlv_rejects_four_byte_tag(void **state)
{
	static const uint8_t in[] = { 0x5F, 0xC1, 0x81, 0x01, 0x01, 0x00 };

	assert_get_fails(in, sizeof(in), CS_ERR_MALFORMED);
}

static void
test_tlv_rejects_zero_tag(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x00 };

	assert_get_fails(in, sizeof(in), CS_ERR_MALFORMED);
}

static void
test_tlv_rejects_truncated_tag(void **state)
{
	static const uint8_t two[] = { 0x7F };
	static const uint8_t three[] = { 0x5F, 0xC1 };

	assert_get_fails(two, sizeof(two), CS_ERR_TRUNCATED);
	assert_get_fails(three, sizeof(three), CS_ERR_TRUNCATED);
}

static void
test_tlv_rejects_empty_input(void **state)
{
	assert_get_fails(NULL, 0, CS_ERR_TRUNCATED);
}

/* --- lengths --- */

static void
test_tlv_get_short_len_max(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x7F };
	uint8_t *in;
	size_t n;

	in = make_tlv(hdr, sizeof(hdr), 127, &n);
	assert_get_ok(in, n, 0x53, 2, 127);
	free(in);
}

static void
test_tlv_get_len_81(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x81, 0x80 };
	uint8_t *in;
	size_t n;

	in = make_tlv(hdr, sizeof(hdr), 128, &n);
	assert_get_ok(in, n, 0x53, 3, 128);
	free(in);
}

static void
test_tlv_get_len_82(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x82, 0x01, 0x00 };
	uint8_t *in;
	size_t n;

	in = make_tlv(hdr, sizeof(hdr), 256, &n);
	assert_get_ok(in, n, 0x53, 4, 256);
	free(in);
}

static void
test_tlv_accepts_nonminimal_81(void **state)
{
	static const uint8_t in[] = { 0x53, 0x81, 0x02, 0xAA, 0xBB };

	assert_get_ok(in, sizeof(in), 0x53, 3, 2);
}

static void
test_tlv_accepts_nonminimal_82(void **state)
{
	static const uint8_t in[] = { 0x53, 0x82, 0x00, 0x02, 0xAA, 0xBB };

	assert_get_ok(in, sizeof(in), 0x53, 4, 2);
}

static void
test_tlv_accepts_nonminimal_82_zero(void **state)
{
	static const uint8_t in[] = { 0x53, 0x82, 0x00, 0x00 };

	assert_get_ok(in, sizeof(in), 0x53, 4, 0);
}

static void
test_tlv_rejects_indefinite_len(void **state)
{
	static const uint8_t in[] = { 0x53, 0x80, 0x71, 0x00, 0x00, 0x00 };

	assert_get_fails(in, sizeof(in), CS_ERR_MALFORMED);
}

static void
test_tlv_rejects_len_83(void **state)
{
	static const uint8_t in[] = { 0x53, 0x83, 0x00, 0x00, 0x01, 0xAA };

	assert_get_fails(in, sizeof(in), CS_ERR_MALFORMED);
}

static void
test_tlv_rejects_len_84(void **state)
{
	static const uint8_t in[] = { 0x53, 0x84, 0x00, 0x00, 0x00, 0x01,
		0xAA };

	assert_get_fails(in, sizeof(in), CS_ERR_MALFORMED);
}

static void
test_tlv_rejects_len_ff(void **state)
{
	static const uint8_t in[] = { 0x53, 0xFF, 0x00 };

	assert_get_fails(in, sizeof(in), CS_ERR_MALFORMED);
}

static void
test_tlv_rejects_truncated_len(void **state)
{
	static const uint8_t l81[] = { 0x53, 0x81 };
	static const uint8_t l82[] = { 0x53, 0x82, 0x01 };
	static const uint8_t none[] = { 0x7F, 0x49 };

	assert_get_fails(l81, sizeof(l81), CS_ERR_TRUNCATED);
	assert_get_fails(l82, sizeof(l82), CS_ERR_TRUNCATED);
	assert_get_fails(none, sizeof(none), CS_ERR_TRUNCATED);
}

static void
test_tlv_rejects_len_one_too_long(void **state)
{
	static const uint8_t in[] = { 0x53, 0x04, 0xAA, 0xBB, 0xCC };

	assert_get_fails(in, sizeof(in), CS_ERR_TRUNCATED);
}

static void
test_tlv_rejects_len_82_one_too_long(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x82, 0x01, 0x01 };
	uint8_t *in;
	size_t n;

	in = make_tlv(hdr, sizeof(hdr), 256, &n);
	assert_get_fails(in, n, CS_ERR_TRUNCATED);
	free(in);
}

static void
test_tlv_get_zero_len_value(void **state)
{
	static const uint8_t in[] = { 0x53, 0x00 };

	assert_get_ok(in, sizeof(in), 0x53, 2, 0);
}

/* --- truncation at every offset --- */

static void
test_tlv_truncated_every_offset(void **state)
{
	struct cs_cur c, val;
	uint32_t tag;
	size_t k;

	for (k = 0; k < sizeof(cert_obj); k++) {
		cs_cur_init(&c, cert_obj, k);
		assert_int_equal(cs_tlv_get(&c, &tag, &val), CS_ERR_TRUNCATED);
		assert_cur_is(&c, k == 0 ? NULL : cert_obj, k);
	}
}

static void
test_tlv_truncated_every_offset_single(void **state)
{
	struct cs_cur c, val;
	size_t k;

	for (k = 0; k < sizeof(cert_obj); k++) {
		cs_cur_init(&c, cert_obj, k);
		assert_int_equal(cs_tlv_parse_single(&c, 0x53, &val),
		    CS_ERR_TRUNCATED);
		/* No siblings at all is "absent", not truncated. */
		assert_int_equal(cs_tlv_find(&c, 0x53, &val),
		    k == 0 ? CS_ERR_NOT_FOUND : CS_ERR_TRUNCATED);
		assert_cur_is(&c, k == 0 ? NULL : cert_obj, k);
	}
}

/*
 * The outer 53 is intact but holds only the first k bytes of its children:
 * the outer parses, and the children must report TRUNCATED.
 */
static void
test_tlv_truncated_every_inner_offset(void **state)
{
	const size_t inner = sizeof(cert_obj) - 2;
	struct cs_cur c, outer, val;
	uint8_t buf[sizeof(cert_obj)];
	uint32_t tag;
	enum cs_err r;
	size_t k, n, used;

	for (k = 1; k < inner; k++) {
		memcpy(buf, cert_obj, sizeof(buf));
		buf[1] = (uint8_t)k;
		cs_cur_init(&c, buf, 2 + k);
		assert_int_equal(cs_tlv_parse_single(&c, 0x53, &outer), CS_OK);
		n = 0;
		r = CS_OK;
		while (!cs_cur_is_empty(&outer)) {
			if ((r = cs_tlv_get(&outer, &tag, &val)) != CS_OK)
				break;
			n++;
		}
		/* Children: 70 at 0..9, 71 at 10..12, FE at 13..14. */
		assert_int_equal(n, (k >= 10) + (k >= 13));
		used = k >= 13 ? 13 : k >= 10 ? 10 : 0;
		if (k == 10 || k == 13) {
			/* The cut fell between two children: no error. */
			assert_int_equal(r, CS_OK);
		} else {
			assert_int_equal(r, CS_ERR_TRUNCATED);
			assert_cur_is(&outer, buf + 2 + used, k - used);
		}
	}
}

/* --- expect, peek, find, parse_single --- */

static void
test_tlv_expect_right_tag(void **state)
{
	struct cs_cur c, val;

	cs_cur_init(&c, cert_obj, sizeof(cert_obj));
	assert_int_equal(cs_tlv_expect(&c, 0x53, &val), CS_OK);
	assert_cur_is(&val, cert_obj + 2, sizeof(cert_obj) - 2);
	assert_true(cs_cur_is_empty(&c));
}

static void
test_tlv_expect_wrong_tag(void **state)
{
	struct cs_cur c, val;

	cs_cur_init(&c, cert_obj, sizeof(cert_obj));
	assert_int_equal(cs_tlv_expect(&c, 0x70, &val), CS_ERR_MALFORMED);
	assert_cur_is(&c, cert_obj, sizeof(cert_obj));
	assert_int_equal(cs_cur_len(&val), 0);
}

static void
test_tlv_expect_descends_in_place(void **state)
{
	struct cs_cur c;

	cs_cur_init(&c, cert_obj, sizeof(cert_obj));
	assert_int_equal(cs_tlv_expect(&c, 0x53, &c), CS_OK);
	assert_int_equal(cs_tlv_expect(&c, 0x70, &c), CS_OK);
	assert_cur_is(&c, cert_obj + 4, 8);
	/* A failed descent leaves the cursor where it was. */
	assert_int_equal(cs_tlv_expect(&c, 0x71, &c), CS_ERR_MALFORMED);
	assert_cur_is(&c, cert_obj + 4, 8);
}

static void
test_tlv_peek_tag_does_not_consume(void **state)
{
	static const uint8_t in[] = { 0x5F, 0xC1, 0x05, 0x00 };
	struct cs_cur c;
	uint32_t tag = 0;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_peek_tag(&c, &tag), CS_OK);
	assert_int_equal(tag, 0x5FC105);
	assert_cur_is(&c, in, sizeof(in));
}

static void
test_tlv_peek_tag_bad(void **state)
{
	static const uint8_t in[] = { 0x5F, 0xC1, 0xC1, 0x05 };
	struct cs_cur c;
	uint32_t tag = 0;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_peek_tag(&c, &tag), CS_ERR_MALFORMED);
	cs_cur_init(&c, in, 2);
	assert_int_equal(cs_tlv_peek_tag(&c, &tag), CS_ERR_TRUNCATED);
	assert_cur_is(&c, in, 2);
}

static void
test_tlv_find_present(void **state)
{
	struct cs_cur c, val;
	static const uint8_t zero = 0x00;

	cs_cur_init(&c, cert_obj + 2, sizeof(cert_obj) - 2);
	assert_int_equal(cs_tlv_find(&c, 0x71, &val), CS_OK);
	assert_true(cs_cur_eq(&val, &zero, 1));
	/* c is not consumed. */
	assert_cur_is(&c, cert_obj + 2, sizeof(cert_obj) - 2);
}

static void
test_tlv_find_empty_value(void **state)
{
	struct cs_cur c, val;

	cs_cur_init(&c, cert_obj + 2, sizeof(cert_obj) - 2);
	assert_int_equal(cs_tlv_find(&c, 0xFE, &val), CS_OK);
	assert_int_equal(cs_cur_len(&val), 0);
}

static void
test_tlv_find_absent(void **state)
{
	struct cs_cur c, val;

	cs_cur_init(&c, cert_obj + 2, sizeof(cert_obj) - 2);
	assert_int_equal(cs_tlv_find(&c, 0x72, &val), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_tlv_find(&c, 0x5FC105, &val), CS_ERR_NOT_FOUND);
}

static void
test_tlv_find_in_empty(void **state)
{
	struct cs_cur c, val;

	cs_cur_init(&c, NULL, 0);
	assert_int_equal(cs_tlv_find(&c, 0x71, &val), CS_ERR_NOT_FOUND);
}

static void
test_tlv_find_duplicate(void **state)
{
	static const uint8_t in[] = { 0x71, 0x01, 0x00, 0x70, 0x00, 0x71, 0x01,
		0x01 };
	struct cs_cur c, val;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_find(&c, 0x71, &val), CS_ERR_MALFORMED);
	assert_int_equal(cs_cur_len(&val), 0);
	/* A tag that occurs once is still found next to the duplicate. */
	assert_int_equal(cs_tlv_find(&c, 0x70, &val), CS_OK);
}

static void
test_tlv_find_trailing_garbage(void **state)
{
	static const uint8_t trunc[] = { 0x71, 0x01, 0x00, 0xFE, 0x05 };
	static const uint8_t bad[] = { 0x71, 0x01, 0x00, 0xFE, 0x80 };
	struct cs_cur c, val;

	/* The wanted tag comes first; what follows must still be checked. */
	cs_cur_init(&c, trunc, sizeof(trunc));
	assert_int_equal(cs_tlv_find(&c, 0x71, &val), CS_ERR_TRUNCATED);
	cs_cur_init(&c, bad, sizeof(bad));
	assert_int_equal(cs_tlv_find(&c, 0x71, &val), CS_ERR_MALFORMED);
}

static void
test_tlv_find_three_byte_tag(void **state)
{
	static const uint8_t in[] = { 0x53, 0x00, 0x5F, 0xC1, 0x05, 0x01,
		0x42 };
	static const uint8_t want = 0x42;
	struct cs_cur c, val;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_find(&c, 0x5FC105, &val), CS_OK);
	assert_true(cs_cur_eq(&val, &want, 1));
}

static void
test_tlv_parse_single_ok(void **state)
{
	struct cs_cur c, val;

	cs_cur_init(&c, cert_obj, sizeof(cert_obj));
	assert_int_equal(cs_tlv_parse_single(&c, 0x53, &val), CS_OK);
	assert_cur_is(&val, cert_obj + 2, sizeof(cert_obj) - 2);
	assert_cur_is(&c, cert_obj, sizeof(cert_obj));
}

static void
test_tlv_parse_single_trailing_garbage(void **state)
{
	uint8_t in[sizeof(cert_obj) + 1];
	struct cs_cur c, val;

	memcpy(in, cert_obj, sizeof(cert_obj));
	in[sizeof(cert_obj)] = 0x00;
	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_parse_single(&c, 0x53, &val), CS_ERR_MALFORMED);
	assert_int_equal(cs_cur_len(&val), 0);
}

static void
test_tlv_parse_single_two_objects(void **state)
{
	static const uint8_t in[] = { 0x53, 0x00, 0x53, 0x00 };
	struct cs_cur c, val;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_parse_single(&c, 0x53, &val), CS_ERR_MALFORMED);
}

static void
test_tlv_parse_single_wrong_tag(void **state)
{
	static const uint8_t in[] = { 0x7E, 0x00 };
	struct cs_cur c, val;

	cs_cur_init(&c, in, sizeof(in));
	assert_int_equal(cs_tlv_parse_single(&c, 0x53, &val), CS_ERR_MALFORMED);
	assert_int_equal(cs_tlv_parse_single(&c, 0x7E, &val), CS_OK);
}

/* --- encoding --- */

static void
test_tlv_put_one_byte_tag(void **state)
{
	struct cs_buf b = CS_BUF_INIT(64);
	static const uint8_t want[] = { 0x71, 0x01, 0x00 };

	assert_int_equal(cs_tlv_put_u8(&b, 0x71, 0x00), CS_OK);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	cs_buf_release(&b);
}

static void
test_tlv_put_three_byte_tag(void **state)
{
	struct cs_buf b = CS_BUF_INIT(64);
	static const uint8_t want[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x05 };
	static const uint8_t tag[] = { 0x5F, 0xC1, 0x05 };

	assert_int_equal(cs_tlv_put(&b, 0x5C, tag, sizeof(tag)), CS_OK);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	cs_buf_reset(&b);
	assert_int_equal(cs_tlv_put_hdr(&b, 0x5FC105, 0), CS_OK);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, tag, 3);
	assert_int_equal(b.data[3], 0x00);
	cs_buf_release(&b);
}

static void
test_tlv_put_empty_value(void **state)
{
	struct cs_buf b = CS_BUF_INIT(64);
	static const uint8_t want[] = { 0xFE, 0x00 };

	assert_int_equal(cs_tlv_put(&b, 0xFE, NULL, 0), CS_OK);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	cs_buf_release(&b);
}

static void
test_tlv_max_value_round_trip(void **state)
{
	struct cs_buf b = CS_BUF_INIT(CS_TLV_LEN_MAX + 16);
	static const uint8_t hdr[] = { 0x7F, 0x49, 0x82, 0xFF, 0xFF };
	struct cs_cur c, val;
	uint8_t *v;
	uint32_t tag;
	size_t i;

	v = malloc(CS_TLV_LEN_MAX);
	assert_non_null(v);
	for (i = 0; i < CS_TLV_LEN_MAX; i++)
		v[i] = (uint8_t)(i * 31);
	assert_int_equal(cs_tlv_put(&b, 0x7F49, v, CS_TLV_LEN_MAX), CS_OK);
	assert_int_equal(b.len, sizeof(hdr) + CS_TLV_LEN_MAX);
	assert_memory_equal(b.data, hdr, sizeof(hdr));
	cs_buf_cur(&b, &c);
	assert_int_equal(cs_tlv_get(&c, &tag, &val), CS_OK);
	assert_int_equal(tag, 0x7F49);
	assert_true(cs_cur_eq(&val, v, CS_TLV_LEN_MAX));
	assert_true(cs_cur_is_empty(&c));
	free(v);
	cs_buf_release(&b);
}

static void
test_tlv_put_rejects_len_over_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(CS_TLV_LEN_MAX + 16);
	uint8_t *v;

	v = calloc(1, CS_TLV_LEN_MAX + 1);
	assert_non_null(v);
	assert_int_equal(cs_tlv_put(&b, 0x53, v, CS_TLV_LEN_MAX + 1),
	    CS_ERR_ARG);
	assert_int_equal(cs_tlv_put_hdr(&b, 0x53, CS_TLV_LEN_MAX + 1),
	    CS_ERR_ARG);
	assert_int_equal(cs_tlv_put_hdr(&b, 0x53, SIZE_MAX), CS_ERR_ARG);
	assert_int_equal(b.len, 0);
	free(v);
	cs_buf_release(&b);
}

static void
test_tlv_put_rejects_bad_tags(void **state)
{
	static const uint32_t bad[] = {
		0, /* no tag */
		0xBF, /* needs a following byte */
		0x1F, /* needs a following byte */
		0x5F, /* ditto */
		0x7F, /* ditto */
		0xFF, /* ditto */
		0x5349, /* first byte does not announce more */
		0x5F81, /* last byte claims yet another follows */
		0x7FC9, /* ditto */
		0x5F4105, /* middle byte does not announce more */
		0x5FC185, /* last byte claims a 4th */
		0x53C105, /* first byte does not announce more */
		0x5FC1C101, /* 4 bytes */
		0xFFFFFFFF,
	};
	struct cs_buf b = CS_BUF_INIT(64);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cs_tlv_put_hdr(&b, bad[i], 0), CS_ERR_ARG);
		assert_int_equal(cs_tlv_put_u8(&b, bad[i], 1), CS_ERR_ARG);
		assert_int_equal(cs_tlv_hdr_len(bad[i], 0), 0);
		assert_int_equal(b.len, 0);
	}
	cs_buf_release(&b);
}

static void
test_tlv_put_accepts_good_tags(void **state)
{
	static const uint32_t good[] = { 0x01, 0x53, 0x7E, 0xFE, 0x9E, 0x5F2F,
		0x7F49, 0x7F61, 0x5F1F, 0x5FC105, 0x5FFF00, 0x7F8101 };
	struct cs_buf b = CS_BUF_INIT(64);
	struct cs_cur c, val;
	uint32_t tag;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cs_buf_reset(&b);
		assert_int_equal(cs_tlv_put_u8(&b, good[i], 0x5A), CS_OK);
		cs_buf_cur(&b, &c);
		assert_int_equal(cs_tlv_get(&c, &tag, &val), CS_OK);
		assert_int_equal(tag, good[i]);
	}
	cs_buf_release(&b);
}

static void
test_tlv_put_over_buf_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(4);
	static const uint8_t v[3] = { 1, 2, 3 };

	/* The header fits, the value does not: nothing may be left behind. */
	assert_int_equal(cs_tlv_put(&b, 0x53, v, sizeof(v)), CS_ERR_LIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(cs_tlv_put(&b, 0x53, v, 2), CS_OK);
	assert_int_equal(b.len, 4);
	cs_buf_release(&b);
}

static void
test_tlv_hdr_len_boundaries(void **state)
{
	assert_int_equal(cs_tlv_hdr_len(0x53, 0), 2);
	assert_int_equal(cs_tlv_hdr_len(0x53, 127), 2);
	assert_int_equal(cs_tlv_hdr_len(0x53, 128), 3);
	assert_int_equal(cs_tlv_hdr_len(0x53, 255), 3);
	assert_int_equal(cs_tlv_hdr_len(0x53, 256), 4);
	assert_int_equal(cs_tlv_hdr_len(0x7F49, 256), 5);
	assert_int_equal(cs_tlv_hdr_len(0x5FC105, CS_TLV_LEN_MAX), 6);
	assert_int_equal(cs_tlv_hdr_len(0x53, CS_TLV_LEN_MAX + 1), 0);
}

/*
 * Open a 53, fill it with vlen bytes, close it; the header must be hdr
 * (minimal form), followed by the value unchanged.
 */
static void
check_open_close(size_t vlen, const uint8_t *hdr, size_t hlen)
{
	struct cs_buf b = CS_BUF_INIT(CS_TLV_LEN_MAX + 16);
	size_t mark, i;

	assert_int_equal(cs_buf_put_u8(&b, 0xEE), CS_OK);
	cs_tlv_open(&b, &mark);
	assert_int_equal(mark, 1);
	for (i = 0; i < vlen; i++)
		assert_int_equal(cs_buf_put_u8(&b, (uint8_t)i), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x53, mark), CS_OK);
	assert_int_equal(b.len, 1 + hlen + vlen);
	assert_int_equal(b.data[0], 0xEE);
	assert_memory_equal(b.data + 1, hdr, hlen);
	for (i = 0; i < vlen; i++)
		assert_int_equal(b.data[1 + hlen + i], (uint8_t)i);
	cs_buf_release(&b);
}

static void
test_tlv_close_len_0(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x00 };

	check_open_close(0, hdr, sizeof(hdr));
}

static void
test_tlv_close_len_127(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x7F };

	check_open_close(127, hdr, sizeof(hdr));
}

static void
test_tlv_close_len_128(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x81, 0x80 };

	check_open_close(128, hdr, sizeof(hdr));
}

static void
test_tlv_close_len_255(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x81, 0xFF };

	check_open_close(255, hdr, sizeof(hdr));
}

static void
test_tlv_close_len_256(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x82, 0x01, 0x00 };

	check_open_close(256, hdr, sizeof(hdr));
}

static void
test_tlv_close_len_max(void **state)
{
	static const uint8_t hdr[] = { 0x53, 0x82, 0xFF, 0xFF };

	check_open_close(CS_TLV_LEN_MAX, hdr, sizeof(hdr));
}

static void
test_tlv_close_nested_builds_cert_obj(void **state)
{
	static const uint8_t cert[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02,
		0x01, 0x02 };
	struct cs_buf b = CS_BUF_INIT(64);
	size_t outer, inner;

	cs_tlv_open(&b, &outer);
	cs_tlv_open(&b, &inner);
	assert_int_equal(cs_buf_put(&b, cert, sizeof(cert)), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x70, inner), CS_OK);
	assert_int_equal(cs_tlv_put_u8(&b, 0x71, 0x00), CS_OK);
	assert_int_equal(cs_tlv_put(&b, 0xFE, NULL, 0), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x53, outer), CS_OK);
	assert_int_equal(b.len, sizeof(cert_obj));
	assert_memory_equal(b.data, cert_obj, sizeof(cert_obj));
	cs_buf_release(&b);
}

/* An inner TLV crossing 127 -> 128 must grow the outer header too. */
static void
test_tlv_close_nested_boundary(void **state)
{
	struct cs_buf b = CS_BUF_INIT(512);
	struct cs_cur c, outer, inner;
	size_t mo, mi, i;

	cs_tlv_open(&b, &mo);
	cs_tlv_open(&b, &mi);
	for (i = 0; i < 253; i++)
		assert_int_equal(cs_buf_put_u8(&b, 0xA5), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x7F49, mi), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x53, mo), CS_OK);
	/* Inner: 7F 49 81 FD + 253 = 257 bytes; outer: 53 82 01 01. */
	assert_int_equal(b.len, 4 + 257);
	assert_int_equal(b.data[0], 0x53);
	assert_int_equal(b.data[1], 0x82);
	assert_int_equal(b.data[2], 0x01);
	assert_int_equal(b.data[3], 0x01);
	assert_int_equal(b.data[4], 0x7F);
	assert_int_equal(b.data[5], 0x49);
	assert_int_equal(b.data[6], 0x81);
	assert_int_equal(b.data[7], 0xFD);
	cs_buf_cur(&b, &c);
	assert_int_equal(cs_tlv_parse_single(&c, 0x53, &outer), CS_OK);
	assert_int_equal(cs_tlv_parse_single(&outer, 0x7F49, &inner), CS_OK);
	assert_int_equal(cs_cur_len(&inner), 253);
	cs_buf_release(&b);
}

static void
test_tlv_close_bad_mark(void **state)
{
	struct cs_buf b = CS_BUF_INIT(64);

	assert_int_equal(cs_buf_put_u8(&b, 0x01), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x53, 2), CS_ERR_ARG);
	assert_int_equal(b.len, 1);
	cs_buf_release(&b);
}

static void
test_tlv_close_bad_tag(void **state)
{
	struct cs_buf b = CS_BUF_INIT(64);
	size_t mark;

	cs_tlv_open(&b, &mark);
	assert_int_equal(cs_buf_put_u8(&b, 0x01), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x5F, mark), CS_ERR_ARG);
	assert_int_equal(b.len, 1);
	assert_int_equal(b.data[0], 0x01);
	cs_buf_release(&b);
}

static void
test_tlv_close_len_over_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(CS_TLV_LEN_MAX + 16);
	size_t mark, i;

	cs_tlv_open(&b, &mark);
	for (i = 0; i < CS_TLV_LEN_MAX + 1; i++)
		assert_int_equal(cs_buf_put_u8(&b, 0x00), CS_OK);
	assert_int_equal(cs_tlv_close(&b, 0x53, mark), CS_ERR_ARG);
	assert_int_equal(b.len, CS_TLV_LEN_MAX + 1);
	cs_buf_release(&b);
}

static void
test_tlv_close_over_buf_max(void **state)
{
	struct cs_buf b = CS_BUF_INIT(128);
	size_t mark, i;

	cs_tlv_open(&b, &mark);
	for (i = 0; i < 127; i++)
		assert_int_equal(cs_buf_put_u8(&b, 0x00), CS_OK);
	/* 2 header bytes no longer fit in 128. */
	assert_int_equal(cs_tlv_close(&b, 0x53, mark), CS_ERR_LIMIT);
	assert_int_equal(b.len, 127);
	cs_buf_release(&b);
}

/* Review finding: non-minimal and padding tags are outside the subset. */
static void
test_tlv_rejects_nonminimal_and_padding_tags(void **state)
{
	static const uint8_t t1[] = { 0x5F, 0x01, 0x00 };
	static const uint8_t t2[] = { 0x5F, 0x80, 0x01, 0x00 };
	static const uint8_t t3[] = { 0x1F, 0x00, 0x00 };
	static const uint8_t t4[] = { 0xFF, 0x01, 0x00 };
	const uint8_t *in[] = { t1, t2, t3, t4 };
	size_t len[] = { sizeof(t1), sizeof(t2), sizeof(t3), sizeof(t4) };
	struct cs_buf b = CS_BUF_INIT(64);
	struct cs_cur c, v;
	uint32_t tag;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		cs_cur_init(&c, in[i], len[i]);
		assert_int_equal(cs_tlv_get(&c, &tag, &v), CS_ERR_MALFORMED);
		assert_int_equal(cs_cur_len(&c), len[i]);
	}
	assert_int_equal(cs_tlv_put(&b, 0x5F01, NULL, 0), CS_ERR_ARG);
	assert_int_equal(cs_tlv_put(&b, 0x5F8001, NULL, 0), CS_ERR_ARG);
	assert_int_equal(cs_tlv_put(&b, 0xFF01, NULL, 0), CS_ERR_ARG);
	/* The PIV tags themselves stay valid. */
	assert_int_equal(cs_tlv_put(&b, 0x5F1F, NULL, 0), CS_OK);
	assert_int_equal(cs_tlv_put(&b, 0x7F49, NULL, 0), CS_OK);
	assert_int_equal(cs_tlv_put(&b, 0x5FFF00, NULL, 0), CS_OK);
	assert_int_equal(cs_tlv_put(&b, 0x5FC105, NULL, 0), CS_OK);
	cs_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv_get_one_byte_tag),
		cmocka_unit_test(test_tlv_get_two_byte_tag),
		cmocka_unit_test(test_tlv_get_three_byte_tag),
		cmocka_unit_test(test_tlv_get_leaves_next_sibling),
		cmocka_unit_test(test_tlv_rejects_four_byte_tag),
		cmocka_unit_test(test_tlv_rejects_nonminimal_and_padding_tags),
		cmocka_unit_test(test_tlv_rejects_zero_tag),
		cmocka_unit_test(test_tlv_rejects_truncated_tag),
		cmocka_unit_test(test_tlv_rejects_empty_input),
		cmocka_unit_test(test_tlv_get_short_len_max),
		cmocka_unit_test(test_tlv_get_len_81),
		cmocka_unit_test(test_tlv_get_len_82),
		cmocka_unit_test(test_tlv_accepts_nonminimal_81),
		cmocka_unit_test(test_tlv_accepts_nonminimal_82),
		cmocka_unit_test(test_tlv_accepts_nonminimal_82_zero),
		cmocka_unit_test(test_tlv_rejects_indefinite_len),
		cmocka_unit_test(test_tlv_rejects_len_83),
		cmocka_unit_test(test_tlv_rejects_len_84),
		cmocka_unit_test(test_tlv_rejects_len_ff),
		cmocka_unit_test(test_tlv_rejects_truncated_len),
		cmocka_unit_test(test_tlv_rejects_len_one_too_long),
		cmocka_unit_test(test_tlv_rejects_len_82_one_too_long),
		cmocka_unit_test(test_tlv_get_zero_len_value),
		cmocka_unit_test(test_tlv_truncated_every_offset),
		cmocka_unit_test(test_tlv_truncated_every_offset_single),
		cmocka_unit_test(test_tlv_truncated_every_inner_offset),
		cmocka_unit_test(test_tlv_expect_right_tag),
		cmocka_unit_test(test_tlv_expect_wrong_tag),
		cmocka_unit_test(test_tlv_expect_descends_in_place),
		cmocka_unit_test(test_tlv_peek_tag_does_not_consume),
		cmocka_unit_test(test_tlv_peek_tag_bad),
		cmocka_unit_test(test_tlv_find_present),
		cmocka_unit_test(test_tlv_find_empty_value),
		cmocka_unit_test(test_tlv_find_absent),
		cmocka_unit_test(test_tlv_find_in_empty),
		cmocka_unit_test(test_tlv_find_duplicate),
		cmocka_unit_test(test_tlv_find_trailing_garbage),
		cmocka_unit_test(test_tlv_find_three_byte_tag),
		cmocka_unit_test(test_tlv_parse_single_ok),
		cmocka_unit_test(test_tlv_parse_single_trailing_garbage),
		cmocka_unit_test(test_tlv_parse_single_two_objects),
		cmocka_unit_test(test_tlv_parse_single_wrong_tag),
		cmocka_unit_test(test_tlv_put_one_byte_tag),
		cmocka_unit_test(test_tlv_put_three_byte_tag),
		cmocka_unit_test(test_tlv_put_empty_value),
		cmocka_unit_test(test_tlv_max_value_round_trip),
		cmocka_unit_test(test_tlv_put_rejects_len_over_max),
		cmocka_unit_test(test_tlv_put_rejects_bad_tags),
		cmocka_unit_test(test_tlv_put_accepts_good_tags),
		cmocka_unit_test(test_tlv_put_over_buf_max),
		cmocka_unit_test(test_tlv_hdr_len_boundaries),
		cmocka_unit_test(test_tlv_close_len_0),
		cmocka_unit_test(test_tlv_close_len_127),
		cmocka_unit_test(test_tlv_close_len_128),
		cmocka_unit_test(test_tlv_close_len_255),
		cmocka_unit_test(test_tlv_close_len_256),
		cmocka_unit_test(test_tlv_close_len_max),
		cmocka_unit_test(test_tlv_close_nested_builds_cert_obj),
		cmocka_unit_test(test_tlv_close_nested_boundary),
		cmocka_unit_test(test_tlv_close_bad_mark),
		cmocka_unit_test(test_tlv_close_bad_tag),
		cmocka_unit_test(test_tlv_close_len_over_max),
		cmocka_unit_test(test_tlv_close_over_buf_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
