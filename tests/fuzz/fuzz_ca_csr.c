/*
 * Fuzz target: CSR intake of the CA (what `cardsmith ca sign --csr` reads
 * first). The input is a CSR, DER or PEM. A CSR that passes must have a
 * verified self-signature, a NUL-terminated subject and a known key type
 * or 0; one that fails must leave the info cleared.
 *
 * Covers: cs_ca_csr_check (csa_csr_decode, X509_REQ_verify, subject and
 * key description, cs_attest_from_csr on the same bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/ca.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_ctx *ctx = NULL;
	struct cs_ca_csr_info in;
	enum cs_err r;

	if (cs_ctx_new(&ctx) != CS_OK)
		abort();
	memset(&in, 0xa5, sizeof(in));
	r = cs_ca_csr_check(ctx, data, size, &in);
	if (r == CS_OK) {
		if (memchr(in.subject, '\0', sizeof(in.subject)) == NULL ||
		    memchr(in.cn, '\0', sizeof(in.cn)) == NULL)
			abort();
		if (in.alg & (in.alg - 1))
			abort(); /* at most one algorithm bit */
	} else {
		if (r != CS_ERR_MALFORMED && r != CS_ERR_VERIFY)
			abort();
		if (in.subject[0] != '\0' || in.alg != 0)
			abort();
	}
	cs_ctx_free(ctx);
	return 0;
}
