/*
 * The CA private keys, and only here: generated, encrypted at rest,
 * decrypted (cs_ca_unlock), held, used to sign certificates and CRLs,
 * wiped (cs_ca_lock, close). No other file of ca/ sees an EVP_PKEY of a CA
 * key or the bytes of a key file (scripts/check-ca-layers.sh checks it), so
 * the keys can move into a separate signer process behind these calls.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "ca_int.h"

#include "banned.h"

/*
 * CA keys at rest: PKCS#8 PBES2, scrypt N=2^14, r=8, p=5 and AES-256-CBC.
 * The cost equals OWASP's scrypt minimum (N=2^17, r=8, p=1) at 16 MiB
 * instead of 128 MiB: OpenSSL's PKCS#8 reader refuses scrypt above 32 MiB,
 * so N=2^15 with r=8 would not load back. About 0.2 s per key here.
 */
#define KEY_SCRYPT_N 16384
#define KEY_SCRYPT_R 8
#define KEY_SCRYPT_P 5
#define KEY_SALT_LEN 16

/* A CA key pair; outside this file only a handle. */
struct csa_key {
	EVP_PKEY *pkey;
};

static const char *const key_files[CSA_SIGNER_COUNT] = {
	"issuing.key.pem",
	"hw-issuing.key.pem",
};

static enum cs_err
key_wrap(struct cs_ctx *ctx, EVP_PKEY *k, struct csa_key **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		EVP_PKEY_free(k);
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "CA key");
	}
	(*out)->pkey = k;
	return CS_OK;
}

void
csa_key_free(struct csa_key *k)
{
	if (k == NULL)
		return;
	/* OpenSSL clears the private components as it frees them. */
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum cs_err
csa_key_generate(struct cs_ctx *ctx, enum cs_ca_key_type type,
    struct csa_key **out)
{
	EVP_PKEY *k = NULL;

	*out = NULL;
	switch (type) {
	case CS_CA_KEY_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CS_CA_KEY_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CS_CA_KEY_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case CS_CA_KEY_RSA3072:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case CS_CA_KEY_RSA4096:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	default:
		return cs_ctx_fail(ctx, CS_ERR_ARG, "unknown CA key type");
	}
	if (k == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO,
		    "CA key generation");
	return key_wrap(ctx, k, out);
}

enum cs_err
csa_key_write(struct cs_ctx *ctx, const char *dir, const char *name,
    const struct csa_key *k, const char *pass, size_t passlen)
{
	char path[CSA_PATH_MAX];
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *sig = NULL;
	BIO *b = NULL;
	BUF_MEM *m;
	enum cs_err r = CS_ERR_INTERNAL;

	if (passlen == 0 || passlen > INT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA passphrase is empty");
	if ((r = csa_path(ctx, path, sizeof(path), dir, name)) != CS_OK)
		return r;
	/* PBES2 with scrypt: random 16-byte salt and IV (RFC 7914 sec. 7). */
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    (p8 = EVP_PKEY2PKCS8(k->pkey)) == NULL ||
	    (pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, KEY_SALT_LEN,
	         NULL, KEY_SCRYPT_N, KEY_SCRYPT_R, KEY_SCRYPT_P)) == NULL ||
	    (sig = PKCS8_set0_pbe(pass, (int)passlen, p8, pbe)) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "%s: encrypt key",
		    name);
		goto out;
	}
	pbe = NULL; /* owned by sig */
	if (!PEM_write_bio_PKCS8(b, sig)) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "%s: encode key",
		    name);
		goto out;
	}
	BIO_get_mem_ptr(b, &m);
	r = csa_write_file(ctx, path, m->data, m->length, 0600, true);
out:
	X509_SIG_free(sig);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8);
	BIO_free(b); /* secmem: cleared on free */
	return r;
}

/* One digest rule for every signature a CA key makes. */
static const EVP_MD *
sign_md(const EVP_PKEY *k)
{
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519)
		return NULL;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(k) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

struct pass_arg {
	const char *p;
	size_t len;
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	const struct pass_arg *a = u;

	(void)rwflag;
	if (a == NULL || a->p == NULL || size <= 0 || a->len > (size_t)size)
		return -1;
	memcpy(buf, a->p, a->len);
	return (int)a->len;
}

enum cs_err
csa_key_decode(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, const char *pass, size_t passlen, struct csa_key **out)
{
	struct pass_arg a = { pass, passlen };
	EVP_PKEY *k;
	BIO *b;
	unsigned long e;

	*out = NULL;
	if (len > INT_MAX || (b = BIO_new_mem_buf(p, (int)len)) == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
	k = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &a);
	BIO_free(b);
	if (k == NULL) {
		e = ERR_peek_last_error();
		ERR_clear_error();
		if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: no PEM private key", what);
		return cs_ctx_fail(ctx, CS_ERR_AUTH,
		    "%s: cannot decrypt (wrong passphrase?)", what);
	}
	return key_wrap(ctx, k, out);
}

bool
csa_key_matches(const struct csa_key *k, X509 *cert)
{
	if (X509_check_private_key(cert, k->pkey) == 1)
		return true;
	ERR_clear_error();
	return false;
}

enum cs_err
csa_key_set_pubkey(struct cs_ctx *ctx, const struct csa_key *k, X509 *x)
{
	if (!X509_set_pubkey(x, k->pkey))
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "CA certificate");
	return CS_OK;
}

enum cs_err
csa_key_sign_cert(struct cs_ctx *ctx, const struct csa_key *k, X509 *x)
{
	if (X509_sign(x, k->pkey, sign_md(k->pkey)) <= 0)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO,
		    "sign CA certificate");
	return CS_OK;
}

/* --- the unlocked issuing CA keys of an open CA --- */

void
cs_ca_lock(struct cs_ca *ca)
{
	size_t i;

	for (i = 0; i < CSA_SIGNER_COUNT; i++) {
		csa_key_free(ca->signer_key[i]);
		ca->signer_key[i] = NULL;
	}
}

enum cs_err
cs_ca_unlock(struct cs_ca *ca, const char *pass, size_t passlen)
{
	char path[CSA_PATH_MAX];
	uint8_t *pem = NULL;
	size_t len = 0, i;
	struct csa_key *k = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	cs_ca_lock(ca);
	if (pass == NULL || passlen == 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "CA passphrase is empty");
	for (i = 0; i < CSA_SIGNER_COUNT; i++) {
		if (ca->signer_cert[i] == NULL)
			continue;
		if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
		         key_files[i])) != CS_OK ||
		    (r = cs_file_read_secret(ca->ctx, path, CSA_FILE_MAX, &pem,
		         &len)) != CS_OK ||
		    (r = csa_key_decode(ca->ctx, key_files[i], pem, len, pass,
		         passlen, &k)) != CS_OK)
			goto out;
		if (!csa_key_matches(k, ca->signer_cert[i])) {
			csa_key_free(k);
			k = NULL;
			r = cs_ctx_fail(ca->ctx, CS_ERR_INTERNAL,
			    "%s does not match its certificate", key_files[i]);
			goto out;
		}
		ca->signer_key[i] = k;
		k = NULL;
		cs_file_free_secret(pem, len);
		pem = NULL;
		len = 0;
	}
	r = CS_OK;
out:
	cs_file_free_secret(pem, len);
	if (r != CS_OK)
		cs_ca_lock(ca);
	return r;
}

bool
csa_sign_ready(const struct cs_ca *ca, enum csa_signer s)
{
	return ca->signer_key[s] != NULL;
}

/* Locked: the caller asked to sign without a passphrase. */
static enum cs_err
signer_key(struct cs_ca *ca, enum csa_signer s, EVP_PKEY **k)
{
	if ((unsigned int)s >= CSA_SIGNER_COUNT || ca->signer_key[s] == NULL)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "CA is locked (no passphrase given)");
	*k = ca->signer_key[s]->pkey;
	return CS_OK;
}

enum cs_err
csa_sign_cert(struct cs_ca *ca, enum csa_signer s, X509 *x, uint8_t **der,
    size_t *len)
{
	unsigned char *p = NULL;
	EVP_PKEY *key = NULL;
	enum cs_err r = CS_ERR_INTERNAL;
	int n;

	if ((r = signer_key(ca, s, &key)) != CS_OK)
		return r;
	if (X509_sign(x, key, sign_md(key)) <= 0)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "sign");
	if ((n = i2d_X509(x, &p)) <= 0)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "encode");
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(p);
		return cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "certificate");
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return CS_OK;
}

enum cs_err
csa_sign_crl(struct cs_ca *ca, enum csa_signer s, X509_CRL *crl)
{
	EVP_PKEY *key = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = signer_key(ca, s, &key)) != CS_OK)
		return r;
	if (X509_CRL_sign(crl, key, sign_md(key)) <= 0)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "sign CRL");
	return CS_OK;
}
