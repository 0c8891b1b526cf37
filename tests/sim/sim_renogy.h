/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_renogy.h - the register image of a Renogy smart battery
 * (sim_renogy.c), which the Bluetooth "Pro" batteries (sim_renogy_pro.c)
 * answer too: the ranges 5000 x 34, 5042 x 7 and 5100 x 32 of sim_renogy.c,
 * the current in 1 / per_amp A. */
#ifndef BMSGW_SIM_RENOGY_H
#define BMSGW_SIM_RENOGY_H

#include <stdint.h>

#include "sim.h"

/* pro: 0 the RS485 battery (V1.7's alarm fields from the pack's alarm
 * bytes), SIM_RNG_PRO a RNGRBP / RNGC, SIM_RNG_RNGPRO a RNGPRO (0x00AA at
 * 5101 with no fault); a Pro has only the status words. */
enum { SIM_RNG_PRO = 1, SIM_RNG_RNGPRO = 2 };
/* The values of range (0 cells, 1 pack, 2 status) for pack p into v[]. */
void sim_rng_image(const struct sim_pack *p, int range, uint16_t *v, int per_amp, int pro);
/* The quantised wire view (alarm bytes: status 1, status 2, and for the
 * RS485 battery the other-alarm words). */
void sim_rng_view(const struct sim_pack *p, struct sim_view *v, int per_amp, int pro);

#endif
