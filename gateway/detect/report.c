/* SPDX-License-Identifier: MIT */
/* gateway/detect/report.c - what the detector says: what it tried and what
 * answered on stderr (with -v every request and answer in hex, what a user
 * attaches to a support request), and on stdout one [pack.NAME] section
 * per BMS found, ready to paste into bmsgw.ini: protocol and port always,
 * baud only when it is not the protocol's default, address only when it is
 * not the protocol's default address, and address_any when the pack
 * answered a request for all from another address (a PACE pack at ADR 1
 * asked at ADR 0: the request that was answered is the one configured).
 * On a CAN bus (canport.c) the protocol's bit rate is its default: no
 * baud, no bitrate; rvc's address is its source address.
 * A pack heard on a bus another master polls (master.c) is read by
 * listening: its section always names its address and says listen = true.
 * Cells that are not the default chemistry's (lfp) and point to another
 * one clearly (conf/chem.h) get `chemistry =` with what they read.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "../../conf/chem.h"
#include "detect_int.h"

void gw_det_say(struct det *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(d->err, fmt, ap);
	va_end(ap);
	fputc('\n', d->err);
	fflush(d->err);
}

void gw_det_hex(struct det *d, const char *dir, const uint8_t *p, size_t n)
{
	fprintf(d->err, "      %s", dir);
	for (size_t i = 0; i < n; i++) {
		if (i && i % 32 == 0)
			fprintf(d->err, "\n      %*s", (int)strlen(dir), "");
		fprintf(d->err, " %02X", p[i]);
	}
	fputc('\n', d->err);
	fflush(d->err);
}

const char *gw_det_where(const struct det *d, const struct bms_driver *drv, int baud, uint8_t address, bool addr,
			 char *buf, size_t cap)
{
	char a[24] = "";
	if (addr)
		snprintf(a, sizeof(a), ", address %u", address);
	if (d->port.is_can && baud > 0)
		snprintf(buf, cap, "%s at %d kbit/s%s", drv->name, baud / 1000, a);
	else if (d->port.is_tcp || d->port.is_can)
		snprintf(buf, cap, "%s%s", drv->name, a); /* a SocketCAN interface: its own rate */
	else
		snprintf(buf, cap, "%s at %d baud%s", drv->name, baud, a);
	return buf;
}

struct gw_found *gw_det_add_found(struct det *d, const struct bms_driver *drv, int baud, uint8_t address,
				  const char *what)
{
	if (d->nfound >= GW_FOUND_MAX)
		return NULL;
	struct gw_found *f = &d->found[d->nfound++];
	*f = (struct gw_found){ .drv = drv, .baud = baud, .address = address, .from = address,
				.at = gw_det_now(d) };
	snprintf(f->what, sizeof(f->what), "%s", what);
	return f;
}

bool gw_det_found_at(const struct det *d, const struct bms_driver *drv, int baud, uint8_t address)
{
	for (int i = 0; i < d->nfound; i++) {
		const struct gw_found *f = &d->found[i];
		if (f->drv == drv && f->baud == baud && (f->address == address || (f->any && f->from == address)))
			return true;
	}
	return false;
}

/* The address a section names: the protocol's default is left out, but
 * for a pack listened to (the packs of one bus side by side). */
static bool needs_address(const struct gw_found *f)
{
	const struct bms_driver *drv = f->drv;
	if (f->listen)
		return true;
	uint8_t def = drv->default_address ? drv->default_address : drv->min_address;
	return drv->max_address != 0 && f->address != def;
}

/* A name for the section, unique among those printed before it. */
static void section_name(const struct det *d, int i, char *out, size_t cap)
{
	const struct gw_found *f = &d->found[i];
	if (needs_address(f))
		snprintf(out, cap, "%s-%u", f->drv->name, f->address);
	else
		snprintf(out, cap, "%s", f->drv->name);
	for (int j = 0; j < i; j++) {
		char other[64];
		section_name(d, j, other, sizeof(other));
		if (strcmp(other, out) == 0) {
			size_t l = strlen(out);
			snprintf(out + l, cap - l, "-%d", i + 1);
			return;
		}
	}
}

/* chemistry = for cells that are outside the default chemistry (lfp) by
 * the daemon's rule (conf/chem.h) and point to one other clearly; nothing
 * else (cells that fit lfp, or fit two chemistries, or no cells read). */
static void chemistry(struct det *d, const struct gw_found *f)
{
	const struct bms_probe_result *r = &f->read;
	if (!r->has_cells)
		return;
	double lo = r->cell_min_v, hi = r->cell_max_v, soc = r->has_soc ? r->soc : NAN;
	enum conf_chem_side side = conf_chem_side(CONF_CHEM_LFP, lo, hi, soc);
	int c = conf_chem_pointed(lo, hi, soc);
	if (side == CONF_CHEM_INSIDE || side == CONF_CHEM_UNKNOWN || c < 0 || c == CONF_CHEM_LFP)
		return;
	char s[24] = "";
	if (r->has_soc)
		snprintf(s, sizeof(s), " at %.0f %% SOC", soc);
	const char *n = conf_chem_name((enum conf_chemistry)c);
	fprintf(d->out, "; its cells read %.3f-%.3f V%s: %s's, not lfp's (the default); [limits], where the file "
			"has one, needs chemistry = %s too\nchemistry = %s\n", lo, hi, s, n, n, n);
	gw_det_say(d, "  its cells read %.3f-%.3f V%s: chemistry = %s (not the default lfp)", lo, hi, s, n);
}

static void section(struct det *d, int i)
{
	const struct gw_found *f = &d->found[i];
	char name[64], w[96];
	section_name(d, i, name, sizeof(name));
	fprintf(d->out, "%s; %s: %s\n[pack.%s]\nprotocol = %s\nport = %s\n", i ? "\n" : "",
		gw_det_where(d, f->drv, f->baud, f->address, f->drv->max_address != 0, w, sizeof(w)), f->what, name,
		f->drv->name, d->o->port);
	if (!d->port.is_tcp && !d->port.is_can && f->baud != f->drv->default_baud)
		fprintf(d->out, "baud = %d\n", f->baud);
	if (needs_address(f))
		fprintf(d->out, "address = %u\n", f->address);
	if (f->any)
		fprintf(d->out, "; it answered a request to address %u from address %u:\n"
				"; address_any takes that answer (or set address = %u instead)\naddress_any = true\n",
			f->address, f->from, f->from);
	if (f->listen)
		fprintf(d->out, "listen = true\n");
	chemistry(d, f);
}

void gw_det_sections(struct det *d)
{
	for (int i = 0; i < d->nfound; i++)
		section(d, i);
	fflush(d->out);
	if (d->nfound) {
		char w[96];
		for (int i = 0; i < d->nfound; i++)
			gw_det_say(d, "found: %s (after %.1f s)",
				   gw_det_where(d, d->found[i].drv, d->found[i].baud, d->found[i].address,
						d->found[i].drv->max_address != 0, w, sizeof(w)),
				   d->found[i].at);
		return;
	}
	if (d->rc == 1 && d->phase == DET_DONE && d->plan)
		gw_det_say(d, "nothing answered as a BMS after %.1f s (%u requests). Try --scan-addresses (a pack at "
			      "another address), --baud N (another rate); on RS485 check the adapter's A and B",
			   gw_det_now(d), d->sent);
}

bool gw_det_found_info(const struct det *d, int i, struct gw_detect_found *out)
{
	if (i < 0 || i >= d->nfound)
		return false;
	const struct gw_found *f = &d->found[i];
	memset(out, 0, sizeof(*out));
	section_name(d, i, out->name, sizeof(out->name));
	out->protocol = f->drv->name;
	out->baud = d->port.is_tcp || d->port.is_can ? 0 : f->baud;
	out->address = f->drv->max_address != 0 || f->listen ? f->address : -1;
	out->address_any = f->any;
	out->listen = f->listen;
	snprintf(out->what, sizeof(out->what), "%s", f->what);
	return true;
}
