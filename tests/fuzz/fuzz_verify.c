/*
 * Fuzz target for the relying-party verifier: what a gateway feeds it
 * from a client (a leaf certificate, CRLs and certificates that came
 * with it), against a fixed cardsmith CA chain (tests/fuzz/verify_pool.h,
 * made by tests/fuzz/gen_verify_pool.sh with the real `cardsmith ca`).
 *
 * Covers: cs_verify_new, cs_verify_add_chain (the fixed chain, and the
 * fuzzed bytes as extra CA certificates), cs_verify_add_crl (the pool's
 * CRL, and the fuzzed bytes), cs_verify_set_purpose, cs_verify_cert
 * (leaf decoding, purpose, policies and claims, path search, OpenSSL
 * validation with explicit policy and CRLs, judging), cs_verify_free.
 *
 * Input: byte 0 is a set of flags, bytes 1-2 the leaf length L
 * (big-endian, cut to what is there), then L bytes of leaf, then the
 * rest ("extra"):
 *   bit 0     add the pool's CRL (revokes pool_revoked_serial)
 *   bit 1     extra is given to cs_verify_add_crl
 *   bit 2     extra is given to cs_verify_add_chain (untrusted bytes)
 *   bits 4-5  required level (CS_CA_LEVEL_NONE .. HW_ATTESTED)
 *   bits 6-7  purpose
 *
 * Properties checked, abort() on violation:
 * - the result is one of the documented codes, never CS_ERR_INTERNAL,
 *   and accepted is set exactly on CS_OK;
 * - every string of the result is NUL-terminated;
 * - an acceptance reports a level at least the required one, and
 *   level_verified says whether a level was;
 * - without fuzzed CA certificates, an accepted leaf carries a signature
 *   that verifies under a CA certificate of the pool, and, with the
 *   pool's CRL, is not on it (nothing else can make a leaf pass);
 * - verifying the same leaf again gives the same verdict (the verifier
 *   keeps no state from one certificate to the next).
 *
 * Seeds (tests/fuzz/corpus/verify/, named ones from gen_verify_pool.sh):
 * software, hardware-attested and smartcard-logon leaves of the pool CA
 * as DER and PEM, with and without the CRL, every required level and
 * purpose; a revoked leaf with the CRL as pool, DER and PEM extra; the
 * chain, the root and a non-CA F9 as extra CA certificates; the root,
 * the issuing CA, an F9 and a statement as the leaf; truncated, trailing
 * and text leaves, an empty leaf, a corrupt PEM CRL. The hash-named
 * entries are what a 2 x 10 minute run added (libFuzzer -merge=1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/ca.h"

#include "verify_pool.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define F_POOL_CRL 0x01
#define F_EXTRA_CRL 0x02
#define F_EXTRA_CHAIN 0x04

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static bool
allowed(enum cs_err r)
{
	return r == CS_OK || r == CS_ERR_MALFORMED || r == CS_ERR_VERIFY ||
	    r == CS_ERR_POLICY || r == CS_ERR_LIMIT || r == CS_ERR_NOMEM ||
	    r == CS_ERR_CRYPTO;
}

static void
result_ok(enum cs_err r, const struct cs_verify_result *res,
    enum cs_ca_level require)
{
	check(allowed(r));
	check(res->accepted == (r == CS_OK));
	check(terminated(res->policy_oid, sizeof(res->policy_oid)) &&
	    terminated(res->reason, sizeof(res->reason)) &&
	    terminated(res->subject, sizeof(res->subject)) &&
	    terminated(res->issuer, sizeof(res->issuer)) &&
	    terminated(res->serial, sizeof(res->serial)) &&
	    terminated(res->sublevel, sizeof(res->sublevel)) &&
	    terminated(res->level_note, sizeof(res->level_note)));
	check((unsigned int)res->level < CS_CA_LEVEL_COUNT);
	check(res->level_verified == (res->level != CS_CA_LEVEL_NONE));
	if (res->accepted)
		check(res->level >= require);
}

/* The leaf as cs_verify_cert reads it: DER exactly, else the first PEM. */
static X509 *
leaf_decode(const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	X509 *x = NULL;
	BIO *b;

	if (len >= 2 && p[0] == 0x30) {
		x = d2i_X509(NULL, &q, (long)len);
		if (x != NULL && q != p + len) {
			X509_free(x);
			x = NULL;
		}
	} else if ((b = BIO_new_mem_buf(p, (int)len)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	ERR_clear_error();
	return x;
}

/* Signed by a CA of the pool, and (with the CRL) not revoked by it? */
static bool
pool_vouches(X509 *leaf, bool crl)
{
	static const struct {
		const uint8_t *der;
		size_t len;
	} cas[] = {
		{ pool_root, sizeof(pool_root) },
		{ pool_issuing, sizeof(pool_issuing) },
	};
	const unsigned char *q;
	X509_CRL *c = NULL;
	X509_REVOKED *rev = NULL;
	X509 *ca;
	size_t i;
	bool ok = false;

	for (i = 0; !ok && i < sizeof(cas) / sizeof(cas[0]); i++) {
		q = cas[i].der;
		if ((ca = d2i_X509(NULL, &q, (long)cas[i].len)) == NULL)
			abort();
		ok = X509_verify(leaf, X509_get0_pubkey(ca)) == 1;
		X509_free(ca);
	}
	if (ok && crl) {
		q = pool_crl;
		if ((c = d2i_X509_CRL(NULL, &q, (long)sizeof(pool_crl))) ==
		    NULL)
			abort();
		ok = X509_CRL_get0_by_cert(c, &rev, leaf) == 0;
		X509_CRL_free(c);
	}
	ERR_clear_error();
	return ok;
}

static struct cs_verifier *
verifier_new(struct cs_ctx *ctx, unsigned int flags, const uint8_t *extra,
    size_t elen, unsigned int purpose)
{
	struct cs_verifier *v = NULL;
	enum cs_err r;

	if (cs_verify_new(ctx, &v) != CS_OK ||
	    cs_verify_add_chain(v, pool_chain, sizeof(pool_chain)) != CS_OK ||
	    cs_verify_set_purpose(v, (enum cs_verify_purpose)purpose) !=
	        CS_OK)
		abort();
	if ((flags & F_POOL_CRL) != 0 &&
	    cs_verify_add_crl(v, pool_crl, sizeof(pool_crl)) != CS_OK)
		abort();
	if ((flags & F_EXTRA_CRL) != 0) {
		r = cs_verify_add_crl(v, extra, elen);
		check(r == CS_OK || r == CS_ERR_MALFORMED ||
		    r == CS_ERR_NOMEM);
	}
	if ((flags & F_EXTRA_CHAIN) != 0) {
		r = cs_verify_add_chain(v, extra, elen);
		check(r == CS_OK || r == CS_ERR_MALFORMED || r == CS_ERR_ARG ||
		    r == CS_ERR_LIMIT || r == CS_ERR_NOMEM);
	}
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_verify_result res, again;
	struct cs_verifier *v = NULL;
	struct cs_ctx *ctx = NULL;
	const uint8_t *leaf, *extra;
	enum cs_ca_level require;
	unsigned int flags;
	size_t llen, elen;
	enum cs_err r, r2;
	X509 *x;

	if (size < 3)
		return 0;
	flags = data[0];
	llen = (size_t)data[1] << 8 | data[2];
	if (llen > size - 3)
		llen = size - 3;
	leaf = data + 3;
	extra = leaf + llen;
	elen = size - 3 - llen;
	require = (enum cs_ca_level)((flags >> 4) & 3);
	if (cs_ctx_new(&ctx) != CS_OK)
		abort();
	v = verifier_new(ctx, flags, extra, elen, (flags >> 6) & 3);
	r = cs_verify_cert(v, leaf, llen, require, pool_at, &res);
	result_ok(r, &res, require);
	r2 = cs_verify_cert(v, leaf, llen, require, pool_at, &again);
	check(r2 == r && again.accepted == res.accepted &&
	    again.level == res.level &&
	    strcmp(again.reason, res.reason) == 0);
	if (res.accepted && (flags & F_EXTRA_CHAIN) == 0) {
		x = leaf_decode(leaf, llen);
		check(x != NULL &&
		    pool_vouches(x, (flags & (F_POOL_CRL)) != 0));
		X509_free(x);
	}
	cs_verify_free(v);
	cs_ctx_free(ctx);
	return 0;
}
