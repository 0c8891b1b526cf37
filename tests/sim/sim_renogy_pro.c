/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_renogy_pro.c - a Renogy Pro battery over Bluetooth LE
 * (RNGRBP / RNGC / RNGPRO), the BMS side (bms/PROTOCOLS.md §49): the
 * registers of sim_renogy.c (sim_renogy.h) answered to any slave id, the
 * id asked in the answer (0xFF, or 0x30 with reply_adr=48); the current in
 * 0.1 A, or 0.01 A with dialect=rngpro, whose 5101 reads 0x00AA without a
 * fault.  Only the status words (5106, 5107) carry the pack's state.
 * Framing: sim_mbslave.c.  bms/ is deliberately not used.
 */
#include "sim.h"
#include "sim_mbslave.h"
#include "sim_renogy.h"

static const struct sim_mb_range rp_ranges[] = {
	{ 0x03, 5000, 34 },
	{ 0x03, 5042, 7 },
	{ 0x03, 5100, 32 },
};

static int rp_per_amp(const struct sim_pack *p)
{
	return p->dialect == 'P' ? 100 : 10;
}

static int rp_family(const struct sim_pack *p)
{
	return p->dialect == 'P' ? SIM_RNG_RNGPRO : SIM_RNG_PRO;
}

static void rp_image(const struct sim_pack *p, int range, uint16_t *v)
{
	sim_rng_image(p, range, v, rp_per_amp(p), rp_family(p));
}

static void rp_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_rng_view(p, v, rp_per_amp(p), rp_family(p));
}

static const struct sim_mb_slave rp_slave = { rp_ranges, 3, rp_image, 0 };

SIM_MB_BLE_FUNCS(rp, rp_slave)

const struct sim_proto sim_proto_renogy_pro = {
	.name = "renogy-pro",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 16,
	.scan = sim_mb_ble_scan,
	.address = sim_mb_ble_address,
	.respond = rp_respond,
	.view = rp_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
