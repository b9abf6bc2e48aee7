/*
 * The simulated card, driven in-process one APDU at a time (no pcscd):
 * framing, SELECT, Le and 61xx handling, chaining, PIN counters, the
 * PIN-always rule, management-key authentication, metadata, RESET and the
 * state file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../sim/applet.h"
#include "../../sim/simcrypto.h"

#define RESP_CAP 300

static const uint8_t mgm_default[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

struct rx {
	uint8_t data[RESP_CAP];
	size_t len;
	uint16_t sw;
};

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(n < cap);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static uint16_t
tx(struct sim_card *c, const uint8_t *cmd, size_t n, struct rx *r)
{
	uint8_t resp[RESP_CAP];
	size_t rl = 0;

	sim_card_apdu(c, cmd, n, resp, sizeof(resp), &rl);
	assert_true(rl >= 2);
	assert_true(rl - 2 <= 256);
	if (r != NULL) {
		memcpy(r->data, resp, rl - 2);
		r->len = rl - 2;
		r->sw = (uint16_t)((resp[rl - 2] << 8) | resp[rl - 1]);
	}
	return (uint16_t)((resp[rl - 2] << 8) | resp[rl - 1]);
}

static uint16_t
txh(struct sim_card *c, const char *hex, struct rx *r)
{
	uint8_t cmd[600];
	size_t n = unhex(hex, cmd, sizeof(cmd));

	return tx(c, cmd, n, r);
}

static void
assert_rx(const struct rx *r, const char *hex)
{
	uint8_t want[300];
	size_t n = unhex(hex, want, sizeof(want));

	assert_int_equal(r->len, n);
	assert_memory_equal(r->data, want, n);
}

static struct sim_card *
new_card(void)
{
	struct sim_card_config cfg = { { 5, 4, 3 }, 12345678 };
	struct sim_card *c = NULL;

	assert_int_equal(sim_card_new(&cfg, &c), CS_OK);
	return c;
}

static int
setup(void **state)
{
	*state = new_card();
	return 0;
}

static int
teardown(void **state)
{
	sim_card_free(*state);
	return 0;
}

/* Mutual authentication with the default 3DES key (§4.7.1). */
static void
auth_default(struct sim_card *c)
{
	uint8_t cmd[32] = { 0x00, 0x87, 0x03, 0x9B, 0x16, 0x7C, 0x14, 0x80,
		0x08 };
	uint8_t chal[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, w[8], e[8];
	struct rx r;

	assert_int_equal(txh(c, "00 87 03 9B 04 7C 02 80 00", &r), 0x9000);
	assert_int_equal(r.len, 12);
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, false,
	    r.data + 4, w), CS_OK);
	memcpy(cmd + 9, w, 8);
	cmd[17] = 0x81;
	cmd[18] = 0x08;
	memcpy(cmd + 19, chal, 8);
	assert_int_equal(tx(c, cmd, 27, &r), 0x9000);
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, true, chal, e),
	    CS_OK);
	assert_int_equal(r.len, 12);
	assert_memory_equal(r.data, "\x7C\x0A\x82\x08", 4);
	assert_memory_equal(r.data + 4, e, 8);
}

static void
verify_pin(struct sim_card *c)
{
	assert_int_equal(txh(c, "00 20 00 80 08 31 32 33 34 35 36 FF FF",
	    NULL), 0x9000);
}

/* --- framing --- */

static void
test_simapplet_parse_cases(void **state)
{
	struct sim_card *c = *state;
	struct rx r;

	assert_int_equal(txh(c, "00 20 00 80", &r), 0x63C3);       /* 1 */
	assert_int_equal(txh(c, "00 FD 00 00 00", &r), 0x9000);    /* 2S */
	assert_rx(&r, "05 04 03");
	assert_int_equal(txh(c, "00 FD 00 00 00 00 00", &r), 0x9000); /* 2E */
	assert_rx(&r, "05 04 03");
	assert_int_equal(txh(c, "00 20 00 80 00 00 00", &r), 0x63C3);
	/* 3E, 4S, 4E GET DATA of the discovery object */
	assert_int_equal(txh(c, "00 CB 3F FF 00 00 03 5C 01 7E", &r), 0x9000);
	assert_int_equal(r.len, 20);
	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E 00", &r), 0x9000);
	assert_int_equal(r.len, 20);
	assert_int_equal(txh(c, "00 CB 3F FF 00 00 03 5C 01 7E 00 00", &r),
	    0x9000);
	assert_int_equal(r.len, 20);
	/* malformed */
	assert_int_equal(txh(c, "00 CB 3F", &r), 0x6700);
	assert_int_equal(txh(c, "", &r), 0x6700);
	assert_int_equal(txh(c, "00 CB 3F FF 04 5C 01 7E", &r), 0x6700);
	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E 00 00", &r), 0x6700);
	assert_int_equal(txh(c, "00 CB 3F FF 00 00 00 5C", &r), 0x6700);
	assert_int_equal(txh(c, "00 CB 3F FF 00 00 04 5C 01 7E", &r), 0x6700);
	assert_int_equal(txh(c, "80 FD 00 00 00", &r), 0x6E00);
	assert_int_equal(txh(c, "00 01 00 00 00", &r), 0x6D00);
	assert_int_equal(txh(c, "00 CB 3F FE 03 5C 01 7E", &r), 0x6A86);
}

static void
test_simapplet_select_template(void **state)
{
	struct sim_card *c = *state;
	const char *tpl = "61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 "
			  "00 03 08";
	struct rx r;

	assert_int_equal(txh(c, "00 A4 04 00 05 A0 00 00 03 08", &r), 0x9000);
	assert_rx(&r, tpl);
	assert_int_equal(txh(c, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00",
	    &r), 0x9000);
	assert_rx(&r, tpl);
	assert_int_equal(txh(c, "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 "
	    "01 00", &r), 0x9000);
	assert_rx(&r, tpl);
	assert_int_equal(txh(c, "00 A4 04 00 04 A0 00 00 03", &r), 0x6A82);
	assert_int_equal(txh(c, "00 A4 04 00 0C A0 00 00 03 08 00 00 10 00 "
	    "01 00 00", &r), 0x6A82);
	assert_int_equal(txh(c, "00 A4 04 00 07 A0 00 00 05 27 20 01", &r),
	    0x6A82);
	assert_int_equal(txh(c, "00 A4 04 00 08 A0 00 00 05 27 47 11 17", &r),
	    0x9000);
	assert_int_equal(r.len, 30);
	assert_memory_equal(r.data, "Virtual mgr - FW version 5.4.3", 30);
	assert_int_equal(txh(c, "00 1D 00 00 00", &r), 0x9000);
	assert_rx(&r, "16 01 02 00 10 02 04 00 BC 61 4E 03 02 00 10 04 01 01 "
	    "05 03 05 04 03");
	/* PIV instructions are not served by the Management application */
	assert_int_equal(txh(c, "00 FD 00 00 00", &r), 0x6D00);
}

static void
test_simapplet_select_drops_security_state(void **state)
{
	struct sim_card *c = *state;

	verify_pin(c);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x9000);
	assert_int_equal(txh(c, "00 A4 04 00 07 A0 00 00 05 27 20 01", NULL),
	    0x6A82);
	assert_int_equal(txh(c, "00 A4 04 00 05 A0 00 00 03 08", NULL), 0x9000);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C3);
	verify_pin(c);
	sim_card_power(c);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C3);
}

/* --- Le and response chaining --- */

static void
test_simapplet_le_probe(void **state)
{
	struct sim_card *c = *state;
	struct rx r;

	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E 08", &r), 0x610C);
	assert_rx(&r, "7E 12 4F 0B A0 00 00 03");
	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E 14", &r), 0x9000);
	assert_rx(&r, "7E 12 4F 0B A0 00 00 03 08 00 00 10 00 01 00 5F 2F 02 "
	    "40 00");
	assert_int_equal(txh(c, "00 C0 00 00 00", &r), 0x6985);
	/* a probe, then GET RESPONSE with Le = SW2 */
	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E 08", &r), 0x610C);
	assert_int_equal(txh(c, "00 C0 00 00 0C", &r), 0x9000);
	assert_rx(&r, "08 00 00 10 00 01 00 5F 2F 02 40 00");
}

/* PUT DATA of a 700-byte value into 5FC105 by command chaining. */
static void
put_700(struct sim_card *c, uint8_t *val)
{
	uint8_t body[709], cmd[5 + 255];
	size_t off = 0, n, i;
	uint16_t sw;

	for (i = 0; i < 700; i++)
		val[i] = (uint8_t)(i * 7 + 3);
	memcpy(body, "\x5C\x03\x5F\xC1\x05\x53\x82\x02\xBC", 9);
	memcpy(body + 9, val, 700);
	while (off < sizeof(body)) {
		n = sizeof(body) - off > 255 ? 255 : sizeof(body) - off;
		cmd[0] = off + n < sizeof(body) ? 0x10 : 0x00;
		cmd[1] = 0xDB, cmd[2] = 0x3F, cmd[3] = 0xFF;
		cmd[4] = (uint8_t)n;
		memcpy(cmd + 5, body + off, n);
		sw = tx(c, cmd, 5 + n, NULL);
		assert_int_equal(sw, 0x9000);
		off += n;
	}
}

static void
test_simapplet_command_and_response_chaining(void **state)
{
	struct sim_card *c = *state;
	uint8_t val[700], got[800];
	size_t have = 0;
	struct rx r;

	auth_default(c);
	put_700(c, val);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F C1 05", &r), 0x6100);
	assert_int_equal(r.len, 256);
	memcpy(got, r.data, r.len);
	have = r.len;
	assert_int_equal(txh(c, "00 C0 00 00 00", &r), 0x61C0);
	memcpy(got + have, r.data, r.len);
	have += r.len;
	assert_int_equal(txh(c, "00 C0 00 00 C0", &r), 0x9000);
	memcpy(got + have, r.data, r.len);
	have += r.len;
	assert_int_equal(have, 704);
	assert_memory_equal(got, "\x53\x82\x02\xBC", 4);
	assert_memory_equal(got + 4, val, 700);
	/* extended form of the same read: also 256-byte pieces */
	assert_int_equal(txh(c, "00 CB 3F FF 00 00 05 5C 03 5F C1 05", &r),
	    0x6100);
	/* any other command discards the rest */
	assert_int_equal(txh(c, "00 FD 00 00 00", &r), 0x9000);
	assert_int_equal(txh(c, "00 C0 00 00 00", &r), 0x6985);
}

static void
test_simapplet_chain_interrupted(void **state)
{
	struct sim_card *c = *state;
	struct rx r;

	auth_default(c);
	/* first half of a PUT DATA, then another command: the chain is gone */
	assert_int_equal(txh(c, "10 DB 3F FF 05 5C 03 5F C1 02", &r), 0x9000);
	assert_int_equal(txh(c, "00 FD 00 00 00", &r), 0x9000);
	assert_int_equal(txh(c, "00 DB 3F FF 03 53 01 AA", &r), 0x6A80);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F C1 02", &r), 0x6A82);
}

/* --- data objects --- */

static void
test_simapplet_put_data_needs_auth(void **state)
{
	struct sim_card *c = *state;

	assert_int_equal(txh(c, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA",
	    NULL), 0x6982);
	verify_pin(c);
	assert_int_equal(txh(c, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA",
	    NULL), 0x6982);
	auth_default(c);
	assert_int_equal(txh(c, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA",
	    NULL), 0x9000);
}

static void
put_ext(struct sim_card *c, size_t vlen, uint16_t want)
{
	uint8_t *cmd = calloc(1, 20 + vlen);
	size_t body = 5 + 4 + vlen;

	assert_non_null(cmd);
	memcpy(cmd, "\x00\xDB\x3F\xFF\x00", 5);
	cmd[5] = (uint8_t)(body >> 8);
	cmd[6] = (uint8_t)body;
	memcpy(cmd + 7, "\x5C\x03\x5F\xC1\x0A\x53\x82", 7);
	cmd[14] = (uint8_t)(vlen >> 8);
	cmd[15] = (uint8_t)vlen;
	assert_int_equal(tx(c, cmd, 7 + body, NULL), want);
	free(cmd);
}

static void
test_simapplet_objects(void **state)
{
	struct sim_card *c = *state;
	struct rx r;

	auth_default(c);
	put_ext(c, 3064, 0x6A84);
	put_ext(c, 3063, 0x9000);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F C1 0A 00", &r),
	    0x6100);
	assert_int_equal(r.len, 256);
	/* 53 00 deletes */
	assert_int_equal(txh(c, "00 DB 3F FF 07 5C 03 5F C1 0A 53 00", &r),
	    0x9000);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F C1 0A", &r), 0x6A82);
	/* PIN-protected object */
	assert_int_equal(txh(c, "00 DB 3F FF 0A 5C 03 5F C1 09 53 03 88 01 00",
	    &r), 0x9000);
	sim_card_power(c);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F C1 09", &r), 0x6982);
	verify_pin(c);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F C1 09", &r), 0x9000);
	assert_rx(&r, "53 03 88 01 00");
	/* discovery can be neither written nor lost */
	auth_default(c);
	assert_int_equal(txh(c, "00 DB 3F FF 05 5C 01 7E 53 00", &r), 0x6A80);
	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E", &r), 0x9000);
	/* trailing bytes after 53 */
	assert_int_equal(txh(c, "00 DB 3F FF 09 5C 03 5F C1 02 53 01 AA 00",
	    &r), 0x6A80);
}

/* --- PIN --- */

static void
test_simapplet_verify_counters(void **state)
{
	struct sim_card *c = *state;
	const char *bad = "00 20 00 80 08 39 39 39 39 39 39 FF FF";
	const char *allff = "00 20 00 80 08 FF FF FF FF FF FF FF FF";

	assert_int_equal(txh(c, bad, NULL), 0x63C2);
	verify_pin(c); /* success restores the counter */
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x9000);
	assert_int_equal(txh(c, bad, NULL), 0x63C2);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C2);
	assert_int_equal(txh(c, allff, NULL), 0x63C1); /* just a wrong value */
	assert_int_equal(txh(c, bad, NULL), 0x63C0);
	assert_int_equal(txh(c, bad, NULL), 0x6983);
	assert_int_equal(txh(c, "00 20 00 80 08 31 32 33 34 35 36 FF FF", NULL),
	    0x6983);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x6983);
	assert_int_equal(txh(c, "00 20 00 80 00", NULL), 0x6983);
	assert_int_equal(txh(c, "00 20 00 80 04 31 32 33 34", NULL), 0x6A80);
	/* unblock with the PUK */
	assert_int_equal(txh(c, "00 2C 00 80 10 31 32 33 34 35 36 37 38 "
	    "37 37 37 37 37 37 FF FF", NULL), 0x9000);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C3);
	assert_int_equal(txh(c, "00 20 00 80 08 37 37 37 37 37 37 FF FF", NULL),
	    0x9000);
}

static void
test_simapplet_verify_status_and_reset(void **state)
{
	struct sim_card *c = *state;

	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C3);
	verify_pin(c);
	assert_int_equal(txh(c, "00 20 00 80 00", NULL), 0x9000);
	assert_int_equal(txh(c, "00 20 FF 80", NULL), 0x9000);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C3);
	assert_int_equal(txh(c, "00 20 00 81", NULL), 0x6A88);
}

static void
test_simapplet_change_reference(void **state)
{
	struct sim_card *c = *state;

	/* wrong old PUK, short new value, then success */
	assert_int_equal(txh(c, "00 24 00 81 10 30 30 30 30 30 30 30 30 "
	    "31 31 31 31 31 31 31 31", NULL), 0x63C2);
	assert_int_equal(txh(c, "00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 FF FF FF FF FF", NULL), 0x6A80);
	assert_int_equal(txh(c, "00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 31 31 31 31 31", NULL), 0x9000);
	assert_int_equal(txh(c, "00 24 00 80 10 31 32 33 34 35 36 FF FF "
	    "36 35 34 33 32 31 FF FF", NULL), 0x9000);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x9000);
	assert_int_equal(txh(c, "00 24 00 82 10 31 32 33 34 35 36 FF FF "
	    "36 35 34 33 32 31 FF FF", NULL), 0x6A88);
}

/* --- management key --- */

static void
test_simapplet_mgm_3des_worked_example(void **state)
{
	struct sim_card *c = *state;
	uint8_t w[8] = { 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8 };
	uint8_t ch[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
	struct rx r;

	/* §4.7.1 vectors */
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, true, w, out),
	    CS_OK);
	assert_memory_equal(out, "\x19\x9F\xA3\x74\x70\x5A\x69\xEB", 8);
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, true, ch, out),
	    CS_OK);
	assert_memory_equal(out, "\x77\xA7\xD6\xBC\xF5\x79\x62\xB9", 8);
	/* the card answers E_K(C) = 77A7… for C = 0102…08 */
	auth_default(c);
	/* a wrong witness is refused and drops the authentication */
	assert_int_equal(txh(c, "00 87 03 9B 04 7C 02 80 00", &r), 0x9000);
	assert_int_equal(txh(c, "00 87 03 9B 16 7C 14 80 08 00 00 00 00 00 00 "
	    "00 00 81 08 01 02 03 04 05 06 07 08", &r), 0x6982);
	assert_int_equal(txh(c, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA",
	    NULL), 0x6982);
	/* response without a pending witness */
	assert_int_equal(txh(c, "00 87 03 9B 16 7C 14 80 08 00 00 00 00 00 00 "
	    "00 00 81 08 01 02 03 04 05 06 07 08", &r), 0x6982);
	/* wrong algorithm */
	assert_int_equal(txh(c, "00 87 0A 9B 04 7C 02 80 00", &r), 0x6A80);
}

static void
test_simapplet_mgm_dotnet_form_and_challenge(void **state)
{
	struct sim_card *c = *state;
	uint8_t cmd[40], w[8], e[8];
	struct rx r;

	assert_int_equal(txh(c, "00 87 03 9B 04 7C 02 80 00", &r), 0x9000);
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, false,
	    r.data + 4, w), CS_OK);
	memcpy(cmd, "\x00\x87\x03\x9B\x18\x7C\x16\x80\x08", 9);
	memcpy(cmd + 9, w, 8);
	memcpy(cmd + 17, "\x81\x08\x01\x02\x03\x04\x05\x06\x07\x08\x82\x00",
	    12);
	assert_int_equal(tx(c, cmd, 29, &r), 0x9000);
	assert_rx(&r, "7C 0A 82 08 77 A7 D6 BC F5 79 62 B9");
	/* OpenSC's random source: P1 00, plain challenge back */
	assert_int_equal(txh(c, "00 87 00 9B 04 7C 02 81 00 00", &r), 0x9000);
	assert_int_equal(r.len, 12);
	assert_memory_equal(r.data, "\x7C\x0A\x81\x08", 4);
	/* and external authentication with it */
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, true,
	    r.data + 4, e), CS_OK);
	sim_card_power(c);
	assert_int_equal(txh(c, "00 87 03 9B 04 7C 02 81 00", &r), 0x9000);
	assert_int_equal(sim_mgm_crypt(0x03, mgm_default, 24, true,
	    r.data + 4, e), CS_OK);
	memcpy(cmd, "\x00\x87\x03\x9B\x0C\x7C\x0A\x82\x08", 9);
	memcpy(cmd + 9, e, 8);
	assert_int_equal(tx(c, cmd, 17, &r), 0x9000);
	assert_int_equal(txh(c, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA",
	    NULL), 0x9000);
}

/* --- keys --- */

static void
gen_p256(struct sim_card *c, uint8_t slot, uint8_t pin_policy)
{
	uint8_t cmd[16] = { 0x00, 0x47, 0x00, slot, 0x08, 0xAC, 0x06, 0x80,
		0x01, 0x11, 0xAA, 0x01, pin_policy };
	struct rx r;

	assert_int_equal(tx(c, cmd, 13, &r), 0x9000);
	assert_int_equal(r.len, 70);
	assert_memory_equal(r.data, "\x7F\x49\x43\x86\x41\x04", 6);
}

static uint16_t
sign9c(struct sim_card *c)
{
	return txh(c, "00 87 11 9C 26 7C 24 82 00 81 20 "
	    "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F "
	    "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F", NULL);
}

static void
test_simapplet_pin_always(void **state)
{
	struct sim_card *c = *state;

	auth_default(c);
	gen_p256(c, 0x9C, 0x00); /* slot default for 9C: always */
	assert_int_equal(sign9c(c), 0x6982);
	verify_pin(c);
	assert_int_equal(sign9c(c), 0x9000);
	assert_int_equal(sign9c(c), 0x6982); /* consumed */
	verify_pin(c);
	assert_int_equal(txh(c, "00 CB 3F FF 03 5C 01 7E", NULL), 0x9000);
	assert_int_equal(sign9c(c), 0x6982); /* cancelled by GET DATA */
	verify_pin(c);
	/* chained sign: the continuation does not consume the flag */
	assert_int_equal(txh(c, "10 87 11 9C 10 7C 24 82 00 81 20 00 01 02 03 "
	    "04 05 06 07 08 09", NULL), 0x9000);
	assert_int_equal(txh(c, "00 87 11 9C 16 0A 0B 0C 0D 0E 0F 10 11 12 13 "
	    "14 15 16 17 18 19 1A 1B 1C 1D 1E 1F", NULL), 0x9000);
	/* PIN-once key: session PIN state is enough */
	gen_p256(c, 0x9A, 0x02);
	assert_int_equal(txh(c, "00 87 11 9A 26 7C 24 82 00 81 20 "
	    "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F "
	    "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F", NULL), 0x9000);
}

static void
test_simapplet_generate_checks(void **state)
{
	struct sim_card *c = *state;

	assert_int_equal(txh(c, "00 47 00 9A 05 AC 03 80 01 11", NULL), 0x6982);
	auth_default(c);
	assert_int_equal(txh(c, "00 47 00 9B 05 AC 03 80 01 11", NULL), 0x6B00);
	assert_int_equal(txh(c, "00 47 00 9A 05 AC 03 80 01 E0", NULL), 0x6A80);
	assert_int_equal(txh(c, "00 47 00 9A 05 AC 03 80 01 16", NULL), 0x6A80);
	assert_int_equal(txh(c, "00 47 00 9A 08 AC 06 80 01 11 AA 01 05", NULL),
	    0x6A80);
	assert_int_equal(txh(c, "00 47 00 9A 05 AC 03 80 01 14", NULL), 0x9000);
	/* attest: generated yes, empty no */
	assert_int_equal(txh(c, "00 F9 9D 00 00", NULL), 0x6D00); /* no F9 */
}

static void
test_simapplet_metadata(void **state)
{
	struct sim_card *c = *state;
	struct rx r;

	assert_int_equal(txh(c, "00 F7 00 80 00", &r), 0x9000);
	assert_rx(&r, "01 01 FF 05 01 01 06 02 03 03");
	assert_int_equal(txh(c, "00 F7 00 81 00", &r), 0x9000);
	assert_rx(&r, "01 01 FF 05 01 01 06 02 03 03");
	assert_int_equal(txh(c, "00 F7 00 9B 00", &r), 0x9000);
	assert_rx(&r, "01 01 03 02 02 00 01 05 01 01");
	assert_int_equal(txh(c, "00 F7 00 9A 00", &r), 0x6A88);
	assert_int_equal(txh(c, "00 20 00 80 08 39 39 39 39 39 39 FF FF", NULL),
	    0x63C2);
	assert_int_equal(txh(c, "00 F7 00 80", &r), 0x9000);
	assert_rx(&r, "01 01 FF 05 01 01 06 02 03 02");
	auth_default(c);
	gen_p256(c, 0x9A, 0x00);
	assert_int_equal(txh(c, "00 F7 00 9A 00", &r), 0x9000);
	assert_int_equal(r.len, 3 + 4 + 3 + 2 + 0x43);
	assert_memory_equal(r.data, "\x01\x01\x11\x02\x02\x02\x01\x03\x01\x01"
	    "\x04\x43\x86\x41\x04", 15);
}

static void
test_simapplet_reset_needs_both_blocked(void **state)
{
	struct sim_card *c = *state;
	int i;

	auth_default(c);
	gen_p256(c, 0x9A, 0x00);
	assert_int_equal(txh(c, "00 FB 00 00", NULL), 0x6985);
	for (i = 0; i < 3; i++)
		(void)txh(c, "00 20 00 80 08 FF FF FF FF FF FF FF FF", NULL);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x6983);
	assert_int_equal(txh(c, "00 FB 00 00 00", NULL), 0x6985);
	for (i = 0; i < 3; i++)
		(void)txh(c, "00 2C 00 80 10 FF FF FF FF FF FF FF FF FF FF FF FF "
		    "FF FF FF FF", NULL);
	assert_int_equal(txh(c, "00 2C 00 80 10 31 32 33 34 35 36 37 38 "
	    "31 32 33 34 35 36 FF FF", NULL), 0x6983);
	assert_int_equal(txh(c, "00 FB 00 00", NULL), 0x9000);
	assert_int_equal(txh(c, "00 20 00 80", NULL), 0x63C3);
	verify_pin(c);
	assert_int_equal(txh(c, "00 F7 00 9A", NULL), 0x6A88);
	/* default management key again; session authentication dropped */
	assert_int_equal(txh(c, "00 47 00 9A 05 AC 03 80 01 11", NULL), 0x6982);
	auth_default(c);
}

static void
test_simapplet_set_pin_retries(void **state)
{
	struct sim_card *c = *state;
	struct rx r;

	auth_default(c);
	assert_int_equal(txh(c, "00 FA 05 06", NULL), 0x6982);
	verify_pin(c);
	assert_int_equal(txh(c, "00 FA 05 06 00", NULL), 0x9000);
	assert_int_equal(txh(c, "00 F7 00 80", &r), 0x9000);
	assert_rx(&r, "01 01 FF 05 01 01 06 02 05 05");
	assert_int_equal(txh(c, "00 F7 00 81", &r), 0x9000);
	assert_rx(&r, "01 01 FF 05 01 01 06 02 06 06");
}

/* --- state file --- */

static void
encode(const struct sim_card *c, struct cs_buf *b)
{
	cs_buf_init(b, SIM_STATE_MAX, true);
	assert_int_equal(sim_state_encode(c, b), CS_OK);
}

static struct sim_card *
personalised(void)
{
	struct sim_card *c = new_card();
	uint8_t val[700];

	auth_default(c);
	gen_p256(c, 0x9A, 0x03);
	put_700(c, val);
	assert_int_equal(txh(c, "00 24 00 80 10 31 32 33 34 35 36 FF FF "
	    "36 35 34 33 32 31 FF FF", NULL), 0x9000);
	assert_int_equal(txh(c, "00 FF FF FE 1B 03 9B 18 11 12 13 14 15 16 17 "
	    "18 11 12 13 14 15 16 17 18 11 12 13 14 15 16 17 18", NULL),
	    0x9000);
	assert_true(sim_card_take_dirty(c));
	assert_false(sim_card_take_dirty(c));
	return c;
}

static void
test_simapplet_state_roundtrip(void **state)
{
	struct sim_card *c = personalised(), *d = NULL;
	struct cs_buf a, b;
	const char *why = NULL;
	struct rx r;

	encode(c, &a);
	assert_int_equal(sim_state_decode(a.data, a.len, &d, &why), CS_OK);
	encode(d, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* the restored card behaves the same */
	assert_int_equal(txh(d, "00 20 00 80 08 36 35 34 33 32 31 FF FF", NULL),
	    0x9000);
	assert_int_equal(txh(d, "00 F7 00 9A", &r), 0x9000);
	assert_memory_equal(r.data, "\x01\x01\x11\x02\x02\x03\x01\x03\x01\x01",
	    10);
	assert_int_equal(txh(d, "00 F7 00 9B", &r), 0x9000);
	assert_rx(&r, "01 01 03 02 02 00 02 05 01 00");
	assert_int_equal(txh(d, "00 CB 3F FF 05 5C 03 5F C1 05", &r), 0x6100);
	cs_buf_release(&a);
	cs_buf_release(&b);
	sim_card_free(c);
	sim_card_free(d);
}

static void
test_simapplet_state_corrupt_refused(void **state)
{
	struct sim_card *c = personalised(), *d = NULL;
	struct cs_buf a;
	const char *why = NULL;
	size_t i;

	encode(c, &a);
	for (i = 0; i < a.len; i++) { /* every truncation */
		assert_int_not_equal(sim_state_decode(a.data, i, &d, &why),
		    CS_OK);
		assert_null(d);
		assert_non_null(why);
	}
	for (i = 0; i < a.len; i += 7) { /* flipped bytes */
		a.data[i] ^= 0x5A;
		assert_int_not_equal(sim_state_decode(a.data, a.len, &d, &why),
		    CS_OK);
		assert_null(d);
		a.data[i] ^= 0x5A;
	}
	a.data[7] = 2; /* version 2 */
	assert_int_equal(sim_state_decode(a.data, a.len, &d, &why),
	    CS_ERR_UNSUPPORTED);
	assert_string_equal(why, "unknown format version");
	cs_buf_release(&a);
	sim_card_free(c);
}

static void
test_simapplet_state_file(void **state)
{
	struct sim_card *c = personalised(), *d = NULL;
	char dir[] = "/tmp/cs-simapplet.XXXXXX", path[64];
	const char *why = NULL;
	struct stat st;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/card.state", dir);
	assert_int_equal(sim_state_load(path, &d, &why), CS_ERR_NOT_FOUND);
	assert_int_equal(sim_state_save(c, path), CS_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sim_state_load(path, &d, &why), CS_OK);
	sim_card_free(d);
	d = NULL;
	assert_non_null(f = fopen(path, "r+b"));
	assert_int_equal(fseek(f, 40, SEEK_SET), 0);
	assert_int_equal(fputc(0xEE, f), 0xEE);
	fclose(f);
	assert_int_not_equal(sim_state_load(path, &d, &why), CS_OK);
	assert_null(d);
	unlink(path);
	rmdir(dir);
	sim_card_free(c);
}


static struct sim_card *
card_fw(uint8_t a, uint8_t b, uint8_t c3)
{
	struct sim_card_config cfg = { { a, b, c3 }, 12345678 };
	struct sim_card *c = NULL;

	assert_int_equal(sim_card_new(&cfg, &c), CS_OK);
	return c;
}

static void
test_simapplet_mgm_aes192(void **state)
{
	struct sim_card *c = card_fw(5, 4, 3), *old = card_fw(5, 3, 0);
	uint8_t w[16], cmd[64], ch[16];
	struct rx r;
	size_t i;

	for (i = 0; i < 16; i++) {
		w[i] = (uint8_t)(0xA1 + i);
		ch[i] = (uint8_t)i;
	}
	/* §4.7.1 AES-192 vectors with the default key bytes */
	assert_int_equal(sim_mgm_crypt(0x0A, mgm_default, 24, true, w, cmd),
	    CS_OK);
	assert_memory_equal(cmd, "\xCE\x3F\x05\x39\x7D\xF2\x47\x8F\xB5\xC4"
	    "\x0D\xE1\xE9\xB1\x7C\xBD", 16);
	auth_default(c);
	assert_int_equal(txh(c, "00 FF FF FF 1B 0A 9B 18 01 02 03 04 05 06 07 "
	    "08 01 02 03 04 05 06 07 08 01 02 03 04 05 06 07 08", NULL), 0x9000);
	assert_int_equal(txh(c, "00 F7 00 9B", &r), 0x9000);
	assert_rx(&r, "01 01 0A 02 02 00 01 05 01 01");
	sim_card_power(c);
	assert_int_equal(txh(c, "00 87 03 9B 04 7C 02 80 00", &r), 0x6A80);
	assert_int_equal(txh(c, "00 87 0A 9B 04 7C 02 80 00", &r), 0x9000);
	assert_int_equal(r.len, 20);
	assert_memory_equal(r.data, "\x7C\x12\x80\x10", 4);
	assert_int_equal(sim_mgm_crypt(0x0A, mgm_default, 24, false,
	    r.data + 4, w), CS_OK);
	memcpy(cmd, "\x00\x87\x0A\x9B\x26\x7C\x24\x80\x10", 9);
	memcpy(cmd + 9, w, 16);
	memcpy(cmd + 25, "\x81\x10", 2);
	memcpy(cmd + 27, ch, 16);
	assert_int_equal(tx(c, cmd, 43, &r), 0x9000);
	assert_rx(&r, "7C 12 82 10 3F 92 E2 FC E7 3F 9D 83 18 7C 14 0D 03 5F "
	    "7E DC");
	assert_int_equal(txh(c, "00 DB 3F FF 08 5C 03 5F C1 02 53 01 AA",
	    NULL), 0x9000);
	/* AES management keys need fw 5.4 */
	auth_default(old);
	assert_int_equal(txh(old, "00 FF FF FF 1B 0A 9B 18 01 02 03 04 05 06 "
	    "07 08 01 02 03 04 05 06 07 08 01 02 03 04 05 06 07 08", NULL),
	    0x6A80);
	assert_int_equal(txh(old, "00 FF FF FF 13 08 9B 10 01 02 03 04 05 06 "
	    "07 08 01 02 03 04 05 06 07 08", NULL), 0x6A80);
	sim_card_free(c);
	sim_card_free(old);
}

static void
test_simapplet_firmware_gates(void **state)
{
	struct sim_card *c57 = card_fw(5, 7, 2), *c43 = card_fw(4, 3, 5);

	/* 5.4.3 (the default card): no 5.7 algorithms, no MOVE */
	auth_default(*state);
	assert_int_equal(txh(*state, "00 F6 82 9A", NULL), 0x6D00);
	/* 4.3.5: no serial, no metadata */
	assert_int_equal(txh(c43, "00 F8 00 00 00", NULL), 0x6D00);
	assert_int_equal(txh(c43, "00 F7 00 80 00", NULL), 0x6D00);
	/* 5.7.2: Ed25519, X25519, MOVE and DELETE */
	auth_default(c57);
	assert_int_equal(txh(c57, "00 47 00 9A 05 AC 03 80 01 E0", NULL),
	    0x9000);
	assert_int_equal(txh(c57, "00 87 E0 9A 09 7C 07 82 00 81 03 61 62 63",
	    NULL), 0x6982);
	verify_pin(c57);
	assert_int_equal(txh(c57, "00 87 E0 9A 09 7C 07 82 00 81 03 61 62 63",
	    NULL), 0x9000);
	assert_int_equal(txh(c57, "00 F6 82 9A", NULL), 0x9000);
	assert_int_equal(txh(c57, "00 F7 00 9A", NULL), 0x6A88);
	assert_int_equal(txh(c57, "00 F7 00 82", NULL), 0x9000);
	assert_int_equal(txh(c57, "00 F6 82 F9", NULL), 0x6A86);
	assert_int_equal(txh(c57, "00 F6 FF 82", NULL), 0x9000);
	assert_int_equal(txh(c57, "00 F7 00 82", NULL), 0x6A88);
	sim_card_power(c57);
	assert_int_equal(txh(c57, "00 F6 FF 9D", NULL), 0x6982);
	sim_card_free(c57);
	sim_card_free(c43);
}

static void
remove_tree(const char *dir)
{
	const char *names[] = { "root.pem", "root.key", "intermediate.pem",
		"intermediate.key" };
	char p[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/vendor/%s", dir, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/vendor", dir);
	rmdir(p);
	rmdir(dir);
}

static uint16_t
read_all(struct sim_card *c, const char *hex, uint8_t *out, size_t cap,
    size_t *len)
{
	struct rx r;
	uint16_t sw = txh(c, hex, &r);

	*len = 0;
	for (;;) {
		assert_true(*len + r.len <= cap);
		memcpy(out + *len, r.data, r.len);
		*len += r.len;
		if ((sw & 0xFF00) != 0x6100)
			return sw;
		sw = txh(c, "00 C0 00 00 00", &r);
	}
}

static void
test_simapplet_attestation(void **state)
{
	struct sim_card *c = *state;
	char dir[] = "/tmp/cs-simapplet.XXXXXX", vend[64];
	struct sim_device_info dev = { { 5, 4, 3 }, 12345678, 1, false, false, false };
	struct sim_key *f9 = NULL;
	uint8_t *cert = NULL, buf[4096];
	size_t certlen = 0, n;

	assert_non_null(mkdtemp(dir));
	snprintf(vend, sizeof(vend), "%s/vendor", dir);
	assert_int_equal(sim_vendor_init(vend), CS_OK);
	assert_int_equal(sim_vendor_issue_f9(vend, &dev, &f9, &cert, &certlen),
	    CS_OK);
	assert_int_equal(sim_card_set_attestation(c, f9, cert, certlen), CS_OK);
	assert_true(sim_card_has_attestation(c));
	auth_default(c);
	gen_p256(c, 0x9A, 0x00);
	assert_int_equal(read_all(c, "00 F9 9A 00 00", buf, sizeof(buf), &n),
	    0x9000);
	assert_true(n > 300);
	assert_int_equal(buf[0], 0x30);
	assert_int_equal(buf[1], 0x82);
	assert_int_equal(n, 4 + (size_t)((buf[2] << 8) | buf[3]));
	assert_int_equal(txh(c, "00 F9 9C 00 00", NULL), 0x6A80); /* empty */
	assert_int_equal(txh(c, "00 F9 F9 00 00", NULL), 0x6A80);
	assert_int_equal(txh(c, "00 FE 11 9E 22 06 20 01 01 01 01 01 01 01 01 "
	    "01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 "
	    "01 05", NULL), 0x9000);
	assert_int_equal(txh(c, "00 F7 00 9E", NULL), 0x9000);
	assert_int_equal(txh(c, "00 F9 9E 00 00", NULL), 0x6A80); /* imported */
	/* the F9 certificate object: 53 { 70 cert } */
	assert_int_equal(read_all(c, "00 CB 3F FF 05 5C 03 5F FF 01", buf,
	    sizeof(buf), &n), 0x9000);
	assert_int_equal(buf[0], 0x53);
	assert_int_equal(n, certlen + 8);
	assert_memory_equal(buf + n - certlen, cert, certlen);
	/* a plain PIV card: no F9 instruction, no 5FFF01 */
	sim_card_enable_attestation(c, false);
	assert_int_equal(txh(c, "00 F9 9A 00 00", NULL), 0x6D00);
	assert_int_equal(txh(c, "00 CB 3F FF 05 5C 03 5F FF 01", NULL), 0x6A82);
	cs_free(cert);
	remove_tree(dir);
}

/* Random garbage never crashes the card and always gets an SW. */
static void
test_simapplet_garbage(void **state)
{
	struct sim_card *c = *state;
	uint8_t cmd[300];
	size_t i, j, n;
	uint32_t x = 12345;

	auth_default(c);
	for (i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		n = (x >> 16) % sizeof(cmd);
		for (j = 0; j < n; j++) {
			x = x * 1103515245u + 12345u;
			cmd[j] = (uint8_t)(x >> 16);
		}
		if (n > 1 && cmd[1] == 0x47)
			cmd[1] = 0x48; /* keep RSA key generation out */
		(void)tx(c, cmd, n, NULL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_simapplet_parse_cases),
		T(test_simapplet_select_template),
		T(test_simapplet_select_drops_security_state),
		T(test_simapplet_le_probe),
		T(test_simapplet_command_and_response_chaining),
		T(test_simapplet_chain_interrupted),
		T(test_simapplet_put_data_needs_auth),
		T(test_simapplet_objects),
		T(test_simapplet_verify_counters),
		T(test_simapplet_verify_status_and_reset),
		T(test_simapplet_change_reference),
		T(test_simapplet_mgm_3des_worked_example),
		T(test_simapplet_mgm_dotnet_form_and_challenge),
		T(test_simapplet_pin_always),
		T(test_simapplet_generate_checks),
		T(test_simapplet_metadata),
		T(test_simapplet_reset_needs_both_blocked),
		T(test_simapplet_set_pin_retries),
		T(test_simapplet_garbage),
		T(test_simapplet_firmware_gates),
		T(test_simapplet_attestation),
		cmocka_unit_test(test_simapplet_mgm_aes192),
		cmocka_unit_test(test_simapplet_state_roundtrip),
		cmocka_unit_test(test_simapplet_state_corrupt_refused),
		cmocka_unit_test(test_simapplet_state_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
