/*
 * IMPORT ASYMMETRIC KEY (piv-apdu.md §4.15): the TLV body split into its
 * tags, RSA keys rebuilt and checked from their CRT values, EC keys from
 * the scalar, Ed25519/X25519 from the raw key. The resulting key object is
 * made by crypto.c (simi_key_adopt).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "cardsmith/tlv.h"
#include "simcrypto_int.h"

#include "banned.h"

#define RSA_E 65537

/* IMPORT ASYMMETRIC KEY tags, piv-apdu.md §4.15. */
#define TAG_RSA_P 0x01
#define TAG_RSA_QINV 0x05
#define TAG_EC 0x06
#define TAG_ED25519 0x07
#define TAG_X25519 0x08
#define TAG_PIN_POLICY 0xAA
#define TAG_TOUCH_POLICY 0xAB

/* Tag values 01-08 of one IMPORT body; val[0] unused. */
struct import_tlvs {
	struct cs_cur val[TAG_X25519 + 1];
	bool seen[TAG_X25519 + 1];
};

/*
 * Split the body into its tags. Unknown and duplicate tags are malformed;
 * the policy tags AA/AB belong to the applet and are skipped here.
 */
static enum cs_err
import_split(const struct cs_cur *body, struct import_tlvs *t)
{
	struct cs_cur c = *body, v;
	uint32_t tag;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(t, 0, sizeof(*t));
	while (!cs_cur_is_empty(&c)) {
		if ((r = cs_tlv_get(&c, &tag, &v)) != CS_OK)
			return CS_ERR_MALFORMED;
		if (tag == TAG_PIN_POLICY || tag == TAG_TOUCH_POLICY)
			continue;
		if (tag < TAG_RSA_P || tag > TAG_X25519 || t->seen[tag])
			return CS_ERR_MALFORMED;
		t->seen[tag] = true;
		t->val[tag] = v;
	}
	return CS_OK;
}

/* The tags alg needs are exactly the tags present. */
static bool
import_tags_fit(const struct alg_info *ai, const struct import_tlvs *t)
{
	uint32_t tag, lo, hi;

	switch (ai->kind) {
	case K_RSA:
		lo = TAG_RSA_P;
		hi = TAG_RSA_QINV;
		break;
	case K_EC:
		lo = hi = TAG_EC;
		break;
	case K_ED25519:
		lo = hi = TAG_ED25519;
		break;
	case K_X25519:
		lo = hi = TAG_X25519;
		break;
	default:
		return false;
	}
	for (tag = TAG_RSA_P; tag <= TAG_X25519; tag++)
		if (t->seen[tag] != (tag >= lo && tag <= hi))
			return false;
	return true;
}

/* Secret big number from 1..max bytes. */
static enum cs_err
bn_from_cur(const struct cs_cur *c, size_t max, BIGNUM **out)
{
	BIGNUM *bn;

	*out = NULL;
	if (cs_cur_len(c) == 0 || cs_cur_len(c) > max)
		return CS_ERR_MALFORMED;
	if ((bn = BN_secure_new()) == NULL)
		return CS_ERR_NOMEM;
	if (BN_bin2bn(cs_cur_ptr(c), (int)cs_cur_len(c), bn) == NULL) {
		BN_clear_free(bn);
		return CS_ERR_CRYPTO;
	}
	*out = bn;
	return CS_OK;
}

static enum cs_err
pkey_fromdata(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	*out = NULL;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) <= 0) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	r = CS_OK;
out:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

/* OpenSSL's full key-pair check (for RSA: primality, n, d, CRT values). */
static enum cs_err
pkey_pairwise_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *cctx;
	int ok;

	if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return CS_ERR_NOMEM;
	ok = EVP_PKEY_pairwise_check(cctx);
	EVP_PKEY_CTX_free(cctx);
	return ok == 1 ? CS_OK : CS_ERR_MALFORMED;
}

enum rsa_bn {
	B_P,
	B_Q,
	B_DP,
	B_DQ,
	B_QINV,
	B_N,
	B_E,
	B_D,
	B_P1,
	B_Q1,
	B_LCM,
	B_T,
	B__COUNT
};

/*
 * The card gets only the CRT values (tags 01-05); e is 65537 on every
 * YubiKey, so n = pq and d = e^-1 mod lcm(p-1, q-1) are recomputed and the
 * CRT values must agree with them.
 */
static enum cs_err
rsa_compute(const struct alg_info *ai, BIGNUM **b, BN_CTX *bnctx)
{
	if (!BN_mul(b[B_N], b[B_P], b[B_Q], bnctx) ||
	    !BN_set_word(b[B_E], RSA_E))
		return CS_ERR_CRYPTO;
	if (BN_num_bits(b[B_N]) != ai->bits || BN_cmp(b[B_P], b[B_Q]) == 0)
		return CS_ERR_MALFORMED;
	if (!BN_sub(b[B_P1], b[B_P], BN_value_one()) ||
	    !BN_sub(b[B_Q1], b[B_Q], BN_value_one()) ||
	    !BN_gcd(b[B_T], b[B_P1], b[B_Q1], bnctx) ||
	    !BN_mul(b[B_LCM], b[B_P1], b[B_Q1], bnctx) ||
	    !BN_div(b[B_LCM], NULL, b[B_LCM], b[B_T], bnctx))
		return CS_ERR_MALFORMED;
	if (BN_mod_inverse(b[B_D], b[B_E], b[B_LCM], bnctx) == NULL)
		return CS_ERR_MALFORMED;
	if (!BN_mod(b[B_T], b[B_D], b[B_P1], bnctx) ||
	    BN_cmp(b[B_T], b[B_DP]) != 0)
		return CS_ERR_MALFORMED;
	if (!BN_mod(b[B_T], b[B_D], b[B_Q1], bnctx) ||
	    BN_cmp(b[B_T], b[B_DQ]) != 0)
		return CS_ERR_MALFORMED;
	if (BN_cmp(b[B_QINV], b[B_P]) >= 0 ||
	    !BN_mod_mul(b[B_T], b[B_QINV], b[B_Q], b[B_P], bnctx) ||
	    !BN_is_one(b[B_T]))
		return CS_ERR_MALFORMED;
	return CS_OK;
}

static enum cs_err
import_rsa(const struct alg_info *ai, const struct import_tlvs *t,
    EVP_PKEY **out)
{
	BIGNUM *b[B__COUNT] = { NULL };
	BN_CTX *bnctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	enum cs_err r = CS_ERR_INTERNAL;
	size_t i;

	*out = NULL;
	for (i = 0; i < B__COUNT; i++) {
		if (i <= B_QINV)
			r = bn_from_cur(&t->val[TAG_RSA_P + i], ai->len / 2,
			    &b[i]);
		else
			r = (b[i] = BN_secure_new()) == NULL ? CS_ERR_NOMEM
			                                     : CS_OK;
		if (r != CS_OK)
			goto out;
	}
	if ((bnctx = BN_CTX_secure_new()) == NULL) {
		r = CS_ERR_NOMEM;
		goto out;
	}
	if ((r = rsa_compute(ai, b, bnctx)) != CS_OK)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, b[B_N]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, b[B_E]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, b[B_D]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, b[B_P]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, b[B_Q]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1,
	        b[B_DP]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2,
	        b[B_DQ]) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	        b[B_QINV])) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	if ((r = pkey_fromdata("RSA", bld, out)) != CS_OK)
		goto out;
	if ((r = pkey_pairwise_ok(*out)) != CS_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
out:
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bnctx);
	for (i = 0; i < B__COUNT; i++)
		BN_clear_free(b[i]);
	return r;
}

/* Public point d*G, uncompressed, into pt (1 + 2 * field bytes). */
static enum cs_err
ec_public_point(const struct alg_info *ai, const BIGNUM *d, uint8_t *pt,
    size_t ptlen)
{
	EC_GROUP *grp = NULL;
	EC_POINT *pub = NULL;
	BN_CTX *bnctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	if ((grp = EC_GROUP_new_by_curve_name(ai->nid)) == NULL ||
	    (pub = EC_POINT_new(grp)) == NULL ||
	    (bnctx = BN_CTX_secure_new()) == NULL)
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	if (!EC_POINT_mul(grp, pub, d, NULL, NULL, bnctx) ||
	    EC_POINT_point2oct(grp, pub, POINT_CONVERSION_UNCOMPRESSED, pt,
	        ptlen, bnctx) != ptlen)
		goto out;
	r = CS_OK;
out:
	BN_CTX_free(bnctx);
	EC_POINT_free(pub);
	EC_GROUP_free(grp);
	return r;
}

static enum cs_err
import_ec(const struct alg_info *ai, const struct import_tlvs *t,
    EVP_PKEY **out)
{
	uint8_t pt[1 + 2 * EC_LEN_MAX];
	size_t ptlen = 1 + 2 * ai->len;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	/* The scalar is left-padded to the field size (§4.15). */
	if (cs_cur_len(&t->val[TAG_EC]) != ai->len)
		return CS_ERR_MALFORMED;
	if ((r = bn_from_cur(&t->val[TAG_EC], ai->len, &d)) != CS_OK ||
	    (r = ec_public_point(ai, d, pt, ptlen)) != CS_OK)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	        OBJ_nid2sn(ai->nid), 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	        ptlen) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	r = pkey_fromdata("EC", bld, out);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return r;
}

static enum cs_err
import_raw(const struct alg_info *ai, const struct cs_cur *v, EVP_PKEY **out)
{
	*out = NULL;
	if (cs_cur_len(v) != ai->len)
		return CS_ERR_MALFORMED;
	*out = EVP_PKEY_new_raw_private_key_ex(NULL, simi_kind_name(ai->kind),
	    NULL, cs_cur_ptr(v), cs_cur_len(v));
	return *out == NULL ? CS_ERR_CRYPTO : CS_OK;
}

enum cs_err
sim_key_import(uint8_t alg, const struct cs_cur *body, struct sim_key **out)
{
	const struct alg_info *ai;
	struct import_tlvs t;
	EVP_PKEY *pkey = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((ai = simi_alg_lookup(alg)) == NULL)
		return CS_ERR_ARG;
	if ((r = import_split(body, &t)) != CS_OK)
		goto out;
	if (!import_tags_fit(ai, &t)) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	switch (ai->kind) {
	case K_RSA:
		r = import_rsa(ai, &t, &pkey);
		break;
	case K_EC:
		r = import_ec(ai, &t, &pkey);
		break;
	case K_ED25519:
		r = import_raw(ai, &t.val[TAG_ED25519], &pkey);
		break;
	case K_X25519:
		r = import_raw(ai, &t.val[TAG_X25519], &pkey);
		break;
	default:
		r = CS_ERR_INTERNAL;
		break;
	}
out:
	return simi_key_adopt(ai, r, pkey, out);
}
