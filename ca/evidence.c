/*
 * Evidence intake: CSRs (PEM or DER, signature verified), attestation
 * statements and F9 certificates to DER, the F9 card serial.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

#define YK_OID_SERIAL "1.3.6.1.4.1.41482.3.7"

/*
 * lib's one request decoder, with its signature check; the CA's own words
 * for a request its key did not sign (CLI tests match them).
 */
enum cs_err
csa_csr_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len, X509_REQ **out)
{
	char why[CS_CA_REASON_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (p == NULL || len == 0 || len > CS_CA_INPUT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED, "CSR: bad length %zu",
		    len);
	r = cs_x509_csr_decode(ctx, p, len, CS_X509_PEM | CS_X509_CSR_VERIFY,
	    out);
	if (r == CS_OK)
		return CS_OK;
	if (r == CS_ERR_VERIFY)
		return cs_ctx_fail(ctx, CS_ERR_VERIFY,
		    "CSR signature invalid (the request was not signed by its "
		    "key)");
	snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ctx));
	return cs_ctx_fail(ctx, r, "CSR: %s", why);
}

static void
first_cn(const X509_NAME *n, char *dst, size_t cap)
{
	const ASN1_STRING *s;
	unsigned char *u = NULL;
	int i, len;

	dst[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(n, NID_commonName, -1)) < 0)
		return;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	if ((len = ASN1_STRING_to_UTF8(&u, s)) < 0)
		return;
	snprintf(dst, cap, "%.*s", len, u);
	OPENSSL_free(u);
}

enum cs_err
cs_ca_csr_check(struct cs_ctx *ctx, const uint8_t *csr, size_t len,
    struct cs_ca_csr_info *info)
{
	X509_REQ *req = NULL;
	uint8_t *st = NULL, *f9 = NULL;
	size_t stl = 0, f9l = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(info, 0, sizeof(*info));
	if ((r = csa_csr_decode(ctx, csr, len, &req)) != CS_OK)
		return r;
	csa_name_line(X509_REQ_get_subject_name(req), info->subject,
	    sizeof(info->subject));
	first_cn(X509_REQ_get_subject_name(req), info->cn, sizeof(info->cn));
	info->alg = csa_key_alg(X509_REQ_get0_pubkey(req), &info->key_bits);
	if (cs_attest_from_csr(ctx, csr, len, &st, &stl, &f9, &f9l) == CS_OK)
		info->has_attestation = true;
	cs_ctx_clear_error(ctx);
	cs_free(st);
	cs_free(f9);
	X509_REQ_free(req);
	return CS_OK;
}

bool
csa_f9_serial(const uint8_t *f9, size_t len, uint64_t *serial)
{
	const unsigned char *q;
	ASN1_OBJECT *o = NULL;
	ASN1_INTEGER *ai = NULL;
	const ASN1_OCTET_STRING *os;
	X509 *x = NULL;
	int i;
	bool ok = false;

	/* exactly one DER certificate, through lib's one decoder */
	if (cs_x509_cert_decode(NULL, f9, len, 0, &x) != CS_OK ||
	    (o = OBJ_txt2obj(YK_OID_SERIAL, 1)) == NULL ||
	    (i = X509_get_ext_by_OBJ(x, o, -1)) < 0)
		goto out;
	os = X509_EXTENSION_get_data(X509_get_ext(x, i));
	q = ASN1_STRING_get0_data(os);
	if ((ai = d2i_ASN1_INTEGER(NULL, &q, ASN1_STRING_length(os))) == NULL ||
	    ASN1_INTEGER_get_uint64(serial, ai) != 1)
		goto out;
	ok = true;
out:
	ERR_clear_error();
	ASN1_INTEGER_free(ai);
	ASN1_OBJECT_free(o);
	X509_free(x);
	return ok;
}

enum cs_err
csa_evidence_der(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, uint8_t **der, size_t *derlen)
{
	unsigned char *out = NULL;
	X509 *x = NULL;
	int n;
	enum cs_err r = CS_ERR_INTERNAL;

	*der = NULL;
	*derlen = 0;
	if ((r = csa_cert_decode(ctx, what, p, len, &x)) != CS_OK)
		return r;
	n = i2d_X509(x, &out);
	X509_free(x);
	if (n <= 0)
		return cs_ctx_fail_crypto(ctx, CS_ERR_MALFORMED, "%s", what);
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(out);
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "%s", what);
	}
	memcpy(*der, out, (size_t)n);
	*derlen = (size_t)n;
	OPENSSL_free(out);
	return CS_OK;
}

void
csa_evidence_release(struct csa_evidence *ev)
{
	cs_free(ev->stmt);
	cs_free(ev->f9);
	memset(ev, 0, sizeof(*ev));
}
