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

#include "ca.h"

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

/* --- enrolling one card --- */

/*
 * Progress: step (1-based) of nsteps is starting; name is "identify
 * card", "set PIN", "9a: generate key", ... (borrowed for the call).
 * nsteps can grow once (after identification, when the slots to do are
 * known).
 */
typedef void cs_enroll_progress_fn(void *arg, int step, int nsteps,
    const char *name);
/*
 * A secret the enrollment made (what: "PUK") is about to be put on the
 * card: keep it now (write it out, show it). value[0..len) is borrowed
 * and wiped after the call. Anything but CS_OK stops the enrollment
 * before the card changes (the error detail is the callback's, in ctx).
 */
typedef enum cs_err cs_enroll_secret_fn(void *arg, const char *what,
    const char *value, size_t len);

enum cs_enroll_flags {
	/* Erase the PIV application first (blocks PIN and PUK, resets). */
	CS_ENROLL_RESET = 1 << 0,
	/*
	 * The card has a record the registry cannot match to it (reset or
	 * changed by hand): revoke the record's certificates as superseded
	 * (RFC 5280 CRLReason 4), close it and enroll afresh.
	 */
	CS_ENROLL_RE_ENROLL = 1 << 1,
};

struct cs_enroll_req {
	const struct cs_profileset *set; /* borrowed */
	const char *subject; /* "CN=Jane Doe,O=Example" */
	const char *email; /* rfc822Name for the CSRs and %{email}; may be NULL */
	/* The card's current PIN; NULL: the factory default 123456. */
	const char *pin;
	size_t pin_len;
	/* The cardholder's new PIN (6..8 characters, not 123456). */
	const char *new_pin;
	size_t new_pin_len;
	/* The new PUK; NULL: 8 random digits, handed to secret first. */
	const char *puk;
	size_t puk_len;
	/* The current management key; NULL: PIN-protected one or default. */
	const uint8_t *mgm_key;
	size_t mgm_key_len;
	uint8_t pin_tries, puk_tries; /* both 0: left as they are */
	unsigned int flags; /* enum cs_enroll_flags */
	cs_enroll_progress_fn *progress; /* may be NULL */
	void *progress_arg;
	cs_enroll_secret_fn *secret; /* required when puk is NULL */
	void *secret_arg;
};

/* One certified slot of the receipt. */
struct cs_enroll_slot_result {
	uint8_t slot;
	char profile[CS_PROFILESET_NAME_MAX];
	char serial[CS_CA_SERIAL_MAX]; /* the certificate, upper-case hex */
	enum cs_ca_level level;
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX]; /* "" for none */
	int64_t not_after;
	bool reused; /* certified by an earlier run: not issued again */
	/*
	 * What the CA noted when it issued in this run, "; " joined: firmware
	 * warnings, requested fields the profile did not take; "" if none.
	 */
	char notes[CS_CA_REASON_MAX];
};

struct cs_enroll_result {
	uint64_t card_serial;
	uint8_t firmware[3];
	uint8_t form_factor; /* 0 unknown */
	bool attestation; /* the card attests its keys */
	int64_t record; /* enrollment record id */
	bool resumed; /* an interrupted enrollment was continued */
	bool already; /* the card was enrolled already: nothing changed */
	/* Refused: the card contradicts its record (CS_ENROLL_RE_ENROLL). */
	bool mismatch;
	size_t revoked; /* certificates revoked by CS_ENROLL_RE_ENROLL */
	size_t nslots;
	struct cs_enroll_slot_result slots[CS_PROFILESET_SLOTS_MAX];
};

/*
 * Enroll card with ca (unlocked) as req says, recording every step in the
 * registry before the card changes; ctx is the one card and ca report to.
 * Running it again on the same card continues where it stopped and never
 * certifies a key twice; an enrolled card whose slots still hold their
 * certificates is left alone (res->already). Refused before the card
 * changes (CS_ERR_POLICY, the reason in ctx): no serial number; no
 * attestation where a slot's profile requires hardware-attested; a
 * firmware deny rule of a profile; a record the card contradicts
 * (without CS_ENROLL_RE_ENROLL), with the command that resolves it. On
 * CS_OK the card's PIN, PUK and management key have been checked not to
 * be the factory values (GET METADATA, or the default management key
 * failing to authenticate). res is cleared on entry.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_card(struct cs_ctx *ctx,
    struct cs_ca *ca, struct cs_card *card, const struct cs_enroll_req *req,
    struct cs_enroll_result *res);

/*
 * n uniformly random decimal digits (OpenSSL's private DRBG) into d,
 * NUL-terminated (d holds n + 1): PINs and PUKs that people must type.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_enroll_random_digits(
    struct cs_ctx *ctx, char *d, size_t n);

#endif
