/*
 * PIV card application (SP 800-73-4 part 2) with YubiKey extensions: card
 * open and identification, the command plumbing (transactions, GET/PUT
 * DATA) the other piv_*.c files share, the PIN cache and the touch hook.
 * Data objects, certificates and the CHUID are in piv_cert.c, PIN and PUK
 * in piv_pin.c, management keys in piv_mgm.c, asymmetric keys in
 * piv_key.c, finding a card over PC/SC in pcsc_find.c. Byte layouts are
 * those of piv-apdu.md (§ numbers below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "piv_int.h"

#include "banned.h"

/* Room for an object plus its 53 header. */
#define OBJ_RESP_MAX (CS_PIV_OBJ_MAX + 16)
static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };

#define FW(a, b, c) (((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | (c))

/* --- plumbing shared with piv_mgm.c and piv_key.c --- */

static enum cs_err
default_rng(void *arg, uint8_t *buf, size_t n)
{
	(void)arg;
	if (n > 0x7FFFFFFF || RAND_bytes(buf, (int)n) != 1)
		return CS_ERR_CRYPTO;
	return CS_OK;
}

void
csi_piv_set_rng(struct cs_card *card, csi_piv_rng_fn *fn, void *arg)
{
	card->rng = fn != NULL ? fn : default_rng;
	card->rng_arg = fn != NULL ? arg : NULL;
}

enum cs_err
csi_piv_random(struct cs_card *card, uint8_t *buf, size_t n)
{
	if (card->rng(card->rng_arg, buf, n) != CS_OK)
		return csi_fail_ossl(card->ctx, CS_ERR_CRYPTO,
		    "no random bytes");
	return CS_OK;
}

enum cs_err
csi_piv_begin(struct cs_card *card)
{
	return cs_transport_begin(card->t, card->ctx);
}

void
csi_piv_end(struct cs_card *card)
{
	cs_transport_end(card->t);
}

enum cs_err
csi_piv_cmd(struct cs_card *card, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t lc, bool want_resp, unsigned int aflags,
    struct cs_buf *resp, uint16_t *sw)
{
	struct cs_apdu a;
	bool ext = (card->xflags & CS_APDU_EXTENDED) != 0;

	a.cla = 0x00;
	a.ins = ins;
	a.p1 = p1;
	a.p2 = p2;
	a.data = lc > 0 ? data : NULL;
	a.lc = lc;
	a.le = want_resp ? (ext ? 65536 : 256) : 0;
	return cs_apdu_transmit(card->ctx, card->t, &a, card->xflags | aflags,
	    resp, sw);
}

const char *
csi_piv_slot_str(uint8_t slot, char buf[3])
{
	(void)cs_hex_encode(&slot, 1, buf, 3, 0);
	return buf;
}

/* The 5C tag list: the object tag's own bytes (§4.2). */
static enum cs_err
put_tag_list(struct cs_buf *b, uint32_t tag)
{
	uint8_t t[3];
	size_t n;

	if (tag == 0 || tag > 0xFFFFFF)
		return CS_ERR_ARG;
	n = tag <= 0xFF ? 1 : tag <= 0xFFFF ? 2 : 3;
	t[0] = (uint8_t)(tag >> (8 * (n - 1)));
	if (n > 1)
		t[1] = (uint8_t)(tag >> (8 * (n - 2)));
	if (n > 2)
		t[2] = (uint8_t)tag;
	return cs_tlv_put(b, 0x5C, t, n);
}

enum cs_err
csi_piv_get_data(struct cs_card *card, uint32_t tag, struct cs_buf *val)
{
	struct cs_buf cmd = CS_BUF_INIT(8), resp;
	struct cs_cur c, v;
	char what[48];
	uint16_t sw = 0;
	uint32_t outer = tag == CSI_PIV_OBJ_DISCOVERY ? 0x7E : 0x53;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_buf_init(&resp, OBJ_RESP_MAX, val->secret);
	cs_buf_reset(val);
	snprintf(what, sizeof(what), "read object %06x", (unsigned)tag);
	if ((r = put_tag_list(&cmd, tag)) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_ARG, "%s: bad tag", what);
		goto out;
	}
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_GET_DATA, 0x3F, 0xFF, cmd.data,
	    cmd.len, true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw, what, NULL);
		goto out;
	}
	/* §4.2: exactly one 53 (7E) TLV and nothing after it */
	cs_buf_cur(&resp, &c);
	if ((r = cs_tlv_parse_single(&c, outer, &v)) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "%s: answer is not one %02X TLV", what, (unsigned)outer);
		goto out;
	}
	if ((r = cs_buf_put_cur(val, &v)) != CS_OK)
		r = csi_fail(card->ctx, r, "%s: too large", what);
out:
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}

enum cs_err
csi_piv_put_data(struct cs_card *card, uint32_t tag, const uint8_t *val,
    size_t len, bool secret)
{
	struct cs_buf cmd, resp = CS_BUF_INIT(256);
	char what[48];
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_buf_init(&cmd, OBJ_RESP_MAX + 8, secret);
	snprintf(what, sizeof(what), "write object %06x", (unsigned)tag);
	if ((r = put_tag_list(&cmd, tag)) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_ARG, "%s: bad tag", what);
		goto out;
	}
	if (len > CS_PIV_OBJ_MAX ||
	    (r = cs_tlv_put(&cmd, 0x53, val, len)) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_LIMIT,
		    "%s: %zu bytes is more than %u", what, len,
		    (unsigned)CS_PIV_OBJ_MAX);
		goto out;
	}
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_PUT_DATA, 0x3F, 0xFF, cmd.data,
	    cmd.len, false, secret ? CS_APDU_SECRET_CMD : 0, &resp,
	    &sw)) != CS_OK)
		goto out;
	if (sw == CSI_PIV_SW_ACCESS)
		r = csi_fail(card->ctx, CS_ERR_ACCESS,
		    "%s: management key authentication required (6982)", what);
	else
		r = cs_apdu_map_sw(card->ctx, sw, what, NULL);
out:
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}

/* --- opening a card --- */

static uint32_t
caps_for(bool yubikey, const uint8_t fw[3])
{
	uint32_t v = FW(fw[0], fw[1], fw[2]), caps = 0;

	if (!yubikey)
		return CS_CAP_P384; /* SP 800-78-4 algorithm; the card decides */
	caps |= CS_CAP_YUBIKEY | CS_CAP_PROTECTED_MGM | CS_CAP_RESET;
	if (v >= FW(4, 0, 0))
		caps |= CS_CAP_P384 | CS_CAP_POLICY;
	if (v >= FW(4, 3, 0))
		caps |= CS_CAP_ATTEST;
	if (v >= FW(4, 2, 0) && v <= FW(4, 3, 4))
		caps |= CS_CAP_ROCA;
	if (v >= FW(5, 3, 0))
		caps |= CS_CAP_METADATA;
	if (v >= FW(5, 4, 0))
		caps |= CS_CAP_AES_MGM;
	if (v >= FW(5, 7, 0))
		caps |= CS_CAP_RSA_LARGE | CS_CAP_25519 | CS_CAP_MOVE_KEY;
	return caps;
}

static enum cs_err
select_piv(struct cs_card *card)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	/* §2.1: the 5-byte RID prefix, no Le (as yubico-piv-tool, ykman) */
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_SELECT, 0x04, 0x00, piv_aid,
	    sizeof(piv_aid), false, 0, &resp, &sw)) == CS_OK &&
	    sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw, "select PIV application",
		    NULL);
		if (r == CS_ERR_NOT_FOUND || r == CS_ERR_UNSUPPORTED)
			r = csi_fail(card->ctx, CS_ERR_NOT_FOUND,
			    "%s: no PIV application on the card (%04X)",
			    card->t->name, sw);
	}
	cs_buf_release(&resp);
	return r;
}

/* §4.9 GET VERSION: any error status means a plain PIV card. */
static enum cs_err
identify(struct cs_card *card)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	struct cs_cur c;
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_cmd(card, CSI_PIV_INS_VERSION, 0, 0, NULL, 0, true, 0,
	    &resp, &sw)) != CS_OK)
		goto out;
	if (sw != CSI_PIV_SW_OK) {
		CSI_DEBUG(card->ctx, "GET VERSION: %04X, not a YubiKey", sw);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if (cs_cur_copy(&c, card->info.firmware, 3) != CS_OK ||
	    !cs_cur_is_empty(&c)) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "GET VERSION: %zu bytes instead of 3", resp.len);
		goto out;
	}
	card->info.yubikey = true;
	/* ykman switches to extended APDUs from 4.0.0 (§7.2) */
	if (card->info.firmware[0] >= 4)
		card->xflags |= CS_APDU_EXTENDED;
out:
	cs_buf_release(&resp);
	return r;
}

/* 4 bytes big-endian and nothing else; false if not that. */
static bool
take_serial(struct cs_card *card, const struct cs_buf *resp, uint16_t sw)
{
	struct cs_cur c;
	uint32_t serial;

	cs_buf_cur(resp, &c);
	if (sw != CSI_PIV_SW_OK || cs_cur_get_u32(&c, &serial) != CS_OK ||
	    !cs_cur_is_empty(&c)) {
		CSI_DEBUG(card->ctx, "serial: %04X, %zu bytes", sw, resp->len);
		return false;
	}
	card->info.serial = serial;
	card->info.has_serial = true;
	return true;
}

/*
 * §4.10: before firmware 5 the serial comes from the OTP application
 * (as yubico-piv-tool reads it), in short APDUs; selecting it drops the
 * PIV selection, so PIV is selected again whatever happened.
 */
static enum cs_err
read_serial_otp(struct cs_card *card)
{
	static const uint8_t otp_aid[] = { 0xA0, 0x00, 0x00, 0x05, 0x27, 0x20,
		0x01, 0x01 };
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	unsigned int xflags = card->xflags;
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	card->xflags = 0;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_SELECT, 0x04, 0x00, otp_aid,
	    sizeof(otp_aid), false, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == CSI_PIV_SW_OK) {
		if ((r = csi_piv_cmd(card, 0x01, 0x10, 0x00, NULL, 0, true, 0,
		    &resp, &sw)) != CS_OK)
			goto out;
		(void)take_serial(card, &resp, sw);
	} else
		CSI_DEBUG(card->ctx, "select OTP application: %04X", sw);
	r = select_piv(card);
out:
	card->xflags = xflags;
	cs_buf_release(&resp);
	return r;
}

/* §4.10 GET SERIAL (fw >= 5); a refusal leaves the serial unknown. */
static enum cs_err
read_serial(struct cs_card *card)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (!card->info.yubikey)
		return CS_OK;
	if (card->info.firmware[0] < 5)
		return read_serial_otp(card);
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_SERIAL, 0, 0, NULL, 0, true, 0,
	    &resp, &sw)) != CS_OK)
		goto out;
	(void)take_serial(card, &resp, sw);
out:
	cs_buf_release(&resp);
	return r;
}

static enum cs_err
card_new(struct cs_ctx *ctx, struct cs_transport *t, struct cs_card **out)
{
	struct cs_card *card;

	if ((*out = card = calloc(1, sizeof(*card))) == NULL)
		return csi_fail(ctx, CS_ERR_NOMEM, "open card: out of memory");
	card->ctx = ctx;
	card->t = t;
	csi_piv_set_rng(card, NULL, NULL);
	if (t->name != NULL)
		snprintf(card->info.reader, sizeof(card->info.reader), "%s",
		    t->name);
	return CS_OK;
}

static void
card_free(struct cs_card *card)
{
	if (card == NULL)
		return;
	cs_wipe(card, sizeof(*card));
	free(card);
}

enum cs_err
cs_card_open(struct cs_ctx *ctx, struct cs_transport *t, unsigned int flags,
    struct cs_card **out)
{
	struct cs_card *card = NULL;
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	(void)flags; /* sharing mode is the transport's business */
	*out = NULL;
	if (t == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "open card: no transport");
	if ((r = card_new(ctx, t, &card)) != CS_OK)
		goto out;
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if (cs_transport_get_atr(t, ctx, card->info.atr,
	    sizeof(card->info.atr), &card->info.atr_len) != CS_OK)
		card->info.atr_len = 0; /* informative only */
	if ((r = select_piv(card)) != CS_OK || (r = identify(card)) != CS_OK ||
	    (r = read_serial(card)) != CS_OK)
		goto out;
	card->info.caps = caps_for(card->info.yubikey, card->info.firmware);
	if (card->info.has_serial)
		card->info.caps |= CS_CAP_SERIAL;
	*out = card;
	card = NULL;
	r = CS_OK;
	cs_ctx_clear_error(ctx);
out:
	if (began)
		cs_transport_end(t);
	card_free(card);
	return r;
}

void
cs_card_close(struct cs_card *card)
{
	if (card == NULL)
		return;
	cs_transport_close(card->t);
	card_free(card);
}

void
cs_card_get_info(const struct cs_card *card, struct cs_card_info *info)
{
	*info = card->info;
}

bool
cs_card_has(const struct cs_card *card, enum cs_card_caps cap)
{
	return (card->info.caps & (uint32_t)cap) == (uint32_t)cap;
}

void
csi_piv_forget_pin(struct cs_card *card)
{
	cs_wipe(card->pin, sizeof(card->pin));
	card->pin_cached = false;
}

enum cs_err
cs_card_set_pin(struct cs_card *card, const char *pin, size_t len)
{
	enum cs_err r = CS_ERR_INTERNAL;

	csi_piv_forget_pin(card);
	if (pin == NULL)
		return CS_OK;
	if ((r = csi_piv_pad_pin(card->ctx, "PIN", pin, len, card->pin)) !=
	    CS_OK)
		return r;
	card->pin_cached = true;
	return CS_OK;
}

void
cs_card_set_touch_fn(struct cs_card *card, cs_piv_touch_fn *fn, void *arg)
{
	card->touch_fn = fn;
	card->touch_arg = fn != NULL ? arg : NULL;
}

void
csi_piv_touch_notice(struct cs_card *card, uint8_t slot, uint8_t touch_policy)
{
	if (card->touch_fn != NULL && (touch_policy == CS_PIV_TOUCH_ALWAYS ||
	    touch_policy == CS_PIV_TOUCH_CACHED))
		card->touch_fn(card->touch_arg, slot);
}
