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
/*
 * pem_password_cb that supplies no passphrase, so encrypted PEM fails
 * instead of OpenSSL prompting on the terminal.
 */
int csi_pem_no_password(char *buf, int size, int rwflag, void *u);

/* --- requests and self-signed certificates (csr.c, csr_selfsign.c) --- */

/* Largest request or certificate built on the card. */
#define CSI_CSR_DER_MAX (64u * 1024u)

/* How a key signs: PIV algorithm, digest and the AlgorithmIdentifier. */
struct csi_csr_sig_plan {
	uint8_t alg;
	const char *digest; /* NULL for Ed25519: the card gets the message */
	int sig_nid;
	int ptype; /* V_ASN1_NULL for RSA (RFC 4055 §5), else absent */
	size_t rsa_len; /* modulus bytes for RSA, else 0 */
};

struct csi_csr_parts {
	X509_NAME *name;
	EVP_PKEY *pkey;
	STACK_OF(X509_EXTENSION) *exts;
	X509_ALGOR *algor;
	struct csi_csr_sig_plan plan;
};

/*
 * Subject, key, extensionRequest/extensions and signature algorithm of
 * req for the key in slot, checked as cs_csr_build checks them. Release
 * *p with csi_csr_parts_release, also after a failure.
 */
CS_MUST_CHECK enum cs_err csi_csr_parts_prepare(struct cs_card *card,
    uint8_t slot, const struct cs_csr_req *req, struct csi_csr_parts *p);
void csi_csr_parts_release(struct csi_csr_parts *p);
/*
 * Digest tbs (or not, for Ed25519), sign it on the card with the key in
 * slot and wrap the signature as a BIT STRING; caller frees *out with
 * ASN1_BIT_STRING_free.
 */
CS_MUST_CHECK enum cs_err csi_csr_card_sign(struct cs_card *card,
    uint8_t slot, const struct csi_csr_sig_plan *sp, const uint8_t *tbs,
    size_t tbslen, ASN1_BIT_STRING **out);

#endif
