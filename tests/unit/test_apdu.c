/* Unit tests for lib/apdu.c: encoding, chaining, SW mapping, trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/cardsmith.h"
#include "fake_transport.h"

struct logcap {
	char *buf;
	size_t len, cap;
	size_t nlines;
};

struct fx {
	struct cs_ctx *ctx;
	struct cs_fake *f;
	struct cs_transport *t;
	struct cs_buf resp;
	struct logcap log;
};

static void
log_cb(void *arg, enum cs_log_level level, const char *line)
{
	struct logcap *l = arg;
	size_t n = strlen(line);

	(void)level;
	if (l->len + n + 2 > l->cap) {
		l->cap = (l->len + n + 2) * 2;
		l->buf = realloc(l->buf, l->cap);
		assert_non_null(l->buf);
	}
	memcpy(l->buf + l->len, line, n);
	l->len += n;
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
	l->nlines++;
}

static int
setup(void **state)
{
	struct fx *x;

	x = calloc(1, sizeof(*x));
	assert_non_null(x);
	assert_int_equal(cs_ctx_new(&x->ctx), CS_OK);
	assert_int_equal(cs_fake_new(&x->f, &x->t), CS_OK);
	cs_buf_init(&x->resp, CS_APDU_RESP_MAX, false);
	cs_ctx_set_log(x->ctx, CS_LOG_APDU, log_cb, &x->log);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	cs_buf_release(&x->resp);
	cs_fake_free(x->f);
	cs_ctx_free(x->ctx);
	free(x->log.buf);
	free(x);
	return 0;
}

static void
script(struct fx *x, const char *cmd, const char *resp)
{
	assert_int_equal(cs_fake_expect_hex(x->f, cmd, resp), CS_OK);
}

static void
assert_fake_ok(struct fx *x)
{
	if (!cs_fake_ok(x->f))
		fail_msg("fake transport: %s", cs_fake_error(x->f));
}

static const char *
logtext(struct fx *x)
{
	return x->log.buf != NULL ? x->log.buf : "";
}

static void
assert_log_has(struct fx *x, const char *s)
{
	if (strstr(logtext(x), s) == NULL)
		fail_msg("log lacks \"%s\":\n%s", s, logtext(x));
}

static void
assert_log_lacks(struct fx *x, const char *s)
{
	if (strstr(logtext(x), s) != NULL)
		fail_msg("log has \"%s\":\n%s", s, logtext(x));
}

static void
assert_buf_hex(const struct cs_buf *b, const char *hex)
{
	uint8_t *want;
	size_t n;

	want = cs_fake_hex(hex, &n);
	assert_non_null(want);
	assert_int_equal(b->len, n);
	if (n > 0)
		assert_memory_equal(b->data, want, n);
	free(want);
}

static uint8_t *
pattern(size_t n, uint8_t seed)
{
	uint8_t *p = malloc(n > 0 ? n : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

/* ---------------------------------------------------------------- encode */

static void
encode_hex(const struct cs_apdu *a, unsigned int flags, const char *hex)
{
	struct cs_buf b = CS_BUF_INIT(70000);

	assert_int_equal(cs_apdu_encode(a, flags, &b), CS_OK);
	assert_buf_hex(&b, hex);
	cs_buf_release(&b);
}

static void
test_apdu_encode_case1(void **state)
{
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, NULL, 0, 0 };

	(void)state;
	encode_hex(&a, 0, "00 A4 04 00");
	/* case 1 has no extended form */
	encode_hex(&a, CS_APDU_EXTENDED, "00 A4 04 00");
}

static void
test_apdu_encode_case2(void **state)
{
	struct cs_apdu a = { 0x00, 0xFD, 0x00, 0x00, NULL, 0, 1 };

	(void)state;
	encode_hex(&a, 0, "00 FD 00 00 01");
	a.le = 255;
	encode_hex(&a, 0, "00 FD 00 00 FF");
	a.le = 256;
	encode_hex(&a, 0, "00 FD 00 00 00");
	a.le = 257;
	encode_hex(&a, 0, "00 FD 00 00 00 01 01");
	a.le = 65535;
	encode_hex(&a, 0, "00 FD 00 00 00 FF FF");
	a.le = 65536;
	encode_hex(&a, 0, "00 FD 00 00 00 00 00");
	a.le = 256;
	encode_hex(&a, CS_APDU_EXTENDED, "00 FD 00 00 00 01 00");
	a.le = 1;
	encode_hex(&a, CS_APDU_EXTENDED, "00 FD 00 00 00 00 01");
}

static void
test_apdu_encode_case3(void **state)
{
	const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, aid, sizeof(aid), 0 };

	(void)state;
	encode_hex(&a, 0, "00 A4 04 00 05 A0 00 00 03 08");
	encode_hex(&a, CS_APDU_EXTENDED,
	    "00 A4 04 00 00 00 05 A0 00 00 03 08");
}

static void
test_apdu_encode_case3_boundary(void **state)
{
	struct cs_buf b = CS_BUF_INIT(70000);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, NULL, 255, 0 };
	uint8_t *d = pattern(65535, 1);

	(void)state;
	a.data = d;
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_OK);
	assert_int_equal(b.len, 5 + 255);
	assert_int_equal(b.data[4], 0xFF);
	assert_memory_equal(b.data + 5, d, 255);

	cs_buf_reset(&b);
	a.lc = 256;
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_OK);
	assert_int_equal(b.len, 7 + 256);
	assert_int_equal(b.data[4], 0x00);
	assert_int_equal(b.data[5], 0x01);
	assert_int_equal(b.data[6], 0x00);
	assert_memory_equal(b.data + 7, d, 256);

	cs_buf_reset(&b);
	a.lc = 65535;
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_OK);
	assert_int_equal(b.len, 7 + 65535);
	assert_int_equal(b.data[5], 0xFF);
	assert_int_equal(b.data[6], 0xFF);
	cs_buf_release(&b);
	free(d);
}

static void
test_apdu_encode_case4(void **state)
{
	const uint8_t d[] = { 0x5C, 0x01, 0x7E };
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, d, sizeof(d), 256 };

	(void)state;
	encode_hex(&a, 0, "00 CB 3F FF 03 5C 01 7E 00");
	a.le = 8;
	encode_hex(&a, 0, "00 CB 3F FF 03 5C 01 7E 08");
	a.le = 257;
	encode_hex(&a, 0, "00 CB 3F FF 00 00 03 5C 01 7E 01 01");
	a.le = 65536;
	encode_hex(&a, 0, "00 CB 3F FF 00 00 03 5C 01 7E 00 00");
	a.le = 256;
	encode_hex(&a, CS_APDU_EXTENDED, "00 CB 3F FF 00 00 03 5C 01 7E 01 00");
}

static void
test_apdu_encode_case4_long_data(void **state)
{
	struct cs_buf b = CS_BUF_INIT(70000);
	uint8_t *d = pattern(256, 3);
	struct cs_apdu a = { 0x00, 0x87, 0x07, 0x9A, d, 256, 256 };

	(void)state;
	/* lc 256 forces the extended form for Le too */
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_OK);
	assert_int_equal(b.len, 4 + 3 + 256 + 2);
	assert_int_equal(b.data[4 + 3 + 256], 0x01);
	assert_int_equal(b.data[4 + 3 + 257], 0x00);
	cs_buf_release(&b);
	free(d);
}

static void
test_apdu_encode_rejects_bad_args(void **state)
{
	struct cs_buf b = CS_BUF_INIT(70000);
	uint8_t *d = pattern(65536, 0);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 65536, 0 };

	(void)state;
	assert_int_equal(cs_buf_put_u8(&b, 0xEE), CS_OK);
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_ERR_ARG);
	a.lc = 1;
	a.le = 65537;
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_ERR_ARG);
	a.le = 0;
	a.data = NULL;
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_ERR_ARG);
	assert_int_equal(cs_apdu_encode(NULL, 0, &b), CS_ERR_ARG);
	/* nothing appended on failure */
	assert_buf_hex(&b, "EE");
	cs_buf_release(&b);
	free(d);
}

static void
test_apdu_encode_appends_and_respects_max(void **state)
{
	const uint8_t d[] = { 1, 2, 3 };
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, sizeof(d), 0 };
	struct cs_buf b = CS_BUF_INIT(8);

	(void)state;
	assert_int_equal(cs_buf_put_u8(&b, 0xEE), CS_OK);
	/* 8 bytes would be needed after the existing one */
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_ERR_LIMIT);
	assert_buf_hex(&b, "EE");
	a.lc = 2;
	assert_int_equal(cs_apdu_encode(&a, 0, &b), CS_OK);
	assert_buf_hex(&b, "EE 00 DB 3F FF 02 01 02");
	cs_buf_release(&b);
}

/* ----------------------------------------------------------------- parse */

static void
test_apdu_parse_resp(void **state)
{
	const uint8_t r[] = { 0x01, 0x02, 0x03, 0x90, 0x00 };
	struct cs_cur d;
	uint16_t sw = 1;

	(void)state;
	assert_int_equal(cs_apdu_parse_resp(r, 0, &d, &sw), CS_ERR_TRUNCATED);
	assert_int_equal(sw, 0);
	assert_int_equal(cs_cur_len(&d), 0);
	assert_int_equal(cs_apdu_parse_resp(NULL, 0, &d, &sw),
	    CS_ERR_TRUNCATED);
	assert_int_equal(cs_apdu_parse_resp(r + 4, 1, &d, &sw),
	    CS_ERR_TRUNCATED);
	assert_int_equal(cs_apdu_parse_resp(r + 3, 2, &d, &sw), CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cs_cur_len(&d), 0);
	assert_int_equal(cs_apdu_parse_resp(r, sizeof(r), &d, &sw), CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_true(cs_cur_eq(&d, r, 3));
}

/* -------------------------------------------------------------- transmit */

static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };

static void
test_apdu_transmit_simple(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, piv_aid, 5, 0 };
	uint16_t sw = 0;

	script(x, "00 A4 04 00 05 A0 00 00 03 08", "61 03 4F 01 AA 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(cs_ctx_last_sw(x->ctx), 0x9000);
	/* data starting with 61 is data, not a 61xx status */
	assert_buf_hex(&x->resp, "61 03 4F 01 AA");
	assert_fake_ok(x);
}

static void
test_apdu_transmit_resets_resp(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xFD, 0x00, 0x00, NULL, 0, 256 };
	uint16_t sw = 0;

	assert_int_equal(cs_buf_put(&x->resp, "junk", 4), CS_OK);
	script(x, "00 FD 00 00 00", "05 04 03 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_buf_hex(&x->resp, "05 04 03");
	assert_fake_ok(x);
}

static void
test_apdu_transmit_error_sw_is_ok(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 0 };
	const uint8_t d[] = { 0x5C, 0x01, 0x7E };
	uint16_t sw = 0;

	a.data = d;
	a.lc = sizeof(d);
	script(x, "00 CB 3F FF 03 5C 01 7E", "6A 82");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x6A82);
	assert_int_equal(x->resp.len, 0);
	assert_fake_ok(x);
}

/* Expect piece: cla ins p1 p2 lc data[0..lc) [le] -> "90 00". */
static void
expect_piece(struct fx *x, uint8_t cla, const uint8_t *d, size_t lc,
    int le, const char *resp)
{
	uint8_t cmd[4 + 1 + 255 + 1];
	size_t n = 0;
	uint8_t *r;
	size_t rlen;

	cmd[n++] = cla;
	cmd[n++] = 0xDB;
	cmd[n++] = 0x3F;
	cmd[n++] = 0xFF;
	cmd[n++] = (uint8_t)lc;
	memcpy(cmd + n, d, lc);
	n += lc;
	if (le >= 0)
		cmd[n++] = (uint8_t)le;
	r = cs_fake_hex(resp, &rlen);
	assert_non_null(r);
	assert_int_equal(cs_fake_expect(x->f, cmd, n, r, rlen), CS_OK);
	free(r);
}

static void
test_apdu_transmit_command_chaining(void **state)
{
	struct fx *x = *state;
	uint8_t *d = pattern(600, 9);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 600, 0 };
	const uint8_t *p;
	size_t n;
	uint16_t sw = 0;

	expect_piece(x, 0x10, d, 255, -1, "90 00");
	expect_piece(x, 0x10, d + 255, 255, -1, "90 00");
	expect_piece(x, 0x00, d + 510, 90, -1, "90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_fake_ok(x);
	assert_int_equal(cs_fake_ncmds(x->f), 3);
	/* the exact bytes seen, piece by piece */
	assert_true(cs_fake_cmd(x->f, 0, &p, &n));
	assert_int_equal(n, 5 + 255);
	assert_int_equal(p[0], 0x10);
	assert_int_equal(p[4], 255);
	assert_memory_equal(p + 5, d, 255);
	assert_true(cs_fake_cmd(x->f, 1, &p, &n));
	assert_int_equal(n, 5 + 255);
	assert_int_equal(p[0], 0x10);
	assert_int_equal(p[4], 255);
	assert_memory_equal(p + 5, d + 255, 255);
	assert_true(cs_fake_cmd(x->f, 2, &p, &n));
	assert_int_equal(n, 5 + 90);
	assert_int_equal(p[0], 0x00);
	assert_int_equal(p[4], 90);
	assert_memory_equal(p + 5, d + 510, 90);
	free(d);
}

static void
test_apdu_transmit_chaining_le_on_last_piece(void **state)
{
	struct fx *x = *state;
	uint8_t *d = pattern(300, 1);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 300, 256 };
	uint16_t sw = 0;

	expect_piece(x, 0x10, d, 255, -1, "90 00");
	expect_piece(x, 0x00, d + 255, 45, 0x00, "AB 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_buf_hex(&x->resp, "AB");
	assert_fake_ok(x);
	free(d);
}

static void
test_apdu_transmit_chaining_exact_multiple(void **state)
{
	struct fx *x = *state;
	uint8_t *d = pattern(510, 4);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 510, 0 };
	uint16_t sw = 0;

	/* 510 = 2 x 255: two pieces, no empty third one */
	expect_piece(x, 0x10, d, 255, -1, "90 00");
	expect_piece(x, 0x00, d + 255, 255, -1, "90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(cs_fake_ncmds(x->f), 2);
	assert_fake_ok(x);
	free(d);
}

static void
test_apdu_transmit_chaining_stops_on_error(void **state)
{
	struct fx *x = *state;
	uint8_t *d = pattern(600, 2);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 600, 0 };
	uint16_t sw = 0;

	expect_piece(x, 0x10, d, 255, -1, "90 00");
	expect_piece(x, 0x10, d + 255, 255, -1, "6A 84");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x6A84);
	assert_int_equal(cs_fake_ncmds(x->f), 2);
	assert_fake_ok(x);
	free(d);
}

static void
test_apdu_transmit_extended_no_chaining(void **state)
{
	struct fx *x = *state;
	uint8_t *d = pattern(600, 5);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 600, 0 };
	const uint8_t *p;
	size_t n;
	uint16_t sw = 0;

	script(x, NULL, "90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, CS_APDU_EXTENDED,
	    &x->resp, &sw), CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_fake_ok(x);
	assert_int_equal(cs_fake_ncmds(x->f), 1);
	assert_true(cs_fake_cmd(x->f, 0, &p, &n));
	assert_int_equal(n, 7 + 600);
	assert_memory_equal(p, "\x00\xDB\x3F\xFF\x00\x02\x58", 7);
	assert_memory_equal(p + 7, d, 600);
	free(d);
}

/* Response of n pattern bytes followed by sw, as a step answering cmd. */
static void
expect_block(struct fx *x, const char *cmd, size_t n, uint8_t seed,
    uint16_t sw)
{
	uint8_t *c, *r = pattern(n + 2, seed);
	size_t clen;

	r[n] = (uint8_t)(sw >> 8);
	r[n + 1] = (uint8_t)sw;
	c = cs_fake_hex(cmd, &clen);
	assert_non_null(c);
	assert_int_equal(cs_fake_expect(x->f, c, clen, r, n + 2), CS_OK);
	free(c);
	free(r);
}

static void
test_apdu_transmit_response_chaining(void **state)
{
	struct fx *x = *state;
	const uint8_t d[] = { 0x5C, 0x03, 0x5F, 0xC1, 0x05 };
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, d, sizeof(d), 256 };
	uint8_t *want;
	uint16_t sw = 0;

	expect_block(x, "00 CB 3F FF 05 5C 03 5F C1 05 00", 256, 1, 0x6100);
	expect_block(x, "00 C0 00 00 00", 256, 2, 0x6100);
	expect_block(x, "00 C0 00 00 00", 256, 3, 0x6110);
	expect_block(x, "00 C0 00 00 10", 16, 4, 0x9000);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_fake_ok(x);
	assert_int_equal(x->resp.len, 3 * 256 + 16);
	want = pattern(256, 1);
	assert_memory_equal(x->resp.data, want, 256);
	free(want);
	want = pattern(256, 2);
	assert_memory_equal(x->resp.data + 256, want, 256);
	free(want);
	want = pattern(256, 3);
	assert_memory_equal(x->resp.data + 512, want, 256);
	free(want);
	want = pattern(16, 4);
	assert_memory_equal(x->resp.data + 768, want, 16);
	free(want);
}

static void
test_apdu_transmit_response_chaining_error_sw(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xF9, 0x9A, 0x00, NULL, 0, 0 };
	uint16_t sw = 0;

	expect_block(x, "00 F9 9A 00", 256, 1, 0x6100);
	script(x, "00 C0 00 00 00", "6F 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x6F00);
	assert_fake_ok(x);
}

static void
test_apdu_transmit_response_over_max(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 256 };
	struct cs_buf small = CS_BUF_INIT(300);
	uint16_t sw = 0;

	expect_block(x, "00 CB 3F FF 00", 256, 1, 0x6100);
	expect_block(x, "00 C0 00 00 00", 256, 2, 0x6100);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &small, &sw),
	    CS_ERR_LIMIT);
	assert_int_equal(sw, 0);
	assert_int_equal(small.len, 0);
	assert_non_null(strstr(cs_ctx_errmsg(x->ctx), "longer than 300"));
	assert_fake_ok(x);
	cs_buf_release(&small);
}

static void
test_apdu_transmit_response_over_resp_max(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 256 };
	struct cs_buf big = CS_BUF_INIT(2 * CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	size_t i;

	/* 256 blocks of 256 bytes fill CS_APDU_RESP_MAX; one more is over */
	expect_block(x, "00 CB 3F FF 00", 256, 0, 0x6100);
	for (i = 1; i < 256; i++)
		expect_block(x, "00 C0 00 00 00", 256, (uint8_t)i, 0x6100);
	expect_block(x, "00 C0 00 00 00", 1, 0, 0x9000);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &big, &sw),
	    CS_ERR_LIMIT);
	assert_int_equal(big.len, 0);
	assert_int_equal(cs_ctx_errcode(x->ctx), CS_ERR_LIMIT);
	assert_fake_ok(x);
	cs_buf_release(&big);
}

static void
test_apdu_transmit_endless_61xx(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 256 };
	uint16_t sw = 0;
	size_t i;

	script(x, "00 CB 3F FF 00", "61 00");
	for (i = 0; i < CS_APDU_GET_RESPONSE_MAX; i++)
		script(x, "00 C0 00 00 00", "61 00");
	/* a further GET RESPONSE would be "after the end of the script" */
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_LIMIT);
	assert_non_null(strstr(cs_ctx_errmsg(x->ctx), "GET RESPONSE"));
	assert_int_equal(cs_fake_ncmds(x->f), 1 + CS_APDU_GET_RESPONSE_MAX);
	assert_fake_ok(x);
}

static void
test_apdu_transmit_no_get_response(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 8 };
	uint16_t sw = 0;

	script(x, "00 CB 3F FF 08", "53 82 01 00 01 02 03 04 61 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a,
	    CS_APDU_NO_GET_RESPONSE, &x->resp, &sw), CS_OK);
	assert_int_equal(sw, 0x6100);
	assert_buf_hex(&x->resp, "53 82 01 00 01 02 03 04");
	assert_fake_ok(x);
}

static void
test_apdu_transmit_6cxx_reissue(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xB0, 0x00, 0x00, NULL, 0, 256 };
	uint16_t sw = 0;

	script(x, "00 B0 00 00 00", "6C 04");
	script(x, "00 B0 00 00 04", "01 02 03 04 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_buf_hex(&x->resp, "01 02 03 04");
	assert_fake_ok(x);
}

static void
test_apdu_transmit_6cxx_adds_le(void **state)
{
	struct fx *x = *state;
	const uint8_t d[] = { 0x5C, 0x01, 0x7E };
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, d, sizeof(d), 0 };
	uint16_t sw = 0;

	/* case 3 becomes case 4; 6C00 means 256 */
	script(x, "00 CB 3F FF 03 5C 01 7E", "6C 00");
	script(x, "00 CB 3F FF 03 5C 01 7E 00", "7E 00 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_buf_hex(&x->resp, "7E 00");
	assert_fake_ok(x);
}

static void
test_apdu_transmit_6cxx_only_once(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xB0, 0x00, 0x00, NULL, 0, 256 };
	uint16_t sw = 0;

	script(x, "00 B0 00 00 00", "6C 04");
	script(x, "00 B0 00 00 04", "6C 08");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x6C08);
	assert_int_equal(cs_fake_ncmds(x->f), 2);
	assert_fake_ok(x);
}

static void
test_apdu_transmit_6cxx_then_61xx(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xB0, 0x00, 0x00, NULL, 0, 1 };
	uint16_t sw = 0;

	script(x, "00 B0 00 00 01", "6C 03");
	script(x, "00 B0 00 00 03", "01 02 61 01");
	script(x, "00 C0 00 00 01", "03 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x9000);
	assert_buf_hex(&x->resp, "01 02 03");
	assert_fake_ok(x);
}

static void
test_apdu_transmit_transport_error(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, piv_aid, 5, 0 };
	uint16_t sw = 0x1234;

	assert_int_equal(cs_fake_expect_err(x->f,
	    "00 A4 04 00 05 A0 00 00 03 08", CS_ERR_TRANSPORT), CS_OK);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_TRANSPORT);
	assert_int_equal(sw, 0);
	assert_int_equal(x->resp.len, 0);
	assert_int_equal(cs_ctx_errcode(x->ctx), CS_ERR_TRANSPORT);
	assert_non_null(strstr(cs_ctx_errmsg(x->ctx), "APDU 00 A4"));
	assert_non_null(strstr(cs_ctx_errmsg(x->ctx), "injected"));
	assert_fake_ok(x);
}

static void
test_apdu_transmit_card_removed_mid_chain(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 256 };
	uint16_t sw = 0;

	expect_block(x, "00 CB 3F FF 00", 256, 1, 0x6100);
	cs_fake_remove_at(x->f, 1);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_REMOVED);
	assert_int_equal(x->resp.len, 0);
	assert_int_equal(cs_fake_ncmds(x->f), 2);
	assert_true(cs_fake_cmd_is(x->f, 1, "00 C0 00 00 00"));
	assert_fake_ok(x);
}

static void
test_apdu_transmit_card_removed_in_command_chain(void **state)
{
	struct fx *x = *state;
	uint8_t *d = pattern(600, 2);
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, 600, 0 };
	uint16_t sw = 0;

	expect_piece(x, 0x10, d, 255, -1, "90 00");
	cs_fake_remove_at(x->f, 1);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_REMOVED);
	assert_fake_ok(x);
	free(d);
}

static void
test_apdu_transmit_short_response(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xFD, 0x00, 0x00, NULL, 0, 256 };
	uint16_t sw = 0;

	script(x, "00 FD 00 00 00", "90");
	script(x, "00 FD 00 00 00", "");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_TRUNCATED);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_TRUNCATED);
	assert_int_equal(sw, 0);
	assert_fake_ok(x);
}

static void
test_apdu_transmit_rejects_bad_args(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, NULL, 3, 0 };
	uint16_t sw = 0;

	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_ARG);
	a.lc = 0;
	a.le = 65537;
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_ARG);
	assert_int_equal(cs_fake_ncmds(x->f), 0);
}

static void
test_apdu_fake_flags_unexpected_command(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, piv_aid, 5, 0 };
	uint16_t sw = 0;

	script(x, "00 A4 04 00 05 A0 00 00 03 09", "90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_ERR_INTERNAL);
	assert_false(cs_fake_ok(x->f));
	assert_int_equal(cs_fake_unconsumed(x->f), 1);
	assert_non_null(strstr(cs_fake_error(x->f), "expected"));
}

/* ------------------------------------------------------------ SW mapping */

struct sw_case {
	uint16_t sw;
	enum cs_err err;
	int tries;
	const char *msg;
};

static const struct sw_case sw_cases[] = {
	{ 0x63C3, CS_ERR_AUTH, 3,
	    "VERIFY PIN: verification failed, 3 tries left" },
	{ 0x63C2, CS_ERR_AUTH, 2,
	    "VERIFY PIN: verification failed, 2 tries left" },
	{ 0x63C1, CS_ERR_AUTH, 1,
	    "VERIFY PIN: verification failed, 1 try left" },
	{ 0x63C0, CS_ERR_BLOCKED, 0,
	    "VERIFY PIN: verification failed, 0 tries left, blocked" },
	{ 0x6983, CS_ERR_BLOCKED, 0,
	    "VERIFY PIN: blocked (authentication method blocked, 6983)" },
	{ 0x6982, CS_ERR_ACCESS, -1,
	    "VERIFY PIN: security status not satisfied (6982)" },
	{ 0x6A82, CS_ERR_NOT_FOUND, -1,
	    "VERIFY PIN: data object or application not found (6A82)" },
	{ 0x6A88, CS_ERR_NOT_FOUND, -1,
	    "VERIFY PIN: referenced data not found (6A88)" },
	{ 0x6D00, CS_ERR_UNSUPPORTED, -1,
	    "VERIFY PIN: instruction not supported (6D00)" },
	{ 0x6E00, CS_ERR_UNSUPPORTED, -1,
	    "VERIFY PIN: class not supported (6E00)" },
	{ 0x6A80, CS_ERR_SW, -1, "VERIFY PIN: incorrect data (6A80)" },
	{ 0x6700, CS_ERR_SW, -1, "VERIFY PIN: wrong length (6700)" },
	{ 0x6985, CS_ERR_SW, -1,
	    "VERIFY PIN: conditions of use not satisfied (6985)" },
	{ 0x6F00, CS_ERR_SW, -1, "VERIFY PIN: no precise diagnosis (6F00)" },
	{ 0x6789, CS_ERR_SW, -1, "VERIFY PIN: unknown status word (6789)" },
	{ 0x6110, CS_ERR_SW, -1,
	    "VERIFY PIN: more response data available (6110)" },
};

static void
test_apdu_map_sw_table(void **state)
{
	struct fx *x = *state;
	size_t i;
	int tries;

	for (i = 0; i < sizeof(sw_cases) / sizeof(sw_cases[0]); i++) {
		const struct sw_case *c = &sw_cases[i];

		cs_ctx_clear_error(x->ctx);
		tries = 99;
		assert_int_equal(cs_apdu_map_sw(x->ctx, c->sw, "VERIFY PIN",
		    &tries), c->err);
		assert_int_equal(tries, c->tries);
		assert_int_equal(cs_ctx_errcode(x->ctx), c->err);
		assert_string_equal(cs_ctx_errmsg(x->ctx), c->msg);
		assert_int_equal(cs_ctx_last_sw(x->ctx), c->sw);
		assert_int_equal(cs_ctx_tries_left(x->ctx), c->tries);
		tries = 99;
		assert_int_equal(cs_apdu_sw_err(c->sw, &tries), c->err);
		assert_int_equal(tries, c->tries);
		assert_int_equal(cs_apdu_sw_err(c->sw, NULL), c->err);
	}
}

static void
test_apdu_map_sw_ok(void **state)
{
	struct fx *x = *state;
	int tries = 99;

	cs_ctx_clear_error(x->ctx);
	assert_int_equal(cs_apdu_map_sw(x->ctx, 0x9000, "SELECT", &tries),
	    CS_OK);
	assert_int_equal(tries, -1);
	assert_int_equal(cs_ctx_errcode(x->ctx), CS_OK);
	assert_string_equal(cs_ctx_errmsg(x->ctx), "");
	assert_int_equal(cs_ctx_last_sw(x->ctx), 0x9000);
	assert_int_equal(cs_apdu_map_sw(x->ctx, 0x9000, NULL, NULL), CS_OK);
	/* no context at all */
	assert_int_equal(cs_apdu_map_sw(NULL, 0x63C2, "PIN", &tries),
	    CS_ERR_AUTH);
	assert_int_equal(tries, 2);
}

static void
test_apdu_sw_str(void **state)
{
	(void)state;
	assert_string_equal(cs_apdu_sw_str(0x9000), "success");
	assert_string_equal(cs_apdu_sw_str(0x6982),
	    "security status not satisfied");
	assert_string_equal(cs_apdu_sw_str(0x63C5), "verification failed");
	assert_string_equal(cs_apdu_sw_str(0x6C10), "wrong Le");
	assert_string_equal(cs_apdu_sw_str(0x6A86),
	    "incorrect parameters P1-P2");
	assert_string_equal(cs_apdu_sw_str(0x1234), "unknown status word");
}

/* ----------------------------------------------------------------- trace */

static void
test_apdu_trace_verify_redacted(void **state)
{
	struct fx *x = *state;
	const uint8_t pin[] = { '1', '2', '3', '4', '5', '6', 0xFF, 0xFF };
	struct cs_apdu a = { 0x00, 0x20, 0x00, 0x80, pin, sizeof(pin), 0 };
	uint16_t sw = 0;

	script(x, "00 20 00 80 08 31 32 33 34 35 36 FF FF", "63 C2");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_int_equal(sw, 0x63C2);
	assert_int_equal(cs_apdu_map_sw(x->ctx, sw, "VERIFY PIN", NULL),
	    CS_ERR_AUTH);
	assert_fake_ok(x);
	assert_log_has(x, "> 00 20 00 80 08 [redacted 8 bytes]\n");
	assert_log_has(x, "< (sw 63C2)\n");
	assert_log_lacks(x, "31 32 33");
	assert_log_lacks(x, "31");
	assert_log_lacks(x, "FF FF");
	assert_null(strstr(cs_ctx_errmsg(x->ctx), "31"));
}

static void
test_apdu_trace_mgmkey_redacted(void **state)
{
	struct fx *x = *state;
	const uint8_t d[] = { 0x7C, 0x02, 0x80, 0x00 };
	struct cs_apdu a = { 0x00, 0x87, 0x03, 0x9B, d, sizeof(d), 0 };
	uint16_t sw = 0;

	script(x, "00 87 03 9B 04 7C 02 80 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_buf_hex(&x->resp, "7C 0A 80 08 19 9F A3 74 70 5A 69 EB");
	assert_log_has(x, "> 00 87 03 9B 04 [redacted 4 bytes]\n");
	assert_log_has(x, "< [redacted 12 bytes] (sw 9000)\n");
	assert_log_lacks(x, "19 9F");
	assert_log_lacks(x, "7C");
}

static void
test_apdu_trace_mgmkey_chain_redacted(void **state)
{
	struct fx *x = *state;
	const uint8_t d[] = { 0x7C, 0x02, 0x80, 0x00 };
	struct cs_apdu a = { 0x00, 0x87, 0x03, 0x9B, d, sizeof(d), 0 };
	uint16_t sw = 0;

	/* pieces fetched by GET RESPONSE stay redacted */
	script(x, "00 87 03 9B 04 7C 02 80 00", "7C 0A 61 0A");
	script(x, "00 C0 00 00 0A", "80 08 19 9F A3 74 70 5A 69 EB 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_log_has(x, "< [redacted 2 bytes] (sw 610A)\n");
	assert_log_has(x, "> 00 C0 00 00 0A\n");
	assert_log_has(x, "< [redacted 10 bytes] (sw 9000)\n");
	assert_log_lacks(x, "19 9F");
}

static void
test_apdu_trace_secret_ins_redacted(void **state)
{
	struct fx *x = *state;
	const uint8_t ins[] = { 0x24, 0x2C, 0xFF, 0xFE };
	const uint8_t d[] = { 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42 };
	struct cs_apdu a = { 0x00, 0, 0x00, 0x80, d, sizeof(d), 0 };
	char want[64];
	uint16_t sw = 0;
	size_t i;

	for (i = 0; i < sizeof(ins); i++) {
		script(x, NULL, "90 00");
		a.ins = ins[i];
		assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0,
		    &x->resp, &sw), CS_OK);
		snprintf(want, sizeof(want),
		    "> 00 %02X 00 80 08 [redacted 8 bytes]\n", ins[i]);
		assert_log_has(x, want);
	}
	assert_fake_ok(x);
	assert_log_lacks(x, "42");
}

static void
test_apdu_trace_chained_import_redacted(void **state)
{
	struct fx *x = *state;
	uint8_t *d = malloc(600);
	struct cs_apdu a = { 0x00, 0xFE, 0x11, 0x9A, NULL, 600, 0 };
	uint16_t sw = 0;

	assert_non_null(d);
	memset(d, 0x5A, 600);
	a.data = d;
	script(x, NULL, "90 00");
	script(x, NULL, "90 00");
	script(x, NULL, "90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_log_has(x, "> 10 FE 11 9A FF [redacted 255 bytes]\n");
	assert_log_has(x, "> 00 FE 11 9A 5A [redacted 90 bytes]\n");
	assert_log_lacks(x, "5A 5A");
	free(d);
}

static void
test_apdu_trace_flags_redact(void **state)
{
	struct fx *x = *state;
	const uint8_t d[] = { 0x11, 0x22, 0x33 };
	struct cs_apdu a = { 0x00, 0xDB, 0x3F, 0xFF, d, sizeof(d), 0 };
	struct cs_buf sec = CS_BUF_INIT_SECRET(1024);
	uint16_t sw = 0;

	script(x, "00 DB 3F FF 03 11 22 33", "44 55 90 00");
	script(x, "00 DB 3F FF 03 11 22 33", "66 77 90 00");
	script(x, "00 DB 3F FF 03 11 22 33", "88 99 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a,
	    CS_APDU_SECRET_CMD, &x->resp, &sw), CS_OK);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a,
	    CS_APDU_SECRET_RESP, &x->resp, &sw), CS_OK);
	/* a secret buffer redacts the response as well */
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &sec, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_log_has(x, "> 00 DB 3F FF 03 [redacted 3 bytes]\n");
	assert_log_has(x, "< 44 55 (sw 9000)\n");
	assert_log_has(x, "> 00 DB 3F FF 03 11 22 33\n");
	assert_log_has(x, "< [redacted 2 bytes] (sw 9000)\n");
	assert_log_lacks(x, "66 77");
	assert_log_lacks(x, "88 99");
	cs_buf_release(&sec);
}

static void
test_apdu_trace_select_in_full(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, piv_aid, 5, 0 };
	uint16_t sw = 0;

	script(x, "00 A4 04 00 05 A0 00 00 03 08",
	    "61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_string_equal(logtext(x),
	    "> 00 A4 04 00 05 A0 00 00 03 08\n"
	    "< 61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 "
	    "(sw 9000)\n");
	assert_int_equal(x->log.nlines, 2);
}

static void
test_apdu_trace_sign_not_redacted(void **state)
{
	struct fx *x = *state;
	const uint8_t d[] = { 0x7C, 0x04, 0x82, 0x00, 0x81, 0x00 };
	struct cs_apdu a = { 0x00, 0x87, 0x11, 0x9A, d, sizeof(d), 0 };
	uint16_t sw = 0;

	script(x, "00 87 11 9A 06 7C 04 82 00 81 00", "7C 02 82 00 90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_log_has(x, "> 00 87 11 9A 06 7C 04 82 00 81 00\n");
	assert_log_has(x, "< 7C 02 82 00 (sw 9000)\n");
}

static void
test_apdu_trace_long_lines_cut(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xCB, 0x3F, 0xFF, NULL, 0, 256 };
	uint16_t sw = 0;
	const char *nl;
	char *line2;

	expect_block(x, "00 CB 3F FF 00", 200, 0, 0x9000);
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_log_has(x, " ... (200 bytes) (sw 9000)\n");
	nl = strchr(logtext(x), '\n');
	assert_non_null(nl);
	line2 = strdup(nl + 1);
	assert_non_null(line2);
	/* "<" + 64 x " XX" + suffix */
	assert_true(strlen(line2) < 1 + 64 * 3 + 40);
	free(line2);
}

static void
test_apdu_trace_silent_below_apdu_level(void **state)
{
	struct fx *x = *state;
	struct cs_apdu a = { 0x00, 0xA4, 0x04, 0x00, piv_aid, 5, 0 };
	uint16_t sw = 0;

	cs_ctx_set_log(x->ctx, CS_LOG_DEBUG, log_cb, &x->log);
	script(x, "00 A4 04 00 05 A0 00 00 03 08", "90 00");
	assert_int_equal(cs_apdu_transmit(x->ctx, x->t, &a, 0, &x->resp, &sw),
	    CS_OK);
	assert_fake_ok(x);
	assert_int_equal(x->log.nlines, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* Review finding: a retry count must not outlive the failure it came with. */
static void
test_apdu_tries_left_not_stale(void **state)
{
	struct cs_ctx *ctx;
	struct cs_fake *f;
	struct cs_transport *t;
	struct cs_apdu a = { 0, 0xCB, 0x3F, 0xFF, NULL, 0, 256 };
	struct cs_buf resp = CS_BUF_INIT(4096);
	uint16_t sw;

	(void)state;
	assert_int_equal(cs_ctx_new(&ctx), CS_OK);
	assert_int_equal(cs_apdu_map_sw(ctx, 0x63C2, "PIN", NULL), CS_ERR_AUTH);
	assert_int_equal(cs_ctx_tries_left(ctx), 2);
	assert_int_equal(cs_fake_new(&f, &t), CS_OK);
	assert_int_equal(cs_fake_expect_hex(f, "*", "5C 9000"), CS_OK);
	assert_int_equal(cs_apdu_transmit(ctx, t, &a, 0, &resp, &sw), CS_OK);
	a.lc = 1; /* lc > 0 with no data: CS_ERR_ARG, no status word involved */
	assert_int_equal(cs_apdu_transmit(ctx, t, &a, 0, &resp, &sw),
	    CS_ERR_ARG);
	assert_int_equal(cs_ctx_tries_left(ctx), -1);
	cs_buf_release(&resp);
	cs_fake_free(f);
	cs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_apdu_encode_case1),
		T(test_apdu_encode_case2),
		T(test_apdu_encode_case3),
		T(test_apdu_encode_case3_boundary),
		T(test_apdu_encode_case4),
		T(test_apdu_encode_case4_long_data),
		T(test_apdu_encode_rejects_bad_args),
		T(test_apdu_encode_appends_and_respects_max),
		T(test_apdu_parse_resp),
		T(test_apdu_transmit_simple),
		T(test_apdu_transmit_resets_resp),
		T(test_apdu_transmit_error_sw_is_ok),
		T(test_apdu_transmit_command_chaining),
		T(test_apdu_transmit_chaining_le_on_last_piece),
		T(test_apdu_transmit_chaining_exact_multiple),
		T(test_apdu_transmit_chaining_stops_on_error),
		T(test_apdu_transmit_extended_no_chaining),
		T(test_apdu_transmit_response_chaining),
		T(test_apdu_transmit_response_chaining_error_sw),
		T(test_apdu_transmit_response_over_max),
		T(test_apdu_transmit_response_over_resp_max),
		T(test_apdu_transmit_endless_61xx),
		T(test_apdu_transmit_no_get_response),
		T(test_apdu_transmit_6cxx_reissue),
		T(test_apdu_transmit_6cxx_adds_le),
		T(test_apdu_transmit_6cxx_only_once),
		T(test_apdu_transmit_6cxx_then_61xx),
		T(test_apdu_transmit_transport_error),
		T(test_apdu_transmit_card_removed_mid_chain),
		T(test_apdu_transmit_card_removed_in_command_chain),
		T(test_apdu_transmit_short_response),
		T(test_apdu_transmit_rejects_bad_args),
		T(test_apdu_fake_flags_unexpected_command),
		T(test_apdu_map_sw_table),
		T(test_apdu_tries_left_not_stale),
		T(test_apdu_map_sw_ok),
		T(test_apdu_sw_str),
		T(test_apdu_trace_verify_redacted),
		T(test_apdu_trace_mgmkey_redacted),
		T(test_apdu_trace_mgmkey_chain_redacted),
		T(test_apdu_trace_secret_ins_redacted),
		T(test_apdu_trace_chained_import_redacted),
		T(test_apdu_trace_flags_redact),
		T(test_apdu_trace_select_in_full),
		T(test_apdu_trace_sign_not_redacted),
		T(test_apdu_trace_long_lines_cut),
		T(test_apdu_trace_silent_below_apdu_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
