/*
 * Simulator key objects: the algorithm table, key generation, the public
 * key (7F49 TLVs, SPKI), (de)serialisation for the state file,
 * management-key ECB blocks and random bytes. IMPORT ASYMMETRIC KEY lives
 * in crypto_import.c, the private-key operations of GENERAL AUTHENTICATE
 * and ECDH in crypto_op.c; they share simcrypto_int.h. OpenSSL 3
 * EVP/provider API only.
 *
 * Conventions: every function that takes a struct cs_buf *out appends to it
 * (it never resets it), so callers can build TLV wrappers around the output.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cardsmith/tlv.h"
#include "simcrypto_int.h"

#include "banned.h"

/* piv-apdu.md §3.2. */
static const struct alg_info algs[] = {
	{ SIM_ALG_RSA1024, K_RSA, 1024, 0, NULL, 128 },
	{ SIM_ALG_RSA2048, K_RSA, 2048, 0, NULL, 256 },
	{ SIM_ALG_RSA3072, K_RSA, 3072, 0, NULL, 384 },
	{ SIM_ALG_RSA4096, K_RSA, 4096, 0, NULL, 512 },
	{ SIM_ALG_P256, K_EC, 256, NID_X9_62_prime256v1, "P-256", 32 },
	{ SIM_ALG_P384, K_EC, 384, NID_secp384r1, "P-384", 48 },
	{ SIM_ALG_ED25519, K_ED25519, 256, 0, NULL, 32 },
	{ SIM_ALG_X25519, K_X25519, 256, 0, NULL, 32 },
};

/* Public-key TLV tags (7F49 content), piv-apdu.md §4.8. */
#define TAG_PUB_N 0x81
#define TAG_PUB_E 0x82
#define TAG_PUB_POINT 0x86

const struct alg_info *
simi_alg_lookup(uint8_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].alg == alg)
			return &algs[i];
	return NULL;
}

bool
sim_alg_is_asym(uint8_t alg)
{
	return simi_alg_lookup(alg) != NULL;
}

bool
sim_alg_mgm(uint8_t alg, size_t *block, size_t *keylen)
{
	switch (alg) {
	case SIM_ALG_3DES:
		*block = 8;
		*keylen = 24;
		return true;
	case SIM_ALG_AES128:
		*block = 16;
		*keylen = 16;
		return true;
	case SIM_ALG_AES192:
		*block = 16;
		*keylen = 24;
		return true;
	case SIM_ALG_AES256:
		*block = 16;
		*keylen = 32;
		return true;
	default:
		return false;
	}
}

enum cs_err
simi_key_adopt(const struct alg_info *ai, enum cs_err r, EVP_PKEY *pkey,
    struct sim_key **out)
{
	struct sim_key *k = NULL;

	if (r == CS_OK && (k = calloc(1, sizeof(*k))) == NULL)
		r = CS_ERR_NOMEM;
	if (k != NULL) {
		k->ai = ai;
		k->pkey = pkey;
		pkey = NULL;
		*out = k;
	}
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return r;
}

void
sim_key_free(struct sim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

uint8_t
sim_key_alg(const struct sim_key *k)
{
	return k->ai->alg;
}

const char *
simi_kind_name(enum kind kind)
{
	switch (kind) {
	case K_RSA:
		return "RSA";
	case K_EC:
		return "EC";
	case K_ED25519:
		return "ED25519";
	case K_X25519:
		return "X25519";
	default:
		return "";
	}
}

enum cs_err
sim_key_generate(uint8_t alg, struct sim_key **out)
{
	const struct alg_info *ai;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((ai = simi_alg_lookup(alg)) == NULL)
		return CS_ERR_ARG;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, simi_kind_name(ai->kind),
	         NULL)) == NULL ||
	    EVP_PKEY_keygen_init(pctx) <= 0) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	if ((ai->kind == K_RSA &&
	        EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, ai->bits) <= 0) ||
	    (ai->kind == K_EC &&
	        EVP_PKEY_CTX_set_group_name(pctx, ai->group) <= 0) ||
	    EVP_PKEY_generate(pctx, &pkey) <= 0) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	r = CS_OK;
out:
	EVP_PKEY_CTX_free(pctx);
	return simi_key_adopt(ai, r, pkey, out);
}

/* --- public key --- */

static enum cs_err
public_tlvs_rsa(const struct sim_key *k, struct cs_buf *out)
{
	uint8_t n[RSA_LEN_MAX], e[8];
	BIGNUM *bn = NULL, *be = NULL;
	size_t elen;
	enum cs_err r = CS_ERR_CRYPTO;

	if (!EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn) ||
	    !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &be) ||
	    BN_num_bytes(be) > (int)sizeof(e) ||
	    BN_bn2binpad(bn, n, (int)k->ai->len) != (int)k->ai->len)
		goto out;
	elen = (size_t)BN_bn2bin(be, e);
	if ((r = cs_tlv_put(out, TAG_PUB_N, n, k->ai->len)) != CS_OK)
		goto out;
	r = cs_tlv_put(out, TAG_PUB_E, e, elen);
out:
	BN_free(bn);
	BN_free(be);
	return r;
}

/* EC: 04||X||Y; 25519: the raw 32 bytes. */
static enum cs_err
public_octets(const struct sim_key *k, uint8_t *p, size_t max, size_t *len)
{
	size_t want;

	*len = 0;
	if (k->ai->kind == K_EC) {
		want = 1 + 2 * k->ai->len;
		if (EVP_PKEY_get_octet_string_param(k->pkey,
		        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, p, max, len) != 1 ||
		    *len != want || p[0] != POINT_CONVERSION_UNCOMPRESSED)
			return CS_ERR_CRYPTO;
		return CS_OK;
	}
	*len = max;
	if (EVP_PKEY_get_raw_public_key(k->pkey, p, len) != 1 ||
	    *len != k->ai->len)
		return CS_ERR_CRYPTO;
	return CS_OK;
}

enum cs_err
sim_key_public_tlvs(const struct sim_key *k, struct cs_buf *out)
{
	uint8_t pt[1 + 2 * EC_LEN_MAX];
	size_t len;
	enum cs_err r = CS_ERR_INTERNAL;

	if (k->ai->kind == K_RSA)
		r = public_tlvs_rsa(k, out);
	else if ((r = public_octets(k, pt, sizeof(pt), &len)) == CS_OK)
		r = cs_tlv_put(out, TAG_PUB_POINT, pt, len);
	ERR_clear_error();
	return r;
}

enum cs_err
sim_key_spki(const struct sim_key *k, struct cs_buf *out)
{
	unsigned char *der = NULL;
	int len;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((len = i2d_PUBKEY(k->pkey, &der)) <= 0) {
		ERR_clear_error();
		return CS_ERR_CRYPTO;
	}
	r = cs_buf_put(out, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

/* --- state file --- */

enum cs_err
sim_key_to_der(const struct sim_key *k, struct cs_buf *out)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL;
	int len = 0;
	enum cs_err r = CS_ERR_CRYPTO;

	/* Private key bytes only ever go into a wiping buffer. */
	if (!out->secret)
		return CS_ERR_ARG;
	if ((p8 = EVP_PKEY2PKCS8(k->pkey)) == NULL ||
	    (len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0)
		goto out;
	r = cs_buf_put(out, der, (size_t)len);
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ERR_clear_error();
	return r;
}

/* The decoded key is the kind and size alg says. */
static bool
pkey_is_alg(EVP_PKEY *pkey, const struct alg_info *ai)
{
	char grp[64];
	size_t glen = 0;

	switch (ai->kind) {
	case K_RSA:
		return EVP_PKEY_is_a(pkey, "RSA") &&
		    EVP_PKEY_get_bits(pkey) == ai->bits;
	case K_EC:
		return EVP_PKEY_is_a(pkey, "EC") &&
		    EVP_PKEY_get_group_name(pkey, grp, sizeof(grp), &glen) ==
		    1 &&
		    OBJ_sn2nid(grp) == ai->nid;
	case K_ED25519:
		return EVP_PKEY_is_a(pkey, "ED25519");
	case K_X25519:
		return EVP_PKEY_is_a(pkey, "X25519");
	default:
		return false;
	}
}

enum cs_err
sim_key_from_der(uint8_t alg, const uint8_t *der, size_t len,
    struct sim_key **out)
{
	const struct alg_info *ai;
	const unsigned char *p = der;
	EVP_PKEY *pkey = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((ai = simi_alg_lookup(alg)) == NULL || der == NULL)
		return CS_ERR_ARG;
	if (len == 0 || len > LONG_MAX)
		return CS_ERR_MALFORMED;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)len)) == NULL ||
	    (size_t)(p - der) != len || !pkey_is_alg(pkey, ai)) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	r = CS_OK;
out:
	return simi_key_adopt(ai, r, pkey, out);
}

/* --- management key, random --- */

static const EVP_CIPHER *
mgm_cipher(uint8_t alg)
{
	switch (alg) {
	case SIM_ALG_3DES:
		return EVP_des_ede3_ecb();
	case SIM_ALG_AES128:
		return EVP_aes_128_ecb();
	case SIM_ALG_AES192:
		return EVP_aes_192_ecb();
	case SIM_ALG_AES256:
		return EVP_aes_256_ecb();
	default:
		return NULL;
	}
}

enum cs_err
sim_mgm_crypt(uint8_t alg, const uint8_t *key, size_t keylen, bool encrypt,
    const uint8_t *in, uint8_t *out)
{
	uint8_t tmp[32];
	size_t block, klen;
	int n = 0, fin = 0;
	const EVP_CIPHER *ciph;
	EVP_CIPHER_CTX *cctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	if (!sim_alg_mgm(alg, &block, &klen) || keylen != klen ||
	    (ciph = mgm_cipher(alg)) == NULL)
		return CS_ERR_ARG;
	if ((cctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(cctx, ciph, key, NULL, encrypt ? 1 : 0, NULL) !=
	        1 ||
	    EVP_CIPHER_CTX_set_padding(cctx, 0) != 1 ||
	    EVP_CipherUpdate(cctx, tmp, &n, in, (int)block) != 1 ||
	    EVP_CipherFinal_ex(cctx, tmp + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != block)
		goto out;
	memcpy(out, tmp, block);
	r = CS_OK;
out:
	cs_wipe(tmp, sizeof(tmp));
	EVP_CIPHER_CTX_free(cctx);
	ERR_clear_error();
	return r;
}

enum cs_err
sim_random(uint8_t *out, size_t n)
{
	if (n > INT_MAX)
		return CS_ERR_ARG;
	if (n == 0)
		return CS_OK;
	if (RAND_bytes(out, (int)n) != 1) {
		ERR_clear_error();
		return CS_ERR_CRYPTO;
	}
	return CS_OK;
}
