/*
 * Regression tests for the verifier's trust in level maps and levels
 * (issue 12 review of cs_verify_cert):
 *
 * 1. A level map counts only where the validated path's anchor carries
 *    one and the issuing CA's map agrees with it for the level checked: a
 *    foreign root's sub-CA copying our map, a foreign cross-certificate of
 *    our issuing CA's key with a map of its own, an intermediate defining
 *    a sub-level otherwise grant nothing, and the verdict never depends
 *    on the order of the chain. A map speaks only for the arc of its
 *    extension OID. A sub-level name means one thing or is refused.
 * 2. The level reported is one whose OID passed explicit-policy
 *    validation on the path; the highest such level is found.
 * 3. Corrupt PEM blocks in the chain or the CRLs are errors naming the
 *    block, a DER CRL with bytes after it is refused, and a CA
 *    certificate of the path is checked against a CRL of its issuer.
 * 4. cs_verify_add_chain keeps its documented contract: which of its
 *    certificates become anchors, and that nothing else is trusted.
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

#include <openssl/conf.h>
#include <openssl/rand.h>
#include <openssl/x509_vfy.h>

#include "test_ca_util.h"

#include "banned.h"

#define ANY "2.5.29.32.0"
#define XARC "1.3.6.1.4.1.55555.9" /* a self-made root's own arc */

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

/* A level map entry: a level (parent NULL) or a sub-level. */
struct entry {
	const char *name, *oid, *parent;
	int pin, touch;
};

/*
 * A level map extension with OID extoid holding entries, written the way
 * a hand-made CA would (openssl's generic ASN1 extension syntax).
 */
static X509_EXTENSION *
map_ext(const char *extoid, const struct entry *e, size_t n)
{
	char text[4096];
	size_t used = 0, i;
	CONF *conf = NCONF_new(NULL);
	X509V3_CTX v3;
	X509_EXTENSION *x;
	BIO *b;
	long line;

#define PUT(...)                                                               \
	do {                                                                   \
		used += (size_t)snprintf(text + used, sizeof(text) - used,     \
		    __VA_ARGS__);                                              \
		assert_true(used < sizeof(text));                              \
	} while (0)
	PUT("[lm]\n");
	for (i = 0; i < n; i++)
		PUT("e%zu = SEQUENCE:e%zu\n", i, i);
	for (i = 0; i < n; i++) {
		PUT("[e%zu]\nn = UTF8:%s\no = OID:%s\n", i, e[i].name,
		    e[i].oid);
		if (e[i].parent != NULL)
			PUT("p = UTF8:%s\npin = INT:%d\ntouch = INT:%d\n",
			    e[i].parent, e[i].pin, e[i].touch);
	}
#undef PUT
	b = BIO_new_mem_buf(text, (int)used);
	assert_non_null(conf);
	assert_non_null(b);
	assert_true(NCONF_load_bio(conf, b, &line) == 1);
	X509V3_set_ctx(&v3, NULL, NULL, NULL, NULL, 0);
	X509V3_set_nconf(&v3, conf);
	x = X509V3_EXT_nconf(conf, &v3, extoid, "ASN1:SEQUENCE:lm");
	assert_non_null(x);
	BIO_free(b);
	NCONF_free(conf);
	return x;
}

/* The level map extension of one of the fixture's CA certificates. */
static X509_EXTENSION *
map_of(X509 *x)
{
	char oid[CS_CA_OID_MAX];
	ASN1_OBJECT *o;
	int i;

	snprintf(oid, sizeof(oid), "%s.2.1", cs_ca_arc(f.t.ca));
	assert_non_null(o = OBJ_txt2obj(oid, 1));
	assert_true((i = X509_get_ext_by_OBJ(x, o, -1)) >= 0);
	ASN1_OBJECT_free(o);
	return X509_EXTENSION_dup(X509_get_ext(x, i));
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

/* PEM of the certificates, in this order. */
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
verifier_of(X509 *const *certs, size_t n)
{
	struct cs_verifier *v = NULL;
	char *pem;
	size_t len;

	pem = pem_of(certs, n, &len);
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, len), CS_OK);
	free(pem);
	return v;
}

static EVP_PKEY *
key_in(const char *dir, const char *file)
{
	char p[1024];
	EVP_PKEY *k;
	FILE *fp;

	tca_path(p, sizeof(p), dir, file);
	assert_non_null(fp = fopen(p, "r"));
	k = PEM_read_PrivateKey(fp, NULL, NULL, (void *)TCA_PASS);
	fclose(fp);
	assert_non_null(k);
	return k;
}

static X509 *
cert_in(const char *dir, const char *file)
{
	char p[1024];
	X509 *x;
	FILE *fp;

	tca_path(p, sizeof(p), dir, file);
	assert_non_null(fp = fopen(p, "r"));
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

/* A further CA in the fixture's directory, with sub-levels. */
static struct cs_ca *
other_ca(const char *name, const char *const *subs, char *dir, size_t cap)
{
	struct cs_ca_init_opts o;
	char prof[1024];
	struct cs_ca *ca = NULL;

	memset(&o, 0, sizeof(o));
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	tca_path(dir, cap, f.t.tmp, name);
	o.profiles_dir = prof;
	o.sublevels = subs;
	assert_int_equal(cs_ca_init(f.t.ctx, dir, &o, TCA_PASS,
	                     strlen(TCA_PASS), &ca),
	    CS_OK);
	return ca;
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

/* --- 1. whose level map counts --- */

static void
test_ca_verify_trust_foreign_sub_ca_map_grants_nothing(void **state)
{
	const struct entry hw_only[] = { { "hardware-attested", f.hw_oid, NULL,
		0, 0 } };
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct spec s;
	X509 *g, *certs[5];
	EVP_PKEY *gk = NULL;
	uint8_t *der;
	size_t len;
	int round;

	(void)state;
	/*
	 * Round 0: the foreign root's sub-CA carries an exact copy of our
	 * map; round 1: the review's map, "hardware-attested = our OID" in
	 * an extension of another arc.
	 */
	for (round = 0; round < 2; round++) {
		memset(&s, 0, sizeof(s));
		s.cn = "Foreign Sub CA";
		s.policies = ANY;
		s.ca = true;
		s.issuer = f.froot;
		s.issuer_key = f.fkey;
		s.key_out = &gk;
		s.map = round == 0 ? map_of(f.issuing)
		                   : map_ext("1.3.6.1.4.1.55555.7.2.1", hw_only,
		                         1);
		g = build(&s);
		X509_EXTENSION_free(s.map);
		der = leaf_der(f.hw_oid, g, gk, &len);
		certs[0] = f.root;
		certs[1] = f.issuing;
		certs[2] = f.hw;
		certs[3] = f.froot;
		certs[4] = g;
		v = verifier_of(certs, 5);
		assert_int_equal(cs_verify_cert(v, der, len,
		                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
		    CS_ERR_POLICY);
		assert_false(res.accepted);
		if (round == 0)
			assert_non_null(strstr(res.reason,
			    "the trust anchor CN=Foreign Root carries no "
			    "cardsmith level map"));
		/* Without a requirement: a valid chain, and no level. */
		assert_int_equal(
		    cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
		    CS_OK);
		assert_int_equal(res.level, CS_CA_LEVEL_NONE);
		assert_false(res.level_verified);
		if (round == 0)
			assert_non_null(strstr(res.level_note,
			    "the trust anchor CN=Foreign Root carries none"));
		cs_verify_free(v);
		free(der);
		X509_free(g);
		EVP_PKEY_free(gk);
		gk = NULL;
	}
}

/*
 * The foreign root cross-certifies our software issuing CA's key with a
 * map that calls the software OID hardware-attested. Our software leaf
 * stays software, in whichever order the chain lists the certificates.
 */
static void
test_ca_verify_trust_cross_certificate_order_independent(void **state)
{
	const struct entry evil[] = {
		{ "hardware-attested", f.sw_oid, NULL, 0, 0 },
		{ "hardware-enrolled", f.en_oid, NULL, 0, 0 },
		{ "software", f.sw_oid, NULL, 0, 0 },
	};
	char map_oid[CS_CA_OID_MAX], first[CS_CA_REASON_MAX];
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct spec s;
	X509 *x, *order[2][5];
	uint8_t *der;
	size_t len;
	int o;

	(void)state;
	snprintf(map_oid, sizeof(map_oid), "%s.2.1", cs_ca_arc(f.t.ca));
	memset(&s, 0, sizeof(s));
	s.cn = "cardsmith Issuing CA";
	s.policies = ANY;
	s.ca = true;
	s.issuer = f.froot;
	s.issuer_key = f.fkey;
	s.key = X509_get0_pubkey(f.issuing);
	s.map = map_ext(map_oid, evil, 3);
	x = build(&s);
	X509_EXTENSION_free(s.map);
	der = leaf_der(f.sw_oid, f.issuing, f.issuing_key, &len);
	order[0][0] = f.froot;
	order[0][1] = x;
	order[0][2] = f.root;
	order[0][3] = f.issuing;
	order[0][4] = f.hw;
	order[1][0] = f.root;
	order[1][1] = f.issuing;
	order[1][2] = f.hw;
	order[1][3] = f.froot;
	order[1][4] = x;
	first[0] = '\0';
	for (o = 0; o < 2; o++) {
		print_message("# order %d\n", o);
		v = verifier_of(order[o], 5);
		assert_int_equal(cs_verify_cert(v, der, len,
		                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
		    CS_ERR_POLICY);
		assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
		assert_int_equal(
		    cs_verify_cert(v, der, len, CS_CA_LEVEL_SOFTWARE, 0, &res),
		    CS_OK);
		assert_int_equal(
		    cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
		    CS_OK);
		assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
		assert_true(res.level_verified);
		assert_string_equal(res.policy_oid, f.sw_oid);
		/* The same words, too. */
		if (o == 0)
			snprintf(first, sizeof(first), "%s", res.reason);
		else
			assert_string_equal(res.reason, first);
		cs_verify_free(v);
	}
	free(der);
	X509_free(x);
}

/*
 * An intermediate under our own root whose map defines a sub-level
 * otherwise than the root's: its leaves do not get that sub-level, nor
 * hardware-attested through it. With the same map, they do.
 */
static void
test_ca_verify_trust_issuer_map_must_agree_with_anchor(void **state)
{
	static const char *const subs[] = { "strict=pin:always", NULL };
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct cs_ca *ca;
	const struct cs_ca_sublevel *strict;
	struct entry e[4];
	char dir[600], pols[512], map_oid[CS_CA_OID_MAX];
	X509 *root, *g, *certs[3];
	EVP_PKEY *rk, *gk = NULL;
	struct spec s;
	uint8_t *der;
	size_t len;
	int round;

	(void)state;
	ca = other_ca("sub", subs, dir, sizeof(dir));
	strict = cs_ca_sublevel_at(ca, 0);
	assert_non_null(strict);
	root = cert_in(dir, "root.crt.pem");
	rk = key_in(dir, "root.key.pem");
	snprintf(map_oid, sizeof(map_oid), "%s.2.1", cs_ca_arc(ca));
	snprintf(pols, sizeof(pols), "%s,%s", strict->oid,
	    cs_ca_level_oid(ca, CS_CA_LEVEL_HW_ATTESTED));
	e[0] = (struct entry){ "hardware-attested",
		cs_ca_level_oid(ca, CS_CA_LEVEL_HW_ATTESTED), NULL, 0, 0 };
	e[1] = (struct entry){ "hardware-enrolled",
		cs_ca_level_oid(ca, CS_CA_LEVEL_HW_ENROLLED), NULL, 0, 0 };
	e[2] = (struct entry){ "software",
		cs_ca_level_oid(ca, CS_CA_LEVEL_SOFTWARE), NULL, 0, 0 };
	/* Round 0: "strict" with PIN once; round 1: as the root has it. */
	for (round = 0; round < 2; round++) {
		e[3] = (struct entry){ "strict", strict->oid,
			"hardware-attested", round == 0 ? 2 : 3, 0 };
		memset(&s, 0, sizeof(s));
		s.cn = "Intermediate CA";
		s.policies = pols;
		s.ca = true;
		s.issuer = root;
		s.issuer_key = rk;
		s.key_out = &gk;
		s.map = map_ext(map_oid, e, 4);
		g = build(&s);
		X509_EXTENSION_free(s.map);
		der = leaf_der(strict->oid, g, gk, &len);
		certs[0] = root;
		certs[1] = g;
		v = verifier_of(certs, 2);
		if (round == 0) {
			assert_int_equal(cs_verify_cert(v, der, len,
			                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
			    CS_ERR_POLICY);
			assert_non_null(strstr(res.reason, "do not agree"));
			/* The chain defines "strict" twice: no meaning. */
			assert_int_equal(cs_verify_require_sublevel(v, "strict"),
			    CS_ERR_ARG);
			assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx),
			    "sub-level strict means two things"));
		} else {
			assert_int_equal(cs_verify_cert(v, der, len,
			                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
			    CS_OK);
			assert_string_equal(res.sublevel, "strict");
			assert_int_equal(cs_verify_require_sublevel(v, "strict"),
			    CS_OK);
			assert_int_equal(cs_verify_cert(v, der, len,
			                     CS_CA_LEVEL_NONE, 0, &res),
			    CS_OK);
		}
		cs_verify_free(v);
		free(der);
		X509_free(g);
		EVP_PKEY_free(gk);
		gk = NULL;
	}
	X509_free(root);
	EVP_PKEY_free(rk);
	cs_ca_close(ca);
}

/* Leaf of a CA from other_ca, signed with its issuing key. */
static uint8_t *
leaf_of(const char *dir, const char *policies, size_t *len)
{
	X509 *ic = cert_in(dir, "issuing.crt.pem");
	EVP_PKEY *ik = key_in(dir, "issuing.key.pem");
	uint8_t *der = leaf_der(policies, ic, ik, len);

	X509_free(ic);
	EVP_PKEY_free(ik);
	return der;
}

static struct cs_verifier *
verifier_of_cas(struct cs_ca *a, struct cs_ca *b)
{
	struct cs_verifier *v = NULL;
	char *pem;
	size_t len;

	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_ca_chain(a, &pem, &len), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, len), CS_OK);
	cs_free(pem);
	assert_int_equal(cs_ca_chain(b, &pem, &len), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, len), CS_OK);
	cs_free(pem);
	return v;
}

/*
 * Two CAs both define "strict": --require-level strict is refused when
 * the definitions differ, and resolved per anchor when they agree.
 */
static void
test_ca_verify_trust_sublevel_name_has_one_meaning(void **state)
{
	static const char *const always[] = { "strict=pin:always", NULL };
	static const char *const once[] = { "strict=pin:once", NULL };
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct cs_ca *a, *b, *c;
	char da[600], db[600], dc[600];
	uint8_t *der;
	size_t len;

	(void)state;
	a = other_ca("strict-a", always, da, sizeof(da));
	b = other_ca("strict-b", once, db, sizeof(db));
	c = other_ca("strict-c", always, dc, sizeof(dc));
	/* B's leaf is "strict" as B means it: PIN once. */
	der = leaf_of(db, cs_ca_sublevel_at(b, 0)->oid, &len);
	v = verifier_of_cas(a, b);
	assert_int_equal(cs_verify_require_sublevel(v, "strict"), CS_ERR_ARG);
	assert_non_null(
	    strstr(cs_ctx_errmsg(f.t.ctx), "sub-level strict means two things"));
	cs_verify_free(v);
	/* Required before the chain was known: refused at verification. */
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_require_sublevel(v, "strict"), CS_OK);
	{
		char *pem;
		size_t pl;

		assert_int_equal(cs_ca_chain(a, &pem, &pl), CS_OK);
		assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, pl),
		    CS_OK);
		cs_free(pem);
		assert_int_equal(cs_ca_chain(b, &pem, &pl), CS_OK);
		assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, pl),
		    CS_OK);
		cs_free(pem);
	}
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_ARG);
	assert_false(res.accepted);
	cs_verify_free(v);
	free(der);
	/* A and C mean the same by it (each with its own OID): fine. */
	der = leaf_of(dc, cs_ca_sublevel_at(c, 0)->oid, &len);
	v = verifier_of_cas(a, c);
	assert_int_equal(cs_verify_require_sublevel(v, "strict"), CS_OK);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_string_equal(res.sublevel, "strict");
	assert_string_equal(res.policy_oid, cs_ca_sublevel_at(c, 0)->oid);
	cs_verify_free(v);
	free(der);
	cs_ca_close(a);
	cs_ca_close(b);
	cs_ca_close(c);
}

/*
 * A map speaks only for the arc of its extension OID: one that calls
 * <arc>.1.3 hardware-attested, or lists another arc's OIDs, is no map.
 */
static void
test_ca_verify_trust_map_bound_to_its_arc(void **state)
{
	const struct entry twisted[] = {
		{ "hardware-attested", XARC ".1.3", NULL, 0, 0 },
		{ "hardware-enrolled", XARC ".1.2", NULL, 0, 0 },
		{ "software", XARC ".1.1", NULL, 0, 0 },
	};
	const struct entry bound[] = {
		{ "hardware-attested", XARC ".1.1", NULL, 0, 0 },
		{ "hardware-enrolled", XARC ".1.2", NULL, 0, 0 },
		{ "software", XARC ".1.3", NULL, 0, 0 },
	};
	struct cs_verify_result res;
	struct cs_verifier *v;
	struct spec s;
	X509 *r;
	EVP_PKEY *rk = NULL;
	uint8_t *der;
	size_t len;
	int round;
	char names[256];

	(void)state;
	/* 0: twisted under its own arc; 1: bound but in another arc's OID. */
	for (round = 0; round < 3; round++) {
		memset(&s, 0, sizeof(s));
		s.cn = "Self Made Root";
		s.policies = XARC ".1.1," XARC ".1.2," XARC ".1.3";
		s.ca = true;
		s.key_out = &rk;
		s.map = round == 0 ? map_ext(XARC ".2.1", twisted, 3)
		    : round == 1   ? map_ext("1.3.6.1.4.1.55555.8.2.1", bound, 3)
		                   : map_ext(XARC ".2.1", bound, 3);
		r = build(&s);
		X509_EXTENSION_free(s.map);
		v = verifier_of(&r, 1);
		der = leaf_der(round == 0 ? XARC ".1.3" : XARC ".1.1", r, rk,
		    &len);
		if (round < 2) {
			assert_int_equal(cs_verify_cert(v, der, len,
			                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
			    CS_ERR_POLICY);
			assert_non_null(strstr(res.reason,
			    "CN=Self Made Root carries no cardsmith level map"));
		} else {
			/* Made by the rule: a relying party may trust it. */
			assert_int_equal(cs_verify_cert(v, der, len,
			                     CS_CA_LEVEL_HW_ATTESTED, 0, &res),
			    CS_OK);
		}
		cs_verify_level_names(v, names, sizeof(names));
		assert_string_equal(names,
		    "software, hardware-enrolled, hardware-attested");
		cs_verify_free(v);
		free(der);
		X509_free(r);
		EVP_PKEY_free(rk);
		rk = NULL;
	}
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
test_ca_verify_trust_level_only_when_path_validates_it(void **state)
{
	struct cs_verify_result res;
	struct cs_verifier *v = our_verifier();
	char both[2 * CS_CA_OID_MAX + 2];
	uint8_t *der;
	size_t len;

	(void)state;
	/* .1.1 signed by the software issuing CA (which asserts only .1.3). */
	der = leaf_der(f.hw_oid, f.issuing, f.issuing_key, &len);
	assert_false(openssl_accepts(der, len, f.hw_oid));
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_NONE);
	assert_false(res.level_verified);
	assert_string_equal(res.policy_oid, "");
	assert_non_null(strstr(res.level_note, "is not valid for the path"));
	/* Required: a policy failure (6), not a chain failure (5). */
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ATTESTED, 0, &res),
	    CS_ERR_POLICY);
	assert_non_null(strstr(res.reason, "a CA in the chain does not "
	                                   "assert it"));
	free(der);
	/* .1.1 and .1.3 from it: software, which OpenSSL agrees with. */
	snprintf(both, sizeof(both), "%s,%s", f.hw_oid, f.sw_oid);
	der = leaf_der(both, f.issuing, f.issuing_key, &len);
	assert_true(openssl_accepts(der, len, f.sw_oid));
	assert_false(openssl_accepts(der, len, f.hw_oid));
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_SOFTWARE, 0, &res), CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
	assert_string_equal(res.policy_oid, f.sw_oid);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
	assert_true(res.level_verified);
	assert_non_null(strstr(res.level_note, "hardware-attested"));
	assert_int_equal(
	    cs_verify_cert(v, der, len, CS_CA_LEVEL_HW_ENROLLED, 0, &res),
	    CS_ERR_POLICY);
	/* --policy alone: the level reported is still the validated one. */
	assert_int_equal(cs_verify_set_policy(v, f.sw_oid), CS_OK);
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_SOFTWARE);
	free(der);
	cs_verify_free(v);
	/* The genuine thing: .1.1 from the hardware issuing CA. */
	v = our_verifier();
	der = leaf_der(f.hw_oid, f.hw, f.hw_key, &len);
	assert_true(openssl_accepts(der, len, f.hw_oid));
	assert_int_equal(cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, &res),
	    CS_OK);
	assert_int_equal(res.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_true(res.level_verified);
	assert_string_equal(res.level_note, "");
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

/* f.crl's PEM with its labels changed to CERTIFICATE. */
static char *
relabel_crl(size_t *len)
{
	static const char from[] = "X509 CRL", to[] = "CERTIFICATE";
	char *s = malloc(f.crl_len * 2 + 1), *o = s;
	size_t i = 0;

	assert_non_null(s);
	while (i < f.crl_len)
		if (f.crl_len - i >= sizeof(from) - 1 &&
		    strncmp(f.crl + i, from, sizeof(from) - 1) == 0) {
			memcpy(o, to, sizeof(to) - 1);
			o += sizeof(to) - 1;
			i += sizeof(from) - 1;
		} else
			*o++ = (char)f.crl[i++];
	*o = '\0';
	*len = (size_t)(o - s);
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
	/* A CRL under a CERTIFICATE label: lib's PEM decoder refuses it. */
	s = relabel_crl(&len);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)s, len),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx),
	    "PEM block 1 (line 1) is corrupt: bad base64, header or END line, "
	    "or not a certificate"));
	free(s);
	/* A BEGIN line the PEM reader would not take as one. */
	s = cat("-----BEGIN CERTIFICATE\n", 23, f.chain, f.chain_len, &len);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)s, len),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx),
	    "PEM block 1 (line 1) is corrupt"));
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

/* --- 4. what cs_verify_add_chain trusts (include/cardsmith/ca.h) --- */

static X509 *
leaf_x509(X509 *issuer, EVP_PKEY *ikey)
{
	struct spec s;

	memset(&s, 0, sizeof(s));
	s.cn = "Jane Doe";
	s.issuer = issuer;
	s.issuer_key = ikey;
	return build(&s);
}

static enum cs_err
verify_x509(struct cs_verifier *v, X509 *leaf, struct cs_verify_result *res)
{
	uint8_t *der;
	size_t len;
	enum cs_err r;

	der = tca_der(leaf, &len);
	r = cs_verify_cert(v, der, len, CS_CA_LEVEL_NONE, 0, res);
	free(der);
	return r;
}

/*
 * The contract: every self-signed CA certificate given is an anchor (so
 * a client's certificates must never be given); a self-issued one under
 * another key, or a self-signed one whose authorityKeyIdentifier names
 * another key, is only an intermediate; a refused call adds nothing;
 * certificates sent along with the leaf are never trusted.
 */
static void
test_ca_verify_trust_add_chain_anchor_contract(void **state)
{
	struct cs_verify_result res;
	struct cs_verifier *v;
	X509 *leaf, *si, *si_leaf, *odd, *odd_leaf;
	X509_EXTENSION *akid;
	X509V3_CTX v3;
	EVP_PKEY *sik = NULL, *oddk = NULL;
	struct spec s;
	X509 *both[2];
	char *pem;
	size_t len;

	(void)state;
	leaf = leaf_x509(f.froot, f.fkey);
	/* Any self-signed CA certificate given is an anchor. */
	v = verifier_of(&f.froot, 1);
	assert_int_equal(verify_x509(v, leaf, &res), CS_OK);
	cs_verify_free(v);

	/* Self-issued (same name) under another key: an intermediate. */
	memset(&s, 0, sizeof(s));
	s.cn = "Foreign Root";
	s.ca = true;
	s.issuer = f.froot;
	s.issuer_key = f.fkey;
	s.key_out = &sik;
	si = build(&s);
	si_leaf = leaf_x509(si, sik);
	v = verifier_of(&si, 1);
	assert_int_equal(verify_x509(v, si_leaf, &res), CS_ERR_VERIFY);
	assert_false(res.accepted);
	cs_verify_free(v);
	both[0] = si;
	both[1] = f.froot;
	v = verifier_of(both, 2);
	assert_int_equal(verify_x509(v, si_leaf, &res), CS_OK);
	cs_verify_free(v);

	/* Signed by its own key, but its AKID names another: no anchor. */
	X509V3_set_ctx(&v3, f.froot, NULL, NULL, NULL, 0);
	assert_non_null(akid = X509V3_EXT_conf_nid(NULL, &v3,
	                    NID_authority_key_identifier, "keyid:always"));
	memset(&s, 0, sizeof(s));
	s.cn = "Odd Root";
	s.ca = true;
	s.key_out = &oddk;
	s.map = akid;
	odd = build(&s);
	odd_leaf = leaf_x509(odd, oddk);
	v = verifier_of(&odd, 1);
	assert_int_equal(verify_x509(v, odd_leaf, &res), CS_ERR_VERIFY);
	assert_false(cs_verify_has_level_name(v, "no-such-sub-level"));
	cs_verify_free(v);

	/* A refused call (a leaf among the CAs) adds none of its CAs. */
	both[0] = f.froot;
	both[1] = leaf;
	pem = pem_of(both, 2, &len);
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)pem, len),
	    CS_ERR_ARG);
	free(pem);
	assert_int_equal(verify_x509(v, leaf, &res), CS_ERR_VERIFY);
	cs_verify_free(v);

	/* The client's own root sent along with the leaf is not trusted. */
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_add_chain(v, (uint8_t *)f.chain,
	                     f.chain_len),
	    CS_OK);
	both[0] = leaf;
	both[1] = f.froot;
	pem = pem_of(both, 2, &len);
	assert_int_equal(cs_verify_cert(v, (uint8_t *)pem, len,
	                     CS_CA_LEVEL_NONE, 0, &res),
	    CS_ERR_VERIFY);
	assert_false(res.accepted);
	free(pem);
	cs_verify_free(v);

	X509_EXTENSION_free(akid);
	X509_free(odd);
	X509_free(odd_leaf);
	X509_free(si);
	X509_free(si_leaf);
	X509_free(leaf);
	EVP_PKEY_free(sik);
	EVP_PKEY_free(oddk);
}

/*
 * Text before the first PEM block is skipped, whatever it starts with:
 * "0 s:/CN=..." (as openssl s_client -showcerts prints) is not DER.
 */
static void
test_ca_verify_trust_pem_text_starting_with_zero(void **state)
{
	static const char pre[] = "0 s:/CN=cardsmith Root CA\n";
	struct cs_verifier *v = NULL;
	uint8_t *buf;
	size_t n;

	(void)state;
	assert_int_equal(cs_verify_new(f.t.ctx, &v), CS_OK);
	n = strlen(pre) + f.chain_len;
	assert_non_null(buf = malloc(n));
	memcpy(buf, pre, strlen(pre));
	memcpy(buf + strlen(pre), f.chain, f.chain_len);
	assert_int_equal(cs_verify_add_chain(v, buf, n), CS_OK);
	free(buf);
	n = strlen(pre) + f.crl_len;
	assert_non_null(buf = malloc(n));
	memcpy(buf, pre, strlen(pre));
	memcpy(buf + strlen(pre), f.crl, f.crl_len);
	assert_int_equal(cs_verify_add_crl(v, buf, n), CS_OK);
	free(buf);
	/* Still DER: a short object filling the input (SEQUENCE { NULL }). */
	assert_int_equal(cs_verify_add_chain(v, (const uint8_t *)"0\x02\x05",
	                     4),
	    CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f.t.ctx), "not a DER"));
	cs_verify_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_ca_verify_trust_foreign_sub_ca_map_grants_nothing),
		cmocka_unit_test(
		    test_ca_verify_trust_cross_certificate_order_independent),
		cmocka_unit_test(
		    test_ca_verify_trust_issuer_map_must_agree_with_anchor),
		cmocka_unit_test(
		    test_ca_verify_trust_sublevel_name_has_one_meaning),
		cmocka_unit_test(test_ca_verify_trust_map_bound_to_its_arc),
		cmocka_unit_test(
		    test_ca_verify_trust_level_only_when_path_validates_it),
		cmocka_unit_test(test_ca_verify_trust_corrupt_pem_blocks_named),
		cmocka_unit_test(
		    test_ca_verify_trust_intermediate_checked_against_its_crl),
		cmocka_unit_test(
		    test_ca_verify_trust_add_chain_anchor_contract),
		cmocka_unit_test(
		    test_ca_verify_trust_pem_text_starting_with_zero),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
