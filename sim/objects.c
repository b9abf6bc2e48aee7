/*
 * PIV data objects: GET DATA and PUT DATA (piv-apdu.md §4.2, §4.3, §5).
 * Objects are opaque beyond the outer 53 TLV and are kept byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "applet_int.h"

#include "banned.h"

#define TAG_DISCOVERY 0x7Eu
#define TAG_BITGT 0x7F61u
#define TAG_ATTEST_CERT 0x5FFF01u

/* Discovery object, fixed in the card (§5.5). */
static const uint8_t discovery[20] = {
	0x7E, 0x12, 0x4F, 0x0B, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00,
	0x00, 0x10, 0x00, 0x01, 0x00, 0x5F, 0x2F, 0x02, 0x40, 0x00,
};

struct sim_obj *
simi_obj_find(struct sim_card *c, uint32_t tag)
{
	size_t i;

	for (i = 0; i < c->nobjs; i++)
		if (c->objs[i].tag == tag)
			return &c->objs[i];
	return NULL;
}

size_t
simi_obj_total(const struct sim_card *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nobjs; i++)
		n += c->objs[i].len;
	return n;
}

void
simi_obj_delete(struct sim_card *c, uint32_t tag)
{
	struct sim_obj *o;
	size_t i;

	if ((o = simi_obj_find(c, tag)) == NULL)
		return;
	i = (size_t)(o - c->objs);
	free(o->val);
	c->objs[i] = c->objs[c->nobjs - 1];
	c->nobjs--;
	memset(&c->objs[c->nobjs], 0, sizeof(c->objs[0]));
}

void
simi_obj_clear_all(struct sim_card *c, bool keep_attestation)
{
	size_t i = 0;

	while (i < c->nobjs) {
		if (keep_attestation && c->objs[i].tag == TAG_ATTEST_CERT) {
			i++;
			continue;
		}
		simi_obj_delete(c, c->objs[i].tag);
	}
}

enum cs_err
simi_obj_set(struct sim_card *c, uint32_t tag, const uint8_t *val, size_t len)
{
	struct sim_obj *o = simi_obj_find(c, tag);
	size_t total = simi_obj_total(c) - (o != NULL ? o->len : 0);
	uint8_t *p;

	if (len > SIM_OBJ_MAX || total + len > SIM_OBJ_TOTAL_MAX)
		return CS_ERR_LIMIT;
	if (o == NULL && c->nobjs >= SIM_OBJ_COUNT_MAX)
		return CS_ERR_LIMIT;
	if ((p = malloc(len > 0 ? len : 1)) == NULL)
		return CS_ERR_NOMEM;
	if (len > 0)
		memcpy(p, val, len);
	if (o == NULL) {
		o = &c->objs[c->nobjs++];
		o->tag = tag;
	} else
		free(o->val);
	o->val = p;
	o->len = len;
	return CS_OK;
}

/* Tag list 5C: 1-3 bytes, as the big-endian integer of its bytes. */
static uint16_t
parse_tag_list(struct cs_cur *data, uint32_t *tag)
{
	struct cs_cur v;
	uint32_t t;
	uint8_t b;

	*tag = 0;
	if (cs_tlv_get(data, &t, &v) != CS_OK || t != 0x5C)
		return SW_WRONG_DATA;
	if (cs_cur_len(&v) < 1 || cs_cur_len(&v) > 3)
		return SW_WRONG_DATA;
	while (cs_cur_get_u8(&v, &b) == CS_OK)
		*tag = (*tag << 8) | b;
	return SW_OK;
}

/* Objects a card may hold: 7E, 7F61 and the 5Fxxxx range (§4.3). */
static bool
tag_is_valid(uint32_t tag)
{
	return tag == TAG_DISCOVERY || tag == TAG_BITGT ||
	    (tag >> 16) == 0x5F;
}

static bool
tag_needs_pin(uint32_t tag)
{
	return tag == 0x5FC103 || tag == 0x5FC108 || tag == 0x5FC109 ||
	    tag == 0x5FC121;
}

uint16_t
simi_cmd_get_data(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct cs_cur data = cmd->data;
	struct sim_obj *o;
	uint32_t tag;
	uint16_t sw;

	if (cmd->p1 != 0x3F || cmd->p2 != 0xFF)
		return SW_WRONG_P1P2;
	if ((sw = parse_tag_list(&data, &tag)) != SW_OK)
		return sw;
	if (!cs_cur_is_empty(&data) || !tag_is_valid(tag))
		return SW_WRONG_DATA;
	if (tag == TAG_DISCOVERY)
		return cs_buf_put(out, discovery, sizeof(discovery)) == CS_OK ?
		    SW_OK : SW_UNKNOWN;
	if (tag_needs_pin(tag) && !c->pin_ok)
		return SW_SECURITY;
	if (tag == TAG_ATTEST_CERT && !c->attestation)
		return SW_NOT_FOUND;
	if ((o = simi_obj_find(c, tag)) == NULL)
		return SW_NOT_FOUND;
	if (c->cost_ms < 7 && o->len > 255)
		c->cost_ms = 7;
	return cs_tlv_put(out, 0x53, o->val, o->len) == CS_OK ? SW_OK :
	    SW_UNKNOWN;
}

uint16_t
simi_cmd_put_data(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out)
{
	struct cs_cur data = cmd->data, val;
	uint32_t tag, t;
	uint16_t sw;
	enum cs_err r = CS_ERR_INTERNAL;

	if (cmd->p1 != 0x3F || cmd->p2 != 0xFF)
		return SW_WRONG_P1P2;
	if (!c->mgm_ok)
		return SW_SECURITY;
	if ((sw = parse_tag_list(&data, &tag)) != SW_OK)
		return sw;
	if (!tag_is_valid(tag) || tag == TAG_DISCOVERY || tag == TAG_BITGT)
		return SW_WRONG_DATA;
	if ((r = cs_tlv_get(&data, &t, &val)) != CS_OK || t != 0x53 ||
	    !cs_cur_is_empty(&data))
		return r == CS_ERR_LIMIT ? SW_NO_SPACE : SW_WRONG_DATA;
	if (cs_cur_len(&val) > SIM_OBJ_MAX)
		return SW_NO_SPACE;
	c->dirty = true;
	if (cs_cur_is_empty(&val)) { /* 53 00 deletes (§4.3) */
		simi_obj_delete(c, tag);
		return SW_OK;
	}
	r = simi_obj_set(c, tag, cs_cur_ptr(&val), cs_cur_len(&val));
	return simi_sw_of(r);
}
