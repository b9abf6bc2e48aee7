/*
 * cs_enroll_card: one card through its whole enrollment as one recorded
 * transaction (include/cardsmith/enroll.h). The registry learns each step
 * (store_enroll.c) before the card changes, so a run that stops anywhere
 * is continued by the next one: card secrets are never changed twice, a
 * slot's key is looked up in the registry before it is certified, and a
 * card that contradicts its record is refused with the way out.
 *
 * The order is fixed by what each step undoes: SET PIN RETRIES puts PIN
 * and PUK back to their defaults, so it comes before both; the new
 * management key is stored behind the PIN, so it comes after the PIN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "cardsmith/attest.h"
#include "cardsmith/csr.h"
#include "cardsmith/enroll.h"
#include "cardsmith/piv.h"
#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

#define DEFAULT_PIN "123456"
#define DEFAULT_PUK "12345678"
#define PUK_DIGITS 8
/* Wrong tries a counter can take before it blocks (YubiKey: 1..255). */
#define BLOCK_TRIES_MAX 256
/* RFC 5280 5.3.1 CRLReason superseded. */
#define REASON_SUPERSEDED 4
/* Card steps: identify, reset, retries, PIN, PUK, management key, check. */
#define CARD_STEPS 7
#define SLOT_STEPS 6

struct run {
	struct cs_ctx *ctx;
	struct cs_ca *ca;
	struct cs_card *card;
	const struct cs_enroll_req *req;
	struct cs_enroll_result *res;
	struct cs_card_info info;
	struct cs_ca_profile *prof[CS_PROFILESET_SLOTS_MAX];
	struct cs_enroll_record rec;
	struct cs_enroll_slot_record srec[CS_PROFILESET_SLOTS_MAX];
	size_t nsrec;
	int step, nsteps;
	bool meta; /* the card has GET METADATA */
	bool pin_new; /* the new PIN verified: the PIN step is behind us */
};

static void
progress(struct run *run, const char *name)
{
	run->step++;
	if (run->req->progress != NULL)
		run->req->progress(run->req->progress_arg, run->step,
		    run->nsteps, name);
}

static void
slot_progress(struct run *run, uint8_t slot, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "%02x: %s", (unsigned int)slot, what);
	progress(run, name);
}

static const char *
cur_pin(const struct run *run, size_t *len)
{
	if (run->req->pin != NULL) {
		*len = run->req->pin_len;
		return run->req->pin;
	}
	*len = strlen(DEFAULT_PIN);
	return DEFAULT_PIN;
}

/* --- identification: refuse an unsuitable card before it changes --- */

static bool
alg_rsa(uint8_t alg)
{
	return alg == CS_PIV_ALG_RSA1024 || alg == CS_PIV_ALG_RSA2048 ||
	    alg == CS_PIV_ALG_RSA3072 || alg == CS_PIV_ALG_RSA4096;
}

/*
 * The firmware rules (fwrule.c) on the version the card reports before
 * any key exists (assurance.c applies them again to the attested version
 * at issuance): a deny refuses the card now, instead of after a key was
 * generated that no profile would certify.
 */
static enum cs_err
firmware_check(struct run *run, const struct cs_profileset_slot *ps,
    const struct cs_ca_profile_info *pi)
{
	const uint8_t *f = run->info.firmware;
	struct csa_fw_advisory adv[4];
	bool rsa = alg_rsa(ps->alg);
	size_t i, n;

	if (!run->info.yubikey)
		return CS_OK;
	n = csa_fw_advisories(f, rsa, !rsa, pi, adv, 4);
	for (i = 0; i < n && i < 4; i++)
		if (adv[i].action == CS_CA_FW_DENY)
			return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
			    "the card's firmware %u.%u.%u %s; profile %s "
			    "(slot %02x) denies it: refused before any key "
			    "was generated",
			    f[0], f[1], f[2], adv[i].text, pi->name,
			    (unsigned int)ps->slot);
	return CS_OK;
}

static enum cs_err
check_slot_profile(struct run *run, size_t i)
{
	const struct cs_profileset_slot *ps = &run->req->set->slots[i];
	struct cs_ca_profile_info pi;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_ca_profile_load(run->ca, ps->profile, &run->prof[i])) !=
	    CS_OK)
		return r;
	cs_ca_profile_get_info(run->prof[i], &pi);
	if (pi.slots != 0 && ps->slot >= 0x80 && ps->slot < 0x80 + 32 &&
	    (pi.slots & ((uint32_t)1 << (ps->slot - 0x80))) == 0)
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "profile set %s: profile %s does not allow slot %02x",
		    run->req->set->name, pi.name, (unsigned int)ps->slot);
	if (pi.level >= CS_CA_LEVEL_HW_ATTESTED && !run->res->attestation)
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "the card offers no attestation, but profile %s (slot "
		    "%02x) requires %s: refused before anything was changed "
		    "(a profile set whose profiles accept hardware-enrolled "
		    "can enroll it)",
		    pi.name, (unsigned int)ps->slot,
		    cs_ca_level_name(pi.level));
	return firmware_check(run, ps, &pi);
}

/*
 * ATTEST exists by firmware version (4.3+), but only a card that holds
 * its device certificate (F9) can be verified: reading it changes
 * nothing, while an ATTEST on an empty slot would be a wasted error.
 */
static bool
can_attest(struct run *run, uint64_t *f9_serial)
{
	uint8_t *der = NULL;
	size_t len = 0;
	bool ok;

	*f9_serial = 0;
	if (!cs_card_has(run->card, CS_CAP_ATTEST))
		return false;
	ok = cs_piv_read_cert(run->card, CS_PIV_SLOT_ATTEST, &der, &len) ==
	    CS_OK;
	/* YubiKey 4 may not answer GET SERIAL; its F9 names the serial. */
	if (ok && !csa_f9_serial(der, len, f9_serial))
		*f9_serial = 0;
	cs_free(der);
	cs_ctx_clear_error(run->ctx);
	return ok;
}

static enum cs_err
identify(struct run *run)
{
	const struct cs_enroll_req *req = run->req;
	uint64_t f9_serial = 0;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	progress(run, "identify card");
	cs_card_get_info(run->card, &run->info);
	run->meta = cs_card_has(run->card, CS_CAP_METADATA);
	run->res->attestation = can_attest(run, &f9_serial);
	memcpy(run->res->firmware, run->info.firmware, 3);
	run->res->form_factor = run->info.form_factor;
	if (run->info.has_serial)
		run->res->card_serial = run->info.serial;
	else
		run->res->card_serial = f9_serial;
	if (req->new_pin == NULL || req->new_pin_len < 6 ||
	    req->new_pin_len > 8)
		return cs_ctx_fail(run->ctx, CS_ERR_ARG,
		    "the new PIN must have 6 to 8 characters");
	if (req->new_pin_len == strlen(DEFAULT_PIN) &&
	    cs_memeq_secret(req->new_pin, DEFAULT_PIN, req->new_pin_len))
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "the new PIN is the factory default: choose another");
	if (req->puk != NULL &&
	    (req->puk_len < 6 || req->puk_len > 8 ||
	        (req->puk_len == strlen(DEFAULT_PUK) &&
	            cs_memeq_secret(req->puk, DEFAULT_PUK, req->puk_len))))
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "the new PUK must have 6 to 8 characters and not be the "
		    "factory default");
	if (req->puk == NULL && req->secret == NULL)
		return cs_ctx_fail(run->ctx, CS_ERR_ARG,
		    "a random PUK needs somewhere to go (no secret callback)");
	for (i = 0; i < req->set->nslots; i++)
		if ((r = check_slot_profile(run, i)) != CS_OK)
			return r;
	if (run->res->card_serial == 0)
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "the card reports no serial number: the registry records "
		    "enrollments by it");
	return CS_OK;
}

/* --- the registry record: new, resumed, done or contradicted --- */

/* Serial (hex) of the certificate in slot; "" if none or unreadable. */
static void
card_cert_serial(struct run *run, uint8_t slot, char *dst, size_t cap)
{
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *x = NULL;

	dst[0] = '\0';
	if (cs_piv_read_cert(run->card, slot, &der, &len) == CS_OK &&
	    cs_x509_cert_decode(NULL, der, len, 0, &x) == CS_OK)
		csa_serial_hex(X509_get0_serialNumber(x), dst, cap);
	X509_free(x);
	cs_free(der);
	ERR_clear_error();
	cs_ctx_clear_error(run->ctx);
}

/* Does the key in slot hash to want? Unknown (no metadata): true. */
static bool
card_key_is(struct run *run, uint8_t slot, const char *want)
{
	struct cs_piv_key_meta km;
	uint8_t *spki = NULL;
	size_t len = 0;
	char hex[65];
	bool same = false;

	if (!run->meta)
		return true;
	if (cs_piv_key_metadata(run->card, slot, &km, &spki, &len) == CS_OK &&
	    cs_enroll_key_hash(run->ctx, spki, len, hex) == CS_OK)
		same = strcmp(hex, want) == 0;
	cs_free(spki);
	cs_ctx_clear_error(run->ctx);
	return same;
}

static enum cs_err
contradicted(struct run *run, const char *what)
{
	run->res->record = run->rec.id;
	run->res->mismatch = true;
	return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
	    "card %llu: the registry's enrollment (record %lld, %s) does not "
	    "match the card: %s; it was reset or changed outside cardsmith. "
	    "Enroll it again with --re-enroll (revokes the recorded "
	    "certificates as superseded and enrolls afresh), or revoke them "
	    "with 'cardsmith ca revoke --card %llu --reason superseded'",
	    (unsigned long long)run->res->card_serial,
	    (long long)run->rec.id, cs_enroll_state_name(run->rec.state),
	    what, (unsigned long long)run->res->card_serial);
}

/* Is the PIN (or PUK) still the factory value, by metadata? */
static bool
ref_default(struct run *run, uint8_t ref, bool *known)
{
	struct cs_piv_retries rt;

	*known = false;
	if (!run->meta || cs_piv_get_retries(run->card, ref, &rt) != CS_OK) {
		cs_ctx_clear_error(run->ctx);
		return false;
	}
	*known = rt.known_default;
	return rt.known_default && rt.is_default;
}

/* Do the card's slots still hold what the record says? */
static enum cs_err
check_record(struct run *run, bool done)
{
	const struct cs_enroll_slot_record *s;
	char serial[CS_CA_SERIAL_MAX], what[160];
	bool known;
	size_t i;

	if (run->rec.state > CS_ENROLL_ST_PIN &&
	    ref_default(run, CS_PIV_REF_PIN, &known))
		return contradicted(run,
		    "its PIN is the factory default again");
	for (i = 0; i < run->nsrec; i++) {
		s = &run->srec[i];
		if (done || s->state == CS_ENROLL_SLOT_DONE) {
			card_cert_serial(run, s->slot, serial, sizeof(serial));
			if (strcmp(serial, s->cert_serial) != 0) {
				snprintf(what, sizeof(what),
				    "slot %02x holds %s%s, not certificate %s",
				    (unsigned int)s->slot,
				    serial[0] != '\0' ? "certificate "
				                      : "no certificate",
				    serial, s->cert_serial);
				return contradicted(run, what);
			}
		}
		if (s->state >= CS_ENROLL_SLOT_GENERATED &&
		    s->key_sha256[0] != '\0' &&
		    !card_key_is(run, s->slot, s->key_sha256)) {
			snprintf(what, sizeof(what),
			    "slot %02x no longer holds the key recorded",
			    (unsigned int)s->slot);
			return contradicted(run, what);
		}
	}
	return CS_OK;
}

/* Revoke the record's certificates (superseded) and close it. */
static enum cs_err
supersede(struct run *run)
{
	size_t i, n;
	enum cs_err r = CS_ERR_INTERNAL;

	for (i = 0; i < run->nsrec; i++) {
		if (run->srec[i].cert_serial[0] == '\0')
			continue;
		n = 0;
		r = cs_ca_revoke(run->ca, run->srec[i].cert_serial, 0,
		    REASON_SUPERSEDED, 0, &n);
		if (r != CS_OK && r != CS_ERR_NOT_FOUND)
			return r;
		run->res->revoked += n;
	}
	cs_ctx_clear_error(run->ctx);
	return cs_enroll_state_supersede(run->ca, run->res->card_serial);
}

static enum cs_err
begin_record(struct run *run)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_enroll_state_begin(run->ca, run->res->card_serial,
	         run->req->set, run->req->subject, NULL)) != CS_OK)
		return r;
	return cs_enroll_state_get(run->ca, run->res->card_serial, &run->rec,
	    run->srec, CS_PROFILESET_SLOTS_MAX, &run->nsrec);
}

static enum cs_err
load_record(struct run *run)
{
	const unsigned int fresh = CS_ENROLL_RESET | CS_ENROLL_RE_ENROLL;
	enum cs_err r = CS_ERR_INTERNAL;

	r = cs_enroll_state_get(run->ca, run->res->card_serial, &run->rec,
	    run->srec, CS_PROFILESET_SLOTS_MAX, &run->nsrec);
	if (r == CS_ERR_NOT_FOUND) {
		cs_ctx_clear_error(run->ctx);
		return begin_record(run);
	}
	if (r != CS_OK)
		return r;
	if (run->req->flags & fresh) {
		if ((r = supersede(run)) != CS_OK)
			return r;
		return begin_record(run);
	}
	if (strcmp(run->rec.profile_set, run->req->set->name) != 0)
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "card %llu is enrolled with profile set %s (record %lld), "
		    "not %s: give --profile-set %s to continue it, or "
		    "--re-enroll to replace it",
		    (unsigned long long)run->res->card_serial,
		    run->rec.profile_set, (long long)run->rec.id,
		    run->req->set->name, run->rec.profile_set);
	if (run->rec.state == CS_ENROLL_ST_RESETTING)
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "card %llu: a reset was started (record %lld) and may not "
		    "have finished: run enroll again with --reset",
		    (unsigned long long)run->res->card_serial,
		    (long long)run->rec.id);
	if ((r = check_record(run, run->rec.state == CS_ENROLL_ST_DONE)) !=
	    CS_OK)
		return r;
	if (run->rec.state == CS_ENROLL_ST_DONE)
		run->res->already = true;
	else
		run->res->resumed = true;
	return CS_OK;
}

/* --- card secrets --- */

static enum cs_err
verify_pin(struct run *run, const char *pin, size_t len)
{
	enum cs_err r = CS_ERR_INTERNAL;
	int tries = -1;

	if ((r = cs_piv_verify_pin(run->card, pin, len, &tries)) != CS_OK)
		return r;
	return cs_card_set_pin(run->card, pin, len);
}

/*
 * The PIN in force: the new one once the PIN step is done; while it is
 * in doubt (a run stopped inside it), what metadata says, else the old
 * one and then the new one.
 */
static enum cs_err
verify_current(struct run *run)
{
	const struct cs_enroll_req *req = run->req;
	enum cs_enroll_state st = run->rec.state;
	const char *pin;
	size_t len;
	bool known = false, def;
	enum cs_err r = CS_ERR_INTERNAL;

	run->pin_new = true;
	if (st > CS_ENROLL_ST_PIN)
		return verify_pin(run, req->new_pin, req->new_pin_len);
	pin = cur_pin(run, &len);
	if (st == CS_ENROLL_ST_PIN) {
		def = ref_default(run, CS_PIV_REF_PIN, &known);
		if (known && !def)
			return verify_pin(run, req->new_pin, req->new_pin_len);
		if (!known) {
			run->pin_new = false;
			r = verify_pin(run, pin, len);
			if (r != CS_ERR_AUTH)
				return r;
			cs_ctx_clear_error(run->ctx);
			run->pin_new = true;
			return verify_pin(run, req->new_pin, req->new_pin_len);
		}
	}
	run->pin_new = false;
	return verify_pin(run, pin, len);
}

static enum cs_err
mgm_auth(struct run *run)
{
	const uint8_t *def;
	bool prot = false;
	size_t len;
	enum cs_err r = CS_ERR_INTERNAL;

	if (run->req->mgm_key != NULL)
		return cs_piv_authenticate(run->card, 0, run->req->mgm_key,
		    run->req->mgm_key_len);
	if (cs_card_has(run->card, CS_CAP_PROTECTED_MGM) &&
	    (r = cs_piv_mgm_is_protected(run->card, &prot)) != CS_OK)
		return r;
	if (prot) {
		r = cs_piv_authenticate_protected(run->card);
		if (r == CS_OK)
			return CS_OK;
		if (r != CS_ERR_AUTH && r != CS_ERR_ARG)
			return r;
		/* Flagged before the card changed: the default may rule. */
		cs_ctx_clear_error(run->ctx);
	}
	def = cs_piv_default_mgm_key(&len);
	r = cs_piv_authenticate(run->card, 0, def, len);
	if (r == CS_ERR_AUTH || r == CS_ERR_ARG)
		return cs_ctx_fail(run->ctx, CS_ERR_AUTH,
		    "the card's management key is neither the factory default "
		    "nor PIN-protected: give it (--mgmt-key-env/-fd/-file) or "
		    "reset the card (--reset)");
	return r;
}

/* Two values that cannot both be right (cmd_reset.c does the same). */
static const char *const dummies[] = { "\x01\x02\x03\x04\x05\x06\x07\x08",
	"\x08\x07\x06\x05\x04\x03\x02\x01" };

static enum cs_err
block_ref(struct run *run, uint8_t ref)
{
	enum cs_err r = CS_ERR_INTERNAL;
	int i, tries = -1, d = 0;

	for (i = 0; i < BLOCK_TRIES_MAX; i++) {
		if (ref == CS_PIV_REF_PIN)
			r = cs_piv_verify_pin(run->card, dummies[d], 8, &tries);
		else
			r = cs_piv_change_ref(run->card, ref, dummies[d], 8,
			    dummies[d], 8, &tries);
		if (r == CS_ERR_BLOCKED || (r == CS_ERR_AUTH && tries == 0)) {
			cs_ctx_clear_error(run->ctx);
			return CS_OK;
		}
		if (r == CS_OK)
			d = 1 - d;
		else if (r != CS_ERR_AUTH)
			return r;
	}
	return cs_ctx_fail(run->ctx, CS_ERR_INTERNAL, "counter never blocked");
}

static enum cs_err
reset_card(struct run *run)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if (!(run->req->flags & CS_ENROLL_RESET))
		return CS_OK; /* not a step of this run (nsteps) */
	progress(run, "reset PIV application");
	if (!cs_card_has(run->card, CS_CAP_RESET))
		return cs_ctx_fail(run->ctx, CS_ERR_UNSUPPORTED,
		    "this card has no PIV reset (only YubiKeys do); nothing "
		    "was changed");
	if ((r = cs_enroll_state_set(run->ca, run->rec.id,
	         CS_ENROLL_ST_RESETTING)) != CS_OK ||
	    (r = block_ref(run, CS_PIV_REF_PIN)) != CS_OK ||
	    (r = block_ref(run, CS_PIV_REF_PUK)) != CS_OK ||
	    (r = cs_piv_reset(run->card)) != CS_OK)
		return r;
	/* Factory state: the run continues as on a blank card. */
	if ((r = cs_enroll_state_set(run->ca, run->rec.id,
	         CS_ENROLL_ST_STARTED)) != CS_OK)
		return r;
	run->rec.state = CS_ENROLL_ST_STARTED;
	run->meta = cs_card_has(run->card, CS_CAP_METADATA);
	return CS_OK;
}

static enum cs_err
set_state(struct run *run, enum cs_enroll_state st)
{
	enum cs_err r = cs_enroll_state_set(run->ca, run->rec.id, st);

	if (r == CS_OK)
		run->rec.state = st;
	return r;
}

static enum cs_err
set_retries(struct run *run)
{
	const struct cs_enroll_req *req = run->req;
	enum cs_err r = CS_ERR_INTERNAL;

	if (req->pin_tries == 0 && req->puk_tries == 0)
		return CS_OK; /* not a step of this run (nsteps) */
	progress(run, "set retry counts");
	if (run->rec.state > CS_ENROLL_ST_RETRIES)
		return CS_OK;
	if ((r = set_state(run, CS_ENROLL_ST_RETRIES)) != CS_OK ||
	    (r = cs_piv_set_retries(run->card,
	         req->pin_tries != 0 ? req->pin_tries : 3,
	         req->puk_tries != 0 ? req->puk_tries : 3)) != CS_OK)
		return r;
	/* Both are the factory values again; the session lost the PIN. */
	return verify_pin(run, DEFAULT_PIN, strlen(DEFAULT_PIN));
}

static enum cs_err
set_pin(struct run *run)
{
	const struct cs_enroll_req *req = run->req;
	const char *old;
	size_t len;
	int tries = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	progress(run, "set PIN");
	if (run->rec.state > CS_ENROLL_ST_PIN)
		return CS_OK;
	/* Stopped right after the card took it (verify_current found out). */
	if (run->rec.state == CS_ENROLL_ST_PIN && run->pin_new)
		return set_state(run, CS_ENROLL_ST_PUK);
	old = cur_pin(run, &len);
	if (run->rec.state == CS_ENROLL_ST_RETRIES ||
	    req->pin_tries != 0 || req->puk_tries != 0) {
		old = DEFAULT_PIN;
		len = strlen(DEFAULT_PIN);
	}
	if ((r = set_state(run, CS_ENROLL_ST_PIN)) != CS_OK ||
	    (r = cs_piv_change_ref(run->card, CS_PIV_REF_PIN, old, len,
	         req->new_pin, req->new_pin_len, &tries)) != CS_OK ||
	    (r = verify_pin(run, req->new_pin, req->new_pin_len)) != CS_OK)
		return r;
	return set_state(run, CS_ENROLL_ST_PUK);
}

enum cs_err
cs_enroll_random_digits(struct cs_ctx *ctx, char *d, size_t n)
{
	unsigned char b;
	size_t i = 0;

	while (i < n) {
		if (RAND_priv_bytes(&b, 1) != 1)
			return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO,
			    "random digits");
		/* rejection sampling: 250 = 25 * 10, so no digit is favoured */
		if (b < 250)
			d[i++] = (char)('0' + b % 10);
	}
	d[n] = '\0';
	cs_wipe(&b, sizeof(b));
	return CS_OK;
}

/* PUK_DIGITS random decimal digits, never the factory PUK. */
static enum cs_err
random_puk(struct run *run, char *puk)
{
	enum cs_err r;

	if ((r = cs_enroll_random_digits(run->ctx, puk, PUK_DIGITS)) != CS_OK)
		return r;
	if (strcmp(puk, DEFAULT_PUK) == 0)
		return random_puk(run, puk);
	return CS_OK;
}

static enum cs_err
set_puk(struct run *run)
{
	const struct cs_enroll_req *req = run->req;
	char puk[PUK_DIGITS + 1];
	const char *newp = req->puk;
	size_t len = req->puk_len;
	bool known;
	int tries = -1;
	enum cs_err r = CS_ERR_INTERNAL;

	progress(run, "set PUK");
	memset(puk, 0, sizeof(puk));
	if (run->rec.state > CS_ENROLL_ST_PUK)
		return CS_OK;
	/* Stopped after the PUK changed: it was handed out already. */
	if (run->rec.state == CS_ENROLL_ST_PUK &&
	    !ref_default(run, CS_PIV_REF_PUK, &known) && known) {
		r = set_state(run, CS_ENROLL_ST_MGM);
		goto out;
	}
	if (newp == NULL) {
		if ((r = random_puk(run, puk)) != CS_OK)
			goto out;
		newp = puk;
		len = PUK_DIGITS;
		/* Kept before the card has it: never a PUK nobody knows. */
		if ((r = req->secret(req->secret_arg, "PUK", puk, len)) !=
		    CS_OK)
			goto out;
	}
	if ((r = cs_piv_change_ref(run->card, CS_PIV_REF_PUK, DEFAULT_PUK,
	         strlen(DEFAULT_PUK), newp, len, &tries)) != CS_OK) {
		if (r == CS_ERR_AUTH)
			r = cs_ctx_fail(run->ctx, CS_ERR_AUTH,
			    "the card's PUK is not the factory default (%d "
			    "tries left): enroll it with --reset",
			    tries);
		goto out;
	}
	r = set_state(run, CS_ENROLL_ST_MGM);
out:
	cs_wipe(puk, sizeof(puk));
	return r;
}

static enum cs_err
set_mgm(struct run *run)
{
	uint8_t key[24], alg;
	enum cs_err r = CS_ERR_INTERNAL;

	progress(run, "set management key");
	if (run->rec.state > CS_ENROLL_ST_MGM)
		return CS_OK;
	/* AES-192 where the card has AES (ykman's choice), else 3DES. */
	alg = cs_card_has(run->card, CS_CAP_AES_MGM) ? CS_PIV_ALG_AES192
	                                             : CS_PIV_ALG_3DES;
	if (RAND_priv_bytes(key, sizeof(key)) != 1) {
		r = cs_ctx_fail_crypto(run->ctx, CS_ERR_CRYPTO,
		    "random management key");
		goto out;
	}
	/*
	 * PIN-protected on the card (admin data 5FFF00, 5FC109), so that no
	 * list of management keys exists anywhere; lib/piv_mgm.c stores the
	 * new key there before the card changes.
	 */
	if ((r = cs_piv_set_mgm_key(run->card, alg, key, sizeof(key),
	         CS_PIV_MGM_PROTECT)) != CS_OK)
		goto out;
	r = set_state(run, CS_ENROLL_ST_SLOTS);
out:
	cs_wipe(key, sizeof(key));
	return r;
}

/* --- slots --- */

struct slot_work {
	const struct cs_profileset_slot *ps;
	const struct cs_ca_profile *prof;
	struct cs_enroll_slot_record *sr;
	uint8_t *spki, *stmt, *f9, *csr, *cert;
	size_t spki_len, stmt_len, f9_len, csr_len, cert_len;
	char hash[65];
	char serial[CS_CA_SERIAL_MAX];
	char notes[CS_CA_REASON_MAX]; /* the issuance's warnings, dropped fields */
	bool reused;
};

/* "; "-join text onto notes, cut to its size (a note is for people). */
static void
note_add(char *notes, size_t cap, const char *text)
{
	size_t n = strlen(notes);

	if (text[0] == '\0' || n + 1 >= cap)
		return;
	snprintf(notes + n, cap - n, "%s%s", n > 0 ? "; " : "", text);
}

/* What the CA said about a certificate besides issuing it. */
static void
issue_notes(struct slot_work *w, const struct cs_ca_issue_res *res,
    const char *email)
{
	/* room for a whole entry; note_add cuts what does not fit */
	char line[sizeof(res->dropped->field) + sizeof(res->dropped->value) +
	    sizeof(res->dropped->reason) + 32];
	size_t i;

	note_add(w->notes, sizeof(w->notes), res->decision.warnings);
	for (i = 0; i < res->ndropped; i++) {
		/*
		 * enroll puts --email in the CSR and in %{email}: the CA
		 * taking the second instead of the first loses nothing.
		 */
		if (email != NULL &&
		    strcmp(res->dropped[i].field, "san.email") == 0 &&
		    strcmp(res->dropped[i].value, email) == 0 &&
		    strncmp(res->dropped[i].reason, "--var email ", 12) == 0)
			continue;
		snprintf(line, sizeof(line), "%s '%s' not taken: %s",
		    res->dropped[i].field, res->dropped[i].value,
		    res->dropped[i].reason);
		note_add(w->notes, sizeof(w->notes), line);
	}
	if (res->dropped_more > 0) {
		snprintf(line, sizeof(line), "%zu more fields not taken",
		    res->dropped_more);
		note_add(w->notes, sizeof(w->notes), line);
	}
}

static void
work_release(struct slot_work *w)
{
	cs_free(w->spki);
	cs_free(w->stmt);
	cs_free(w->f9);
	cs_free(w->csr);
	cs_free(w->cert);
}

static enum cs_err
slot_set(struct run *run, struct slot_work *w, enum cs_enroll_slot_state st,
    const char *hash, const char *serial)
{
	enum cs_err r = cs_enroll_slot_set(run->ca, run->rec.id, w->ps->slot,
	    st, hash, serial);

	if (r == CS_OK)
		w->sr->state = st;
	return r;
}

static enum cs_err
generate(struct run *run, struct slot_work *w)
{
	struct cs_piv_keygen kg;
	struct cs_piv_key_meta km;
	enum cs_err r = CS_ERR_INTERNAL;

	slot_progress(run, w->ps->slot, "generate key");
	/* Resumed after the key was made: the card still has it (checked). */
	if (w->sr->state >= CS_ENROLL_SLOT_GENERATED && run->meta &&
	    w->sr->key_sha256[0] != '\0') {
		if ((r = cs_piv_key_metadata(run->card, w->ps->slot, &km,
		         &w->spki, &w->spki_len)) != CS_OK)
			return r;
		snprintf(w->hash, sizeof(w->hash), "%s", w->sr->key_sha256);
		return CS_OK;
	}
	memset(&kg, 0, sizeof(kg));
	kg.slot = w->ps->slot;
	kg.alg = w->ps->alg;
	kg.pin_policy = w->ps->pin_policy;
	kg.touch_policy = w->ps->touch_policy;
	if ((r = slot_set(run, w, CS_ENROLL_SLOT_GENERATING, NULL, NULL)) !=
	        CS_OK ||
	    (r = cs_piv_generate(run->card, &kg, &w->spki, &w->spki_len)) !=
	        CS_OK ||
	    (r = cs_enroll_key_hash(run->ctx, w->spki, w->spki_len,
	         w->hash)) != CS_OK)
		return r;
	return slot_set(run, w, CS_ENROLL_SLOT_GENERATED, w->hash, NULL);
}

static enum cs_err
attest(struct run *run, struct slot_work *w)
{
	enum cs_err r = CS_ERR_INTERNAL;

	slot_progress(run, w->ps->slot, "attest");
	if (!run->res->attestation)
		return CS_OK;
	if ((r = cs_piv_attest(run->card, w->ps->slot, &w->stmt,
	         &w->stmt_len)) != CS_OK ||
	    (r = cs_piv_read_cert(run->card, CS_PIV_SLOT_ATTEST, &w->f9,
	         &w->f9_len)) != CS_OK)
		return r;
	/* The card vouches for this very key, or nothing is sent on. */
	return cs_attest_match_key(run->ctx, w->stmt, w->stmt_len, w->spki,
	    w->spki_len);
}

static enum cs_err
request(struct run *run, struct slot_work *w)
{
	struct cs_csr_req cr;
	char san[300];
	const char *sans[2] = { NULL, NULL };

	slot_progress(run, w->ps->slot, "certificate request");
	memset(&cr, 0, sizeof(cr));
	if (run->req->email != NULL) {
		snprintf(san, sizeof(san), "email:%s", run->req->email);
		sans[0] = san;
		cr.sans = sans;
	}
	cr.subject = run->req->subject;
	cr.spki = w->spki;
	cr.spki_len = w->spki_len;
	/* Signed on the card, the attestation and F9 embedded (.3.1/.3.2). */
	cr.flags = run->res->attestation ? CS_CSR_ATTEST : 0;
	return cs_csr_build(run->card, w->ps->slot, &cr, &w->csr, &w->csr_len);
}

static enum cs_err
issue(struct run *run, struct slot_work *w)
{
	struct cs_ca_issue_req ir;
	struct cs_ca_issue_res res;
	char email[300];
	const char *vars[2] = { NULL, NULL };
	enum cs_err r = CS_ERR_INTERNAL;

	slot_progress(run, w->ps->slot, "issue certificate");
	/* Never twice for one key: a crash after the commit left it there. */
	r = cs_enroll_find_cert(run->ca, w->hash, w->serial, sizeof(w->serial));
	if (r == CS_OK) {
		w->reused = true;
		return slot_set(run, w, CS_ENROLL_SLOT_ISSUED, NULL, w->serial);
	}
	if (r != CS_ERR_NOT_FOUND)
		return r;
	cs_ctx_clear_error(run->ctx);
	memset(&ir, 0, sizeof(ir));
	ir.profile = w->prof;
	ir.csr = w->csr;
	ir.csr_len = w->csr_len;
	ir.stmt = w->stmt;
	ir.stmt_len = w->stmt_len;
	ir.f9 = w->f9;
	ir.f9_len = w->f9_len;
	/* This station generated it: hardware-enrolled without attestation. */
	ir.enrolled_spki = w->spki;
	ir.enrolled_spki_len = w->spki_len;
	ir.flags = CS_CA_ISSUE_ENROLLED;
	ir.slot = w->ps->slot;
	ir.expected_card_serial = run->res->card_serial;
	if (run->req->email != NULL) {
		snprintf(email, sizeof(email), "email=%s", run->req->email);
		vars[0] = email;
		ir.vars = vars;
	}
	if ((r = cs_ca_issue(run->ca, &ir, &res)) != CS_OK)
		return r;
	snprintf(w->serial, sizeof(w->serial), "%s", res.serial);
	issue_notes(w, &res, run->req->email);
	cs_ca_issue_res_release(&res);
	return slot_set(run, w, CS_ENROLL_SLOT_ISSUED, NULL, w->serial);
}

static enum cs_err
import(struct run *run, struct slot_work *w)
{
	struct cs_ca_cert_info ci;
	enum cs_err r = CS_ERR_INTERNAL;

	slot_progress(run, w->ps->slot, "import certificate");
	if ((r = cs_ca_show(run->ca, w->serial, &ci, &w->cert,
	         &w->cert_len)) != CS_OK)
		return r;
	if (w->cert == NULL)
		return cs_ctx_fail(run->ctx, CS_ERR_STORE,
		    "registry: certificate %s holds no DER", w->serial);
	if ((r = slot_set(run, w, CS_ENROLL_SLOT_IMPORTING, NULL, NULL)) !=
	        CS_OK ||
	    (r = cs_piv_write_cert(run->card, w->ps->slot, w->cert,
	         w->cert_len, 0)) != CS_OK)
		return r;
	r = cs_ca_mark_delivered(run->ca, w->serial);
	if (r == CS_ERR_NOT_FOUND) /* delivered by an earlier run */
		r = CS_OK;
	cs_ctx_clear_error(run->ctx);
	return r;
}

/* Hex key hash of a DER certificate's public key. */
static enum cs_err
cert_key_hash(struct run *run, const uint8_t *der, size_t len, char hex[65])
{
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_x509_cert_decode(run->ctx, der, len, 0, &x)) != CS_OK)
		return r;
	r = csa_key_hash(X509_get0_pubkey(x), hex)
	    ? CS_OK
	    : cs_ctx_fail(run->ctx, CS_ERR_MALFORMED,
	          "certificate key cannot be encoded");
	X509_free(x);
	ERR_clear_error();
	return r;
}

static enum cs_err
read_back(struct run *run, struct slot_work *w)
{
	uint8_t *der = NULL;
	size_t len = 0;
	char hex[65];
	enum cs_err r = CS_ERR_INTERNAL;

	slot_progress(run, w->ps->slot, "check card");
	if ((r = cs_piv_read_cert(run->card, w->ps->slot, &der, &len)) !=
	    CS_OK)
		goto out;
	if (len != w->cert_len || !cs_memeq_public(der, w->cert, len)) {
		r = cs_ctx_fail(run->ctx, CS_ERR_VERIFY,
		    "slot %02x: the card returns another certificate than "
		    "%s",
		    (unsigned int)w->ps->slot, w->serial);
		goto out;
	}
	if ((r = cert_key_hash(run, der, len, hex)) != CS_OK)
		goto out;
	if (strcmp(hex, w->hash) != 0 ||
	    !card_key_is(run, w->ps->slot, hex)) {
		r = cs_ctx_fail(run->ctx, CS_ERR_VERIFY,
		    "slot %02x: certificate %s does not certify the card's key",
		    (unsigned int)w->ps->slot, w->serial);
		goto out;
	}
	r = slot_set(run, w, CS_ENROLL_SLOT_DONE, NULL, NULL);
out:
	cs_free(der);
	return r;
}

/* The receipt line of a slot, from the registry row. */
static enum cs_err
receipt(struct run *run, const struct cs_profileset_slot *ps,
    const char *serial, bool reused, const char *notes)
{
	struct cs_enroll_slot_result *o = &run->res->slots[run->res->nslots];
	struct cs_ca_cert_info ci;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_ca_show(run->ca, serial, &ci, NULL, NULL)) != CS_OK)
		return r;
	memset(o, 0, sizeof(*o));
	o->slot = ps->slot;
	snprintf(o->profile, sizeof(o->profile), "%s", ps->profile);
	snprintf(o->serial, sizeof(o->serial), "%s", ci.serial);
	o->level = ci.level;
	snprintf(o->sublevel, sizeof(o->sublevel), "%s", ci.sublevel);
	o->not_after = ci.not_after;
	o->reused = reused;
	snprintf(o->notes, sizeof(o->notes), "%s", notes);
	run->res->nslots++;
	return CS_OK;
}

static struct cs_enroll_slot_record *
slot_record(struct run *run, uint8_t slot)
{
	size_t i;

	for (i = 0; i < run->nsrec; i++)
		if (run->srec[i].slot == slot)
			return &run->srec[i];
	return NULL;
}

static enum cs_err
enroll_slot(struct run *run, size_t i)
{
	struct slot_work w;
	int k;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&w, 0, sizeof(w));
	w.ps = &run->req->set->slots[i];
	w.prof = run->prof[i];
	if ((w.sr = slot_record(run, w.ps->slot)) == NULL)
		return cs_ctx_fail(run->ctx, CS_ERR_STORE,
		    "registry: enrollment %lld has no slot %02x",
		    (long long)run->rec.id, (unsigned int)w.ps->slot);
	if (w.sr->state == CS_ENROLL_SLOT_DONE) {
		for (k = 0; k < SLOT_STEPS; k++)
			slot_progress(run, w.ps->slot, "done earlier");
		return receipt(run, w.ps, w.sr->cert_serial, true, "");
	}
	if (w.sr->state >= CS_ENROLL_SLOT_ISSUED &&
	    w.sr->cert_serial[0] != '\0') {
		/*
		 * Certified by the run that stopped: only import is left,
		 * for the key recorded (check_record saw it on the card).
		 */
		slot_progress(run, w.ps->slot, "generate key (done earlier)");
		snprintf(w.hash, sizeof(w.hash), "%s", w.sr->key_sha256);
		slot_progress(run, w.ps->slot, "attest (done earlier)");
		slot_progress(run, w.ps->slot, "certificate request (done "
		                               "earlier)");
		slot_progress(run, w.ps->slot, "issue certificate (done "
		                               "earlier)");
		snprintf(w.serial, sizeof(w.serial), "%s", w.sr->cert_serial);
		w.reused = true;
	} else if ((r = generate(run, &w)) != CS_OK ||
	    (r = attest(run, &w)) != CS_OK ||
	    (r = request(run, &w)) != CS_OK || (r = issue(run, &w)) != CS_OK)
		goto out;
	if ((r = import(run, &w)) != CS_OK || (r = read_back(run, &w)) != CS_OK)
		goto out;
	r = receipt(run, w.ps, w.serial, w.reused, w.notes);
out:
	work_release(&w);
	return r;
}

/* --- the end: no factory secret left, checked on the card --- */

static enum cs_err
check_defaults(struct run *run)
{
	struct cs_piv_mgm_meta mm;
	const uint8_t *def;
	bool known;
	size_t len;
	enum cs_err r = CS_ERR_INTERNAL;

	progress(run, "check no factory secrets are left");
	if (ref_default(run, CS_PIV_REF_PIN, &known) ||
	    ref_default(run, CS_PIV_REF_PUK, &known))
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "card %llu still has the factory PIN or PUK",
		    (unsigned long long)run->res->card_serial);
	if (run->meta && cs_piv_mgm_metadata(run->card, &mm) == CS_OK &&
	    mm.known_default) {
		if (mm.is_default)
			return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
			    "card %llu still has the factory management key",
			    (unsigned long long)run->res->card_serial);
		return CS_OK;
	}
	cs_ctx_clear_error(run->ctx);
	/* No metadata: the default key must fail (it spends no counter). */
	def = cs_piv_default_mgm_key(&len);
	r = cs_piv_authenticate(run->card, 0, def, len);
	if (r == CS_OK)
		return cs_ctx_fail(run->ctx, CS_ERR_POLICY,
		    "card %llu still has the factory management key",
		    (unsigned long long)run->res->card_serial);
	if (r != CS_ERR_AUTH && r != CS_ERR_ARG)
		return r;
	cs_ctx_clear_error(run->ctx);
	return CS_OK;
}

static enum cs_err
enroll_secrets(struct run *run)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = reset_card(run)) != CS_OK || (r = verify_current(run)) != CS_OK ||
	    (r = mgm_auth(run)) != CS_OK || (r = set_retries(run)) != CS_OK ||
	    (r = set_pin(run)) != CS_OK || (r = set_puk(run)) != CS_OK ||
	    (r = set_mgm(run)) != CS_OK)
		return r;
	return CS_OK;
}

enum cs_err
cs_enroll_card(struct cs_ctx *ctx, struct cs_ca *ca, struct cs_card *card,
    const struct cs_enroll_req *req, struct cs_enroll_result *res)
{
	struct run run;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.ctx = ctx;
	run.ca = ca;
	run.card = card;
	run.req = req;
	run.res = res;
	if (req->set == NULL || req->set->nslots == 0 ||
	    req->set->nslots > CS_PROFILESET_SLOTS_MAX || req->subject == NULL)
		return cs_ctx_fail(ctx, CS_ERR_ARG,
		    "enroll: a profile set and a subject are needed");
	/* reset and retry counts are steps only when asked for */
	run.nsteps = CARD_STEPS + SLOT_STEPS * (int)req->set->nslots -
	    !(req->flags & CS_ENROLL_RESET) -
	    (req->pin_tries == 0 && req->puk_tries == 0);
	if ((r = identify(&run)) != CS_OK || (r = load_record(&run)) != CS_OK)
		goto out;
	res->record = run.rec.id;
	if (res->already) {
		for (i = 0; i < req->set->nslots; i++) {
			struct cs_enroll_slot_record *sr =
			    slot_record(&run, req->set->slots[i].slot);

			if (sr == NULL) {
				r = cs_ctx_fail(ctx, CS_ERR_STORE,
				    "registry: enrollment %lld lacks a slot",
				    (long long)run.rec.id);
				goto out;
			}
			if ((r = receipt(&run, &req->set->slots[i],
			         sr->cert_serial, true, "")) != CS_OK)
				goto out;
		}
		run.step = run.nsteps - 1;
		r = check_defaults(&run);
		goto out;
	}
	if ((r = enroll_secrets(&run)) != CS_OK)
		goto out;
	for (i = 0; i < req->set->nslots; i++)
		if ((r = enroll_slot(&run, i)) != CS_OK)
			goto out;
	if ((r = check_defaults(&run)) != CS_OK ||
	    (r = set_state(&run, CS_ENROLL_ST_DONE)) != CS_OK)
		goto out;
out:
	for (i = 0; i < CS_PROFILESET_SLOTS_MAX; i++)
		cs_ca_profile_free(run.prof[i]);
	ERR_clear_error();
	return r;
}
