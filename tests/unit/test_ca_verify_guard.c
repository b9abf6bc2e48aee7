/*
 * Regression tests for the relying-party verifier's guards (issue 12): a
 * required level is met only through the level map of the CA that path
 * validation chose as the leaf's issuer (never through a foreign CA
 * asserting anyPolicy, never through a look-alike CA certificate path
 * validation did not choose); a CA certificate, a self-signed certificate
 * and a leaf whose keyUsage/extendedKeyUsage do not fit the purpose are
 * refused; only cs_verify_add_chain supplies trust, and only CA
 * certificates; the leaves of every shipped profile get the verdict the
 * purpose table documents.
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

#include "test_ca_util.h"

#include "banned.h"

#define FPKI "2.16.840.1.101.3.2.1.3.7"
#define YK "1.3.6.1.4.1.41482.3."

struct fx {
	struct tca t;
	char *chain;
	size_t chain_len;
	EVP_PKEY *fkey; /* foreign CA key */
	X509 *fca; /* foreign CA: self-signed, anyPolicy, no level map */
};

static struct fx f;

/* --- certificate building --- */

struct spec {
	const char *cn;
	const char *policies; /* comma-separated OIDs, NULL for none */
	const char *bc, *ku, *eku; /* X509V3 config values, NULL: absent */
	X509 *issuer; /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	EVP_PKEY *key; /* subject key; NULL: a fresh P-256 key */
	EVP_PKEY **key_out; /* the subject key (caller frees), may be NULL */
	bool no_kid; /* no subject/authority key identifiers */
};

static void
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e;

	if (value == NULL)
		return;
	e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static X509 *
build(const struct spec *s)
{
	EVP_PKEY *k = s->key != NULL
	    ? s->key
	    : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
	X509_NAME *n = X509_NAME_new();
	X509 *x = X509_new();
	X509V3_CTX v3;
	char buf[512], *it, *save = NULL;
	unsigned char sb[16];
	BIGNUM *bn;

	assert_non_null(k);
	X509_set_version(x, 2);
	RAND_bytes(sb, sizeof(sb));
	sb[0] = (unsigned char)((sb[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(sb, sizeof(sb), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x,
	    s->issuer != NULL ? X509_get_subject_name(s->issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, s->issuer != NULL ? s->issuer : x, x, NULL, NULL,
	    0);
	add_ext(x, &v3, NID_basic_constraints, s->bc);
	add_ext(x, &v3, NID_key_usage, s->ku);
	add_ext(x, &v3, NID_ext_key_usage, s->eku);
	if (!s->no_kid)
		add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (s->issuer != NULL && !s->no_kid)
		add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (s->policies != NULL) {
		snprintf(buf, sizeof(buf), "%s", s->policies);
		for (it = strtok_r(buf, ",", &save); it != NULL;
		     it = strtok_r(NULL, ",", &save)) {
			POLICYINFO *pi = POLICYINFO_new();

			ASN1_OBJECT_free(pi->policyid);
			pi->policyid = OBJ_txt2obj(it, 1);
			sk_POLICYINFO_push(cp, pi);
		}
		X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, 0);
	}
	assert_true(X509_sign(x, s->issuer_key != NULL ? s->issuer_key : k,
	                EVP_sha256()) > 0);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	X509_NAME_free(n);
	if (s->key_out != NULL)
		*s->key_out = k;
	else if (s->key == NULL)
		EVP_PKEY_free(k);
	return x;
}

/* A leaf of the fixture's issuing CA (policies NULL: hardware-attested). */
static uint8_t *
our_leaf(const char *policies, const char *bc, const char *ku,
    const char *eku, size_t *len)
{
	struct spec s;
	X509 *x;
	uint8_t *der;

	memset(&s, 0, sizeof(s));
	s.cn = "Jane Doe";
	s.policies = policies != NULL
	    ? policies
	    : cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_HW_ATTESTED);
	s.bc = bc;
	s.ku = ku;
	s.eku = eku;
	s.issuer = tca_ca_cert(&f.t, "issuing.crt.pem");
	s.issuer_key = tca_ca_key(&f.t, "issuing.key.pem");
	assert_non_null(s.issuer);
	assert_non_null(s.issuer_key);
	x = build(&s);
	der = tca_der(x, len);
	X509_free(x);
	X509_free(s.issuer);
	EVP_PKEY_free(s.issuer_key);
	return der;
}

static char *
pem_of(X509 *const *certs, size_t n, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;
	size_t i;

	assert_non_null(b);
	for (i = 0; i < n; i++)
		assert_true(PEM_write_bio_X509(b, certs[i]));
	BIO_get_mem_ptr(b, &m);
	s = malloc(m->length + 1);
	assert_non_null(s);
	memcpy(s, m->data, m->length);
	s[m->length] = '\0';
	*len = m->length;
	BIO_free(b);
	return s;
}

static struct cs_verifier *
verifier_with(const char *pem, size_t len)
{
	struct cs_verifier *v = NULL;

	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (const uint8_t *)pem, len),
	    CS_OK);
	return v;
}

static int
setup(void **state)
{
	struct spec s;

	(void)state;
	memset(&f, 0, sizeof(f));
	if (tca_setup(&f.t, true, 0) != 0 ||
	    cs_ca_chain(f.t.ca, &f.chain, &f.chain_len) != CS_OK)
		return -1;
	memset(&s, 0, sizeof(s));
	s.cn = "Foreign CA";
	s.policies = "2.5.29.32.0";
	s.bc = "critical,CA:TRUE";
	s.ku = "critical,keyCertSign,cRLSign";
	s.key_out = &f.fkey;
	f.fca = build(&s);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(f.fca);
	EVP_PKEY_free(f.fkey);
	cs_free(f.chain);
	tca_teardown(&f.t);
	return 0;
}

/* --- 1. the level is always enforced --- */

static void
test_ca_verify_guard_foreign_anypolicy_ca_meets_no_level(void **state)
{
	const char *hw = cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_HW_ATTESTED);
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct spec s;
	X509 *leaf;
	char *bundle, *fpem;
	uint8_t *der;
	size_t len, fl, bl;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.cn = "Foreign Leaf";
	s.policies = hw;
	s.bc = "critical,CA:FALSE";
	s.ku = "critical,digitalSignature";
	s.eku = "clientAuth";
	s.issuer = f.fca;
	s.issuer_key = f.fkey;
	leaf = build(&s);
	der = tca_der(leaf, &len);
	/* Our chain and the foreign CA in one bundle. */
	fpem = pem_of(&f.fca, 1, &fl);
	bl = f.chain_len + fl;
	bundle = malloc(bl + 1);
	assert_non_null(bundle);
	memcpy(bundle, f.chain, f.chain_len);
	memcpy(bundle + f.chain_len, fpem, fl + 1);
	v = verifier_with(bundle, bl);
	/* What the CLI checks before allowing --policy with a level: ok. */
	assert_true(cs_verify_policy_is_level(v, hw, CS_CA_LEVEL_HW_ATTESTED));
	assert_int_equal(cs_verify_set_policy(v, hw), CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_false(res.accepted);
	assert_non_null(strstr(res.reason,
	    "CN=Foreign CA carries no cardsmith level map, so the level "
	    "cannot be established"));
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx), "no cardsmith level"));
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_SOFTWARE, 0, &res),
	    CS_ERR_POLICY);
	/* --policy alone keeps its meaning: this OID, explicitly. */
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_string_equal(res.policy_oid, hw);
	cs_verify_free(v);
	/* Without --policy, likewise refused. */
	v = verifier_with(bundle, bl);
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "no cardsmith level map"));
	cs_verify_free(v);
	free(bundle);
	free(fpem);
	free(der);
	X509_free(leaf);
}

/*
 * Two certificates for the issuing CA's key, the first expired: path
 * validation takes the valid one, and its level map (or lack of one) is
 * the one that counts, not that of the first match in the chain.
 */
static X509 *
reissue_issuing(bool expired, bool keep_map)
{
	X509 *ic = tca_ca_cert(&f.t, "issuing.crt.pem");
	EVP_PKEY *rk = tca_ca_key(&f.t, "root.key.pem");
	char map[CS_CA_OID_MAX];
	ASN1_OBJECT *o;
	unsigned char sb[16];
	BIGNUM *bn;
	int i;

	assert_non_null(ic);
	assert_non_null(rk);
	snprintf(map, sizeof(map), "%s.2.1", cs_ca_arc(f.t.ca));
	o = OBJ_txt2obj(map, 1);
	assert_non_null(o);
	if (!keep_map) {
		assert_true((i = X509_get_ext_by_OBJ(ic, o, -1)) >= 0);
		X509_EXTENSION_free(X509_delete_ext(ic, i));
	}
	ASN1_OBJECT_free(o);
	RAND_bytes(sb, sizeof(sb));
	sb[0] = (unsigned char)((sb[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(sb, sizeof(sb), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(ic));
	BN_free(bn);
	if (expired) {
		X509_gmtime_adj(X509_getm_notBefore(ic), -86400L * 20);
		X509_gmtime_adj(X509_getm_notAfter(ic), -86400L * 10);
	}
	assert_true(X509_sign(ic, rk, EVP_sha256()) > 0);
	EVP_PKEY_free(rk);
	return ic;
}

static void
check_chosen_issuer(bool expired_has_map)
{
	struct cs_verify_result res;
	struct cs_verifier *v;
	X509 *certs[3];
	char *pem;
	uint8_t *der;
	size_t len, pl;

	certs[0] = reissue_issuing(true, expired_has_map);
	certs[1] = reissue_issuing(false, !expired_has_map);
	certs[2] = tca_ca_cert(&f.t, "root.crt.pem");
	assert_non_null(certs[2]);
	pem = pem_of(certs, 3, &pl);
	v = verifier_with(pem, pl);
	der = our_leaf(NULL, "critical,CA:FALSE", "critical,digitalSignature",
	    "clientAuth", &len);
	if (expired_has_map) {
		/* The map of a CA certificate OpenSSL did not choose. */
		assert_int_equal(cs_verify_cert(v, der, len,
		                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
		    CS_ERR_POLICY);
		assert_non_null(strstr(res.reason, "no cardsmith level map"));
	} else {
		assert_int_equal(cs_verify_cert(v, der, len,
		                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
		    CS_OK);
		assert_int_equal(res.level, CS_CA_LEVEL_HW_ATTESTED);
	}
	cs_verify_free(v);
	free(der);
	free(pem);
	X509_free(certs[0]);
	X509_free(certs[1]);
	X509_free(certs[2]);
}

static void
test_ca_verify_guard_map_of_the_chosen_issuer(void **state)
{
	(void)state;
	check_chosen_issuer(true);
	check_chosen_issuer(false);
}

static void
test_ca_verify_guard_policy_spelling(void **state)
{
	struct cs_verify_result res;
	struct cs_verifier *v = verifier_with(f.chain, f.chain_len);
	char odd[CS_CA_OID_MAX];
	uint8_t *der;
	size_t len;

	(void)state;
	/* <arc>.1.01 is <arc>.1.1, the hardware-attested OID. */
	snprintf(odd, sizeof(odd), "%s.1.01", cs_ca_arc(f.t.ca));
	der = our_leaf(NULL, NULL, NULL, NULL, &len);
	assert_int_equal(cs_verify_set_policy(v, odd), CS_OK);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_string_equal(res.policy_oid,
	    cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_HW_ATTESTED));
	assert_int_equal(cs_verify_set_policy(v, "2.5.29.32.00"), CS_ERR_ARG);
	cs_verify_free(v);
	free(der);
}

/* --- 2. end-entity certificates fit for the purpose --- */

static enum cs_err
check(enum cs_verify_purpose p, const uint8_t *der, size_t len,
    struct cs_verify_result *res)
{
	struct cs_verifier *v = verifier_with(f.chain, f.chain_len);
	enum cs_err r;

	assert_int_equal(cs_verify_set_purpose(v, p), CS_OK);
	r = cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, res);
	cs_verify_free(v);
	return r;
}

static void
test_ca_verify_guard_ca_certificate_as_leaf(void **state)
{
	struct cs_verify_result res;
	X509 *ic = tca_ca_cert(&f.t, "issuing.crt.pem");
	uint8_t *der;
	size_t len;

	(void)state;
	/* The issuing CA asserts the hardware OID and chains to the root. */
	assert_non_null(ic);
	der = tca_der(ic, &len);
	assert_int_equal(check(CS_VERIFY_PURPOSE_CLIENT_AUTH, der, len, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "is a CA certificate "
	                                   "(basicConstraints CA:TRUE)"));
	assert_int_equal(check(CS_VERIFY_PURPOSE_ANY, der, len, &res),
	    CS_ERR_POLICY);
	free(der);
	X509_free(ic);
	/* keyCertSign without CA:TRUE is a CA key all the same. */
	der = our_leaf(NULL, "critical,CA:FALSE",
	    "critical,digitalSignature,keyCertSign", NULL, &len);
	assert_int_equal(check(CS_VERIFY_PURPOSE_ANY, der, len, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "keyUsage keyCertSign"));
	free(der);
	/* CA:TRUE without keyUsage too. */
	der = our_leaf(NULL, "critical,CA:TRUE", NULL, NULL, &len);
	assert_int_equal(check(CS_VERIFY_PURPOSE_ANY, der, len, &res),
	    CS_ERR_POLICY);
	free(der);
}

static void
test_ca_verify_guard_key_usage_and_eku(void **state)
{
	static const struct {
		const char *ku, *eku;
		enum cs_err client, logon, cardauth, any;
		const char *why; /* in the client-auth reason, or NULL */
	} t[] = {
		{ NULL, NULL, CS_OK, CS_OK, CS_OK, CS_OK, NULL },
		{ "critical,digitalSignature", NULL, CS_OK, CS_OK, CS_OK,
		    CS_OK, NULL },
		{ "critical,digitalSignature", "clientAuth", CS_OK,
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_OK, NULL },
		{ "critical,digitalSignature", "serverAuth", CS_ERR_POLICY,
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_OK,
		    "extendedKeyUsage (serverAuth) lacks clientAuth "
		    "(1.3.6.1.5.5.7.3.2), which purpose client-auth needs" },
		{ "critical,digitalSignature", "serverAuth,clientAuth", CS_OK,
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_OK, NULL },
		{ "critical,digitalSignature", "anyExtendedKeyUsage",
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_ERR_POLICY, CS_OK,
		    "anyExtendedKeyUsage) lacks clientAuth" },
		{ "critical,keyEncipherment", "clientAuth", CS_ERR_POLICY,
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_OK,
		    "keyUsage lacks digitalSignature, which purpose "
		    "client-auth needs" },
		{ "critical,keyAgreement", "emailProtection", CS_ERR_POLICY,
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_OK, NULL },
		{ "critical,digitalSignature",
		    "1.3.6.1.4.1.311.20.2.2,clientAuth", CS_OK, CS_OK,
		    CS_ERR_POLICY, CS_OK, NULL },
		{ "critical,digitalSignature",
		    "critical,2.16.840.1.101.3.6.8", CS_ERR_POLICY,
		    CS_ERR_POLICY, CS_OK, CS_OK,
		    "(2.16.840.1.101.3.6.8) lacks clientAuth" },
	};
	struct cs_verify_result res;
	uint8_t *der;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		der = our_leaf(NULL, "critical,CA:FALSE", t[i].ku, t[i].eku,
		    &len);
		print_message("# KU %s, EKU %s\n", t[i].ku ? t[i].ku : "-",
		    t[i].eku ? t[i].eku : "-");
		assert_int_equal(
		    check(CS_VERIFY_PURPOSE_CLIENT_AUTH, der, len, &res),
		    t[i].client);
		if (t[i].why != NULL)
			assert_non_null(strstr(res.reason, t[i].why));
		assert_int_equal(
		    check(CS_VERIFY_PURPOSE_SMARTCARD_LOGON, der, len, &res),
		    t[i].logon);
		assert_int_equal(
		    check(CS_VERIFY_PURPOSE_CARD_AUTH, der, len, &res),
		    t[i].cardauth);
		assert_int_equal(check(CS_VERIFY_PURPOSE_ANY, der, len, &res),
		    t[i].any);
		free(der);
	}
}

static void
test_ca_verify_guard_purpose_names(void **state)
{
	static const char *const names[] = { "client-auth", "smartcard-logon",
		"card-auth", "any" };
	struct cs_verifier *v = verifier_with(f.chain, f.chain_len);
	enum cs_verify_purpose p;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(cs_verify_purpose_parse(names[i], &p), CS_OK);
		assert_int_equal((int)p, (int)i);
		assert_string_equal(cs_verify_purpose_name(p), names[i]);
	}
	assert_int_equal(cs_verify_purpose_parse("tls-client", &p), CS_ERR_ARG);
	assert_int_equal(cs_verify_purpose_parse(NULL, &p), CS_ERR_ARG);
	assert_int_equal(
	    cs_verify_set_purpose(v, (enum cs_verify_purpose)9), CS_ERR_ARG);
	cs_verify_free(v);
}

/* --- 3. only the chain is trusted, and only CA certificates --- */

static void
test_ca_verify_guard_self_signed_never_vouches_for_itself(void **state)
{
	const char *hw = cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_HW_ATTESTED);
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct spec s;
	X509 *self, *root, *certs[2];
	char *pem, *bundle;
	uint8_t *der;
	size_t len, pl, bl;

	(void)state;
	/* An end-entity certificate without keyUsage, signed by itself. */
	memset(&s, 0, sizeof(s));
	s.cn = "Self Signed";
	s.policies = hw;
	s.bc = "critical,CA:FALSE";
	s.eku = "clientAuth";
	self = build(&s);
	der = tca_der(self, &len);
	/* Not in the chain: the chain does not reach an anchor. */
	v = verifier_with(f.chain, f.chain_len);
	assert_int_equal(cs_verify_set_policy(v, hw), CS_OK);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "self-signed"));
	cs_verify_free(v);
	/* In the chain: refused there, it is no CA; nothing was added. */
	pem = pem_of(&self, 1, &pl);
	bl = f.chain_len + pl;
	bundle = malloc(bl + 1);
	assert_non_null(bundle);
	memcpy(bundle, f.chain, f.chain_len);
	memcpy(bundle + f.chain_len, pem, pl + 1);
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)bundle, bl),
	    CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx),
	    "certificate 3 (CN=Self Signed) is not a CA certificate"));
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_VERIFY);
	cs_verify_free(v);
	free(der);
	/* The trusted root itself, as the leaf. */
	root = tca_ca_cert(&f.t, "root.crt.pem");
	assert_non_null(root);
	der = tca_der(root, &len);
	v = verifier_with(f.chain, f.chain_len);
	assert_int_equal(cs_verify_set_purpose(v, CS_VERIFY_PURPOSE_ANY),
	    CS_OK);
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "the certificate is self-signed"));
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_VERIFY);
	cs_verify_free(v);
	free(der);
	/* A leaf travelling with its own (foreign) CA: the CA is ignored. */
	memset(&s, 0, sizeof(s));
	s.cn = "Jane Doe";
	s.policies = hw;
	s.bc = "critical,CA:FALSE";
	s.issuer = f.fca;
	s.issuer_key = f.fkey;
	certs[0] = build(&s);
	certs[1] = f.fca;
	free(pem);
	pem = pem_of(certs, 2, &pl);
	v = verifier_with(f.chain, f.chain_len);
	assert_int_equal(cs_verify_cert(v, (uint8_t *)pem, pl, CS_CA_LEVEL_NONE,
	                     0, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "chain:"));
	cs_verify_free(v);
	free(pem);
	free(bundle);
	X509_free(certs[0]);
	X509_free(root);
	X509_free(self);
}

static void
test_ca_verify_guard_level_names(void **state)
{
	struct cs_verifier *v = verifier_with(f.chain, f.chain_len);
	char names[256];

	(void)state;
	assert_true(cs_verify_has_level_name(v, "hardware-attested"));
	assert_true(cs_verify_has_level_name(v, "software"));
	assert_false(cs_verify_has_level_name(v, "hardware-atested"));
	assert_false(cs_verify_has_level_name(v, NULL));
	cs_verify_level_names(v, names, sizeof(names));
	assert_string_equal(names,
	    "software, hardware-enrolled, hardware-attested");
	cs_verify_level_names(v, names, 12);
	assert_string_equal(names, "software");
	cs_verify_free(v);
}

/* --- 4. every shipped profile --- */

/* A slot statement for the minted leaf key, signed by the minted F9. */
static uint8_t *
statement(const char *slot, uint8_t pin, uint8_t touch, size_t *len)
{
	static const uint8_t fw[] = { 5, 7, 4 };
	static const uint8_t serial[] = { 0x02, 0x04, 0x00, 0xbc, 0x61, 0x4e };
	static const uint8_t ff[] = { 0x03 };
	uint8_t pol[2] = { pin, touch };
	const struct {
		const char *oid;
		const uint8_t *v;
		size_t n;
	} ext[] = {
		{ YK "3", fw, sizeof(fw) },
		{ YK "7", serial, sizeof(serial) },
		{ YK "8", pol, sizeof(pol) },
		{ YK "9", ff, sizeof(ff) },
	};
	char p[1024], cn[64];
	struct spec s;
	FILE *fp;
	EVP_PKEY *leafkey, *f9key;
	X509 *f9, *x;
	uint8_t *der;
	size_t i;

	tca_path(p, sizeof(p), f.t.mint, "leaf.key");
	assert_non_null(fp = fopen(p, "r"));
	leafkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	tca_path(p, sizeof(p), f.t.mint, "f9.key");
	assert_non_null(fp = fopen(p, "r"));
	f9key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	tca_path(p, sizeof(p), f.t.mint, "f9.pem");
	assert_non_null(fp = fopen(p, "r"));
	f9 = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(leafkey);
	assert_non_null(f9key);
	assert_non_null(f9);
	snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %s", slot);
	memset(&s, 0, sizeof(s));
	s.cn = cn;
	s.issuer = f9;
	s.issuer_key = f9key;
	s.key = leafkey;
	s.no_kid = true; /* as Yubico's statements */
	x = build(&s);
	/* Add the Yubico extensions and sign again. */
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		ASN1_OBJECT *o = OBJ_txt2obj(ext[i].oid, 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;

		assert_true(ASN1_OCTET_STRING_set(os, ext[i].v, (int)ext[i].n));
		e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
		assert_non_null(e);
		assert_true(X509_add_ext(x, e, -1));
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(o);
	}
	assert_true(X509_sign(x, f9key, EVP_sha256()) > 0);
	der = tca_der(x, len);
	X509_free(x);
	X509_free(f9);
	EVP_PKEY_free(f9key);
	EVP_PKEY_free(leafkey);
	return der;
}

/* Issue the minted leaf CSR with profile under the given evidence. */
static uint8_t *
issue(const char *profile, const char *slot, uint8_t pin, const char *var,
    size_t *len)
{
	struct cs_ca_profile *p = tca_profile(&f.t, profile);
	const char *vars[2] = { var, NULL };
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	uint8_t *csr, *stmt = NULL, *f9 = NULL, *der = NULL;
	size_t cl, sl = 0, nl = 0;

	assert_non_null(p);
	csr = tca_mint_file(&f.t, "leaf.csr.pem", &cl);
	assert_non_null(csr);
	tca_req_init(&req, p, csr, cl);
	if (slot != NULL) {
		stmt = statement(slot, pin, 1, &sl);
		f9 = tca_mint_file(&f.t, "f9.pem", &nl);
		req.stmt = stmt;
		req.stmt_len = sl;
		req.f9 = f9;
		req.f9_len = nl;
	}
	req.vars = var != NULL ? vars : NULL;
	if (cs_ca_issue(f.t.ca, &req, &res) != CS_OK)
		fail_msg("issue %s: %s", profile, cs_ctx_errmsg(f.t.ctx));
	der = res.der;
	*len = res.der_len;
	res.der = NULL;
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(csr);
	free(stmt);
	free(f9);
	return der;
}

static void
test_ca_verify_guard_shipped_profiles(void **state)
{
	static const struct {
		const char *profile, *slot;
		uint8_t pin; /* attested PIN policy: 2 once, 3 always */
		const char *var;
		enum cs_ca_level level;
		enum cs_err client, logon, cardauth;
	} t[] = {
		{ "piv-auth", "9a", 2, NULL, CS_CA_LEVEL_HW_ATTESTED, CS_OK,
		    CS_ERR_POLICY, CS_ERR_POLICY },
		{ "smartcard-logon", "9a", 2, "upn=jane@example.com",
		    CS_CA_LEVEL_HW_ATTESTED, CS_OK, CS_OK, CS_ERR_POLICY },
		{ "fpki-common-hardware", "9a", 2, NULL, CS_CA_LEVEL_NONE,
		    CS_OK, CS_ERR_POLICY, CS_ERR_POLICY },
		{ "software", NULL, 0, NULL, CS_CA_LEVEL_SOFTWARE, CS_OK,
		    CS_ERR_POLICY, CS_ERR_POLICY },
		{ "piv-cardauth", "9e", 2, NULL, CS_CA_LEVEL_HW_ATTESTED,
		    CS_ERR_POLICY, CS_ERR_POLICY, CS_OK },
		{ "piv-sign", "9c", 3, "email=jane@example.com",
		    CS_CA_LEVEL_HW_ATTESTED, CS_ERR_POLICY, CS_ERR_POLICY,
		    CS_ERR_POLICY },
		{ "piv-keymgmt", "9d", 2, "email=jane@example.com",
		    CS_CA_LEVEL_HW_ATTESTED, CS_ERR_POLICY, CS_ERR_POLICY,
		    CS_ERR_POLICY },
	};
	struct cs_verify_result res;
	struct cs_verifier *v;
	uint8_t *der;
	size_t i, len;
	enum cs_ca_level need;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("# profile %s\n", t[i].profile);
		der = issue(t[i].profile, t[i].slot, t[i].pin, t[i].var, &len);
		need = t[i].level;
		v = verifier_with(f.chain, f.chain_len);
		/* FPKI: the CA does not assert that OID; chain only. */
		assert_int_equal(cs_verify_cert(v, der, len, need, 0, &res),
		    t[i].client);
		if (t[i].client != CS_OK)
			assert_true(strstr(res.reason, "lacks clientAuth") !=
			        NULL ||
			    strstr(res.reason, "lacks digitalSignature") !=
			        NULL);
		else
			assert_int_equal(res.level, t[i].level);
		assert_int_equal(cs_verify_set_purpose(v,
		                     CS_VERIFY_PURPOSE_SMARTCARD_LOGON),
		    CS_OK);
		assert_int_equal(cs_verify_cert(v, der, len, need, 0, &res),
		    t[i].logon);
		assert_int_equal(
		    cs_verify_set_purpose(v, CS_VERIFY_PURPOSE_CARD_AUTH),
		    CS_OK);
		assert_int_equal(cs_verify_cert(v, der, len, need, 0, &res),
		    t[i].cardauth);
		assert_int_equal(cs_verify_set_purpose(v, CS_VERIFY_PURPOSE_ANY),
		    CS_OK);
		assert_int_equal(cs_verify_cert(v, der, len, need, 0, &res),
		    CS_OK);
		cs_verify_free(v);
		cs_free(der);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ca_verify_guard_foreign_anypolicy_ca_meets_no_level),
		cmocka_unit_test(test_ca_verify_guard_map_of_the_chosen_issuer),
		cmocka_unit_test(test_ca_verify_guard_policy_spelling),
		cmocka_unit_test(test_ca_verify_guard_ca_certificate_as_leaf),
		cmocka_unit_test(test_ca_verify_guard_key_usage_and_eku),
		cmocka_unit_test(test_ca_verify_guard_purpose_names),
		cmocka_unit_test(
		    test_ca_verify_guard_self_signed_never_vouches_for_itself),
		cmocka_unit_test(test_ca_verify_guard_level_names),
		cmocka_unit_test(test_ca_verify_guard_shipped_profiles),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
