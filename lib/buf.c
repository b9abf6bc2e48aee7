#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "banned.h"

void
cs_cur_init(struct cs_cur *c, const uint8_t *p, size_t len)
{
	c->p = len == 0 ? NULL : p;
	c->len = p == NULL ? 0 : len;
}

size_t
cs_cur_len(const struct cs_cur *c)
{
	return c->len;
}

const uint8_t *
cs_cur_ptr(const struct cs_cur *c)
{
	return c->p;
}

bool
cs_cur_is_empty(const struct cs_cur *c)
{
	return c->len == 0;
}

bool
cs_cur_eq(const struct cs_cur *c, const void *p, size_t n)
{
	if (c->len != n)
		return false;
	return n == 0 || cs_memeq_public(c->p, p, n);
}

enum cs_err
cs_cur_peek_u8(const struct cs_cur *c, uint8_t *v)
{
	if (c->len < 1)
		return CS_ERR_TRUNCATED;
	*v = c->p[0];
	return CS_OK;
}

enum cs_err
cs_cur_get_bytes(struct cs_cur *c, size_t n, struct cs_cur *sub)
{
	if (c->len < n)
		return CS_ERR_TRUNCATED;
	cs_cur_init(sub, c->p, n);
	c->p = c->len == n ? NULL : c->p + n;
	c->len -= n;
	return CS_OK;
}

enum cs_err
cs_cur_skip(struct cs_cur *c, size_t n)
{
	struct cs_cur sub;

	return cs_cur_get_bytes(c, n, &sub);
}

enum cs_err
cs_cur_copy(struct cs_cur *c, void *dst, size_t n)
{
	struct cs_cur sub;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_cur_get_bytes(c, n, &sub)) != CS_OK)
		return r;
	if (n > 0)
		memcpy(dst, sub.p, n);
	return CS_OK;
}

enum cs_err
cs_cur_get_u8(struct cs_cur *c, uint8_t *v)
{
	return cs_cur_copy(c, v, 1);
}

/* n (1..4) bytes, big-endian as ISO 7816 and DER write them. */
static enum cs_err
get_be(struct cs_cur *c, size_t n, uint32_t *v)
{
	uint8_t b[4];
	uint32_t x = 0;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_cur_copy(c, b, n)) != CS_OK)
		return r;
	for (i = 0; i < n; i++)
		x = (x << 8) | b[i];
	*v = x;
	return CS_OK;
}

enum cs_err
cs_cur_get_u16(struct cs_cur *c, uint16_t *v)
{
	uint32_t x = 0;
	enum cs_err r = get_be(c, 2, &x);

	if (r == CS_OK)
		*v = (uint16_t)x;
	return r;
}

enum cs_err
cs_cur_get_u32(struct cs_cur *c, uint32_t *v)
{
	return get_be(c, 4, v);
}

enum cs_err
cs_cur_dup(const struct cs_cur *c, uint8_t **out, size_t *outlen)
{
	uint8_t *p;

	*out = NULL;
	*outlen = 0;
	if ((p = malloc(c->len > 0 ? c->len : 1)) == NULL)
		return CS_ERR_NOMEM;
	if (c->len > 0)
		memcpy(p, c->p, c->len);
	*out = p;
	*outlen = c->len;
	return CS_OK;
}

void
cs_buf_init(struct cs_buf *b, size_t max, bool secret)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->secret = secret ? 1 : 0;
}

enum cs_err
cs_buf_reserve(struct cs_buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *n;

	if (extra > SIZE_MAX - b->len)
		return CS_ERR_LIMIT;
	need = b->len + extra;
	if (need > b->max)
		return CS_ERR_LIMIT;
	if (need <= b->cap)
		return CS_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if (b->secret) {
		/* realloc could leave a copy behind: move by hand and wipe */
		if ((n = malloc(ncap)) == NULL)
			return CS_ERR_NOMEM;
		if (b->len > 0)
			memcpy(n, b->data, b->len);
		cs_free_secret(b->data, b->cap);
	} else if ((n = realloc(b->data, ncap)) == NULL)
		return CS_ERR_NOMEM;
	b->data = n;
	b->cap = ncap;
	return CS_OK;
}

enum cs_err
cs_buf_put(struct cs_buf *b, const void *p, size_t n)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (n == 0)
		return CS_OK;
	if ((r = cs_buf_reserve(b, n)) != CS_OK)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return CS_OK;
}

enum cs_err
cs_buf_put_u8(struct cs_buf *b, uint8_t v)
{
	return cs_buf_put(b, &v, 1);
}

enum cs_err
cs_buf_put_u16(struct cs_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return cs_buf_put(b, x, sizeof(x));
}

enum cs_err
cs_buf_put_cur(struct cs_buf *b, const struct cs_cur *c)
{
	return cs_buf_put(b, c->p, c->len);
}

enum cs_err
cs_buf_insert(struct cs_buf *b, size_t off, const void *p, size_t n)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (off > b->len)
		return CS_ERR_ARG;
	if (n == 0)
		return CS_OK;
	if ((r = cs_buf_reserve(b, n)) != CS_OK)
		return r;
	memmove(b->data + off + n, b->data + off, b->len - off);
	memcpy(b->data + off, p, n);
	b->len += n;
	return CS_OK;
}

void
cs_buf_truncate(struct cs_buf *b, size_t n)
{
	if (n >= b->len)
		return;
	if (b->secret)
		cs_wipe(b->data + n, b->len - n);
	b->len = n;
}

void
cs_buf_reset(struct cs_buf *b)
{
	cs_buf_truncate(b, 0);
}

void
cs_buf_release(struct cs_buf *b)
{
	if (b->secret)
		cs_free_secret(b->data, b->cap);
	else
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

enum cs_err
cs_buf_take(struct cs_buf *b, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (b->data == NULL) {
		if ((b->data = malloc(1)) == NULL)
			return CS_ERR_NOMEM;
		b->cap = 1;
	}
	*out = b->data;
	*outlen = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return CS_OK;
}

void
cs_buf_cur(const struct cs_buf *b, struct cs_cur *c)
{
	cs_cur_init(c, b->data, b->len);
}
