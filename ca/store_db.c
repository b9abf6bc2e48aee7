/*
 * Registry, SQLite backend, lowest layer: the SQL of every prepared
 * statement (one per enum stmt_id, prepared once and kept), the
 * transaction verbs and the event log. Certificate rows are store.c,
 * opening and migrating the database store_open.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"

#include "banned.h"

#define COLS                                                                   \
	"serial, status, level, profile, subject, created, "                   \
	"not_before, not_after, revoked_at, revoke_reason, slot, "             \
	"card_serial, firmware, sublevel"

static const char *const sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_RESERVE] = "INSERT INTO certs(serial, status, created, owner) "
	              "VALUES(?1, 0, ?2, ?3)",
	[S_ISSUE] =
	    "UPDATE certs SET status = 1, level = ?2, signer = ?3, "
	    "subject = ?4, not_before = ?5, not_after = ?6, slot = ?7, "
	    "card_serial = ?8, firmware = ?9, der = ?10, profile = ?11, "
	    "sublevel = ?12, key_sha256 = ?13 "
	    "WHERE serial = ?1 AND status = 0",
	[S_CARD] =
	    "INSERT INTO cards(serial, firmware, first_seen, "
	    "last_seen) VALUES(?1, ?2, ?3, ?3) ON CONFLICT(serial) DO UPDATE "
	    "SET firmware = excluded.firmware, last_seen = excluded.last_seen",
	[S_EVIDENCE] = "INSERT OR REPLACE INTO evidence(serial, statement, "
	               "f9) VALUES(?1, ?2, ?3)",
	[S_EVENT] = "INSERT INTO events(at, kind, serial, detail) "
	            "VALUES(?1, ?2, ?3, ?4)",
	[S_ABANDON] = "UPDATE certs SET status = 4 WHERE serial = ?1 AND "
	              "status = 0",
	[S_DELIVERED] = "UPDATE certs SET status = 2 WHERE serial = ?1 AND "
	                "status = 1",
	/*
	 * A revoked row can still become keyCompromise (RFC 5280 5.3.1: the
	 * reason may change to it), keeping its revocation date, so a key
	 * first revoked as superseded is barred for good once compromised.
	 */
	[S_REVOKE_SERIAL] =
	    "UPDATE certs SET status = 3, "
	    "revoked_at = CASE status WHEN 3 THEN revoked_at ELSE ?2 END, "
	    "revoke_reason = ?3 WHERE serial = ?1 AND (status IN (1, 2) OR "
	    "(status = 3 AND ?3 = 1 AND revoke_reason IS NOT 1))",
	[S_REVOKE_CARD] =
	    "UPDATE certs SET status = 3, "
	    "revoked_at = CASE status WHEN 3 THEN revoked_at ELSE ?2 END, "
	    "revoke_reason = ?3 WHERE card_serial = ?1 AND (status IN (1, 2) "
	    "OR (status = 3 AND ?3 = 1 AND revoke_reason IS NOT 1))",
	[S_LIST] = "SELECT " COLS " FROM certs WHERE (?1 < 0 OR status = ?1) "
	           "AND (?2 = 0 OR (not_after < ?2 AND status IN (1, 2))) "
	           "ORDER BY serial",
	[S_GET] = "SELECT " COLS ", der FROM certs WHERE serial = ?1",
	[S_REVOKED] = "SELECT serial, revoked_at, revoke_reason FROM certs "
	              "WHERE status = 3 AND signer = ?1 ORDER BY serial",
	[S_CRLNUM_BUMP] =
	    "INSERT INTO crl(signer, number) VALUES(?1, 1) "
	    "ON CONFLICT(signer) DO UPDATE SET number = number + 1",
	[S_CRLNUM_GET] = "SELECT number FROM crl WHERE signer = ?1",
	[S_PENDING] = "SELECT serial, created, owner FROM certs "
	              "WHERE status = 0",
	[S_VOID_ONE] = "UPDATE certs SET status = 4 WHERE serial = ?1 AND "
	               "status = 0",
	[S_COUNT_ISSUED] = "SELECT count(*) FROM certs WHERE status = 1",
	[S_DUPS] = "SELECT count(*) - count(DISTINCT upper(serial)) FROM certs",
	/* keyCompromise first: it can never be overridden. */
	[S_KEY_REVOKED] = "SELECT serial, revoke_reason FROM certs "
	                  "WHERE key_sha256 = ?1 AND status = 3 "
	                  "ORDER BY revoke_reason = 1 DESC, revoked_at, serial "
	                  "LIMIT 1",
	/* Unrevoked certificates of the keys just revoked for keyCompromise. */
	[S_KEY_LIVE] =
	    "SELECT serial FROM certs WHERE status IN (1, 2) AND key_sha256 IN "
	    "(SELECT key_sha256 FROM certs WHERE status = 3 AND "
	    "revoke_reason = 1 AND key_sha256 <> '' AND "
	    "(serial = ?1 OR card_serial = ?2)) ORDER BY serial",
};

enum cs_err
csa_sq_fail(struct sq_store *s, const char *what)
{
	return cs_ctx_fail(s->base.ctx, CS_ERR_STORE, "registry: %s: %s", what,
	    sqlite3_errmsg(s->db));
}

enum cs_err
csa_sq_prepare(struct sq_store *s)
{
	size_t i;

	for (i = 0; i < S__COUNT; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &s->st[i],
		        NULL) != SQLITE_OK)
			return csa_sq_fail(s, sql[i]);
	return CS_OK;
}

sqlite3_stmt *
csa_sq_get(struct sq_store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

enum cs_err
csa_sq_exec1(struct sq_store *s, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = csa_sq_get(s, id);
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return csa_sq_fail(s, what);
	return CS_OK;
}

enum cs_err
csa_sq_begin(struct sq_store *s)
{
	return csa_sq_exec1(s, S_BEGIN, "begin");
}

enum cs_err
csa_sq_commit(struct sq_store *s)
{
	return csa_sq_exec1(s, S_COMMIT, "commit");
}

void
csa_sq_rollback(struct sq_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)csa_sq_exec1(s, S_ROLLBACK, "rollback");
}

enum cs_err
csa_sq_end(struct sq_store *s, enum cs_err r)
{
	if (r == CS_OK && (r = csa_sq_commit(s)) == CS_OK)
		return CS_OK;
	csa_sq_rollback(s);
	return r;
}

enum cs_err
csa_sq_event(struct sq_store *s, int64_t now, const char *kind,
    const char *serial, const char *detail)
{
	sqlite3_stmt *st = csa_sq_get(s, S_EVENT);

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (serial != NULL)
		sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
	if (detail != NULL)
		sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return csa_sq_fail(s, "event");
	sqlite3_reset(st);
	return CS_OK;
}

void
csa_sq_col_text(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}
