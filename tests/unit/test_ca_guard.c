/*
 * Unit tests for the CA's guards (issue 12):
 * - the registry is never silently recreated (missing, empty, no tables).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "test_ca_util.h"

#include "banned.h"

#define REASON_KEY_COMPROMISE 1
#define REASON_SUPERSEDED 4

static struct tca t;
static struct cs_ca_profile *sw;
static char logged[16384]; /* log lines of t.ctx, "\n" separated */

static void
log_cb(void *arg, enum cs_log_level level, const char *line)
{
	size_t n = strlen(logged);

	(void)arg;
	(void)level;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

static int
setup_common(bool mint)
{
	logged[0] = '\0';
	if (tca_setup(&t, mint, 0) != 0)
		return -1;
	cs_ctx_set_log(t.ctx, CS_LOG_ERR, log_cb, NULL);
	return (sw = tca_profile(&t, "software")) != NULL ? 0 : -1;
}

static int
setup(void **state)
{
	(void)state;
	return setup_common(false);
}

static int
teardown(void **state)
{
	(void)state;
	cs_ca_profile_free(sw);
	sw = NULL;
	tca_teardown(&t);
	return 0;
}

/* Start over with a new CA (for a second scenario in one test). */
static void
fresh_ca(void)
{
	(void)teardown(NULL);
	assert_int_equal(setup_common(false), 0);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* Issue csr under p with flags; serial (may be NULL) gets the serial. */
static enum cs_err
issue(struct cs_ca *ca, const struct cs_ca_profile *p, const char *csr,
    size_t len, unsigned int flags, char *serial)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	enum cs_err r;

	tca_req_init(&req, p, csr, len);
	req.flags = flags;
	r = cs_ca_issue(ca, &req, &res);
	if (serial != NULL)
		snprintf(serial, CS_CA_SERIAL_MAX, "%s", res.serial);
	if (r == CS_OK && (flags & CS_CA_ISSUE_DRYRUN) == 0)
		assert_non_null(res.der);
	if (r != CS_OK)
		assert_null(res.der);
	cs_ca_issue_res_release(&res);
	return r;
}

static bool
msg_has(const char *needle)
{
	return strstr(cs_ctx_errmsg(t.ctx), needle) != NULL;
}

static int
count_cb(void *arg, const struct cs_ca_cert_info *in)
{
	(void)in;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
registry_rows(struct cs_ca *ca)
{
	size_t n = 0;

	assert_int_equal(cs_ca_list(ca, NULL, count_cb, &n), CS_OK);
	return n;
}

static sqlite3 *
db_open(void)
{
	char p[1024];
	sqlite3 *db = NULL;

	tca_path(p, sizeof(p), t.dir, "registry.db");
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err != NULL ? err : "?");
}

static void
ca_reopen(struct cs_ca **ca)
{
	*ca = NULL;
	if (cs_ca_open(t.ctx, t.dir, ca) != CS_OK)
		fail_msg("open: %s", cs_ctx_errmsg(t.ctx));
}

static void
file_in(char *dst, size_t cap, const char *name)
{
	tca_path(dst, cap, t.dir, name);
}

static bool
exists(const char *name)
{
	char p[1024];
	struct stat st;

	file_in(p, sizeof(p), name);
	return stat(p, &st) == 0;
}

/* --- 1. the registry is never recreated --- */

static void
remove_registry(void)
{
	static const char *const names[] = {
		"registry.db",
		"registry.db-wal",
		"registry.db-shm",
	};
	char p[1024];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		file_in(p, sizeof(p), names[i]);
		(void)unlink(p);
	}
}

static void
test_ca_guard_registry_missing(void **state)
{
	struct cs_ca *ca = NULL;
	char p[1024], *csr;
	size_t len;

	(void)state;
	/* A deleted WAL (and -shm) is fine: the main file holds the data. */
	csr = tca_software_csr("Heidi", false, NULL, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, NULL), CS_OK);
	free(csr);
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "registry.db-wal");
	(void)unlink(p);
	file_in(p, sizeof(p), "registry.db-shm");
	(void)unlink(p);
	ca_reopen(&ca);
	assert_int_equal(registry_rows(ca), 1);
	cs_ca_close(ca);
	ca = NULL;
	/* The registry itself is not. */
	remove_registry();
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_null(ca);
	file_in(p, sizeof(p), "registry.db");
	assert_true(msg_has(p));
	assert_true(msg_has("missing"));
	assert_true(msg_has("backup"));
	/* Nothing was created in its place. */
	assert_false(exists("registry.db"));
	assert_false(exists("registry.db-wal"));
	assert_false(exists("registry.db-shm"));
}

static void
test_ca_guard_registry_empty(void **state)
{
	struct cs_ca *ca = NULL;
	char p[1024];
	struct stat st;
	sqlite3 *db;

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "registry.db");
	assert_int_equal(truncate(p, 0), 0);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_null(ca);
	assert_true(msg_has(p));
	assert_true(msg_has("empty"));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_false(exists("registry.db-wal"));

	/* Replaced by an empty file while its WAL is still there. */
	fresh_ca();
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "registry.db");
	db = db_open();
	db_exec(db,
	    "PRAGMA wal_autocheckpoint = 0; "
	    "INSERT INTO crl(signer, number) VALUES(0, 41)");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	assert_true(exists("registry.db-wal"));
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("empty"));
	sqlite3_close(db);
}

static void
test_ca_guard_registry_no_tables(void **state)
{
	struct cs_ca *ca = NULL;
	char p[1024];
	sqlite3 *db = NULL;

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	/* A database, but not a registry. */
	remove_registry();
	file_in(p, sizeof(p), "registry.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	db_exec(db, "CREATE TABLE notes(x)");
	sqlite3_close(db);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("no certs table"));
	assert_false(exists("registry.db-wal"));
	/* A registry that lost one table (the CRL numbers). */
	fresh_ca();
	cs_ca_close(t.ca);
	t.ca = NULL;
	db = db_open();
	db_exec(db, "DROP TABLE crl");
	sqlite3_close(db);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("no crl table"));
	/* Not a database at all. */
	file_in(p, sizeof(p), "registry.db");
	remove_registry();
	write_text(p, "not sqlite\n");
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("backup"));
	assert_null(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_guard_registry_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_registry_empty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_guard_registry_no_tables, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
