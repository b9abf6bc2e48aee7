/*
 * The serial pool: 128-bit random serials (top bits 01) reserved as
 * pending rows in one committed transaction ahead of use
 * (cs_ca_set_serial_pool); unused ones become void at close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ca_int.h"

#include "banned.h"

static enum cs_err
random_serial(struct cs_ca *ca, char *hex, size_t cap)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	char *h = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	/* 128 bits from the CSPRNG; top bits 01 keep it positive and 127
	 * bits long, leaving 126 random bits (CA/B BR 7.1: >= 64). */
	if (RAND_bytes(b, sizeof(b)) != 1)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (h = BN_bn2hex(bn)) == NULL)
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	else {
		snprintf(hex, cap, "%s", h);
		r = CS_OK;
	}
	OPENSSL_free(h);
	BN_free(bn);
	return r;
}

static const char *const *
pool_ptrs(struct cs_ca *ca, const char **p, size_t from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = ca->pool[from + i];
	return p;
}

/*
 * Refill the pool: pool_size fresh serials reserved (pending) in one
 * committed transaction, so the serial is durable before any signing
 * while the fsync is shared. A collision (astronomically rare) retries.
 */
static enum cs_err
pool_fill(struct cs_ca *ca, int64_t now)
{
	const char *ptr[CSA_POOL_MAX];
	size_t i, n = ca->pool_size != 0 ? ca->pool_size : 1;
	enum cs_err r = CS_ERR_INTERNAL;
	int tries;

	if (ca->pool == NULL &&
	    (ca->pool = calloc(CSA_POOL_MAX, sizeof(*ca->pool))) == NULL)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "serial pool");
	for (tries = 0; tries < 3; tries++) {
		for (i = 0; i < n; i++)
			if ((r = random_serial(ca, ca->pool[i],
			         sizeof(ca->pool[i]))) != CS_OK)
				return r;
		r = ca->store->ops->reserve(ca->store, pool_ptrs(ca, ptr, 0, n),
		    n, now);
		if (r == CS_OK) {
			ca->pool_len = n;
			return CS_OK;
		}
	}
	return r;
}

/* Take the next reserved serial into x and hex. */
enum cs_err
csa_pool_take(struct cs_ca *ca, X509 *x, int64_t now, char *hex, size_t cap)
{
	BIGNUM *bn = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (ca->pool_len == 0 && (r = pool_fill(ca, now)) != CS_OK)
		return r;
	ca->pool_len--;
	snprintf(hex, cap, "%s", ca->pool[ca->pool_len]);
	if (!BN_hex2bn(&bn, hex) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		BN_free(bn);
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	}
	BN_free(bn);
	return CS_OK;
}

void
csa_pool_release(struct cs_ca *ca)
{
	const char *ptr[CSA_POOL_MAX];

	if (ca->pool_len > 0 && ca->store != NULL)
		(void)ca->store->ops->abandon(ca->store,
		    pool_ptrs(ca, ptr, 0, ca->pool_len), ca->pool_len,
		    "unused reservation", (int64_t)time(NULL));
	ca->pool_len = 0;
	free(ca->pool);
	ca->pool = NULL;
}

enum cs_err
cs_ca_set_serial_pool(struct cs_ca *ca, size_t n)
{
	if (n == 0 || n > CSA_POOL_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "serial pool size %zu "
		    "(1..%d)",
		    n, CSA_POOL_MAX);
	ca->pool_size = n;
	return CS_OK;
}
