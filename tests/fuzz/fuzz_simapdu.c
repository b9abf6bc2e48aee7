/*
 * Fuzz target for the simulated card's APDU dispatcher (sim/applet.c and
 * the command handlers) and, on the resulting card, the state encoder and
 * decoder (sim/state.c).
 *
 * Input: one flag byte, then APDUs, each prefixed by a 2-byte big-endian
 * length (a short last record takes the rest). Flags: 0x01 authenticate
 * with the default management key first, 0x02 verify the default PIN
 * first, 0x04 power-cycle between APDUs. A fresh card per input.
 *
 * Covers: sim_card_apdu (framing, chaining, 61xx, every INS handler),
 * sim_state_encode, sim_state_decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/applet.h"
#include "../../sim/simcrypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t mgm_default[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

static void
send(struct sim_card *c, const uint8_t *cmd, size_t n, uint8_t *resp,
    size_t *rl)
{
	sim_card_apdu(c, cmd, n, resp, 300, rl);
	if (*rl < 2)
		abort(); /* the card must always answer with an SW */
}

static void
pre_auth(struct sim_card *c)
{
	static const uint8_t req[] = { 0x00, 0x87, 0x03, 0x9B, 0x04, 0x7C,
		0x02, 0x80, 0x00 };
	uint8_t resp[300], cmd[27] = { 0x00, 0x87, 0x03, 0x9B, 0x16, 0x7C,
		0x14, 0x80, 0x08 };
	size_t rl;

	send(c, req, sizeof(req), resp, &rl);
	if (rl != 14 ||
	    sim_mgm_crypt(0x03, mgm_default, 24, false, resp + 4, cmd + 9) !=
	    CS_OK)
		abort();
	cmd[17] = 0x81;
	cmd[18] = 0x08;
	memset(cmd + 19, 0x42, 8);
	send(c, cmd, sizeof(cmd), resp, &rl);
	if (resp[rl - 2] != 0x90)
		abort();
}

static void
pre_pin(struct sim_card *c)
{
	static const uint8_t v[] = { 0x00, 0x20, 0x00, 0x80, 0x08, 0x31, 0x32,
		0x33, 0x34, 0x35, 0x36, 0xFF, 0xFF };
	uint8_t resp[300];
	size_t rl;

	send(c, v, sizeof(v), resp, &rl);
}

/* RSA key generation takes up to seconds: keep it out of the fuzz loop. */
static bool
slow_keygen(const struct cs_cur *apdu)
{
	const uint8_t *p = cs_cur_ptr(apdu);
	size_t n = cs_cur_len(apdu), i;

	if (n < 2 || p[1] != 0x47)
		return false;
	for (i = 0; i + 2 < n; i++)
		if (p[i] == 0x80 && p[i + 1] == 0x01 &&
		    (p[i + 2] == 0x05 || p[i + 2] == 0x06 ||
		    p[i + 2] == 0x07 || p[i + 2] == 0x16))
			return true;
	return false;
}

/* The state of whatever card the input produced must round-trip. */
static void
check_state(const struct sim_card *c)
{
	struct cs_buf a = CS_BUF_INIT_SECRET(SIM_STATE_MAX);
	struct cs_buf b = CS_BUF_INIT_SECRET(SIM_STATE_MAX);
	struct sim_card *d = NULL;
	const char *why;

	if (sim_state_encode(c, &a) != CS_OK)
		abort();
	if (sim_state_decode(a.data, a.len, &d, &why) != CS_OK ||
	    sim_state_encode(d, &b) != CS_OK || a.len != b.len ||
	    !cs_memeq_public(a.data, b.data, a.len))
		abort();
	/* and a damaged copy must be refused, never crash */
	if (a.len > 20) {
		a.data[a.len / 2] ^= 0x01;
		sim_card_free(d);
		d = NULL;
		if (sim_state_decode(a.data, a.len, &d, &why) == CS_OK)
			abort();
	}
	sim_card_free(d);
	cs_buf_release(&a);
	cs_buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_card_config cfg = { { 5, 7, 2 }, 12345678 };
	struct sim_card *c = NULL;
	struct cs_cur in, apdu;
	uint8_t flags = 0, resp[300];
	uint16_t n;
	size_t rl;

	cs_cur_init(&in, data, size);
	if (cs_cur_get_u8(&in, &flags) != CS_OK)
		return 0;
	if (sim_card_new(&cfg, &c) != CS_OK)
		return 0;
	if (flags & 0x01)
		pre_auth(c);
	if (flags & 0x02)
		pre_pin(c);
	while (!cs_cur_is_empty(&in)) {
		if (cs_cur_get_u16(&in, &n) != CS_OK)
			n = (uint16_t)cs_cur_len(&in);
		if (n > cs_cur_len(&in))
			n = (uint16_t)cs_cur_len(&in);
		if (cs_cur_get_bytes(&in, n, &apdu) != CS_OK)
			break;
		if (slow_keygen(&apdu))
			continue;
		send(c, cs_cur_ptr(&apdu), cs_cur_len(&apdu), resp, &rl);
		if (flags & 0x04)
			sim_card_power(c);
	}
	check_state(c);
	sim_card_free(c);
	return 0;
}
