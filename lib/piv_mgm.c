/*
 * PIV card administration key (9B): mutual authentication (SP 800-73-4
 * part 2 §3.2.4 with the YubiKey layout of piv-apdu.md §4.7.1), SET
 * MANAGEMENT KEY (§4.11), and ykman's PIN-protected management key kept in
 * admin data 5FFF00 and protected data 5FC109 (§5.8).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "piv_int.h"

#include "banned.h"

#define BLOCK_MAX 16

/* Admin data flags (§5.8). */
#define ADMIN_PUK_BLOCKED 0x01
#define ADMIN_MGM_STORED 0x02

/* Protected data 88 sub-tags: the key (§5.8), and ours (see set_mgm_locked). */
#define PROT_TAG_KEY 0x89
#define PROT_TAG_PREV 0x8A

static const uint8_t default_mgm_key[24] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
};

const uint8_t *
cs_piv_default_mgm_key(size_t *len)
{
	*len = sizeof(default_mgm_key);
	return default_mgm_key;
}

size_t
csi_piv_mgm_keylen(uint8_t alg)
{
	switch (alg) {
	case CS_PIV_ALG_3DES:
	case CS_PIV_ALG_AES192:
		return 24;
	case CS_PIV_ALG_AES128:
		return 16;
	case CS_PIV_ALG_AES256:
		return 32;
	default:
		return 0;
	}
}

static const EVP_CIPHER *
mgm_cipher(uint8_t alg, size_t *block)
{
	*block = 16;
	switch (alg) {
	case CS_PIV_ALG_3DES:
		*block = 8;
		return EVP_des_ede3_ecb();
	case CS_PIV_ALG_AES128:
		return EVP_aes_128_ecb();
	case CS_PIV_ALG_AES192:
		return EVP_aes_192_ecb();
	case CS_PIV_ALG_AES256:
		return EVP_aes_256_ecb();
	default:
		return NULL;
	}
}

/* One ECB block, no padding (§4.7.1). */
static enum cs_err
ecb_block(struct cs_ctx *ctx, uint8_t alg, const uint8_t *key, int enc,
    const uint8_t *in, uint8_t *out)
{
	EVP_CIPHER_CTX *c = NULL;
	const EVP_CIPHER *ciph;
	size_t bs;
	int n1 = 0, n2 = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((ciph = mgm_cipher(alg, &bs)) == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "management key: bad algorithm");
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(c, ciph, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_CipherUpdate(c, out, &n1, in, (int)bs) != 1 ||
	    EVP_CipherFinal_ex(c, out + n1, &n2) != 1 ||
	    (size_t)(n1 + n2) != bs) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "management key cipher");
		goto out;
	}
	r = CS_OK;
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

/*
 * GET METADATA 9B (piv-apdu.md §4.16): 01 algorithm (optional, ykman
 * defaults to 3DES), 02 policy (00, touch), 05 default flag.
 */
static enum cs_err
read_mgm_meta(struct cs_card *card, struct cs_piv_mgm_meta *m)
{
	struct cs_buf resp = CS_BUF_INIT(CS_APDU_RESP_MAX);
	struct cs_cur c, v;
	uint16_t sw = 0;
	uint8_t b;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(m, 0, sizeof(*m));
	m->alg = CS_PIV_ALG_3DES;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_METADATA, 0x00,
	    CS_PIV_SLOT_MGM, NULL, 0, true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw, "management key metadata",
		    NULL);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	r = cs_tlv_find(&c, 0x01, &v);
	if (r == CS_OK && (cs_cur_len(&v) != 1 || cs_cur_get_u8(&v, &b) !=
	    CS_OK || csi_piv_mgm_keylen(b) == 0))
		r = CS_ERR_MALFORMED;
	else if (r == CS_OK)
		m->alg = b;
	if (r != CS_OK && r != CS_ERR_NOT_FOUND) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "management key metadata: bad algorithm (tag 01)");
		goto out;
	}
	if (cs_tlv_find(&c, 0x02, &v) == CS_OK && cs_cur_len(&v) == 2 &&
	    cs_cur_skip(&v, 1) == CS_OK && cs_cur_get_u8(&v, &b) == CS_OK)
		m->touch_policy = b;
	if (cs_tlv_find(&c, 0x05, &v) == CS_OK && cs_cur_len(&v) == 1 &&
	    cs_cur_get_u8(&v, &b) == CS_OK) {
		m->known_default = true;
		m->is_default = b != 0;
	}
	r = CS_OK;
out:
	cs_buf_release(&resp);
	return r;
}

/* Algorithm and touch policy of the management key (GET METADATA 9B). */
static enum cs_err
mgm_alg_from_metadata(struct cs_card *card, uint8_t *alg, uint8_t *touch)
{
	struct cs_piv_mgm_meta m;
	enum cs_err r = CS_ERR_INTERNAL;

	*alg = CS_PIV_ALG_3DES;
	*touch = 0;
	if ((r = read_mgm_meta(card, &m)) == CS_OK) {
		*alg = m.alg;
		*touch = m.touch_policy;
	}
	return r;
}

enum cs_err
cs_piv_mgm_metadata(struct cs_card *card, struct cs_piv_mgm_meta *meta)
{
	enum cs_err r = CS_ERR_INTERNAL;

	memset(meta, 0, sizeof(*meta));
	meta->alg = CS_PIV_ALG_3DES;
	if (!cs_card_has(card, CS_CAP_METADATA))
		return csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "management key metadata: the card has no GET METADATA");
	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	r = read_mgm_meta(card, meta);
	csi_piv_end(card);
	return r;
}

/* Step 1: ask for the witness E_K(W) (§4.7.1). */
static enum cs_err
get_witness(struct cs_card *card, uint8_t alg, size_t bs, uint8_t *witness)
{
	static const uint8_t ask[] = { 0x7C, 0x02, 0x80, 0x00 };
	struct cs_buf resp = CS_BUF_INIT_SECRET(256);
	struct cs_cur c, dyn, v;
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_cmd(card, CSI_PIV_INS_GENERAL_AUTH, alg,
	    CS_PIV_SLOT_MGM, ask, sizeof(ask), true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw,
		    "management key authentication", NULL);
		if (sw == 0x6A80 || sw == 0x6A86)
			r = csi_fail(card->ctx, r, "management key "
			    "authentication: card refused algorithm %s (%04X)",
			    cs_piv_alg_name(alg), sw);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if (cs_tlv_parse_single(&c, 0x7C, &dyn) != CS_OK ||
	    cs_tlv_expect(&dyn, 0x80, &v) != CS_OK || !cs_cur_is_empty(&dyn) ||
	    cs_cur_len(&v) != bs || cs_cur_copy(&v, witness, bs) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "management key authentication: bad witness (7C/80)");
		goto out;
	}
	r = CS_OK;
out:
	cs_buf_release(&resp);
	return r;
}

/* Step 2: send W and our challenge C, get E_K(C) back in resp. */
static enum cs_err
send_response(struct cs_card *card, uint8_t alg, size_t bs, const uint8_t *w,
    const uint8_t *chal, uint8_t *enc)
{
	struct cs_buf cmd = CS_BUF_INIT_SECRET(64);
	struct cs_buf resp = CS_BUF_INIT_SECRET(256);
	struct cs_cur c, dyn, v;
	size_t mark;
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_tlv_open(&cmd, &mark);
	if ((r = cs_tlv_put(&cmd, 0x80, w, bs)) != CS_OK ||
	    (r = cs_tlv_put(&cmd, 0x81, chal, bs)) != CS_OK ||
	    (r = cs_tlv_close(&cmd, 0x7C, mark)) != CS_OK)
		goto out;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_GENERAL_AUTH, alg,
	    CS_PIV_SLOT_MGM, cmd.data, cmd.len, true, 0, &resp, &sw)) != CS_OK)
		goto out;
	if (sw == CSI_PIV_SW_ACCESS) {
		r = csi_fail(card->ctx, CS_ERR_AUTH,
		    "management key authentication failed: wrong key (6982)");
		goto out;
	}
	if (sw != CSI_PIV_SW_OK) {
		r = cs_apdu_map_sw(card->ctx, sw,
		    "management key authentication", NULL);
		goto out;
	}
	cs_buf_cur(&resp, &c);
	if (cs_tlv_parse_single(&c, 0x7C, &dyn) != CS_OK ||
	    cs_tlv_expect(&dyn, 0x82, &v) != CS_OK || !cs_cur_is_empty(&dyn) ||
	    cs_cur_len(&v) != bs || cs_cur_copy(&v, enc, bs) != CS_OK) {
		r = csi_fail(card->ctx, CS_ERR_MALFORMED,
		    "management key authentication: bad response (7C/82)");
		goto out;
	}
	r = CS_OK;
out:
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}

enum cs_err
csi_piv_auth_mgm(struct cs_card *card, uint8_t alg, const uint8_t *key,
    size_t keylen)
{
	uint8_t witness[BLOCK_MAX], w[BLOCK_MAX], chal[BLOCK_MAX];
	uint8_t got[BLOCK_MAX], want[BLOCK_MAX], touch = 0;
	size_t bs;
	enum cs_err r = CS_ERR_INTERNAL;

	card->mgm_src = CSI_MGM_SRC_NONE;
	if (alg == 0) {
		if (cs_card_has(card, CS_CAP_METADATA)) {
			if ((r = mgm_alg_from_metadata(card, &alg, &touch)) !=
			    CS_OK)
				goto out;
		} else
			alg = CS_PIV_ALG_3DES;
	}
	if (mgm_cipher(alg, &bs) == NULL || key == NULL ||
	    keylen != csi_piv_mgm_keylen(alg)) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "management key: %s needs a %zu-byte key",
		    cs_piv_alg_name(alg) != NULL ? cs_piv_alg_name(alg) :
		    "this algorithm", csi_piv_mgm_keylen(alg));
		goto out;
	}
	csi_piv_touch_notice(card, CS_PIV_SLOT_MGM, touch);
	if ((r = get_witness(card, alg, bs, witness)) != CS_OK ||
	    (r = ecb_block(card->ctx, alg, key, 0, witness, w)) != CS_OK ||
	    (r = csi_piv_random(card, chal, bs)) != CS_OK ||
	    (r = send_response(card, alg, bs, w, chal, got)) != CS_OK ||
	    (r = ecb_block(card->ctx, alg, key, 1, chal, want)) != CS_OK)
		goto out;
	if (CRYPTO_memcmp(got, want, bs) != 0) {
		r = csi_fail(card->ctx, CS_ERR_AUTH,
		    "management key authentication: the card's answer does "
		    "not match (wrong key or not the expected card)");
		goto out;
	}
	card->mgm_src = CSI_MGM_SRC_GIVEN;
	r = CS_OK;
out:
	cs_wipe(witness, sizeof(witness));
	cs_wipe(w, sizeof(w));
	cs_wipe(chal, sizeof(chal));
	cs_wipe(got, sizeof(got));
	cs_wipe(want, sizeof(want));
	return r;
}

enum cs_err
cs_piv_authenticate(struct cs_card *card, uint8_t alg, const uint8_t *key,
    size_t keylen)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_piv_begin(card)) != CS_OK)
		return r;
	r = csi_piv_auth_mgm(card, alg, key, keylen);
	csi_piv_end(card);
	return r;
}

/* --- admin data and protected data (§5.8) --- */

/*
 * Parsed 53 value of 5FFF00 or 5FC109: the single container TLV (80 or
 * 88) split into the sub-tag we manage and everything else, kept in order.
 */
struct pivman {
	bool present;       /* container TLV found */
	bool have_flags;    /* 81 present (admin data) */
	uint8_t flags;
	struct cs_buf key;  /* 89 value (protected data), secret */
	struct cs_buf prev; /* 8A value (protected data), secret */
	struct cs_buf rest; /* other sub-TLVs, re-encoded as read */
};

static void
pivman_init(struct pivman *p, bool secret)
{
	p->present = p->have_flags = false;
	p->flags = 0;
	cs_buf_init(&p->key, CSI_PIV_MGM_MAX, true);
	cs_buf_init(&p->prev, CSI_PIV_MGM_MAX, true);
	cs_buf_init(&p->rest, CS_PIV_OBJ_MAX, secret);
}

static void
pivman_release(struct pivman *p)
{
	cs_buf_release(&p->key);
	cs_buf_release(&p->prev);
	cs_buf_release(&p->rest);
}

/*
 * Read obj (5FFF00 with container 80, or 5FC109 with 88). Absent or empty
 * objects leave p empty. admin: 81 is the flags byte and the deprecated
 * 82 salt is dropped (a new key is never PIN-derived); protected: 89 is
 * the key, 8A the key kept during a change.
 */
static enum cs_err
pivman_read(struct cs_card *card, uint32_t obj, struct pivman *p)
{
	struct cs_buf val;
	struct cs_cur c, inner, v;
	uint32_t ctag = obj == CSI_PIV_OBJ_ADMIN ? 0x80 : 0x88, tag;
	bool admin = obj == CSI_PIV_OBJ_ADMIN;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_buf_init(&val, CS_PIV_OBJ_MAX, !admin);
	r = csi_piv_get_data(card, obj, &val);
	if (r == CS_ERR_NOT_FOUND) {
		r = CS_OK;
		goto out;
	}
	if (r != CS_OK || val.len == 0)
		goto out;
	cs_buf_cur(&val, &c);
	if (cs_tlv_parse_single(&c, ctag, &inner) != CS_OK)
		goto bad;
	p->present = true;
	while (!cs_cur_is_empty(&inner)) {
		if (cs_tlv_get(&inner, &tag, &v) != CS_OK)
			goto bad;
		if (admin && tag == 0x81) {
			if (p->have_flags || cs_cur_len(&v) != 1 ||
			    cs_cur_get_u8(&v, &p->flags) != CS_OK)
				goto bad;
			p->have_flags = true;
		} else if (admin && tag == 0x82) {
			continue;
		} else if (!admin && tag == PROT_TAG_KEY) {
			if (p->key.len != 0 || cs_buf_put_cur(&p->key, &v) !=
			    CS_OK)
				goto bad;
		} else if (!admin && tag == PROT_TAG_PREV) {
			if (p->prev.len != 0 || cs_buf_put_cur(&p->prev, &v) !=
			    CS_OK)
				goto bad;
		} else if ((r = cs_tlv_put(&p->rest, tag, cs_cur_ptr(&v),
		    cs_cur_len(&v))) != CS_OK)
			goto out;
	}
	r = CS_OK;
	goto out;
bad:
	r = csi_fail(card->ctx, CS_ERR_MALFORMED,
	    "object %06x: not the ykman layout (§5.8)", (unsigned)obj);
out:
	cs_buf_release(&val);
	return r;
}

/* 80 { [81 01 flags], rest } or 88 { [89 key], [8A prev], rest }, PUT. */
static enum cs_err
pivman_write(struct cs_card *card, uint32_t obj, const struct pivman *p)
{
	struct cs_buf b;
	bool admin = obj == CSI_PIV_OBJ_ADMIN;
	size_t mark;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_buf_init(&b, CS_PIV_OBJ_MAX, !admin);
	cs_tlv_open(&b, &mark);
	if (admin && p->have_flags)
		r = cs_tlv_put_u8(&b, 0x81, p->flags);
	else if (!admin && p->key.len > 0)
		r = cs_tlv_put(&b, PROT_TAG_KEY, p->key.data, p->key.len);
	else
		r = CS_OK;
	if (r == CS_OK && !admin && p->prev.len > 0)
		r = cs_tlv_put(&b, PROT_TAG_PREV, p->prev.data, p->prev.len);
	if (r != CS_OK || (r = cs_buf_put(&b, p->rest.data, p->rest.len)) !=
	    CS_OK || (r = cs_tlv_close(&b, admin ? 0x80 : 0x88, mark)) !=
	    CS_OK) {
		r = csi_fail(card->ctx, r, "object %06x: too large",
		    (unsigned)obj);
		goto out;
	}
	r = csi_piv_put_data(card, obj, b.data, b.len, !admin);
out:
	cs_buf_release(&b);
	return r;
}

static bool
is_stored(const struct pivman *admin)
{
	return admin->have_flags && (admin->flags & ADMIN_MGM_STORED) != 0;
}

enum cs_err
cs_piv_mgm_is_protected(struct cs_card *card, bool *protected_)
{
	struct pivman admin;
	enum cs_err r = CS_ERR_INTERNAL;

	*protected_ = false;
	pivman_init(&admin, false);
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	if ((r = pivman_read(card, CSI_PIV_OBJ_ADMIN, &admin)) == CS_OK)
		*protected_ = is_stored(&admin);
	csi_piv_end(card);
out:
	pivman_release(&admin);
	return r;
}

/* Algorithm of a stored key without metadata: by length (§3.2). */
static uint8_t
alg_for_len(size_t len)
{
	return len == 16 ? CS_PIV_ALG_AES128 : len == 32 ? CS_PIV_ALG_AES256 :
	    CS_PIV_ALG_3DES;
}

/* Read protected data; 6982 becomes "verify the PIN first". */
static enum cs_err
read_protected(struct cs_card *card, struct pivman *prot)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (card->pin_cached && (r = csi_piv_verify_cached(card)) != CS_OK)
		return r;
	r = pivman_read(card, CSI_PIV_OBJ_PRINTED, prot);
	if (r == CS_ERR_ACCESS)
		r = csi_fail(card->ctx, r, "protected management key "
		    "(object 5fc109): verify the PIN first");
	return r;
}

/* Authenticate with a key read from protected data. */
static enum cs_err
auth_stored(struct cs_card *card, const struct cs_buf *key)
{
	uint8_t alg = 0;

	if (!cs_card_has(card, CS_CAP_METADATA))
		alg = alg_for_len(key->len);
	return csi_piv_auth_mgm(card, alg, key->data, key->len);
}

enum cs_err
cs_piv_authenticate_protected(struct cs_card *card)
{
	struct pivman admin, prot;
	enum cs_err r = CS_ERR_INTERNAL;

	pivman_init(&admin, false);
	pivman_init(&prot, true);
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	if ((r = pivman_read(card, CSI_PIV_OBJ_ADMIN, &admin)) != CS_OK)
		goto end;
	if (!is_stored(&admin)) {
		r = csi_fail(card->ctx, CS_ERR_NOT_FOUND,
		    "no PIN-protected management key (admin data 5fff00)");
		goto end;
	}
	if ((r = read_protected(card, &prot)) != CS_OK)
		goto end;
	if (prot.key.len == 0) {
		r = csi_fail(card->ctx, CS_ERR_NOT_FOUND,
		    "protected data 5fc109 holds no management key (tag 89)");
		goto end;
	}
	if ((r = auth_stored(card, &prot.key)) == CS_OK)
		card->mgm_src = CSI_MGM_SRC_PROT;
	else if ((r == CS_ERR_AUTH || r == CS_ERR_ARG) && prot.prev.len > 0) {
		/* A change was cut short: the card may still use the key kept
		 * beside the new one (set_mgm_locked). */
		CSI_DEBUG(card->ctx, "protected key refused; trying the key "
		    "kept during an interrupted change");
		if ((r = auth_stored(card, &prot.prev)) == CS_OK)
			card->mgm_src = CSI_MGM_SRC_PREV;
	}
end:
	csi_piv_end(card);
out:
	pivman_release(&admin);
	pivman_release(&prot);
	return r;
}

static enum cs_err
send_set_mgm(struct cs_card *card, uint8_t alg, const uint8_t *key,
    size_t keylen, bool touch)
{
	struct cs_buf cmd = CS_BUF_INIT_SECRET(64);
	struct cs_buf resp = CS_BUF_INIT(256);
	uint16_t sw = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	/* §4.11: alg 9B len key; P2 FF no touch, FE touch always */
	if ((r = cs_buf_put_u8(&cmd, alg)) != CS_OK ||
	    (r = cs_tlv_put(&cmd, CS_PIV_SLOT_MGM, key, keylen)) != CS_OK)
		goto out;
	/* From here on a lost answer leaves the card's key unknown. */
	card->mgm_change = CS_PIV_MGM_MAYBE_CHANGED;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_SET_MGM, 0xFF,
	    touch ? 0xFE : 0xFF, cmd.data, cmd.len, false, CS_APDU_SECRET_CMD,
	    &resp, &sw)) != CS_OK)
		goto out;
	card->mgm_change = sw == CSI_PIV_SW_OK ? CS_PIV_MGM_CHANGED :
	    CS_PIV_MGM_UNCHANGED;
	if (sw == CSI_PIV_SW_ACCESS)
		r = csi_fail(card->ctx, CS_ERR_ACCESS, "set management key: "
		    "management key authentication required (6982)");
	else
		r = cs_apdu_map_sw(card->ctx, sw, "set management key", NULL);
out:
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}

/*
 * Before the card changes: the new key goes into protected data, and the
 * key in force stays there too (tag 8A) when protected data was its only
 * copy; then admin data says a key is stored. A card pulled before the
 * SET leaves the old key in force and readable (8A, or the default or
 * caller's key); pulled after it, the new one (89).
 */
static enum cs_err
stage_protected(struct cs_card *card, const uint8_t *key, size_t keylen,
    bool was, struct pivman *admin, struct pivman *prot)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (card->mgm_src == CSI_MGM_SRC_PREV)
		; /* the key in force is already the kept one */
	else if (was) {
		cs_buf_reset(&prot->prev);
		if ((r = cs_buf_put(&prot->prev, prot->key.data,
		    prot->key.len)) != CS_OK)
			return r;
	} else
		cs_buf_reset(&prot->prev);
	cs_buf_reset(&prot->key);
	if ((r = cs_buf_put(&prot->key, key, keylen)) != CS_OK ||
	    (r = pivman_write(card, CSI_PIV_OBJ_PRINTED, prot)) != CS_OK)
		return r;
	if (was)
		return CS_OK;
	admin->flags |= ADMIN_MGM_STORED;
	admin->have_flags = true;
	return pivman_write(card, CSI_PIV_OBJ_ADMIN, admin);
}

/*
 * ykman's pivman_set_mgm_key reads protected data (PIN) before anything
 * changes, sets the key, then writes admin and protected data: a card
 * pulled after the SET loses a --protect key for good. So with protect
 * the copies are written first (stage_protected) and only the kept old
 * key is dropped afterwards; without protect the order stays ykman's,
 * whose caller holds the new key.
 */
static enum cs_err
set_mgm_locked(struct cs_card *card, uint8_t alg, const uint8_t *key,
    size_t keylen, unsigned int flags, struct pivman *admin,
    struct pivman *prot)
{
	bool protect = (flags & CS_PIV_MGM_PROTECT) != 0, was;
	bool caps = cs_card_has(card, CS_CAP_PROTECTED_MGM);
	enum cs_err r = CS_ERR_INTERNAL;

	if (caps && (r = pivman_read(card, CSI_PIV_OBJ_ADMIN, admin)) != CS_OK)
		return r;
	was = is_stored(admin);
	if ((protect || was) && (r = read_protected(card, prot)) != CS_OK)
		return r;
	if (protect && (r = stage_protected(card, key, keylen, was, admin,
	    prot)) != CS_OK)
		return r;
	if ((r = send_set_mgm(card, alg, key, keylen,
	    (flags & CS_PIV_MGM_TOUCH) != 0)) != CS_OK)
		return r;
	if (!caps)
		return CS_OK;
	if (protect) {
		card->mgm_src = CSI_MGM_SRC_PROT;
		if (prot->prev.len == 0)
			return CS_OK;
		cs_buf_reset(&prot->prev);
		return pivman_write(card, CSI_PIV_OBJ_PRINTED, prot);
	}
	admin->flags &= (uint8_t)~ADMIN_MGM_STORED;
	if ((r = pivman_write(card, CSI_PIV_OBJ_ADMIN, admin)) != CS_OK)
		return r;
	if (!was)
		return CS_OK;
	cs_buf_reset(&prot->key);
	cs_buf_reset(&prot->prev);
	return pivman_write(card, CSI_PIV_OBJ_PRINTED, prot);
}

enum cs_piv_mgm_change
cs_piv_mgm_last_change(const struct cs_card *card)
{
	return (enum cs_piv_mgm_change)card->mgm_change;
}

enum cs_err
cs_piv_set_mgm_key(struct cs_card *card, uint8_t alg, const uint8_t *key,
    size_t keylen, unsigned int flags)
{
	struct pivman admin, prot;
	enum cs_err r = CS_ERR_INTERNAL;

	pivman_init(&admin, false);
	pivman_init(&prot, true);
	card->mgm_change = CS_PIV_MGM_UNCHANGED;
	if (key == NULL || csi_piv_mgm_keylen(alg) == 0 ||
	    keylen != csi_piv_mgm_keylen(alg) ||
	    (flags & ~(unsigned)(CS_PIV_MGM_PROTECT | CS_PIV_MGM_TOUCH)) != 0) {
		r = csi_fail(card->ctx, CS_ERR_ARG,
		    "set management key: bad algorithm, key length or flags");
		goto out;
	}
	if (alg != CS_PIV_ALG_3DES && cs_card_has(card, CS_CAP_YUBIKEY) &&
	    !cs_card_has(card, CS_CAP_AES_MGM)) {
		r = csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "set management key: AES needs YubiKey firmware 5.4");
		goto out;
	}
	if ((flags & CS_PIV_MGM_PROTECT) != 0 &&
	    !cs_card_has(card, CS_CAP_PROTECTED_MGM)) {
		r = csi_fail(card->ctx, CS_ERR_UNSUPPORTED,
		    "set management key: card cannot store it PIN-protected");
		goto out;
	}
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	r = set_mgm_locked(card, alg, key, keylen, flags, &admin, &prot);
	csi_piv_end(card);
out:
	pivman_release(&admin);
	pivman_release(&prot);
	return r;
}
