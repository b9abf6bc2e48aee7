/*
 * Thin wrappers around the library's certificate summary (cardsmith/x509.h)
 * for inspect, cert import and attest: times and fingerprints as text, key
 * comparison as yes/no/unknown. Failures here never touch the command's
 * context (cli->ctx), so a certificate that does not parse cannot replace
 * the detail of an earlier card error.
 */
#ifndef CARDSMITH_CLI_CERTINFO_H
#define CARDSMITH_CLI_CERTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cardsmith/cardsmith.h"

/* "AB:CD:...:EF" of a SHA-256, NUL included. */
#define CERTINFO_SHA256_STR (CS_X509_SHA256_LEN * 3)

/*
 * Summarise a DER certificate into *ci (release with cs_cert_info_release);
 * false, with the library's reason in err, if it is not one.
 */
bool certinfo_parse(const uint8_t *der, size_t len, struct cs_cert_info *ci,
    char *err, size_t errcap);

/* 1 if the two DER SPKIs hold the same key, 0 if not, -1 unparsable. */
int certinfo_same_key(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen);

/*
 * Public key (DER SPKI) of a DER PKCS#10 request; *spki caller frees with
 * free. False if der is not a request.
 */
bool certinfo_csr_spki(const uint8_t *der, size_t len, uint8_t **spki,
    size_t *spki_len);

/* What a file given as a certificate request holds. */
enum certinfo_kind {
	CERTINFO_CSR, /* a request (or too large to tell: the parser decides) */
	CERTINFO_CERT, /* a certificate and no request */
	CERTINFO_OTHER, /* neither */
};

/*
 * Classify a whole file's bytes (PEM with any label, or DER) so that a
 * command can say "FILE is a certificate, not a certificate request".
 */
enum certinfo_kind certinfo_csr_kind(const uint8_t *text, size_t len);

/* "2025-01-31T12:00:00Z" into buf ("?" if it does not fit). */
void certinfo_time(int64_t t, char *buf, size_t cap);

/* The certificate's SHA-256 fingerprint as "AB:CD:..." into buf. */
void certinfo_sha256(const struct cs_cert_info *ci, char *buf, size_t cap);

#endif
