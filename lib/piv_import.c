/*
 * PIV key import (§4.15, a Yubico extension): an unencrypted PKCS#8 or
 * PEM private key is split into the card's fixed-width component TLVs
 * (RSA P, Q, dP, dQ, qInv; EC scalar; 25519 seed) in a secret buffer and
 * sent with the slot's PIN and touch policies. The slot, policy and
 * algorithm checks are piv_key.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "piv_int.h"
#include "x509_int.h"

#include "banned.h"

/*
 * One private-key component param as a width-byte big-endian value under
 * tag; what names it in messages. A component the key lacks is
 * CS_ERR_NOT_FOUND without a message, OpenSSL's error left queued (the
 * caller says what the key is missing); one longer than width is
 * CS_ERR_LIMIT with its own message.
 */
static enum cs_err
put_bn(struct cs_ctx *ctx, struct cs_buf *b, uint8_t tag, const EVP_PKEY *pk,
    const char *param, const char *what, size_t width)
{
	BIGNUM *bn = NULL;
	uint8_t tmp[512];
	enum cs_err r = CS_ERR_INTERNAL;

	if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1) {
		r = CS_ERR_NOT_FOUND;
		goto out;
	}
	if (width > sizeof(tmp) || (size_t)BN_num_bytes(bn) > width) {
		r = csi_fail(ctx, CS_ERR_LIMIT, "import: %s (tag %02X) is "
		    "longer than %zu bytes", what, tag, width);
		goto out;
	}
	if (BN_bn2binpad(bn, tmp, (int)width) != (int)width) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "import: %s", what);
		goto out;
	}
	if ((r = cs_tlv_put(b, tag, tmp, width)) != CS_OK)
		r = csi_fail(ctx, r, "import: %s (tag %02X) does not fit the "
		    "command", what, tag);
out:
	cs_wipe(tmp, sizeof(tmp));
	BN_clear_free(bn);
	return r;
}

static enum cs_err
import_tlvs(struct cs_ctx *ctx, const EVP_PKEY *pk, uint8_t *alg,
    struct cs_buf *b)
{
	char group[32] = "";
	uint8_t raw[32];
	size_t rawlen = sizeof(raw), glen = 0;
	BIGNUM *e = NULL;
	int bits = EVP_PKEY_get_bits(pk);
	enum cs_err r = CS_ERR_CRYPTO;

	*alg = 0;
	if (EVP_PKEY_is_a(pk, "RSA")) {
		*alg = bits == 1024 ? CS_PIV_ALG_RSA1024 : bits == 2048 ?
		    CS_PIV_ALG_RSA2048 : bits == 3072 ? CS_PIV_ALG_RSA3072 :
		    bits == 4096 ? CS_PIV_ALG_RSA4096 : 0;
		if (*alg == 0 || EVP_PKEY_get_bn_param(pk,
		    OSSL_PKEY_PARAM_RSA_E, &e) != 1 || !BN_is_word(e, 65537)) {
			r = csi_fail(ctx, CS_ERR_UNSUPPORTED, "import: RSA key "
			    "must be 1024-4096 bits with e = 65537");
			goto out;
		}
		/* §4.15 / Yubico: P, Q, DP, DQ, QINV each half the modulus */
		if ((r = put_bn(ctx, b, 0x01, pk, OSSL_PKEY_PARAM_RSA_FACTOR1,
		    "RSA prime p", (size_t)bits / 16)) != CS_OK ||
		    (r = put_bn(ctx, b, 0x02, pk, OSSL_PKEY_PARAM_RSA_FACTOR2,
		    "RSA prime q", (size_t)bits / 16)) != CS_OK ||
		    (r = put_bn(ctx, b, 0x03, pk, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		    "RSA exponent dP", (size_t)bits / 16)) != CS_OK ||
		    (r = put_bn(ctx, b, 0x04, pk, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		    "RSA exponent dQ", (size_t)bits / 16)) != CS_OK ||
		    (r = put_bn(ctx, b, 0x05, pk,
		    OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "RSA coefficient qInv",
		    (size_t)bits / 16)) != CS_OK) {
			/* only a missing component means "no CRT"; keep the rest */
			if (r == CS_ERR_NOT_FOUND)
				r = csi_fail_ossl(ctx, CS_ERR_CRYPTO,
				    "import: RSA key without CRT parameters");
		}
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		/*
		 * A key on explicit curve parameters has no group name: group
		 * stays "" then, so nothing reads it uninitialised.
		 */
		if (EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) ==
		    1 && glen > 0 && glen < sizeof(group))
			*alg = strcmp(group, "prime256v1") == 0 ?
			    CS_PIV_ALG_P256 : strcmp(group, "secp384r1") == 0 ?
			    CS_PIV_ALG_P384 : 0;
		ERR_clear_error();
		if (*alg == 0) {
			r = csi_fail(ctx, CS_ERR_UNSUPPORTED,
			    "import: only P-256 and P-384 EC keys");
			goto out;
		}
		if ((r = put_bn(ctx, b, 0x06, pk, OSSL_PKEY_PARAM_PRIV_KEY,
		    "EC private key", *alg == CS_PIV_ALG_P256 ? 32 : 48)) ==
		    CS_ERR_NOT_FOUND)
			r = csi_fail_ossl(ctx, CS_ERR_CRYPTO,
			    "import: EC private key");
	} else if (EVP_PKEY_is_a(pk, "ED25519") || EVP_PKEY_is_a(pk, "X25519")) {
		*alg = EVP_PKEY_is_a(pk, "ED25519") ? CS_PIV_ALG_ED25519 :
		    CS_PIV_ALG_X25519;
		if (EVP_PKEY_get_raw_private_key(pk, raw, &rawlen) != 1 ||
		    rawlen != 32)
			r = csi_fail_ossl(ctx, CS_ERR_CRYPTO,
			    "import: 25519 private key");
		else
			r = cs_tlv_put(b, *alg == CS_PIV_ALG_ED25519 ? 0x07 :
			    0x08, raw, rawlen);
	} else
		r = csi_fail(ctx, CS_ERR_UNSUPPORTED,
		    "import: unsupported key type");
out:
	cs_wipe(raw, sizeof(raw));
	BN_free(e);
	return r;
}

static enum cs_err
load_private(struct cs_ctx *ctx, const uint8_t *key, size_t len,
    EVP_PKEY **pk)
{
	static const char pem[] = "-----BEGIN";
	const unsigned char *p = key;
	BIO *bio = NULL;

	*pk = NULL;
	if (len > 64 * 1024)
		return csi_fail(ctx, CS_ERR_LIMIT, "import: key too large");
	if (len >= sizeof(pem) - 1 &&
	    cs_memeq_public(key, pem, sizeof(pem) - 1)) {
		if ((bio = BIO_new_mem_buf(key, (int)len)) != NULL)
			*pk = PEM_read_bio_PrivateKey(bio, NULL, csi_pem_no_password,
			    NULL);
		BIO_free(bio);
	} else
		*pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
	if (*pk == NULL)
		return csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "import: not an unencrypted PKCS#8 or PEM private key");
	return CS_OK;
}

enum cs_err
cs_piv_import_key(struct cs_card *card, uint8_t slot, const uint8_t *key,
    size_t keylen, uint8_t pin_policy, uint8_t touch_policy)
{
	struct cs_buf cmd = CS_BUF_INIT_SECRET(2048);
	struct cs_buf resp = CS_BUF_INIT(256);
	EVP_PKEY *pk = NULL;
	char what[32], s[3];
	uint8_t alg = 0;
	uint16_t sw = 0;
	bool began = false;
	enum cs_err r = CS_ERR_INTERNAL;

	snprintf(what, sizeof(what), "import key into slot %s",
	    csi_piv_slot_str(slot, s));
	if ((r = csi_piv_check_slot(card, what, slot)) != CS_OK ||
	    (r = csi_piv_check_policies(card, what, pin_policy, touch_policy)) != CS_OK)
		goto out;
	if (key == NULL) {
		r = csi_fail(card->ctx, CS_ERR_ARG, "%s: no key", what);
		goto out;
	}
	if ((r = load_private(card->ctx, key, keylen, &pk)) != CS_OK ||
	    (r = import_tlvs(card->ctx, pk, &alg, &cmd)) != CS_OK ||
	    (r = csi_piv_check_alg_caps(card, what, csi_piv_key_alg(alg))) != CS_OK)
		goto out;
	if ((pin_policy != 0 &&
	    (r = cs_tlv_put_u8(&cmd, 0xAA, pin_policy)) != CS_OK) ||
	    (touch_policy != 0 &&
	    (r = cs_tlv_put_u8(&cmd, 0xAB, touch_policy)) != CS_OK))
		goto out;
	if ((r = csi_piv_begin(card)) != CS_OK)
		goto out;
	began = true;
	if ((r = csi_piv_cmd(card, CSI_PIV_INS_IMPORT, alg, slot, cmd.data,
	    cmd.len, false, CS_APDU_SECRET_CMD, &resp, &sw)) != CS_OK)
		goto out;
	r = csi_piv_map_mgm_sw(card, sw, what);
out:
	if (began)
		csi_piv_end(card);
	EVP_PKEY_free(pk);
	cs_buf_release(&cmd);
	cs_buf_release(&resp);
	return r;
}
