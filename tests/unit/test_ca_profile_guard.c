/*
 * Unit tests for the profile guards of issue 12: policy OIDs compared as
 * parsed OIDs (a non-canonical spelling never slips past the sub-level
 * guard), profiles and ca.cnf read without $ENV:: / $var expansion or
 * .include, lint refusing control characters, NUL, long CNs and CA-only
 * extensions in leaves, templates that refuse (never cut) bad values, the
 * CSR's SAN and subject values taken only as the profile allows and every
 * dropped one reported, and the shipped profiles (every reference
 * resolves; an RSA 9D profile).
 *
 * Evidence: tests/data/ca/mint.sh (root, F9, leaf and RSA keys); the slot
 * statements with other slots and policies are signed here with the
 * minted F9 key, the way tests/unit/test_ca_sublevel.c does.
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

#define Y "1.3.6.1.4.1.41482.3"
#define UPN "1.3.6.1.4.1.311.20.2.3"
#define PERMID "1.3.6.1.5.5.7.8.3"
#define SECRET "hunter2-ca-passphrase"

struct fx {
	struct tca t;
	uint8_t *f9;
	size_t f9_len;
};

static struct fx F;
static EVP_PKEY *lint_key; /* a throw-away issuer for the lint tests */
static X509 *lint_ca;

static void lint_ca_make(void);

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	if (tca_setup(&F.t, true, 0) != 0)
		return -1;
	if ((F.f9 = tca_mint_file(&F.t, "f9.pem", &F.f9_len)) == NULL)
		return -1;
	lint_ca_make();
	return lint_ca != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(lint_ca);
	EVP_PKEY_free(lint_key);
	free(F.f9);
	tca_teardown(&F.t);
	return 0;
}

/* --- helpers --- */

static EVP_PKEY *
mint_key(const char *name)
{
	char p[1024];
	EVP_PKEY *k;
	FILE *f;

	tca_path(p, sizeof(p), F.t.mint, name);
	assert_non_null(f = fopen(p, "r"));
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

static X509 *
mint_cert(const char *name)
{
	char p[1024];
	X509 *x;
	FILE *f;

	tca_path(p, sizeof(p), F.t.mint, name);
	assert_non_null(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void
raw_ext(X509 *x, const char *oid, const uint8_t *v, int len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;

	assert_true(
	    o != NULL && os != NULL && ASN1_OCTET_STRING_set(os, v, len));
	assert_non_null(e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os));
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

static uint8_t *
pem_of_cert(X509 *x, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	uint8_t *out;

	assert_true(PEM_write_bio_X509(b, x));
	BIO_get_mem_ptr(b, &m);
	out = malloc(m->length + 1);
	memcpy(out, m->data, m->length);
	out[m->length] = 0;
	*len = m->length;
	BIO_free(b);
	return out;
}

/* A slot statement for key (slot, PIN/touch policy, fw 5.7.4), PEM. */
static uint8_t *
mint_stmt(EVP_PKEY *key, const char *slot, uint8_t pin, uint8_t touch,
    size_t *len)
{
	static const uint8_t fw[] = { 5, 7, 4 };
	static const uint8_t serial[] = { 0x02, 0x04, 0x00, 0xbc, 0x61, 0x4e };
	const uint8_t pol[] = { pin, touch };
	X509 *f9 = mint_cert("f9.pem"), *x = X509_new();
	EVP_PKEY *f9k = mint_key("f9.key");
	X509_NAME *n = X509_NAME_new();
	char cn[64];
	uint8_t *out;

	snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %s", slot);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	assert_true(X509_set_version(x, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 4243) &&
	    X509_set_subject_name(x, n) &&
	    X509_set_issuer_name(x, X509_get_subject_name(f9)) &&
	    ASN1_TIME_set_string(X509_getm_notBefore(x), "20160101000000Z") &&
	    ASN1_TIME_set_string(X509_getm_notAfter(x), "20500101000000Z") &&
	    X509_set_pubkey(x, key));
	raw_ext(x, Y ".3", fw, sizeof(fw));
	raw_ext(x, Y ".7", serial, sizeof(serial));
	raw_ext(x, Y ".8", pol, sizeof(pol));
	assert_true(X509_sign(x, f9k, EVP_sha256()) > 0);
	out = pem_of_cert(x, len);
	X509_NAME_free(n);
	X509_free(x);
	X509_free(f9);
	EVP_PKEY_free(f9k);
	return out;
}

static struct cs_ca_profile *
text_profile(const char *text, enum cs_err want)
{
	struct cs_ca_profile *p = NULL;
	enum cs_err r;

	r = cs_ca_profile_parse(F.t.ctx, "t", (const uint8_t *)text,
	    strlen(text), &p);
	if (r != want)
		fprintf(stderr, "# profile: %s\n", cs_ctx_errmsg(F.t.ctx));
	assert_int_equal(r, want);
	return p;
}

static void
msg_has(const char *want)
{
	const char *m = cs_ctx_errmsg(F.t.ctx);

	if (strstr(m, want) == NULL)
		fprintf(stderr, "# message: %s\n", m);
	assert_non_null(strstr(m, want));
}

/* Issue csr under p with an optional statement (F9 = the minted one). */
static enum cs_err
issue(struct cs_ca *ca, const struct cs_ca_profile *p, const uint8_t *csr,
    size_t csrlen, const uint8_t *stmt, size_t stmtlen, const char *const *vars,
    struct cs_ca_issue_res *res)
{
	struct cs_ca_issue_req req;

	tca_req_init(&req, p, csr, csrlen);
	if (stmt != NULL) {
		req.stmt = stmt;
		req.stmt_len = stmtlen;
		req.f9 = F.f9;
		req.f9_len = F.f9_len;
	}
	req.vars = vars;
	return cs_ca_issue(ca, &req, res);
}

/* A CA of its own in the fixture's directory (for init options). */
static enum cs_err
ca_with(const char *name, const char *arc, const char *extra,
    const char *const *subs, struct cs_ca **out)
{
	struct cs_ca_init_opts o;
	char roots[1024], prof[1024], dir[600];
	enum cs_err r;

	memset(&o, 0, sizeof(o));
	tca_path(roots, sizeof(roots), F.t.mint, "root.pem");
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	tca_path(dir, sizeof(dir), F.t.tmp, name);
	o.roots_path = roots;
	o.profiles_dir = prof;
	o.arc = arc;
	o.extra_policies = extra;
	o.sublevels = subs;
	r = cs_ca_init(F.t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS), out);
	if (r == CS_OK &&
	    cs_ca_unlock(*out, TCA_PASS, strlen(TCA_PASS)) != CS_OK)
		r = CS_ERR_INTERNAL;
	return r;
}

/* --- 1. policy OIDs compared as OIDs --- */

#define HW_HEAD                                                                \
	"[cardsmith]\nlevel = hardware-attested\n"                             \
	"max_level = hardware-attested\nsubject = CN=%{cn}\n"
#define EXT                                                                    \
	"[extensions]\nbasicConstraints = critical,CA:FALSE\n"                 \
	"keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n"

static void
test_guard_profile_oid_must_be_canonical(void **state)
{
	static const char *const spelt[] = {
		"1.3.6.1.4.1.99999.1.1.01", /* leading zero */
		"1.3.6.1.4.1.99999.1.1.", /* trailing dot */
		"1.3.6.1.4.1.99999..1", /* empty arc = 0 */
	};
	char text[512];
	struct cs_ca_profile *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(spelt) / sizeof(*spelt); i++) {
		snprintf(text, sizeof(text), "%spolicy_oid = %s\n%s", HW_HEAD,
		    spelt[i], EXT);
		assert_null(text_profile(text, CS_ERR_MALFORMED));
		msg_has("canonical");
	}
	/* The message names the canonical spelling to write instead. */
	snprintf(text, sizeof(text), "%spolicy_oid = %s\n%s", HW_HEAD, spelt[0],
	    EXT);
	assert_null(text_profile(text, CS_ERR_MALFORMED));
	msg_has("write 1.3.6.1.4.1.99999.1.1.1");
	/* anyPolicy in any spelling. */
	assert_null(text_profile(HW_HEAD "policy_oid = 2.5.29.32.00\n" EXT,
	    CS_ERR_MALFORMED));
	assert_null(text_profile(HW_HEAD "policy_oid = 2.5.29.32.+0\n" EXT,
	    CS_ERR_MALFORMED));
	/* The canonical form parses. */
	p = text_profile(HW_HEAD "policy_oid = 1.3.6.1.4.1.99999.1.1.1\n" EXT,
	    CS_OK);
	cs_ca_profile_free(p);
}

/*
 * The attack: a profile that grants no sub-level writes the sub-level's
 * OID with a leading zero. A string comparison saw "not a sub-level" and
 * the certificate carried the sub-level OID (OpenSSL encodes "01" as 1)
 * for a key whose attested PIN policy is only "once".
 */
static void
test_guard_sublevel_oid_spelling_refused(void **state)
{
	static const char *const subs[] = { "pin-always=pin:always", NULL };
	struct cs_ca *ca = NULL;
	const char *oid;
	char text[512];

	(void)state;
	assert_int_equal(ca_with("subca", NULL, NULL, subs, &ca), CS_OK);
	oid = cs_ca_sublevel_at(ca, 0)->oid; /* <arc>.1.1.1 */
	assert_int_equal(oid[strlen(oid) - 1], '1');
	snprintf(text, sizeof(text), "%spolicy_oid = %.*s01\n%s", HW_HEAD,
	    (int)strlen(oid) - 1, oid, EXT);
	assert_null(text_profile(text, CS_ERR_MALFORMED));
	msg_has("canonical");
	cs_ca_close(ca);
}

/*
 * The guard itself compares parsed OIDs: a CA whose ca.cnf spells a
 * sub-level OID non-canonically (as `ca init --sublevel ...,oid:` used to
 * accept) still refuses the canonical spelling in a profile that was not
 * granted the sub-level.
 */
static void
test_guard_policy_check_compares_objects(void **state)
{
	static const char *const subs[] = {
		"pin-always=pin:always,oid:1.3.6.1.4.1.99999.7.01",
		NULL,
	};
	struct cs_ca_issue_res res;
	struct cs_ca *ca = NULL;
	struct cs_ca_profile *p;
	EVP_PKEY *leaf = mint_key("leaf.key");
	uint8_t *csr, *st;
	size_t csrl, stl;
	enum cs_err r;

	(void)state;
	r = ca_with("subca2", NULL, NULL, subs, &ca);
	if (r == CS_OK) {
		p = text_profile(
		    HW_HEAD "policy_oid = 1.3.6.1.4.1.99999.7.1\n" EXT, CS_OK);
		csr = tca_mint_file(&F.t, "leaf.csr.pem", &csrl);
		st = mint_stmt(leaf, "9a", 2, 1, &stl); /* PIN once */
		r = issue(ca, p, csr, csrl, st, stl, NULL, &res);
		if (r == CS_OK)
			fprintf(stderr, "# issued: %s\n",
			    res.decision.policy_oid);
		assert_int_equal(r, CS_ERR_POLICY);
		msg_has("sub-level pin-always");
		cs_ca_issue_res_release(&res);
		cs_ca_profile_free(p);
		free(csr);
		free(st);
	} else
		assert_null(ca); /* refusing the spelling at init is fine too */
	EVP_PKEY_free(leaf);
	cs_ca_close(ca);
}

static void
test_guard_init_compares_objects(void **state)
{
	struct cs_ca *ca = NULL;

	(void)state;
	/* The CA's own hardware-attested OID, spelt differently. */
	assert_int_not_equal(ca_with("x1", "1.3.6.1.4.1.99999.5",
	                         "software=1.3.6.1.4.1.99999.5.1.01", NULL,
	                         &ca),
	    CS_OK);
	assert_null(ca);
	/* One OID given twice, for two levels. */
	assert_int_not_equal(ca_with("x2", NULL,
	                         "hardware-attested=1.3.6.1.4.1.99999.9.1,"
	                         "hardware-enrolled=1.3.6.1.4.1.99999.9.01",
	                         NULL, &ca),
	    CS_OK);
	assert_null(ca);
	/* anyPolicy in another spelling. */
	assert_int_not_equal(ca_with("x3", NULL, "2.5.29.32.00", NULL, &ca),
	    CS_OK);
	assert_null(ca);
}

static void
test_guard_anypolicy_any_spelling(void **state)
{
	static const char *const subs[] = {
		"a=pin:always,oid:2.5.29.32.00",
		NULL,
	};
	struct cs_verifier *v = NULL;
	struct cs_ca *ca = NULL;

	(void)state;
	assert_int_equal(cs_verify_new(F.t.ctx, &v), CS_OK);
	assert_int_equal(cs_verify_set_policy(v, "2.5.29.32.00"), CS_ERR_ARG);
	assert_int_equal(cs_verify_set_policy(v, "2.5.29.32.0"), CS_ERR_ARG);
	assert_int_equal(cs_verify_set_policy(v, "1.3.6.1.4.1.99999.1"), CS_OK);
	cs_verify_free(v);
	assert_int_not_equal(ca_with("x4", NULL, NULL, subs, &ca), CS_OK);
	assert_null(ca);
}

/*
 * The level map and marker live under the CA's arc and only the CA sets
 * them; an arc spelt with a leading zero in ca.cnf must not let a profile
 * forge a marker under the canonical spelling.
 */
static void
test_guard_arc_extensions_compared_as_oids(void **state)
{
	struct cs_ca_issue_res res;
	struct cs_ca *ca = NULL;
	struct cs_ca_profile *p;
	uint8_t *csr;
	char *c;
	size_t len;
	enum cs_err r;

	(void)state;
	r = ca_with("arcca", "1.3.6.1.4.1.99999.05", NULL, NULL, &ca);
	if (r != CS_OK) { /* refusing the spelling at init is fine too */
		assert_null(ca);
		return;
	}
	p = text_profile("[cardsmith]\nlevel = software\nmax_level = software\n"
	                 "[extensions]\nbasicConstraints = critical,CA:FALSE\n"
	                 "keyUsage = critical,digitalSignature\n"
	                 "1.3.6.1.4.1.99999.5.2.2 = "
	                 "ASN1:UTF8String:hardware-attested\n",
	    CS_OK);
	c = tca_software_csr("Forger", false, NULL, &len);
	csr = (uint8_t *)c;
	r = issue(ca, p, csr, len, NULL, 0, NULL, &res);
	assert_int_equal(r, CS_ERR_POLICY);
	msg_has("under the CA's arc");
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(c);
	cs_ca_close(ca);
}

/* --- 2. no $ENV:: / $var expansion, no .include --- */

#define SW_HEAD "[cardsmith]\nlevel = software\nmax_level = software\n"
#define SW_EXT                                                                 \
	"[extensions]\nbasicConstraints = critical,CA:FALSE\n"                 \
	"keyUsage = critical,digitalSignature\n"

static void
test_guard_profile_never_expands(void **state)
{
	static const struct {
		const char *text;
		const char *line;
	} bad[] = {
		{ SW_HEAD "subject = CN=$ENV::CS_GUARD_SECRET\n" SW_EXT,
		    "line 4" },
		{ SW_HEAD "subject = CN=${ENV::CS_GUARD_SECRET}\n" SW_EXT,
		    "line 4" },
		{ SW_HEAD "subject = CN=$(ENV::CS_GUARD_SECRET)\n" SW_EXT,
		    "line 4" },
		{ SW_HEAD "x = 1\nsubject = CN=$x\n" SW_EXT, "line 5" },
		{ SW_HEAD "subject = 'CN=$ENV::CS_GUARD_SECRET'\n" SW_EXT,
		    "line 4" },
		{ SW_HEAD "subject = CN=a # $ENV::CS_GUARD_SECRET\n" SW_EXT,
		    "line 4" },
		/* A quote opened on a continued line, closed after a '#'. */
		{ SW_HEAD
		    "subject = 'CN=a\\\n#' $ENV::CS_GUARD_SECRET\n" SW_EXT,
		    "line 4" },
		{ SW_HEAD ".include /etc/hostname\n" SW_EXT, "line 4" },
		{ SW_HEAD "cardsmith::.include = /etc/hostname\n" SW_EXT,
		    "line 4" },
		{ SW_HEAD ".pragma dollarid:on\n" SW_EXT, "line 4" },
	};
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	uint8_t *csr;
	char *c;
	size_t i, len;

	(void)state;
	assert_int_equal(setenv("CS_GUARD_SECRET", SECRET, 1), 0);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_null(text_profile(bad[i].text, CS_ERR_MALFORMED));
		assert_null(strstr(cs_ctx_errmsg(F.t.ctx), SECRET));
		msg_has(bad[i].line);
	}
	/* '$' on a comment line is only a comment. */
	c = tca_software_csr("Env", false, NULL, &len);
	csr = (uint8_t *)c;
	p = text_profile("# costs $5, see $HOME\n" SW_HEAD "  # $ENV::X\n"
	                 "subject = CN=%{cn}\n" SW_EXT,
	    CS_OK);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_OK);
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(c);
	unsetenv("CS_GUARD_SECRET");
}

static void
test_guard_profile_refuses_control_bytes(void **state)
{
	(void)state;
	assert_null(text_profile(SW_HEAD "subject = CN=a\x1b[2J\n" SW_EXT,
	    CS_ERR_MALFORMED));
	msg_has("line 4: control character 0x1b");
	/* CRLF line ends are fine. */
	cs_ca_profile_free(text_profile("[cardsmith]\r\nlevel = software\r\n"
	                                "max_level = software\r\n" SW_EXT,
	    CS_OK));
}

/* ca.cnf is read the same way: no expansion from the environment. */
static void
test_guard_ca_cnf_never_expands(void **state)
{
	struct cs_ca *ca = NULL;
	char path[1024], line[512], *text;
	size_t len;
	FILE *f;

	(void)state;
	tca_path(path, sizeof(path), F.t.dir, "ca.cnf");
	assert_non_null(text = (char *)tca_read(path, &len));
	assert_int_equal(setenv("CS_GUARD_ARC", cs_ca_arc(F.t.ca), 1), 0);
	assert_non_null(f = fopen(path, "w"));
	for (char *s = text, *e; *s != '\0'; s = e + (*e != '\0')) {
		e = s + strcspn(s, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)(e - s), s);
		if (strncmp(line, "arc = ", 6) == 0)
			fprintf(f, "arc = $ENV::CS_GUARD_ARC\n");
		else
			fprintf(f, "%s\n", line);
	}
	fclose(f);
	assert_int_not_equal(cs_ca_open(F.t.ctx, F.t.dir, &ca), CS_OK);
	assert_null(ca);
	msg_has("ca.cnf: syntax error at line 3: '$'");
	/* Put it back. */
	assert_non_null(f = fopen(path, "w"));
	fwrite(text, 1, len, f);
	fclose(f);
	assert_int_equal(cs_ca_open(F.t.ctx, F.t.dir, &ca), CS_OK);
	cs_ca_close(ca);
	free(text);
	unsetenv("CS_GUARD_ARC");
}

/* --- 3. lint --- */

/* Add an attribute with exactly these bytes and this ASN.1 type. */
static void
name_raw(X509_NAME *n, int nid, int type, const char *v, size_t len)
{
	assert_true(X509_NAME_add_entry_by_NID(n, nid, type,
	    (const unsigned char *)v, (int)len, -1, 0));
}

static void
san_ia5(GENERAL_NAMES *g, int type, const char *v, size_t len)
{
	GENERAL_NAME *x = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	assert_true(x != NULL && s != NULL && ASN1_STRING_set(s, v, (int)len));
	GENERAL_NAME_set0_value(x, type, s);
	assert_true(sk_GENERAL_NAME_push(g, x));
}

static void
san_other(GENERAL_NAMES *g, const char *oid, int type, const char *v,
    size_t len)
{
	GENERAL_NAME *x = GENERAL_NAME_new();
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_STRING *s = ASN1_STRING_type_new(type);

	assert_true(x != NULL && t != NULL && s != NULL &&
	    ASN1_STRING_set(s, v, (int)len));
	ASN1_TYPE_set(t, type, s);
	assert_true(GENERAL_NAME_set0_othername(x, OBJ_txt2obj(oid, 1), t));
	assert_true(sk_GENERAL_NAME_push(g, x));
}

static void
lint_ca_make(void)
{
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;

	lint_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	lint_ca = X509_new();
	X509_set_version(lint_ca, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(lint_ca), 1);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Guard CA", -1, -1, 0);
	X509_set_subject_name(lint_ca, n);
	X509_set_issuer_name(lint_ca, n);
	X509_set_pubkey(lint_ca, lint_key);
	X509_gmtime_adj(X509_getm_notBefore(lint_ca), -86400);
	X509_gmtime_adj(X509_getm_notAfter(lint_ca), 86400L * 3650);
	X509V3_set_ctx(&v3, lint_ca, lint_ca, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	X509_add_ext(lint_ca, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(lint_ca, lint_key, EVP_sha256());
	X509_NAME_free(n);
}

static void
add_conf_ext(X509 *x, X509V3_CTX *v3, int nid, const char *v)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, v);

	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/*
 * Lint a clean leaf whose subject is n (NULL: CN=Lint Leaf), with SAN
 * gens (may be NULL) and one extra extension (nid 0 for none).
 */
static enum cs_err
lint_leaf(X509_NAME *n, GENERAL_NAMES *gens, int nid, const char *val, char *f,
    size_t cap)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *own = NULL;
	CERTIFICATEPOLICIES *cp = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	X509V3_CTX v3;
	uint8_t *der, *ider;
	size_t len, ilen;
	unsigned char sn[16];
	BIGNUM *bn;
	enum cs_err r;

	if (n == NULL) {
		own = n = X509_NAME_new();
		name_raw(n, NID_commonName, V_ASN1_UTF8STRING, "Lint Leaf", 9);
	}
	X509_set_version(x, 2);
	memset(sn, 0x5a, sizeof(sn));
	sn[0] = 0x41;
	bn = BN_bin2bn(sn, sizeof(sn), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, X509_get_subject_name(lint_ca));
	X509_set_pubkey(x, k);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
	X509V3_set_ctx(&v3, lint_ca, x, NULL, NULL, 0);
	add_conf_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
	add_conf_ext(x, &v3, NID_key_usage, "critical,digitalSignature");
	add_conf_ext(x, &v3, NID_ext_key_usage, "clientAuth");
	add_conf_ext(x, &v3, NID_subject_key_identifier, "hash");
	add_conf_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
	if (gens != NULL)
		assert_true(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
		                0) == 1);
	if (nid != 0)
		add_conf_ext(x, &v3, nid, val);
	ASN1_OBJECT_free(pi->policyid);
	pi->policyid = OBJ_txt2obj("1.3.6.1.4.1.99999.1.1", 1);
	sk_POLICYINFO_push(cp, pi);
	X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, 0);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	assert_true(X509_sign(x, lint_key, EVP_sha256()) > 0);
	der = tca_der(x, &len);
	ider = tca_der(lint_ca, &ilen);
	r = cs_ca_lint(F.t.ctx, der, len, ider, ilen, 0, f, cap);
	free(der);
	free(ider);
	X509_NAME_free(own);
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

static void
lint_name_expect(int nid, int type, const char *v, size_t len,
    const char *finding)
{
	X509_NAME *n = X509_NAME_new();
	char f[CS_CA_REASON_MAX];
	enum cs_err r;

	if (nid != NID_commonName)
		name_raw(n, NID_commonName, V_ASN1_UTF8STRING, "Lint Leaf", 9);
	name_raw(n, nid, type, v, len);
	r = lint_leaf(n, NULL, 0, NULL, f, sizeof(f));
	if (finding == NULL) {
		if (r != CS_OK)
			fprintf(stderr, "# findings: %s\n", f);
		assert_int_equal(r, CS_OK);
	} else {
		assert_int_equal(r, CS_ERR_POLICY);
		if (strstr(f, finding) == NULL)
			fprintf(stderr, "# findings: %s\n", f);
		assert_non_null(strstr(f, finding));
	}
	X509_NAME_free(n);
}

static void
lint_san_expect(int type, const char *oid, int stype, const char *v, size_t len,
    const char *finding)
{
	GENERAL_NAMES *g = GENERAL_NAMES_new();
	char f[CS_CA_REASON_MAX];

	if (type == GEN_OTHERNAME)
		san_other(g, oid, stype, v, len);
	else
		san_ia5(g, type, v, len);
	if (finding == NULL) {
		assert_int_equal(lint_leaf(NULL, g, 0, NULL, f, sizeof(f)),
		    CS_OK);
	} else {
		assert_int_equal(lint_leaf(NULL, g, 0, NULL, f, sizeof(f)),
		    CS_ERR_POLICY);
		if (strstr(f, finding) == NULL)
			fprintf(stderr, "# findings: %s\n", f);
		assert_non_null(strstr(f, finding));
	}
	GENERAL_NAMES_free(g);
}

static void
test_guard_lint_control_and_nul(void **state)
{
	static const char bmp_nul[] = { 0, 'J', 0, 0, 0, 'D' };
	static const char bmp_ok[] = { 0, 'J', 0, 'D' };
	const char *ctl = "NUL or control";

	(void)state;
	/* Subject, every string type. */
	lint_name_expect(NID_commonName, V_ASN1_UTF8STRING, "Jane\0Doe", 8,
	    ctl);
	lint_name_expect(NID_commonName, V_ASN1_UTF8STRING, "Jane\x1b[2J", 8,
	    ctl);
	lint_name_expect(NID_commonName, V_ASN1_UTF8STRING, "Jane\xc2\x9b", 6,
	    ctl); /* C1 CSI */
	lint_name_expect(NID_commonName, V_ASN1_PRINTABLESTRING, "Jane\0Doe", 8,
	    ctl);
	lint_name_expect(NID_commonName, V_ASN1_BMPSTRING, bmp_nul,
	    sizeof(bmp_nul), ctl);
	lint_name_expect(NID_organizationName, V_ASN1_UTF8STRING, "Acme\nCorp",
	    9, ctl);
	lint_name_expect(NID_pkcs9_emailAddress, V_ASN1_IA5STRING,
	    "a@b.example\r", 12, ctl);
	lint_name_expect(NID_commonName, V_ASN1_BMPSTRING, bmp_ok,
	    sizeof(bmp_ok), NULL);
	lint_name_expect(NID_commonName, V_ASN1_UTF8STRING,
	    "Jos\xc3\xa9 M\xc3\xbcller", 13, NULL);
	/* SAN IA5Strings and the UPN. */
	lint_san_expect(GEN_EMAIL, NULL, 0, "jane\0@evil.example", 18,
	    "NUL, control or non-ASCII");
	lint_san_expect(GEN_DNS, NULL, 0, "host.example\0.evil", 18,
	    "NUL, control or non-ASCII");
	lint_san_expect(GEN_DNS, NULL, 0, "host\x7f.example", 13,
	    "NUL, control or non-ASCII");
	lint_san_expect(GEN_URI, NULL, 0, "https://x.example/\x1b", 19,
	    "NUL, control or non-ASCII");
	lint_san_expect(GEN_EMAIL, NULL, 0, "j\xc3\xa9@x.example", 13,
	    "NUL, control or non-ASCII");
	lint_san_expect(GEN_OTHERNAME, UPN, V_ASN1_UTF8STRING, "jane\0@REALM",
	    11, "otherName 0 holds a NUL");
	lint_san_expect(GEN_OTHERNAME, UPN, V_ASN1_UTF8STRING, "jane@REALM", 10,
	    NULL);
	lint_san_expect(GEN_EMAIL, NULL, 0, "jane@x.example", 14, NULL);
}

static void
test_guard_lint_cn_length(void **state)
{
	char cn[65 * 2 + 1];
	size_t i;

	(void)state;
	/* 64 characters of two bytes each pass: the bound is characters. */
	for (i = 0; i < 64; i++)
		memcpy(cn + 2 * i, "\xc3\xa9", 2);
	lint_name_expect(NID_commonName, V_ASN1_UTF8STRING, cn, 128, NULL);
	memcpy(cn + 128, "\xc3\xa9", 2);
	lint_name_expect(NID_commonName, V_ASN1_UTF8STRING, cn, 130,
	    "65 characters, more than 64 (RFC 5280 ub-common-name)");
	memset(cn, 'a', 65);
	lint_name_expect(NID_commonName, V_ASN1_PRINTABLESTRING, cn, 65,
	    "ub-common-name");
}

static void
test_guard_lint_ca_only_extensions(void **state)
{
	char f[CS_CA_REASON_MAX];

	(void)state;
	assert_int_equal(lint_leaf(NULL, NULL, NID_name_constraints,
	                     "critical,permitted;DNS:example.com", f,
	                     sizeof(f)),
	    CS_ERR_POLICY);
	assert_non_null(strstr(f, "nameConstraints in a leaf"));
	assert_int_equal(lint_leaf(NULL, NULL, NID_policy_mappings,
	                     "1.3.6.1.4.1.99999.1:1.3.6.1.4.1.99999.2", f,
	                     sizeof(f)),
	    CS_ERR_POLICY);
	assert_non_null(strstr(f, "policyMappings in a leaf"));
	/* And a profile cannot ask for them. */
	assert_null(text_profile(SW_HEAD SW_EXT
	    "nameConstraints = critical,permitted;DNS:example.com\n",
	    CS_ERR_MALFORMED));
	msg_has("belongs on CA certificates only");
	assert_null(text_profile(SW_HEAD SW_EXT
	    "policyMappings = 1.3.6.1.4.1.99999.1:1.3.6.1.4.1.99999.2\n",
	    CS_ERR_MALFORMED));
	msg_has("policyMappings");
}

/* --- 3b. templates never cut a value --- */

/* A CSR (PEM) for key with subject n and SAN gens (may be NULL). */
static uint8_t *
make_csr(EVP_PKEY *key, X509_NAME *n, GENERAL_NAMES *gens, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	uint8_t *out;

	assert_true(
	    X509_REQ_set_subject_name(req, n) && X509_REQ_set_pubkey(req, key));
	if (gens != NULL) {
		assert_true(X509V3_add1_i2d(&exts, NID_subject_alt_name, gens,
		                0, 0) == 1);
		assert_true(X509_REQ_add_extensions(req, exts));
	}
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	assert_true(PEM_write_bio_X509_REQ(b, req));
	BIO_get_mem_ptr(b, &m);
	out = malloc(m->length + 1);
	memcpy(out, m->data, m->length);
	out[m->length] = 0;
	*len = m->length;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	BIO_free(b);
	X509_REQ_free(req);
	return out;
}

static void
test_guard_template_never_cuts(void **state)
{
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p, *sw;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_NAME *n = X509_NAME_new();
	uint8_t *csr;
	size_t len;

	(void)state;
	/* "alice\0admin" was "alice" in the certificate. */
	name_raw(n, NID_commonName, V_ASN1_UTF8STRING, "alice\0admin", 11);
	csr = make_csr(k, n, NULL, &len);
	p = text_profile(SW_HEAD "subject = CN=%{cn}\n" SW_EXT, CS_OK);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_ERR_POLICY);
	msg_has("NUL or control character");
	msg_has("alice\\x00admin");
	assert_null(res.der);
	cs_ca_issue_res_release(&res);
	/* Without a template the subject is the CSR's: lint refuses it. */
	assert_non_null(sw = tca_profile(&F.t, "software"));
	assert_int_equal(issue(F.t.ca, sw, csr, len, NULL, 0, NULL, &res),
	    CS_ERR_POLICY);
	msg_has("NUL or control");
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(sw);
	cs_ca_profile_free(p);
	free(csr);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}

/* --- 4. the CSR's SAN and subject values --- */

/* The request most tests send: CN=Jane Doe, O=Acme and four SANs. */
static uint8_t *
jane_csr(EVP_PKEY *key, size_t *len)
{
	X509_NAME *n = X509_NAME_new();
	GENERAL_NAMES *g = GENERAL_NAMES_new();
	uint8_t *csr;

	name_raw(n, NID_commonName, V_ASN1_UTF8STRING, "Jane Doe", 8);
	name_raw(n, NID_organizationName, V_ASN1_UTF8STRING, "Acme", 4);
	san_ia5(g, GEN_EMAIL, "jane@example.com", 16);
	san_other(g, UPN, V_ASN1_UTF8STRING, "jane@EXAMPLE.COM", 16);
	san_ia5(g, GEN_DNS, "host.example.com", 16);
	san_ia5(g, GEN_URI, "https://example.com/jane", 24);
	csr = make_csr(key, n, g, len);
	GENERAL_NAMES_free(g);
	X509_NAME_free(n);
	return csr;
}

static X509 *
res_cert(const struct cs_ca_issue_res *res)
{
	const unsigned char *p = res->der;
	X509 *x;

	assert_non_null(res->der);
	assert_non_null(x = d2i_X509(NULL, &p, (long)res->der_len));
	return x;
}

/* How many SAN entries of x have this type and (string) value. */
static int
san_count(const X509 *x, int type, const char *value)
{
	GENERAL_NAMES *g =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const GENERAL_NAME *e;
	const ASN1_STRING *s;
	ASN1_OBJECT *oid;
	ASN1_TYPE *v;
	int i, n = 0;

	for (i = 0; g != NULL && i < sk_GENERAL_NAME_num(g); i++) {
		e = sk_GENERAL_NAME_value(g, i);
		if (e->type != type)
			continue;
		s = NULL;
		if (type == GEN_OTHERNAME) {
			GENERAL_NAME_get0_otherName(e, &oid, &v);
			if (value == NULL) {
				n++;
				continue;
			}
			if (v->type == V_ASN1_UTF8STRING)
				s = v->value.utf8string;
		} else
			s = e->d.ia5;
		if (value == NULL ||
		    (s != NULL &&
		        (size_t)ASN1_STRING_length(s) == strlen(value) &&
		        strncmp((const char *)ASN1_STRING_get0_data(s), value,
		            strlen(value)) == 0))
			n++;
	}
	GENERAL_NAMES_free(g);
	return n;
}

static const struct cs_ca_dropped *
dropped(const struct cs_ca_issue_res *res, const char *field)
{
	size_t i;

	for (i = 0; i < res->ndropped; i++)
		if (strcmp(res->dropped[i].field, field) == 0)
			return &res->dropped[i];
	return NULL;
}

static void
dropped_for(const struct cs_ca_issue_res *res, const char *field,
    const char *value, const char *reason)
{
	const struct cs_ca_dropped *d = dropped(res, field);

	if (d == NULL)
		fprintf(stderr, "# %s not in the dropped list\n", field);
	assert_non_null(d);
	assert_string_equal(d->value, value);
	if (strstr(d->reason, reason) == NULL)
		fprintf(stderr, "# reason: %s\n", d->reason);
	assert_non_null(strstr(d->reason, reason));
}

static void
test_guard_shipped_csr_san_keys(void **state)
{
	struct cs_ca_profile *p;
	struct cs_ca_profile_info in;
	const char *const none[] = { "piv-keymgmt", "piv-keymgmt-rsa",
		"smartcard-logon", "piv-cardauth", "fpki-common-hardware",
		"software" };
	size_t i;

	(void)state;
	assert_non_null(p = tca_profile(&F.t, "piv-auth"));
	cs_ca_profile_get_info(p, &in);
	assert_int_equal(in.csr_san, CS_CA_CSR_SAN_EMAIL | CS_CA_CSR_SAN_UPN);
	cs_ca_profile_free(p);
	assert_non_null(p = tca_profile(&F.t, "piv-sign"));
	cs_ca_profile_get_info(p, &in);
	assert_int_equal(in.csr_san, CS_CA_CSR_SAN_EMAIL | CS_CA_CSR_SAN_UPN);
	cs_ca_profile_free(p);
	for (i = 0; i < sizeof(none) / sizeof(*none); i++) {
		assert_non_null(p = tca_profile(&F.t, none[i]));
		cs_ca_profile_get_info(p, &in);
		assert_int_equal(in.csr_san, 0);
		assert_int_equal(in.ncsr_subject, 0);
		cs_ca_profile_free(p);
	}
	/* Bad values are named. */
	assert_null(text_profile(SW_HEAD "csr_san = email, ip\n" SW_EXT,
	    CS_ERR_MALFORMED));
	msg_has("'ip' is not a SAN type");
	assert_null(text_profile(SW_HEAD "csr_subject = CN\n" SW_EXT,
	    CS_ERR_MALFORMED));
	msg_has("%{cn}");
	assert_null(text_profile(
	    SW_HEAD "csr_subject = notAnAttribute\n" SW_EXT, CS_ERR_MALFORMED));
}

/* piv-sign refused "template needs %{email}" though the CSR had one. */
static void
test_guard_piv_sign_takes_csr_email(void **state)
{
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	EVP_PKEY *leaf = mint_key("leaf.key");
	uint8_t *csr, *st;
	size_t csrl, stl;
	X509 *x;

	(void)state;
	csr = jane_csr(leaf, &csrl);
	st = mint_stmt(leaf, "9c", 3, 1, &stl); /* PIN always */
	assert_non_null(p = tca_profile(&F.t, "piv-sign"));
	if (issue(F.t.ca, p, csr, csrl, st, stl, NULL, &res) != CS_OK)
		fprintf(stderr, "# %s\n", cs_ctx_errmsg(F.t.ctx));
	x = res_cert(&res);
	assert_int_equal(res.decision.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(san_count(x, GEN_EMAIL, "jane@example.com"), 1);
	assert_int_equal(san_count(x, GEN_OTHERNAME, "jane@EXAMPLE.COM"), 1);
	/* Not allowed: dropped, named, never in the certificate. */
	assert_int_equal(san_count(x, GEN_DNS, NULL), 0);
	assert_int_equal(san_count(x, GEN_URI, NULL), 0);
	dropped_for(&res, "san.dns", "host.example.com",
	    "profile piv-sign does not allow DNS SANs from the CSR");
	dropped_for(&res, "san.uri", "https://example.com/jane",
	    "never takes URI SANs");
	dropped_for(&res, "subject.O", "Acme",
	    "profile piv-sign does not take O from the CSR (csr_subject)");
	assert_int_equal(res.ndropped, 3);
	assert_null(dropped(&res, "san.email"));
	X509_free(x);
	cs_ca_issue_res_release(&res);
	/* The officer's --var replaces the CSR's e-mail. */
	{
		const char *const vars[] = { "email=officer@example.com",
			NULL };

		assert_int_equal(
		    issue(F.t.ca, p, csr, csrl, st, stl, vars, &res), CS_OK);
		x = res_cert(&res);
		assert_int_equal(san_count(x, GEN_EMAIL, "officer@example.com"),
		    1);
		assert_int_equal(san_count(x, GEN_EMAIL, "jane@example.com"),
		    0);
		dropped_for(&res, "san.email", "jane@example.com",
		    "--var email replaces");
		X509_free(x);
		cs_ca_issue_res_release(&res);
	}
	cs_ca_profile_free(p);
	free(csr);
	free(st);
	EVP_PKEY_free(leaf);
}

static void
test_guard_piv_auth_takes_email_and_upn(void **state)
{
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	EVP_PKEY *leaf = mint_key("leaf.key");
	uint8_t *csr, *st;
	size_t csrl, stl;
	X509 *x;

	(void)state;
	csr = jane_csr(leaf, &csrl);
	st = mint_stmt(leaf, "9a", 2, 1, &stl);
	assert_non_null(p = tca_profile(&F.t, "piv-auth"));
	assert_int_equal(issue(F.t.ca, p, csr, csrl, st, stl, NULL, &res),
	    CS_OK);
	x = res_cert(&res);
	assert_int_equal(san_count(x, GEN_EMAIL, "jane@example.com"), 1);
	assert_int_equal(san_count(x, GEN_OTHERNAME, "jane@EXAMPLE.COM"), 1);
	assert_int_equal(san_count(x, GEN_OTHERNAME, NULL), 2); /* + serial */
	assert_int_equal(san_count(x, GEN_DNS, NULL), 0);
	X509_free(x);
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(csr);
	free(st);
	EVP_PKEY_free(leaf);
}

static void
test_guard_keymgmt_never_takes_csr_email(void **state)
{
	const char *const vars[] = { "email=officer@example.com", NULL };
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	EVP_PKEY *leaf = mint_key("leaf.key");
	uint8_t *csr, *st;
	size_t csrl, stl;
	X509 *x;

	(void)state;
	csr = jane_csr(leaf, &csrl);
	st = mint_stmt(leaf, "9d", 2, 1, &stl);
	assert_non_null(p = tca_profile(&F.t, "piv-keymgmt"));
	/* No --var: the refusal says why the CSR's e-mail does not count. */
	assert_int_equal(issue(F.t.ca, p, csr, csrl, st, stl, NULL, &res),
	    CS_ERR_POLICY);
	msg_has("template needs %{email}");
	msg_has("san.email 'jane@example.com' was not taken: profile "
	        "piv-keymgmt does not allow email SANs from the CSR");
	assert_null(res.dropped);
	cs_ca_issue_res_release(&res);
	assert_int_equal(issue(F.t.ca, p, csr, csrl, st, stl, vars, &res),
	    CS_OK);
	x = res_cert(&res);
	assert_int_equal(san_count(x, GEN_EMAIL, NULL), 1);
	assert_int_equal(san_count(x, GEN_EMAIL, "officer@example.com"), 1);
	assert_int_equal(san_count(x, GEN_OTHERNAME, "jane@EXAMPLE.COM"), 0);
	dropped_for(&res, "san.email", "jane@example.com",
	    "profile piv-keymgmt does not allow email SANs from the CSR "
	    "(csr_san)");
	dropped_for(&res, "san.upn", "jane@EXAMPLE.COM",
	    "does not allow UPN SANs");
	X509_free(x);
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(csr);
	free(st);
	EVP_PKEY_free(leaf);
}

static void
test_guard_allowed_values_refused_not_cut(void **state)
{
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_NAME *n = X509_NAME_new();
	GENERAL_NAMES *g = GENERAL_NAMES_new();
	uint8_t *csr;
	size_t len;

	(void)state;
	p = text_profile(SW_HEAD "csr_san = email, upn, dns\n"
	                         "subject = CN=%{cn}\n" SW_EXT,
	    CS_OK);
	name_raw(n, NID_commonName, V_ASN1_UTF8STRING, "Jane", 4);
	san_ia5(g, GEN_EMAIL, "jane@example.com\0.evil", 22);
	csr = make_csr(k, n, g, &len);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_ERR_POLICY);
	msg_has("never cut");
	cs_ca_issue_res_release(&res);
	free(csr);
	GENERAL_NAMES_free(g);
	g = GENERAL_NAMES_new();
	san_other(g, UPN, V_ASN1_UTF8STRING, "jane\x1b@REALM", 11);
	csr = make_csr(k, n, g, &len);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_ERR_POLICY);
	msg_has("NUL or control character");
	cs_ca_issue_res_release(&res);
	free(csr);
	GENERAL_NAMES_free(g);
	/* A DNS SAN, allowed here, is copied as requested. */
	g = GENERAL_NAMES_new();
	san_ia5(g, GEN_DNS, "host.example.com", 16);
	san_other(g, PERMID, V_ASN1_UTF8STRING, "99999999", 8);
	csr = make_csr(k, n, g, &len);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_OK);
	{
		X509 *x = res_cert(&res);

		assert_int_equal(san_count(x, GEN_DNS, "host.example.com"), 1);
		assert_int_equal(san_count(x, GEN_OTHERNAME, NULL), 0);
		X509_free(x);
	}
	dropped_for(&res, "san.permanent_identifier", "99999999",
	    "comes only from the attestation");
	cs_ca_issue_res_release(&res);
	free(csr);
	GENERAL_NAMES_free(g);
	cs_ca_profile_free(p);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}

static void
test_guard_csr_subject_attributes(void **state)
{
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_NAME *n = X509_NAME_new();
	char line[256];
	uint8_t *csr;
	size_t len;
	X509 *x;

	(void)state;
	name_raw(n, NID_commonName, V_ASN1_UTF8STRING, "Jane", 4);
	name_raw(n, NID_organizationName, V_ASN1_UTF8STRING, "Acme", 4);
	name_raw(n, NID_organizationalUnitName, V_ASN1_UTF8STRING, "Ops", 3);
	csr = make_csr(k, n, NULL, &len);
	p = text_profile(SW_HEAD "csr_subject = O, organizationalUnitName\n"
	                         "subject = CN=%{cn},O=%{o}\n" SW_EXT,
	    CS_OK);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_OK);
	x = res_cert(&res);
	/* RFC 4514 text: the last RDN written is the first in DER. */
	X509_NAME_oneline(X509_get_subject_name(x), line, sizeof(line));
	assert_string_equal(line, "/O=Acme/CN=Jane");
	dropped_for(&res, "subject.OU", "Ops",
	    "the templates of profile t do not use %{ou}");
	assert_int_equal(res.ndropped, 1);
	X509_free(x);
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	/* Not allowed: the template cannot have it, and says why. */
	p = text_profile(SW_HEAD "subject = CN=%{cn},O=%{o}\n" SW_EXT, CS_OK);
	assert_int_equal(issue(F.t.ca, p, csr, len, NULL, 0, NULL, &res),
	    CS_ERR_POLICY);
	msg_has("does not take O from the CSR (csr_subject)");
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(csr);
	X509_NAME_free(n);
	EVP_PKEY_free(k);
}

/* --- 5. the shipped profiles --- */

/* Every "name.cnf" token in text names a file in profiles/. */
static void
cnf_refs_exist(const char *text, const char *where)
{
	char path[1024], name[128], rel[160];
	const char *p, *s;
	size_t len;
	uint8_t *f;

	for (p = text; (p = strstr(p, ".cnf")) != NULL; p += 4) {
		for (s = p; s > text &&
		     ((s[-1] >= 'a' && s[-1] <= 'z') ||
		         (s[-1] >= '0' && s[-1] <= '9') || s[-1] == '-' ||
		         s[-1] == '_');
		     s--)
			;
		if (s == p || (size_t)(p - s) >= sizeof(name) ||
		    (p - s == 2 && strncmp(s, "ca", 2) == 0))
			continue; /* NAME.cnf, ca.cnf (the CA's own) */
		snprintf(name, sizeof(name), "%.*s.cnf", (int)(p - s), s);
		snprintf(rel, sizeof(rel), "profiles/%s", name);
		tca_path(path, sizeof(path), tca_src(), rel);
		if ((f = tca_read(path, &len)) == NULL)
			fprintf(stderr, "# %s names %s, which does not exist\n",
			    where, name);
		assert_non_null(f);
		free(f);
	}
}

static void
test_guard_shipped_profiles_resolve(void **state)
{
	char path[1024], name[128], pdir[1024];
	const char *keys[] = { "level", "max_level", "slots", "algs",
		"min_pin_policy", "min_touch_policy", "validity_days",
		"subject", "san", "policy_oid", "permanent_identifier",
		"marker", "firmware_roca", "firmware_ysa_2024_03",
		"firmware_fips_rng", "extensions", "sublevels", "csr_san",
		"csr_subject" };
	struct cs_ca_profile *p;
	struct dirent *e;
	char *readme, *text, *row;
	size_t len, n, count = 0, i;
	DIR *d;

	(void)state;
	tca_path(pdir, sizeof(pdir), tca_src(), "profiles");
	tca_path(path, sizeof(path), pdir, "README.md");
	assert_non_null(readme = (char *)tca_read(path, &len));
	cnf_refs_exist(readme, "profiles/README.md");
	assert_non_null(d = opendir(pdir));
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".cnf") != 0)
			continue;
		count++;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), e->d_name);
		/* Loads in a CA: sections, sub-levels and @refs resolve. */
		assert_non_null(p = tca_profile(&F.t, name));
		cs_ca_profile_free(p);
		tca_path(path, sizeof(path), pdir, e->d_name);
		assert_non_null(text = (char *)tca_read(path, &len));
		cnf_refs_exist(text, e->d_name);
		/* Listed in the README's table. */
		snprintf(path, sizeof(path), "| `%s` |", name);
		if (strstr(readme, path) == NULL)
			fprintf(stderr, "# %s is not in profiles/README.md\n",
			    name);
		assert_non_null(strstr(readme, path));
		free(text);
	}
	closedir(d);
	assert_true(count >= 8);
	/* Every row of the README's profile table names a shipped one. */
	assert_non_null(row = strstr(readme, "\n| profile |"));
	for (row = strchr(row + 1, '\n'); row != NULL && row[1] == '|';
	     row = strchr(row + 1, '\n')) {
		const char *s = row + 1, *q;
		char rel[200];
		uint8_t *f;

		if (strncmp(s, "| `", 3) != 0)
			continue; /* the |---| line */
		s += 3;
		assert_non_null(q = strchr(s, '`'));
		snprintf(name, sizeof(name), "%.*s", (int)(q - s), s);
		snprintf(rel, sizeof(rel), "profiles/%s.cnf", name);
		tca_path(path, sizeof(path), tca_src(), rel);
		if ((f = tca_read(path, &len)) == NULL)
			fprintf(stderr, "# README lists %s, not shipped\n",
			    name);
		assert_non_null(f);
		free(f);
	}
	/* Every [cardsmith] key is documented. */
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		snprintf(name, sizeof(name), "`%s`", keys[i]);
		if (strstr(readme, name) == NULL)
			fprintf(stderr, "# key %s undocumented\n", keys[i]);
		assert_non_null(strstr(readme, name));
	}
	free(readme);
}

/* A 9D certificate for an RSA-2048 card key: keyEncipherment. */
static void
test_guard_rsa_keymgmt_profile(void **state)
{
	const char *const vars[] = { "email=jane@example.com", NULL };
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p, *ec;
	EVP_PKEY *rsa = mint_key("rsa.key");
	ASN1_BIT_STRING *ku;
	uint8_t *csr, *st;
	size_t csrl, stl;
	X509 *x;

	(void)state;
	csr = tca_mint_file(&F.t, "rsa.csr.pem", &csrl);
	st = mint_stmt(rsa, "9d", 2, 1, &stl);
	assert_non_null(p = tca_profile(&F.t, "piv-keymgmt-rsa"));
	if (issue(F.t.ca, p, csr, csrl, st, stl, vars, &res) != CS_OK)
		fprintf(stderr, "# %s\n", cs_ctx_errmsg(F.t.ctx));
	x = res_cert(&res);
	assert_int_equal(res.decision.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(res.decision.slot, 0x9d);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(x)),
	    EVP_PKEY_RSA);
	assert_non_null(ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL));
	assert_true(ASN1_BIT_STRING_get_bit(ku, 2)); /* keyEncipherment */
	assert_false(ASN1_BIT_STRING_get_bit(ku, 4)); /* keyAgreement */
	ASN1_BIT_STRING_free(ku);
	X509_free(x);
	cs_ca_issue_res_release(&res);
	/* The EC profile refuses the RSA key and the RSA one an EC key. */
	assert_non_null(ec = tca_profile(&F.t, "piv-keymgmt"));
	assert_int_equal(issue(F.t.ca, ec, csr, csrl, st, stl, vars, &res),
	    CS_ERR_POLICY);
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(ec);
	cs_ca_profile_free(p);
	free(csr);
	free(st);
	EVP_PKEY_free(rsa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_profile_oid_must_be_canonical),
		cmocka_unit_test(test_guard_sublevel_oid_spelling_refused),
		cmocka_unit_test(test_guard_policy_check_compares_objects),
		cmocka_unit_test(test_guard_init_compares_objects),
		cmocka_unit_test(test_guard_anypolicy_any_spelling),
		cmocka_unit_test(test_guard_arc_extensions_compared_as_oids),
		cmocka_unit_test(test_guard_profile_never_expands),
		cmocka_unit_test(test_guard_profile_refuses_control_bytes),
		cmocka_unit_test(test_guard_ca_cnf_never_expands),
		cmocka_unit_test(test_guard_lint_control_and_nul),
		cmocka_unit_test(test_guard_lint_cn_length),
		cmocka_unit_test(test_guard_lint_ca_only_extensions),
		cmocka_unit_test(test_guard_template_never_cuts),
		cmocka_unit_test(test_guard_shipped_csr_san_keys),
		cmocka_unit_test(test_guard_piv_sign_takes_csr_email),
		cmocka_unit_test(test_guard_piv_auth_takes_email_and_upn),
		cmocka_unit_test(test_guard_keymgmt_never_takes_csr_email),
		cmocka_unit_test(test_guard_allowed_values_refused_not_cut),
		cmocka_unit_test(test_guard_csr_subject_attributes),
		cmocka_unit_test(test_guard_shipped_profiles_resolve),
		cmocka_unit_test(test_guard_rsa_keymgmt_profile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
