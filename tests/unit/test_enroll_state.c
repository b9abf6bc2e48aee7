/*
 * Unit tests for ca/store_enroll.c: the enrollment record of a card and
 * its slot rows (one current record per card, every write committed), the
 * certificate lookup by key that keeps enroll from issuing twice, and a
 * registry from before enrollment (no enrollment tables) still opening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "cardsmith/enroll.h"

#include "test_ca_util.h"

#include "banned.h"

static struct tca t;
static struct cs_ca_profile *sw;

static int
setup(void **state)
{
	(void)state;
	if (tca_setup(&t, false, 0) != 0)
		return -1;
	return (sw = tca_profile(&t, "software")) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cs_ca_profile_free(sw);
	tca_teardown(&t);
	return 0;
}

static void
three_slots(struct cs_profileset *set)
{
	static const uint8_t slots[] = { 0x9A, 0x9C, 0x9D };
	static const char *const profiles[] = { "piv-auth", "piv-sign",
		"piv-keymgmt" };
	size_t i;

	memset(set, 0, sizeof(*set));
	snprintf(set->name, sizeof(set->name), "default");
	set->nslots = 3;
	for (i = 0; i < 3; i++) {
		set->slots[i].slot = slots[i];
		snprintf(set->slots[i].profile, sizeof(set->slots[i].profile),
		    "%s", profiles[i]);
	}
}

static void
test_enroll_state_record_and_slots(void **state)
{
	struct cs_profileset set;
	struct cs_enroll_record rec;
	struct cs_enroll_slot_record slots[4];
	size_t n = 9;
	int64_t id = 0, id2 = 0;

	(void)state;
	three_slots(&set);
	assert_int_equal(cs_enroll_state_get(t.ca, 1001, &rec, slots, 4, &n),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(n, 0);
	assert_int_equal(cs_enroll_state_begin(t.ca, 1001, &set, "CN=A", &id),
	    CS_OK);
	assert_true(id > 0);
	/* One current record per card. */
	assert_int_equal(cs_enroll_state_begin(t.ca, 1001, &set, "CN=A", &id2),
	    CS_ERR_POLICY);
	assert_int_equal(id2, 0);
	assert_int_equal(cs_enroll_state_get(t.ca, 1001, &rec, slots, 4, &n),
	    CS_OK);
	assert_int_equal(rec.id, id);
	assert_int_equal(rec.state, CS_ENROLL_ST_STARTED);
	assert_string_equal(rec.profile_set, "default");
	assert_string_equal(rec.subject, "CN=A");
	assert_int_equal(n, 3);
	assert_int_equal(slots[1].slot, 0x9C);
	assert_string_equal(slots[1].profile, "piv-sign");
	assert_int_equal(slots[1].state, CS_ENROLL_SLOT_NONE);
	assert_string_equal(slots[1].key_sha256, "");

	assert_int_equal(cs_enroll_state_set(t.ca, id, CS_ENROLL_ST_PIN), CS_OK);
	assert_int_equal(cs_enroll_slot_set(t.ca, id, 0x9C,
	                     CS_ENROLL_SLOT_GENERATED, "ab12", NULL),
	    CS_OK);
	assert_int_equal(cs_enroll_slot_set(t.ca, id, 0x9C,
	                     CS_ENROLL_SLOT_ISSUED, NULL, "0F"),
	    CS_OK);
	assert_int_equal(cs_enroll_state_get(t.ca, 1001, &rec, slots, 4, &n),
	    CS_OK);
	assert_int_equal(rec.state, CS_ENROLL_ST_PIN);
	assert_int_equal(slots[1].state, CS_ENROLL_SLOT_ISSUED);
	/* NULL keeps what was recorded. */
	assert_string_equal(slots[1].key_sha256, "ab12");
	assert_string_equal(slots[1].cert_serial, "0F");
	assert_int_equal(slots[0].state, CS_ENROLL_SLOT_NONE);

	/* Rows that do not exist are not silently "updated". */
	assert_int_equal(cs_enroll_slot_set(t.ca, id, 0x9E,
	                     CS_ENROLL_SLOT_DONE, NULL, NULL),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_enroll_state_set(t.ca, id + 100, CS_ENROLL_ST_DONE),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_enroll_state_set(t.ca, id, CS_ENROLL_ST_COUNT),
	    CS_ERR_ARG);

	/* Superseded: the card starts afresh with a new record. */
	assert_int_equal(cs_enroll_state_supersede(t.ca, 1001), CS_OK);
	assert_int_equal(cs_enroll_state_get(t.ca, 1001, &rec, slots, 4, &n),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_enroll_state_supersede(t.ca, 1001),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_enroll_state_begin(t.ca, 1001, &set, "CN=B", &id2),
	    CS_OK);
	assert_true(id2 != id);
	assert_int_equal(cs_enroll_state_get(t.ca, 1001, &rec, slots, 4, &n),
	    CS_OK);
	assert_string_equal(rec.subject, "CN=B");
	assert_int_equal(slots[1].state, CS_ENROLL_SLOT_NONE);
	/* Another card is another record. */
	assert_int_equal(cs_enroll_state_get(t.ca, 1002, &rec, slots, 4, &n),
	    CS_ERR_NOT_FOUND);
}

static void
test_enroll_state_names(void **state)
{
	(void)state;
	assert_string_equal(cs_enroll_state_name(CS_ENROLL_ST_MGM), "mgm");
	assert_string_equal(cs_enroll_state_name(CS_ENROLL_ST_COUNT),
	    "unknown");
	assert_string_equal(cs_enroll_slot_state_name(CS_ENROLL_SLOT_ISSUED),
	    "issued");
	assert_string_equal(cs_enroll_slot_state_name(CS_ENROLL_SLOT_COUNT),
	    "unknown");
}

/* The DER SPKI of k. */
static uint8_t *
spki_of(EVP_PKEY *k, size_t *len)
{
	uint8_t *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

static void
test_enroll_state_find_cert_by_key(void **state)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	EVP_PKEY *k = NULL, *other = NULL;
	char hex[65], hex2[65], serial[CS_CA_SERIAL_MAX];
	uint8_t *der, *der2;
	size_t len, dlen, dlen2;
	char *csr;
	size_t count = 0;

	(void)state;
	csr = tca_software_csr("Key Lookup", false, &k, &len);
	der = spki_of(k, &dlen);
	assert_int_equal(cs_enroll_key_hash(t.ctx, der, dlen, hex), CS_OK);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(cs_enroll_find_cert(t.ca, hex, serial, sizeof(serial)),
	    CS_ERR_NOT_FOUND);
	assert_string_equal(serial, "");
	tca_req_init(&req, sw, csr, len);
	assert_int_equal(cs_ca_issue(t.ca, &req, &res), CS_OK);
	assert_int_equal(cs_enroll_find_cert(t.ca, hex, serial, sizeof(serial)),
	    CS_OK);
	assert_string_equal(serial, res.serial);
	/* Another key finds nothing. */
	free(tca_software_csr("Other", false, &other, &len));
	der2 = spki_of(other, &dlen2);
	assert_int_equal(cs_enroll_key_hash(t.ctx, der2, dlen2, hex2), CS_OK);
	assert_string_not_equal(hex, hex2);
	assert_int_equal(cs_enroll_find_cert(t.ca, hex2, serial,
	                     sizeof(serial)),
	    CS_ERR_NOT_FOUND);
	/* A revoked certificate is not one to hand out again. */
	assert_int_equal(cs_ca_revoke(t.ca, res.serial, 0, 4, 0, &count),
	    CS_OK);
	assert_int_equal(cs_enroll_find_cert(t.ca, hex, serial, sizeof(serial)),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_enroll_key_hash(t.ctx, (const uint8_t *)"xx", 2,
	                     hex),
	    CS_ERR_MALFORMED);
	cs_ca_issue_res_release(&res);
	OPENSSL_free(der);
	OPENSSL_free(der2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	free(csr);
}

/* A registry from before enrollment opens and gains the tables. */
static void
test_enroll_state_old_registry_opens(void **state)
{
	struct cs_profileset set;
	struct cs_enroll_record rec;
	char p[1024];
	sqlite3 *db = NULL;
	size_t n;
	int64_t id;
	int v = -1;
	sqlite3_stmt *st;

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	tca_path(p, sizeof(p), t.dir, "registry.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "DROP TABLE enroll_slots; DROP TABLE enrollments",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &t.ca), CS_OK);
	assert_int_equal(cs_ca_unlock(t.ca, TCA_PASS, strlen(TCA_PASS)), CS_OK);
	three_slots(&set);
	assert_int_equal(cs_enroll_state_get(t.ca, 77, &rec, NULL, 0, &n),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_enroll_state_begin(t.ca, 77, &set, "CN=C", &id),
	    CS_OK);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT count(*) FROM sqlite_master WHERE "
	                     "type = 'table' AND name IN ('enrollments', "
	                     "'enroll_slots')",
	                     -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(v, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enroll_state_record_and_slots),
		cmocka_unit_test(test_enroll_state_names),
		cmocka_unit_test(test_enroll_state_find_cert_by_key),
		cmocka_unit_test(test_enroll_state_old_registry_opens),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
