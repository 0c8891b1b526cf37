/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_hv.c - the high-voltage packs' shared pieces (sim_hv.h). */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

long sim_hv_clamp(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void sim_hv_view(const struct sim_pack *p, struct sim_view *v, int n)
{
	memset(v, 0, sizeof *v);
	v->address = p->address;
	v->ncells = n < p->ncells ? n : p->ncells;
	long sum = 0;
	for (int i = 0; i < v->ncells; i++) {
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
		sum += v->cell_mv[i];
	}
	v->voltage = sum / 1000.0;
	v->current = p->current;
	v->soc = p->soc;
}

void sim_hv_extremes(struct sim_view *v)
{
	v->cell_max_mv = 0;
	v->cell_min_mv = 65535;
	for (int i = 0; i < v->ncells; i++) {
		v->cell_max_mv = v->cell_mv[i] > v->cell_max_mv ? v->cell_mv[i] : v->cell_max_mv;
		v->cell_min_mv = v->cell_mv[i] < v->cell_min_mv ? v->cell_mv[i] : v->cell_min_mv;
	}
	if (!v->ncells)
		v->cell_min_mv = 0;
}

void sim_hv_temps(const struct sim_pack *p, int *hi, int *lo)
{
	*hi = -40, *lo = 215;
	for (int i = 0; i < p->ntemps && i < SIM_MAX_TEMPS; i++) {
		*hi = p->temp_c[i] > *hi ? p->temp_c[i] : *hi;
		*lo = p->temp_c[i] < *lo ? p->temp_c[i] : *lo;
	}
}

void sim_hv_tester(struct sim_reply *reply, unsigned req, unsigned ans, uint8_t group, const uint8_t *payload,
		   int len)
{
	uint8_t d[8] = { 0x02, 0x21, group, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	static const uint8_t fc[8] = { 0x30, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	sim_slcan_line(reply, 't', req, d, 8);
	d[0] = (uint8_t)(0x10 | ((len >> 8) & 0x0F));
	d[1] = (uint8_t)(len & 0xFF);
	int at = 0;
	for (int i = 2; i < 8; i++)
		d[i] = at < len ? payload[at++] : 0xFF;
	sim_slcan_line(reply, 't', ans, d, 8);
	for (int sn = 1; at < len; sn++) {
		sim_slcan_line(reply, 't', req, fc, 8);
		d[0] = (uint8_t)(0x20 | (sn & 0x0F));
		for (int i = 1; i < 8; i++)
			d[i] = at < len ? payload[at++] : 0xFF;
		sim_slcan_line(reply, 't', ans, d, 8);
	}
}

uint8_t sim_hv_crc8(uint8_t poly, const uint8_t *p, int n)
{
	uint8_t c = 0;
	for (int i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (uint8_t)((c & 0x80) ? (c << 1) ^ poly : c << 1);
	}
	return c;
}

void sim_hv_be16(uint8_t *d, long v)
{
	d[0] = (uint8_t)(((unsigned long)v >> 8) & 0xFF);
	d[1] = (uint8_t)((unsigned long)v & 0xFF);
}
