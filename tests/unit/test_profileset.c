/*
 * Unit tests for ca/profileset.c: the shipped sets say what their comments
 * promise, and every kind of bad set is refused naming the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/enroll.h"
#include "cardsmith/piv.h"

#include "banned.h"

static struct cs_ctx *ctx;

static int
setup(void **state)
{
	(void)state;
	return cs_ctx_new(&ctx) == CS_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cs_ctx_free(ctx);
	return 0;
}

static enum cs_err
load_shipped(const char *name, struct cs_profileset *set)
{
	const char *src = getenv("CS_SRC");
	char path[1024];
	enum cs_err r;

	snprintf(path, sizeof(path), "%s/profiles/sets/%s.cnf",
	    src != NULL ? src : ".", name);
	r = cs_profileset_load(ctx, path, NULL, set);
	if (r != CS_OK)
		fprintf(stderr, "# %s: %s\n", name, cs_ctx_errmsg(ctx));
	return r;
}

static enum cs_err
parse(const char *text, struct cs_profileset *set)
{
	return cs_profileset_parse(ctx, "t", (const uint8_t *)text,
	    strlen(text), set);
}

static void
expect_bad(const char *text, const char *msg)
{
	struct cs_profileset set;

	assert_int_equal(parse(text, &set), CS_ERR_MALFORMED);
	if (strstr(cs_ctx_errmsg(ctx), msg) == NULL)
		fail_msg("message '%s' lacks '%s'", cs_ctx_errmsg(ctx), msg);
	assert_int_equal(set.nslots, 0);
}

static void
check_slot(const struct cs_profileset_slot *s, uint8_t slot,
    const char *profile, uint8_t pin)
{
	assert_int_equal(s->slot, slot);
	assert_string_equal(s->profile, profile);
	assert_int_equal(s->alg, CS_PIV_ALG_P256);
	assert_int_equal(s->pin_policy, pin);
	assert_int_equal(s->touch_policy, CS_PIV_TOUCH_NEVER);
}

static void
test_profileset_shipped_default(void **state)
{
	struct cs_profileset set;

	(void)state;
	assert_int_equal(load_shipped("default", &set), CS_OK);
	assert_string_equal(set.name, "default");
	assert_int_equal(set.nslots, 3);
	check_slot(&set.slots[0], 0x9A, "piv-auth", CS_PIV_PIN_ONCE);
	check_slot(&set.slots[1], 0x9C, "piv-sign", CS_PIV_PIN_ALWAYS);
	check_slot(&set.slots[2], 0x9D, "piv-keymgmt", CS_PIV_PIN_ONCE);
}

static void
test_profileset_shipped_default_9e(void **state)
{
	struct cs_profileset set;

	(void)state;
	assert_int_equal(load_shipped("default-9e", &set), CS_OK);
	assert_string_equal(set.name, "default-9e");
	assert_int_equal(set.nslots, 4);
	check_slot(&set.slots[0], 0x9A, "piv-auth", CS_PIV_PIN_ONCE);
	check_slot(&set.slots[3], 0x9E, "piv-cardauth", CS_PIV_PIN_NEVER);
}

static void
test_profileset_order_and_defaults(void **state)
{
	struct cs_profileset set;

	(void)state;
	assert_int_equal(parse("[profile_set]\nslots = 9d, 82\n"
	                       "[82]\nprofile = x.y_z-1\nalg = rsa2048\n"
	                       "[9d]\nprofile = k\nalg = p384\n"
	                       "touch_policy = cached\n",
	                     &set),
	    CS_OK);
	assert_int_equal(set.nslots, 2);
	assert_int_equal(set.slots[0].slot, 0x9D);
	assert_int_equal(set.slots[0].alg, CS_PIV_ALG_P384);
	assert_int_equal(set.slots[0].pin_policy, 0);
	assert_int_equal(set.slots[0].touch_policy, CS_PIV_TOUCH_CACHED);
	assert_int_equal(set.slots[1].slot, 0x82);
	assert_string_equal(set.slots[1].profile, "x.y_z-1");
	assert_int_equal(set.slots[1].alg, CS_PIV_ALG_RSA2048);
}

static void
test_profileset_rejects_bad(void **state)
{
	(void)state;
	expect_bad("[9a]\nprofile = p\nalg = p256\n", "no [profile_set]");
	expect_bad("[profile_set]\nslots =\n", "lists no slot");
	expect_bad("[profile_set]\nslots = 9a\n", "has no [9a] section");
	expect_bad("[profile_set]\nslots = 9b\n[9b]\nprofile = p\nalg = p256\n",
	    "not a key slot");
	expect_bad("[profile_set]\nslots = f9\n", "not a key slot");
	expect_bad("[profile_set]\nslots = 9a, 9a\n", "listed twice");
	expect_bad("[profile_set]\nslots = 9a\nextra = 1\n",
	    "unexpected key 'extra'");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nalg = p256\n",
	    "needs profile and alg");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = ../x\n"
	           "alg = p256\n",
	    "not a profile name");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = p\nalg = 3des\n",
	    "not a key algorithm");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = p\nalg = p256\n"
	           "pin_policy = sometimes\n",
	    "pin_policy");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = p\nalg = p256\n"
	           "touch_policy = maybe\n",
	    "touch_policy");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = p\nalg = p256\n"
	           "colour = red\n",
	    "unknown key 'colour'");
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = p\nalg = p256\n"
	           "[9c]\nprofile = q\nalg = p256\n",
	    "section [9c]");
	expect_bad("stray = 1\n[profile_set]\nslots = 9a\n[9a]\nprofile = p\n"
	           "alg = p256\n",
	    "section [default]");
	/* The profile reader's rules hold here too: no variables. */
	expect_bad("[profile_set]\nslots = 9a\n[9a]\nprofile = $ENV::X\n"
	           "alg = p256\n",
	    "'$'");
}

static void
test_profileset_rejects_binary_and_size(void **state)
{
	static const uint8_t nul[] = "[profile_set]\0slots = 9a\n";
	struct cs_profileset set;
	uint8_t *big;

	(void)state;
	assert_int_equal(cs_profileset_parse(ctx, "t", nul, sizeof(nul), &set),
	    CS_ERR_MALFORMED);
	assert_int_equal(parse("", &set), CS_ERR_MALFORMED);
	big = calloc(1, CS_PROFILESET_TEXT_MAX + 1);
	assert_non_null(big);
	memset(big, '#', CS_PROFILESET_TEXT_MAX + 1);
	assert_int_equal(cs_profileset_parse(ctx, "t", big,
	                     CS_PROFILESET_TEXT_MAX + 1, &set),
	    CS_ERR_LIMIT);
	free(big);
	assert_int_equal(cs_profileset_load(ctx, "/nonexistent/x.cnf", NULL,
	                     &set),
	    CS_ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profileset_shipped_default),
		cmocka_unit_test(test_profileset_shipped_default_9e),
		cmocka_unit_test(test_profileset_order_and_defaults),
		cmocka_unit_test(test_profileset_rejects_bad),
		cmocka_unit_test(test_profileset_rejects_binary_and_size),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
