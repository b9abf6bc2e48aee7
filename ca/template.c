/*
 * Template expansion for issuance: the variables a profile's subject and
 * SAN templates may use (the caller's --var values and what the profile
 * lets through from the CSR), each value checked and escaped for where it
 * goes, and ${name} expansion.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

#define OID_UPN "1.3.6.1.4.1.311.20.2.3"

static struct csa_var *
var_find(struct csa_vars *vs, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		if (vs->v[i].nlen == nlen &&
		    strncmp(vs->v[i].name, name, nlen) == 0)
			return &vs->v[i];
	return NULL;
}

static enum cs_err
var_add(struct cs_ctx *ctx, struct csa_vars *vs, const char *name, size_t nlen,
    const char *value, bool given)
{
	struct csa_var *v = var_find(vs, name, nlen);

	if (v == NULL) {
		if (vs->n >= CSA_VARS_MAX)
			return cs_ctx_fail(ctx, CS_ERR_LIMIT,
			    "more than %d template variables", CSA_VARS_MAX);
		v = &vs->v[vs->n++];
	}
	*v = (struct csa_var){ name, nlen, value, given };
	return CS_OK;
}

/* A NUL-terminated copy of n bytes in vs->store; NULL when full. */
static const char *
store(struct csa_vars *vs, const void *p, size_t n)
{
	char *s;

	if (n >= sizeof(vs->store) - vs->used)
		return NULL;
	s = vs->store + vs->used;
	memcpy(s, p, n);
	s[n] = '\0';
	vs->used += n + 1;
	return s;
}

/*
 * Is a value fit for a template: no NUL (it would cut the C string the
 * template works on), no C0 or C1 control character, no DEL? utf8: the
 * bytes are UTF-8 (U+0080..U+009F are C2 80..C2 9F); else plain ASCII.
 */
static bool
value_ok(const unsigned char *p, size_t n, bool utf8)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || (!utf8 && p[i] >= 0x80))
			return false;
		if (utf8 && p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

/* For messages: at most cap - 1 bytes, controls and (unless utf8) non-ASCII
 * as \xNN, never cutting a UTF-8 sequence. */
static void
escape(const unsigned char *p, size_t n, bool utf8, char *dst, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < cap; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' ||
		    (!utf8 && p[i] >= 0x80)) {
			snprintf(dst + o, cap - o, "\\x%02x", p[i]);
			o += 4;
		} else
			dst[o++] = (char)p[i];
	}
	if (i < n) {
		while (o > 0 && ((unsigned char)dst[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && (unsigned char)dst[o - 1] >= 0xc0)
			o--;
		snprintf(dst + o, cap - o, "...");
		return;
	}
	dst[o] = '\0';
}

static enum cs_err drop(struct cs_ctx *ctx, struct csa_vars *vs,
    const char *field, const char *value, const char *fmt, ...) CS_PRINTF(5, 6);

/* List a requested value the certificate will not carry, and why. */
static enum cs_err
drop(struct cs_ctx *ctx, struct csa_vars *vs, const char *field,
    const char *value, const char *fmt, ...)
{
	struct cs_ca_issue_res *res = vs->res;
	struct cs_ca_dropped *d;
	va_list ap;

	if (res->ndropped >= CS_CA_DROPPED_MAX) {
		res->dropped_more++;
		return CS_OK;
	}
	if (res->dropped == NULL &&
	    (res->dropped = calloc(CS_CA_DROPPED_MAX, sizeof(*d))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "dropped values");
	d = &res->dropped[res->ndropped++];
	snprintf(d->field, sizeof(d->field), "%s", field);
	snprintf(d->value, sizeof(d->value), "%s", value);
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	return CS_OK;
}

/* Does template t (may be NULL) use %{name}? */
static bool
tmpl_uses(const char *t, const char *name)
{
	size_t n = strlen(name);

	for (; t != NULL && (t = strstr(t, "%{")) != NULL; t += 2)
		if (strncmp(t + 2, name, n) == 0 && t[2 + n] == '}')
			return true;
	return false;
}

static bool
used_by_templates(const struct csa_vars *vs, const char *name)
{
	return tmpl_uses(vs->pv->subject_tmpl, name) ||
	    tmpl_uses(vs->pv->san_tmpl, name);
}

/*
 * Variables taken from the evidence or the CSR: a caller's --var never
 * replaces them, or a certificate could state a card serial (or slot, or
 * name) the attestation never proved.
 */
static bool
var_reserved(const char *name, size_t nlen)
{
	static const char *const reserved[] = { "cn", "card_serial", "slot" };
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strlen(reserved[i]) == nlen &&
		    strncmp(reserved[i], name, nlen) == 0)
			return true;
	return false;
}

/* A CSR string as UTF-8 for display (controls escaped). */
static void
string_text(const ASN1_STRING *s, char *dst, size_t cap)
{
	unsigned char *u = NULL;
	int len;

	if ((len = ASN1_STRING_to_UTF8(&u, s)) >= 0) {
		escape(u, (size_t)len, true, dst, cap);
		OPENSSL_free(u);
		return;
	}
	ERR_clear_error();
	escape(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), false,
	    dst, cap);
}

/*
 * A CSR string as a template value: converted to UTF-8 and refused, never
 * cut, if it holds a NUL or a control character.
 */
static enum cs_err
string_value(struct cs_ctx *ctx, struct csa_vars *vs, const char *what,
    const ASN1_STRING *s, const char **out)
{
	char shown[96];
	unsigned char *u = NULL;
	int len;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((len = ASN1_STRING_to_UTF8(&u, s)) < 0) {
		ERR_clear_error();
		return cs_ctx_fail(ctx, CS_ERR_POLICY,
		    "CSR %s is not a valid string", what);
	}
	if (!value_ok(u, (size_t)len, true)) {
		escape(u, (size_t)len, true, shown, sizeof(shown));
		r = cs_ctx_fail(ctx, CS_ERR_POLICY,
		    "CSR %s '%s' contains a NUL or control character: refused "
		    "(a value is never cut)",
		    what, shown);
	} else if ((*out = store(vs, u, (size_t)len)) == NULL)
		r = cs_ctx_fail(ctx, CS_ERR_LIMIT, "CSR %s is too long", what);
	else
		r = CS_OK;
	OPENSSL_free(u);
	return r;
}

/* --- the CSR's subjectAltName --- */

struct san_type {
	const char *field; /* "san.email" */
	const char *what; /* for messages */
	uint32_t bit; /* enum cs_ca_csr_san, 0: never taken */
};

static struct san_type
san_type(const GENERAL_NAME *g)
{
	ASN1_OBJECT *o = NULL;

	switch (g->type) {
	case GEN_EMAIL:
		return (struct san_type){ "san.email", "email",
			CS_CA_CSR_SAN_EMAIL };
	case GEN_DNS:
		return (struct san_type){ "san.dns", "DNS", CS_CA_CSR_SAN_DNS };
	case GEN_OTHERNAME:
		GENERAL_NAME_get0_otherName(g, &o, NULL);
		if (csa_oid_obj_eq(o, OID_UPN))
			return (struct san_type){ "san.upn", "UPN",
				CS_CA_CSR_SAN_UPN };
		if (csa_oid_obj_eq(o, CSA_OID_PERMANENT_ID))
			return (struct san_type){ "san.permanent_identifier",
				"permanentIdentifier", 0 };
		return (struct san_type){ "san.othername", "otherName", 0 };
	case GEN_URI:
		return (struct san_type){ "san.uri", "URI", 0 };
	case GEN_IPADD:
		return (struct san_type){ "san.ip", "IP address", 0 };
	case GEN_DIRNAME:
		return (struct san_type){ "san.dirname", "directory name", 0 };
	case GEN_RID:
		return (struct san_type){ "san.rid", "registered ID", 0 };
	default:
		return (struct san_type){ "san.other", "x400/EDI party", 0 };
	}
}

/* One SAN entry as text, for the dropped list. */
static void
san_text(const GENERAL_NAME *g, char *dst, size_t cap)
{
	ASN1_TYPE *v = NULL;
	BIO *b;
	char *p = NULL;
	long n;

	dst[0] = '\0';
	switch (g->type) {
	case GEN_EMAIL:
	case GEN_DNS:
	case GEN_URI:
		escape(ASN1_STRING_get0_data(g->d.ia5),
		    (size_t)ASN1_STRING_length(g->d.ia5), false, dst, cap);
		return;
	case GEN_OTHERNAME:
		GENERAL_NAME_get0_otherName(g, NULL, &v);
		if (v != NULL && v->type == V_ASN1_UTF8STRING) {
			string_text(v->value.utf8string, dst, cap);
			return;
		}
		break;
	default:
		break;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (GENERAL_NAME_print(b, (GENERAL_NAME *)g) > 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		escape((const unsigned char *)p, (size_t)n, true, dst, cap);
	BIO_free(b);
	ERR_clear_error();
}

static const char *
san_var(uint32_t bit)
{
	return bit == CS_CA_CSR_SAN_EMAIL ? "email"
	    : bit == CS_CA_CSR_SAN_UPN    ? "upn"
	                                  : "dns";
}

/* The value of an allowed entry: refused, never cut, if unfit. */
static enum cs_err
san_value(struct cs_ctx *ctx, struct csa_vars *vs, const GENERAL_NAME *g,
    const struct san_type *t, const char **out)
{
	ASN1_TYPE *v = NULL;
	const ASN1_STRING *s;
	char shown[96];

	*out = NULL;
	if (g->type == GEN_OTHERNAME) {
		GENERAL_NAME_get0_otherName(g, NULL, &v);
		if (v == NULL || v->type != V_ASN1_UTF8STRING)
			return cs_ctx_fail(ctx, CS_ERR_POLICY,
			    "CSR subjectAltName UPN is not a UTF8String");
		return string_value(ctx, vs, "subjectAltName UPN",
		    v->value.utf8string, out);
	}
	s = g->d.ia5;
	if (ASN1_STRING_length(s) <= 0 ||
	    !value_ok(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
	        false)) {
		escape(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
		    false, shown, sizeof(shown));
		return cs_ctx_fail(ctx, CS_ERR_POLICY,
		    "CSR subjectAltName %s '%s' is empty or contains a NUL, "
		    "control or non-ASCII character: refused (a value is "
		    "never cut)",
		    t->what, shown);
	}
	if ((*out = store(vs, ASN1_STRING_get0_data(s),
	         (size_t)ASN1_STRING_length(s))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT,
		    "CSR subjectAltName %s is too long", t->what);
	return CS_OK;
}

/* Take one CSR SAN entry the profile allows, or list it as dropped. */
static enum cs_err
take_san(struct cs_ctx *ctx, struct csa_vars *vs, const GENERAL_NAME *g)
{
	const char *pname = vs->pv->info->name, *var, *value;
	struct san_type t = san_type(g);
	struct csa_var *given;
	char shown[CS_CA_NAME_MAX];
	GENERAL_NAME *dup;
	enum cs_err r = CS_ERR_INTERNAL;

	san_text(g, shown, sizeof(shown));
	if (strcmp(t.field, "san.permanent_identifier") == 0)
		return drop(ctx, vs, t.field, shown,
		    "the card serial comes only from the attestation");
	if (t.bit == 0)
		return drop(ctx, vs, t.field, shown,
		    "profile %s never takes %s SANs from a CSR (csr_san "
		    "allows email, upn, dns)",
		    pname, t.what);
	if ((vs->pv->info->csr_san & t.bit) == 0)
		return drop(ctx, vs, t.field, shown,
		    "profile %s does not allow %s SANs from the CSR (csr_san)",
		    pname, t.what);
	var = san_var(t.bit);
	if ((given = var_find(vs, var, strlen(var))) != NULL && given->given)
		return drop(ctx, vs, t.field, shown,
		    "--var %s replaces the CSR's %s", var, t.what);
	if ((r = san_value(ctx, vs, g, &t, &value)) != CS_OK)
		return r;
	if ((dup = GENERAL_NAME_dup(g)) == NULL ||
	    !sk_GENERAL_NAME_push(vs->take, dup)) {
		GENERAL_NAME_free(dup);
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "subjectAltName");
	}
	if (given == NULL)
		return var_add(ctx, vs, var, strlen(var), value, false);
	return CS_OK;
}

static enum cs_err
take_csr_san(struct cs_ctx *ctx, X509_REQ *csr, struct csa_vars *vs)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *gens = NULL;
	enum cs_err r = CS_ERR_INTERNAL;
	int i, crit = -1;

	if ((vs->take = GENERAL_NAMES_new()) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "subjectAltName");
		goto out;
	}
	if (exts != NULL)
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	ERR_clear_error();
	r = CS_OK;
	if (gens == NULL && crit != -1)
		r = drop(ctx, vs, "san", "", "%s",
		    crit == -2 ? "the CSR has more than one subjectAltName "
		                 "extension"
		               : "the CSR's subjectAltName does not decode");
	for (i = 0; r == CS_OK && i < sk_GENERAL_NAME_num(gens); i++)
		r = take_san(ctx, vs, sk_GENERAL_NAME_value(gens, i));
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

/* --- the CSR's subject --- */

/* "subject.O" and %{o} for an attribute (the dotted OID if unnamed). */
static void
attr_names(const X509_NAME_ENTRY *e, char *field, size_t fcap, char *var,
    size_t vcap)
{
	const ASN1_OBJECT *o = X509_NAME_ENTRY_get_object(e);
	const char *sn = OBJ_nid2sn(OBJ_obj2nid(o));
	char dotted[CS_CA_OID_MAX];
	size_t i;

	if (OBJ_obj2nid(o) == NID_undef || sn == NULL) {
		if (OBJ_obj2txt(dotted, sizeof(dotted), o, 1) <= 0)
			snprintf(dotted, sizeof(dotted), "?");
		sn = dotted;
	}
	snprintf(field, fcap, "subject.%.23s", sn);
	for (i = 0; sn[i] != '\0' && i + 1 < vcap; i++)
		var[i] =
		    (char)(sn[i] >= 'A' && sn[i] <= 'Z' ? sn[i] + 32 : sn[i]);
	var[i] = '\0';
	ERR_clear_error();
}

static bool
profile_takes(const struct cs_ca_profile_info *in, const char *field)
{
	size_t i;

	for (i = 0; i < in->ncsr_subject; i++)
		if (strcmp(in->csr_subject[i], field + 8) == 0)
			return true;
	return false;
}

/* One attribute of the CSR's subject: a variable, or listed as dropped. */
static enum cs_err
take_attr(struct cs_ctx *ctx, struct csa_vars *vs, const X509_NAME_ENTRY *e,
    const char *field, const char *var, const char *shown, bool *cn_seen)
{
	const char *pname = vs->pv->info->name, *attr = field + 8;
	const char *value, *name;
	char what[64];
	struct csa_var *v;
	enum cs_err r = CS_ERR_INTERNAL;

	if (strcmp(var, "cn") == 0) {
		if (*cn_seen)
			return drop(ctx, vs, field, shown,
			    "only the first CN is used (%%{cn})");
		*cn_seen = true;
		if (!used_by_templates(vs, "cn"))
			return drop(ctx, vs, field, shown,
			    "the templates of profile %s do not use %%{cn}",
			    pname);
		return CS_OK;
	}
	if (!profile_takes(vs->pv->info, field))
		return drop(ctx, vs, field, shown,
		    "profile %s does not take %s from the CSR (csr_subject)",
		    pname, attr);
	if ((v = var_find(vs, var, strlen(var))) != NULL && v->given)
		return drop(ctx, vs, field, shown,
		    "--var %s replaces the CSR's %s", var, attr);
	if (v != NULL)
		return drop(ctx, vs, field, shown,
		    "only the first %s is used (%%{%s})", attr, var);
	snprintf(what, sizeof(what), "subject %s", attr);
	if ((r = string_value(ctx, vs, what, X509_NAME_ENTRY_get_data(e),
	         &value)) != CS_OK)
		return r;
	if ((name = store(vs, var, strlen(var))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "CSR subject");
	if ((r = var_add(ctx, vs, name, strlen(name), value, false)) != CS_OK)
		return r;
	if (!used_by_templates(vs, var))
		return drop(ctx, vs, field, shown,
		    "the templates of profile %s do not use %%{%s}", pname,
		    var);
	return CS_OK;
}

/*
 * With a subject template, the CSR's subject attributes other than the
 * first CN reach the certificate only as variables the profile allows
 * (csr_subject) and the templates use; every other one is listed.
 */
static enum cs_err
take_csr_subject(struct cs_ctx *ctx, X509_REQ *csr, struct csa_vars *vs)
{
	const X509_NAME *n = X509_REQ_get_subject_name(csr);
	const X509_NAME_ENTRY *e;
	char field[48], var[40], shown[CS_CA_NAME_MAX];
	bool cn_seen = false;
	enum cs_err r = CS_ERR_INTERNAL;
	int i;

	for (i = 0; i < X509_NAME_entry_count(n); i++) {
		e = X509_NAME_get_entry(n, i);
		attr_names(e, field, sizeof(field), var, sizeof(var));
		string_text(X509_NAME_ENTRY_get_data(e), shown, sizeof(shown));
		if ((r = take_attr(ctx, vs, e, field, var, shown, &cn_seen)) !=
		    CS_OK)
			return r;
	}
	return CS_OK;
}

enum cs_err
csa_vars_build(struct cs_ctx *ctx, const struct cs_ca_issue_req *req,
    X509_REQ *csr, const struct cs_ca_decision *d,
    const struct csa_profile_view *pv, struct cs_ca_issue_res *res,
    struct csa_vars *vs)
{
	const X509_NAME *n = X509_REQ_get_subject_name(csr);
	const char *eq, *cn;
	size_t i;
	int idx;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(vs, 0, sizeof(*vs));
	vs->pv = pv;
	vs->res = res;
	if ((idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1)) >= 0) {
		if ((r = string_value(ctx, vs, "commonName",
		         X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx)),
		         &cn)) != CS_OK ||
		    (r = var_add(ctx, vs, "cn", 2, cn, false)) != CS_OK)
			return r;
	}
	if (d->has_card_serial) {
		snprintf(vs->card, sizeof(vs->card), "%llu",
		    (unsigned long long)d->card_serial);
		if ((r = var_add(ctx, vs, "card_serial", 11, vs->card,
		         false)) != CS_OK)
			return r;
	}
	if (d->slot >= 0) {
		snprintf(vs->slot, sizeof(vs->slot), "%02x",
		    (unsigned int)d->slot);
		if ((r = var_add(ctx, vs, "slot", 4, vs->slot, false)) != CS_OK)
			return r;
	}
	for (i = 0; req->vars != NULL && req->vars[i] != NULL; i++) {
		if ((eq = strchr(req->vars[i], '=')) == NULL ||
		    eq == req->vars[i])
			return cs_ctx_fail(ctx, CS_ERR_ARG,
			    "variable '%.40s' is "
			    "not name=value",
			    req->vars[i]);
		if (var_reserved(req->vars[i], (size_t)(eq - req->vars[i])))
			return cs_ctx_fail(ctx, CS_ERR_ARG,
			    "variable '%.*s' is reserved: its value comes from "
			    "the evidence or the CSR",
			    (int)(eq - req->vars[i]), req->vars[i]);
		if ((r = var_add(ctx, vs, req->vars[i],
		         (size_t)(eq - req->vars[i]), eq + 1, true)) != CS_OK)
			return r;
	}
	if ((r = take_csr_san(ctx, csr, vs)) != CS_OK)
		return r;
	if (pv->subject_tmpl != NULL &&
	    (r = take_csr_subject(ctx, csr, vs)) != CS_OK)
		return r;
	return CS_OK;
}

void
csa_vars_release(struct csa_vars *vs)
{
	GENERAL_NAMES_free(vs->take);
	vs->take = NULL;
}

static enum cs_err
put(struct cs_ctx *ctx, char *out, size_t cap, size_t *o, char c)
{
	if (*o + 1 >= cap)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT,
		    "template result too long");
	out[(*o)++] = c;
	out[*o] = '\0';
	return CS_OK;
}

static enum cs_err
put_value(struct cs_ctx *ctx, const struct csa_var *v, enum csa_tmpl_mode mode,
    char *out, size_t cap, size_t *o)
{
	const unsigned char *s = (const unsigned char *)v->value;
	enum cs_err r = CS_ERR_INTERNAL;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f ||
		    (mode == CSA_TMPL_SAN && (*s == ',' || *s == ';')))
			return cs_ctx_fail(ctx, CS_ERR_POLICY,
			    "template value for "
			    "%%{%.*s} contains a character not allowed here",
			    (int)v->nlen, v->name);
		/*
		 * cs_x509_name_parse reads "\c" as c in both of its forms:
		 * escape the separators, what RFC 4514 refuses unescaped and
		 * spaces (else dropped at the ends), so the value is verbatim.
		 */
		if (mode == CSA_TMPL_SUBJECT && strchr(",/\\+\"<>;#= ", *s) &&
		    (r = put(ctx, out, cap, o, '\\')) != CS_OK)
			return r;
		if ((r = put(ctx, out, cap, o, (char)*s)) != CS_OK)
			return r;
	}
	return CS_OK;
}

/* Why %{name} is unset: a dropped CSR value of that name, if any. */
static void
unset_hint(const struct csa_vars *vs, const char *name, size_t nlen, char *dst,
    size_t cap)
{
	const struct cs_ca_dropped *d;
	const char *dot;
	size_t i, k;

	for (i = 0; i < vs->res->ndropped; i++) {
		d = &vs->res->dropped[i];
		if ((dot = strchr(d->field, '.')) == NULL ||
		    strlen(dot + 1) != nlen)
			continue;
		for (k = 0; k < nlen; k++)
			if ((dot[1 + k] >= 'A' && dot[1 + k] <= 'Z'
			            ? dot[1 + k] + 32
			            : dot[1 + k]) != name[k])
				break;
		if (k == nlen) {
			snprintf(dst, cap,
			    "; the CSR's %s '%.64s' was not taken: %.300s",
			    d->field, d->value, d->reason);
			return;
		}
	}
	if (var_reserved(name, nlen))
		dst[0] = '\0';
	else
		snprintf(dst, cap, "; pass --var %.*s=VALUE", (int)nlen, name);
}

enum cs_err
csa_tmpl_expand(struct cs_ctx *ctx, const char *pname, const char *t,
    const struct csa_vars *vs, enum csa_tmpl_mode mode, char *out, size_t cap)
{
	char hint[CS_CA_REASON_MAX];
	const char *end;
	size_t o = 0, i, nlen;
	enum cs_err r = CS_ERR_INTERNAL;

	out[0] = '\0';
	while (*t != '\0') {
		if (t[0] != '%' || t[1] != '{') {
			if ((r = put(ctx, out, cap, &o, *t++)) != CS_OK)
				return r;
			continue;
		}
		if ((end = strchr(t + 2, '}')) == NULL)
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "profile %s: "
			    "unterminated %%{ in a template",
			    pname);
		nlen = (size_t)(end - (t + 2));
		for (i = 0; i < vs->n; i++)
			if (vs->v[i].nlen == nlen &&
			    strncmp(vs->v[i].name, t + 2, nlen) == 0)
				break;
		if (i == vs->n) {
			unset_hint(vs, t + 2, nlen, hint, sizeof(hint));
			return cs_ctx_fail(ctx, CS_ERR_POLICY,
			    "profile %s: "
			    "template needs %%{%.*s}, which is not set%s",
			    pname, (int)nlen, t + 2, hint);
		}
		if ((r = put_value(ctx, &vs->v[i], mode, out, cap, &o)) !=
		    CS_OK)
			return r;
		t = end + 1;
	}
	return CS_OK;
}

/* --- building --- */
