/*
 * cardsmith ca: init, sign, revoke, crl, list, show, chain, trust add,
 * reconcile. Argument parsing, passphrase input and output only; every
 * decision is made in ca/.
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cardsmith/ca.h"

#include "card.h"
#include "cmd_ca.h"
#include "exit.h"
#include "out.h"
#include "pem.h"
#include "secret.h"

#include "banned.h"

#define CA_VARS_MAX 16
#define CA_DIR_MAX 4096

static int ca_init(struct cli *, int, const char **);
static int ca_sign(struct cli *, int, const char **);
static int ca_revoke(struct cli *, int, const char **);
static int ca_crl(struct cli *, int, const char **);
static int ca_list(struct cli *, int, const char **);
static int ca_show(struct cli *, int, const char **);
static int ca_chain(struct cli *, int, const char **);
static int ca_trust(struct cli *, int, const char **);
static int ca_trust_add(struct cli *, int, const char **);
static int ca_reconcile(struct cli *, int, const char **);

static const struct cmd ca_subs[] = {
	{ "ca init", ca_init, NEED_CA, "create a root and issuing CA" },
	{ "ca sign", ca_sign, NEED_CA, "issue a certificate for a CSR" },
	{ "ca revoke", ca_revoke, NEED_CA, "revoke a certificate or a card" },
	{ "ca crl", ca_crl, NEED_CA, "write a CRL" },
	{ "ca list", ca_list, NEED_CA, "list the registry" },
	{ "ca show", ca_show, NEED_CA, "show one certificate" },
	{ "ca chain", ca_chain, NEED_CA, "print the CA chain for gateways" },
	{ "ca trust", ca_trust, NEED_CA, "manage manufacturer roots" },
	{ "ca reconcile", ca_reconcile, NEED_CA,
	    "resolve registry rows a crash left behind" },
	{ NULL, NULL, 0, NULL },
};

static const struct cmd trust_subs[] = {
	{ "ca trust add", ca_trust_add, NEED_CA,
	    "trust a manufacturer root for attestation" },
	{ NULL, NULL, 0, NULL },
};

int
cmd_ca(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *sub = cli_find_sub(ca_subs, argc, argv);

	if (sub != NULL)
		return cli_run_sub(cli, sub, argc, argv);
	return cli_group_usage(cli, ca_subs, argc, argv);
}

static int
ca_trust(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *sub = cli_find_sub(trust_subs, argc, argv);

	if (sub != NULL)
		return cli_run_sub(cli, sub, argc, argv);
	return cli_group_usage(cli, trust_subs, argc, argv);
}

/* --- common pieces --- */

struct ca_opts {
	char *dir; /* --dir (popt string) */
	struct secret_src pass;
};

#define CA_DIR_POPT(o)                                                         \
	{                                                                      \
		"dir", '\0', POPT_ARG_STRING, &(o).dir, 0,                     \
		    "CA directory (default $CARDSMITH_CA_DIR, else "           \
		    "$XDG_DATA_HOME/cardsmith/ca)",                            \
		    "DIR"                                                      \
	}

static void
ca_opts_init(struct ca_opts *o)
{
	memset(o, 0, sizeof(*o));
	secret_src_init(&o->pass, "CA passphrase", "pass");
}

static void
ca_opts_release(struct ca_opts *o)
{
	free(o->dir);
	o->dir = NULL;
	secret_src_release(&o->pass);
}

/* --dir, else $CARDSMITH_CA_DIR, else the per-user data directory. */
static int
ca_dir(struct cli *cli, const struct ca_opts *o, char *dst, size_t cap)
{
	const char *e;
	int n;

	if (o->dir != NULL)
		n = snprintf(dst, cap, "%s", o->dir);
	else if ((e = getenv("CARDSMITH_CA_DIR")) != NULL && *e != '\0')
		n = snprintf(dst, cap, "%s", e);
	else if ((e = getenv("XDG_DATA_HOME")) != NULL && *e == '/')
		n = snprintf(dst, cap, "%s/cardsmith/ca", e);
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		n = snprintf(dst, cap, "%s/.local/share/cardsmith/ca", e);
	else
		return out_usage(cli, "%s: no CA directory: give --dir",
		    cli->cmd->name);
	if (n < 0 || (size_t)n >= cap)
		return out_usage(cli, "%s: CA directory path too long",
		    cli->cmd->name);
	return CLI_CONTINUE;
}

static int
open_ca(struct cli *cli, const struct ca_opts *o, struct cs_ca **ca)
{
	char dir[CA_DIR_MAX];
	enum cs_err r;
	int code;

	*ca = NULL;
	if ((code = ca_dir(cli, o, dir, sizeof(dir))) != CLI_CONTINUE)
		return code;
	if ((r = cs_ca_open(cli->ctx, dir, ca)) != CS_OK)
		return out_fail(cli, r, dir);
	return CLI_CONTINUE;
}

static int
unlock(struct cli *cli, struct ca_opts *o, struct cs_ca *ca)
{
	struct secret s;
	enum cs_err r;
	int code;

	if ((code = secret_get(cli, &o->pass, false, &s)) != CLI_CONTINUE)
		return code;
	r = cs_ca_unlock(ca, s.s, s.len);
	secret_clear(&s);
	if (r != CS_OK)
		return out_fail(cli, r, "unlock CA");
	return CLI_CONTINUE;
}

static int
read_opt_file(struct cli *cli, const char *path, uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	if (path == NULL)
		return CLI_CONTINUE;
	return pem_read_file(cli, path, data, len);
}

static json_t *
oids_json(const struct cs_ca *ca)
{
	const struct cs_ca_sublevel *sub;
	json_t *o = json_object();
	size_t k;
	int i;

	if (o == NULL)
		return NULL;
	for (i = CS_CA_LEVEL_SOFTWARE; i < CS_CA_LEVEL_COUNT; i++)
		out_set(o, cs_ca_level_name((enum cs_ca_level)i),
		    out_str(cs_ca_level_oid(ca, (enum cs_ca_level)i)));
	for (k = 0; (sub = cs_ca_sublevel_at(ca, k)) != NULL; k++)
		out_set(o, sub->name, out_str(sub->oid));
	return o;
}

/* Sub-levels: [{"name", "oid", "parent", "min_pin_policy", ...}]. */
static json_t *
sublevels_json(const struct cs_ca *ca)
{
	const struct cs_ca_sublevel *sub;
	json_t *a = json_array(), *o;
	size_t k;

	for (k = 0; a != NULL && (sub = cs_ca_sublevel_at(ca, k)) != NULL;
	     k++) {
		if ((o = json_object()) == NULL)
			break;
		out_set(o, "name", out_str(sub->name));
		out_set(o, "oid", out_str(sub->oid));
		out_set(o, "parent", out_str(cs_ca_level_name(sub->parent)));
		out_set(o, "min_pin_policy",
		    sub->min_pin_policy
		        ? out_str(cs_attest_pin_policy_str(sub->min_pin_policy))
		        : NULL);
		out_set(o, "min_touch_policy",
		    sub->min_touch_policy ? out_str(cs_attest_touch_policy_str(
		                                sub->min_touch_policy))
		                          : NULL);
		out_append(a, o);
	}
	return a;
}

/* --- init --- */

static const struct cli_usage init_usage = {
	"[--dir DIR] [--hardware-ca] [--key-type TYPE] [--arc OID] "
	"[--extra-policy LEVEL=OID,...]\n       [--sublevel NAME=pin:P,touch:T[,oid:OID]]... "
	"[--roots FILE] [--profiles DIR]\n       "
	"[--import-key FILE --import-cert FILE\n       [--import-chain FILE]] "
	"[--pass-fd FD | --pass-file FILE | --pass-env NAME]",
	"Create a CA in DIR (mode 0700): a root and an issuing CA (with "
	"--hardware-ca a\nsecond issuing CA used only for hardware levels), "
	"the policy arc 2.25.<uuid>,\nthe registry, the manufacturer trust "
	"store (the shipped Yubico PIV roots) and\nthe shipped profiles. "
	"CA keys are encrypted with the passphrase (asked twice at\na "
	"prompt). --import-key/--import-cert use an existing issuing CA "
	"instead.\nTYPE: p256 (default), p384, rsa2048, rsa3072, rsa4096. "
	"--sublevel defines a\nsub-level of hardware-attested for keys whose "
	"attested PIN/touch policy meets\nthe minimums (OID <arc>.1.1.<n> "
	"unless given); profiles grant it with\n'sublevels = NAME'. "
	"Sub-levels are fixed at init.\n--extra-policy: further policy "
	"OIDs the CA certificates assert, each with the\nlevel it stands "
	"for (a bare OID means hardware-attested); a profile's\npolicy_oid "
	"may use one only on certificates of that level or higher.",
	"  cardsmith ca init --dir /srv/ca --hardware-ca",
};

static int
key_type(const char *s, enum cs_ca_key_type *t)
{
	static const char *const names[] = {
		"p256",
		"p384",
		"rsa2048",
		"rsa3072",
		"rsa4096",
	};
	size_t i;

	*t = CS_CA_KEY_P256;
	if (s == NULL)
		return 1;
	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum cs_ca_key_type)i;
			return 1;
		}
	return 0;
}

struct init_args {
	int hw;
	char *type, *arc, *extra, *roots, *profiles;
	char *ikey, *icert, *ichain;
	char *sub; /* popt slot for --sublevel */
	char *subs[CS_CA_SUBLEVEL_MAX + 1];
	size_t nsubs;
};

#define OPT_SUBLEVEL 0x2002

static int
init_run(struct cli *cli, struct ca_opts *o, struct init_args *a)
{
	struct cs_ca_init_opts io;
	struct secret s;
	struct cs_ca *ca = NULL;
	uint8_t *k = NULL, *c = NULL, *ch = NULL;
	size_t kl = 0, cl = 0, chl = 0;
	char dir[CA_DIR_MAX];
	char roots_buf[PATH_MAX], profiles_buf[PATH_MAX];
	const struct cs_ca_sublevel *sub;
	json_t *doc;
	size_t i;
	enum cs_err r;
	int code;

	memset(&io, 0, sizeof(io));
	memset(&s, 0, sizeof(s));
	if (!key_type(a->type, &io.key_type))
		return out_usage(cli, "ca init: unknown --key-type '%s'",
		    a->type);
	if ((a->ikey == NULL) != (a->icert == NULL))
		return out_usage(cli,
		    "ca init: --import-key and --import-cert "
		    "go together");
	io.arc = a->arc;
	io.extra_policies = a->extra;
	io.roots_path = a->roots;
	io.profiles_dir = a->profiles;
	io.sublevels = a->nsubs > 0 ? (const char *const *)a->subs : NULL;
	/* Uninstalled build: the shipped files next to the executable. */
	if (io.roots_path == NULL &&
	    access(CS_DATADIR "/yubico-piv-roots.pem", R_OK) != 0)
		io.roots_path = cli_tree_path("share/yubico-piv-roots.pem",
		    roots_buf, sizeof(roots_buf));
	if (io.profiles_dir == NULL && access(CS_DATADIR "/profiles", R_OK) != 0)
		io.profiles_dir = cli_tree_path("profiles", profiles_buf,
		    sizeof(profiles_buf));
	io.flags = a->hw ? CS_CA_INIT_HARDWARE_CA : 0;
	if ((code = ca_dir(cli, o, dir, sizeof(dir))) != CLI_CONTINUE ||
	    (code = read_opt_file(cli, a->ikey, &k, &kl)) != CLI_CONTINUE ||
	    (code = read_opt_file(cli, a->icert, &c, &cl)) != CLI_CONTINUE ||
	    (code = read_opt_file(cli, a->ichain, &ch, &chl)) != CLI_CONTINUE ||
	    (code = secret_get(cli, &o->pass, true, &s)) != CLI_CONTINUE)
		goto out;
	if (k != NULL)
		r = cs_ca_import(cli->ctx, dir, &io, k, kl, c, cl, ch, chl, s.s,
		    s.len, &ca);
	else
		r = cs_ca_init(cli->ctx, dir, &io, s.s, s.len, &ca);
	if (r != CS_OK) {
		code = out_fail(cli, r, "ca init");
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "dir", out_str(dir));
		out_set(doc, "arc", out_str(cs_ca_arc(ca)));
		out_set(doc, "policy_oids", oids_json(ca));
		out_set(doc, "hardware_ca", json_boolean(a->hw));
		out_set(doc, "sublevels", sublevels_json(ca));
		code = out_emit(cli, doc);
	} else {
		printf("CA created in %s\npolicy arc %s\n", dir, cs_ca_arc(ca));
		printf("  hardware-attested %s\n  hardware-enrolled %s\n"
		       "  software          %s\n",
		    cs_ca_level_oid(ca, CS_CA_LEVEL_HW_ATTESTED),
		    cs_ca_level_oid(ca, CS_CA_LEVEL_HW_ENROLLED),
		    cs_ca_level_oid(ca, CS_CA_LEVEL_SOFTWARE));
		for (i = 0; (sub = cs_ca_sublevel_at(ca, i)) != NULL; i++)
			printf("    %-15s %s\n", sub->name, sub->oid);
		code = CLI_EXIT_OK;
	}
out:
	secret_clear(&s);
	cs_free_secret(k, kl);
	free(c);
	free(ch);
	cs_ca_close(ca);
	return code;
}

static int
ca_init(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct init_args a;
	poptContext con = NULL;
	size_t k;
	int code;

	ca_opts_init(&o);
	memset(&a, 0, sizeof(a));
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "hardware-ca", '\0', POPT_ARG_NONE, &a.hw, 0,
			    "add a hardware-only issuing CA", NULL },
			{ "key-type", '\0', POPT_ARG_STRING, &a.type, 0,
			    "CA key type (default p256)", "TYPE" },
			{ "arc", '\0', POPT_ARG_STRING, &a.arc, 0,
			    "policy arc (default: a new 2.25.<uuid>)", "OID" },
			{ "extra-policy", '\0', POPT_ARG_STRING, &a.extra, 0,
			    "further policy OIDs the CA asserts, each with "
			    "its level (comma separated)",
			    "LEVEL=OID" },
			{ "roots", '\0', POPT_ARG_STRING, &a.roots, 0,
			    "manufacturer roots to trust (PEM)", "FILE" },
			{ "profiles", '\0', POPT_ARG_STRING, &a.profiles, 0,
			    "profiles to copy in", "DIR" },
			{ "import-key", '\0', POPT_ARG_STRING, &a.ikey, 0,
			    "existing issuing CA key (PEM; encrypted with the "
			    "passphrase or clear)",
			    "FILE" },
			{ "import-cert", '\0', POPT_ARG_STRING, &a.icert, 0,
			    "existing issuing CA certificate", "FILE" },
			{ "import-chain", '\0', POPT_ARG_STRING, &a.ichain, 0,
			    "its chain up to the root (PEM)", "FILE" },
			{ "sublevel", '\0', POPT_ARG_STRING, &a.sub,
			    OPT_SUBLEVEL,
			    "sub-level of hardware-attested (repeatable)",
			    "NAME=pin:P,touch:T" },
			SECRET_POPT(o.pass, "pass", "CA passphrase"),
			POPT_TABLEEND,
		};

		code = cli_parse_repeat(cli, argc, argv, opts, &init_usage,
		    &con, OPT_SUBLEVEL, &a.sub, a.subs, CS_CA_SUBLEVEL_MAX,
		    &a.nsubs);
		if (code == CLI_CONTINUE &&
		    (code = cli_no_args(cli, con)) == CLI_CONTINUE)
			code = init_run(cli, &o, &a);
	}
	poptFreeContext(con);
	for (k = 0; k < a.nsubs; k++)
		free(a.subs[k]);
	free(a.sub);
	free(a.type);
	free(a.arc);
	free(a.extra);
	free(a.roots);
	free(a.profiles);
	free(a.ikey);
	free(a.icert);
	free(a.ichain);
	ca_opts_release(&o);
	return code;
}

/* --- sign --- */

static const struct cli_usage sign_usage = {
	"--profile NAME --csr FILE [--attestation FILE --intermediate FILE]\n"
	"       [--attestation-chain FILE] [--slot SLOT] [--card-serial N] "
	"[--var NAME=VALUE]...\n       [--out FILE] [--dry-run] [--dir DIR] "
	"[--pass-fd FD | --pass-file FILE | --pass-env NAME]",
	"Issue a certificate for the CSR under profile NAME. The assurance "
	"level comes\nfrom the evidence: an attestation statement + F9 "
	"certificate (given, or embedded\nin the CSR) that chain to a "
	"trusted manufacturer root and attest the CSR's key\ngive "
	"hardware-attested; anything else is software. When the profile "
	"requires\nmore than the evidence proves, nothing is issued and the "
	"exact reason is\nprinted (exit 6; forged evidence exits 5). The "
	"certificate goes to --out or\nstandard output, only after it is "
	"stored in the registry."
	"\nWhat the CSR requests but the profile does not take (SAN entries,"
	"\nsubject attributes: csr_san, csr_subject) is named with the "
	"reason, one\nwarning line each and under \"dropped\" in --json.",
	"  cardsmith ca sign --profile piv-auth --csr req.pem --attestation "
	"att.pem \\\n      --intermediate f9.pem --out cert.pem",
};

struct sign_args {
	char *profile, *csr, *att, *f9, *attchain, *slot, *card, *out;
	char *var; /* popt slot for --var */
	char *vars[CA_VARS_MAX + 1];
	size_t nvars;
	int dry;
};

#define OPT_VAR 0x2001

static int
parse_slot(const char *s, int *slot)
{
	unsigned long v;
	char *end;

	*slot = -1;
	if (s == NULL)
		return 1;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno != 0 || *end != '\0' || v < 0x80 || v > 0x9f)
		return 0;
	*slot = (int)v;
	return 1;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	*v = 0;
	if (s == NULL)
		return 1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-' || x == 0)
		return 0;
	*v = x;
	return 1;
}

static json_t *
decision_json(json_t *doc, const struct cs_ca_decision *d)
{
	char fw[16];

	out_set(doc, "level", out_str(cs_ca_level_name(d->level)));
	out_set(doc, "proven", out_str(cs_ca_level_name(d->proven)));
	out_set(doc, "policy_oid", out_str(d->policy_oid));
	out_set(doc, "sublevel", d->sublevel[0] ? out_str(d->sublevel) : NULL);
	out_set(doc, "reason", out_str(d->reason));
	out_set(doc, "warnings", d->warnings[0] ? out_str(d->warnings) : NULL);
	out_set(doc, "card_serial",
	    d->has_card_serial ? json_integer((json_int_t)d->card_serial)
	                       : NULL);
	snprintf(fw, sizeof(fw), "%u.%u.%u", d->firmware[0], d->firmware[1],
	    d->firmware[2]);
	out_set(doc, "firmware", d->has_firmware ? out_str(fw) : NULL);
	return doc;
}

/* The CSR values the profile did not take: one warning line each. */
static json_t *
dropped_report(struct cli *cli, const struct cs_ca_issue_res *res)
{
	const struct cs_ca_dropped *d;
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < res->ndropped; i++) {
		d = &res->dropped[i];
		out_notice(cli, "warning: dropped %s '%s': %s", d->field,
		    d->value, d->reason);
		if (arr == NULL || (o = json_object()) == NULL)
			continue;
		out_set(o, "field", out_str(d->field));
		out_set(o, "value", out_str(d->value));
		out_set(o, "reason", out_str(d->reason));
		out_append(arr, o);
	}
	if (res->dropped_more > 0)
		out_notice(cli, "warning: dropped %zu more requested values",
		    res->dropped_more);
	return arr;
}

static int
sign_emit(struct cli *cli, const struct sign_args *a,
    const struct cs_ca_issue_res *res)
{
	char *pem = NULL;
	json_t *doc, *dropped = NULL;
	int code = CLI_EXIT_OK;

	if (res->der != NULL) {
		pem_encode("CERTIFICATE", res->der, res->der_len, &pem);
		if ((a->out != NULL || !cli->json) &&
		    (code = pem_write_file(cli, a->out, pem, 0644, false)) !=
		        CLI_CONTINUE)
			goto out;
		code = CLI_EXIT_OK;
	}
	if (res->decision.warnings[0] != '\0')
		out_notice(cli, "warning: %s", res->decision.warnings);
	dropped = dropped_report(cli, res);
	if (cli->json) {
		doc = decision_json(out_doc_new(), &res->decision);
		out_set(doc, "dropped", dropped);
		dropped = NULL;
		if (res->dropped_more > 0)
			out_set(doc, "dropped_more",
			    json_integer((json_int_t)res->dropped_more));
		out_set(doc, "serial",
		    res->serial[0] ? out_str(res->serial) : NULL);
		out_set(doc, "issuer", out_str(res->signer));
		out_set(doc, "out", out_str(a->out));
		if (a->out == NULL && pem != NULL)
			out_set(doc, "pem", out_str(pem));
		code = out_emit(cli, doc);
	} else
		out_notice(cli, "%s %s: %s%s%s (%s)",
		    a->dry ? "would issue" : "issued",
		    res->serial[0] ? res->serial : "-",
		    cs_ca_level_name(res->decision.level),
		    res->decision.sublevel[0] ? ", sub-level " : "",
		    res->decision.sublevel, res->decision.policy_oid);
out:
	json_decref(dropped);
	free(pem);
	return code;
}

static int
sign_run(struct cli *cli, struct ca_opts *o, struct sign_args *a)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	struct cs_ca_profile *prof = NULL;
	struct cs_ca *ca = NULL;
	uint8_t *csr = NULL, *att = NULL, *f9 = NULL, *chain = NULL;
	size_t csrl = 0, attl = 0, f9l = 0, chainl = 0;
	enum cs_err r;
	int code;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	if (a->profile == NULL || a->csr == NULL)
		return out_usage(cli,
		    "ca sign: --profile and --csr are needed");
	if ((a->att == NULL) != (a->f9 == NULL))
		return out_usage(cli,
		    "ca sign: --attestation and "
		    "--intermediate go together");
	if (!parse_slot(a->slot, &req.slot))
		return out_usage(cli, "ca sign: bad --slot '%s'", a->slot);
	if (!parse_u64(a->card, &req.expected_card_serial))
		return out_usage(cli, "ca sign: bad --card-serial");
	if ((code = read_opt_file(cli, a->csr, &csr, &csrl)) != CLI_CONTINUE ||
	    (code = read_opt_file(cli, a->att, &att, &attl)) != CLI_CONTINUE ||
	    (code = read_opt_file(cli, a->f9, &f9, &f9l)) != CLI_CONTINUE ||
	    (code = read_opt_file(cli, a->attchain, &chain, &chainl)) !=
	        CLI_CONTINUE ||
	    (code = open_ca(cli, o, &ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_profile_load(ca, a->profile, &prof)) != CS_OK) {
		code = out_fail(cli, r, NULL);
		goto out;
	}
	if (!a->dry && (code = unlock(cli, o, ca)) != CLI_CONTINUE)
		goto out;
	req.profile = prof;
	req.csr = csr;
	req.csr_len = csrl;
	req.stmt = att;
	req.stmt_len = attl;
	req.f9 = f9;
	req.f9_len = f9l;
	req.intermediates = chain;
	req.intermediates_len = chainl;
	req.vars = (const char *const *)a->vars;
	req.flags = a->dry ? CS_CA_ISSUE_DRYRUN : 0;
	/* Never CS_CA_ISSUE_ENROLLED: a file is not an enrollment. */
	if ((r = cs_ca_issue(ca, &req, &res)) != CS_OK) {
		code = out_fail(cli, r, "ca sign: refused");
		goto out;
	}
	code = sign_emit(cli, a, &res);
out:
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(prof);
	cs_ca_close(ca);
	free(csr);
	free(att);
	free(f9);
	free(chain);
	return code;
}

static int
ca_sign(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct sign_args a;
	poptContext con = NULL;
	size_t i;
	int code;

	ca_opts_init(&o);
	memset(&a, 0, sizeof(a));
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "profile", '\0', POPT_ARG_STRING, &a.profile, 0,
			    "issuance profile (name or path)", "NAME" },
			{ "csr", '\0', POPT_ARG_STRING, &a.csr, 0,
			    "certificate signing request (PEM or DER)",
			    "FILE" },
			{ "attestation", '\0', POPT_ARG_STRING, &a.att, 0,
			    "slot attestation statement", "FILE" },
			{ "intermediate", '\0', POPT_ARG_STRING, &a.f9, 0,
			    "the card's F9 attestation certificate", "FILE" },
			{ "attestation-chain", '\0', POPT_ARG_STRING,
			    &a.attchain, 0,
			    "further manufacturer intermediates (PEM)",
			    "FILE" },
			{ "slot", '\0', POPT_ARG_STRING, &a.slot, 0,
			    "slot the key is in (checked against the "
			    "attestation)",
			    "SLOT" },
			{ "card-serial", '\0', POPT_ARG_STRING, &a.card, 0,
			    "expected card serial", "N" },
			{ "var", '\0', POPT_ARG_STRING, &a.var, OPT_VAR,
			    "template variable (repeatable)", "NAME=VALUE" },
			{ "out", 'o', POPT_ARG_STRING, &a.out, 0,
			    "write the certificate here (new file)", "FILE" },
			{ "dry-run", '\0', POPT_ARG_NONE, &a.dry, 0,
			    "decide and lint only", NULL },
			SECRET_POPT(o.pass, "pass", "CA passphrase"),
			POPT_TABLEEND,
		};

		code = cli_parse_repeat(cli, argc, argv, opts, &sign_usage,
		    &con, OPT_VAR, &a.var, a.vars, CA_VARS_MAX, &a.nvars);
		if (code == CLI_CONTINUE &&
		    (code = cli_no_args(cli, con)) == CLI_CONTINUE)
			code = sign_run(cli, &o, &a);
	}
	poptFreeContext(con);
	for (i = 0; i < a.nvars; i++)
		free(a.vars[i]);
	free(a.var);
	free(a.profile);
	free(a.csr);
	free(a.att);
	free(a.f9);
	free(a.attchain);
	free(a.slot);
	free(a.card);
	free(a.out);
	ca_opts_release(&o);
	return code;
}

/* --- revoke --- */

static const struct cli_usage revoke_usage = {
	"(--serial HEX | --card SERIAL) [--reason REASON] [--dir DIR]",
	"Mark a certificate (or every certificate issued for a card) revoked "
	"in the\nregistry; the next 'cardsmith ca crl' lists it. REASON is an "
	"RFC 5280 name:\nunspecified (default), keyCompromise, "
	"affiliationChanged, superseded,\ncessationOfOperation, "
	"certificateHold, privilegeWithdrawn.",
	"  cardsmith ca revoke --serial 4F2A... --reason keyCompromise",
};

static int
ca_revoke(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	char *serial = NULL, *card = NULL, *reason = NULL;
	uint64_t cs = 0;
	size_t n = 0;
	int rs = 0, code;
	json_t *doc;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "serial", '\0', POPT_ARG_STRING, &serial, 0,
			    "certificate serial (hex)", "HEX" },
			{ "card", '\0', POPT_ARG_STRING, &card, 0,
			    "revoke everything issued for this card serial",
			    "SERIAL" },
			{ "reason", '\0', POPT_ARG_STRING, &reason, 0,
			    "RFC 5280 reason name", "REASON" },
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &revoke_usage,
		         &con)) != CLI_CONTINUE ||
		    (code = cli_no_args(cli, con)) != CLI_CONTINUE)
			goto out;
	}
	if ((serial == NULL) == (card == NULL)) {
		code = out_usage(cli, "ca revoke: give --serial or --card");
		goto out;
	}
	if (!parse_u64(card, &cs)) {
		code = out_usage(cli, "ca revoke: bad --card serial");
		goto out;
	}
	if (reason != NULL && cs_ca_reason_parse(reason, &rs) != CS_OK) {
		code = out_usage(cli, "ca revoke: unknown reason '%s'", reason);
		goto out;
	}
	if ((code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_revoke(ca, serial, cs, rs, 0, &n)) != CS_OK) {
		code = out_fail(cli, r, "ca revoke");
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "revoked", json_integer((json_int_t)n));
		code = out_emit(cli, doc);
	} else {
		printf("revoked %zu certificate%s\n", n, n == 1 ? "" : "s");
		code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	free(serial);
	free(card);
	free(reason);
	ca_opts_release(&o);
	return code;
}

/* --- crl --- */

static const struct cli_usage crl_usage = {
	"[--out FILE] [--days N] [--dir DIR] [--pass-fd FD | --pass-file FILE "
	"| --pass-env NAME]",
	"Write a CRL for each issuing CA (PEM, concatenated) with a new "
	"cRLNumber and\nnextUpdate N days ahead (default 7). Gateways load it "
	"with 'cardsmith verify\n--crl' or ssl_crl / SSLCARevocationFile.",
	"  cardsmith ca crl --out ca.crl.pem",
};

static int
ca_crl(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	char *out = NULL, *pem = NULL;
	size_t len = 0;
	int days = 7, code;
	json_t *doc;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "out", 'o', POPT_ARG_STRING, &out, 0,
			    "write the CRL here (replaced)", "FILE" },
			{ "days", '\0', POPT_ARG_INT, &days, 0,
			    "nextUpdate in days (default 7)", "N" },
			SECRET_POPT(o.pass, "pass", "CA passphrase"),
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &crl_usage,
		         &con)) != CLI_CONTINUE ||
		    (code = cli_no_args(cli, con)) != CLI_CONTINUE)
			goto out;
	}
	if (days <= 0 || days > 3650) {
		code = out_usage(cli, "ca crl: --days must be 1..3650");
		goto out;
	}
	if ((code = open_ca(cli, &o, &ca)) != CLI_CONTINUE ||
	    (code = unlock(cli, &o, ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_crl(ca, (unsigned int)days, &pem, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca crl");
		goto out;
	}
	if (out != NULL || !cli->json) {
		code = pem_write_file(cli, out, pem, 0644, true);
		if (code != CLI_CONTINUE)
			goto out;
	}
	code = CLI_EXIT_OK;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "out", out_str(out));
		if (out == NULL)
			out_set(doc, "pem", out_str(pem));
		code = out_emit(cli, doc);
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	cs_free(pem);
	free(out);
	ca_opts_release(&o);
	return code;
}

/* --- list / show --- */

static json_t *
info_json(const struct cs_ca_cert_info *in)
{
	json_t *o = json_object();
	char slot[8];

	if (o == NULL)
		return NULL;
	out_set(o, "serial", out_str(in->serial));
	out_set(o, "status", out_str(cs_ca_status_name(in->status)));
	out_set(o, "level",
	    in->level != CS_CA_LEVEL_NONE ? out_str(cs_ca_level_name(in->level))
	                                  : NULL);
	out_set(o, "profile", out_str(in->profile));
	out_set(o, "subject", in->subject[0] ? out_str(in->subject) : NULL);
	out_set(o, "not_before", json_integer(in->not_before));
	out_set(o, "not_after", json_integer(in->not_after));
	snprintf(slot, sizeof(slot), "%02x", (unsigned int)in->slot & 0xff);
	out_set(o, "slot", in->slot >= 0 ? out_str(slot) : NULL);
	out_set(o, "card_serial",
	    in->has_card_serial ? json_integer((json_int_t)in->card_serial)
	                        : NULL);
	out_set(o, "firmware", in->firmware[0] ? out_str(in->firmware) : NULL);
	out_set(o, "sublevel", in->sublevel[0] ? out_str(in->sublevel) : NULL);
	out_set(o, "revoked_at",
	    in->status == CS_CA_STATUS_REVOKED ? json_integer(in->revoked_at)
	                                       : NULL);
	return o;
}

static void
info_text(const struct cs_ca_cert_info *in)
{
	char when[32] = "-";
	struct tm tm;
	time_t t = (time_t)in->not_after;

	if (in->not_after != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	printf("%-32s %-9s %-17s %-10s %s ", in->serial,
	    cs_ca_status_name(in->status),
	    in->level != CS_CA_LEVEL_NONE ? cs_ca_level_name(in->level) : "-",
	    when, in->profile);
	out_safe(stdout, in->subject[0] ? in->subject : "-");
	fputc('\n', stdout);
}

static int
list_one(void *arg, const struct cs_ca_cert_info *in)
{
	json_t *arr = arg;

	if (arr != NULL)
		out_append(arr, info_json(in));
	else
		info_text(in);
	return 0;
}

static const struct cli_usage list_usage = {
	"[--expiring DAYS] [--status STATUS] [--dir DIR] [--json]",
	"List the registry: serial, status (pending, issued, delivered, "
	"revoked, void),\nlevel, expiry, profile and subject. --expiring "
	"shows unrevoked certificates\nthat expire within DAYS.",
	"  cardsmith ca list --expiring 30 --json",
};

static int
ca_list(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	struct cs_ca_list_filter f = { 0, -1 };
	poptContext con = NULL;
	char *status = NULL;
	int days = -1, code, i;
	json_t *doc = NULL, *arr = NULL;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "expiring", '\0', POPT_ARG_INT, &days, 0,
			    "only certificates expiring within DAYS", "DAYS" },
			{ "status", '\0', POPT_ARG_STRING, &status, 0,
			    "only rows with this status", "STATUS" },
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &list_usage,
		         &con)) != CLI_CONTINUE ||
		    (code = cli_no_args(cli, con)) != CLI_CONTINUE)
			goto out;
	}
	if (days >= 0)
		f.expiring_before = (int64_t)time(NULL) + (int64_t)days * 86400;
	for (i = 0; status != NULL && i <= CS_CA_STATUS_VOID; i++)
		if (strcmp(status, cs_ca_status_name((enum cs_ca_status)i)) ==
		    0)
			f.status = i;
	if (status != NULL && f.status < 0) {
		code = out_usage(cli, "ca list: unknown --status '%s'", status);
		goto out;
	}
	if ((code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
		goto out;
	if (cli->json && (arr = json_array()) == NULL) {
		code = out_fail(cli, CS_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = cs_ca_list(ca, &f, list_one, arr)) != CS_OK) {
		code = out_fail(cli, r, "ca list");
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "certificates", arr);
		arr = NULL;
		code = out_emit(cli, doc);
	} else
		code = CLI_EXIT_OK;
out:
	json_decref(arr);
	poptFreeContext(con);
	cs_ca_close(ca);
	free(status);
	ca_opts_release(&o);
	return code;
}

static const struct cli_usage show_usage = {
	"SERIAL [--dir DIR] [--json]",
	"Show one registry row and its certificate (PEM).",
	"  cardsmith ca show 4F2A...",
};

static int
ca_show(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca_cert_info in;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	const char *serial;
	uint8_t *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	json_t *doc;
	int code;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &show_usage,
		         &con)) != CLI_CONTINUE)
			goto out;
	}
	if ((serial = poptGetArg(con)) == NULL) {
		code = out_usage(cli, "ca show: SERIAL missing");
		goto out;
	}
	if ((code = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_show(ca, serial, &in, &der, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca show");
		goto out;
	}
	if (der != NULL)
		pem_encode("CERTIFICATE", der, len, &pem);
	if (cli->json) {
		doc = info_json(&in);
		out_set(doc, "ok", json_true());
		out_set(doc, "pem", out_str(pem));
		code = out_emit(cli, doc);
	} else {
		info_text(&in);
		if (pem != NULL)
			fputs(pem, stdout);
		code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	cs_free(der);
	free(pem);
	ca_opts_release(&o);
	return code;
}

/* --- chain, trust add, reconcile --- */

static const struct cli_usage chain_usage = {
	"[--out FILE] [--dir DIR]",
	"Print the CA chain a gateway needs (issuing CA(s), then the root) as "
	"PEM:\nnginx ssl_client_certificate, Apache SSLCACertificateFile, "
	"'cardsmith verify\n--chain'.",
	"  cardsmith ca chain > ca-chain.pem",
};

static int
ca_chain(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	char *out = NULL, *pem = NULL;
	size_t len = 0;
	json_t *doc;
	int code;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "out", 'o', POPT_ARG_STRING, &out, 0,
			    "write the chain here (replaced)", "FILE" },
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &chain_usage,
		         &con)) != CLI_CONTINUE ||
		    (code = cli_no_args(cli, con)) != CLI_CONTINUE ||
		    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
			goto out;
	}
	if ((r = cs_ca_chain(ca, &pem, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca chain");
		goto out;
	}
	if (cli->json) {
		if (out != NULL &&
		    (code = pem_write_file(cli, out, pem, 0644, true)) !=
		        CLI_CONTINUE &&
		    code != CLI_EXIT_OK)
			goto out;
		doc = out_doc_new();
		out_set(doc, "pem", out_str(pem));
		out_set(doc, "arc", out_str(cs_ca_arc(ca)));
		out_set(doc, "policy_oids", oids_json(ca));
		code = out_emit(cli, doc);
	} else {
		code = pem_write_file(cli, out, pem, 0644, true);
		if (code == CLI_CONTINUE)
			code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	cs_free(pem);
	free(out);
	ca_opts_release(&o);
	return code;
}

static const struct cli_usage trust_usage = {
	"ROOT.pem [--dir DIR]",
	"Trust the manufacturer root(s) in ROOT.pem for attestation (added to "
	"the CA's\ntrust/ directory next to the shipped Yubico PIV roots).",
	"  cardsmith ca trust add --dir /srv/ca vendor-root.pem",
};

static int
ca_trust_add(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	const char *path;
	uint8_t *data = NULL;
	size_t len = 0, n = 0;
	json_t *doc;
	int code;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &trust_usage,
		         &con)) != CLI_CONTINUE)
			goto out;
	}
	if ((path = poptGetArg(con)) == NULL) {
		code = out_usage(cli, "ca trust add: ROOT.pem missing");
		goto out;
	}
	if ((code = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (code = pem_read_file(cli, path, &data, &len)) != CLI_CONTINUE ||
	    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_trust_add(ca, data, len, &n)) != CS_OK) {
		code = out_fail(cli, r, path);
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "added", json_integer((json_int_t)n));
		code = out_emit(cli, doc);
	} else {
		printf("trusted %zu certificate%s from %s\n", n,
		    n == 1 ? "" : "s", path);
		code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	free(data);
	ca_opts_release(&o);
	return code;
}

static const struct cli_usage reconcile_usage = {
	"[--dir DIR] [--json]",
	"Resolve registry rows a crash left behind: a pending reservation "
	"never stored a\ncertificate, so none was handed out; it becomes "
	"void and its serial is never\nreused. Also checks the database "
	"(integrity, no duplicate serial). Exit 1 if\nthe check fails.",
	"  cardsmith ca reconcile --json",
};

static int
ca_reconcile(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca_reconcile_stats st;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	json_t *doc;
	int code;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &reconcile_usage,
		         &con)) != CLI_CONTINUE ||
		    (code = cli_no_args(cli, con)) != CLI_CONTINUE ||
		    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
			goto out;
	}
	if ((r = cs_ca_reconcile(ca, &st)) != CS_OK) {
		code = out_fail(cli, r, "ca reconcile");
		goto out;
	}
	if (!st.integrity_ok || st.duplicates != 0) {
		code = out_failf(cli, CS_ERR_STORE,
		    "ca reconcile: registry "
		    "check failed (integrity %s, %zu duplicate serials)",
		    st.integrity_ok ? "ok" : "BAD", st.duplicates);
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "pending_voided",
		    json_integer((json_int_t)st.pending_voided));
		out_set(doc, "issued_undelivered",
		    json_integer((json_int_t)st.issued_undelivered));
		out_set(doc, "duplicates",
		    json_integer((json_int_t)st.duplicates));
		out_set(doc, "integrity_ok", json_boolean(st.integrity_ok));
		code = out_emit(cli, doc);
	} else {
		printf("voided %zu pending reservation%s; %zu issued, not "
		       "marked delivered; integrity ok\n",
		    st.pending_voided, st.pending_voided == 1 ? "" : "s",
		    st.issued_undelivered);
		code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	ca_opts_release(&o);
	return code;
}
