/*
 * libcardsmith internals that carry OpenSSL types (kept out of internal.h
 * so that files without OpenSSL need not include it); never installed.
 */
#ifndef CARDSMITH_X509_INT_H
#define CARDSMITH_X509_INT_H

#include <openssl/x509v3.h>

#include "internal.h"

/*
 * Parse a subject: RFC 4514 "CN=a,O=b" (stored reversed, i.e. in DER
 * order; '+' joins multi-valued RDNs; '\' escapes) or OpenSSL's
 * "/O=b/CN=a" (kept in written order). Errors quote the bad component.
 * Caller frees *out with X509_NAME_free.
 */
CS_MUST_CHECK enum cs_err csi_name_parse(struct cs_ctx *ctx, const char *s,
    X509_NAME **out);
/*
 * Parse "email:", "dns:", "uri:", "ip:" and "upn:" names (NULL-terminated
 * list). *out NULL (and CS_OK) when sans is NULL or empty; caller frees
 * with GENERAL_NAMES_free.
 */
CS_MUST_CHECK enum cs_err csi_san_parse(struct cs_ctx *ctx,
    const char *const *sans, GENERAL_NAMES **out);

/* Unix time of t (time-zone independent); false if it does not decode. */
bool csi_asn1_time_unix(const ASN1_TIME *t, int64_t *out);
/* PIV algorithm id (enum cs_piv_alg) of a key; 0 if PIV has none. */
uint8_t csi_pkey_piv_alg(const EVP_PKEY *k);
/* Value of a hex digit, -1 if c is none. */
int csi_hexval(int c);

#endif
