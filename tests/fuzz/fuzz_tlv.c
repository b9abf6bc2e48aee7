/*
 * Fuzz target for lib/tlv.c.
 *
 * Covers: cs_tlv_get, cs_tlv_peek_tag, cs_tlv_find, cs_tlv_parse_single,
 * cs_tlv_expect (through parse_single), cs_tlv_put, cs_tlv_hdr_len,
 * cs_tlv_open, cs_tlv_close.
 *
 * The input is parsed as a list of sibling TLVs, descending into constructed
 * ones (bit 6 of the first tag byte, X.690 §8.1.2.5) up to DEPTH_MAX levels.
 * Properties checked, abort() on violation:
 * - a failed cs_tlv_get leaves the cursor unchanged and returns TRUNCATED or
 *   MALFORMED;
 * - every TLV that decodes re-encodes (cs_tlv_put) to hdr_len + len bytes
 *   that decode to the same tag and value;
 * - the canonical re-encoding of a well-formed input (minimal lengths, built
 *   with open/close) is no longer than the input and is a fixed point;
 * - cs_tlv_find and cs_tlv_parse_single agree with a plain sibling scan.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "cardsmith/tlv.h"

#include "banned.h"

#define DEPTH_MAX 8
#define TAG_CONSTRUCTED 0x20

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
cur_same(const struct cs_cur *a, const struct cs_cur *b)
{
	return cs_cur_ptr(a) == cs_cur_ptr(b) && cs_cur_len(a) == cs_cur_len(b);
}

static uint8_t
first_tag_byte(uint32_t tag)
{
	if (tag > 0xffff)
		return (uint8_t)(tag >> 16);
	if (tag > 0xff)
		return (uint8_t)(tag >> 8);
	return (uint8_t)tag;
}

/* decode(encode(x)) == x for one TLV. */
static void
round_trip(uint32_t tag, const struct cs_cur *val)
{
	struct cs_buf b = CS_BUF_INIT(CS_TLV_LEN_MAX + 8);
	struct cs_cur c, v;
	size_t len = cs_cur_len(val);
	uint32_t t;

	check(cs_tlv_put(&b, tag, cs_cur_ptr(val), len) == CS_OK);
	check(cs_tlv_hdr_len(tag, len) != 0);
	check(b.len == cs_tlv_hdr_len(tag, len) + len);
	cs_buf_cur(&b, &c);
	check(cs_tlv_get(&c, &t, &v) == CS_OK);
	check(t == tag);
	check(cs_cur_eq(&v, cs_cur_ptr(val), len));
	check(cs_cur_is_empty(&c));
	cs_buf_release(&b);
}

/*
 * Parse the siblings in in, appending their canonical encoding to out.
 * Constructed values whose children all parse are rebuilt with open/close;
 * anything else is copied as an opaque value. Returns the first sibling
 * error (out then holds a partial encoding).
 */
static enum cs_err
walk(const struct cs_cur *in, int depth, struct cs_buf *out)
{
	struct cs_cur c = *in, save, val;
	uint32_t tag;
	size_t mark;
	enum cs_err r;

	while (!cs_cur_is_empty(&c)) {
		save = c;
		if ((r = cs_tlv_get(&c, &tag, &val)) != CS_OK) {
			check(cur_same(&c, &save));
			check(r == CS_ERR_TRUNCATED || r == CS_ERR_MALFORMED);
			return r;
		}
		round_trip(tag, &val);
		if ((first_tag_byte(tag) & TAG_CONSTRUCTED) != 0 &&
		    depth < DEPTH_MAX) {
			cs_tlv_open(out, &mark);
			if (walk(&val, depth + 1, out) == CS_OK) {
				check(cs_tlv_close(out, tag, mark) == CS_OK);
				continue;
			}
			cs_buf_truncate(out, mark);
		}
		r = cs_tlv_put(out, tag, cs_cur_ptr(&val), cs_cur_len(&val));
		check(r == CS_OK);
	}
	return CS_OK;
}

/* cs_tlv_find(in, tag) against a plain scan of the siblings. */
static void
check_find(const struct cs_cur *in, uint32_t tag)
{
	struct cs_cur c = *in, v, hit, val;
	uint32_t t;
	size_t n = 0;
	enum cs_err scan = CS_OK, r;

	cs_cur_init(&hit, NULL, 0);
	while (!cs_cur_is_empty(&c)) {
		if ((scan = cs_tlv_get(&c, &t, &v)) != CS_OK)
			break;
		if (t == tag && n++ == 0)
			hit = v;
	}
	r = cs_tlv_find(in, tag, &val);
	if (scan != CS_OK) {
		/* Either the broken sibling or an earlier duplicate. */
		check(r == CS_ERR_TRUNCATED || r == CS_ERR_MALFORMED);
		check(cs_cur_len(&val) == 0);
	} else if (n == 0) {
		check(r == CS_ERR_NOT_FOUND);
	} else if (n == 1) {
		check(r == CS_OK);
		check(cur_same(&val, &hit));
	} else {
		check(r == CS_ERR_MALFORMED);
	}
}

/* cs_tlv_parse_single(in, want) against one cs_tlv_get. */
static void
check_single(const struct cs_cur *in, uint32_t want)
{
	struct cs_cur c = *in, v, val;
	uint32_t t;
	enum cs_err g, r;

	g = cs_tlv_get(&c, &t, &v);
	r = cs_tlv_parse_single(in, want, &val);
	if (g != CS_OK)
		check(r == g);
	else if (t != want || !cs_cur_is_empty(&c))
		check(r == CS_ERR_MALFORMED);
	else
		check(r == CS_OK && cur_same(&val, &v));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_buf canon = CS_BUF_INIT(size);
	struct cs_buf again = CS_BUF_INIT(size);
	struct cs_cur in, c;
	uint32_t first = 0;

	cs_cur_init(&in, data, size);
	if (walk(&in, 0, &canon) == CS_OK) {
		/* Minimal headers never lengthen it: canon's max is size. */
		cs_buf_cur(&canon, &c);
		check(walk(&c, 0, &again) == CS_OK);
		check(cs_cur_eq(&c, again.data, again.len));
	}
	if (cs_tlv_peek_tag(&in, &first) == CS_OK) {
		check_find(&in, first);
		check_single(&in, first);
		check_single(&in, first ^ 1);
	}
	check_find(&in, 0x70);
	check_find(&in, 0x5FC105);
	check_single(&in, 0x53);
	cs_buf_release(&canon);
	cs_buf_release(&again);
	return 0;
}
