/*
 * cardsmith verify: the relying-party check a gateway calls. Accepts a
 * certificate only if it chains to the given CA certificates (the only
 * trust; nothing that comes with the certificate is trusted) with the
 * required policy explicitly asserted (the leaf's own policy, never
 * anyPolicy), is an end-entity certificate fit for the purpose, and is
 * not revoked by the given CRLs.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/ca.h"

#include "certinfo.h"
#include "cmd_ca.h"
#include "exit.h"
#include "out.h"
#include "pem.h"

#include "banned.h"

static const struct cli_usage verify_usage = {
	"--chain CA.pem [--crl CRL.pem] [--require-level LEVEL] [--policy OID]\n"
	"       [--purpose PURPOSE] [--at UNIXTIME] CERT",
	"Verify CERT (PEM or DER; '-' reads standard input) against "
	"CA.pem, your trust:\n"
	"its self-signed CA certificates are the anchors, its other CA "
	"certificates\n"
	"intermediates. Nothing in CERT is trusted; of several "
	"certificates there only\n"
	"the first is verified.\n"
	"\n"
	"Checked: the chain; CERT's own certificatePolicies (anyPolicy never\n"
	"passes); that CERT is an end-entity certificate (not self-signed, not "
	"a CA)\n"
	"fit for PURPOSE; revocation via the CRLs (without --crl it is not "
	"checked,\n"
	"and verify says so); explicit policy, on the validated path, for "
	"each level\n"
	"CERT asserts and for --policy OID. Every path from CERT through CA.pem "
	"to an\n"
	"anchor is tried; the order of the certificates in CA.pem does not "
	"matter.\n"
	"\n"
	"LEVEL: software, hardware-enrolled, hardware-attested (a higher "
	"level\n"
	"satisfies a lower one, a sub-level its parent), or a sub-level "
	"name from the\n"
	"level map of an anchor in CA.pem (that sub-level or a stricter one); "
	"another\n"
	"name, or one CA.pem defines in two ways, is a usage error. A level "
	"counts only\n"
	"if the path's anchor (self-signed root) carries a cardsmith level map, "
	"CERT's\n"
	"issuer carries one that agrees for that level, and the level's OID "
	"passes\n"
	"explicit-policy validation. Under a CA without a map (a foreign CA) "
	"use\n"
	"--policy alone. --policy with --require-level must be that level's "
	"own OID\n"
	"(usage error otherwise); then both must hold. Without --require-level "
	"the\n"
	"highest verified level is printed, 'none' if none is, with what was "
	"not\n"
	"verified after 'not verified:' (JSON level_verified, level_note).\n"
	"\n"
	"PURPOSE: client-auth (default; keyUsage, if present, with "
	"digitalSignature,\n"
	"extendedKeyUsage, if present, with clientAuth), smartcard-logon (EKU\n"
	"msSmartcardLogin), card-auth (EKU id-PIV-cardAuth) or any (no "
	"KU/EKU check,\n"
	"e.g. for piv-sign and piv-keymgmt certificates).\n"
	"\n"
	"Revocation: CERT must be covered by a CRL of its issuer; a CA "
	"certificate of\n"
	"the path is checked too when --crl holds a CRL of its issuer (a root's "
	"CRL),\n"
	"else not ('ca crl' writes the issuing CAs' CRLs, which cover leaves "
	"only).\n"
	"\n"
	"Prints the level and the reason; exit 0 accepted, 5 CERT not a "
	"certificate,\n"
	"chain, signature, expiry, self-signed or revoked, 6 level, policy "
	"(also a\n"
	"CA of the path not asserting the OID) or purpose not met; 1 for a "
	"bad\n"
	"--chain or --crl file (a corrupt PEM block is named), 2 usage.",
	"  cardsmith verify --chain ca-chain.pem --crl ca.crl.pem \\\n"
	"      --require-level hardware-attested client.pem --json\n"
	"  cardsmith verify --chain ca-chain.pem --crl ca.crl.pem \\\n"
	"      --purpose any signing.pem",
};

struct verify_args {
	char *chain, *crl, *level, *policy, *purpose, *at;
};

/* PEM certificate blocks in a file: only the first is verified. */
static size_t
pem_cert_count(const uint8_t *p, size_t len)
{
	static const char tag[] = "-----BEGIN CERTIFICATE-----";
	const uint8_t *q, *end = p + len;
	size_t n = 0;

	while (p < end && (q = memmem(p, (size_t)(end - p), tag,
	                       sizeof(tag) - 1)) != NULL) {
		n++;
		p = q + sizeof(tag) - 1;
	}
	return n;
}

/*
 * CERT did not decode: "CERT: not a certificate" (or a request given as
 * one), CS_ERR_VERIFY. res keeps no other field.
 */
static enum cs_err
not_a_cert(struct cli *cli, const char *path, const uint8_t *p, size_t len,
    struct cs_verify_result *res)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;

	memset(res, 0, sizeof(*res));
	if (len > 0 && certinfo_csr_kind(p, len) == CERTINFO_CSR)
		snprintf(res->reason, sizeof(res->reason),
		    "%.400s is a certificate request, not a certificate", name);
	else
		snprintf(res->reason, sizeof(res->reason),
		    "%.400s: not a certificate%s", name,
		    len == 0 ? " (empty)" : "");
	return cs_ctx_fail(cli->ctx, CS_ERR_VERIFY, "%s", res->reason);
}

static int
verify_emit(struct cli *cli, const struct cs_verify_result *res, enum cs_err r,
    bool crl)
{
	json_t *doc, *err;

	if (!cli->json) {
		if (!crl)
			out_notice(cli,
			    "revocation not checked: no --crl given, so a "
			    "revoked certificate is not refused");
		if (r == CS_OK) {
			printf("accepted: %s", cs_ca_level_name(res->level));
			if (res->sublevel[0] != '\0')
				printf(", sub-level %s", res->sublevel);
			if (res->policy_oid[0] != '\0')
				printf(" (policy %s)", res->policy_oid);
			if (res->level_note[0] != '\0') {
				printf("; not verified: ");
				out_safe(stdout, res->level_note);
			}
			fputc('\n', stdout);
			return CLI_EXIT_OK;
		}
		printf("refused: ");
		out_safe(stdout, res->reason);
		fputc('\n', stdout);
		return cli_exit_code(r);
	}
	doc = out_doc_new();
	out_set(doc, "accepted", json_boolean(r == CS_OK));
	out_set(doc, "level", out_str(cs_ca_level_name(res->level)));
	out_set(doc, "sublevel",
	    res->sublevel[0] ? out_str(res->sublevel) : NULL);
	out_set(doc, "policy_oid",
	    res->policy_oid[0] ? out_str(res->policy_oid) : NULL);
	out_set(doc, "reason", out_str(res->reason));
	out_set(doc, "subject", out_str(res->subject));
	out_set(doc, "issuer", out_str(res->issuer));
	out_set(doc, "serial", out_str(res->serial));
	out_set(doc, "revocation_checked", json_boolean(crl));
	out_set(doc, "level_verified", json_boolean(res->level_verified));
	out_set(doc, "level_note",
	    res->level_note[0] ? out_str(res->level_note) : NULL);
	if (r != CS_OK) {
		out_set(doc, "ok", json_false());
		if ((err = json_object()) != NULL) {
			out_set(err, "code", out_str(cs_errname(r)));
			out_set(err, "message", out_str(res->reason));
		}
		out_set(doc, "error", err);
	}
	(void)out_emit(cli, doc);
	return r == CS_OK ? CLI_EXIT_OK : cli_exit_code(r);
}

static int
verify_run(struct cli *cli, struct verify_args *a, const char *certpath)
{
	struct cs_verify_result res;
	struct cs_verifier *v = NULL;
	enum cs_ca_level need = CS_CA_LEVEL_NONE;
	enum cs_verify_purpose purpose = CS_VERIFY_PURPOSE_CLIENT_AUTH;
	const char *sub = NULL;
	uint8_t *chain = NULL, *crl = NULL, *cert = NULL;
	size_t chainl = 0, crll = 0, certl = 0, n;
	char names[512], what[PATH_MAX + 32];
	long long at = 0;
	char *end;
	int code;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&res, 0, sizeof(res));
	if (a->chain == NULL)
		return out_usage(cli, "verify: --chain is needed");
	/* Not a level: a sub-level name, checked against the CA's map. */
	if (a->level != NULL && cs_ca_level_parse(a->level, &need) != CS_OK)
		sub = a->level;
	if (sub != NULL && a->policy != NULL)
		return out_usage(cli,
		    "verify: a sub-level and --policy exclude each other");
	if (a->purpose != NULL &&
	    cs_verify_purpose_parse(a->purpose, &purpose) != CS_OK)
		return out_usage(cli,
		    "verify: unknown --purpose '%s' (client-auth, "
		    "smartcard-logon, card-auth or any)",
		    a->purpose);
	if (a->at != NULL &&
	    ((at = strtoll(a->at, &end, 10)) <= 0 || *end != '\0'))
		return out_usage(cli, "verify: bad --at");
	if ((code = pem_read_file(cli, a->chain, &chain, &chainl)) !=
	        CLI_CONTINUE ||
	    (a->crl != NULL &&
	        (code = pem_read_file(cli, a->crl, &crl, &crll)) !=
	            CLI_CONTINUE) ||
	    (code = pem_read_file(cli, certpath, &cert, &certl)) !=
	        CLI_CONTINUE)
		goto out;
	/* Only --chain is trusted: CERT's companions never join the store. */
	if ((r = cs_verify_new(cli->ctx, &v)) != CS_OK ||
	    (r = cs_verify_set_purpose(v, purpose)) != CS_OK) {
		code = out_fail(cli, r, "verify");
		goto out;
	}
	if ((r = cs_verify_add_chain(v, chain, chainl)) != CS_OK) {
		snprintf(what, sizeof(what), "verify: --chain %s", a->chain);
		code = out_fail(cli, r, what);
		goto out;
	}
	if (crl != NULL && (r = cs_verify_add_crl(v, crl, crll)) != CS_OK) {
		snprintf(what, sizeof(what), "verify: --crl %s", a->crl);
		code = out_fail(cli, r, what);
		goto out;
	}
	/* Names come from the anchors' level maps (and must mean one thing). */
	if (sub != NULL && !cs_verify_has_level_name(v, sub)) {
		cs_verify_level_names(v, names, sizeof(names));
		code = out_usage(cli,
		    "verify: unknown level '%s'; valid with this --chain: %s",
		    sub, names);
		goto out;
	}
	if (sub != NULL && cs_verify_require_sublevel(v, sub) != CS_OK) {
		code = out_usage(cli, "verify: --require-level %s: %s", sub,
		    cs_ctx_errmsg(cli->ctx));
		goto out;
	}
	if (a->policy != NULL &&
	    (r = cs_verify_set_policy(v, a->policy)) != CS_OK) {
		code = out_fail(cli, r, "verify");
		goto out;
	}
	/* A policy never stands in for a level it is not the OID of. */
	if (a->policy != NULL && need != CS_CA_LEVEL_NONE &&
	    !cs_verify_policy_is_level(v, a->policy, need)) {
		code = out_usage(cli,
		    "verify: --policy %s is not the %s OID of the CA "
		    "certificates in --chain; give one of them",
		    a->policy, cs_ca_level_name(need));
		goto out;
	}
	if ((n = pem_cert_count(cert, certl)) > 1)
		out_notice(cli,
		    "%s holds %zu certificates: only the first is verified, "
		    "the others are ignored (CA certificates belong in "
		    "--chain)",
		    strcmp(certpath, "-") == 0 ? "standard input" : certpath,
		    n);
	r = cs_verify_cert(v, cert, certl, need, (int64_t)at, &res);
	/* Bad input is a failed verification (5), as in 'ca sign --csr'. */
	if (r == CS_ERR_MALFORMED) {
		r = not_a_cert(cli, certpath, cert, certl, &res);
	} else if (r != CS_OK && res.reason[0] == '\0')
		snprintf(res.reason, sizeof(res.reason), "%s",
		    cs_ctx_errmsg(cli->ctx));
	code = verify_emit(cli, &res, r, crl != NULL);
out:
	cs_verify_free(v);
	free(chain);
	free(crl);
	free(cert);
	return code;
}

int
cmd_verify(struct cli *cli, int argc, const char **argv)
{
	struct verify_args a;
	char *cert = NULL;
	int code;

	memset(&a, 0, sizeof(a));
	{
		struct poptOption opts[] = {
			{ "chain", '\0', POPT_ARG_STRING, &a.chain, 0,
			    "trusted CA certificates (self-signed = anchors)",
			    "CA.pem" },
			{ "crl", '\0', POPT_ARG_STRING, &a.crl, 0,
			    "CRLs to check revocation against", "CRL.pem" },
			{ "require-level", '\0', POPT_ARG_STRING, &a.level, 0,
			    "required assurance level", "LEVEL" },
			{ "policy", '\0', POPT_ARG_STRING, &a.policy, 0,
			    "required policy OID", "OID" },
			{ "purpose", '\0', POPT_ARG_STRING, &a.purpose, 0,
			    "client-auth (default), smartcard-logon, "
			    "card-auth or any",
			    "PURPOSE" },
			{ "at", '\0', POPT_ARG_STRING, &a.at, 0,
			    "verify at this time (Unix seconds)", "UNIXTIME" },
			POPT_TABLEEND,
		};

		if ((code = cli_parse_arg(cli, argc, argv, opts, &verify_usage,
		         "CERT missing", &cert)) == CLI_CONTINUE)
			code = verify_run(cli, &a, cert);
	}
	free(cert);
	free(a.chain);
	free(a.crl);
	free(a.level);
	free(a.policy);
	free(a.purpose);
	free(a.at);
	return code;
}
