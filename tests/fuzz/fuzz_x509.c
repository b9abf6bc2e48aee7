/*
 * Fuzz target for lib/x509.c certificate summaries.
 *
 * Covers: cs_cert_info_parse (DER, and PEM through CS_X509_PEM),
 * cs_cert_info_release, and the internal name, time, serial, policy and
 * key-algorithm readers.
 *
 * The input is parsed once as DER only and once with CS_X509_PEM.
 * Properties checked, abort() on violation:
 * - failure returns MALFORMED, LIMIT, NOMEM or CRYPTO and leaves the
 *   summary all zero;
 * - on success every string is NUL-terminated inside its array, at most
 *   CS_X509_POLICIES_MAX policies are listed, and the SPKI is present and
 *   shorter than the DER input;
 * - input that parses as DER parses identically with CS_X509_PEM (DER is
 *   never taken for PEM);
 * - release clears the summary.
 *
 * Seeds (tests/fuzz/corpus/x509/): the generated test root (RSA-2048), a
 * genuine YubiKey statement (P-384), a generated statement (P-256, DER and
 * PEM), a self-signed Ed25519 certificate with two policies, and truncated,
 * trailing-byte and text inputs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"

#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
is_clear(const struct cs_cert_info *ci)
{
	static const struct cs_cert_info zero;

	return cs_memeq_public(ci, &zero, sizeof(zero));
}

static bool
well_formed(const struct cs_cert_info *ci, size_t inlen, bool der)
{
	size_t i;

	if (!terminated(ci->subject, sizeof(ci->subject)) ||
	    !terminated(ci->issuer, sizeof(ci->issuer)) ||
	    !terminated(ci->serial, sizeof(ci->serial)) ||
	    ci->npolicies > CS_X509_POLICIES_MAX || ci->spki == NULL ||
	    ci->spki_len == 0 || (der && ci->spki_len >= inlen))
		return false;
	for (i = 0; i < CS_X509_POLICIES_MAX; i++)
		if (!terminated(ci->policies[i], sizeof(ci->policies[i])))
			return false;
	return true;
}

static bool
same(const struct cs_cert_info *a, const struct cs_cert_info *b)
{
	return strcmp(a->subject, b->subject) == 0 &&
	    strcmp(a->issuer, b->issuer) == 0 &&
	    strcmp(a->serial, b->serial) == 0 &&
	    a->not_before == b->not_before && a->not_after == b->not_after &&
	    cs_memeq_public(a->sha256, b->sha256, sizeof(a->sha256)) &&
	    a->npolicies == b->npolicies && a->key_alg == b->key_alg &&
	    a->spki_len == b->spki_len &&
	    cs_memeq_public(a->spki, b->spki, a->spki_len);
}

static bool
allowed_failure(enum cs_err r)
{
	return r == CS_ERR_MALFORMED || r == CS_ERR_LIMIT ||
	    r == CS_ERR_NOMEM || r == CS_ERR_CRYPTO;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_ctx *ctx = NULL;
	struct cs_cert_info der, any;
	enum cs_err rd, ra;

	if (cs_ctx_new(&ctx) != CS_OK)
		abort();
	rd = cs_cert_info_parse(ctx, data, size, 0, &der);
	ra = cs_cert_info_parse(ctx, data, size, CS_X509_PEM, &any);
	check(rd == CS_OK ? well_formed(&der, size, true) :
	    allowed_failure(rd) && is_clear(&der));
	check(ra == CS_OK ? well_formed(&any, size, false) :
	    allowed_failure(ra) && is_clear(&any));
	if (rd == CS_OK)
		check(ra == CS_OK && same(&der, &any));
	cs_cert_info_release(&der);
	cs_cert_info_release(&any);
	check(is_clear(&der) && is_clear(&any));
	cs_ctx_free(ctx);
	return 0;
}
