/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pylonframe.h - the BMS side of the Pylontech-style ("paceic")
 * ASCII framing (bms/PROTOCOLS.md §8), shared by sim_pylontech.c,
 * sim_topbms.c, sim_seplos.c and sim_pace.c.
 * Independent of bms/ (the code under test).
 *
 *	~ VER ADR CID1 CID2 LENGTH INFO CHKSUM CR	('>' instead of '~': KS48100)
 */
#ifndef BMSGW_SIM_PYLONFRAME_H
#define BMSGW_SIM_PYLONFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define SIM_PYLONFRAME_MAX_INFO 2000  /* bytes */
#define SIM_PYLONFRAME_CID1 0x46      /* lithium battery */

/* A request, parsed. */
struct sim_pylonframe_req {
	uint8_t soi;                  /* '~' or '>' */
	uint8_t ver, adr, cid1, cid2;
	size_t ninfo;
	uint8_t info[SIM_PYLONFRAME_MAX_INFO];
};

/* INFO being built (big-endian numbers). */
struct sim_pylonframe_info {
	size_t len;
	int overflow;
	uint8_t b[SIM_PYLONFRAME_MAX_INFO];
};

/* Requests in the received bytes: SKIP up to '~' or '>', FRAME for a valid
 * frame through its CR, BAD for a frame with a wrong character, LENGTH or
 * CHKSUM. */
enum sim_scan sim_pylonframe_scan(const uint8_t *buf, size_t len, size_t *n);
/* Parse a frame scan() accepted: 0, or -1. */
int sim_pylonframe_parse(const uint8_t *req, size_t n, struct sim_pylonframe_req *r);
/* ADR of a request, -1 if it is not a frame. */
int sim_pylonframe_address(const uint8_t *req, size_t n);
/* Encode a frame and append it to the reply: 0, or -1 when it does not fit. */
int sim_pylonframe_reply(struct sim_reply *reply, uint8_t ver, uint8_t adr, uint8_t rtn,
                         const struct sim_pylonframe_info *info);
/* The same with another start character and device type (CID1). */
int sim_pylonframe_reply_ex(struct sim_reply *reply, uint8_t soi, uint8_t ver, uint8_t adr, uint8_t cid1,
                            uint8_t rtn, const struct sim_pylonframe_info *info);
/* An ASCII text field of n bytes, padded with blanks. */
void sim_pylonframe_text(struct sim_pylonframe_info *i, const char *s, size_t n);
/* Fault badsum: one CHKSUM character changed (the CR stays last). */
void sim_pylonframe_corrupt(uint8_t *frame, size_t n);

void sim_pylonframe_put8(struct sim_pylonframe_info *i, unsigned v);
void sim_pylonframe_put16(struct sim_pylonframe_info *i, unsigned v);
void sim_pylonframe_put24(struct sim_pylonframe_info *i, unsigned long v);

/* Clamp helpers for quantising onto the wire. */
long sim_pylonframe_clamp(long v, long lo, long hi);
/* The pack's first (at most max) cells in whole mV, 0..65535, into mv[] and
 * their number into *n; returns their sum in mV (the pack voltage the
 * dialects derive from them). */
unsigned long sim_pylonframe_cells(const struct sim_pack *p, int max, unsigned *mv, int *n);

#endif
