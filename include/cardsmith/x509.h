/*
 * X.509 summaries for display and key checks: what a certificate says
 * (names, validity, serial, SHA-256 fingerprint, policy OIDs, public key),
 * the public key of a PKCS#10 request, and whether two public keys are the
 * same key.
 *
 * Certificates, requests and keys cross this API as bytes: DER (exactly one
 * object, no trailing data), or with CS_X509_PEM also PEM. Nothing here
 * verifies a chain (see attest.h and ca.h for that); only
 * CS_X509_CSR_VERIFY checks a request's own signature.
 */
#ifndef CARDSMITH_X509_H
#define CARDSMITH_X509_H

#include "common.h"

/*
 * Largest DER certificate, request or public key accepted: a PIV
 * certificate object inflates to at most 4 * CS_PIV_OBJ_MAX. PEM input may
 * be twice this (base64 and armour).
 */
#define CS_X509_DER_MAX (64u * 1024u)
/* One-line names, NUL included; longer names are truncated. */
#define CS_X509_NAME_MAX 512
/* Policy OIDs kept (further ones are left out) and the text size of each. */
#define CS_X509_POLICIES_MAX 8
#define CS_X509_OID_MAX 80
/*
 * Serial number as upper-case hex, NUL included: 64 octets (RFC 5280
 * §4.1.2.2 allows 20; real certificates stay well below 64), plus a sign.
 */
#define CS_X509_SERIAL_MAX (2 * 64 + 2)
#define CS_X509_SHA256_LEN 32

enum cs_x509_flags {
	/*
	 * Also accept PEM: the first block of the expected kind
	 * ("CERTIFICATE", "CERTIFICATE REQUEST", "PUBLIC KEY"). Without it the
	 * input must be DER.
	 */
	CS_X509_PEM = 1 << 0,
	/*
	 * cs_csr_get_spki: also verify the request's self-signature (proof
	 * that the requester holds the key); CS_ERR_VERIFY if it fails.
	 */
	CS_X509_CSR_VERIFY = 1 << 1,
};

/* What a certificate says. Caller-allocated; see cs_cert_info_release. */
struct cs_cert_info {
	/* RFC 2253 one-line form, truncated to fit; "" if unprintable. */
	char subject[CS_X509_NAME_MAX];
	char issuer[CS_X509_NAME_MAX];
	/* Validity as Unix time (UTC); 0 if the time does not decode. */
	int64_t not_before, not_after;
	/*
	 * Serial number, upper-case hex without separators ("-" first if
	 * negative, "0" for zero); "" if it does not fit.
	 */
	char serial[CS_X509_SERIAL_MAX];
	/* SHA-256 of the certificate's DER encoding. */
	uint8_t sha256[CS_X509_SHA256_LEN];
	/*
	 * certificatePolicies OIDs in dotted form, in certificate order: the
	 * first CS_X509_POLICIES_MAX only, each truncated to fit. An absent,
	 * repeated or undecodable extension gives none.
	 */
	char policies[CS_X509_POLICIES_MAX][CS_X509_OID_MAX];
	size_t npolicies;
	/* PIV algorithm id of the public key (piv.h), 0 if none fits. */
	uint8_t key_alg;
	/* DER SubjectPublicKeyInfo; owned, freed by cs_cert_info_release. */
	uint8_t *spki;
	size_t spki_len;
};

/*
 * Summarise one certificate (DER, or PEM with CS_X509_PEM). On failure
 * *info is cleared and ctx (may be NULL) says why: CS_ERR_MALFORMED "not a
 * DER X.509 certificate" (also for empty input and trailing data;
 * "certificate: no PEM X.509 certificate" for PEM input), CS_ERR_LIMIT for
 * input over CS_X509_DER_MAX (PEM: twice that), CS_ERR_ARG for unknown
 * flags or a NULL pointer, CS_ERR_NOMEM, CS_ERR_CRYPTO. On success the
 * caller releases *info with cs_cert_info_release (harmless after a
 * failure too).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_cert_info_parse(struct cs_ctx *ctx,
    const uint8_t *in, size_t len, unsigned int flags,
    struct cs_cert_info *info);
/* Free what info owns and clear it; NULL is accepted. */
CS_EXPORT void cs_cert_info_release(struct cs_cert_info *info);

/*
 * Public key of a PKCS#10 request (DER, or PEM with CS_X509_PEM) as DER
 * SubjectPublicKeyInfo, exactly as the request encodes it; the request's
 * signature is checked only with CS_X509_CSR_VERIFY (CS_ERR_VERIFY
 * "certificate request: signature does not verify"). *spki: caller frees
 * with cs_free; set only on CS_OK. Errors as for cs_cert_info_parse
 * (CS_ERR_MALFORMED "not a DER certificate request", or a key OpenSSL
 * cannot decode).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_csr_get_spki(struct cs_ctx *ctx,
    const uint8_t *in, size_t len, unsigned int flags, uint8_t **spki,
    size_t *spki_len);

/*
 * Do two public keys (DER SubjectPublicKeyInfo, or PEM "PUBLIC KEY" with
 * CS_X509_PEM) hold the same key? Compares the keys, not the encodings.
 * *equal is set only on CS_OK. CS_ERR_MALFORMED names the undecodable key
 * ("public key a: not a DER SubjectPublicKeyInfo", "public key b: ...");
 * CS_ERR_LIMIT and CS_ERR_ARG as for cs_cert_info_parse.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_spki_equal(struct cs_ctx *ctx,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    unsigned int flags, bool *equal);

#endif
