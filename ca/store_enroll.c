/*
 * Registry, SQLite backend: enrollment state (tables enrollments and
 * enroll_slots, store_open.c has the schema) and the lookup of a
 * certificate by its key, for cardsmith enroll's resume. Every write is
 * its own committed BEGIN IMMEDIATE transaction, because the caller
 * records a step before the card changes: once the call returns, a crash
 * cannot lose it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cardsmith/enroll.h"
#include "cardsmith/x509_ossl.h"

#include "store_int.h"

#include "banned.h"

static const char *const state_names[CS_ENROLL_ST_COUNT] = {
	"none",
	"started",
	"resetting",
	"retries",
	"pin",
	"puk",
	"mgm",
	"slots",
	"done",
	"superseded",
};

static const char *const slot_names[CS_ENROLL_SLOT_COUNT] = {
	"none",
	"generating",
	"generated",
	"issued",
	"importing",
	"done",
};

const char *
cs_enroll_state_name(enum cs_enroll_state st)
{
	if ((unsigned int)st >= CS_ENROLL_ST_COUNT)
		return "unknown";
	return state_names[st];
}

const char *
cs_enroll_slot_state_name(enum cs_enroll_slot_state st)
{
	if ((unsigned int)st >= CS_ENROLL_SLOT_COUNT)
		return "unknown";
	return slot_names[st];
}

/* A name the registry holds back to its value; -1 if unknown. */
static int
name_value(const char *const *names, int n, const unsigned char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], (const char *)s) == 0)
			return i;
	return -1;
}

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

static enum cs_err
get_slots(struct sq_store *s, int64_t id, struct cs_enroll_slot_record *slots,
    size_t max, size_t *n)
{
	static const char q[] =
	    "SELECT slot, state, profile, key_sha256, cert_serial FROM "
	    "enroll_slots WHERE enrollment = ?1 ORDER BY rowid";
	struct cs_enroll_slot_record *e;
	sqlite3_stmt *st = NULL;
	int rc, v;
	enum cs_err r = CS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment slots");
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		e = &slots[(*n)++];
		memset(e, 0, sizeof(*e));
		e->slot = (uint8_t)sqlite3_column_int(st, 0);
		v = name_value(slot_names, CS_ENROLL_SLOT_COUNT,
		    sqlite3_column_text(st, 1));
		if (v < 0) {
			r = cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
			    "registry: enrollment %lld slot %02x: unknown "
			    "state",
			    (long long)id, (unsigned int)e->slot);
			goto out;
		}
		e->state = (enum cs_enroll_slot_state)v;
		csa_sq_col_text(st, 2, e->profile, sizeof(e->profile));
		csa_sq_col_text(st, 3, e->key_sha256, sizeof(e->key_sha256));
		csa_sq_col_text(st, 4, e->cert_serial, sizeof(e->cert_serial));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = csa_sq_fail(s, "enrollment slots");
		goto out;
	}
	r = CS_OK;
out:
	sqlite3_finalize(st);
	return r;
}

enum cs_err
cs_enroll_state_get(struct cs_ca *ca, uint64_t card_serial,
    struct cs_enroll_record *rec, struct cs_enroll_slot_record *slots,
    size_t max, size_t *nslots)
{
	static const char q[] =
	    "SELECT id, profile_set, subject, state, created, updated FROM "
	    "enrollments WHERE card_serial = ?1 AND current = 1";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	int rc, v;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(rec, 0, sizeof(*rec));
	*nslots = 0;
	if ((s = csa_sq_of(ca, "enrollment state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)card_serial);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "registry: no enrollment of card %llu",
		    (unsigned long long)card_serial);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = csa_sq_fail(s, "enrollment");
		goto out;
	}
	rec->id = sqlite3_column_int64(st, 0);
	rec->card_serial = card_serial;
	csa_sq_col_text(st, 1, rec->profile_set, sizeof(rec->profile_set));
	csa_sq_col_text(st, 2, rec->subject, sizeof(rec->subject));
	v = name_value(state_names, CS_ENROLL_ST_COUNT,
	    sqlite3_column_text(st, 3));
	if (v < 0) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_STORE,
		    "registry: enrollment %lld: unknown state",
		    (long long)rec->id);
		goto out;
	}
	rec->state = (enum cs_enroll_state)v;
	rec->created = sqlite3_column_int64(st, 4);
	rec->updated = sqlite3_column_int64(st, 5);
	r = get_slots(s, rec->id, slots, slots != NULL ? max : 0, nslots);
out:
	sqlite3_finalize(st);
	return r;
}

/* Run one bound statement that writes; *changes: rows it changed. */
static enum cs_err
step_write(struct sq_store *s, sqlite3_stmt *st, const char *what,
    int *changes)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return csa_sq_fail(s, what);
	if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	return CS_OK;
}

static enum cs_err
insert_slots(struct sq_store *s, int64_t id, const struct cs_profileset *set,
    int64_t t)
{
	static const char q[] =
	    "INSERT INTO enroll_slots(enrollment, slot, profile, state, "
	    "updated) VALUES(?1, ?2, ?3, 'none', ?4)";
	sqlite3_stmt *st = NULL;
	size_t i;
	enum cs_err r = CS_OK;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment slots");
	for (i = 0; r == CS_OK && i < set->nslots; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, set->slots[i].slot);
		sqlite3_bind_text(st, 3, set->slots[i].profile, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, t);
		r = step_write(s, st, "enrollment slots", NULL);
	}
	sqlite3_finalize(st);
	return r;
}

enum cs_err
cs_enroll_state_begin(struct cs_ca *ca, uint64_t card_serial,
    const struct cs_profileset *set, const char *subject, int64_t *id)
{
	static const char q[] =
	    "INSERT INTO enrollments(card_serial, profile_set, subject, "
	    "state, current, created, updated) "
	    "VALUES(?1, ?2, ?3, 'started', 1, ?4, ?4)";
	static const char have[] = "SELECT id FROM enrollments WHERE "
	                           "card_serial = ?1 AND current = 1";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	int64_t t = now(), nid;
	char detail[160];
	enum cs_err r = CS_ERR_INTERNAL;

	if (id != NULL)
		*id = 0;
	if ((s = csa_sq_of(ca, "enrollment state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	if (sqlite3_prepare_v2(s->db, have, -1, &st, NULL) != SQLITE_OK) {
		r = csa_sq_fail(s, "enrollment");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)card_serial);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
		    "registry: card %llu has an enrollment already (record "
		    "%lld)",
		    (unsigned long long)card_serial,
		    (long long)sqlite3_column_int64(st, 0));
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK) {
		r = csa_sq_fail(s, "enrollment");
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)card_serial);
	sqlite3_bind_text(st, 2, set->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, subject != NULL ? subject : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t);
	if ((r = step_write(s, st, "enrollment", NULL)) != CS_OK)
		goto out;
	nid = sqlite3_last_insert_rowid(s->db);
	snprintf(detail, sizeof(detail), "card %llu, profile set %s",
	    (unsigned long long)card_serial, set->name);
	if ((r = insert_slots(s, nid, set, t)) != CS_OK ||
	    (r = csa_sq_event(s, t, "enroll-begin", NULL, detail)) != CS_OK ||
	    (r = csa_sq_commit(s)) != CS_OK)
		goto out;
	if (id != NULL)
		*id = nid;
out:
	sqlite3_finalize(st);
	if (r != CS_OK)
		csa_sq_rollback(s);
	return r;
}

/* One UPDATE in its own transaction; CS_ERR_NOT_FOUND if no row. */
static enum cs_err
update1(struct cs_ca *ca, sqlite3_stmt *st, struct sq_store *s,
    const char *what)
{
	int changes = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	if ((r = step_write(s, st, what, &changes)) != CS_OK)
		goto out;
	if (changes == 0) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "registry: no such %s", what);
		goto out;
	}
	r = csa_sq_commit(s);
out:
	if (r != CS_OK)
		csa_sq_rollback(s);
	return r;
}

enum cs_err
cs_enroll_state_set(struct cs_ca *ca, int64_t id, enum cs_enroll_state st_)
{
	static const char q[] = "UPDATE enrollments SET state = ?2, "
	                        "updated = ?3 WHERE id = ?1";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((unsigned int)st_ >= CS_ENROLL_ST_COUNT || st_ == CS_ENROLL_ST_NONE)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "bad enrollment state");
	if ((s = csa_sq_of(ca, "enrollment state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state_names[st_], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now());
	r = update1(ca, st, s, "enrollment");
	sqlite3_finalize(st);
	return r;
}

enum cs_err
cs_enroll_slot_set(struct cs_ca *ca, int64_t id, uint8_t slot,
    enum cs_enroll_slot_state st_, const char *key_sha256,
    const char *cert_serial)
{
	static const char q[] =
	    "UPDATE enroll_slots SET state = ?3, updated = ?4, "
	    "key_sha256 = coalesce(?5, key_sha256), "
	    "cert_serial = coalesce(?6, cert_serial) "
	    "WHERE enrollment = ?1 AND slot = ?2";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((unsigned int)st_ >= CS_ENROLL_SLOT_COUNT)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "bad slot state");
	if ((s = csa_sq_of(ca, "enrollment state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment slot");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, slot);
	sqlite3_bind_text(st, 3, slot_names[st_], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now());
	if (key_sha256 != NULL)
		sqlite3_bind_text(st, 5, key_sha256, -1, SQLITE_STATIC);
	if (cert_serial != NULL)
		sqlite3_bind_text(st, 6, cert_serial, -1, SQLITE_STATIC);
	r = update1(ca, st, s, "enrollment slot");
	sqlite3_finalize(st);
	return r;
}

enum cs_err
cs_enroll_state_supersede(struct cs_ca *ca, uint64_t card_serial)
{
	static const char q[] =
	    "UPDATE enrollments SET current = 0, state = 'superseded', "
	    "updated = ?2 WHERE card_serial = ?1 AND current = 1";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((s = csa_sq_of(ca, "enrollment state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)card_serial);
	sqlite3_bind_int64(st, 2, now());
	r = update1(ca, st, s, "enrollment");
	sqlite3_finalize(st);
	return r;
}

enum cs_err
cs_enroll_find_cert(struct cs_ca *ca, const char *key_sha256, char *serial,
    size_t cap)
{
	/* Issued (1) or delivered (2): a certificate that is still good. */
	static const char q[] =
	    "SELECT serial FROM certs WHERE key_sha256 = ?1 AND "
	    "status IN (1, 2) ORDER BY created DESC, serial LIMIT 1";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	int rc;
	enum cs_err r = CS_ERR_INTERNAL;

	if (cap > 0)
		serial[0] = '\0';
	if ((s = csa_sq_of(ca, "enrollment state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (key_sha256 == NULL || key_sha256[0] == '\0')
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "no key hash");
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "certificate by key");
	sqlite3_bind_text(st, 1, key_sha256, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		csa_sq_col_text(st, 0, serial, cap);
		r = CS_OK;
	} else if (rc == SQLITE_DONE)
		r = cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "registry: no certificate for this key");
	else
		r = csa_sq_fail(s, "certificate by key");
	sqlite3_finalize(st);
	return r;
}

enum cs_err
cs_enroll_key_hash(struct cs_ctx *ctx, const uint8_t *spki, size_t len,
    char hex[65])
{
	EVP_PKEY *k = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	hex[0] = '\0';
	if ((r = cs_x509_pubkey_decode(ctx, spki, len, 0, &k)) != CS_OK)
		return r;
	if (!csa_key_hash(k, hex))
		r = cs_ctx_fail_crypto(ctx, CS_ERR_MALFORMED,
		    "public key: cannot be encoded");
	else
		r = CS_OK;
	EVP_PKEY_free(k);
	ERR_clear_error();
	return r;
}
