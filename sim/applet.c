/*
 * The simulated card's front end: APDU framing (ISO 7816-4 cases 1-4, short
 * and extended), command chaining, 61xx response chaining, application
 * selection and the instruction table. Command bodies live in objects.c,
 * pin.c, auth.c and keys.c. References: piv-apdu.md §1-§2, §4.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet_int.h"

#include "banned.h"

const uint8_t sim_card_atr[23] = {
	0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0,
	0x21, 0xC0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4B, 0x65, 0x79, 0x40,
};

/* clang-format off */
static const uint8_t piv_aid[11] = {
	0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
};
static const uint8_t mgmt_aid[8] = {
	0xA0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17,
};
/* Application property template of a real YubiKey (§2.2). */
static const uint8_t piv_select_resp[19] = {
	0x61, 0x11, 0x4F, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
	0x79, 0x07, 0x4F, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08,
};
static const uint8_t default_pin[SIM_PIN_LEN] = {
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xFF, 0xFF,
};
static const uint8_t default_puk[SIM_PIN_LEN] = {
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
};
static const uint8_t default_mgm[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};
static const uint8_t slot_refs[SIM_SLOT_COUNT] = {
	0x9A, 0x9C, 0x9D, 0x9E,
	0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B,
	0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
	0xF9,
};
/* clang-format on */

/* A parsed command APDU (§1.3). */
struct apdu {
	uint8_t cla, ins, p1, p2;
	struct cs_cur data;
	size_t le; /* 256 when absent */
};

static uint16_t cmd_version(struct sim_card *, const struct sim_cmd *,
    struct cs_buf *);
static uint16_t cmd_serial(struct sim_card *, const struct sim_cmd *,
    struct cs_buf *);
static uint16_t cmd_read_config(struct sim_card *, const struct sim_cmd *,
    struct cs_buf *);

struct ins_entry {
	uint8_t ins;
	enum sim_app app;
	uint32_t fw_min;
	sim_handler *fn;
	unsigned int cost_ms;
};

static const struct ins_entry ins_table[] = {
	{ 0xCB, SIM_APP_PIV, 0, simi_cmd_get_data, 3 },
	{ 0xDB, SIM_APP_PIV, 0, simi_cmd_put_data, 20 },
	{ 0x20, SIM_APP_PIV, 0, simi_cmd_verify, 9 },
	{ 0x24, SIM_APP_PIV, 0, simi_cmd_change_ref, 15 },
	{ 0x2C, SIM_APP_PIV, 0, simi_cmd_reset_retry, 15 },
	{ 0x87, SIM_APP_PIV, 0, simi_cmd_general_auth, 5 },
	{ 0x47, SIM_APP_PIV, 0, simi_cmd_generate, 100 },
	{ 0xFD, SIM_APP_PIV, 0, cmd_version, 1 },
	{ 0xF8, SIM_APP_PIV, SIM_FW(5, 0, 0), cmd_serial, 1 },
	{ 0xF7, SIM_APP_PIV, SIM_FW(5, 3, 0), simi_cmd_metadata, 2 },
	{ 0xFF, SIM_APP_PIV, 0, simi_cmd_set_mgm, 20 },
	{ 0xFB, SIM_APP_PIV, 0, simi_cmd_reset, 200 },
	{ 0xFA, SIM_APP_PIV, 0, simi_cmd_set_pin_retries, 20 },
	{ 0xFE, SIM_APP_PIV, 0, simi_cmd_import, 50 },
	{ 0xF9, SIM_APP_PIV, SIM_FW(4, 3, 0), simi_cmd_attest, 200 },
	{ 0xF6, SIM_APP_PIV, SIM_FW(5, 7, 0), simi_cmd_move_key, 20 },
	{ 0x1D, SIM_APP_MGMT, 0, cmd_read_config, 1 },
};

uint32_t
simi_fw(const struct sim_card *c)
{
	return SIM_FW(c->fw[0], c->fw[1], c->fw[2]);
}

uint16_t
simi_sw_of(enum cs_err r)
{
	switch (r) {
	case CS_OK:
		return SW_OK;
	case CS_ERR_MALFORMED:
	case CS_ERR_TRUNCATED:
	case CS_ERR_ARG:
	case CS_ERR_UNSUPPORTED:
		return SW_WRONG_DATA;
	case CS_ERR_LIMIT:
		return SW_NO_SPACE;
	default:
		return SW_UNKNOWN;
	}
}

void
simi_session_clear(struct sim_card *c)
{
	c->pin_ok = c->mgm_ok = c->pin_always = false;
	c->auth = SIM_AUTH_NONE;
	cs_wipe(c->auth_val, sizeof(c->auth_val));
	c->auth_len = 0;
	c->chaining = false;
	cs_buf_reset(&c->chain);
	cs_buf_reset(&c->resp);
	c->resp_off = 0;
}

void
simi_factory_pins(struct sim_card *c)
{
	memcpy(c->pin, default_pin, sizeof(c->pin));
	memcpy(c->puk, default_puk, sizeof(c->puk));
	c->pin_max = c->pin_left = 3;
	c->puk_max = c->puk_left = 3;
}

void
simi_factory_secrets(struct sim_card *c)
{
	simi_factory_pins(c);
	c->mgm_alg = SIM_ALG_3DES;
	c->mgm_touch = 0x01;
	cs_wipe(c->mgm_key, sizeof(c->mgm_key));
	memcpy(c->mgm_key, default_mgm, sizeof(default_mgm));
	c->mgm_keylen = sizeof(default_mgm);
}

bool
simi_pin_is_default(const struct sim_card *c)
{
	return cs_memeq_secret(c->pin, default_pin, SIM_PIN_LEN);
}

bool
simi_puk_is_default(const struct sim_card *c)
{
	return cs_memeq_secret(c->puk, default_puk, SIM_PIN_LEN);
}

bool
simi_mgm_is_default(const struct sim_card *c)
{
	return c->mgm_keylen == sizeof(default_mgm) &&
	    cs_memeq_secret(c->mgm_key, default_mgm, sizeof(default_mgm));
}

enum cs_err
sim_card_new(const struct sim_card_config *cfg, struct sim_card **out)
{
	struct sim_card *c;
	size_t i;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CS_ERR_NOMEM;
	memcpy(c->fw, cfg->fw, sizeof(c->fw));
	c->serial = cfg->serial;
	for (i = 0; i < SIM_SLOT_COUNT; i++)
		c->slots[i].ref = slot_refs[i];
	simi_factory_secrets(c);
	cs_buf_init(&c->chain, SIM_CHAIN_MAX, true);
	cs_buf_init(&c->resp, SIM_RESP_MAX, true);
	c->attestation = true;
	c->app = SIM_APP_PIV;
	*out = c;
	return CS_OK;
}

void
sim_card_free(struct sim_card *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < SIM_SLOT_COUNT; i++)
		simi_slot_clear(&c->slots[i]);
	simi_obj_clear_all(c, false);
	cs_buf_release(&c->chain);
	cs_buf_release(&c->resp);
	cs_wipe(c, sizeof(*c));
	free(c);
}

void
sim_card_power(struct sim_card *c)
{
	simi_session_clear(c);
	c->app = SIM_APP_PIV;
}

bool
sim_card_take_dirty(struct sim_card *c)
{
	bool d = c->dirty;

	c->dirty = false;
	return d;
}

unsigned int
sim_card_last_cost_ms(const struct sim_card *c)
{
	return c->cost_ms;
}

bool
sim_card_waited_touch(const struct sim_card *c)
{
	return c->touch_wait;
}

uint32_t
sim_card_fw(const struct sim_card *c)
{
	return simi_fw(c);
}

uint32_t
sim_card_serial(const struct sim_card *c)
{
	return c->serial;
}

void
sim_card_enable_attestation(struct sim_card *c, bool on)
{
	c->attestation = on;
}

/* --- APDU framing (§1.3) --- */

static uint16_t
parse_ext(struct cs_cur *c, struct apdu *a)
{
	uint16_t lc, le;
	size_t n = cs_cur_len(c);

	if (n == 2) { /* case 2E */
		if (cs_cur_get_u16(c, &le) != CS_OK)
			return SW_WRONG_LENGTH;
		a->le = le == 0 ? 65536 : le;
		return SW_OK;
	}
	if (cs_cur_get_u16(c, &lc) != CS_OK || lc == 0)
		return SW_WRONG_LENGTH;
	if (cs_cur_get_bytes(c, lc, &a->data) != CS_OK)
		return SW_WRONG_LENGTH;
	if (cs_cur_len(c) == 0) /* case 3E */
		return SW_OK;
	if (cs_cur_len(c) != 2 || cs_cur_get_u16(c, &le) != CS_OK)
		return SW_WRONG_LENGTH;
	a->le = le == 0 ? 65536 : le; /* case 4E */
	return SW_OK;
}

static uint16_t
parse_apdu(const uint8_t *cmd, size_t len, struct apdu *a)
{
	struct cs_cur c;
	uint8_t p3, le;

	memset(a, 0, sizeof(*a));
	a->le = 256;
	cs_cur_init(&c, cmd, len);
	if (cs_cur_get_u8(&c, &a->cla) != CS_OK ||
	    cs_cur_get_u8(&c, &a->ins) != CS_OK ||
	    cs_cur_get_u8(&c, &a->p1) != CS_OK ||
	    cs_cur_get_u8(&c, &a->p2) != CS_OK)
		return SW_WRONG_LENGTH;
	if (cs_cur_get_u8(&c, &p3) != CS_OK) /* case 1 */
		return SW_OK;
	if (cs_cur_len(&c) == 0) { /* case 2S */
		a->le = p3 == 0 ? 256 : p3;
		return SW_OK;
	}
	if (p3 == 0)
		return parse_ext(&c, a);
	if (cs_cur_get_bytes(&c, p3, &a->data) != CS_OK)
		return SW_WRONG_LENGTH;
	if (cs_cur_len(&c) == 0) /* case 3S */
		return SW_OK;
	if (cs_cur_len(&c) != 1 || cs_cur_get_u8(&c, &le) != CS_OK)
		return SW_WRONG_LENGTH;
	a->le = le == 0 ? 256 : le; /* case 4S */
	return SW_OK;
}

/* --- response output (§1.5) --- */

static void
put_sw(uint8_t *resp, size_t cap, size_t *resplen, uint16_t sw)
{
	if (*resplen + 2 > cap)
		return;
	resp[(*resplen)++] = (uint8_t)(sw >> 8);
	resp[(*resplen)++] = (uint8_t)sw;
}

/* Send the next piece of the pending response: min(Le, 256) bytes. */
static void
send_piece(struct sim_card *c, size_t le, uint8_t *resp, size_t cap,
    size_t *resplen)
{
	size_t avail = c->resp.len - c->resp_off, n, left;

	n = le < SIM_PIECE_MAX ? le : SIM_PIECE_MAX;
	if (n > avail)
		n = avail;
	if (n > cap - 2)
		n = cap - 2;
	if (n > 0)
		memcpy(resp, c->resp.data + c->resp_off, n);
	*resplen = n;
	c->resp_off += n;
	left = avail - n;
	if (left == 0) {
		cs_buf_reset(&c->resp);
		c->resp_off = 0;
		put_sw(resp, cap, resplen, SW_OK);
		return;
	}
	put_sw(resp, cap, resplen,
	    (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
}

static bool
has_pending(const struct sim_card *c)
{
	return c->resp.len > c->resp_off;
}

/* --- applications (§2) --- */

static uint16_t
select_app(struct sim_card *c, const struct apdu *a)
{
	size_t n = cs_cur_len(&a->data);

	if (a->p1 != 0x04) {
		simi_session_clear(c);
		return SW_NOT_FOUND;
	}
	if (n >= 5 && n <= sizeof(piv_aid) &&
	    cs_memeq_public(cs_cur_ptr(&a->data), piv_aid, n)) {
		if (c->app != SIM_APP_PIV)
			simi_session_clear(c);
		c->app = SIM_APP_PIV;
		return cs_buf_put(&c->resp, piv_select_resp,
		    sizeof(piv_select_resp)) == CS_OK ? SW_OK : SW_UNKNOWN;
	}
	simi_session_clear(c);
	if (cs_cur_eq(&a->data, mgmt_aid, sizeof(mgmt_aid))) {
		char text[48];
		int k;

		c->app = SIM_APP_MGMT;
		k = snprintf(text, sizeof(text),
		    "Virtual mgr - FW version %u.%u.%u", c->fw[0], c->fw[1],
		    c->fw[2]);
		if (k < 0 || (size_t)k >= sizeof(text))
			return SW_UNKNOWN;
		return cs_buf_put(&c->resp, text, (size_t)k) == CS_OK ?
		    SW_OK : SW_UNKNOWN;
	}
	return SW_NOT_FOUND;
}

static uint16_t
cmd_version(struct sim_card *c, const struct sim_cmd *cmd, struct cs_buf *out)
{
	return cs_buf_put(out, c->fw, sizeof(c->fw)) == CS_OK ? SW_OK :
	    SW_UNKNOWN;
}

static uint16_t
cmd_serial(struct sim_card *c, const struct sim_cmd *cmd, struct cs_buf *out)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_buf_put_u16(out, (uint16_t)(c->serial >> 16))) != CS_OK ||
	    (r = cs_buf_put_u16(out, (uint16_t)c->serial)) != CS_OK)
		return SW_UNKNOWN;
	return SW_OK;
}

/* Management READ CONFIG: LL + device-info TLVs, PIV only (§2.5). */
static uint16_t
cmd_read_config(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	uint8_t caps[2] = { 0x00, 0x10 };
	uint8_t ser[4] = { (uint8_t)(c->serial >> 24),
		(uint8_t)(c->serial >> 16), (uint8_t)(c->serial >> 8),
		(uint8_t)c->serial };
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_buf_put_u8(out, 0)) != CS_OK ||
	    (r = cs_tlv_put(out, 0x01, caps, sizeof(caps))) != CS_OK ||
	    (r = cs_tlv_put(out, 0x02, ser, sizeof(ser))) != CS_OK ||
	    (r = cs_tlv_put(out, 0x03, caps, sizeof(caps))) != CS_OK ||
	    (r = cs_tlv_put_u8(out, 0x04, 0x01)) != CS_OK ||
	    (r = cs_tlv_put(out, 0x05, c->fw, sizeof(c->fw))) != CS_OK)
		return SW_UNKNOWN;
	out->data[0] = (uint8_t)(out->len - 1);
	return SW_OK;
}

/* --- dispatch --- */

static const struct ins_entry *
find_ins(uint8_t ins, enum sim_app app)
{
	size_t i;

	for (i = 0; i < sizeof(ins_table) / sizeof(ins_table[0]); i++)
		if (ins_table[i].ins == ins && ins_table[i].app == app)
			return &ins_table[i];
	return NULL;
}

static uint16_t
execute(struct sim_card *c, const struct sim_cmd *cmd)
{
	const struct ins_entry *e;
	uint16_t sw;

	if (cmd->ins != 0x87) {
		c->auth = SIM_AUTH_NONE;
		c->auth_len = 0;
	}
	if ((e = find_ins(cmd->ins, c->app)) == NULL ||
	    simi_fw(c) < e->fw_min ||
	    (cmd->ins == 0xF9 && !c->attestation))
		return SW_INS;
	c->cost_ms = e->cost_ms;
	sw = e->fn(c, cmd, &c->resp);
	if (sw != SW_OK)
		cs_buf_reset(&c->resp);
	return sw;
}

/* Buffer one part of a chained command (§1.4). */
static uint16_t
chain_part(struct sim_card *c, const struct apdu *a, bool armed)
{
	if (c->chaining && (c->chain_ins != a->ins || c->chain_p1 != a->p1 ||
	    c->chain_p2 != a->p2)) {
		c->chaining = false;
		cs_buf_reset(&c->chain);
	}
	if (!c->chaining) {
		c->chaining = true;
		c->chain_ins = a->ins;
		c->chain_p1 = a->p1;
		c->chain_p2 = a->p2;
		c->chain_pin_always = armed;
	}
	if (cs_buf_put_cur(&c->chain, &a->data) != CS_OK) {
		c->chaining = false;
		cs_buf_reset(&c->chain);
		return SW_NO_SPACE;
	}
	return SW_OK;
}

static bool
continues_chain(const struct sim_card *c, const struct apdu *a)
{
	return c->chaining && c->chain_ins == a->ins &&
	    c->chain_p1 == a->p1 && c->chain_p2 == a->p2;
}

static uint16_t
dispatch(struct sim_card *c, const struct apdu *a)
{
	struct sim_cmd cmd;
	bool armed = false, cont = continues_chain(c, a);
	uint16_t sw;

	if (!cont) {
		armed = c->pin_always;
		c->pin_always = false;
	}
	if (a->cla & 0x10)
		return chain_part(c, a, armed);
	memset(&cmd, 0, sizeof(cmd));
	cmd.ins = a->ins;
	cmd.p1 = a->p1;
	cmd.p2 = a->p2;
	cmd.pin_always = armed;
	cmd.data = a->data;
	if (cont) {
		if (chain_part(c, a, false) != SW_OK)
			return SW_NO_SPACE;
		cmd.pin_always = c->chain_pin_always;
		cs_buf_cur(&c->chain, &cmd.data);
		c->chaining = false;
	} else if (c->chaining) {
		c->chaining = false;
		cs_buf_reset(&c->chain);
	}
	sw = execute(c, &cmd);
	cs_buf_reset(&c->chain);
	return sw;
}

static uint16_t
handle(struct sim_card *c, const struct apdu *a)
{
	if (a->ins == 0xA4 && (a->cla & 0x10) == 0) {
		c->cost_ms = 1;
		c->chaining = false;
		cs_buf_reset(&c->chain);
		c->pin_always = false;
		return select_app(c, a);
	}
	if (c->app == SIM_APP_NONE)
		return SW_INS;
	return dispatch(c, a);
}

void
sim_card_apdu(struct sim_card *c, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t cap, size_t *resplen)
{
	struct apdu a;
	uint16_t sw;

	*resplen = 0;
	c->cost_ms = 0;
	c->touch_wait = false;
	if (cap < 2)
		return;
	if ((sw = parse_apdu(cmd, len, &a)) != SW_OK)
		goto status;
	if ((a.cla & ~0x10) != 0) {
		sw = SW_CLA;
		goto status;
	}
	if (a.ins == 0xC0 && a.cla == 0) { /* GET RESPONSE */
		c->pin_always = false;
		if (!has_pending(c)) {
			sw = SW_NO_PENDING;
			goto status;
		}
		send_piece(c, a.le, resp, cap, resplen);
		return;
	}
	cs_buf_reset(&c->resp);
	c->resp_off = 0;
	sw = handle(c, &a);
	if (sw == SW_OK && c->resp.len > 0) {
		send_piece(c, a.le, resp, cap, resplen);
		return;
	}
	cs_buf_reset(&c->resp);
status:
	put_sw(resp, cap, resplen, sw);
}
