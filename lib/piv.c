/*
 * PIV card application (SP 800-73-4 part 2) with YubiKey extensions: card
 * open and identification, transactions, data objects, certificates, PIN
 * and PUK. Management keys are in piv_mgm.c, asymmetric keys in
 * piv_key.c. Byte layouts are those of piv-apdu.md (§ numbers below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "piv_int.h"

#include "banned.h"

/* Room for an object plus its 53 header. */
#define OBJ_RESP_MAX (CS_PIV_OBJ_MAX + 16)
/* Largest certificate after inflating (bounds a zip bomb). */
#define CERT_INFLATE_MAX (CS_PIV_OBJ_MAX * 4)
#define ZCHUNK 4096

/* §5.2 CertInfo (tag 71): bit 0x01 gzip, 0x80 as OpenSC also accepts. */
#define CERTINFO_GZIP 0x01
#define CERTINFO_ALT 0x80

static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };

/* §5.3: FASC-N of a non-federal issuer, agency code 9999. */
static const uint8_t fascn_9999[25] = {
	0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D,
	0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xC8, 0x42,
	0x10, 0xC3, 0xEB,
};
static const char chuid_expiry[] = "20300101";

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
	enum cs_err r;

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
	enum cs_err r;

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
	enum cs_err r;

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
	enum cs_err r;

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
	enum cs_err r;

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

/* --- finding a card over PC/SC --- */

static bool
reader_matches(const char *name, const char *match)
{
	return match == NULL || match[0] == '\0' ||
	    strcasestr(name, match) != NULL;
}

static void
add_candidate(char *list, size_t cap, const struct cs_card *card)
{
	size_t used = strlen(list);
	int w;

	if (used + 1 >= cap)
		return;
	if (card->info.has_serial)
		w = snprintf(list + used, cap - used, "%s\"%s\" (serial %u)",
		    used == 0 ? "" : ", ", card->info.reader,
		    (unsigned)card->info.serial);
	else
		w = snprintf(list + used, cap - used, "%s\"%s\"",
		    used == 0 ? "" : ", ", card->info.reader);
	if (w < 0 || (size_t)w >= cap - used)
		list[used] = '\0'; /* drop a cut-off entry */
}

/*
 * "; readers present: \"A\", \"B\" (no card)" for a --reader that found
 * nothing, so the user sees what to type. Entries that do not fit are
 * dropped whole.
 */
static void
present_readers(char *buf, size_t cap, const struct cs_reader_info *l,
    size_t n)
{
	size_t i, used;
	int w;

	w = snprintf(buf, cap, "%s", n == 0 ? "; no reader is present" :
	    "; readers present: ");
	if (w < 0 || (size_t)w >= cap)
		buf[0] = '\0';
	for (i = 0; i < n; i++) {
		used = strlen(buf);
		w = snprintf(buf + used, cap - used, "%s\"%s\"%s",
		    i == 0 ? "" : ", ", l[i].name,
		    l[i].card_present ? "" : " (no card)");
		if (w < 0 || (size_t)w >= cap - used) {
			buf[used] = '\0';
			break;
		}
	}
}

/* Open the card in reader; NULL *out (no error) when it is no PIV card. */
static enum cs_err
try_reader(struct cs_ctx *ctx, const char *reader, unsigned int flags,
    struct cs_card **out)
{
	struct cs_transport *t = NULL;
	enum cs_err r;

	*out = NULL;
	r = cs_pcsc_open(ctx, reader,
	    (flags & CS_CARD_EXCLUSIVE) ? CS_PCSC_EXCLUSIVE : 0, &t);
	if (r == CS_OK && (r = cs_card_open(ctx, t, flags, out)) != CS_OK)
		cs_transport_close(t);
	if (r == CS_ERR_NOMEM || r == CS_ERR_INTERNAL)
		return r;
	if (r != CS_OK)
		CSI_DEBUG(ctx, "skipping reader \"%s\": %s", reader,
		    cs_ctx_errmsg(ctx));
	return CS_OK;
}

enum cs_err
cs_card_find(struct cs_ctx *ctx, const char *reader_match, uint32_t serial,
    unsigned int flags, struct cs_card **out)
{
	struct cs_reader_info *l = NULL;
	struct cs_card *chosen = NULL, *c = NULL;
	char cands[CSI_ERRMSG_MAX / 2], present[CSI_ERRMSG_MAX / 2];
	size_t n = 0, i, nfound = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	cands[0] = '\0';
	if ((r = cs_pcsc_list(ctx, &l, &n)) != CS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (!l[i].card_present ||
		    !reader_matches(l[i].name, reader_match))
			continue;
		if ((r = try_reader(ctx, l[i].name, flags, &c)) != CS_OK)
			goto out;
		if (c == NULL)
			continue;
		if (serial != 0 &&
		    (!c->info.has_serial || c->info.serial != serial)) {
			cs_card_close(c);
			c = NULL;
			continue;
		}
		nfound++;
		add_candidate(cands, sizeof(cands), c);
		if (chosen == NULL) {
			chosen = c;
			c = NULL;
		} else {
			cs_card_close(c);
			c = NULL;
		}
	}
	if (nfound == 0) {
		present[0] = '\0';
		if (reader_match != NULL)
			present_readers(present, sizeof(present), l, n);
		if (serial != 0)
			r = csi_fail(ctx, CS_ERR_NO_CARD,
			    "no PIV card with serial %u%s%s%s", (unsigned)serial,
			    reader_match != NULL ? " in readers matching " : "",
			    reader_match != NULL ? reader_match : "", present);
		else
			r = csi_fail(ctx, CS_ERR_NO_CARD,
			    "no PIV card found%s%s%s",
			    reader_match != NULL ? " in readers matching " : "",
			    reader_match != NULL ? reader_match : "", present);
		goto out;
	}
	if (nfound > 1) {
		r = csi_fail(ctx, CS_ERR_ARG,
		    "several cards match: %s; choose a reader or a serial",
		    cands);
		goto out;
	}
	cs_ctx_clear_error(ctx);
	*out = chosen;
	chosen = NULL;
	r = CS_OK;
out:
	cs_card_close(chosen);
	cs_card_close(c);
	free(l);
	return r;
}

/* --- data objects --- */

uint32_t
cs_piv_cert_object(uint8_t slot)
{
	switch (slot) {
	case CS_PIV_SLOT_AUTH:
		return 0x5FC105;
	case CS_PIV_SLOT_SIGN:
		return 0x5FC10A;
	case CS_PIV_SLOT_KEYMGMT:
		return 0x5FC10B;
	case CS_PIV_SLOT_CARDAUTH:
		return 0x5FC101;
	case CS_PIV_SLOT_ATTEST:
		return CSI_PIV_OBJ_ATTEST;
	default:
		if (slot >= CS_PIV_SLOT_RETIRED1 &&
		    slot <= CS_PIV_SLOT_RETIRED20)
			return 0x5FC10D + (uint32_t)(slot - CS_PIV_SLOT_RETIRED1);
		return 0;
	}
}

enum cs_err
cs_piv_read_object(struct cs_card *card, uint32_t tag, uint8_t **val,
    size_t *len)
{
	struct cs_buf v = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	enum cs_err r = CS_ERR_INTERNAL;

	*val = NULL;
	*len = 0;
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_get_data(card, tag, &v)) != CS_OK)
		goto out;
	r = cs_buf_take(&v, val, len);
out:
	csi_piv_end(card);
	cs_buf_release(&v);
	return r;
}

enum cs_err
cs_piv_write_object(struct cs_card *card, uint32_t tag, const uint8_t *val,
    size_t len)
{
	enum cs_err r;

	if (len > 0 && val == NULL)
		return csi_fail(card->ctx, CS_ERR_ARG, "write object: no data");
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	r = csi_piv_put_data(card, tag, val, len, false);
	csi_piv_end(card);
	return r;
}

/* --- certificates (§5.2) --- */

/* RFC 1950/1952 stream (auto-detected) into out, at most out->max. */
static enum cs_err
inflate_cert(struct cs_ctx *ctx, const struct cs_cur *in, struct cs_buf *out)
{
	z_stream zs;
	uint8_t chunk[ZCHUNK];
	size_t have;
	int zr = Z_OK;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&zs, 0, sizeof(zs));
	if (cs_cur_len(in) > UINT32_MAX)
		return CS_ERR_LIMIT;
	zs.next_in = cs_cur_ptr(in);
	zs.avail_in = (uInt)cs_cur_len(in);
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return csi_fail(ctx, CS_ERR_NOMEM, "inflate: init failed");
	while (zr != Z_STREAM_END) {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			r = csi_fail(ctx, CS_ERR_MALFORMED,
			    "compressed certificate: %s",
			    zs.msg != NULL ? zs.msg : "bad or truncated data");
			goto out;
		}
		have = sizeof(chunk) - zs.avail_out;
		if (cs_buf_put(out, chunk, have) != CS_OK) {
			r = csi_fail(ctx, CS_ERR_LIMIT,
			    "compressed certificate inflates beyond %zu bytes",
			    out->max);
			goto out;
		}
		if (zr == Z_OK && have == 0 && zs.avail_in == 0) {
			r = csi_fail(ctx, CS_ERR_TRUNCATED,
			    "compressed certificate is truncated");
			goto out;
		}
	}
	if (zs.avail_in != 0) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "compressed certificate: data after the stream");
		goto out;
	}
	r = CS_OK;
out:
	inflateEnd(&zs);
	return r;
}

/* gzip (RFC 1952) of in, as yubico-piv-tool -K GZIP writes it. */
static enum cs_err
deflate_cert(struct cs_ctx *ctx, const uint8_t *in, size_t len,
    struct cs_buf *out)
{
	z_stream zs;
	uint8_t chunk[ZCHUNK];
	int zr = Z_OK;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&zs, 0, sizeof(zs));
	if (len > UINT32_MAX)
		return CS_ERR_LIMIT;
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return csi_fail(ctx, CS_ERR_NOMEM, "deflate: init failed");
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = deflate(&zs, Z_FINISH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = csi_fail(ctx, CS_ERR_INTERNAL, "deflate failed");
			goto out;
		}
		if (cs_buf_put(out, chunk, sizeof(chunk) - zs.avail_out) !=
		    CS_OK) {
			r = csi_fail(ctx, CS_ERR_LIMIT,
			    "compressed certificate too large");
			goto out;
		}
	}
	r = CS_OK;
out:
	deflateEnd(&zs);
	return r;
}

/* Split a certificate container: 70 cert, 71 info, (72 MSCUID), FE. */
static enum cs_err
parse_cert_obj(struct cs_ctx *ctx, const char *what, const struct cs_cur *obj,
    struct cs_cur *cert, uint8_t *info)
{
	struct cs_cur c = *obj, v;
	uint32_t tag, seen = 0, bit;
	enum cs_err r;

	*info = 0;
	cs_cur_init(cert, NULL, 0);
	while (!cs_cur_is_empty(&c)) {
		if ((r = cs_tlv_get(&c, &tag, &v)) != CS_OK)
			return csi_fail(ctx, r, "%s: bad TLV in certificate "
			    "object", what);
		switch (tag) {
		case 0x70:
			bit = 1;
			*cert = v;
			break;
		case 0x71:
			bit = 2;
			break;
		case 0x72: /* MSCUID, SP 800-73-4 part 1 table 10 */
			bit = 4;
			break;
		case 0xFE:
			bit = 8;
			break;
		default:
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: unexpected tag %X in certificate object",
			    what, (unsigned)tag);
		}
		if ((seen & bit) != 0)
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: tag %X twice in certificate object", what,
			    (unsigned)tag);
		seen |= bit;
		if (tag == 0x71 && (cs_cur_len(&v) != 1 ||
		    cs_cur_get_u8(&v, info) != CS_OK))
			return csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: CertInfo (tag 71) is not one byte", what);
	}
	if (cs_cur_is_empty(cert))
		return csi_fail(ctx, CS_ERR_NOT_FOUND, "%s has no certificate",
		    what);
	return CS_OK;
}

enum cs_err
cs_piv_read_cert(struct cs_card *card, uint8_t slot, uint8_t **der,
    size_t *len)
{
	struct cs_buf obj = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	struct cs_buf plain = CS_BUF_INIT(CERT_INFLATE_MAX);
	struct cs_cur c, cert;
	char what[16], s[3];
	uint32_t tag = cs_piv_cert_object(slot);
	uint8_t info = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*der = NULL;
	*len = 0;
	snprintf(what, sizeof(what), "slot %s", csi_piv_slot_str(slot, s));
	if (tag == 0)
		return csi_fail(card->ctx, CS_ERR_ARG,
		    "%s holds no certificate", what);
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	if ((r = csi_piv_get_data(card, tag, &obj)) != CS_OK) {
		if (r == CS_ERR_NOT_FOUND)
			r = csi_fail(card->ctx, r, "%s has no certificate",
			    what);
		goto out;
	}
	cs_buf_cur(&obj, &c);
	if ((r = parse_cert_obj(card->ctx, what, &c, &cert, &info)) != CS_OK)
		goto out;
	if ((info & (CERTINFO_GZIP | CERTINFO_ALT)) != 0) {
		if ((r = inflate_cert(card->ctx, &cert, &plain)) != CS_OK)
			goto out;
		r = cs_buf_take(&plain, der, len);
	} else
		r = cs_cur_dup(&cert, der, len);
out:
	csi_piv_end(card);
	cs_buf_release(&obj);
	cs_buf_release(&plain);
	return r;
}

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* DER of a certificate given as DER or PEM; checks that it parses. */
static enum cs_err
cert_to_der(struct cs_ctx *ctx, const uint8_t *in, size_t len,
    struct cs_buf *der)
{
	static const char pem[] = "-----BEGIN";
	const unsigned char *p = in;
	X509 *x = NULL;
	BIO *bio = NULL;
	unsigned char *enc = NULL;
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	if (len > CS_PIV_OBJ_MAX * 4 || len > 0x7FFFFFFF)
		return csi_fail(ctx, CS_ERR_LIMIT, "certificate too large");
	if (len >= sizeof(pem) - 1 &&
	    cs_memeq_public(in, pem, sizeof(pem) - 1)) {
		if ((bio = BIO_new_mem_buf(in, (int)len)) == NULL ||
		    (x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) ==
		    NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "certificate: bad PEM");
			goto out;
		}
	} else if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != in + len) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "certificate: not one DER X.509 certificate");
		goto out;
	}
	if (bio == NULL) {
		/* DER in: store the caller's bytes exactly */
		r = cs_buf_put(der, in, len);
	} else if ((n = i2d_X509(x, &enc)) <= 0) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "certificate: encode");
		goto out;
	} else
		r = cs_buf_put(der, enc, (size_t)n);
	if (r != CS_OK)
		r = csi_fail(ctx, r, "certificate too large");
out:
	OPENSSL_free(enc);
	X509_free(x);
	BIO_free(bio);
	return r;
}

/* §5.3 CHUID: 9999 FASC-N, random v4 GUID, expiry, empty signature. */
static enum cs_err
write_chuid(struct cs_card *card)
{
	struct cs_buf b = CS_BUF_INIT(128);
	uint8_t guid[16];
	enum cs_err r;

	if ((r = csi_piv_random(card, guid, sizeof(guid))) != CS_OK)
		goto out;
	guid[6] = (uint8_t)((guid[6] & 0x0F) | 0x40); /* RFC 4122 v4 */
	guid[8] = (uint8_t)((guid[8] & 0x3F) | 0x80);
	if ((r = cs_tlv_put(&b, 0x30, fascn_9999, sizeof(fascn_9999))) !=
	    CS_OK ||
	    (r = cs_tlv_put(&b, 0x34, guid, sizeof(guid))) != CS_OK ||
	    (r = cs_tlv_put(&b, 0x35, chuid_expiry,
	    sizeof(chuid_expiry) - 1)) != CS_OK ||
	    (r = cs_tlv_put(&b, 0x3E, NULL, 0)) != CS_OK ||
	    (r = cs_tlv_put(&b, 0xFE, NULL, 0)) != CS_OK)
		goto out;
	r = csi_piv_put_data(card, CSI_PIV_OBJ_CHUID, b.data, b.len, false);
out:
	cs_buf_release(&b);
	return r;
}

/* OpenSC derives the token serial from the CHUID; keep one that exists. */
static enum cs_err
ensure_chuid(struct cs_card *card)
{
	struct cs_buf v = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	enum cs_err r;

	r = csi_piv_get_data(card, CSI_PIV_OBJ_CHUID, &v);
	cs_buf_release(&v);
	if (r == CS_ERR_NOT_FOUND)
		return write_chuid(card);
	return r;
}

enum cs_err
cs_piv_write_cert(struct cs_card *card, uint8_t slot, const uint8_t *cert,
    size_t len, unsigned int flags)
{
	struct cs_buf der = CS_BUF_INIT(CS_PIV_OBJ_MAX * 4);
	struct cs_buf gz = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	struct cs_buf obj = CS_BUF_INIT(CS_PIV_OBJ_MAX);
	bool compress = (flags & CS_PIV_CERT_COMPRESS) != 0;
	const struct cs_buf *body;
	uint32_t tag = cs_piv_cert_object(slot);
	char s[3];
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	if (tag == 0 || cert == NULL || (flags & ~CS_PIV_CERT_COMPRESS) != 0) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "write certificate: bad slot %s or arguments",
		    csi_piv_slot_str(slot, s));
		goto out;
	}
	if ((r = cert_to_der(card->ctx, cert, len, &der)) != CS_OK)
		goto out;
	if (compress &&
	    (r = deflate_cert(card->ctx, der.data, der.len, &gz)) != CS_OK)
		goto out;
	body = compress ? &gz : &der;
	if ((r = cs_tlv_put(&obj, 0x70, body->data, body->len)) != CS_OK ||
	    (r = cs_tlv_put_u8(&obj, 0x71, compress ? CERTINFO_GZIP : 0)) !=
	    CS_OK ||
	    (r = cs_tlv_put(&obj, 0xFE, NULL, 0)) != CS_OK) {
		r = csi_fail(card->ctx, r,
		    "slot %s: certificate of %zu bytes does not fit%s",
		    csi_piv_slot_str(slot, s), der.len,
		    compress ? "" : " (try compression)");
		goto out;
	}
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if ((r = csi_piv_put_data(card, tag, obj.data, obj.len, false)) !=
	    CS_OK)
		goto out;
	if (slot != CS_PIV_SLOT_ATTEST)
		r = ensure_chuid(card);
out:
	if (began)
		csi_piv_end(card);
	cs_buf_release(&der);
	cs_buf_release(&gz);
	cs_buf_release(&obj);
	return r;
}

enum cs_err
cs_piv_delete_cert(struct cs_card *card, uint8_t slot)
{
	uint32_t tag = cs_piv_cert_object(slot);
	char s[3];
	enum cs_err r;

	if (tag == 0)
		return csi_fail(card->ctx, CS_ERR_ARG,
		    "delete certificate: bad slot %s",
		    csi_piv_slot_str(slot, s));
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	/* §4.3: an empty 53 deletes the object */
	r = csi_piv_put_data(card, tag, NULL, 0, false);
	csi_piv_end(card);
	return r;
}

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
	enum cs_err r;

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
	enum cs_err r;

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
	enum cs_err r;

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
	enum cs_err r;

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
