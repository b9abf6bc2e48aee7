/*
 * Unit tests for lib/attest.c: YubiKey PIV attestation statements, F9
 * certificates, chains to the Yubico roots and CSR-embedded attestations.
 *
 * Genuine samples (tests/data/attest/SOURCES.md) must verify against the
 * shipped share/yubico-piv-roots.pem with exactly the fields SOURCES.md
 * lists; the generated fixtures (tests/data/attest/gen.sh) cover each way
 * a verification can fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cardsmith/cardsmith.h"

#include "banned.h"

/* 2025-01-01T00:00:00Z: inside every genuine sample's validity. */
#define AT_2025 1735689600
#define AT_2010 1262304000
#define AT_2018 1514764800

struct fixture {
	struct cs_ctx *ctx;
	struct cs_trust *yubico; /* share/yubico-piv-roots.pem */
	struct cs_trust *test;   /* gen-root.pem only */
};

static const char *
src_dir(void)
{
	const char *s = getenv("CS_SRC");

	return s != NULL ? s : ".";
}

static void
path_of(char *buf, size_t cap, const char *rel)
{
	int n = snprintf(buf, cap, "%s/%s", src_dir(), rel);

	assert_true(n > 0 && (size_t)n < cap);
}

/* Read tests/data/attest/<name>; fails the test if absent. */
static uint8_t *
load(const char *name, size_t *len)
{
	char path[4096], rel[512];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(rel, sizeof(rel), "tests/data/attest/%s", name);
	path_of(path, sizeof(path), rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A PEM certificate file as DER (test-side decoding, via OpenSSL). */
static uint8_t *
load_der(const char *name, size_t *len)
{
	size_t plen;
	uint8_t *pem = load(name, &plen), *der = NULL;
	BIO *b;
	X509 *x;
	int n;

	b = BIO_new_mem_buf(pem, (int)plen);
	assert_non_null(b);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_free(x);
	BIO_free(b);
	free(pem);
	/* Move into malloc'd memory so callers free() uniformly. */
	{
		uint8_t *copy = malloc((size_t)n);

		assert_non_null(copy);
		memcpy(copy, der, (size_t)n);
		OPENSSL_free(der);
		return copy;
	}
}

static bool
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[4096];

	assert_non_null(fx);
	assert_int_equal(cs_ctx_new(&fx->ctx), CS_OK);
	assert_int_equal(cs_trust_new(fx->ctx, &fx->yubico), CS_OK);
	path_of(path, sizeof(path), "share/yubico-piv-roots.pem");
	assert_int_equal(cs_trust_load_default(fx->yubico, path), CS_OK);
	assert_int_equal(cs_trust_new(fx->ctx, &fx->test), CS_OK);
	path_of(path, sizeof(path), "tests/data/attest/gen-root.pem");
	assert_int_equal(cs_trust_add_file(fx->test, path, 0), CS_OK);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	cs_trust_free(fx->yubico);
	cs_trust_free(fx->test);
	cs_ctx_free(fx->ctx);
	free(fx);
	return 0;
}

/* Verify <name>.stmt.pem with <f9name>.f9.pem. */
static enum cs_err
verify_files(struct fixture *fx, const struct cs_trust *t,
    const char *stmt, const char *f9, int64_t at, unsigned int flags,
    struct cs_attest_info *info)
{
	uint8_t *s, *f;
	size_t slen, flen;
	enum cs_err r;

	s = load(stmt, &slen);
	f = load(f9, &flen);
	r = cs_attest_verify(fx->ctx, t, s, slen, f, flen, at, flags, info);
	free(s);
	free(f);
	return r;
}

/* --- genuine samples (values from SOURCES.md) --- */

struct genuine {
	const char *name;
	int slot;
	uint8_t fw[3];
	bool has_serial;
	uint64_t serial;
	uint8_t pin, touch;
	bool has_ff;
	uint8_t ff;
	uint8_t key_alg;
	bool fips, cspn;
	uint8_t f9fw[3];
	const char *root;
	unsigned int flags;
};

#define ROOT_OLD "CN=Yubico PIV Root CA Serial 263751"
#define ROOT_NEW "CN=Yubico Attestation Root 1"
#define ROOT_U2F "CN=Yubico U2F Root CA Serial 457200631"

/* clang-format off */
static const struct genuine genuine[] = {
	{ "ovh-435-9a", 0x9a, { 4, 3, 5 }, true, 5970478, 3, 1, false, 0,
	  0x07, false, false, { 4, 3, 4 }, ROOT_OLD, 0 },
	{ "ovh-574-9a", 0x9a, { 5, 7, 4 }, true, 32718477, 3, 1, true, 0x04,
	  0x07, false, false, { 5, 7, 4 }, ROOT_NEW, 0 },
	{ "pivgo-543-9a", 0x9a, { 5, 4, 3 }, true, 15732500, 2, 1, true, 0x04,
	  0x11, false, false, { 5, 4, 3 }, ROOT_OLD, 0 },
	{ "pivgo-437-u2f-9a", 0x9a, { 4, 3, 7 }, false, 0, 2, 1, false, 0,
	  0x11, false, false, { 4, 3, 7 }, ROOT_U2F, CS_ATTEST_ALLOW_U2F_ROOT },
	{ "sigstore-445-fips-9c", 0x9c, { 4, 4, 5 }, true, 10550341, 3, 2,
	  false, 0, 0x11, true, false, { 4, 4, 5 }, ROOT_OLD, 0 },
	{ "sigstore-527-9c", 0x9c, { 5, 2, 7 }, true, 15724862, 3, 2, true,
	  0x04, 0x11, false, false, { 5, 2, 7 }, ROOT_OLD, 0 },
	{ "dockertuf-543-fips-9c", 0x9c, { 5, 4, 3 }, true, 25515003, 3, 1,
	  true, 0x83, 0x14, true, false, { 5, 4, 3 }, ROOT_OLD, 0 },
	{ "psyk-542-cspn-9a", 0x9a, { 5, 4, 2 }, true, 22399878, 2, 1, true,
	  0x01, 0x07, false, true, { 5, 4, 2 }, ROOT_OLD, 0 },
	{ "tmc-572-9a", 0x9a, { 5, 7, 2 }, true, 30000948, 2, 1, true, 0x07,
	  0x07, false, false, { 5, 7, 2 }, ROOT_OLD, 0 },
};
/* clang-format on */

static void
check_genuine(const struct genuine *g, const struct cs_attest_info *in)
{
	char want[64];

	assert_int_equal(in->slot, g->slot);
	assert_true(in->has_firmware);
	assert_memory_equal(in->firmware, g->fw, 3);
	assert_int_equal(in->has_serial, g->has_serial);
	assert_true(in->serial == g->serial);
	assert_true(in->has_policy);
	assert_int_equal(in->pin_policy, g->pin);
	assert_int_equal(in->touch_policy, g->touch);
	assert_int_equal(in->has_form_factor, g->has_ff);
	assert_int_equal(in->form_factor, g->ff);
	assert_int_equal(in->key_alg, g->key_alg);
	snprintf(want, sizeof(want), "CN=YubiKey PIV Attestation %02x",
	    (unsigned int)g->slot);
	assert_string_equal(in->subject, want);
}

static void
test_attest_genuine_samples_verify(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	char s[128], f[128];
	size_t i;

	for (i = 0; i < sizeof(genuine) / sizeof(genuine[0]); i++) {
		const struct genuine *g = &genuine[i];

		snprintf(s, sizeof(s), "%s.stmt.pem", g->name);
		snprintf(f, sizeof(f), "%s.f9.pem", g->name);
		if (verify_files(fx, fx->yubico, s, f, 0, g->flags, &in) !=
		    CS_OK)
			fail_msg("%s: %s", g->name, cs_ctx_errmsg(fx->ctx));
		check_genuine(g, &in);
		assert_string_equal(in.root, g->root);
		assert_int_equal(in.f9_fips, g->fips);
		assert_int_equal(in.f9_cspn, g->cspn);
		assert_true(in.has_f9_firmware);
		assert_memory_equal(in.f9_firmware, g->f9fw, 3);
		/* The parse-only path agrees on the statement fields. */
		{
			uint8_t *b;
			size_t n;
			struct cs_attest_info p;

			b = load(s, &n);
			assert_int_equal(cs_attest_parse(fx->ctx, b, n, &p),
			    CS_OK);
			check_genuine(g, &p);
			assert_false(p.f9_cspn);
			assert_false(p.has_f9_firmware);
			assert_string_equal(p.root, "");
			free(b);
		}
	}
}

static void
test_attest_genuine_der_input(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *f;
	size_t slen, flen;

	s = load_der("ovh-574-9a.stmt.pem", &slen);
	f = load_der("ovh-574-9a.f9.pem", &flen);
	assert_int_equal(cs_attest_verify(fx->ctx, fx->yubico, s, slen, f,
	    flen, AT_2025, 0, &in), CS_OK);
	assert_true(in.serial == 32718477);
	assert_string_equal(in.issuer, "CN=YubiKey PIV Attestation");
	assert_true(in.not_before == 1733011200); /* 2024-12-01 */
	assert_true(in.not_after == 253402300799); /* 9999-12-31 23:59:59 */
	free(s);
	free(f);
}

static void
test_attest_genuine_validity_unix_time(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s;
	size_t n;

	s = load("pivgo-543-9a.stmt.pem", &n);
	assert_int_equal(cs_attest_parse(fx->ctx, s, n, &in), CS_OK);
	assert_true(in.not_before == 1457913600); /* 2016-03-14 */
	assert_true(in.not_after == 2596924800);  /* 2052-04-17 */
	assert_string_equal(in.issuer, "CN=Yubico PIV Attestation");
	free(s);
}

static void
test_attest_u2f_root_needs_flag(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	assert_int_equal(verify_files(fx, fx->yubico,
	    "pivgo-437-u2f-9a.stmt.pem", "pivgo-437-u2f-9a.f9.pem", 0, 0, &in),
	    CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "no trusted manufacturer root"));
	assert_int_equal(in.slot, -1);
	assert_false(in.has_firmware);
}

static void
test_trust_default_counts(void **state)
{
	struct fixture *fx = *state;

	/* Two roots; the U2F root is held back; five intermediates. */
	assert_int_equal(cs_trust_count(fx->yubico, true), 2);
	assert_int_equal(cs_trust_count(fx->yubico, false), 5);
	assert_int_equal(cs_trust_count(fx->test, true), 1);
	assert_int_equal(cs_trust_count(fx->test, false), 0);
}

static void
test_trust_add_rejects_garbage(void **state)
{
	struct fixture *fx = *state;
	struct cs_trust *t;
	static const uint8_t junk[] = "# only a comment\nno certificate here\n";
	uint8_t *der;
	size_t n;

	assert_int_equal(cs_trust_new(fx->ctx, &t), CS_OK);
	assert_int_equal(cs_trust_add(t, junk, sizeof(junk) - 1, 0),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_trust_add(t, junk, sizeof(junk) - 1,
	    CS_TRUST_ANCHOR | CS_TRUST_INTERMEDIATE), CS_ERR_ARG);
	der = load_der("gen-root.pem", &n);
	assert_int_equal(cs_trust_add(t, der, n - 1, 0), CS_ERR_MALFORMED);
	assert_int_equal(cs_trust_count(t, true), 0);
	assert_int_equal(cs_trust_add(t, der, n, CS_TRUST_INTERMEDIATE),
	    CS_OK);
	assert_int_equal(cs_trust_count(t, true), 0);
	assert_int_equal(cs_trust_count(t, false), 1);
	assert_int_equal(cs_trust_add(t, der, n, 0), CS_OK);
	assert_int_equal(cs_trust_count(t, true), 1);
	assert_int_equal(cs_trust_add_file(t, "/nonexistent/roots.pem", 0),
	    CS_ERR_IO);
	free(der);
	cs_trust_free(t);
}

/* A PEM with one bad block adds nothing (all or nothing). */
static void
test_trust_add_all_or_nothing(void **state)
{
	struct fixture *fx = *state;
	struct cs_trust *t;
	uint8_t *a, *buf;
	size_t an;
	static const char bad[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
				  "-----END CERTIFICATE-----\n";

	a = load("gen-root.pem", &an);
	buf = malloc(an + sizeof(bad));
	assert_non_null(buf);
	memcpy(buf, a, an);
	memcpy(buf + an, bad, sizeof(bad) - 1);
	assert_int_equal(cs_trust_new(fx->ctx, &t), CS_OK);
	assert_int_equal(cs_trust_add(t, buf, an + sizeof(bad) - 1, 0),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_trust_count(t, true), 0);
	free(a);
	free(buf);
	cs_trust_free(t);
}

/* --- tampering --- */

static void
test_attest_flipped_signature_byte(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *f;
	size_t slen, flen;

	s = load_der("sigstore-527-9c.stmt.pem", &slen);
	f = load("sigstore-527-9c.f9.pem", &flen);
	s[slen - 7] ^= 0x01;
	assert_int_equal(cs_attest_verify(fx->ctx, fx->yubico, s, slen, f,
	    flen, 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "statement signature does not verify with the F9 key");
	free(s);
	free(f);
}

/* Find the serial extension's INTEGER in DER and change its last byte. */
static void
test_attest_flipped_serial_byte(void **state)
{
	static const uint8_t oid7[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
		0x01, 0x82, 0xc4, 0x0a, 0x03, 0x07 };
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *f;
	size_t slen, flen, i, at = 0;

	s = load_der("dockertuf-543-fips-9c.stmt.pem", &slen);
	f = load("dockertuf-543-fips-9c.f9.pem", &flen);
	for (i = 0; i + sizeof(oid7) < slen; i++)
		if (cs_memeq_public(s + i, oid7, sizeof(oid7))) {
			at = i + sizeof(oid7);
			break;
		}
	assert_true(at > 0);
	/* 04 06 02 04 xx xx xx xx: the serial's last byte is at + 7. */
	assert_int_equal(s[at], 0x04);
	assert_int_equal(s[at + 2], 0x02);
	s[at + 7] ^= 0x01;
	/* Still parses (serial off by one)... */
	assert_int_equal(cs_attest_parse(fx->ctx, s, slen, &in), CS_OK);
	assert_true(in.serial == (25515003 ^ 1));
	/* ...but no longer verifies. */
	assert_int_equal(cs_attest_verify(fx->ctx, fx->yubico, s, slen, f,
	    flen, 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "signature"));
	assert_false(in.has_serial);
	free(s);
	free(f);
}

static void
test_attest_swapped_f9_of_other_device(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	/* Same issuer name, different device key. */
	assert_int_equal(verify_files(fx, fx->yubico, "sigstore-527-9c.stmt.pem",
	    "pivgo-543-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "signature"));
	/* Different issuer name (5.7.4 "YubiKey PIV Attestation"). */
	assert_int_equal(verify_files(fx, fx->yubico, "ovh-574-9a.stmt.pem",
	    "tmc-572-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "statement issuer does not match the F9 subject");
}

static void
test_attest_badsig_fixture(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	assert_int_equal(verify_files(fx, fx->test, "gen-badsig.stmt.der",
	    "gen-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "signature"));
}

/* --- chains --- */

static void
test_attest_generated_ok_nonca_f9(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	static const uint8_t fw[3] = { 5, 7, 4 };

	/* gen-9a.f9.pem has no basicConstraints: tolerated as F9. */
	assert_int_equal(verify_files(fx, fx->test, "gen-9a.stmt.pem",
	    "gen-9a.f9.pem", 0, 0, &in), CS_OK);
	assert_int_equal(in.slot, 0x9a);
	assert_memory_equal(in.firmware, fw, 3);
	assert_true(in.serial == 12345678);
	assert_int_equal(in.pin_policy, 2);
	assert_int_equal(in.touch_policy, 3);
	assert_int_equal(in.form_factor, 0x83);
	assert_int_equal(in.key_alg, 0x11);
	assert_false(in.f9_fips);
	assert_false(in.f9_cspn);
	assert_string_equal(in.root, "CN=cardsmith Test Attestation Root");
	assert_int_equal(verify_files(fx, fx->test, "gen-9c.stmt.pem",
	    "gen-9a.f9.pem", 0, 0, &in), CS_OK);
	assert_int_equal(in.slot, 0x9c);
	assert_int_equal(in.key_alg, 0x07);
	assert_int_equal(in.pin_policy, 3);
	assert_int_equal(in.form_factor, 0x01);
	/* The genuine 4.3.5 F9 lacks basicConstraints too. */
	assert_int_equal(verify_files(fx, fx->yubico, "ovh-435-9a.stmt.pem",
	    "ovh-435-9a.f9.pem", 0, 0, &in), CS_OK);
}

/* Some fw 5.7.4 F9s are RSA-signed with the NULL parameter omitted. */
static void
test_attest_f9_rsa_alg_without_null(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	if (verify_files(fx, fx->test, "gen-nonull.stmt.pem",
	    "gen-nonull.f9.pem", 0, 0, &in) != CS_OK)
		fail_msg("%s", cs_ctx_errmsg(fx->ctx));
	assert_string_equal(in.issuer, "CN=YubiKey PIV Attestation");
	assert_true(in.has_f9_firmware);
}

static void
test_attest_unknown_root(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	assert_int_equal(verify_files(fx, fx->yubico, "gen-unknown.stmt.pem",
	    "gen-unknown.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "F9 certificate: "));
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "issuer"));
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "no trusted manufacturer root"));
	/* A genuine chain is unknown to the private test root. */
	assert_int_equal(verify_files(fx, fx->test, "ovh-574-9a.stmt.pem",
	    "ovh-574-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "root"));
	/* And the private root is unknown to the Yubico store. */
	assert_int_equal(verify_files(fx, fx->yubico, "gen-9a.stmt.pem",
	    "gen-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
}

static void
test_attest_intermediate_must_be_ca(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	struct cs_trust *t;
	char path[4096];

	/* root <- CA mid <- F9: fine. */
	assert_int_equal(cs_trust_new(fx->ctx, &t), CS_OK);
	path_of(path, sizeof(path), "tests/data/attest/gen-root.pem");
	assert_int_equal(cs_trust_add_file(t, path, 0), CS_OK);
	path_of(path, sizeof(path), "tests/data/attest/gen-midca.mid.pem");
	assert_int_equal(cs_trust_add_file(t, path, 0), CS_OK);
	path_of(path, sizeof(path), "tests/data/attest/gen-midnonca.mid.pem");
	assert_int_equal(cs_trust_add_file(t, path, 0), CS_OK);
	assert_int_equal(cs_trust_count(t, false), 2);
	assert_int_equal(verify_files(fx, t, "gen-midca.stmt.pem",
	    "gen-midca.f9.pem", 0, 0, &in), CS_OK);
	assert_true(in.f9_fips);
	assert_true(in.f9_cspn);
	/* root <- non-CA mid <- F9: the quirk is not tolerated above F9. */
	assert_int_equal(verify_files(fx, t, "gen-midnonca.stmt.pem",
	    "gen-midnonca.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "depth 1"));
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "CN=cardsmith Test Mid nonca"));
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "invalid CA certificate"));
	cs_trust_free(t);
}

static void
test_attest_f9_cspn_is_not_a_statement(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *f9, *s = NULL, *f = NULL;
	size_t n, sl = 0, fl = 0;

	assert_int_equal(verify_files(fx, fx->test, "gen-f9cspn.stmt.pem",
	    "gen-f9cspn.f9.pem", 0, 0, &in), CS_OK);
	assert_true(in.f9_cspn);
	assert_true(in.f9_fips);
	assert_false(in.has_serial);
	assert_false(in.has_policy);
	assert_false(in.has_form_factor);
	/* An F9 certificate carrying .3.11 is never mined for a statement. */
	f9 = load("psyk-542-cspn-9a.f9.pem", &n);
	assert_int_equal(cs_attest_from_csr(fx->ctx, f9, n, &s, &sl, &f, &fl),
	    CS_ERR_MALFORMED);
	assert_null(s);
	assert_null(f);
	/* Parsed as a statement, it has no slot. */
	assert_int_equal(cs_attest_parse(fx->ctx, f9, n, &in), CS_OK);
	assert_int_equal(in.slot, -1);
	assert_false(in.has_serial);
	free(f9);
}

/* --- issue 12: a slot statement in the F9 position --- */

/* The Yubico-shaped test manufacturer of tests/data/forged/gen.sh. */
static struct cs_trust *
forged_store(struct fixture *fx)
{
	struct cs_trust *t;
	char path[4096];

	assert_int_equal(cs_trust_new(fx->ctx, &t), CS_OK);
	path_of(path, sizeof(path), "tests/data/forged/root.pem");
	assert_int_equal(cs_trust_add_file(t, path, 0), CS_OK);
	return t;
}

static void
test_attest_statement_as_f9_refused(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	struct cs_trust *t = forged_store(fx);
	static const uint8_t fw543[3] = { 5, 4, 3 };

	/* The control: the genuine pair of that manufacturer verifies. */
	assert_int_equal(verify_files(fx, t, "../forged/stmt-9a.pem",
	    "../forged/f9.pem", 0, 0, &in), CS_OK);
	assert_int_equal(in.slot, 0x9a);
	assert_memory_equal(in.firmware, fw543, 3);
	/* The forgeries, with K's statement in the F9 position. */
	assert_int_equal(verify_files(fx, t, "../forged/forged-9a.stmt.pem",
	    "../forged/stmt-9a.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "F9 certificate: 'CN=YubiKey PIV Attestation 9a' is a slot "
	    "attestation statement, not a device F9 certificate");
	assert_int_equal(in.slot, -1);
	assert_false(in.has_firmware);
	assert_int_equal(verify_files(fx, t, "../forged/forged-9c.stmt.pem",
	    "../forged/stmt-9a.pem", 0, CS_ATTEST_NO_TIME, &in),
	    CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "is a slot attestation statement"));
	/* Against the real F9 the forgery has the wrong signer. */
	assert_int_equal(verify_files(fx, t, "../forged/forged-9a.stmt.pem",
	    "../forged/f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	cs_trust_free(t);
}

/* The F9's issuer must be in the store itself, whatever else is around. */
static void
test_attest_f9_issuer_must_be_in_store(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	/* gen-midca's F9 is issued by a mid the store does not hold. */
	assert_int_equal(verify_files(fx, fx->test, "gen-midca.stmt.pem",
	    "gen-midca.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "F9 certificate: its issuer 'CN=cardsmith Test Mid ca' is not a "
	    "manufacturer CA in the trust store (no trusted manufacturer "
	    "root)");
}

/*
 * Review finding: a root that also issues ordinary certificates. Its
 * end-entity certificate for K is no F9, so K's forgery under it fails.
 */
static void
test_attest_end_entity_is_no_f9(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	struct cs_trust *t = forged_store(fx);

	assert_int_equal(verify_files(fx, t, "../forged/forged-ee.stmt.pem",
	    "../forged/ee.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "F9 certificate: 'CN=mallory vpn' carries no firmware extension "
	    "(1.3.6.1.4.1.41482.3.3), so it is no device F9 certificate");
	cs_trust_free(t);
}

/* Only a slot statement is accepted in the statement position. */
static void
test_attest_statement_must_be_a_statement(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	struct cs_trust *t;
	char path[4096];

	assert_int_equal(cs_trust_new(fx->ctx, &t), CS_OK);
	path_of(path, sizeof(path), "tests/data/forged/fake-root1.pem");
	assert_int_equal(cs_trust_add_file(t, path, 0), CS_OK);
	/* An F9 (CA, no slot) offered as the statement, its root as F9. */
	assert_int_equal(verify_files(fx, t, "../forged/fake-root1.f9.pem",
	    "../forged/fake-root1.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "is not a slot attestation statement"));
	/* The pair itself is fine outside the shipped bundle's scheme. */
	assert_int_equal(verify_files(fx, t, "../forged/fake-root1.stmt.pem",
	    "../forged/fake-root1.f9.pem", 0, 0, &in), CS_OK);
	cs_trust_free(t);
}

/*
 * In the shipped bundle Yubico's 2024 root (and its first-level
 * intermediates) only issue CAs: an F9 signed directly by a certificate of
 * that name is not of the vendor's scheme.
 */
static void
test_attest_vendor_ca_only(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	struct cs_trust *t;
	char path[4096];

	assert_int_equal(cs_trust_new(fx->ctx, &t), CS_OK);
	path_of(path, sizeof(path), "tests/data/forged/fake-root1.pem");
	assert_int_equal(cs_trust_load_default(t, path), CS_OK);
	assert_int_equal(verify_files(fx, t, "../forged/fake-root1.stmt.pem",
	    "../forged/fake-root1.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "is not a manufacturer CA in the trust store"));
	cs_trust_free(t);
}

/* No device certificate ever joins a trust store, whatever the flags. */
static void
test_trust_refuses_device_certs(void **state)
{
	static const unsigned int flags[] = { 0, CS_TRUST_ANCHOR,
		CS_TRUST_INTERMEDIATE };
	static const char *const dev[] = { "../forged/f9.pem",
		"../forged/stmt-9a.pem", "../forged/forged-9a.stmt.pem",
		"ovh-574-9a.f9.pem", "pivgo-543-9a.stmt.pem",
		"../forged/trust-with-f9.pem" };
	struct fixture *fx = *state;
	struct cs_trust *t = forged_store(fx);
	uint8_t *b;
	size_t i, j, n;

	for (i = 0; i < sizeof(dev) / sizeof(dev[0]); i++) {
		b = load(dev[i], &n);
		for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
			assert_int_equal(cs_trust_add(t, b, n, flags[j]),
			    CS_ERR_POLICY);
			assert_true(contains(cs_ctx_errmsg(fx->ctx),
			    "is a device attestation certificate"));
		}
		free(b);
	}
	/* All or nothing: the bundle's root did not get in either. */
	assert_int_equal(cs_trust_count(t, true), 1);
	assert_int_equal(cs_trust_count(t, false), 0);
	cs_trust_free(t);
}

static void
test_trust_check_known(void **state)
{
	struct fixture *fx = *state;
	uint8_t *b;
	size_t n;

	/* The shipped roots and intermediates are known to the store... */
	b = load("../../../share/yubico-piv-roots.pem", &n);
	assert_int_equal(cs_trust_check_known(fx->yubico, b, n), CS_OK);
	free(b);
	b = load("gen-root.pem", &n);
	assert_int_equal(cs_trust_check_known(fx->test, b, n), CS_OK);
	/* ...anything else is named, and never added. */
	assert_int_equal(cs_trust_check_known(fx->yubico, b, n), CS_ERR_VERIFY);
	assert_true(contains(cs_ctx_errmsg(fx->ctx),
	    "(CN=cardsmith Test Attestation Root) is not in the manufacturer "
	    "trust store"));
	assert_int_equal(cs_trust_count(fx->yubico, true), 2);
	free(b);
	b = load("gen-midca.mid.pem", &n);
	assert_int_equal(cs_trust_check_known(fx->test, b, n), CS_ERR_VERIFY);
	free(b);
	assert_int_equal(cs_trust_check_known(fx->test,
	    (const uint8_t *)"junk", 4), CS_ERR_MALFORMED);
}

/* --- time --- */

static void
test_attest_time(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	assert_int_equal(verify_files(fx, fx->test, "gen-expired.stmt.pem",
	    "gen-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx), "statement expired");
	assert_int_equal(verify_files(fx, fx->test, "gen-expired.stmt.pem",
	    "gen-9a.f9.pem", 0, CS_ATTEST_NO_TIME, &in), CS_OK);
	assert_int_equal(verify_files(fx, fx->test, "gen-expired.stmt.pem",
	    "gen-9a.f9.pem", AT_2018, 0, &in), CS_OK);
	assert_int_equal(verify_files(fx, fx->test, "gen-9a.stmt.pem",
	    "gen-9a.f9.pem", AT_2010, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx), "statement not yet valid");
	/* Root 1 starts 2024-12-01: a 5.7.4 chain at 2018 fails on time. */
	assert_int_equal(verify_files(fx, fx->yubico, "ovh-574-9a.stmt.pem",
	    "ovh-574-9a.f9.pem", AT_2018, 0, &in), CS_ERR_VERIFY);
	assert_int_equal(verify_files(fx, fx->yubico, "ovh-574-9a.stmt.pem",
	    "ovh-574-9a.f9.pem", AT_2018, CS_ATTEST_NO_TIME, &in), CS_OK);
}

static void
test_attest_unknown_critical_extension(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	assert_int_equal(verify_files(fx, fx->test, "gen-crit.stmt.pem",
	    "gen-9a.f9.pem", 0, 0, &in), CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "statement has an unsupported critical extension");
}

static void
test_attest_wrong_issuer(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;

	assert_int_equal(verify_files(fx, fx->test,
	    "gen-wrongissuer.stmt.pem", "gen-9a.f9.pem", 0, 0, &in),
	    CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "statement issuer does not match the F9 subject");
}

/* --- malformed --- */

static void
test_attest_truncated_every_length(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *f;
	size_t slen, flen, n;
	enum cs_err r;

	s = load_der("gen-9a.stmt.pem", &slen);
	f = load("gen-9a.f9.pem", &flen);
	for (n = 0; n < slen; n++) {
		r = cs_attest_verify(fx->ctx, fx->test, s, n, f, flen, 0, 0,
		    &in);
		if (r != CS_ERR_MALFORMED)
			fail_msg("length %zu: %s", n, cs_errname(r));
		assert_int_equal(cs_attest_parse(fx->ctx, s, n, &in),
		    CS_ERR_MALFORMED);
		assert_int_equal(in.slot, -1);
	}
	free(s);
	s = load("gen-9a.stmt.pem", &slen);
	/* A cut PEM body is malformed too. */
	assert_int_equal(cs_attest_parse(fx->ctx, s, slen / 2, &in),
	    CS_ERR_MALFORMED);
	/* Truncated F9. */
	assert_int_equal(cs_attest_verify(fx->ctx, fx->test, s, slen, f,
	    flen / 2, 0, 0, &in), CS_ERR_MALFORMED);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "F9 certificate"));
	free(s);
	free(f);
}

static void
test_attest_trailing_and_oversize(void **state)
{
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *big;
	size_t slen;

	s = load_der("gen-9a.stmt.pem", &slen);
	big = calloc(1, CS_ATTEST_CERT_MAX + 2);
	assert_non_null(big);
	memcpy(big, s, slen);
	assert_int_equal(cs_attest_parse(fx->ctx, big, slen + 1, &in),
	    CS_ERR_MALFORMED);
	assert_true(contains(cs_ctx_errmsg(fx->ctx), "trailing"));
	assert_int_equal(cs_attest_parse(fx->ctx, big, CS_ATTEST_CERT_MAX + 1,
	    &in), CS_ERR_LIMIT);
	assert_int_equal(cs_attest_parse(fx->ctx, NULL, 0, &in),
	    CS_ERR_MALFORMED);
	free(big);
	free(s);
}

static void
test_attest_malformed_extensions(void **state)
{
	static const struct {
		const char *file;
		const char *oid;
	} bad[] = {
		{ "gen-bad-fw.stmt.pem", "1.3.6.1.4.1.41482.3.3" },
		{ "gen-bad-negserial.stmt.pem", "1.3.6.1.4.1.41482.3.7" },
		{ "gen-bad-bigserial.stmt.pem", "1.3.6.1.4.1.41482.3.7" },
		{ "gen-bad-serialtrail.stmt.pem", "1.3.6.1.4.1.41482.3.7" },
		{ "gen-bad-serialtag.stmt.pem", "1.3.6.1.4.1.41482.3.7" },
		{ "gen-bad-pol.stmt.pem", "1.3.6.1.4.1.41482.3.8" },
		{ "gen-bad-ff.stmt.pem", "1.3.6.1.4.1.41482.3.9" },
	};
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s;
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = load(bad[i].file, &n);
		assert_int_equal(cs_attest_parse(fx->ctx, s, n, &in),
		    CS_ERR_MALFORMED);
		if (!contains(cs_ctx_errmsg(fx->ctx), bad[i].oid))
			fail_msg("%s: %s", bad[i].file, cs_ctx_errmsg(fx->ctx));
		free(s);
		/* Validly signed, so verification reaches the parse too. */
		assert_int_equal(verify_files(fx, fx->test, bad[i].file,
		    "gen-9a.f9.pem", 0, 0, &in), CS_ERR_MALFORMED);
	}
}

/* --- key match --- */

static void
test_attest_match_key(void **state)
{
	struct fixture *fx = *state;
	uint8_t *s, *k, *o, *other;
	size_t sl, kl, ol, otl;
	BIO *b;
	EVP_PKEY *pk;
	const unsigned char *q;
	char *pem;
	long pl;

	s = load("gen-9a.stmt.pem", &sl);
	k = load("gen-9a.pub.der", &kl);
	o = load("gen-other.pub.der", &ol);
	other = load("gen-otherkey.stmt.pem", &otl);
	assert_int_equal(cs_attest_match_key(fx->ctx, s, sl, k, kl), CS_OK);
	assert_int_equal(cs_attest_match_key(fx->ctx, s, sl, o, ol),
	    CS_ERR_VERIFY);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "attested key differs from the given key");
	assert_int_equal(cs_attest_match_key(fx->ctx, other, otl, o, ol),
	    CS_OK);
	/* The other-key statement verifies; only the key match catches it. */
	{
		struct cs_attest_info in;

		assert_int_equal(verify_files(fx, fx->test,
		    "gen-otherkey.stmt.pem", "gen-9a.f9.pem", 0, 0, &in),
		    CS_OK);
	}
	/* RSA statement vs EC key: different types are simply unequal. */
	free(s);
	s = load("gen-9c.stmt.pem", &sl);
	assert_int_equal(cs_attest_match_key(fx->ctx, s, sl, k, kl),
	    CS_ERR_VERIFY);
	/* PEM public key input. */
	q = k;
	pk = d2i_PUBKEY(NULL, &q, (long)kl);
	assert_non_null(pk);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, pk), 1);
	pl = BIO_get_mem_data(b, &pem);
	free(s);
	s = load("gen-9a.stmt.pem", &sl);
	assert_int_equal(cs_attest_match_key(fx->ctx, s, sl,
	    (const uint8_t *)pem, (size_t)pl), CS_OK);
	/* Truncated SPKI. */
	assert_int_equal(cs_attest_match_key(fx->ctx, s, sl, k, kl - 1),
	    CS_ERR_MALFORMED);
	BIO_free(b);
	EVP_PKEY_free(pk);
	free(s);
	free(k);
	free(o);
	free(other);
}

/* --- CSR --- */

static void
csr_extract(struct fixture *fx, const char *name, uint8_t **s, size_t *sl,
    uint8_t **f, size_t *fl)
{
	uint8_t *c;
	size_t cl;

	c = load(name, &cl);
	if (cs_attest_from_csr(fx->ctx, c, cl, s, sl, f, fl) != CS_OK)
		fail_msg("%s: %s", name, cs_ctx_errmsg(fx->ctx));
	free(c);
}

static void
test_attest_csr_generated_both_oids(void **state)
{
	static const char *const names[] = { "gen-oid1.csr.pem",
		"gen-oid11.csr.pem" };
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *f, *ws, *wf;
	size_t sl, fl, wsl, wfl, i;

	ws = load_der("gen-9a.stmt.pem", &wsl);
	wf = load_der("gen-9a.f9.pem", &wfl);
	for (i = 0; i < 2; i++) {
		csr_extract(fx, names[i], &s, &sl, &f, &fl);
		assert_int_equal(sl, wsl);
		assert_memory_equal(s, ws, wsl);
		assert_int_equal(fl, wfl);
		assert_memory_equal(f, wf, wfl);
		assert_int_equal(cs_attest_verify(fx->ctx, fx->test, s, sl, f,
		    fl, 0, 0, &in), CS_OK);
		assert_true(in.serial == 12345678);
		/* An F9 without .3.11 on it: not CSPN. */
		assert_false(in.f9_cspn);
		cs_free(s);
		cs_free(f);
	}
	free(ws);
	free(wf);
}

static void
test_attest_csr_genuine(void **state)
{
	static const struct {
		const char *name;
		uint64_t serial;
		uint8_t fw[3];
		const char *root;
	} csrs[] = {
		{ "tmc-574-9a-oid1.csr.pem", 33064031, { 5, 7, 4 }, ROOT_NEW },
		{ "tmc-527-9a-oid11.csr.pem", 15890263, { 5, 2, 7 }, ROOT_OLD },
		{ "psyk-543-9a-oid1.csr.pem", 19661687, { 5, 4, 3 }, ROOT_OLD },
		{ "psyk-543-9a-oid11.csr.pem", 19661687, { 5, 4, 3 },
		    ROOT_OLD },
	};
	struct fixture *fx = *state;
	struct cs_attest_info in;
	uint8_t *s, *f;
	size_t sl, fl, i;

	for (i = 0; i < sizeof(csrs) / sizeof(csrs[0]); i++) {
		csr_extract(fx, csrs[i].name, &s, &sl, &f, &fl);
		if (cs_attest_verify(fx->ctx, fx->yubico, s, sl, f, fl, 0, 0,
		    &in) != CS_OK)
			fail_msg("%s: %s", csrs[i].name,
			    cs_ctx_errmsg(fx->ctx));
		assert_true(in.serial == csrs[i].serial);
		assert_memory_equal(in.firmware, csrs[i].fw, 3);
		assert_int_equal(in.slot, 0x9a);
		assert_string_equal(in.root, csrs[i].root);
		assert_false(in.f9_cspn);
		cs_free(s);
		cs_free(f);
	}
}

static void
test_attest_csr_without_statement(void **state)
{
	struct fixture *fx = *state;
	uint8_t *c, *s = NULL, *f = NULL, *der = NULL;
	size_t cl, sl = 1, fl = 1;
	X509_REQ *req;
	BIO *b;
	int n;

	/* Has .3.2 (F9) but no statement. */
	c = load("psyk-543-9a-f9only.csr.pem", &cl);
	assert_int_equal(cs_attest_from_csr(fx->ctx, c, cl, &s, &sl, &f, &fl),
	    CS_ERR_NOT_FOUND);
	assert_null(s);
	assert_null(f);
	assert_int_equal(sl, 0);
	/* DER CSR input; truncations are malformed. */
	b = BIO_new_mem_buf(c, (int)cl);
	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	assert_non_null(req);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	assert_int_equal(cs_attest_from_csr(fx->ctx, der, (size_t)n, &s, &sl,
	    &f, &fl), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_attest_from_csr(fx->ctx, der, (size_t)n - 1, &s,
	    &sl, &f, &fl), CS_ERR_MALFORMED);
	OPENSSL_free(der);
	X509_REQ_free(req);
	BIO_free(b);
	free(c);
}

static void
test_attest_policy_strings(void **state)
{
	assert_string_equal(cs_attest_pin_policy_str(1), "never");
	assert_string_equal(cs_attest_pin_policy_str(3), "always");
	assert_string_equal(cs_attest_pin_policy_str(5), "match-always");
	assert_string_equal(cs_attest_pin_policy_str(200), "unknown");
	assert_string_equal(cs_attest_touch_policy_str(3), "cached");
	assert_string_equal(cs_attest_touch_policy_str(9), "unknown");
	assert_string_equal(cs_attest_form_factor_str(0x01), "USB-A keychain");
	assert_string_equal(cs_attest_form_factor_str(0x83), "USB-C keychain");
	assert_string_equal(cs_attest_form_factor_str(0x0f), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attest_genuine_samples_verify),
		cmocka_unit_test(test_attest_genuine_der_input),
		cmocka_unit_test(test_attest_genuine_validity_unix_time),
		cmocka_unit_test(test_attest_u2f_root_needs_flag),
		cmocka_unit_test(test_trust_default_counts),
		cmocka_unit_test(test_trust_add_rejects_garbage),
		cmocka_unit_test(test_trust_add_all_or_nothing),
		cmocka_unit_test(test_attest_flipped_signature_byte),
		cmocka_unit_test(test_attest_flipped_serial_byte),
		cmocka_unit_test(test_attest_swapped_f9_of_other_device),
		cmocka_unit_test(test_attest_badsig_fixture),
		cmocka_unit_test(test_attest_generated_ok_nonca_f9),
		cmocka_unit_test(test_attest_f9_rsa_alg_without_null),
		cmocka_unit_test(test_attest_unknown_root),
		cmocka_unit_test(test_attest_intermediate_must_be_ca),
		cmocka_unit_test(test_attest_f9_cspn_is_not_a_statement),
		cmocka_unit_test(test_attest_time),
		cmocka_unit_test(test_attest_unknown_critical_extension),
		cmocka_unit_test(test_attest_wrong_issuer),
		cmocka_unit_test(test_attest_truncated_every_length),
		cmocka_unit_test(test_attest_trailing_and_oversize),
		cmocka_unit_test(test_attest_malformed_extensions),
		cmocka_unit_test(test_attest_match_key),
		cmocka_unit_test(test_attest_csr_generated_both_oids),
		cmocka_unit_test(test_attest_csr_genuine),
		cmocka_unit_test(test_attest_csr_without_statement),
		cmocka_unit_test(test_attest_policy_strings),
		cmocka_unit_test(test_attest_statement_as_f9_refused),
		cmocka_unit_test(test_attest_f9_issuer_must_be_in_store),
		cmocka_unit_test(test_trust_refuses_device_certs),
		cmocka_unit_test(test_attest_end_entity_is_no_f9),
		cmocka_unit_test(test_attest_statement_must_be_a_statement),
		cmocka_unit_test(test_attest_vendor_ca_only),
		cmocka_unit_test(test_trust_check_known),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
