/*
 * Unit tests for ca/store_batch.c: binding roster rows to cards (a card's
 * own row first, then a row naming its serial, then the next pending one;
 * never a card of another roster or one enrolled outside a batch), the
 * outcome, the counts and the roster digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/batch.h"

#include "test_ca_util.h"

#include "banned.h"

static struct tca t;

static int
setup(void **state)
{
	(void)state;
	return tca_setup(&t, false, 0);
}

static int
teardown(void **state)
{
	(void)state;
	tca_teardown(&t);
	return 0;
}

static void
add(const char *roster, const char *id, int64_t seq, long want)
{
	struct cs_batch_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.roster, sizeof(r.roster), "%s", roster);
	snprintf(r.id, sizeof(r.id), "%s", id);
	r.seq = seq;
	snprintf(r.subject, sizeof(r.subject), "CN=%s", id);
	snprintf(r.email, sizeof(r.email), "%s@example.org", id);
	snprintf(r.profile_set, sizeof(r.profile_set), "default");
	r.has_want = want >= 0;
	r.want_serial = want >= 0 ? (uint32_t)want : 0;
	assert_int_equal(cs_batch_add(t.ca, &r), CS_OK);
}

static void
test_batch_bind_order_and_resume(void **state)
{
	struct cs_batch_row r;
	enum cs_batch_how how;
	size_t c[CS_BATCH_STATE_COUNT];

	(void)state;
	add("A", "a1", 2, -1);
	add("A", "a2", 3, 500);
	add("A", "a3", 4, -1);
	add("A", "a1", 9, -1); /* known: ignored */
	assert_int_equal(cs_batch_counts(t.ca, "A", c), CS_OK);
	assert_int_equal(c[CS_BATCH_PENDING], 3);

	/* A new card takes the first row naming no card. */
	assert_int_equal(cs_batch_bind(t.ca, "A", 100, &r, &how), CS_OK);
	assert_string_equal(r.id, "a1");
	assert_int_equal(how, CS_BATCH_NEW);
	assert_true(r.bound);
	/* The card a row names gets that row, not the next one. */
	assert_int_equal(cs_batch_bind(t.ca, "A", 500, &r, &how), CS_OK);
	assert_string_equal(r.id, "a2");
	/* The same card again: its own row, to resume. */
	assert_int_equal(cs_batch_bind(t.ca, "A", 100, &r, &how), CS_OK);
	assert_string_equal(r.id, "a1");
	assert_int_equal(how, CS_BATCH_RESUME);
	assert_int_equal(cs_batch_finish(t.ca, "A", "a1", CS_BATCH_DONE,
	                     "01,02", NULL),
	    CS_OK);
	assert_int_equal(cs_batch_bind(t.ca, "A", 100, &r, &how), CS_OK);
	assert_int_equal(how, CS_BATCH_ALREADY);
	assert_string_equal(r.certs, "01,02");
	/* A card of roster A is not used for roster B. */
	add("B", "b1", 2, -1);
	assert_int_equal(cs_batch_bind(t.ca, "B", 100, &r, &how),
	    CS_ERR_POLICY);
	assert_int_equal(cs_batch_get(t.ca, "B", "b1", &r), CS_OK);
	assert_false(r.bound);
	assert_int_equal(r.state, CS_BATCH_PENDING);
	/* Rows run out. */
	assert_int_equal(cs_batch_bind(t.ca, "A", 101, &r, &how), CS_OK);
	assert_string_equal(r.id, "a3");
	assert_int_equal(cs_batch_bind(t.ca, "A", 102, &r, &how),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_batch_counts(t.ca, "A", c), CS_OK);
	assert_int_equal(c[CS_BATCH_DONE], 1);
	assert_int_equal(c[CS_BATCH_BOUND], 2);
	assert_int_equal(c[CS_BATCH_PENDING], 0);
	assert_int_equal(cs_batch_finish(t.ca, "A", "nope", CS_BATCH_DONE,
	                     NULL, NULL),
	    CS_ERR_NOT_FOUND);
}

static void
test_batch_refuses_card_enrolled_elsewhere(void **state)
{
	struct cs_profileset set;
	struct cs_batch_row r;
	enum cs_batch_how how;

	(void)state;
	memset(&set, 0, sizeof(set));
	snprintf(set.name, sizeof(set.name), "default");
	set.nslots = 1;
	set.slots[0].slot = 0x9A;
	snprintf(set.slots[0].profile, sizeof(set.slots[0].profile),
	    "piv-auth");
	assert_int_equal(cs_enroll_state_begin(t.ca, 900, &set, "CN=X", NULL),
	    CS_OK);
	add("C", "c1", 2, -1);
	assert_int_equal(cs_batch_bind(t.ca, "C", 900, &r, &how),
	    CS_ERR_POLICY);
	assert_int_equal(cs_batch_get(t.ca, "C", "c1", &r), CS_OK);
	assert_false(r.bound);
}

static void
test_batch_digest_and_names(void **state)
{
	char path[] = "/tmp/cs-batch-digest.XXXXXX";
	char hex[CS_BATCH_DIGEST_HEX];
	FILE *f;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("abc", f);
	fclose(f);
	assert_int_equal(cs_batch_roster_digest(NULL, path, hex), CS_OK);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	remove(path);
	assert_int_equal(cs_batch_roster_digest(NULL, path, hex),
	    CS_ERR_NOT_FOUND);
	assert_string_equal(cs_batch_state_name(CS_BATCH_FAILED), "failed");
	assert_string_equal(cs_batch_state_name((enum cs_batch_state)9),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_bind_order_and_resume),
		cmocka_unit_test(test_batch_refuses_card_enrolled_elsewhere),
		cmocka_unit_test(test_batch_digest_and_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
