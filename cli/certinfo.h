/*
 * What inspect shows about a slot certificate: names, validity, SHA-256
 * fingerprint, policy OIDs, and whether its key is the slot's key.
 *
 * Stopgap: lib/ has no public certificate-summary call yet, so this file
 * uses OpenSSL directly. It belongs in lib/ as cs_cert_info() (see the
 * cli5 report); nothing else in cli/ touches OpenSSL.
 */
#ifndef CARDSMITH_CLI_CERTINFO_H
#define CARDSMITH_CLI_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERTINFO_NAME_MAX 512
#define CERTINFO_POLICIES_MAX 8
#define CERTINFO_OID_MAX 80

struct certinfo {
	char subject[CERTINFO_NAME_MAX]; /* RFC 2253 one-line */
	char issuer[CERTINFO_NAME_MAX];
	int64_t not_before, not_after; /* Unix time */
	char sha256[32 * 3]; /* "AB:CD:..." */
	char policies[CERTINFO_POLICIES_MAX][CERTINFO_OID_MAX];
	size_t npolicies;
	uint8_t *spki; /* DER SubjectPublicKeyInfo; freed by release */
	size_t spki_len;
};

/* Parse DER cert; false (with a reason in err) if it is not one. */
bool certinfo_parse(const uint8_t *der, size_t len, struct certinfo *ci,
    char *err, size_t errcap);
void certinfo_release(struct certinfo *ci);

/* 1 if the two DER SPKIs hold the same key, 0 if not, -1 unparsable. */
int certinfo_same_key(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen);

/*
 * Public key (DER SPKI) of a DER PKCS#10 request; *spki caller frees with
 * free. False if der is not a request.
 */
bool certinfo_csr_spki(const uint8_t *der, size_t len, uint8_t **spki,
    size_t *spki_len);

/* "2025-01-31T12:00:00Z" into buf. */
void certinfo_time(int64_t t, char *buf, size_t cap);

#endif
