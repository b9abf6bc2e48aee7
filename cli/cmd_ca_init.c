/*
 * cardsmith ca init: create a CA (a root, an issuing CA, with
 * --hardware-ca a second one for hardware levels) or import an existing
 * issuing CA. The runner resolves the directory (NEED_CA_DIR); the
 * passphrase is asked here, twice at a prompt.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca_common.h"
#include "card.h"
#include "exit.h"
#include "out.h"
#include "pem.h"
#include "secret.h"

#include "banned.h"

static const struct cli_usage init_usage = {
	"[--dir DIR] [--hardware-ca] [--key-type TYPE]\n       "
	"[--arc OID] [--allow-long-oid-arcs] [--extra-policy LEVEL=OID,...]\n"
	"       [--root-subject DN] [--issuing-subject DN] "
	"[--hw-issuing-subject DN]\n"
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
	"instead.\nDN (--root-subject, --issuing-subject, --hw-issuing-subject "
	"with --hardware-ca):\nthe CA certificate's subject, parsed as "
	"'cardsmith csr --subject' parses it:\nRFC 4514 \"CN=Root,O=Example,"
	"C=DE\" (last RDN first, as openssl -nameopt RFC2253\nprints it "
	"back) or the OpenSSL form \"/C=DE/O=Example/CN=Root\" (in DER "
	"order).\nDefaults: \"CN=cardsmith Root CA\", \"CN=cardsmith "
	"Issuing CA\",\n\"CN=cardsmith Hardware Issuing CA\".\nTYPE: p256 (default), p384, rsa2048, rsa3072, rsa4096. "
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
	char *root_subj, *iss_subj, *hw_subj; /* --*-subject */
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

/*
 * A --*-subject DN that 'cardsmith csr --subject' would refuse is a usage
 * error, named with the parser's reason, before any passphrase prompt.
 */
static int
check_subject(struct cli *cli, const char *opt, const char *dn)
{
	struct cs_csr_req req;

	if (dn == NULL)
		return CLI_CONTINUE;
	memset(&req, 0, sizeof(req));
	req.subject = dn;
	if (cs_csr_check(cli->ctx, &req) != CS_OK || dn[0] == '\0')
		return out_usage(cli, "ca init: %s: %s", opt,
		    *cs_ctx_errmsg(cli->ctx) != '\0' ? cs_ctx_errmsg(cli->ctx)
		                                     : "empty subject");
	return CLI_CONTINUE;
}

static int
check_subjects(struct cli *cli, const struct init_args *a)
{
	int code;

	if (a->hw_subj != NULL && !a->hw)
		return out_usage(cli,
		    "ca init: --hw-issuing-subject needs --hardware-ca");
	if ((code = check_subject(cli, "--root-subject", a->root_subj)) !=
	        CLI_CONTINUE ||
	    (code = check_subject(cli, "--issuing-subject", a->iss_subj)) !=
	        CLI_CONTINUE)
		return code;
	return check_subject(cli, "--hw-issuing-subject", a->hw_subj);
}

static int
init_run(struct cli *cli, struct init_args *a)
{
	struct cs_ca_init_opts io;
	struct secret s;
	struct cs_ca *ca = NULL;
	uint8_t *k = NULL, *c = NULL, *ch = NULL;
	size_t kl = 0, cl = 0, chl = 0;
	const char *dir = cli->ca_dir;
	char roots_buf[PATH_MAX], profiles_buf[PATH_MAX];
	const struct cs_ca_sublevel *sub;
	const char *warning;
	json_t *doc;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;
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
	if ((code = extra_levels(cli, a->extra)) != CLI_CONTINUE ||
	    (code = check_subjects(cli, a)) != CLI_CONTINUE)
		return code;
	io.root_subject = a->root_subj;
	io.issuing_subject = a->iss_subj;
	io.hw_issuing_subject = a->hw_subj;
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
	if (io.profiles_dir == NULL &&
	    access(CS_DATADIR "/profiles", R_OK) != 0)
		io.profiles_dir = cli_tree_path("profiles", profiles_buf,
		    sizeof(profiles_buf));
	io.flags = a->hw ? CS_CA_INIT_HARDWARE_CA : 0;
	if (a->long_arcs)
		io.flags |= CS_CA_INIT_LONG_OID_ARCS;
	if ((code = cli_open_needs(cli)) != CLI_CONTINUE ||
	    (a->ikey != NULL &&
	        (code = pem_read_secret(cli, a->ikey, &k, &kl)) !=
	            CLI_CONTINUE) ||
	    (code = ca_read_opt_file(cli, a->icert, &c, &cl)) != CLI_CONTINUE ||
	    (code = ca_read_opt_file(cli, a->ichain, &ch, &chl)) !=
	        CLI_CONTINUE ||
	    (code = secret_get(cli, &cli->ca_pass, true, &s)) != CLI_CONTINUE)
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
		out_set(doc, "policy_oids", ca_oids_json(ca));
		out_set(doc, "hardware_ca", json_boolean(a->hw));
		out_set(doc, "sublevels", ca_sublevels_json(ca));
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
	pem_free_secret(k, kl);
	free(c);
	free(ch);
	cs_ca_close(ca);
	return code;
}

int
ca_init(struct cli *cli, int argc, const char **argv)
{
	struct init_args a;
	struct cli_repeat subs = { OPT_SUBLEVEL, &a.sub, a.subs,
		CS_CA_SUBLEVEL_MAX, &a.nsubs };
	size_t k;
	int code;
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		{ "hardware-ca", '\0', POPT_ARG_NONE, &a.hw, 0,
		    "add a hardware-only issuing CA", NULL },
		{ "key-type", '\0', POPT_ARG_STRING, &a.type, 0,
		    "CA key type (default p256)", "TYPE" },
		{ "arc", '\0', POPT_ARG_STRING, &a.arc, 0,
		    "policy arc, your organisation's own (default: a new "
		    "1.2.840.113556.1.8000.2554 GUID arc)",
		    "OID" },
		{ "allow-long-oid-arcs", '\0', POPT_ARG_NONE, &a.long_arcs, 0,
		    "allow OID arcs of 2^28 or more (Go and Debian 12's ykman "
		    "cannot parse them)",
		    NULL },
		{ "root-subject", '\0', POPT_ARG_STRING, &a.root_subj, 0,
		    "root CA subject, as csr --subject (default \"CN=cardsmith "
		    "Root CA\")",
		    "DN" },
		{ "issuing-subject", '\0', POPT_ARG_STRING, &a.iss_subj, 0,
		    "issuing CA subject (default \"CN=cardsmith Issuing CA\")",
		    "DN" },
		{ "hw-issuing-subject", '\0', POPT_ARG_STRING, &a.hw_subj, 0,
		    "hardware issuing CA subject (with --hardware-ca)", "DN" },
		{ "extra-policy", '\0', POPT_ARG_STRING, &a.extra, 0,
		    "further policy OIDs the CA asserts, each with its level "
		    "(comma separated)",
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
		{ "sublevel", '\0', POPT_ARG_STRING, &a.sub, OPT_SUBLEVEL,
		    "sub-level of hardware-attested (repeatable)",
		    "NAME=pin:P,touch:T" },
		CLI_CA_PASS_OPTS(cli),
		POPT_TABLEEND,
	};

	/* The tables hold only addresses in a: clearing a keeps them. */
	memset(&a, 0, sizeof(a));
	cli->defer_needs = 1;
	if ((code = cli_parse_noargs(cli, argc, argv, opts, &init_usage,
	         &subs)) == CLI_CONTINUE)
		code = init_run(cli, &a);
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
	free(a.root_subj);
	free(a.iss_subj);
	free(a.hw_subj);
	return code;
}
