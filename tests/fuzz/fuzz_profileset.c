/*
 * Fuzz target: profile sets (NCONF: [profile_set] slots = ..., one section
 * per slot). A set that parses must be one enroll can act on: 1 to
 * CS_PROFILESET_SLOTS_MAX distinct key slots (9a/9c/9d/9e or the retired
 * 82..95), each with a NUL-terminated profile name of [A-Za-z0-9._-], an
 * asymmetric algorithm cs_piv_alg_name knows, and PIN and touch policies
 * in range; the name is the one given. A set that does not parse comes
 * with a message in ctx. Parsing the same text twice gives the same set.
 *
 * Covers: cs_profileset_parse (NCONF via csa_conf_parse, slot lists,
 * per-slot sections, policy words).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/enroll.h"
#include "cardsmith/piv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
key_slot(uint8_t s)
{
	return s == 0x9a || s == 0x9c || s == 0x9d || s == 0x9e ||
	    (s >= 0x82 && s <= 0x95);
}

static bool
name_ok(const char *n)
{
	size_t i;

	if (memchr(n, '\0', CS_PROFILESET_NAME_MAX) == NULL || n[0] == '\0')
		return false;
	for (i = 0; n[i] != '\0'; i++)
		if (!((n[i] >= 'A' && n[i] <= 'Z') ||
		        (n[i] >= 'a' && n[i] <= 'z') ||
		        (n[i] >= '0' && n[i] <= '9') || n[i] == '.' ||
		        n[i] == '_' || n[i] == '-'))
			return false;
	return true;
}

static bool
asym(uint8_t alg)
{
	return alg != CS_PIV_ALG_3DES && alg != CS_PIV_ALG_AES128 &&
	    alg != CS_PIV_ALG_AES192 && alg != CS_PIV_ALG_AES256 &&
	    cs_piv_alg_name(alg) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	static struct cs_profileset a, b;
	struct cs_ctx *ctx = NULL;
	size_t i, j;
	enum cs_err r;

	if (data == NULL)
		data = empty;
	check(cs_ctx_new(&ctx) == CS_OK);
	r = cs_profileset_parse(ctx, "fuzz", data, size, &a);
	if (r == CS_OK) {
		check(strcmp(a.name, "fuzz") == 0);
		check(a.nslots >= 1 && a.nslots <= CS_PROFILESET_SLOTS_MAX);
		for (i = 0; i < a.nslots; i++) {
			const struct cs_profileset_slot *s = &a.slots[i];

			check(key_slot(s->slot));
			check(name_ok(s->profile));
			check(asym(s->alg));
			check(s->pin_policy <= CS_PIV_PIN_MATCH_ALWAYS);
			check(s->touch_policy <= CS_PIV_TOUCH_CACHED);
			for (j = 0; j < i; j++)
				check(a.slots[j].slot != s->slot);
		}
		check(cs_profileset_parse(NULL, "fuzz", data, size, &b) ==
		    CS_OK);
		check(memcmp(&a, &b, sizeof(a)) == 0);
	} else {
		check(r == CS_ERR_MALFORMED || r == CS_ERR_LIMIT ||
		    r == CS_ERR_NOMEM || r == CS_ERR_ARG);
		check(cs_ctx_errmsg(ctx)[0] != '\0');
	}
	cs_ctx_free(ctx);
	return 0;
}
