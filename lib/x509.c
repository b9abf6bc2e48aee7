/*
 * Certificate summaries, request public keys and key comparison
 * (include/cardsmith/x509.h). Input is decoded by x509_decode.c (bounded,
 * DER exactly one object, PEM through cs_pem_decode); no OpenSSL object
 * outlives a call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"
#include "x509_int.h"

#include "banned.h"

/* RFC 2253 one-line form of n, truncated to fit; "" on failure. */
static void
name_oneline(const X509_NAME *n, char *buf, size_t cap)
{
	BIO *b;
	char *p = NULL;
	long len;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0 && p != NULL)
		snprintf(buf, cap, "%.*s", (int)len, p);
	BIO_free(b);
}

static enum cs_err
get_serial(struct cs_ctx *ctx, const X509 *x, struct cs_cert_info *info)
{
	BIGNUM *bn;
	char *hex = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || (hex = BN_bn2hex(bn)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "certificate: serial");
		goto out;
	}
	if (strlen(hex) < sizeof(info->serial))
		snprintf(info->serial, sizeof(info->serial), "%s", hex);
	r = CS_OK;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* certificatePolicies OIDs (RFC 5280 §4.2.1.4), best effort. */
static void
get_policies(const X509 *x, struct cs_cert_info *info)
{
	CERTIFICATEPOLICIES *pol;
	POLICYINFO *pi;
	int i, crit = 0;

	pol = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
	if (pol == NULL)
		return;
	for (i = 0; i < sk_POLICYINFO_num(pol) &&
	    info->npolicies < CS_X509_POLICIES_MAX; i++) {
		pi = sk_POLICYINFO_value(pol, i);
		if (OBJ_obj2txt(info->policies[info->npolicies],
		    CS_X509_OID_MAX, pi->policyid, 1) > 0)
			info->npolicies++;
	}
	CERTIFICATEPOLICIES_free(pol);
}

/* Copy n bytes from OpenSSL's p into a cs_free-able buffer. */
static enum cs_err
take_copy(struct cs_ctx *ctx, const char *what, const unsigned char *p,
    int n, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;

	if (n <= 0 || p == NULL)
		return csi_fail_ossl(ctx, CS_ERR_MALFORMED, "%s", what);
	if ((buf = malloc((size_t)n)) == NULL)
		return csi_fail(ctx, CS_ERR_NOMEM, "%s", what);
	memcpy(buf, p, (size_t)n);
	*out = buf;
	*outlen = (size_t)n;
	return CS_OK;
}

static enum cs_err
fill_info(struct cs_ctx *ctx, X509 *x, const struct cs_cur *der,
    struct cs_cert_info *info)
{
	unsigned char *spki = NULL;
	unsigned int mdlen = 0;
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	name_oneline(X509_get_subject_name(x), info->subject,
	    sizeof(info->subject));
	name_oneline(X509_get_issuer_name(x), info->issuer,
	    sizeof(info->issuer));
	/* 0 when a time does not decode, as callers expect. */
	if (!csi_asn1_time_unix(X509_get0_notBefore(x), &info->not_before))
		info->not_before = 0;
	if (!csi_asn1_time_unix(X509_get0_notAfter(x), &info->not_after))
		info->not_after = 0;
	if ((r = get_serial(ctx, x, info)) != CS_OK)
		goto out;
	if (EVP_Digest(der->p, der->len, info->sha256, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof(info->sha256)) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "SHA-256 failed");
		goto out;
	}
	get_policies(x, info);
	info->key_alg = csi_pkey_piv_alg(X509_get0_pubkey(x));
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	r = take_copy(ctx, "no public key", spki, n, &info->spki,
	    &info->spki_len);
out:
	OPENSSL_free(spki);
	return r;
}

enum cs_err
cs_cert_info_parse(struct cs_ctx *ctx, const uint8_t *in, size_t len,
    unsigned int flags, struct cs_cert_info *info)
{
	struct cs_cur der;
	uint8_t *owned = NULL;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (info == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "certificate: no output");
	memset(info, 0, sizeof(*info));
	if (flags & CS_X509_CSR_VERIFY)
		return csi_fail(ctx, CS_ERR_ARG,
		    "certificate: CS_X509_CSR_VERIFY is for requests");
	/* the DER itself is needed too: the fingerprint is over it */
	if ((r = csi_x509_cert_get(ctx, in, len, flags, &x, &owned, &der)) !=
	    CS_OK)
		goto out;
	r = fill_info(ctx, x, &der, info);
out:
	if (r != CS_OK)
		cs_cert_info_release(info);
	ERR_clear_error();
	X509_free(x);
	cs_free(owned);
	return r;
}

void
cs_cert_info_release(struct cs_cert_info *info)
{
	if (info == NULL)
		return;
	cs_free(info->spki);
	memset(info, 0, sizeof(*info));
}

enum cs_err
cs_csr_get_spki(struct cs_ctx *ctx, const uint8_t *in, size_t len,
    unsigned int flags, uint8_t **spki, size_t *spki_len)
{
	unsigned char *enc = NULL;
	X509_REQ *req = NULL;
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	if (spki == NULL || spki_len == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "certificate request: no output");
	*spki = NULL;
	*spki_len = 0;
	if ((r = cs_x509_csr_decode(ctx, in, len, flags, &req)) != CS_OK)
		goto out;
	/* A key OpenSSL cannot use is no key for matching either. */
	if (X509_REQ_get0_pubkey(req) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "certificate request: public key unreadable");
		goto out;
	}
	n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &enc);
	r = take_copy(ctx, "certificate request: public key", enc, n, spki,
	    spki_len);
out:
	ERR_clear_error();
	OPENSSL_free(enc);
	X509_REQ_free(req);
	return r;
}

/* Decode one public key; name names it in messages. */
static enum cs_err
get_key(struct cs_ctx *ctx, const char *name, const uint8_t *in, size_t len,
    unsigned int flags, EVP_PKEY **out)
{
	struct cs_cur der;
	const unsigned char *q;
	uint8_t *owned = NULL;
	EVP_PKEY *k = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = csi_x509_get_der(ctx, CS_PEM_PUBKEY, name, in, len, flags,
	    CS_X509_PEM | CS_X509_CSR_VERIFY, &owned, &der)) != CS_OK)
		goto out;
	q = der.p;
	if (der.len == 0 || (k = d2i_PUBKEY(NULL, &q, (long)der.len)) == NULL ||
	    q != der.p + der.len) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", name,
		    csi_x509_notder(CS_PEM_PUBKEY));
		goto out;
	}
	*out = k;
	k = NULL;
	r = CS_OK;
out:
	EVP_PKEY_free(k);
	cs_free(owned);
	return r;
}

enum cs_err
cs_spki_equal(struct cs_ctx *ctx, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, unsigned int flags, bool *equal)
{
	EVP_PKEY *ka = NULL, *kb = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (equal == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "public key: no output");
	if ((r = get_key(ctx, "public key a", a, alen, flags, &ka)) !=
	    CS_OK ||
	    (r = get_key(ctx, "public key b", b, blen, flags, &kb)) != CS_OK)
		goto out;
	/* 1 equal; 0 different; -1/-2 different types or uncomparable. */
	*equal = EVP_PKEY_eq(ka, kb) == 1;
	r = CS_OK;
out:
	ERR_clear_error();
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	return r;
}
