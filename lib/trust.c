/*
 * The attestation trust store (struct cs_trust, attest.h): Yubico's roots
 * and the intermediates published with them, the U2F root kept apart
 * (anchor only on request), and which CAs may only issue CAs. attest.c
 * verifies against it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest_int.h"

#include "banned.h"

#ifndef CS_DATADIR
#define CS_DATADIR "/usr/local/share/cardsmith"
#endif

/* A PEM file of roots and intermediates; generous, still bounded. */
#define TRUST_FILE_MAX (64u * CS_ATTEST_CERT_MAX)

/*
 * CAs of the shipped Yubico bundle that issue only CAs: an F9 certificate
 * signed directly by one of them is not of the vendor's scheme (F9s come
 * from PIV Root CA 263751 or the PIV Attestation A 1 / B 1 / B2 1 CAs).
 */
static const char *const yubico_ca_only[] = {
	"Yubico Attestation Root 1",
	"Yubico Attestation Intermediate A 1",
	"Yubico Attestation Intermediate B 1",
};
#define U2F_ROOT_CN "Yubico U2F Root CA Serial 457200631"

enum cs_err
cs_trust_new(struct cs_ctx *ctx, struct cs_trust **out)
{
	struct cs_trust *t = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "trust: no output pointer");
	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		r = csi_fail(ctx, CS_ERR_NOMEM, "trust store");
		goto out;
	}
	t->ctx = ctx;
	if ((t->anchors = sk_X509_new_null()) == NULL ||
	    (t->inter = sk_X509_new_null()) == NULL ||
	    (t->legacy = sk_X509_new_null()) == NULL ||
	    (t->ca_only = sk_X509_new_null()) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "trust store");
		goto out;
	}
	*out = t;
	t = NULL;
	r = CS_OK;
out:
	cs_trust_free(t);
	return r;
}

void
cs_trust_free(struct cs_trust *t)
{
	if (t == NULL)
		return;
	sk_X509_pop_free(t->anchors, X509_free);
	sk_X509_pop_free(t->inter, X509_free);
	sk_X509_pop_free(t->legacy, X509_free);
	sk_X509_free(t->ca_only);
	free(t);
}

/* Every certificate in a PEM buffer, or the one DER certificate. */
static enum cs_err
decode_all(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    STACK_OF(X509) *into)
{
	const unsigned char *q = p;
	BIO *b = NULL;
	X509 *x = NULL;
	unsigned long e;
	enum cs_err r = CS_ERR_INTERNAL;

	if (csi_attest_is_der(p, len)) {
		if (len > CS_ATTEST_CERT_MAX) {
			r = csi_fail(ctx, CS_ERR_LIMIT,
			    "trust: certificate larger than %u",
			    CS_ATTEST_CERT_MAX);
			goto out;
		}
		if ((x = d2i_X509(NULL, &q, (long)len)) == NULL ||
		    q != p + len) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "trust: not a DER certificate");
			goto out;
		}
		if (sk_X509_push(into, x) <= 0) {
			r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "trust");
			goto out;
		}
		x = NULL;
		r = CS_OK;
		goto out;
	}
	if ((b = BIO_new_mem_buf(p, (int)len)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "trust");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(into, x) <= 0) {
			r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "trust");
			goto out;
		}
		x = NULL;
	}
	/* The loop ends at "no start line" once the input is used up. */
	e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "trust: bad PEM certificate #%d", sk_X509_num(into) + 1);
		goto out;
	}
	ERR_clear_error();
	r = CS_OK;
out:
	X509_free(x);
	BIO_free(b);
	return r;
}

static bool
is_self_signed_ca(X509 *x)
{
	return X509_self_signed(x, 1) == 1 && X509_check_ca(x) != 0;
}

/* Is x's subject CN exactly want? */
static bool
cn_is(const X509 *x, const char *want)
{
	char cn[128];
	int n;

	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn));
	return n == (int)strlen(want) && cs_memeq_public(cn, want, (size_t)n);
}

static bool
is_u2f_root(const X509 *x)
{
	return cn_is(x, U2F_ROOT_CN);
}

/* The certificates of one trust input, bounded; at least one. */
static enum cs_err
decode_input(const struct cs_trust *t, const uint8_t *bytes, size_t len,
    STACK_OF(X509) **out)
{
	STACK_OF(X509) *certs = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (len > TRUST_FILE_MAX) {
		r = csi_fail(t->ctx, CS_ERR_LIMIT, "trust: %zu bytes, more "
		    "than %u", len, TRUST_FILE_MAX);
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL) {
		r = csi_fail_ossl(t->ctx, CS_ERR_NOMEM, "trust");
		goto out;
	}
	if ((r = decode_all(t->ctx, bytes, len, certs)) != CS_OK)
		goto out;
	if (sk_X509_num(certs) == 0) {
		r = csi_fail(t->ctx, CS_ERR_MALFORMED,
		    "trust: no certificate found");
		goto out;
	}
	*out = certs;
	certs = NULL;
	r = CS_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* Drop what was added after the counts a, i, l (all or nothing). */
static void
trust_truncate(struct cs_trust *t, int a, int i, int l)
{
	while (sk_X509_num(t->anchors) > a)
		X509_free(sk_X509_pop(t->anchors));
	while (sk_X509_num(t->inter) > i)
		X509_free(sk_X509_pop(t->inter));
	while (sk_X509_num(t->legacy) > l)
		X509_free(sk_X509_pop(t->legacy));
}

/*
 * Classify and add. All or nothing: on failure t is unchanged. Unless the
 * caller says CS_TRUST_ANCHOR, the legacy U2F root goes to t->legacy: it
 * is a PIV anchor only with CS_ATTEST_ALLOW_U2F_ROOT, however it arrives
 * (a user passing the shipped bundle as --trust must not make it one).
 */
static enum cs_err
trust_add(struct cs_trust *t, const uint8_t *bytes, size_t len,
    unsigned int flags)
{
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509) *dst;
	X509 *x;
	char name[128];
	int i, n0a, n0i, n0l;
	enum cs_err r = CS_ERR_INTERNAL;

	if (t == NULL)
		return CS_ERR_ARG;
	n0a = sk_X509_num(t->anchors);
	n0i = sk_X509_num(t->inter);
	n0l = sk_X509_num(t->legacy);
	if (bytes == NULL || len == 0 || ((flags & CS_TRUST_ANCHOR) &&
	    (flags & CS_TRUST_INTERMEDIATE)) ||
	    (flags & ~(unsigned int)(CS_TRUST_ANCHOR |
	    CS_TRUST_INTERMEDIATE)) != 0) {
		r = csi_fail(t->ctx, CS_ERR_ARG, "trust: bad arguments");
		goto out;
	}
	if ((r = decode_input(t, bytes, len, &certs)) != CS_OK)
		goto out;
	for (i = 0; i < sk_X509_num(certs); i++) {
		if (!csi_attest_is_device_cert(sk_X509_value(certs, i)))
			continue;
		csi_attest_name_oneline(X509_get_subject_name(sk_X509_value(certs, i)),
		    name, sizeof(name));
		r = csi_fail(t->ctx, CS_ERR_POLICY,
		    "trust: certificate #%d (%s) is a device attestation "
		    "certificate (an F9 or a slot statement), not a "
		    "manufacturer CA; it can never be trusted",
		    i + 1, name);
		goto out;
	}
	while ((x = sk_X509_shift(certs)) != NULL) {
		if (flags & CS_TRUST_ANCHOR)
			dst = t->anchors;
		else if (flags & CS_TRUST_INTERMEDIATE)
			dst = t->inter;
		else if (is_self_signed_ca(x))
			dst = is_u2f_root(x) ? t->legacy :
			    t->anchors;
		else
			dst = t->inter;
		if (sk_X509_push(dst, x) <= 0) {
			X509_free(x);
			r = csi_fail_ossl(t->ctx, CS_ERR_NOMEM, "trust");
			goto out;
		}
	}
	r = CS_OK;
out:
	if (r != CS_OK && t != NULL)
		trust_truncate(t, n0a, n0i, n0l);
	sk_X509_pop_free(certs, X509_free);
	return r;
}

enum cs_err
cs_trust_add(struct cs_trust *t, const uint8_t *bytes, size_t len,
    unsigned int flags)
{
	return trust_add(t, bytes, len, flags);
}

/*
 * The trust file through the one bounded reader. A missing file stays
 * CS_ERR_IO, as it always was for the trust store (exit codes and JSON
 * "code" must not change).
 */
static enum cs_err
read_trust_file(struct cs_ctx *ctx, const char *path, uint8_t **out,
    size_t *outlen)
{
	enum cs_err r = cs_file_read(ctx, path, TRUST_FILE_MAX, out, outlen);

	if (r == CS_ERR_NOT_FOUND)
		r = csi_fail(ctx, CS_ERR_IO, "%s: %s", path, strerror(ENOENT));
	return r;
}

enum cs_err
cs_trust_add_file(struct cs_trust *t, const char *path, unsigned int flags)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (t == NULL || path == NULL)
		return csi_fail(t != NULL ? t->ctx : NULL, CS_ERR_ARG,
		    "trust: no file");
	if ((r = read_trust_file(t->ctx, path, &buf, &len)) != CS_OK)
		goto out;
	if ((r = trust_add(t, buf, len, flags)) != CS_OK) {
		/* Prefix the file name to the detail trust_add left. */
		char detail[CSI_ERRMSG_MAX];

		if (t->ctx != NULL) {
			snprintf(detail, sizeof(detail), "%s",
			    cs_ctx_errmsg(t->ctx));
			r = csi_fail(t->ctx, r, "%s: %s", path, detail);
		}
		goto out;
	}
out:
	free(buf);
	return r;
}

/* The vendor's scheme: note which of sk[from..] only issue CAs. */
static enum cs_err
mark_ca_only(struct cs_trust *t, STACK_OF(X509) *sk, int from)
{
	size_t j;
	int i;

	for (i = from; i < sk_X509_num(sk); i++)
		for (j = 0; j < sizeof(yubico_ca_only) /
		    sizeof(yubico_ca_only[0]); j++)
			if (cn_is(sk_X509_value(sk, i), yubico_ca_only[j]) &&
			    sk_X509_push(t->ca_only, sk_X509_value(sk, i)) <= 0)
				return csi_fail_ossl(t->ctx, CS_ERR_NOMEM,
				    "trust");
	return CS_OK;
}

enum cs_err
cs_trust_load_default(struct cs_trust *t, const char *path)
{
	/*
	 * No search of the current directory or the environment: a relative
	 * fallback would let whoever controls the working directory supply
	 * the trust anchors. Source-tree callers pass the path.
	 */
	int a0, i0, l0, c0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (path == NULL)
		path = CS_DATADIR "/yubico-piv-roots.pem";
	if (t == NULL)
		return CS_ERR_ARG;
	a0 = sk_X509_num(t->anchors);
	i0 = sk_X509_num(t->inter);
	l0 = sk_X509_num(t->legacy);
	c0 = sk_X509_num(t->ca_only);
	if ((r = cs_trust_add_file(t, path, 0)) != CS_OK)
		return r;
	if ((r = mark_ca_only(t, t->anchors, a0)) != CS_OK ||
	    (r = mark_ca_only(t, t->inter, i0)) != CS_OK) {
		/* All or nothing, as for every other load. */
		while (sk_X509_num(t->ca_only) > c0)
			(void)sk_X509_pop(t->ca_only);
		trust_truncate(t, a0, i0, l0);
		return r;
	}
	return CS_OK;
}

static bool
in_stack(STACK_OF(X509) *sk, const X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return true;
	return false;
}

enum cs_err
cs_trust_check_known(const struct cs_trust *t, const uint8_t *bytes,
    size_t len)
{
	STACK_OF(X509) *certs = NULL;
	X509 *x;
	char name[128];
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	if (t == NULL || (bytes == NULL && len != 0))
		return csi_fail(t != NULL ? t->ctx : NULL, CS_ERR_ARG,
		    "trust: nothing to check");
	if (len == 0)
		return csi_fail(t->ctx, CS_ERR_MALFORMED,
		    "trust: no certificate found (empty input)");
	if ((r = decode_input(t, bytes, len, &certs)) != CS_OK)
		goto out;
	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (in_stack(t->anchors, x) || in_stack(t->inter, x) ||
		    in_stack(t->legacy, x))
			continue;
		csi_attest_name_oneline(X509_get_subject_name(x), name, sizeof(name));
		if (csi_attest_is_device_cert(x)) {
			r = csi_fail(t->ctx, CS_ERR_POLICY,
			    "certificate #%d (%s) is a device attestation "
			    "certificate, never part of the chain (the F9 "
			    "certificate goes beside the statement, e.g. "
			    "--intermediate)", i + 1, name);
			goto out;
		}
		r = csi_fail(t->ctx, CS_ERR_VERIFY,
		    "certificate #%d (%s) is not in the manufacturer trust "
		    "store; certificates that come with a request are never "
		    "trusted", i + 1, name);
		goto out;
	}
	r = CS_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}

size_t
cs_trust_count(const struct cs_trust *t, bool anchors)
{
	if (t == NULL)
		return 0;
	return (size_t)sk_X509_num(anchors ? t->anchors : t->inter);
}
