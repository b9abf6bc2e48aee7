#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "out.h"

#include "banned.h"

static void
name_str(const X509_NAME *n, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len;

	buf[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0 && p != NULL)
		snprintf(buf, cap, "%.*s", (int)len, p);
	BIO_free(b);
}

static int64_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void
policies(X509 *x, struct certinfo *ci)
{
	CERTIFICATEPOLICIES *pol;
	POLICYINFO *pi;
	int i, crit = 0;

	pol = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
	if (pol == NULL)
		return;
	for (i = 0; i < sk_POLICYINFO_num(pol) &&
	     ci->npolicies < CERTINFO_POLICIES_MAX;
	     i++) {
		pi = sk_POLICYINFO_value(pol, i);
		if (OBJ_obj2txt(ci->policies[ci->npolicies], CERTINFO_OID_MAX,
		        pi->policyid, 1) > 0)
			ci->npolicies++;
	}
	CERTIFICATEPOLICIES_free(pol);
}

bool
certinfo_parse(const uint8_t *der, size_t len, struct certinfo *ci, char *err,
    size_t errcap)
{
	const unsigned char *p = der;
	unsigned char md[EVP_MAX_MD_SIZE], *spki = NULL;
	unsigned int mdlen = 0, i;
	X509 *x = NULL;
	size_t o = 0;
	int n;
	bool ok = false;

	memset(ci, 0, sizeof(*ci));
	err[0] = '\0';
	if (len > 0x7FFFFFFF || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		snprintf(err, errcap, "not a DER X.509 certificate");
		goto out;
	}
	name_str(X509_get_subject_name(x), ci->subject, sizeof(ci->subject));
	name_str(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer));
	ci->not_before = asn1_time(X509_get0_notBefore(x));
	ci->not_after = asn1_time(X509_get0_notAfter(x));
	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		snprintf(err, errcap, "SHA-256 failed");
		goto out;
	}
	for (i = 0; i < mdlen && o + 3 < sizeof(ci->sha256); i++)
		o += (size_t)snprintf(ci->sha256 + o, sizeof(ci->sha256) - o,
		    i == 0 ? "%02X" : ":%02X", md[i]);
	policies(x, ci);
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0) {
		snprintf(err, errcap, "no public key");
		goto out;
	}
	ci->spki = xmalloc((size_t)n);
	memcpy(ci->spki, spki, (size_t)n);
	ci->spki_len = (size_t)n;
	ok = true;
out:
	OPENSSL_free(spki);
	X509_free(x);
	ERR_clear_error();
	return ok;
}

void
certinfo_release(struct certinfo *ci)
{
	free(ci->spki);
	ci->spki = NULL;
	ci->spki_len = 0;
}

static EVP_PKEY *
spki_key(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;

	if (len > 0x7FFFFFFF)
		return NULL;
	return d2i_PUBKEY(NULL, &p, (long)len);
}

int
certinfo_same_key(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	EVP_PKEY *ka = spki_key(a, alen), *kb = spki_key(b, blen);
	int r = -1;

	if (ka != NULL && kb != NULL)
		r = EVP_PKEY_eq(ka, kb) == 1 ? 1 : 0;
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	ERR_clear_error();
	return r;
}

void
certinfo_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "?");
}

bool
certinfo_csr_spki(const uint8_t *der, size_t len, uint8_t **spki,
    size_t *spki_len)
{
	const unsigned char *p = der;
	unsigned char *out = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	int n;
	bool ok = false;

	*spki = NULL;
	*spki_len = 0;
	if (len > 0x7FFFFFFF ||
	    (req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		goto out;
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL ||
	    (n = i2d_PUBKEY(pk, &out)) <= 0)
		goto out;
	*spki = xmalloc((size_t)n);
	memcpy(*spki, out, (size_t)n);
	*spki_len = (size_t)n;
	ok = true;
out:
	OPENSSL_free(out);
	X509_REQ_free(req);
	ERR_clear_error();
	return ok;
}
