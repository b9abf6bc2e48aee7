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
 * How one caller's certificate, request or public key input is named,
 * bounded and reported: the intake below (x509_decode.c) is the one
 * decoder, each caller keeps the messages its users and tests know.
 * Every message starts with name; the texts are appended after ": ".
 */
enum csi_x509_in_opts {
	/* PEM accepted: input that does not start with SEQUENCE (0x30) */
	CSI_X509_IN_PEM = 1 << 0,
	/* PEM is input starting "-----BEGIN", anything else DER */
	CSI_X509_IN_PEM_BEGIN = 1 << 1,
	/* notder also gets OpenSSL's reason (csi_fail_ossl) */
	CSI_X509_IN_OSSL = 1 << 2,
	/* notder alone, without "<name>: " */
	CSI_X509_IN_NOTDER_BARE = 1 << 3,
};

/* How CS_ERR_LIMIT reads, n the length that is too large. */
enum csi_x509_big {
	CSI_X509_BIG_BYTES,	/* "<name>: <n> bytes, more than <der_max>" */
	CSI_X509_BIG_PEM_BYTES, /* "<name>: <n> bytes of PEM, more than <pem_max>" */
	CSI_X509_BIG_TOO_LARGE, /* "<name>: <n> bytes, too large" */
	CSI_X509_BIG_LENGTH,	/* "<name>: bad length <n>" */
	CSI_X509_BIG_BARE,	/* "<name> too large" */
	CSI_X509_BIG_LARGER,	/* "<name>: certificate larger than <der_max>" */
	CSI_X509_BIG_NOTDER,	/* not a limit: CS_ERR_MALFORMED, notder */
};

struct csi_x509_in {
	const char *name;
	enum cs_pem_kind kind;
	unsigned int opts;	/* enum csi_x509_in_opts */
	size_t der_max;		/* DER bytes, given or decoded from PEM */
	size_t pem_max;		/* PEM text bytes */
	enum csi_x509_big big_der, big_pem, big_decoded;
	const char *empty;	/* NULL or no bytes (CS_ERR_MALFORMED); NULL:
				   empty input is just not DER / no PEM */
	const char *notder;	/* DER that does not decode */
	const char *trailing;	/* bytes after the object; NULL: notder */
	const char *nopem;	/* PEM without a block that decodes */
};

/*
 * Fill *in as the public decoders (cs_x509_*_decode, cs_cert_info_parse)
 * describe their input: messages "<name>: <n> bytes, more than 65536"
 * and the like, CS_X509_DER_MAX of DER, twice that of PEM, PEM only with
 * CS_X509_PEM in flags. name is borrowed. Flags outside allowed are
 * CS_ERR_ARG "<name>: unknown flags 0x..".
 */
CS_MUST_CHECK enum cs_err csi_x509_in_public(struct cs_ctx *ctx,
    struct csi_x509_in *in, enum cs_pem_kind kind, const char *name,
    unsigned int flags, unsigned int allowed);
/*
 * The DER of p as in describes it: p itself, or the first PEM block of
 * the kind decoded into *owned (caller frees with cs_free; NULL when p is
 * used directly). Bounds only; the object is not decoded.
 */
CS_MUST_CHECK enum cs_err csi_x509_in_der(struct cs_ctx *ctx,
    const struct csi_x509_in *in, const uint8_t *p, size_t len,
    uint8_t **owned, struct cs_cur *der);
/*
 * Decode one object of in->kind (CS_PEM_CERT: X509, CS_PEM_CSR: X509_REQ,
 * CS_PEM_PUBKEY: EVP_PKEY). With der non-NULL also hand back the DER
 * decoded (pointing into p or into *owned, which the caller frees with
 * cs_free); owned and der are both NULL or both set. On failure *out,
 * *owned and *der are empty. Caller frees *out with its *_free.
 */
CS_MUST_CHECK enum cs_err csi_x509_in_cert(struct cs_ctx *ctx,
    const struct csi_x509_in *in, const uint8_t *p, size_t len, X509 **out,
    uint8_t **owned, struct cs_cur *der);
CS_MUST_CHECK enum cs_err csi_x509_in_csr(struct cs_ctx *ctx,
    const struct csi_x509_in *in, const uint8_t *p, size_t len,
    X509_REQ **out);
CS_MUST_CHECK enum cs_err csi_x509_in_pubkey(struct cs_ctx *ctx,
    const struct csi_x509_in *in, const uint8_t *p, size_t len,
    EVP_PKEY **out);
/*
 * Exactly one DER certificate (no trailing bytes) or NULL, for DER this
 * code built or a card returned; OpenSSL's error queue is left for the
 * caller's csi_fail_ossl.
 */
X509 *csi_x509_der_cert(const uint8_t *der, size_t len);

/* Unix time of t (time-zone independent); false if it does not decode. */
bool csi_asn1_time_unix(const ASN1_TIME *t, int64_t *out);
/* PIV algorithm id (enum cs_piv_alg) of a key; 0 if PIV has none. */
uint8_t csi_pkey_piv_alg(const EVP_PKEY *k);
/*
 * pem_password_cb that supplies no passphrase, so encrypted PEM fails
 * instead of OpenSSL prompting on the terminal.
 */
int csi_pem_no_password(char *buf, int size, int rwflag, void *u);
/*
 * cs_pem_decode for a caller that fully decodes the DER itself right
 * after (x509_decode.c): the first block of the kind whose contents are
 * one definite-length SEQUENCE, so the object is not decoded twice.
 */
CS_MUST_CHECK enum cs_err csi_pem_decode_shallow(enum cs_pem_kind kind,
    const uint8_t *in, size_t inlen, uint8_t **der, size_t *len);

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
