/*
 * Unit tests for issue 12 on the card side of lib/: the order in which
 * cs_piv_set_mgm_key writes a --protect key (copies first, so that a
 * pulled card never leaves a key in force that nobody has), what
 * cs_piv_mgm_last_change reports after each kind of failure, the fallback
 * to the key kept during an interrupted change, and the touch hook that
 * fires right before an operation waiting for the card's button.
 * Scripted fake transport, bytes as in piv-apdu.md.
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
#include "cardsmith/piv.h"
#include "fake_transport.h"
#include "piv_int.h"

#include "banned.h"

#define SEL "00 A4 04 00 05 A0 00 00 03 08"
#define APT "4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08"
#define PIN_123456 "31 32 33 34 35 36 FF FF"
#define DEFKEY "010203040506070801020304050607080102030405060708"
#define K1HEX "111111111111111111111111111111111111111111111111"
#define K2HEX "222222222222222222222222222222222222222222222222"
#define GET_ADMIN "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00"
#define GET_PROT "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00"
#define VERIFY "00 20 00 80 00 00 08 " PIN_123456
#define ADMIN_STORED "53 05 80 03 81 01 02"
/* PUT DATA 5FC109 = 88 { 89 18 a, 8A 18 b } and 88 { 89 18 a } */
#define PUT_PROT2(a, b) "00 DB 3F FF 00 00 3D 5C 03 5F C1 09 53 36 88 34 " \
	"89 18 " a " 8A 18 " b
#define PUT_PROT1(a) "00 DB 3F FF 00 00 23 5C 03 5F C1 09 53 1C 88 1A " \
	"89 18 " a
#define SET_AES192(k) "00 FF FF FF 00 00 1B 0A 9B 18 " k
/* Default-key mutual authentication with the counting RNG (test_piv.c). */
#define GA1 "00 87 03 9B 00 00 04 7C 02 80 00 00 00"
#define GA1_RESP "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00"
#define GA2 "00 87 03 9B 00 00 16 7C 14 80 08 A1 A2 A3 A4 A5 A6 A7 A8 " \
	"81 08 01 02 03 04 05 06 07 08 00 00"
#define GA2_RESP "7C 0A 82 08 77 A7 D6 BC F5 79 62 B9 90 00"
#define META_9B_3DES "00 F7 00 9B 00 00 00"

static const uint8_t k1[24] = {
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x11,
};
static const uint8_t k2[24] = {
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	0x22, 0x22,
};

struct T {
	struct cs_ctx *ctx;
	struct cs_fake *f;
	struct cs_transport *t;
	struct cs_card *card;
};

static int
setup(void **state)
{
	struct T *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(cs_ctx_new(&x->ctx), CS_OK);
	assert_int_equal(cs_fake_new(&x->f, &x->t), CS_OK);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct T *x = *state;

	cs_card_close(x->card);
	cs_fake_free(x->f);
	cs_ctx_free(x->ctx);
	free(x);
	return 0;
}

static void
ex(struct T *x, const char *cmd, const char *resp)
{
	assert_int_equal(cs_fake_expect_hex(x->f, cmd, resp), CS_OK);
}

static void
assert_script_done(struct T *x)
{
	if (!cs_fake_ok(x->f))
		fail_msg("fake: %s", cs_fake_error(x->f));
	assert_int_equal(cs_fake_nbegin(x->f), cs_fake_nend(x->f));
}

static void
assert_msg_has(struct T *x, const char *needle)
{
	if (strstr(cs_ctx_errmsg(x->ctx), needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cs_ctx_errmsg(x->ctx),
		    needle);
}

static enum cs_err
counting_rng(void *arg, uint8_t *buf, size_t n)
{
	size_t i;

	(void)arg;
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(1 + i);
	return CS_OK;
}

/* YubiKey 5.4.3 (metadata, AES management keys), PIN cached. */
static void
open_yk(struct T *x)
{
	ex(x, SEL, "61 11");
	ex(x, "00 C0 00 00 11", APT " 90 00");
	ex(x, "00 FD 00 00 00", "05 04 03 90 00");
	ex(x, "00 F8 00 00 00 00 00", "00 BC 61 4E 90 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card), CS_OK);
	csi_piv_set_rng(x->card, counting_rng, NULL);
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
}

/* Read admin data (stored) and protected data holding prot. */
static void
ex_reads(struct T *x, const char *prot)
{
	ex(x, GET_ADMIN, ADMIN_STORED " 90 00");
	ex(x, VERIFY, "90 00");
	ex(x, GET_PROT, prot);
}

/* --- order of a --protect change --- */

/*
 * A protected key replaced by a protected key: the new key and the old
 * one (its only copy) are written before SET, the old one is dropped
 * after. Before issue 12 the SET came first and the only copies of the
 * new key were in memory until the last PUT DATA.
 */
static void
test_guard_protect_rotation_writes_copies_first(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex_reads(x, "53 1C 88 1A 89 18 " DEFKEY " 90 00");
	ex(x, PUT_PROT2(K1HEX, DEFKEY), "90 00");
	ex(x, SET_AES192(K1HEX), "90 00");
	ex(x, PUT_PROT1(K1HEX), "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k1,
	    sizeof(k1), CS_PIV_MGM_PROTECT), CS_OK);
	assert_int_equal(cs_piv_mgm_last_change(x->card), CS_PIV_MGM_CHANGED);
	assert_script_done(x);
}

/* Pulled after the card took the key: CHANGED, and 89 already holds it. */
static void
test_guard_pulled_after_set_reports_changed(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex_reads(x, "53 1C 88 1A 89 18 " DEFKEY " 90 00");
	ex(x, PUT_PROT2(K1HEX, DEFKEY), "90 00");
	ex(x, SET_AES192(K1HEX), "90 00");
	cs_fake_remove_at(x->f, cs_fake_ncmds(x->f) + 5);
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k1,
	    sizeof(k1), CS_PIV_MGM_PROTECT), CS_ERR_REMOVED);
	assert_int_equal(cs_piv_mgm_last_change(x->card), CS_PIV_MGM_CHANGED);
	assert_script_done(x);
}

/* The answer to SET is lost: nobody knows which key is in force. */
static void
test_guard_lost_set_answer_reports_maybe(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex_reads(x, "53 1C 88 1A 89 18 " DEFKEY " 90 00");
	ex(x, PUT_PROT2(K1HEX, DEFKEY), "90 00");
	assert_int_equal(cs_fake_expect_err(x->f, SET_AES192(K1HEX),
	    CS_ERR_REMOVED), CS_OK);
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k1,
	    sizeof(k1), CS_PIV_MGM_PROTECT), CS_ERR_REMOVED);
	assert_int_equal(cs_piv_mgm_last_change(x->card),
	    CS_PIV_MGM_MAYBE_CHANGED);
	assert_script_done(x);
}

/* Pulled before SET, or SET refused: the old key is still in force. */
static void
test_guard_unchanged_before_set_or_refused(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex_reads(x, "53 1C 88 1A 89 18 " DEFKEY " 90 00");
	cs_fake_remove_at(x->f, cs_fake_ncmds(x->f) + 3);
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k1,
	    sizeof(k1), CS_PIV_MGM_PROTECT), CS_ERR_REMOVED);
	assert_int_equal(cs_piv_mgm_last_change(x->card),
	    CS_PIV_MGM_UNCHANGED);
	assert_script_done(x);
	teardown(state);
	setup(state);
	x = *state;
	open_yk(x);
	ex(x, GET_ADMIN, "6A 82");
	ex(x, SET_AES192(K1HEX), "6A 80");
	assert_int_not_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192,
	    k1, sizeof(k1), 0), CS_OK);
	assert_int_equal(cs_piv_mgm_last_change(x->card),
	    CS_PIV_MGM_UNCHANGED);
	/* bad arguments: nothing sent, nothing changed */
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k1, 16,
	    0), CS_ERR_ARG);
	assert_int_equal(cs_piv_mgm_last_change(x->card),
	    CS_PIV_MGM_UNCHANGED);
	assert_script_done(x);
}

/*
 * A first --protect from the default key: protected data, then admin
 * data, then SET; ykman's bytes, in an order that survives a pull.
 */
static void
test_guard_first_protect_from_default(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex(x, GET_ADMIN, "6A 82");
	ex(x, VERIFY, "90 00");
	ex(x, GET_PROT, "6A 82");
	ex(x, PUT_PROT1(K1HEX), "90 00");
	ex(x, "00 DB 3F FF 00 00 0C 5C 03 5F FF 00 " ADMIN_STORED, "90 00");
	ex(x, SET_AES192(K1HEX), "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k1,
	    sizeof(k1), CS_PIV_MGM_PROTECT), CS_OK);
	assert_int_equal(cs_piv_mgm_last_change(x->card), CS_PIV_MGM_CHANGED);
	assert_script_done(x);
}

/* --- after an interrupted change --- */

/*
 * 89 holds the new key the card never got, 8A the old one in force: the
 * protected authentication falls back to 8A, and the next change keeps
 * 8A (the key in force), not 89.
 */
static void
test_guard_protected_auth_falls_back_to_kept_key(void **state)
{
	struct T *x = *state;
	const char *prot = "53 36 88 34 89 18 " K1HEX " 8A 18 " DEFKEY
	    " 90 00";

	open_yk(x);
	ex(x, GET_ADMIN, ADMIN_STORED " 90 00");
	ex(x, VERIFY, "90 00");
	ex(x, GET_PROT, prot);
	/* 89: the card's witness decrypts to garbage under K1 */
	ex(x, META_9B_3DES, "01 01 03 02 02 00 01 05 01 00 90 00");
	ex(x, GA1, GA1_RESP);
	ex(x, "*", "69 82");
	/* 8A: the default key, accepted */
	ex(x, META_9B_3DES, "01 01 03 02 02 00 01 05 01 00 90 00");
	ex(x, GA1, GA1_RESP);
	ex(x, GA2, GA2_RESP);
	assert_int_equal(cs_piv_authenticate_protected(x->card), CS_OK);
	ex_reads(x, prot);
	ex(x, PUT_PROT2(K2HEX, DEFKEY), "90 00");
	ex(x, SET_AES192(K2HEX), "90 00");
	ex(x, PUT_PROT1(K2HEX), "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES192, k2,
	    sizeof(k2), CS_PIV_MGM_PROTECT), CS_OK);
	assert_script_done(x);
}

/* Without a kept key a refused protected key stays an error. */
static void
test_guard_protected_auth_no_kept_key(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex(x, GET_ADMIN, ADMIN_STORED " 90 00");
	ex(x, VERIFY, "90 00");
	ex(x, GET_PROT, "53 1C 88 1A 89 18 " K1HEX " 90 00");
	ex(x, META_9B_3DES, "01 01 03 02 02 00 01 05 01 00 90 00");
	ex(x, GA1, GA1_RESP);
	ex(x, "*", "69 82");
	assert_int_equal(cs_piv_authenticate_protected(x->card), CS_ERR_AUTH);
	assert_msg_has(x, "wrong key");
	assert_script_done(x);
}

/* --- touch hook --- */

struct touch_log {
	struct cs_fake *f;
	int calls;
	uint8_t slot;
	size_t at; /* commands sent when the hook ran */
};

static void
on_touch(void *arg, uint8_t slot)
{
	struct touch_log *l = arg;

	l->calls++;
	l->slot = slot;
	l->at = cs_fake_ncmds(l->f);
}

#define DIGEST32 "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF " \
	"00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF"

static const uint8_t digest32[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA,
	0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
};

/* Touch-always key: the hook runs after METADATA, before the sign. */
static void
test_guard_touch_hook_before_sign(void **state)
{
	struct T *x = *state;
	struct touch_log l = { NULL, 0, 0, 0 };
	uint8_t *sig = NULL;
	size_t slen = 0, before;

	open_yk(x);
	l.f = x->f;
	cs_card_set_touch_fn(x->card, on_touch, &l);
	before = cs_fake_ncmds(x->f);
	ex(x, "00 F7 00 9A 00 00 00", "01 01 11 02 02 02 02 03 01 01 90 00");
	ex(x, "00 87 11 9A 00 00 26 7C 24 82 00 81 20 " DIGEST32 " 00 00",
	    "7C 0A 82 08 30 06 02 01 01 02 01 02 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9A, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_OK);
	cs_free(sig);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.slot, 0x9A);
	assert_int_equal(l.at, before + 1);
	/* touch never: no call */
	ex(x, "00 F7 00 9A 00 00 00", "01 01 11 02 02 02 01 03 01 01 90 00");
	ex(x, "00 87 11 9A 00 00 26 7C 24 82 00 81 20 " DIGEST32 " 00 00",
	    "7C 0A 82 08 30 06 02 01 01 02 01 02 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9A, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_OK);
	cs_free(sig);
	assert_int_equal(l.calls, 1);
	/* touch cached: called */
	ex(x, "00 F7 00 9A 00 00 00", "01 01 11 02 02 02 03 03 01 01 90 00");
	ex(x, "00 87 11 9A 00 00 26 7C 24 82 00 81 20 " DIGEST32 " 00 00",
	    "7C 0A 82 08 30 06 02 01 01 02 01 02 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9A, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_OK);
	cs_free(sig);
	assert_int_equal(l.calls, 2);
	assert_script_done(x);
}

/* Management key with touch: the hook runs before the first GA. */
static void
test_guard_touch_hook_before_mgm_auth(void **state)
{
	struct T *x = *state;
	struct touch_log l = { NULL, 0, 0, 0 };
	size_t klen, before;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_yk(x);
	l.f = x->f;
	cs_card_set_touch_fn(x->card, on_touch, &l);
	before = cs_fake_ncmds(x->f);
	ex(x, META_9B_3DES, "01 01 03 02 02 00 02 05 01 01 90 00");
	ex(x, GA1, GA1_RESP);
	ex(x, GA2, GA2_RESP);
	assert_int_equal(cs_piv_authenticate(x->card, 0, key, klen), CS_OK);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.slot, CS_PIV_SLOT_MGM);
	assert_int_equal(l.at, before + 1);
	/* removing the hook silences it */
	cs_card_set_touch_fn(x->card, NULL, NULL);
	ex(x, META_9B_3DES, "01 01 03 02 02 00 02 05 01 01 90 00");
	ex(x, GA1, GA1_RESP);
	ex(x, GA2, GA2_RESP);
	assert_int_equal(cs_piv_authenticate(x->card, 0, key, klen), CS_OK);
	assert_int_equal(l.calls, 1);
	assert_script_done(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T_(test_guard_protect_rotation_writes_copies_first),
		T_(test_guard_pulled_after_set_reports_changed),
		T_(test_guard_lost_set_answer_reports_maybe),
		T_(test_guard_unchanged_before_set_or_refused),
		T_(test_guard_first_protect_from_default),
		T_(test_guard_protected_auth_falls_back_to_kept_key),
		T_(test_guard_protected_auth_no_kept_key),
		T_(test_guard_touch_hook_before_sign),
		T_(test_guard_touch_hook_before_mgm_auth),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
