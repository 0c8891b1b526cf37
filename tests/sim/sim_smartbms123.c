/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_smartbms123.c - 123\SmartBMS generation 3 over Bluetooth
 * LE, the BMS side of its Nordic UART link as a fake BlueZ bridges it to a
 * TCP port (writes to 6e400002 in, notifications of 6e400003 out).
 *
 * bms/PROTOCOLS.md §73.  Requests: the ping `$`, `PW<pin>!` CR and `E!`
 * CR.  `PW` answers `OK` CR with the pack's `pin` (any PIN where it has
 * none), else `NA` CR (counted in pin_refused); `E!` answers `NA` CR while
 * a pack with a pin has not had it on this connection, else `OK` CR and
 * starts the lines; from then on each ping is answered with the next line
 * of the cycle U, C 1 .. n, E, H (an assumption about the pacing: the
 * module "answers only while pinged", aiobmsble): `U_<V>_0000_<I>_0000`
 * (V 0.005 V hex, the cells' sum; I 0.05 A signed hex), `C_<n>_<count>_<V>_<T>_03_30`
 * (cell n in 0.005 V, the sensor of its number modulo the pack's + 276),
 * `E_000000_000000_000000_<SOC>`, `H_<SOH>_00`.  A ping before the lines
 * started answers nothing.  Another request is a bad one.  At most 32
 * cells.  One device per connection.  Encoded here; bms/ is deliberately
 * not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SM_CELLS 32

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int sm_cells(const struct sim_pack *p)
{
	return p->ncells > SM_CELLS ? SM_CELLS : p->ncells;
}

static int sm_temp(const struct sim_pack *p, int i)
{
	return p->temp_c[p->ntemps ? i % p->ntemps : 0];
}

static long sm_mv(const struct sim_pack *p)
{
	long mv = 0;
	for (int i = 0; i < sm_cells(p); i++)
		mv += sim_pack_cell_mv(p, i);
	return mv;
}

static void sm_view(const struct sim_pack *p, struct sim_view *v)
{
	int n = sm_cells(p);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CELLS | SIM_HAS_TEMPS;
	v->address = p->address;
	v->voltage = clampl(lround(sm_mv(p) / 5.0), 1, 0xFFFF) * 5 / 1000.0;
	v->current = lround(p->current / 0.05) * 0.05;
	v->soc = clampl(lround(p->soc), 0, 100);
	v->soh = clampl(lround(p->soh), 0, 100);
	v->ncells = n;
	for (int i = 0; i < n; i++)
		v->cell_mv[i] = (int)(lround(sim_pack_cell_mv(p, i) / 5.0) * 5);
	v->ntemps = n < SIM_MAX_TEMPS ? n : SIM_MAX_TEMPS;
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = sm_temp(p, i);
}

/* The next line of the cycle into s (CR included): its length. */
static int sm_line(struct sim_pack *p, char *s, size_t cap)
{
	int n = sm_cells(p), k = (int)(p->counter % (unsigned)(n + 3));
	long a = lround(p->current / 0.05);
	p->counter++;
	if (k == 0)
		return snprintf(s, cap, "U_%04lX_0000_%c%04lX_0000\r", clampl(lround(sm_mv(p) / 5.0), 1, 0xFFFF),
				a < 0 ? '-' : '+', clampl(labs(a), 0, 0xFFFF));
	if (k <= n)
		return snprintf(s, cap, "C_%02X_%02X_%03lX_%03X_03_30\r", k, n, lround(sim_pack_cell_mv(p, k - 1) / 5.0),
				sm_temp(p, k - 1) + 276);
	if (k == n + 1)
		return snprintf(s, cap, "E_000000_000000_000000_%02lX\r", clampl(lround(p->soc), 0, 100));
	return snprintf(s, cap, "H_%02lX_00\r", clampl(lround(p->soh), 0, 100));
}

/* `$`, or text up to CR. */
static enum sim_scan sm_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] == '$') {
		*n = 1;
		return SIM_SCAN_FRAME;
	}
	for (size_t i = 0; i < len && i < 64; i++)
		if (buf[i] == '\r') {
			*n = i + 1;
			return SIM_SCAN_FRAME;
		}
	if (len >= 64) {
		*n = len;
		return SIM_SCAN_BAD;
	}
	return SIM_SCAN_NEED;
}

static int sm_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one device per connection */
}

static enum sim_resp sm_say(struct sim_reply *reply, const char *s)
{
	sim_reply_add(reply, (const uint8_t *)s, strlen(s));
	return SIM_RESP_OK;
}

static enum sim_resp sm_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	char line[96];
	if (n == 1 && req[0] == '$') {
		if (!p->stream)
			return SIM_RESP_NONE; /* the lines not started: nothing to say */
		sm_line(p, line, sizeof line);
		return sm_say(reply, line);
	}
	if (n >= 5 && memcmp(req, "PW", 2) == 0 && req[n - 2] == '!' && req[n - 1] == '\r')
		return sm_say(reply, sim_pin_try(p, (const char *)req + 2, n - 4, NULL) ? "OK\r" : "NA\r");
	if (n == 3 && memcmp(req, "E!\r", 3) == 0) {
		if (p->pin[0] && !p->authed) {
			p->locked_reads++;
			return sm_say(reply, "NA\r");
		}
		p->stream = 1; /* until the connection ends (the core clears it) */
		return sm_say(reply, "OK\r");
	}
	return SIM_RESP_BAD;
}

/* badsum: no checksum exists: a byte that is no printable ASCII put in
 * the line (the reader drops it) */
static void sm_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 2)
		frame[n / 2] = 0x07;
}

const struct sim_proto sim_proto_smartbms123 = {
	.name = "smartbms123",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per connection */
	.max_cells = SM_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sm_scan,
	.address = sm_address,
	.respond = sm_respond,
	.view = sm_view,
	.corrupt = sm_corrupt,
	.ble_name = "123\\SmartBMS",
};
