/*
 * Text to X.509 names (include/cardsmith/x509_ossl.h): the project's one
 * distinguished-name parser (RFC 4514 and OpenSSL's "/CN=a/O=b" form) and
 * its subjectAltName parser. Used for CSR subjects here and for CA and
 * certificate subjects in ca/, so every path reads a name the same way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"
#include "x509_int.h"

#include "banned.h"

/* Longest subject string and most attribute values in one subject. */
#define NAME_SUBJECT_MAX 4096
#define NAME_AVA_MAX 64
/* Longest attribute type name ("2.5.4.3", "emailAddress"). */
#define NAME_TYPE_MAX 128
/* Most subject alternative names and longest one. */
#define NAME_SAN_MAX 64
#define NAME_SAN_LEN_MAX 2048
/* Characters of an offending component quoted in a message. */
#define NAME_QUOTE_MAX 64

#define OID_UPN "1.3.6.1.4.1.311.20.2.3"

/* --- subject names --- */

struct ava {
	const char *comp; /* raw text of the component, for messages */
	size_t complen;
	const char *type;
	size_t typelen;
	size_t voff, vlen; /* decoded value in name_parts.vbuf */
	bool multi;        /* joined to the previous one with '+' */
};

struct name_parts {
	struct ava ava[NAME_AVA_MAX];
	size_t n;
	char vbuf[NAME_SUBJECT_MAX];
	size_t vlen;
	bool slash; /* OpenSSL "/CN=a/O=b" form */
};

static int
quote_len(size_t n)
{
	return (int)(n < NAME_QUOTE_MAX ? n : NAME_QUOTE_MAX);
}

/*
 * One escape at s[*i] == '\\': RFC 4514 §2.4 "\XX" hex pair or "\c" for a
 * special character (the OpenSSL form only knows "\c").
 */
static bool
get_escape(const struct name_parts *np, const char *s, size_t n, size_t *i,
    char *out)
{
	if (*i + 1 >= n)
		return false;
	if (!np->slash && *i + 2 < n && csi_hexval(s[*i + 1]) >= 0 &&
	    csi_hexval(s[*i + 2]) >= 0) {
		*out = (char)(csi_hexval(s[*i + 1]) << 4 | csi_hexval(s[*i + 2]));
		*i += 3;
		return true;
	}
	*out = s[*i + 1];
	*i += 2;
	return true;
}

/* Value of one component up to an unescaped separator; trims spaces. */
static enum cs_err
get_value(struct cs_ctx *ctx, struct name_parts *np, const char *s,
    size_t n, size_t *i, struct ava *a)
{
	char sep = np->slash ? '/' : ',', c;
	size_t keep;

	while (*i < n && s[*i] == ' ')
		(*i)++;
	a->voff = keep = np->vlen;
	while (*i < n && s[*i] != sep && (np->slash || s[*i] != '+')) {
		c = s[*i];
		if (c == '\\') {
			if (!get_escape(np, s, n, i, &c))
				return csi_fail(ctx, CS_ERR_ARG, "subject: "
				    "\"%.*s\": dangling '\\'",
				    quote_len(n - (size_t)(a->comp - s)),
				    a->comp);
			np->vbuf[np->vlen++] = c;
			keep = np->vlen;
			continue;
		}
		if (!np->slash && (c == '"' || c == ';' || c == '<' ||
		    c == '>' || (c == '#' && np->vlen == a->voff)))
			return csi_fail(ctx, CS_ERR_ARG, "subject: \"%.*s\": "
			    "'%c' must be escaped as '\\%c' (RFC 4514 "
			    "section 2.4)", quote_len(*i + 1 -
			    (size_t)(a->comp - s)), a->comp, c, c);
		np->vbuf[np->vlen++] = c;
		if (c != ' ')
			keep = np->vlen;
		(*i)++;
	}
	np->vlen = keep;
	a->vlen = keep - a->voff;
	return CS_OK;
}

/* "type=value": the type up to '=', then the value. */
static enum cs_err
get_ava(struct cs_ctx *ctx, struct name_parts *np, const char *s, size_t n,
    size_t *i, struct ava *a)
{
	char sep = np->slash ? '/' : ',';
	size_t end;

	a->comp = s + *i;
	while (*i < n && s[*i] == ' ')
		(*i)++;
	a->type = s + *i;
	while (*i < n && s[*i] != '=' && s[*i] != sep && s[*i] != '+')
		(*i)++;
	if (*i == n || s[*i] != '=')
		return csi_fail(ctx, CS_ERR_ARG, "subject: \"%.*s\": expected "
		    "type=value", quote_len(*i - (size_t)(a->comp - s)),
		    a->comp);
	end = *i;
	while (end > (size_t)(a->type - s) && s[end - 1] == ' ')
		end--;
	a->typelen = end - (size_t)(a->type - s);
	if (a->typelen == 0)
		return csi_fail(ctx, CS_ERR_ARG, "subject: \"%.*s\": "
		    "attribute type missing", quote_len(*i + 1 -
		    (size_t)(a->comp - s)), a->comp);
	(*i)++;
	if (get_value(ctx, np, s, n, i, a) != CS_OK)
		return CS_ERR_ARG;
	a->complen = *i - (size_t)(a->comp - s);
	if (a->vlen == 0)
		return csi_fail(ctx, CS_ERR_ARG, "subject: \"%.*s\": empty "
		    "value", quote_len(a->complen), a->comp);
	return CS_OK;
}

/* Split s into attribute values, in the order written. */
static enum cs_err
name_split(struct cs_ctx *ctx, const char *s, struct name_parts *np)
{
	size_t n = strlen(s), i = 0;
	bool multi = false;
	enum cs_err r = CS_ERR_INTERNAL;

	np->slash = n > 0 && s[0] == '/';
	i = np->slash ? 1 : 0;
	for (;;) {
		if (np->n == NAME_AVA_MAX)
			return csi_fail(ctx, CS_ERR_LIMIT, "subject: more "
			    "than %d attributes", NAME_AVA_MAX);
		if ((r = get_ava(ctx, np, s, n, &i, &np->ava[np->n])) != CS_OK)
			return r;
		np->ava[np->n++].multi = multi;
		if (i == n)
			return CS_OK;
		multi = s[i] == '+';
		i++;
		/* yubico-piv-tool writes "/CN=foo/": allow one trailing '/' */
		if (i == n && np->slash && !multi)
			return CS_OK;
		if (i == n)
			return csi_fail(ctx, CS_ERR_ARG, "subject: ends with "
			    "'%c'", s[n - 1]);
	}
}

static enum cs_err
add_ava(struct cs_ctx *ctx, const struct name_parts *np, const struct ava *a,
    bool join, X509_NAME *name)
{
	char type[NAME_TYPE_MAX];
	ASN1_OBJECT *obj = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (a->typelen >= sizeof(type))
		return csi_fail(ctx, CS_ERR_ARG, "subject: \"%.*s\": "
		    "attribute type too long", quote_len(a->complen), a->comp);
	memcpy(type, a->type, a->typelen);
	type[a->typelen] = '\0';
	/* short name, long name or dotted OID */
	if ((obj = OBJ_txt2obj(type, 0)) == NULL) {
		ERR_clear_error();
		return csi_fail(ctx, CS_ERR_ARG, "subject: \"%.*s\": unknown "
		    "attribute type \"%s\"", quote_len(a->complen), a->comp,
		    type);
	}
	/* set -1 joins the previous RDN (multi-valued), 0 starts one */
	if (X509_NAME_add_entry_by_OBJ(name, obj, MBSTRING_UTF8,
	    (const unsigned char *)np->vbuf + a->voff, (int)a->vlen, -1,
	    join ? -1 : 0) != 1)
		r = csi_fail_ossl(ctx, CS_ERR_ARG, "subject: \"%.*s\": value "
		    "not allowed for %s", quote_len(a->complen), a->comp,
		    type);
	else
		r = CS_OK;
	ASN1_OBJECT_free(obj);
	return r;
}

/*
 * RFC 4514 §2.1 writes the RDNs last-to-first, so they are added in
 * reverse; the OpenSSL form is in DER order already.
 */
static enum cs_err
name_build(struct cs_ctx *ctx, const struct name_parts *np, X509_NAME *name)
{
	size_t rdn[NAME_AVA_MAX + 1], m = 0, k, j, i;
	enum cs_err r = CS_ERR_INTERNAL;

	for (i = 0; i < np->n; i++)
		if (!np->ava[i].multi)
			rdn[m++] = i;
	rdn[m] = np->n;
	for (k = 0; k < m; k++) {
		j = np->slash ? k : m - 1 - k;
		for (i = rdn[j]; i < rdn[j + 1]; i++)
			if ((r = add_ava(ctx, np, &np->ava[i], i != rdn[j],
			    name)) != CS_OK)
				return r;
	}
	return CS_OK;
}

enum cs_err
cs_x509_name_parse(struct cs_ctx *ctx, const char *s, X509_NAME **out)
{
	struct name_parts *np = NULL;
	X509_NAME *name = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (s == NULL || s[0] == '\0' || strcmp(s, "/") == 0)
		return csi_fail(ctx, CS_ERR_ARG, "subject: empty");
	if (strlen(s) >= NAME_SUBJECT_MAX)
		return csi_fail(ctx, CS_ERR_LIMIT, "subject: longer than %d "
		    "characters", NAME_SUBJECT_MAX - 1);
	if ((np = calloc(1, sizeof(*np))) == NULL ||
	    (name = X509_NAME_new()) == NULL) {
		r = csi_fail(ctx, CS_ERR_NOMEM, "subject: out of memory");
		goto out;
	}
	if ((r = name_split(ctx, s, np)) != CS_OK ||
	    (r = name_build(ctx, np, name)) != CS_OK)
		goto out;
	*out = name;
	name = NULL;
	r = CS_OK;
out:
	X509_NAME_free(name);
	if (np != NULL)
		cs_wipe(np->vbuf, sizeof(np->vbuf));
	free(np);
	return r;
}

/* --- subject alternative names --- */

/* IA5String name forms: printable ASCII, no spaces (RFC 5280 §4.2.1.6). */
static bool
is_ia5_token(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7E)
			return false;
	return true;
}

static enum cs_err
san_ia5(struct cs_ctx *ctx, const char *s, int type, const char *v,
    size_t n, GENERAL_NAME *gen)
{
	ASN1_IA5STRING *ia5 = NULL;

	if (!is_ia5_token(v, n))
		return csi_fail(ctx, CS_ERR_ARG, "SAN \"%.*s\": only ASCII "
		    "without spaces is allowed (IDNs as xn-- A-labels)",
		    quote_len(strlen(s)), s);
	if (type == GEN_EMAIL && (memchr(v, '@', n) == NULL || v[0] == '@' ||
	    v[n - 1] == '@'))
		return csi_fail(ctx, CS_ERR_ARG, "SAN \"%.*s\": not an "
		    "e-mail address", quote_len(strlen(s)), s);
	if (type == GEN_URI && memchr(v, ':', n) == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "SAN \"%.*s\": URI has no "
		    "scheme", quote_len(strlen(s)), s);
	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(ia5, v, (int)n) != 1) {
		ASN1_IA5STRING_free(ia5);
		return csi_fail_ossl(ctx, CS_ERR_NOMEM, "SAN \"%.*s\"",
		    quote_len(strlen(s)), s);
	}
	GENERAL_NAME_set0_value(gen, type, ia5);
	return CS_OK;
}

static enum cs_err
san_ip(struct cs_ctx *ctx, const char *s, const char *v, GENERAL_NAME *gen)
{
	ASN1_OCTET_STRING *ip;

	if ((ip = a2i_IPADDRESS(v)) == NULL) {
		ERR_clear_error();
		return csi_fail(ctx, CS_ERR_ARG, "SAN \"%.*s\": not an IPv4 "
		    "or IPv6 address", quote_len(strlen(s)), s);
	}
	GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
	return CS_OK;
}

/* Microsoft UPN: otherName 1.3.6.1.4.1.311.20.2.3, [0] UTF8String. */
static enum cs_err
san_upn(struct cs_ctx *ctx, const char *s, const char *v, size_t n,
    GENERAL_NAME *gen)
{
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	ASN1_STRING *u = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (ASN1_mbstring_copy(&u, (const unsigned char *)v, (int)n,
	    MBSTRING_UTF8, B_ASN1_UTF8STRING) < 0) {
		r = csi_fail_ossl(ctx, CS_ERR_ARG, "SAN \"%.*s\": not UTF-8",
		    quote_len(strlen(s)), s);
		goto out;
	}
	if ((oid = OBJ_txt2obj(OID_UPN, 1)) == NULL ||
	    (val = ASN1_TYPE_new()) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "SAN \"%.*s\"",
		    quote_len(strlen(s)), s);
		goto out;
	}
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, u);
	u = NULL;
	if (GENERAL_NAME_set0_othername(gen, oid, val) != 1) {
		r = csi_fail_ossl(ctx, CS_ERR_CRYPTO, "SAN \"%.*s\"",
		    quote_len(strlen(s)), s);
		goto out;
	}
	oid = NULL;
	val = NULL;
	r = CS_OK;
out:
	ASN1_STRING_free(u);
	ASN1_OBJECT_free(oid);
	ASN1_TYPE_free(val);
	return r;
}

static enum cs_err
san_one(struct cs_ctx *ctx, const char *s, GENERAL_NAME **out)
{
	static const struct {
		const char *kind;
		int type;
	} kinds[] = {
		{ "email", GEN_EMAIL },
		{ "dns", GEN_DNS },
		{ "uri", GEN_URI },
		{ "ip", GEN_IPADD },
		{ "upn", GEN_OTHERNAME },
	};
	GENERAL_NAME *gen = NULL;
	const char *colon = strchr(s, ':'), *v;
	size_t i, klen, n;
	int type = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	klen = colon != NULL ? (size_t)(colon - s) : 0;
	for (i = 0; colon != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].kind) == klen &&
		    strncasecmp(s, kinds[i].kind, klen) == 0)
			type = kinds[i].type;
	if (type < 0)
		return csi_fail(ctx, CS_ERR_ARG, "SAN \"%.*s\": expected "
		    "email:, dns:, uri:, ip: or upn: prefix",
		    quote_len(strlen(s)), s);
	v = colon + 1;
	if ((n = strlen(v)) == 0 || n > NAME_SAN_LEN_MAX)
		return csi_fail(ctx, CS_ERR_ARG, "SAN \"%.*s\": value empty "
		    "or longer than %d", quote_len(strlen(s)), s,
		    NAME_SAN_LEN_MAX);
	if ((gen = GENERAL_NAME_new()) == NULL)
		return csi_fail_ossl(ctx, CS_ERR_NOMEM, "SAN");
	if (type == GEN_IPADD)
		r = san_ip(ctx, s, v, gen);
	else if (type == GEN_OTHERNAME)
		r = san_upn(ctx, s, v, n, gen);
	else
		r = san_ia5(ctx, s, type, v, n, gen);
	if (r == CS_OK) {
		*out = gen;
		gen = NULL;
	}
	GENERAL_NAME_free(gen);
	return r;
}

enum cs_err
cs_x509_san_parse(struct cs_ctx *ctx, const char *const *sans,
    GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (sans == NULL || sans[0] == NULL)
		return CS_OK;
	if ((gens = GENERAL_NAMES_new()) == NULL) {
		r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "SAN");
		goto out;
	}
	for (i = 0; sans[i] != NULL; i++) {
		if (i == NAME_SAN_MAX) {
			r = csi_fail(ctx, CS_ERR_LIMIT, "SAN: more than %d "
			    "names", NAME_SAN_MAX);
			goto out;
		}
		if ((r = san_one(ctx, sans[i], &gen)) != CS_OK)
			goto out;
		if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
			r = csi_fail_ossl(ctx, CS_ERR_NOMEM, "SAN");
			goto out;
		}
		gen = NULL;
	}
	*out = gens;
	gens = NULL;
	r = CS_OK;
out:
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return r;
}
