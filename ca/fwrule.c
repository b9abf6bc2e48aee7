/*
 * The YubiKey firmware advisories a profile's firmware rules speak of
 * (fw_roca, fw_ysa_2024_03, fw_fips_rng): which ones a version and key
 * type fall under. One table, so that issuance (assurance.c, on the
 * attested version) and enrollment (enroll.c, on the version the card
 * reports before any key exists) can never disagree on a range.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca_int.h"

#include "banned.h"

#define FW(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))

enum which { ROCA, YSA_2024_03, FIPS_RNG };

#define KEY_RSA 1u
#define KEY_EC 2u

static const struct {
	enum which which;
	unsigned int keys; /* KEY_RSA | KEY_EC affected; 0: every key */
	uint32_t lo, hi; /* inclusive version ranges ... */
	uint32_t lo2, hi2; /* ... a second one, or 0, 0 */
	const char *text;
} advisories[] = {
	{ ROCA, KEY_RSA, FW(4, 2, 0), FW(4, 3, 4), 0, 0,
	    "generates ROCA-weak RSA keys (CVE-2017-15361, YSA-2017-01)" },
	{ YSA_2024_03, KEY_EC, 0, FW(5, 6, 255), 0, 0,
	    "is affected by YSA-2024-03 (ECDSA side channel, fixed in "
	    "5.7.0)" },
	{ FIPS_RNG, 0, FW(4, 4, 2), FW(4, 4, 2), FW(4, 4, 4),
	    FW(4, 4, 4),
	    "(FIPS series) has reduced randomness after power-up "
	    "(YSA-2019-02, fixed in 4.4.5)" },
};

static uint8_t
action(const struct cs_ca_profile_info *pi, enum which w)
{
	switch (w) {
	case ROCA:
		return pi->fw_roca;
	case YSA_2024_03:
		return pi->fw_ysa_2024_03;
	case FIPS_RNG:
		return pi->fw_fips_rng;
	}
	return CS_CA_FW_DENY; /* not reached: fail closed */
}

size_t
csa_fw_advisories(const uint8_t fw[3], bool rsa, bool ec,
    const struct cs_ca_profile_info *pi, struct csa_fw_advisory *out,
    size_t max)
{
	uint32_t v = FW(fw[0], fw[1], fw[2]);
	unsigned int keys = (rsa ? KEY_RSA : 0) | (ec ? KEY_EC : 0);
	size_t i, n = 0;

	for (i = 0; i < sizeof(advisories) / sizeof(advisories[0]); i++) {
		if (advisories[i].keys != 0 && (advisories[i].keys & keys) == 0)
			continue;
		if (!(v >= advisories[i].lo && v <= advisories[i].hi) &&
		    !(advisories[i].hi2 != 0 && v >= advisories[i].lo2 &&
		        v <= advisories[i].hi2))
			continue;
		if (n < max) {
			out[n].text = advisories[i].text;
			out[n].action = action(pi, advisories[i].which);
		}
		n++;
	}
	return n;
}
