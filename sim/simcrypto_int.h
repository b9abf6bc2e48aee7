/*
 * Internals of the simulator's OpenSSL side, shared only by sim/crypto.c,
 * crypto_import.c, crypto_op.c, attest.c and vendor.c. Never included by
 * the applet (it sees struct sim_key as opaque through simcrypto.h) nor
 * outside sim/.
 */
#ifndef CARDSMITH_SIM_CRYPTO_INT_H
#define CARDSMITH_SIM_CRYPTO_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "simcrypto.h"

enum kind { K_RSA, K_EC, K_ED25519, K_X25519 };

struct alg_info {
	uint8_t alg;
	enum kind kind;
	int bits; /* RSA modulus bits */
	int nid; /* EC curve */
	const char *group; /* EC group name for keygen */
	size_t len; /* RSA modulus / EC field / 25519 key bytes */
};

/* Yubico PIV attestation arc, piv-apdu.md §6.2. */
#define OID_FIRMWARE "1.3.6.1.4.1.41482.3.3"
#define OID_SERIAL "1.3.6.1.4.1.41482.3.7"
#define OID_POLICY "1.3.6.1.4.1.41482.3.8"
#define OID_FORM_FACTOR "1.3.6.1.4.1.41482.3.9"
#define OID_FIPS "1.3.6.1.4.1.41482.3.10"
#define OID_CSPN "1.3.6.1.4.1.41482.3.11"

#define RSA_LEN_MAX 512
#define EC_LEN_MAX 48

struct sim_key {
	const struct alg_info *ai;
	EVP_PKEY *pkey;
};

/* --- crypto.c: algorithm table and key objects --- */

/* The asymmetric algorithm alg (piv-apdu.md §3.2); NULL if not one. */
const struct alg_info *simi_alg_lookup(uint8_t alg);
/* OpenSSL key type name of a kind ("RSA", "EC", "ED25519", "X25519"). */
const char *simi_kind_name(enum kind kind);
/*
 * The common end of every key constructor (generate, import, state file):
 * if r is CS_OK, *out becomes a new sim_key owning pkey; otherwise, or if
 * that allocation fails, pkey is freed. Clears OpenSSL's error queue
 * either way. Returns r, or CS_ERR_NOMEM.
 */
CS_MUST_CHECK enum cs_err simi_key_adopt(const struct alg_info *ai,
    enum cs_err r, EVP_PKEY *pkey, struct sim_key **out);

/* --- attest.c: errors and certificate building for attest.c, vendor.c --- */

/* Reset the thread's sim_crypto_errmsg() at the start of an API call. */
void simi_err_clear(void);
/*
 * Record a one-line detail for sim_crypto_errmsg(), clear OpenSSL's
 * error queue, return code.
 */
enum cs_err simi_fail(enum cs_err code, const char *fmt, ...) CS_PRINTF(2, 3);
/* Name CN=cn [, serialNumber=serial] [, O=org]. */
CS_MUST_CHECK enum cs_err simi_name_new(X509_NAME **out, const char *cn,
    const char *serial, const char *org);
/*
 * Unsigned v3 certificate for pub with a 16-byte random serial whose first
 * byte is serial_first, or a random positive one if 0.
 */
CS_MUST_CHECK enum cs_err simi_cert_new(X509 **out, EVP_PKEY *pub,
    const X509_NAME *subj, const X509_NAME *iss, const ASN1_TIME *nb,
    const ASN1_TIME *na, uint8_t serial_first);
/* A non-critical extension whose extnValue OCTET STRING holds v[0..n). */
CS_MUST_CHECK enum cs_err simi_ext_raw(X509 *x, const char *oid,
    const uint8_t *v, size_t n);
/* Digest for signing with key; NULL for the EdDSA keys (no pre-hash). */
const EVP_MD *simi_md_for(EVP_PKEY *key, bool statement);
/* Append the DER of x to out. */
CS_MUST_CHECK enum cs_err simi_cert_der(X509 *x, struct cs_buf *out);
/* Public half of a sim key as an EVP_PKEY (via its SPKI). */
CS_MUST_CHECK enum cs_err simi_key_pub(const struct sim_key *k, EVP_PKEY **out);

#endif
