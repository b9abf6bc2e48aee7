/*
 * The CA's OIDs and ca.cnf: the arc, level, sub-level and extra policy
 * OIDs, the portable-length rule, written at init and read on open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "ca_int.h"

#include "banned.h"

/* The arc as given or read (canonical into ca->arc), room left for suffixes. */
bool
csa_config_set_arc(struct cs_ca *ca, const char *s)
{
	return csa_oid_parse(s, CSA_OID_LONG_ARCS, ca->arc, sizeof(ca->arc)) ==
	    CS_OK &&
	    strlen(ca->arc) < CS_CA_OID_MAX - 8;
}

/*
 * Every OID the CA writes: the level OIDs, the sub-level and extra policy
 * OIDs (certificatePolicies and the level map of the CA certificates,
 * leaves) and the level map / marker extension OIDs. If one exceeds the
 * portable limits, copy it to oid, say what it is in *what, return true.
 */
static bool
find_long_oid(const struct cs_ca *ca, char *oid, size_t cap, const char **what)
{
	static const char *const ext[] = { "", CSA_SUFFIX_LEVELMAP,
		CSA_SUFFIX_MARKER };
	static const char *const level_what[CS_CA_LEVEL_COUNT] = { "",
		"software level", "hardware-enrolled level",
		"hardware-attested level" };
	static const char *const ext_what[] = { "policy arc",
		"level map extension", "marker extension" };
	const char *c;
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(*ext); i++) {
		snprintf(oid, cap, "%.118s%s", ca->arc, ext[i]);
		*what = ext_what[i];
		if (csa_oid_parse(oid, 0, NULL, 0) == CS_ERR_LIMIT)
			return true;
	}
	for (i = 0; i < CS_CA_LEVEL_COUNT + ca->nsubs + ca->nextra; i++) {
		if (i < CS_CA_LEVEL_COUNT) {
			c = ca->oid[i];
			*what = level_what[i];
		} else if (i < CS_CA_LEVEL_COUNT + ca->nsubs) {
			c = ca->subs[i - CS_CA_LEVEL_COUNT].oid;
			*what = "sub-level";
		} else {
			c = ca->extra[i - CS_CA_LEVEL_COUNT - ca->nsubs].oid;
			*what = "extra policy";
		}
		if (c[0] != '\0' &&
		    csa_oid_parse(c, 0, NULL, 0) == CS_ERR_LIMIT) {
			snprintf(oid, cap, "%s", c);
			return true;
		}
	}
	return false;
}

/* Refuse long OIDs unless allowed (init, import). */
enum cs_err
csa_config_check_oids(struct cs_ca *ca, bool allow)
{
	char oid[CS_CA_OID_MAX];
	const char *what, *why = "has an arc of 2^28 or more";
	ASN1_OBJECT *o;

	ca->oid_arcs = allow ? CS_CA_OID_ARCS_ALLOWED : CS_CA_OID_ARCS_SHORT;
	if (allow || !find_long_oid(ca, oid, sizeof(oid), &what))
		return CS_OK;
	if ((o = OBJ_txt2obj(oid, 1)) != NULL)
		why = csa_oid_long_reason((size_t)OBJ_length(o));
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
	    "OID %s (%s) %s: Go's crypto/x509 and Debian 12's python3-cryptography "
	    "(ykman) cannot parse certificates carrying it; use the default "
	    "arc or your organisation's own (--arc), or "
	    "--allow-long-oid-arcs",
	    oid, what, why);
}

enum cs_ca_oid_arcs
cs_ca_oid_arcs(const struct cs_ca *ca, const char **warning)
{
	static const char allowed[] =
	    "long OID arcs allowed: a certificate with an OID arc of 2^31 or "
	    "more fails to parse in Go's crypto/x509 (Traefik, Caddy and "
	    "other Go gateways), one with an arc of 2^28 or more in Debian "
	    "12's python3-cryptography 38 ('ykman piv info' fails), one over "
	    "63 octets in every python3-cryptography";
	static const char legacy[] =
	    "this CA's policy OIDs have arcs of 2^28 or more (e.g. a "
	    "2.25.<uuid> arc): Go's crypto/x509 (Traefik, Caddy) and Debian "
	    "12's python3-cryptography (ykman) cannot parse its certificates; "
	    "move to a new CA ('cardsmith ca init', default arc or --arc with "
	    "your organisation's arc), reissue and retire this one, or set "
	    "'allow_long_oid_arcs = yes' in [ca] of ca.cnf to keep it quietly";

	if (warning != NULL)
		*warning = ca->oid_arcs == CS_CA_OID_ARCS_ALLOWED ? allowed
		    : ca->oid_arcs == CS_CA_OID_ARCS_LEGACY       ? legacy
		                                                  : NULL;
	return ca->oid_arcs;
}

void
csa_config_set_oids(struct cs_ca *ca)
{
	snprintf(ca->oid[CS_CA_LEVEL_HW_ATTESTED], CS_CA_OID_MAX, "%.118s%s",
	    ca->arc, CSA_SUFFIX_ATTESTED);
	snprintf(ca->oid[CS_CA_LEVEL_HW_ENROLLED], CS_CA_OID_MAX, "%.118s%s",
	    ca->arc, CSA_SUFFIX_ENROLLED);
	snprintf(ca->oid[CS_CA_LEVEL_SOFTWARE], CS_CA_OID_MAX, "%.118s%s",
	    ca->arc, CSA_SUFFIX_SOFTWARE);
	ca->oid[CS_CA_LEVEL_NONE][0] = '\0';
}

enum cs_err
csa_config_write(struct cs_ca *ca, bool hw)
{
	char path[CSA_PATH_MAX], text[4096], v[CS_CA_OID_MAX + 64];
	size_t i;
	int n, k;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "ca.cnf")) !=
	    CS_OK)
		return r;
	n = snprintf(text, sizeof(text),
	    "# cardsmith CA configuration (written by cardsmith ca init)\n"
	    "[ca]\narc = %s\nhardware_ca = %s\n"
	    "oid_hardware_attested = %s\noid_hardware_enrolled = %s\n"
	    "oid_software = %s\n"
	    "# OIDs beyond the portable limits (ca init --allow-long-oid-arcs)\n"
	    "allow_long_oid_arcs = %s\n",
	    ca->arc, hw ? "yes" : "no", ca->oid[CS_CA_LEVEL_HW_ATTESTED],
	    ca->oid[CS_CA_LEVEL_HW_ENROLLED], ca->oid[CS_CA_LEVEL_SOFTWARE],
	    ca->oid_arcs == CS_CA_OID_ARCS_SHORT ? "no" : "yes");
	/* Each extra OID with the level it stands for (assurance.c). */
	for (i = 0; i < ca->nextra && n >= 0 && (size_t)n < sizeof(text); i++) {
		k = snprintf(text + n, sizeof(text) - (size_t)n, "%s%s=%s%s",
		    i == 0 ? "extra_policies = " : ",",
		    cs_ca_level_name(ca->extra[i].level), ca->extra[i].oid,
		    i + 1 == ca->nextra ? "\n" : "");
		n = k < 0 ? k : n + k;
	}
	/* Fixed at init: the CA certificates assert these OIDs. */
	if (n >= 0 && (size_t)n < sizeof(text) && ca->nsubs > 0)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    "\n# sub-levels of hardware-attested (fixed at ca init)\n"
		    "[sublevels]\n");
	for (i = 0; i < ca->nsubs && n >= 0 && (size_t)n < sizeof(text); i++) {
		csa_sublevel_text(&ca->subs[i], v, sizeof(v));
		k = snprintf(text + n, sizeof(text) - (size_t)n, "%s = %s\n",
		    ca->subs[i].name, v);
		n = k < 0 ? k : n + k;
	}
	if (n < 0 || (size_t)n >= sizeof(text))
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "ca.cnf too long");
	return csa_write_file(ca->ctx, path, text, (size_t)n, 0600, true);
}

enum cs_err
csa_config_policies(struct cs_ca *ca, bool sw, bool hw, char *dst, size_t cap)
{
	size_t n, i;

	dst[0] = '\0';
	if (hw)
		snprintf(dst, cap, "%s,%s", ca->oid[CS_CA_LEVEL_HW_ATTESTED],
		    ca->oid[CS_CA_LEVEL_HW_ENROLLED]);
	/* Sub-levels are hardware-attested ones: the same CAs assert them. */
	for (i = 0; hw && i < ca->nsubs; i++) {
		n = strlen(dst);
		snprintf(dst + n, cap - n, ",%s", ca->subs[i].oid);
	}
	n = strlen(dst);
	if (sw)
		snprintf(dst + n, cap - n, "%s%s", n > 0 ? "," : "",
		    ca->oid[CS_CA_LEVEL_SOFTWARE]);
	for (i = 0; i < ca->nextra; i++) {
		n = strlen(dst);
		snprintf(dst + n, cap - n, ",%s", ca->extra[i].oid);
	}
	if (strlen(dst) + 1 >= cap)
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
		    "policy list too long");
	return CS_OK;
}

/* Is oid taken by a level or an earlier sub-level? */
static bool
oid_taken(const struct cs_ca *ca, const char *oid, size_t nsubs)
{
	size_t i;

	for (i = 0; i < CS_CA_LEVEL_COUNT; i++)
		if (csa_oid_eq(ca->oid[i], oid))
			return true;
	for (i = 0; i < nsubs; i++)
		if (csa_oid_eq(ca->subs[i].oid, oid))
			return true;
	return false;
}

/* Add sub-level s as number nsubs + 1 (<arc>.1.1.<n> unless it has an OID). */
static enum cs_err
add_sublevel(struct cs_ca *ca, struct cs_ca_sublevel *s)
{
	char oid[CS_CA_OID_MAX];
	size_t i;

	if (ca->nsubs >= CS_CA_SUBLEVEL_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
		    "more than %d sub-levels", CS_CA_SUBLEVEL_MAX);
	if (s->oid[0] == '\0')
		snprintf(s->oid, sizeof(s->oid), "%.119s%s.%zu", ca->arc,
		    CSA_SUFFIX_ATTESTED, ca->nsubs + 1);
	/* Compared as text from here on: the canonical spelling. */
	if (csa_oid_parse(s->oid, CSA_OID_LONG_ARCS | CSA_OID_POLICY, oid,
	        sizeof(oid)) != CS_OK)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "sub-level %s: OID '%.64s' is not an OID", s->name, s->oid);
	memcpy(s->oid, oid, sizeof(oid));
	for (i = 0; i < ca->nsubs; i++)
		if (strcmp(ca->subs[i].name, s->name) == 0 ||
		    (ca->subs[i].min_pin_policy == s->min_pin_policy &&
		        ca->subs[i].min_touch_policy == s->min_touch_policy))
			return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
			    "sub-level %s repeats the name or the minimums of "
			    "%s",
			    s->name, ca->subs[i].name);
	if (oid_taken(ca, s->oid, ca->nsubs))
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "sub-level %s: OID %s is already used", s->name, s->oid);
	ca->subs[ca->nsubs++] = *s;
	return CS_OK;
}

enum cs_err
csa_config_set_sublevels(struct cs_ca *ca, const char *const *specs)
{
	struct cs_ca_sublevel s;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	for (i = 0; specs != NULL && specs[i] != NULL; i++)
		if ((r = csa_sublevel_parse(ca->ctx, specs[i], &s)) != CS_OK ||
		    (r = add_sublevel(ca, &s)) != CS_OK)
			return r;
	return CS_OK;
}

/*
 * Extra policy OIDs, "LEVEL=OID" comma separated; a bare OID stands for
 * hardware-attested (what --extra-policy OID meant before levels were
 * recorded). Each OID is recorded in ca.cnf with its level.
 */
enum cs_err
csa_config_set_extra(struct cs_ca *ca, const char *text, enum cs_err code)
{
	char buf[1024], *s, *save = NULL, *oid, canon[CS_CA_OID_MAX];
	enum cs_ca_level lv;
	size_t i;

	if (text == NULL || *text == '\0')
		return CS_OK;
	if (strlen(text) >= sizeof(buf))
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
		    "extra policies too long");
	snprintf(buf, sizeof(buf), "%s", text);
	for (s = strtok_r(buf, ",", &save); s != NULL;
	     s = strtok_r(NULL, ",", &save)) {
		while (*s == ' ')
			s++;
		lv = CS_CA_LEVEL_HW_ATTESTED;
		if ((oid = strchr(s, '=')) != NULL) {
			*oid++ = '\0';
			if (cs_ca_level_parse(s, &lv) != CS_OK)
				return cs_ctx_fail(ca->ctx, code,
				    "extra policy: '%.40s' is not a level", s);
		} else
			oid = s;
		if (csa_oid_parse(oid, CSA_OID_LONG_ARCS | CSA_OID_POLICY,
		        canon, sizeof(canon)) != CS_OK)
			return cs_ctx_fail(ca->ctx, code,
			    "extra policy '%.64s' is not a specific OID", oid);
		oid = canon;
		if (oid_taken(ca, oid, ca->nsubs))
			return cs_ctx_fail(ca->ctx, code,
			    "extra policy %s is already a level or sub-level "
			    "OID of this CA",
			    oid);
		for (i = 0; i < ca->nextra; i++)
			if (csa_oid_eq(ca->extra[i].oid, oid))
				return cs_ctx_fail(ca->ctx, code,
				    "extra policy %s given twice", oid);
		if (ca->nextra >= CSA_EXTRA_MAX)
			return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
			    "more than %d extra policies", CSA_EXTRA_MAX);
		snprintf(ca->extra[ca->nextra].oid, CS_CA_OID_MAX, "%s", oid);
		ca->extra[ca->nextra++].level = lv;
	}
	return CS_OK;
}

/* ca.cnf [sublevels] NAME = pin:P,touch:T,oid:OID, in definition order. */
static enum cs_err
read_sublevels(struct cs_ca *ca, CONF *conf, const char *path)
{
	STACK_OF(CONF_VALUE) * sec;
	struct cs_ca_sublevel s;
	CONF_VALUE *cv;
	char why[CS_CA_REASON_MAX];
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((sec = NCONF_get_section(conf, "sublevels")) == NULL) {
		ERR_clear_error();
		return CS_OK;
	}
	for (i = 0; i < sk_CONF_VALUE_num(sec); i++) {
		cv = sk_CONF_VALUE_value(sec, i);
		if ((r = csa_sublevel_parse_value(ca->ctx, cv->name, cv->value,
		         &s)) == CS_OK &&
		    s.oid[0] == '\0')
			r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
			    "%.40s: no oid", cv->name);
		if (r == CS_OK)
			r = add_sublevel(ca, &s);
		if (r != CS_OK) {
			snprintf(why, sizeof(why), "%s",
			    cs_ctx_errmsg(ca->ctx));
			return cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
			    "%s: [sublevels]: %s", path, why);
		}
	}
	return CS_OK;
}

/*
 * allow_long_oid_arcs = yes | no (written by ca init since the option
 * exists). Absent, a CA whose OIDs exceed the portable limits is one from
 * before: it keeps issuing (its CA certificates already assert those
 * OIDs) and the CLI warns (ca/README.md "OIDs").
 */
static enum cs_err
read_oid_arcs(struct cs_ca *ca, CONF *conf, const char *path)
{
	char oid[CS_CA_OID_MAX], why[CS_CA_REASON_MAX];
	const char *v, *what;

	if ((v = NCONF_get_string(conf, "ca", "allow_long_oid_arcs")) == NULL) {
		ERR_clear_error();
		ca->oid_arcs = find_long_oid(ca, oid, sizeof(oid), &what)
		    ? CS_CA_OID_ARCS_LEGACY
		    : CS_CA_OID_ARCS_SHORT;
		return CS_OK;
	}
	if (strcmp(v, "yes") == 0)
		return csa_config_check_oids(ca, true);
	if (strcmp(v, "no") != 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
		    "%s: allow_long_oid_arcs must be yes or no", path);
	if (csa_config_check_oids(ca, false) != CS_OK) {
		snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ca->ctx));
		return cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
		    "%s: allow_long_oid_arcs = no, but %s", path, why);
	}
	return CS_OK;
}

enum cs_err
csa_config_read(struct cs_ca *ca)
{
	char path[CSA_PATH_MAX];
	static const struct {
		const char *key;
		enum cs_ca_level level;
	} keys[] = {
		{ "oid_hardware_attested", CS_CA_LEVEL_HW_ATTESTED },
		{ "oid_hardware_enrolled", CS_CA_LEVEL_HW_ENROLLED },
		{ "oid_software", CS_CA_LEVEL_SOFTWARE },
	};
	CONF *conf = NULL;
	char why[CS_CA_REASON_MAX], oid[CS_CA_OID_MAX];
	uint8_t *text = NULL;
	size_t len = 0;
	const char *v;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "ca.cnf")) !=
	    CS_OK)
		return r;
	if (!csa_file_exists(path))
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "%s: not a cardsmith CA directory (no ca.cnf; run "
		    "'cardsmith ca init')",
		    ca->dir);
	/* Read without $ENV:: expansion or .include (profile.c). */
	if ((r = cs_file_read(ca->ctx, path, CS_CA_INPUT_MAX, &text, &len)) !=
	        CS_OK ||
	    (r = csa_conf_parse(ca->ctx, path, text, len, &conf)) != CS_OK)
		goto out;
	if ((v = NCONF_get_string(conf, "ca", "arc")) == NULL ||
	    !csa_config_set_arc(ca, v)) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED, "%s: bad arc", path);
		goto out;
	}
	csa_config_set_oids(ca);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if ((v = NCONF_get_string(conf, "ca", keys[i].key)) != NULL &&
		    csa_oid_parse(v, CSA_OID_LONG_ARCS | CSA_OID_POLICY, oid,
		        sizeof(oid)) == CS_OK)
			memcpy(ca->oid[keys[i].level], oid, sizeof(oid));
	if ((r = read_sublevels(ca, conf, path)) != CS_OK)
		goto out;
	/* Written by ca init since levels are recorded; absent before. */
	if ((v = NCONF_get_string(conf, "ca", "extra_policies")) != NULL &&
	    (r = csa_config_set_extra(ca, v, CS_ERR_MALFORMED)) != CS_OK) {
		snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ca->ctx));
		r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED, "%s: %s", path, why);
		goto out;
	}
	if ((r = read_oid_arcs(ca, conf, path)) != CS_OK)
		goto out;
	ERR_clear_error();
	r = CS_OK;
out:
	ERR_clear_error();
	NCONF_free(conf);
	cs_free(text);
	return r;
}
