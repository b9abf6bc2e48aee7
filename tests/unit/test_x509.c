/*
 * Unit tests for lib/x509.c: certificate summaries (cs_cert_info_parse),
 * request public keys (cs_csr_get_spki) and key comparison
 * (cs_spki_equal).
 *
 * Most inputs are made here with OpenSSL, so every expected field is known
 * exactly; tests/data/attest/ supplies a genuine YubiKey statement and the
 * generated test root as real-world certificates.
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
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/cardsmith.h"

#include "banned.h"

/* 2023-11-14T22:13:20Z and 2027-01-15T08:00:00Z */
#define T_BEFORE 1700000000
#define T_AFTER 1800000000

#define OID_PAD "1.3.6.1.4.1.99999.9"

struct fixture {
	struct cs_ctx *ctx;
	EVP_PKEY *key;   /* subject key, P-256 */
	EVP_PKEY *other; /* another P-256 key */
	EVP_PKEY *ca;    /* issuer key, Ed25519: fixed-size signatures */
};

/* What make_cert puts in a certificate. */
struct spec {
	const char *serial_hex; /* BN_hex2bn form, "-" allowed */
	const char *const *policies;
	size_t npolicies;
	size_t pad; /* bytes of a private extension, 0 for none */
	EVP_PKEY *key;
};

/* --- helpers --- */

static const char *
src_dir(void)
{
	const char *s = getenv("CS_SRC");

	return s != NULL ? s : ".";
}

/* Read tests/data/attest/<name>; fails the test if absent. */
static uint8_t *
load(const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/attest/%s", src_dir(),
	    name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Move OpenSSL-allocated DER into malloc'd memory. */
static uint8_t *
take(unsigned char *der, int n, size_t *len)
{
	uint8_t *copy;

	assert_true(n > 0);
	copy = malloc((size_t)n);
	assert_non_null(copy);
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

static uint8_t *
spki_of(EVP_PKEY *k, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	return take(der, n, len);
}

static EVP_PKEY *
p256(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_name(X509_NAME *n, const char *field, const char *value)
{
	assert_int_equal(X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
	    (const unsigned char *)value, -1, -1, 0), 1);
}

static void
add_policies(X509 *x, const struct spec *sp)
{
	CERTIFICATEPOLICIES *pol = sk_POLICYINFO_new_null();
	POLICYINFO *pi;
	size_t i;

	assert_non_null(pol);
	for (i = 0; i < sp->npolicies; i++) {
		pi = POLICYINFO_new();
		assert_non_null(pi);
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = OBJ_txt2obj(sp->policies[i], 1);
		assert_non_null(pi->policyid);
		assert_true(sk_POLICYINFO_push(pol, pi) > 0);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_certificate_policies, pol,
	    0, 0), 1);
	CERTIFICATEPOLICIES_free(pol);
}

static void
add_pad(X509 *x, size_t pad)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_PAD, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;
	uint8_t *fill = calloc(1, pad);

	assert_non_null(obj);
	assert_non_null(os);
	assert_non_null(fill);
	assert_int_equal(ASN1_OCTET_STRING_set(os, fill, (int)pad), 1);
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	free(fill);
}

/* A DER certificate for sp->key, issued by ca. */
static uint8_t *
make_cert(EVP_PKEY *ca, const struct spec *sp, size_t *len)
{
	X509 *x = X509_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_true(BN_hex2bn(&bn, sp->serial_hex) > 0);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	assert_non_null(serial);
	assert_int_equal(X509_set_serialNumber(x, serial), 1);
	add_name(X509_get_subject_name(x), "O", "cardsmith test");
	add_name(X509_get_subject_name(x), "CN", "Jane, Doe");
	add_name(X509_get_issuer_name(x), "CN", "Test Issuing CA");
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), T_BEFORE));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), T_AFTER));
	assert_int_equal(X509_set_pubkey(x, sp->key), 1);
	if (sp->npolicies > 0)
		add_policies(x, sp);
	if (sp->pad > 0)
		add_pad(x, sp->pad);
	assert_true(X509_sign(x, ca, NULL) > 0);
	n = i2d_X509(x, &der);
	out = take(der, n, len);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_free(x);
	return out;
}

static uint8_t *
make_csr(EVP_PKEY *key, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	assert_non_null(req);
	add_name(X509_REQ_get_subject_name(req), "CN", "request");
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	out = take(der, n, len);
	X509_REQ_free(req);
	return out;
}

static char *
pem_of(enum cs_pem_kind kind, const uint8_t *der, size_t len, size_t *plen)
{
	char *pem = NULL;

	assert_int_equal(cs_pem_encode(kind, der, len, &pem, plen), CS_OK);
	return pem;
}

static bool
info_is_clear(const struct cs_cert_info *ci)
{
	static const struct cs_cert_info zero;

	return cs_memeq_public(ci, &zero, sizeof(zero));
}

static const char *const two_policies[] = {
	"1.3.6.1.4.1.99999.1.2",
	"2.5.29.32.0",
};

/* The certificate most tests use: serial 0123456789ABCDEF, two policies. */
static uint8_t *
plain_cert(struct fixture *fx, size_t *len)
{
	struct spec sp = { "0123456789ABCDEF", two_policies, 2, 0, fx->key };

	return make_cert(fx->ca, &sp, len);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(cs_ctx_new(&fx->ctx), CS_OK);
	fx->key = p256();
	fx->other = p256();
	fx->ca = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(fx->ca);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	EVP_PKEY_free(fx->key);
	EVP_PKEY_free(fx->other);
	EVP_PKEY_free(fx->ca);
	cs_ctx_free(fx->ctx);
	free(fx);
	return 0;
}

/* --- cs_cert_info_parse --- */

static void
test_x509_cert_every_field(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info ci;
	uint8_t *der, *spki, md[32];
	size_t len, spki_len;
	unsigned int mdlen = 0;

	der = plain_cert(fx, &len);
	spki = spki_of(fx->key, &spki_len);
	assert_int_equal(EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	/* RFC 2253: last RDN first, ',' in a value escaped. */
	assert_string_equal(ci.subject, "CN=Jane\\, Doe,O=cardsmith test");
	assert_string_equal(ci.issuer, "CN=Test Issuing CA");
	assert_int_equal(ci.not_before, T_BEFORE);
	assert_int_equal(ci.not_after, T_AFTER);
	assert_string_equal(ci.serial, "0123456789ABCDEF");
	assert_int_equal(mdlen, sizeof(ci.sha256));
	assert_memory_equal(ci.sha256, md, sizeof(md));
	assert_int_equal(ci.npolicies, 2);
	assert_string_equal(ci.policies[0], "1.3.6.1.4.1.99999.1.2");
	assert_string_equal(ci.policies[1], "2.5.29.32.0");
	assert_int_equal(ci.key_alg, CS_PIV_ALG_P256);
	assert_int_equal(ci.spki_len, spki_len);
	assert_memory_equal(ci.spki, spki, spki_len);
	cs_cert_info_release(&ci);
	assert_null(ci.spki);
	assert_int_equal(ci.spki_len, 0);
	free(spki);
	free(der);
}

static void
test_x509_cert_pem_needs_flag(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info a, b;
	uint8_t *der;
	char *pem;
	size_t len, plen;

	der = plain_cert(fx, &len);
	pem = pem_of(CS_PEM_CERT, der, len, &plen);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &a), CS_OK);
	assert_int_equal(cs_cert_info_parse(fx->ctx, (const uint8_t *)pem,
	    plen, CS_X509_PEM, &b), CS_OK);
	assert_memory_equal(a.sha256, b.sha256, sizeof(a.sha256));
	assert_string_equal(a.subject, b.subject);
	assert_int_equal(a.spki_len, b.spki_len);
	assert_memory_equal(a.spki, b.spki, a.spki_len);
	cs_cert_info_release(&b);
	/* Without CS_X509_PEM, PEM is not a DER certificate. */
	assert_int_equal(cs_cert_info_parse(fx->ctx, (const uint8_t *)pem,
	    plen, 0, &b), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "not a DER X.509 certificate");
	assert_true(info_is_clear(&b));
	/* With it, DER still works. */
	cs_cert_info_release(&a);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, CS_X509_PEM,
	    &a), CS_OK);
	cs_cert_info_release(&a);
	cs_free(pem);
	free(der);
}

static void
test_x509_cert_genuine_statement(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info ci;
	uint8_t *pem;
	size_t len;

	/* docker/tuf YubiKey 5 FIPS, slot 9c, P-384 (SOURCES.md). */
	pem = load("dockertuf-543-fips-9c.stmt.pem", &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, pem, len, CS_X509_PEM,
	    &ci), CS_OK);
	assert_string_equal(ci.subject, "CN=YubiKey PIV Attestation 9c");
	assert_string_equal(ci.issuer, "CN=Yubico PIV Attestation");
	assert_int_equal(ci.key_alg, CS_PIV_ALG_P384);
	assert_int_equal(ci.npolicies, 0);
	assert_string_equal(ci.serial, "01F9D73CBCE2177F82A497313EE4FF06");
	assert_int_equal(ci.not_before, 1457913600); /* 2016-03-14 */
	assert_int_equal(ci.not_after, INT64_C(2596924800)); /* 2052-04-17 */
	assert_true(ci.spki_len > 0);
	cs_cert_info_release(&ci);
	free(pem);
}

static void
test_x509_cert_rsa_root(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info ci;
	uint8_t *pem;
	size_t len;

	/* gen.sh test root: RSA-2048, 2016-01-01 .. 9999-12-31, serial 1. */
	pem = load("gen-root.pem", &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, pem, len, CS_X509_PEM,
	    &ci), CS_OK);
	assert_string_equal(ci.subject, "CN=cardsmith Test Attestation Root");
	assert_string_equal(ci.issuer, ci.subject);
	assert_int_equal(ci.key_alg, CS_PIV_ALG_RSA2048);
	assert_string_equal(ci.serial, "01");
	assert_int_equal(ci.not_before, 1451606400);
	assert_int_equal(ci.not_after, INT64_C(253402300799));
	cs_cert_info_release(&ci);
	free(pem);
}

static void
test_x509_cert_serial_forms(void **state)
{
	struct fixture *fx = *state;
	struct spec sp = { "0", NULL, 0, 0, fx->key };
	struct cs_cert_info ci;
	uint8_t *der;
	size_t len;
	char longhex[2 * 70 + 1];

	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	assert_string_equal(ci.serial, "0");
	assert_int_equal(ci.npolicies, 0);
	cs_cert_info_release(&ci);
	free(der);

	sp.serial_hex = "-2A";
	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	assert_string_equal(ci.serial, "-2A");
	cs_cert_info_release(&ci);
	free(der);

	/* 64 octets fit exactly; 70 do not and leave the serial empty. */
	memset(longhex, '7', sizeof(longhex) - 1);
	longhex[128] = '\0';
	sp.serial_hex = longhex;
	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	assert_string_equal(ci.serial, longhex);
	cs_cert_info_release(&ci);
	free(der);
	longhex[140] = '\0';
	memset(longhex, '7', 140);
	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	assert_string_equal(ci.serial, "");
	assert_string_equal(ci.issuer, "CN=Test Issuing CA");
	cs_cert_info_release(&ci);
	free(der);
}

static void
test_x509_cert_policies_bounded(void **state)
{
	struct fixture *fx = *state;
	static const char *const many[] = {
		"1.2.3.0", "1.2.3.1", "1.2.3.2", "1.2.3.3", "1.2.3.4",
		"1.2.3.5", "1.2.3.6", "1.2.3.7", "1.2.3.8", "1.2.3.9",
	};
	struct spec sp = { "01", many, 10, 0, fx->key };
	struct cs_cert_info ci;
	uint8_t *der;
	size_t len, i;
	char want[16];

	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	assert_int_equal(ci.npolicies, CS_X509_POLICIES_MAX);
	for (i = 0; i < CS_X509_POLICIES_MAX; i++) {
		snprintf(want, sizeof(want), "1.2.3.%zu", i);
		assert_string_equal(ci.policies[i], want);
	}
	cs_cert_info_release(&ci);
	free(der);
}

static void
test_x509_cert_key_algs(void **state)
{
	struct fixture *fx = *state;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct spec sp = { "05", NULL, 0, 0, ed };
	struct cs_cert_info ci;
	uint8_t *der;
	size_t len;

	assert_non_null(ed);
	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	assert_int_equal(ci.key_alg, CS_PIV_ALG_ED25519);
	cs_cert_info_release(&ci);
	free(der);
	EVP_PKEY_free(ed);
}

static void
test_x509_cert_truncated_each_offset(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info ci;
	uint8_t *der, *copy;
	size_t len, n;

	der = plain_cert(fx, &len);
	for (n = 0; n < len; n++) {
		/* A copy of exactly n bytes, so ASan sees any over-read. */
		copy = malloc(n > 0 ? n : 1);
		assert_non_null(copy);
		memcpy(copy, der, n);
		assert_int_equal(cs_cert_info_parse(fx->ctx, copy, n, 0, &ci),
		    CS_ERR_MALFORMED);
		assert_true(info_is_clear(&ci));
		free(copy);
	}
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "not a DER X.509 certificate");
	free(der);
}

static void
test_x509_cert_trailing_and_garbage(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const char text[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n";
	struct cs_cert_info ci;
	uint8_t *der, *longer;
	size_t len, n;

	der = plain_cert(fx, &len);
	longer = malloc(len + 1);
	assert_non_null(longer);
	memcpy(longer, der, len);
	longer[len] = 0x00;
	assert_int_equal(cs_cert_info_parse(fx->ctx, longer, len + 1, 0, &ci),
	    CS_ERR_MALFORMED);
	/* Outer length one too long: the certificate claims one more byte. */
	assert_int_equal(longer[1], 0x82);
	n = ((size_t)longer[2] << 8 | longer[3]) + 1;
	longer[2] = (uint8_t)(n >> 8);
	longer[3] = (uint8_t)n;
	assert_int_equal(cs_cert_info_parse(fx->ctx, longer, len + 1, 0, &ci),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_cert_info_parse(fx->ctx, junk, sizeof(junk), 0,
	    &ci), CS_ERR_MALFORMED);
	assert_int_equal(cs_cert_info_parse(fx->ctx, NULL, 0, 0, &ci),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_cert_info_parse(fx->ctx, NULL, 0, CS_X509_PEM,
	    &ci), CS_ERR_MALFORMED);
	assert_int_equal(cs_cert_info_parse(fx->ctx, (const uint8_t *)text,
	    sizeof(text) - 1, CS_X509_PEM, &ci), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "certificate: no PEM X.509 certificate");
	assert_true(info_is_clear(&ci));
	/* A request is not a certificate. */
	free(der);
	der = make_csr(fx->key, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci),
	    CS_ERR_MALFORMED);
	free(der);
	free(longer);
}

static void
test_x509_cert_size_limit(void **state)
{
	struct fixture *fx = *state;
	struct spec sp = { "01", NULL, 0, 1000, fx->key };
	struct cs_cert_info ci;
	uint8_t *der, *big;
	size_t len = 0, i;

	/* Grow the padding until the certificate is exactly the maximum. */
	for (i = 0; i < 8; i++) {
		der = make_cert(fx->ca, &sp, &len);
		if (len == CS_X509_DER_MAX)
			break;
		free(der);
		der = NULL;
		sp.pad = sp.pad + CS_X509_DER_MAX - len;
	}
	assert_non_null(der);
	assert_int_equal(len, CS_X509_DER_MAX);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci), CS_OK);
	cs_cert_info_release(&ci);
	free(der);

	sp.pad++;
	der = make_cert(fx->ca, &sp, &len);
	assert_int_equal(len, CS_X509_DER_MAX + 1);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, &ci),
	    CS_ERR_LIMIT);
	assert_true(info_is_clear(&ci));
	free(der);

	/* PEM may be twice the DER bound, no more. */
	big = malloc(2 * CS_X509_DER_MAX + 1);
	assert_non_null(big);
	memset(big, 'A', 2 * CS_X509_DER_MAX + 1);
	assert_int_equal(cs_cert_info_parse(fx->ctx, big,
	    2 * CS_X509_DER_MAX + 1, CS_X509_PEM, &ci), CS_ERR_LIMIT);
	assert_int_equal(cs_cert_info_parse(fx->ctx, big,
	    2 * CS_X509_DER_MAX, CS_X509_PEM, &ci), CS_ERR_MALFORMED);
	free(big);
}

static void
test_x509_cert_args(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info ci;
	uint8_t *der;
	size_t len;

	der = plain_cert(fx, &len);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 1u << 5, &ci),
	    CS_ERR_ARG);
	assert_int_equal(cs_cert_info_parse(fx->ctx, NULL, 5, 0, &ci),
	    CS_ERR_ARG);
	assert_int_equal(cs_cert_info_parse(fx->ctx, der, len, 0, NULL),
	    CS_ERR_ARG);
	/* No context needed; release is idempotent and takes NULL. */
	assert_int_equal(cs_cert_info_parse(NULL, der, len, 0, &ci), CS_OK);
	cs_cert_info_release(&ci);
	cs_cert_info_release(&ci);
	cs_cert_info_release(NULL);
	free(der);
}

/* --- cs_csr_get_spki --- */

static void
test_x509_csr_spki(void **state)
{
	struct fixture *fx = *state;
	uint8_t *csr, *want, *spki = NULL;
	size_t len, want_len, spki_len = 0;
	char *pem;
	size_t plen;

	csr = make_csr(fx->key, &len);
	want = spki_of(fx->key, &want_len);
	assert_int_equal(cs_csr_get_spki(fx->ctx, csr, len, 0, &spki,
	    &spki_len), CS_OK);
	assert_int_equal(spki_len, want_len);
	assert_memory_equal(spki, want, want_len);
	cs_free(spki);

	pem = pem_of(CS_PEM_CSR, csr, len, &plen);
	assert_int_equal(cs_csr_get_spki(fx->ctx, (const uint8_t *)pem, plen,
	    CS_X509_PEM, &spki, &spki_len), CS_OK);
	assert_memory_equal(spki, want, want_len);
	cs_free(spki);
	assert_int_equal(cs_csr_get_spki(fx->ctx, (const uint8_t *)pem, plen,
	    0, &spki, &spki_len), CS_ERR_MALFORMED);
	assert_null(spki);
	assert_int_equal(spki_len, 0);
	cs_free(pem);
	free(want);
	free(csr);
}

static void
test_x509_csr_genuine(void **state)
{
	struct fixture *fx = *state;
	struct cs_cert_info stmt;
	uint8_t *csr, *s, *f9, *spki = NULL;
	size_t len, slen, flen, spki_len = 0;
	bool equal = false;

	/* The CSR's key is the key its embedded statement attests. */
	csr = load("gen-oid1.csr.pem", &len);
	assert_int_equal(cs_csr_get_spki(fx->ctx, csr, len, CS_X509_PEM, &spki,
	    &spki_len), CS_OK);
	assert_int_equal(cs_attest_from_csr(fx->ctx, csr, len, &s, &slen, &f9,
	    &flen), CS_OK);
	assert_int_equal(cs_cert_info_parse(fx->ctx, s, slen, 0, &stmt),
	    CS_OK);
	assert_int_equal(cs_spki_equal(fx->ctx, spki, spki_len, stmt.spki,
	    stmt.spki_len, 0, &equal), CS_OK);
	assert_true(equal);
	cs_cert_info_release(&stmt);
	cs_free(s);
	cs_free(f9);
	cs_free(spki);
	free(csr);
}

static void
test_x509_csr_malformed(void **state)
{
	struct fixture *fx = *state;
	uint8_t *csr, *cert, *longer, *spki = NULL, *big;
	size_t len, clen, n, spki_len = 0;

	csr = make_csr(fx->key, &len);
	for (n = 0; n < len; n++)
		assert_int_equal(cs_csr_get_spki(fx->ctx, csr, n, 0, &spki,
		    &spki_len), CS_ERR_MALFORMED);
	assert_null(spki);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "not a DER certificate request");
	longer = malloc(len + 2);
	assert_non_null(longer);
	memcpy(longer, csr, len);
	longer[len] = 0x05;
	longer[len + 1] = 0x00;
	assert_int_equal(cs_csr_get_spki(fx->ctx, longer, len + 2, 0, &spki,
	    &spki_len), CS_ERR_MALFORMED);
	cert = plain_cert(fx, &clen);
	assert_int_equal(cs_csr_get_spki(fx->ctx, cert, clen, 0, &spki,
	    &spki_len), CS_ERR_MALFORMED);
	big = calloc(1, CS_X509_DER_MAX + 1);
	assert_non_null(big);
	big[0] = 0x30;
	assert_int_equal(cs_csr_get_spki(fx->ctx, big, CS_X509_DER_MAX + 1, 0,
	    &spki, &spki_len), CS_ERR_LIMIT);
	assert_int_equal(cs_csr_get_spki(fx->ctx, csr, len, 0, NULL,
	    &spki_len), CS_ERR_ARG);
	assert_null(spki);
	free(big);
	free(cert);
	free(longer);
	free(csr);
}

/* --- cs_spki_equal --- */

static void
test_x509_spki_equal(void **state)
{
	struct fixture *fx = *state;
	uint8_t *a, *b, *fix, *fixother;
	size_t alen, blen, flen, folen, plen;
	struct cs_cert_info ci;
	uint8_t *stmt;
	size_t slen;
	char *pem;
	bool equal = false;

	a = spki_of(fx->key, &alen);
	b = spki_of(fx->other, &blen);
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, a, alen, 0, &equal),
	    CS_OK);
	assert_true(equal);
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, b, blen, 0, &equal),
	    CS_OK);
	assert_false(equal);

	/* Same key as DER and as PEM. */
	pem = pem_of(CS_PEM_PUBKEY, a, alen, &plen);
	equal = false;
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, (const uint8_t *)pem,
	    plen, CS_X509_PEM, &equal), CS_OK);
	assert_true(equal);
	assert_int_equal(cs_spki_equal(fx->ctx, (const uint8_t *)pem, plen, b,
	    blen, CS_X509_PEM, &equal), CS_OK);
	assert_false(equal);
	/* PEM without the flag is not DER. */
	equal = true;
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, (const uint8_t *)pem,
	    plen, 0, &equal), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "public key b: not a DER SubjectPublicKeyInfo");
	assert_true(equal); /* untouched on failure */

	/* Fixtures: the statement's key is gen-9a.pub.der, not gen-other. */
	stmt = load("gen-9a.stmt.pem", &slen);
	fix = load("gen-9a.pub.der", &flen);
	fixother = load("gen-other.pub.der", &folen);
	assert_int_equal(cs_cert_info_parse(fx->ctx, stmt, slen, CS_X509_PEM,
	    &ci), CS_OK);
	assert_int_equal(cs_spki_equal(fx->ctx, ci.spki, ci.spki_len, fix,
	    flen, 0, &equal), CS_OK);
	assert_true(equal);
	assert_int_equal(cs_spki_equal(fx->ctx, ci.spki, ci.spki_len, fixother,
	    folen, 0, &equal), CS_OK);
	assert_false(equal);
	/* Different algorithms are different keys, not an error. */
	free(b);
	b = spki_of(fx->ca, &blen);
	equal = true;
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, b, blen, 0, &equal),
	    CS_OK);
	assert_false(equal);
	cs_cert_info_release(&ci);
	free(stmt);
	free(fix);
	free(fixother);
	cs_free(pem);
	free(a);
	free(b);
}

static void
test_x509_spki_malformed(void **state)
{
	struct fixture *fx = *state;
	uint8_t *a, *longer, *big;
	size_t alen, n;
	bool equal = false;

	a = spki_of(fx->key, &alen);
	for (n = 0; n < alen; n++) {
		assert_int_equal(cs_spki_equal(fx->ctx, a, n, a, alen, 0,
		    &equal), CS_ERR_MALFORMED);
		assert_int_equal(cs_spki_equal(fx->ctx, a, alen, a, n, 0,
		    &equal), CS_ERR_MALFORMED);
	}
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "public key b: not a DER SubjectPublicKeyInfo");
	longer = malloc(alen + 1);
	assert_non_null(longer);
	memcpy(longer, a, alen);
	longer[alen] = 0;
	assert_int_equal(cs_spki_equal(fx->ctx, longer, alen + 1, a, alen, 0,
	    &equal), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(fx->ctx),
	    "public key a: not a DER SubjectPublicKeyInfo");
	big = calloc(1, CS_X509_DER_MAX + 1);
	assert_non_null(big);
	big[0] = 0x30;
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, big,
	    CS_X509_DER_MAX + 1, 0, &equal), CS_ERR_LIMIT);
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, a, alen, 1u << 7,
	    &equal), CS_ERR_ARG);
	assert_int_equal(cs_spki_equal(fx->ctx, a, alen, a, alen, 0, NULL),
	    CS_ERR_ARG);
	free(big);
	free(longer);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509_cert_every_field),
		cmocka_unit_test(test_x509_cert_pem_needs_flag),
		cmocka_unit_test(test_x509_cert_genuine_statement),
		cmocka_unit_test(test_x509_cert_rsa_root),
		cmocka_unit_test(test_x509_cert_serial_forms),
		cmocka_unit_test(test_x509_cert_policies_bounded),
		cmocka_unit_test(test_x509_cert_key_algs),
		cmocka_unit_test(test_x509_cert_truncated_each_offset),
		cmocka_unit_test(test_x509_cert_trailing_and_garbage),
		cmocka_unit_test(test_x509_cert_size_limit),
		cmocka_unit_test(test_x509_cert_args),
		cmocka_unit_test(test_x509_csr_spki),
		cmocka_unit_test(test_x509_csr_genuine),
		cmocka_unit_test(test_x509_csr_malformed),
		cmocka_unit_test(test_x509_spki_equal),
		cmocka_unit_test(test_x509_spki_malformed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
