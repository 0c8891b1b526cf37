/* SPDX-License-Identifier: MIT */
/* conf/check_wset.c - a pack's `bms_settings`: the BMS's own settings it
 * may write (bms/setwrite.h), checked after the parse.
 *
 *   - each key must be one its protocol writes on its link (the driver's
 *     struct bms_writer: daly-modbus writes over Bluetooth LE only, its D2
 *     dialect's keys; jk (0x4E57) nothing until its writes are captured),
 *     and the message names the ones it can, and those the other link
 *     writes where they differ;
 *   - a cell-voltage key needs the pack's own `chemistry` line: its bounds
 *     are that chemistry's cell range, never a default taken from [soc] or
 *     [limits] (a cell over-voltage of 4.2 V must not pass on an LFP pack
 *     because [limits] said nmc for another);
 *   - a listening pack is never written to.
 */
#include <string.h>

#include "conf_int.h"

#include "../bms/bms.h"

/* "soc, balancer" of the bits of keys, "none" for none. */
static void list_keys(uint32_t keys, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (int k = 0; k < BMS_W_COUNT; k++)
		if (keys & BMS_W_BIT(k)) {
			size_t n = strlen(buf);
			conf_bfmt(buf + n, cap - n, "%s%s", n ? ", " : "", bms_wkey_name((enum bms_wkey)k));
		}
	if (!buf[0])
		conf_bfmt(buf, cap, "none");
}

bool conf__check_bms_settings(struct conf_load *x, int i, const char *sect)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	uint32_t want = (uint32_t)p->bms_settings;
	if (!want)
		return true;
	const struct bms_writer *w = p->driver->writer;
	int link = p->is_ble ? BMS_LINK_BLE : BMS_LINK_WIRE;
	uint32_t can = p->is_can || p->is_mqtt ? 0 : bms_writer_keys(w, link);
	char list[CONF_EXP_MAX], what[CONF_EXP_MAX];
	if (p->listen) {
		conf__fail(x, seen[K_BMS_SETTINGS], sect, "bms_settings",
		     "a listening pack is never written to: its bus has another master (expected no bms_settings "
		     "with listen = true)");
		return false;
	}
	if (want & ~can) {
		list_keys(want & ~can, what, sizeof(what));
		list_keys(can, list, sizeof(list));
		const char *none = !w ? "it writes no setting" : link == BMS_LINK_BLE ? w->none_ble : w->none_wire;
		/* what the other link writes, where it differs (daly-modbus: none on a
		 * wire, its D2 dialect's keys over Bluetooth LE) */
		char other[CONF_EXP_MAX] = "";
		uint32_t o = bms_writer_keys(w, link == BMS_LINK_BLE ? BMS_LINK_WIRE : BMS_LINK_BLE);
		if (o && o != can && !p->is_can && !p->is_mqtt) {
			char ol[CONF_EXP_MAX];
			list_keys(o, ol, sizeof(ol));
			conf_bfmt(other, sizeof(other), "; %s it writes %s", link == BMS_LINK_BLE ? "on a wire" :
				   "over Bluetooth LE", ol);
		}
		if (can)
			conf__fail(x, seen[K_BMS_SETTINGS], sect, "bms_settings",
			     "protocol %s cannot write %s%s (expected some of: %s)%s%s%s", p->driver->name, what,
			     p->is_ble ? " over Bluetooth LE" : "", list, none ? "; " : "", none ? none : "", other);
		else
			conf__fail(x, seen[K_BMS_SETTINGS], sect, "bms_settings",
			     "protocol %s writes none of its BMS settings%s: %s%s (expected none)", p->driver->name,
			     p->is_ble ? " over Bluetooth LE" : p->is_can || p->is_mqtt ? " on this port" : "",
			     none ? none : "none is documented well enough", other);
		return false;
	}
	if ((want & BMS_W_CELL_KEYS) && !seen[K_PK_SOC_CHEMISTRY]) {
		list_keys(want & BMS_W_CELL_KEYS, what, sizeof(what));
		conf__fail(x, seen[K_BMS_SETTINGS], sect, "bms_settings",
		     "%s: a cell voltage is written only within the pack's own chemistry (expected a line "
		     "chemistry = lfp, nmc or lto in [%s]; [soc] and [limits] are not taken for this)", what, sect);
		return false;
	}
	return true;
}
