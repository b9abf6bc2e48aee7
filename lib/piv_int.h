/*
 * Internals shared by lib/piv.c, lib/piv_mgm.c and lib/piv_key.c (and the
 * unit tests' hooks); never installed.
 */
#ifndef CARDSMITH_PIV_INT_H
#define CARDSMITH_PIV_INT_H

#include "internal.h"
#include "cardsmith/piv.h"

/* SP 800-73-4 part 2 §3 and Yubico extensions (piv-apdu.md §4). */
#define CSI_PIV_INS_VERIFY 0x20
#define CSI_PIV_INS_CHANGE_REF 0x24
#define CSI_PIV_INS_RESET_RETRY 0x2C
#define CSI_PIV_INS_GENERATE 0x47
#define CSI_PIV_INS_GENERAL_AUTH 0x87
#define CSI_PIV_INS_SELECT 0xA4
#define CSI_PIV_INS_GET_DATA 0xCB
#define CSI_PIV_INS_PUT_DATA 0xDB
#define CSI_PIV_INS_MOVE_KEY 0xF6
#define CSI_PIV_INS_METADATA 0xF7
#define CSI_PIV_INS_SERIAL 0xF8
#define CSI_PIV_INS_ATTEST 0xF9
#define CSI_PIV_INS_SET_RETRIES 0xFA
#define CSI_PIV_INS_RESET 0xFB
#define CSI_PIV_INS_VERSION 0xFD
#define CSI_PIV_INS_IMPORT 0xFE
#define CSI_PIV_INS_SET_MGM 0xFF

#define CSI_PIV_SW_OK 0x9000
#define CSI_PIV_SW_ACCESS 0x6982

/* YubiKey admin data ("PIVMAN data") and protected data (§5.8). */
#define CSI_PIV_OBJ_CHUID 0x5FC102
#define CSI_PIV_OBJ_PRINTED 0x5FC109
#define CSI_PIV_OBJ_ADMIN 0x5FFF00
#define CSI_PIV_OBJ_ATTEST 0x5FFF01
#define CSI_PIV_OBJ_DISCOVERY 0x7E

/* PIN and PUK are 8 bytes on the wire, right-padded with FF (§3.3). */
#define CSI_PIV_PIN_LEN 8
/* Largest management key (AES-256). */
#define CSI_PIV_MGM_MAX 32

/* Source of random bytes (challenges, GUIDs); tests inject their own. */
typedef enum cs_err csi_piv_rng_fn(void *arg, uint8_t *buf, size_t n);

struct cs_card {
	struct cs_ctx *ctx;      /* borrowed */
	struct cs_transport *t;  /* owned */
	struct cs_card_info info;
	unsigned int xflags;     /* CS_APDU_EXTENDED on YubiKey >= 4 */
	uint8_t pin[CSI_PIV_PIN_LEN]; /* cached, FF-padded; wiped on close */
	bool pin_cached;
	csi_piv_rng_fn *rng;
	void *rng_arg;
	cs_piv_touch_fn *touch_fn; /* cs_card_set_touch_fn */
	void *touch_arg;
	uint8_t mgm_change; /* enum cs_piv_mgm_change of the last set */
	uint8_t mgm_src;    /* enum csi_mgm_src: what authenticated 9B */
};

/* Which key the last successful management-key authentication used. */
enum csi_mgm_src {
	CSI_MGM_SRC_NONE = 0,
	CSI_MGM_SRC_GIVEN, /* the caller's key */
	CSI_MGM_SRC_PROT,  /* 5FC109 tag 89 */
	CSI_MGM_SRC_PREV,  /* 5FC109 tag 8A, kept during a change */
};

/* Tell the touch hook, if any, that the next command waits for a touch. */
void csi_piv_touch_notice(struct cs_card *card, uint8_t slot,
    uint8_t touch_policy);

/* Test hook: replace the random source (fn NULL restores RAND_bytes). */
void csi_piv_set_rng(struct cs_card *card, csi_piv_rng_fn *fn, void *arg);
CS_MUST_CHECK enum cs_err csi_piv_random(struct cs_card *card, uint8_t *buf,
    size_t n);

/* Transaction around a multi-APDU operation; end at out:. */
CS_MUST_CHECK enum cs_err csi_piv_begin(struct cs_card *card);
void csi_piv_end(struct cs_card *card);

/*
 * One command with the card's encoding (extended on YubiKey >= 4, else
 * short + chaining) plus aflags (enum cs_apdu_flags). want_resp adds the
 * largest Le. resp is reset; *sw
 * is the final status word. Transport failures (incl. CS_ERR_REMOVED)
 * are returned as is.
 */
CS_MUST_CHECK enum cs_err csi_piv_cmd(struct cs_card *card, uint8_t ins,
    uint8_t p1, uint8_t p2, const uint8_t *data, size_t lc, bool want_resp,
    unsigned int aflags, struct cs_buf *resp, uint16_t *sw);

/* GET DATA into val (the 53 value; for 7E the 7E value). No transaction. */
CS_MUST_CHECK enum cs_err csi_piv_get_data(struct cs_card *card,
    uint32_t tag, struct cs_buf *val);
/*
 * PUT DATA of val[0..len) wrapped in 53 (len 0 deletes). secret: the
 * value is key material (wiped, redacted in the trace). No transaction.
 */
CS_MUST_CHECK enum cs_err csi_piv_put_data(struct cs_card *card,
    uint32_t tag, const uint8_t *val, size_t len, bool secret);
/* FF-pad a PIN/PUK into out[8]; CS_ERR_ARG if len is 0 or > 8. */
CS_MUST_CHECK enum cs_err csi_piv_pad_pin(struct cs_ctx *ctx,
    const char *what, const char *pin, size_t len, uint8_t *out);
/* Wipe and forget the cached PIN. */
void csi_piv_forget_pin(struct cs_card *card);
/* VERIFY the cached PIN (no transaction); CS_ERR_ARG if none cached. */
CS_MUST_CHECK enum cs_err csi_piv_verify_cached(struct cs_card *card);
/* VERIFY with padded pin[8]. */
CS_MUST_CHECK enum cs_err csi_piv_verify_raw(struct cs_card *card,
    const uint8_t *pin, int *tries);

/* GET METADATA, parsed. No transaction. *spki may be NULL. */
CS_MUST_CHECK enum cs_err csi_piv_metadata(struct cs_card *card,
    uint8_t slot, struct cs_piv_key_meta *meta, uint8_t **spki,
    size_t *spki_len);
/*
 * Build DER SubjectPublicKeyInfo from the inner TLVs of 7F49 (RSA 81/82,
 * EC and 25519 86) for alg. Pure: no card needed.
 */
CS_MUST_CHECK enum cs_err csi_piv_spki_from_tlv(struct cs_ctx *ctx,
    uint8_t alg, const struct cs_cur *pub, uint8_t **spki, size_t *len);
/* Management-key mutual authentication (no transaction). */
CS_MUST_CHECK enum cs_err csi_piv_auth_mgm(struct cs_card *card,
    uint8_t alg, const uint8_t *key, size_t keylen);

/* Key length of a management-key algorithm, 0 if not one. */
size_t csi_piv_mgm_keylen(uint8_t alg);
/* Lowercase hex name of a slot for messages ("9c"). */
const char *csi_piv_slot_str(uint8_t slot, char buf[3]);

/* --- algorithms (piv_alg.c) --- */

/* One PIV algorithm: id, names and what kind of key it is. */
struct csi_piv_alg {
	uint8_t id;
	const char *name;
	const char *alias;
	size_t size; /* RSA modulus / EC field / 25519 key bytes */
	char kind;   /* 'r' RSA, 'e' EC, 'd' Ed25519, 'x' X25519, 's' sym */
	const char *group;
};

/* The algorithm with id, or NULL. */
const struct csi_piv_alg *csi_piv_alg_find(uint8_t id);
/* As csi_piv_alg_find, but NULL for symmetric (management key) ids. */
const struct csi_piv_alg *csi_piv_key_alg(uint8_t id);
/* Can slot hold an asymmetric key (9A/9C/9D/9E/F9, 82-95)? */
bool csi_piv_is_key_slot(uint8_t slot);
/*
 * Append what the card signs for a to in: the RFC 8017 EMSA-PKCS1-v1_5
 * block for RSA (dname names the digest), the leftmost field-size bytes
 * of the digest for EC, the message itself for Ed25519. CS_ERR_ARG for a
 * digest that does not fit, or an algorithm that cannot sign.
 */
CS_MUST_CHECK enum cs_err csi_piv_sign_input(struct cs_ctx *ctx,
    const struct csi_piv_alg *a, const char *dname, const uint8_t *digest,
    size_t dlen, struct cs_buf *in);

/* --- checks shared by the key operations (piv_key.c, piv_import.c) --- */

/* CS_ERR_ARG "op: xx is not a key slot" unless slot can hold a key. */
CS_MUST_CHECK enum cs_err csi_piv_check_slot(struct cs_card *card,
    const char *op, uint8_t slot);
/* PIN and touch policy values and whether the card supports them. */
CS_MUST_CHECK enum cs_err csi_piv_check_policies(struct cs_card *card,
    const char *op, uint8_t pin, uint8_t touch);
/* CS_ERR_UNSUPPORTED if the card's firmware lacks algorithm a. */
CS_MUST_CHECK enum cs_err csi_piv_check_alg_caps(struct cs_card *card,
    const char *op, const struct csi_piv_alg *a);
/* Status word of a command that needs the management key. */
CS_MUST_CHECK enum cs_err csi_piv_map_mgm_sw(struct cs_card *card,
    uint16_t sw, const char *what);

#endif
