/*
 * cardsmith attest: get a slot's attestation statement (and the F9
 * certificate) from the card, optionally verify it; cardsmith attest
 * verify: check a statement offline against manufacturer roots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attestout.h"
#include "card.h"
#include "cardops.h"
#include "certinfo.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

static int attest_card(struct cli *, int, const char **);
static int attest_verify(struct cli *, int, const char **);

static const struct cmd attest_card_cmd = { "attest", attest_card, NEED_CARD,
	"attest a slot's key" };

static const struct cmd attest_subs[] = {
	{ "attest verify", attest_verify, 0,
	    "verify an attestation offline (no card needed)" },
	{ NULL, NULL, 0, NULL },
};

static const struct cli_usage attest_usage = {
	"--slot SLOT [--out FILE] [--f9-out FILE] [--verify [--trust FILE]]",
	"Ask the card to attest the key in SLOT (only keys generated on the "
	"card can be\nattested) and print the attestation statement as PEM, "
	"or write it to --out.\n--f9-out also writes the card's attestation "
	"(F9) certificate. With --verify\nthe statement is checked against "
	"the F9 certificate and the trust roots\n(default: the shipped "
	"Yubico roots) and the attested key against the slot's\nkey; a "
	"failure exits 5 with the reason. 'cardsmith attest verify' checks "
	"a\nstatement offline.",
	"  cardsmith attest --slot 9a --out att.pem --f9-out f9.pem --verify\n"
	"  cardsmith attest verify --in att.pem --intermediate f9.pem",
};

static const struct cli_usage verify_usage = {
	"--in FILE --intermediate FILE [--csr FILE | --pubkey FILE] "
	"[--trust FILE]\n       or: cardsmith attest verify --csr FILE",
	"Verify an attestation statement (--in) and the device's F9 "
	"certificate\n(--intermediate) against the trust roots, without a "
	"card: by default the\nshipped Yubico roots (CARDSMITH_TRUST "
	"overrides them, --trust replaces them).\nWith --csr alone, the "
	"statement and F9 certificate embedded in the request\nare used. "
	"With --csr or --pubkey the attested key must be that key. Prints\n"
	"serial, firmware, slot, PIN and touch policy, form factor and "
	"FIPS/CSPN.\nExit status 0: valid; 5: not valid (the reason is "
	"printed).",
	"  cardsmith attest verify --in att.pem --intermediate f9.pem "
	"--pubkey pub.pem\n  cardsmith attest verify --csr req.pem --json",
};

static void
fw_str(const uint8_t fw[3], char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u", fw[0], fw[1], fw[2]);
}

void
attest_info_json(json_t *obj, const struct cs_attest_info *info)
{
	char fw[16], slot[3], t[32];

	out_set(obj, "serial",
	    info->has_serial ? json_integer((json_int_t)info->serial) : NULL);
	fw_str(info->firmware, fw, sizeof(fw));
	out_set(obj, "firmware", info->has_firmware ? out_str(fw) : NULL);
	out_set(obj, "slot",
	    info->slot >= 0 ? out_str(cli_slot_str((uint8_t)info->slot, slot))
	                    : NULL);
	out_set(obj, "pin_policy",
	    info->has_policy ? out_str(cli_pin_policy_str(info->pin_policy))
	                     : NULL);
	out_set(obj, "touch_policy",
	    info->has_policy ? out_str(cli_touch_policy_str(info->touch_policy))
	                     : NULL);
	out_set(obj, "form_factor",
	    info->has_form_factor
	        ? out_str(cs_attest_form_factor_str(info->form_factor))
	        : NULL);
	out_set(obj, "fips",
	    json_boolean(info->f9_fips ||
	        (info->has_form_factor && (info->form_factor & 0x80) != 0)));
	out_set(obj, "cspn", json_boolean(info->f9_cspn));
	out_set(obj, "key_algorithm",
	    out_str(
	        info->key_alg != 0 ? cs_piv_alg_name(info->key_alg) : NULL));
	out_set(obj, "subject", out_str(info->subject));
	out_set(obj, "issuer", out_str(info->issuer));
	out_set(obj, "root",
	    info->root[0] != '\0' ? out_str(info->root) : NULL);
	certinfo_time(info->not_before, t, sizeof(t));
	out_set(obj, "not_before", out_str(t));
	certinfo_time(info->not_after, t, sizeof(t));
	out_set(obj, "not_after", out_str(t));
}

static void
line(FILE *f, const char *indent, const char *label, const char *v)
{
	fprintf(f, "%s%-14s ", indent, label);
	out_safe(f, v != NULL ? v : "unknown");
	fputc('\n', f);
}

void
attest_info_text(FILE *f, const char *indent, const struct cs_attest_info *info)
{
	char buf[32], slot[3];
	bool fips = info->f9_fips ||
	    (info->has_form_factor && (info->form_factor & 0x80) != 0);

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)info->serial);
	line(f, indent, "Serial:", info->has_serial ? buf : NULL);
	fw_str(info->firmware, buf, sizeof(buf));
	line(f, indent, "Firmware:", info->has_firmware ? buf : NULL);
	line(f, indent, "Slot:",
	    info->slot >= 0 ? cli_slot_str((uint8_t)info->slot, slot) : NULL);
	line(f, indent,
	    "Key:", info->key_alg != 0 ? cs_piv_alg_name(info->key_alg) : NULL);
	line(f, indent, "PIN policy:",
	    info->has_policy ? cli_pin_policy_str(info->pin_policy) : NULL);
	line(f, indent, "Touch policy:",
	    info->has_policy ? cli_touch_policy_str(info->touch_policy) : NULL);
	line(f, indent, "Form factor:",
	    info->has_form_factor ? cs_attest_form_factor_str(info->form_factor)
	                          : NULL);
	line(f, indent, "FIPS:", fips ? "yes" : "no");
	line(f, indent, "CSPN:", info->f9_cspn ? "yes" : "no");
	if (info->root[0] != '\0')
		line(f, indent, "Root:", info->root);
}

/* Does the statement attest the slot's key (from metadata)? */
static int
match_slot_key(struct cli *cli, uint8_t slot, const uint8_t *stmt,
    size_t stmt_len)
{
	struct cs_piv_key_meta meta;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	int match = -1;

	if (!cs_card_has(cli->card, CS_CAP_METADATA))
		return -1;
	if (cs_piv_key_metadata(cli->card, slot, &meta, &spki, &spki_len) !=
	    CS_OK)
		return -1;
	match = cardops_key_matches(cli, stmt, stmt_len, spki, spki_len);
	cs_free(spki);
	return match;
}

/* Refuse early, with advice, when the slot cannot be attested. */
static int
check_attestable(struct cli *cli, uint8_t slot)
{
	struct cs_piv_key_meta meta;
	char s[3];
	enum cs_err r = CS_ERR_INTERNAL;

	if (!cs_card_has(cli->card, CS_CAP_ATTEST))
		return out_failf(cli, CS_ERR_UNSUPPORTED,
		    "this card cannot "
		    "attest keys (YubiKey 4.3 or later can)");
	if (!cs_card_has(cli->card, CS_CAP_METADATA))
		return CLI_CONTINUE;
	r = cs_piv_key_metadata(cli->card, slot, &meta, NULL, NULL);
	cli_slot_str(slot, s);
	if (r == CS_ERR_NOT_FOUND)
		return out_failf(cli, r,
		    "slot %s is empty: generate a key "
		    "with 'cardsmith keygen --slot %s'",
		    s, s);
	if (r != CS_OK)
		return cli_card_fail(cli, r, "read key metadata",
		    "card removed during the operation; nothing was written");
	if (meta.origin == 2)
		return out_failf(cli, CS_ERR_UNSUPPORTED,
		    "slot %s holds an "
		    "imported key: only keys generated on the card can be "
		    "attested",
		    s);
	return CLI_CONTINUE;
}

/* --trust FILE, the same for attest --verify and attest verify. */
#define TRUST_OPT(var)                                                         \
	{                                                                      \
		"trust", '\0', POPT_ARG_STRING, &(var), 0,                     \
		    "roots to verify against (default: the Yubico roots)",     \
		    "FILE"                                                     \
	}

struct attest_opts {
	char *slot, *out, *f9_out, *trust;
	int verify, force;
};

static int
write_pems(struct cli *cli, const struct attest_opts *o, const uint8_t *stmt,
    size_t stmt_len, const uint8_t *f9, size_t f9_len, json_t *doc)
{
	unsigned int flags = cardops_out_flags(o->force);
	char *pem = NULL, *f9pem = NULL;
	int code = CLI_CONTINUE;

	pem_encode("CERTIFICATE", stmt, stmt_len, &pem);
	pem_encode("CERTIFICATE", f9, f9_len, &f9pem);
	if (doc != NULL) {
		out_set(doc, "statement_pem", out_str(pem));
		out_set(doc, "f9_pem", out_str(f9pem));
	}
	if (o->out != NULL || doc == NULL)
		code = outfile_put(cli, o->out, pem, flags);
	if (code == CLI_CONTINUE && o->f9_out != NULL)
		code = outfile_put(cli, o->f9_out, f9pem, flags);
	free(pem);
	free(f9pem);
	return code;
}

/*
 * A verified attestation: with --json, doc gets ok_key (true), key_matches,
 * trust and the statement's fields and is emitted; in text mode (doc NULL)
 * the fields follow the heading the caller printed, unknown saying what an
 * unknown key match means. Takes doc. Returns the exit code.
 */
static int
report_attest(struct cli *cli, json_t *doc, const char *ok_key,
    const struct cs_attest_info *info, int match, const char *src,
    const char *unknown)
{
	if (doc != NULL) {
		out_set(doc, ok_key, json_true());
		out_set(doc, "key_matches",
		    match < 0 ? NULL : json_boolean(match));
		out_set(doc, "trust", out_str(src));
		attest_info_json(doc, info);
		return out_emit(cli, doc);
	}
	attest_info_text(stdout, "  ", info);
	printf("  %-14s %s\n", "Key matches:", match < 0 ? unknown : "yes");
	return CLI_EXIT_OK;
}

static int
do_attest(struct cli *cli, const struct attest_opts *o, uint8_t slot)
{
	unsigned int flags = cardops_out_flags(o->force);
	struct cs_attest_info info;
	struct cs_trust *trust = NULL;
	uint8_t *stmt = NULL, *f9 = NULL;
	size_t stmt_len = 0, f9_len = 0;
	json_t *doc = cli->json ? out_doc_new() : NULL;
	const char *src = NULL;
	char s[3];
	enum cs_err r = CS_ERR_INTERNAL;
	int code, match = -1;

	memset(&info, 0, sizeof(info));
	cli_slot_str(slot, s);
	/* Both outputs first, so that neither is written if one cannot be. */
	if ((o->out != NULL &&
	        (code = outfile_preflight(cli, o->out, flags)) !=
	            CLI_CONTINUE) ||
	    (o->f9_out != NULL &&
	        (code = outfile_preflight(cli, o->f9_out, flags)) !=
	            CLI_CONTINUE) ||
	    (code = check_attestable(cli, slot)) != CLI_CONTINUE)
		goto out;
	out_verbose(cli, "attesting slot %s", s);
	if ((r = cs_piv_attest(cli->card, slot, &stmt, &stmt_len)) != CS_OK) {
		code = cli_card_fail(cli, r, "attest",
		    "card removed during the "
		    "operation; nothing was written");
		goto out;
	}
	if ((r = cs_piv_read_cert(cli->card, CS_PIV_SLOT_ATTEST, &f9,
	         &f9_len)) != CS_OK) {
		code = cli_card_fail(cli, r,
		    "read the F9 attestation "
		    "certificate",
		    "card removed during the operation");
		goto out;
	}
	if (doc != NULL)
		out_set(doc, "slot", out_str(s));
	if ((code = write_pems(cli, o, stmt, stmt_len, f9, f9_len, doc)) !=
	    CLI_CONTINUE)
		goto out;
	if (!o->verify) {
		code = doc != NULL ? out_emit(cli, doc) : CLI_EXIT_OK;
		doc = NULL;
		goto out;
	}
	if ((code = cli_trust_load(cli, o->trust, &trust, &src)) !=
	    CLI_CONTINUE)
		goto out;
	r = cs_attest_verify(cli->ctx, trust, stmt, stmt_len, f9, f9_len, 0, 0,
	    &info);
	if (r != CS_OK) {
		code = out_failf(cli, CS_ERR_VERIFY,
		    "attestation of slot %s "
		    "does not verify: %s",
		    s, cs_ctx_errmsg(cli->ctx));
		goto out;
	}
	if ((match = match_slot_key(cli, slot, stmt, stmt_len)) == 0) {
		code = out_failf(cli, CS_ERR_VERIFY,
		    "attestation of slot %s: "
		    "the attested key is not the key in the slot",
		    s);
		goto out;
	}
	if (doc == NULL) {
		printf("Attestation of slot %s verified (roots: ", s);
		out_safe(stdout, src);
		fputs(")\n", stdout);
	}
	code =
	    report_attest(cli, doc, "verified", &info, match, src, "unknown");
	doc = NULL;
out:
	json_decref(doc);
	cs_trust_free(trust);
	cs_free(stmt);
	cs_free(f9);
	return code;
}

static int
attest_card(struct cli *cli, int argc, const char **argv)
{
	struct attest_opts o;
	struct poptOption opts[] = {
		CARDOPS_SLOT_OPT(o.slot,
		    "the slot to attest (9a, 9c, 9d, 9e, 82..95)"),
		CLI_OUT_OPT(o.out,
		    "write the statement to FILE (default: standard output)"),
		{ "f9-out", '\0', POPT_ARG_STRING, &o.f9_out, 0,
		    "also write the F9 attestation certificate to FILE",
		    "FILE" },
		{ "verify", '\0', POPT_ARG_NONE, &o.verify, 0,
		    "verify the statement and the attested key", NULL },
		TRUST_OPT(o.trust),
		CLI_FORCE_OPT(o.force, "replace existing output files"),
		POPT_TABLEEND,
	};
	uint8_t slot = 0;
	int r;

	memset(&o, 0, sizeof(o));
	cli->cmd = &attest_card_cmd;
	if ((r = cardops_slot_intake(cli, argc, argv, opts, &attest_usage,
	         &o.slot, false, &slot)) != CLI_CONTINUE)
		goto out;
	if (o.trust != NULL && !o.verify) {
		r = out_usage(cli, "attest: --trust needs --verify");
		goto out;
	}
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_attest(cli, &o, slot);
out:
	free(o.slot);
	free(o.out);
	free(o.f9_out);
	free(o.trust);
	return r;
}

/* --- attest verify --- */

struct verify_opts {
	char *in, *f9, *csr, *pubkey, *trust;
	int no_time, u2f;
};

struct verify_input {
	uint8_t *stmt, *f9, *key; /* key: DER SPKI or PEM, may be NULL */
	size_t stmt_len, f9_len, key_len;
};

static void
input_release(struct verify_input *in)
{
	free(in->stmt);
	free(in->f9);
	free(in->key);
}

/* An invalid input is an invalid attestation (exit 5) with the reason. */
static int
bad_input(struct cli *cli, const char *what, const char *detail)
{
	return out_failf(cli, CS_ERR_VERIFY, "attestation not valid: %s: %s",
	    what, detail);
}

static int
load_csr(struct cli *cli, const struct verify_opts *o, struct verify_input *in)
{
	uint8_t *text = NULL, *der = NULL, *stmt = NULL, *f9 = NULL;
	uint8_t *pop = NULL;
	size_t len = 0, derlen = 0, sl = 0, fl = 0, popl = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = pem_read_file(cli, o->csr, &text, &len)) != CLI_CONTINUE)
		return code;
	if (!pem_decode(CS_PEM_CSR, text, len, &der, &derlen) ||
	    !certinfo_csr_spki(der, derlen, &in->key, &in->key_len)) {
		code = certinfo_csr_kind(text, len) == CERTINFO_CERT
		    ? out_failf(cli, CS_ERR_VERIFY,
		          "attestation not valid: %s is a certificate, not a "
		          "certificate request",
		          o->csr)
		    : bad_input(cli, o->csr, "not a certificate request");
		goto out;
	}
	/* A request whose key someone else holds proves nothing. */
	if ((r = cs_csr_get_spki(cli->ctx, der, derlen, CS_X509_CSR_VERIFY,
	         &pop, &popl)) != CS_OK) {
		code = bad_input(cli, o->csr, cs_ctx_errmsg(cli->ctx));
		goto out;
	}
	if (o->in == NULL) {
		r = cs_attest_from_csr(cli->ctx, der, derlen, &stmt, &sl, &f9,
		    &fl);
		if (r != CS_OK) {
			code = r == CS_ERR_NOT_FOUND
			    ? out_failf(cli, CS_ERR_VERIFY,
			          "attestation not valid: %s: %s", o->csr,
			          cs_ctx_errmsg(cli->ctx))
			    : bad_input(cli, o->csr, cs_ctx_errmsg(cli->ctx));
			goto out;
		}
		in->stmt = xmalloc(sl);
		memcpy(in->stmt, stmt, sl);
		in->stmt_len = sl;
		in->f9 = xmalloc(fl);
		memcpy(in->f9, f9, fl);
		in->f9_len = fl;
	}
	code = CLI_CONTINUE;
out:
	cs_free(pop);
	cs_free(stmt);
	cs_free(f9);
	free(der);
	free(text);
	return code;
}

static int
load_inputs(struct cli *cli, const struct verify_opts *o,
    struct verify_input *in)
{
	int code;

	if (o->csr != NULL && (code = load_csr(cli, o, in)) != CLI_CONTINUE)
		return code;
	if (o->in != NULL &&
	    (code = pem_read_file(cli, o->in, &in->stmt, &in->stmt_len)) !=
	        CLI_CONTINUE)
		return code;
	if (o->f9 != NULL) {
		free(in->f9);
		in->f9 = NULL;
		if ((code = pem_read_file(cli, o->f9, &in->f9, &in->f9_len)) !=
		    CLI_CONTINUE)
			return code;
	}
	if (o->pubkey != NULL &&
	    (code = pem_read_file(cli, o->pubkey, &in->key, &in->key_len)) !=
	        CLI_CONTINUE)
		return code;
	return CLI_CONTINUE;
}

static int
check_verify_args(struct cli *cli, const struct verify_opts *o)
{
	if (o->csr != NULL && o->pubkey != NULL)
		return out_usage(cli,
		    "attest verify: give --csr or --pubkey, "
		    "not both");
	if (o->in == NULL && o->csr == NULL)
		return out_usage(cli,
		    "attest verify: --in STATEMENT (or --csr "
		    "with an embedded attestation) is required");
	if (o->in != NULL && o->f9 == NULL)
		return out_usage(cli,
		    "attest verify: --intermediate F9CERT is "
		    "required with --in");
	return CLI_CONTINUE;
}

static int
report_valid(struct cli *cli, const struct cs_attest_info *info, int match,
    const char *src)
{
	json_t *doc = cli->json ? out_doc_new() : NULL;

	if (doc == NULL)
		fputs("Attestation valid\n", stdout);
	return report_attest(cli, doc, "valid", info, match, src,
	    "not checked (no --csr or --pubkey)");
}

static int
do_verify(struct cli *cli, const struct verify_opts *o)
{
	struct verify_input in;
	struct cs_attest_info info;
	struct cs_trust *trust = NULL;
	const char *src = NULL;
	unsigned int flags = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	int code, match = -1;

	memset(&in, 0, sizeof(in));
	memset(&info, 0, sizeof(info));
	if ((code = load_inputs(cli, o, &in)) != CLI_CONTINUE ||
	    (code = cli_trust_load(cli, o->trust, &trust, &src)) !=
	        CLI_CONTINUE)
		goto out;
	if (o->no_time)
		flags |= CS_ATTEST_NO_TIME;
	if (o->u2f)
		flags |= CS_ATTEST_ALLOW_U2F_ROOT;
	r = cs_attest_verify(cli->ctx, trust, in.stmt, in.stmt_len, in.f9,
	    in.f9_len, 0, flags, &info);
	if (r != CS_OK) {
		code = out_failf(cli, CS_ERR_VERIFY,
		    "attestation not valid: %s", cs_ctx_errmsg(cli->ctx));
		goto out;
	}
	if (in.key != NULL) {
		r = cs_attest_match_key(cli->ctx, in.stmt, in.stmt_len, in.key,
		    in.key_len);
		if (r != CS_OK) {
			code = out_failf(cli, CS_ERR_VERIFY,
			    "attestation not "
			    "valid for this key: %s",
			    cs_ctx_errmsg(cli->ctx));
			goto out;
		}
		match = 1;
	}
	code = report_valid(cli, &info, match, src);
out:
	cs_trust_free(trust);
	input_release(&in);
	return code;
}

static int
attest_verify(struct cli *cli, int argc, const char **argv)
{
	struct verify_opts o;
	struct poptOption opts[] = {
		{ "in", 'i', POPT_ARG_STRING, &o.in, 0,
		    "the attestation statement (PEM or DER)", "FILE" },
		{ "intermediate", '\0', POPT_ARG_STRING, &o.f9, 0,
		    "the device's F9 attestation certificate", "FILE" },
		{ "csr", '\0', POPT_ARG_STRING, &o.csr, 0,
		    "the key must be this request's key; alone: use the "
		    "attestation embedded in it",
		    "FILE" },
		{ "pubkey", '\0', POPT_ARG_STRING, &o.pubkey, 0,
		    "the attested key must be this public key (PEM or DER)",
		    "FILE" },
		TRUST_OPT(o.trust),
		{ "no-time", '\0', POPT_ARG_NONE, &o.no_time, 0,
		    "skip validity-period checks (audits of old data)", NULL },
		{ "allow-u2f-root", '\0', POPT_ARG_NONE, &o.u2f, 0,
		    "accept the legacy Yubico U2F root (YubiKey 4.3 era)",
		    NULL },
		POPT_TABLEEND,
	};
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = cardops_parse(cli, argc, argv, opts, &verify_usage)) ==
	        CLI_CONTINUE &&
	    (r = check_verify_args(cli, &o)) == CLI_CONTINUE)
		r = do_verify(cli, &o);
	free(o.in);
	free(o.f9);
	free(o.csr);
	free(o.pubkey);
	free(o.trust);
	return r;
}

int
cmd_attest(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *sub = cli_find_sub(attest_subs, argc, argv);

	if (sub != NULL)
		return cli_run_sub(cli, sub, argc, argv);
	return attest_card(cli, argc, argv);
}
