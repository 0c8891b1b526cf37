/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_slcan.h - the Lawicel slcan adapter a CAN responder plays
 * (sim_slcan.c).
 *
 * The adapter side: the host's lines end in CR; "C", "Sn", "O", "L", "V",
 * "N", "F" are answered as an adapter does (CR; "V1013", "NSIM0", "F00"),
 * anything else with BEL.  "O" opens the channel, "L" opens it listen
 * only (pack option / `set` nolisten=1: "L" is refused with BEL, as the
 * CANable slcan firmwares do), "C" closes it, "Sn" is kept (can_rate, the
 * digit).  A transmit line of the host ("t", "T", "r", "R") is never
 * answered and never put on the bus: it is counted in the pack's
 * can_frames_heard (state), so that a test can tell what bmsgw sent.  No
 * fault applies to what the host sends (it talks to the adapter, not to
 * the battery).  The battery's frames reach the host as the adapter's
 * lines ("tIIIL<data>\r", "TIIIIIIIIL<data>\r", upper case). */
#ifndef TESTS_SIM_SLCAN_H
#define TESTS_SIM_SLCAN_H

#include "sim.h"

/* One line as the adapter delivers a frame it received: kind 't', 'T'
 * (extended), 'r', 'R' (remote). */
void sim_slcan_line(struct sim_reply *reply, char kind, unsigned id, const uint8_t *d, int dlc);
/* v as 16 bits little endian at d. */
void sim_slcan_put16(uint8_t *d, long v);
/* The host's lines end in CR (or LF); an empty one is skipped. */
enum sim_scan sim_slcan_scan(const uint8_t *buf, size_t len, size_t *n);
/* Every line goes to the adapter, i.e. to the one battery's port. */
int sim_slcan_address(const uint8_t *req, size_t n);
/* The adapter's answer to a host's line (transmit lines counted, unanswered). */
enum sim_resp sim_slcan_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply);
/* badsum: a line the adapter could never send (its DLC digit 9). */
void sim_slcan_corrupt(uint8_t *frame, size_t n);

#endif
