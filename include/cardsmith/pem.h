/*
 * PEM (RFC 7468) <-> DER for the three kinds cardsmith reads and writes:
 * certificate requests, certificates and public keys. This is the one PEM
 * codec of the project: cli/ and ca/ decode PEM input through it.
 */
#ifndef CARDSMITH_PEM_H
#define CARDSMITH_PEM_H

#include "common.h"

/* Largest input cs_pem_decode and cs_pem_encode accept (1 MiB). */
#define CS_PEM_IN_MAX (1024u * 1024u)

/*
 * Kinds and their labels: CS_PEM_CSR "CERTIFICATE REQUEST" (also "NEW
 * CERTIFICATE REQUEST" on input), CS_PEM_CERT "CERTIFICATE" (also "X509
 * CERTIFICATE" on input), CS_PEM_PUBKEY "PUBLIC KEY" (SubjectPublicKeyInfo).
 */
enum cs_pem_kind {
	CS_PEM_CSR,
	CS_PEM_CERT,
	CS_PEM_PUBKEY,
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

#endif
