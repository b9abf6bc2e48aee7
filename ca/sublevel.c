/*
 * Sub-levels of hardware-attested, keyed on the attested PIN and touch
 * policy (the .3.8 extension of the slot statement). A sub-level is
 * defined once per CA at `ca init` ("NAME=pin:always,touch:always"), gets
 * an OID (<arc>.1.1.<n> unless given) that the CA certificates assert and
 * list in the level map, and profiles name the sub-levels they may grant.
 * Fixing them at init keeps explicit-policy validation working: a CA
 * certificate cannot learn a new policy OID without being re-issued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "ca_int.h"

#include "banned.h"

int
csa_pin_rank(uint8_t v)
{
	/* never < once (= match-once) < always (= match-always). */
	static const int rank[] = { 0, 0, 1, 2, 1, 2 };

	return v < sizeof(rank) / sizeof(*rank) ? rank[v] : 0;
}

int
csa_touch_rank(uint8_t v)
{
	/* never < cached < always. */
	static const int rank[] = { 0, 0, 2, 1 };

	return v < sizeof(rank) / sizeof(*rank) ? rank[v] : 0;
}

bool
csa_sublevel_name_ok(const char *s)
{
	enum cs_ca_level lv;
	size_t i, n = strlen(s);

	if (n == 0 || n >= CS_CA_SUBLEVEL_NAME_MAX || s[0] == '-' ||
	    strcmp(s, "none") == 0 || cs_ca_level_parse(s, &lv) == CS_OK)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool
policy_value(const char *(*str)(uint8_t), uint8_t max, const char *s,
    uint8_t *v)
{
	uint8_t i;

	for (i = 1; i <= max; i++)
		if (strcmp(str(i), s) == 0) {
			*v = i;
			return true;
		}
	return false;
}

/* Syntax only: the CA refuses long arcs (config.c csa_config_check_oids). */
static bool
oid_ok(const char *s)
{
	return csa_oid_parse(s, CSA_OID_LONG_ARCS | CSA_OID_POLICY, NULL, 0) ==
	    CS_OK;
}

/* A sub-level being read, for its items. */
struct sub_read {
	struct cs_ctx *ctx;
	struct cs_ca_sublevel *s;
};

/* One "pin:P", "touch:T" or "oid:OID" item. */
static enum cs_err
sub_item(char *it, void *arg)
{
	const struct sub_read *sr = arg;
	struct cs_ctx *ctx = sr->ctx;
	struct cs_ca_sublevel *s = sr->s;
	char *v = strchr(it, ':');

	if (v == NULL)
		return cs_ctx_fail(ctx, CS_ERR_ARG,
		    "sub-level %s: '%.40s' is not pin:, touch: or oid:",
		    s->name, it);
	*v++ = '\0';
	if (strcmp(it, "pin") == 0 && s->min_pin_policy == 0 &&
	    policy_value(cs_attest_pin_policy_str, 5, v, &s->min_pin_policy))
		return CS_OK;
	if (strcmp(it, "touch") == 0 && s->min_touch_policy == 0 &&
	    policy_value(cs_attest_touch_policy_str, 3, v,
	        &s->min_touch_policy))
		return CS_OK;
	if (strcmp(it, "oid") == 0 && s->oid[0] == '\0' && oid_ok(v)) {
		snprintf(s->oid, sizeof(s->oid), "%s", v);
		return CS_OK;
	}
	return cs_ctx_fail(ctx, CS_ERR_ARG,
	    "sub-level %s: bad or repeated %s: '%.40s'", s->name, it, v);
}

enum cs_err
csa_sublevel_parse_value(struct cs_ctx *ctx, const char *name,
    const char *value, struct cs_ca_sublevel *out)
{
	struct sub_read sr = { ctx, out };
	char what[CS_CA_SUBLEVEL_NAME_MAX + 16];
	enum cs_err r = CS_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (!csa_sublevel_name_ok(name))
		return cs_ctx_fail(ctx, CS_ERR_ARG,
		    "sub-level name '%.40s': use [a-z0-9-], at most %d "
		    "characters, not a level name",
		    name, CS_CA_SUBLEVEL_NAME_MAX - 1);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->parent = CS_CA_LEVEL_HW_ATTESTED;
	snprintf(what, sizeof(what), "sub-level %s:", name);
	if ((r = csa_list_each(ctx, what, value, sub_item, &sr)) != CS_OK)
		return r;
	if (csa_pin_rank(out->min_pin_policy) +
	        csa_touch_rank(out->min_touch_policy) ==
	    0)
		return cs_ctx_fail(ctx, CS_ERR_ARG,
		    "sub-level %s: needs a PIN or touch minimum above 'never'",
		    name);
	return CS_OK;
}

enum cs_err
csa_sublevel_parse(struct cs_ctx *ctx, const char *spec,
    struct cs_ca_sublevel *out)
{
	char name[CS_CA_SUBLEVEL_NAME_MAX];
	const char *eq;

	memset(out, 0, sizeof(*out));
	if (spec == NULL || (eq = strchr(spec, '=')) == NULL ||
	    (size_t)(eq - spec) >= sizeof(name))
		return cs_ctx_fail(ctx, CS_ERR_ARG,
		    "sub-level '%.40s' is not NAME=pin:P,touch:T",
		    spec != NULL ? spec : "");
	snprintf(name, sizeof(name), "%.*s", (int)(eq - spec), spec);
	return csa_sublevel_parse_value(ctx, name, eq + 1, out);
}

void
csa_sublevel_text(const struct cs_ca_sublevel *s, char *dst, size_t cap)
{
	size_t n;

	dst[0] = '\0';
	if (s->min_pin_policy != 0)
		snprintf(dst, cap, "pin:%s,",
		    cs_attest_pin_policy_str(s->min_pin_policy));
	n = strlen(dst);
	if (s->min_touch_policy != 0)
		snprintf(dst + n, cap - n, "touch:%s,",
		    cs_attest_touch_policy_str(s->min_touch_policy));
	n = strlen(dst);
	snprintf(dst + n, cap - n, "oid:%s", s->oid);
}

bool
csa_sublevel_meets(const struct cs_ca_sublevel *s, uint8_t pin, uint8_t touch)
{
	return csa_pin_rank(pin) >= csa_pin_rank(s->min_pin_policy) &&
	    csa_touch_rank(touch) >= csa_touch_rank(s->min_touch_policy);
}

bool
csa_sublevel_covers(const struct cs_ca_sublevel *have,
    const struct cs_ca_sublevel *want)
{
	if (strcmp(have->name, want->name) == 0)
		return true;
	return have->parent == want->parent &&
	    csa_sublevel_meets(want, have->min_pin_policy,
	        have->min_touch_policy);
}

int
csa_sublevel_weight(const struct cs_ca_sublevel *s)
{
	return csa_pin_rank(s->min_pin_policy) +
	    csa_touch_rank(s->min_touch_policy);
}

const struct cs_ca_sublevel *
cs_ca_sublevel_at(const struct cs_ca *ca, size_t i)
{
	return i < ca->nsubs ? &ca->subs[i] : NULL;
}
