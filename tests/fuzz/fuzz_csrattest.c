/*
 * Fuzz target: attestation embedded in a CSR (yubico-piv-tool
 * --attestation; statement in 1.3.6.1.4.1.41482.3.1 or legacy .3.11, F9 in
 * .3.2). The input is the CSR, DER or PEM. What comes out is parsed as a
 * statement, checked to be one DER certificate each, and verified (against
 * an empty trust store, so only the statement-vs-F9 checks can pass).
 *
 * Covers: cs_attest_from_csr, then cs_attest_parse and cs_attest_verify on
 * its outputs.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cardsmith/cardsmith.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_ctx *ctx = NULL;
	struct cs_trust *t = NULL;
	struct cs_attest_info in;
	uint8_t *s = NULL, *f = NULL;
	size_t sl = 0, fl = 0;
	enum cs_err r;

	if (cs_ctx_new(&ctx) != CS_OK || cs_trust_new(ctx, &t) != CS_OK)
		abort();
	if (cs_attest_from_csr(ctx, data, size, &s, &sl, &f, &fl) == CS_OK) {
		/* Outputs are promised to be DER certificates. */
		if (s == NULL || f == NULL || sl == 0 || fl == 0 ||
		    s[0] != 0x30 || f[0] != 0x30)
			abort();
		r = cs_attest_parse(ctx, s, sl, &in);
		/* An empty store: nothing may ever verify. */
		if (cs_attest_verify(ctx, t, s, sl, f, fl, 0,
		    CS_ATTEST_NO_TIME, &in) == CS_OK)
			abort();
	} else if (s != NULL || f != NULL || sl != 0 || fl != 0)
		abort(); /* out-params must stay cleared on failure */
	(void)r;
	cs_free(s);
	cs_free(f);
	cs_trust_free(t);
	cs_ctx_free(ctx);
	return 0;
}
