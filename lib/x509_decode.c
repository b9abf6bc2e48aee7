/*
 * Bytes to OpenSSL certificate and request objects
 * (include/cardsmith/x509_ossl.h): the project's one "DER, or PEM when
 * allowed" intake. The input is bounded before OpenSSL sees it, DER must
 * be exactly one object, and PEM goes through cs_pem_decode. x509.c builds
 * its summaries on top of this.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cardsmith/x509_ossl.h"
#include "x509_int.h"

#include "banned.h"

/* Base64 and armour inflate PEM by ~4/3; allow twice the DER bound. */
#define PEM_FACTOR 2u

/* How one kind of input is described. */
struct kind {
	const char *notder; /* what DER that does not decode is not */
	const char *notpem; /* what PEM input without a usable block lacks */
};

static const struct kind *
kind_of(enum cs_pem_kind pem)
{
	static const struct kind kinds[] = {
		{ "not a DER certificate request",
		    "no PEM certificate request" },
		{ "not a DER X.509 certificate", "no PEM X.509 certificate" },
		{ "not a DER SubjectPublicKeyInfo", "no PEM public key" },
	};

	switch (pem) {
	case CS_PEM_CSR:
	case CS_PEM_CERT:
	case CS_PEM_PUBKEY:
		return &kinds[pem];
	default:
		return &kinds[CS_PEM_CERT];
	}
}

const char *
csi_x509_notder(enum cs_pem_kind pem)
{
	return kind_of(pem)->notder;
}

enum cs_err
csi_x509_get_der(struct cs_ctx *ctx, enum cs_pem_kind pem, const char *name,
    const uint8_t *in, size_t len, unsigned int flags, unsigned int allowed,
    uint8_t **owned, struct cs_cur *der)
{
	const struct kind *k = kind_of(pem);
	uint8_t *buf = NULL;
	size_t n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*owned = NULL;
	cs_cur_init(der, NULL, 0);
	if ((flags & ~allowed) != 0)
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
	r = cs_pem_decode(pem, in, len, &buf, &n);
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

enum cs_err
csi_x509_cert_get(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    unsigned int flags, X509 **out, uint8_t **owned, struct cs_cur *der)
{
	const unsigned char *q;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = csi_x509_get_der(ctx, CS_PEM_CERT, "certificate", p, len,
	    flags, CS_X509_PEM, owned, der)) != CS_OK)
		goto out;
	q = der->p;
	if (der->len == 0 ||
	    (x = d2i_X509(NULL, &q, (long)der->len)) == NULL ||
	    q != der->p + der->len) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s",
		    csi_x509_notder(CS_PEM_CERT));
		goto out;
	}
	*out = x;
	x = NULL;
	r = CS_OK;
out:
	ERR_clear_error();
	X509_free(x);
	if (r != CS_OK) {
		cs_free(*owned);
		*owned = NULL;
		cs_cur_init(der, NULL, 0);
	}
	return r;
}

enum cs_err
cs_x509_cert_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    unsigned int flags, X509 **out)
{
	struct cs_cur der;
	uint8_t *owned = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "certificate: no output");
	r = csi_x509_cert_get(ctx, p, len, flags, out, &owned, &der);
	cs_free(owned);
	return r;
}

enum cs_err
cs_x509_csr_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    unsigned int flags, X509_REQ **out)
{
	struct cs_cur der;
	const unsigned char *q;
	uint8_t *owned = NULL;
	X509_REQ *req = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG,
		    "certificate request: no output");
	*out = NULL;
	if ((r = csi_x509_get_der(ctx, CS_PEM_CSR, "certificate request", p,
	    len, flags, CS_X509_PEM | CS_X509_CSR_VERIFY, &owned, &der)) !=
	    CS_OK)
		goto out;
	q = der.p;
	if (der.len == 0 ||
	    (req = d2i_X509_REQ(NULL, &q, (long)der.len)) == NULL ||
	    q != der.p + der.len) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s",
		    csi_x509_notder(CS_PEM_CSR));
		goto out;
	}
	if ((flags & CS_X509_CSR_VERIFY) != 0) {
		/* A key OpenSSL cannot use proves nothing. */
		if (X509_REQ_get0_pubkey(req) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "certificate request: public key unreadable");
			goto out;
		}
		if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
			r = csi_fail(ctx, CS_ERR_VERIFY, "certificate request: "
			    "signature does not verify");
			goto out;
		}
	}
	*out = req;
	req = NULL;
	r = CS_OK;
out:
	ERR_clear_error();
	X509_REQ_free(req);
	cs_free(owned);
	return r;
}
