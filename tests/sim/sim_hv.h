/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_hv.h - what the responders of the high-voltage packs read
 * listen only (sim_leaf.c, sim_tesla_model3.c ... sim_foxess_in.c) share:
 * the pack's view of a family's cells, a tester's group request and the
 * LBC's ISO-TP answer as a bus carries them, the Leaf's CRC.  The adapter
 * side: sim_slcan.c.  Encoded here; bms/ is deliberately not used. */
#ifndef TESTS_SIM_HV_H
#define TESTS_SIM_HV_H

#include "sim_slcan.h"

long sim_hv_clamp(long v, long lo, long hi);
/* The view every family starts from: n cells (the pack's, at most its
 * protocol's), each as the pack's model has it, the voltage their sum,
 * the current and SOC as they are (the family quantises them). */
void sim_hv_view(const struct sim_pack *p, struct sim_view *v, int n);
/* The extremes of v's cells into v->cell_max_mv / cell_min_mv. */
void sim_hv_extremes(struct sim_view *v);
/* The highest and lowest of the pack's sensors (degC). */
void sim_hv_temps(const struct sim_pack *p, int *hi, int *lo);
/* A tester's request "02 21 group" on req, then the answer payload[0..len)
 * on ans as ISO-TP (a first frame, consecutive frames 21, 22 ..., each
 * after the tester's flow control "30 01 00" on req, as Leaf Spy asks). */
void sim_hv_tester(struct sim_reply *reply, unsigned req, unsigned ans, uint8_t group, const uint8_t *payload,
		   int len);
/* CRC-8 of p[0..n), MSB first, initial 0, polynomial poly. */
uint8_t sim_hv_crc8(uint8_t poly, const uint8_t *p, int n);
void sim_hv_be16(uint8_t *d, long v);

#endif
