/*
 * Regression tests for the findings of the independent review of ca/:
 * template variables that override the evidence, a profile policy_oid
 * claiming a higher level, the verifier's --policy dropping the required
 * level, the level map picked by issuer name, reserved extensions given
 * by numeric OID (or under the CA's arc), the CA key's at-rest KDF, and
 * reconcile voiding live reservations.
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

#include <openssl/pkcs12.h>
#include <sqlite3.h>

#include "test_ca_util.h"

#include "banned.h"

static struct tca t;

static int
setup(void **state)
{
	(void)state;
	return tca_setup(&t, false, 0);
}

static int
teardown(void **state)
{
	(void)state;
	tca_teardown(&t);
	return 0;
}

static struct cs_ca_profile *
parse(struct cs_ctx *ctx, const char *name, const char *text)
{
	struct cs_ca_profile *p = NULL;

	if (cs_ca_profile_parse(ctx, name, (const uint8_t *)text, strlen(text),
	        &p) != CS_OK)
		fprintf(stderr, "# profile %s: %s\n", name, cs_ctx_errmsg(ctx));
	return p;
}

#define EXT                                                                    \
	"[extensions]\nbasicConstraints = critical,CA:FALSE\n"                 \
	"keyUsage = critical,digitalSignature\n"

/* Issue a software certificate from ca with profile p; DER out. */
static enum cs_err
issue_sw(struct cs_ca *ca, const struct cs_ca_profile *p,
    const char *const *vars, uint8_t **der, size_t *len)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	char *csr;
	size_t cl;
	enum cs_err r;

	csr = tca_software_csr("review", false, NULL, &cl);
	tca_req_init(&req, p, csr, cl);
	req.vars = vars;
	r = cs_ca_issue(ca, &req, &res);
	if (r == CS_OK && der != NULL) {
		*der = res.der;
		*len = res.der_len;
		res.der = NULL;
	}
	cs_ca_issue_res_release(&res);
	free(csr);
	return r;
}

/* 1. --var never replaces cn, card_serial or slot. */
static void
test_ca_review_var_cannot_override_evidence(void **state)
{
	static const char text[] =
	    "[cardsmith]\nlevel = software\nmax_level = software\n"
	    "subject = CN=card %{card_serial}\n" EXT;
	const char *const serial[] = { "card_serial=99999999", NULL };
	const char *const slot[] = { "slot=9a", NULL };
	const char *const cn[] = { "email=a@b", "cn=Mallory", NULL };
	const char *const ok[] = { "email=a@b", NULL };
	struct cs_ca_profile *p = parse(t.ctx, "tmpl", text);

	(void)state;
	assert_non_null(p);
	assert_int_equal(issue_sw(t.ca, p, serial, NULL, NULL), CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "'card_serial'"));
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "reserved"));
	assert_int_equal(issue_sw(t.ca, p, slot, NULL, NULL), CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "'slot'"));
	assert_int_equal(issue_sw(t.ca, p, cn, NULL, NULL), CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "'cn'"));
	/* Without evidence the template simply cannot be filled. */
	assert_int_equal(issue_sw(t.ca, p, ok, NULL, NULL), CS_ERR_POLICY);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "card_serial"));
	cs_ca_profile_free(p);
}

static enum cs_err
assess_with(struct cs_ca *ca, struct cs_ctx *ctx, const char *level,
    const char *oid, struct cs_ca_decision *d)
{
	struct cs_ca_issue_req req;
	struct cs_ca_profile *p;
	char text[1024], *csr;
	size_t cl;
	enum cs_err r;

	snprintf(text, sizeof(text),
	    "[cardsmith]\nlevel = %s\nmax_level = %s\npolicy_oid = %s\n" EXT,
	    level, level, oid);
	p = parse(ctx, "fixed", text);
	assert_non_null(p);
	csr = tca_software_csr("oid", false, NULL, &cl);
	tca_req_init(&req, p, csr, cl);
	r = cs_ca_assess(ca, &req, d);
	free(csr);
	cs_ca_profile_free(p);
	return r;
}

/* 2a. The CA's hardware OID never goes on a software certificate. */
static void
test_ca_review_policy_oid_level_oids(void **state)
{
	struct cs_ca_decision d;
	const char *hw = cs_ca_level_oid(t.ca, CS_CA_LEVEL_HW_ATTESTED);
	const char *en = cs_ca_level_oid(t.ca, CS_CA_LEVEL_HW_ENROLLED);
	const char *sw = cs_ca_level_oid(t.ca, CS_CA_LEVEL_SOFTWARE);

	(void)state;
	assert_int_equal(assess_with(t.ca, t.ctx, "software", hw, &d),
	    CS_ERR_POLICY);
	assert_non_null(strstr(d.reason, "hardware-attested OID"));
	assert_non_null(strstr(d.reason, "certificate is software"));
	assert_int_equal(assess_with(t.ca, t.ctx, "software", en, &d),
	    CS_ERR_POLICY);
	/* Its own level's OID is fine. */
	assert_int_equal(assess_with(t.ca, t.ctx, "software", sw, &d), CS_OK);
	assert_string_equal(d.policy_oid, sw);
	/* An OID the CA never recorded counts as hardware-attested. */
	assert_int_equal(assess_with(t.ca, t.ctx, "software", "1.2.3.99", &d),
	    CS_ERR_POLICY);
	assert_non_null(strstr(d.reason, "not recorded"));
}

/* 2b. Extra and sub-level OIDs carry their level, kept in ca.cnf. */
static void
test_ca_review_policy_oid_extra_and_sublevel(void **state)
{
	static const char *const subs[] = { "strict=pin:always", NULL };
	struct cs_ca_init_opts o;
	struct cs_ca_decision d;
	struct cs_ca *ca = NULL;
	char dir[600], cnf[700], sub[CS_CA_OID_MAX];
	uint8_t *text;
	size_t len;

	(void)state;
	tca_path(dir, sizeof(dir), t.tmp, "extra");
	memset(&o, 0, sizeof(o));
	o.extra_policies = "software=1.2.3.4.5, 2.16.840.1.101.3.2.1.3.7,"
	                   "hardware-enrolled=1.2.3.4.6";
	o.sublevels = subs;
	assert_int_equal(cs_ca_init(t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS),
	                     &ca),
	    CS_OK);
	snprintf(sub, sizeof(sub), "%s.1.1.1", cs_ca_arc(ca));
	cs_ca_close(ca);
	ca = NULL;
	tca_path(cnf, sizeof(cnf), dir, "ca.cnf");
	text = tca_read(cnf, &len);
	assert_non_null(text);
	assert_non_null(strstr((char *)text,
	    "extra_policies = software=1.2.3.4.5,"
	    "hardware-attested=2.16.840.1.101.3.2.1.3.7,"
	    "hardware-enrolled=1.2.3.4.6\n"));
	free(text);
	/* Read back from ca.cnf, not kept from init. */
	assert_int_equal(cs_ca_open(t.ctx, dir, &ca), CS_OK);
	assert_int_equal(assess_with(ca, t.ctx, "software",
	                     "2.16.840.1.101.3.2.1.3.7", &d),
	    CS_ERR_POLICY);
	assert_non_null(strstr(d.reason, "stands for hardware-attested"));
	assert_int_equal(assess_with(ca, t.ctx, "software", "1.2.3.4.6", &d),
	    CS_ERR_POLICY);
	assert_int_equal(assess_with(ca, t.ctx, "software", "1.2.3.4.5", &d),
	    CS_OK);
	assert_string_equal(d.policy_oid, "1.2.3.4.5");
	/* A sub-level OID only where that sub-level is granted. */
	assert_int_equal(assess_with(ca, t.ctx, "software", sub, &d),
	    CS_ERR_POLICY);
	assert_non_null(strstr(d.reason, "sub-level strict"));
	cs_ca_close(ca);
	/* Bad specs are refused at init. */
	tca_path(dir, sizeof(dir), t.tmp, "extra-bad");
	o.sublevels = NULL;
	o.extra_policies = "gold=1.2.3";
	assert_int_equal(cs_ca_init(t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS),
	                     &ca),
	    CS_ERR_ARG);
	o.extra_policies = "software=2.5.29.32.0";
	assert_int_equal(cs_ca_init(t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS),
	                     &ca),
	    CS_ERR_ARG);
}

static struct cs_verifier *
verifier_for(struct cs_ctx *ctx, struct cs_ca *const *cas, size_t n)
{
	struct cs_verifier *v = NULL;
	char *pem;
	size_t len, i;

	assert_int_equal(cs_verify_new(ctx, &v), CS_OK);
	for (i = 0; i < n; i++) {
		assert_int_equal(cs_ca_chain(cas[i], &pem, &len), CS_OK);
		assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, len),
		    CS_OK);
		cs_free(pem);
	}
	return v;
}

/* 3. A policy OID never lifts the required level. */
static void
test_ca_review_policy_keeps_required_level(void **state)
{
	struct cs_ca_profile *p = tca_profile(&t, "software");
	struct cs_verify_result res;
	struct cs_verifier *v;
	const char *sw = cs_ca_level_oid(t.ca, CS_CA_LEVEL_SOFTWARE);
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(p);
	assert_int_equal(issue_sw(t.ca, p, NULL, &der, &len), CS_OK);
	v = verifier_for(t.ctx, &t.ca, 1);
	assert_int_equal(cs_verify_set_policy(v, sw), CS_OK);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED,
	                     0, &res),
	    CS_ERR_POLICY);
	assert_false(res.accepted);
	assert_non_null(strstr(res.reason, "hardware-attested required"));
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_SOFTWARE, 0, &res), CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res), CS_OK);
	/* What the CLI asks before allowing --policy with a level. */
	assert_true(cs_verify_policy_is_level(v, sw, CS_CA_LEVEL_SOFTWARE));
	assert_false(cs_verify_policy_is_level(v, sw, CS_CA_LEVEL_HW_ATTESTED));
	assert_false(cs_verify_policy_is_level(v, "1.2.3", CS_CA_LEVEL_NONE));
	cs_verify_free(v);
	cs_free(der);
	cs_ca_profile_free(p);
}

/* 4. Two CAs with the same names: each leaf gets its own CA's map. */
static void
test_ca_review_same_name_cas(void **state)
{
	struct tca t2;
	struct cs_ca *cas[2];
	struct cs_ca_profile *p1, *p2;
	struct cs_verify_result res;
	struct cs_verifier *v;
	uint8_t *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;

	(void)state;
	assert_int_equal(tca_setup(&t2, false, 0), 0);
	p1 = tca_profile(&t, "software");
	p2 = tca_profile(&t2, "software");
	assert_non_null(p1);
	assert_non_null(p2);
	assert_int_equal(issue_sw(t.ca, p1, NULL, &d1, &l1), CS_OK);
	assert_int_equal(issue_sw(t2.ca, p2, NULL, &d2, &l2), CS_OK);
	cas[0] = t.ca;
	cas[1] = t2.ca;
	v = verifier_for(t.ctx, cas, 2);
	assert_int_equal(
	    cs_verify_cert(v, d1, l1, CS_CA_LEVEL_SOFTWARE, 0, &res), CS_OK);
	assert_string_equal(res.policy_oid,
	    cs_ca_level_oid(t.ca, CS_CA_LEVEL_SOFTWARE));
	assert_int_equal(
	    cs_verify_cert(v, d2, l2, CS_CA_LEVEL_SOFTWARE, 0, &res), CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
	assert_string_equal(res.policy_oid,
	    cs_ca_level_oid(t2.ca, CS_CA_LEVEL_SOFTWARE));
	cs_verify_free(v);
	cs_free(d1);
	cs_free(d2);
	cs_ca_profile_free(p1);
	cs_ca_profile_free(p2);
	tca_teardown(&t2);
}

static void
expect_reserved(const char *line)
{
	char text[512];
	struct cs_ca_profile *p = NULL;

	snprintf(text, sizeof(text),
	    "[cardsmith]\nlevel = software\nmax_level = software\n" EXT "%s\n",
	    line);
	assert_int_equal(cs_ca_profile_parse(t.ctx, "numeric",
	                     (const uint8_t *)text, strlen(text), &p),
	    CS_ERR_MALFORMED);
	assert_null(p);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "is set by the CA"));
}

/* 5. Reserved extensions are caught by NID, not by spelling. */
static void
test_ca_review_reserved_ext_numeric(void **state)
{
	char text[512];
	struct cs_ca_profile *p;

	(void)state;
	/* SAN dNSName "evil.example" */
	expect_reserved("2.5.29.17 = DER:300E820C6576696C2E6578616D706C65");
	expect_reserved("2.5.29.32 = DER:3006300406022A03");
	expect_reserved("1.3.6.1.5.5.7.1.1 = DER:3000");
	/* The CA's level marker cannot be forged by a profile either. */
	snprintf(text, sizeof(text),
	    "[cardsmith]\nlevel = software\nmax_level = software\n" EXT
	    "%s.2.2 = ASN1:UTF8String:hardware-attested\n",
	    cs_ca_arc(t.ca));
	p = parse(t.ctx, "marker", text);
	assert_non_null(p);
	assert_int_equal(issue_sw(t.ca, p, NULL, NULL, NULL), CS_ERR_POLICY);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "under the CA's arc"));
	cs_ca_profile_free(p);
}

/* 6. CA keys at rest: PBES2 with scrypt; PBKDF2 keys still load. */
static void
test_ca_review_key_kdf(void **state)
{
	char path[700];
	const X509_ALGOR *alg = NULL;
	PBE2PARAM *pp = NULL;
	SCRYPT_PARAMS *sp = NULL;
	X509_SIG *sig = NULL;
	EVP_PKEY *k;
	FILE *f;
	uint64_t n = 0;

	(void)state;
	tca_path(path, sizeof(path), t.dir, "issuing.key.pem");
	f = fopen(path, "r");
	assert_non_null(f);
	sig = PEM_read_PKCS8(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(sig);
	X509_SIG_get0(sig, &alg, NULL);
	assert_int_equal(OBJ_obj2nid(alg->algorithm), NID_pbes2);
	pp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
	    alg->parameter);
	assert_non_null(pp);
	assert_int_equal(OBJ_obj2nid(pp->keyfunc->algorithm), NID_id_scrypt);
	sp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS),
	    pp->keyfunc->parameter);
	assert_non_null(sp);
	assert_int_equal(ASN1_INTEGER_get_uint64(&n, sp->costParameter), 1);
	assert_true(n >= 16384);
	SCRYPT_PARAMS_free(sp);
	PBE2PARAM_free(pp);
	X509_SIG_free(sig);
	/* A key written the old way (PBKDF2 default) still unlocks. */
	k = tca_ca_key(&t, "issuing.key.pem");
	assert_non_null(k);
	assert_int_equal(unlink(path), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(),
	                     (char *)TCA_PASS, (int)strlen(TCA_PASS), NULL, NULL),
	    1);
	fclose(f);
	/* As a CA key must be: cs_ca_open refuses one others can read. */
	assert_int_equal(chmod(path, 0600), 0);
	EVP_PKEY_free(k);
	cs_ca_lock(t.ca);
	assert_int_equal(cs_ca_unlock(t.ca, TCA_PASS, strlen(TCA_PASS)), CS_OK);
	assert_int_equal(cs_ca_unlock(t.ca, "wrong", 5), CS_ERR_AUTH);
	assert_int_equal(cs_ca_unlock(t.ca, TCA_PASS, strlen(TCA_PASS)), CS_OK);
}

static int
count_pending(void *arg, const struct cs_ca_cert_info *in)
{
	(void)in;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
pending(struct cs_ca *ca)
{
	struct cs_ca_list_filter f = { 0, CS_CA_STATUS_PENDING };
	size_t n = 0;

	assert_int_equal(cs_ca_list(ca, &f, count_pending, &n), CS_OK);
	return n;
}

/* 7. Reconcile leaves a running process's reservations alone. */
static void
test_ca_review_reconcile_keeps_live(void **state)
{
	struct cs_ca_profile *p = tca_profile(&t, "software");
	struct cs_ca_reconcile_stats rs;
	struct cs_ca_cert_info in;
	struct cs_ctx *ctx2 = NULL;
	struct cs_ca *other = NULL;
	char db[700], sql[512];
	sqlite3 *h;
	long long now = (long long)time(NULL);

	(void)state;
	assert_non_null(p);
	assert_int_equal(cs_ca_set_serial_pool(t.ca, 4), CS_OK);
	assert_int_equal(issue_sw(t.ca, p, NULL, NULL, NULL), CS_OK);
	assert_int_equal(pending(t.ca), 3);
	/* Crash leftovers: another boot's process, and an old row of unknown
	 * owner; a fresh row of unknown owner is left for the grace period. */
	tca_path(db, sizeof(db), t.dir, "registry.db");
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	snprintf(sql, sizeof(sql),
	    "INSERT INTO certs(serial, status, created, owner) VALUES"
	    "('7F0000000000000000000000000000A1', 0, %lld, "
	    "'00000000-0000-0000-0000-000000000000:1:1'),"
	    "('7F0000000000000000000000000000A2', 0, %lld, NULL),"
	    "('7F0000000000000000000000000000A3', 0, %lld, NULL)",
	    now, now - 3600, now);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	/* "ca reconcile" from elsewhere while this CA is still issuing. */
	assert_int_equal(cs_ctx_new(&ctx2), CS_OK);
	assert_int_equal(cs_ca_open(ctx2, t.dir, &other), CS_OK);
	assert_int_equal(cs_ca_reconcile(other, &rs), CS_OK);
	assert_int_equal(rs.pending_voided, 2);
	assert_true(rs.integrity_ok);
	assert_int_equal(cs_ca_show(other, "7F0000000000000000000000000000A1",
	                     &in, NULL, NULL),
	    CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_VOID);
	assert_int_equal(cs_ca_show(other, "7F0000000000000000000000000000A2",
	                     &in, NULL, NULL),
	    CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_VOID);
	assert_int_equal(cs_ca_show(other, "7F0000000000000000000000000000A3",
	                     &in, NULL, NULL),
	    CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_PENDING);
	assert_int_equal(pending(other), 4);
	cs_ca_close(other);
	cs_ctx_free(ctx2);
	/* The pool is still usable: its serials were not voided. */
	assert_int_equal(issue_sw(t.ca, p, NULL, NULL, NULL), CS_OK);
	assert_int_equal(pending(t.ca), 3);
	cs_ca_profile_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_review_var_cannot_override_evidence),
		cmocka_unit_test(test_ca_review_policy_oid_level_oids),
		cmocka_unit_test(test_ca_review_policy_oid_extra_and_sublevel),
		cmocka_unit_test(test_ca_review_policy_keeps_required_level),
		cmocka_unit_test(test_ca_review_same_name_cas),
		cmocka_unit_test(test_ca_review_reserved_ext_numeric),
		cmocka_unit_test(test_ca_review_key_kdf),
		cmocka_unit_test(test_ca_review_reconcile_keeps_live),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
