/*
 * Fuzz target: issuance profile loading (OpenSSL NCONF with an X509V3
 * extension section and a [cardsmith] section). A profile that parses
 * must describe a consistent policy: level <= max_level, a validity in
 * range, firmware actions in range, slots within 82..9f, and a policy OID
 * only when it names exactly one level.
 *
 * Covers: cs_ca_profile_parse (NCONF_load_bio, the [cardsmith] keys,
 * X509V3_EXT_add_nconf on the extension section), cs_ca_profile_get_info.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/ca.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_ctx *ctx = NULL;
	struct cs_ca_profile *p = NULL;
	struct cs_ca_profile_info in;

	if (cs_ctx_new(&ctx) != CS_OK)
		abort();
	if (cs_ca_profile_parse(ctx, "fuzz", data, size, &p) == CS_OK) {
		if (p == NULL)
			abort();
		cs_ca_profile_get_info(p, &in);
		if (in.level < CS_CA_LEVEL_SOFTWARE ||
		    in.level > in.max_level ||
		    in.max_level > CS_CA_LEVEL_HW_ATTESTED ||
		    in.validity_days == 0 || in.validity_days > 36500 ||
		    in.fw_roca > CS_CA_FW_DENY ||
		    in.fw_ysa_2024_03 > CS_CA_FW_DENY ||
		    in.fw_fips_rng > CS_CA_FW_DENY ||
		    memchr(in.policy_oid, '\0', sizeof(in.policy_oid)) ==
		        NULL ||
		    (in.policy_oid[0] != '\0' && in.level != in.max_level))
			abort();
	} else if (p != NULL)
		abort();
	cs_ca_profile_free(p);
	cs_ctx_free(ctx);
	return 0;
}
