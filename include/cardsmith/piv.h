/*
 * PIV card application (NIST SP 800-73-4) with YubiKey extensions.
 *
 * A struct cs_card is one open card: its transport, the PIV selection and
 * what was learned about the card at open time. All operations run inside
 * a PC/SC transaction. Keys and certificates cross this API as DER bytes.
 * Nothing here prints or prompts; secrets passed in are not kept unless
 * the caller asks for PIN caching (cs_card_set_pin).
 */
#ifndef CARDSMITH_PIV_H
#define CARDSMITH_PIV_H

#include "transport.h"

/* Largest data object read or written (YubiKey objects hold ~3 KB). */
#define CS_PIV_OBJ_MAX (16u * 1024u)

/* Key references (SP 800-73-4 part 1 table 4; YubiKey F9). */
enum cs_piv_slot {
	CS_PIV_SLOT_AUTH = 0x9A,
	CS_PIV_SLOT_MGM = 0x9B,
	CS_PIV_SLOT_SIGN = 0x9C,
	CS_PIV_SLOT_KEYMGMT = 0x9D,
	CS_PIV_SLOT_CARDAUTH = 0x9E,
	CS_PIV_SLOT_RETIRED1 = 0x82, /* .. 0x95 = retired 20 */
	CS_PIV_SLOT_RETIRED20 = 0x95,
	CS_PIV_SLOT_ATTEST = 0xF9,
	CS_PIV_REF_PIN = 0x80,
	CS_PIV_REF_PUK = 0x81,
};

/* Algorithm identifiers (SP 800-78-4; YubiKey 5.7 extensions). */
enum cs_piv_alg {
	CS_PIV_ALG_3DES = 0x03,
	CS_PIV_ALG_AES128 = 0x08,
	CS_PIV_ALG_AES192 = 0x0A,
	CS_PIV_ALG_AES256 = 0x0C,
	CS_PIV_ALG_RSA1024 = 0x06,
	CS_PIV_ALG_RSA2048 = 0x07,
	CS_PIV_ALG_RSA3072 = 0x05,
	CS_PIV_ALG_RSA4096 = 0x16,
	CS_PIV_ALG_P256 = 0x11,
	CS_PIV_ALG_P384 = 0x14,
	CS_PIV_ALG_ED25519 = 0xE0,
	CS_PIV_ALG_X25519 = 0xE1,
};

enum cs_piv_pin_policy {
	CS_PIV_PIN_DEFAULT = 0,
	CS_PIV_PIN_NEVER = 1,
	CS_PIV_PIN_ONCE = 2,
	CS_PIV_PIN_ALWAYS = 3,
	CS_PIV_PIN_MATCH_ONCE = 4,
	CS_PIV_PIN_MATCH_ALWAYS = 5,
};

enum cs_piv_touch_policy {
	CS_PIV_TOUCH_DEFAULT = 0,
	CS_PIV_TOUCH_NEVER = 1,
	CS_PIV_TOUCH_ALWAYS = 2,
	CS_PIV_TOUCH_CACHED = 3,
};

/* What the card can do, so callers never branch on firmware numbers. */
enum cs_card_caps {
	CS_CAP_YUBIKEY = 1 << 0,       /* answers GET VERSION */
	CS_CAP_SERIAL = 1 << 1,        /* serial number known */
	CS_CAP_METADATA = 1 << 2,      /* GET METADATA (fw >= 5.3) */
	CS_CAP_ATTEST = 1 << 3,        /* ATTEST (fw >= 4.3) */
	CS_CAP_AES_MGM = 1 << 4,       /* AES management keys (fw >= 5.4) */
	CS_CAP_RSA_LARGE = 1 << 5,     /* RSA-3072/4096 (fw >= 5.7) */
	CS_CAP_25519 = 1 << 6,         /* Ed25519/X25519 (fw >= 5.7) */
	CS_CAP_MOVE_KEY = 1 << 7,      /* MOVE/DELETE KEY (fw >= 5.7) */
	CS_CAP_P384 = 1 << 8,
	CS_CAP_POLICY = 1 << 9,        /* PIN/touch policy at generation */
	CS_CAP_PROTECTED_MGM = 1 << 10, /* PIN-protected mgmt key (admin data) */
	CS_CAP_RESET = 1 << 11,        /* YubiKey PIV reset */
	CS_CAP_ROCA = 1 << 12,         /* on-card RSA is ROCA-weak (4.2.0-4.3.4) */
};

struct cs_card_info {
	char reader[256];
	uint8_t atr[CS_ATR_MAX];
	size_t atr_len;
	bool yubikey;
	uint8_t firmware[3];
	bool has_serial;
	uint32_t serial;
	uint8_t form_factor; /* 0 unknown */
	uint32_t caps;       /* enum cs_card_caps */
};

struct cs_card;

enum cs_card_open_flags {
	/* Exclusive PC/SC access (used by cs_card_find, which connects). */
	CS_CARD_EXCLUSIVE = 1 << 0,
};

/*
 * Select PIV on t and identify the card (GET VERSION, serial, Management
 * application when present). On success the card owns t; on failure the
 * caller still does. ctx is borrowed and must outlive the card. Caller
 * frees *out with cs_card_close.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_card_open(struct cs_ctx *ctx,
    struct cs_transport *t, unsigned int flags, struct cs_card **out);
/*
 * Find and open a card over PC/SC: reader name contains reader_match
 * (NULL: any), and, if serial != 0, the card's YubiKey serial equals it
 * (stable across re-insertion, unlike reader names). Several candidates
 * without a way to choose is CS_ERR_ARG with the candidates listed.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_card_find(struct cs_ctx *ctx,
    const char *reader_match, uint32_t serial, unsigned int flags,
    struct cs_card **out);
/* Release the card and its transport (wipes any cached PIN); NULL ok. */
CS_EXPORT void cs_card_close(struct cs_card *card);
/* What cs_card_open learned. */
CS_EXPORT void cs_card_get_info(const struct cs_card *card,
    struct cs_card_info *info);
CS_EXPORT bool cs_card_has(const struct cs_card *card, enum cs_card_caps cap);
/*
 * Cache the PIN in the card handle (wiped on close) so that operations on
 * PIN-always keys can VERIFY right before each use, as the card requires.
 * Off by default; pin NULL forgets it.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_card_set_pin(struct cs_card *card,
    const char *pin, size_t len);
/*
 * Called right before a command that waits for the card's button: a
 * private-key operation on a key with touch policy always or cached, or
 * management-key authentication with touch (slot CS_PIV_SLOT_MGM). The
 * policy comes from GET METADATA (YubiKey 5.3+); without metadata the
 * hook is never called. fn NULL removes it; arg is passed back.
 */
typedef void cs_piv_touch_fn(void *arg, uint8_t slot);
CS_EXPORT void cs_card_set_touch_fn(struct cs_card *card, cs_piv_touch_fn *fn,
    void *arg);

/* --- data objects --- */

/* Object tag holding the certificate of slot (0x5FC105 for 9A…); 0 if none. */
CS_EXPORT uint32_t cs_piv_cert_object(uint8_t slot);
/*
 * GET DATA: the value inside the object's 53 TLV (for discovery, 0x7E, the
 * whole 7E value). CS_ERR_NOT_FOUND if absent. Caller frees with cs_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_read_object(struct cs_card *card,
    uint32_t tag, uint8_t **val, size_t *len);
/* PUT DATA (needs management-key authentication); len 0 deletes. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_write_object(struct cs_card *card,
    uint32_t tag, const uint8_t *val, size_t len);
/*
 * Certificate of a slot (F9 allowed) as DER, inflated when the container
 * says it is compressed. CS_ERR_NOT_FOUND if the slot has none.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_read_cert(struct cs_card *card,
    uint8_t slot, uint8_t **der, size_t *len);
enum cs_piv_cert_flags {
	CS_PIV_CERT_COMPRESS = 1 << 0, /* gzip in the container (71 01 01) */
};
/* Store a certificate (DER or PEM) for slot (needs mgmt auth). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_write_cert(struct cs_card *card,
    uint8_t slot, const uint8_t *cert, size_t len, unsigned int flags);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_delete_cert(struct cs_card *card,
    uint8_t slot);

/* --- PIN, PUK --- */

struct cs_piv_retries {
	int remaining;   /* -1 unknown */
	int total;       /* -1 unknown (needs metadata) */
	bool verified;   /* PIN currently verified (PIN only) */
	bool is_default; /* still the factory value (needs metadata) */
	bool known_default; /* is_default is meaningful */
};

/*
 * VERIFY. Wrong PIN: CS_ERR_AUTH with *tries set and "PIN: verification
 * failed, N tries left" in ctx; blocked: CS_ERR_BLOCKED. tries may be NULL.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_verify_pin(struct cs_card *card,
    const char *pin, size_t len, int *tries);
/* Retry counters of the PIN (0x80) or PUK (0x81) without using a try. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_get_retries(struct cs_card *card,
    uint8_t ref, struct cs_piv_retries *out);
/* CHANGE REFERENCE DATA for the PIN (0x80) or PUK (0x81). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_change_ref(struct cs_card *card,
    uint8_t ref, const char *old, size_t oldlen, const char *new_,
    size_t newlen, int *tries);
/* RESET RETRY COUNTER: unblock and set the PIN with the PUK. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_unblock_pin(struct cs_card *card,
    const char *puk, size_t puklen, const char *new_pin, size_t newlen,
    int *tries);
/* YubiKey: set PIN and PUK try counts (needs PIN + mgmt auth; resets both). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_set_retries(struct cs_card *card,
    uint8_t pin_tries, uint8_t puk_tries);

/* --- management key --- */

/* The factory default management key (24 bytes). */
CS_EXPORT const uint8_t *cs_piv_default_mgm_key(size_t *len);
/*
 * Mutual authentication with the management key. alg 0: from GET METADATA
 * when the card has it, else 3DES. Wrong key: CS_ERR_AUTH.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_authenticate(struct cs_card *card,
    uint8_t alg, const uint8_t *key, size_t keylen);
/*
 * Authenticate with the PIN-protected management key that ykman's
 * `--protect` stores (admin data 5FFF00 flag 0x02, key in 5FC109); after
 * an interrupted cs_piv_set_mgm_key, with the key kept beside it. The PIN
 * must be verified first. CS_ERR_NOT_FOUND if the card has none.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_authenticate_protected(
    struct cs_card *card);
/* Is a PIN-protected management key stored (admin data flag)? */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_mgm_is_protected(
    struct cs_card *card, bool *protected_);
enum cs_piv_mgm_flags {
	/* Also store the key PIN-protected, ykman-compatible (PIN verified). */
	CS_PIV_MGM_PROTECT = 1 << 0,
	CS_PIV_MGM_TOUCH = 1 << 1, /* require touch for mgmt auth */
};
struct cs_piv_mgm_meta {
	uint8_t alg;          /* CS_PIV_ALG_3DES / AES128 / AES192 / AES256 */
	uint8_t touch_policy; /* enum cs_piv_touch_policy, 0 if not reported */
	bool known_default;   /* is_default is meaningful */
	bool is_default;      /* still the factory default key */
};
/*
 * GET METADATA for the management key (9B). CS_ERR_UNSUPPORTED when the
 * card has no metadata (then assume 3DES).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_mgm_metadata(struct cs_card *card,
    struct cs_piv_mgm_meta *meta);
/*
 * SET MANAGEMENT KEY (needs mgmt auth). With CS_PIV_MGM_PROTECT (PIN
 * verified) the new key goes PIN-protected into 5FC109 and admin data
 * before the card changes, next to the key in force when that one was
 * kept there too, so that a card pulled at any point still holds the key
 * in force behind the PIN. cs_piv_mgm_last_change says afterwards whether
 * the card took the new key.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_set_mgm_key(struct cs_card *card,
    uint8_t alg, const uint8_t *key, size_t keylen, unsigned int flags);
/* What the last cs_piv_set_mgm_key on a card did to the key in force. */
enum cs_piv_mgm_change {
	/* The card still has the old key: failed before SET MANAGEMENT KEY
	 * was sent, or the card refused it. */
	CS_PIV_MGM_UNCHANGED = 0,
	/* The answer to SET MANAGEMENT KEY was lost: old or new key. */
	CS_PIV_MGM_MAYBE_CHANGED,
	/* The card took the new key (a later step may still have failed). */
	CS_PIV_MGM_CHANGED,
};
CS_EXPORT enum cs_piv_mgm_change cs_piv_mgm_last_change(
    const struct cs_card *card);

/* --- keys --- */

struct cs_piv_keygen {
	uint8_t slot;
	uint8_t alg;          /* enum cs_piv_alg */
	uint8_t pin_policy;   /* enum cs_piv_pin_policy, 0 = slot default */
	uint8_t touch_policy; /* enum cs_piv_touch_policy, 0 = default */
};
/*
 * GENERATE ASYMMETRIC KEY PAIR (needs mgmt auth). *spki: the new public
 * key as DER SubjectPublicKeyInfo; caller frees with cs_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_generate(struct cs_card *card,
    const struct cs_piv_keygen *kg, uint8_t **spki, size_t *spki_len);
/*
 * Import a private key (DER PKCS#8 or PEM) into slot (needs mgmt auth).
 * Imported keys cannot be attested.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_import_key(struct cs_card *card,
    uint8_t slot, const uint8_t *key, size_t keylen, uint8_t pin_policy,
    uint8_t touch_policy);

struct cs_piv_key_meta {
	uint8_t alg;
	uint8_t pin_policy, touch_policy; /* effective values */
	uint8_t origin; /* 1 generated, 2 imported, 0 unknown */
};
/*
 * GET METADATA for a key slot; *spki (may be NULL) gets the public key as
 * DER SPKI (caller frees). CS_ERR_NOT_FOUND: empty slot;
 * CS_ERR_UNSUPPORTED: the card has no metadata.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_key_metadata(struct cs_card *card,
    uint8_t slot, struct cs_piv_key_meta *meta, uint8_t **spki,
    size_t *spki_len);
/*
 * Sign a message digest with the key in slot: RSA gets EMSA-PKCS1-v1_5
 * padding on the host (digest_name "sha256"/"sha384"/"sha512"), ECDSA signs
 * the digest (truncated to the field size), Ed25519 signs the message
 * itself (pass the message as digest, digest_name NULL). *sig is DER
 * (ECDSA) or raw (RSA, Ed25519); caller frees. alg 0: look it up.
 * PIN-always keys get a VERIFY right before when a PIN is cached.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_sign(struct cs_card *card,
    uint8_t slot, uint8_t alg, const char *digest_name, const uint8_t *digest,
    size_t digest_len, uint8_t **sig, size_t *sig_len);
/*
 * Raw private-key operation (RSA m^d, input = modulus length). *out is
 * secret (padded plaintext): free it with cs_free_secret.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_decipher(struct cs_card *card,
    uint8_t slot, uint8_t alg, const uint8_t *in, size_t inlen,
    uint8_t **out, size_t *outlen);
/*
 * ECDH with the slot key; peer is an uncompressed point or X25519 key.
 * *secret: free it with cs_free_secret.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_ecdh(struct cs_card *card,
    uint8_t slot, uint8_t alg, const uint8_t *peer, size_t peerlen,
    uint8_t **secret, size_t *secret_len);
/* ATTEST: statement certificate (DER) for slot; caller frees. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_attest(struct cs_card *card,
    uint8_t slot, uint8_t **der, size_t *len);
/* MOVE KEY / DELETE KEY (fw >= 5.7; needs mgmt auth). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_move_key(struct cs_card *card,
    uint8_t from, uint8_t to);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_delete_key(struct cs_card *card,
    uint8_t slot);
/* YubiKey PIV reset (PIN and PUK must both be blocked). */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_piv_reset(struct cs_card *card);

/* "9a" → 0x9A, also "auth"/"sign"/"keymgmt"/"cardauth"/"f9"; -1 if bad. */
CS_EXPORT int cs_piv_slot_parse(const char *s);
/* "p256" / "rsa2048" / … ↔ enum cs_piv_alg; 0 / NULL if unknown. */
CS_EXPORT uint8_t cs_piv_alg_parse(const char *s);
CS_EXPORT const char *cs_piv_alg_name(uint8_t alg);

#endif
