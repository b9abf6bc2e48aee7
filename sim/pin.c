/*
 * PIN and PUK: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and the
 * YubiKey SET PIN RETRIES (piv-apdu.md §3.3, §4.4-§4.6, §4.13).
 *
 * A wrong value decrements the counter, a right one restores it to the
 * maximum; at 0 the reference is blocked (6983) and nothing is compared.
 * All-FF or short values are simply wrong values (ykman blocks PIN and PUK
 * that way before RESET).
 */
#include <string.h>

#include "applet_int.h"

#include "banned.h"

#define REF_PIN 0x80
#define REF_PUK 0x81

/* 63Cx; the attempt that blocks answers 63C0, later ones 6983. */
static uint16_t
tries_sw(uint8_t left)
{
	return (uint16_t)(0x63C0 | (left > 15 ? 15 : left));
}

/* Characters before the FF padding; 6-8 are acceptable (§3.3). */
static bool
value_ok(const uint8_t *v)
{
	size_t n = 0;

	while (n < SIM_PIN_LEN && v[n] != 0xFF)
		n++;
	return n >= 6;
}

/*
 * Compare against a reference value with its counter. Returns SW_OK on a
 * match (counter restored), 63Cx/6983 otherwise.
 */
static uint16_t
check_ref(struct sim_card *c, const uint8_t *ref, uint8_t *left, uint8_t max,
    const uint8_t *given)
{
	if (*left == 0)
		return SW_BLOCKED;
	if (!cs_memeq_secret(ref, given, SIM_PIN_LEN)) {
		(*left)--;
		c->dirty = true;
		return tries_sw(*left);
	}
	if (*left != max)
		c->dirty = true;
	*left = max;
	return SW_OK;
}

static uint16_t
verify_status(const struct sim_card *c)
{
	if (c->pin_left == 0)
		return SW_BLOCKED;
	if (c->pin_ok)
		return SW_OK;
	return tries_sw(c->pin_left);
}

uint16_t
simi_cmd_verify(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	uint16_t sw;

	if (cmd->p1 == 0xFF && cmd->p2 == REF_PIN &&
	    cs_cur_is_empty(&cmd->data)) {
		c->pin_ok = false; /* SP 800-73-4: reset security status */
		return SW_OK;
	}
	if (cmd->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (cmd->p2 != REF_PIN)
		return SW_REF_NOT_FOUND;
	if (cs_cur_is_empty(&cmd->data))
		return verify_status(c);
	if (cs_cur_len(&cmd->data) != SIM_PIN_LEN)
		return SW_WRONG_DATA;
	sw = check_ref(c, c->pin, &c->pin_left, c->pin_max,
	    cs_cur_ptr(&cmd->data));
	c->pin_ok = sw == SW_OK;
	c->pin_always = sw == SW_OK;
	return sw;
}

uint16_t
simi_cmd_change_ref(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	const uint8_t *d = cs_cur_ptr(&cmd->data);
	uint8_t *ref, *left, max;
	uint16_t sw;

	if (cmd->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (cmd->p2 == REF_PIN) {
		ref = c->pin, left = &c->pin_left, max = c->pin_max;
	} else if (cmd->p2 == REF_PUK) {
		ref = c->puk, left = &c->puk_left, max = c->puk_max;
	} else
		return SW_REF_NOT_FOUND;
	if (cs_cur_len(&cmd->data) != 2 * SIM_PIN_LEN)
		return SW_WRONG_DATA;
	if ((sw = check_ref(c, ref, left, max, d)) != SW_OK) {
		if (cmd->p2 == REF_PIN)
			c->pin_ok = false;
		return sw;
	}
	if (!value_ok(d + SIM_PIN_LEN))
		return SW_WRONG_DATA;
	memcpy(ref, d + SIM_PIN_LEN, SIM_PIN_LEN);
	c->dirty = true;
	if (cmd->p2 == REF_PIN)
		c->pin_ok = true;
	return SW_OK;
}

uint16_t
simi_cmd_reset_retry(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	const uint8_t *d = cs_cur_ptr(&cmd->data);
	uint16_t sw;

	if (cmd->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (cmd->p2 != REF_PIN)
		return SW_REF_NOT_FOUND;
	if (cs_cur_len(&cmd->data) != 2 * SIM_PIN_LEN)
		return SW_WRONG_DATA;
	if ((sw = check_ref(c, c->puk, &c->puk_left, c->puk_max, d)) != SW_OK)
		return sw;
	if (!value_ok(d + SIM_PIN_LEN))
		return SW_WRONG_DATA;
	memcpy(c->pin, d + SIM_PIN_LEN, SIM_PIN_LEN);
	c->pin_left = c->pin_max;
	c->pin_ok = false;
	c->dirty = true;
	return SW_OK;
}

uint16_t
simi_cmd_set_pin_retries(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	if (!c->mgm_ok || !c->pin_ok)
		return SW_SECURITY;
	if (cmd->p1 == 0)
		return SW_WRONG_P1P2;
	simi_factory_pins(c);
	c->pin_max = c->pin_left = cmd->p1;
	c->puk_max = c->puk_left = cmd->p2;
	c->pin_ok = false;
	c->dirty = true;
	return SW_OK;
}
