/*
 * cardsmith ca sign: issue a certificate for a CSR under a profile, with
 * the evidence given (attestation, F9 certificate, chain). The runner
 * opens the CA (NEED_CA); the key is unlocked here once the inputs, the
 * profile and --out are checked, and never for --dry-run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_common.h"
#include "certinfo.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

#define CA_VARS_MAX 16

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

/*
 * --slot: the key slots the rest of the CLI takes (cs_piv_slot_parse: 9a,
 * 9c, 9d, 9e, 82..95 or their names); never 9b (the management key) or
 * f9 (the attestation key, which certifies no CSR). *slot -1: not given.
 */
static bool
parse_slot(const char *s, int *slot)
{
	int v;

	*slot = -1;
	if (s == NULL)
		return true;
	v = cs_piv_slot_parse(s);
	if (v < 0 || v == CS_PIV_SLOT_MGM || v == CS_PIV_SLOT_ATTEST)
		return false;
	*slot = v;
	return true;
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
	enum cs_err r = CS_ERR_INTERNAL;

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
sign_run(struct cli *cli, struct sign_args *a)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	struct cs_ca_profile *prof = NULL;
	struct cs_ca *ca;
	uint8_t *csr = NULL, *att = NULL, *f9 = NULL, *chain = NULL;
	size_t csrl = 0, attl = 0, f9l = 0, chainl = 0, i;
	enum cs_err r = CS_ERR_INTERNAL;
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
	if (!ca_parse_u64(a->card, &req.expected_card_serial))
		return out_usage(cli, "ca sign: bad --card-serial");
	for (i = 0; i < a->nvars; i++)
		if (strchr(a->vars[i], '=') == NULL || a->vars[i][0] == '=')
			return out_usage(cli,
			    "ca sign: --var '%.40s': write NAME=VALUE",
			    a->vars[i]);
	if ((code = ca_read_opt_file(cli, a->csr, &csr, &csrl)) !=
	        CLI_CONTINUE ||
	    (code = check_csr(cli, a->csr, csr, csrl)) != CLI_CONTINUE ||
	    (code = ca_read_opt_file(cli, a->att, &att, &attl)) !=
	        CLI_CONTINUE ||
	    (code = ca_read_opt_file(cli, a->f9, &f9, &f9l)) != CLI_CONTINUE ||
	    (code = ca_read_opt_file(cli, a->attchain, &chain, &chainl)) !=
	        CLI_CONTINUE ||
	    (code = cli_open_needs(cli)) != CLI_CONTINUE)
		goto out;
	ca = cli->ca;
	if ((r = cs_ca_profile_load(ca, a->profile, &prof)) != CS_OK) {
		code = out_fail(cli, r, NULL);
		goto out;
	}
	/* Before a serial is reserved: a refused --out issues nothing. */
	if (a->out != NULL &&
	    (code = outfile_preflight(cli, a->out, sign_out_flags(a))) !=
	        CLI_CONTINUE)
		goto out;
	if (!a->dry && (code = cli_ca_unlock(cli)) != CLI_CONTINUE)
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
	free(csr);
	free(att);
	free(f9);
	free(chain);
	return code;
}

int
ca_sign(struct cli *cli, int argc, const char **argv)
{
	struct sign_args a;
	struct cli_repeat vars = { OPT_VAR, &a.var, a.vars, CA_VARS_MAX,
		&a.nvars };
	size_t i;
	int code;
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		{ "profile", '\0', POPT_ARG_STRING, &a.profile, 0,
		    "issuance profile (name or path)", "NAME" },
		{ "csr", '\0', POPT_ARG_STRING, &a.csr, 0,
		    "certificate signing request (PEM or DER)", "FILE" },
		{ "attestation", '\0', POPT_ARG_STRING, &a.att, 0,
		    "slot attestation statement", "FILE" },
		{ "intermediate", '\0', POPT_ARG_STRING, &a.f9, 0,
		    "the card's F9 attestation certificate", "FILE" },
		{ "attestation-chain", '\0', POPT_ARG_STRING, &a.attchain, 0,
		    "manufacturer intermediates sent along (PEM); never "
		    "trusted: only the CA's trust/ store counts, unknown ones "
		    "are named in a warning",
		    "FILE" },
		{ "slot", '\0', POPT_ARG_STRING, &a.slot, 0,
		    "slot the key is in (checked against the attestation)",
		    "SLOT" },
		{ "card-serial", '\0', POPT_ARG_STRING, &a.card, 0,
		    "expected card serial", "N" },
		{ "var", '\0', POPT_ARG_STRING, &a.var, OPT_VAR,
		    "template variable (repeatable)", "NAME=VALUE" },
		CLI_OUT_OPT(a.out, "write the certificate here (new file)"),
		CLI_FORCE_OPT(a.force, "replace an existing --out file"),
		{ "dry-run", '\0', POPT_ARG_NONE, &a.dry, 0,
		    "decide and lint only", NULL },
		{ "allow-revoked-key", '\0', POPT_ARG_NONE, &a.allow_revoked, 0,
		    "certify a key again although its certificate was revoked "
		    "(never for keyCompromise)",
		    NULL },
		CLI_CA_PASS_OPTS(cli),
		POPT_TABLEEND,
	};

	/* The tables hold only addresses in a: clearing a keeps them. */
	memset(&a, 0, sizeof(a));
	/* Files, CSR and profile first; the key only if it signs. */
	cli->defer_needs = 1;
	cli->defer_unlock = 1;
	if ((code = cli_parse_noargs(cli, argc, argv, opts, &sign_usage,
	         &vars)) == CLI_CONTINUE)
		code = sign_run(cli, &a);
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
	return code;
}
