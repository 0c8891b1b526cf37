/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_doerr.c - a Dörr Power battery over Bluetooth LE, the BMS
 * side of the FFF0 link as a fake BlueZ bridges it to a TCP port (writes to
 * FFF6 in, its notifications out).
 *
 * bms/PROTOCOLS.md §79.  The "BT-Battery" answer of sim_ejbt.c with the
 * current as Dörr writes it: bit 31 set while charging, the magnitude in
 * mA in the low 16 bits (at most 65.535 A).  No address.  Encoded there;
 * bms/ is deliberately not used.
 */
#include "sim_ejbt.h"

static enum sim_resp dr_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	return sim_ejbt_respond(SIM_EJBT_DIR_BIT, p, req, n, reply);
}

static void dr_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_ejbt_view(SIM_EJBT_DIR_BIT, p, v);
}

const struct sim_proto sim_proto_doerr = {
	.name = "doerr",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 4,
	.scan = sim_ejbt_scan,
	.address = sim_ejbt_address,
	.respond = dr_respond,
	.view = dr_view,
	.corrupt = sim_ejbt_corrupt,
	.ble_name = "BT-Battery-D01",
};
