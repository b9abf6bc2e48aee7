/*
 * Issuance profiles: OpenSSL NCONF text with an extension section in the
 * X509V3 syntax (the lines `openssl x509 -extfile` understands) and a
 * [cardsmith] section for policy. Unknown [cardsmith] keys are errors, so
 * a typo never silently weakens a profile. The NCONF text itself is read
 * by conf.c (csa_conf_parse), which refuses expansion and includes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "cardsmith/file.h"

#include "ca_int.h"

#include "banned.h"

#define PROFILE_TMPL_MAX 1024

struct cs_ca_profile {
	struct cs_ca_profile_info info;
	CONF *conf;
	char subject[PROFILE_TMPL_MAX];
	char san[PROFILE_TMPL_MAX];
	char ext_section[64];
};

struct named {
	const char *name;
	unsigned int v;
};

static const struct named alg_names[] = {
	{ "p256", CS_CA_ALG_P256 },
	{ "p384", CS_CA_ALG_P384 },
	{ "rsa2048", CS_CA_ALG_RSA2048 },
	{ "rsa3072", CS_CA_ALG_RSA3072 },
	{ "rsa4096", CS_CA_ALG_RSA4096 },
	{ "ed25519", CS_CA_ALG_ED25519 },
	{ NULL, 0 },
};
static const struct named pin_names[] = {
	{ "never", 1 },
	{ "once", 2 },
	{ "always", 3 },
	{ "match-once", 4 },
	{ "match-always", 5 },
	{ NULL, 0 },
};
static const struct named touch_names[] = {
	{ "never", 1 },
	{ "always", 2 },
	{ "cached", 3 },
	{ NULL, 0 },
};
static const struct named fw_names[] = {
	{ "ignore", CS_CA_FW_IGNORE },
	{ "warn", CS_CA_FW_WARN },
	{ "deny", CS_CA_FW_DENY },
	{ NULL, 0 },
};

static bool
lookup(const struct named *t, const char *s, unsigned int *v)
{
	for (; t->name != NULL; t++)
		if (strcmp(t->name, s) == 0) {
			*v = t->v;
			return true;
		}
	return false;
}

typedef enum cs_err item_fn(struct cs_ctx *, const char *, const char *,
    const char *, void *);

/* An item of a profile key's list, with the profile and key it is in. */
struct item_call {
	struct cs_ctx *ctx;
	const char *pname, *key;
	item_fn *fn;
	void *arg;
};

static enum cs_err
call_item(char *it, void *arg)
{
	const struct item_call *c = arg;

	return c->fn(c->ctx, c->pname, c->key, it, c->arg);
}

/* Apply fn to each comma-separated, space-trimmed item of s. */
static enum cs_err
each_item(struct cs_ctx *ctx, const char *pname, const char *key, const char *s,
    item_fn *fn, void *arg)
{
	struct item_call c = { ctx, pname, key, fn, arg };
	char what[512];

	snprintf(what, sizeof(what), "profile %s: %s", pname, key);
	return csa_list_each(ctx, what, s, call_item, &c);
}

static enum cs_err
add_slot(struct cs_ctx *ctx, const char *pname, const char *key, const char *it,
    void *arg)
{
	uint32_t *slots = arg;
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(it, &end, 16);
	if (errno != 0 || *end != '\0' || v < 0x80 || v > 0x9f)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: %s: '%s' is not a PIV key slot (82..9e)",
		    pname, key, it);
	*slots |= (uint32_t)1 << (v - 0x80);
	return CS_OK;
}

static enum cs_err
add_alg(struct cs_ctx *ctx, const char *pname, const char *key, const char *it,
    void *arg)
{
	uint32_t *algs = arg;
	unsigned int v;

	if (!lookup(alg_names, it, &v))
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: %s: unknown algorithm '%s'", pname, key, it);
	*algs |= v;
	return CS_OK;
}

static enum cs_err
add_sublevel(struct cs_ctx *ctx, const char *pname, const char *key,
    const char *it, void *arg)
{
	struct cs_ca_profile_info *in = arg;
	size_t i;

	if (!csa_sublevel_name_ok(it))
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: %s: '%.40s' is not a sub-level name", pname,
		    key, it);
	for (i = 0; i < in->nsublevels; i++)
		if (strcmp(in->sublevels[i], it) == 0)
			return CS_OK;
	if (in->nsublevels >= CS_CA_SUBLEVEL_MAX)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT,
		    "profile %s: %s: more than %d", pname, key,
		    CS_CA_SUBLEVEL_MAX);
	snprintf(in->sublevels[in->nsublevels++], CS_CA_SUBLEVEL_NAME_MAX, "%s",
	    it);
	return CS_OK;
}

static const struct named csr_san_names[] = {
	{ "email", CS_CA_CSR_SAN_EMAIL },
	{ "upn", CS_CA_CSR_SAN_UPN },
	{ "dns", CS_CA_CSR_SAN_DNS },
	{ NULL, 0 },
};

static enum cs_err
add_csr_san(struct cs_ctx *ctx, const char *pname, const char *key,
    const char *it, void *arg)
{
	uint32_t *bits = arg;
	unsigned int v;

	if (strcmp(it, "none") == 0)
		return CS_OK;
	if (!lookup(csr_san_names, it, &v))
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: %s: '%.40s' is not a SAN type a CSR may "
		    "supply (email, upn, dns)",
		    pname, key, it);
	*bits |= v;
	return CS_OK;
}

/*
 * A subject attribute the CSR may supply, by OpenSSL name ("O" or
 * "organizationName"), kept as its short name. CN is always there as
 * %{cn}; the variable of the others is the short name in lower case,
 * which must not shadow a variable with another source.
 */
static enum cs_err
add_csr_subject(struct cs_ctx *ctx, const char *pname, const char *key,
    const char *it, void *arg)
{
	static const char *const taken[] = { "card_serial", "slot", "email",
		"upn", "dns" };
	struct cs_ca_profile_info *in = arg;
	char var[32];
	const char *sn;
	size_t i;
	int nid;

	nid = OBJ_txt2nid(it);
	ERR_clear_error();
	if (nid == NID_undef || (sn = OBJ_nid2sn(nid)) == NULL ||
	    strlen(sn) >= sizeof(var))
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: %s: '%.40s' is not a subject attribute name",
		    pname, key, it);
	if (nid == NID_commonName)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: %s: CN is always the template variable "
		    "%%{cn}; list the other attributes only",
		    pname, key);
	for (i = 0; sn[i] != '\0'; i++)
		var[i] =
		    (char)(sn[i] >= 'A' && sn[i] <= 'Z' ? sn[i] + 32 : sn[i]);
	var[i] = '\0';
	for (i = 0; i < sizeof(taken) / sizeof(*taken); i++)
		if (strcmp(taken[i], var) == 0)
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "profile %s: %s: %s would shadow %%{%s}", pname,
			    key, sn, var);
	for (i = 0; i < in->ncsr_subject; i++)
		if (strcmp(in->csr_subject[i], sn) == 0)
			return CS_OK;
	if (in->ncsr_subject >= CS_CA_CSR_SUBJECT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT,
		    "profile %s: %s: more than %d", pname, key,
		    CS_CA_CSR_SUBJECT_MAX);
	snprintf(in->csr_subject[in->ncsr_subject++],
	    sizeof(in->csr_subject[0]), "%s", sn);
	return CS_OK;
}

static bool
yesno(const char *s, bool *v)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0) {
		*v = true;
		return true;
	}
	if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0) {
		*v = false;
		return true;
	}
	return false;
}

static enum cs_err
bad(struct cs_ctx *ctx, const char *pname, const char *key, const char *v)
{
	return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
	    "profile %s: [cardsmith] %s: bad value '%.64s'", pname, key, v);
}

static enum cs_err
set_str(struct cs_ctx *ctx, const char *pname, const char *key, const char *v,
    char *dst, size_t cap)
{
	if (strlen(v) >= cap)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "profile %s: %s too long",
		    pname, key);
	snprintf(dst, cap, "%s", v);
	return CS_OK;
}

static enum cs_err
set_fw(struct cs_ctx *ctx, const char *pname, const char *key, const char *v,
    uint8_t *dst)
{
	unsigned int a;

	if (!lookup(fw_names, v, &a))
		return bad(ctx, pname, key, v);
	*dst = (uint8_t)a;
	return CS_OK;
}

/*
 * A profile's policy OID must be written canonically: OpenSSL reads
 * "1.1.01", "1.1.1." and "1..1" too, and a spelling that differs from the
 * CA's own OIDs as a string must never slip past a comparison (assurance.c
 * compares parsed objects as well). Never anyPolicy, in any spelling.
 */
static enum cs_err
set_policy_oid(struct cs_ctx *ctx, const char *pname, const char *key,
    const char *v, char *dst, size_t cap)
{
	char canon[CS_CA_OID_MAX];

	if (csa_oid_parse(v, CSA_OID_LONG_ARCS, canon, sizeof(canon)) != CS_OK)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: [cardsmith] %s: bad value '%.64s' (not an OID "
		    "written canonically: decimal arcs joined by single dots, "
		    "without leading zeros, signs or spaces)",
		    pname, key, v);
	if (strcmp(canon, v) != 0)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: [cardsmith] %s: '%.64s' is not written "
		    "canonically; a profile OID must be (write %s: decimal "
		    "arcs without leading zeros, signs or spaces)",
		    pname, key, v, canon);
	if (csa_oid_is_any_policy(v))
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: [cardsmith] %s: bad value '%.64s' "
		    "(anyPolicy is never a leaf's policy)",
		    pname, key, v);
	return set_str(ctx, pname, key, v, dst, cap);
}

/* One [cardsmith] key = value. */
static enum cs_err
set_key(struct cs_ctx *ctx, struct cs_ca_profile *p, const char *k,
    const char *v)
{
	struct cs_ca_profile_info *in = &p->info;
	const char *pn = in->name;
	enum cs_ca_level lv;
	unsigned int u;
	unsigned long d;
	char *end;

	if (strcmp(k, "level") == 0 || strcmp(k, "max_level") == 0) {
		if (cs_ca_level_parse(v, &lv) != CS_OK)
			return bad(ctx, pn, k, v);
		*(k[0] == 'l' ? &in->level : &in->max_level) = lv;
	} else if (strcmp(k, "slots") == 0)
		return each_item(ctx, pn, k, v, add_slot, &in->slots);
	else if (strcmp(k, "algs") == 0)
		return each_item(ctx, pn, k, v, add_alg, &in->algs);
	else if (strcmp(k, "sublevels") == 0)
		return each_item(ctx, pn, k, v, add_sublevel, in);
	else if (strcmp(k, "csr_san") == 0)
		return each_item(ctx, pn, k, v, add_csr_san, &in->csr_san);
	else if (strcmp(k, "csr_subject") == 0)
		return each_item(ctx, pn, k, v, add_csr_subject, in);
	else if (strcmp(k, "min_pin_policy") == 0) {
		if (!lookup(pin_names, v, &u))
			return bad(ctx, pn, k, v);
		in->min_pin_policy = (uint8_t)u;
	} else if (strcmp(k, "min_touch_policy") == 0) {
		if (!lookup(touch_names, v, &u))
			return bad(ctx, pn, k, v);
		in->min_touch_policy = (uint8_t)u;
	} else if (strcmp(k, "validity_days") == 0) {
		errno = 0;
		d = strtoul(v, &end, 10);
		if (errno != 0 || *end != '\0' || d == 0 || d > 36500)
			return bad(ctx, pn, k, v);
		in->validity_days = (unsigned int)d;
	} else if (strcmp(k, "policy_oid") == 0)
		return set_policy_oid(ctx, pn, k, v, in->policy_oid,
		    sizeof(in->policy_oid));
	else if (strcmp(k, "permanent_identifier") == 0) {
		if (!yesno(v, &in->permanent_identifier))
			return bad(ctx, pn, k, v);
	} else if (strcmp(k, "marker") == 0) {
		if (!yesno(v, &in->marker))
			return bad(ctx, pn, k, v);
	} else if (strcmp(k, "firmware_roca") == 0)
		return set_fw(ctx, pn, k, v, &in->fw_roca);
	else if (strcmp(k, "firmware_ysa_2024_03") == 0)
		return set_fw(ctx, pn, k, v, &in->fw_ysa_2024_03);
	else if (strcmp(k, "firmware_fips_rng") == 0)
		return set_fw(ctx, pn, k, v, &in->fw_fips_rng);
	else if (strcmp(k, "subject") == 0)
		return set_str(ctx, pn, k, v, p->subject, sizeof(p->subject));
	else if (strcmp(k, "san") == 0)
		return set_str(ctx, pn, k, v, p->san, sizeof(p->san));
	else if (strcmp(k, "extensions") == 0)
		return set_str(ctx, pn, k, v, p->ext_section,
		    sizeof(p->ext_section));
	else
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: [cardsmith] unknown key '%.64s'", pn, k);
	return CS_OK;
}

/*
 * Extensions the CA sets itself and a profile must not, compared by NID so
 * that a long name or a numeric OID line ("2.5.29.17 = DER:...") is caught
 * too.
 */
static const struct {
	int nid;
	const char *use; /* the [cardsmith] key to use instead */
} reserved_ext[] = {
	{ NID_certificate_policies, "policy_oid" },
	{ NID_subject_alt_name, "san" },
	{ NID_info_access, NULL },
};

/* Extensions that constrain a CA's issuance: never in a leaf profile. */
static bool
ca_only_ext(int nid)
{
	return nid == NID_name_constraints || nid == NID_policy_mappings ||
	    nid == NID_policy_constraints || nid == NID_inhibit_any_policy;
}

static enum cs_err
check_extensions(struct cs_ctx *ctx, struct cs_ca_profile *p)
{
	STACK_OF(CONF_VALUE) * sec;
	CONF_VALUE *cv;
	X509V3_CTX v3;
	size_t j;
	int i, nid;

	sec = NCONF_get_section(p->conf, p->ext_section);
	if (sec == NULL) {
		ERR_clear_error();
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: no [%s] extension section", p->info.name,
		    p->ext_section);
	}
	for (i = 0; i < sk_CONF_VALUE_num(sec); i++) {
		cv = sk_CONF_VALUE_value(sec, i);
		nid = OBJ_txt2nid(cv->name);
		ERR_clear_error();
		if (ca_only_ext(nid))
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "profile %s: [%s] %.64s (%s) belongs on CA "
			    "certificates only (RFC 5280 4.2.1); a profile "
			    "issues leaf certificates",
			    p->info.name, p->ext_section, cv->name,
			    OBJ_nid2sn(nid));
		for (j = 0; nid != NID_undef &&
		     j < sizeof(reserved_ext) / sizeof(*reserved_ext);
		     j++)
			if (nid == reserved_ext[j].nid)
				return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
				    "profile %s: [%s] %.64s (%s) is set by "
				    "the CA%s%s%s",
				    p->info.name, p->ext_section, cv->name,
				    OBJ_nid2sn(nid),
				    reserved_ext[j].use != NULL
				        ? " (use [cardsmith] "
				        : "",
				    reserved_ext[j].use != NULL
				        ? reserved_ext[j].use
				        : "",
				    reserved_ext[j].use != NULL ? ")" : "");
	}
	X509V3_set_ctx(&v3, NULL, NULL, NULL, NULL, X509V3_CTX_TEST);
	X509V3_set_nconf(&v3, p->conf);
	if (!X509V3_EXT_add_nconf(p->conf, &v3, p->ext_section, NULL))
		return cs_ctx_fail_crypto(ctx, CS_ERR_MALFORMED,
		    "profile %s: [%s] does not parse", p->info.name,
		    p->ext_section);
	return CS_OK;
}

static enum cs_err
parse_cardsmith(struct cs_ctx *ctx, struct cs_ca_profile *p)
{
	STACK_OF(CONF_VALUE) * sec;
	CONF_VALUE *cv;
	bool have_level = false;
	enum cs_err r = CS_ERR_INTERNAL;
	int i;

	if ((sec = NCONF_get_section(p->conf, "cardsmith")) == NULL) {
		ERR_clear_error();
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: no [cardsmith] section", p->info.name);
	}
	for (i = 0; i < sk_CONF_VALUE_num(sec); i++) {
		cv = sk_CONF_VALUE_value(sec, i);
		if (strcmp(cv->name, "level") == 0)
			have_level = true;
		if ((r = set_key(ctx, p, cv->name, cv->value)) != CS_OK)
			return r;
	}
	if (!have_level)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: [cardsmith] level is required", p->info.name);
	if (p->info.max_level < p->info.level)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: max_level is below level", p->info.name);
	/* One OID can only name one level. */
	if (p->info.policy_oid[0] != '\0' && p->info.max_level != p->info.level)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: policy_oid needs max_level = level",
		    p->info.name);
	/* Sub-levels refine hardware-attested with their own OIDs. */
	if (p->info.nsublevels > 0 &&
	    (p->info.policy_oid[0] != '\0' ||
	        p->info.max_level != CS_CA_LEVEL_HW_ATTESTED))
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
		    "profile %s: sublevels need max_level = hardware-attested "
		    "and no policy_oid",
		    p->info.name);
	return CS_OK;
}

enum cs_err
cs_ca_profile_parse(struct cs_ctx *ctx, const char *name, const uint8_t *text,
    size_t len, struct cs_ca_profile **out)
{
	struct cs_ca_profile *p = NULL;
	char what[80];
	CONF *conf = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	snprintf(what, sizeof(what), "profile %.64s",
	    name != NULL ? name : "?");
	if ((r = csa_conf_parse(ctx, what, text, len, &conf)) != CS_OK)
		return r;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		NCONF_free(conf);
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "profile");
	}
	p->conf = conf;
	snprintf(p->info.name, sizeof(p->info.name), "%s",
	    name != NULL ? name : "profile");
	p->info.max_level = CS_CA_LEVEL_HW_ATTESTED;
	p->info.validity_days = 365;
	p->info.fw_roca = CS_CA_FW_DENY;
	p->info.fw_ysa_2024_03 = CS_CA_FW_WARN;
	p->info.fw_fips_rng = CS_CA_FW_DENY;
	snprintf(p->ext_section, sizeof(p->ext_section), "extensions");
	if ((r = parse_cardsmith(ctx, p)) != CS_OK ||
	    (r = check_extensions(ctx, p)) != CS_OK)
		goto out;
	*out = p;
	p = NULL;
	r = CS_OK;
out:
	ERR_clear_error();
	cs_ca_profile_free(p);
	return r;
}

void
cs_ca_profile_free(struct cs_ca_profile *p)
{
	if (p == NULL)
		return;
	NCONF_free(p->conf);
	free(p);
}

void
cs_ca_profile_get_info(const struct cs_ca_profile *p,
    struct cs_ca_profile_info *info)
{
	*info = p->info;
}

void
csa_profile_view(const struct cs_ca_profile *p, struct csa_profile_view *v)
{
	v->info = &p->info;
	v->subject_tmpl = p->subject[0] != '\0' ? p->subject : NULL;
	v->san_tmpl = p->san[0] != '\0' ? p->san : NULL;
	v->ext_section = p->ext_section;
	v->conf = p->conf;
}

static bool
safe_name(const char *s)
{
	size_t i;

	if (*s == '\0' || strlen(s) > 48)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		        s[i] == '_'))
			return false;
	return true;
}

enum cs_err
cs_ca_profile_load(struct cs_ca *ca, const char *name,
    struct cs_ca_profile **out)
{
	char path[CSA_PATH_MAX], label[64];
	const char *base;
	uint8_t *text = NULL;
	size_t len = 0, n;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (name == NULL || *name == '\0')
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "no profile given");
	n = strlen(name);
	if (strchr(name, '/') != NULL ||
	    (n > 4 && strcmp(name + n - 4, ".cnf") == 0)) {
		if (snprintf(path, sizeof(path), "%s", name) >=
		    (int)sizeof(path))
			return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "profile path");
	} else {
		if (!safe_name(name))
			return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
			    "profile name '%.64s': use [a-z0-9_-] or a path",
			    name);
		if (snprintf(path, sizeof(path), "%s/profiles/%s.cnf", ca->dir,
		        name) >= (int)sizeof(path))
			return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "profile path");
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	snprintf(label, sizeof(label), "%.60s", base);
	n = strlen(label);
	if (n > 4 && strcmp(label + n - 4, ".cnf") == 0)
		label[n - 4] = '\0';
	if ((r = cs_file_read(ca->ctx, path, CS_CA_INPUT_MAX, &text, &len)) !=
	    CS_OK) {
		if (r == CS_ERR_NOT_FOUND)
			r = cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
			    "profile %s: %s not found", label, path);
		return r;
	}
	r = cs_ca_profile_parse(ca->ctx, label, text, len, out);
	cs_free(text);
	if (r == CS_OK &&
	    (r = csa_profile_check_sublevels(ca, *out)) != CS_OK) {
		cs_ca_profile_free(*out);
		*out = NULL;
	}
	return r;
}

enum cs_err
csa_profile_check_sublevels(struct cs_ca *ca, const struct cs_ca_profile *p)
{
	size_t i, j;

	for (i = 0; i < p->info.nsublevels; i++) {
		for (j = 0; j < ca->nsubs; j++)
			if (strcmp(ca->subs[j].name, p->info.sublevels[i]) == 0)
				break;
		if (j == ca->nsubs)
			return cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
			    "profile %s: sub-level %s is not defined by this "
			    "CA (sub-levels are fixed at 'ca init --sublevel')",
			    p->info.name, p->info.sublevels[i]);
	}
	return CS_OK;
}
