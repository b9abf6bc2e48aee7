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

/*
 * Why cs_pem_next_block refused a block (struct cs_pem_block.fault).
 */
enum cs_pem_fault {
	CS_PEM_FAULT_NONE,
	CS_PEM_FAULT_BEGIN, /* a "-----BEGIN " line the reader would not take */
	CS_PEM_FAULT_NO_END, /* no "-----END " line follows */
	CS_PEM_FAULT_ARMOUR, /* bad base64, headers or END line */
	CS_PEM_FAULT_CONTENT, /* not exactly one DER object of the kind */
};

/* Longest label cs_pem_next_block reports; a longer one is truncated. */
#define CS_PEM_LABEL_MAX 63

/* Where a block stands and what it is, for messages that name it. */
struct cs_pem_block {
	size_t off; /* offset of its "-----BEGIN " line in the input */
	char label[CS_PEM_LABEL_MAX + 1]; /* NUL-terminated; "" if FAULT_BEGIN */
	enum cs_pem_fault fault;
};

/*
 * Walk a PEM bundle strictly, every block in turn, for a caller that
 * names the offending block: the next line at or after offset *pos of in
 * that starts with "-----BEGIN " opens a block, which ends at the first
 * "-----END " line after it. blk gets the block's offset and label either
 * way. CS_OK: *pos moved past the block's END line and, if the label is
 * the kind's, *der holds its DER; for another label *der is NULL and *len
 * 0, and the contents are not read. CS_ERR_MALFORMED with *pos unchanged
 * and blk->fault saying why: a BEGIN line the reader would not take, no
 * END line, bad armour, or contents that are not exactly one DER object
 * of the kind. CS_ERR_NOT_FOUND (then *pos == inlen): no block follows;
 * text before, between and after blocks is ignored. CS_ERR_LIMIT (blk
 * filled, *pos unchanged) for a block of the kind over CS_PEM_IN_MAX; in
 * itself may be longer. CS_ERR_ARG for an unknown kind, flags other than
 * 0, NULL pointers or *pos > inlen. *der: caller frees with cs_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pem_next_block(enum cs_pem_kind kind,
    const uint8_t *in, size_t inlen, size_t *pos, unsigned int flags,
    struct cs_pem_block *blk, uint8_t **der, size_t *len);

#endif
