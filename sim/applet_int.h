/* Internals of the simulated card shared by sim/applet.c, objects.c, pin.c,
 * auth.c, keys.c and state.c. Never used outside sim/. */
#ifndef CARDSMITH_SIM_APPLET_INT_H
#define CARDSMITH_SIM_APPLET_INT_H

#include "applet.h"
#include "cardsmith/tlv.h"
#include "simcrypto.h"

/* Status words (piv-apdu.md §1.6). */
#define SW_OK 0x9000
#define SW_WRONG_LENGTH 0x6700
#define SW_SECURITY 0x6982
#define SW_BLOCKED 0x6983
#define SW_NO_PENDING 0x6985
#define SW_CONDITIONS 0x6985
#define SW_CHAIN_EXPECTED 0x6883
#define SW_WRONG_DATA 0x6A80
#define SW_NOT_FOUND 0x6A82
#define SW_NO_SPACE 0x6A84
#define SW_WRONG_P1P2 0x6A86
#define SW_REF_NOT_FOUND 0x6A88
#define SW_WRONG_P1P2_B 0x6B00
#define SW_INS 0x6D00
#define SW_CLA 0x6E00
#define SW_UNKNOWN 0x6F00

#define SIM_PIN_LEN 8
#define SIM_MGM_KEY_MAX 32
#define SIM_AUTH_BLOCK_MAX 16
/* Slots with asymmetric keys: 9A 9C 9D 9E, 82-95, F9. */
#define SIM_SLOT_COUNT 25
/* Per-object limit for the 53 value (yubico-piv-tool: 3072 - 9). */
#define SIM_OBJ_MAX 3063
/* Total object storage (YubiKey: ~51 000 bytes). */
#define SIM_OBJ_TOTAL_MAX 51200
#define SIM_OBJ_COUNT_MAX 64
/* Largest command body after chaining. */
#define SIM_CHAIN_MAX 65536
/* Largest single response before 61xx chaining. */
#define SIM_RESP_MAX 16384
/* Response piece size: never more than 256 bytes per answer (§1.5). */
#define SIM_PIECE_MAX 256

#define SIM_FW(a, b, c) (((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | (c))

enum sim_origin {
	SIM_ORIGIN_NONE = 0,
	SIM_ORIGIN_GENERATED = 1,
	SIM_ORIGIN_IMPORTED = 2,
};

struct sim_slot {
	uint8_t ref;
	struct sim_key *key; /* NULL: empty */
	uint8_t pin_policy, touch_policy, origin;
};

/* A data object: the value of its 53 TLV (or whole bytes for none). */
struct sim_obj {
	uint32_t tag;
	uint8_t *val;
	size_t len;
};

enum sim_app {
	SIM_APP_NONE,
	SIM_APP_PIV,
	SIM_APP_MGMT,
};

enum sim_auth_pending {
	SIM_AUTH_NONE,
	SIM_AUTH_WITNESS,   /* mutual: E_K(W) sent, expecting W */
	SIM_AUTH_CHALLENGE, /* external: C sent, expecting E_K(C) */
};

struct sim_card {
	/* persistent */
	uint8_t fw[3];
	uint32_t serial;
	uint8_t pin[SIM_PIN_LEN], puk[SIM_PIN_LEN];
	uint8_t pin_max, pin_left, puk_max, puk_left;
	uint8_t mgm_alg, mgm_touch;
	uint8_t mgm_key[SIM_MGM_KEY_MAX];
	size_t mgm_keylen;
	struct sim_slot slots[SIM_SLOT_COUNT];
	struct sim_obj objs[SIM_OBJ_COUNT_MAX];
	size_t nobjs;

	/* runtime settings */
	bool attestation;

	/* session */
	enum sim_app app;
	bool pin_ok, mgm_ok, pin_always;
	enum sim_auth_pending auth;
	uint8_t auth_val[SIM_AUTH_BLOCK_MAX];
	size_t auth_len;
	bool chaining, chain_pin_always;
	uint8_t chain_ins, chain_p1, chain_p2;
	struct cs_buf chain;
	struct cs_buf resp; /* pending response data */
	size_t resp_off;

	bool dirty;
	unsigned int cost_ms;
	bool touch_wait; /* the last command waited for the button */
};

/* One complete (de-chained) command. */
struct sim_cmd {
	uint8_t ins, p1, p2;
	struct cs_cur data;
	bool pin_always; /* VERIFY came immediately before (§4.18) */
};

/* A command handler: answer data goes to out, the SW is returned. */
typedef uint16_t sim_handler(struct sim_card *c, const struct sim_cmd *cmd,
    struct cs_buf *out);

/* applet.c */
uint32_t simi_fw(const struct sim_card *c);
void simi_session_clear(struct sim_card *c);
void simi_factory_secrets(struct sim_card *c);
void simi_factory_pins(struct sim_card *c);
uint16_t simi_sw_of(enum cs_err r);

/* objects.c */
sim_handler simi_cmd_get_data, simi_cmd_put_data;
struct sim_obj *simi_obj_find(struct sim_card *c, uint32_t tag);
CS_MUST_CHECK enum cs_err simi_obj_set(struct sim_card *c, uint32_t tag,
    const uint8_t *val, size_t len);
void simi_obj_delete(struct sim_card *c, uint32_t tag);
void simi_obj_clear_all(struct sim_card *c, bool keep_attestation);
size_t simi_obj_total(const struct sim_card *c);

/* pin.c */
sim_handler simi_cmd_verify, simi_cmd_change_ref, simi_cmd_reset_retry;
sim_handler simi_cmd_set_pin_retries;
bool simi_pin_is_default(const struct sim_card *c);
bool simi_puk_is_default(const struct sim_card *c);

/* auth.c */
sim_handler simi_cmd_general_auth;

/* keys.c */
sim_handler simi_cmd_generate, simi_cmd_import, simi_cmd_attest;
sim_handler simi_cmd_metadata, simi_cmd_move_key, simi_cmd_set_mgm;
sim_handler simi_cmd_reset;
struct sim_slot *simi_slot(struct sim_card *c, uint8_t ref);
void simi_slot_clear(struct sim_slot *s);
uint8_t simi_default_pin_policy(uint8_t ref);
bool simi_alg_allowed(const struct sim_card *c, uint8_t alg);
bool simi_mgm_is_default(const struct sim_card *c);

#endif
