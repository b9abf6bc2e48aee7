/*
 * Batch provisioning state (cardsmith batch, issue 10): which roster row
 * went to which card and how far it got, in the CA registry (table
 * batch_rows, ca/store_batch.c). A row is bound to a card in a committed
 * transaction before anything is written to the card, so a crash at any
 * point leaves either an unbound pending row (goes to the next new card)
 * or a row bound to its card (resumed when that card comes back; the
 * enrollment itself resumes through cs_enroll_card).
 *
 * Rows are keyed by the roster's SHA-256 (hex) and the row id: re-running
 * the same roster file finds its rows; an edited roster is a new batch
 * (its rows never take a card bound or enrolled already).
 */
#ifndef CARDSMITH_BATCH_H
#define CARDSMITH_BATCH_H

#include "enroll.h"
#include "roster.h"

#define CS_BATCH_DIGEST_HEX 65

enum cs_batch_state {
	CS_BATCH_PENDING = 0, /* not bound to a card yet */
	CS_BATCH_BOUND,       /* bound; the card is being (or was) enrolled */
	CS_BATCH_DONE,        /* enrolled */
	CS_BATCH_FAILED,      /* the last attempt failed (still bound) */
};
#define CS_BATCH_STATE_COUNT 4

/* "pending", "bound", "done", "failed"; "unknown" out of range. */
CS_EXPORT const char *cs_batch_state_name(enum cs_batch_state st);

struct cs_batch_row {
	char roster[CS_BATCH_DIGEST_HEX]; /* hex SHA-256 of the roster file */
	char id[CS_ROSTER_ID_MAX + 1];
	int64_t seq; /* order in the roster (its line) */
	char subject[1024];
	char email[256];
	char profile_set[CS_PROFILESET_NAME_MAX];
	bool has_want; /* the roster names the card: want_serial */
	uint32_t want_serial;
	bool bound;
	uint64_t card_serial;
	enum cs_batch_state state;
	char certs[512]; /* certificate serials, comma separated */
	char error[256];
};

/*
 * Record row (roster, id, seq, subject, email, profile_set, has_want,
 * want_serial) as pending unless the roster already has a row with that
 * id (then nothing changes). Committed.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_batch_add(struct cs_ca *ca,
    const struct cs_batch_row *row);

/* How cs_batch_bind found the card's row. */
enum cs_batch_how {
	CS_BATCH_NEW = 0, /* a pending row was bound to the card now */
	CS_BATCH_RESUME,  /* the card was bound to this row earlier */
	CS_BATCH_ALREADY, /* the card's row is done */
};

/*
 * The row of roster for card_serial, in one BEGIN IMMEDIATE transaction
 * (several processes may bind at once): the row the card is bound to;
 * else the first pending unbound row naming this serial, else the first
 * pending unbound row naming none, bound to the card (committed). *out
 * is filled. Refused:
 *   CS_ERR_POLICY     the card is bound to a row of another roster, or
 *                     has an enrollment not made by a batch
 *   CS_ERR_NOT_FOUND  no pending row is left for it
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_batch_bind(struct cs_ca *ca,
    const char *roster, uint64_t card_serial, struct cs_batch_row *out,
    enum cs_batch_how *how);

/*
 * Record the outcome of the row's attempt: state DONE or FAILED, certs
 * and error (may be NULL: ""). Committed. CS_ERR_NOT_FOUND: no such row.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_batch_finish(struct cs_ca *ca,
    const char *roster, const char *id, enum cs_batch_state st,
    const char *certs, const char *error);

/* Rows of roster per state, into counts[CS_BATCH_STATE_COUNT]. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_batch_counts(struct cs_ca *ca,
    const char *roster, size_t counts[CS_BATCH_STATE_COUNT]);

/* The row of roster with id into *out; CS_ERR_NOT_FOUND if none. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_batch_get(struct cs_ca *ca,
    const char *roster, const char *id, struct cs_batch_row *out);

/*
 * Hex SHA-256 of the file at path (the roster's key in batch_rows) into
 * hex[CS_BATCH_DIGEST_HEX]. CS_ERR_IO / CS_ERR_NOT_FOUND if unreadable.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_batch_roster_digest(struct cs_ctx *ctx,
    const char *path, char hex[CS_BATCH_DIGEST_HEX]);

#endif
