/*
 * Unit tests for lib/csr.c: the subject and SAN parsers, PEM helpers, and
 * requests and self-signed certificates signed on the in-process simulator
 * (tests/support/sim_transport) with real keys, checked with OpenSSL, with
 * lib/attest.c reading the embedded attestation back, and with the
 * openssl CLI.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/cardsmith.h"
#include "applet.h"
#include "simcrypto.h"
#include "sim_transport.h"

#include "banned.h"

#include "x509_int.h"

#define OID_STMT "1.3.6.1.4.1.41482.3.1"
#define OID_STMT_OLD "1.3.6.1.4.1.41482.3.11"
#define OID_F9 "1.3.6.1.4.1.41482.3.2"

/* --- fixtures --- */

/* Built once: vendor CA and one F9 key/certificate for every card. */
static struct {
	char vendor[64];
	uint8_t *f9key, *f9cert;
	size_t f9keylen, f9certlen;
} G;

struct S {
	struct cs_ctx *ctx;
	struct sim_card *sim;
	struct cs_card *card;
};

#define CHECK(s, call) \
	do { \
		enum cs_err r_ = (call); \
		if (r_ != CS_OK) \
			fail_msg("%s: %s (%s)", #call, cs_errname(r_), \
			    cs_ctx_errmsg((s)->ctx)); \
	} while (0)

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_setup(void **state)
{
	struct sim_device_info dev = { { 5, 7, 4 }, 20250001, 1, false, false, false };
	struct cs_buf kb = CS_BUF_INIT_SECRET(16384);
	struct sim_key *f9 = NULL;
	enum cs_err r;

	(void)state;
	snprintf(G.vendor, sizeof(G.vendor), "/tmp/cs-csr-XXXXXX");
	if (mkdtemp(G.vendor) == NULL || rmdir(G.vendor) != 0 ||
	    sim_vendor_init(G.vendor) != CS_OK ||
	    sim_vendor_issue_f9(G.vendor, &dev, &f9, &G.f9cert,
	    &G.f9certlen) != CS_OK)
		return -1;
	r = sim_key_to_der(f9, &kb);
	sim_key_free(f9);
	if (r != CS_OK || cs_buf_take(&kb, &G.f9key, &G.f9keylen) != CS_OK)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	cs_free_secret(G.f9key, G.f9keylen);
	cs_free(G.f9cert);
	if (G.vendor[0] != '\0')
		(void)nftw(G.vendor, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* A factory-fresh YubiKey with attestation, opened. */
static int
open_sim(void **state, uint8_t minor, uint8_t patch)
{
	struct sim_card_config cfg = { { 5, minor, patch }, 20250001 };
	struct S *s = calloc(1, sizeof(*s));
	struct sim_key *f9 = NULL;
	struct cs_transport *t = NULL;

	if (s == NULL || cs_ctx_new(&s->ctx) != CS_OK ||
	    sim_card_new(&cfg, &s->sim) != CS_OK ||
	    sim_key_from_der(CS_PIV_ALG_RSA2048, G.f9key, G.f9keylen,
	    &f9) != CS_OK ||
	    sim_card_set_attestation(s->sim, f9, G.f9cert, G.f9certlen) !=
	    CS_OK ||
	    cs_sim_transport_new(s->sim, &t) != CS_OK)
		return -1;
	if (cs_card_open(s->ctx, t, 0, &s->card) != CS_OK) {
		cs_transport_close(t);
		return -1;
	}
	*state = s;
	return 0;
}

static int
setup(void **state)
{
	return open_sim(state, 7, 4);
}

/* Firmware 5.2: ATTEST but no GET METADATA. */
static int
setup_old(void **state)
{
	return open_sim(state, 2, 7);
}

static int
teardown(void **state)
{
	struct S *s = *state;

	cs_card_close(s->card);
	sim_card_free(s->sim);
	cs_ctx_free(s->ctx);
	free(s);
	return 0;
}

/* A context for the parser tests. */
static int
ctx_setup(void **state)
{
	struct cs_ctx *ctx = NULL;

	if (cs_ctx_new(&ctx) != CS_OK)
		return -1;
	*state = ctx;
	return 0;
}

static int
ctx_teardown(void **state)
{
	cs_ctx_free(*state);
	return 0;
}

/* --- helpers --- */

static X509_NAME *
name_ok(struct cs_ctx *ctx, const char *s)
{
	X509_NAME *n = NULL;
	enum cs_err r = cs_x509_name_parse(ctx, s, &n);

	if (r != CS_OK)
		fail_msg("\"%s\": %s (%s)", s, cs_errname(r),
		    cs_ctx_errmsg(ctx));
	assert_non_null(n);
	return n;
}

/* RFC 2253/4514 rendering of a name, for comparisons. */
static void
name_str(const X509_NAME *n, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long len;

	assert_non_null(b);
	assert_true(X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 &
	    ~ASN1_STRFLGS_ESC_MSB) >= 0);
	len = BIO_get_mem_data(b, &p);
	assert_true(len >= 0 && (size_t)len < cap);
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
	BIO_free(b);
}

/* Entry i in DER order: short name, value bytes, RDN set index. */
static void
entry_is(const X509_NAME *n, int i, int nid, const char *val, int set)
{
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
	const ASN1_STRING *d;

	assert_non_null(e);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)), nid);
	d = X509_NAME_ENTRY_get_data(e);
	assert_int_equal(ASN1_STRING_length(d), (int)strlen(val));
	assert_memory_equal(ASN1_STRING_get0_data(d), val, strlen(val));
	assert_int_equal(X509_NAME_ENTRY_set(e), set);
}

static uint8_t *
gen_key(struct S *s, uint8_t slot, uint8_t alg, size_t *len)
{
	struct cs_piv_keygen kg = { slot, alg, 0, 0 };
	const uint8_t *key;
	uint8_t *spki = NULL;
	size_t klen;

	key = cs_piv_default_mgm_key(&klen);
	CHECK(s, cs_piv_authenticate(s->card, 0, key, klen));
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, len));
	return spki;
}

static X509_REQ *
csr_parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);

	assert_non_null(req);
	assert_ptr_equal(p, der + len);
	return req;
}

static X509 *
cert_parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

static void
key_is_spki(EVP_PKEY *k, const uint8_t *spki, size_t slen)
{
	unsigned char *d = NULL;
	int n = i2d_PUBKEY(k, &d);

	assert_int_equal(n, (int)slen);
	assert_memory_equal(d, spki, slen);
	OPENSSL_free(d);
}

static void
sigalg_is(const X509_ALGOR *alg, int nid, int ptype)
{
	const ASN1_OBJECT *obj = NULL;
	const void *pval = NULL;
	int pt = -1;

	X509_ALGOR_get0(&obj, &pt, &pval, alg);
	assert_int_equal(OBJ_obj2nid(obj), nid);
	assert_int_equal(pt, ptype);
}

/* Build, parse and check a CSR for the key spki in slot. */
static X509_REQ *
build_checked(struct S *s, uint8_t slot, const struct cs_csr_req *req,
    const uint8_t *spki, size_t slen, int nid, int ptype)
{
	uint8_t *der = NULL;
	size_t len = 0;
	X509_REQ *x;
	const X509_ALGOR *alg = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	EVP_PKEY *pk;

	CHECK(s, cs_csr_build(s->card, slot, req, &der, &len));
	x = csr_parse(der, len);
	cs_free(der);
	assert_int_equal(X509_REQ_get_version(x), 0);
	pk = X509_REQ_get0_pubkey(x);
	assert_non_null(pk);
	key_is_spki(pk, spki, slen);
	assert_int_equal(X509_REQ_verify(x, pk), 1);
	X509_REQ_get0_signature(x, &sig, &alg);
	sigalg_is(alg, nid, ptype);
	return x;
}

/* The subjectAltName of an extension stack, decoded. */
static GENERAL_NAMES *
exts_san(const STACK_OF(X509_EXTENSION) *exts)
{
	return X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
}

/* Value of the extension oid in exts, or NULL; *crit its flag. */
static const ASN1_OCTET_STRING *
ext_value(const STACK_OF(X509_EXTENSION) *exts, const char *oid, int *crit)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = X509v3_get_ext_by_OBJ(exts, obj, -1);
	X509_EXTENSION *e;

	ASN1_OBJECT_free(obj);
	if (i < 0)
		return NULL;
	e = X509v3_get_ext(exts, i);
	*crit = X509_EXTENSION_get_critical(e);
	return X509_EXTENSION_get_data(e);
}

/* --- subject parser --- */

static void
test_csr_name_rfc4514_order(void **state)
{
	struct cs_ctx *ctx = *state;
	X509_NAME *n = name_ok(ctx, "CN=Jane Doe,O=Example,C=DE");
	char buf[256];

	/* RFC 4514 §2.1: the string starts with the last RDN */
	assert_int_equal(X509_NAME_entry_count(n), 3);
	entry_is(n, 0, NID_countryName, "DE", 0);
	entry_is(n, 1, NID_organizationName, "Example", 1);
	entry_is(n, 2, NID_commonName, "Jane Doe", 2);
	name_str(n, buf, sizeof(buf));
	assert_string_equal(buf, "CN=Jane Doe,O=Example,C=DE");
	/* CN is a UTF8String, C a PrintableString (RFC 5280 appendix A) */
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, 2))), V_ASN1_UTF8STRING);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, 0))), V_ASN1_PRINTABLESTRING);
	X509_NAME_free(n);
}

/*
 * The order documented in x509_ossl.h, which ca/ relies on too: the same
 * name written both ways gives the same DER, root-CA style.
 */
static void
test_csr_name_forms_share_one_order(void **state)
{
	struct cs_ctx *ctx = *state;
	X509_NAME *a = name_ok(ctx, "CN=Root,OU=PKI+L=Berlin,O=Example,C=DE");
	X509_NAME *b = name_ok(ctx, "/C=DE/O=Example/L=Berlin/CN=Root");
	X509_NAME *c = name_ok(ctx, "CN=Root,O=Example,C=DE");
	char buf[256];

	/* RFC 4514: last written RDN first in DER, '+' AVAs in written order */
	assert_int_equal(X509_NAME_entry_count(a), 5);
	entry_is(a, 0, NID_countryName, "DE", 0);
	entry_is(a, 1, NID_organizationName, "Example", 1);
	entry_is(a, 2, NID_organizationalUnitName, "PKI", 2);
	entry_is(a, 3, NID_localityName, "Berlin", 2);
	entry_is(a, 4, NID_commonName, "Root", 3);
	/* OpenSSL form: written order is DER order */
	entry_is(b, 0, NID_countryName, "DE", 0);
	entry_is(b, 3, NID_commonName, "Root", 3);
	name_str(c, buf, sizeof(buf));
	assert_string_equal(buf, "CN=Root,O=Example,C=DE");
	X509_NAME_free(b);
	b = name_ok(ctx, "/C=DE/O=Example/CN=Root");
	assert_int_equal(X509_NAME_cmp(b, c), 0);
	X509_NAME_free(a);
	X509_NAME_free(b);
	X509_NAME_free(c);
}

static void
test_csr_name_openssl_form(void **state)
{
	struct cs_ctx *ctx = *state;
	X509_NAME *n = name_ok(ctx, "/CN=Jane Doe/O=Example/");

	/* written in DER order; one trailing '/' is allowed */
	assert_int_equal(X509_NAME_entry_count(n), 2);
	entry_is(n, 0, NID_commonName, "Jane Doe", 0);
	entry_is(n, 1, NID_organizationName, "Example", 1);
	X509_NAME_free(n);
	/* '\' escapes the separator; '+' and ',' are literal here */
	n = name_ok(ctx, "/CN=a\\/b/O=x+y, z");
	assert_int_equal(X509_NAME_entry_count(n), 2);
	entry_is(n, 0, NID_commonName, "a/b", 0);
	entry_is(n, 1, NID_organizationName, "x+y, z", 1);
	X509_NAME_free(n);
}

static void
test_csr_name_escapes_and_spaces(void **state)
{
	struct cs_ctx *ctx = *state;
	X509_NAME *n;

	n = name_ok(ctx, "CN=Doe\\, Jane , O = A\\+B\\;C ,OU=\\4A\\C3\\A9");
	assert_int_equal(X509_NAME_entry_count(n), 3);
	entry_is(n, 0, NID_organizationalUnitName, "J\xC3\xA9", 0);
	entry_is(n, 1, NID_organizationName, "A+B;C", 1);
	entry_is(n, 2, NID_commonName, "Doe, Jane", 2);
	X509_NAME_free(n);
	/* an escaped trailing or leading space is kept, '=' may be bare */
	n = name_ok(ctx, "CN=\\ a=b\\ ");
	entry_is(n, 0, NID_commonName, " a=b ", 0);
	X509_NAME_free(n);
	/* an escaped '#' at the start is a plain character */
	n = name_ok(ctx, "CN=\\#1");
	entry_is(n, 0, NID_commonName, "#1", 0);
	X509_NAME_free(n);
}

static void
test_csr_name_multivalued_rdn(void **state)
{
	struct cs_ctx *ctx = *state;
	X509_NAME *n = name_ok(ctx, "CN=Jane+UID=jd,O=Example");
	char buf[256];

	assert_int_equal(X509_NAME_entry_count(n), 3);
	entry_is(n, 0, NID_organizationName, "Example", 0);
	entry_is(n, 1, NID_commonName, "Jane", 1);
	entry_is(n, 2, NID_userId, "jd", 1);
	/* OpenSSL prints every entry reversed, within the RDN too */
	name_str(n, buf, sizeof(buf));
	assert_string_equal(buf, "UID=jd+CN=Jane,O=Example");
	X509_NAME_free(n);
}

static void
test_csr_name_oid_and_long_types(void **state)
{
	struct cs_ctx *ctx = *state;
	X509_NAME *n = name_ok(ctx,
	    "2.5.4.3=by oid,1.3.6.1.4.1.99999.1=private,emailAddress=a@b.c,"
	    "organizationName=Long");
	const X509_NAME_ENTRY *e;
	char oid[64];

	assert_int_equal(X509_NAME_entry_count(n), 4);
	entry_is(n, 0, NID_organizationName, "Long", 0);
	entry_is(n, 1, NID_pkcs9_emailAddress, "a@b.c", 1);
	e = X509_NAME_get_entry(n, 2);
	assert_true(OBJ_obj2txt(oid, sizeof(oid),
	    X509_NAME_ENTRY_get_object(e), 1) > 0);
	assert_string_equal(oid, "1.3.6.1.4.1.99999.1");
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
	    V_ASN1_UTF8STRING);
	entry_is(n, 3, NID_commonName, "by oid", 3);
	/* emailAddress is an IA5String (PKCS #9) */
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(n, 1))), V_ASN1_IA5STRING);
	X509_NAME_free(n);
}

static void
test_csr_name_rejects_bad_input(void **state)
{
	static const struct {
		const char *in;
		const char *msg; /* substring of the error */
	} bad[] = {
		{ "", "subject: empty" },
		{ "/", "subject: empty" },
		{ "CN", "\"CN\": expected type=value" },
		{ "CN=a,O", "\"O\": expected type=value" },
		{ "FOO=bar", "unknown attribute type \"FOO\"" },
		{ "CN=x,1.2.x=y", "unknown attribute type \"1.2.x\"" },
		{ "=x", "attribute type missing" },
		{ "CN=", "\"CN=\": empty value" },
		{ "CN=a,", "ends with ','" },
		{ "CN=a+", "ends with '+'" },
		{ "/CN=a//", "\"\": expected type=value" },
		{ "CN=a\\", "dangling '\\'" },
		{ "CN=a;b", "';' must be escaped" },
		{ "CN=#04", "'#' must be escaped" },
		{ "CN=\"q\"", "'\"' must be escaped" },
		{ "C=DEU", "\"C=DEU\": value not allowed for C" },
		{ "CN=\\ff\\fe", "value not allowed for CN" },
		{ "O=ok,CN=bad\xff", "\"CN=bad\xff\": value not allowed" },
	};
	struct cs_ctx *ctx = *state;
	X509_NAME *n;
	char big[5000];
	size_t i;
	enum cs_err r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = (X509_NAME *)1;
		r = cs_x509_name_parse(ctx, bad[i].in, &n);
		if (r != CS_ERR_ARG || strstr(cs_ctx_errmsg(ctx),
		    bad[i].msg) == NULL)
			fail_msg("\"%s\": %s \"%s\", want \"%s\"", bad[i].in,
			    cs_errname(r), cs_ctx_errmsg(ctx), bad[i].msg);
		assert_null(n);
	}
	assert_int_equal(cs_x509_name_parse(ctx, NULL, &n), CS_ERR_ARG);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "CN=", 3);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cs_x509_name_parse(ctx, big, &n), CS_ERR_LIMIT);
	assert_null(n);
	/* no OpenSSL error is left behind for a later call */
	assert_int_equal(ERR_peek_error(), 0);
}

/* --- subject alternative names --- */

static void
test_csr_san_each_kind(void **state)
{
	static const char *const sans[] = {
		"email:jane@example.com",
		"DNS:host.example.com",
		"uri:https://example.com/x",
		"ip:10.0.0.1",
		"ip:2001:db8::1",
		"upn:jane@corp.example",
		NULL,
	};
	/* otherName { 1.3.6.1.4.1.311.20.2.3, [0] { UTF8String } } */
	static const uint8_t upn_der[] = {
		0xA0, 0x21, 0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82,
		0x37, 0x14, 0x02, 0x03, 0xA0, 0x13, 0x0C, 0x11, 'j', 'a', 'n',
		'e', '@', 'c', 'o', 'r', 'p', '.', 'e', 'x', 'a', 'm', 'p',
		'l', 'e',
	};
	static const uint8_t ip4[] = { 10, 0, 0, 1 };
	static const uint8_t ip6[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 1 };
	struct cs_ctx *ctx = *state;
	GENERAL_NAMES *g = NULL;
	GENERAL_NAME *e;
	unsigned char *d = NULL;
	const ASN1_STRING *v;
	int type, n;

	assert_int_equal(cs_x509_san_parse(ctx, sans, &g), CS_OK);
	assert_int_equal(sk_GENERAL_NAME_num(g), 6);
	e = sk_GENERAL_NAME_value(g, 0);
	v = GENERAL_NAME_get0_value(e, &type);
	assert_int_equal(type, GEN_EMAIL);
	assert_int_equal(ASN1_STRING_type(v), V_ASN1_IA5STRING);
	assert_memory_equal(ASN1_STRING_get0_data(v), "jane@example.com", 16);
	v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, 1), &type);
	assert_int_equal(type, GEN_DNS);
	assert_int_equal(ASN1_STRING_length(v), 16);
	assert_memory_equal(ASN1_STRING_get0_data(v), "host.example.com", 16);
	v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, 2), &type);
	assert_int_equal(type, GEN_URI);
	assert_memory_equal(ASN1_STRING_get0_data(v),
	    "https://example.com/x", 21);
	v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, 3), &type);
	assert_int_equal(type, GEN_IPADD);
	assert_int_equal(ASN1_STRING_length(v), 4);
	assert_memory_equal(ASN1_STRING_get0_data(v), ip4, 4);
	v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(g, 4), &type);
	assert_int_equal(ASN1_STRING_length(v), 16);
	assert_memory_equal(ASN1_STRING_get0_data(v), ip6, 16);
	n = i2d_GENERAL_NAME(sk_GENERAL_NAME_value(g, 5), &d);
	assert_int_equal(n, (int)sizeof(upn_der));
	assert_memory_equal(d, upn_der, sizeof(upn_der));
	OPENSSL_free(d);
	GENERAL_NAMES_free(g);
	/* none */
	g = (GENERAL_NAMES *)1;
	assert_int_equal(cs_x509_san_parse(ctx, NULL, &g), CS_OK);
	assert_null(g);
}

static void
test_csr_san_rejects_bad_input(void **state)
{
	static const struct {
		const char *in;
		const char *msg;
	} bad[] = {
		{ "host.example", "expected email:, dns:, uri:, ip: or upn:" },
		{ "x400:foo", "\"x400:foo\": expected" },
		{ "dns:", "value empty" },
		{ "dns:has space", "only ASCII without spaces" },
		{ "dns:b\xC3\xBC" "cher.example", "IDNs as xn-- A-labels" },
		{ "email:nobody", "not an e-mail address" },
		{ "email:a@", "not an e-mail address" },
		{ "uri:example.com", "URI has no scheme" },
		{ "ip:10.0.0.256", "\"ip:10.0.0.256\": not an IPv4 or IPv6" },
		{ "ip:::1::2", "not an IPv4 or IPv6" },
		{ "upn:bad\xff", "not UTF-8" },
	};
	struct cs_ctx *ctx = *state;
	const char *one[2] = { NULL, NULL };
	GENERAL_NAMES *g;
	size_t i;
	enum cs_err r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one[0] = bad[i].in;
		g = (GENERAL_NAMES *)1;
		r = cs_x509_san_parse(ctx, one, &g);
		if (r != CS_ERR_ARG || strstr(cs_ctx_errmsg(ctx),
		    bad[i].msg) == NULL)
			fail_msg("\"%s\": %s \"%s\", want \"%s\"", bad[i].in,
			    cs_errname(r), cs_ctx_errmsg(ctx), bad[i].msg);
		assert_null(g);
	}
	assert_int_equal(ERR_peek_error(), 0);
}

/* --- PEM --- */

/* A software-signed request and certificate to feed the PEM helpers. */
static void
soft_objects(uint8_t **csr, size_t *csrlen, uint8_t **crt, size_t *crtlen,
    uint8_t **pub, size_t *publen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_REQ *r = X509_REQ_new();
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *d;
	int len;

	assert_non_null(k);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"pem", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(r, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
	assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	d = NULL;
	assert_true((len = i2d_X509_REQ(r, &d)) > 0);
	*csr = malloc((size_t)len);
	memcpy(*csr, d, (size_t)len);
	*csrlen = (size_t)len;
	OPENSSL_free(d);
	d = NULL;
	assert_true((len = i2d_X509(x, &d)) > 0);
	*crt = malloc((size_t)len);
	memcpy(*crt, d, (size_t)len);
	*crtlen = (size_t)len;
	OPENSSL_free(d);
	d = NULL;
	assert_true((len = i2d_PUBKEY(k, &d)) > 0);
	*pub = malloc((size_t)len);
	memcpy(*pub, d, (size_t)len);
	*publen = (size_t)len;
	OPENSSL_free(d);
	X509_NAME_free(n);
	X509_free(x);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
}

static void
pem_roundtrip(enum cs_pem_kind kind, const char *label, const uint8_t *der,
    size_t len)
{
	char *pem = NULL, begin[64];
	size_t pemlen = 0, dlen = 0;
	uint8_t *back = NULL;

	assert_int_equal(cs_pem_encode(kind, der, len, &pem, &pemlen), CS_OK);
	assert_int_equal(strlen(pem), pemlen);
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", label);
	assert_true(strncmp(pem, begin, strlen(begin)) == 0);
	assert_int_equal(cs_pem_decode(kind, (const uint8_t *)pem, pemlen,
	    &back, &dlen), CS_OK);
	assert_int_equal(dlen, len);
	assert_memory_equal(back, der, len);
	cs_free(back);
	/* DER input comes back as is */
	assert_int_equal(cs_pem_decode(kind, der, len, &back, &dlen), CS_OK);
	assert_int_equal(dlen, len);
	assert_memory_equal(back, der, len);
	cs_free(back);
	cs_free(pem);
}

static void
test_csr_pem_roundtrips(void **state)
{
	uint8_t *csr, *crt, *pub;
	size_t csrlen, crtlen, publen;

	(void)state;
	soft_objects(&csr, &csrlen, &crt, &crtlen, &pub, &publen);
	pem_roundtrip(CS_PEM_CSR, "CERTIFICATE REQUEST", csr, csrlen);
	pem_roundtrip(CS_PEM_CERT, "CERTIFICATE", crt, crtlen);
	pem_roundtrip(CS_PEM_PUBKEY, "PUBLIC KEY", pub, publen);
	free(csr);
	free(crt);
	free(pub);
}

static void
test_csr_pem_picks_block_of_kind(void **state)
{
	uint8_t *csr, *crt, *pub, *der = NULL;
	size_t csrlen, crtlen, publen, len = 0;
	char *p1 = NULL, *p2 = NULL, *both;
	const char *body;
	size_t l1 = 0, l2 = 0, n;

	(void)state;
	soft_objects(&csr, &csrlen, &crt, &crtlen, &pub, &publen);
	assert_int_equal(cs_pem_encode(CS_PEM_CERT, crt, crtlen, &p1, &l1),
	    CS_OK);
	assert_int_equal(cs_pem_encode(CS_PEM_CSR, csr, csrlen, &p2, &l2),
	    CS_OK);
	/* comment, a certificate, then the request */
	n = l1 + l2 + 64;
	both = malloc(n);
	assert_non_null(both);
	snprintf(both, n, "comment line\n%s%s", p1, p2);
	assert_int_equal(cs_pem_decode(CS_PEM_CSR, (uint8_t *)both,
	    strlen(both), &der, &len), CS_OK);
	assert_int_equal(len, csrlen);
	assert_memory_equal(der, csr, csrlen);
	cs_free(der);
	assert_int_equal(cs_pem_decode(CS_PEM_CERT, (uint8_t *)both,
	    strlen(both), &der, &len), CS_OK);
	assert_int_equal(len, crtlen);
	assert_memory_equal(der, crt, crtlen);
	cs_free(der);
	assert_int_equal(cs_pem_decode(CS_PEM_PUBKEY, (uint8_t *)both,
	    strlen(both), &der, &len), CS_ERR_MALFORMED);
	assert_null(der);
	/* the old "NEW CERTIFICATE REQUEST" label is accepted */
	body = p2 + strlen("-----BEGIN CERTIFICATE REQUEST-----\n");
	snprintf(both, n, "-----BEGIN NEW CERTIFICATE REQUEST-----\n%.*s"
	    "-----END NEW CERTIFICATE REQUEST-----\n",
	    (int)(strstr(body, "-----END") - body), body);
	assert_int_equal(cs_pem_decode(CS_PEM_CSR, (uint8_t *)both,
	    strlen(both), &der, &len), CS_OK);
	assert_int_equal(len, csrlen);
	assert_memory_equal(der, csr, csrlen);
	cs_free(der);
	free(both);
	cs_free(p1);
	cs_free(p2);
	free(csr);
	free(crt);
	free(pub);
}

static void
test_csr_pem_rejects_bad_input(void **state)
{
	static const char junk[] = "-----BEGIN CERTIFICATE REQUEST-----\n"
	    "AAAA\n-----END CERTIFICATE REQUEST-----\n";
	uint8_t *csr, *crt, *pub, *der = NULL, *big;
	size_t csrlen, crtlen, publen, len = 0;
	char *pem = NULL;
	size_t pemlen = 0;

	(void)state;
	soft_objects(&csr, &csrlen, &crt, &crtlen, &pub, &publen);
	/* wrong kind, truncated, trailing bytes, junk, empty */
	assert_int_equal(cs_pem_decode(CS_PEM_CSR, crt, crtlen, &der, &len),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_pem_decode(CS_PEM_CERT, crt, crtlen - 1, &der,
	    &len), CS_ERR_MALFORMED);
	big = malloc(crtlen + 1);
	memcpy(big, crt, crtlen);
	big[crtlen] = 0;
	assert_int_equal(cs_pem_decode(CS_PEM_CERT, big, crtlen + 1, &der,
	    &len), CS_ERR_MALFORMED);
	free(big);
	assert_int_equal(cs_pem_decode(CS_PEM_CSR, (const uint8_t *)junk,
	    strlen(junk), &der, &len), CS_ERR_MALFORMED);
	assert_int_equal(cs_pem_decode(CS_PEM_CSR, (const uint8_t *)"", 0,
	    &der, &len), CS_ERR_MALFORMED);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(cs_pem_encode(CS_PEM_PUBKEY, csr, csrlen, &pem,
	    &pemlen), CS_ERR_MALFORMED);
	assert_null(pem);
	/* bounded input */
	big = calloc(1, 1024 * 1024 + 1);
	assert_non_null(big);
	assert_int_equal(cs_pem_decode(CS_PEM_CSR, big, 1024 * 1024 + 1, &der,
	    &len), CS_ERR_LIMIT);
	free(big);
	assert_int_equal(cs_pem_decode((enum cs_pem_kind)7, crt, crtlen, &der,
	    &len), CS_ERR_ARG);
	assert_int_equal(ERR_peek_error(), 0);
	free(csr);
	free(crt);
	free(pub);
}

/* cs_pem_next walks a bundle block by block, all or nothing. */
static void
test_csr_pem_next_walks_bundle(void **state)
{
	static const char bad[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	uint8_t *csr, *crt, *pub, *der = NULL;
	size_t csrlen, crtlen, publen, len = 0, pos = 0, n, at;
	char *p1 = NULL, *p2 = NULL, *buf;

	(void)state;
	soft_objects(&csr, &csrlen, &crt, &crtlen, &pub, &publen);
	assert_int_equal(cs_pem_encode(CS_PEM_CERT, crt, crtlen, &p1, &n),
	    CS_OK);
	assert_int_equal(cs_pem_encode(CS_PEM_CSR, csr, csrlen, &p2, &n),
	    CS_OK);
	n = 2 * strlen(p1) + strlen(p2) + sizeof(bad) + 64;
	buf = malloc(n);
	assert_non_null(buf);
	/* certificate, request (skipped), certificate, trailing text */
	snprintf(buf, n, "comment\n%s%s%strailer\n", p1, p2, p1);
	n = strlen(buf);
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_OK);
	assert_int_equal(len, crtlen);
	assert_memory_equal(der, crt, crtlen);
	assert_int_equal(pos, strlen("comment\n") + strlen(p1));
	cs_free(der);
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_OK);
	assert_int_equal(len, crtlen);
	assert_memory_equal(der, crt, crtlen);
	assert_int_equal(pos, n - strlen("trailer\n"));
	cs_free(der);
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_ERR_NOT_FOUND);
	assert_int_equal(pos, n);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_ERR_NOT_FOUND);
	/* the request is found as its own kind */
	pos = 0;
	assert_int_equal(cs_pem_next(CS_PEM_CSR, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_OK);
	assert_int_equal(len, csrlen);
	assert_memory_equal(der, csr, csrlen);
	cs_free(der);
	assert_int_equal(cs_pem_next(CS_PEM_CSR, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_ERR_NOT_FOUND);
	/* a broken block of the kind stops the walk, pos stays put */
	snprintf(buf, strlen(p1) + sizeof(bad), "%s%s", p1, bad);
	n = strlen(buf);
	pos = 0;
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_OK);
	cs_free(der);
	at = pos;
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_ERR_MALFORMED);
	assert_int_equal(pos, at);
	assert_null(der);
	/* arguments */
	pos = n + 1;
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, &pos,
	    &der, &len), CS_ERR_ARG);
	pos = 0;
	assert_int_equal(cs_pem_next((enum cs_pem_kind)7, (uint8_t *)buf, n,
	    &pos, &der, &len), CS_ERR_ARG);
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf, n, NULL,
	    &der, &len), CS_ERR_ARG);
	assert_int_equal(cs_pem_next(CS_PEM_CERT, (uint8_t *)buf,
	    1024 * 1024 + 1, &pos, &der, &len), CS_ERR_LIMIT);
	assert_int_equal(ERR_peek_error(), 0);
	free(buf);
	cs_free(p1);
	cs_free(p2);
	free(csr);
	free(crt);
	free(pub);
}

/*
 * cs_pem_next_block stops at every block, names it (offset, label) and
 * says why it refused one; *pos moves only on success.
 */
static void
test_csr_pem_next_block_names_blocks(void **state)
{
	static const char other[] = "-----BEGIN PRIVATE KEY-----\n%%\n"
	    "-----END PRIVATE KEY-----\n";
	static const char bad64[] = "-----BEGIN CERTIFICATE-----\nMIIB!!\n"
	    "-----END CERTIFICATE-----\n";
	static const char noend[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	static const char nobegin[] = "-----BEGIN CERTIFICATE\nMIIB\n"
	    "-----END CERTIFICATE-----\n";
	static const char notcert[] = "-----BEGIN CERTIFICATE-----\nMAA=\n"
	    "-----END CERTIFICATE-----\n";
	struct cs_pem_block blk;
	uint8_t *csr, *crt, *pub, *der = NULL;
	size_t csrlen, crtlen, publen, len = 0, pos = 0, n, at;
	char *p1 = NULL, *p2 = NULL, *buf;

	(void)state;
	soft_objects(&csr, &csrlen, &crt, &crtlen, &pub, &publen);
	assert_int_equal(cs_pem_encode(CS_PEM_CERT, crt, crtlen, &p1, &n),
	    CS_OK);
	assert_int_equal(cs_pem_encode(CS_PEM_CSR, csr, csrlen, &p2, &n),
	    CS_OK);
	n = strlen(p1) + strlen(p2) + sizeof(other) + 64;
	buf = malloc(n);
	assert_non_null(buf);
	snprintf(buf, n, "comment\n%s%s%s", p1, other, p2);
	n = strlen(buf);
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf, n,
	    &pos, 0, &blk, &der, &len), CS_OK);
	assert_int_equal(blk.off, strlen("comment\n"));
	assert_string_equal(blk.label, "CERTIFICATE");
	assert_int_equal(blk.fault, CS_PEM_FAULT_NONE);
	assert_int_equal(len, crtlen);
	assert_memory_equal(der, crt, crtlen);
	assert_int_equal(pos, strlen("comment\n") + strlen(p1));
	cs_free(der);
	/* another label: named, not read (its base64 is bad) */
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf, n,
	    &pos, 0, &blk, &der, &len), CS_OK);
	assert_string_equal(blk.label, "PRIVATE KEY");
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(pos, n - strlen(p2));
	/* a request is another label too */
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf, n,
	    &pos, 0, &blk, &der, &len), CS_OK);
	assert_string_equal(blk.label, "CERTIFICATE REQUEST");
	assert_null(der);
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf, n,
	    &pos, 0, &blk, &der, &len), CS_ERR_NOT_FOUND);
	assert_int_equal(pos, n);
	/* refusals: *pos stays put, the fault says why */
	snprintf(buf, n, "%s%s", p1, bad64);
	at = strlen(p1);
	pos = at;
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf,
	    strlen(buf), &pos, 0, &blk, &der, &len), CS_ERR_MALFORMED);
	assert_int_equal(pos, at);
	assert_int_equal(blk.off, at);
	assert_int_equal(blk.fault, CS_PEM_FAULT_ARMOUR);
	assert_null(der);
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)noend,
	    strlen(noend), &pos, 0, &blk, &der, &len), CS_ERR_ARG);
	pos = 0;
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)noend,
	    strlen(noend), &pos, 0, &blk, &der, &len), CS_ERR_MALFORMED);
	assert_int_equal(blk.fault, CS_PEM_FAULT_NO_END);
	assert_int_equal(pos, 0);
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)nobegin,
	    strlen(nobegin), &pos, 0, &blk, &der, &len), CS_ERR_MALFORMED);
	assert_int_equal(blk.fault, CS_PEM_FAULT_BEGIN);
	assert_string_equal(blk.label, "");
	/* the kind's label over DER that is not one of the kind */
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)notcert,
	    strlen(notcert), &pos, 0, &blk, &der, &len), CS_ERR_MALFORMED);
	assert_int_equal(blk.fault, CS_PEM_FAULT_CONTENT);
	assert_string_equal(blk.label, "CERTIFICATE");
	/* arguments */
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf,
	    strlen(buf), &pos, 1, &blk, &der, &len), CS_ERR_ARG);
	assert_int_equal(cs_pem_next_block(CS_PEM_CERT, (uint8_t *)buf,
	    strlen(buf), &pos, 0, NULL, &der, &len), CS_ERR_ARG);
	assert_int_equal(cs_pem_next_block((enum cs_pem_kind)7, (uint8_t *)buf,
	    strlen(buf), &pos, 0, &blk, &der, &len), CS_ERR_ARG);
	assert_int_equal(ERR_peek_error(), 0);
	free(buf);
	cs_free(p1);
	cs_free(p2);
	free(csr);
	free(crt);
	free(pub);
}

/* --- requests signed on the simulator --- */

static void
csr_for_alg(struct S *s, uint8_t alg, int nid, int ptype)
{
	static const char *const sans[] = { "dns:host.example", NULL };
	struct cs_csr_req req = { "CN=Jane Doe,O=Example", sans, NULL, NULL,
		0, 0 };
	uint8_t *spki;
	size_t slen = 0;
	X509_REQ *x;
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *g;
	char buf[128];

	spki = gen_key(s, 0x9A, alg, &slen);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	x = build_checked(s, 0x9A, &req, spki, slen, nid, ptype);
	name_str(X509_REQ_get_subject_name(x), buf, sizeof(buf));
	assert_string_equal(buf, "CN=Jane Doe,O=Example");
	exts = X509_REQ_get_extensions(x);
	assert_non_null(exts);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
	g = exts_san(exts);
	assert_non_null(g);
	assert_int_equal(sk_GENERAL_NAME_num(g), 1);
	GENERAL_NAMES_free(g);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(x);
	cs_free(spki);
}

static void
test_csr_build_p256(void **state)
{
	csr_for_alg(*state, CS_PIV_ALG_P256, NID_ecdsa_with_SHA256,
	    V_ASN1_UNDEF);
}

static void
test_csr_build_p384_defaults_to_sha384(void **state)
{
	csr_for_alg(*state, CS_PIV_ALG_P384, NID_ecdsa_with_SHA384,
	    V_ASN1_UNDEF);
}

static void
test_csr_build_ed25519(void **state)
{
	csr_for_alg(*state, CS_PIV_ALG_ED25519, NID_ED25519, V_ASN1_UNDEF);
}

/* Self-signed certificate checks shared by the RSA and EC tests. */
static void
check_selfsigned(struct S *s, uint8_t slot, const uint8_t *spki,
    size_t slen, int nid, int ptype)
{
	struct cs_csr_req req = { "CN=self", NULL, NULL, NULL, 0, 0 };
	uint8_t *der = NULL, md[20];
	size_t len = 0;
	unsigned int mdlen = 0;
	const X509_ALGOR *alg = NULL;
	const ASN1_BIT_STRING *sig = NULL, *pk;
	const ASN1_INTEGER *sn;
	ASN1_BIT_STRING *ku;
	int crit = -1, day = 0, sec = 0;
	X509 *x;

	CHECK(s, cs_csr_selfsign(s->card, slot, &req, 30, &der, &len));
	x = cert_parse(der, len);
	cs_free(der);
	assert_int_equal(X509_get_version(x), 2);
	key_is_spki(X509_get0_pubkey(x), spki, slen);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)), 0);
	X509_get0_signature(&sig, &alg, x);
	sigalg_is(alg, nid, ptype);
	sigalg_is(X509_get0_tbs_sigalg(x), nid, ptype);
	/* 16-byte positive serial */
	sn = X509_get0_serialNumber(x);
	assert_int_equal(ASN1_STRING_length(sn), 16);
	assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
	/* 30 days from now */
	assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	assert_int_equal(day, 30);
	assert_int_equal(sec, 0);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) <= 0);
	/* keyUsage digitalSignature, critical; SKI = SHA-1(key bits) */
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	assert_true(ASN1_BIT_STRING_get_bit(ku, 0));
	assert_false(ASN1_BIT_STRING_get_bit(ku, 5));
	ASN1_BIT_STRING_free(ku);
	pk = X509_get0_pubkey_bitstr(x);
	assert_int_equal(EVP_Digest(ASN1_STRING_get0_data(pk),
	    (size_t)ASN1_STRING_length(pk), md, &mdlen, EVP_sha1(), NULL), 1);
	assert_int_equal(ASN1_STRING_length(X509_get0_subject_key_id(x)), 20);
	assert_memory_equal(ASN1_STRING_get0_data(
	    X509_get0_subject_key_id(x)), md, 20);
	assert_int_equal(X509_get_ext_by_NID(x, NID_basic_constraints, -1),
	    -1);
	X509_free(x);
}

static void
test_csr_build_rsa2048_and_selfsign(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "/CN=rsa/", NULL, "sha512", NULL, 0, 0 };
	uint8_t *spki;
	size_t slen = 0;
	X509_REQ *x;

	spki = gen_key(s, 0x9A, CS_PIV_ALG_RSA2048, &slen);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	x = build_checked(s, 0x9A, &req, spki, slen,
	    NID_sha512WithRSAEncryption, V_ASN1_NULL);
	X509_REQ_free(x);
	req.digest = NULL;
	x = build_checked(s, 0x9A, &req, spki, slen,
	    NID_sha256WithRSAEncryption, V_ASN1_NULL);
	X509_REQ_free(x);
	check_selfsigned(s, 0x9A, spki, slen, NID_sha256WithRSAEncryption,
	    V_ASN1_NULL);
	cs_free(spki);
}

static void
test_csr_selfsign_ec(void **state)
{
	struct S *s = *state;
	uint8_t *spki;
	size_t slen = 0;

	spki = gen_key(s, 0x9E, CS_PIV_ALG_P384, &slen);
	/* 9E: PIN policy never */
	check_selfsigned(s, 0x9E, spki, slen, NID_ecdsa_with_SHA384,
	    V_ASN1_UNDEF);
	cs_free(spki);
	spki = gen_key(s, 0x9D, CS_PIV_ALG_ED25519, &slen);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	check_selfsigned(s, 0x9D, spki, slen, NID_ED25519, V_ASN1_UNDEF);
	cs_free(spki);
}

static void
test_csr_build_with_given_spki_and_digest(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=given", NULL, "SHA384", NULL, 0, 0 };
	uint8_t *spki;
	size_t slen = 0;
	X509_REQ *x;

	spki = gen_key(s, 0x9E, CS_PIV_ALG_P256, &slen);
	req.spki = spki;
	req.spki_len = slen;
	x = build_checked(s, 0x9E, &req, spki, slen, NID_ecdsa_with_SHA384,
	    V_ASN1_UNDEF);
	/* no SANs, no attestation: no extensionRequest at all */
	assert_int_equal(X509_REQ_get_attr_count(x), 0);
	X509_REQ_free(x);
	cs_free(spki);
}

static void
test_csr_wrong_key_is_caught(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=x", NULL, NULL, NULL, 0, 0 };
	uint8_t *a, *b, *der = NULL;
	size_t alen = 0, blen = 0, len = 0;

	a = gen_key(s, 0x9E, CS_PIV_ALG_P256, &alen);
	b = gen_key(s, 0x82, CS_PIV_ALG_P256, &blen);
	/* the 0x82 key announced, the 9E key signs */
	req.spki = b;
	req.spki_len = blen;
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_VERIFY);
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "wrong key in slot"));
	assert_null(der);
	assert_int_equal(len, 0);
	assert_int_equal(cs_csr_selfsign(s->card, 0x9E, &req, 1, &der, &len),
	    CS_ERR_VERIFY);
	assert_null(der);
	cs_free(a);
	cs_free(b);
}

static void
test_csr_attestation_embedded(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=attested", NULL, NULL, NULL, 0,
		CS_CSR_ATTEST };
	struct cs_attest_info info;
	struct cs_trust *trust = NULL;
	uint8_t *spki, *der = NULL, *stmt = NULL, *f9 = NULL, *card_f9 = NULL;
	size_t slen = 0, len = 0, stmtlen = 0, f9len = 0, cf9len = 0;
	const ASN1_OCTET_STRING *v;
	STACK_OF(X509_EXTENSION) *exts;
	char path[128];
	int crit = -1;
	X509_REQ *x;
	GENERAL_NAMES *g;
	const char *const sans[] = { "upn:jane@corp.example", NULL };

	spki = gen_key(s, 0x9A, CS_PIV_ALG_P256, &slen);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	req.sans = sans;
	CHECK(s, cs_csr_build(s->card, 0x9A, &req, &der, &len));
	x = csr_parse(der, len);
	assert_int_equal(X509_REQ_verify(x, X509_REQ_get0_pubkey(x)), 1);
	exts = X509_REQ_get_extensions(x);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 3);
	g = exts_san(exts);
	assert_non_null(g);
	GENERAL_NAMES_free(g);
	v = ext_value(exts, OID_STMT, &crit);
	assert_non_null(v);
	assert_int_equal(crit, 0);
	assert_null(ext_value(exts, OID_STMT_OLD, &crit));
	/* lib/attest.c reads it back; its key is the CSR key */
	CHECK(s, cs_attest_from_csr(s->ctx, der, len, &stmt, &stmtlen, &f9,
	    &f9len));
	assert_int_equal((size_t)ASN1_STRING_length(v), stmtlen);
	assert_memory_equal(ASN1_STRING_get0_data(v), stmt, stmtlen);
	CHECK(s, cs_attest_match_key(s->ctx, stmt, stmtlen, spki, slen));
	CHECK(s, cs_piv_read_cert(s->card, 0xF9, &card_f9, &cf9len));
	assert_int_equal(f9len, cf9len);
	assert_memory_equal(f9, card_f9, f9len);
	/* and it chains to the simulator's vendor root */
	CHECK(s, cs_trust_new(s->ctx, &trust));
	snprintf(path, sizeof(path), "%s/root.pem", G.vendor);
	CHECK(s, cs_trust_add_file(trust, path, CS_TRUST_ANCHOR));
	snprintf(path, sizeof(path), "%s/intermediate.pem", G.vendor);
	CHECK(s, cs_trust_add_file(trust, path, CS_TRUST_INTERMEDIATE));
	CHECK(s, cs_attest_verify(s->ctx, trust, stmt, stmtlen, f9, f9len, 0,
	    0, &info));
	assert_int_equal(info.slot, 0x9A);
	assert_int_equal(info.key_alg, CS_PIV_ALG_P256);
	cs_trust_free(trust);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(x);
	cs_free(der);
	cs_free(stmt);
	cs_free(f9);
	cs_free(card_f9);
	cs_free(spki);
}

static void
test_csr_attestation_legacy_oid(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=old", NULL, NULL, NULL, 0,
		CS_CSR_ATTEST | CS_CSR_ATTEST_LEGACY_OID };
	uint8_t *spki, *der = NULL, *stmt = NULL, *f9 = NULL;
	size_t slen = 0, len = 0, stmtlen = 0, f9len = 0;
	STACK_OF(X509_EXTENSION) *exts;
	int crit = -1;
	X509_REQ *x;

	spki = gen_key(s, 0x9E, CS_PIV_ALG_P384, &slen);
	CHECK(s, cs_csr_build(s->card, 0x9E, &req, &der, &len));
	x = csr_parse(der, len);
	exts = X509_REQ_get_extensions(x);
	assert_int_equal(sk_X509_EXTENSION_num(exts), 2);
	assert_non_null(ext_value(exts, OID_STMT_OLD, &crit));
	assert_int_equal(crit, 0);
	assert_non_null(ext_value(exts, OID_F9, &crit));
	assert_int_equal(crit, 0);
	assert_null(ext_value(exts, OID_STMT, &crit));
	CHECK(s, cs_attest_from_csr(s->ctx, der, len, &stmt, &stmtlen, &f9,
	    &f9len));
	CHECK(s, cs_attest_match_key(s->ctx, stmt, stmtlen, spki, slen));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(x);
	cs_free(der);
	cs_free(stmt);
	cs_free(f9);
	cs_free(spki);
}

static void
test_csr_pin_always_slot(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=sign", NULL, NULL, NULL, 0,
		CS_CSR_ATTEST };
	uint8_t *spki, *der = NULL;
	size_t slen = 0, len = 0;
	X509_REQ *x;

	spki = gen_key(s, 0x9C, CS_PIV_ALG_P256, &slen);
	/* a verified session is not enough for a PIN-always key */
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	assert_int_equal(cs_csr_build(s->card, 0x9C, &req, &der, &len),
	    CS_ERR_ACCESS);
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "PIN"));
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "cs_card_set_pin"));
	assert_null(der);
	/* with the PIN cached it verifies right before the signature */
	CHECK(s, cs_card_set_pin(s->card, "123456", 6));
	x = build_checked(s, 0x9C, &req, spki, slen, NID_ecdsa_with_SHA256,
	    V_ASN1_UNDEF);
	X509_REQ_free(x);
	cs_free(spki);
}

static void
test_csr_rejects_bad_requests(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=x", NULL, NULL, NULL, 0, 0 };
	static const char *const badsan[] = { "dns:ok", "ip:nope", NULL };
	uint8_t *spki, *der = (uint8_t *)1;
	size_t slen = 0, len = 1;

	/* empty slot */
	assert_int_equal(cs_csr_build(s->card, 0x9A, &req, &der, &len),
	    CS_ERR_NOT_FOUND);
	assert_null(der);
	assert_int_equal(len, 0);
	spki = gen_key(s, 0x9E, CS_PIV_ALG_P256, &slen);
	req.digest = "md5";
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "\"md5\""));
	req.digest = NULL;
	req.flags = CS_CSR_ATTEST_LEGACY_OID;
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_ARG);
	req.flags = 1u << 7;
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_ARG);
	req.flags = 0;
	req.sans = badsan;
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "ip:nope"));
	req.sans = NULL;
	req.subject = "CN=a,BOGUS=b";
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "BOGUS"));
	req.subject = "CN=x";
	req.spki = (const uint8_t *)"\x30\x03\x02\x01\x01";
	req.spki_len = 5;
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_MALFORMED);
	req.spki = NULL;
	assert_int_equal(cs_csr_selfsign(s->card, 0x9E, &req, 0, &der, &len),
	    CS_ERR_ARG);
	assert_null(der);
	assert_int_equal(ERR_peek_error(), 0);
	cs_free(spki);
}

static void
test_csr_without_metadata(void **state)
{
	struct S *s = *state;
	struct cs_csr_req req = { "CN=old card", NULL, NULL, NULL, 0, 0 };
	uint8_t *spki, *der = NULL;
	size_t slen = 0, len = 0;
	X509_REQ *x;

	assert_false(cs_card_has(s->card, CS_CAP_METADATA));
	spki = gen_key(s, 0x9E, CS_PIV_ALG_P384, &slen);
	/* the key can't be read back: the caller must pass it... */
	assert_int_equal(cs_csr_build(s->card, 0x9E, &req, &der, &len),
	    CS_ERR_UNSUPPORTED);
	assert_non_null(strstr(cs_ctx_errmsg(s->ctx), "pass the key"));
	req.spki = spki;
	req.spki_len = slen;
	x = build_checked(s, 0x9E, &req, spki, slen, NID_ecdsa_with_SHA384,
	    V_ASN1_UNDEF);
	X509_REQ_free(x);
	/* ...or it comes from the attestation statement */
	req.spki = NULL;
	req.spki_len = 0;
	req.flags = CS_CSR_ATTEST;
	x = build_checked(s, 0x9E, &req, spki, slen, NID_ecdsa_with_SHA384,
	    V_ASN1_UNDEF);
	X509_REQ_free(x);
	cs_free(spki);
}

/* Run cmd (no shell metacharacters from outside) and collect output. */
static int
run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	size_t n;
	int st;

	assert_non_null(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
write_tmp(char *path, size_t cap, const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, cap, "/tmp/cs-csr-pem-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_csr_openssl_cli_accepts(void **state)
{
	struct S *s = *state;
	static const char *const sans[] = { "email:jane@example.com",
		"ip:192.0.2.1", "upn:jane@corp.example", NULL };
	struct cs_csr_req req = { "CN=Jane Doe+UID=jd,O=Ex\\, Inc.,C=DE",
		sans, NULL, NULL, 0, CS_CSR_ATTEST };
	uint8_t *spki, *der = NULL;
	size_t slen = 0, len = 0, pemlen = 0;
	char *pem = NULL, path[64], cmd[256], out[8192];

	spki = gen_key(s, 0x9A, CS_PIV_ALG_P256, &slen);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	CHECK(s, cs_csr_build(s->card, 0x9A, &req, &der, &len));
	assert_int_equal(cs_pem_encode(CS_PEM_CSR, der, len, &pem, &pemlen),
	    CS_OK);
	write_tmp(path, sizeof(path), pem);
	snprintf(cmd, sizeof(cmd), "openssl req -verify -noout -in %s 2>&1",
	    path);
	if (run_cmd(cmd, out, sizeof(out)) != 0)
		fail_msg("openssl req -verify: %s", out);
	assert_non_null(strstr(out, "verify OK"));
	snprintf(cmd, sizeof(cmd), "openssl req -noout -text -in %s 2>&1",
	    path);
	assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "C = DE, O = \"Ex, Inc.\", CN = Jane Doe "
	    "+ UID = jd"));
	assert_non_null(strstr(out, "IP Address:192.0.2.1"));
	assert_non_null(strstr(out, "1.3.6.1.4.1.41482.3.1:"));
	assert_non_null(strstr(out, "1.3.6.1.4.1.41482.3.2:"));
	unlink(path);
	cs_free(pem);
	cs_free(der);
	/* the self-signed certificate too */
	CHECK(s, cs_csr_selfsign(s->card, 0x9A, &req, 365, &der, &len));
	assert_int_equal(cs_pem_encode(CS_PEM_CERT, der, len, &pem, &pemlen),
	    CS_OK);
	write_tmp(path, sizeof(path), pem);
	snprintf(cmd, sizeof(cmd), "openssl verify -check_ss_sig "
	    "-CAfile %s %s 2>&1", path, path);
	if (run_cmd(cmd, out, sizeof(out)) != 0)
		fail_msg("openssl verify: %s", out);
	unlink(path);
	cs_free(pem);
	cs_free(der);
	cs_free(spki);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define C_(f) cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		C_(test_csr_name_rfc4514_order),
		C_(test_csr_name_forms_share_one_order),
		C_(test_csr_name_openssl_form),
		C_(test_csr_name_escapes_and_spaces),
		C_(test_csr_name_multivalued_rdn),
		C_(test_csr_name_oid_and_long_types),
		C_(test_csr_name_rejects_bad_input),
		C_(test_csr_san_each_kind),
		C_(test_csr_san_rejects_bad_input),
		cmocka_unit_test(test_csr_pem_roundtrips),
		cmocka_unit_test(test_csr_pem_picks_block_of_kind),
		cmocka_unit_test(test_csr_pem_rejects_bad_input),
		cmocka_unit_test(test_csr_pem_next_walks_bundle),
		cmocka_unit_test(test_csr_pem_next_block_names_blocks),
		T_(test_csr_build_p256),
		T_(test_csr_build_p384_defaults_to_sha384),
		T_(test_csr_build_ed25519),
		T_(test_csr_build_rsa2048_and_selfsign),
		T_(test_csr_selfsign_ec),
		T_(test_csr_build_with_given_spki_and_digest),
		T_(test_csr_wrong_key_is_caught),
		T_(test_csr_attestation_embedded),
		T_(test_csr_attestation_legacy_oid),
		T_(test_csr_pin_always_slot),
		T_(test_csr_rejects_bad_requests),
		T_(test_csr_openssl_cli_accepts),
		cmocka_unit_test_setup_teardown(test_csr_without_metadata,
		    setup_old, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
