/*
 * Unit tests for sub-levels of hardware-attested (ca/sublevel.c and their
 * use in ca/assurance.c, ca/ca.c, ca/verify.c): the attested PIN/touch
 * policy picks the most specific sub-level a profile may grant, the leaf
 * carries only its OID, the CA certificates assert it, the registry
 * records it, and the verifier maps it back to hardware-attested.
 *
 * Evidence: tests/data/ca/mint.sh mints the manufacturer root, F9 and the
 * PIN-once statement; the statements with other policies are signed here
 * with the minted F9 key, the same way (.3.8 = PIN policy, touch policy).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_ca_util.h"

#include "banned.h"

#define Y "1.3.6.1.4.1.41482.3"
#define SUB_BOTH "pin-always-touch-always"
#define SUB_PIN "pin-always"

struct fx {
	struct tca t; /* mint + a CA without sub-levels */
	struct cs_ca *ca; /* a CA with sub-levels */
	char dir[600];
	struct cs_ca_profile *prof; /* grants both sub-levels */
	uint8_t *csr, *f9, *st_both, *st_pin, *st_once;
	size_t csr_len, f9_len, st_both_len, st_pin_len, st_once_len;
	uint8_t *leaf_both, *leaf_pin, *leaf_once; /* issued, DER */
	size_t leaf_both_len, leaf_pin_len, leaf_once_len;
	char *chain;
	size_t chain_len;
};

static const char profile_text[] =
    "[cardsmith]\nlevel = hardware-attested\nslots = 9a\n"
    "sublevels = " SUB_BOTH ", " SUB_PIN "\nsubject = CN=%{cn}\n"
    "[extensions]\nbasicConstraints = critical,CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = clientAuth\n";

static X509 *
load_pem_cert(const struct tca *t, const char *name)
{
	char p[1024];
	X509 *x;
	FILE *f;

	tca_path(p, sizeof(p), t->mint, name);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *
load_key(const struct tca *t, const char *name)
{
	char p[1024];
	EVP_PKEY *k;
	FILE *f;

	tca_path(p, sizeof(p), t->mint, name);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int
add_raw_ext(X509 *x, const char *oid, const uint8_t *v, int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok;

	ok = o != NULL && os != NULL && ASN1_OCTET_STRING_set(os, v, len) &&
	    (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) != NULL &&
	    X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return ok;
}

/* A slot 9a statement for the leaf key with PIN/touch policy, PEM. */
static uint8_t *
mint_stmt(const struct tca *t, uint8_t pin, uint8_t touch, size_t *len)
{
	static const uint8_t fw[] = { 5, 7, 4 };
	static const uint8_t serial[] = { 0x02, 0x04, 0x00, 0xbc, 0x61, 0x4e };
	const uint8_t pol[] = { pin, touch };
	X509 *f9 = load_pem_cert(t, "f9.pem"), *x = X509_new();
	EVP_PKEY *f9k = load_key(t, "f9.key"), *leaf = load_key(t, "leaf.key");
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	uint8_t *out;

	if (f9 == NULL || x == NULL || f9k == NULL || leaf == NULL ||
	    n == NULL || b == NULL)
		abort();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"YubiKey PIV Attestation 9a", -1, -1, 0);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 4242) ||
	    !X509_set_subject_name(x, n) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(f9)) ||
	    !ASN1_TIME_set_string(X509_getm_notBefore(x), "20160101000000Z") ||
	    !ASN1_TIME_set_string(X509_getm_notAfter(x), "20500101000000Z") ||
	    !X509_set_pubkey(x, leaf) ||
	    !add_raw_ext(x, Y ".3", fw, sizeof(fw)) ||
	    !add_raw_ext(x, Y ".7", serial, sizeof(serial)) ||
	    !add_raw_ext(x, Y ".8", pol, sizeof(pol)) ||
	    X509_sign(x, f9k, EVP_sha256()) <= 0 || !PEM_write_bio_X509(b, x))
		abort();
	BIO_get_mem_ptr(b, &m);
	out = malloc(m->length);
	memcpy(out, m->data, m->length);
	*len = m->length;
	BIO_free(b);
	X509_NAME_free(n);
	X509_free(x);
	X509_free(f9);
	EVP_PKEY_free(f9k);
	EVP_PKEY_free(leaf);
	return out;
}

static enum cs_err
ca_with(struct fx *f, const char *name, const char *const *subs,
    struct cs_ca **out)
{
	struct cs_ca_init_opts o;
	char roots[1024], prof[1024], dir[600];

	memset(&o, 0, sizeof(o));
	tca_path(roots, sizeof(roots), f->t.mint, "root.pem");
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	tca_path(dir, sizeof(dir), f->t.tmp, name);
	o.roots_path = roots;
	o.profiles_dir = prof;
	o.sublevels = subs;
	return cs_ca_init(f->t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS), out);
}

static enum cs_err
issue(struct fx *f, const struct cs_ca_profile *p, const uint8_t *stmt,
    size_t stmt_len, struct cs_ca_issue_res *res, unsigned int flags)
{
	struct cs_ca_issue_req req;

	tca_req_init(&req, p, f->csr, f->csr_len);
	req.stmt = stmt;
	req.stmt_len = stmt_len;
	req.f9 = f->f9;
	req.f9_len = f->f9_len;
	req.flags = flags;
	return cs_ca_issue(f->ca, &req, res);
}

static uint8_t *
issue_der(struct fx *f, const uint8_t *stmt, size_t stmt_len, size_t *len)
{
	struct cs_ca_issue_res res;
	uint8_t *der;

	if (issue(f, f->prof, stmt, stmt_len, &res, 0) != CS_OK) {
		fprintf(stderr, "# issue: %s\n", res.decision.reason);
		return NULL;
	}
	der = res.der;
	*len = res.der_len;
	res.der = NULL;
	cs_ca_issue_res_release(&res);
	return der;
}

static int
setup(void **state)
{
	static struct fx f;
	static const char *const subs[] = {
		SUB_BOTH "=pin:always,touch:always",
		SUB_PIN "=pin:always",
		NULL,
	};

	memset(&f, 0, sizeof(f));
	if (tca_setup(&f.t, true, 0) != 0)
		return -1;
	tca_path(f.dir, sizeof(f.dir), f.t.tmp, "subca");
	if (ca_with(&f, "subca", subs, &f.ca) != CS_OK ||
	    cs_ca_unlock(f.ca, TCA_PASS, strlen(TCA_PASS)) != CS_OK ||
	    cs_ca_profile_parse(f.t.ctx, "sub", (const uint8_t *)profile_text,
	        sizeof(profile_text) - 1, &f.prof) != CS_OK) {
		fprintf(stderr, "# setup: %s\n", cs_ctx_errmsg(f.t.ctx));
		return -1;
	}
	f.csr = tca_mint_file(&f.t, "leaf.csr.pem", &f.csr_len);
	f.f9 = tca_mint_file(&f.t, "f9.pem", &f.f9_len);
	f.st_once = tca_mint_file(&f.t, "stmt-9a.pem", &f.st_once_len);
	if (f.csr == NULL || f.f9 == NULL || f.st_once == NULL)
		return -1;
	f.st_both = mint_stmt(&f.t, 3, 2, &f.st_both_len);
	f.st_pin = mint_stmt(&f.t, 3, 1, &f.st_pin_len);
	f.leaf_both = issue_der(&f, f.st_both, f.st_both_len, &f.leaf_both_len);
	f.leaf_pin = issue_der(&f, f.st_pin, f.st_pin_len, &f.leaf_pin_len);
	f.leaf_once = issue_der(&f, f.st_once, f.st_once_len, &f.leaf_once_len);
	if (f.leaf_both == NULL || f.leaf_pin == NULL || f.leaf_once == NULL ||
	    cs_ca_chain(f.ca, &f.chain, &f.chain_len) != CS_OK)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	cs_ca_profile_free(f->prof);
	cs_ca_close(f->ca);
	free(f->csr);
	free(f->f9);
	free(f->st_both);
	free(f->st_pin);
	free(f->st_once);
	free(f->leaf_both);
	free(f->leaf_pin);
	free(f->leaf_once);
	cs_free(f->chain);
	tca_teardown(&f->t);
	return 0;
}

static const char *
sub_oid(const struct cs_ca *ca, const char *name)
{
	const struct cs_ca_sublevel *s;
	size_t i;

	for (i = 0; (s = cs_ca_sublevel_at(ca, i)) != NULL; i++)
		if (strcmp(s->name, name) == 0)
			return s->oid;
	return "";
}

/* The dotted policy OIDs of a DER certificate, comma joined. */
static void
leaf_policies(const uint8_t *der, size_t len, char *dst, size_t cap)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	CERTIFICATEPOLICIES *cp;
	char buf[128];
	size_t n;
	int i;

	dst[0] = '\0';
	assert_non_null(x);
	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	for (i = 0; cp != NULL && i < sk_POLICYINFO_num(cp); i++) {
		OBJ_obj2txt(buf, sizeof(buf),
		    sk_POLICYINFO_value(cp, i)->policyid, 1);
		n = strlen(dst);
		snprintf(dst + n, cap - n, "%s%s", n ? "," : "", buf);
	}
	CERTIFICATEPOLICIES_free(cp);
	X509_free(x);
}

static void
test_ca_sublevel_oids_default_under_attested_arc(void **state)
{
	struct fx *f = *state;
	const struct cs_ca_sublevel *s;
	char want[CS_CA_OID_MAX];

	s = cs_ca_sublevel_at(f->ca, 0);
	assert_non_null(s);
	assert_string_equal(s->name, SUB_BOTH);
	snprintf(want, sizeof(want), "%s.1.1.1", cs_ca_arc(f->ca));
	assert_string_equal(s->oid, want);
	assert_int_equal(s->parent, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(s->min_pin_policy, 3);
	assert_int_equal(s->min_touch_policy, 2);
	s = cs_ca_sublevel_at(f->ca, 1);
	assert_non_null(s);
	snprintf(want, sizeof(want), "%s.1.1.2", cs_ca_arc(f->ca));
	assert_string_equal(s->oid, want);
	assert_int_equal(s->min_touch_policy, 0);
	assert_null(cs_ca_sublevel_at(f->ca, 2));
}

static void
test_ca_sublevel_pin_always_touch_always(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_res res;
	struct cs_ca_cert_info in;
	char pols[512];

	assert_int_equal(issue(f, f->prof, f->st_both, f->st_both_len, &res, 0),
	    CS_OK);
	assert_int_equal(res.decision.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(res.decision.sublevel, SUB_BOTH);
	assert_string_equal(res.decision.policy_oid, sub_oid(f->ca, SUB_BOTH));
	/* The sub-level's OID is the leaf's only policy. */
	leaf_policies(res.der, res.der_len, pols, sizeof(pols));
	assert_string_equal(pols, sub_oid(f->ca, SUB_BOTH));
	/* The registry records the sub-level. */
	assert_int_equal(cs_ca_show(f->ca, res.serial, &in, NULL, NULL), CS_OK);
	assert_int_equal(in.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(in.sublevel, SUB_BOTH);
	cs_ca_issue_res_release(&res);
}

static void
test_ca_sublevel_most_specific_match(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_res res;

	/* PIN always, touch never: only the PIN sub-level matches. */
	assert_int_equal(issue(f, f->prof, f->st_pin, f->st_pin_len, &res,
	                     CS_CA_ISSUE_DRYRUN),
	    CS_OK);
	assert_string_equal(res.decision.sublevel, SUB_PIN);
	assert_string_equal(res.decision.policy_oid, sub_oid(f->ca, SUB_PIN));
	cs_ca_issue_res_release(&res);
}

static void
test_ca_sublevel_pin_once_is_plain_attested(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_res res;
	struct cs_ca_cert_info in;
	char pols[512];

	assert_int_equal(issue(f, f->prof, f->st_once, f->st_once_len, &res, 0),
	    CS_OK);
	assert_int_equal(res.decision.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(res.decision.sublevel, "");
	assert_string_equal(res.decision.policy_oid,
	    cs_ca_level_oid(f->ca, CS_CA_LEVEL_HW_ATTESTED));
	leaf_policies(res.der, res.der_len, pols, sizeof(pols));
	assert_string_equal(pols,
	    cs_ca_level_oid(f->ca, CS_CA_LEVEL_HW_ATTESTED));
	assert_int_equal(cs_ca_show(f->ca, res.serial, &in, NULL, NULL), CS_OK);
	assert_string_equal(in.sublevel, "");
	cs_ca_issue_res_release(&res);
}

static void
test_ca_sublevel_needs_profile_opt_in(void **state)
{
	struct fx *f = *state;
	struct cs_ca_profile *auth = NULL;
	struct cs_ca_issue_res res;

	assert_int_equal(cs_ca_profile_load(f->ca, "piv-auth", &auth), CS_OK);
	assert_int_equal(issue(f, auth, f->st_both, f->st_both_len, &res,
	                     CS_CA_ISSUE_DRYRUN),
	    CS_OK);
	assert_string_equal(res.decision.sublevel, "");
	assert_string_equal(res.decision.policy_oid,
	    cs_ca_level_oid(f->ca, CS_CA_LEVEL_HW_ATTESTED));
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(auth);
}

static void
test_ca_sublevel_survives_reopen(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL;
	const struct cs_ca_sublevel *a, *b;
	size_t i;

	assert_int_equal(cs_ca_open(f->t.ctx, f->dir, &ca), CS_OK);
	for (i = 0; i < 3; i++) {
		a = cs_ca_sublevel_at(f->ca, i);
		b = cs_ca_sublevel_at(ca, i);
		if (a == NULL) {
			assert_null(b);
			break;
		}
		assert_non_null(b);
		assert_string_equal(a->name, b->name);
		assert_string_equal(a->oid, b->oid);
		assert_int_equal(a->min_pin_policy, b->min_pin_policy);
		assert_int_equal(a->min_touch_policy, b->min_touch_policy);
	}
	cs_ca_close(ca);
}

static void
test_ca_sublevel_unknown_to_ca_refused(void **state)
{
	struct fx *f = *state;
	struct cs_ca_issue_req req;
	struct cs_ca_decision d;

	/* The fixture's plain CA defines no sub-levels. */
	tca_req_init(&req, f->prof, f->csr, f->csr_len);
	req.stmt = f->st_both;
	req.stmt_len = f->st_both_len;
	req.f9 = f->f9;
	req.f9_len = f->f9_len;
	assert_int_equal(cs_ca_assess(f->t.ca, &req, &d), CS_ERR_POLICY);
	assert_non_null(strstr(d.reason, "not defined by this CA"));
}

static void
test_ca_sublevel_bad_definitions_refused(void **state)
{
	struct fx *f = *state;
	static const char *const noname[] = { "=pin:always", NULL };
	static const char *const level[] = { "hardware-attested=pin:always",
		NULL };
	static const char *const empty[] = { "x=pin:never", NULL };
	static const char *const badval[] = { "x=pin:sometimes", NULL };
	static const char *const dup[] = { "a=pin:always", "b=pin:always",
		NULL };
	static const char *const anyp[] = { "a=pin:always,oid:2.5.29.32.0",
		NULL };
	const char *const *bad[] = { noname, level, empty, badval, dup, anyp };
	struct cs_ca *ca = NULL;
	char name[32];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(name, sizeof(name), "bad%zu", i);
		assert_int_equal(ca_with(f, name, bad[i], &ca), CS_ERR_ARG);
		assert_null(ca);
	}
}

static void
test_ca_sublevel_profile_rules(void **state)
{
	struct fx *f = *state;
	static const char fixed[] =
	    "[cardsmith]\nlevel = hardware-attested\nsublevels = a\n"
	    "policy_oid = 1.2.3.4\n[extensions]\n"
	    "basicConstraints = critical,CA:FALSE\n";
	static const char capped[] =
	    "[cardsmith]\nlevel = software\nmax_level = software\n"
	    "sublevels = a\n[extensions]\n"
	    "basicConstraints = critical,CA:FALSE\n";
	struct cs_ca_profile *p = NULL;
	struct cs_ca_profile_info info;

	assert_int_equal(cs_ca_profile_parse(f->t.ctx, "fixed",
	                     (const uint8_t *)fixed, sizeof(fixed) - 1, &p),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_ca_profile_parse(f->t.ctx, "capped",
	                     (const uint8_t *)capped, sizeof(capped) - 1, &p),
	    CS_ERR_MALFORMED);
	assert_null(p);
	cs_ca_profile_get_info(f->prof, &info);
	assert_int_equal(info.nsublevels, 2);
	assert_string_equal(info.sublevels[0], SUB_BOTH);
	assert_string_equal(info.sublevels[1], SUB_PIN);
}

static struct cs_verifier *
verifier(struct fx *f)
{
	struct cs_verifier *v = NULL;

	assert_int_equal(cs_verify_new(f->t.ctx, &v), CS_OK);
	assert_int_equal(
	    cs_verify_add_chain(v, (const uint8_t *)f->chain, f->chain_len),
	    CS_OK);
	return v;
}

static void
test_ca_sublevel_verify_satisfies_parent(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f);
	struct cs_verify_result res;

	assert_int_equal(cs_verify_cert(v, f->leaf_both, f->leaf_both_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_OK);
	assert_true(res.accepted);
	assert_int_equal(res.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_string_equal(res.sublevel, SUB_BOTH);
	assert_string_equal(res.policy_oid, sub_oid(f->ca, SUB_BOTH));
	/* And everything below hardware-attested. */
	assert_int_equal(cs_verify_cert(v, f->leaf_pin, f->leaf_pin_len,
	                     CS_CA_LEVEL_HW_ENROLLED, 0, &res),
	    CS_OK);
	assert_string_equal(res.sublevel, SUB_PIN);
	/* Plain hardware-attested still passes, with no sub-level. */
	assert_int_equal(cs_verify_cert(v, f->leaf_once, f->leaf_once_len,
	                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_OK);
	assert_string_equal(res.sublevel, "");
	cs_verify_free(v);
}

static void
test_ca_sublevel_verify_requires_sublevel(void **state)
{
	struct fx *f = *state;
	struct cs_verifier *v = verifier(f);
	struct cs_verify_result res;

	assert_int_equal(cs_verify_require_sublevel(v, SUB_PIN), CS_OK);
	/* The sub-level itself and a stricter one pass. */
	assert_int_equal(cs_verify_cert(v, f->leaf_pin, f->leaf_pin_len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(cs_verify_cert(v, f->leaf_both, f->leaf_both_len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_string_equal(res.sublevel, SUB_BOTH);
	/* Plain hardware-attested does not. */
	assert_int_equal(cs_verify_cert(v, f->leaf_once, f->leaf_once_len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_POLICY);
	assert_false(res.accepted);
	assert_non_null(strstr(res.reason, "sub-level " SUB_PIN " required"));
	cs_verify_free(v);

	v = verifier(f);
	assert_int_equal(cs_verify_require_sublevel(v, SUB_BOTH), CS_OK);
	assert_int_equal(cs_verify_cert(v, f->leaf_both, f->leaf_both_len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	/* A weaker sub-level does not satisfy a stricter one. */
	assert_int_equal(cs_verify_cert(v, f->leaf_pin, f->leaf_pin_len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_POLICY);
	cs_verify_free(v);

	v = verifier(f);
	assert_int_equal(cs_verify_require_sublevel(v, "no-such"), CS_OK);
	assert_int_equal(cs_verify_cert(v, f->leaf_both, f->leaf_both_len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "defines no sub-level no-such"));
	assert_int_equal(cs_verify_require_sublevel(v, "Bad Name"), CS_ERR_ARG);
	cs_verify_free(v);
}

static void
test_ca_sublevel_ca_certs_assert_sublevel_oids(void **state)
{
	struct fx *f = *state;
	char p[1024];
	X509 *x;
	FILE *fp;
	size_t der_len;
	uint8_t *der;
	char pols[1024];

	/* Explicit-policy validation needs the issuing CA to assert them. */
	tca_path(p, sizeof(p), f->dir, "issuing.crt.pem");
	assert_non_null(fp = fopen(p, "r"));
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	der = tca_der(x, &der_len);
	leaf_policies(der, der_len, pols, sizeof(pols));
	assert_non_null(strstr(pols, sub_oid(f->ca, SUB_BOTH)));
	assert_non_null(strstr(pols, sub_oid(f->ca, SUB_PIN)));
	free(der);
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ca_sublevel_oids_default_under_attested_arc),
		cmocka_unit_test(test_ca_sublevel_pin_always_touch_always),
		cmocka_unit_test(test_ca_sublevel_most_specific_match),
		cmocka_unit_test(test_ca_sublevel_pin_once_is_plain_attested),
		cmocka_unit_test(test_ca_sublevel_needs_profile_opt_in),
		cmocka_unit_test(test_ca_sublevel_survives_reopen),
		cmocka_unit_test(test_ca_sublevel_unknown_to_ca_refused),
		cmocka_unit_test(test_ca_sublevel_bad_definitions_refused),
		cmocka_unit_test(test_ca_sublevel_profile_rules),
		cmocka_unit_test(test_ca_sublevel_verify_satisfies_parent),
		cmocka_unit_test(test_ca_sublevel_verify_requires_sublevel),
		cmocka_unit_test(
		    test_ca_sublevel_ca_certs_assert_sublevel_oids),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
