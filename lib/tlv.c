/*
 * BER-TLV as PIV uses it: SP 800-73-4 encodes every data object and GET DATA
 * answer as BER-TLV per ISO/IEC 7816-4:2005 §5.2.2 (tag fields §5.2.2.1,
 * length fields §5.2.2.2), which profiles the BER of ISO/IEC 8825-1 (X.690).
 *
 * PIV only ever needs tags of 1-3 bytes (53, 7F49, 5FC105) and lengths up to
 * 65535, so this is deliberately a strict subset of BER: anything outside it
 * is reported, never guessed at. All reads go through cs_cur, so a failed
 * parse cannot have moved the caller's cursor.
 */
#include <stdint.h>

#include "internal.h"

#include "banned.h"

/* ISO 7816-4 §5.2.2.1 / X.690 §8.1.2.4: low 5 bits all set = more bytes. */
#define TAG_NUM_MASK 0x1f
/* X.690 §8.1.2.4.2: bit 8 of a subsequent byte set = another byte follows. */
#define TAG_MORE 0x80
#define TAG_BYTES_MAX 3
/* X.690 §8.1.3.5: 0x80 alone is the indefinite form, 0x81/0x82 long form. */
#define LEN_LONG 0x80
#define LEN_1 0x81
#define LEN_2 0x82
/* Tag (3) plus the longest length form we emit (82 xx xx). */
#define HDR_MAX (TAG_BYTES_MAX + 3)

/* Number of bytes in tag's encoding, from the size of the integer. */
static size_t
tag_nbytes(uint32_t tag)
{
	if (tag <= 0xff)
		return 1;
	if (tag <= 0xffff)
		return 2;
	if (tag <= 0xffffff)
		return 3;
	return 4;
}

/*
 * Whether tag, read as the big-endian integer of its bytes, is a BER tag of
 * exactly that many bytes. The input side (get_tag) accepts precisely this
 * set, so every tag we decode can be encoded again and vice versa.
 */
static bool
tag_is_valid(uint32_t tag)
{
	size_t n = tag_nbytes(tag);
	uint8_t first = (uint8_t)(tag >> (8 * (n - 1)));
	size_t i;

	uint8_t second;

	if (tag == 0 || n > TAG_BYTES_MAX)
		return false;
	if (n == 1)
		return (first & TAG_NUM_MASK) != TAG_NUM_MASK;
	/* FF, like 00, is inter-object padding (ISO 7816-4 §5.2.2.1). */
	if ((first & TAG_NUM_MASK) != TAG_NUM_MASK || first == 0xff)
		return false;
	second = (uint8_t)(tag >> (8 * (n - 2)));
	/*
	 * X.690 §8.1.2.4.2 c: the first subsequent byte carries bits; ISO
	 * 7816-4 §5.2.2.1: tag numbers below 31 use the one-byte form.
	 */
	if ((second & ~TAG_MORE) == 0 || (n == 2 && second < TAG_NUM_MASK))
		return false;
	/* Subsequent bytes: bit 8 set on all but the last. */
	for (i = n - 1; i > 0; i--) {
		bool more = ((tag >> (8 * (i - 1))) & TAG_MORE) != 0;

		if (more != (i > 1))
			return false;
	}
	return true;
}

/*
 * Read a tag. A single 00 byte is not a tag: ISO 7816-4 §5.2.2.1 reserves
 * it (with FF) as padding between objects, and PIV objects carry none.
 */
static enum cs_err
get_tag(struct cs_cur *c, uint32_t *tag)
{
	struct cs_cur t = *c;
	uint32_t v;
	uint8_t b;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_cur_get_u8(&t, &b)) != CS_OK)
		return r;
	v = b;
	if (b == 0x00)
		return CS_ERR_MALFORMED;
	if ((b & TAG_NUM_MASK) == TAG_NUM_MASK) {
		n = 1;
		do {
			/* A 4th tag byte is beyond what PIV uses. */
			if (n == TAG_BYTES_MAX)
				return CS_ERR_MALFORMED;
			if ((r = cs_cur_get_u8(&t, &b)) != CS_OK)
				return r;
			v = (v << 8) | b;
			n++;
		} while ((b & TAG_MORE) != 0);
		/* One rule for both directions: what we read, we can write. */
		if (!tag_is_valid(v))
			return CS_ERR_MALFORMED;
	}
	*c = t;
	*tag = v;
	return CS_OK;
}

/*
 * Read a length. Non-minimal 81/82 forms are accepted because real cards
 * send them (piv-apdu.md §1.7); 80 (indefinite, not allowed in ISO 7816-4
 * §5.2.2.2) and 83 and longer (beyond PIV's 64 KiB objects) are not.
 */
static enum cs_err
get_len(struct cs_cur *c, size_t *len)
{
	struct cs_cur t = *c;
	uint16_t v16;
	uint8_t b;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_cur_get_u8(&t, &b)) != CS_OK)
		return r;
	if (b < LEN_LONG) {
		*len = b;
	} else if (b == LEN_1) {
		if ((r = cs_cur_get_u8(&t, &b)) != CS_OK)
			return r;
		*len = b;
	} else if (b == LEN_2) {
		if ((r = cs_cur_get_u16(&t, &v16)) != CS_OK)
			return r;
		*len = v16;
	} else
		return CS_ERR_MALFORMED;
	*c = t;
	return CS_OK;
}

enum cs_err
cs_tlv_get(struct cs_cur *c, uint32_t *tag, struct cs_cur *val)
{
	struct cs_cur save = *c, t = *c, v;
	uint32_t tg = 0;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*tag = 0;
	cs_cur_init(val, NULL, 0);
	if ((r = get_tag(&t, &tg)) != CS_OK ||
	    (r = get_len(&t, &len)) != CS_OK ||
	    (r = cs_cur_get_bytes(&t, len, &v)) != CS_OK) {
		/*
		 * Restore after clearing val: a caller descending with
		 * val == c must still find its cursor unchanged.
		 */
		*c = save;
		return r;
	}
	*tag = tg;
	*c = t;
	*val = v;
	return CS_OK;
}

enum cs_err
cs_tlv_peek_tag(const struct cs_cur *c, uint32_t *tag)
{
	struct cs_cur t = *c;
	uint32_t tg = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	/*
	 * Only the tag is read, so a caller can dispatch on it; the length and
	 * value are checked by the cs_tlv_get that follows.
	 */
	*tag = 0;
	if ((r = get_tag(&t, &tg)) != CS_OK)
		return r;
	*tag = tg;
	return CS_OK;
}

enum cs_err
cs_tlv_expect(struct cs_cur *c, uint32_t want, struct cs_cur *val)
{
	struct cs_cur save = *c, t = *c, v;
	uint32_t tag;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_cur_init(val, NULL, 0);
	if ((r = cs_tlv_get(&t, &tag, &v)) != CS_OK) {
		*c = save;
		return r;
	}
	if (tag != want) {
		*c = save;
		return CS_ERR_MALFORMED;
	}
	*c = t;
	*val = v;
	return CS_OK;
}

enum cs_err
cs_tlv_find(const struct cs_cur *c, uint32_t tag, struct cs_cur *val)
{
	struct cs_cur t = *c, v, found;
	uint32_t tg;
	bool seen = false;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_cur_init(&found, NULL, 0);
	cs_cur_init(val, NULL, 0);
	/*
	 * Walk every sibling even after a hit: a duplicate of a tag that SP
	 * 800-73-4 allows once, or garbage after it, must not go unnoticed.
	 */
	while (!cs_cur_is_empty(&t)) {
		if ((r = cs_tlv_get(&t, &tg, &v)) != CS_OK)
			return r;
		if (tg != tag)
			continue;
		if (seen)
			return CS_ERR_MALFORMED;
		seen = true;
		found = v;
	}
	if (!seen)
		return CS_ERR_NOT_FOUND;
	*val = found;
	return CS_OK;
}

enum cs_err
cs_tlv_parse_single(const struct cs_cur *c, uint32_t want, struct cs_cur *val)
{
	struct cs_cur t = *c, v;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_cur_init(val, NULL, 0);
	if ((r = cs_tlv_expect(&t, want, &v)) != CS_OK)
		return r;
	/* SP 800-73-4 part 2 §3.1.2: GET DATA answers hold one object only. */
	if (!cs_cur_is_empty(&t))
		return CS_ERR_MALFORMED;
	*val = v;
	return CS_OK;
}

/*
 * Encode a header into hdr (HDR_MAX bytes), always in the minimal length
 * form (X.690 §10.1, which yubico-piv-tool's parser relies on).
 */
static enum cs_err
encode_hdr(uint32_t tag, size_t len, uint8_t *hdr, size_t *hlen)
{
	size_t n, i, k = 0;

	*hlen = 0;
	if (!tag_is_valid(tag) || len > CS_TLV_LEN_MAX)
		return CS_ERR_ARG;
	n = tag_nbytes(tag);
	for (i = n; i > 0; i--)
		hdr[k++] = (uint8_t)(tag >> (8 * (i - 1)));
	if (len < LEN_LONG) {
		hdr[k++] = (uint8_t)len;
	} else if (len <= 0xff) {
		hdr[k++] = LEN_1;
		hdr[k++] = (uint8_t)len;
	} else {
		hdr[k++] = LEN_2;
		hdr[k++] = (uint8_t)(len >> 8);
		hdr[k++] = (uint8_t)len;
	}
	*hlen = k;
	return CS_OK;
}

/* 0 if tag or len cannot be encoded. */
size_t
cs_tlv_hdr_len(uint32_t tag, size_t len)
{
	uint8_t hdr[HDR_MAX];
	size_t hlen;

	if (encode_hdr(tag, len, hdr, &hlen) != CS_OK)
		return 0;
	return hlen;
}

enum cs_err
cs_tlv_put_hdr(struct cs_buf *b, uint32_t tag, size_t len)
{
	uint8_t hdr[HDR_MAX];
	size_t hlen;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = encode_hdr(tag, len, hdr, &hlen)) != CS_OK)
		return r;
	return cs_buf_put(b, hdr, hlen);
}

/* v must not point into b: growing b may move its storage. */
enum cs_err
cs_tlv_put(struct cs_buf *b, uint32_t tag, const void *v, size_t len)
{
	size_t start = b->len;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_tlv_put_hdr(b, tag, len)) != CS_OK)
		return r;
	if ((r = cs_buf_put(b, v, len)) != CS_OK) {
		/* Never leave a header without its value behind. */
		cs_buf_truncate(b, start);
		return r;
	}
	return CS_OK;
}

enum cs_err
cs_tlv_put_u8(struct cs_buf *b, uint32_t tag, uint8_t v)
{
	return cs_tlv_put(b, tag, &v, 1);
}

void
cs_tlv_open(const struct cs_buf *b, size_t *mark)
{
	*mark = b->len;
}

/*
 * The header goes in front of the value once its length is known, so the
 * caller never has to guess which length form to reserve room for. On
 * failure b is unchanged (the value stays, without a header).
 */
enum cs_err
cs_tlv_close(struct cs_buf *b, uint32_t tag, size_t mark)
{
	uint8_t hdr[HDR_MAX];
	size_t hlen;
	enum cs_err r = CS_ERR_INTERNAL;

	if (mark > b->len)
		return CS_ERR_ARG;
	if ((r = encode_hdr(tag, b->len - mark, hdr, &hlen)) != CS_OK)
		return r;
	return cs_buf_insert(b, mark, hdr, hlen);
}
