/*
 * Unit tests for ca/assurance.c and ca/issue.c: the assurance level the
 * evidence entitles to, and each forged-evidence case refused with its own
 * reason. Evidence is minted by tests/data/ca/mint.sh under a private
 * "manufacturer" root the test CA trusts.
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
#include <openssl/core_names.h>

#include "test_ca_util.h"

#include "banned.h"

struct fx {
	struct tca t;
	struct cs_ca_profile *auth, *sw, *enr;
	uint8_t *csr;
	size_t csr_len;
};

static int
setup(void **state)
{
	static struct fx f;
	static const char enrolled[] =
	    "[cardsmith]\nlevel = hardware-enrolled\nslots = 9a\n"
	    "[extensions]\nbasicConstraints = critical,CA:FALSE\n"
	    "keyUsage = critical,digitalSignature\n";

	memset(&f, 0, sizeof(f));
	if (tca_setup(&f.t, true, 0) != 0)
		return -1;
	f.auth = tca_profile(&f.t, "piv-auth");
	f.sw = tca_profile(&f.t, "software");
	if (f.auth == NULL || f.sw == NULL ||
	    cs_ca_profile_parse(f.t.ctx, "enrolled", (const uint8_t *)enrolled,
	        sizeof(enrolled) - 1, &f.enr) != CS_OK)
		return -1;
	f.csr = tca_mint_file(&f.t, "leaf.csr.pem", &f.csr_len);
	*state = &f;
	return f.csr != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cs_ca_profile_free(f->auth);
	cs_ca_profile_free(f->sw);
	cs_ca_profile_free(f->enr);
	free(f->csr);
	tca_teardown(&f->t);
	return 0;
}

/* Assess csr (mint file) with statement/F9 (mint files, may be NULL). */
static enum cs_err
assess(struct fx *f, const struct cs_ca_profile *p, const char *csrname,
    const char *stmt, const char *f9, const char *chain,
    struct cs_ca_decision *d)
{
	struct cs_ca_issue_req req;
	uint8_t *c, *s = NULL, *n = NULL, *ch = NULL;
	size_t cl, sl = 0, nl = 0, chl = 0;
	enum cs_err r;

	c = tca_mint_file(&f->t, csrname, &cl);
	assert_non_null(c);
	if (stmt != NULL)
		assert_non_null(s = tca_mint_file(&f->t, stmt, &sl));
	if (f9 != NULL)
		assert_non_null(n = tca_mint_file(&f->t, f9, &nl));
	if (chain != NULL)
		assert_non_null(ch = tca_mint_file(&f->t, chain, &chl));
	tca_req_init(&req, p, c, cl);
	req.stmt = s;
	req.stmt_len = sl;
	req.f9 = n;
	req.f9_len = nl;
	req.intermediates = ch;
	req.intermediates_len = chl;
	r = cs_ca_assess(f->t.ca, &req, d);
	free(c);
	free(s);
	free(n);
	free(ch);
	return r;
}

static void
expect_refused(enum cs_err r, const struct cs_ca_decision *d, enum cs_err code,
    const char *reason)
{
	if (r != code || strstr(d->reason, reason) == NULL)
		fprintf(stderr, "# got %s: %s\n", cs_errname(r), d->reason);
	assert_int_equal(r, code);
	assert_non_null(strstr(d->reason, reason));
	assert_int_equal(d->level, CS_CA_LEVEL_NONE);
	assert_string_equal(d->policy_oid, "");
}

static void
test_ca_attested_key_is_hardware_attested(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	assert_int_equal(assess(f, f->auth, "leaf.csr.pem", "stmt-9a.pem",
	                     "f9.pem", NULL, &d),
	    CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(d.policy_oid,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED));
	assert_true(d.has_card_serial);
	assert_int_equal(d.card_serial, 12345678);
	assert_int_equal(d.slot, 0x9a);
	assert_int_equal(d.firmware[0], 5);
	assert_int_equal(d.firmware[1], 7);
	assert_int_equal(d.firmware[2], 4);
	assert_string_equal(d.warnings, "");
}

static void
test_ca_embedded_attestation_is_read_from_csr(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	assert_int_equal(
	    assess(f, f->auth, "csr-embedded.pem", NULL, NULL, NULL, &d),
	    CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
}

/* The CA trusts a manufacturer intermediate (mint file) from now on. */
static void
trust_mint(struct fx *f, const char *name)
{
	uint8_t *b;
	size_t n, added = 0;

	assert_non_null(b = tca_mint_file(&f->t, name, &n));
	assert_int_equal(cs_ca_trust_add(f->t.ca, b, n, &added), CS_OK);
	assert_int_equal(added, 1);
	free(b);
}

/*
 * An intermediate that comes with the request is never trusted (issue 12):
 * the F9 must be issued by a certificate of the CA's own trust store.
 */
static void
test_ca_intermediate_only_from_trust_store(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-mid.pem",
	                   "f9-mid.pem", "mid.pem", &d),
	    &d, CS_ERR_VERIFY, "is not a manufacturer CA in the trust store");
	assert_non_null(strstr(d.reason, "attestation chain ignored"));
	trust_mint(f, "mid.pem");
	assert_int_equal(assess(f, f->auth, "leaf.csr.pem", "stmt-mid.pem",
	                     "f9-mid.pem", "mid.pem", &d),
	    CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(d.warnings, "");
	/* Sending it along is no longer needed once it is trusted. */
	assert_int_equal(assess(f, f->auth, "leaf.csr.pem", "stmt-mid.pem",
	                     "f9-mid.pem", NULL, &d),
	    CS_OK);
}

static void
test_ca_no_attestation_is_software(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;
	enum cs_err r;

	r = assess(f, f->auth, "leaf.csr.pem", NULL, NULL, NULL, &d);
	expect_refused(r, &d, CS_ERR_POLICY, "requires hardware-attested");
	assert_int_equal(d.proven, CS_CA_LEVEL_SOFTWARE);
	assert_int_equal(assess(f, f->sw, "leaf.csr.pem", NULL, NULL, NULL, &d),
	    CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_SOFTWARE);
	assert_string_equal(d.policy_oid,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_SOFTWARE));
}

static void
test_ca_software_profile_caps_attested_key(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	assert_int_equal(
	    assess(f, f->sw, "leaf.csr.pem", "stmt-9a.pem", "f9.pem", NULL, &d),
	    CS_OK);
	assert_int_equal(d.proven, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(d.level, CS_CA_LEVEL_SOFTWARE);
	assert_string_equal(d.policy_oid,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_SOFTWARE));
}

static void
test_ca_forged_untrusted_root(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-untrusted.pem",
	                   "f9-untrusted.pem", NULL, &d),
	    &d, CS_ERR_VERIFY, "no trusted manufacturer root");
}

static void
test_ca_forged_other_key(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-other.pem",
	                   "f9.pem", NULL, &d),
	    &d, CS_ERR_VERIFY, "attestation is for a different key");
}

static void
test_ca_forged_other_slot(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-9c.pem",
	                   "f9.pem", NULL, &d),
	    &d, CS_ERR_POLICY,
	    "attested slot 9c is not allowed by profile piv-auth");
}

static void
test_ca_forged_expired_intermediate(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	/* Sent along only: not trusted at all. */
	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-midexp.pem",
	                   "f9-midexp.pem", "mid-expired.pem", &d),
	    &d, CS_ERR_VERIFY, "is not a manufacturer CA in the trust store");
	/* Trusted by the CA: refused for its validity. */
	trust_mint(f, "mid-expired.pem");
	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-midexp.pem",
	                   "f9-midexp.pem", NULL, &d),
	    &d, CS_ERR_VERIFY, "certificate has expired");
}

static void
test_ca_forged_serial_mismatch(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-serial.pem",
	                   "f9-serial.pem", NULL, &d),
	    &d, CS_ERR_VERIFY,
	    "card serial mismatch: the statement says 12345678, the F9 "
	    "certificate 99999");
}

static void
test_ca_forged_pin_policy_below_minimum(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-pinnever.pem",
	                   "f9.pem", NULL, &d),
	    &d, CS_ERR_POLICY,
	    "attested PIN policy 'never' is below the profile piv-auth "
	    "minimum 'once'");
}

static void
test_ca_forged_tampered_signature(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "leaf.csr.pem", "stmt-badsig.der",
	                   "f9.pem", NULL, &d),
	    &d, CS_ERR_VERIFY, "statement signature does not verify");
}

static void
test_ca_forged_csr_signature(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	assert_int_equal(assess(f, f->auth, "leaf-badsig.csr.der",
	                     "stmt-9a.pem", "f9.pem", NULL, &d),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(d.reason, "CSR signature invalid"));
}

static void
test_ca_expected_card_serial(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_req req;
	struct cs_ca_decision d;
	uint8_t *s, *n;
	size_t sl, nl;

	s = tca_mint_file(&f->t, "stmt-9a.pem", &sl);
	n = tca_mint_file(&f->t, "f9.pem", &nl);
	tca_req_init(&req, f->auth, f->csr, f->csr_len);
	req.stmt = s;
	req.stmt_len = sl;
	req.f9 = n;
	req.f9_len = nl;
	req.expected_card_serial = 87654321;
	expect_refused(cs_ca_assess(f->t.ca, &req, &d), &d, CS_ERR_VERIFY,
	    "expected 87654321");
	req.expected_card_serial = 12345678;
	req.slot = 0x9c;
	expect_refused(cs_ca_assess(f->t.ca, &req, &d), &d, CS_ERR_POLICY,
	    "attested slot 9a differs from the requested slot 9c");
	free(s);
	free(n);
}

static void
test_ca_roca_firmware_denied(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	expect_refused(assess(f, f->auth, "rsa.csr.pem", "stmt-rsa434.pem",
	                   "f9.pem", NULL, &d),
	    &d, CS_ERR_POLICY, "firmware 4.3.4 generates ROCA-weak RSA keys");
}

static void
test_ca_ysa_2024_03_warns(void **state)
{
	struct fx *f = *state;
	struct cs_ca_decision d;

	assert_int_equal(assess(f, f->auth, "leaf.csr.pem", "stmt-543.pem",
	                     "f9.pem", NULL, &d),
	    CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_non_null(strstr(d.warnings, "YSA-2024-03"));
}

static void
test_ca_enrolled_flag_only_in_process(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_req req;
	struct cs_ca_decision d;
	EVP_PKEY *k = NULL, *other = NULL;
	unsigned char *spki = NULL, *ospki = NULL;
	char *csr;
	size_t len;
	int n, on;

	csr = tca_software_csr("Enrolled", false, &k, &len);
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	n = i2d_PUBKEY(k, &spki);
	on = i2d_PUBKEY(other, &ospki);
	assert_true(n > 0 && on > 0);
	/* Without the flag the same CSR is software. */
	tca_req_init(&req, f->enr, csr, len);
	req.slot = 0x9a;
	expect_refused(cs_ca_assess(f->t.ca, &req, &d), &d, CS_ERR_POLICY,
	    "requires hardware-enrolled");
	req.flags = CS_CA_ISSUE_ENROLLED;
	req.enrolled_spki = spki;
	req.enrolled_spki_len = (size_t)n;
	assert_int_equal(cs_ca_assess(f->t.ca, &req, &d), CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ENROLLED);
	/* The generated key must be the CSR's key. */
	req.enrolled_spki = ospki;
	req.enrolled_spki_len = (size_t)on;
	expect_refused(cs_ca_assess(f->t.ca, &req, &d), &d, CS_ERR_VERIFY,
	    "differs from the CSR's key");
	/* hardware-enrolled never satisfies a hardware-attested profile. */
	req.profile = f->auth;
	req.enrolled_spki = spki;
	req.enrolled_spki_len = (size_t)n;
	expect_refused(cs_ca_assess(f->t.ca, &req, &d), &d, CS_ERR_POLICY,
	    "requires hardware-attested");
	OPENSSL_free(spki);
	OPENSSL_free(ospki);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	free(csr);
}

static void
test_ca_issue_stores_before_return(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	struct cs_ca_cert_info in;
	uint8_t *s, *n, *der = NULL;
	size_t sl, nl, derlen = 0;
	const unsigned char *p;
	X509 *x;

	s = tca_mint_file(&f->t, "stmt-9a.pem", &sl);
	n = tca_mint_file(&f->t, "f9.pem", &nl);
	tca_req_init(&req, f->auth, f->csr, f->csr_len);
	req.stmt = s;
	req.stmt_len = sl;
	req.f9 = n;
	req.f9_len = nl;
	assert_int_equal(cs_ca_issue(f->t.ca, &req, &res), CS_OK);
	assert_non_null(res.der);
	assert_int_equal(cs_ca_show(f->t.ca, res.serial, &in, &der, &derlen),
	    CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_ISSUED);
	assert_int_equal(in.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_true(in.has_card_serial);
	assert_int_equal(in.card_serial, 12345678);
	assert_string_equal(in.firmware, "5.7.4");
	assert_int_equal(derlen, res.der_len);
	assert_memory_equal(der, res.der, derlen);
	/* The leaf's only policy is the level OID; SAN carries the serial. */
	p = res.der;
	assert_non_null(x = d2i_X509(NULL, &p, (long)res.der_len));
	{
		CERTIFICATEPOLICIES *cp =
		    X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
		char oid[128];

		assert_non_null(cp);
		assert_int_equal(sk_POLICYINFO_num(cp), 1);
		OBJ_obj2txt(oid, sizeof(oid),
		    sk_POLICYINFO_value(cp, 0)->policyid, 1);
		assert_string_equal(oid,
		    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED));
		CERTIFICATEPOLICIES_free(cp);
	}
	assert_true(X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0);
	X509_free(x);
	assert_int_equal(cs_ca_mark_delivered(f->t.ca, res.serial), CS_OK);
	assert_int_equal(cs_ca_show(f->t.ca, res.serial, &in, NULL, NULL),
	    CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_DELIVERED);
	cs_free(der);
	cs_ca_issue_res_release(&res);
	free(s);
	free(n);
}

static int
count_row(void *arg, const struct cs_ca_cert_info *in)
{
	(void)in;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_ca_refused_issue_reserves_nothing(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	size_t before = 0, after = 0;

	assert_int_equal(cs_ca_list(f->t.ca, NULL, count_row, &before), CS_OK);
	tca_req_init(&req, f->auth, f->csr, f->csr_len);
	assert_int_equal(cs_ca_issue(f->t.ca, &req, &res), CS_ERR_POLICY);
	assert_null(res.der);
	assert_string_equal(res.serial, "");
	assert_non_null(strstr(res.decision.reason, "requires"));
	assert_int_equal(cs_ca_list(f->t.ca, NULL, count_row, &after), CS_OK);
	assert_int_equal(before, after);
}

/* --- ROCA fingerprint --- */

static const unsigned int small_primes[] = {
	3,
	5,
	7,
	11,
	13,
	17,
	19,
	23,
	29,
	31,
	37,
	41,
	43,
	47,
	53,
	59,
	61,
	67,
	71,
	73,
	79,
	83,
	89,
	97,
	101,
	103,
	107,
	109,
	113,
	127,
	131,
	137,
	139,
	149,
	151,
	157,
	163,
	167,
};

static void
test_ca_roca_fingerprint(void **state)
{
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *m = BN_new(), *g = BN_new(), *e = BN_new(), *r = BN_new();
	BIGNUM *n = BN_new(), *k = BN_new();
	EVP_PKEY *rsa;
	BIGNUM *mod = NULL;
	uint8_t buf[512];
	size_t i;
	int len;

	(void)state;
	/* N = k*M + 65537^c mod M has the RSALib structure for every prime
	 * dividing M (Nemec et al. 2017); a random modulus has not. */
	BN_one(m);
	for (i = 0; i < sizeof(small_primes) / sizeof(*small_primes); i++)
		BN_mul_word(m, small_primes[i]);
	BN_set_word(g, 65537);
	BN_set_word(e, 1234567);
	BN_mod_exp(r, g, e, m, bc);
	BN_rand(k, 1800, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
	BN_mul(n, k, m, bc);
	BN_add(n, n, r);
	len = BN_bn2bin(n, buf);
	assert_true(cs_ca_roca_is_weak(buf, (size_t)len));
	buf[len - 1] ^= 0x02; /* one residue off */
	assert_false(cs_ca_roca_is_weak(buf, (size_t)len));
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(rsa);
	assert_true(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &mod));
	len = BN_bn2bin(mod, buf);
	assert_false(cs_ca_roca_is_weak(buf, (size_t)len));
	assert_false(cs_ca_roca_is_weak(NULL, 0));
	BN_free(mod);
	EVP_PKEY_free(rsa);
	BN_free(m);
	BN_free(g);
	BN_free(e);
	BN_free(r);
	BN_free(n);
	BN_free(k);
	BN_CTX_free(bc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_attested_key_is_hardware_attested),
		cmocka_unit_test(test_ca_embedded_attestation_is_read_from_csr),
		cmocka_unit_test(test_ca_intermediate_only_from_trust_store),
		cmocka_unit_test(test_ca_no_attestation_is_software),
		cmocka_unit_test(test_ca_software_profile_caps_attested_key),
		cmocka_unit_test(test_ca_forged_untrusted_root),
		cmocka_unit_test(test_ca_forged_other_key),
		cmocka_unit_test(test_ca_forged_other_slot),
		cmocka_unit_test(test_ca_forged_expired_intermediate),
		cmocka_unit_test(test_ca_forged_serial_mismatch),
		cmocka_unit_test(test_ca_forged_pin_policy_below_minimum),
		cmocka_unit_test(test_ca_forged_tampered_signature),
		cmocka_unit_test(test_ca_forged_csr_signature),
		cmocka_unit_test(test_ca_expected_card_serial),
		cmocka_unit_test(test_ca_roca_firmware_denied),
		cmocka_unit_test(test_ca_ysa_2024_03_warns),
		cmocka_unit_test(test_ca_enrolled_flag_only_in_process),
		cmocka_unit_test(test_ca_issue_stores_before_return),
		cmocka_unit_test(test_ca_refused_issue_reserves_nothing),
		cmocka_unit_test(test_ca_roca_fingerprint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
