/*
 * PEM (RFC 7468) <-> DER for the three kinds cardsmith reads and writes:
 * certificate requests, certificates and public keys. This is the one PEM
 * codec of the project: cli/, ca/ and lib/ decode PEM input through it,
 * one object with cs_pem_decode, a bundle block by block with cs_pem_next.
 * (Private keys are not among the kinds: OpenSSL's private-key reader
 * keeps the decoded secret in its secure heap and knows PKCS#8, the
 * legacy forms and encryption.)
 */
#ifndef CARDSMITH_PEM_H
#define CARDSMITH_PEM_H

#include "common.h"

/* Largest input cs_pem_decode and cs_pem_encode accept (1 MiB). */
#define CS_PEM_IN_MAX (1024u * 1024u)

/*
 * Kinds and their labels: CS_PEM_CSR "CERTIFICATE REQUEST" (also "NEW
 * CERTIFICATE REQUEST" on input), CS_PEM_CERT "CERTIFICATE" (also "X509
 * CERTIFICATE" on input), CS_PEM_PUBKEY "PUBLIC KEY" (SubjectPublicKeyInfo),
 * CS_PEM_CRL "X509 CRL" (CertificateList).
 */
enum cs_pem_kind {
	CS_PEM_CSR,
	CS_PEM_CERT,
	CS_PEM_PUBKEY,
	CS_PEM_CRL,
};

/*
 * PEM armour for der, which must be exactly one DER object of the kind
 * (CS_ERR_MALFORMED otherwise; CS_ERR_LIMIT over CS_PEM_IN_MAX; CS_ERR_ARG
 * for an unknown kind or NULL pointers). *pem: NUL-terminated text,
 * *pemlen without the NUL; caller frees with cs_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pem_encode(enum cs_pem_kind kind,
    const uint8_t *der, size_t len, char **pem, size_t *pemlen);
/*
 * DER of in: in itself if it is exactly one DER object of the kind, else
 * the first PEM block with the kind's label, no headers and contents that
 * decode as the kind (other blocks are skipped). *der: caller frees with
 * cs_free. CS_ERR_LIMIT for input over CS_PEM_IN_MAX, CS_ERR_MALFORMED if
 * it is neither, CS_ERR_ARG for an unknown kind or NULL pointers.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pem_decode(enum cs_pem_kind kind,
    const uint8_t *in, size_t inlen, uint8_t **der, size_t *len);
/*
 * Walk a PEM bundle (several blocks, e.g. a CA file): the DER of the next
 * block with the kind's label that starts at or after offset *pos of in,
 * and *pos moved past that block's END line. Start with *pos = 0 and call
 * until CS_ERR_NOT_FOUND (then *pos == inlen): no further block of the
 * kind follows. Blocks with other labels are skipped; text before,
 * between and after blocks is ignored. A block with the kind's label that
 * has headers or does not hold exactly one DER object of the kind, and
 * text that does not read as PEM (bad base64, no END line), is
 * CS_ERR_MALFORMED with *pos unchanged, so a bundle is read all or
 * nothing. DER input is not recognised here (use cs_pem_decode).
 * CS_ERR_LIMIT for inlen over CS_PEM_IN_MAX, CS_ERR_ARG for an unknown
 * kind, NULL pointers or *pos > inlen. *der: caller frees with cs_free;
 * NULL and *len 0 unless CS_OK.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pem_next(enum cs_pem_kind kind,
    const uint8_t *in, size_t inlen, size_t *pos, uint8_t **der,
    size_t *len);

#endif
