/*
 * Regression tests for the verifier's inputs and path checks (issue 12
 * review of cs_verify_cert): corrupt PEM blocks in the chain or the CRLs
 * are errors naming the block, a DER CRL with bytes after it is refused,
 * a CA certificate of the path is checked against a CRL of its issuer,
 * and a path that does not assert the required OID is a policy failure.
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

#define ANY "2.5.29.32.0"

struct fx {
	struct tca t; /* --hardware-ca: issuing signs only software */
	char *chain;
	size_t chain_len;
	char *crl; /* the CA's own CRLs (issuing CAs, no entries) */
	size_t crl_len;
	X509 *root, *issuing, *hw;
	EVP_PKEY *root_key, *issuing_key, *hw_key;
	const char *sw_oid, *hw_oid, *en_oid;
	EVP_PKEY *fkey; /* foreign root */
	X509 *froot;
};

static struct fx f;

/* --- building certificates --- */

struct spec {
	const char *cn;
	const char *policies; /* comma separated, NULL: none */
	bool ca; /* CA:TRUE + keyCertSign, else a client-auth leaf */
	X509 *issuer; /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	EVP_PKEY *key; /* subject key; NULL: a fresh P-256 key */
	EVP_PKEY **key_out; /* the subject key (caller frees) */
	X509_EXTENSION *map; /* a level map to carry, or NULL */
};

static void
add_conf_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);

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
	char buf[1024], *it, *save = NULL;
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
	if (s->ca) {
		add_conf_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
		add_conf_ext(x, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		add_conf_ext(x, &v3, NID_basic_constraints,
		    "critical,CA:FALSE");
		add_conf_ext(x, &v3, NID_key_usage,
		    "critical,digitalSignature");
		add_conf_ext(x, &v3, NID_ext_key_usage, "clientAuth");
	}
	add_conf_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (s->issuer != NULL)
		add_conf_ext(x, &v3, NID_authority_key_identifier,
		    "keyid:always");
	if (s->policies != NULL) {
		snprintf(buf, sizeof(buf), "%s", s->policies);
		for (it = strtok_r(buf, ",", &save); it != NULL;
		     it = strtok_r(NULL, ",", &save)) {
			POLICYINFO *pi = POLICYINFO_new();

			ASN1_OBJECT_free(pi->policyid);
			pi->policyid = OBJ_txt2obj(it, 1);
			assert_non_null(pi->policyid);
			sk_POLICYINFO_push(cp, pi);
		}
		X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, 0);
	}
	if (s->map != NULL)
		assert_true(X509_add_ext(x, s->map, -1));
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

static uint8_t *
leaf_der(const char *policies, X509 *issuer, EVP_PKEY *ikey, size_t *len)
{
	struct spec s;
	X509 *x;
	uint8_t *der;

	memset(&s, 0, sizeof(s));
	s.cn = "Jane Doe";
	s.policies = policies;
	s.issuer = issuer;
	s.issuer_key = ikey;
	x = build(&s);
	der = tca_der(x, len);
	X509_free(x);
	return der;
}

static int
setup(void **state)
{
	struct spec s;

	(void)state;
	memset(&f, 0, sizeof(f));
	if (tca_setup(&f.t, false, CS_CA_INIT_HARDWARE_CA) != 0 ||
	    cs_ca_chain(f.t.ca, &f.chain, &f.chain_len) != CS_OK ||
	    cs_ca_crl(f.t.ca, 7, &f.crl, &f.crl_len) != CS_OK)
		return -1;
	f.root = tca_ca_cert(&f.t, "root.crt.pem");
	f.issuing = tca_ca_cert(&f.t, "issuing.crt.pem");
	f.hw = tca_ca_cert(&f.t, "hw-issuing.crt.pem");
	f.root_key = tca_ca_key(&f.t, "root.key.pem");
	f.issuing_key = tca_ca_key(&f.t, "issuing.key.pem");
	f.hw_key = tca_ca_key(&f.t, "hw-issuing.key.pem");
	if (f.root == NULL || f.issuing == NULL || f.hw == NULL ||
	    f.root_key == NULL || f.issuing_key == NULL || f.hw_key == NULL)
		return -1;
	f.sw_oid = cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_SOFTWARE);
	f.en_oid = cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_HW_ENROLLED);
	f.hw_oid = cs_ca_level_oid(f.t.ca, CS_CA_LEVEL_HW_ATTESTED);
	memset(&s, 0, sizeof(s));
	s.cn = "Foreign Root";
	s.policies = ANY;
	s.ca = true;
	s.key_out = &f.fkey;
	f.froot = build(&s);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(f.root);
	X509_free(f.issuing);
	X509_free(f.hw);
	X509_free(f.froot);
	EVP_PKEY_free(f.root_key);
	EVP_PKEY_free(f.issuing_key);
	EVP_PKEY_free(f.hw_key);
	EVP_PKEY_free(f.fkey);
	cs_free(f.chain);
	cs_free(f.crl);
	tca_teardown(&f.t);
	return 0;
}

/* --- 2. a level is reported only if path validation confirms it --- */

/* `openssl verify -policy OID -explicit_policy -policy_check`. */
static bool
openssl_accepts(const uint8_t *der, size_t len, const char *oid)
{
	const unsigned char *p = der;
	X509 *leaf = d2i_X509(NULL, &p, (long)len);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	STACK_OF(X509) *un = sk_X509_new_null();
	X509_VERIFY_PARAM *pm;
	bool ok;

	assert_non_null(leaf);
	X509_STORE_add_cert(st, f.root);
	sk_X509_push(un, f.issuing);
	sk_X509_push(un, f.hw);
	X509_STORE_CTX_init(sc, st, leaf, un);
	pm = X509_STORE_CTX_get0_param(sc);
	X509_VERIFY_PARAM_add0_policy(pm, OBJ_txt2obj(oid, 1));
	X509_VERIFY_PARAM_set_flags(pm,
	    X509_V_FLAG_EXPLICIT_POLICY | X509_V_FLAG_POLICY_CHECK);
	ok = X509_verify_cert(sc) == 1;
	X509_STORE_CTX_free(sc);
	X509_STORE_free(st);
	sk_X509_free(un);
	X509_free(leaf);
	return ok;
}

static struct cs_verifier *
our_verifier(void)
{
	struct cs_verifier *v = NULL;

	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(
	    cs_verify_add_chain(v, (const uint8_t *)f.chain, f.chain_len),
	    CS_OK);
	return v;
}

static void
test_ca_verify_trust_path_without_the_oid_is_policy(void **state)
{
	struct cs_verify_result res;
	struct cs_verifier *v = our_verifier();
	uint8_t *der;
	size_t len;

	(void)state;
	/* .1.1 signed by the software issuing CA (which asserts only .1.3). */
	der = leaf_der(f.hw_oid, f.issuing, f.issuing_key, &len);
	assert_false(openssl_accepts(der, len, f.hw_oid));
	/* A policy failure (6), not a chain failure (5). */
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "a CA in the chain does not "
	                                   "assert it"));
	free(der);
	cs_verify_free(v);
}

/* --- 3. inputs and revocation --- */

static char *
cat(const char *a, size_t al, const char *b, size_t bl, size_t *len)
{
	char *s = malloc(al + bl + 1);

	assert_non_null(s);
	memcpy(s, a, al);
	memcpy(s + al, b, bl);
	s[al + bl] = '\0';
	*len = al + bl;
	return s;
}

static void
test_ca_verify_trust_corrupt_pem_blocks_named(void **state)
{
	static const char corrupt[] = "-----BEGIN CERTIFICATE-----\n"
				      "MIIB!!not*base64\n"
				      "-----END CERTIFICATE-----\n";
	static const char open_end[] = "-----BEGIN CERTIFICATE-----\n"
				       "MIIBszCCAVmgAwIBAgIU\n";
	static const char keyblk[] = "-----BEGIN PRIVATE KEY-----\n"
				     "MC4CAQAwBQYDK2VwBCIEIA==\n"
				     "-----END PRIVATE KEY-----\n";
	static const char badcrl[] = "-----BEGIN X509 CRL-----\n"
				     "%%%%\n"
				     "-----END X509 CRL-----\n";
	struct cs_verifier *v;
	unsigned char *p = NULL;
	uint8_t *der;
	char *s, want[64];
	size_t len, lines = 1, i;
	X509_CRL *crl;
	BIO *b;
	int n;

	(void)state;
	for (i = 0; i < f.chain_len; i++)
		lines += f.chain[i] == '\n';
	/* Three good certificates, then a corrupt fourth. */
	s = cat(f.chain, f.chain_len, corrupt, sizeof(corrupt) - 1, &len);
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)s, len),
	    CS_ERR_MALFORMED);
	snprintf(want, sizeof(want), "PEM block 4 (line %zu) is corrupt",
	    lines);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx), want));
	free(s);
	s = cat(f.chain, f.chain_len, open_end, sizeof(open_end) - 1, &len);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)s, len),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx), "has no END line"));
	free(s);
	s = cat(keyblk, sizeof(keyblk) - 1, f.chain, f.chain_len, &len);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)s, len),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx),
	    "PEM block 1 (line 1) is a PRIVATE KEY, not a CERTIFICATE"));
	free(s);
	/* Text around blocks is fine; nothing was added by the failures. */
	s = cat("issued by cardsmith\n", 20, f.chain, f.chain_len, &len);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)s, len), CS_OK);
	free(s);
	/* CRLs: a corrupt block after a good one. */
	s = cat(f.crl, f.crl_len, badcrl, sizeof(badcrl) - 1, &len);
	assert_int_equal(cs_verify_add_crl(v, (uint8_t *)s, len),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx), "CRL: PEM block 3"));
	free(s);
	/* A DER CRL with a byte after it. */
	assert_non_null(b = BIO_new_mem_buf(f.crl, (int)f.crl_len));
	assert_non_null(crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL));
	BIO_free(b);
	assert_true((n = i2d_X509_CRL(crl, &p)) > 0);
	der = malloc((size_t)n + 1);
	assert_non_null(der);
	memcpy(der, p, (size_t)n);
	der[n] = 0;
	assert_int_equal(cs_verify_add_crl(v, der, (size_t)n), CS_OK);
	assert_int_equal(cs_verify_add_crl(v, der, (size_t)n + 1),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx), "bytes after it"));
	free(der);
	OPENSSL_free(p);
	X509_CRL_free(crl);
	cs_verify_free(v);
}

/* A CRL of our root, revoking the certificate `revoked` (or nothing). */
static char *
root_crl(X509 *revoked, size_t *len)
{
	X509_CRL *c = X509_CRL_new();
	X509_REVOKED *r;
	ASN1_TIME *t = ASN1_TIME_new();
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;

	assert_non_null(c);
	assert_non_null(t);
	assert_non_null(b);
	X509_CRL_set_version(c, 1);
	X509_CRL_set_issuer_name(c, X509_get_subject_name(f.root));
	X509_gmtime_adj(t, -3600);
	X509_CRL_set1_lastUpdate(c, t);
	X509_gmtime_adj(t, 86400L * 7);
	X509_CRL_set1_nextUpdate(c, t);
	if (revoked != NULL) {
		assert_non_null(r = X509_REVOKED_new());
		X509_REVOKED_set_serialNumber(r,
		    X509_get_serialNumber(revoked));
		X509_gmtime_adj(t, -60);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(c, r);
	}
	X509_CRL_sort(c);
	assert_true(X509_CRL_sign(c, f.root_key, EVP_sha256()) > 0);
	assert_true(PEM_write_bio_X509_CRL(b, c));
	BIO_get_mem_ptr(b, &m);
	s = malloc(m->length + 1);
	assert_non_null(s);
	memcpy(s, m->data, m->length);
	s[m->length] = '\0';
	*len = m->length;
	BIO_free(b);
	ASN1_TIME_free(t);
	X509_CRL_free(c);
	return s;
}

static enum cs_err
verify_with_crls(const char *extra, size_t extra_len, const uint8_t *der,
    size_t len, struct cs_verify_result *res)
{
	struct cs_verifier *v = our_verifier();
	enum cs_err r;

	assert_int_equal(
	    cs_verify_add_crl(v, (const uint8_t *)f.crl, f.crl_len), CS_OK);
	if (extra != NULL)
		assert_int_equal(
		    cs_verify_add_crl(v, (const uint8_t *)extra, extra_len),
		    CS_OK);
	r = cs_verify_cert(v, der, len, CS_CA_LEVEL_SOFTWARE, 0, res);
	cs_verify_free(v);
	return r;
}

static void
test_ca_verify_trust_intermediate_checked_against_its_crl(void **state)
{
	struct cs_verify_result res;
	uint8_t *sw, *hw;
	char *crl;
	size_t sl, hl, cl;

	(void)state;
	sw = leaf_der(f.sw_oid, f.issuing, f.issuing_key, &sl);
	hw = leaf_der(f.hw_oid, f.hw, f.hw_key, &hl);
	/* The issuing CAs' CRLs alone cover leaves only. */
	assert_int_equal(verify_with_crls(NULL, 0, sw, sl, &res), CS_OK);
	/* The root's CRL revokes the software issuing CA. */
	crl = root_crl(f.issuing, &cl);
	assert_int_equal(verify_with_crls(crl, cl, sw, sl, &res),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(res.reason, "revoked"));
	/* Not the hardware issuing CA. */
	assert_int_equal(verify_with_crls(crl, cl, hw, hl, &res), CS_OK);
	free(crl);
	/* A root CRL that revokes nothing. */
	crl = root_crl(NULL, &cl);
	assert_int_equal(verify_with_crls(crl, cl, sw, sl, &res), CS_OK);
	free(crl);
	free(sw);
	free(hw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ca_verify_trust_path_without_the_oid_is_policy),
		cmocka_unit_test(test_ca_verify_trust_corrupt_pem_blocks_named),
		cmocka_unit_test(
		    test_ca_verify_trust_intermediate_checked_against_its_crl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
