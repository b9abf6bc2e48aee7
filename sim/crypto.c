/*
 * Simulator key material: generation, IMPORT ASYMMETRIC KEY, the private
 * operations of GENERAL AUTHENTICATE, ECDH, management-key ECB blocks and
 * (de)serialisation for the state file. OpenSSL 3 EVP/provider API only.
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
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cardsmith/tlv.h"
#include "simcrypto.h"

#include "banned.h"

enum kind { K_RSA, K_EC, K_ED25519, K_X25519 };

struct alg_info {
	uint8_t alg;
	enum kind kind;
	int bits; /* RSA modulus bits */
	int nid; /* EC curve */
	const char *group; /* EC group name for keygen */
	size_t len; /* RSA modulus / EC field / 25519 key bytes */
};

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

#define RSA_LEN_MAX 512
#define EC_LEN_MAX 48
#define RSA_E 65537

/* IMPORT ASYMMETRIC KEY tags, piv-apdu.md §4.15. */
#define TAG_RSA_P 0x01
#define TAG_RSA_QINV 0x05
#define TAG_EC 0x06
#define TAG_ED25519 0x07
#define TAG_X25519 0x08
#define TAG_PIN_POLICY 0xAA
#define TAG_TOUCH_POLICY 0xAB

/* Public-key TLV tags (7F49 content), piv-apdu.md §4.8. */
#define TAG_PUB_N 0x81
#define TAG_PUB_E 0x82
#define TAG_PUB_POINT 0x86

struct sim_key {
	const struct alg_info *ai;
	EVP_PKEY *pkey;
};

static const struct alg_info *
alg_lookup(uint8_t alg)
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
	return alg_lookup(alg) != NULL;
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

static enum cs_err
key_wrap(const struct alg_info *ai, EVP_PKEY **pkey, struct sim_key **out)
{
	struct sim_key *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return CS_ERR_NOMEM;
	k->ai = ai;
	k->pkey = *pkey;
	*pkey = NULL;
	*out = k;
	return CS_OK;
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

static const char *
kind_name(enum kind kind)
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
	if ((ai = alg_lookup(alg)) == NULL)
		return CS_ERR_ARG;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, kind_name(ai->kind),
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
	r = key_wrap(ai, &pkey, out);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

/* --- import --- */

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
	enum cs_err r;

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
	*out = EVP_PKEY_new_raw_private_key_ex(NULL, kind_name(ai->kind), NULL,
	    cs_cur_ptr(v), cs_cur_len(v));
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
	if ((ai = alg_lookup(alg)) == NULL)
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
	if (r != CS_OK)
		goto out;
	r = key_wrap(ai, &pkey, out);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return r;
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
	enum cs_err r;

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
	enum cs_err r;

	if ((len = i2d_PUBKEY(k->pkey, &der)) <= 0) {
		ERR_clear_error();
		return CS_ERR_CRYPTO;
	}
	r = cs_buf_put(out, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

/* --- private operations --- */

/* Raw RSA, m^d mod n (§4.7.3/4.7.4): the host did all padding. */
static enum cs_err
op_rsa(const struct sim_key *k, const uint8_t *in, size_t inlen,
    struct cs_buf *out)
{
	uint8_t res[RSA_LEN_MAX];
	size_t reslen = sizeof(res);
	BIGNUM *m = NULL, *n = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	if (inlen != k->ai->len)
		return CS_ERR_MALFORMED;
	if ((m = BN_bin2bn(in, (int)inlen, NULL)) == NULL ||
	    !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n))
		goto out;
	if (BN_cmp(m, n) >= 0) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) <= 0 ||
	    EVP_PKEY_decrypt(pctx, res, &reslen, in, inlen) <= 0 ||
	    reslen != k->ai->len)
		goto out;
	r = cs_buf_put(out, res, reslen);
out:
	cs_wipe(res, sizeof(res));
	BN_clear_free(m);
	BN_free(n);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

/*
 * ECDSA over in as the digest. Left-padding to the field size gives the
 * same integer, and for P-256/P-384 the order has as many bits as the
 * field, so no truncation applies.
 */
static enum cs_err
op_ecdsa(const struct sim_key *k, const uint8_t *in, size_t inlen,
    struct cs_buf *out)
{
	uint8_t dgst[EC_LEN_MAX], sig[2 * EC_LEN_MAX + 16];
	size_t siglen = sizeof(sig);
	EVP_PKEY_CTX *pctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	if (inlen == 0 || inlen > k->ai->len)
		return CS_ERR_MALFORMED;
	memset(dgst, 0, sizeof(dgst));
	memcpy(dgst + (k->ai->len - inlen), in, inlen);
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL ||
	    EVP_PKEY_sign_init(pctx) <= 0 ||
	    EVP_PKEY_sign(pctx, sig, &siglen, dgst, k->ai->len) <= 0)
		goto out;
	r = cs_buf_put(out, sig, siglen);
out:
	EVP_PKEY_CTX_free(pctx);
	return r;
}

static enum cs_err
op_ed25519(const struct sim_key *k, const uint8_t *in, size_t inlen,
    struct cs_buf *out)
{
	uint8_t sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *mctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, k->pkey,
	        NULL) != 1 ||
	    EVP_DigestSign(mctx, sig, &siglen, in, inlen) != 1 ||
	    siglen != sizeof(sig))
		goto out;
	r = cs_buf_put(out, sig, siglen);
out:
	EVP_MD_CTX_free(mctx);
	return r;
}

enum cs_err
sim_key_private_op(const struct sim_key *k, const uint8_t *in, size_t inlen,
    struct cs_buf *out)
{
	enum cs_err r;

	if (in == NULL && inlen > 0)
		return CS_ERR_ARG;
	if (inlen > INT_MAX)
		return CS_ERR_MALFORMED;
	switch (k->ai->kind) {
	case K_RSA:
		r = op_rsa(k, in, inlen, out);
		break;
	case K_EC:
		r = op_ecdsa(k, in, inlen, out);
		break;
	case K_ED25519:
		r = op_ed25519(k, in, inlen, out);
		break;
	default:
		r = CS_ERR_UNSUPPORTED; /* X25519 cannot sign */
		break;
	}
	ERR_clear_error();
	return r;
}

/* Peer public key for ECDH; CS_ERR_MALFORMED if it is not on the curve. */
static enum cs_err
ecdh_peer(const struct sim_key *k, const uint8_t *peer, size_t peerlen,
    EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	*out = NULL;
	if (k->ai->kind == K_X25519) {
		if (peerlen != k->ai->len)
			return CS_ERR_MALFORMED;
		*out = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL,
		    peer, peerlen);
		return *out == NULL ? CS_ERR_CRYPTO : CS_OK;
	}
	if (peerlen != 1 + 2 * k->ai->len ||
	    peer[0] != POINT_CONVERSION_UNCOMPRESSED)
		return CS_ERR_MALFORMED;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	        OBJ_nid2sn(k->ai->nid), 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	        peer, peerlen) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) <= 0)
		goto out;
	/* Decoding the point checks that it lies on the curve. */
	r = EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1
	    ? CS_OK
	    : CS_ERR_MALFORMED;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

enum cs_err
sim_key_ecdh(const struct sim_key *k, const uint8_t *peer, size_t peerlen,
    struct cs_buf *out)
{
	uint8_t secret[EC_LEN_MAX];
	size_t slen = sizeof(secret);
	EVP_PKEY *pp = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (k->ai->kind != K_EC && k->ai->kind != K_X25519)
		return CS_ERR_UNSUPPORTED;
	if (peer == NULL)
		return CS_ERR_ARG;
	if ((r = ecdh_peer(k, peer, peerlen, &pp)) != CS_OK)
		goto out;
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) <= 0) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	/*
	 * A peer OpenSSL refuses here or in derive (X25519 low-order point:
	 * all-zero secret) is the host's fault, not ours.
	 */
	if (EVP_PKEY_derive_set_peer(pctx, pp) <= 0 ||
	    EVP_PKEY_derive(pctx, secret, &slen) <= 0) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	if (slen != k->ai->len) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	r = cs_buf_put(out, secret, slen);
out:
	cs_wipe(secret, sizeof(secret));
	ERR_clear_error();
	EVP_PKEY_free(pp);
	EVP_PKEY_CTX_free(pctx);
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
	if ((ai = alg_lookup(alg)) == NULL || der == NULL)
		return CS_ERR_ARG;
	if (len == 0 || len > LONG_MAX)
		return CS_ERR_MALFORMED;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p, (long)len)) == NULL ||
	    (size_t)(p - der) != len || !pkey_is_alg(pkey, ai)) {
		r = CS_ERR_MALFORMED;
		goto out;
	}
	r = key_wrap(ai, &pkey, out);
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return r;
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
