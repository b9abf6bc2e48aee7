/*
 * Unit tests for ca/lint.c: a clean leaf passes, and each defect the
 * pre-issuance lint exists for is reported by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>

#include "test_ca_util.h"

#include "banned.h"

struct knobs {
	long serial; /* 0: a 127-bit random serial */
	bool ku_noncrit, no_ku, ku_certsign, no_ds, ku_ke;
	bool no_policy, any_policy, ca_true, no_ski, bad_aki;
	bool swap_validity, past_issuer, rsa1024, empty_subject;
	bool bad_email;
};

static struct cs_ctx *ctx;
static EVP_PKEY *ikey;
static X509 *issuer;

static void
ext(X509 *x, X509V3_CTX *v3, int nid, const char *v)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, v);

	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static void
policies(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();

	ASN1_OBJECT_free(pi->policyid);
	pi->policyid = OBJ_txt2obj(oid, 1);
	sk_POLICYINFO_push(cp, pi);
	X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, 0);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
}

static void
serial(X509 *x, long v)
{
	unsigned char b[16];
	BIGNUM *bn;

	if (v != 0) {
		ASN1_INTEGER_set(X509_get_serialNumber(x), v);
		return;
	}
	memset(b, 0x5a, sizeof(b));
	b[0] = 0x41;
	bn = BN_bin2bn(b, sizeof(b), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
}

static uint8_t *
make(const struct knobs *k, size_t *len)
{
	EVP_PKEY *key = k->rsa1024
	    ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)
	    : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	char ku[128];
	uint8_t *der;

	X509_set_version(x, 2);
	serial(x, k->serial);
	if (!k->empty_subject)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)"Lint Me", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	X509_set_pubkey(x, key);
	X509_gmtime_adj(X509_getm_notBefore(x), k->swap_validity ? 86400 : 0);
	X509_gmtime_adj(X509_getm_notAfter(x),
	    k->past_issuer         ? 86400L * 365 * 30
	        : k->swap_validity ? 0
	                           : 86400L * 30);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext(x, &v3, NID_basic_constraints,
	    k->ca_true ? "critical,CA:TRUE" : "critical,CA:FALSE");
	snprintf(ku, sizeof(ku), "%s%s%s%s", k->ku_noncrit ? "" : "critical,",
	    k->no_ds ? "nonRepudiation" : "digitalSignature",
	    k->ku_certsign ? ",keyCertSign" : "",
	    k->ku_ke ? ",keyEncipherment" : "");
	if (!k->no_ku)
		ext(x, &v3, NID_key_usage, ku);
	ext(x, &v3, NID_ext_key_usage, "clientAuth");
	if (!k->no_ski)
		ext(x, &v3, NID_subject_key_identifier, "hash");
	if (k->bad_aki) {
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	} else
		ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (k->bad_email || k->empty_subject)
		ext(x, &v3, NID_subject_alt_name,
		    k->bad_email ? "email:nobody" : "DNS:host.example");
	if (!k->no_policy)
		policies(x, k->any_policy ? "2.5.29.32.0" : "1.3.6.1.4.1.1.1");
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	der = tca_der(x, len);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(key);
	return der;
}

static int
setup(void **state)
{
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	(void)state;
	if (cs_ctx_new(&ctx) != CS_OK)
		return -1;
	ikey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	issuer = X509_new();
	X509_set_version(issuer, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(issuer), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Lint CA", -1, -1, 0);
	X509_set_subject_name(issuer, n);
	X509_set_issuer_name(issuer, n);
	X509_set_pubkey(issuer, ikey);
	X509_gmtime_adj(X509_getm_notBefore(issuer), -86400);
	X509_gmtime_adj(X509_getm_notAfter(issuer), 86400L * 3650);
	X509V3_set_ctx(&v3, issuer, issuer, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	X509_add_ext(issuer, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(issuer, ikey, EVP_sha256());
	X509_NAME_free(n);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(issuer);
	EVP_PKEY_free(ikey);
	cs_ctx_free(ctx);
	return 0;
}

static enum cs_err
lint(const struct knobs *k, char *f, size_t cap)
{
	uint8_t *der, *ider;
	size_t len, ilen;
	enum cs_err r;

	der = make(k, &len);
	ider = tca_der(issuer, &ilen);
	r = cs_ca_lint(ctx, der, len, ider, ilen, 0, f, cap);
	free(der);
	free(ider);
	return r;
}

static void
expect(const struct knobs *k, const char *finding)
{
	char f[CS_CA_REASON_MAX];

	assert_int_equal(lint(k, f, sizeof(f)), CS_ERR_POLICY);
	if (strstr(f, finding) == NULL)
		fprintf(stderr, "# findings: %s\n", f);
	assert_non_null(strstr(f, finding));
}

static void
test_ca_lint_clean_leaf_passes(void **state)
{
	struct knobs k = { 0 };
	char f[CS_CA_REASON_MAX];

	(void)state;
	if (lint(&k, f, sizeof(f)) != CS_OK)
		fprintf(stderr, "# findings: %s\n", f);
	assert_int_equal(lint(&k, f, sizeof(f)), CS_OK);
	assert_string_equal(f, "");
}

static void
test_ca_lint_serial(void **state)
{
	(void)state;
	expect(&(struct knobs){ .serial = -5 }, "must be positive");
	expect(&(struct knobs){ .serial = 12345 }, "fewer than 64 bits");
}

static void
test_ca_lint_key_usage(void **state)
{
	(void)state;
	expect(&(struct knobs){ .ku_noncrit = true },
	    "keyUsage must be critical");
	expect(&(struct knobs){ .no_ku = true }, "keyUsage missing");
	expect(&(struct knobs){ .ku_certsign = true },
	    "leaf keyUsage has keyCertSign");
	expect(&(struct knobs){ .no_ds = true }, "needs digitalSignature");
	expect(&(struct knobs){ .ku_ke = true },
	    "keyEncipherment/dataEncipherment with an EC key");
}

static void
test_ca_lint_policy(void **state)
{
	(void)state;
	expect(&(struct knobs){ .no_policy = true },
	    "certificatePolicies missing");
	expect(&(struct knobs){ .any_policy = true }, "asserts anyPolicy");
}

static void
test_ca_lint_structure(void **state)
{
	(void)state;
	expect(&(struct knobs){ .ca_true = true },
	    "leaf certificate has basicConstraints CA:TRUE");
	expect(&(struct knobs){ .no_ski = true },
	    "subjectKeyIdentifier missing");
	expect(&(struct knobs){ .bad_aki = true },
	    "authorityKeyIdentifier differs");
	expect(&(struct knobs){ .swap_validity = true },
	    "notBefore is not before notAfter");
	expect(&(struct knobs){ .past_issuer = true },
	    "past the issuer's notAfter");
	expect(&(struct knobs){ .rsa1024 = true }, "not allowed");
	expect(&(struct knobs){ .empty_subject = true },
	    "subjectAltName must be critical");
	expect(&(struct knobs){ .bad_email = true }, "has no '@'");
}

static void
test_ca_lint_garbage(void **state)
{
	static const uint8_t junk[] = { 0x30, 0x00 };
	char f[64];

	(void)state;
	assert_int_equal(
	    cs_ca_lint(ctx, junk, sizeof(junk), NULL, 0, 0, f, sizeof(f)),
	    CS_ERR_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_lint_clean_leaf_passes),
		cmocka_unit_test(test_ca_lint_serial),
		cmocka_unit_test(test_ca_lint_key_usage),
		cmocka_unit_test(test_ca_lint_policy),
		cmocka_unit_test(test_ca_lint_structure),
		cmocka_unit_test(test_ca_lint_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
