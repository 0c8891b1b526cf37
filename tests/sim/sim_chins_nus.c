/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_chins_nus.c - a Chins "G-" battery over Bluetooth LE, the
 * BMS side of the Nordic UART link as a fake BlueZ bridges it to a TCP port
 * (writes to 6e400002 in, notifications of 6e400003 out).
 *
 * bms/PROTOCOLS.md §83.  It answers E&J's RT read :000250000E03~ with the
 * single-frame variant's 140 characters, as sim_chins.c's dialect=sf does
 * (cells, current, temperature, working state, balancing, cycles, SOC,
 * remaining, full and design capacity), and byte 54, the heater: 1 while
 * it runs (the pack's heat, heat_start: sim_pack_heater_on()), else 0, the
 * check made again.  CAP (chins's second read) and anything else is a bad
 * request.  One BMS per connection.  Encoded in sim_chins.c and here; bms/
 * is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CN_LEN 140
#define CN_O_HEATER (1 + 2 * 54) /* the heater's two digits */

static const char cn_rt[] = ":000250000E03~";

static enum sim_scan cn_scan(const uint8_t *buf, size_t len, size_t *n)
{
	return sim_proto_chins.scan(buf, len, n);
}

static int cn_address(const uint8_t *req, size_t n)
{
	return sim_proto_chins.address(req, n);
}

/* The single-frame pack: the chins responder's dialect=sf, without its
 * module's AT noise. */
static struct sim_pack cn_sf(const struct sim_pack *p)
{
	struct sim_pack q = *p;
	q.dialect = 'S';
	q.junk = 0;
	return q;
}

static enum sim_resp cn_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n != sizeof(cn_rt) - 1 || memcmp(req, cn_rt, n) != 0)
		return SIM_RESP_BAD;
	struct sim_pack q = cn_sf(p);
	struct sim_reply r;
	memset(&r, 0, sizeof r);
	if (sim_proto_chins.respond(&q, req, n, &r) != SIM_RESP_OK || r.len != CN_LEN)
		return SIM_RESP_BAD;
	char h[4];
	snprintf(h, sizeof h, "%02X", sim_pack_heater_on(p) ? 1u : 0u);
	memcpy(r.buf + CN_O_HEATER, h, 2);
	unsigned sum = 0;
	for (size_t i = 1; i < CN_LEN - 3; i++)
		sum += r.buf[i];
	snprintf(h, sizeof h, "%02X", (sum & 0xFF) ^ 0xFF);
	memcpy(r.buf + CN_LEN - 3, h, 2);
	sim_reply_add(reply, r.buf, r.len);
	return SIM_RESP_OK;
}

/* badsum: chins's (the check spoiled) */
static void cn_corrupt(uint8_t *frame, size_t n)
{
	sim_proto_chins.corrupt(frame, n);
}

static void cn_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_pack q = cn_sf(p);
	sim_proto_chins.view(&q, v);
	v->has |= SIM_HAS_HEATER;
	v->heater_on = sim_pack_heater_on(p);
	v->heater_a = NAN; /* not sent */
}

const struct sim_proto sim_proto_chins_nus = {
	.name = "chins-nus",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 1,
	.scan = cn_scan,
	.address = cn_address,
	.respond = cn_respond,
	.view = cn_view,
	.corrupt = cn_corrupt,
	.ble_name = "G-12V300Ah-0345",
};
