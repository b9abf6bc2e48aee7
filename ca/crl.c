/*
 * CRLs (RFC 5280 5): one per issuing CA, v2 with cRLNumber (5.2.3), AKI
 * (5.2.1) and nextUpdate (5.1.2.5); reasonCode only when not unspecified
 * (5.3.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

struct crl_fill {
	struct cs_ctx *ctx;
	X509_CRL *crl;
};

static enum cs_err
add_revoked(void *arg, const char *serial, int64_t at, int reason)
{
	struct crl_fill *f = arg;
	X509_REVOKED *rv = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_ENUMERATED *re = NULL;
	ASN1_TIME *t = NULL;
	BIGNUM *bn = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (!BN_hex2bn(&bn, serial) ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (rv = X509_REVOKED_new()) == NULL ||
	    (t = ASN1_TIME_set(NULL, (time_t)at)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rv, sn) ||
	    !X509_REVOKED_set_revocationDate(rv, t)) {
		r = cs_ctx_fail_crypto(f->ctx, CS_ERR_CRYPTO, "CRL entry %s",
		    serial);
		goto out;
	}
	if (reason > 0 &&
	    ((re = ASN1_ENUMERATED_new()) == NULL ||
	        !ASN1_ENUMERATED_set(re, reason) ||
	        !X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, re, 0, 0))) {
		r = cs_ctx_fail_crypto(f->ctx, CS_ERR_CRYPTO, "CRL reason");
		goto out;
	}
	if (!X509_CRL_add0_revoked(f->crl, rv)) {
		r = cs_ctx_fail_crypto(f->ctx, CS_ERR_CRYPTO, "CRL entry");
		goto out;
	}
	rv = NULL;
	r = CS_OK;
out:
	X509_REVOKED_free(rv);
	ASN1_INTEGER_free(sn);
	ASN1_ENUMERATED_free(re);
	ASN1_TIME_free(t);
	BN_free(bn);
	return r;
}

static enum cs_err
one_crl(struct cs_ca *ca, enum csa_signer s, unsigned int days, BIO *out)
{
	struct crl_fill f = { ca->ctx, NULL };
	X509 *issuer = ca->signer_cert[s];
	ASN1_INTEGER *num = NULL;
	ASN1_TIME *t = NULL;
	X509_EXTENSION *aki = NULL;
	X509V3_CTX v3;
	uint64_t n;
	time_t now = time(NULL);
	enum cs_err r = CS_ERR_INTERNAL;

	if (!csa_sign_ready(ca, s))
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "CA is locked (no passphrase given)");
	if ((r = ca->store->ops->crl_number(ca->store, s, &n)) != CS_OK)
		return r;
	if ((f.crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(f.crl, 1) ||
	    !X509_CRL_set_issuer_name(f.crl, X509_get_subject_name(issuer)) ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL ||
	    !X509_CRL_set1_lastUpdate(f.crl, t) ||
	    ASN1_TIME_adj(t, now, (int)days, 0) == NULL ||
	    !X509_CRL_set1_nextUpdate(f.crl, t) ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(num, n) ||
	    !X509_CRL_add1_ext_i2d(f.crl, NID_crl_number, num, 0, 0)) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "CRL");
		goto out;
	}
	X509V3_set_ctx(&v3, issuer, NULL, NULL, f.crl, 0);
	if ((aki = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier,
	         "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(f.crl, aki, -1)) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "CRL AKI");
		goto out;
	}
	if ((r = ca->store->ops->revoked(ca->store, s, add_revoked, &f)) !=
	    CS_OK)
		goto out;
	if (!X509_CRL_sort(f.crl)) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "sign CRL");
		goto out;
	}
	if ((r = csa_sign_crl(ca, s, f.crl)) != CS_OK)
		goto out;
	if (!PEM_write_bio_X509_CRL(out, f.crl)) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "sign CRL");
		goto out;
	}
	r = CS_OK;
out:
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t);
	X509_CRL_free(f.crl);
	return r;
}

enum cs_err
cs_ca_crl(struct cs_ca *ca, unsigned int days, char **pem, size_t *pemlen)
{
	BIO *b = NULL;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	*pem = NULL;
	*pemlen = 0;
	if (days == 0)
		days = 7;
	if (days > 3650)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "CRL validity too long");
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM, "CRL");
	for (i = 0; i < CSA_SIGNER_COUNT; i++)
		if (ca->signer_cert[i] != NULL &&
		    (r = one_crl(ca, (enum csa_signer)i, days, b)) != CS_OK)
			goto out;
	r = csa_bio_take(ca->ctx, b, pem, pemlen);
out:
	BIO_free(b);
	return r;
}
