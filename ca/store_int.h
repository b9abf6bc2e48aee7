/*
 * Internals of the SQLite registry shared by store_db.c (statements,
 * transactions, events), store_owner.c (reservation owners), store.c
 * (certificate rows, revocation, CRL numbers, reconcile), store_open.c
 * (open, schema, migration), store_api.c (the public cs_ca_* registry
 * calls) and store_enroll.c (enrollment state, cs_enroll_state_*); each uses only those listed before it, except that store.c
 * names store_api.c's reason names. Not for any other file
 * of ca/, which sees the registry only through struct csa_store_ops.
 */
#ifndef CA_STORE_INT_H
#define CA_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "ca_int.h"

/* RFC 5280 5.3.1 CRLReason keyCompromise: never overridden. */
#define REASON_KEY_COMPROMISE 1

/* Pending rows without a known owner are left alone this long (seconds). */
#define RECONCILE_GRACE 600
#define OWNER_MAX 96

/* Listed one by one at most; the rest are counted. */
#define LIVE_LIST_MAX 16

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_RESERVE,
	S_ISSUE,
	S_CARD,
	S_EVIDENCE,
	S_EVENT,
	S_ABANDON,
	S_DELIVERED,
	S_REVOKE_SERIAL,
	S_REVOKE_CARD,
	S_LIST,
	S_GET,
	S_REVOKED,
	S_CRLNUM_BUMP,
	S_CRLNUM_GET,
	S_PENDING,
	S_VOID_ONE,
	S_COUNT_ISSUED,
	S_DUPS,
	S_KEY_REVOKED,
	S_KEY_LIVE,
	S__COUNT
};

struct sq_store {
	struct csa_store base; /* first: the ops view */
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	char boot[40]; /* this boot's id, "" if unknown */
	char owner[OWNER_MAX]; /* "boot:pid:start" of this process, or "" */
};

/* store_db.c */

/* CS_ERR_STORE with SQLite's message for what. */
enum cs_err csa_sq_fail(struct sq_store *s, const char *what);
/* Prepare every statement of enum stmt_id (kept until close). */
enum cs_err csa_sq_prepare(struct sq_store *s);
/* The prepared statement id, reset and unbound; NULL on failure. */
sqlite3_stmt *csa_sq_get(struct sq_store *s, enum stmt_id id);
/* Run statement id (no rows). */
enum cs_err csa_sq_exec1(struct sq_store *s, enum stmt_id id,
    const char *what);
/* BEGIN IMMEDIATE, COMMIT, ROLLBACK (which cannot fail usefully). */
enum cs_err csa_sq_begin(struct sq_store *s);
enum cs_err csa_sq_commit(struct sq_store *s);
void csa_sq_rollback(struct sq_store *s);
/*
 * End the transaction csa_sq_begin opened: COMMIT if r is CS_OK, else (or
 * if the commit fails) ROLLBACK. Returns r, or the commit's failure.
 */
enum cs_err csa_sq_end(struct sq_store *s, enum cs_err r);
/* Append an event row (inside the caller's transaction). */
enum cs_err csa_sq_event(struct sq_store *s, int64_t now, const char *kind,
    const char *serial, const char *detail);

/* store.c */

/* The SQLite backend's operations. */
extern const struct csa_store_ops csa_sq_ops;

/* store_owner.c */

/* This process as a reservation owner into s->owner (and s->boot), or "". */
void csa_sq_set_owner(struct sq_store *s);
/*
 * Is the process that reserved a row ("boot:pid:start") still running?
 * Unreadable /proc: assume it runs (the grace period decides).
 */
bool csa_sq_owner_alive(const struct sq_store *s, const char *owner);

/* store_api.c */

/* RFC 5280 CRLReason name; "an unknown reason" out of range. Static. */
const char *csa_store_reason_name(int reason);

/*
 * The SQLite registry behind ca; NULL, with "WHAT needs the SQLite
 * registry" in ca's ctx, for another backend (store.c).
 */
struct sq_store *csa_sq_of(struct cs_ca *ca, const char *what);
/* Column i of st as text into dst, cut to cap; NULL is "" (store_db.c). */
void csa_sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t cap);

#endif
