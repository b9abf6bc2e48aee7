/*
 * Key slots and the YubiKey key-management extensions: GENERATE (§4.8),
 * IMPORT (§4.15), ATTEST (§4.14), GET METADATA (§4.16), MOVE/DELETE KEY
 * (§4.17), SET MANAGEMENT KEY (§4.11) and RESET (§4.12).
 */
#include <string.h>

#include "applet_int.h"

#include "banned.h"

#define REF_PIN 0x80
#define REF_PUK 0x81
#define REF_MGM 0x9B
#define REF_ATTEST 0xF9

struct sim_slot *
simi_slot(struct sim_card *c, uint8_t ref)
{
	size_t i;

	for (i = 0; i < SIM_SLOT_COUNT; i++)
		if (c->slots[i].ref == ref)
			return &c->slots[i];
	return NULL;
}

void
simi_slot_clear(struct sim_slot *s)
{
	sim_key_free(s->key);
	s->key = NULL;
	s->pin_policy = s->touch_policy = 0;
	s->origin = SIM_ORIGIN_NONE;
}

uint8_t
simi_default_pin_policy(uint8_t ref)
{
	if (ref == 0x9C)
		return 0x03; /* always */
	if (ref == 0x9E)
		return 0x01; /* never */
	return 0x02;         /* once */
}

bool
simi_alg_allowed(const struct sim_card *c, uint8_t alg)
{
	uint32_t fw = simi_fw(c);

	switch (alg) {
	case SIM_ALG_RSA1024:
	case SIM_ALG_RSA2048:
	case SIM_ALG_P256:
		return true;
	case SIM_ALG_P384:
		return fw >= SIM_FW(4, 0, 0);
	case SIM_ALG_RSA3072:
	case SIM_ALG_RSA4096:
	case SIM_ALG_ED25519:
	case SIM_ALG_X25519:
		return fw >= SIM_FW(5, 7, 0);
	default:
		return false;
	}
}

/* Policy tags AA/AB: 0 = slot default; Bio values 04/05 unsupported. */
static bool
set_policies(struct sim_slot *s, int pin, int touch)
{
	if (pin < 0 || pin > 3 || touch < 0 || touch > 3)
		return false;
	s->pin_policy = pin == 0 ? simi_default_pin_policy(s->ref) :
	    (uint8_t)pin;
	s->touch_policy = touch == 0 ? 0x01 : (uint8_t)touch;
	return true;
}

/* Read a one-byte TLV value into *v (which must still be unset). */
static bool
get_byte(const struct cs_cur *val, int *v)
{
	uint8_t b;
	struct cs_cur t = *val;

	if (*v != -1 || cs_cur_len(&t) != 1 || cs_cur_get_u8(&t, &b) != CS_OK)
		return false;
	*v = b;
	return true;
}

/* GENERATE template AC { 80 alg, [AA pin], [AB touch] }. */
static uint16_t
parse_gen_tpl(const struct cs_cur *data, int *alg, int *pin, int *touch)
{
	struct cs_cur tpl, val;
	uint32_t tag;
	bool ok;

	*alg = *pin = *touch = -1;
	if (cs_tlv_parse_single(data, 0xAC, &tpl) != CS_OK)
		return SW_WRONG_DATA;
	while (!cs_cur_is_empty(&tpl)) {
		if (cs_tlv_get(&tpl, &tag, &val) != CS_OK)
			return SW_WRONG_DATA;
		if (tag == 0x80)
			ok = get_byte(&val, alg);
		else if (tag == 0xAA)
			ok = get_byte(&val, pin);
		else if (tag == 0xAB)
			ok = get_byte(&val, touch);
		else
			ok = false;
		if (!ok)
			return SW_WRONG_DATA;
	}
	return *alg == -1 ? SW_WRONG_DATA : SW_OK;
}

static unsigned int
keygen_cost(uint8_t alg)
{
	switch (alg) {
	case SIM_ALG_RSA1024:
		return 1200;
	case SIM_ALG_RSA2048:
		return 4500;
	case SIM_ALG_RSA3072:
		return 12000;
	case SIM_ALG_RSA4096:
		return 25000;
	default:
		return 110;
	}
}

/* Put key into slot s (replacing any key), with origin and policies. */
static void
install_key(struct sim_card *c, struct sim_slot *s, struct sim_key *k,
    uint8_t origin, int pin, int touch)
{
	sim_key_free(s->key);
	s->key = k;
	s->origin = origin;
	(void)set_policies(s, pin < 0 ? 0 : pin, touch < 0 ? 0 : touch);
	c->dirty = true;
}

uint16_t
simi_cmd_generate(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct sim_slot *s, probe;
	struct sim_key *k = NULL;
	size_t mark;
	int alg, pin, touch;
	uint16_t sw;

	if (!c->mgm_ok)
		return SW_SECURITY;
	if (cmd->p1 != 0x00 || (s = simi_slot(c, cmd->p2)) == NULL)
		return SW_WRONG_P1P2_B;
	if ((sw = parse_gen_tpl(&cmd->data, &alg, &pin, &touch)) != SW_OK)
		return sw;
	probe.ref = s->ref;
	if (!simi_alg_allowed(c, (uint8_t)alg) ||
	    !set_policies(&probe, pin < 0 ? 0 : pin, touch < 0 ? 0 : touch))
		return SW_WRONG_DATA;
	c->cost_ms = keygen_cost((uint8_t)alg);
	if (sim_key_generate((uint8_t)alg, &k) != CS_OK)
		return SW_UNKNOWN;
	cs_tlv_open(out, &mark);
	if (sim_key_public_tlvs(k, out) != CS_OK ||
	    cs_tlv_close(out, 0x7F49, mark) != CS_OK) {
		sim_key_free(k);
		return SW_UNKNOWN;
	}
	install_key(c, s, k, SIM_ORIGIN_GENERATED, pin, touch);
	return SW_OK;
}

/* Find the optional AA/AB policy bytes among the IMPORT body TLVs. */
static uint16_t
parse_import_policies(const struct cs_cur *data, int *pin, int *touch)
{
	struct cs_cur body = *data, val;
	uint32_t tag;

	*pin = *touch = -1;
	while (!cs_cur_is_empty(&body)) {
		if (cs_tlv_get(&body, &tag, &val) != CS_OK)
			return SW_WRONG_DATA;
		if (tag == 0xAA && !get_byte(&val, pin))
			return SW_WRONG_DATA;
		if (tag == 0xAB && !get_byte(&val, touch))
			return SW_WRONG_DATA;
	}
	return SW_OK;
}

uint16_t
simi_cmd_import(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct sim_slot *s, probe;
	struct sim_key *k = NULL;
	int pin, touch;
	enum cs_err r = CS_ERR_INTERNAL;
	uint16_t sw;

	if (!c->mgm_ok)
		return SW_SECURITY;
	if ((s = simi_slot(c, cmd->p2)) == NULL)
		return SW_WRONG_P1P2_B;
	if (!simi_alg_allowed(c, cmd->p1))
		return SW_WRONG_DATA;
	if ((sw = parse_import_policies(&cmd->data, &pin, &touch)) != SW_OK)
		return sw;
	probe.ref = s->ref;
	if (!set_policies(&probe, pin < 0 ? 0 : pin, touch < 0 ? 0 : touch))
		return SW_WRONG_DATA;
	if ((r = sim_key_import(cmd->p1, &cmd->data, &k)) != CS_OK)
		return simi_sw_of(r);
	install_key(c, s, k, SIM_ORIGIN_IMPORTED, pin, touch);
	return SW_OK;
}

/* The DER certificate inside object 5FFF01 (53 { 70 cert ... }). */
static bool
attest_cert(struct sim_card *c, struct cs_cur *cert)
{
	struct sim_obj *o = simi_obj_find(c, 0x5FFF01);
	struct cs_cur v;

	if (o == NULL)
		return false;
	cs_cur_init(&v, o->val, o->len);
	return cs_tlv_find(&v, 0x70, cert) == CS_OK && !cs_cur_is_empty(cert);
}

uint16_t
simi_cmd_attest(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct sim_slot *s = simi_slot(c, cmd->p1), *f9;
	struct sim_device_info dev;
	struct cs_cur cert;
	enum cs_err r = CS_ERR_INTERNAL;

	f9 = simi_slot(c, REF_ATTEST);
	if (f9->key == NULL || !attest_cert(c, &cert))
		return SW_INS;
	if (s == NULL || s->ref == REF_ATTEST)
		return SW_WRONG_DATA;
	if (s->key == NULL || s->origin != SIM_ORIGIN_GENERATED)
		return SW_WRONG_DATA;
	memset(&dev, 0, sizeof(dev));
	memcpy(dev.fw, c->fw, sizeof(dev.fw));
	dev.serial = c->serial;
	dev.form_factor = 0x01;
	r = sim_attest(f9->key, cs_cur_ptr(&cert), cs_cur_len(&cert), s->key,
	    s->ref, &dev, s->pin_policy, s->touch_policy, out);
	return r == CS_OK ? SW_OK : SW_UNKNOWN;
}

static uint16_t
metadata_pin(struct sim_card *c, bool puk, struct cs_buf *out)
{
	uint8_t tries[2];
	bool def = puk ? simi_puk_is_default(c) : simi_pin_is_default(c);

	tries[0] = puk ? c->puk_max : c->pin_max;
	tries[1] = puk ? c->puk_left : c->pin_left;
	if (cs_tlv_put_u8(out, 0x01, 0xFF) != CS_OK ||
	    cs_tlv_put_u8(out, 0x05, def ? 1 : 0) != CS_OK ||
	    cs_tlv_put(out, 0x06, tries, sizeof(tries)) != CS_OK)
		return SW_UNKNOWN;
	return SW_OK;
}

static uint16_t
metadata_mgm(struct sim_card *c, struct cs_buf *out)
{
	uint8_t pol[2] = { 0x00, c->mgm_touch };

	if (cs_tlv_put_u8(out, 0x01, c->mgm_alg) != CS_OK ||
	    cs_tlv_put(out, 0x02, pol, sizeof(pol)) != CS_OK ||
	    cs_tlv_put_u8(out, 0x05, simi_mgm_is_default(c) ? 1 : 0) != CS_OK)
		return SW_UNKNOWN;
	return SW_OK;
}

static uint16_t
metadata_key(struct sim_slot *s, struct cs_buf *out)
{
	uint8_t pol[2] = { s->pin_policy, s->touch_policy };
	size_t mark;

	if (s->key == NULL)
		return SW_REF_NOT_FOUND;
	if (cs_tlv_put_u8(out, 0x01, sim_key_alg(s->key)) != CS_OK ||
	    cs_tlv_put(out, 0x02, pol, sizeof(pol)) != CS_OK ||
	    cs_tlv_put_u8(out, 0x03, s->origin) != CS_OK)
		return SW_UNKNOWN;
	cs_tlv_open(out, &mark);
	if (sim_key_public_tlvs(s->key, out) != CS_OK ||
	    cs_tlv_close(out, 0x04, mark) != CS_OK)
		return SW_UNKNOWN;
	return SW_OK;
}

uint16_t
simi_cmd_metadata(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct sim_slot *s;

	if (cmd->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (cmd->p2 == REF_PIN || cmd->p2 == REF_PUK)
		return metadata_pin(c, cmd->p2 == REF_PUK, out);
	if (cmd->p2 == REF_MGM)
		return metadata_mgm(c, out);
	if ((s = simi_slot(c, cmd->p2)) == NULL)
		return SW_REF_NOT_FOUND;
	return metadata_key(s, out);
}

uint16_t
simi_cmd_move_key(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct sim_slot *dst, *src;

	if (!c->mgm_ok)
		return SW_SECURITY;
	if ((src = simi_slot(c, cmd->p2)) == NULL)
		return SW_WRONG_P1P2;
	if (cmd->p1 == 0xFF) { /* delete */
		simi_slot_clear(src);
		c->dirty = true;
		return SW_OK;
	}
	if ((dst = simi_slot(c, cmd->p1)) == NULL || dst->ref == REF_ATTEST ||
	    src->ref == REF_ATTEST || dst == src)
		return SW_WRONG_P1P2;
	if (src->key == NULL)
		return SW_REF_NOT_FOUND;
	simi_slot_clear(dst);
	dst->key = src->key;
	dst->pin_policy = src->pin_policy;
	dst->touch_policy = src->touch_policy;
	dst->origin = src->origin;
	src->key = NULL;
	simi_slot_clear(src);
	c->dirty = true;
	return SW_OK;
}

uint16_t
simi_cmd_set_mgm(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct cs_cur data = cmd->data, key;
	size_t block, keylen;
	uint32_t tag;
	uint8_t alg;

	if (cmd->p1 != 0xFF || cmd->p2 < 0xFD)
		return SW_WRONG_P1P2;
	if (!c->mgm_ok)
		return SW_SECURITY;
	if (cs_cur_get_u8(&data, &alg) != CS_OK ||
	    cs_tlv_get(&data, &tag, &key) != CS_OK || tag != REF_MGM ||
	    !cs_cur_is_empty(&data))
		return SW_WRONG_DATA;
	if (!sim_alg_mgm(alg, &block, &keylen) ||
	    cs_cur_len(&key) != keylen || keylen > SIM_MGM_KEY_MAX ||
	    (alg != SIM_ALG_3DES && simi_fw(c) < SIM_FW(5, 4, 0)))
		return SW_WRONG_DATA;
	cs_wipe(c->mgm_key, sizeof(c->mgm_key));
	memcpy(c->mgm_key, cs_cur_ptr(&key), keylen);
	c->mgm_keylen = keylen;
	c->mgm_alg = alg;
	c->mgm_touch = (uint8_t)(0xFF - cmd->p2 + 1); /* FF 01, FE 02, FD 03 */
	c->dirty = true;
	return SW_OK;
}

uint16_t
simi_cmd_reset(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	size_t i;

	if (c->pin_left != 0 || c->puk_left != 0)
		return SW_CONDITIONS;
	for (i = 0; i < SIM_SLOT_COUNT; i++)
		if (c->slots[i].ref != REF_ATTEST)
			simi_slot_clear(&c->slots[i]);
	simi_obj_clear_all(c, true);
	simi_factory_secrets(c);
	simi_session_clear(c);
	c->dirty = true;
	return SW_OK;
}

enum cs_err
sim_card_set_attestation(struct sim_card *c, struct sim_key *key,
    const uint8_t *cert, size_t certlen)
{
	struct cs_buf obj = CS_BUF_INIT(SIM_OBJ_MAX);
	struct sim_slot *f9 = simi_slot(c, REF_ATTEST);
	enum cs_err r = CS_ERR_INTERNAL;

	/* The factory object is 53 { 70 cert } without 71/FE (§5.2). */
	if ((r = cs_tlv_put(&obj, 0x70, cert, certlen)) != CS_OK ||
	    (r = simi_obj_set(c, 0x5FFF01, obj.data, obj.len)) != CS_OK) {
		sim_key_free(key);
		goto out;
	}
	install_key(c, f9, key, SIM_ORIGIN_IMPORTED, 0x02, 0x01);
out:
	cs_buf_release(&obj);
	return r;
}

bool
sim_card_has_attestation(const struct sim_card *c)
{
	size_t i;

	for (i = 0; i < SIM_SLOT_COUNT; i++)
		if (c->slots[i].ref == REF_ATTEST)
			return c->slots[i].key != NULL;
	return false;
}
