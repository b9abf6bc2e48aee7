/*
 * Internals shared by attest.c, trust.c and attest_csr.c (YubiKey PIV
 * attestation); never installed.
 */
#ifndef CARDSMITH_ATTEST_INT_H
#define CARDSMITH_ATTEST_INT_H

#include <openssl/x509.h>

#include "internal.h"
#include "x509_int.h"

/* Base64 and armour inflate PEM by ~4/3; allow twice the DER bound. */
#define CSI_ATTEST_PEM_FACTOR 2u

/* Yubico extensions (piv-apdu.md §6). */
#define YK_ARC "1.3.6.1.4.1.41482.3."
#define OID_FIRMWARE YK_ARC "3"
#define OID_SERIAL YK_ARC "7"
#define OID_POLICY YK_ARC "8"
#define OID_FORM_FACTOR YK_ARC "9"
#define OID_FIPS YK_ARC "10"
#define OID_CSPN YK_ARC "11" /* on a certificate; in a CSR: old statement */
#define OID_CSR_STMT YK_ARC "1"
#define OID_CSR_F9 YK_ARC "2"

/* The trust store; see trust.c. */
struct cs_trust {
	struct cs_ctx *ctx; /* borrowed; receives error detail */
	STACK_OF(X509) *anchors;
	STACK_OF(X509) *inter;
	STACK_OF(X509) *legacy; /* U2F root: anchor only on request */
	/* Borrowed from anchors/inter: may not sign an F9 certificate. */
	STACK_OF(X509) *ca_only;
};

/* Does p start like DER (a SEQUENCE: certificate, CSR or SPKI)? */
bool csi_attest_is_der(const uint8_t *p, size_t len);
/* One-line RFC 2253 form of a name, truncated to fit; "" on failure. */
void csi_attest_name_oneline(const X509_NAME *name, char *buf, size_t cap);
/* OBJ_txt2obj of a dotted OID; caller frees with ASN1_OBJECT_free. */
ASN1_OBJECT *csi_attest_oid(const char *txt);
/* Does x carry any Yubico device extension (never a trust anchor)? */
bool csi_attest_is_device_cert(const X509 *x);
/*
 * Decode one certificate, DER (whole input, no trailing bytes) or PEM
 * (first CERTIFICATE block), at most CS_ATTEST_CERT_MAX bytes of DER.
 * what names it in messages. Caller frees *out with X509_free.
 */
CS_MUST_CHECK enum cs_err csi_attest_decode_cert(struct cs_ctx *ctx,
    const char *what, const uint8_t *p, size_t len, X509 **out);

#endif
