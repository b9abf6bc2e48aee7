/*
 * Pre-issuance lint of the to-be-signed certificate. Only a clean
 * certificate is signed. Checks what installable linters are known to
 * miss: serial sign and size, keyUsage criticality and consistency with
 * the EKUs, basicConstraints, AKI/SKI, validity order and nesting, policy
 * presence (never anyPolicy in a leaf), key sizes and curves, subject and
 * SAN well-formedness (RFC 5280 4.1.2.2, 4.1.2.5, 4.2.1.1-4.2.1.12), and
 * every OID within the limits common parsers read (csa_oid_der_short).
 *
 * Works on an unsigned certificate: only X509_get_ext_d2i-style accessors
 * are used, never the cached extension flags (which need a signature).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

struct lint {
	char *buf;
	size_t cap;
	unsigned int n;
};

static void finding(struct lint *l, const char *fmt, ...) CS_PRINTF(2, 3);

static void
finding(struct lint *l, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	l->n++;
	if (l->buf == NULL || l->cap == 0)
		return;
	len = strlen(l->buf);
	if (len + 3 >= l->cap)
		return;
	if (len > 0) {
		snprintf(l->buf + len, l->cap - len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(l->buf + len, l->cap - len, fmt, ap);
	va_end(ap);
}

static int
ext_critical(const X509 *x, int nid, bool *present)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	*present = i >= 0;
	if (i < 0)
		return 0;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void
lint_serial(struct lint *l, const X509 *x)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	BIGNUM *bn;

	if (s == NULL || (bn = ASN1_INTEGER_to_BN(s, NULL)) == NULL) {
		finding(l, "serial number missing");
		return;
	}
	if (BN_is_negative(bn) || BN_is_zero(bn))
		finding(l,
		    "serial number must be positive (RFC 5280 "
		    "4.1.2.2)");
	if (BN_num_bytes(bn) > 20)
		finding(l, "serial number longer than 20 octets");
	if (BN_num_bits(bn) < 64)
		finding(l, "serial number has fewer than 64 bits");
	BN_free(bn);
}

static void
lint_validity(struct lint *l, const X509 *x, const X509 *issuer)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	const ASN1_TIME *na = X509_get0_notAfter(x);

	if (nb == NULL || na == NULL) {
		finding(l, "validity missing");
		return;
	}
	if (ASN1_TIME_compare(nb, na) >= 0)
		finding(l, "notBefore is not before notAfter");
	if (issuer == NULL)
		return;
	if (ASN1_TIME_compare(nb, X509_get0_notBefore(issuer)) < 0)
		finding(l, "notBefore precedes the issuer's notBefore");
	if (ASN1_TIME_compare(na, X509_get0_notAfter(issuer)) > 0)
		finding(l, "notAfter is past the issuer's notAfter");
}

static void
lint_key(struct lint *l, const X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	unsigned int bits;

	if (k == NULL) {
		finding(l, "public key unreadable");
		return;
	}
	if (csa_key_alg(k, &bits) == 0)
		finding(l,
		    "key %s/%u bits not allowed (RSA 2048-4096, P-256, "
		    "P-384, Ed25519)",
		    OBJ_nid2sn(EVP_PKEY_get_base_id(k)), bits);
}

/* RFC 5280 Appendix A.1: ub-common-name INTEGER ::= 64 (characters). */
#define UB_COMMON_NAME 64

/*
 * Does UTF-8 text hold a NUL, a C0 or C1 control character or DEL? A NUL
 * cuts the name short in every C consumer (the classic "www.bank.com\0"
 * trick), and controls rewrite what a log or a prompt shows.
 */
static bool
has_control(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return true;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t
utf8_chars(const unsigned char *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/*
 * One string of a name, any type (UTF8String, PrintableString,
 * IA5String, BMPString, UniversalString, T61String): converted to UTF-8,
 * so a BMPString's 00 00 is seen as the NUL it is. *chars: its length in
 * characters, 0 if it does not convert.
 */
static bool
string_clean(const ASN1_STRING *s, size_t *chars)
{
	unsigned char *u = NULL;
	int len;
	bool ok;

	*chars = 0;
	if ((len = ASN1_STRING_to_UTF8(&u, s)) < 0) {
		ERR_clear_error();
		return false;
	}
	ok = !has_control(u, (size_t)len);
	*chars = utf8_chars(u, (size_t)len);
	OPENSSL_free(u);
	return ok;
}

/* The attributes of a name: what, e.g. "subject" or "SAN dirName 2". */
static void
lint_dn(struct lint *l, const X509_NAME *n, const char *what)
{
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *s;
	size_t chars;
	int i, nid;

	for (i = 0; n != NULL && i < X509_NAME_entry_count(n); i++) {
		e = X509_NAME_get_entry(n, i);
		s = X509_NAME_ENTRY_get_data(e);
		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		if (s == NULL || ASN1_STRING_length(s) == 0) {
			finding(l, "%s attribute %d is empty", what, i);
			continue;
		}
		if (!string_clean(s, &chars))
			finding(l,
			    "%s attribute %d (%s) holds a NUL or control "
			    "character or is not a valid string",
			    what, i, nid != NID_undef ? OBJ_nid2sn(nid) : "?");
		if (nid == NID_commonName && chars > UB_COMMON_NAME)
			finding(l,
			    "%s commonName has %zu characters, more than %d "
			    "(RFC 5280 ub-common-name)",
			    what, chars, UB_COMMON_NAME);
	}
}

/* An IA5String of the SAN: printable ASCII only (RFC 5280 4.2.1.6). */
static bool
ia5_clean(const ASN1_STRING *s)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int i, n = ASN1_STRING_length(s);

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

static void
lint_san_entry(struct lint *l, const GENERAL_NAME *g, int i)
{
	const ASN1_STRING *s;
	ASN1_TYPE *v = NULL;
	char what[48];
	size_t chars;
	int len;

	switch (g->type) {
	case GEN_EMAIL:
	case GEN_DNS:
	case GEN_URI:
		s = g->d.ia5;
		len = ASN1_STRING_length(s);
		if (!ia5_clean(s))
			finding(l,
			    "subjectAltName entry %d holds a NUL, control or "
			    "non-ASCII character",
			    i);
		if (len == 0 ||
		    memchr(ASN1_STRING_get0_data(s), ' ', (size_t)len) != NULL)
			finding(l,
			    "subjectAltName entry %d is empty or "
			    "has spaces",
			    i);
		if (g->type == GEN_EMAIL &&
		    (len == 0 ||
		        memchr(ASN1_STRING_get0_data(s), '@', (size_t)len) ==
		            NULL))
			finding(l, "subjectAltName email %d has no '@'", i);
		break;
	case GEN_OTHERNAME:
		/* A string-valued otherName (the UPN is a UTF8String). */
		GENERAL_NAME_get0_otherName(g, NULL, &v);
		if (v != NULL &&
		    (v->type == V_ASN1_UTF8STRING ||
		        v->type == V_ASN1_IA5STRING ||
		        v->type == V_ASN1_PRINTABLESTRING ||
		        v->type == V_ASN1_BMPSTRING ||
		        v->type == V_ASN1_UNIVERSALSTRING ||
		        v->type == V_ASN1_T61STRING) &&
		    !string_clean(v->value.asn1_string, &chars))
			finding(l,
			    "subjectAltName otherName %d holds a NUL or "
			    "control character or is not a valid string",
			    i);
		break;
	case GEN_DIRNAME:
		snprintf(what, sizeof(what), "subjectAltName dirName %d", i);
		lint_dn(l, g->d.directoryName, what);
		break;
	default:
		break;
	}
}

static void
lint_names(struct lint *l, const X509 *x)
{
	const X509_NAME *n = X509_get_subject_name(x);
	GENERAL_NAMES *gens;
	bool crit, san;
	int i;

	lint_dn(l, n, "subject");
	crit = ext_critical(x, NID_subject_alt_name, &san) != 0;
	if ((n == NULL || X509_NAME_entry_count(n) == 0) && !san)
		finding(l, "subject and subjectAltName are both empty");
	if ((n == NULL || X509_NAME_entry_count(n) == 0) && san && !crit)
		finding(l,
		    "subjectAltName must be critical with an empty "
		    "subject (RFC 5280 4.2.1.6)");
	if (!san)
		return;
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)) ==
	    NULL) {
		finding(l, "subjectAltName does not decode");
		return;
	}
	if (sk_GENERAL_NAME_num(gens) == 0)
		finding(l, "subjectAltName is empty");
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++)
		lint_san_entry(l, sk_GENERAL_NAME_value(gens, i), i);
	GENERAL_NAMES_free(gens);
}

/*
 * Extensions that constrain the certificates a CA issues and mean
 * nothing in a leaf (RFC 5280 4.2.1.10 "MUST be used only in a CA
 * certificate", 4.2.1.5, 4.2.1.11, 4.2.1.14).
 */
static void
lint_ca_only(struct lint *l, const X509 *x, unsigned int flags)
{
	static const int nids[] = {
		NID_name_constraints,
		NID_policy_mappings,
		NID_policy_constraints,
		NID_inhibit_any_policy,
	};
	size_t i;

	if (flags & CS_CA_LINT_CA)
		return;
	for (i = 0; i < sizeof(nids) / sizeof(*nids); i++)
		if (X509_get_ext_by_NID(x, nids[i], -1) >= 0)
			finding(l,
			    "%s in a leaf certificate (CA certificates only, "
			    "RFC 5280 4.2.1)",
			    OBJ_nid2sn(nids[i]));
}

static void
lint_ca_flags(struct lint *l, const X509 *x, unsigned int flags)
{
	BASIC_CONSTRAINTS *bc;
	bool present;
	int crit = ext_critical(x, NID_basic_constraints, &present);

	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	if (flags & CS_CA_LINT_CA) {
		if (bc == NULL || !bc->ca || !crit)
			finding(l,
			    "CA certificate needs a critical "
			    "basicConstraints CA:TRUE");
	} else if (bc != NULL && bc->ca)
		finding(l, "leaf certificate has basicConstraints CA:TRUE");
	else if (present && bc == NULL)
		finding(l, "basicConstraints does not decode");
	BASIC_CONSTRAINTS_free(bc);
}

static bool
has_eku(const EXTENDED_KEY_USAGE *eku, int nid, const char *oid)
{
	int i;

	for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);

		if (nid != NID_undef && OBJ_obj2nid(o) == nid)
			return true;
		if (oid != NULL && csa_oid_obj_eq(o, oid))
			return true;
	}
	return false;
}

static bool
ku_has(const ASN1_BIT_STRING *ku, int bit)
{
	return ku != NULL && ASN1_BIT_STRING_get_bit(ku, bit);
}

/* RFC 5280 4.2.1.3 bit numbers. */
enum {
	KU_DS = 0,
	KU_NR = 1,
	KU_KE = 2,
	KU_DE = 3,
	KU_KA = 4,
	KU_CERTSIGN = 5,
	KU_CRLSIGN = 6,
};

static void
lint_usage(struct lint *l, const X509 *x, unsigned int flags)
{
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	EVP_PKEY *k = X509_get0_pubkey(x);
	bool present, signing;
	int crit = ext_critical(x, NID_key_usage, &present);
	int type = k != NULL ? EVP_PKEY_get_base_id(k) : 0;

	ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	if (ku == NULL) {
		finding(l, "keyUsage missing");
		goto out;
	}
	if (!crit)
		finding(l, "keyUsage must be critical");
	if (flags & CS_CA_LINT_CA) {
		if (!ku_has(ku, KU_CERTSIGN))
			finding(l, "CA keyUsage lacks keyCertSign");
		goto out;
	}
	if (ku_has(ku, KU_CERTSIGN) || ku_has(ku, KU_CRLSIGN))
		finding(l, "leaf keyUsage has keyCertSign/cRLSign");
	if (type == EVP_PKEY_EC && (ku_has(ku, KU_KE) || ku_has(ku, KU_DE)))
		finding(l, "keyEncipherment/dataEncipherment with an EC key");
	if (type == EVP_PKEY_RSA && ku_has(ku, KU_KA))
		finding(l, "keyAgreement with an RSA key");
	signing = ku_has(ku, KU_DS);
	if ((has_eku(eku, NID_client_auth, NULL) ||
	        has_eku(eku, NID_ms_smartcard_login, NULL) ||
	        has_eku(eku, NID_undef, "2.16.840.1.101.3.6.8")) &&
	    !signing &&
	    !(type == EVP_PKEY_RSA && ku_has(ku, KU_KE) &&
	        !has_eku(eku, NID_undef, "2.16.840.1.101.3.6.8")))
		finding(l,
		    "extendedKeyUsage (client auth / smart card logon "
		    "/ PIV card auth) needs digitalSignature");
	if (has_eku(eku, NID_email_protect, NULL) && !signing &&
	    !ku_has(ku, KU_NR) && !ku_has(ku, KU_KE) && !ku_has(ku, KU_KA))
		finding(l,
		    "emailProtection needs a signing or encipherment "
		    "keyUsage");
	if (has_eku(eku, NID_anyExtendedKeyUsage, NULL))
		finding(l, "anyExtendedKeyUsage in a leaf");
out:
	ASN1_BIT_STRING_free(ku);
	EXTENDED_KEY_USAGE_free(eku);
}

static void
lint_ids(struct lint *l, const X509 *x, const X509 *issuer)
{
	ASN1_OCTET_STRING *ski = NULL, *iski = NULL;
	AUTHORITY_KEYID *aki = NULL;

	if ((ski = X509_get_ext_d2i(x, NID_subject_key_identifier, NULL,
	         NULL)) == NULL)
		finding(l, "subjectKeyIdentifier missing");
	aki = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	if (issuer == NULL)
		goto out;
	if (aki == NULL || aki->keyid == NULL)
		finding(l, "authorityKeyIdentifier keyIdentifier missing");
	else if ((iski = X509_get_ext_d2i(issuer, NID_subject_key_identifier,
	              NULL, NULL)) != NULL &&
	    ASN1_OCTET_STRING_cmp(aki->keyid, iski) != 0)
		finding(l,
		    "authorityKeyIdentifier differs from the issuer's "
		    "subjectKeyIdentifier");
	if (X509_NAME_cmp(X509_get_issuer_name(x),
	        X509_get_subject_name(issuer)) != 0)
		finding(l, "issuer name differs from the issuer's subject");
out:
	ASN1_OCTET_STRING_free(ski);
	ASN1_OCTET_STRING_free(iski);
	AUTHORITY_KEYID_free(aki);
}

static void
lint_policy(struct lint *l, const X509 *x, unsigned int flags)
{
	CERTIFICATEPOLICIES *cp;
	bool anyp = false;

	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	if (cp == NULL || sk_POLICYINFO_num(cp) == 0)
		finding(l, "certificatePolicies missing");
	CERTIFICATEPOLICIES_free(cp);
	(void)csa_has_policy(x, NULL, &anyp);
	if (anyp)
		finding(l, "certificatePolicies asserts anyPolicy");
	(void)flags;
}

#define OID_WALK_DEPTH 32

/*
 * Each OBJECT IDENTIFIER in the DER p[0..len), descending into
 * constructed encodings, within the portable limits (csa_oid_der_short).
 * Bytes that are not DER (an opaque extension value) end the walk there:
 * there is no OID to see in them.
 */
static void
walk_oids(struct lint *l, const unsigned char *p, long len, int depth,
    const char *where)
{
	const unsigned char *q = p, *start, *end = p + len;
	ASN1_OBJECT *o;
	char txt[256];
	long n;
	int tag, cls, ret;

	while (q < end) {
		start = q;
		ret = ASN1_get_object(&q, &n, &tag, &cls, end - q);
		if ((ret & 0x80) || ret == (V_ASN1_CONSTRUCTED | 1))
			return;
		if (ret & V_ASN1_CONSTRUCTED) {
			if (depth < OID_WALK_DEPTH)
				walk_oids(l, q, n, depth + 1, where);
		} else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_OBJECT &&
		    !csa_oid_der_short(q, (size_t)n)) {
			txt[0] = '\0';
			if ((o = d2i_ASN1_OBJECT(NULL, &start,
			         q + n - start)) != NULL)
				(void)OBJ_obj2txt(txt, sizeof(txt), o, 1);
			ASN1_OBJECT_free(o);
			finding(l,
			    "%s: OID %s %s (Go's crypto/x509 and Debian 12's "
			    "python3-cryptography cannot parse the "
			    "certificate; ca init --allow-long-oid-arcs permits "
			    "it)",
			    where, txt[0] != '\0' ? txt : "?",
			    csa_oid_long_reason((size_t)n));
		}
		q += n;
	}
}

/* Walk one encoded part (der, len from an i2d call; freed here). */
static void
walk_part(struct lint *l, unsigned char *der, int len, const char *where)
{
	if (len <= 0 || der == NULL)
		finding(l, "%s does not encode", where);
	else
		walk_oids(l, der, len, 0, where);
	OPENSSL_free(der);
}

/*
 * OIDs in the names, the key and every extension, and inside the
 * extension values (policies, EKUs, otherName types, the level map): a
 * parser that rejects one OID rejects the whole certificate. Part by part,
 * since the unsigned certificate as a whole has no signature algorithm
 * yet to encode.
 */
static void
lint_oids(struct lint *l, const X509 *x, unsigned int flags)
{
	X509_EXTENSION *e;
	const ASN1_OCTET_STRING *v;
	unsigned char *der;
	char where[80];
	int i, len;

	if (flags & CS_CA_LINT_LONG_OID_ARCS)
		return;
	der = NULL;
	len = i2d_X509_NAME(X509_get_subject_name(x), &der);
	walk_part(l, der, len, "subject");
	der = NULL;
	len = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	walk_part(l, der, len, "issuer");
	der = NULL;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	walk_part(l, der, len, "public key");
	for (i = 0; i < X509_get_ext_count(x); i++) {
		e = X509_get_ext(x, i);
		if (OBJ_obj2txt(where, sizeof(where),
		        X509_EXTENSION_get_object(e), 0) <= 0)
			snprintf(where, sizeof(where), "extension %d", i);
		der = NULL;
		len = i2d_X509_EXTENSION(e, &der);
		walk_part(l, der, len, where);
		if ((v = X509_EXTENSION_get_data(e)) != NULL)
			walk_oids(l, ASN1_STRING_get0_data(v),
			    ASN1_STRING_length(v), 0, where);
	}
}

enum cs_err
csa_lint(struct cs_ctx *ctx, const X509 *x, const X509 *issuer,
    unsigned int flags, char *findings, size_t fcap)
{
	struct lint l = { findings, fcap, 0 };

	if (findings != NULL && fcap > 0)
		findings[0] = '\0';
	if (X509_get_version(x) != 2)
		finding(&l, "not an X.509 v3 certificate");
	lint_serial(&l, x);
	lint_validity(&l, x, issuer);
	lint_key(&l, x);
	lint_names(&l, x);
	lint_ca_only(&l, x, flags);
	lint_ca_flags(&l, x, flags);
	lint_usage(&l, x, flags);
	lint_ids(&l, x, issuer);
	lint_policy(&l, x, flags);
	lint_oids(&l, x, flags);
	ERR_clear_error();
	if (l.n == 0)
		return CS_OK;
	return cs_ctx_fail(ctx, CS_ERR_POLICY, "lint: %s",
	    findings != NULL && fcap > 0 ? findings : "failed");
}

enum cs_err
cs_ca_lint(struct cs_ctx *ctx, const uint8_t *cert, size_t len,
    const uint8_t *issuer, size_t ilen, unsigned int flags, char *findings,
    size_t fcap)
{
	X509 *x = NULL, *i = NULL;
	char local[CS_CA_REASON_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	if (findings == NULL || fcap == 0) {
		findings = local;
		fcap = sizeof(local);
	}
	findings[0] = '\0';
	if ((r = csa_cert_decode(ctx, "certificate", cert, len, &x)) != CS_OK ||
	    (issuer != NULL &&
	        (r = csa_cert_decode(ctx, "issuer", issuer, ilen, &i)) !=
	            CS_OK))
		goto out;
	r = csa_lint(ctx, x, i, flags, findings, fcap);
out:
	X509_free(x);
	X509_free(i);
	return r;
}
