/*
 * Enrollment of one card as one recorded transaction: profile sets (which
 * profile, algorithm and policies each slot gets), the enrollment state the
 * registry keeps per card and slot, and the orchestration (identify, reset,
 * retries, PIN, PUK, management key, then per slot generate → attest → CSR
 * on the card → issue → import → read back).
 *
 * Nothing here prints or prompts: progress goes to a callback, secrets come
 * in as arguments (and the generated PUK goes out through one), so the batch
 * command can run it from worker threads, one card per thread. Certificates
 * and keys cross this API as DER bytes.
 */
#ifndef CARDSMITH_ENROLL_H
#define CARDSMITH_ENROLL_H

#include "common.h"

struct cs_ca;   /* ca.h */
struct cs_card; /* piv.h */

/* --- profile sets --- */

/* Slots a profile set names at most (9A, 9C, 9D, 9E and 20 retired). */
#define CS_PROFILESET_SLOTS_MAX 24
/* Profile and set names, NUL included. */
#define CS_PROFILESET_NAME_MAX 64
/* Largest profile set text accepted. */
#define CS_PROFILESET_TEXT_MAX (64u * 1024u)

/* One slot of a set: what is generated there and how it is certified. */
struct cs_profileset_slot {
	uint8_t slot;                      /* 0x9A, 0x9C, ... */
	char profile[CS_PROFILESET_NAME_MAX]; /* CA profile name */
	uint8_t alg;                       /* enum cs_piv_alg */
	uint8_t pin_policy;                /* enum cs_piv_pin_policy, 0 default */
	uint8_t touch_policy;              /* enum cs_piv_touch_policy, 0 default */
};

struct cs_profileset {
	char name[CS_PROFILESET_NAME_MAX];
	size_t nslots;
	struct cs_profileset_slot slots[CS_PROFILESET_SLOTS_MAX]; /* in order */
};

/*
 * Parse a profile set (NCONF, read as profiles are: no variables, no
 * .include) from text[0..len):
 *
 *   [profile_set]
 *   slots = 9a, 9c, 9d
 *   [9a]
 *   profile = piv-auth
 *   alg = p256
 *   pin_policy = once      (optional: never once always match-once
 *   touch_policy = never    match-always / never always cached)
 *
 * name labels messages and becomes out->name. Every listed slot needs its
 * section; unknown keys, sections of unlisted slots, duplicate slots,
 * non-key slots and profile names with anything but [A-Za-z0-9._-] are
 * CS_ERR_MALFORMED naming the problem in ctx (may be NULL). Pure: out is
 * zeroed first and is only meaningful on CS_OK.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_profileset_parse(struct cs_ctx *ctx,
    const char *name, const uint8_t *text, size_t len,
    struct cs_profileset *out);
/*
 * The same from a file (at most CS_PROFILESET_TEXT_MAX bytes); name NULL:
 * the file name without directory and ".cnf".
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_profileset_load(struct cs_ctx *ctx,
    const char *path, const char *name, struct cs_profileset *out);

/* --- enrollment state (registry tables enrollments, enroll_slots) --- */

/* What happened to one card, in the order it happens. */
enum cs_enroll_state {
	CS_ENROLL_ST_NONE = 0,   /* no record */
	CS_ENROLL_ST_STARTED,    /* identified, nothing changed yet */
	CS_ENROLL_ST_RESETTING,  /* PIV reset sent (outcome unknown) */
	CS_ENROLL_ST_RETRIES,    /* retry counts being set */
	CS_ENROLL_ST_PIN,        /* PIN being changed */
	CS_ENROLL_ST_PUK,        /* PUK being changed */
	CS_ENROLL_ST_MGM,        /* management key being changed */
	CS_ENROLL_ST_SLOTS,      /* card secrets done; slots in progress */
	CS_ENROLL_ST_DONE,       /* every slot certified and checked */
	CS_ENROLL_ST_SUPERSEDED, /* replaced by a re-enrollment */
};
#define CS_ENROLL_ST_COUNT 10

/* Per slot, in order. */
enum cs_enroll_slot_state {
	CS_ENROLL_SLOT_NONE = 0,
	CS_ENROLL_SLOT_GENERATING, /* GENERATE sent (old key may be gone) */
	CS_ENROLL_SLOT_GENERATED,  /* public key recorded */
	CS_ENROLL_SLOT_ISSUED,     /* certificate serial recorded */
	CS_ENROLL_SLOT_IMPORTING,  /* certificate being written to the card */
	CS_ENROLL_SLOT_DONE,       /* read back and matched */
};
#define CS_ENROLL_SLOT_COUNT 6

/* "started", "pin", ... / "generating", ...; "unknown" out of range. */
CS_EXPORT const char *cs_enroll_state_name(enum cs_enroll_state st);
CS_EXPORT const char *cs_enroll_slot_state_name(enum cs_enroll_slot_state st);

/* An enrollment record (the current one of a card). */
struct cs_enroll_record {
	int64_t id;
	uint64_t card_serial;
	char profile_set[CS_PROFILESET_NAME_MAX];
	char subject[256];
	enum cs_enroll_state state;
	int64_t created, updated;
};

/* One slot row of a record. */
struct cs_enroll_slot_record {
	uint8_t slot;
	enum cs_enroll_slot_state state;
	char profile[CS_PROFILESET_NAME_MAX];
	char key_sha256[65]; /* hex of the recorded public key, "" if none */
	char cert_serial[48]; /* hex, "" if none */
};

/*
 * The current (not superseded) record of card_serial with up to max slot
 * rows into slots (*nslots: how many; slots may be NULL with max 0).
 * CS_ERR_NOT_FOUND if the card has none.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_state_get(struct cs_ca *ca,
    uint64_t card_serial, struct cs_enroll_record *rec,
    struct cs_enroll_slot_record *slots, size_t max, size_t *nslots);
/*
 * Create the current record of a card (committed), state STARTED, one
 * slot row per slot of set in state NONE. CS_ERR_POLICY if the card has a
 * current record already. *id (may be NULL): the new record's id.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_state_begin(struct cs_ca *ca,
    uint64_t card_serial, const struct cs_profileset *set,
    const char *subject, int64_t *id);
/* Set a record's state (committed). CS_ERR_NOT_FOUND: no such record. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_state_set(struct cs_ca *ca,
    int64_t id, enum cs_enroll_state st);
/*
 * Set a slot row's state (committed); key_sha256 and cert_serial (may be
 * NULL: unchanged) are recorded with it. CS_ERR_NOT_FOUND: no such row.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_slot_set(struct cs_ca *ca,
    int64_t id, uint8_t slot, enum cs_enroll_slot_state st,
    const char *key_sha256, const char *cert_serial);
/*
 * Mark the current record of card_serial superseded (committed), so that
 * the next cs_enroll_state_begin starts afresh; CS_ERR_NOT_FOUND if none.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_state_supersede(
    struct cs_ca *ca, uint64_t card_serial);
/*
 * Serial (hex) of an issued or delivered certificate of this CA for the
 * public key whose canonical SPKI SHA-256 is key_sha256 (hex), into
 * serial[0..cap). CS_ERR_NOT_FOUND if none: the key was never certified.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_find_cert(struct cs_ca *ca,
    const char *key_sha256, char *serial, size_t cap);
/*
 * Hex SHA-256 of a DER SubjectPublicKeyInfo in the canonical form the
 * registry keys certificates by (hex[65]). CS_ERR_MALFORMED if spki does
 * not decode.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_key_hash(struct cs_ctx *ctx,
    const uint8_t *spki, size_t len, char hex[65]);

#endif
