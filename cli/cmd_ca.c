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
#include "certinfo.h"
#include "cmd_ca.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
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
static int ca_trust_list(struct cli *, int, const char **);
static int ca_trust_remove(struct cli *, int, const char **);
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
	{ "ca trust list", ca_trust_list, NEED_CA,
	    "list the manufacturer roots and intermediates" },
	{ "ca trust add", ca_trust_add, NEED_CA,
	    "trust a manufacturer root for attestation" },
	{ "ca trust remove", ca_trust_remove, NEED_CA,
	    "stop trusting a certificate (by fingerprint) or a file" },
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

/* Does msg name dir itself or a file in it ("DIR/registry.db")? */
static bool
names_dir(const char *msg, const char *dir)
{
	size_t n = strlen(dir);
	const char *p;

	for (p = strstr(msg, dir); n > 0 && p != NULL; p = strstr(p + 1, dir))
		if ((p == msg || p[-1] == ' ') &&
		    (p[n] == '/' || p[n] == ':' || p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static int
open_ca(struct cli *cli, const struct ca_opts *o, struct cs_ca **ca)
{
	char dir[CA_DIR_MAX];
	const char *warning;
	enum cs_err r;
	int code;

	*ca = NULL;
	if ((code = ca_dir(cli, o, dir, sizeof(dir))) != CLI_CONTINUE)
		return code;
	if ((r = cs_ca_open(cli->ctx, dir, ca)) != CS_OK)
		return names_dir(cs_ctx_errmsg(cli->ctx), dir)
		    ? out_fail(cli, r, cli->cmd->name)
		    : out_failf(cli, r, "%s: %s: %s", cli->cmd->name, dir,
		          cs_ctx_errmsg(cli->ctx));
	/* Once per command: a CA from before --allow-long-oid-arcs. */
	if (cs_ca_oid_arcs(*ca, &warning) == CS_CA_OID_ARCS_LEGACY)
		out_notice(cli, "warning: %s: %s", dir, warning);
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

/*
 * A registry serial as 'ca list' prints it: hex digits only, at most
 * CS_CA_SERIAL_MAX - 1 of them. Anything else is a usage error (exit 2).
 */
static int
check_serial(struct cli *cli, const char *what, const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return out_usage(cli, "%s: %s is empty", cli->cmd->name, what);
	if (n >= CS_CA_SERIAL_MAX)
		return out_usage(cli,
		    "%s: %s '%.20s...' is too long (at most %d hex digits)",
		    cli->cmd->name, what, s, CS_CA_SERIAL_MAX - 1);
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f') ||
		        (s[i] >= 'A' && s[i] <= 'F')))
			return out_usage(cli,
			    "%s: %s '%.40s' is not hex (give it as 'cardsmith "
			    "ca list' prints it)",
			    cli->cmd->name, what, s);
	return CLI_CONTINUE;
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
	"[--dir DIR] [--hardware-ca] [--key-type TYPE]\n       "
	"[--arc OID] [--allow-long-oid-arcs] [--extra-policy LEVEL=OID,...]\n"
	"       [--sublevel NAME=pin:P,touch:T[,oid:OID]]... "
	"[--roots FILE]\n       [--profiles DIR] "
	"[--import-key FILE --import-cert FILE\n       [--import-chain FILE]] "
	"[--pass-fd FD | --pass-file FILE | --pass-env NAME]",
	"Create a CA in DIR (mode 0700): a root and an issuing CA (with "
	"--hardware-ca a\nsecond issuing CA used only for hardware levels), "
	"the policy arc (--arc),\nthe registry, the manufacturer trust "
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
	"may use one only on certificates of that level or higher.\n"
	"--arc: in production your organisation's own arc, e.g. "
	"1.3.6.1.4.1.<PEN>.<n>.\nWithout it the arc is "
	"1.2.840.113556.1.8000.2554.A.B.C.D.E.F.G from a fresh\nrandom "
	"UUID (Microsoft's GUID-based arc for unregistered use). Level "
	"OIDs:\n<arc>.1.1 hardware-attested, <arc>.1.2 hardware-enrolled, "
	"<arc>.1.3 software.\nEvery OID the CA writes must keep each arc "
	"below 2^28 and fit in 63 octets, or\nGo's crypto/x509 (Traefik, "
	"Caddy) and Debian 12's python3-cryptography (ykman)\ncannot parse "
	"its certificates; --allow-long-oid-arcs (recorded in ca.cnf, with\n"
	"a warning) permits longer ones, e.g. a 2.25.<uuid> arc.",
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
	int hw, long_arcs;
	char *type, *arc, *extra, *roots, *profiles;
	char *ikey, *icert, *ichain;
	char *sub; /* popt slot for --sublevel */
	char *subs[CS_CA_SUBLEVEL_MAX + 1];
	size_t nsubs;
};

#define OPT_SUBLEVEL 0x2002

/*
 * The level names in --extra-policy LEVEL=OID,...: a misspelt one is a
 * usage error (the OIDs themselves are checked by cs_ca_init).
 */
static int
extra_levels(struct cli *cli, const char *text)
{
	char buf[1024], *s, *save = NULL, *eq;
	enum cs_ca_level lv;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return CLI_CONTINUE;
	snprintf(buf, sizeof(buf), "%s", text);
	for (s = strtok_r(buf, ",", &save); s != NULL;
	     s = strtok_r(NULL, ",", &save)) {
		while (*s == ' ')
			s++;
		if ((eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		if (cs_ca_level_parse(s, &lv) != CS_OK)
			return out_usage(cli,
			    "ca init: --extra-policy: unknown level '%.40s' "
			    "(software, hardware-enrolled or "
			    "hardware-attested)",
			    s);
	}
	return CLI_CONTINUE;
}

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
	const char *warning;
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
	if ((code = extra_levels(cli, a->extra)) != CLI_CONTINUE)
		return code;
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
	if (a->long_arcs)
		io.flags |= CS_CA_INIT_LONG_OID_ARCS;
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
	if (cs_ca_oid_arcs(ca, &warning) != CS_CA_OID_ARCS_SHORT)
		out_notice(cli, "warning: %s", warning);
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "dir", out_str(dir));
		out_set(doc, "arc", out_str(cs_ca_arc(ca)));
		out_set(doc, "policy_oids", oids_json(ca));
		out_set(doc, "hardware_ca", json_boolean(a->hw));
		out_set(doc, "sublevels", sublevels_json(ca));
		out_set(doc, "allow_long_oid_arcs",
		    json_boolean(
		        cs_ca_oid_arcs(ca, NULL) != CS_CA_OID_ARCS_SHORT));
		code = out_emit(cli, doc);
	} else if (cli->quiet)
		code = CLI_EXIT_OK;
	else {
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
			    "policy arc, your organisation's own (default: a "
			    "new 1.2.840.113556.1.8000.2554 GUID arc)",
			    "OID" },
			{ "allow-long-oid-arcs", '\0', POPT_ARG_NONE,
			    &a.long_arcs, 0,
			    "allow OID arcs of 2^28 or more (Go and Debian 12's "
			    "ykman cannot parse them)",
			    NULL },
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
	"[--var NAME=VALUE]...\n       [--out FILE [--force]] [--dry-run] "
	"[--allow-revoked-key] [--dir DIR]\n       "
	"[--pass-fd FD | --pass-file FILE | --pass-env NAME]",
	"Issue a certificate for the CSR under profile NAME. The assurance "
	"level comes\nfrom the evidence: an attestation statement + F9 "
	"certificate (given, or embedded\nin the CSR) that chain to a "
	"trusted manufacturer root and attest the CSR's key\ngive "
	"hardware-attested; anything else is software. When the profile "
	"requires\nmore than the evidence proves, nothing is issued and the "
	"exact reason is\nprinted (exit 6; forged evidence exits 5). The "
	"certificate goes to --out or\nstandard output, only after it is "
	"stored in the registry; --out is checked\nfirst, so an output that "
	"cannot be written issues nothing. Once written, the\nregistry row "
	"becomes 'delivered'; if the write fails after signing it stays\n"
	"'issued' and 'cardsmith ca show --serial S --out FILE' writes it.\n"
	"Exit 5 also when --csr is not a certificate request (or is a "
	"certificate), as\nin 'attest verify --csr'; exit 2 for a --var "
	"that is not NAME=VALUE.\nA key that a certificate revoked for "
	"keyCompromise certifies is never certified\nagain (exit 6), "
	"whatever the profile or subject; one revoked for another reason\n"
	"only with --allow-revoked-key (recorded in the registry's events).\n"
	"What the CSR requests but the profile does not take (SAN entries,"
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
	int dry, force;
	int allow_revoked; /* --allow-revoked-key */
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

static unsigned int
sign_out_flags(const struct sign_args *a)
{
	return OUTFILE_HINT_FORCE | (a->force ? OUTFILE_FORCE : 0);
}

/*
 * The certificate was signed and stored but did not reach its
 * destination: it stays "issued" (ca reconcile lists it) and ca show
 * writes it.
 */
static int
sign_undelivered(struct cli *cli, const struct sign_args *a, const char *serial,
    const char *why)
{
	return out_failf(cli, CS_ERR_IO,
	    "ca sign: certificate %s was issued but not written to %s: %s; "
	    "get it with 'cardsmith ca show --serial %s --out %s'",
	    serial, outfile_name(a->out), why, serial,
	    a->out != NULL && !outfile_is_stdout(a->out) ? a->out : "FILE");
}

/* Written to its destination: issued -> delivered. */
static void
sign_delivered(struct cli *cli, struct cs_ca *ca, const char *serial)
{
	if (cs_ca_mark_delivered(ca, serial) != CS_OK)
		out_err("warning: certificate %s was written but the registry "
		        "could not mark it delivered: %s",
		    serial, cs_ctx_errmsg(cli->ctx));
}

static int
sign_emit(struct cli *cli, struct cs_ca *ca, const struct sign_args *a,
    const struct cs_ca_issue_res *res)
{
	char *pem = NULL, why[OUTFILE_WHY_MAX];
	json_t *doc, *dropped = NULL;
	int code = CLI_EXIT_OK, in_doc = cli->json && a->out == NULL;
	enum cs_err r;

	if (res->der != NULL) {
		pem_encode("CERTIFICATE", res->der, res->der_len, &pem);
		if (!in_doc &&
		    (r = outfile_write(a->out, pem, strlen(pem),
		         sign_out_flags(a), why, sizeof(why))) != CS_OK) {
			code = sign_undelivered(cli, a, res->serial, why);
			goto out;
		}
		if (!in_doc)
			sign_delivered(cli, ca, res->serial);
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
		if (in_doc && pem != NULL)
			out_set(doc, "pem", out_str(pem));
		code = out_emit(cli, doc);
		/* The PEM went out in the document: delivered once flushed. */
		if (in_doc && pem != NULL) {
			if (fflush(stdout) != 0 || ferror(stdout)) {
				code = sign_undelivered(cli, a, res->serial,
				    strerror(errno));
				/* Reported: not again by the runner. */
				clearerr(stdout);
				goto out;
			}
			sign_delivered(cli, ca, res->serial);
		}
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

/*
 * A --csr that is no request is invalid evidence: exit 5, as in 'attest
 * verify --csr', and before the CA passphrase is asked for.
 */
static int
check_csr(struct cli *cli, const char *path, const uint8_t *p, size_t len)
{
	switch (certinfo_csr_kind(p, len)) {
	case CERTINFO_CSR:
		return CLI_CONTINUE;
	case CERTINFO_CERT:
		return out_failf(cli, CS_ERR_VERIFY,
		    "ca sign: %s is a certificate, not a certificate request",
		    path);
	default:
		return out_failf(cli, CS_ERR_VERIFY,
		    "ca sign: %s: not a certificate request", path);
	}
}

static int
sign_run(struct cli *cli, struct ca_opts *o, struct sign_args *a)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	struct cs_ca_profile *prof = NULL;
	struct cs_ca *ca = NULL;
	uint8_t *csr = NULL, *att = NULL, *f9 = NULL, *chain = NULL;
	size_t csrl = 0, attl = 0, f9l = 0, chainl = 0, i;
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
	for (i = 0; i < a->nvars; i++)
		if (strchr(a->vars[i], '=') == NULL || a->vars[i][0] == '=')
			return out_usage(cli,
			    "ca sign: --var '%.40s': write NAME=VALUE",
			    a->vars[i]);
	if ((code = read_opt_file(cli, a->csr, &csr, &csrl)) != CLI_CONTINUE ||
	    (code = check_csr(cli, a->csr, csr, csrl)) != CLI_CONTINUE ||
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
	/* Before a serial is reserved: a refused --out issues nothing. */
	if (a->out != NULL &&
	    (code = outfile_preflight(cli, a->out, sign_out_flags(a))) !=
	        CLI_CONTINUE)
		goto out;
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
	if (a->allow_revoked)
		req.flags |= CS_CA_ISSUE_ALLOW_REVOKED_KEY;
	/* Never CS_CA_ISSUE_ENROLLED: a file is not an enrollment. */
	if ((r = cs_ca_issue(ca, &req, &res)) != CS_OK) {
		code = out_fail(cli, r, "ca sign: refused");
		goto out;
	}
	code = sign_emit(cli, ca, a, &res);
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
			    "manufacturer intermediates sent along (PEM); "
			    "never trusted: only the CA's trust/ store "
			    "counts, unknown ones are named in a warning",
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
			{ "force", 'f', POPT_ARG_NONE, &a.force, 0,
			    "replace an existing --out file", NULL },
			{ "dry-run", '\0', POPT_ARG_NONE, &a.dry, 0,
			    "decide and lint only", NULL },
			{ "allow-revoked-key", '\0', POPT_ARG_NONE,
			    &a.allow_revoked, 0,
			    "certify a key again although its certificate was "
			    "revoked (never for keyCompromise)",
			    NULL },
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
	"certificateHold, privilegeWithdrawn.\n"
	"The revoked certificate's key is not certified again: never after "
	"keyCompromise,\nafter another reason only with 'ca sign "
	"--allow-revoked-key'. keyCompromise\nalso names any other "
	"unrevoked certificate of the same key.",
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
	if (serial != NULL &&
	    (code = check_serial(cli, "--serial", serial)) != CLI_CONTINUE)
		goto out;
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
		if (!cli->quiet)
			printf("revoked %zu certificate%s\n", n,
			    n == 1 ? "" : "s");
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
	"with 'cardsmith verify\n--crl' or ssl_crl / SSLCARevocationFile. "
	"An existing --out file is replaced\natomically (a character device "
	"or FIFO is written to, a symbolic link is\nrefused); --out is "
	"checked before the cRLNumber is spent.",
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
	if ((out != NULL &&
	        (code = outfile_preflight(cli, out, OUTFILE_FORCE)) !=
	            CLI_CONTINUE) ||
	    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE ||
	    (code = unlock(cli, &o, ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_crl(ca, (unsigned int)days, &pem, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca crl");
		goto out;
	}
	if (out != NULL || !cli->json) {
		code = outfile_put(cli, out, pem, OUTFILE_FORCE);
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

/* The text table of 'ca list' and 'ca show'. */
#define INFO_ROW "%-32s %-9s %-17s %-10s %-10s %-4s %-16s "

static void
info_header(void)
{
	printf(INFO_ROW "%s\n", "SERIAL", "STATUS", "LEVEL", "EXPIRES", "CARD",
	    "SLOT", "PROFILE", "SUBJECT");
}

static void
info_text(const struct cs_ca_cert_info *in)
{
	char when[32] = "-", card[24] = "-", slot[8] = "-";
	struct tm tm;
	time_t t = (time_t)in->not_after;

	if (in->not_after != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	if (in->has_card_serial)
		snprintf(card, sizeof(card), "%llu",
		    (unsigned long long)in->card_serial);
	if (in->slot >= 0)
		snprintf(slot, sizeof(slot), "%02x",
		    (unsigned int)in->slot & 0xff);
	printf(INFO_ROW, in->serial, cs_ca_status_name(in->status),
	    in->level != CS_CA_LEVEL_NONE ? cs_ca_level_name(in->level) : "-",
	    when, card, slot, in->profile[0] ? in->profile : "-");
	out_safe(stdout, in->subject[0] ? in->subject : "-");
	fputc('\n', stdout);
}

/* What 'ca list' shows beyond the registry's own filter. */
struct list_args {
	json_t *arr; /* --json */
	size_t n; /* rows shown */
	bool card_set;
	uint64_t card; /* --card */
	const char *profile; /* --profile */
	int level; /* --level: enum cs_ca_level, or -1 */
	const char *sublevel; /* --level naming a sub-level */
};

static bool
list_match(const struct list_args *la, const struct cs_ca_cert_info *in)
{
	if (la->card_set &&
	    (!in->has_card_serial || in->card_serial != la->card))
		return false;
	if (la->profile != NULL && strcmp(in->profile, la->profile) != 0)
		return false;
	if (la->level >= 0 && (int)in->level != la->level)
		return false;
	return la->sublevel == NULL || strcmp(in->sublevel, la->sublevel) == 0;
}

static int
list_one(void *arg, const struct cs_ca_cert_info *in)
{
	struct list_args *la = arg;

	if (!list_match(la, in))
		return 0;
	if (la->arr != NULL)
		out_append(la->arr, info_json(in));
	else {
		if (la->n == 0)
			info_header();
		info_text(in);
	}
	la->n++;
	return 0;
}

/* --level: a level name or one of the CA's sub-levels; else usage. */
static int
list_level(struct cli *cli, const struct cs_ca *ca, const char *name,
    struct list_args *la)
{
	const struct cs_ca_sublevel *sub;
	enum cs_ca_level l;
	char names[256];
	size_t k, used = 0;
	int i;

	if (name == NULL)
		return CLI_CONTINUE;
	if (cs_ca_level_parse(name, &l) == CS_OK) {
		la->level = (int)l;
		return CLI_CONTINUE;
	}
	for (k = 0; (sub = cs_ca_sublevel_at(ca, k)) != NULL; k++)
		if (strcmp(sub->name, name) == 0) {
			la->sublevel = sub->name;
			return CLI_CONTINUE;
		}
	names[0] = '\0';
	for (i = CS_CA_LEVEL_SOFTWARE; i < CS_CA_LEVEL_COUNT; i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used,
		    "%s%s", used ? ", " : "",
		    cs_ca_level_name((enum cs_ca_level)i));
	for (k = 0;
	     used < sizeof(names) && (sub = cs_ca_sublevel_at(ca, k)) != NULL;
	     k++)
		used += (size_t)snprintf(names + used, sizeof(names) - used,
		    ", %s", sub->name);
	return out_usage(cli, "ca list: unknown --level '%s' (one of: %s)",
	    name, names);
}

static const struct cli_usage list_usage = {
	"[--expiring DAYS] [--status STATUS] [--card SERIAL] [--profile NAME]"
	"\n       [--level LEVEL] [--dir DIR] [--json]",
	"List the registry, one row per serial: status (pending, issued, "
	"delivered,\nrevoked, void), level, expiry date, card serial and "
	"slot (from the\nattestation; - if none), profile and subject. The "
	"filters combine: --expiring\nshows unrevoked certificates that "
	"expire within DAYS, --card those issued for\nthe card with that "
	"serial, --profile those of one profile, --level those of\none "
	"level (software, hardware-enrolled, hardware-attested) or "
	"sub-level.",
	"  cardsmith ca list --expiring 30 --json\n"
	"  cardsmith ca list --card 12345678 --status issued",
};

static int
ca_list(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	struct cs_ca_list_filter f = { 0, -1 };
	struct list_args la;
	poptContext con = NULL;
	char *status = NULL, *card = NULL, *profile = NULL, *level = NULL;
	int days = INT_MIN, code, i;
	json_t *doc = NULL;
	enum cs_err r;

	ca_opts_init(&o);
	memset(&la, 0, sizeof(la));
	la.level = -1;
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "expiring", '\0', POPT_ARG_INT, &days, 0,
			    "only certificates expiring within DAYS", "DAYS" },
			{ "status", '\0', POPT_ARG_STRING, &status, 0,
			    "only rows with this status", "STATUS" },
			{ "card", '\0', POPT_ARG_STRING, &card, 0,
			    "only certificates for the card with this serial",
			    "SERIAL" },
			{ "profile", '\0', POPT_ARG_STRING, &profile, 0,
			    "only certificates of this profile", "NAME" },
			{ "level", '\0', POPT_ARG_STRING, &level, 0,
			    "only certificates of this level or sub-level",
			    "LEVEL" },
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
		code = out_usage(cli,
		    "ca list: unknown --status '%s' (one of: pending, issued, "
		    "delivered, revoked, void)",
		    status);
		goto out;
	}
	if (days != INT_MIN && days < 0) {
		code = out_usage(cli, "ca list: --expiring needs DAYS >= 0");
		goto out;
	}
	if (card != NULL && !parse_u64(card, &la.card)) {
		code = out_usage(cli,
		    "ca list: --card '%.40s' is not a card serial number",
		    card);
		goto out;
	}
	la.card_set = card != NULL;
	la.profile = profile;
	if ((code = open_ca(cli, &o, &ca)) != CLI_CONTINUE ||
	    (code = list_level(cli, ca, level, &la)) != CLI_CONTINUE)
		goto out;
	if (cli->json && (la.arr = json_array()) == NULL) {
		code = out_fail(cli, CS_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = cs_ca_list(ca, &f, list_one, &la)) != CS_OK) {
		code = out_fail(cli, r, "ca list");
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "certificates", la.arr);
		la.arr = NULL;
		code = out_emit(cli, doc);
	} else {
		if (la.n == 0)
			out_notice(cli,
			    "no certificate in the registry matches");
		code = CLI_EXIT_OK;
	}
out:
	json_decref(la.arr);
	poptFreeContext(con);
	cs_ca_close(ca);
	free(status);
	free(card);
	free(profile);
	free(level);
	ca_opts_release(&o);
	return code;
}

static const struct cli_usage show_usage = {
	"(SERIAL | --serial HEX) [--out FILE [--force]] [--dir DIR] [--json]",
	"Show one registry row and its certificate (PEM). --out writes only "
	"the\ncertificate, to FILE (or '-' for standard output), as 'ca sign "
	"--out' would\nhave: this is how a certificate that was issued but "
	"never delivered (see 'ca\nreconcile') is retrieved, and an issued "
	"row becomes delivered once written.",
	"  cardsmith ca show 4F2A...\n"
	"  cardsmith ca show --serial 4F2A... --out cert.pem",
};

/* --out: the certificate alone to its destination; issued -> delivered. */
static int
show_write(struct cli *cli, struct cs_ca *ca, struct cs_ca_cert_info *in,
    const char *out, int force, const char *pem)
{
	int code;

	if (pem == NULL)
		return out_failf(cli, CS_ERR_NOT_FOUND,
		    "ca show: %s holds no certificate (status %s)", in->serial,
		    cs_ca_status_name(in->status));
	if ((code = outfile_put(cli, out, pem,
	         OUTFILE_HINT_FORCE | (force ? OUTFILE_FORCE : 0))) !=
	    CLI_CONTINUE)
		return code;
	if (in->status == CS_CA_STATUS_ISSUED) {
		if (cs_ca_mark_delivered(ca, in->serial) == CS_OK)
			in->status = CS_CA_STATUS_DELIVERED;
		else
			out_err("warning: %s was written but the registry "
			        "could not mark it delivered: %s",
			    in->serial, cs_ctx_errmsg(cli->ctx));
	}
	if (!cli->json)
		out_notice(cli, "wrote certificate %s to %s", in->serial,
		    outfile_name(out));
	return CLI_CONTINUE;
}

static int
ca_show(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca_cert_info in;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	const char *serial;
	char *opt_serial = NULL, *out = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	char *pem = NULL;
	json_t *doc;
	int code, force = 0;
	enum cs_err r;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "serial", '\0', POPT_ARG_STRING, &opt_serial, 0,
			    "certificate serial (hex)", "HEX" },
			{ "out", 'o', POPT_ARG_STRING, &out, 0,
			    "write the certificate (PEM) to FILE", "FILE" },
			{ "force", 'f', POPT_ARG_NONE, &force, 0,
			    "replace an existing --out file", NULL },
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts, &show_usage,
		         &con)) != CLI_CONTINUE)
			goto out;
	}
	serial = opt_serial != NULL ? opt_serial : poptGetArg(con);
	if (serial == NULL) {
		code = out_usage(cli, "ca show: SERIAL missing");
		goto out;
	}
	if ((code = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (code = check_serial(cli, "SERIAL", serial)) != CLI_CONTINUE ||
	    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_show(ca, serial, &in, &der, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca show");
		goto out;
	}
	if (der != NULL)
		pem_encode("CERTIFICATE", der, len, &pem);
	if (out != NULL &&
	    (code = show_write(cli, ca, &in, out, force, pem)) != CLI_CONTINUE)
		goto out;
	if (cli->json) {
		doc = info_json(&in);
		out_set(doc, "ok", json_true());
		out_set(doc, "pem", out_str(pem));
		if (out != NULL)
			out_set(doc, "out", out_str(out));
		code = out_emit(cli, doc);
	} else {
		if (out == NULL) {
			info_header();
			info_text(&in);
			if (pem != NULL)
				fputs(pem, stdout);
		}
		code = CLI_EXIT_OK;
	}
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	cs_free(der);
	free(pem);
	free(opt_serial);
	free(out);
	ca_opts_release(&o);
	return code;
}

/* --- chain, trust add, reconcile --- */

static const struct cli_usage chain_usage = {
	"[--out FILE] [--dir DIR]",
	"Print the CA chain a gateway needs (issuing CA(s), then the root) as "
	"PEM:\nnginx ssl_client_certificate, Apache SSLCACertificateFile, "
	"'cardsmith verify\n--chain'. An existing --out file is replaced "
	"atomically (a character device\nor FIFO is written to, a symbolic "
	"link is refused).",
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
		    (code = outfile_put(cli, out, pem, OUTFILE_FORCE)) !=
		        CLI_CONTINUE)
			goto out;
		doc = out_doc_new();
		out_set(doc, "pem", out_str(pem));
		out_set(doc, "arc", out_str(cs_ca_arc(ca)));
		out_set(doc, "policy_oids", oids_json(ca));
		code = out_emit(cli, doc);
	} else {
		code = outfile_put(cli, out, pem, OUTFILE_FORCE);
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
		code = out_failf(cli, r, "ca trust add: %s: %s", path,
		    cs_ctx_errmsg(cli->ctx));
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "added", json_integer((json_int_t)n));
		code = out_emit(cli, doc);
	} else {
		if (!cli->quiet && n == 0)
			printf("%s: every certificate in it is trusted "
			       "already\n", path);
		else if (!cli->quiet)
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

/* --- trust list, trust remove --- */

static void
trust_fp(const struct cs_ca_trust_entry *e, char *buf, size_t cap, size_t bytes,
    bool colons)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < bytes && i < sizeof(e->sha256); i++) {
		if (o + (colons && i > 0 ? 3 : 2) >= cap)
			break;
		o += (size_t)snprintf(buf + o, cap - o,
		    colons && i > 0 ? ":%02X" : "%02X", e->sha256[i]);
	}
}

static json_t *
trust_json(const struct cs_ca_trust_entry *e)
{
	char fp[3 * CS_CA_SHA256_LEN + 1];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	trust_fp(e, fp, sizeof(fp), CS_CA_SHA256_LEN, true);
	out_set(o, "kind", out_str(cs_ca_trust_kind_name(e->kind)));
	out_set(o, "subject", out_str(e->subject));
	out_set(o, "issuer", out_str(e->issuer));
	out_set(o, "sha256_fingerprint", out_str(fp));
	out_set(o, "file", out_str(e->file));
	out_set(o, "index", json_integer((json_int_t)e->index));
	out_set(o, "not_before", json_integer(e->not_before));
	out_set(o, "not_after", json_integer(e->not_after));
	return o;
}

static void
day_str(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, cap, "-");
}

#define TRUST_ROW "%-13s %-16s %-10s %-10s %-24s %s\n"

static void
trust_text(const struct cs_ca_trust_entry *e)
{
	char fp[2 * 8 + 1], nb[16], na[16], file[CS_CA_TRUST_FILE_MAX + 16];

	trust_fp(e, fp, sizeof(fp), 8, false);
	day_str(e->not_before, nb, sizeof(nb));
	day_str(e->not_after, na, sizeof(na));
	snprintf(file, sizeof(file), "%s#%zu", e->file, e->index);
	printf("%-13s %-16s %-10s %-10s ", cs_ca_trust_kind_name(e->kind), fp,
	    nb, na);
	out_safe(stdout, file);
	printf("%*s", (int)(strlen(file) < 24 ? 24 - strlen(file) : 0), "");
	fputc(' ', stdout);
	out_safe(stdout, e->subject);
	fputc('\n', stdout);
}

struct trust_ls {
	json_t *arr; /* --json */
	size_t n;
};

static int
trust_one(void *arg, const struct cs_ca_trust_entry *e)
{
	struct trust_ls *t = arg;

	if (t->arr != NULL)
		out_append(t->arr, trust_json(e));
	else {
		if (t->n == 0)
			printf(TRUST_ROW, "KIND", "SHA-256", "NOT-BEFORE",
			    "NOT-AFTER", "FILE", "SUBJECT");
		trust_text(e);
	}
	t->n++;
	return 0;
}

static const struct cli_usage trust_list_usage = {
	"[--dir DIR] [--json]",
	"List the certificates attestation is checked against: the files in "
	"the CA's\ntrust/ directory (the shipped Yubico PIV roots and "
	"intermediates, and what\n'cardsmith ca trust add' added). KIND is "
	"anchor (a self-signed root: chains end\nhere), intermediate (never "
	"an anchor) or legacy-anchor (the Yubico U2F root,\nnot trusted for "
	"PIV by default). SHA-256 shows the first 8 bytes of the\n"
	"fingerprint (--json: all of it); FILE#N is the N-th certificate of "
	"that file.\nThe fingerprint (or those 8 bytes) or the file name is "
	"what 'cardsmith ca\ntrust remove' takes.",
	"  cardsmith ca trust list --dir /srv/ca",
};

static int
ca_trust_list(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct trust_ls t = { NULL, 0 };
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

		if ((code = cli_parse(cli, argc, argv, opts, &trust_list_usage,
		         &con)) != CLI_CONTINUE ||
		    (code = cli_no_args(cli, con)) != CLI_CONTINUE ||
		    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
			goto out;
	}
	if (cli->json && (t.arr = json_array()) == NULL) {
		code = out_fail(cli, CS_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = cs_ca_trust_list(ca, trust_one, &t)) != CS_OK) {
		code = out_fail(cli, r, "ca trust list");
		goto out;
	}
	code = CLI_EXIT_OK;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "certificates", t.arr);
		t.arr = NULL;
		code = out_emit(cli, doc);
	} else if (t.n == 0)
		out_notice(cli,
		    "the trust store is empty: no attestation can verify "
		    "(add roots with 'cardsmith ca trust add')");
out:
	json_decref(t.arr);
	poptFreeContext(con);
	cs_ca_close(ca);
	ca_opts_release(&o);
	return code;
}

static const struct cli_usage trust_remove_usage = {
	"(FINGERPRINT | FILE) [--force] [--dir DIR] [--json]",
	"Stop trusting a certificate for attestation: FINGERPRINT is its "
	"SHA-256\nfingerprint or a prefix of at least 8 hex digits that "
	"names one certificate\n(':' separators allowed, as 'ca trust list' "
	"and openssl print it); every copy\nis removed. FILE is a file in "
	"trust/ (all its certificates; also a file that\ndoes not decode). "
	"Asks for confirmation on a terminal; without one, give\n--force. "
	"Removing the last trust anchor is refused (exit 6) without --force:"
	"\nno attestation could verify afterwards, so nothing would be issued "
	"above\nsoftware.",
	"  cardsmith ca trust remove 63ECE914E54DD879\n"
	"  cardsmith ca trust remove --force added-1a2b3c4d5e6f7081.pem",
};

struct trust_rm {
	json_t *arr; /* --json: the removed entries */
	char first[CS_CA_NAME_MAX];
	size_t n;
};

static int
trust_rm_one(void *arg, const struct cs_ca_trust_entry *e)
{
	struct trust_rm *t = arg;

	if (t->n++ == 0)
		snprintf(t->first, sizeof(t->first), "%s", e->subject);
	if (t->arr != NULL)
		out_append(t->arr, trust_json(e));
	return 0;
}

static int
trust_rm_fail(struct cli *cli, enum cs_err r)
{
	if (r == CS_ERR_ARG)
		return out_usage(cli, "ca trust remove: %s",
		    cs_ctx_errmsg(cli->ctx));
	if (r == CS_ERR_POLICY)
		return out_failf(cli, r,
		    "ca trust remove: %s; add --force to remove it anyway",
		    cs_ctx_errmsg(cli->ctx));
	return out_fail(cli, r, "ca trust remove");
}

static int
trust_rm_run(struct cli *cli, struct cs_ca *ca, const char *which, int force)
{
	struct trust_rm plan, done;
	unsigned int fl = force ? CS_CA_TRUST_LAST_ANCHOR : 0;
	char q[CS_CA_NAME_MAX + 128];
	json_t *doc;
	int code;
	enum cs_err r;

	memset(&plan, 0, sizeof(plan));
	memset(&done, 0, sizeof(done));
	if ((r = cs_ca_trust_remove(ca, which, fl | CS_CA_TRUST_DRYRUN,
	         trust_rm_one, &plan, &plan.n)) != CS_OK)
		return trust_rm_fail(cli, r);
	if (plan.n == 0)
		snprintf(q, sizeof(q), "remove trust/%s", which);
	else
		snprintf(q, sizeof(q), "stop trusting %s%s for attestation",
		    plan.first, plan.n > 1 ? " and the others listed" : "");
	if ((code = secret_destructive(cli, force, q)) != CLI_CONTINUE)
		return code;
	done.arr = cli->json ? json_array() : NULL;
	if ((r = cs_ca_trust_remove(ca, which, fl, trust_rm_one, &done,
	         &done.n)) != CS_OK) {
		json_decref(done.arr);
		return trust_rm_fail(cli, r);
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "removed", json_integer((json_int_t)done.n));
		out_set(doc, "certificates", done.arr);
		return out_emit(cli, doc);
	}
	if (!cli->quiet && done.n == 0)
		printf("removed trust/%s (it held no certificate that "
		       "decodes)\n",
		    which);
	else if (!cli->quiet) {
		printf("removed %zu certificate%s: ", done.n,
		    done.n == 1 ? "" : "s");
		out_safe(stdout, done.first);
		printf("%s\n", done.n > 1 ? ", ..." : "");
	}
	return CLI_EXIT_OK;
}

static int
ca_trust_remove(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	const char *which;
	int force = 0, code;

	ca_opts_init(&o);
	{
		struct poptOption opts[] = {
			CA_DIR_POPT(o),
			{ "force", 'f', POPT_ARG_NONE, &force, 0,
			    "do not ask; allow removing the last anchor",
			    NULL },
			POPT_TABLEEND,
		};

		if ((code = cli_parse(cli, argc, argv, opts,
		         &trust_remove_usage, &con)) != CLI_CONTINUE)
			goto out;
	}
	if ((which = poptGetArg(con)) == NULL) {
		code = out_usage(cli,
		    "ca trust remove: FINGERPRINT or FILE missing "
		    "(see 'cardsmith ca trust list')");
		goto out;
	}
	if ((code = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (code = open_ca(cli, &o, &ca)) != CLI_CONTINUE)
		goto out;
	code = trust_rm_run(cli, ca, which, force);
out:
	poptFreeContext(con);
	cs_ca_close(ca);
	ca_opts_release(&o);
	return code;
}

static const struct cli_usage reconcile_usage = {
	"[--dir DIR] [--json]",
	"Resolve registry rows a crash left behind: a pending reservation "
	"never stored a\ncertificate, so none was handed out; it becomes "
	"void and its serial is never\nreused. Lists the certificates "
	"that were issued but never delivered (not\nwritten to their --out "
	"or standard output, e.g. a full disk): they are valid\nand kept; "
	"'cardsmith ca show --serial S --out FILE' writes one. Also checks "
	"the\ndatabase (integrity, no duplicate serial). Exit 1 if the check "
	"fails.",
	"  cardsmith ca reconcile --json",
};

/* Undelivered rows shown in text; the rest is counted ("ca list"). */
#define RECONCILE_SHOW_MAX 20

struct undelivered {
	json_t *arr; /* JSON mode */
	size_t n;
};

static int
undelivered_one(void *arg, const struct cs_ca_cert_info *in)
{
	struct undelivered *u = arg;

	if (u->arr != NULL)
		out_append(u->arr, info_json(in));
	else if (u->n < RECONCILE_SHOW_MAX) {
		printf("  %-32s %-16s ", in->serial, in->profile);
		out_safe(stdout, in->subject[0] ? in->subject : "-");
		fputc('\n', stdout);
	}
	u->n++;
	return 0;
}

/* Issued, never marked delivered: list them (they are retrievable). */
static enum cs_err
list_undelivered(struct cs_ca *ca, json_t *arr)
{
	struct cs_ca_list_filter f = { 0, CS_CA_STATUS_ISSUED };
	struct undelivered u = { arr, 0 };
	enum cs_err r;

	if (arr == NULL)
		printf("issued but not delivered (get one with 'cardsmith ca "
		       "show --serial SERIAL --out FILE'):\n");
	if ((r = cs_ca_list(ca, &f, undelivered_one, &u)) != CS_OK)
		return r;
	if (arr == NULL && u.n > RECONCILE_SHOW_MAX)
		printf("  ... and %zu more (cardsmith ca list --status "
		       "issued)\n",
		    u.n - RECONCILE_SHOW_MAX);
	return CS_OK;
}

static int
ca_reconcile(struct cli *cli, int argc, const char **argv)
{
	struct ca_opts o;
	struct cs_ca_reconcile_stats st;
	struct cs_ca *ca = NULL;
	poptContext con = NULL;
	json_t *doc, *arr = NULL;
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
		if ((arr = json_array()) == NULL) {
			code = out_fail(cli, CS_ERR_NOMEM, NULL);
			goto out;
		}
		if (st.issued_undelivered > 0 &&
		    (r = list_undelivered(ca, arr)) != CS_OK) {
			code = out_fail(cli, r, "ca reconcile");
			goto out;
		}
		doc = out_doc_new();
		out_set(doc, "pending_voided",
		    json_integer((json_int_t)st.pending_voided));
		out_set(doc, "issued_undelivered",
		    json_integer((json_int_t)st.issued_undelivered));
		out_set(doc, "duplicates",
		    json_integer((json_int_t)st.duplicates));
		out_set(doc, "integrity_ok", json_boolean(st.integrity_ok));
		out_set(doc, "undelivered", arr);
		arr = NULL;
		code = out_emit(cli, doc);
	} else {
		if (!cli->quiet)
			printf("voided %zu pending reservation%s; %zu issued, "
			       "not marked delivered; integrity ok\n",
			    st.pending_voided,
			    st.pending_voided == 1 ? "" : "s",
			    st.issued_undelivered);
		code = CLI_EXIT_OK;
		if (st.issued_undelivered > 0 &&
		    (r = list_undelivered(ca, NULL)) != CS_OK)
			code = out_fail(cli, r, "ca reconcile");
	}
out:
	json_decref(arr);
	poptFreeContext(con);
	cs_ca_close(ca);
	ca_opts_release(&o);
	return code;
}
