/*
 * Certificate signing requests whose signature is made on the card: the
 * request is built on the host with OpenSSL and only its digest goes to the
 * card, so the private key never exists anywhere else.
 */
#ifndef CARDSMITH_CSR_H
#define CARDSMITH_CSR_H

#include "pem.h"
#include "piv.h"

struct cs_csr_req {
	/*
	 * Subject as "CN=Jane Doe,O=Example,C=DE" (RFC 4514 order, ',' or '+'
	 * separators, '\' escapes) or OpenSSL's "/CN=Jane Doe/O=Example".
	 */
	const char *subject;
	/*
	 * Subject alternative names, NULL-terminated (may be NULL):
	 * "email:a@b", "dns:host", "uri:…", "ip:10.0.0.1", "upn:a@b"
	 * (Microsoft UPN otherName).
	 */
	const char *const *sans;
	/* "sha256" (default when NULL), "sha384", "sha512". */
	const char *digest;
	/*
	 * Public key of the slot as DER SPKI (e.g. from cs_piv_generate); NULL
	 * to read it from the card's metadata (YubiKey >= 5.3).
	 */
	const uint8_t *spki;
	size_t spki_len;
	unsigned int flags; /* enum cs_csr_flags */
};

enum cs_csr_flags {
	/*
	 * Embed the slot's attestation statement (1.3.6.1.4.1.41482.3.1) and
	 * the F9 certificate (.3.2) in the extensionRequest, as
	 * yubico-piv-tool >= 2.7.2 does, so verifiers read them from the CSR.
	 */
	CS_CSR_ATTEST = 1 << 0,
	/* Use the legacy .3.11 OID for the statement (yubico-piv-tool < 2.7.2). */
	CS_CSR_ATTEST_LEGACY_OID = 1 << 1,
};

/*
 * Build a PKCS#10 request for the key in slot and sign it on the card (the
 * PIN must be verified, or cached with cs_card_set_pin for PIN-always
 * keys). *der: the request, caller frees with cs_free. The signature is
 * checked against the public key before returning; with CS_CSR_ATTEST the
 * statement must certify the request's key. Error detail goes to the
 * card's context. An empty subject, the legacy-OID flag without
 * CS_CSR_ATTEST, or unknown flags are CS_ERR_ARG. RFC 4514 subjects are
 * stored reversed (DER order); the "/A=x/B=y" form keeps its order and
 * treats '+' literally.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_csr_build(struct cs_card *card,
    uint8_t slot, const struct cs_csr_req *req, uint8_t **der, size_t *len);

/*
 * Check the parts of req that need no card, as cs_csr_build checks them:
 * the subject, the SANs and the digest name (req->spki and req->flags are
 * not looked at). CS_ERR_ARG or CS_ERR_LIMIT with the reason in ctx (may
 * be NULL): "subject: \"CN\": expected type=value", "SAN \"ip:x\": not an
 * IPv4 or IPv6 address". Lets a caller report a mistyped name before it
 * opens the card or asks for the PIN.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_csr_check(struct cs_ctx *ctx,
    const struct cs_csr_req *req);

/*
 * Self-signed certificate for the key in slot, signed on the card (the
 * certificate ykman/yubico-piv-tool put in a slot before a CA cert exists).
 * days: validity from now. *der: caller frees.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_csr_selfsign(struct cs_card *card,
    uint8_t slot, const struct cs_csr_req *req, unsigned int days,
    uint8_t **der, size_t *len);

#endif
