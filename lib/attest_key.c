/*
 * Does an attestation statement certify a given public key
 * (cs_attest_match_key)? The statement's key is compared with the
 * caller's as keys, not as encodings.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest_int.h"

#include "banned.h"

static enum cs_err
decode_pubkey(struct cs_ctx *ctx, const uint8_t *p, size_t len,
    EVP_PKEY **out)
{
	const unsigned char *q = p;
	BIO *b = NULL;
	EVP_PKEY *k = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (p == NULL || len == 0 ||
	    len > CSI_ATTEST_PEM_FACTOR * CS_ATTEST_CERT_MAX) {
		r = csi_fail(ctx, len == 0 ? CS_ERR_MALFORMED : CS_ERR_LIMIT,
		    "public key: bad length %zu", len);
		goto out;
	}
	if (csi_attest_is_der(p, len)) {
		if ((k = d2i_PUBKEY(NULL, &q, (long)len)) == NULL ||
		    q != p + len) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "public key: not a DER SubjectPublicKeyInfo");
			goto out;
		}
	} else {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "public key");
			goto out;
		}
		if ((k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) == NULL) {
			r = csi_fail_ossl(ctx, CS_ERR_MALFORMED,
			    "public key: no PEM public key");
			goto out;
		}
	}
	*out = k;
	k = NULL;
	r = CS_OK;
out:
	EVP_PKEY_free(k);
	BIO_free(b);
	return r;
}

enum cs_err
cs_attest_match_key(struct cs_ctx *ctx, const uint8_t *stmt, size_t stmt_len,
    const uint8_t *spki, size_t spki_len)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	const EVP_PKEY *sk;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csi_attest_decode_cert(ctx, "statement", stmt, stmt_len, &x)) != CS_OK ||
	    (r = decode_pubkey(ctx, spki, spki_len, &k)) != CS_OK)
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
