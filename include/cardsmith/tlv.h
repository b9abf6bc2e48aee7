/*
 * BER-TLV as used by PIV (SP 800-73-4 part 2, ISO 7816-4 §5.2).
 *
 * Tags are 1-3 bytes and are handled as the big-endian integer of their
 * bytes: 0x53, 0x7F49, 0x5FC105. Lengths are 0x00-0x7F, 0x81 xx and
 * 0x82 xx xx; indefinite (0x80) and longer forms are rejected. Non-minimal
 * 0x81/0x82 encodings are accepted on input (real cards send them) and never
 * produced on output.
 */
#ifndef CARDSMITH_TLV_H
#define CARDSMITH_TLV_H

#include "buf.h"

/* Largest value length the 0x82 form can express. */
#define CS_TLV_LEN_MAX 0xFFFFu

/*
 * Read one TLV from c: *tag and *val (a borrowed view of the value).
 * Errors: CS_ERR_TRUNCATED (header or value runs past the end),
 * CS_ERR_MALFORMED (indefinite or unsupported length form, tag longer than
 * 3 bytes, a 00 tag byte). On failure c is unchanged and *tag and *val are
 * cleared, so cs_tlv_get(&c, &tag, &c) can step into a value.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_get(struct cs_cur *c,
    uint32_t *tag, struct cs_cur *val);
/* Tag of the next TLV without consuming anything. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_peek_tag(const struct cs_cur *c,
    uint32_t *tag);
/* Like cs_tlv_get but the tag must be want (else CS_ERR_MALFORMED). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_expect(struct cs_cur *c,
    uint32_t want, struct cs_cur *val);
/*
 * Look for tag among the sibling TLVs that fill c completely (c is not
 * consumed). Every sibling is parsed, so trailing garbage is reported
 * (CS_ERR_MALFORMED/TRUNCATED) even if tag comes first. Returns
 * CS_ERR_NOT_FOUND if absent, CS_ERR_MALFORMED if tag occurs twice.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_find(const struct cs_cur *c,
    uint32_t tag, struct cs_cur *val);
/*
 * Parse a byte string that must be exactly one TLV with tag want and nothing
 * after it (e.g. a GET DATA answer `53 L ...`).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_parse_single(
    const struct cs_cur *c, uint32_t want, struct cs_cur *val);

/* Bytes the header (tag + length) takes; 0 if it cannot be encoded. */
CS_EXPORT size_t cs_tlv_hdr_len(uint32_t tag, size_t len);
/*
 * Append a header; CS_ERR_ARG for a tag that is not a valid 1-3 byte BER
 * tag, or len > CS_TLV_LEN_MAX.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_put_hdr(struct cs_buf *b,
    uint32_t tag, size_t len);
/* Append a whole TLV (v must not point into b); b unchanged on failure. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_put(struct cs_buf *b, uint32_t tag,
    const void *v, size_t len);
/* Append a TLV with a one-byte value. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_put_u8(struct cs_buf *b,
    uint32_t tag, uint8_t v);
/*
 * Nested construction: cs_tlv_open records where a TLV starts (*mark);
 * append the value, then cs_tlv_close inserts the header with the final
 * length (CS_ERR_ARG for a bad mark or a value over CS_TLV_LEN_MAX; b
 * unchanged on failure).
 */
CS_EXPORT void cs_tlv_open(const struct cs_buf *b, size_t *mark);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_tlv_close(struct cs_buf *b,
    uint32_t tag, size_t mark);

#endif
