/*
 * Issuance: assess → build the to-be-signed certificate → lint → reserve
 * the serial (committed) → sign → store the DER (committed) → hand out.
 *
 * The issuing CA keys are decrypted only here (cs_ca_unlock) and freed by
 * cs_ca_lock/cs_ca_close, so they can later move into a separate signer
 * process without touching the rest of ca/.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

#define OID_PERMANENT_ID "1.3.6.1.5.5.7.8.3"
#define TMPL_OUT_MAX 1024
#define VARS_MAX 48

static const char *const key_files[CSA_SIGNER_COUNT] = {
	"issuing.key.pem",
	"hw-issuing.key.pem",
};

void
cs_ca_lock(struct cs_ca *ca)
{
	size_t i;

	for (i = 0; i < CSA_SIGNER_COUNT; i++) {
		EVP_PKEY_free(ca->signer_key[i]);
		ca->signer_key[i] = NULL;
	}
}

enum cs_err
cs_ca_unlock(struct cs_ca *ca, const char *pass, size_t passlen)
{
	char path[CSA_PATH_MAX];
	uint8_t *pem = NULL;
	size_t len = 0, i;
	EVP_PKEY *k = NULL;
	enum cs_err r = CS_OK;

	cs_ca_lock(ca);
	if (pass == NULL || passlen == 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "CA passphrase is empty");
	for (i = 0; i < CSA_SIGNER_COUNT && r == CS_OK; i++) {
		if (ca->signer_cert[i] == NULL)
			continue;
		if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
		         key_files[i])) != CS_OK ||
		    (r = csa_read_file(ca->ctx, path, CSA_FILE_MAX, &pem,
		         &len)) != CS_OK ||
		    (r = csa_key_decode(ca->ctx, key_files[i], pem, len, pass,
		         passlen, &k)) != CS_OK)
			break;
		if (X509_check_private_key(ca->signer_cert[i], k) != 1) {
			ERR_clear_error();
			EVP_PKEY_free(k);
			k = NULL;
			r = cs_ctx_fail(ca->ctx, CS_ERR_INTERNAL,
			    "%s does not "
			    "match its certificate",
			    key_files[i]);
			break;
		}
		ca->signer_key[i] = k;
		k = NULL;
		cs_free_secret(pem, len);
		pem = NULL;
	}
	cs_free_secret(pem, len);
	if (r != CS_OK)
		cs_ca_lock(ca);
	return r;
}

/* --- templates --- */

#define OID_UPN "1.3.6.1.4.1.311.20.2.3"
#define VARS_STORE_MAX 4096

struct var {
	const char *name;
	size_t nlen;
	const char *value;
	bool given; /* by the caller (--var), not taken from the CSR */
};

struct vars {
	struct var v[VARS_MAX];
	size_t n;
	char store[VARS_STORE_MAX]; /* names and values taken from the CSR */
	size_t used;
	char card[24], slot[12];
	const struct csa_profile_view *pv;
	GENERAL_NAMES *take; /* the CSR's SAN entries the profile allows */
	struct cs_ca_issue_res *res; /* where dropped values are listed */
};

static struct var *
var_find(struct vars *vs, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		if (vs->v[i].nlen == nlen &&
		    strncmp(vs->v[i].name, name, nlen) == 0)
			return &vs->v[i];
	return NULL;
}

static enum cs_err
var_add(struct cs_ctx *ctx, struct vars *vs, const char *name, size_t nlen,
    const char *value, bool given)
{
	struct var *v = var_find(vs, name, nlen);

	if (v == NULL) {
		if (vs->n >= VARS_MAX)
			return cs_ctx_fail(ctx, CS_ERR_LIMIT,
			    "more than %d template variables", VARS_MAX);
		v = &vs->v[vs->n++];
	}
	*v = (struct var){ name, nlen, value, given };
	return CS_OK;
}

/* A NUL-terminated copy of n bytes in vs->store; NULL when full. */
static const char *
store(struct vars *vs, const void *p, size_t n)
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

static enum cs_err drop(struct cs_ctx *ctx, struct vars *vs, const char *field,
    const char *value, const char *fmt, ...) CS_PRINTF(5, 6);

/* List a requested value the certificate will not carry, and why. */
static enum cs_err
drop(struct cs_ctx *ctx, struct vars *vs, const char *field, const char *value,
    const char *fmt, ...)
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
used_by_templates(const struct vars *vs, const char *name)
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
string_value(struct cs_ctx *ctx, struct vars *vs, const char *what,
    const ASN1_STRING *s, const char **out)
{
	char shown[96];
	unsigned char *u = NULL;
	int len;
	enum cs_err r = CS_OK;

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
		if (csa_oid_obj_eq(o, OID_PERMANENT_ID))
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
san_value(struct cs_ctx *ctx, struct vars *vs, const GENERAL_NAME *g,
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
take_san(struct cs_ctx *ctx, struct vars *vs, const GENERAL_NAME *g)
{
	const char *pname = vs->pv->info->name, *var, *value;
	struct san_type t = san_type(g);
	struct var *given;
	char shown[CS_CA_NAME_MAX];
	GENERAL_NAME *dup;
	enum cs_err r;

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
take_csr_san(struct cs_ctx *ctx, X509_REQ *csr, struct vars *vs)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *gens = NULL;
	enum cs_err r = CS_OK;
	int i, crit = -1;

	if ((vs->take = GENERAL_NAMES_new()) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "subjectAltName");
		goto out;
	}
	if (exts != NULL)
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	ERR_clear_error();
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
take_attr(struct cs_ctx *ctx, struct vars *vs, const X509_NAME_ENTRY *e,
    const char *field, const char *var, const char *shown, bool *cn_seen)
{
	const char *pname = vs->pv->info->name, *attr = field + 8;
	const char *value, *name;
	char what[64];
	struct var *v;
	enum cs_err r;

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
take_csr_subject(struct cs_ctx *ctx, X509_REQ *csr, struct vars *vs)
{
	const X509_NAME *n = X509_REQ_get_subject_name(csr);
	const X509_NAME_ENTRY *e;
	char field[48], var[40], shown[CS_CA_NAME_MAX];
	bool cn_seen = false;
	enum cs_err r;
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

static enum cs_err
build_vars(struct cs_ctx *ctx, const struct cs_ca_issue_req *req, X509_REQ *csr,
    const struct cs_ca_decision *d, const struct csa_profile_view *pv,
    struct cs_ca_issue_res *res, struct vars *vs)
{
	const X509_NAME *n = X509_REQ_get_subject_name(csr);
	const char *eq, *cn;
	size_t i;
	int idx;
	enum cs_err r;

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

static void
vars_release(struct vars *vs)
{
	GENERAL_NAMES_free(vs->take);
	vs->take = NULL;
}

enum tmpl_mode {
	TMPL_SUBJECT, /* escape the name separators */
	TMPL_SAN, /* refuse values that could add entries */
};

static enum cs_err
put(struct cs_ctx *ctx, char *out, size_t cap, size_t *o, char c)
{
	if (*o + 1 >= cap)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "template result too long");
	out[(*o)++] = c;
	out[*o] = '\0';
	return CS_OK;
}

static enum cs_err
put_value(struct cs_ctx *ctx, const struct var *v, enum tmpl_mode mode,
    char *out, size_t cap, size_t *o)
{
	const unsigned char *s = (const unsigned char *)v->value;
	enum cs_err r;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f ||
		    (mode == TMPL_SAN && (*s == ',' || *s == ';')))
			return cs_ctx_fail(ctx, CS_ERR_POLICY,
			    "template value for "
			    "%%{%.*s} contains a character not allowed here",
			    (int)v->nlen, v->name);
		if (mode == TMPL_SUBJECT &&
		    (*s == ',' || *s == '/' || *s == '\\' || *s == '+') &&
		    (r = put(ctx, out, cap, o, '\\')) != CS_OK)
			return r;
		if ((r = put(ctx, out, cap, o, (char)*s)) != CS_OK)
			return r;
	}
	return CS_OK;
}

/* Why %{name} is unset: a dropped CSR value of that name, if any. */
static void
unset_hint(const struct vars *vs, const char *name, size_t nlen, char *dst,
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

static enum cs_err
expand(struct cs_ctx *ctx, const char *pname, const char *t,
    const struct vars *vs, enum tmpl_mode mode, char *out, size_t cap)
{
	char hint[CS_CA_REASON_MAX];
	const char *end;
	size_t o = 0, i, nlen;
	enum cs_err r;

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

static enum cs_err
add_nid(struct cs_ctx *ctx, X509 *x, X509V3_CTX *v3, int nid, const char *v)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, v);

	if (e == NULL || !X509_add_ext(x, e, -1)) {
		X509_EXTENSION_free(e);
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "extension %s",
		    OBJ_nid2sn(nid));
	}
	X509_EXTENSION_free(e);
	return CS_OK;
}

static enum cs_err
add_permanent_id(struct cs_ctx *ctx, GENERAL_NAMES *gens, uint64_t serial)
{
	unsigned char der[64];
	char digits[24];
	ASN1_OBJECT *oid = NULL;
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *val = NULL;
	GENERAL_NAME *g = NULL;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	/* RFC 4043: PermanentIdentifier ::= SEQUENCE { identifierValue
	 * UTF8String OPTIONAL, assigner OID OPTIONAL } */
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)serial);
	n = strlen(digits);
	der[0] = 0x30;
	der[1] = (unsigned char)(n + 2);
	der[2] = 0x0c;
	der[3] = (unsigned char)n;
	memcpy(der + 4, digits, n);
	if ((oid = OBJ_txt2obj(OID_PERMANENT_ID, 1)) == NULL ||
	    (seq = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(seq, der, (int)(n + 4)) ||
	    (val = ASN1_TYPE_new()) == NULL)
		goto fail;
	ASN1_TYPE_set(val, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	if ((g = GENERAL_NAME_new()) == NULL ||
	    !GENERAL_NAME_set0_othername(g, oid, val))
		goto fail;
	oid = NULL;
	val = NULL;
	if (!sk_GENERAL_NAME_push(gens, g))
		goto fail;
	return CS_OK;
fail:
	r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "permanentIdentifier");
	GENERAL_NAME_free(g);
	ASN1_TYPE_free(val);
	ASN1_STRING_free(seq);
	ASN1_OBJECT_free(oid);
	return r;
}

static enum cs_err
add_san(struct cs_ca *ca, X509 *x, X509V3_CTX *v3,
    const struct csa_profile_view *pv, const struct cs_ca_decision *d,
    const struct vars *vs)
{
	char text[TMPL_OUT_MAX];
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *g, *dup = NULL;
	X509_EXTENSION *e = NULL;
	bool pid = pv->info->permanent_identifier && d->has_card_serial &&
	    d->proven == CS_CA_LEVEL_HW_ATTESTED;
	int crit = X509_NAME_entry_count(X509_get_subject_name(x)) == 0;
	int i, j;
	enum cs_err r = CS_ERR_INTERNAL;

	if (pv->san_tmpl == NULL && !pid && sk_GENERAL_NAME_num(vs->take) <= 0)
		return CS_OK;
	if (pv->san_tmpl != NULL) {
		if ((r = expand(ca->ctx, pv->info->name, pv->san_tmpl, vs,
		         TMPL_SAN, text, sizeof(text))) != CS_OK)
			return r;
		if ((e = X509V3_EXT_conf_nid(NULL, v3, NID_subject_alt_name,
		         text)) == NULL ||
		    (gens = X509V3_EXT_d2i(e)) == NULL) {
			r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_POLICY,
			    "profile %s: "
			    "subjectAltName '%.80s'",
			    pv->info->name, text);
			goto out;
		}
	} else if ((gens = GENERAL_NAMES_new()) == NULL) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM, "subjectAltName");
		goto out;
	}
	/* The CSR's entries the profile allows, once each. */
	for (i = 0; i < sk_GENERAL_NAME_num(vs->take); i++) {
		g = sk_GENERAL_NAME_value(vs->take, i);
		for (j = 0; j < sk_GENERAL_NAME_num(gens); j++)
			if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(gens, j),
			        g) == 0)
				break;
		if (j < sk_GENERAL_NAME_num(gens))
			continue;
		if ((dup = GENERAL_NAME_dup(g)) == NULL ||
		    !sk_GENERAL_NAME_push(gens, dup)) {
			GENERAL_NAME_free(dup);
			r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM,
			    "subjectAltName");
			goto out;
		}
	}
	if (pid &&
	    (r = add_permanent_id(ca->ctx, gens, d->card_serial)) != CS_OK)
		goto out;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, crit,
	        X509V3_ADD_REPLACE) != 1) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "subjectAltName");
		goto out;
	}
	r = CS_OK;
out:
	GENERAL_NAMES_free(gens);
	X509_EXTENSION_free(e);
	return r;
}

static enum cs_err
add_marker(struct cs_ca *ca, X509 *x, enum cs_ca_level level)
{
	char oid[CS_CA_OID_MAX];
	const char *name = cs_ca_level_name(level);
	unsigned char der[64];
	size_t n = strlen(name);
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *o = NULL;
	X509_EXTENSION *e = NULL;
	enum cs_err r = CS_OK;

	snprintf(oid, sizeof(oid), "%.118s%s", ca->arc, CSA_SUFFIX_MARKER);
	der[0] = 0x0c; /* UTF8String level name */
	der[1] = (unsigned char)n;
	memcpy(der + 2, name, n);
	if ((o = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, der, (int)(n + 2)) ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) == NULL ||
	    !X509_add_ext(x, e, -1))
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "marker extension");
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return r;
}

static enum cs_err
set_validity(struct cs_ca *ca, X509 *x, const X509 *signer, int64_t at,
    unsigned int days)
{
	ASN1_TIME *nb = NULL, *na = NULL;
	enum cs_err r = CS_OK;

	if ((nb = ASN1_TIME_adj(NULL, (time_t)at, 0, -300)) == NULL ||
	    (na = ASN1_TIME_adj(NULL, (time_t)at, (int)days, 0)) == NULL) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "validity");
		goto out;
	}
	/* Never outlive or predate the issuing CA. */
	if (ASN1_TIME_compare(nb, X509_get0_notBefore(signer)) < 0)
		X509_set1_notBefore(x, X509_get0_notBefore(signer));
	else
		X509_set1_notBefore(x, nb);
	if (ASN1_TIME_compare(na, X509_get0_notAfter(signer)) > 0)
		X509_set1_notAfter(x, X509_get0_notAfter(signer));
	else
		X509_set1_notAfter(x, na);
out:
	ERR_clear_error();
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return r;
}

static enum cs_err
set_subject(struct cs_ca *ca, X509 *x, X509_REQ *csr,
    const struct csa_profile_view *pv, const struct vars *vs)
{
	char text[TMPL_OUT_MAX];
	X509_NAME *n = NULL;
	enum cs_err r;

	if (pv->subject_tmpl == NULL) {
		if (!X509_set_subject_name(x, X509_REQ_get_subject_name(csr)))
			return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "subject");
		return CS_OK;
	}
	if ((r = expand(ca->ctx, pv->info->name, pv->subject_tmpl, vs,
	         TMPL_SUBJECT, text, sizeof(text))) != CS_OK ||
	    (r = csa_name_parse(ca->ctx, text, &n)) != CS_OK)
		return r;
	if (!X509_set_subject_name(x, n))
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "subject");
	X509_NAME_free(n);
	return r;
}

static enum cs_err
new_serial(struct cs_ca *ca, X509 *x, char *hex, size_t cap)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	enum cs_err r = CS_OK;

	/* 128 bits from the CSPRNG; top bits 01 keep it positive and 127
	 * bits long, leaving 126 random bits (CA/B BR 7.1: >= 64). */
	if (RAND_bytes(b, sizeof(b)) != 1)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	else
		csa_serial_hex(X509_get0_serialNumber(x), hex, cap);
	BN_free(bn);
	return r;
}

/*
 * The extensions under the CA's arc (level map, marker) are the CA's
 * alone: a profile line "<arc>.2.2 = ASN1:UTF8String:..." must not forge a
 * level marker.
 */
static enum cs_err
check_arc_exts(struct cs_ca *ca, const X509 *x, const char *pname)
{
	char oid[CS_CA_OID_MAX];
	const ASN1_OBJECT *o;
	int i;

	/* Compared as OIDs: ca.cnf may spell the arc non-canonically. */
	for (i = 0; i < X509_get_ext_count(x); i++) {
		o = X509_EXTENSION_get_object(X509_get_ext(x, i));
		if (!csa_oid_under(o, ca->arc))
			continue;
		if (OBJ_obj2txt(oid, sizeof(oid), o, 1) <= 0)
			snprintf(oid, sizeof(oid), "?");
		ERR_clear_error();
		return cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
		    "profile %s: extension %s is under the CA's arc "
		    "and set by the CA only",
		    pname, oid);
	}
	return CS_OK;
}

static enum cs_err
build_tbs(struct cs_ca *ca, const struct cs_ca_issue_req *req, X509_REQ *csr,
    const struct cs_ca_decision *d, const X509 *signer, int64_t at,
    struct cs_ca_issue_res *res, X509 **out)
{
	struct csa_profile_view pv;
	struct vars vs;
	X509V3_CTX v3;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	csa_profile_view(req->profile, &pv);
	if ((r = build_vars(ca->ctx, req, csr, d, &pv, res, &vs)) != CS_OK)
		goto out;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(signer)) ||
	    !X509_set_pubkey(x, X509_REQ_get0_pubkey(csr))) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "certificate");
		goto out;
	}
	if ((r = set_subject(ca, x, csr, &pv, &vs)) != CS_OK ||
	    (r = set_validity(ca, x, signer, at, pv.info->validity_days)) !=
	        CS_OK)
		goto out;
	X509V3_set_ctx(&v3, (X509 *)signer, x, csr, NULL, 0);
	X509V3_set_nconf(&v3, pv.conf);
	if (!X509V3_EXT_add_nconf(pv.conf, &v3, pv.ext_section, x)) {
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_POLICY, "profile %s: [%s]",
		    pv.info->name, pv.ext_section);
		goto out;
	}
	if ((r = check_arc_exts(ca, x, pv.info->name)) != CS_OK)
		goto out;
	if ((X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) < 0 &&
	        (r = add_nid(ca->ctx, x, &v3, NID_subject_key_identifier,
	             "hash")) != CS_OK) ||
	    (X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) < 0 &&
	        (r = add_nid(ca->ctx, x, &v3, NID_authority_key_identifier,
	             "keyid:always")) != CS_OK) ||
	    (r = csa_add_policies(ca->ctx, x, d->policy_oid)) != CS_OK ||
	    (r = add_san(ca, x, &v3, &pv, d, &vs)) != CS_OK ||
	    (pv.info->marker && (r = add_marker(ca, x, d->level)) != CS_OK))
		goto out;
	*out = x;
	x = NULL;
	r = CS_OK;
out:
	vars_release(&vs);
	X509_free(x);
	return r;
}

static const EVP_MD *
sign_md(const EVP_PKEY *k)
{
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519)
		return NULL;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(k) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

static enum cs_err
sign_der(struct cs_ca *ca, X509 *x, EVP_PKEY *key, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n;

	if (X509_sign(x, key, sign_md(key)) <= 0)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "sign");
	if ((n = i2d_X509(x, &p)) <= 0)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "encode");
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(p);
		return cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "certificate");
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return CS_OK;
}

static enum cs_err
random_serial(struct cs_ca *ca, char *hex, size_t cap)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	char *h = NULL;
	enum cs_err r = CS_OK;

	/* 128 bits from the CSPRNG; top bits 01 keep it positive and 127
	 * bits long, leaving 126 random bits (CA/B BR 7.1: >= 64). */
	if (RAND_bytes(b, sizeof(b)) != 1)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    (h = BN_bn2hex(bn)) == NULL)
		r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	else
		snprintf(hex, cap, "%s", h);
	OPENSSL_free(h);
	BN_free(bn);
	return r;
}

static const char *const *
pool_ptrs(struct cs_ca *ca, const char **p, size_t from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = ca->pool[from + i];
	return p;
}

/*
 * Refill the pool: pool_size fresh serials reserved (pending) in one
 * committed transaction, so the serial is durable before any signing
 * while the fsync is shared. A collision (astronomically rare) retries.
 */
static enum cs_err
pool_fill(struct cs_ca *ca, int64_t now)
{
	const char *ptr[CSA_POOL_MAX];
	size_t i, n = ca->pool_size != 0 ? ca->pool_size : 1;
	enum cs_err r = CS_ERR_INTERNAL;
	int tries;

	if (ca->pool == NULL &&
	    (ca->pool = calloc(CSA_POOL_MAX, sizeof(*ca->pool))) == NULL)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "serial pool");
	for (tries = 0; tries < 3; tries++) {
		for (i = 0; i < n; i++)
			if ((r = random_serial(ca, ca->pool[i],
			         sizeof(ca->pool[i]))) != CS_OK)
				return r;
		r = ca->store->ops->reserve(ca->store, pool_ptrs(ca, ptr, 0, n),
		    n, now);
		if (r == CS_OK) {
			ca->pool_len = n;
			return CS_OK;
		}
	}
	return r;
}

/* Take the next reserved serial into x and hex. */
static enum cs_err
pool_take(struct cs_ca *ca, X509 *x, int64_t now, char *hex, size_t cap)
{
	BIGNUM *bn = NULL;
	enum cs_err r;

	if (ca->pool_len == 0 && (r = pool_fill(ca, now)) != CS_OK)
		return r;
	ca->pool_len--;
	snprintf(hex, cap, "%s", ca->pool[ca->pool_len]);
	if (!BN_hex2bn(&bn, hex) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		BN_free(bn);
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "serial");
	}
	BN_free(bn);
	return CS_OK;
}

void
csa_pool_release(struct cs_ca *ca)
{
	const char *ptr[CSA_POOL_MAX];

	if (ca->pool_len > 0 && ca->store != NULL)
		(void)ca->store->ops->abandon(ca->store,
		    pool_ptrs(ca, ptr, 0, ca->pool_len), ca->pool_len,
		    "unused reservation", (int64_t)time(NULL));
	ca->pool_len = 0;
	free(ca->pool);
	ca->pool = NULL;
}

enum cs_err
cs_ca_set_serial_pool(struct cs_ca *ca, size_t n)
{
	if (n == 0 || n > CSA_POOL_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "serial pool size %zu "
		    "(1..%d)",
		    n, CSA_POOL_MAX);
	ca->pool_size = n;
	return CS_OK;
}

void
cs_ca_issue_res_release(struct cs_ca_issue_res *res)
{
	if (res == NULL)
		return;
	cs_free(res->der);
	free(res->dropped);
	memset(res, 0, sizeof(*res));
}

static void
fw_text(const struct cs_ca_decision *d, char *dst, size_t cap)
{
	if (d->has_firmware)
		snprintf(dst, cap, "%u.%u.%u", d->firmware[0], d->firmware[1],
		    d->firmware[2]);
	else
		dst[0] = '\0';
}

/* A signed certificate waiting for its registry commit. */
struct signed_cert {
	struct csa_row row;
	struct csa_evidence ev;
	char subject[CS_CA_NAME_MAX], fw[16], profile[64];
	char sublevel[CS_CA_SUBLEVEL_NAME_MAX];
	char key_hash[CSA_KEY_HASH_MAX];
};

/*
 * A key once revoked stays refused whatever the profile, subject or
 * level of the new request (keyCompromise always, other reasons without
 * CS_CA_ISSUE_ALLOW_REVOKED_KEY); checked before a serial is reserved,
 * and again when the row is stored.
 */
static enum cs_err
check_key(struct cs_ca *ca, const struct cs_ca_issue_req *req, X509_REQ *csr,
    char hex[CSA_KEY_HASH_MAX])
{
	if (!csa_key_hash(X509_REQ_get0_pubkey(csr), hex))
		return cs_ctx_fail(ca->ctx, CS_ERR_CRYPTO,
		    "CSR public key: cannot encode it");
	return ca->store->ops->key_check(ca->store, hex,
	    (req->flags & CS_CA_ISSUE_ALLOW_REVOKED_KEY) != 0);
}

/*
 * Everything up to and including the signature: assess, build, lint,
 * take a reserved serial, sign. On success res->der is set and *sc holds
 * the row to commit (its evidence owned by sc).
 */
static enum cs_err
issue_one(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    struct cs_ca_issue_res *res, struct signed_cert *sc)
{
	struct csa_evidence ev = { NULL, NULL, 0, 0 };
	struct cs_ca_decision *d = &res->decision;
	struct cs_ca_profile_info pi;
	X509_REQ *csr = NULL;
	X509 *x = NULL;
	enum csa_signer s = CSA_SIGNER_ISSUING;
	char findings[CS_CA_REASON_MAX];
	int64_t now = req->at != 0 ? req->at : (int64_t)time(NULL);
	enum cs_err r = CS_ERR_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(sc, 0, sizeof(*sc));
	if ((r = csa_csr_decode(ca->ctx, req->csr, req->csr_len, &csr)) !=
	    CS_OK) {
		snprintf(d->reason, sizeof(d->reason), "%s",
		    cs_ctx_errmsg(ca->ctx));
		goto out;
	}
	if ((r = check_key(ca, req, csr, sc->key_hash)) != CS_OK ||
	    (r = csa_assess(ca, req, csr, d, &ev)) != CS_OK)
		goto out;
	if (d->level >= CS_CA_LEVEL_HW_ENROLLED &&
	    ca->signer_cert[CSA_SIGNER_HW] != NULL)
		s = CSA_SIGNER_HW;
	/* A placeholder serial of full size for the lint; the reserved one
	 * replaces it only when we are about to sign. */
	if ((r = build_tbs(ca, req, csr, d, ca->signer_cert[s], now, res,
	         &x)) != CS_OK ||
	    (r = new_serial(ca, x, res->serial, sizeof(res->serial))) != CS_OK)
		goto out;
	if ((r = csa_lint(ca->ctx, x, ca->signer_cert[s],
	         ca->oid_arcs != CS_CA_OID_ARCS_SHORT ? CS_CA_LINT_LONG_OID_ARCS
	                                              : 0,
	         findings, sizeof(findings))) != CS_OK) {
		snprintf(d->reason, sizeof(d->reason), "lint: %.500s",
		    findings);
		goto out;
	}
	if (req->flags & CS_CA_ISSUE_DRYRUN) {
		res->serial[0] = '\0'; /* nothing reserved */
		r = CS_OK;
		goto out;
	}
	if (ca->signer_key[s] == NULL) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "CA is locked (no "
		    "passphrase given)");
		goto out;
	}
	cs_ca_profile_get_info(req->profile, &pi);
	if ((r = pool_take(ca, x, now, res->serial, sizeof(res->serial))) !=
	    CS_OK)
		goto out;
	if ((r = sign_der(ca, x, ca->signer_key[s], &res->der,
	         &res->der_len)) != CS_OK) {
		const char *one[1] = { res->serial };

		(void)ca->store->ops->abandon(ca->store, one, 1,
		    "signing failed", now);
		goto out;
	}
	csa_name_line(X509_get_subject_name(x), sc->subject,
	    sizeof(sc->subject));
	fw_text(d, sc->fw, sizeof(sc->fw));
	snprintf(sc->profile, sizeof(sc->profile), "%s", pi.name);
	snprintf(sc->sublevel, sizeof(sc->sublevel), "%s", d->sublevel);
	sc->ev = ev;
	memset(&ev, 0, sizeof(ev));
	sc->row = (struct csa_row){ res->serial, d->level, s, sc->profile,
		sc->subject, csa_asn1_time(X509_get0_notBefore(x)),
		csa_asn1_time(X509_get0_notAfter(x)), d->slot,
		d->has_card_serial, d->card_serial, sc->fw, sc->sublevel,
		sc->ev.stmt, sc->ev.f9, sc->ev.stmt_len, sc->ev.f9_len,
		sc->key_hash,
		(req->flags & CS_CA_ISSUE_ALLOW_REVOKED_KEY) != 0 };
	res->signer = s == CSA_SIGNER_HW ? "hw-issuing" : "issuing";
	r = CS_OK;
out:
	if (r != CS_OK) {
		cs_free(res->der);
		res->der = NULL;
		res->der_len = 0;
		free(res->dropped);
		res->dropped = NULL;
		res->ndropped = res->dropped_more = 0;
		if (d->reason[0] == '\0')
			snprintf(d->reason, sizeof(d->reason), "%s",
			    cs_ctx_errmsg(ca->ctx));
	}
	csa_evidence_release(&ev);
	X509_free(x);
	X509_REQ_free(csr);
	return r;
}

enum cs_err
cs_ca_issue(struct cs_ca *ca, const struct cs_ca_issue_req *req,
    struct cs_ca_issue_res *res)
{
	struct signed_cert sc;
	const uint8_t *der;
	int64_t now = req->at != 0 ? req->at : (int64_t)time(NULL);
	enum cs_err r;

	if ((r = issue_one(ca, req, res, &sc)) != CS_OK || res->der == NULL)
		goto out;
	sc.row.serial = res->serial;
	der = res->der;
	if ((r = ca->store->ops->commit(ca->store, &sc.row, &der, &res->der_len,
	         1, now)) != CS_OK) {
		/* Not stored, so never handed out; reconcile voids the row. */
		cs_free(res->der);
		res->der = NULL;
		res->der_len = 0;
		snprintf(res->decision.reason, sizeof(res->decision.reason),
		    "%s", cs_ctx_errmsg(ca->ctx));
	}
out:
	csa_evidence_release(&sc.ev);
	return r;
}

enum cs_err
cs_ca_issue_batch(struct cs_ca *ca, const struct cs_ca_issue_req *reqs,
    size_t n, struct cs_ca_issue_res *res, enum cs_err *errs, size_t *issued)
{
	struct signed_cert *sc = NULL;
	struct csa_row *rows = NULL;
	const uint8_t **ders = NULL;
	size_t *lens = NULL, *idx = NULL, i, k = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*issued = 0;
	if (n == 0 || n > CSA_POOL_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG, "batch of %zu (1..%d)", n,
		    CSA_POOL_MAX);
	if ((sc = calloc(n, sizeof(*sc))) == NULL ||
	    (rows = calloc(n, sizeof(*rows))) == NULL ||
	    (ders = calloc(n, sizeof(*ders))) == NULL ||
	    (lens = calloc(n, sizeof(*lens))) == NULL ||
	    (idx = calloc(n, sizeof(*idx))) == NULL) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "batch");
		goto out;
	}
	for (i = 0; i < n; i++) {
		errs[i] = issue_one(ca, &reqs[i], &res[i], &sc[i]);
		if (errs[i] != CS_OK || res[i].der == NULL)
			continue;
		sc[i].row.serial = res[i].serial;
		rows[k] = sc[i].row;
		ders[k] = res[i].der;
		lens[k] = res[i].der_len;
		idx[k++] = i;
	}
	r = CS_OK;
	if (k > 0 &&
	    (r = ca->store->ops->commit(ca->store, rows, ders, lens, k,
	         (int64_t)time(NULL))) != CS_OK)
		for (i = 0; i < k; i++) {
			errs[idx[i]] = r;
			cs_free(res[idx[i]].der);
			res[idx[i]].der = NULL;
			res[idx[i]].der_len = 0;
		}
	else
		*issued = k;
out:
	for (i = 0; sc != NULL && i < n; i++)
		csa_evidence_release(&sc[i].ev);
	free(sc);
	free(rows);
	free(ders);
	free(lens);
	free(idx);
	return r;
}
