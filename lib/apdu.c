/*
 * ISO 7816-4 APDUs: encoding (§5.1), command chaining (§5.1.1, CLA bit
 * 0x10), response chaining (61xx + GET RESPONSE), 6Cxx re-issue, the APDU
 * trace with secrets redacted, and the status word mapping (§5.6).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#include "banned.h"

/* Longest encoded command: header, extended Lc, data, extended Le. */
#define APDU_CMD_MAX (4 + 3 + CS_APDU_DATA_MAX + 2)
/* Bytes shown in one trace line before it is cut short. */
#define TRACE_BYTES_MAX 64
/* Room for TRACE_BYTES_MAX bytes as "XX " plus prefixes and suffixes. */
#define TRACE_LINE_MAX (TRACE_BYTES_MAX * 3 + 96)

#define INS_VERIFY 0x20
#define INS_CHANGE_REF 0x24
#define INS_RESET_RETRY 0x2C
#define INS_GENERAL_AUTH 0x87
#define INS_GET_RESPONSE 0xC0
#define INS_IMPORT_KEY 0xFE
#define INS_SET_MGMKEY 0xFF
#define KEYREF_MGMKEY 0x9B
#define CLA_CHAIN 0x10

#define SW_OK 0x9000
#define SW1(sw) ((uint8_t)((sw) >> 8))
#define SW2(sw) ((uint8_t)((sw)&0xFF))

/* State shared by the exchanges of one cs_apdu_transmit call. */
struct xfer {
	struct cs_ctx *ctx;
	struct cs_transport *t;
	unsigned int flags;
	bool redact_cmd, redact_resp;
	struct cs_buf cmd; /* encoded command of the current exchange */
	uint8_t *raw;      /* raw response, CS_TRANSPORT_RESP_MAX bytes */
};

/* --- encoding --- */

static bool
needs_extended(const struct cs_apdu *a, unsigned int flags)
{
	return (flags & CS_APDU_EXTENDED) != 0 ||
	    a->lc > CS_APDU_SHORT_DATA_MAX || a->le > 256;
}

static enum cs_err
check_apdu(const struct cs_apdu *a)
{
	if (a == NULL || a->lc > CS_APDU_DATA_MAX || a->le > 65536 ||
	    (a->lc > 0 && a->data == NULL))
		return CS_ERR_ARG;
	return CS_OK;
}

/*
 * ISO 7816-4 §5.1 table 1. Cases 2-4 use short fields when Lc <= 255 and
 * Le <= 256, else extended ones; case 1 is the bare header either way.
 * *data_off receives the offset of the command data in out. Nothing is
 * appended on failure.
 */
static enum cs_err
encode(const struct cs_apdu *a, unsigned int flags, struct cs_buf *out,
    size_t *data_off)
{
	uint8_t hdr[4];
	size_t need;
	bool ext;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = check_apdu(a)) != CS_OK || out == NULL)
		return CS_ERR_ARG;
	ext = needs_extended(a, flags);
	need = sizeof(hdr);
	if (a->lc > 0)
		need += (ext ? 3 : 1) + a->lc;
	if (a->le > 0)
		need += ext ? (a->lc > 0 ? 2 : 3) : 1;
	if ((r = cs_buf_reserve(out, need)) != CS_OK)
		return r;
	hdr[0] = a->cla;
	hdr[1] = a->ins;
	hdr[2] = a->p1;
	hdr[3] = a->p2;
	if ((r = cs_buf_put(out, hdr, sizeof(hdr))) != CS_OK)
		return r;
	if (a->lc > 0) {
		if (ext)
			r = cs_buf_put_u8(out, 0x00);
		if (r == CS_OK)
			r = ext ? cs_buf_put_u16(out, (uint16_t)a->lc) :
			    cs_buf_put_u8(out, (uint8_t)a->lc);
		*data_off = out->len;
		if (r == CS_OK)
			r = cs_buf_put(out, a->data, a->lc);
	} else
		*data_off = out->len;
	if (r == CS_OK && a->le > 0) {
		/* 256 and 65536 are the all-zero encodings */
		if (ext && a->lc == 0)
			r = cs_buf_put_u8(out, 0x00);
		if (r == CS_OK)
			r = ext ? cs_buf_put_u16(out, (uint16_t)(a->le & 0xFFFF)) :
			    cs_buf_put_u8(out, (uint8_t)(a->le & 0xFF));
	}
	return r;
}

enum cs_err
cs_apdu_encode(const struct cs_apdu *a, unsigned int flags,
    struct cs_buf *out)
{
	size_t start, off;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return CS_ERR_ARG;
	start = out->len;
	if ((r = encode(a, flags, out, &off)) != CS_OK)
		cs_buf_truncate(out, start);
	return r;
}

enum cs_err
cs_apdu_parse_resp(const uint8_t *resp, size_t len, struct cs_cur *data,
    uint16_t *sw)
{
	struct cs_cur c, d;
	uint16_t v;

	cs_cur_init(data, NULL, 0);
	*sw = 0;
	cs_cur_init(&c, resp, len);
	if (cs_cur_len(&c) < 2)
		return CS_ERR_TRUNCATED;
	if (cs_cur_get_bytes(&c, cs_cur_len(&c) - 2, &d) != CS_OK ||
	    cs_cur_get_u16(&c, &v) != CS_OK)
		return CS_ERR_TRUNCATED;
	*data = d;
	*sw = v;
	return CS_OK;
}

/* --- trace --- */

/* Append to line[*pos..cap); output that does not fit is dropped. */
static void
line_add(char *line, size_t cap, size_t *pos, const char *fmt, ...)
    CS_PRINTF(4, 5);

static void
line_add(char *line, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*pos = (size_t)n >= cap - *pos ? cap - 1 : *pos + (size_t)n;
}

/* Hex of up to *budget bytes of c; counts down *budget. */
static void
line_hex(char *line, size_t cap, size_t *pos, struct cs_cur c,
    size_t *budget)
{
	uint8_t b;

	while (*budget > 0 && cs_cur_get_u8(&c, &b) == CS_OK) {
		line_add(line, cap, pos, " %02X", b);
		(*budget)--;
	}
}

/*
 * "> 00 A4 04 00 05 A0 00 00 03 08". Command data [off, off+lc) is shown
 * as "[redacted N bytes]" when secret; long commands are cut after
 * TRACE_BYTES_MAX bytes.
 */
static void
trace_cmd(struct xfer *x, size_t off, size_t lc)
{
	char line[TRACE_LINE_MAX];
	struct cs_cur all, pre, data;
	size_t pos = 0, budget = TRACE_BYTES_MAX, total;

	if (!csi_log_wants(x->ctx, CS_LOG_APDU))
		return;
	cs_buf_cur(&x->cmd, &all);
	total = cs_cur_len(&all);
	line_add(line, sizeof(line), &pos, ">");
	if (x->redact_cmd && lc > 0) {
		/* fail closed: show nothing but the count if the split fails */
		if (cs_cur_get_bytes(&all, off, &pre) != CS_OK ||
		    cs_cur_get_bytes(&all, lc, &data) != CS_OK) {
			cs_cur_init(&pre, NULL, 0);
			cs_cur_init(&all, NULL, 0);
		}
		line_hex(line, sizeof(line), &pos, pre, &budget);
		line_add(line, sizeof(line), &pos, " [redacted %zu bytes]",
		    lc);
		budget = TRACE_BYTES_MAX;
		line_hex(line, sizeof(line), &pos, all, &budget);
	} else {
		line_hex(line, sizeof(line), &pos, all, &budget);
		if (total > TRACE_BYTES_MAX)
			line_add(line, sizeof(line), &pos, " ... (%zu bytes)",
			    total);
	}
	cs_ctx_log(x->ctx, CS_LOG_APDU, "%s", line);
}

/* "< 7C 0A 80 08 ... (sw 9000)", data redacted when secret. */
static void
trace_resp(struct xfer *x, const struct cs_cur *data, uint16_t sw)
{
	char line[TRACE_LINE_MAX];
	size_t pos = 0, budget = TRACE_BYTES_MAX, n;

	if (!csi_log_wants(x->ctx, CS_LOG_APDU))
		return;
	n = cs_cur_len(data);
	line_add(line, sizeof(line), &pos, "<");
	if (n > 0 && x->redact_resp)
		line_add(line, sizeof(line), &pos, " [redacted %zu bytes]", n);
	else if (n > 0) {
		line_hex(line, sizeof(line), &pos, *data, &budget);
		if (n > TRACE_BYTES_MAX)
			line_add(line, sizeof(line), &pos, " ... (%zu bytes)",
			    n);
	}
	line_add(line, sizeof(line), &pos, " (sw %04X)", sw);
	cs_ctx_log(x->ctx, CS_LOG_APDU, "%s", line);
}

/* SP 800-73-4 and Yubico commands whose data are PINs, PUKs or keys. */
static bool
is_secret_cmd(const struct cs_apdu *a)
{
	switch (a->ins) {
	case INS_VERIFY:
	case INS_CHANGE_REF:
	case INS_RESET_RETRY:
	case INS_SET_MGMKEY:
	case INS_IMPORT_KEY:
		return true;
	case INS_GENERAL_AUTH:
		return a->p2 == KEYREF_MGMKEY;
	default:
		return false;
	}
}

/* Management key challenge/response: witness and cryptograms. */
static bool
is_secret_resp(const struct cs_apdu *a)
{
	return a->ins == INS_GENERAL_AUTH && a->p2 == KEYREF_MGMKEY;
}

/* --- exchanges --- */

/* Re-label a transport failure with the command, keeping its detail. */
static enum cs_err
fail_transport(struct xfer *x, const struct cs_apdu *a, enum cs_err r)
{
	char detail[CSI_ERRMSG_MAX];

	if (x->ctx == NULL)
		return r;
	if (cs_ctx_errcode(x->ctx) == r && cs_ctx_errmsg(x->ctx)[0] != '\0')
		snprintf(detail, sizeof(detail), "%s", cs_ctx_errmsg(x->ctx));
	else
		snprintf(detail, sizeof(detail), "%s", cs_strerror(r));
	return csi_fail(x->ctx, r, "APDU %02X %02X: %s", a->cla, a->ins,
	    detail);
}

/*
 * Send one APDU (no chaining) and split the answer. *data borrows x->raw
 * and is valid until the next exchange.
 */
static enum cs_err
exchange(struct xfer *x, const struct cs_apdu *a, unsigned int flags,
    struct cs_cur *data, uint16_t *sw)
{
	size_t off = 0, rlen = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_buf_reset(&x->cmd);
	if ((r = encode(a, flags, &x->cmd, &off)) != CS_OK)
		return csi_fail(x->ctx, r, "APDU %02X %02X: cannot encode",
		    a->cla, a->ins);
	trace_cmd(x, off, a->lc);
	r = cs_transport_transmit(x->t, x->ctx, x->cmd.data, x->cmd.len,
	    x->raw, CS_TRANSPORT_RESP_MAX, &rlen);
	if (r != CS_OK)
		return fail_transport(x, a, r);
	if (rlen > CS_TRANSPORT_RESP_MAX)
		return csi_fail(x->ctx, CS_ERR_INTERNAL,
		    "%s: transport overran the response buffer", x->t->name);
	if ((r = cs_apdu_parse_resp(x->raw, rlen, data, sw)) != CS_OK)
		return csi_fail(x->ctx, r,
		    "APDU %02X %02X: response of %zu bytes has no status word",
		    a->cla, a->ins, rlen);
	trace_resp(x, data, *sw);
	return CS_OK;
}

/*
 * ISO 7816-4 §5.1.1.1: send all but the last 255-byte piece with the
 * chaining bit set. *stopped is true when an intermediate piece was refused
 * (its answer is then the final one); otherwise *last is the final piece,
 * still to be sent.
 */
static enum cs_err
send_chain(struct xfer *x, const struct cs_apdu *a, struct cs_apdu *last,
    struct cs_cur *data, uint16_t *sw, bool *stopped)
{
	struct cs_cur rest, piece;
	struct cs_apdu p = *a;
	enum cs_err r = CS_ERR_INTERNAL;

	*stopped = false;
	*last = *a;
	if ((x->flags & CS_APDU_EXTENDED) != 0 ||
	    a->lc <= CS_APDU_SHORT_DATA_MAX)
		return CS_OK;
	cs_cur_init(&rest, a->data, a->lc);
	p.cla = a->cla | CLA_CHAIN;
	p.le = 0;
	while (cs_cur_len(&rest) > CS_APDU_SHORT_DATA_MAX) {
		if (cs_cur_get_bytes(&rest, CS_APDU_SHORT_DATA_MAX,
		    &piece) != CS_OK)
			return CS_ERR_INTERNAL;
		p.data = cs_cur_ptr(&piece);
		p.lc = cs_cur_len(&piece);
		if ((r = exchange(x, &p, x->flags, data, sw)) != CS_OK)
			return r;
		if (*sw != SW_OK) {
			*stopped = true;
			return CS_OK;
		}
	}
	last->data = cs_cur_ptr(&rest);
	last->lc = cs_cur_len(&rest);
	return CS_OK;
}

/* Append one piece of response data, within resp->max and RESP_MAX. */
static enum cs_err
add_data(struct xfer *x, struct cs_buf *resp, const struct cs_cur *data)
{
	size_t cap, n = cs_cur_len(data);

	cap = resp->max < CS_APDU_RESP_MAX ? resp->max : CS_APDU_RESP_MAX;
	if (n > cap || resp->len > cap - n)
		return csi_fail(x->ctx, CS_ERR_LIMIT,
		    "APDU response longer than %zu bytes", cap);
	if (cs_buf_put_cur(resp, data) != CS_OK)
		return csi_fail(x->ctx, CS_ERR_NOMEM,
		    "APDU response: out of memory");
	return CS_OK;
}

/*
 * ISO 7816-4 §5.3.4 and §5.1.3: 61xx means xx (00: 256 or more) bytes wait
 * for GET RESPONSE; keep fetching until another SW, within
 * CS_APDU_GET_RESPONSE_MAX rounds.
 */
static enum cs_err
get_responses(struct xfer *x, struct cs_buf *resp, uint16_t *sw)
{
	struct cs_apdu gr = { 0x00, INS_GET_RESPONSE, 0x00, 0x00, NULL, 0, 0 };
	struct cs_cur data;
	unsigned int rounds = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	while (SW1(*sw) == 0x61 && (x->flags & CS_APDU_NO_GET_RESPONSE) == 0) {
		if (++rounds > CS_APDU_GET_RESPONSE_MAX)
			return csi_fail(x->ctx, CS_ERR_LIMIT,
			    "APDU response: more than %u GET RESPONSE rounds",
			    CS_APDU_GET_RESPONSE_MAX);
		gr.le = SW2(*sw) == 0 ? 256 : SW2(*sw);
		if ((r = exchange(x, &gr, 0, &data, sw)) != CS_OK ||
		    (r = add_data(x, resp, &data)) != CS_OK)
			return r;
	}
	return CS_OK;
}

static enum cs_err
run(struct xfer *x, const struct cs_apdu *a, struct cs_buf *resp,
    uint16_t *sw)
{
	struct cs_apdu last;
	struct cs_cur data;
	bool stopped;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = send_chain(x, a, &last, &data, sw, &stopped)) != CS_OK)
		return r;
	if (stopped)
		return add_data(x, resp, &data);
	if ((r = exchange(x, &last, x->flags, &data, sw)) != CS_OK)
		return r;
	/* §5.1.3: 6Cxx: wrong Le, xx is the exact length; retry once */
	if (SW1(*sw) == 0x6C) {
		last.le = SW2(*sw) == 0 ? 256 : SW2(*sw);
		if ((r = exchange(x, &last, x->flags, &data, sw)) != CS_OK)
			return r;
	}
	if ((r = add_data(x, resp, &data)) != CS_OK)
		return r;
	return get_responses(x, resp, sw);
}

enum cs_err
cs_apdu_transmit(struct cs_ctx *ctx, struct cs_transport *t,
    const struct cs_apdu *a, unsigned int flags, struct cs_buf *resp,
    uint16_t *sw)
{
	struct xfer x;
	uint16_t v = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*sw = 0;
	x.ctx = ctx;
	x.t = t;
	x.flags = flags;
	x.raw = NULL;
	x.redact_cmd = x.redact_resp = true;
	cs_buf_init(&x.cmd, APDU_CMD_MAX, false);
	if (resp == NULL || t == NULL) {
		r = csi_fail(ctx, CS_ERR_ARG, "APDU: no transport or buffer");
		goto out;
	}
	cs_buf_reset(resp);
	if (check_apdu(a) != CS_OK) {
		r = csi_fail(ctx, CS_ERR_ARG, "APDU: invalid Lc, Le or data");
		goto out;
	}
	x.redact_cmd = is_secret_cmd(a) || (flags & CS_APDU_SECRET_CMD) != 0;
	x.redact_resp = is_secret_resp(a) || resp->secret ||
	    (flags & CS_APDU_SECRET_RESP) != 0;
	x.cmd.secret = x.redact_cmd ? 1 : 0;
	if ((x.raw = malloc(CS_TRANSPORT_RESP_MAX)) == NULL) {
		r = csi_fail(ctx, CS_ERR_NOMEM, "APDU: out of memory");
		goto out;
	}
	if ((r = run(&x, a, resp, &v)) != CS_OK)
		goto out;
	if (ctx != NULL)
		csi_set_sw(ctx, v, cs_ctx_tries_left(ctx));
	*sw = v;
out:
	if (r != CS_OK && resp != NULL)
		cs_buf_reset(resp);
	cs_buf_release(&x.cmd);
	if (x.raw != NULL) {
		cs_wipe(x.raw, CS_TRANSPORT_RESP_MAX);
		free(x.raw);
	}
	return r;
}

/* --- status words --- */

struct sw_text {
	uint16_t sw, mask;
	const char *text;
};

/* ISO 7816-4 §5.6 tables 5-6 and SP 800-73-4 part 2 usage. */
static const struct sw_text sw_texts[] = {
	{ 0x9000, 0xFFFF, "success" },
	{ 0x6100, 0xFF00, "more response data available" },
	{ 0x6281, 0xFFFF, "returned data may be corrupted" },
	{ 0x6282, 0xFFFF, "end of data reached before Le bytes" },
	{ 0x63C0, 0xFFF0, "verification failed" },
	{ 0x6581, 0xFFFF, "memory failure" },
	{ 0x6700, 0xFFFF, "wrong length" },
	{ 0x6881, 0xFFFF, "logical channel not supported" },
	{ 0x6882, 0xFFFF, "secure messaging not supported" },
	{ 0x6883, 0xFFFF, "last command of the chain expected" },
	{ 0x6884, 0xFFFF, "command chaining not supported" },
	{ 0x6982, 0xFFFF, "security status not satisfied" },
	{ 0x6983, 0xFFFF, "authentication method blocked" },
	{ 0x6984, 0xFFFF, "reference data not usable" },
	{ 0x6985, 0xFFFF, "conditions of use not satisfied" },
	{ 0x6986, 0xFFFF, "command not allowed" },
	{ 0x6A80, 0xFFFF, "incorrect data" },
	{ 0x6A81, 0xFFFF, "function not supported" },
	{ 0x6A82, 0xFFFF, "data object or application not found" },
	{ 0x6A84, 0xFFFF, "not enough memory" },
	{ 0x6A86, 0xFFFF, "incorrect parameters P1-P2" },
	{ 0x6A88, 0xFFFF, "referenced data not found" },
	{ 0x6B00, 0xFFFF, "wrong parameters P1-P2" },
	{ 0x6C00, 0xFF00, "wrong Le" },
	{ 0x6D00, 0xFFFF, "instruction not supported" },
	{ 0x6E00, 0xFFFF, "class not supported" },
	{ 0x6F00, 0xFFFF, "no precise diagnosis" },
};

const char *
cs_apdu_sw_str(uint16_t sw)
{
	size_t i;

	for (i = 0; i < sizeof(sw_texts) / sizeof(sw_texts[0]); i++)
		if ((sw & sw_texts[i].mask) == sw_texts[i].sw)
			return sw_texts[i].text;
	return "unknown status word";
}

enum cs_err
cs_apdu_sw_err(uint16_t sw, int *tries)
{
	int n = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	if (sw == SW_OK)
		r = CS_OK;
	else if ((sw & 0xFFF0) == 0x63C0) {
		n = sw & 0x0F;
		r = n == 0 ? CS_ERR_BLOCKED : CS_ERR_AUTH;
	} else if (sw == 0x6983) {
		n = 0;
		r = CS_ERR_BLOCKED;
	} else if (sw == 0x6982)
		r = CS_ERR_ACCESS;
	else if (sw == 0x6A82 || sw == 0x6A88)
		r = CS_ERR_NOT_FOUND;
	else if (sw == 0x6D00 || sw == 0x6E00)
		r = CS_ERR_UNSUPPORTED;
	else
		r = CS_ERR_SW;
	if (tries != NULL)
		*tries = n;
	return r;
}

enum cs_err
cs_apdu_map_sw(struct cs_ctx *ctx, uint16_t sw, const char *what,
    int *tries)
{
	enum cs_err r = CS_ERR_INTERNAL;
	int n;

	r = cs_apdu_sw_err(sw, &n);
	if (tries != NULL)
		*tries = n;
	if (what == NULL)
		what = "APDU";
	if (r == CS_ERR_AUTH)
		(void)csi_fail(ctx, r, "%s: verification failed, %d %s left",
		    what, n, n == 1 ? "try" : "tries");
	else if (r == CS_ERR_BLOCKED && sw == 0x6983)
		(void)csi_fail(ctx, r, "%s: blocked (%s, %04X)", what,
		    cs_apdu_sw_str(sw), sw);
	else if (r == CS_ERR_BLOCKED)
		(void)csi_fail(ctx, r,
		    "%s: verification failed, 0 tries left, blocked", what);
	else if (r != CS_OK)
		(void)csi_fail(ctx, r, "%s: %s (%04X)", what,
		    cs_apdu_sw_str(sw), sw);
	/* After csi_fail, which forgets any earlier failure's retry count. */
	csi_set_sw(ctx, sw, n);
	return r;
}
