/*
 * Unit tests for ca/verify.c, the relying-party verifier: a hardware leaf
 * is accepted; software, anyPolicy, revoked, wrong-issuer, expired and
 * policy-less leaves are refused. Where OpenSSL's own explicit-policy
 * check is right the two agree; for an anyPolicy leaf a naive OpenSSL
 * required-policy check accepts and ours does not (RFC 5280 6.1.3 (d)
 * lets anyPolicy match any required policy).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/rand.h>
#include <openssl/x509_vfy.h>

#include "test_ca_util.h"

#include "banned.h"

struct fx {
	struct tca t, other;
	char *chain, *other_chain;
	size_t chain_len, other_chain_len;
	uint8_t *hw, *sw, *revoked;
	size_t hw_len, sw_len, revoked_len;
	char *crl;
	size_t crl_len;
};

static uint8_t *
issue(struct tca *t, const char *profile, bool attested, size_t *len,
    char *serial)
{
	struct cs_ca_profile *p = tca_profile(t, profile);
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	uint8_t *csr, *s = NULL, *n = NULL, *der = NULL;
	size_t cl, sl = 0, nl = 0;

	csr = tca_mint_file(t, "leaf.csr.pem", &cl);
	if (p == NULL || csr == NULL)
		return NULL;
	tca_req_init(&req, p, csr, cl);
	if (attested) {
		s = tca_mint_file(t, "stmt-9a.pem", &sl);
		n = tca_mint_file(t, "f9.pem", &nl);
		req.stmt = s;
		req.stmt_len = sl;
		req.f9 = n;
		req.f9_len = nl;
	}
	if (cs_ca_issue(t->ca, &req, &res) == CS_OK) {
		der = res.der;
		*len = res.der_len;
		res.der = NULL;
		if (serial != NULL)
			snprintf(serial, CS_CA_SERIAL_MAX, "%s", res.serial);
	} else
		fprintf(stderr, "# issue: %s\n", cs_ctx_errmsg(t->ctx));
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(csr);
	free(s);
	free(n);
	return der;
}

static int
setup(void **state)
{
	static struct fx f;
	char serial[CS_CA_SERIAL_MAX];
	size_t n;

	memset(&f, 0, sizeof(f));
	if (tca_setup(&f.t, true, 0) != 0 || tca_setup(&f.other, true, 0) != 0)
		return -1;
	f.hw = issue(&f.t, "piv-auth", true, &f.hw_len, NULL);
	f.sw = issue(&f.t, "software", false, &f.sw_len, NULL);
	f.revoked = issue(&f.t, "piv-auth", true, &f.revoked_len, serial);
	if (f.hw == NULL || f.sw == NULL || f.revoked == NULL ||
	    cs_ca_revoke(f.t.ca, serial, 0, 1, 0, &n) != CS_OK ||
	    cs_ca_crl(f.t.ca, 7, &f.crl, &f.crl_len) != CS_OK ||
	    cs_ca_chain(f.t.ca, &f.chain, &f.chain_len) != CS_OK ||
	    cs_ca_chain(f.other.ca, &f.other_chain, &f.other_chain_len) !=
	        CS_OK)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->hw);
	free(f->sw);
	free(f->revoked);
	cs_free(f->crl);
	cs_free(f->chain);
	cs_free(f->other_chain);
	tca_teardown(&f->t);
	tca_teardown(&f->other);
	return 0;
}

static struct cs_verifier *
verifier(struct fx *f, bool crl)
{
	struct cs_verifier *v = NULL;

	assert_int_equal(cs_verify_new(f->t.ctx, &v), CS_OK);
	assert_int_equal(
	    cs_verify_add_chain(v, (const uint8_t *)f->chain, f->chain_len),
	    CS_OK);
	if (crl)
		assert_int_equal(
		    cs_verify_add_crl(v, (const uint8_t *)f->crl, f->crl_len),
		    CS_OK);
	return v;
}

/*
 * A leaf signed by the fixture's issuing CA with the given policies
 * (comma-separated OIDs, "" for none), valid from now - 1h for days.
 */
static uint8_t *
forge(struct fx *f, const char *policies, size_t *len)
{
	EVP_PKEY *ik = tca_ca_key(&f->t, "issuing.key.pem");
	X509 *ic = tca_ca_cert(&f->t, "issuing.crt.pem");
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
	X509 *x = X509_new();
	X509_EXTENSION *e;
	X509V3_CTX v3;
	X509_NAME *n = X509_NAME_new();
	char buf[512], *it, *save = NULL;
	unsigned char sb[16];
	BIGNUM *bn;
	uint8_t *der;

	assert_non_null(ik);
	assert_non_null(ic);
	X509_set_version(x, 2);
	RAND_bytes(sb, sizeof(sb));
	sb[0] = (unsigned char)((sb[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(sb, sizeof(sb), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Forged", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, X509_get_subject_name(ic));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, ic, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier,
	    "keyid:always");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	snprintf(buf, sizeof(buf), "%s", policies);
	for (it = strtok_r(buf, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		POLICYINFO *pi = POLICYINFO_new();

		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(it, 1);
		sk_POLICYINFO_push(cp, pi);
	}
	if (sk_POLICYINFO_num(cp) > 0)
		X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, 0);
	assert_true(X509_sign(x, ik, EVP_sha256()) > 0);
	der = tca_der(x, len);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	X509_NAME_free(n);
	X509_free(x);
	X509_free(ic);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ik);
	return der;
}

/* OpenSSL's own check: `openssl verify -policy OID -explicit_policy
 * -policy_check` with root trusted and the issuing CA untrusted. */
static bool
openssl_accepts(struct fx *f, const uint8_t *der, size_t len, const char *oid)
{
	X509 *root = tca_ca_cert(&f->t, "root.crt.pem");
	X509 *ic = tca_ca_cert(&f->t, "issuing.crt.pem");
	const unsigned char *p = der;
	X509 *leaf = d2i_X509(NULL, &p, (long)len);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	STACK_OF(X509) *un = sk_X509_new_null();
	X509_VERIFY_PARAM *pm;
	int ok;

	assert_non_null(leaf);
	X509_STORE_add_cert(st, root);
	sk_X509_push(un, ic);
	X509_STORE_CTX_init(sc, st, leaf, un);
	pm = X509_STORE_CTX_get0_param(sc);
	X509_VERIFY_PARAM_add0_policy(pm, OBJ_txt2obj(oid, 1));
	X509_VERIFY_PARAM_set_flags(pm,
	    X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK);
	ok = X509_verify_cert(sc) == 1;
	X509_STORE_CTX_free(sc);
	X509_STORE_free(st);
	sk_X509_pop_free(un, X509_free);
	X509_free(root);
	X509_free(leaf);
	return ok;
}

static void
test_ca_verify_hardware_leaf_accepted(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, true);
	struct cs_verify_result res;

	assert_int_equal(cs_verify_cert(v, f->hw, f->hw_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_OK);
	assert_true(res.accepted);
	assert_int_equal(res.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(res.policy_oid,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED));
	/* A higher level satisfies a lower requirement. */
	assert_int_equal(
	    cs_verify_cert(v, f->hw, f->hw_len, CS_CA_LEVEL_SOFTWARE, 0, &res),
	    CS_OK);
	assert_true(openssl_accepts(f, f->hw, f->hw_len,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED)));
	cs_verify_free(v);
}

static void
test_ca_verify_software_leaf_refused(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, true);
	struct cs_verify_result res;

	assert_int_equal(cs_verify_cert(v, f->sw, f->sw_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_false(res.accepted);
	assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
	assert_non_null(strstr(res.reason, "hardware-attested required"));
	/* OpenSSL agrees: the leaf does not carry the hardware OID. */
	assert_false(openssl_accepts(f, f->sw, f->sw_len,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED)));
	/* It is a fine software certificate. */
	assert_int_equal(
	    cs_verify_cert(v, f->sw, f->sw_len, CS_CA_LEVEL_SOFTWARE, 0, &res),
	    CS_OK);
	cs_verify_free(v);
}

static void
test_ca_verify_anypolicy_leaf_refused_naive_openssl_accepts(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, false);
	struct cs_verify_result res;
	const char *hw = cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED);
	uint8_t *der;
	size_t len;

	der = forge(f, "2.5.29.32.0", &len);
	/* The pitfall: OpenSSL's required-policy check lets it through. */
	assert_true(openssl_accepts(f, der, len, hw));
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "anyPolicy"));
	assert_int_equal(cs_verify_set_policy(v, hw), CS_OK);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_POLICY);
	assert_int_equal(cs_verify_set_policy(v, "2.5.29.32.0"), CS_ERR_ARG);
	free(der);
	cs_verify_free(v);
}

static void
test_ca_verify_no_policy_leaf_refused(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, false);
	struct cs_verify_result res;
	uint8_t *der;
	size_t len;

	der = forge(f, "", &len);
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_false(openssl_accepts(f, der, len,
	    cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED)));
	/* Chain only: fine, level none. */
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_NONE);
	free(der);
	cs_verify_free(v);
}

static void
test_ca_verify_revoked_refused(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, true), *nocrl = verifier(f, false);
	struct cs_verify_result res;

	assert_int_equal(cs_verify_cert(v, f->revoked, f->revoked_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "revoked"));
	assert_int_equal(cs_verify_cert(nocrl, f->revoked, f->revoked_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_OK);
	cs_verify_free(v);
	cs_verify_free(nocrl);
}

static void
test_ca_verify_wrong_issuer_refused(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = NULL;
	struct cs_verify_result res;

	assert_int_equal(cs_verify_new(f->t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (const uint8_t *)f->other_chain,
	                     f->other_chain_len),
	    CS_OK);
	/* Same subject names, other keys: the signature cannot verify. */
	assert_int_equal(cs_verify_cert(v, f->hw, f->hw_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "chain:"));
	cs_verify_free(v);
}

static void
test_ca_verify_expired_refused(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, false);
	struct cs_verify_result res;
	int64_t later = (int64_t)time(NULL) + 3LL * 365 * 86400;

	assert_int_equal(cs_verify_cert(v, f->hw, f->hw_len,
	                     CS_CA_LEVEL_HW_ATTESTED, later, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "expired"));
	cs_verify_free(v);
}

static void
test_ca_verify_explicit_policy_oid(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, false);
	struct cs_verify_result res;

	assert_int_equal(cs_verify_set_policy(v,
	                     cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED)),
	    CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, f->hw, f->hw_len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, f->sw, f->sw_len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_POLICY);
	assert_int_equal(cs_verify_set_policy(v, "1.2.3.4"), CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, f->hw, f->hw_len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_POLICY);
	cs_verify_free(v);
}

static void
test_ca_verify_garbage_input(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f, false);
	struct cs_verify_result res;
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	assert_int_equal(cs_verify_cert(v, junk, sizeof(junk),
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_MALFORMED);
	assert_false(res.accepted);
	assert_int_equal(cs_verify_add_crl(v, junk, sizeof(junk)),
	    CS_ERR_MALFORMED);
	cs_verify_free(v);
}

static void
test_ca_verify_hardware_ca_split(void **state)
{
	struct tca h;
	struct cs_verifier *v = NULL;
	struct cs_verify_result res;
	uint8_t *hw, *sw;
	size_t hl = 0, sl = 0, cl = 0;
	char *chain = NULL;

	(void)state;
	assert_int_equal(tca_setup(&h, true, CS_CA_INIT_HARDWARE_CA), 0);
	hw = issue(&h, "piv-auth", true, &hl, NULL);
	sw = issue(&h, "software", false, &sl, NULL);
	assert_non_null(hw);
	assert_non_null(sw);
	assert_int_equal(cs_ca_chain(h.ca, &chain, &cl), CS_OK);
	assert_int_equal(cs_verify_new(h.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)chain, cl), CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, hw, hl, CS_CA_LEVEL_HW_ATTESTED, 0, &res), CS_OK);
	assert_string_equal(res.issuer, "CN=cardsmith Hardware Issuing CA");
	assert_int_equal(
	    cs_verify_cert(v, sw, sl, CS_CA_LEVEL_SOFTWARE, 0, &res), CS_OK);
	assert_string_equal(res.issuer, "CN=cardsmith Issuing CA");
	assert_int_equal(
	    cs_verify_cert(v, sw, sl, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	cs_verify_free(v);
	cs_free(chain);
	free(hw);
	free(sw);
	tca_teardown(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_verify_hardware_leaf_accepted),
		cmocka_unit_test(test_ca_verify_software_leaf_refused),
		cmocka_unit_test(
		    test_ca_verify_anypolicy_leaf_refused_naive_openssl_accepts),
		cmocka_unit_test(test_ca_verify_no_policy_leaf_refused),
		cmocka_unit_test(test_ca_verify_revoked_refused),
		cmocka_unit_test(test_ca_verify_wrong_issuer_refused),
		cmocka_unit_test(test_ca_verify_expired_refused),
		cmocka_unit_test(test_ca_verify_explicit_policy_oid),
		cmocka_unit_test(test_ca_verify_garbage_input),
		cmocka_unit_test(test_ca_verify_hardware_ca_split),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
