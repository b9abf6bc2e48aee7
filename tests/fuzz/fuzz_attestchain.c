/*
 * Fuzz target: which (statement, F9, chain, trust store, CSR) combinations
 * verify. The pool (attestchain_pool.h) holds the forged-attestation set of
 * issue 12 (a Yubico-shaped manufacturer whose F9 is CA:TRUE pathlen 0, a
 * genuine statement for key K, and "statements" K signed for a software
 * key S), generated fixtures, genuine YubiKey pairs and the Yubico roots
 * and intermediates they chain to.
 *
 * Input:
 *   [0] mode: 0 pool statement + pool F9; 1 the rest is a CSR (its
 *       embedded statement and F9 are verified); 2 the rest is u16 n,
 *       n statement bytes, then F9 bytes
 *   [1] statement index, [2] F9 index (mode 0)
 *   [3..6] mask of pool certificates added to the trust store (bit i =
 *       pool[i]), [7] how (0 classify, 1 anchors, 2 intermediates)
 *   [8..11] mask of pool certificates sent along as a "chain"
 *   [12] mutate (mode 0): 1 statement, 2 F9; [13..14] offset, [15] xor
 *   [16..] rest
 *
 * Invariants (abort on violation): adding a device certificate (F9,
 * statement, forgery) to a store fails with CS_ERR_POLICY and leaves the
 * store as it was; a "chain" is only ever recognised, never added; and
 * whatever verifies names an anchor and attests the key of one of the
 * pool's genuine statements, never another key (the forgeries certify
 * the attacker's software key), so a regression in any of the position
 * checks shows up as an abort.
 *
 * Covers: cs_trust_add, cs_trust_check_known, cs_trust_count,
 * cs_attest_verify, cs_attest_match_key, cs_attest_parse,
 * cs_attest_from_csr.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "cardsmith/cardsmith.h"

enum pool_role {
	POOL_ANCHOR,
	POOL_INTER,
	POOL_EE,
	POOL_F9,
	POOL_STMT,
	POOL_FAKE
};
struct pool_cert {
	const char *name;
	const uint8_t *der;
	size_t len;
	enum pool_role role;
};
#include "attestchain_pool.h"

#define NPOOL (sizeof(pool) / sizeof(pool[0]))
#define HDR 16
/* Masks are 32 bits wide. */
_Static_assert(sizeof(pool) / sizeof(pool[0]) <= 32, "pool too large");
/* 2025-01-01T00:00:00Z, so runs are reproducible. */
#define FUZZ_AT 1735689600

/* Is the certificate of a device (refused by every trust store)? */
static bool
is_device(size_t i)
{
	return pool[i].role == POOL_F9 || pool[i].role == POOL_STMT ||
	    pool[i].role == POOL_FAKE;
}

/* The statement attests the key of a genuine pool statement. */
static bool
genuine_key(struct cs_ctx *ctx, const uint8_t *s, size_t sl)
{
	static uint8_t *spki[sizeof(pool) / sizeof(pool[0])];
	static size_t len[sizeof(pool) / sizeof(pool[0])];
	const unsigned char *p;
	unsigned char *q;
	X509 *x;
	size_t i;
	int n;

	for (i = 0; i < NPOOL; i++) {
		if (pool[i].role != POOL_STMT)
			continue;
		if (spki[i] == NULL) {
			p = pool[i].der;
			q = NULL;
			if ((x = d2i_X509(NULL, &p, (long)pool[i].len)) ==
			        NULL ||
			    (n = i2d_PUBKEY(X509_get0_pubkey(x), &q)) <= 0)
				abort();
			spki[i] = q;
			len[i] = (size_t)n;
			X509_free(x);
		}
		if (cs_attest_match_key(ctx, s, sl, spki[i], len[i]) == CS_OK)
			return true;
	}
	return false;
}

static void
build_store(struct cs_ctx *ctx, struct cs_trust *t, uint32_t mask, uint8_t fl)
{
	static const unsigned int flags[] = { 0, CS_TRUST_ANCHOR,
		CS_TRUST_INTERMEDIATE };
	size_t i, a, n;
	enum cs_err r;

	for (i = 0; i < NPOOL; i++) {
		if (!(mask & (UINT32_C(1) << i)))
			continue;
		a = cs_trust_count(t, true);
		n = cs_trust_count(t, false);
		r = cs_trust_add(t, pool[i].der, pool[i].len, flags[fl % 3]);
		if (is_device(i)) {
			if (r != CS_ERR_POLICY ||
			    cs_trust_count(t, true) != a ||
			    cs_trust_count(t, false) != n)
				abort();
		} else if (r != CS_OK)
			abort();
	}
	(void)ctx;
}

static void
check_chain(struct cs_trust *t, uint32_t mask)
{
	uint8_t *buf;
	size_t i, len = 0, a = cs_trust_count(t, true),
	          n = cs_trust_count(t, false);
	enum cs_err r;

	if (mask == 0)
		return;
	/* One DER certificate per call: the API takes PEM for several. */
	for (i = 0; i < NPOOL; i++) {
		if (!(mask & (UINT32_C(1) << i)))
			continue;
		if ((buf = malloc(pool[i].len)) == NULL)
			abort();
		memcpy(buf, pool[i].der, pool[i].len);
		len = pool[i].len;
		r = cs_trust_check_known(t, buf, len);
		if (r != CS_OK && r != CS_ERR_VERIFY &&
		    !(r == CS_ERR_POLICY && is_device(i)))
			abort();
		free(buf);
	}
	if (cs_trust_count(t, true) != a || cs_trust_count(t, false) != n)
		abort(); /* recognised, never added */
}

static void
verify(struct cs_ctx *ctx, const struct cs_trust *t, const uint8_t *s,
    size_t sl, const uint8_t *f, size_t fl)
{
	struct cs_attest_info in, f9as;
	unsigned int flags;

	for (flags = 0; flags < 4; flags++) {
		if (cs_attest_verify(ctx, t, s, sl, f, fl, FUZZ_AT, flags,
		        &in) != CS_OK) {
			if (in.root[0] != '\0' || in.has_serial)
				abort();
			continue;
		}
		if (in.root[0] == '\0')
			abort();
		/* The attack of issue 12, in every shape, must never succeed.
		 */
		if (!genuine_key(ctx, s, sl))
			abort();
		if (cs_attest_parse(ctx, f, fl, &f9as) == CS_OK &&
		    (f9as.slot >= 0 || f9as.has_policy))
			abort();
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_ctx *ctx = NULL;
	struct cs_trust *t = NULL;
	uint8_t *s = NULL, *f = NULL;
	size_t sl = 0, fl = 0, off, n;
	const uint8_t *rest = data + HDR;
	size_t restlen;

	if (size < HDR)
		return 0;
	restlen = size - HDR;
	if (cs_ctx_new(&ctx) != CS_OK || cs_trust_new(ctx, &t) != CS_OK)
		abort();
	build_store(ctx, t, get32(data + 3), data[7]);
	check_chain(t, get32(data + 8));
	switch (data[0] % 3) {
	case 0:
		sl = pool[data[1] % NPOOL].len;
		fl = pool[data[2] % NPOOL].len;
		if ((s = malloc(sl)) == NULL || (f = malloc(fl)) == NULL)
			abort();
		memcpy(s, pool[data[1] % NPOOL].der, sl);
		memcpy(f, pool[data[2] % NPOOL].der, fl);
		off = (size_t)data[13] << 8 | data[14];
		if (data[12] == 1)
			s[off % sl] ^= data[15];
		else if (data[12] == 2)
			f[off % fl] ^= data[15];
		verify(ctx, t, s, sl, f, fl);
		free(s);
		free(f);
		break;
	case 1:
		if (cs_attest_from_csr(ctx, rest, restlen, &s, &sl, &f, &fl) ==
		    CS_OK)
			verify(ctx, t, s, sl, f, fl);
		cs_free(s);
		cs_free(f);
		break;
	default:
		if (restlen < 2)
			break;
		n = (size_t)rest[0] << 8 | rest[1];
		if (n <= restlen - 2)
			verify(ctx, t, rest + 2, n, rest + 2 + n,
			    restlen - 2 - n);
		break;
	}
	cs_trust_free(t);
	cs_ctx_free(ctx);
	return 0;
}
