/*
 * Attestation carried in a certificate request (cs_attest_from_csr): the
 * statement and F9 certificate that yubico-piv-tool >= 2.7.2 (and
 * cs_csr_build with CS_CSR_ATTEST) put in the extensionRequest, under
 * the current and the legacy OIDs. Verification is attest.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest_int.h"

#include "banned.h"

/* A CSR carries two certificates plus its own key and signature. */
#define CSR_MAX (4u * CS_ATTEST_CERT_MAX)

static enum cs_err
decode_csr(struct cs_ctx *ctx, const uint8_t *p, size_t len, X509_REQ **out)
{
	const unsigned char *q = p;
	BIO *b = NULL;
	X509_REQ *req = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (p == NULL || len == 0) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "CSR: empty input");
		goto out;
	}
	if (len > (csi_attest_is_der(p, len) ? 1u : CSI_ATTEST_PEM_FACTOR) * CSR_MAX) {
		r = csi_fail(ctx, CS_ERR_LIMIT, "CSR: %zu bytes, too large",
		    len);
		goto out;
	}
	if (csi_attest_is_der(p, len)) {
		if ((req = d2i_X509_REQ(NULL, &q, (long)len)) == NULL ||
		    q != p + len) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "CSR: not a DER PKCS#10 request");
			goto out;
		}
	} else {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "CSR");
			goto out;
		}
		if ((req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) ==
		    NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "CSR: no PEM certificate request");
			goto out;
		}
	}
	*out = req;
	req = NULL;
	r = CS_OK;
out:
	X509_REQ_free(req);
	BIO_free(b);
	return r;
}

/*
 * Extension txt of a CSR's extensionRequest: its OCTET STRING must hold
 * one DER certificate, which is copied out. *found false if absent.
 */
static enum cs_err
csr_cert_ext(struct cs_ctx *ctx, const STACK_OF(X509_EXTENSION) *exts,
    const char *txt, bool *found, uint8_t **der, size_t *derlen)
{
	ASN1_OBJECT *obj = NULL;
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *os;
	const unsigned char *q;
	X509 *x = NULL;
	struct cs_cur val;
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	*found = false;
	*der = NULL;
	*derlen = 0;
	if ((obj = csi_attest_oid(txt)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "OID %s", txt);
		goto out;
	}
	if ((i = X509v3_get_ext_by_OBJ(exts, obj, -1)) < 0) {
		r = CS_OK;
		goto out;
	}
	if (X509v3_get_ext_by_OBJ(exts, obj, i) >= 0) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "CSR: extension %s appears twice", txt);
		goto out;
	}
	if ((ext = X509v3_get_ext(exts, i)) == NULL ||
	    (os = X509_EXTENSION_get_data(ext)) == NULL) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "CSR: extension %s unreadable", txt);
		goto out;
	}
	cs_cur_init(&val, ASN1_STRING_get0_data(os),
	    (size_t)ASN1_STRING_length(os));
	q = cs_cur_ptr(&val);
	if (cs_cur_len(&val) == 0 || cs_cur_len(&val) > CS_ATTEST_CERT_MAX ||
	    (x = d2i_X509(NULL, &q, (long)cs_cur_len(&val))) == NULL ||
	    q != cs_cur_ptr(&val) + cs_cur_len(&val)) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "CSR: extension %s is not one DER certificate", txt);
		goto out;
	}
	if ((r = cs_cur_dup(&val, der, derlen)) != CS_OK) {
		r = csi_fail(ctx, r, "CSR: extension %s", txt);
		goto out;
	}
	*found = true;
	r = CS_OK;
out:
	X509_free(x);
	ASN1_OBJECT_free(obj);
	return r;
}

enum cs_err
cs_attest_from_csr(struct cs_ctx *ctx, const uint8_t *csr, size_t csr_len,
    uint8_t **stmt, size_t *stmt_len, uint8_t **f9, size_t *f9_len)
{
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	uint8_t *s = NULL, *f = NULL;
	size_t slen = 0, flen = 0;
	bool has_s, has_f;
	enum cs_err r = CS_ERR_INTERNAL;

	if (stmt == NULL || stmt_len == NULL || f9 == NULL || f9_len == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "CSR: no output pointers");
	*stmt = *f9 = NULL;
	*stmt_len = *f9_len = 0;
	if ((r = decode_csr(ctx, csr, csr_len, &req)) != CS_OK)
		goto out;
	if ((exts = X509_REQ_get_extensions(req)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "CSR: extensionRequest unreadable");
		goto out;
	}
	/* .3.1 since yubico-piv-tool 2.7.2; .3.11 before (piv-apdu §6.6). */
	if ((r = csr_cert_ext(ctx, exts, OID_CSR_STMT, &has_s, &s, &slen)) !=
	    CS_OK)
		goto out;
	if (!has_s && (r = csr_cert_ext(ctx, exts, OID_CSPN, &has_s, &s,
	    &slen)) != CS_OK)
		goto out;
	if ((r = csr_cert_ext(ctx, exts, OID_CSR_F9, &has_f, &f, &flen)) !=
	    CS_OK)
		goto out;
	if (!has_s) {
		r = csi_fail(ctx, CS_ERR_NOT_FOUND,
		    "CSR: no attestation statement (%s or %s)", OID_CSR_STMT,
		    OID_CSPN);
		goto out;
	}
	if (!has_f) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "CSR: attestation statement without F9 certificate (%s)",
		    OID_CSR_F9);
		goto out;
	}
	*stmt = s;
	*stmt_len = slen;
	*f9 = f;
	*f9_len = flen;
	s = f = NULL;
	r = CS_OK;
out:
	cs_free(s);
	cs_free(f);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	ERR_clear_error();
	return r;
}
