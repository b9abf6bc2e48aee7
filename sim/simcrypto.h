/*
 * Simulator key material and attestation (OpenSSL lives here, not in the
 * applet). Keys never leave the simulator except as public keys, and in
 * the state file as DER.
 */
#ifndef CARDSMITH_SIM_CRYPTO_H
#define CARDSMITH_SIM_CRYPTO_H

#include "cardsmith/buf.h"

/* PIV algorithm identifiers (SP 800-78-4, YubiKey extensions). */
enum sim_alg {
	SIM_ALG_3DES = 0x03,
	SIM_ALG_AES128 = 0x08,
	SIM_ALG_AES192 = 0x0A,
	SIM_ALG_AES256 = 0x0C,
	SIM_ALG_RSA1024 = 0x06,
	SIM_ALG_RSA2048 = 0x07,
	SIM_ALG_RSA3072 = 0x05,
	SIM_ALG_RSA4096 = 0x16,
	SIM_ALG_P256 = 0x11,
	SIM_ALG_P384 = 0x14,
	SIM_ALG_ED25519 = 0xE0,
	SIM_ALG_X25519 = 0xE1,
};

/* An asymmetric key held in a slot. Opaque. */
struct sim_key;

/* True for the asymmetric algorithms above. */
bool sim_alg_is_asym(uint8_t alg);
/* Block size (8 or 16) and key length of a management-key algorithm; false otherwise. */
bool sim_alg_mgm(uint8_t alg, size_t *block, size_t *keylen);

/* Generate a fresh key. Caller frees with sim_key_free. */
CS_MUST_CHECK enum cs_err sim_key_generate(uint8_t alg, struct sim_key **out);
/*
 * Build a key from an IMPORT ASYMMETRIC KEY body (tags 01-05 RSA p q dP dQ
 * qInv, 06 EC scalar, 07 Ed25519, 08 X25519; AA/AB policy tags are ignored
 * here). CS_ERR_MALFORMED when the TLVs don't describe a key of alg.
 */
CS_MUST_CHECK enum cs_err sim_key_import(uint8_t alg, const struct cs_cur *body,
    struct sim_key **out);
uint8_t sim_key_alg(const struct sim_key *k);
/* Inner public-key TLVs as in 7F49 / metadata tag 04: RSA 81 n + 82 e; EC 86 point; 25519 86 raw. */
CS_MUST_CHECK enum cs_err sim_key_public_tlvs(const struct sim_key *k,
    struct cs_buf *out);
/* DER SubjectPublicKeyInfo of the key. */
CS_MUST_CHECK enum cs_err sim_key_spki(const struct sim_key *k,
    struct cs_buf *out);
/*
 * Private-key operation of GENERAL AUTHENTICATE tag 81: RSA raw m^d mod n
 * (in must be exactly the modulus length and < n, else CS_ERR_MALFORMED);
 * ECDSA over in taken as the digest (≤ field size, else CS_ERR_MALFORMED),
 * DER r,s out; Ed25519 signs in as the message (64-byte signature).
 */
CS_MUST_CHECK enum cs_err sim_key_private_op(const struct sim_key *k,
    const uint8_t *in, size_t inlen, struct cs_buf *out);
/* ECDH (tag 85): peer point (EC uncompressed) or raw X25519 key → shared secret. */
CS_MUST_CHECK enum cs_err sim_key_ecdh(const struct sim_key *k,
    const uint8_t *peer, size_t peerlen, struct cs_buf *out);
/* Serialise (PKCS#8 DER, secret buffer) / restore for the state file. */
CS_MUST_CHECK enum cs_err sim_key_to_der(const struct sim_key *k,
    struct cs_buf *out);
CS_MUST_CHECK enum cs_err sim_key_from_der(uint8_t alg, const uint8_t *der,
    size_t len, struct sim_key **out);
void sim_key_free(struct sim_key *k);

/*
 * Management key: one-block ECB encrypt/decrypt with 3DES or AES
 * (alg SIM_ALG_3DES/AES*), in and out of the algorithm's block size.
 */
CS_MUST_CHECK enum cs_err sim_mgm_crypt(uint8_t alg, const uint8_t *key,
    size_t keylen, bool encrypt, const uint8_t *in, uint8_t *out);
/* Random bytes. */
CS_MUST_CHECK enum cs_err sim_random(uint8_t *out, size_t n);

/*
 * Simulated manufacturer ("vendor") CA in a directory: root.pem (self-signed,
 * subject says it is a simulator, never Yubico), root.key, and an
 * intermediate (intermediate.pem/.key) as Yubico's 2024 PKI has.
 * Creates dir (0700) if needed; refuses to overwrite an existing root.
 */
CS_MUST_CHECK enum cs_err sim_vendor_init(const char *dir);

struct sim_device_info {
	uint8_t fw[3];       /* major minor patch */
	uint32_t serial;
	uint8_t form_factor; /* .3.9 value */
	bool fips, cspn;
	/* F9 with basicConstraints CA:TRUE, pathlen 0, like most fw 5 keys. */
	bool f9_ca;
};

/*
 * Issue a per-card F9 attestation key (RSA-2048) and certificate under the
 * vendor CA in dir: firmware ≤ 5.7.3 → signed by the root; ≥ 5.7.4 →
 * signed by the intermediate. Not a CA certificate (no basicConstraints),
 * like 4.3/5.2 YubiKeys, unless dev->f9_ca (CA:TRUE, pathlen 0, like most
 * fw 5 keys: the shape under which a slot statement could pose as an F9);
 * carries .3.3 firmware (and .3.10/.3.11 for FIPS/CSPN). *cert_der: caller
 * frees with cs_free.
 */
CS_MUST_CHECK enum cs_err sim_vendor_issue_f9(const char *dir,
    const struct sim_device_info *dev, struct sim_key **f9key,
    uint8_t **cert_der, size_t *cert_len);

/*
 * ATTEST: a certificate for slot key `key` in `slot`, issued and signed by
 * the F9 key/certificate, shaped as a YubiKey's (piv-apdu.md §6.2): random
 * 16-byte serial starting 01, issuer = F9 subject, validity copied from F9,
 * subject "CN=YubiKey PIV Attestation <slot hex>", extensions .3.3
 * firmware, .3.7 serial, .3.8 pin/touch policy, .3.9 form factor.
 */
CS_MUST_CHECK enum cs_err sim_attest(const struct sim_key *f9key,
    const uint8_t *f9cert, size_t f9len, const struct sim_key *key,
    uint8_t slot, const struct sim_device_info *dev, uint8_t pin_policy,
    uint8_t touch_policy, struct cs_buf *out_der);

#endif
