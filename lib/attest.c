/*
 * YubiKey PIV attestation (piv-apdu.md §6): decode the statement a card
 * returns for ATTEST and the device's F9 certificate, verify the path
 * statement <- F9 <- [vendor intermediates] <- root, and read the Yubico
 * extensions (arc 1.3.6.1.4.1.41482.3).
 *
 * The F9 certificate is not always a CA (no basicConstraints on some 4.3
 * and 5.2 keys), so the statement is checked against F9 by hand (issuer
 * name, signature, validity) and F9 is the *leaf* of the X.509 path
 * validation. That tolerates the quirk at the F9 position only: everything
 * above F9 must be a real CA, which OpenSSL enforces.
 *
 * The depths are the vendor's, never discovered: the statement is issued
 * by the F9 certificate, and the F9 certificate directly by a certificate
 * of the trust store (a root, or a published intermediate that ships with
 * the roots). The caller supplies exactly two certificates and neither can
 * stand in for the other: a slot statement (PIN/touch policy extension,
 * "YubiKey PIV Attestation <slot>" subject) is never accepted as an F9,
 * and no device certificate (any Yubico device extension) ever joins the
 * trust store. Without that, a genuine statement for key K in the F9
 * position, under an F9 marked CA:TRUE pathlen 0, would let whoever holds
 * K sign "statements" for any software key.
 *
 * All X.509/ASN.1 decoding goes through OpenSSL; the raw contents of the
 * Yubico extensions are read with cs_cur. The trust store is in trust.c,
 * statements embedded in a CSR in attest_csr.c; attest_int.h holds what
 * they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "attest_int.h"

#include "banned.h"


#define SLOT_CN_PREFIX "YubiKey PIV Attestation "
/*
 * Certificates between the F9 certificate and the anchor, at most: Yubico's
 * 2024 PKI has two (PIV Attestation B 1, Attestation Intermediate B 1).
 */
#define TRUST_DEPTH_MAX 2

/* --- small helpers --- */

bool
csi_attest_is_der(const uint8_t *p, size_t len)
{
	/* A DER certificate, CSR or SPKI starts with SEQUENCE. */
	return len > 0 && p[0] == 0x30;
}

/* One-line RFC 2253 form of a name, truncated to fit; "" on failure. */
void
csi_attest_name_oneline(const X509_NAME *name, char *buf, size_t cap)
{
	BIO *b;
	char *p = NULL;
	long n;
	size_t len;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && p != NULL) {
		len = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
	BIO_free(b);
}

ASN1_OBJECT *
csi_attest_oid(const char *txt)
{
	return OBJ_txt2obj(txt, 1);
}

/*
 * Decode one certificate, DER (whole input, no trailing bytes) or PEM
 * (first CERTIFICATE block). what names it in messages.
 */
enum cs_err
csi_attest_decode_cert(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, X509 **out)
{
	const unsigned char *q = p;
	BIO *b = NULL;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (p == NULL || len == 0) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s: empty input", what);
		goto out;
	}
	if (len > (csi_attest_is_der(p, len) ? 1u : CSI_ATTEST_PEM_FACTOR) *
	    CS_ATTEST_CERT_MAX) {
		r = csi_fail(ctx, CS_ERR_LIMIT, "%s: %zu bytes, more than %u",
		    what, len, CS_ATTEST_CERT_MAX);
		goto out;
	}
	if (csi_attest_is_der(p, len)) {
		if ((x = d2i_X509(NULL, &q, (long)len)) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "%s: not a DER certificate", what);
			goto out;
		}
		if (q != p + len) {
			r = csi_fail(ctx, CS_ERR_MALFORMED,
			    "%s: trailing data after certificate", what);
			goto out;
		}
	} else {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "%s", what);
			goto out;
		}
		if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "%s: no PEM certificate", what);
			goto out;
		}
		if (i2d_X509(x, NULL) > (int)CS_ATTEST_CERT_MAX) {
			r = csi_fail(ctx, CS_ERR_LIMIT,
			    "%s: certificate larger than %u", what,
			    CS_ATTEST_CERT_MAX);
			goto out;
		}
	}
	ERR_clear_error();
	*out = x;
	x = NULL;
	r = CS_OK;
out:
	X509_free(x);
	BIO_free(b);
	return r;
}

/*
 * The value of extension txt in x as a cursor (borrowed from x). *found is
 * false if absent. A repeated extension is malformed (RFC 5280 4.2).
 */
static enum cs_err
get_ext(struct cs_ctx *ctx, const char *what, const X509 *x, const char *txt,
    bool *found, struct cs_cur *val)
{
	ASN1_OBJECT *obj = NULL;
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *os;
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	*found = false;
	cs_cur_init(val, NULL, 0);
	if ((obj = csi_attest_oid(txt)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "OID %s", txt);
		goto out;
	}
	if ((i = X509_get_ext_by_OBJ(x, obj, -1)) < 0) {
		r = CS_OK;
		goto out;
	}
	if (X509_get_ext_by_OBJ(x, obj, i) >= 0) {
		r = csi_fail(ctx, CS_ERR_MALFORMED,
		    "%s: extension %s appears twice", what, txt);
		goto out;
	}
	if ((ext = X509_get_ext(x, i)) == NULL ||
	    (os = X509_EXTENSION_get_data(ext)) == NULL) {
		r = csi_fail(ctx, CS_ERR_MALFORMED, "%s: extension %s unreadable",
		    what, txt);
		goto out;
	}
	cs_cur_init(val, ASN1_STRING_get0_data(os),
	    (size_t)ASN1_STRING_length(os));
	*found = true;
	r = CS_OK;
out:
	ASN1_OBJECT_free(obj);
	return r;
}

/* An extension that must hold exactly n raw bytes. */
static enum cs_err
get_ext_raw(struct cs_ctx *ctx, const char *what, const X509 *x,
    const char *txt, uint8_t *dst, size_t n, bool *found)
{
	struct cs_cur val;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = get_ext(ctx, what, x, txt, found, &val)) != CS_OK ||
	    !*found)
		return r;
	if (cs_cur_copy(&val, dst, n) != CS_OK || !cs_cur_is_empty(&val)) {
		*found = false;
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "%s: extension %s must be %zu bytes, is %zu", what, txt, n,
		    cs_cur_len(&val));
	}
	return CS_OK;
}

/* .3.7: the extnValue contents are a DER INTEGER, non-negative. */
static enum cs_err
get_ext_serial(struct cs_ctx *ctx, const X509 *x, struct cs_attest_info *in)
{
	struct cs_cur val;
	ASN1_INTEGER *ai = NULL;
	const unsigned char *q;
	bool found;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = get_ext(ctx, "statement", x, OID_SERIAL, &found, &val)) !=
	    CS_OK)
		goto out;
	r = CS_OK;
	if (!found)
		goto out;
	q = cs_cur_ptr(&val);
	if (cs_cur_len(&val) == 0 || cs_cur_len(&val) > 32 ||
	    (ai = d2i_ASN1_INTEGER(NULL, &q, (long)cs_cur_len(&val))) == NULL ||
	    q != cs_cur_ptr(&val) + cs_cur_len(&val)) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "statement: extension %s (serial) is not a DER INTEGER",
		    OID_SERIAL);
		goto out;
	}
	if (ASN1_STRING_type(ai) == V_ASN1_NEG_INTEGER ||
	    ASN1_INTEGER_get_uint64(&in->serial, ai) != 1) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "statement: extension %s (serial) is negative or too large",
		    OID_SERIAL);
		goto out;
	}
	in->has_serial = true;
out:
	ASN1_INTEGER_free(ai);
	return r;
}

/* Slot from the subject CN "YubiKey PIV Attestation 9a"; -1 if not so. */
static int
parse_slot(const X509 *x)
{
	const X509_NAME *name = X509_get_subject_name(x);
	const ASN1_STRING *cn;
	struct cs_cur c, pfx;
	char two[3] = { 0 };
	uint8_t hi, lo, slot;
	size_t n;
	int i;

	if (name == NULL ||
	    (i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return -1;
	cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if (cn == NULL)
		return -1;
	cs_cur_init(&c, ASN1_STRING_get0_data(cn),
	    (size_t)ASN1_STRING_length(cn));
	if (cs_cur_get_bytes(&c, strlen(SLOT_CN_PREFIX), &pfx) != CS_OK ||
	    !cs_cur_eq(&pfx, SLOT_CN_PREFIX, strlen(SLOT_CN_PREFIX)) ||
	    cs_cur_get_u8(&c, &hi) != CS_OK || cs_cur_get_u8(&c, &lo) != CS_OK ||
	    !cs_cur_is_empty(&c))
		return -1;
	two[0] = (char)hi;
	two[1] = (char)lo;
	if (cs_hex_decode(NULL, two, &slot, 1, &n) != CS_OK || n != 1)
		return -1;
	return slot;
}

/*
 * Does x carry extension txt? Compared as dotted text into a stack buffer,
 * so there is no allocation that could fail and turn a refusal around.
 */
static bool
has_ext(const X509 *x, const char *txt)
{
	char buf[80];
	int i, n = X509_get_ext_count(x);

	for (i = 0; i < n; i++) {
		if (OBJ_obj2txt(buf, sizeof(buf),
		    X509_EXTENSION_get_object(X509_get_ext(x, i)), 1) <= 0)
			continue;
		if (strcmp(buf, txt) == 0)
			return true;
	}
	return false;
}

/* A slot statement: the PIN/touch policy extension, or a slot subject. */
static bool
is_statement_shaped(const X509 *x)
{
	return has_ext(x, OID_POLICY) || parse_slot(x) >= 0;
}

/*
 * A device's own certificate (F9 or slot statement): any of the Yubico
 * device extensions. Manufacturer roots and intermediates carry none.
 */
bool
csi_attest_is_device_cert(const X509 *x)
{
	return is_statement_shaped(x) || has_ext(x, OID_FIRMWARE) ||
	    has_ext(x, OID_SERIAL) || has_ext(x, OID_FORM_FACTOR);
}

/* Subject, issuer, slot, validity, key and Yubico extensions of stmt. */
static enum cs_err
parse_stmt(struct cs_ctx *ctx, const X509 *x, struct cs_attest_info *in)
{
	uint8_t pol[2], ff;
	bool found;
	enum cs_err r = CS_ERR_INTERNAL;

	csi_attest_name_oneline(X509_get_subject_name(x), in->subject,
	    sizeof(in->subject));
	csi_attest_name_oneline(X509_get_issuer_name(x), in->issuer,
	    sizeof(in->issuer));
	in->slot = parse_slot(x);
	in->key_alg = csi_pkey_piv_alg(X509_get0_pubkey(x));
	if (!csi_asn1_time_unix(X509_get0_notBefore(x), &in->not_before) ||
	    !csi_asn1_time_unix(X509_get0_notAfter(x), &in->not_after))
		return csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "statement: validity unreadable");
	if ((r = get_ext_raw(ctx, "statement", x, OID_FIRMWARE, in->firmware,
	    sizeof(in->firmware), &in->has_firmware)) != CS_OK ||
	    (r = get_ext_serial(ctx, x, in)) != CS_OK ||
	    (r = get_ext_raw(ctx, "statement", x, OID_POLICY, pol, sizeof(pol),
	    &found)) != CS_OK)
		return r;
	if (found) {
		in->has_policy = true;
		in->pin_policy = pol[0];
		in->touch_policy = pol[1];
	}
	if ((r = get_ext_raw(ctx, "statement", x, OID_FORM_FACTOR, &ff, 1,
	    &found)) != CS_OK)
		return r;
	if (found) {
		in->has_form_factor = true;
		in->form_factor = ff;
	}
	return CS_OK;
}

/* F9: firmware .3.3, FIPS .3.10, CSPN .3.11 (presence flags). */
static enum cs_err
parse_f9(struct cs_ctx *ctx, const X509 *x, struct cs_attest_info *in)
{
	struct cs_cur val;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = get_ext_raw(ctx, "F9 certificate", x, OID_FIRMWARE,
	    in->f9_firmware, sizeof(in->f9_firmware),
	    &in->has_f9_firmware)) != CS_OK ||
	    (r = get_ext(ctx, "F9 certificate", x, OID_FIPS, &in->f9_fips,
	    &val)) != CS_OK ||
	    (r = get_ext(ctx, "F9 certificate", x, OID_CSPN, &in->f9_cspn,
	    &val)) != CS_OK)
		return r;
	return CS_OK;
}

/* --- statement --- */

enum cs_err
cs_attest_parse(struct cs_ctx *ctx, const uint8_t *stmt, size_t stmt_len,
    struct cs_attest_info *info)
{
	struct cs_attest_info in;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (info == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "attest: no info");
	memset(info, 0, sizeof(*info));
	info->slot = -1;
	memset(&in, 0, sizeof(in));
	in.slot = -1;
	if ((r = csi_attest_decode_cert(ctx, "statement", stmt, stmt_len, &x)) != CS_OK ||
	    (r = parse_stmt(ctx, x, &in)) != CS_OK)
		goto out;
	*info = in;
	r = CS_OK;
out:
	X509_free(x);
	return r;
}

static bool
no_root_error(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return true;
	default:
		return false;
	}
}

/* Explain a failed path validation: what failed, and at which cert. */
static enum cs_err
chain_fail(struct cs_ctx *ctx, X509_STORE_CTX *sctx)
{
	char name[128];
	int err = X509_STORE_CTX_get_error(sctx);
	int depth = X509_STORE_CTX_get_error_depth(sctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(sctx);
	const char *why = X509_verify_cert_error_string(err);
	const char *hint = no_root_error(err) ?
	    " (no trusted manufacturer root)" : "";

	ERR_clear_error();
	if (depth <= 0 || cur == NULL)
		return csi_fail(ctx, CS_ERR_VERIFY, "F9 certificate: %s%s",
		    why, hint);
	csi_attest_name_oneline(X509_get_subject_name(cur), name, sizeof(name));
	return csi_fail(ctx, CS_ERR_VERIFY,
	    "chain certificate at depth %d (%s): %s%s", depth, name, why, hint);
}

/*
 * Is x issued by a certificate of sk (name and signature)? Device
 * certificates never count. Whether the issuer may act as a CA is left to
 * path validation, which names the reason.
 */
static bool
issued_by_one_of(const struct cs_trust *t, STACK_OF(X509) *sk, X509 *x)
{
	X509 *c;
	EVP_PKEY *k;
	int i;

	for (i = 0; i < sk_X509_num(sk); i++) {
		c = sk_X509_value(sk, i);
		if (X509_NAME_cmp(X509_get_subject_name(c),
		    X509_get_issuer_name(x)) != 0 || csi_attest_is_device_cert(c) ||
		    sk_X509_find(t->ca_only, c) >= 0 ||
		    (k = X509_get0_pubkey(c)) == NULL)
			continue;
		if (X509_verify(x, k) == 1)
			return true;
		ERR_clear_error();
	}
	return false;
}

/*
 * What an F9 certificate is, positively: the device's firmware extension
 * (.3.3, on every genuine one), no extendedKeyUsage, and not marked as an
 * end entity (CA:FALSE, or a keyUsage without keyCertSign), since it signs
 * the statements. An ordinary certificate that some trusted CA issued
 * never fits, so trusting a root that also issues user certificates does
 * not turn those into F9s.
 */
static enum cs_err
check_f9_shape(struct cs_ctx *ctx, X509 *f9)
{
	char name[128];
	const char *why = NULL;
	uint32_t xf = X509_get_extension_flags(f9);

	if (is_statement_shaped(f9))
		why = "is a slot attestation statement, not a device F9 "
		    "certificate";
	else if (!has_ext(f9, OID_FIRMWARE))
		why = "carries no firmware extension (1.3.6.1.4.1.41482.3.3), "
		    "so it is no device F9 certificate";
	else if (xf & EXFLAG_XKUSAGE)
		why = "has an extendedKeyUsage, which no F9 certificate has";
	else if ((xf & EXFLAG_BCONS) && !(xf & EXFLAG_CA))
		why = "is marked CA:FALSE, but an F9 certificate signs "
		    "statements";
	else if ((xf & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(f9) & KU_KEY_CERT_SIGN))
		why = "has a keyUsage without keyCertSign, but an F9 "
		    "certificate signs statements";
	if (why == NULL)
		return CS_OK;
	csi_attest_name_oneline(X509_get_subject_name(f9), name, sizeof(name));
	return csi_fail(ctx, CS_ERR_VERIFY, "F9 certificate: '%s' %s", name,
	    why);
}

/*
 * The F9 position holds the device's F9 certificate, issued directly by a
 * manufacturer CA of the trust store: never a slot statement, never a
 * certificate issued by something the caller brought along, never by a
 * vendor CA that issues only CAs.
 */
static enum cs_err
check_f9(struct cs_ctx *ctx, const struct cs_trust *trust, X509 *f9,
    unsigned int flags)
{
	char name[128];
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = check_f9_shape(ctx, f9)) != CS_OK)
		return r;
	if (issued_by_one_of(trust, trust->anchors, f9) ||
	    issued_by_one_of(trust, trust->inter, f9) ||
	    ((flags & CS_ATTEST_ALLOW_U2F_ROOT) &&
	    issued_by_one_of(trust, trust->legacy, f9)))
		return CS_OK;
	csi_attest_name_oneline(X509_get_issuer_name(f9), name, sizeof(name));
	if (issued_by_one_of(trust, trust->legacy, f9))
		return csi_fail(ctx, CS_ERR_VERIFY,
		    "F9 certificate: issued by the legacy Yubico U2F root "
		    "'%s', no trusted manufacturer root for PIV attestation "
		    "unless allowed explicitly (--allow-u2f-root)", name);
	return csi_fail(ctx, CS_ERR_VERIFY,
	    "F9 certificate: its issuer '%s' is not a manufacturer CA in the "
	    "trust store (no trusted manufacturer root)", name);
}

/*
 * What a statement is, positively: a "YubiKey PIV Attestation <slot>"
 * subject and no CA flag. Otherwise any certificate a store CA issued
 * (a vendor intermediate, say) would "verify" with every field unknown.
 */
static enum cs_err
check_stmt_shape(struct cs_ctx *ctx, X509 *stmt)
{
	char name[128];

	if (parse_slot(stmt) >= 0 && X509_check_ca(stmt) == 0)
		return CS_OK;
	csi_attest_name_oneline(X509_get_subject_name(stmt), name, sizeof(name));
	return csi_fail(ctx, CS_ERR_VERIFY,
	    "statement: '%s' is not a slot attestation statement (subject "
	    "\"YubiKey PIV Attestation <slot>\", not a CA)", name);
}

/* F9 up to an anchor; the anchor's subject goes into root. */
static enum cs_err
verify_chain(struct cs_ctx *ctx, const struct cs_trust *trust, X509 *f9,
    time_t at, unsigned int flags, char *root, size_t rootcap)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *sctx = NULL;
	X509_VERIFY_PARAM *vp;
	STACK_OF(X509) *chain;
	int i, n;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((st = X509_STORE_new()) == NULL ||
	    (sctx = X509_STORE_CTX_new()) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "attest: X509 store");
		goto out;
	}
	n = sk_X509_num(trust->anchors);
	for (i = 0; i < n; i++)
		if (X509_STORE_add_cert(st, sk_X509_value(trust->anchors, i)) !=
		    1) {
			r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "attest: anchor");
			goto out;
		}
	n = (flags & CS_ATTEST_ALLOW_U2F_ROOT) ? sk_X509_num(trust->legacy) : 0;
	for (i = 0; i < n; i++)
		if (X509_STORE_add_cert(st, sk_X509_value(trust->legacy, i)) !=
		    1) {
			r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "attest: anchor");
			goto out;
		}
	if (X509_STORE_CTX_init(sctx, st, f9, trust->inter) != 1) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "attest: X509 store");
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(sctx);
	X509_VERIFY_PARAM_clear_flags(vp, X509_V_FLAG_X509_STRICT |
	    X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_depth(vp, TRUST_DEPTH_MAX);
	if (flags & CS_ATTEST_NO_TIME)
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
	else
		X509_VERIFY_PARAM_set_time(vp, at);
	X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(sctx) != 1) {
		r = chain_fail(ctx, sctx);
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(sctx);
	if (chain == NULL || sk_X509_num(chain) < 2 ||
	    X509_cmp(sk_X509_value(chain, 0), f9) != 0) {
		r = csi_fail(ctx, CS_ERR_VERIFY,
		    "F9 certificate: no chain above it to a manufacturer root");
		goto out;
	}
	for (i = 1; i < sk_X509_num(chain); i++)
		if (csi_attest_is_device_cert(sk_X509_value(chain, i))) {
			r = csi_fail(ctx, CS_ERR_VERIFY,
			    "chain certificate at depth %d is a device "
			    "attestation certificate", i);
			goto out;
		}
	csi_attest_name_oneline(X509_get_subject_name(sk_X509_value(chain,
	    sk_X509_num(chain) - 1)), root, rootcap);
	r = CS_OK;
out:
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return r;
}

/* Statement against F9: issuer name, signature, validity at `at`. */
static enum cs_err
verify_stmt(struct cs_ctx *ctx, X509 *stmt, X509 *f9, time_t at,
    unsigned int flags)
{
	EVP_PKEY *k;
	int rc;

	if (X509_NAME_cmp(X509_get_issuer_name(stmt),
	    X509_get_subject_name(f9)) != 0)
		return csi_fail(ctx, CS_ERR_VERIFY,
		    "statement issuer does not match the F9 subject");
	/*
	 * The statement skips X.509 path validation, so apply its rule on
	 * critical extensions here (RFC 5280 4.2): Yubico marks none.
	 */
	if (X509_get_extension_flags(stmt) & EXFLAG_INVALID)
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "statement: invalid extensions");
	if (X509_get_extension_flags(stmt) & EXFLAG_CRITICAL)
		return csi_fail(ctx, CS_ERR_VERIFY,
		    "statement has an unsupported critical extension");
	if ((k = X509_get0_pubkey(f9)) == NULL)
		return csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "F9 certificate: public key unreadable");
	if ((rc = X509_verify(stmt, k)) != 1) {
		ERR_clear_error();
		return csi_fail(ctx, CS_ERR_VERIFY,
		    "statement signature does not verify with the F9 key");
	}
	if (flags & CS_ATTEST_NO_TIME)
		return CS_OK;
	if ((rc = X509_cmp_time(X509_get0_notBefore(stmt), &at)) == 0 ||
	    X509_cmp_time(X509_get0_notAfter(stmt), &at) == 0)
		return csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "statement: validity unreadable");
	if (rc > 0)
		return csi_fail(ctx, CS_ERR_VERIFY, "statement not yet valid");
	if (X509_cmp_time(X509_get0_notAfter(stmt), &at) < 0)
		return csi_fail(ctx, CS_ERR_VERIFY, "statement expired");
	return CS_OK;
}

enum cs_err
cs_attest_verify(struct cs_ctx *ctx, const struct cs_trust *trust,
    const uint8_t *stmt, size_t stmt_len, const uint8_t *f9, size_t f9_len,
    int64_t at, unsigned int flags, struct cs_attest_info *info)
{
	struct cs_attest_info in;
	X509 *xs = NULL, *xf = NULL;
	time_t when;
	enum cs_err r = CS_ERR_INTERNAL;

	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		info->slot = -1;
	}
	memset(&in, 0, sizeof(in));
	in.slot = -1;
	if (trust == NULL || info == NULL ||
	    (flags & ~(unsigned int)(CS_ATTEST_ALLOW_U2F_ROOT |
	    CS_ATTEST_NO_TIME)) != 0) {
		r = csi_fail(ctx, CS_ERR_ARG, "attest: bad arguments");
		goto out;
	}
	when = at == 0 ? time(NULL) : (time_t)at;
	if ((r = csi_attest_decode_cert(ctx, "statement", stmt, stmt_len, &xs)) !=
	    CS_OK ||
	    (r = csi_attest_decode_cert(ctx, "F9 certificate", f9, f9_len, &xf)) !=
	    CS_OK ||
	    (r = check_stmt_shape(ctx, xs)) != CS_OK ||
	    (r = verify_stmt(ctx, xs, xf, when, flags)) != CS_OK ||
	    (r = check_f9(ctx, trust, xf, flags)) != CS_OK ||
	    (r = verify_chain(ctx, trust, xf, when, flags, in.root,
	    sizeof(in.root))) != CS_OK ||
	    (r = parse_stmt(ctx, xs, &in)) != CS_OK ||
	    (r = parse_f9(ctx, xf, &in)) != CS_OK)
		goto out;
	*info = in;
	r = CS_OK;
out:
	X509_free(xs);
	X509_free(xf);
	return r;
}

/* --- names --- */

const char *
cs_attest_pin_policy_str(uint8_t v)
{
	static const char *const names[] = { "default", "never", "once",
		"always", "match-once", "match-always" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

const char *
cs_attest_touch_policy_str(uint8_t v)
{
	static const char *const names[] = { "default", "never", "always",
		"cached" };

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

const char *
cs_attest_form_factor_str(uint8_t v)
{
	static const char *const names[] = { "unknown", "USB-A keychain",
		"USB-A nano", "USB-C keychain", "USB-C nano",
		"USB-C+Lightning", "USB-A bio keychain", "USB-C bio keychain" };

	/* Low nibble is the form; 0x80 FIPS, 0x40 Security Key series. */
	v &= 0x0f;
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}
