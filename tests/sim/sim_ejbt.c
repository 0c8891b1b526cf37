/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ejbt.c - the "BT-Battery" answer of PowerBoozt and Dörr
 * (sim_ejbt.h; bms/PROTOCOLS.md §78, §79), the BMS side of the FFF0 link.
 *
 * It answers the read :015150000EFE~ with ':', the upper-case hex digits
 * of 117 bytes, a NUL, '~' and three NULs (as the module pads its
 * notifications): 01 54 01 00 EC (236, the frame's characters without the
 * NULs) and the capture's bytes where nothing below is set; 12 cells mV
 * (up to 16), 48 four sensors degC + 40, 54 current mA (the brand's way;
 * Dörr's magnitude at most 65.535 A), 62 voltage mV (the cells' sum), 67
 * cycles, 69 SOC, 70 capacity mAh; the last byte the check: the sum of
 * the bytes but the first and itself, XOR 0xFF.  Another request is a bad
 * one.  No address.
 */
#include "sim_ejbt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_DEC 117
#define EB_CELLS 16

static const char eb_req[] = ":015150000EFE~";

/* the decoded answer of aiobmsble's PowerBoozt test (its values replaced) */
static const char eb_template[] =
	"01540100ec000102030405060d360d360d380d30000000000000000000000000000000000000000000000000f00100003d3d3d3d10dd"
	"0000320a7fffffff34d4000804003d62000493e00004bdcc000493e0000105f001060001000000000000000000000000000000000000"
	"0000000000000000";

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

struct eb_raw {
	int ncells;
	long mv[EB_CELLS], volt_mv, ma, soc;
	uint32_t cap_mah;
};

static void eb_quantise(enum sim_ejbt_current how, const struct sim_pack *p, struct eb_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < EB_CELLS ? p->ncells : EB_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->mv[i] = clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->mv[i];
	}
	r->volt_mv = clampl(r->volt_mv, 1, 65535);
	long lim = how == SIM_EJBT_DIR_BIT ? 65535 : 2000000;
	r->ma = clampl(lround(p->current * 1000.0), -lim, lim);
	r->soc = clampl(lround(p->soc), 0, 100);
	double mah = round(p->capacity_ah * 1000.0);
	r->cap_mah = mah < 0 ? 0 : mah > 4e9 ? 4000000000u : (uint32_t)mah;
}

static void eb_decoded(enum sim_ejbt_current how, const struct sim_pack *p, uint8_t *d)
{
	struct eb_raw r;
	eb_quantise(how, p, &r);
	for (int i = 0; i < EB_DEC - 1; i++) {
		unsigned v;
		sscanf(eb_template + 2 * i, "%2x", &v);
		d[i] = (uint8_t)v;
	}
	for (int i = 0; i < EB_CELLS; i++)
		be(d + 12 + 2 * i, i < r.ncells ? (unsigned long)r.mv[i] : 0, 2);
	for (int i = 0; i < 4; i++)
		d[48 + i] = (uint8_t)clampl(p->temp_c[i < p->ntemps ? i : 0] + 40, 0, 255);
	unsigned long w = how == SIM_EJBT_DIR_BIT ? ((unsigned long)labs(r.ma) | (r.ma > 0 ? 0x80000000ul : 0))
						  : (unsigned long)(uint32_t)(int32_t)r.ma;
	be(d + 54, w, 4);
	be(d + 62, (unsigned long)r.volt_mv, 2);
	be(d + 67, p->cycles & 0xFFFF, 2);
	d[69] = (uint8_t)r.soc;
	be(d + 70, r.cap_mah, 4);
	unsigned sum = 0;
	for (int i = 1; i < EB_DEC - 1; i++)
		sum += d[i];
	d[EB_DEC - 1] = (uint8_t)((sum & 0xFF) ^ 0xFF);
}

void sim_ejbt_view(enum sim_ejbt_current how, const struct sim_pack *p, struct sim_view *v)
{
	struct eb_raw r;
	eb_quantise(how, p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.ma / 1000.0;
	v->soc = (double)r.soc;
	v->capacity_ah = r.cap_mah / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.mv[i];
	v->ntemps = 4;
	for (int i = 0; i < 4; i++)
		v->temp_c[i] = p->temp_c[i < p->ntemps ? i : 0];
}

enum sim_scan sim_ejbt_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != ':') {
		size_t i = 1;
		while (i < len && buf[i] != ':')
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	size_t i = 1;
	while (i < len && buf[i] != '~' && i < 64)
		i++;
	if (i == len)
		return SIM_SCAN_NEED;
	*n = i + 1;
	return SIM_SCAN_FRAME;
}

int sim_ejbt_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

enum sim_resp sim_ejbt_respond(enum sim_ejbt_current how, struct sim_pack *p, const uint8_t *req, size_t n,
                               struct sim_reply *reply)
{
	uint8_t d[EB_DEC], f[1 + 2 * EB_DEC + 5];
	if (n != sizeof(eb_req) - 1 || memcmp(req, eb_req, n) != 0)
		return SIM_RESP_BAD;
	eb_decoded(how, p, d);
	size_t k = 0;
	f[k++] = ':';
	for (int i = 0; i < EB_DEC; i++) {
		char h[3];
		snprintf(h, sizeof h, "%02X", d[i]);
		f[k++] = (uint8_t)h[0];
		f[k++] = (uint8_t)h[1];
	}
	f[k++] = 0x00; /* the module's padding, inside the frame and after it */
	f[k++] = '~';
	f[k++] = 0x00;
	f[k++] = 0x00;
	f[k++] = 0x00;
	sim_reply_add(reply, f, k);
	return SIM_RESP_OK;
}

void sim_ejbt_corrupt(uint8_t *frame, size_t n)
{
	size_t i = n;
	while (i > 0 && frame[i - 1] != '~')
		i--;
	/* the check's last digit: before the NUL before '~' */
	if (i >= 4)
		frame[i - 3] = frame[i - 3] == '0' ? '1' : '0';
}
