/*
 * The private-key operations of GENERAL AUTHENTICATE (piv-apdu.md §4.7):
 * raw RSA, ECDSA over a host digest, Ed25519, and ECDH/X25519 key
 * agreement (tag 85). Key objects come from crypto.c.
 */
#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "simcrypto_int.h"

#include "banned.h"

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
	enum cs_err r = CS_ERR_INTERNAL;

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
