/*
 * Certificate summaries, request public keys and key comparison
 * (include/cardsmith/x509.h). All X.509/ASN.1 decoding goes through
 * OpenSSL; the input is bounded before OpenSSL sees it, DER must be exactly
 * one object, and no OpenSSL object outlives a call.
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

#include "internal.h"
#include "x509_int.h"

#include "banned.h"

/* Base64 and armour inflate PEM by ~4/3; allow twice the DER bound. */
#define PEM_FACTOR 2u

/* How one kind of input is described and decoded from PEM. */
struct kind {
	const char *notder; /* what DER that does not decode is not */
	const char *notpem; /* what PEM input without a usable block lacks */
	enum cs_pem_kind pem;
};

static const struct kind cert_kind = {
	"not a DER X.509 certificate",
	"no PEM X.509 certificate",
	CS_PEM_CERT,
};

static const struct kind csr_kind = {
	"not a DER certificate request",
	"no PEM certificate request",
	CS_PEM_CSR,
};

static const struct kind key_kind = {
	"not a DER SubjectPublicKeyInfo",
	"no PEM public key",
	CS_PEM_PUBKEY,
};

/*
 * The DER bytes of in: in itself, or (CS_X509_PEM and input that does not
 * start like DER) the first PEM block of the kind, decoded into *owned,
 * which the caller frees with cs_free. name names the input in messages.
 */
static enum cs_err
get_der(struct cs_ctx *ctx, const struct kind *k, const char *name,
    const uint8_t *in, size_t len, unsigned int flags, uint8_t **owned,
    struct cs_cur *der)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*owned = NULL;
	cs_cur_init(der, NULL, 0);
	if ((flags & ~(unsigned int)(CS_X509_PEM | CS_X509_CSR_VERIFY)) != 0)
		return csi_fail(ctx, CS_ERR_ARG, "%s: unknown flags %#x", name,
		    flags);
	if (in == NULL && len != 0)
		return csi_fail(ctx, CS_ERR_ARG, "%s: NULL input", name);
	if ((flags & CS_X509_PEM) == 0 || (len > 0 && in[0] == 0x30)) {
		if (len > CS_X509_DER_MAX)
			return csi_fail(ctx, CS_ERR_LIMIT,
			    "%s: %zu bytes, more than %u", name, len,
			    CS_X509_DER_MAX);
		cs_cur_init(der, in, len);
		return CS_OK;
	}
	if (len > PEM_FACTOR * CS_X509_DER_MAX)
		return csi_fail(ctx, CS_ERR_LIMIT,
		    "%s: %zu bytes of PEM, more than %u", name, len,
		    PEM_FACTOR * CS_X509_DER_MAX);
	if (len == 0)
		return csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", name,
		    k->notpem);
	r = cs_pem_decode(k->pem, in, len, &buf, &n);
	if (r == CS_ERR_MALFORMED)
		return csi_fail(ctx, r, "%s: %s", name, k->notpem);
	if (r != CS_OK)
		return csi_fail(ctx, r, "%s: PEM: %s", name, cs_strerror(r));
	if (n > CS_X509_DER_MAX) {
		cs_free(buf);
		return csi_fail(ctx, CS_ERR_LIMIT,
		    "%s: %zu bytes, more than %u", name, n, CS_X509_DER_MAX);
	}
	*owned = buf;
	cs_cur_init(der, buf, n);
	return CS_OK;
}

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
	const unsigned char *q;
	uint8_t *owned = NULL;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (info == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "certificate: no output");
	memset(info, 0, sizeof(*info));
	if (flags & CS_X509_CSR_VERIFY)
		return csi_fail(ctx, CS_ERR_ARG,
		    "certificate: CS_X509_CSR_VERIFY is for requests");
	if ((r = get_der(ctx, &cert_kind, "certificate", in, len, flags, &owned,
	    &der)) != CS_OK)
		goto out;
	q = der.p;
	if (der.len == 0 || (x = d2i_X509(NULL, &q, (long)der.len)) == NULL ||
	    q != der.p + der.len) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s", cert_kind.notder);
		goto out;
	}
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
	struct cs_cur der;
	const unsigned char *q;
	unsigned char *enc = NULL;
	uint8_t *owned = NULL;
	X509_REQ *req = NULL;
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	if (spki == NULL || spki_len == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "certificate request: no output");
	*spki = NULL;
	*spki_len = 0;
	if ((r = get_der(ctx, &csr_kind, "certificate request", in, len, flags, &owned,
	    &der)) != CS_OK)
		goto out;
	q = der.p;
	if (der.len == 0 ||
	    (req = d2i_X509_REQ(NULL, &q, (long)der.len)) == NULL ||
	    q != der.p + der.len) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s", csr_kind.notder);
		goto out;
	}
	/* A key OpenSSL cannot use is no key for matching either. */
	if (X509_REQ_get0_pubkey(req) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "certificate request: public key unreadable");
		goto out;
	}
	if ((flags & CS_X509_CSR_VERIFY) &&
	    X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
		r = csi_fail(ctx, CS_ERR_VERIFY,
		    "certificate request: signature does not verify");
		goto out;
	}
	n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &enc);
	r = take_copy(ctx, "certificate request: public key", enc, n, spki,
	    spki_len);
out:
	ERR_clear_error();
	OPENSSL_free(enc);
	X509_REQ_free(req);
	cs_free(owned);
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
	if ((r = get_der(ctx, &key_kind, name, in, len, flags, &owned,
	    &der)) != CS_OK)
		goto out;
	q = der.p;
	if (der.len == 0 || (k = d2i_PUBKEY(NULL, &q, (long)der.len)) == NULL ||
	    q != der.p + der.len) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", name,
		    key_kind.notder);
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
