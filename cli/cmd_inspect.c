/*
 * cardsmith inspect: everything a helpdesk asks about a card, without any
 * secret: card type, serial, firmware, PIN/PUK tries, management key,
 * and per slot the key, the certificate and the attestation status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attestout.h"
#include "card.h"
#include "cardops.h"
#include "certinfo.h"
#include "exit.h"

#include "out.h"

#include "banned.h"

static const struct cli_usage inspect_usage = {
	"[--json] [--trust FILE] [--no-attest]",
	"Show the card: type, serial, firmware, PIN and PUK tries, the "
	"management key\n(algorithm, factory default or not, PIN-protected), "
	"and for slots 9a, 9c, 9d,\n9e, retired slots that hold something, "
	"and f9: the key (algorithm, generated\nor imported, PIN and touch "
	"policy), the certificate (subject, issuer,\nvalidity, days left, "
	"SHA-256 fingerprint, policy OIDs, whether its key is the\nslot's "
	"key) and the attestation (made and verified against the Yubico "
	"roots,\nor --trust). Needs no PIN.",
	"  cardsmith inspect\n  cardsmith inspect --json | jq '.slots[] | "
	"select(.certificate) | .certificate.days_left'",
};

struct inspect_opts {
	char *trust;
	int no_attest;
};

struct slot_state {
	uint8_t slot;
	bool have_meta, empty;
	struct cs_piv_key_meta meta;
	uint8_t *spki;
	size_t spki_len;
	bool have_cert, cert_ok;
	struct cs_cert_info ci;
	char cert_err[128];
	int key_matches; /* -1 unknown */
	/* attestation */
	const char *att_status; /* NULL: not tried */
	char att_reason[256];
	struct cs_attest_info att;
	int att_key_matches;
};

struct inspect {
	struct cli *cli;
	const struct inspect_opts *o;
	struct cs_trust *trust; /* NULL if not loaded */
	const char *trust_src;
	char trust_err[256];
	uint8_t *f9;
	size_t f9_len;
	time_t now;
};

static void
slot_release(struct slot_state *s)
{
	cs_free(s->spki);
	cs_cert_info_release(&s->ci);
}

static void
read_key(struct inspect *in, struct slot_state *s)
{
	enum cs_err r = CS_ERR_INTERNAL;

	s->key_matches = s->att_key_matches = -1;
	if (!cs_card_has(in->cli->card, CS_CAP_METADATA))
		return;
	r = cs_piv_key_metadata(in->cli->card, s->slot, &s->meta, &s->spki,
	    &s->spki_len);
	if (r == CS_OK)
		s->have_meta = true;
	else if (r == CS_ERR_NOT_FOUND)
		s->empty = true;
	cs_ctx_clear_error(in->cli->ctx);
}

static enum cs_err
read_cert(struct inspect *in, struct slot_state *s)
{
	uint8_t *der = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	r = cs_piv_read_cert(in->cli->card, s->slot, &der, &len);
	if (r == CS_ERR_NOT_FOUND) {
		cs_ctx_clear_error(in->cli->ctx);
		return CS_OK;
	}
	if (r == CS_ERR_REMOVED || r == CS_ERR_TRANSPORT)
		return r;
	s->have_cert = true;
	if (r != CS_OK) {
		snprintf(s->cert_err, sizeof(s->cert_err), "%s",
		    cs_ctx_errmsg(in->cli->ctx));
		return CS_OK;
	}
	s->cert_ok =
	    certinfo_parse(der, len, &s->ci, s->cert_err, sizeof(s->cert_err));
	if (s->cert_ok && s->spki != NULL)
		s->key_matches = certinfo_same_key(s->ci.spki, s->ci.spki_len,
		    s->spki, s->spki_len);
	cs_free(der);
	return CS_OK;
}

static void
attest_slot(struct inspect *in, struct slot_state *s)
{
	uint8_t *stmt = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (in->o->no_attest || s->slot == CS_PIV_SLOT_ATTEST ||
	    !cs_card_has(in->cli->card, CS_CAP_ATTEST) || s->empty)
		return;
	if (s->have_meta && s->meta.origin == 2) {
		s->att_status = "imported";
		snprintf(s->att_reason, sizeof(s->att_reason),
		    "imported keys "
		    "cannot be attested");
		return;
	}
	r = cs_piv_attest(in->cli->card, s->slot, &stmt, &len);
	if (r != CS_OK) {
		/* No metadata: a refusal usually means an empty slot. */
		s->att_status = "unavailable";
		snprintf(s->att_reason, sizeof(s->att_reason), "%s",
		    cs_ctx_errmsg(in->cli->ctx));
		cs_ctx_clear_error(in->cli->ctx);
		return;
	}
	if (in->trust == NULL || in->f9 == NULL) {
		s->att_status = "not_verified";
		snprintf(s->att_reason, sizeof(s->att_reason), "%s",
		    in->f9 == NULL ? "no F9 certificate on the card"
		                   : in->trust_err);
	} else if (cs_attest_verify(in->cli->ctx, in->trust, stmt, len, in->f9,
	               in->f9_len, 0, 0, &s->att) != CS_OK) {
		s->att_status = "invalid";
		snprintf(s->att_reason, sizeof(s->att_reason), "%s",
		    cs_ctx_errmsg(in->cli->ctx));
	} else
		s->att_status = "valid";
	if (s->spki != NULL)
		s->att_key_matches = cardops_key_matches(in->cli, stmt, len,
		    s->spki, s->spki_len);
	else if (s->cert_ok) {
		s->att_key_matches = cardops_key_matches(in->cli, stmt, len,
		    s->ci.spki, s->ci.spki_len);
		if (s->key_matches < 0)
			s->key_matches = s->att_key_matches;
	}
	if (s->att_key_matches == 0 && strcmp(s->att_status, "valid") == 0) {
		s->att_status = "invalid";
		snprintf(s->att_reason, sizeof(s->att_reason),
		    "the attested "
		    "key is not the slot's key");
	}
	cs_ctx_clear_error(in->cli->ctx);
	cs_free(stmt);
}

static bool
slot_shown(const struct slot_state *s)
{
	if (s->slot == CS_PIV_SLOT_AUTH || s->slot == CS_PIV_SLOT_SIGN ||
	    s->slot == CS_PIV_SLOT_KEYMGMT || s->slot == CS_PIV_SLOT_CARDAUTH)
		return true;
	return s->have_meta || s->have_cert;
}

/* --- JSON --- */

static json_t *
obj_new(void)
{
	json_t *o = json_object();

	if (o == NULL) {
		out_err("out of memory");
		exit(CLI_EXIT_FAIL);
	}
	return o;
}

static json_t *
tristate(int v)
{
	return v < 0 ? NULL : json_boolean(v);
}

static json_t *
cert_json(const struct inspect *in, const struct slot_state *s)
{
	json_t *c = obj_new(), *pol;
	char t[32], fp[CERTINFO_SHA256_STR];
	size_t i;

	if (!s->cert_ok) {
		out_set(c, "error", out_str(s->cert_err));
		return c;
	}
	out_set(c, "subject", out_str(s->ci.subject));
	out_set(c, "issuer", out_str(s->ci.issuer));
	certinfo_time(s->ci.not_before, t, sizeof(t));
	out_set(c, "not_before", out_str(t));
	certinfo_time(s->ci.not_after, t, sizeof(t));
	out_set(c, "not_after", out_str(t));
	out_set(c, "days_left",
	    json_integer(
	        (json_int_t)((s->ci.not_after - (int64_t)in->now) / 86400)));
	out_set(c, "expired", json_boolean(s->ci.not_after < (int64_t)in->now));
	certinfo_sha256(&s->ci, fp, sizeof(fp));
	out_set(c, "sha256_fingerprint", out_str(fp));
	if ((pol = json_array()) == NULL)
		exit(CLI_EXIT_FAIL);
	for (i = 0; i < s->ci.npolicies; i++)
		out_append(pol, out_str(s->ci.policies[i]));
	out_set(c, "policy_oids", pol);
	out_set(c, "key_matches", tristate(s->key_matches));
	return c;
}

static json_t *
slot_json(const struct inspect *in, const struct slot_state *s)
{
	json_t *o = obj_new(), *k, *a;
	char buf[3], name[32];

	out_set(o, "slot", out_str(cli_slot_str(s->slot, buf)));
	out_set(o, "name", out_str(cli_slot_name(s->slot, name, sizeof(name))));
	if (s->have_meta) {
		k = obj_new();
		out_set(k, "algorithm", out_str(cs_piv_alg_name(s->meta.alg)));
		out_set(k, "origin", out_str(cli_origin_str(s->meta.origin)));
		out_set(k, "pin_policy",
		    out_str(cli_pin_policy_str(s->meta.pin_policy)));
		out_set(k, "touch_policy",
		    out_str(cli_touch_policy_str(s->meta.touch_policy)));
		out_set(o, "key", k);
	} else
		out_set(o, "key", NULL);
	out_set(o, "key_known", json_boolean(s->have_meta || s->empty));
	out_set(o, "certificate", s->have_cert ? cert_json(in, s) : NULL);
	if (s->att_status == NULL) {
		out_set(o, "attestation", NULL);
		return o;
	}
	a = obj_new();
	out_set(a, "status", out_str(s->att_status));
	out_set(a, "reason",
	    s->att_reason[0] != '\0' ? out_str(s->att_reason) : NULL);
	out_set(a, "key_matches", tristate(s->att_key_matches));
	if (strcmp(s->att_status, "valid") == 0)
		attest_info_json(a, &s->att);
	out_set(o, "attestation", a);
	return o;
}

/* --- card-level facts --- */

struct card_facts {
	struct cs_card_info info;
	struct cs_piv_retries pin, puk;
	bool have_mgm, prot, prot_known;
	struct cs_piv_mgm_meta mgm;
};

static enum cs_err
read_facts(struct inspect *in, struct card_facts *f)
{
	struct cli *cli = in->cli;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(f, 0, sizeof(*f));
	cs_card_get_info(cli->card, &f->info);
	if ((r = cs_piv_get_retries(cli->card, CS_PIV_REF_PIN, &f->pin)) !=
	        CS_OK ||
	    (r = cs_piv_get_retries(cli->card, CS_PIV_REF_PUK, &f->puk)) !=
	        CS_OK)
		return r;
	f->have_mgm = cs_piv_mgm_metadata(cli->card, &f->mgm) == CS_OK;
	if (cs_card_has(cli->card, CS_CAP_PROTECTED_MGM) &&
	    cs_piv_mgm_is_protected(cli->card, &f->prot) == CS_OK)
		f->prot_known = true;
	cs_ctx_clear_error(cli->ctx);
	return CS_OK;
}

static void
facts_json(json_t *doc, const struct inspect *in, const struct card_facts *f)
{
	char fw[16], atr[OUT_HEX_MAX(CS_ATR_MAX)];
	json_t *m = obj_new();

	snprintf(fw, sizeof(fw), "%u.%u.%u", f->info.firmware[0],
	    f->info.firmware[1], f->info.firmware[2]);
	out_hex(atr, sizeof(atr), f->info.atr, f->info.atr_len, 0);
	out_set(doc, "reader", out_str(f->info.reader));
	out_set(doc, "atr", out_str(atr));
	out_set(doc, "card_type",
	    out_str(f->info.yubikey ? "YubiKey" : "PIV card"));
	out_set(doc, "serial",
	    f->info.has_serial ? json_integer(f->info.serial) : NULL);
	out_set(doc, "firmware", f->info.yubikey ? out_str(fw) : NULL);
	out_set(doc, "pin", cli_retries_json(&f->pin, true));
	out_set(doc, "puk", cli_retries_json(&f->puk, true));
	out_set(m, "algorithm",
	    f->have_mgm ? out_str(cs_piv_alg_name(f->mgm.alg)) : NULL);
	out_set(m, "default",
	    f->have_mgm && f->mgm.known_default
	        ? json_boolean(f->mgm.is_default)
	        : NULL);
	out_set(m, "protected", f->prot_known ? json_boolean(f->prot) : NULL);
	out_set(m, "touch_policy",
	    f->have_mgm ? out_str(cli_touch_policy_str(f->mgm.touch_policy))
	                : NULL);
	out_set(doc, "management_key", m);
	out_set(doc, "attestation_supported",
	    json_boolean(cs_card_has(in->cli->card, CS_CAP_ATTEST)));
	out_set(doc, "trust", out_str(in->trust_src));
}

/* --- text --- */

static void
kv(const char *indent, const char *label, const char *v)
{
	printf("%s%-20s ", indent, label);
	out_safe(stdout, v != NULL ? v : "unknown");
	fputc('\n', stdout);
}

static void
retries_text(const char *label, const struct cs_piv_retries *rt)
{
	char buf[64];

	if (rt->remaining < 0 && rt->verified)
		snprintf(buf, sizeof(buf),
		    "unknown (verified in this session)");
	else if (rt->remaining < 0)
		snprintf(buf, sizeof(buf), "unknown");
	else if (rt->total >= 0)
		snprintf(buf, sizeof(buf), "%d/%d%s%s", rt->remaining,
		    rt->total, rt->remaining == 0 ? " (blocked)" : "",
		    rt->known_default && rt->is_default ? " (factory default)"
		                                        : "");
	else
		snprintf(buf, sizeof(buf), "%d%s", rt->remaining,
		    rt->remaining == 0 ? " (blocked)" : "");
	kv("", label, buf);
}

static void
facts_text(const struct card_facts *f)
{
	char buf[128];

	kv("", "Reader:", f->info.reader);
	kv("", "Card:", f->info.yubikey ? "YubiKey" : "PIV card");
	snprintf(buf, sizeof(buf), "%u", (unsigned)f->info.serial);
	kv("", "Serial:", f->info.has_serial ? buf : NULL);
	snprintf(buf, sizeof(buf), "%u.%u.%u", f->info.firmware[0],
	    f->info.firmware[1], f->info.firmware[2]);
	kv("", "Firmware:", f->info.yubikey ? buf : NULL);
	retries_text("PIN tries left:", &f->pin);
	retries_text("PUK tries left:", &f->puk);
	snprintf(buf, sizeof(buf), "%s%s%s",
	    f->have_mgm ? cs_piv_alg_name(f->mgm.alg) : "unknown type",
	    f->have_mgm && f->mgm.known_default && f->mgm.is_default
	        ? ", factory default: change it"
	        : "",
	    f->prot_known && f->prot ? ", PIN-protected on the card" : "");
	kv("", "Management key:", buf);
}

static void
slot_text(const struct inspect *in, const struct slot_state *s)
{
	char b[3], name[32], buf[160];
	size_t i;

	printf("Slot %s (%s):\n", cli_slot_str(s->slot, b),
	    cli_slot_name(s->slot, name, sizeof(name)));
	if (s->have_meta) {
		snprintf(buf, sizeof(buf), "%s, %s, PIN %s, touch %s",
		    cs_piv_alg_name(s->meta.alg) != NULL
		        ? cs_piv_alg_name(s->meta.alg)
		        : "?",
		    cli_origin_str(s->meta.origin),
		    cli_pin_policy_str(s->meta.pin_policy),
		    cli_touch_policy_str(s->meta.touch_policy));
		kv("  ", "Key:", buf);
	} else
		kv("  ", "Key:", s->empty ? "none" : "unknown (no metadata)");
	if (!s->have_cert)
		kv("  ", "Certificate:", "none");
	else if (!s->cert_ok)
		kv("  ", "Certificate:", s->cert_err);
	else {
		kv("  ", "Subject:", s->ci.subject);
		kv("  ", "Issuer:", s->ci.issuer);
		certinfo_time(s->ci.not_before, buf, sizeof(buf));
		kv("  ", "Not before:", buf);
		certinfo_time(s->ci.not_after, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    " (%lld days left)",
		    (long long)((s->ci.not_after - (int64_t)in->now) / 86400));
		kv("  ", "Not after:", buf);
		certinfo_sha256(&s->ci, buf, sizeof(buf));
		kv("  ", "SHA-256:", buf);
		for (i = 0; i < s->ci.npolicies; i++)
			kv("  ", "Policy:", s->ci.policies[i]);
		kv("  ", "Matches slot key:",
		    s->key_matches < 0   ? "unknown"
		        : s->key_matches ? "yes"
		                         : "NO");
	}
	if (s->att_status != NULL) {
		snprintf(buf, sizeof(buf), "%s%s%s", s->att_status,
		    s->att_reason[0] != '\0' ? ": " : "", s->att_reason);
		kv("  ", "Attestation:", buf);
	}
}

/* --- driver --- */

static void
load_attest_inputs(struct inspect *in)
{
	struct cli *cli = in->cli;
	int saved = cli->json;

	if (in->o->no_attest || !cs_card_has(cli->card, CS_CAP_ATTEST))
		return;
	if (cs_piv_read_cert(cli->card, CS_PIV_SLOT_ATTEST, &in->f9,
	        &in->f9_len) != CS_OK) {
		in->f9 = NULL;
		cs_ctx_clear_error(cli->ctx);
	}
	/* A trust problem is reported per slot, not as the run's error. */
	cli->json = 0;
	cli->emitted = 1;
	if (cli_trust_load(cli, in->o->trust, &in->trust, &in->trust_src) !=
	    CLI_CONTINUE) {
		in->trust = NULL;
		snprintf(in->trust_err, sizeof(in->trust_err),
		    "trust store "
		    "could not be loaded");
	}
	cli->emitted = 0;
	cli->json = saved;
}

static int
run_inspect(struct inspect *in)
{
	static const uint8_t main_slots[] = { 0x9A, 0x9C, 0x9D, 0x9E };
	struct slot_state slots[4 + 20 + 1];
	struct card_facts f;
	json_t *doc = NULL, *arr = NULL;
	size_t n = 0, i;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	memset(slots, 0, sizeof(slots));
	for (i = 0; i < 4; i++)
		slots[n++].slot = main_slots[i];
	for (i = 0; i < 20; i++)
		slots[n++].slot = (uint8_t)(CS_PIV_SLOT_RETIRED1 + i);
	slots[n++].slot = CS_PIV_SLOT_ATTEST;
	if ((r = read_facts(in, &f)) != CS_OK) {
		code = cli_card_fail(in->cli, r, "inspect",
		    "card removed "
		    "during the operation");
		goto out;
	}
	load_attest_inputs(in);
	for (i = 0; i < n; i++) {
		read_key(in, &slots[i]);
		if ((r = read_cert(in, &slots[i])) != CS_OK) {
			code = cli_card_fail(in->cli, r, "inspect",
			    "card "
			    "removed during the operation");
			goto out;
		}
		if (slot_shown(&slots[i]))
			attest_slot(in, &slots[i]);
	}
	if (in->cli->json) {
		doc = out_doc_new();
		facts_json(doc, in, &f);
		if ((arr = json_array()) == NULL)
			exit(CLI_EXIT_FAIL);
		for (i = 0; i < n; i++)
			if (slot_shown(&slots[i]))
				out_append(arr, slot_json(in, &slots[i]));
		out_set(doc, "slots", arr);
		code = out_emit(in->cli, doc);
		goto out;
	}
	facts_text(&f);
	for (i = 0; i < n; i++)
		if (slot_shown(&slots[i]))
			slot_text(in, &slots[i]);
	code = CLI_EXIT_OK;
out:
	for (i = 0; i < n; i++)
		slot_release(&slots[i]);
	return code;
}

int
cmd_inspect(struct cli *cli, int argc, const char **argv)
{
	struct inspect_opts o;
	struct inspect in;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	struct poptOption opts[] = {
		{ "trust", '\0', POPT_ARG_STRING, &o.trust, 0,
		    "verify attestations against these roots (default: the "
		    "Yubico roots)",
		    "FILE" },
		{ "no-attest", '\0', POPT_ARG_NONE, &o.no_attest, 0,
		    "do not attest the slots (faster)", NULL },
		POPT_TABLEEND,
	};

	if ((r = cardops_parse(cli, argc, argv, opts, &inspect_usage)) ==
	    CLI_CONTINUE) {
		in.cli = cli;
		in.o = &o;
		in.now = time(NULL);
		r = run_inspect(&in);
	}
	cs_trust_free(in.trust);
	cs_free(in.f9);
	free(o.trust);
	return r;
}
