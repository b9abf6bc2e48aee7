/*
 * Certificate helpers: PEM-or-DER decoding (through lib's cs_pem_next and
 * cs_x509_cert_decode), names and serials as text, times,
 * certificatePolicies, key algorithm and size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

static bool
is_der(const uint8_t *p, size_t len)
{
	return len >= 2 && p[0] == 0x30;
}

/*
 * lib's one certificate decoder (DER, or the first PEM block), with what
 * the input is in front of its message.
 */
enum cs_err
csa_cert_decode(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, X509 **out)
{
	char why[CS_CA_REASON_MAX];
	const char *m;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (p == NULL || len == 0 || len > CS_CA_INPUT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: bad length %zu",
		    what, len);
	if ((r = cs_x509_cert_decode(ctx, p, len, CS_X509_PEM, out)) == CS_OK)
		return CS_OK;
	m = cs_ctx_errmsg(ctx);
	if (strncmp(m, "certificate: ", 13) == 0)
		m += 13;
	snprintf(why, sizeof(why), "%s", m);
	return cs_ctx_fail(ctx, r, "%s: %s", what, why);
}

enum cs_err
csa_certs_decode(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = NULL;
	uint8_t *der = NULL;
	size_t pos = 0, n = 0;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
	if (p != NULL && is_der(p, len)) {
		if ((r = csa_cert_decode(ctx, what, p, len, &x)) != CS_OK)
			goto out;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
			goto out;
		}
	} else {
		if (p == NULL || len == 0 || len > CSA_FILE_MAX) {
			r = cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: empty",
			    what);
			goto out;
		}
		/*
		 * lib's bundle iterator: other kinds of block are skipped, a
		 * corrupt CERTIFICATE block fails the whole bundle.
		 */
		while ((r = cs_pem_next(CS_PEM_CERT, p, len, &pos, &der, &n)) ==
		    CS_OK) {
			r = csa_cert_decode(ctx, what, der, n, &x);
			cs_free(der);
			der = NULL;
			if (r != CS_OK)
				goto out;
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s",
				    what);
				goto out;
			}
		}
		if (r == CS_ERR_MALFORMED) {
			r = cs_ctx_fail(ctx, r,
			    "%s: PEM certificate %d is corrupt", what,
			    sk_X509_num(sk) + 1);
			goto out;
		}
		if (r != CS_ERR_NOT_FOUND) {
			r = cs_ctx_fail(ctx, r, "%s: PEM: %s", what,
			    cs_strerror(r));
			goto out;
		}
	}
	if (sk_X509_num(sk) == 0) {
		r = cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: no certificate",
		    what);
		goto out;
	}
	*out = sk;
	sk = NULL;
	r = CS_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	return r;
}

void
csa_name_line(const X509_NAME *n, char *dst, size_t cap)
{
	BIO *b;
	int len;

	if (cap == 0)
		return;
	dst[0] = '\0';
	if (n == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_read(b, dst, (int)(cap - 1));
		dst[len > 0 ? len : 0] = '\0';
	}
	BIO_free(b);
}

void
csa_serial_hex(const ASN1_INTEGER *s, char *dst, size_t cap)
{
	BIGNUM *bn;
	char *h;

	if (cap == 0)
		return;
	dst[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(s, NULL)) == NULL)
		return;
	if ((h = BN_bn2hex(bn)) != NULL) {
		snprintf(dst, cap, "%s", h);
		OPENSSL_free(h);
	}
	BN_free(bn);
}

int64_t
csa_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

bool
csa_has_policy(const X509 *x, const char *oid, bool *anyp)
{
	CERTIFICATEPOLICIES *cp;
	POLICYINFO *pi;
	bool found = false;
	int i;

	if (anyp != NULL)
		*anyp = false;
	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	if (cp == NULL)
		return false;
	for (i = 0; i < sk_POLICYINFO_num(cp); i++) {
		pi = sk_POLICYINFO_value(cp, i);
		if (OBJ_obj2nid(pi->policyid) == NID_any_policy && anyp != NULL)
			*anyp = true;
		if (oid != NULL && csa_oid_obj_eq(pi->policyid, oid))
			found = true;
	}
	CERTIFICATEPOLICIES_free(cp);
	return found;
}

uint32_t
csa_key_alg(const EVP_PKEY *k, unsigned int *bits)
{
	char grp[64];
	size_t glen = 0;
	int b = EVP_PKEY_get_bits(k);

	*bits = b > 0 ? (unsigned int)b : 0;
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		if (b == 2048)
			return CS_CA_ALG_RSA2048;
		if (b == 3072)
			return CS_CA_ALG_RSA3072;
		if (b == 4096)
			return CS_CA_ALG_RSA4096;
		return 0;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(k, grp, sizeof(grp), &glen) != 1)
			return 0;
		if (strcmp(grp, "prime256v1") == 0)
			return CS_CA_ALG_P256;
		if (strcmp(grp, "secp384r1") == 0)
			return CS_CA_ALG_P384;
		return 0;
	case EVP_PKEY_ED25519:
		return CS_CA_ALG_ED25519;
	default:
		return 0;
	}
}

/* certificatePolicies with the comma-separated OIDs, no qualifiers. */
enum cs_err
csa_add_policies(struct cs_ctx *ctx, X509 *x, const char *list)
{
	CERTIFICATEPOLICIES *cp = NULL;
	POLICYINFO *pi = NULL;
	char buf[2048], *it, *save = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (strlen(list) >= sizeof(buf))
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "policy list too long");
	snprintf(buf, sizeof(buf), "%s", list);
	if ((cp = sk_POLICYINFO_new_null()) == NULL)
		goto fail;
	for (it = strtok_r(buf, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		if ((pi = POLICYINFO_new()) == NULL)
			goto fail;
		ASN1_OBJECT_free(pi->policyid);
		if ((pi->policyid = OBJ_txt2obj(it, 1)) == NULL) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_ARG,
			    "policy '%.64s'", it);
			goto out;
		}
		if (!sk_POLICYINFO_push(cp, pi))
			goto fail;
		pi = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0,
	        X509V3_ADD_REPLACE) != 1)
		goto fail;
	r = CS_OK;
	goto out;
fail:
	r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "certificatePolicies");
out:
	POLICYINFO_free(pi);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return r;
}
