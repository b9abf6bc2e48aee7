/*
 * Bounded read cursor (cs_cur) and capped growable buffer (cs_buf).
 *
 * Untrusted bytes (card responses, files, database blobs) are parsed only
 * through cs_cur. Every getter either succeeds and advances, or fails and
 * leaves the cursor exactly as it was.
 */
#ifndef CARDSMITH_BUF_H
#define CARDSMITH_BUF_H

#include "common.h"

/* Read-only view; owns nothing. Valid while the backing bytes are. */
struct cs_cur {
	const uint8_t *p;
	size_t len;
};

/* Owning, growable, hard-capped buffer. */
struct cs_buf {
	uint8_t *data;
	size_t len, cap, max;
	unsigned int secret : 1; /* wipe on grow, reset and release */
};

/* Initialisers: a maximum is mandatory. */
#define CS_BUF_INIT(m) { NULL, 0, 0, (m), 0 }
#define CS_BUF_INIT_SECRET(m) { NULL, 0, 0, (m), 1 }

/* --- cursor --- */

CS_EXPORT void cs_cur_init(struct cs_cur *c, const uint8_t *p, size_t len);
CS_EXPORT size_t cs_cur_len(const struct cs_cur *c);
/* Pointer to the remaining bytes, for handing to a decoder (d2i_*). */
CS_EXPORT const uint8_t *cs_cur_ptr(const struct cs_cur *c);
CS_EXPORT bool cs_cur_is_empty(const struct cs_cur *c);
/* True if the remaining bytes equal p[0..n). */
CS_EXPORT bool cs_cur_eq(const struct cs_cur *c, const void *p, size_t n);

/* Getters: CS_ERR_TRUNCATED (cursor unchanged) when too few bytes remain. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_get_u8(struct cs_cur *c,
    uint8_t *v);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_get_u16(struct cs_cur *c,
    uint16_t *v); /* big-endian */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_get_u32(struct cs_cur *c,
    uint32_t *v); /* big-endian */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_peek_u8(const struct cs_cur *c,
    uint8_t *v);
/* Split off the next n bytes as sub-cursor sub (borrowed view). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_get_bytes(struct cs_cur *c,
    size_t n, struct cs_cur *sub);
/* Copy the next n bytes into dst. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_copy(struct cs_cur *c, void *dst,
    size_t n);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_skip(struct cs_cur *c, size_t n);
/*
 * Copy all remaining bytes into fresh memory (cursor unchanged).
 * Caller frees *out with cs_free. A zero-length cursor gives a non-NULL
 * *out with *outlen 0.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cur_dup(const struct cs_cur *c,
    uint8_t **out, size_t *outlen);

/*
 * --- buffer ---
 * Source bytes passed to the put/insert functions must not point into the
 * destination buffer: growing it may move its storage.
 */

CS_EXPORT void cs_buf_init(struct cs_buf *b, size_t max, bool secret);
/* Ensure room for extra more bytes; CS_ERR_LIMIT beyond max. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_reserve(struct cs_buf *b,
    size_t extra);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_put(struct cs_buf *b,
    const void *p, size_t n);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_put_u8(struct cs_buf *b,
    uint8_t v);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_put_u16(struct cs_buf *b,
    uint16_t v); /* big-endian */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_put_cur(struct cs_buf *b,
    const struct cs_cur *c);
/*
 * Insert n bytes at offset off (shifting the tail); used to patch in TLV
 * headers once a length is known.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_insert(struct cs_buf *b,
    size_t off, const void *p, size_t n);
/* Shrink len to n (n <= len); wipes the dropped tail if secret. */
CS_EXPORT void cs_buf_truncate(struct cs_buf *b, size_t n);
/* Empty the buffer (keeps the allocation; wipes if secret). */
CS_EXPORT void cs_buf_reset(struct cs_buf *b);
/* Free the storage (wipes if secret); the buffer may be reused. */
CS_EXPORT void cs_buf_release(struct cs_buf *b);
/*
 * Move the contents out: *out is owned by the caller (cs_free, or
 * cs_free_secret for secret buffers); the buffer is left empty.
 * An empty buffer gives a non-NULL *out with *outlen 0.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_buf_take(struct cs_buf *b,
    uint8_t **out, size_t *outlen);
/* Cursor over the current contents; valid until the buffer changes. */
CS_EXPORT void cs_buf_cur(const struct cs_buf *b, struct cs_cur *c);

#endif
