/*
 * Does an attestation statement certify a given public key
 * (cs_attest_match_key)? The statement's key is compared with the
 * caller's as keys, not as encodings.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest_int.h"

#include "banned.h"

/* The caller's key, DER or PEM; the messages cs_attest_match_key had. */
static const struct csi_x509_in key_in = {
	.name = "public key",
	.kind = CS_PEM_PUBKEY,
	.opts = CSI_X509_IN_PEM | CSI_X509_IN_OSSL,
	.der_max = CSI_ATTEST_PEM_FACTOR * CS_ATTEST_CERT_MAX,
	.pem_max = CSI_ATTEST_PEM_FACTOR * CS_ATTEST_CERT_MAX,
	.big_der = CSI_X509_BIG_LENGTH,
	.big_pem = CSI_X509_BIG_LENGTH,
	.big_decoded = CSI_X509_BIG_LENGTH,
	.empty = "bad length 0",
	.notder = "not a DER SubjectPublicKeyInfo",
	.nopem = "no PEM public key",
};

enum cs_err
cs_attest_match_key(struct cs_ctx *ctx, const uint8_t *stmt, size_t stmt_len,
    const uint8_t *spki, size_t spki_len)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	const EVP_PKEY *sk;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_attest_decode_cert(ctx, "statement", stmt, stmt_len, &x)) != CS_OK ||
	    (r = csi_x509_in_pubkey(ctx, &key_in, spki, spki_len, &k)) != CS_OK)
		goto out;
	if ((sk = X509_get0_pubkey(x)) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
		    "statement: public key unreadable");
		goto out;
	}
	if (EVP_PKEY_eq(sk, k) != 1) {
		r = csi_fail(ctx, CS_ERR_VERIFY,
		    "attested key differs from the given key");
		goto out;
	}
	r = CS_OK;
out:
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}
