/* SPDX-License-Identifier: MIT */
/* gateway/inverter/j1939.c - a J1939 node's source address (j1939.h): the
 * claim, a rival's claim, a request for it.  Pure. */
#include "j1939.h"

#include <string.h>

#define ID_PF(id) (((id) >> 16) & 0xFFu)
#define ID_PS(id) (((id) >> 8) & 0xFFu)
#define ID_DP_EDP(id) (((id) >> 24) & 0x3u)

uint64_t j1939_name(bool arbitrary, uint8_t industry, uint8_t function, uint16_t manufacturer, uint32_t identity)
{
	return (uint64_t)arbitrary << 63 | (uint64_t)(industry & 7u) << 60 | (uint64_t)function << 40 |
	       (uint64_t)(manufacturer & 0x7FFu) << 21 | (identity & 0x1FFFFFu);
}

static bool taken(const struct j1939_node *n, unsigned a)
{
	return (n->taken[a / 32] >> (a % 32)) & 1u;
}

static void take(struct j1939_node *n, unsigned a)
{
	n->taken[a / 32] |= 1u << (a % 32);
}

void j1939_start(struct j1939_node *n, uint64_t name, uint8_t preferred, double now)
{
	memset(n->taken, 0, sizeof(n->taken));
	n->name = name;
	n->preferred = preferred > J1939_MAX_SA ? J1939_DYN_FIRST : preferred;
	n->sa = n->preferred;
	n->state = J1939_CLAIMED;
	n->claimed_at = now;
}

void j1939_claim_frame(const struct j1939_node *n, struct gw_can_frame *f)
{
	uint8_t sa = n->state == J1939_CLAIMED ? n->sa : J1939_NULL;
	memset(f, 0, sizeof(*f));
	f->id = (uint32_t)J1939_PRIO_CLAIM << 26 | (uint32_t)J1939_PF_CLAIM << 16 | J1939_GLOBAL << 8 | sa;
	f->ext = true;
	f->dlc = 8;
	for (int i = 0; i < 8; i++)
		f->data[i] = (uint8_t)(n->name >> (8 * i));
}

/* The next address no other node claimed after the lost one, in 128-247
 * (wrapping); -1 when there is none. */
static int next_free(const struct j1939_node *n, unsigned lost)
{
	unsigned span = J1939_DYN_LAST - J1939_DYN_FIRST + 1;
	unsigned from = lost >= J1939_DYN_FIRST && lost <= J1939_DYN_LAST ? lost - J1939_DYN_FIRST + 1 : 0;
	for (unsigned k = 0; k < span; k++) {
		unsigned a = J1939_DYN_FIRST + (from + k) % span;
		if (a != lost && !taken(n, a))
			return (int)a;
	}
	return -1;
}

/* A claim of address sa with NAME name from another node. */
static enum j1939_heard rival_claim(struct j1939_node *n, unsigned sa, uint64_t name, double now)
{
	if (name == n->name || sa > J1939_MAX_SA)
		return J1939_H_NONE; /* its own (a bus that echoes), or a cannot-claim of another node */
	if (n->state != J1939_CLAIMED || sa != n->sa) {
		take(n, sa);
		return J1939_H_TAKEN;
	}
	if (name > n->name) {
		n->defended++;
		return J1939_H_DEFEND;
	}
	take(n, sa);
	n->rival = name;
	n->lost_sa = (uint8_t)sa;
	n->lost++;
	int a = next_free(n, sa);
	if (a < 0) {
		n->state = J1939_CANNOT;
		n->sa = J1939_NULL;
		return J1939_H_CANNOT;
	}
	n->sa = (uint8_t)a;
	n->claimed_at = now;
	return J1939_H_MOVED;
}

enum j1939_heard j1939_heard(struct j1939_node *n, const struct gw_can_frame *f, double now)
{
	if (n->state == J1939_IDLE || !f->ext || f->rtr || f->dlc > GW_CAN_MAX_DLC || ID_DP_EDP(f->id) != 0)
		return J1939_H_NONE;
	unsigned pf = ID_PF(f->id), ps = ID_PS(f->id), sa = f->id & 0xFFu;
	if (pf == J1939_PF_CLAIM && f->dlc == 8) {
		uint64_t name = 0;
		for (int i = 0; i < 8; i++)
			name |= (uint64_t)f->data[i] << (8 * i);
		return rival_claim(n, sa, name, now);
	}
	if (pf != J1939_PF_REQUEST || f->dlc < 3 || f->data[0] != 0x00 || f->data[1] != J1939_PF_CLAIM ||
	    f->data[2] != 0x00)
		return J1939_H_NONE;
	/* a request for the claim: to everyone, or to its address */
	if (ps != J1939_GLOBAL && (n->state != J1939_CLAIMED || ps != n->sa))
		return J1939_H_NONE;
	n->asked++;
	return J1939_H_ANSWER;
}

bool j1939_ready(const struct j1939_node *n, double now, double *at)
{
	*at = 0;
	if (n->state != J1939_CLAIMED)
		return false;
	bool wait = n->sa >= J1939_DYN_FIRST && n->sa <= J1939_DYN_LAST;
	*at = n->claimed_at + (wait ? J1939_CLAIM_WAIT : 0);
	return now >= *at;
}

double j1939_cannot_delay(const struct j1939_node *n)
{
	uint64_t h = n->name * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing: spread the NAME's bits */
	return (double)((h >> 32) % 154u) / 1000.0;
}

const char *j1939_state_name(const struct j1939_node *n, double now)
{
	double at;
	if (n->state == J1939_IDLE)
		return "idle";
	if (n->state == J1939_CANNOT)
		return "cannot_claim";
	return j1939_ready(n, now, &at) ? "held" : "claiming";
}
