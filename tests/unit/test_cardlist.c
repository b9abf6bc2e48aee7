/*
 * cli/cardlist.c: ATR lookup in pcsc-tools' smartcard_list.txt format,
 * against the fixture tests/data/smartcard_list.txt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/transport.h"
#include "cardlist.h"

static char fixture[4096];

static const uint8_t yubikey5[] = {
	0x3B,
	0xFD,
	0x13,
	0x00,
	0x00,
	0x81,
	0x31,
	0xFE,
	0x15,
	0x80,
	0x73,
	0xC0,
	0x21,
	0xC0,
	0x57,
	0x59,
	0x75,
	0x62,
	0x69,
	0x4B,
	0x65,
	0x79,
	0x40,
};

static int
setup(void **state)
{
	const char *src = getenv("CS_SRC");

	snprintf(fixture, sizeof(fixture), "%s/tests/data/smartcard_list.txt",
	    src != NULL ? src : ".");
	return 0;
}

/* Look atr up in the fixture; returns the name or NULL. */
static const char *
lookup(const uint8_t *atr, size_t len)
{
	static char name[256];

	memset(name, 'x', sizeof(name));
	if (!cardlist_lookup_path(fixture, atr, len, name, sizeof(name))) {
		assert_string_equal(name, "");
		return NULL;
	}
	return name;
}

#define LOOKUP(...)                                                            \
	lookup((const uint8_t[]){ __VA_ARGS__ },                               \
	    sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void
test_cardlist_exact_match_first_description(void **state)
{
	const char *name = lookup(yubikey5, sizeof(yubikey5));

	assert_non_null(name);
	assert_string_equal(name, "Yubico YubiKey 5 NFC (PKI)");
}

static void
test_cardlist_wildcard_dots(void **state)
{
	const char *name =
	    LOOKUP(0x3B, 0x8C, 0x80, 0x01, 0xAB, 0xCD, 0x77, 0xEF, 0x00);

	assert_non_null(name);
	assert_string_equal(name, "Wildcard Card");
	/* the literal byte between the wildcards still has to match */
	assert_null(
	    LOOKUP(0x3B, 0x8C, 0x80, 0x01, 0xAB, 0xCD, 0x78, 0xEF, 0x00));
}

static void
test_cardlist_lowercase_pattern(void **state)
{
	const char *name = LOOKUP(0x3B, 0x6F, 0x00, 0xFF, 0x0A);

	assert_non_null(name);
	assert_string_equal(name, "Lowercase Card");
}

static void
test_cardlist_bracket_expressions(void **state)
{
	const char *name = LOOKUP(0x3B, 0x11, 0x02, 0x1F);

	assert_non_null(name);
	assert_string_equal(name, "Bracket Card");
	assert_null(LOOKUP(0x3B, 0x11, 0x04, 0x1F)); /* [1-3] */
	assert_null(LOOKUP(0x3B, 0x11, 0x02, 0xFF)); /* [^F] */
}

static void
test_cardlist_star_pattern(void **state)
{
	const char *name = LOOKUP(0x3B, 0x7F, 0x01, 0x02, 0x03, 0x90, 0x00);

	assert_non_null(name);
	assert_string_equal(name, "Star Card");
	assert_null(LOOKUP(0x3B, 0x7F, 0x01, 0x90, 0x01));
}

static void
test_cardlist_skips_comment_before_description(void **state)
{
	const char *name = LOOKUP(0x3B, 0x02, 0x14, 0x50);

	assert_non_null(name);
	assert_string_equal(name, "Commented Card");
}

static void
test_cardlist_skips_malformed_regex(void **state)
{
	const char *name = LOOKUP(0x3B, 0x05, 0xAA);

	assert_non_null(name);
	assert_string_equal(name, "After Broken Card");
}

static void
test_cardlist_no_match(void **state)
{
	assert_null(LOOKUP(0x3B, 0x00));
	assert_null(LOOKUP(0x3F, 0xFD, 0x13));
}

static void
test_cardlist_anchored(void **state)
{
	/* a prefix of a listed ATR, and a listed ATR plus a byte */
	assert_null(lookup(yubikey5, sizeof(yubikey5) - 1));
	assert_null(LOOKUP(0x3B, 0x02, 0x14, 0x50, 0x00));
	assert_null(LOOKUP(0x00, 0x3B, 0x02, 0x14, 0x50));
	/* patterns with quantifiers go to regexec: anchored there too */
	assert_null(LOOKUP(0x00, 0x3B, 0x7F, 0x01, 0x90, 0x00));
	assert_null(LOOKUP(0x3B, 0x7F, 0x01, 0x90, 0x00, 0x11));
}

static void
test_cardlist_prefilter_never_rejects_a_match(void **state)
{
	/* may_match may say "maybe" wrongly, never "no" wrongly */
	assert_true(cardlist_may_match("3B ..", "3B 05"));
	assert_true(cardlist_may_match("3b 0[1-3]", "3B 02"));
	assert_true(cardlist_may_match("3B []A]F", "3B ]F"));
	assert_true(cardlist_may_match("3B [[:xdigit:]]F", "3B 0F"));
	assert_true(cardlist_may_match("3B [12", "3B 1"));
	assert_true(cardlist_may_match("3B 0?", "3B "));
	assert_false(cardlist_may_match("3B 0[1-3]", "3B 0"));
	assert_false(cardlist_may_match("3B 01", "3B 01 00"));
	assert_false(cardlist_may_match("3B 01 00", "3B 01"));
	assert_false(cardlist_may_match("3B 01", "3B 02"));
}

static void
test_cardlist_entry_without_description(void **state)
{
	const char *name;

	/* "3B 22 00" has no description: the next entry's is not its */
	assert_null(LOOKUP(0x3B, 0x22, 0x00));
	name = LOOKUP(0x3B, 0x22, 0x11);
	assert_non_null(name);
	assert_string_equal(name, "Second Entry Card");
}

static void
test_cardlist_overlong_line_skipped(void **state)
{
	/* the line is "3B 07 00", 1100 blanks, "11": never cut to a prefix */
	assert_null(LOOKUP(0x3B, 0x07, 0x00));
	assert_null(LOOKUP(0x3B, 0x07, 0x00, 0x11));
}

static void
test_cardlist_crlf_and_blank_description(void **state)
{
	const char *name = LOOKUP(0x3B, 0x08, 0x00);

	assert_non_null(name);
	assert_string_equal(name, "CRLF Card");
	name = LOOKUP(0x3B, 0x09, 0x00);
	assert_non_null(name);
	assert_string_equal(name, "Indented Card");
}

static void
test_cardlist_truncates_name(void **state)
{
	char name[8];

	assert_true(cardlist_lookup_path(fixture, yubikey5, sizeof(yubikey5),
	    name, sizeof(name)));
	assert_string_equal(name, "Yubico ");
}

static void
test_cardlist_rejects_bad_atr_length(void **state)
{
	uint8_t big[CS_ATR_MAX + 1];
	char name[16] = "junk";

	memset(big, 0x3B, sizeof(big));
	assert_false(
	    cardlist_lookup_path(fixture, yubikey5, 0, name, sizeof(name)));
	assert_string_equal(name, "");
	assert_false(cardlist_lookup_path(fixture, big, sizeof(big), name,
	    sizeof(name)));
}

static void
test_cardlist_missing_file(void **state)
{
	char name[16] = "junk";

	assert_false(cardlist_lookup_path("/nonexistent/smartcard_list.txt",
	    yubikey5, sizeof(yubikey5), name, sizeof(name)));
	assert_string_equal(name, "");
}

static void
test_cardlist_env_override(void **state)
{
	char name[64];

	assert_int_equal(setenv(CARDLIST_ENV, fixture, 1), 0);
	assert_true(cardlist_lookup((const uint8_t[]){ 0x3B, 0x05, 0x01 }, 3,
	    name, sizeof(name)));
	assert_string_equal(name, "After Broken Card");
	assert_int_equal(setenv(CARDLIST_ENV, "/nonexistent/list", 1), 0);
	assert_false(
	    cardlist_lookup(yubikey5, sizeof(yubikey5), name, sizeof(name)));
	assert_int_equal(unsetenv(CARDLIST_ENV), 0);
}

static void
test_cardlist_system_list(void **state)
{
	char name[64];
	FILE *f;

	if ((f = fopen(CARDLIST_PATH, "r")) == NULL) {
		skip();
		return;
	}
	fclose(f);
	assert_true(cardlist_lookup_path(CARDLIST_PATH, yubikey5,
	    sizeof(yubikey5), name, sizeof(name)));
	assert_string_equal(name, "Yubico YubiKey 5 NFC (PKI)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cardlist_exact_match_first_description),
		cmocka_unit_test(test_cardlist_wildcard_dots),
		cmocka_unit_test(test_cardlist_lowercase_pattern),
		cmocka_unit_test(test_cardlist_bracket_expressions),
		cmocka_unit_test(test_cardlist_star_pattern),
		cmocka_unit_test(
		    test_cardlist_skips_comment_before_description),
		cmocka_unit_test(test_cardlist_skips_malformed_regex),
		cmocka_unit_test(test_cardlist_no_match),
		cmocka_unit_test(test_cardlist_anchored),
		cmocka_unit_test(test_cardlist_prefilter_never_rejects_a_match),
		cmocka_unit_test(test_cardlist_entry_without_description),
		cmocka_unit_test(test_cardlist_overlong_line_skipped),
		cmocka_unit_test(test_cardlist_crlf_and_blank_description),
		cmocka_unit_test(test_cardlist_truncates_name),
		cmocka_unit_test(test_cardlist_rejects_bad_atr_length),
		cmocka_unit_test(test_cardlist_missing_file),
		cmocka_unit_test(test_cardlist_env_override),
		cmocka_unit_test(test_cardlist_system_list),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
