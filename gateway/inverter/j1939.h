/* SPDX-License-Identifier: MIT */
/* gateway/inverter/j1939.h - a node's source address on a J1939 bus (SAE
 * J1939-81 "Network management", which RV-C uses): its NAME, its claim,
 * the answer to a request for it, and what a rival's claim does
 * (PROTOCOLS.md §25).  Pure: the frames heard in, the node's state and the
 * frame to send out; the output (invnode.c) sends, times and logs.
 *
 * The node claims its preferred address (PGN 0xEE00 to the global address,
 * its 8-byte NAME little endian) and may use it 250 ms later (at once at
 * an address of 0-127 or 248-253, which J1939-81 lets a node start on).  A
 * rival claim of the same address with a lower NAME takes it: the node,
 * arbitrary address capable, claims the next address in 128-247 no other
 * node claimed, or, none left, says "cannot claim" (its NAME from the null
 * address 254) and sends nothing else.  A rival with a higher NAME is
 * answered with the node's claim again.  A request for the claim (PGN
 * 0xEA00, data 00 EE 00) to the global address or to the node's is
 * answered with its claim (the cannot-claim one after a pseudo-random
 * 0-153 ms). */
#ifndef GATEWAY_INVERTER_J1939_H
#define GATEWAY_INVERTER_J1939_H

#include <stdbool.h>
#include <stdint.h>

#include "../wire/canframe.h"

#define J1939_GLOBAL 0xFFu        /* the destination of a broadcast */
#define J1939_NULL 0xFEu          /* the source of a node without an address */
#define J1939_MAX_SA 253u         /* the last address a node may claim */
#define J1939_PF_REQUEST 0xEAu    /* PGN 0xEA00, the destination in PS */
#define J1939_PF_CLAIM 0xEEu      /* PGN 0xEE00 */
#define J1939_PRIO_CLAIM 6u
#define J1939_CLAIM_WAIT 0.25     /* s after a claim before other frames (an address of 128-247) */
#define J1939_DYN_FIRST 128u      /* the addresses a node may take for itself */
#define J1939_DYN_LAST 247u

enum j1939_state {
	J1939_IDLE = 0,           /* not started (the port is down) */
	J1939_CLAIMED,            /* its claim of sa went out at claimed_at */
	J1939_CANNOT,             /* no address: cannot claim, silent */
};

struct j1939_node {
	uint64_t name;            /* its NAME: the lower wins an address */
	uint8_t preferred;        /* the address it claims first (`address`) */
	uint8_t sa;               /* the address claimed (J1939_NULL: none) */
	enum j1939_state state;
	double claimed_at;        /* when its claim of sa went out (monotonic s) */
	uint32_t taken[8];        /* addresses other nodes claimed: bit a % 32 of taken[a / 32] */
	/* what happened, for the output's status and log */
	uint64_t rival;           /* the NAME that took the last address given up */
	uint8_t lost_sa;          /* ... and that address */
	unsigned lost;            /* addresses given up to a lower NAME */
	unsigned defended;        /* claims of its address by a higher NAME answered */
	unsigned asked;           /* requests for its claim answered */
};

/* What a frame heard means to the node. */
enum j1939_heard {
	J1939_H_NONE = 0,         /* nothing (not network management, or not about it) */
	J1939_H_TAKEN,            /* another node claimed another address: noted */
	J1939_H_ANSWER,           /* a request for its claim: send its claim frame */
	J1939_H_DEFEND,           /* a higher NAME claimed its address: send its claim frame again */
	J1939_H_MOVED,            /* a lower NAME took its address: it claims sa now (send its claim frame) */
	J1939_H_CANNOT,           /* ... and no address is left: send its claim frame (cannot claim) */
};

/* A NAME (J1939-81 §4.1.1): arbitrary address capable (bit 63), industry
 * group (60-62), function (40-47), manufacturer code (21-31), identity
 * number (0-20); vehicle system, its instance, ECU and function instances 0. */
uint64_t j1939_name(bool arbitrary, uint8_t industry, uint8_t function, uint16_t manufacturer, uint32_t identity);
/* Start (again): no address taken by others, its claim of preferred going
 * out at now (send its claim frame). */
void j1939_start(struct j1939_node *n, uint64_t name, uint8_t preferred, double now);
/* Its claim frame: of sa, or the cannot-claim from J1939_NULL. */
void j1939_claim_frame(const struct j1939_node *n, struct gw_can_frame *f);
/* A frame heard at now: what it means (and the state it leaves). */
enum j1939_heard j1939_heard(struct j1939_node *n, const struct gw_can_frame *f, double now);
/* May its other frames go at now?  False while it claims (*at: when it may)
 * or has no address (*at: 0, never). */
bool j1939_ready(const struct j1939_node *n, double now, double *at);
/* The pseudo-random 0-153 ms before a cannot-claim frame, from its NAME. */
double j1939_cannot_delay(const struct j1939_node *n);
/* Its state as the status says it: "idle", "claiming", "held", "cannot_claim". */
const char *j1939_state_name(const struct j1939_node *n, double now);

#endif
