/*
 * YubiKey-style attestation statements (piv-apdu.md §6.2): sim_attest,
 * the certificate an F9 key issues for a slot key on ATTEST. Also the
 * certificate-building helpers and the sim_crypto_errmsg detail that
 * vendor.c (the simulated manufacturer CA and F9 certificates) shares
 * through simcrypto_int.h.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "simcrypto_ext.h"
#include "simcrypto_int.h"

#include "banned.h"

#define FORM_FACTOR_FIPS 0x80
#define STATEMENT_CN "YubiKey PIV Attestation"

#define SERIAL_LEN 16
#define KEY_DER_MAX 4096
#define SPKI_MAX 1024

static _Thread_local char errmsg[256];

enum cs_err
simi_fail(enum cs_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return code;
}

const char *
sim_crypto_errmsg(void)
{
	return errmsg;
}

void
simi_err_clear(void)
{
	errmsg[0] = '\0';
}

/* --- certificate helpers (also for vendor.c) --- */

enum cs_err
simi_name_new(X509_NAME **out, const char *cn, const char *serial,
    const char *org)
{
	X509_NAME *n;

	*out = NULL;
	if ((n = X509_NAME_new()) == NULL)
		return CS_ERR_NOMEM;
	if (!X509_NAME_add_entry_by_txt(n, "CN", V_ASN1_UTF8STRING,
	        (const unsigned char *)cn, -1, -1, 0) ||
	    (serial != NULL &&
	        !X509_NAME_add_entry_by_txt(n, "serialNumber", MBSTRING_ASC,
	            (const unsigned char *)serial, -1, -1, 0)) ||
	    (org != NULL &&
	        !X509_NAME_add_entry_by_txt(n, "O", V_ASN1_UTF8STRING,
	            (const unsigned char *)org, -1, -1, 0))) {
		X509_NAME_free(n);
		return CS_ERR_CRYPTO;
	}
	*out = n;
	return CS_OK;
}

/* 16 random bytes; first byte fixed, or forced into 01..7F (positive). */
static enum cs_err
set_serial(X509 *x, uint8_t first)
{
	uint8_t b[SERIAL_LEN];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = sim_random(b, sizeof(b))) != CS_OK)
		return r;
	b[0] = first != 0 ? first : (uint8_t)((b[0] & 0x7f) | 0x01);
	r = CS_ERR_CRYPTO;
	if ((bn = BN_bin2bn(b, (int)sizeof(b), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai))
		goto out;
	r = CS_OK;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

enum cs_err
simi_cert_new(X509 **out, EVP_PKEY *pub, const X509_NAME *subj,
    const X509_NAME *iss, const ASN1_TIME *nb, const ASN1_TIME *na,
    uint8_t serial_first)
{
	X509 *x;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((x = X509_new()) == NULL)
		return CS_ERR_NOMEM;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, subj) || !X509_set_issuer_name(x, iss) ||
	    !X509_set1_notBefore(x, nb) || !X509_set1_notAfter(x, na) ||
	    !X509_set_pubkey(x, pub)) {
		X509_free(x);
		return CS_ERR_CRYPTO;
	}
	if ((r = set_serial(x, serial_first)) != CS_OK) {
		X509_free(x);
		return r;
	}
	*out = x;
	return CS_OK;
}

enum cs_err
simi_ext_raw(X509 *x, const char *oid, const uint8_t *v, size_t n)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	enum cs_err r = CS_ERR_CRYPTO;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, v, (int)n) ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		goto out;
	r = CS_OK;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return r;
}

const EVP_MD *
simi_md_for(EVP_PKEY *key, bool statement)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return NULL;
	/* Statements are always *-with-SHA256 (§6.2). */
	if (!statement && EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_bits(key) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

enum cs_err
simi_cert_der(X509 *x, struct cs_buf *out)
{
	unsigned char *der = NULL;
	int len;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((len = i2d_X509(x, &der)) <= 0)
		return CS_ERR_CRYPTO;
	r = cs_buf_put(out, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

enum cs_err
simi_key_pub(const struct sim_key *k, EVP_PKEY **out)
{
	struct cs_buf spki = CS_BUF_INIT(SPKI_MAX);
	const unsigned char *p;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = sim_key_spki(k, &spki)) != CS_OK)
		goto out;
	p = spki.data;
	if ((*out = d2i_PUBKEY(NULL, &p, (long)spki.len)) == NULL)
		r = CS_ERR_CRYPTO;
out:
	cs_buf_release(&spki);
	return r;
}

/* Private key of a sim key as an EVP_PKEY (via its PKCS#8 form). */
static enum cs_err
key_priv(const struct sim_key *k, EVP_PKEY **out)
{
	struct cs_buf der = CS_BUF_INIT_SECRET(KEY_DER_MAX);
	const unsigned char *p;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = sim_key_to_der(k, &der)) != CS_OK)
		goto out;
	p = der.data;
	if ((*out = d2i_AutoPrivateKey(NULL, &p, (long)der.len)) == NULL)
		r = CS_ERR_CRYPTO;
out:
	cs_buf_release(&der);
	return r;
}

/* --- attestation statement --- */

/* .3.7: the serial as a DER INTEGER inside the extnValue. */
static enum cs_err
ext_serial(X509 *x, uint32_t serial)
{
	ASN1_INTEGER *ai = NULL;
	unsigned char *der = NULL;
	int len;
	enum cs_err r = CS_ERR_CRYPTO;

	if ((ai = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(ai, serial) ||
	    (len = i2d_ASN1_INTEGER(ai, &der)) <= 0)
		goto out;
	r = simi_ext_raw(x, OID_SERIAL, der, (size_t)len);
out:
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
	return r;
}

/* §6.2 extensions, in the order real devices emit them. */
static enum cs_err
statement_extensions(X509 *x, const struct sim_device_info *dev,
    uint8_t pin_policy, uint8_t touch_policy)
{
	uint8_t pol[2] = { pin_policy, touch_policy };
	uint8_t ff = dev->form_factor | (dev->fips ? FORM_FACTOR_FIPS : 0);
	bool yk5 = dev->fw[0] >= 5; /* serial and form factor from fw 5 */
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = simi_ext_raw(x, OID_FIRMWARE, dev->fw, sizeof(dev->fw))) !=
	        CS_OK ||
	    (yk5 && (r = ext_serial(x, dev->serial)) != CS_OK) ||
	    (r = simi_ext_raw(x, OID_POLICY, pol, sizeof(pol))) != CS_OK ||
	    (yk5 && (r = simi_ext_raw(x, OID_FORM_FACTOR, &ff, 1)) != CS_OK))
		return r;
	return CS_OK;
}

enum cs_err
sim_attest(const struct sim_key *f9key, const uint8_t *f9cert, size_t f9len,
    const struct sim_key *key, uint8_t slot, const struct sim_device_info *dev,
    uint8_t pin_policy, uint8_t touch_policy, struct cs_buf *out_der)
{
	char cn[sizeof(STATEMENT_CN) + 4];
	const unsigned char *p = f9cert;
	X509 *f9 = NULL, *x = NULL;
	X509_NAME *subj = NULL;
	EVP_PKEY *signer = NULL, *pub = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	simi_err_clear();
	if (f9cert == NULL || dev == NULL)
		return simi_fail(CS_ERR_ARG,
		    "attest: no F9 certificate or device");
	if (pin_policy == 0 || touch_policy == 0)
		return simi_fail(CS_ERR_ARG,
		    "attest: policies must be effective values, not 00");
	if (f9len == 0 || f9len > LONG_MAX ||
	    (f9 = d2i_X509(NULL, &p, (long)f9len)) == NULL ||
	    (size_t)(p - f9cert) != f9len) {
		r = simi_fail(CS_ERR_MALFORMED,
		    "attest: F9 certificate unreadable");
		goto out;
	}
	if ((r = key_priv(f9key, &signer)) != CS_OK ||
	    (r = simi_key_pub(key, &pub)) != CS_OK) {
		r = simi_fail(r, "attest: key conversion failed");
		goto out;
	}
	snprintf(cn, sizeof(cn), "%s %02x", STATEMENT_CN, slot);
	if ((r = simi_name_new(&subj, cn, NULL, NULL)) != CS_OK ||
	    (r = simi_cert_new(&x, pub, subj, X509_get_subject_name(f9),
	         X509_get0_notBefore(f9), X509_get0_notAfter(f9), 0x01)) !=
	        CS_OK ||
	    (r = statement_extensions(x, dev, pin_policy, touch_policy)) !=
	        CS_OK) {
		r = simi_fail(r, "attest: building certificate failed");
		goto out;
	}
	if (X509_sign(x, signer, simi_md_for(signer, true)) <= 0) {
		r = simi_fail(CS_ERR_CRYPTO, "attest: signing failed");
		goto out;
	}
	r = simi_cert_der(x, out_der);
out:
	X509_free(f9);
	X509_free(x);
	X509_NAME_free(subj);
	EVP_PKEY_free(signer);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return r;
}
