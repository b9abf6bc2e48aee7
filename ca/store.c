/*
 * Registry, SQLite backend: WAL, synchronous=FULL, one BEGIN IMMEDIATE
 * transaction per state change, prepared statements only. The serial is
 * the primary key, so the database itself refuses a duplicate.
 *
 * Row life: pending (reserved, committed before signing) → issued (DER
 * stored, committed before the certificate is handed out) → delivered
 * (written to its destination: card, file, standard output) | revoked; a
 * pending row a crash left behind becomes void on reconcile, an issued
 * one stays issued (it is signed and retrievable).
 * A pending row records its owner (boot id, pid, process start time), so
 * reconcile voids only reservations whose process is gone, or (owner
 * unknown) older than RECONCILE_GRACE: never a live reservation of a
 * concurrently running issuance.
 *
 * Every issued row records the SHA-256 of its canonical public key
 * (key_sha256), so a key once revoked is found again whatever profile,
 * subject or CA level a new request uses. The registry is created only by
 * ca init: opening a missing, empty or table-less one fails, since a fresh
 * registry would silently forget every revocation and the CRL number.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "ca_int.h"

#include "banned.h"

/* RFC 5280 5.3.1 CRLReason keyCompromise: never overridden. */
#define REASON_KEY_COMPROMISE 1

/* Pending rows without a known owner are left alone this long (seconds). */
#define RECONCILE_GRACE 600
#define OWNER_MAX 96

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

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS certs("
    " serial TEXT PRIMARY KEY NOT NULL,"
    " status INTEGER NOT NULL,"
    " level INTEGER, signer INTEGER, profile TEXT, subject TEXT,"
    " created INTEGER NOT NULL, not_before INTEGER, not_after INTEGER,"
    " revoked_at INTEGER, revoke_reason INTEGER, slot INTEGER,"
    " card_serial INTEGER, firmware TEXT, der BLOB, sublevel TEXT,"
    " owner TEXT, key_sha256 TEXT)"
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS certs_card ON certs(card_serial);"
    "CREATE INDEX IF NOT EXISTS certs_status ON certs(status, signer);"
    "CREATE TABLE IF NOT EXISTS cards(serial INTEGER PRIMARY KEY,"
    " firmware TEXT, first_seen INTEGER, last_seen INTEGER);"
    "CREATE TABLE IF NOT EXISTS evidence(serial TEXT PRIMARY KEY,"
    " statement BLOB, f9 BLOB);"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL, kind TEXT NOT NULL, serial TEXT, detail TEXT);"
    "CREATE TABLE IF NOT EXISTS crl(signer INTEGER PRIMARY KEY,"
    " number INTEGER NOT NULL);";

/* The tables every registry has had since version 1. */
static const char *const tables[] = {
	"certs",
	"cards",
	"evidence",
	"events",
	"crl",
};

/*
 * Version 1 registries lack certs.sublevel (added with sub-levels),
 * version 2 ones certs.owner (the reserving process, for reconcile),
 * version 3 ones certs.key_sha256 (the revoked-key check; backfilled from
 * the stored DER).
 */
static const char migrate_check[] =
    "SELECT count(*) FROM pragma_table_info('certs') WHERE name = ?1";

struct sq_store {
	struct csa_store base; /* first: the ops view */
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	char boot[40]; /* this boot's id, "" if unknown */
	char owner[OWNER_MAX]; /* "boot:pid:start" of this process, or "" */
};

static enum cs_err
sq_fail(struct sq_store *s, const char *what)
{
	return cs_ctx_fail(s->base.ctx, CS_ERR_STORE, "registry: %s: %s", what,
	    sqlite3_errmsg(s->db));
}

static sqlite3_stmt *
get(struct sq_store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static enum cs_err
exec1(struct sq_store *s, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = get(s, id);
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(s, what);
	return CS_OK;
}

static enum cs_err
begin(struct sq_store *s)
{
	return exec1(s, S_BEGIN, "begin");
}

static enum cs_err
commit(struct sq_store *s)
{
	return exec1(s, S_COMMIT, "commit");
}

static void
rollback(struct sq_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)exec1(s, S_ROLLBACK, "rollback");
}

static enum cs_err
event(struct sq_store *s, int64_t now, const char *kind, const char *serial,
    const char *detail)
{
	sqlite3_stmt *st = get(s, S_EVENT);

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (serial != NULL)
		sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
	if (detail != NULL)
		sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return sq_fail(s, "event");
	sqlite3_reset(st);
	return CS_OK;
}

static enum cs_err
sq_reserve(struct csa_store *b, const char *const *serials, size_t n,
    int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	enum cs_err r;
	size_t i;
	int rc;

	if ((r = begin(s)) != CS_OK)
		return r;
	for (i = 0; i < n; i++) {
		st = get(s, S_RESERVE);
		sqlite3_bind_text(st, 1, serials[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (s->owner[0] != '\0')
			sqlite3_bind_text(st, 3, s->owner, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			r = sq_fail(s,
			    (rc & 0xff) == SQLITE_CONSTRAINT
			        ? "serial already used"
			        : "reserve serial");
			goto fail;
		}
	}
	if ((r = event(s, now, "reserve", serials[0], NULL)) != CS_OK ||
	    (r = commit(s)) != CS_OK)
		goto fail;
	return CS_OK;
fail:
	rollback(s);
	return r;
}

static const char *reason_name(int reason);

/*
 * Is the key (csa_key_hash) in a revoked certificate? keyCompromise
 * refuses always, any other reason unless allow. *prior: the revoked
 * serial an allowed override passed ("" if none), for the event log.
 */
static enum cs_err
key_refused(struct sq_store *s, const char *hash, bool allow, char *prior,
    size_t cap)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	char serial[CS_CA_SERIAL_MAX];
	int rc, reason;

	prior[0] = '\0';
	/* Fail closed: a row without its key hash could never be found. */
	if (hash == NULL || strlen(hash) != CSA_KEY_HASH_MAX - 1)
		return cs_ctx_fail(s->base.ctx, CS_ERR_INTERNAL,
		    "registry: certificate without its key hash");
	st = get(s, S_KEY_REVOKED);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? CS_OK
		                         : sq_fail(s, "revoked-key check");
	}
	t = sqlite3_column_text(st, 0);
	snprintf(serial, sizeof(serial), "%s",
	    t != NULL ? (const char *)t : "");
	reason = sqlite3_column_type(st, 1) == SQLITE_NULL
	    ? 0
	    : sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (reason == REASON_KEY_COMPROMISE)
		return cs_ctx_fail(s->base.ctx, CS_ERR_POLICY,
		    "this key was certified in %s, revoked for keyCompromise: "
		    "a compromised key is never certified again",
		    serial);
	if (!allow)
		return cs_ctx_fail(s->base.ctx, CS_ERR_POLICY,
		    "this key was certified in %s, revoked for %s: certifying "
		    "a revoked key again needs an explicit override "
		    "(ca sign --allow-revoked-key)",
		    serial, reason_name(reason));
	snprintf(prior, cap, "%s", serial);
	return CS_OK;
}

static enum cs_err
sq_key_check(struct csa_store *b, const char *key_hash, bool allow)
{
	char prior[CS_CA_SERIAL_MAX];

	return key_refused((struct sq_store *)b, key_hash, allow, prior,
	    sizeof(prior));
}

/* One row pending → issued, inside the caller's transaction. */
static enum cs_err
commit_row(struct sq_store *s, const struct csa_row *row, const uint8_t *der,
    size_t len, int64_t now)
{
	char prior[CS_CA_SERIAL_MAX], detail[96];
	sqlite3_stmt *st;
	enum cs_err r;

	/* Again inside the transaction: a revocation may have come since. */
	if ((r = key_refused(s, row->key_hash, row->allow_revoked_key, prior,
	         sizeof(prior))) != CS_OK)
		return r;
	st = get(s, S_ISSUE);
	sqlite3_bind_text(st, 1, row->serial, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)row->level);
	sqlite3_bind_int(st, 3, (int)row->signer);
	sqlite3_bind_text(st, 4, row->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, row->not_before);
	sqlite3_bind_int64(st, 6, row->not_after);
	sqlite3_bind_int(st, 7, row->slot);
	if (row->has_card_serial)
		sqlite3_bind_int64(st, 8, (sqlite3_int64)row->card_serial);
	sqlite3_bind_text(st, 9, row->firmware, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, der, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, row->profile, -1, SQLITE_STATIC);
	if (row->sublevel != NULL && row->sublevel[0] != '\0')
		sqlite3_bind_text(st, 12, row->sublevel, -1, SQLITE_STATIC);
	if (row->key_hash != NULL)
		sqlite3_bind_text(st, 13, row->key_hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return sq_fail(s, "store certificate");
	}
	sqlite3_reset(st);
	if (sqlite3_changes(s->db) != 1)
		return cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
		    "registry: serial %s is not pending", row->serial);
	if (row->has_card_serial) {
		st = get(s, S_CARD);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)row->card_serial);
		sqlite3_bind_text(st, 2, row->firmware, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return sq_fail(s, "card");
		}
		sqlite3_reset(st);
	}
	if (row->stmt != NULL) {
		st = get(s, S_EVIDENCE);
		sqlite3_bind_text(st, 1, row->serial, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, row->stmt, (int)row->stmt_len,
		    SQLITE_STATIC);
		if (row->f9 != NULL)
			sqlite3_bind_blob(st, 3, row->f9, (int)row->f9_len,
			    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return sq_fail(s, "evidence");
		}
		sqlite3_reset(st);
	}
	if ((r = event(s, now, "issue", row->serial,
	         cs_ca_level_name(row->level))) != CS_OK)
		return r;
	if (prior[0] != '\0') {
		snprintf(detail, sizeof(detail),
		    "revoked key of %s certified again", prior);
		if ((r = event(s, now, "override", row->serial, detail)) !=
		    CS_OK)
			return r;
	}
	return CS_OK;
}

static enum cs_err
sq_commit(struct csa_store *b, const struct csa_row *rows,
    const uint8_t *const *ders, const size_t *lens, size_t n, int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	enum cs_err r;
	size_t i;

	if ((r = begin(s)) != CS_OK)
		return r;
	for (i = 0; i < n; i++)
		if ((r = commit_row(s, &rows[i], ders[i], lens[i], now)) !=
		    CS_OK)
			goto fail;
	if ((r = commit(s)) != CS_OK)
		goto fail;
	return CS_OK;
fail:
	rollback(s);
	return r;
}

/* One-statement change + event in one transaction; *n: rows changed. */
static enum cs_err
change(struct sq_store *s, sqlite3_stmt *st, const char *what, const char *kind,
    const char *serial, int64_t now, size_t *n)
{
	enum cs_err r;
	int changed;

	*n = 0;
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(s, what);
		goto fail;
	}
	sqlite3_reset(st);
	changed = sqlite3_changes(s->db);
	if (changed > 0 && (r = event(s, now, kind, serial, what)) != CS_OK)
		goto fail;
	if ((r = commit(s)) != CS_OK)
		goto fail;
	*n = (size_t)changed;
	return CS_OK;
fail:
	sqlite3_reset(st);
	rollback(s);
	return r;
}

static enum cs_err
sq_abandon(struct csa_store *b, const char *const *serials, size_t n,
    const char *why, int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	enum cs_err r;
	size_t i;

	if ((r = begin(s)) != CS_OK)
		return r;
	for (i = 0; i < n; i++) {
		st = get(s, S_ABANDON);
		sqlite3_bind_text(st, 1, serials[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			r = sq_fail(s, "void serial");
			goto fail;
		}
		sqlite3_reset(st);
		if ((r = event(s, now, "void", serials[i], why)) != CS_OK)
			goto fail;
	}
	if ((r = commit(s)) != CS_OK)
		goto fail;
	return CS_OK;
fail:
	rollback(s);
	return r;
}

static enum cs_err
sq_delivered(struct csa_store *b, const char *serial, int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	size_t n;
	enum cs_err r;

	if ((r = begin(s)) != CS_OK)
		return r;
	st = get(s, S_DELIVERED);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if ((r = change(s, st, "delivered", "deliver", serial, now, &n)) !=
	    CS_OK)
		return r;
	if (n == 0)
		return cs_ctx_fail(b->ctx, CS_ERR_NOT_FOUND,
		    "serial %s: no issued certificate", serial);
	return CS_OK;
}

/* Listed one by one at most; the rest are counted. */
#define LIVE_LIST_MAX 16

/*
 * After a keyCompromise revocation: name the certificates that still
 * certify one of the keys (issued for the same key under another serial,
 * or without the card serial a --card revocation matched).
 */
static void
warn_live(struct sq_store *s, const char *serial, uint64_t card_serial)
{
	sqlite3_stmt *st = get(s, S_KEY_LIVE);
	const unsigned char *t;
	size_t n = 0;

	if (serial != NULL)
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, (sqlite3_int64)card_serial);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ >= LIVE_LIST_MAX ||
		    (t = sqlite3_column_text(st, 0)) == NULL)
			continue;
		cs_ctx_log(s->base.ctx, CS_LOG_ERR,
		    "warning: certificate %s certifies a compromised key and "
		    "is not revoked: ca revoke --serial %s --reason "
		    "keyCompromise",
		    t, t);
	}
	sqlite3_reset(st);
	if (n > LIVE_LIST_MAX)
		cs_ctx_log(s->base.ctx, CS_LOG_ERR,
		    "warning: %zu more certificates certify a compromised key "
		    "(ca list)",
		    n - LIVE_LIST_MAX);
}

static enum cs_err
sq_revoke(struct csa_store *b, const char *serial, uint64_t card_serial,
    int reason, int64_t at, size_t *count)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	char detail[64];
	enum cs_err r;

	*count = 0;
	if ((r = begin(s)) != CS_OK)
		return r;
	if (serial != NULL) {
		st = get(s, S_REVOKE_SERIAL);
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	} else {
		st = get(s, S_REVOKE_CARD);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)card_serial);
	}
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_int(st, 3, reason);
	snprintf(detail, sizeof(detail), "revoke reason %d card %llu", reason,
	    (unsigned long long)card_serial);
	if ((r = change(s, st, detail, "revoke", serial, at, count)) != CS_OK)
		return r;
	if (reason == REASON_KEY_COMPROMISE && *count > 0)
		warn_live(s, serial, card_serial);
	return CS_OK;
}

static void
row_info(sqlite3_stmt *st, struct cs_ca_cert_info *in)
{
	const unsigned char *t;

	memset(in, 0, sizeof(*in));
	if ((t = sqlite3_column_text(st, 0)) != NULL)
		snprintf(in->serial, sizeof(in->serial), "%s", t);
	in->status = (enum cs_ca_status)sqlite3_column_int(st, 1);
	in->level = (enum cs_ca_level)sqlite3_column_int(st, 2);
	if ((unsigned int)in->level >= CS_CA_LEVEL_COUNT)
		in->level = CS_CA_LEVEL_NONE;
	if ((t = sqlite3_column_text(st, 3)) != NULL)
		snprintf(in->profile, sizeof(in->profile), "%s", t);
	if ((t = sqlite3_column_text(st, 4)) != NULL)
		snprintf(in->subject, sizeof(in->subject), "%s", t);
	in->created = sqlite3_column_int64(st, 5);
	in->not_before = sqlite3_column_int64(st, 6);
	in->not_after = sqlite3_column_int64(st, 7);
	in->revoked_at = sqlite3_column_int64(st, 8);
	in->revoke_reason = sqlite3_column_type(st, 9) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(st, 9);
	in->slot = sqlite3_column_type(st, 10) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(st, 10);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
		in->has_card_serial = true;
		in->card_serial = (uint64_t)sqlite3_column_int64(st, 11);
	}
	if ((t = sqlite3_column_text(st, 12)) != NULL)
		snprintf(in->firmware, sizeof(in->firmware), "%s", t);
	if ((t = sqlite3_column_text(st, 13)) != NULL)
		snprintf(in->sublevel, sizeof(in->sublevel), "%s", t);
}

static enum cs_err
sq_list(struct csa_store *b, const struct cs_ca_list_filter *f,
    cs_ca_list_fn *fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)b;
	struct cs_ca_cert_info in;
	sqlite3_stmt *st = get(s, S_LIST);
	int rc;

	sqlite3_bind_int(st, 1, f != NULL ? f->status : -1);
	sqlite3_bind_int64(st, 2, f != NULL ? f->expiring_before : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_info(st, &in);
		if (fn(arg, &in) != 0)
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_fail(s, "list");
	return CS_OK;
}

static enum cs_err
sq_get(struct csa_store *b, const char *serial, struct cs_ca_cert_info *in,
    uint8_t **der, size_t *derlen)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st = get(s, S_GET);
	const void *blob;
	int rc, n;
	enum cs_err r = CS_ERR_INTERNAL;

	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = cs_ctx_fail(b->ctx, CS_ERR_NOT_FOUND,
		    "serial %s: not in the registry", serial);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_fail(s, "show");
		goto out;
	}
	row_info(st, in);
	if (der != NULL && (blob = sqlite3_column_blob(st, 14)) != NULL &&
	    (n = sqlite3_column_bytes(st, 14)) > 0) {
		if ((*der = malloc((size_t)n)) == NULL) {
			r = cs_ctx_fail(b->ctx, CS_ERR_NOMEM, "show");
			goto out;
		}
		memcpy(*der, blob, (size_t)n);
		*derlen = (size_t)n;
	}
	r = CS_OK;
out:
	sqlite3_reset(st);
	return r;
}

static enum cs_err
sq_revoked(struct csa_store *b, enum csa_signer signer, csa_revoked_fn *fn,
    void *arg)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st = get(s, S_REVOKED);
	const unsigned char *t;
	enum cs_err r = CS_OK;
	int rc;

	sqlite3_bind_int(st, 1, (int)signer);
	while (r == CS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		r = fn(arg, t != NULL ? (const char *)t : "",
		    sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2));
	}
	sqlite3_reset(st);
	if (r == CS_OK && rc != SQLITE_DONE)
		return sq_fail(s, "revoked list");
	return r;
}

static enum cs_err
sq_crl_number(struct csa_store *b, enum csa_signer signer, uint64_t *n)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	enum cs_err r;

	*n = 0;
	if ((r = begin(s)) != CS_OK)
		return r;
	st = get(s, S_CRLNUM_BUMP);
	sqlite3_bind_int(st, 1, (int)signer);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(s, "CRL number");
		goto fail;
	}
	st = get(s, S_CRLNUM_GET);
	sqlite3_bind_int(st, 1, (int)signer);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = sq_fail(s, "CRL number");
		goto fail;
	}
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if ((r = commit(s)) != CS_OK)
		goto fail;
	return CS_OK;
fail:
	sqlite3_reset(st);
	rollback(s);
	return r;
}

static enum cs_err
count(struct sq_store *s, enum stmt_id id, size_t *n)
{
	sqlite3_stmt *st = get(s, id);
	enum cs_err r = CS_OK;

	if (sqlite3_step(st) != SQLITE_ROW)
		r = sq_fail(s, "count");
	else
		*n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return r;
}

static bool
integrity_ok(struct sq_store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	bool ok = false;

	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st,
	        NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (t = sqlite3_column_text(st, 0)) != NULL &&
	    strcmp((const char *)t, "ok") == 0 &&
	    sqlite3_step(st) == SQLITE_DONE)
		ok = true;
	sqlite3_finalize(st);
	return ok;
}

static int proc_start(const char *path, char *dst, size_t cap);

/*
 * Is the process that reserved a row ("boot:pid:start") still running?
 * Another boot, no such pid, or a pid reused by a later process: gone.
 * Unreadable /proc: assume it runs (the grace period decides).
 */
static bool
owner_alive(const struct sq_store *s, const char *owner)
{
	char boot[40], path[64], start[32];
	const char *c1, *c2;
	unsigned long pid;
	char *end;
	size_t n;

	if ((c1 = strchr(owner, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL ||
	    (n = (size_t)(c1 - owner)) >= sizeof(boot))
		return true;
	snprintf(boot, sizeof(boot), "%.*s", (int)n, owner);
	if (s->boot[0] == '\0' || strcmp(boot, s->boot) != 0)
		return s->boot[0] == '\0';
	errno = 0;
	pid = strtoul(c1 + 1, &end, 10);
	if (errno != 0 || end != c2 || pid == 0 || pid > 0x7fffffffUL)
		return true;
	snprintf(path, sizeof(path), "/proc/%lu/stat", pid);
	switch (proc_start(path, start, sizeof(start))) {
	case 0:
		return strcmp(start, c2 + 1) == 0;
	case ENOENT:
	case ESRCH:
		return false;
	default:
		return true;
	}
}

/* Void the pending rows whose reservation is over; *n: how many. */
static enum cs_err
void_stale(struct sq_store *s, int64_t now, size_t *n)
{
	sqlite3_stmt *st, *v;
	const unsigned char *owner;
	char serial[CS_CA_SERIAL_MAX];
	bool stale;
	int rc;

	*n = 0;
	st = get(s, S_PENDING);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		owner = sqlite3_column_text(st, 2);
		if (owner != NULL && *owner != '\0')
			stale = !owner_alive(s, (const char *)owner);
		else
			stale = sqlite3_column_int64(st, 1) <=
			    now - RECONCILE_GRACE;
		if (!stale)
			continue;
		snprintf(serial, sizeof(serial), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		v = get(s, S_VOID_ONE);
		sqlite3_bind_text(v, 1, serial, -1, SQLITE_STATIC);
		if (sqlite3_step(v) != SQLITE_DONE) {
			sqlite3_reset(v);
			sqlite3_reset(st);
			return sq_fail(s, "reconcile: void");
		}
		sqlite3_reset(v);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, "reconcile");
	return CS_OK;
}

static enum cs_err
sq_reconcile(struct csa_store *b, struct cs_ca_reconcile_stats *stats,
    int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	enum cs_err r;

	memset(stats, 0, sizeof(*stats));
	if ((r = begin(s)) != CS_OK)
		return r;
	if ((r = void_stale(s, now, &stats->pending_voided)) != CS_OK)
		goto fail;
	if ((stats->pending_voided > 0 &&
	        (r = event(s, now, "reconcile", NULL,
	             "pending reservations voided")) != CS_OK) ||
	    (r = count(s, S_COUNT_ISSUED, &stats->issued_undelivered)) !=
	        CS_OK ||
	    (r = count(s, S_DUPS, &stats->duplicates)) != CS_OK ||
	    (r = commit(s)) != CS_OK)
		goto fail;
	stats->integrity_ok = integrity_ok(s);
	return CS_OK;
fail:
	rollback(s);
	return r;
}

static void
sq_close(struct csa_store *b)
{
	struct sq_store *s = (struct sq_store *)b;
	size_t i;

	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

static const struct csa_store_ops sq_ops = {
	sq_reserve,
	sq_commit,
	sq_key_check,
	sq_abandon,
	sq_delivered,
	sq_revoke,
	sq_list,
	sq_get,
	sq_revoked,
	sq_crl_number,
	sq_reconcile,
	sq_close,
};

static enum cs_err
add_column(struct sq_store *s, const char *col, const char *alter)
{
	sqlite3_stmt *st = NULL;
	int have = -1;

	if (sqlite3_prepare_v2(s->db, migrate_check, -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (have < 0)
		return sq_fail(s, "schema check");
	if (have == 0 &&
	    sqlite3_exec(s->db, alter, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, alter);
	return CS_OK;
}

/* --- key hashes --- */

/*
 * One encoding per key: EC with the named curve and an uncompressed point
 * (a compressed or explicit-parameter SPKI of the same key would otherwise
 * hash differently), RSA-PSS as rsaEncryption with the same n and e.
 */
static EVP_PKEY *
canonical_key(EVP_PKEY *k)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *par = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *out = NULL;
	BIGNUM *n = NULL, *e = NULL;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_EC:
		if ((out = EVP_PKEY_dup(k)) == NULL)
			return NULL;
		(void)EVP_PKEY_set_utf8_string_param(out,
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed");
		(void)EVP_PKEY_set_utf8_string_param(out,
		    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_GROUP);
		return out;
	case EVP_PKEY_RSA_PSS:
		if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) &&
		    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) &&
		    (bld = OSSL_PARAM_BLD_new()) != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
		    (par = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
		    (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) !=
		        NULL &&
		    EVP_PKEY_fromdata_init(pc) == 1)
			(void)EVP_PKEY_fromdata(pc, &out, EVP_PKEY_PUBLIC_KEY,
			    par);
		EVP_PKEY_CTX_free(pc);
		OSSL_PARAM_free(par);
		OSSL_PARAM_BLD_free(bld);
		BN_free(n);
		BN_free(e);
		return out;
	default:
		return EVP_PKEY_up_ref(k) == 1 ? k : NULL;
	}
}

bool
csa_key_hash(EVP_PKEY *k, char hex[CSA_KEY_HASH_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0, i;
	EVP_PKEY *c = NULL;
	bool ok = false;
	int n;

	hex[0] = '\0';
	if (k == NULL || (c = canonical_key(k)) == NULL ||
	    (n = i2d_PUBKEY(c, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != (CSA_KEY_HASH_MAX - 1) / 2)
		goto out;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ok = true;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(c);
	ERR_clear_error();
	return ok;
}

#define BACKFILL_CHUNK 64

/*
 * Rows issued before key_sha256 existed (or by an older binary since)
 * get it from their stored DER, BACKFILL_CHUNK rows per round, never
 * updating the rows a statement is still scanning. A DER that does not
 * parse gets "" so it is not read again; it is reported.
 */
static enum cs_err
backfill_round(struct sq_store *s, sqlite3_stmt *sel, sqlite3_stmt *upd,
    size_t *n, size_t *bad)
{
	char serial[BACKFILL_CHUNK][CS_CA_SERIAL_MAX];
	char hex[BACKFILL_CHUNK][CSA_KEY_HASH_MAX];
	const unsigned char *p, *t;
	X509 *x;
	size_t i;
	int rc = SQLITE_DONE, len;

	*n = 0;
	sqlite3_reset(sel);
	while (*n < BACKFILL_CHUNK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		t = sqlite3_column_text(sel, 0);
		snprintf(serial[*n], CS_CA_SERIAL_MAX, "%s",
		    t != NULL ? (const char *)t : "");
		p = sqlite3_column_blob(sel, 1);
		len = sqlite3_column_bytes(sel, 1);
		x = p != NULL && len > 0 ? d2i_X509(NULL, &p, len) : NULL;
		if (x == NULL || !csa_key_hash(X509_get0_pubkey(x), hex[*n])) {
			hex[*n][0] = '\0';
			if ((*bad)++ < LIVE_LIST_MAX)
				cs_ctx_log(s->base.ctx, CS_LOG_ERR,
				    "warning: registry: certificate %s does not "
				    "parse; its key is not checked on "
				    "re-issuance",
				    serial[*n]);
		}
		X509_free(x);
		ERR_clear_error();
		(*n)++;
	}
	sqlite3_reset(sel);
	if (*n < BACKFILL_CHUNK && rc != SQLITE_DONE)
		return sq_fail(s, "backfill key hashes");
	for (i = 0; i < *n; i++) {
		sqlite3_reset(upd);
		sqlite3_bind_text(upd, 1, serial[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(upd, 2, hex[i], -1, SQLITE_STATIC);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			sqlite3_reset(upd);
			return sq_fail(s, "backfill key hashes");
		}
	}
	sqlite3_reset(upd);
	return CS_OK;
}

static enum cs_err
backfill_keys(struct sq_store *s)
{
	static const char q[] =
	    "SELECT serial, der FROM certs WHERE "
	    "key_sha256 IS NULL AND der IS NOT NULL LIMIT ?1";
	static const char u[] = "UPDATE certs SET key_sha256 = ?2 "
	                        "WHERE serial = ?1";
	sqlite3_stmt *sel = NULL, *upd = NULL;
	size_t n = BACKFILL_CHUNK, total = 0, bad = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(s->db, q, -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, u, -1, &upd, NULL) != SQLITE_OK) {
		r = sq_fail(s, "backfill key hashes");
		goto out;
	}
	sqlite3_bind_int(sel, 1, BACKFILL_CHUNK);
	/* Cheap when there is nothing to do: no write lock taken. */
	if (sqlite3_step(sel) != SQLITE_ROW) {
		r = CS_OK;
		goto out;
	}
	sqlite3_reset(sel);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		r = sq_fail(s, "backfill key hashes");
		goto out;
	}
	while (n == BACKFILL_CHUNK) {
		if ((r = backfill_round(s, sel, upd, &n, &bad)) != CS_OK)
			goto out;
		total += n;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		r = sq_fail(s, "backfill key hashes");
		goto out;
	}
	if (bad > LIVE_LIST_MAX)
		cs_ctx_log(s->base.ctx, CS_LOG_ERR,
		    "warning: registry: %zu more stored certificates do not "
		    "parse",
		    bad - LIVE_LIST_MAX);
	cs_ctx_log(s->base.ctx, CS_LOG_INFO,
	    "registry: key hashes of %zu certificates recorded", total);
	r = CS_OK;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	/* The prepared S_ROLLBACK does not exist yet while opening. */
	if (r != CS_OK && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static enum cs_err
migrate(struct sq_store *s)
{
	enum cs_err r;

	if ((r = add_column(s, "sublevel",
	         "ALTER TABLE certs ADD COLUMN sublevel TEXT")) != CS_OK ||
	    (r = add_column(s, "owner",
	         "ALTER TABLE certs ADD COLUMN owner TEXT")) != CS_OK ||
	    (r = add_column(s, "key_sha256",
	         "ALTER TABLE certs ADD COLUMN key_sha256 TEXT")) != CS_OK)
		return r;
	if (sqlite3_exec(s->db,
	        "CREATE INDEX IF NOT EXISTS certs_key ON certs(key_sha256)",
	        NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, "key index");
	if ((r = backfill_keys(s)) != CS_OK)
		return r;
	if (sqlite3_exec(s->db, "PRAGMA user_version = 4", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return sq_fail(s, "user_version");
	return CS_OK;
}

/*
 * Field 22 (starttime, clock ticks after boot) of a /proc/PID/stat file
 * into dst. 0, or the errno of the failure (EINVAL: unparsable).
 */
static int
proc_start(const char *path, char *dst, size_t cap)
{
	char buf[1024];
	const char *p;
	size_t n, field, len;
	FILE *f;

	dst[0] = '\0';
	if ((f = fopen(path, "re")) == NULL)
		return errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: skip to the last
	 * ')', after which field 3 starts. */
	if ((p = strrchr(buf, ')')) == NULL)
		return EINVAL;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return EINVAL;
	p++;
	len = strspn(p, "0123456789");
	if (len == 0 || len >= cap)
		return EINVAL;
	snprintf(dst, cap, "%.*s", (int)len, p);
	return 0;
}

/* This process as a reservation owner: "boot:pid:start", or "". */
static void
set_owner(struct sq_store *s)
{
	char start[32];
	size_t n = 0;
	FILE *f;

	s->boot[0] = s->owner[0] = '\0';
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) != NULL) {
		n = fread(s->boot, 1, sizeof(s->boot) - 1, f);
		fclose(f);
	}
	s->boot[n] = '\0';
	s->boot[strcspn(s->boot, ":\n")] = '\0';
	if (s->boot[0] == '\0' ||
	    proc_start("/proc/self/stat", start, sizeof(start)) != 0)
		return;
	snprintf(s->owner, sizeof(s->owner), "%s:%ld:%s", s->boot,
	    (long)getpid(), start);
}

/* How to recover a registry that is gone: it is never recreated. */
#define RESTORE_HINT                                                           \
	"restore it from your backup (a new registry would forget every "      \
	"revocation and restart the CRL number, so only 'ca init' creates "    \
	"one)"

/*
 * Before SQLite sees the file (it would create a missing one, and treat
 * an empty one as a new database): it must exist and hold something.
 */
static enum cs_err
registry_present(struct cs_ctx *ctx, const char *path)
{
	struct stat st;
	int fd, e;

	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if ((e = errno) == ENOENT)
			return cs_ctx_fail(ctx, CS_ERR_STORE,
			    "registry %s is missing: " RESTORE_HINT, path);
		return cs_ctx_fail(ctx, CS_ERR_STORE, "registry %s: %s", path,
		    strerror(e));
	}
	e = fstat(fd, &st) != 0 ? errno : 0;
	close(fd);
	if (e != 0)
		return cs_ctx_fail(ctx, CS_ERR_STORE, "registry %s: %s", path,
		    strerror(e));
	if (!S_ISREG(st.st_mode))
		return cs_ctx_fail(ctx, CS_ERR_STORE,
		    "registry %s is not a regular file", path);
	if (st.st_size == 0)
		return cs_ctx_fail(ctx, CS_ERR_STORE,
		    "registry %s is empty (0 bytes): " RESTORE_HINT, path);
	return CS_OK;
}

/* Every table since version 1 must be there (read only: no file made). */
static enum cs_err
registry_tables(struct sq_store *s, const char *path)
{
	static const char q[] = "SELECT count(*) FROM sqlite_master "
	                        "WHERE type = 'table' AND name = ?1";
	sqlite3_stmt *st = NULL;
	size_t i;
	enum cs_err r = CS_OK;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
		    "registry %s: %s: " RESTORE_HINT, path,
		    sqlite3_errmsg(s->db));
	for (i = 0; r == CS_OK && i < sizeof(tables) / sizeof(*tables); i++) {
		sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			r = cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
			    "registry %s: %s: " RESTORE_HINT, path,
			    sqlite3_errmsg(s->db));
		else if (sqlite3_column_int(st, 0) != 1)
			r = cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
			    "registry %s has no %s table: " RESTORE_HINT, path,
			    tables[i]);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

enum cs_err
csa_store_open_sqlite(struct cs_ctx *ctx, const char *path, bool create,
    struct csa_store **out)
{
	struct sq_store *s;
	char *err = NULL;
	size_t i;
	int fd;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (create) {
		/* 0600 first; SQLite gives -wal/-shm the same mode. */
		if ((fd = open(path,
		         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		         0600)) == -1)
			return cs_ctx_fail(ctx, CS_ERR_STORE, "%s: %s", path,
			    strerror(errno));
		close(fd);
	} else if ((r = registry_present(ctx, path)) != CS_OK)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "registry");
	s->base.ops = &sq_ops;
	s->base.ctx = ctx;
	/* Never SQLITE_OPEN_CREATE: a file gone since the check stays gone. */
	if (sqlite3_open_v2(path, &s->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
		r = cs_ctx_fail(ctx, CS_ERR_STORE, "%s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (!create && (r = registry_tables(s, path)) != CS_OK)
		goto fail;
	if (sqlite3_exec(s->db,
	        "PRAGMA journal_mode=WAL;"
	        "PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;",
	        NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, &err) != SQLITE_OK) {
		r = cs_ctx_fail(ctx, CS_ERR_STORE, "%s: %s", path,
		    err != NULL ? err : "schema");
		sqlite3_free(err);
		goto fail;
	}
	if ((r = migrate(s)) != CS_OK)
		goto fail;
	/* A new registry holds its schema in the main file, not the WAL. */
	if (create &&
	    sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
	        NULL) != SQLITE_OK) {
		r = sq_fail(s, "checkpoint");
		goto fail;
	}
	set_owner(s);
	for (i = 0; i < S__COUNT; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &s->st[i],
		        NULL) != SQLITE_OK) {
			r = sq_fail(s, sql[i]);
			goto fail;
		}
	*out = &s->base;
	return CS_OK;
fail:
	sq_close(&s->base);
	return r;
}

/* --- public registry calls --- */

static const char *const status_names[] = {
	"pending",
	"issued",
	"delivered",
	"revoked",
	"void",
};

const char *
cs_ca_status_name(enum cs_ca_status st)
{
	if ((unsigned int)st >= sizeof(status_names) / sizeof(*status_names))
		return "unknown";
	return status_names[st];
}

/* Upper-case hex, no leading zeros beyond what BN_bn2hex writes. */
static enum cs_err
norm_serial(struct cs_ctx *ctx, const char *in, char *dst, size_t cap)
{
	size_t i, n;

	if (in == NULL || (n = strlen(in)) == 0 || n >= cap)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "bad serial");
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return cs_ctx_fail(ctx, CS_ERR_ARG,
			    "serial '%.40s' is not hex", in);
		dst[i] = c;
	}
	dst[n] = '\0';
	return CS_OK;
}

enum cs_err
cs_ca_list(struct cs_ca *ca, const struct cs_ca_list_filter *f,
    cs_ca_list_fn *fn, void *arg)
{
	return ca->store->ops->list(ca->store, f, fn, arg);
}

enum cs_err
cs_ca_show(struct cs_ca *ca, const char *serial, struct cs_ca_cert_info *in,
    uint8_t **der, size_t *derlen)
{
	char s[CS_CA_SERIAL_MAX];
	enum cs_err r;

	memset(in, 0, sizeof(*in));
	if (der != NULL) {
		*der = NULL;
		*derlen = 0;
	}
	if ((r = norm_serial(ca->ctx, serial, s, sizeof(s))) != CS_OK)
		return r;
	return ca->store->ops->get(ca->store, s, in, der, derlen);
}

enum cs_err
cs_ca_mark_delivered(struct cs_ca *ca, const char *serial)
{
	char s[CS_CA_SERIAL_MAX];
	enum cs_err r;

	if ((r = norm_serial(ca->ctx, serial, s, sizeof(s))) != CS_OK)
		return r;
	return ca->store->ops->delivered(ca->store, s, (int64_t)time(NULL));
}

static const char *const reasons[] = {
	"unspecified",
	"keyCompromise",
	"cACompromise",
	"affiliationChanged",
	"superseded",
	"cessationOfOperation",
	"certificateHold",
	NULL,
	"removeFromCRL",
	"privilegeWithdrawn",
	"aACompromise",
};

static const char *
reason_name(int reason)
{
	if (reason < 0 ||
	    (size_t)reason >= sizeof(reasons) / sizeof(*reasons) ||
	    reasons[reason] == NULL)
		return "an unknown reason";
	return reasons[reason];
}

enum cs_err
cs_ca_reason_parse(const char *name, int *reason)
{
	size_t i;

	*reason = 0;
	if (name == NULL)
		return CS_ERR_ARG;
	for (i = 0; i < sizeof(reasons) / sizeof(*reasons); i++)
		if (reasons[i] != NULL && strcasecmp(name, reasons[i]) == 0 &&
		    i != 8) {
			*reason = (int)i;
			return CS_OK;
		}
	return CS_ERR_ARG;
}

enum cs_err
cs_ca_revoke(struct cs_ca *ca, const char *serial, uint64_t card_serial,
    int reason, int64_t at, size_t *n)
{
	char s[CS_CA_SERIAL_MAX];
	enum cs_err r;

	*n = 0;
	if (reason < 0 || reason > 10 || reason == 7 || reason == 8)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "bad revocation reason %d",
		    reason);
	if (serial == NULL && card_serial == 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "revoke: serial or card serial needed");
	if (serial != NULL &&
	    (r = norm_serial(ca->ctx, serial, s, sizeof(s))) != CS_OK)
		return r;
	if ((r = ca->store->ops->revoke(ca->store, serial != NULL ? s : NULL,
	         card_serial, reason, at != 0 ? at : (int64_t)time(NULL), n)) !=
	    CS_OK)
		return r;
	if (*n == 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    serial != NULL
		        ? "serial %s: no issued certificate to revoke"
		        : "card %s: no issued certificate to revoke",
		    serial != NULL ? s : "given");
	return CS_OK;
}

enum cs_err
cs_ca_reconcile(struct cs_ca *ca, struct cs_ca_reconcile_stats *stats)
{
	return ca->store->ops->reconcile(ca->store, stats, (int64_t)time(NULL));
}
