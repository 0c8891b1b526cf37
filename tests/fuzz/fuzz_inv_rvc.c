/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_inv_rvc.c - libFuzzer target: the J1939 address claim of
 * the rvc output's node (gateway/inverter/j1939.c) on anything an RV-C bus
 * could send it: the parser of the frames bmsgw reads (claims, requests,
 * anything else) and the state they leave.
 *
 * Input, field by field (fuzzin.h): the preferred address (1), the NAME
 * (8); then frames of 14 bytes each: the time since the last (1, in 10
 * ms), the identifier (4, cut to 29 bits), flags (1: bit 0 29-bit, bit 1
 * remote, bits 2-5 the dlc up to 15), data (8).  Invariants: a claimed
 * node holds an address of 0-253, one that cannot claim 254; an answer
 * only to a 29-bit data page 0 request (PF 0xEA) with at least 00 EE 00, to
 * everyone or to the address held; defend / move / cannot only for a
 * claim (PF 0xEE, 8 bytes) of the address held with another NAME, higher
 * to defend, lower to give it up; a move to a free address of 128-247
 * claimed now, never the one lost nor one another node claimed; anything
 * else changes neither the address nor the state; the counters only grow;
 * the claim frame is the NAME from the address (254 without one) to
 * everyone; ready 250 ms after a claim in 128-247, at once elsewhere, never
 * without an address; the cannot-claim delay within 0-153 ms. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/inverter/j1939.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static bool is_taken(const struct j1939_node *n, unsigned a)
{
	return (n->taken[a / 32] >> (a % 32)) & 1u;
}

static void check_node(const struct j1939_node *n, double now)
{
	struct gw_can_frame f;
	double at;
	REQUIRE(n->state == J1939_CLAIMED || n->state == J1939_CANNOT);
	REQUIRE(n->state == J1939_CLAIMED ? n->sa <= J1939_MAX_SA : n->sa == J1939_NULL);
	j1939_claim_frame(n, &f);
	REQUIRE(f.ext && !f.rtr && f.dlc == 8 && (f.id >> 8) == 0x18EEFF && (f.id & 0xFF) == n->sa);
	for (int i = 0; i < 8; i++)
		REQUIRE(f.data[i] == (uint8_t)(n->name >> (8 * i)));
	bool ready = j1939_ready(n, now, &at);
	if (n->state == J1939_CANNOT) {
		REQUIRE(!ready && at == 0);
	} else {
		bool wait = n->sa >= J1939_DYN_FIRST && n->sa <= J1939_DYN_LAST;
		REQUIRE(at == n->claimed_at + (wait ? J1939_CLAIM_WAIT : 0) && ready == (now >= at));
	}
	double d = j1939_cannot_delay(n);
	REQUIRE(d >= 0 && d <= 0.153);
}

/* What frame f heard by the node as it was (before) may have done to it. */
static void check_step(const struct j1939_node *b, const struct j1939_node *n, const struct gw_can_frame *f,
		       enum j1939_heard h, double now)
{
	unsigned pf = (f->id >> 16) & 0xFF, ps = (f->id >> 8) & 0xFF, sa = f->id & 0xFF;
	bool dp0 = ((f->id >> 24) & 3) == 0, data = f->ext && !f->rtr && f->dlc <= 8 && dp0;
	uint64_t name = 0;
	for (int i = 0; i < 8; i++)
		name |= (uint64_t)f->data[i] << (8 * i);
	bool claim = data && pf == J1939_PF_CLAIM && f->dlc == 8;
	REQUIRE(h >= J1939_H_NONE && h <= J1939_H_CANNOT);
	REQUIRE(n->lost >= b->lost && n->defended >= b->defended && n->asked >= b->asked);
	switch (h) {
	case J1939_H_ANSWER:
		REQUIRE(data && pf == J1939_PF_REQUEST && f->dlc >= 3 && f->data[0] == 0 && f->data[1] == 0xEE &&
			f->data[2] == 0);
		REQUIRE(ps == J1939_GLOBAL || (b->state == J1939_CLAIMED && ps == b->sa));
		REQUIRE(n->asked == b->asked + 1);
		break;
	case J1939_H_DEFEND:
		REQUIRE(claim && b->state == J1939_CLAIMED && sa == b->sa && name > b->name);
		break;
	case J1939_H_MOVED:
		REQUIRE(claim && b->state == J1939_CLAIMED && sa == b->sa && name < b->name);
		REQUIRE(n->sa >= J1939_DYN_FIRST && n->sa <= J1939_DYN_LAST && n->sa != b->sa && !is_taken(b, n->sa));
		REQUIRE(n->claimed_at == now && n->lost == b->lost + 1 && n->lost_sa == b->sa && n->rival == name);
		break;
	case J1939_H_CANNOT:
		REQUIRE(claim && b->state == J1939_CLAIMED && sa == b->sa && name < b->name);
		REQUIRE(n->state == J1939_CANNOT && n->lost == b->lost + 1);
		break;
	case J1939_H_TAKEN:
		REQUIRE(claim && sa <= J1939_MAX_SA && name != b->name && is_taken(n, sa));
		/* fall through: neither the address nor the state */
	default:
		REQUIRE(n->sa == b->sa && n->state == b->state && n->claimed_at == b->claimed_at);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct j1939_node n;
	memset(&n, 0, sizeof(n));
	uint8_t pref = fz_u8(&in);
	uint64_t name = (uint64_t)fz_u32(&in) | (uint64_t)fz_u32(&in) << 32;
	double now = 1.0;
	j1939_start(&n, name, pref, now);
	REQUIRE(n.sa == (pref > J1939_MAX_SA ? J1939_DYN_FIRST : pref));
	check_node(&n, now);
	while (in.n >= 14) {
		struct gw_can_frame f;
		memset(&f, 0, sizeof(f));
		now += fz_u8(&in) / 100.0;
		f.id = fz_u32(&in) & GW_CAN_MAX_EXT_ID;
		uint8_t fl = fz_u8(&in);
		f.ext = fl & 1;
		f.rtr = (fl >> 1) & 1;
		f.dlc = (uint8_t)((fl >> 2) & 0x0F);
		if (!f.ext)
			f.id &= GW_CAN_MAX_STD_ID;
		fz_bytes(&in, f.data, 8);
		struct j1939_node before = n;
		enum j1939_heard h = j1939_heard(&n, &f, now);
		check_step(&before, &n, &f, h, now);
		check_node(&n, now);
	}
	return 0;
}
