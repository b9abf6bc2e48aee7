/*
 * libcardsmith internals that carry OpenSSL types (kept out of internal.h
 * so that files without OpenSSL need not include it); never installed.
 */
#ifndef CARDSMITH_X509_INT_H
#define CARDSMITH_X509_INT_H

#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"
#include "internal.h"

/*
 * The DER bytes of in for the kind pem: in itself, or (CS_X509_PEM and
 * input that does not start like DER) the first PEM block of the kind,
 * decoded into *owned, which the caller frees with cs_free (NULL when in
 * is used directly). name names the input in messages; flags outside
 * allowed are CS_ERR_ARG. Bounds: CS_X509_DER_MAX of DER, twice that of
 * PEM (CS_ERR_LIMIT).
 */
CS_MUST_CHECK enum cs_err csi_x509_get_der(struct cs_ctx *ctx,
    enum cs_pem_kind pem, const char *name, const uint8_t *in, size_t len,
    unsigned int flags, unsigned int allowed, uint8_t **owned,
    struct cs_cur *der);
/* "not a DER X.509 certificate" and the like, for messages. */
const char *csi_x509_notder(enum cs_pem_kind pem);
/*
 * cs_x509_cert_decode that also hands back the DER it decoded (*der
 * points into in or into *owned, which the caller frees with cs_free).
 * On failure *out, *owned and *der are empty.
 */
CS_MUST_CHECK enum cs_err csi_x509_cert_get(struct cs_ctx *ctx,
    const uint8_t *p, size_t len, unsigned int flags, X509 **out,
    uint8_t **owned, struct cs_cur *der);

/* Unix time of t (time-zone independent); false if it does not decode. */
bool csi_asn1_time_unix(const ASN1_TIME *t, int64_t *out);
/* PIV algorithm id (enum cs_piv_alg) of a key; 0 if PIV has none. */
uint8_t csi_pkey_piv_alg(const EVP_PKEY *k);

#endif
