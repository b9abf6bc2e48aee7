/*
 * GENERAL AUTHENTICATE (piv-apdu.md §4.7): management-key mutual and
 * external authentication on 9B, and private-key operations (raw RSA,
 * ECDSA, Ed25519, ECDH) on the key slots with their PIN policy (§4.18).
 */
#include <string.h>

#include "applet_int.h"

#include "banned.h"

#define REF_MGM 0x9B

/* The sub-TLVs of a dynamic authentication template 7C. */
struct ga_tpl {
	bool has80, has81, has82, has85;
	struct cs_cur v80, v81, v82, v85;
};

static uint16_t
take_tag(bool *has, struct cs_cur *dst, const struct cs_cur *val)
{
	if (*has)
		return SW_WRONG_DATA; /* duplicate tag */
	*has = true;
	*dst = *val;
	return SW_OK;
}

static uint16_t
parse_tpl(const struct cs_cur *data, struct ga_tpl *t)
{
	struct cs_cur tpl, val;
	uint32_t tag;
	uint16_t sw = SW_UNKNOWN;

	memset(t, 0, sizeof(*t));
	if (cs_tlv_parse_single(data, 0x7C, &tpl) != CS_OK)
		return SW_WRONG_DATA;
	while (!cs_cur_is_empty(&tpl)) {
		if (cs_tlv_get(&tpl, &tag, &val) != CS_OK)
			return SW_WRONG_DATA;
		if (tag == 0x80)
			sw = take_tag(&t->has80, &t->v80, &val);
		else if (tag == 0x81)
			sw = take_tag(&t->has81, &t->v81, &val);
		else if (tag == 0x82)
			sw = take_tag(&t->has82, &t->v82, &val);
		else if (tag == 0x85)
			sw = take_tag(&t->has85, &t->v85, &val);
		else
			return SW_WRONG_DATA;
		if (sw != SW_OK)
			return sw;
	}
	return SW_OK;
}

/* Answer 7C { tag value }. */
static uint16_t
put_tpl(struct cs_buf *out, uint32_t tag, const uint8_t *v, size_t n)
{
	size_t mark;

	cs_tlv_open(out, &mark);
	if (cs_tlv_put(out, tag, v, n) != CS_OK ||
	    cs_tlv_close(out, 0x7C, mark) != CS_OK)
		return SW_UNKNOWN;
	return SW_OK;
}

static void
auth_clear(struct sim_card *c)
{
	c->auth = SIM_AUTH_NONE;
	cs_wipe(c->auth_val, sizeof(c->auth_val));
	c->auth_len = 0;
}

/* Step 1 of mutual (witness) or external (challenge) authentication. */
static uint16_t
mgm_begin(struct sim_card *c, enum sim_auth_pending kind, size_t block,
    struct cs_buf *out)
{
	uint8_t enc[SIM_AUTH_BLOCK_MAX];
	uint16_t sw;

	auth_clear(c);
	if (sim_random(c->auth_val, block) != CS_OK)
		return SW_UNKNOWN;
	c->auth_len = block;
	c->auth = kind;
	if (kind == SIM_AUTH_CHALLENGE)
		return put_tpl(out, 0x81, c->auth_val, block);
	if (sim_mgm_crypt(c->mgm_alg, c->mgm_key, c->mgm_keylen, true,
	    c->auth_val, enc) != CS_OK)
		return SW_UNKNOWN;
	sw = put_tpl(out, 0x80, enc, block);
	cs_wipe(enc, sizeof(enc));
	return sw;
}

/* Mutual step 2: host proves W, card answers E_K(C). */
static uint16_t
mgm_mutual(struct sim_card *c, const struct ga_tpl *t, size_t block,
    struct cs_buf *out)
{
	uint8_t enc[SIM_AUTH_BLOCK_MAX];
	bool ok;
	uint16_t sw;

	ok = c->auth == SIM_AUTH_WITNESS && c->auth_len == block &&
	    cs_memeq_secret(cs_cur_ptr(&t->v80), c->auth_val, block);
	auth_clear(c);
	if (!ok) {
		c->mgm_ok = false;
		return SW_SECURITY;
	}
	if (sim_mgm_crypt(c->mgm_alg, c->mgm_key, c->mgm_keylen, true,
	    cs_cur_ptr(&t->v81), enc) != CS_OK)
		return SW_UNKNOWN;
	c->mgm_ok = true;
	c->touch_wait = c->mgm_touch == 0x02 || c->mgm_touch == 0x03;
	sw = put_tpl(out, 0x82, enc, block);
	cs_wipe(enc, sizeof(enc));
	return sw;
}

/* External step 2: host answers E_K(C) for the card's challenge. */
static uint16_t
mgm_external(struct sim_card *c, const struct ga_tpl *t, size_t block)
{
	uint8_t enc[SIM_AUTH_BLOCK_MAX];
	bool ok = false;

	if (c->auth == SIM_AUTH_CHALLENGE && c->auth_len == block &&
	    sim_mgm_crypt(c->mgm_alg, c->mgm_key, c->mgm_keylen, true,
	    c->auth_val, enc) == CS_OK)
		ok = cs_memeq_secret(cs_cur_ptr(&t->v82), enc, block);
	cs_wipe(enc, sizeof(enc));
	auth_clear(c);
	c->mgm_ok = ok;
	return ok ? SW_OK : SW_SECURITY;
}

static uint16_t
mgm_auth(struct sim_card *c, const struct sim_cmd *cmd, const struct ga_tpl *t,
    struct cs_buf *out)
{
	uint8_t alg = cmd->p1 == 0x00 ? SIM_ALG_3DES : cmd->p1;
	size_t block, keylen, n80, n81, n82;

	/* P1 00 is the SP 800-78 legacy 3DES identifier (§4.7.2). */
	if (alg != c->mgm_alg || !sim_alg_mgm(alg, &block, &keylen))
		return SW_WRONG_DATA;
	n80 = cs_cur_len(&t->v80);
	n81 = cs_cur_len(&t->v81);
	n82 = cs_cur_len(&t->v82);
	if (t->has85)
		return SW_WRONG_DATA;
	if (t->has80 && n80 == 0 && !t->has81)
		return mgm_begin(c, SIM_AUTH_WITNESS, block, out);
	if (t->has80 && n80 == block && t->has81 && n81 == block &&
	    (!t->has82 || n82 == 0))
		return mgm_mutual(c, t, block, out);
	if (t->has81 && n81 == 0 && !t->has80)
		return mgm_begin(c, SIM_AUTH_CHALLENGE, block, out);
	if (t->has82 && n82 == block && !t->has80 && !t->has81)
		return mgm_external(c, t, block);
	auth_clear(c);
	return SW_WRONG_DATA;
}

static bool
pin_policy_ok(const struct sim_card *c, const struct sim_slot *s,
    bool pin_always)
{
	switch (s->pin_policy) {
	case 0x01:
		return true;
	case 0x03:
		return c->pin_ok && pin_always;
	case 0x02:
	default:
		return c->pin_ok;
	}
}

static unsigned int
sign_cost(uint8_t alg)
{
	switch (alg) {
	case SIM_ALG_RSA1024:
		return 45;
	case SIM_ALG_RSA2048:
		return 138;
	case SIM_ALG_RSA3072:
		return 420;
	case SIM_ALG_RSA4096:
		return 900;
	case SIM_ALG_P384:
		return 119;
	default:
		return 72;
	}
}

static bool
alg_can_ecdh(uint8_t alg)
{
	return alg == SIM_ALG_P256 || alg == SIM_ALG_P384 ||
	    alg == SIM_ALG_X25519;
}

static uint16_t
key_op(struct sim_card *c, const struct sim_cmd *cmd, const struct ga_tpl *t,
    struct cs_buf *out)
{
	struct cs_buf res = CS_BUF_INIT_SECRET(SIM_RESP_MAX);
	struct sim_slot *s = simi_slot(c, cmd->p2);
	uint8_t alg;
	enum cs_err r = CS_ERR_INTERNAL;
	uint16_t sw = SW_WRONG_DATA;

	if (s == NULL || s->ref == 0xF9)
		return SW_WRONG_P1P2;
	if (s->key == NULL || (alg = sim_key_alg(s->key)) != cmd->p1)
		return SW_WRONG_DATA;
	if (!t->has82 || cs_cur_len(&t->v82) != 0 || t->has80 ||
	    t->has81 == t->has85)
		return SW_WRONG_DATA;
	if (!pin_policy_ok(c, s, cmd->pin_always))
		return SW_SECURITY;
	c->cost_ms = sign_cost(alg);
	c->touch_wait = s->touch_policy == 0x02 || s->touch_policy == 0x03;
	if (t->has81 && alg != SIM_ALG_X25519)
		r = sim_key_private_op(s->key, cs_cur_ptr(&t->v81),
		    cs_cur_len(&t->v81), &res);
	else if (t->has85 && alg_can_ecdh(alg))
		r = sim_key_ecdh(s->key, cs_cur_ptr(&t->v85),
		    cs_cur_len(&t->v85), &res);
	else
		goto out;
	if (r != CS_OK) {
		sw = simi_sw_of(r);
		goto out;
	}
	sw = put_tpl(out, 0x82, res.data, res.len);
out:
	cs_buf_release(&res);
	return sw;
}

uint16_t
simi_cmd_general_auth(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct ga_tpl t;
	uint16_t sw;

	if ((sw = parse_tpl(&cmd->data, &t)) != SW_OK) {
		auth_clear(c);
		return sw;
	}
	if (cmd->p2 == REF_MGM)
		return mgm_auth(c, cmd, &t, out);
	auth_clear(c);
	return key_op(c, cmd, &t, out);
}
