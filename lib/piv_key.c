/*
 * PIV asymmetric keys: GENERATE (§4.8), GET METADATA
 * (§4.16), GENERAL AUTHENTICATE for sign, decipher and ECDH (§4.7.3-5),
 * ATTEST (§4.14), MOVE/DELETE (§4.17), RESET (§4.12). IMPORT (§4.15)
 * is in piv_import.c. The algorithm
 * table, slot and algorithm names, public keys from 7F49 TLVs and the
 * signature input encodings are in piv_alg.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "piv_int.h"

#include "banned.h"

/* Largest GENERAL AUTHENTICATE input (RSA-4096 block, Ed25519 message). */
#define GA_IN_MAX 4096
#define KEY_RESP_MAX 2048

/* --- GENERATE --- */

enum cs_err
csi_piv_check_slot(struct cs_card *card, const char *op, uint8_t slot)
{
	char s[3];

	if (!csi_piv_is_key_slot(slot))
		return csi_fail(card->ctx, CS_ERR_ARG, "%s: %s is not a key slot",
		    op, csi_piv_slot_str(slot, s));
	return CS_OK;
}

enum cs_err
csi_piv_check_policies(struct cs_card *card, const char *op, uint8_t pin,
    uint8_t touch)
{
	if (pin > CS_PIV_PIN_MATCH_ALWAYS || touch > CS_PIV_TOUCH_CACHED)
		return csi_fail(card->ctx, CS_ERR_ARG, "%s: bad policy", op);
	if ((pin != 0 || touch != 0) && cs_card_has(card, CS_CAP_YUBIKEY) &&
	    !cs_card_has(card, CS_CAP_POLICY))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: PIN/touch policies need YubiKey firmware 4", op);
	if ((pin != 0 || touch != 0) && !cs_card_has(card, CS_CAP_YUBIKEY))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: PIN/touch policies are a YubiKey extension", op);
	return CS_OK;
}

enum cs_err
csi_piv_check_alg_caps(struct cs_card *card, const char *op,
    const struct csi_piv_alg *a)
{
	bool yk = cs_card_has(card, CS_CAP_YUBIKEY);

	if (!yk)
		return CS_OK;
	if ((a->id == CS_PIV_ALG_RSA3072 || a->id == CS_PIV_ALG_RSA4096) &&
	    !cs_card_has(card, CS_CAP_RSA_LARGE))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: %s needs YubiKey firmware 5.7", op, a->name);
	if ((a->kind == 'd' || a->kind == 'x') &&
	    !cs_card_has(card, CS_CAP_25519))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: %s needs YubiKey firmware 5.7", op, a->name);
	if (a->id == CS_PIV_ALG_P384 && !cs_card_has(card, CS_CAP_P384))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: p384 needs YubiKey firmware 4", op);
	return CS_OK;
}

/* Status of a command that needs the management key. */
enum cs_err
csi_piv_map_mgm_sw(struct cs_card *card, uint16_t sw, const char *what)
{
	if (sw == CSI_PIV_SW_ACCESS)
		return csi_fail(card->ctx, CS_ERR_ACCESS,
		    "%s: management key authentication required (6982)", what);
	return cs_apdu_map_sw(card->ctx, sw, what, NULL);
}

enum cs_err
cs_piv_generate(struct cs_card *card, const struct cs_piv_keygen *kg,
    uint8_t **spki, size_t *spki_len)
{
	struct cs_buf cmd = CS_BUF_INIT(32), resp = CS_BUF_INIT(KEY_RESP_MAX);
	const struct csi_piv_alg *a;
	struct cs_cur c, pub;
	char what[40], s[3];
	size_t mark;
	uint16_t sw = 0;
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	*spki = NULL;
	*spki_len = 0;
	snprintf(what, sizeof(what), "generate key in slot %s",
	    csi_piv_slot_str(kg->slot, s));
	if ((r = csi_piv_check_slot(card, what, kg->slot)) != CS_OK ||
	    (r = csi_piv_check_policies(card, what, kg->pin_policy,
	    kg->touch_policy)) != CS_OK)
		goto out;
	if ((a = csi_piv_key_alg(kg->alg)) == NULL) {
		r = csi_fail(card->ctx, CS_ERR_ARG, "%s: bad algorithm %02x",
		    what, kg->alg);
		goto out;
	}
	if ((r = csi_piv_check_alg_caps(card, what, a)) != CS_OK)
		goto out;
	if (a->kind == 'r' && cs_card_has(card, CS_CAP_ROCA)) {
		r = csi_fail(card->ctx, CS_ERR_POLICY, "%s: this firmware "
		    "makes weak RSA keys (ROCA, CVE-2017-15361)", what);
		goto out;
	}
	cs_tlv_open(&cmd, &mark);
	if ((r = cs_tlv_put_u8(&cmd, 0x80, a->id)) != CS_OK ||
	    (kg->pin_policy != 0 &&
	    (r = cs_tlv_put_u8(&cmd, 0xAA, kg->pin_policy)) != CS_OK) ||
	    (kg->touch_policy != 0 &&
	    (r = cs_tlv_put_u8(&cmd, 0xAB, kg->touch_policy)) != CS_OK) ||
	    (r = cs_tlv_close(&cmd, 0xAC, mark)) != CS_OK)
		goto out;
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_GENERATE, 0x00, kg->slot,
	    cmd.data, cmd.len, true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw != CSI_PIV_SW_OK) {
		r = csi_piv_map_mgm_sw(card, sw, what);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if (cs_tlv_parse_single(&c, 0x7F49, &pub) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "%s: answer is not one 7F49 TLV", what);
		goto out;
	}
	r = csi_piv_spki_from_tlv(card->ctx, a->id, &pub, spki, spki_len);
out:
	if (began)
		csi_piv_end(card);
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}

/* --- GET METADATA --- */

static enum cs_err
parse_meta(struct cs_ctx *ctx, const char *what, const struct cs_cur *in,
    struct cs_piv_key_meta *meta, struct cs_cur *pub, bool *have_pub)
{
	struct cs_cur c = *in, v;
	uint32_t tag, seen = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*have_pub = false;
	while (!cs_cur_is_empty(&c)) {
		if ((r = cs_tlv_get(&c, &tag, &v)) != CS_OK)
			return csi_fail(ctx, r, "%s: bad TLV", what);
		if (tag < 32 && (seen & (1u << tag)) != 0)
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: tag %02X twice", what, (unsigned)tag);
		if (tag < 32)
			seen |= 1u << tag;
		if (tag == 0x01 && cs_cur_len(&v) == 1)
			r = cs_cur_get_u8(&v, &meta->alg);
		else if (tag == 0x02 && cs_cur_len(&v) == 2) {
			if ((r = cs_cur_get_u8(&v, &meta->pin_policy)) == CS_OK)
				r = cs_cur_get_u8(&v, &meta->touch_policy);
		} else if (tag == 0x03 && cs_cur_len(&v) == 1)
			r = cs_cur_get_u8(&v, &meta->origin);
		else if (tag == 0x04) {
			*pub = v;
			*have_pub = true;
			r = CS_OK;
		} else if (tag >= 0x01 && tag <= 0x04)
			r = CS_ERR_MALFORMED;
		else {
			CSI_DEBUG(ctx, "%s: ignoring tag %02X", what,
			    (unsigned)tag);
			r = CS_OK;
		}
		if (r != CS_OK)
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: bad length of tag %02X", what, (unsigned)tag);
	}
	if ((seen & (1u << 1)) == 0)
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "%s: no algorithm (tag 01)", what);
	return CS_OK;
}

enum cs_err
csi_piv_metadata(struct cs_card *card, uint8_t slot,
    struct cs_piv_key_meta *meta, uint8_t **spki, size_t *spki_len)
{
	struct cs_buf resp = CS_BUF_INIT(KEY_RESP_MAX);
	struct cs_cur c, pub;
	char what[32], s[3];
	bool have_pub = false;
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(meta, 0, sizeof(*meta));
	if (spki != NULL) {
		*spki = NULL;
		*spki_len = 0;
	}
	csi_piv_slot_str(slot, s);
	snprintf(what, sizeof(what), "metadata of slot %s", s);
	if (!cs_card_has(card, CS_CAP_METADATA))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: the card has no GET METADATA (YubiKey 5.3 or later)",
		    what);
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_METADATA, 0x00, slot, NULL, 0,
	    true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == 0x6A88 || sw == 0x6A82) {
		csi_set_sw(card->ctx, sw, -1);
		r = csi_fail(card->ctx, CS_ERR_NOT_FOUND, "slot %s is empty", s);
		goto out;
	}
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw, what, NULL);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if ((r = parse_meta(card->ctx, what, &c, meta, &pub, &have_pub)) !=
	    CS_OK || spki == NULL)
		goto out;
	if (!have_pub) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "%s: no public key (tag 04)", what);
		goto out;
	}
	r = csi_piv_spki_from_tlv(card->ctx, meta->alg, &pub, spki, spki_len);
out:
	cs_buf_release(&resp);
	return r;
}

enum cs_err
cs_piv_key_metadata(struct cs_card *card, uint8_t slot,
    struct cs_piv_key_meta *meta, uint8_t **spki, size_t *spki_len)
{
	enum cs_err r = CS_ERR_INTERNAL;

	memset(meta, 0, sizeof(*meta));
	if (spki != NULL) {
		*spki = NULL;
		*spki_len = 0;
	}
	if ((r = csi_piv_check_slot(card, "key metadata", slot)) != CS_OK)
		return r;
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	r = csi_piv_metadata(card, slot, meta, spki, spki_len);
	csi_piv_end(card);
	return r;
}

/* --- private-key operations --- */

/*
 * Algorithm, PIN and touch policy of the key in slot: from metadata when
 * the card has it, else alg as given, the slot's default PIN policy
 * (§3.1) and touch unknown (0).
 */
static enum cs_err
resolve_key(struct cs_card *card, const char *what, uint8_t slot,
    uint8_t *alg, uint8_t *policy, uint8_t *touch)
{
	struct cs_piv_key_meta m;
	char s[3];
	enum cs_err r = CS_ERR_INTERNAL;

	*touch = 0;
	if (!cs_card_has(card, CS_CAP_METADATA)) {
		if (*alg == 0)
			return csi_fail(card->ctx, CS_ERR_ARG,
			    "%s: key algorithm unknown (card has no metadata)",
			    what);
		*policy = slot == CS_PIV_SLOT_SIGN ? CS_PIV_PIN_ALWAYS :
		    slot == CS_PIV_SLOT_CARDAUTH ? CS_PIV_PIN_NEVER :
		    CS_PIV_PIN_ONCE;
		return CS_OK;
	}
	if ((r = csi_piv_metadata(card, slot, &m, NULL, NULL)) != CS_OK)
		return r;
	if (*alg != 0 && *alg != m.alg)
		return csi_fail(card->ctx, CS_ERR_ARG,
		    "%s: slot %s holds a %s key, not %s", what,
		    csi_piv_slot_str(slot, s),
		    cs_piv_alg_name(m.alg) != NULL ? cs_piv_alg_name(m.alg) :
		    "unknown", cs_piv_alg_name(*alg) != NULL ?
		    cs_piv_alg_name(*alg) : "unknown");
	*alg = m.alg;
	*policy = m.pin_policy;
	*touch = m.touch_policy;
	return CS_OK;
}

static enum cs_err
ga_once(struct cs_card *card, uint8_t alg, uint8_t slot,
    const struct cs_buf *cmd, struct cs_buf *resp, uint16_t *sw)
{
	return csi_piv_cmd(card, CSI_PIV_INS_GENERAL_AUTH, alg, slot,
	    cmd->data, cmd->len, true, 0, resp, sw);
}

/*
 * GENERAL AUTHENTICATE 7C { 82 00, intag in } on the key in slot; *out
 * gets the 82 value. PIN-always keys get VERIFY right before (nothing in
 * between, §4.18); a 6982 with a cached PIN is retried once after VERIFY.
 * A touch key makes the card wait for its button: the hook hears of it
 * just before.
 */
static enum cs_err
key_op(struct cs_card *card, const char *what, uint8_t slot, uint8_t alg,
    const uint8_t policy[2], uint32_t intag, const uint8_t *in, size_t inlen,
    struct cs_buf *out)
{
	struct cs_buf cmd, resp;
	struct cs_cur c, dyn, v;
	size_t mark;
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_buf_init(&cmd, GA_IN_MAX + 16, true);
	cs_buf_init(&resp, KEY_RESP_MAX, out->secret);
	cs_tlv_open(&cmd, &mark);
	if ((r = cs_tlv_put(&cmd, 0x82, NULL, 0)) != CS_OK ||
	    (r = cs_tlv_put(&cmd, intag, in, inlen)) != CS_OK ||
	    (r = cs_tlv_close(&cmd, 0x7C, mark)) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_LIMIT, "%s: input too long",
		    what);
		goto out;
	}
	if ((policy[0] == CS_PIV_PIN_ALWAYS ||
	    policy[0] == CS_PIV_PIN_MATCH_ALWAYS) && card->pin_cached &&
	    (r = csi_piv_verify_cached(card)) != CS_OK)
		goto out;
	csi_piv_touch_notice(card, slot, policy[1]);
	if ((r = ga_once(card, alg, slot, &cmd, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == CSI_PIV_SW_ACCESS && card->pin_cached) {
		if ((r = csi_piv_verify_cached(card)) != CS_OK ||
		    (r = ga_once(card, alg, slot, &cmd, &resp, &sw)) != CS_OK)
			goto out;
	}
	if (sw == CSI_PIV_SW_ACCESS) {
		r = csi_fail(card->ctx, CS_ERR_ACCESS,
		    "%s: PIN%s or touch required (6982)", what,
		    card->pin_cached ? " verified" : "");
		goto out;
	}
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw, what, NULL);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if (cs_tlv_parse_single(&c, 0x7C, &dyn) != CS_OK ||
	    cs_tlv_expect(&dyn, 0x82, &v) != CS_OK || !cs_cur_is_empty(&dyn) ||
	    cs_cur_len(&v) == 0) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "%s: answer is not 7C { 82 ... }", what);
		goto out;
	}
	r = cs_buf_put_cur(out, &v);
out:
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}

enum cs_err
cs_piv_sign(struct cs_card *card, uint8_t slot, uint8_t alg,
    const char *digest_name, const uint8_t *digest, size_t digest_len,
    uint8_t **sig, size_t *sig_len)
{
	struct cs_buf in = CS_BUF_INIT(GA_IN_MAX), out = CS_BUF_INIT(1024);
	const struct csi_piv_alg *a;
	uint8_t policy[2] = { 0, 0 }; /* PIN, touch */
	char what[24], s[3];
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	*sig = NULL;
	*sig_len = 0;
	snprintf(what, sizeof(what), "sign with slot %s",
	    csi_piv_slot_str(slot, s));
	if ((r = csi_piv_check_slot(card, what, slot)) != CS_OK)
		goto out;
	if (digest == NULL || digest_len == 0 || digest_len > GA_IN_MAX) {
		r = csi_fail(card->ctx, CS_ERR_ARG, "%s: bad input", what);
		goto out;
	}
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if ((r = resolve_key(card, what, slot, &alg, &policy[0],
	    &policy[1])) != CS_OK)
		goto out;
	if ((a = csi_piv_key_alg(alg)) == NULL) {
		r = csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: unknown algorithm %02x", what, alg);
		goto out;
	}
	if ((r = csi_piv_sign_input(card->ctx, a, digest_name, digest, digest_len,
	    &in)) != CS_OK ||
	    (r = key_op(card, what, slot, alg, policy, 0x81, in.data, in.len,
	    &out)) != CS_OK)
		goto out;
	r = cs_buf_take(&out, sig, sig_len);
out:
	if (began)
		csi_piv_end(card);
	cs_buf_release(&in);
	cs_buf_release(&out);
	return r;
}

/* Shared by decipher and ECDH: check, resolve, run; secret output. */
static enum cs_err
secret_op(struct cs_card *card, const char *what, uint8_t slot, uint8_t alg,
    uint32_t intag, const uint8_t *in, size_t inlen, uint8_t **out,
    size_t *outlen)
{
	struct cs_buf res = CS_BUF_INIT_SECRET(1024);
	const struct csi_piv_alg *a;
	uint8_t policy[2] = { 0, 0 }; /* PIN, touch */
	bool ok;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	if ((r = csi_piv_check_slot(card, what, slot)) != CS_OK)
		return r;
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = resolve_key(card, what, slot, &alg, &policy[0],
	    &policy[1])) != CS_OK)
		goto out;
	a = csi_piv_key_alg(alg);
	if (intag == 0x81)
		ok = a != NULL && a->kind == 'r' && inlen == a->size;
	else
		ok = a != NULL && ((a->kind == 'e' && inlen == 1 + 2 * a->size) ||
		    (a->kind == 'x' && inlen == a->size));
	if (!ok || in == NULL) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "%s: input does not fit the %s key", what,
		    a != NULL ? a->name : "slot's");
		goto out;
	}
	if ((r = key_op(card, what, slot, alg, policy, intag, in, inlen,
	    &res)) != CS_OK)
		goto out;
	r = cs_buf_take(&res, out, outlen);
out:
	csi_piv_end(card);
	cs_buf_release(&res);
	return r;
}

enum cs_err
cs_piv_decipher(struct cs_card *card, uint8_t slot, uint8_t alg,
    const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	char what[32], s[3];

	snprintf(what, sizeof(what), "decipher with slot %s",
	    csi_piv_slot_str(slot, s));
	return secret_op(card, what, slot, alg, 0x81, in, inlen, out, outlen);
}

enum cs_err
cs_piv_ecdh(struct cs_card *card, uint8_t slot, uint8_t alg,
    const uint8_t *peer, size_t peerlen, uint8_t **secret,
    size_t *secret_len)
{
	char what[32], s[3];

	snprintf(what, sizeof(what), "ECDH with slot %s",
	    csi_piv_slot_str(slot, s));
	return secret_op(card, what, slot, alg, 0x85, peer, peerlen, secret,
	    secret_len);
}

/* --- ATTEST, MOVE/DELETE, RESET --- */

enum cs_err
cs_piv_attest(struct cs_card *card, uint8_t slot, uint8_t **der,
    size_t *len)
{
	struct cs_buf resp = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	const unsigned char *p;
	X509 *x = NULL;
	char what[24], s[3];
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*der = NULL;
	*len = 0;
	snprintf(what, sizeof(what), "attest slot %s",
	    csi_piv_slot_str(slot, s));
	if ((r = csi_piv_check_slot(card, what, slot)) != CS_OK)
		return r;
	if (cs_card_has(card, CS_CAP_YUBIKEY) &&
	    !cs_card_has(card, CS_CAP_ATTEST))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: needs YubiKey firmware 4.3", what);
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_ATTEST, slot, 0x00, NULL, 0,
	    true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == 0x6A80 || sw == 0x6A88) {
		r = cs_apdu_map_sw(card->ctx, sw, what, NULL);
		r = csi_fail(card->ctx, r, "%s: slot is empty or its key was "
		    "imported (%04X)", what, sw);
		goto out;
	}
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw, what, NULL);
		goto out;
	}
	p = resp.data;
	if (resp.len == 0 || resp.len > 0x7FFFFFFF ||
	    (x = d2i_X509(NULL, &p, (long)resp.len)) == NULL ||
	    p != resp.data + resp.len) {
		r = csi_fail_ossl(card->ctx, CS_ERR_MALFORMED,
		    "%s: answer is not one DER certificate", what);
		goto out;
	}
	r = cs_buf_take(&resp, der, len);
out:
	csi_piv_end(card);
	X509_free(x);
	cs_buf_release(&resp);
	return r;
}

static enum cs_err
move_or_delete(struct cs_card *card, const char *what, uint8_t p1,
    uint8_t p2)
{
	struct cs_buf resp = CS_BUF_INIT(256);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (!cs_card_has(card, CS_CAP_MOVE_KEY))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "%s: needs YubiKey firmware 5.7", what);
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_MOVE_KEY, p1, p2, NULL, 0, false,
	    0, &resp, &sw)) == CS_OK)
		r = csi_piv_map_mgm_sw(card, sw, what);
	csi_piv_end(card);
	cs_buf_release(&resp);
	return r;
}

enum cs_err
cs_piv_move_key(struct cs_card *card, uint8_t from, uint8_t to)
{
	char what[40], a[3], b[3];
	enum cs_err r = CS_ERR_INTERNAL;

	snprintf(what, sizeof(what), "move key from slot %s to %s",
	    csi_piv_slot_str(from, a), csi_piv_slot_str(to, b));
	if ((r = csi_piv_check_slot(card, what, from)) != CS_OK ||
	    (r = csi_piv_check_slot(card, what, to)) != CS_OK)
		return r;
	if (from == CS_PIV_SLOT_ATTEST || to == CS_PIV_SLOT_ATTEST || from == to)
		return csi_fail(card->ctx, CS_ERR_ARG, "%s: not allowed", what);
	/* §4.17: P1 destination, P2 source */
	return move_or_delete(card, what, to, from);
}

enum cs_err
cs_piv_delete_key(struct cs_card *card, uint8_t slot)
{
	char what[32], s[3];
	enum cs_err r = CS_ERR_INTERNAL;

	snprintf(what, sizeof(what), "delete key in slot %s",
	    csi_piv_slot_str(slot, s));
	if ((r = csi_piv_check_slot(card, what, slot)) != CS_OK)
		return r;
	return move_or_delete(card, what, 0xFF, slot);
}

enum cs_err
cs_piv_reset(struct cs_card *card)
{
	struct cs_buf resp = CS_BUF_INIT(256);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (!cs_card_has(card, CS_CAP_RESET))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "PIV reset: not a YubiKey");
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_RESET, 0x00, 0x00, NULL, 0, false,
	    0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == 0x6985)
		r = csi_fail(card->ctx, CS_ERR_SW,
		    "PIV reset: PIN and PUK must both be blocked first (6985)");
	else
		r = cs_apdu_map_sw(card->ctx, sw, "PIV reset", NULL);
	if (r == CS_OK)
		csi_piv_forget_pin(card);
out:
	csi_piv_end(card);
	cs_buf_release(&resp);
	return r;
}
