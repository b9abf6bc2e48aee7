/*
 * Fuzz target: sim_key_import, the simulator's parser for IMPORT ASYMMETRIC
 * KEY bodies (piv-apdu.md §4.15). Input: one selector byte choosing the
 * algorithm (index into algs[], modulo its size), then the TLV body.
 * Covers: sim_key_import (TLV split, RSA CRT consistency, EC scalar range,
 * 25519 raw keys) and, for accepted keys, sim_key_public_tlvs.
 */
#include <stddef.h>
#include <stdint.h>

#include "cardsmith/buf.h"
#include "../../sim/simcrypto.h"

static const uint8_t algs[] = { SIM_ALG_RSA1024, SIM_ALG_RSA2048,
	SIM_ALG_RSA3072, SIM_ALG_RSA4096, SIM_ALG_P256, SIM_ALG_P384,
	SIM_ALG_ED25519, SIM_ALG_X25519 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cs_buf pub = CS_BUF_INIT(2048);
	struct cs_cur c;
	struct sim_key *k = NULL;
	uint8_t sel, alg;

	cs_cur_init(&c, data, size);
	if (cs_cur_get_u8(&c, &sel) != CS_OK)
		return 0;
	alg = algs[sel % sizeof(algs)];
	if (sim_key_import(alg, &c, &k) == CS_OK) {
		if (k == NULL || sim_key_alg(k) != alg ||
		    sim_key_public_tlvs(k, &pub) != CS_OK || pub.len == 0)
			__builtin_trap();
	} else if (k != NULL)
		__builtin_trap();
	sim_key_free(k);
	cs_buf_release(&pub);
	return 0;
}
