/*
 * PIN and PUK (§4.4-§4.6, §4.13): verification, the retry counters (from
 * metadata where the card has it), change, unblock and the YubiKey retry
 * setting. The command plumbing and the PIN cache are in piv.c.
 */
#include <stdlib.h>
#include <string.h>

#include "piv_int.h"

#include "banned.h"

/* --- PIN and PUK (§4.4-§4.6, §4.13) --- */

enum cs_err
csi_piv_pad_pin(struct cs_ctx *ctx, const char *what, const char *pin,
    size_t len, uint8_t *out)
{
	memset(out, 0xFF, CSI_PIV_PIN_LEN);
	if (pin == NULL || len == 0 || len > CSI_PIV_PIN_LEN)
		return csi_fail(ctx, CS_ERR_ARG,
		    "%s must be 1 to %d characters", what, CSI_PIV_PIN_LEN);
	memcpy(out, pin, len);
	return CS_OK;
}

enum cs_err
csi_piv_verify_raw(struct cs_card *card, const uint8_t *pin, int *tries)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_cmd(card, CSI_PIV_INS_VERIFY, 0x00, CS_PIV_REF_PIN, pin,
	    CSI_PIV_PIN_LEN, false, CS_APDU_SECRET_CMD, &resp, &sw)) == CS_OK)
		r = cs_apdu_map_sw(card->ctx, sw, "PIN", tries);
	cs_buf_release(&resp);
	return r;
}

enum cs_err
csi_piv_verify_cached(struct cs_card *card)
{
	if (!card->pin_cached)
		return csi_fail(card->ctx, CS_ERR_ARG, "no PIN cached");
	return csi_piv_verify_raw(card, card->pin, NULL);
}

enum cs_err
cs_piv_verify_pin(struct cs_card *card, const char *pin, size_t len,
    int *tries)
{
	uint8_t padded[CSI_PIV_PIN_LEN];
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	if (tries != NULL)
		*tries = -1;
	if ((r = csi_piv_pad_pin(card->ctx, "PIN", pin, len, padded)) != CS_OK)
		goto out;
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	r = csi_piv_verify_raw(card, padded, tries);
out:
	cs_wipe(padded, sizeof(padded));
	if (began)
		csi_piv_end(card);
	return r;
}

/* §4.16 tags 05 (default) and 06 (total, remaining) for 80/81. */
static enum cs_err
retries_from_metadata(struct cs_card *card, uint8_t ref,
    struct cs_piv_retries *out)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	struct cs_cur c, v;
	uint16_t sw = 0;
	uint8_t total, left, def;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_cmd(card, CSI_PIV_INS_METADATA, 0x00, ref, NULL, 0,
	    true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw,
		    ref == CS_PIV_REF_PIN ? "PIN metadata" : "PUK metadata",
		    NULL);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if (cs_tlv_find(&c, 0x06, &v) == CS_OK && cs_cur_len(&v) == 2 &&
	    cs_cur_get_u8(&v, &total) == CS_OK &&
	    cs_cur_get_u8(&v, &left) == CS_OK) {
		out->total = total;
		out->remaining = left;
	} else {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "metadata of %02x: no retry counters (tag 06)", ref);
		goto out;
	}
	if (cs_tlv_find(&c, 0x05, &v) == CS_OK && cs_cur_len(&v) == 1 &&
	    cs_cur_get_u8(&v, &def) == CS_OK) {
		out->is_default = def != 0;
		out->known_default = true;
	}
out:
	cs_buf_release(&resp);
	return r;
}

/* §4.4: VERIFY without data reports the state without using a try. */
static enum cs_err
pin_status(struct cs_card *card, struct cs_piv_retries *out)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	int tries = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_cmd(card, CSI_PIV_INS_VERIFY, 0x00, CS_PIV_REF_PIN,
	    NULL, 0, false, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == CSI_PIV_SW_OK) {
		out->verified = true;
		goto out;
	}
	r = cs_apdu_sw_err(sw, &tries);
	if (r == CS_ERR_AUTH || r == CS_ERR_BLOCKED) {
		out->remaining = tries;
		r = CS_OK;
	} else
		r = cs_apdu_map_sw(card->ctx, sw, "PIN status", NULL);
out:
	cs_buf_release(&resp);
	return r;
}

enum cs_err
cs_piv_get_retries(struct cs_card *card, uint8_t ref,
    struct cs_piv_retries *out)
{
	enum cs_err r = CS_ERR_INTERNAL;

	out->remaining = out->total = -1;
	out->verified = out->is_default = out->known_default = false;
	if (ref != CS_PIV_REF_PIN && ref != CS_PIV_REF_PUK)
		return csi_fail(card->ctx, CS_ERR_ARG,
		    "retries: reference %02x is not the PIN or PUK", ref);
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if (cs_card_has(card, CS_CAP_METADATA) &&
	    (r = retries_from_metadata(card, ref, out)) != CS_OK)
		goto out;
	if (ref == CS_PIV_REF_PIN && (r = pin_status(card, out)) != CS_OK)
		goto out;
	r = CS_OK;
out:
	csi_piv_end(card);
	return r;
}

/* Send old||new (16 bytes) with ins/p2; what names the counter. */
static enum cs_err
send_pin_pair(struct cs_card *card, uint8_t ins, uint8_t p2, const char *what,
    const uint8_t *pair, int *tries)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	if ((r = csi_piv_cmd(card, ins, 0x00, p2, pair, 2 * CSI_PIV_PIN_LEN,
	    false, CS_APDU_SECRET_CMD, &resp, &sw)) == CS_OK)
		r = cs_apdu_map_sw(card->ctx, sw, what, tries);
	csi_piv_end(card);
out:
	cs_buf_release(&resp);
	return r;
}

enum cs_err
cs_piv_change_ref(struct cs_card *card, uint8_t ref, const char *old,
    size_t oldlen, const char *new_, size_t newlen, int *tries)
{
	uint8_t pair[2 * CSI_PIV_PIN_LEN];
	const char *what = ref == CS_PIV_REF_PUK ? "PUK" : "PIN";
	enum cs_err r = CS_ERR_INTERNAL;

	if (tries != NULL)
		*tries = -1;
	memset(pair, 0xFF, sizeof(pair));
	if (ref != CS_PIV_REF_PIN && ref != CS_PIV_REF_PUK) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "change reference data: %02x is not the PIN or PUK", ref);
		goto out;
	}
	if ((r = csi_piv_pad_pin(card->ctx, what, old, oldlen, pair)) !=
	    CS_OK ||
	    (r = csi_piv_pad_pin(card->ctx, ref == CS_PIV_REF_PUK ? "new PUK" :
	    "new PIN", new_, newlen, pair + CSI_PIV_PIN_LEN)) != CS_OK)
		goto out;
	r = send_pin_pair(card, CSI_PIV_INS_CHANGE_REF, ref, what, pair,
	    tries);
	if (r == CS_OK && ref == CS_PIV_REF_PIN && card->pin_cached)
		memcpy(card->pin, pair + CSI_PIV_PIN_LEN, CSI_PIV_PIN_LEN);
out:
	cs_wipe(pair, sizeof(pair));
	return r;
}

enum cs_err
cs_piv_unblock_pin(struct cs_card *card, const char *puk, size_t puklen,
    const char *new_pin, size_t newlen, int *tries)
{
	uint8_t pair[2 * CSI_PIV_PIN_LEN];
	enum cs_err r = CS_ERR_INTERNAL;

	if (tries != NULL)
		*tries = -1;
	if ((r = csi_piv_pad_pin(card->ctx, "PUK", puk, puklen, pair)) !=
	    CS_OK ||
	    (r = csi_piv_pad_pin(card->ctx, "new PIN", new_pin, newlen,
	    pair + CSI_PIV_PIN_LEN)) != CS_OK)
		goto out;
	r = send_pin_pair(card, CSI_PIV_INS_RESET_RETRY, CS_PIV_REF_PIN, "PUK",
	    pair, tries);
	if (r == CS_OK && card->pin_cached)
		memcpy(card->pin, pair + CSI_PIV_PIN_LEN, CSI_PIV_PIN_LEN);
out:
	cs_wipe(pair, sizeof(pair));
	return r;
}

enum cs_err
cs_piv_set_retries(struct cs_card *card, uint8_t pin_tries,
    uint8_t puk_tries)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	uint16_t sw = 0;
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	if (!cs_card_has(card, CS_CAP_YUBIKEY)) {
		r = csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "set retries: not a YubiKey");
		goto out;
	}
	if (pin_tries == 0) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "set retries: PIN tries must be 1 to 255");
		goto out;
	}
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if (card->pin_cached && (r = csi_piv_verify_cached(card)) != CS_OK)
		goto out;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_SET_RETRIES, pin_tries,
	    puk_tries, NULL, 0, false, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == CSI_PIV_SW_ACCESS)
		r = csi_fail(card->ctx, CS_ERR_ACCESS,
		    "set retries: PIN and management key authentication "
		    "required (6982)");
	else
		r = cs_apdu_map_sw(card->ctx, sw, "set retries", NULL);
	/* §4.13: PIN and PUK are back at their defaults */
	if (r == CS_OK)
		csi_piv_forget_pin(card);
out:
	if (began)
		csi_piv_end(card);
	cs_buf_release(&resp);
	return r;
}
