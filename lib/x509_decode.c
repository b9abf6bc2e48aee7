/*
 * Bytes to OpenSSL certificate, request and public-key objects
 * (include/cardsmith/x509_ossl.h, lib/x509_int.h): the project's one
 * "DER, or PEM when allowed" intake. The input is bounded before OpenSSL
 * sees it, DER must be exactly one object, and PEM goes through
 * cs_pem_decode. Callers describe their input in a struct csi_x509_in so
 * that each keeps its own messages; x509.c, attest*.c, trust.c, csr.c and
 * piv_cert.c decode through here.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cardsmith/x509_ossl.h"
#include "x509_int.h"

#include "banned.h"

/* Base64 and armour inflate PEM by ~4/3; allow twice the DER bound. */
#define PEM_FACTOR 2u

/* What the public decoders call input that is not of the kind. */
static void
kind_words(enum cs_pem_kind kind, const char **notder, const char **nopem)
{
	switch (kind) {
	case CS_PEM_CSR:
		*notder = "not a DER certificate request";
		*nopem = "no PEM certificate request";
		return;
	case CS_PEM_PUBKEY:
		*notder = "not a DER SubjectPublicKeyInfo";
		*nopem = "no PEM public key";
		return;
	case CS_PEM_CERT:
	default:
		*notder = "not a DER X.509 certificate";
		*nopem = "no PEM X.509 certificate";
		return;
	}
}

enum cs_err
csi_x509_in_public(struct cs_ctx *ctx, struct csi_x509_in *in,
    enum cs_pem_kind kind, const char *name, unsigned int flags,
    unsigned int allowed)
{
	memset(in, 0, sizeof(*in));
	in->name = name;
	in->kind = kind;
	in->opts = (flags & CS_X509_PEM) != 0 ? CSI_X509_IN_PEM : 0;
	/* certificates and requests have always said it without the name */
	if (kind != CS_PEM_PUBKEY)
		in->opts |= CSI_X509_IN_NOTDER_BARE;
	in->der_max = CS_X509_DER_MAX;
	in->pem_max = PEM_FACTOR * CS_X509_DER_MAX;
	in->big_der = CSI_X509_BIG_BYTES;
	in->big_pem = CSI_X509_BIG_PEM_BYTES;
	in->big_decoded = CSI_X509_BIG_BYTES;
	kind_words(kind, &in->notder, &in->nopem);
	if ((flags & ~allowed) != 0)
		return csi_fail(ctx, CS_ERR_ARG, "%s: unknown flags %#x", name,
		    flags);
	return CS_OK;
}

static enum cs_err
not_der(struct cs_ctx *ctx, const struct csi_x509_in *in, bool trailing)
{
	if (trailing && in->trailing != NULL)
		return csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", in->name,
		    in->trailing);
	if ((in->opts & CSI_X509_IN_OSSL) != 0)
		return (in->opts & CSI_X509_IN_NOTDER_BARE) != 0 ?
		    csi_fail_ossl(ctx, CS_ERR_MALFORMED, "%s", in->notder) :
		    csi_fail_ossl(ctx, CS_ERR_MALFORMED, "%s: %s", in->name,
		    in->notder);
	return (in->opts & CSI_X509_IN_NOTDER_BARE) != 0 ?
	    csi_fail(ctx, CS_ERR_MALFORMED, "%s", in->notder) :
	    csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", in->name, in->notder);
}

static enum cs_err
too_big(struct cs_ctx *ctx, const struct csi_x509_in *in,
    enum csi_x509_big how, size_t n)
{
	const enum cs_err e = CS_ERR_LIMIT;

	switch (how) {
	case CSI_X509_BIG_BYTES:
		return csi_fail(ctx, e, "%s: %zu bytes, more than %zu",
		    in->name, n, in->der_max);
	case CSI_X509_BIG_PEM_BYTES:
		return csi_fail(ctx, e, "%s: %zu bytes of PEM, more than %zu",
		    in->name, n, in->pem_max);
	case CSI_X509_BIG_TOO_LARGE:
		return csi_fail(ctx, e, "%s: %zu bytes, too large", in->name,
		    n);
	case CSI_X509_BIG_LENGTH:
		return csi_fail(ctx, e, "%s: bad length %zu", in->name, n);
	case CSI_X509_BIG_BARE:
		return csi_fail(ctx, e, "%s too large", in->name);
	case CSI_X509_BIG_LARGER:
		return csi_fail(ctx, e, "%s: certificate larger than %zu",
		    in->name, in->der_max);
	case CSI_X509_BIG_NOTDER:
	default:
		return not_der(ctx, in, false);
	}
}

static bool
is_pem(const struct csi_x509_in *in, const uint8_t *p, size_t len)
{
	static const char begin[] = "-----BEGIN";

	if ((in->opts & CSI_X509_IN_PEM_BEGIN) != 0)
		return len >= sizeof(begin) - 1 &&
		    cs_memeq_public(p, begin, sizeof(begin) - 1);
	/* DER of all three kinds starts with SEQUENCE */
	return (in->opts & CSI_X509_IN_PEM) != 0 && !(len > 0 && p[0] == 0x30);
}

enum cs_err
csi_x509_in_der(struct cs_ctx *ctx, const struct csi_x509_in *in,
    const uint8_t *p, size_t len, uint8_t **owned, struct cs_cur *der)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	bool pem;
	enum cs_err r = CS_ERR_INTERNAL;

	*owned = NULL;
	cs_cur_init(der, NULL, 0);
	if (in->empty != NULL && (p == NULL || len == 0))
		return csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", in->name,
		    in->empty);
	if (p == NULL && len != 0)
		return csi_fail(ctx, CS_ERR_ARG, "%s: NULL input", in->name);
	pem = is_pem(in, p, len);
	if (len > (pem ? in->pem_max : in->der_max))
		return too_big(ctx, in, pem ? in->big_pem : in->big_der, len);
	if (!pem) {
		cs_cur_init(der, p, len);
		return CS_OK;
	}
	if (len == 0)
		return csi_fail(ctx, CS_ERR_MALFORMED, "%s: %s", in->name,
		    in->nopem);
	r = csi_pem_decode_shallow(in->kind, p, len, &buf, &n);
	if (r == CS_ERR_MALFORMED)
		return csi_fail(ctx, r, "%s: %s", in->name, in->nopem);
	if (r != CS_OK)
		return csi_fail(ctx, r, "%s: PEM: %s", in->name, cs_strerror(r));
	if (n > in->der_max) {
		cs_free(buf);
		return too_big(ctx, in, in->big_decoded, n);
	}
	*owned = buf;
	cs_cur_init(der, buf, n);
	return CS_OK;
}

static void *
d2i_kind(enum cs_pem_kind kind, const unsigned char **q, size_t len)
{
	if (len == 0 || len > (size_t)LONG_MAX)
		return NULL;
	switch (kind) {
	case CS_PEM_CERT:
		return d2i_X509(NULL, q, (long)len);
	case CS_PEM_CSR:
		return d2i_X509_REQ(NULL, q, (long)len);
	case CS_PEM_PUBKEY:
		return d2i_PUBKEY(NULL, q, (long)len);
	default:
		return NULL;
	}
}

static void
free_kind(enum cs_pem_kind kind, void *obj)
{
	switch (kind) {
	case CS_PEM_CERT:
		X509_free(obj);
		break;
	case CS_PEM_CSR:
		X509_REQ_free(obj);
		break;
	case CS_PEM_PUBKEY:
		EVP_PKEY_free(obj);
		break;
	default:
		break;
	}
}

/*
 * One object of in->kind, which must be want (the caller's type); *owned
 * and *der as for csi_x509_in_cert.
 */
static enum cs_err
in_decode(struct cs_ctx *ctx, const struct csi_x509_in *in,
    enum cs_pem_kind want, const uint8_t *p, size_t len, void **out,
    uint8_t **owned, struct cs_cur *der)
{
	struct cs_cur d;
	const unsigned char *q;
	uint8_t *buf = NULL;
	void *obj = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (owned != NULL)
		*owned = NULL;
	if (der != NULL)
		cs_cur_init(der, NULL, 0);
	if (in->kind != want)
		return csi_fail(ctx, CS_ERR_INTERNAL, "%s: intake of another "
		    "kind", in->name);
	if ((r = csi_x509_in_der(ctx, in, p, len, &buf, &d)) != CS_OK)
		goto out;
	q = d.p;
	if ((obj = d2i_kind(in->kind, &q, d.len)) == NULL) {
		r = not_der(ctx, in, false);
		goto out;
	}
	if (q != d.p + d.len) {
		r = not_der(ctx, in, true);
		goto out;
	}
	*out = obj;
	obj = NULL;
	if (owned != NULL && der != NULL) {
		*owned = buf;
		buf = NULL;
		*der = d;
	}
	r = CS_OK;
out:
	ERR_clear_error();
	free_kind(in->kind, obj);
	cs_free(buf);
	return r;
}

enum cs_err
csi_x509_in_cert(struct cs_ctx *ctx, const struct csi_x509_in *in,
    const uint8_t *p, size_t len, X509 **out, uint8_t **owned,
    struct cs_cur *der)
{
	void *obj = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	r = in_decode(ctx, in, CS_PEM_CERT, p, len, &obj, owned, der);
	*out = obj;
	return r;
}

enum cs_err
csi_x509_in_csr(struct cs_ctx *ctx, const struct csi_x509_in *in,
    const uint8_t *p, size_t len, X509_REQ **out)
{
	void *obj = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	r = in_decode(ctx, in, CS_PEM_CSR, p, len, &obj, NULL, NULL);
	*out = obj;
	return r;
}

enum cs_err
csi_x509_in_pubkey(struct cs_ctx *ctx, const struct csi_x509_in *in,
    const uint8_t *p, size_t len, EVP_PKEY **out)
{
	void *obj = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	r = in_decode(ctx, in, CS_PEM_PUBKEY, p, len, &obj, NULL, NULL);
	*out = obj;
	return r;
}

X509 *
csi_x509_der_cert(const uint8_t *der, size_t len)
{
	const unsigned char *q = der;
	X509 *x;

	if (der == NULL || (x = d2i_kind(CS_PEM_CERT, &q, len)) == NULL)
		return NULL;
	if (q != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

enum cs_err
cs_x509_cert_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    unsigned int flags, X509 **out)
{
	struct csi_x509_in in;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "certificate: no output");
	*out = NULL;
	if ((r = csi_x509_in_public(ctx, &in, CS_PEM_CERT, "certificate",
	    flags, CS_X509_PEM)) != CS_OK)
		return r;
	return csi_x509_in_cert(ctx, &in, p, len, out, NULL, NULL);
}

enum cs_err
cs_x509_pubkey_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    unsigned int flags, EVP_PKEY **out)
{
	struct csi_x509_in in;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "public key: no output");
	*out = NULL;
	if ((r = csi_x509_in_public(ctx, &in, CS_PEM_PUBKEY, "public key",
	    flags, CS_X509_PEM)) != CS_OK)
		return r;
	return csi_x509_in_pubkey(ctx, &in, p, len, out);
}

enum cs_err
cs_x509_csr_decode(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    unsigned int flags, X509_REQ **out)
{
	struct csi_x509_in in;
	X509_REQ *req = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG,
		    "certificate request: no output");
	*out = NULL;
	if ((r = csi_x509_in_public(ctx, &in, CS_PEM_CSR,
	    "certificate request", flags, CS_X509_PEM | CS_X509_CSR_VERIFY)) !=
	    CS_OK ||
	    (r = csi_x509_in_csr(ctx, &in, p, len, &req)) != CS_OK)
		goto out;
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
	return r;
}
