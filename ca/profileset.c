/*
 * Profile sets: which CA profile, key algorithm and PIN/touch policy each
 * slot of an enrolled card gets (include/cardsmith/enroll.h has the
 * format). Read with the same self-contained NCONF reader as profiles
 * (csa_conf_parse), from a buffer, so the parser can be fuzzed alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/err.h>

#include "cardsmith/enroll.h"
#include "cardsmith/piv.h"

#include "ca_int.h"

#include "banned.h"

struct named {
	const char *name;
	uint8_t v;
};

/* SP 800-73-4 / YubiKey values (piv.h enum cs_piv_pin_policy, _touch_). */
static const struct named pin_names[] = {
	{ "never", CS_PIV_PIN_NEVER },
	{ "once", CS_PIV_PIN_ONCE },
	{ "always", CS_PIV_PIN_ALWAYS },
	{ "match-once", CS_PIV_PIN_MATCH_ONCE },
	{ "match-always", CS_PIV_PIN_MATCH_ALWAYS },
	{ NULL, 0 },
};
static const struct named touch_names[] = {
	{ "never", CS_PIV_TOUCH_NEVER },
	{ "always", CS_PIV_TOUCH_ALWAYS },
	{ "cached", CS_PIV_TOUCH_CACHED },
	{ NULL, 0 },
};

#define SET_SECTION "profile_set"

static bool
lookup(const struct named *t, const char *s, uint8_t *v)
{
	for (; t->name != NULL; t++)
		if (strcmp(t->name, s) == 0) {
			*v = t->v;
			return true;
		}
	return false;
}

/* Slots that hold a generated key: 9A, 9C, 9D, 9E, retired 82..95. */
static bool
key_slot(int s)
{
	return s == 0x9A || s == 0x9C || s == 0x9D || s == 0x9E ||
	    (s >= 0x82 && s <= 0x95);
}

/* A profile name as cs_ca_profile_load reads it from profiles/: no path. */
static bool
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= CS_PROFILESET_NAME_MAX || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-'))
			return false;
	}
	return true;
}

static bool
alg_ok(uint8_t alg)
{
	switch (alg) {
	case CS_PIV_ALG_RSA1024:
	case CS_PIV_ALG_RSA2048:
	case CS_PIV_ALG_RSA3072:
	case CS_PIV_ALG_RSA4096:
	case CS_PIV_ALG_P256:
	case CS_PIV_ALG_P384:
	case CS_PIV_ALG_ED25519:
	case CS_PIV_ALG_X25519:
		return true;
	default:
		return false;
	}
}

struct slot_list {
	struct cs_ctx *ctx;
	const char *what;
	struct cs_profileset *set;
};

static enum cs_err
add_slot(char *item, void *arg)
{
	struct slot_list *sl = arg;
	struct cs_profileset *set = sl->set;
	int s = cs_piv_slot_parse(item);
	size_t i;

	if (s < 0 || !key_slot(s))
		return cs_ctx_fail(sl->ctx, CS_ERR_MALFORMED,
		    "%s: [" SET_SECTION "] slots: '%.16s' is not a key slot "
		    "(9a, 9c, 9d, 9e, 82..95)",
		    sl->what, item);
	for (i = 0; i < set->nslots; i++)
		if (set->slots[i].slot == (uint8_t)s)
			return cs_ctx_fail(sl->ctx, CS_ERR_MALFORMED,
			    "%s: [" SET_SECTION "] slots: %02x is listed twice",
			    sl->what, (unsigned int)s);
	if (set->nslots >= CS_PROFILESET_SLOTS_MAX)
		return cs_ctx_fail(sl->ctx, CS_ERR_MALFORMED,
		    "%s: more than %d slots", sl->what,
		    CS_PROFILESET_SLOTS_MAX);
	set->slots[set->nslots++].slot = (uint8_t)s;
	return CS_OK;
}

static enum cs_err
slot_key(struct cs_ctx *ctx, const char *what, const char *sec,
    struct cs_profileset_slot *ps, const CONF_VALUE *cv, bool *have_profile,
    bool *have_alg)
{
	if (strcmp(cv->name, "profile") == 0) {
		if (!name_ok(cv->value))
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: [%s] profile: '%.64s' is not a profile name "
			    "([A-Za-z0-9._-], no path)",
			    what, sec, cv->value);
		snprintf(ps->profile, sizeof(ps->profile), "%s", cv->value);
		*have_profile = true;
	} else if (strcmp(cv->name, "alg") == 0) {
		ps->alg = cs_piv_alg_parse(cv->value);
		if (!alg_ok(ps->alg))
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: [%s] alg: '%.32s' is not a key algorithm "
			    "(p256, p384, rsa2048, ...)",
			    what, sec, cv->value);
		*have_alg = true;
	} else if (strcmp(cv->name, "pin_policy") == 0) {
		if (!lookup(pin_names, cv->value, &ps->pin_policy))
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: [%s] pin_policy: '%.32s' is not never, once, "
			    "always, match-once or match-always",
			    what, sec, cv->value);
	} else if (strcmp(cv->name, "touch_policy") == 0) {
		if (!lookup(touch_names, cv->value, &ps->touch_policy))
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: [%s] touch_policy: '%.32s' is not never, "
			    "always or cached",
			    what, sec, cv->value);
	} else
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "%s: [%s]: unknown key '%.32s' (profile, alg, pin_policy, "
		    "touch_policy)",
		    what, sec, cv->name);
	return CS_OK;
}

static enum cs_err
parse_slot(struct cs_ctx *ctx, const char *what, CONF *conf,
    struct cs_profileset_slot *ps)
{
	STACK_OF(CONF_VALUE) * sec;
	bool have_profile = false, have_alg = false;
	char name[8];
	enum cs_err r = CS_ERR_INTERNAL;
	int i;

	snprintf(name, sizeof(name), "%02x", (unsigned int)ps->slot);
	if ((sec = NCONF_get_section(conf, name)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "%s: slot %s is listed but has no [%s] section", what, name,
		    name);
	for (i = 0; i < sk_CONF_VALUE_num(sec); i++)
		if ((r = slot_key(ctx, what, name, ps,
		         sk_CONF_VALUE_value(sec, i), &have_profile,
		         &have_alg)) != CS_OK)
			return r;
	if (!have_profile || !have_alg)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "%s: [%s] needs profile and alg", what, name);
	return CS_OK;
}

/* Is sec the set's own section or a listed slot's (empty default ok)? */
static enum cs_err
check_sections(struct cs_ctx *ctx, const char *what, CONF *conf,
    const struct cs_profileset *set)
{
	STACK_OF(OPENSSL_CSTRING) *names;
	STACK_OF(CONF_VALUE) * sec;
	const char *s;
	char want[8];
	size_t j;
	int i;
	bool known;
	enum cs_err r = CS_OK;

	if ((names = NCONF_get_section_names(conf)) == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
	for (i = 0; r == CS_OK && i < sk_OPENSSL_CSTRING_num(names); i++) {
		s = sk_OPENSSL_CSTRING_value(names, i);
		known = strcmp(s, SET_SECTION) == 0;
		for (j = 0; !known && j < set->nslots; j++) {
			snprintf(want, sizeof(want), "%02x",
			    (unsigned int)set->slots[j].slot);
			known = strcmp(s, want) == 0;
		}
		/* Keys before the first section land in "default". */
		if (!known && strcmp(s, "default") == 0) {
			sec = NCONF_get_section(conf, s);
			known = sec == NULL || sk_CONF_VALUE_num(sec) == 0;
		}
		if (!known)
			r = cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: section [%.32s] is not [" SET_SECTION "] or a "
			    "slot listed in its slots (slot sections are "
			    "written in lower case, [9a])",
			    what, s);
	}
	sk_OPENSSL_CSTRING_free(names);
	return r;
}

static enum cs_err
parse_set(struct cs_ctx *ctx, const char *what, CONF *conf,
    struct cs_profileset *set)
{
	STACK_OF(CONF_VALUE) * sec;
	CONF_VALUE *cv;
	struct slot_list sl = { ctx, what, set };
	bool have_slots = false;
	size_t j;
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((sec = NCONF_get_section(conf, SET_SECTION)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "%s: no [" SET_SECTION "] section", what);
	for (i = 0; i < sk_CONF_VALUE_num(sec); i++) {
		cv = sk_CONF_VALUE_value(sec, i);
		if (strcmp(cv->name, "slots") != 0 || have_slots)
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: [" SET_SECTION "]: unexpected key '%.32s' "
			    "(only slots, once)",
			    what, cv->name);
		have_slots = true;
		if ((r = csa_list_each(ctx, "slots", cv->value, add_slot,
		         &sl)) != CS_OK)
			return r;
	}
	if (set->nslots == 0)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "%s: [" SET_SECTION "] slots lists no slot", what);
	for (j = 0; j < set->nslots; j++)
		if ((r = parse_slot(ctx, what, conf, &set->slots[j])) != CS_OK)
			return r;
	return check_sections(ctx, what, conf, set);
}

enum cs_err
cs_profileset_parse(struct cs_ctx *ctx, const char *name, const uint8_t *text,
    size_t len, struct cs_profileset *out)
{
	char what[96];
	CONF *conf = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (name == NULL)
		name = "profile-set";
	snprintf(what, sizeof(what), "profile set %.64s", name);
	if (len > CS_PROFILESET_TEXT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT,
		    "%s: larger than %u bytes", what, CS_PROFILESET_TEXT_MAX);
	if ((r = csa_conf_parse(ctx, what, text, len, &conf)) != CS_OK)
		return r;
	snprintf(out->name, sizeof(out->name), "%s", name);
	r = parse_set(ctx, what, conf, out);
	NCONF_free(conf);
	ERR_clear_error();
	if (r != CS_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

enum cs_err
cs_profileset_load(struct cs_ctx *ctx, const char *path, const char *name,
    struct cs_profileset *out)
{
	char base[CS_PROFILESET_NAME_MAX];
	const char *b;
	uint8_t *text = NULL;
	size_t len = 0, n;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (name == NULL) {
		b = strrchr(path, '/');
		b = b != NULL ? b + 1 : path;
		n = strlen(b);
		if (n > 4 && strcmp(b + n - 4, ".cnf") == 0)
			n -= 4;
		if (n >= sizeof(base))
			n = sizeof(base) - 1;
		memcpy(base, b, n);
		base[n] = '\0';
		name = base;
	}
	if ((r = cs_file_read(ctx, path, CS_PROFILESET_TEXT_MAX, &text,
	         &len)) != CS_OK)
		return r;
	r = cs_profileset_parse(ctx, name, text, len, out);
	free(text);
	return r;
}
