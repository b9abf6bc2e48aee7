/*
 * Fuzz target: cs_apdu_transmit (response parsing, 61xx/6Cxx handling,
 * command chaining, trace redaction) against a card whose answers come from
 * the fuzz input.
 *
 * Input: an 8-byte header choosing the command, then the fake transport's
 * byte source (tests/support/fake_transport.h: u16 length-prefixed raw
 * responses). Missing header bytes read as 0.
 *   [0] flags: bit0 EXTENDED, bit1 NO_GET_RESPONSE, bit2 SECRET_CMD,
 *       bit3 SECRET_RESP, bit4 secret resp buffer, bit5 trace on
 *   [1] INS   [2] P2
 *   [3] Lc class (bits 0-1: 0 none, 1 [4], 2 255 + [4], 3 [4] * 8 + 1)
 *   [4] Lc parameter
 *   [5] Le class (0 none, 1 [6] + 1, 2 256, 3 65536)
 *   [6] Le parameter
 *   [7] resp->max: 0 CS_APDU_RESP_MAX + 1000, else [7] * 37
 *
 * Covers: cs_apdu_transmit, cs_apdu_encode, cs_apdu_parse_resp,
 * cs_apdu_map_sw, cs_apdu_sw_str, the APDU trace.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"
#include "fake_transport.h"

#define HDR_LEN 8
#define DATA_FILL 0xD7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tracecheck {
	bool redact_cmd, redact_resp;
};

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* Trace lines stay short and never show secret bytes. */
static void
log_cb(void *arg, enum cs_log_level level, const char *line)
{
	const struct tracecheck *tc = arg;
	size_t n = strlen(line);

	if (level != CS_LOG_APDU)
		return;
	check(n < 300);
	if (line[0] == '>' && tc->redact_cmd)
		check(n < 64);
	if (line[0] == '<' && tc->redact_resp)
		check(strncmp(line, "< [redacted ", 12) == 0 ||
		    strncmp(line, "< (sw ", 6) == 0);
}

static bool
secret_ins(uint8_t ins, uint8_t p2)
{
	return ins == 0x20 || ins == 0x24 || ins == 0x2C || ins == 0xFE ||
	    ins == 0xFF || (ins == 0x87 && p2 == 0x9B);
}

static bool
chained(const struct cs_apdu *a, unsigned int flags)
{
	return (flags & CS_APDU_EXTENDED) == 0 && a->lc > 255;
}

/* Every command sent is a piece of ours or a GET RESPONSE. */
static void
check_commands(const struct cs_fake *f, const struct cs_apdu *a,
    unsigned int flags)
{
	const uint8_t *p;
	size_t i, n, npieces = 1;

	if (chained(a, flags))
		npieces = (a->lc + 254) / 255;
	check(cs_fake_ncmds(f) <= npieces + 1 + CS_APDU_GET_RESPONSE_MAX);
	for (i = 0; i < cs_fake_ncmds(f); i++) {
		check(cs_fake_cmd(f, i, &p, &n));
		check(n >= 4);
		if (n == 5 && p[0] == 0x00 && p[1] == 0xC0 && p[2] == 0 &&
		    p[3] == 0) {
			check((flags & CS_APDU_NO_GET_RESPONSE) == 0);
			continue;
		}
		check((p[0] & ~0x10) == a->cla && p[1] == a->ins &&
		    p[2] == a->p1 && p[3] == a->p2);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[HDR_LEN] = { 0 };
	struct cs_ctx *ctx = NULL;
	struct cs_fake *f = NULL;
	struct cs_transport *t = NULL;
	struct cs_buf resp;
	struct cs_apdu a;
	struct tracecheck tc;
	static uint8_t cmd[255 * 8 + 1 + 255];
	unsigned int flags = 0;
	size_t max, hl = size < HDR_LEN ? size : HDR_LEN;
	uint16_t sw = 0;
	enum cs_err r, mapped;
	int tries;

	if (hl > 0)
		memcpy(h, data, hl);
	if (h[0] & 0x01)
		flags |= CS_APDU_EXTENDED;
	if (h[0] & 0x02)
		flags |= CS_APDU_NO_GET_RESPONSE;
	if (h[0] & 0x04)
		flags |= CS_APDU_SECRET_CMD;
	if (h[0] & 0x08)
		flags |= CS_APDU_SECRET_RESP;
	memset(cmd, DATA_FILL, sizeof(cmd));
	memset(&a, 0, sizeof(a));
	a.ins = h[1];
	a.p1 = 0x3F;
	a.p2 = h[2];
	a.data = cmd;
	switch (h[3] & 3) {
	case 0:
		a.lc = 0;
		break;
	case 1:
		a.lc = h[4];
		break;
	case 2:
		a.lc = 255 + (size_t)h[4];
		break;
	default:
		a.lc = (size_t)h[4] * 8 + 1;
		break;
	}
	switch (h[5] & 3) {
	case 0:
		a.le = 0;
		break;
	case 1:
		a.le = (size_t)h[6] + 1;
		break;
	case 2:
		a.le = 256;
		break;
	default:
		a.le = 65536;
		break;
	}
	max = h[7] == 0 ? CS_APDU_RESP_MAX + 1000 : (size_t)h[7] * 37;
	cs_buf_init(&resp, max, (h[0] & 0x10) != 0);
	tc.redact_cmd = secret_ins(a.ins, a.p2) ||
	    (flags & CS_APDU_SECRET_CMD) != 0;
	tc.redact_resp = (a.ins == 0x87 && a.p2 == 0x9B) ||
	    (flags & CS_APDU_SECRET_RESP) != 0 || resp.secret;

	if (cs_ctx_new(&ctx) != CS_OK || cs_fake_new(&f, &t) != CS_OK)
		abort();
	if (h[0] & 0x20)
		cs_ctx_set_log(ctx, CS_LOG_APDU, log_cb, &tc);
	cs_fake_set_source(f, data + hl, size - hl);

	r = cs_apdu_transmit(ctx, t, &a, flags, &resp, &sw);

	check(resp.len <= resp.max && resp.len <= CS_APDU_RESP_MAX);
	check(strlen(cs_ctx_errmsg(ctx)) < 512);
	check_commands(f, &a, flags);
	switch (r) {
	case CS_OK:
		check(cs_ctx_last_sw(ctx) == sw);
		/* a refused chain piece ends the exchange, 61xx or not */
		if ((flags & CS_APDU_NO_GET_RESPONSE) == 0 && !chained(&a, flags))
			check((sw >> 8) != 0x61);
		mapped = cs_apdu_map_sw(ctx, sw, "FUZZ", &tries);
		check(mapped == cs_apdu_sw_err(sw, NULL));
		check((mapped == CS_OK) == (sw == 0x9000));
		check(tries >= -1 && tries <= 15);
		check(cs_apdu_sw_str(sw) != NULL);
		break;
	case CS_ERR_TRANSPORT:
	case CS_ERR_REMOVED:
	case CS_ERR_TRUNCATED:
	case CS_ERR_LIMIT:
		check(sw == 0 && resp.len == 0);
		break;
	default:
		abort();
	}

	cs_buf_release(&resp);
	cs_fake_free(f);
	cs_ctx_free(ctx);
	return 0;
}
