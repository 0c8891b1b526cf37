/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pwrboozt.c - a PowerBoozt battery over Bluetooth LE, the
 * BMS side of the FFF0 link as a fake BlueZ bridges it to a TCP port
 * (writes to FFF2 in, notifications of FFF1 out).
 *
 * bms/PROTOCOLS.md §78.  The "BT-Battery" answer of sim_ejbt.c with the
 * current as a signed 32-bit count of mA (+ = charging).  No address.
 * Encoded there; bms/ is deliberately not used.
 */
#include "sim_ejbt.h"

static enum sim_resp pb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	return sim_ejbt_respond(SIM_EJBT_S32, p, req, n, reply);
}

static void pb_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_ejbt_view(SIM_EJBT_S32, p, v);
}

const struct sim_proto sim_proto_pwrboozt = {
	.name = "pwrboozt",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 4,
	.scan = sim_ejbt_scan,
	.address = sim_ejbt_address,
	.respond = pb_respond,
	.view = pb_view,
	.corrupt = sim_ejbt_corrupt,
	.ble_name = "BT-Battery-P01",
};
