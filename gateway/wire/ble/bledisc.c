/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/bledisc.c - discovery on an adapter, run while someone
 * wants it: a link whose device BlueZ does not know yet (BL_FIND), an
 * advertisement link (BL_ADV_START, BL_ADV), or --ble-scan.
 *
 * Started as SetDiscoveryFilter (Transport=le, DuplicateData) then
 * StartDiscovery, stopped with StopDiscovery when nobody wants it any more;
 * one call in flight per adapter, and what is wanted is looked at again
 * when it returns.  Discovery that cannot start fails the links that
 * waited for it (and a scan).
 */
#ifdef HAVE_SYSTEMD

#include <stdio.h>
#include <string.h>

#include "ble_int.h"
#include "../../core/log.h"
#include "../wire_int.h"

static bool disc_wanted(struct gw_ble *m, struct ble_obj *ad)
{
	if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0)
		return true;
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if ((b->st == BL_FIND || b->st == BL_ADV_START || b->st == BL_ADV) && strcmp(b->adapter, ad->path) == 0)
			return true;
	return false;
}

/* Discovery runs on ad: its advertisement links are up. */
static void adv_up(struct gw_ble *m, struct ble_obj *ad)
{
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st == BL_ADV_START && strcmp(b->adapter, ad->path) == 0) {
			b->st = BL_ADV;
			gw_link_up(b->l);
		}
}

static int on_disc(sd_bus_message *msg, void *ud, sd_bus_error *ret_error);

static int on_filter(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct ble_obj *ad = ud;
	ad->disc_slot = sd_bus_slot_unref(ad->disc_slot);
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e)
		gw_debug("ble: SetDiscoveryFilter on %s: %s", ad->path, e->message ? e->message : e->name);
	/* the filter only narrows what BlueZ reports: start either way */
	sd_bus *bus = sd_bus_message_get_bus(msg);
	sd_bus_message *call_msg = NULL;
	int r = sd_bus_message_new_method_call(bus, &call_msg, BLUEZ, ad->path, IF_ADAPTER, "StartDiscovery");
	if (r >= 0)
		r = sd_bus_call_async(bus, &ad->disc_slot, call_msg, on_disc, ad, CALL_TIMEOUT);
	sd_bus_message_unref(call_msg);
	if (r < 0)
		ad->disc_busy = false;
	return 0;
}

static int on_disc(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct ble_obj *ad = ud;
	struct gw_ble *m = ad->m;
	ad->disc_slot = sd_bus_slot_unref(ad->disc_slot);
	ad->disc_busy = false;
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	bool starting = !ad->disc_on;
	if (e && !sd_bus_error_has_name(e, "org.bluez.Error.InProgress")) {
		char t[200];
		ble_err_text(e, t, sizeof(t));
		if (starting) {
			char why[260];
			snprintf(why, sizeof(why), "discovery on %s: %s", strrchr(ad->path, '/') + 1, t);
			ad->disc_busy = true; /* no new attempt while the links that wanted it fail */
			for (struct gw_ble_link *b = m->links; b; b = b->next)
				if ((b->st == BL_ADV_START || b->st == BL_FIND) && strcmp(b->adapter, ad->path) == 0)
					ble_tell_link_fail(b, why);
			ad->disc_busy = false;
			if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0)
				ble_tell_scan_fail(m, why);
			return 0;
		}
		gw_debug("ble: StopDiscovery on %s: %s", ad->path, t);
	}
	ad->disc_on = starting;
	if (starting) {
		if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0)
			m->scan_started = true;
		adv_up(m, ad);
	}
	ble_disc_update(m, ad); /* wanted changed meanwhile? */
	return 0;
}

void ble_disc_update(struct gw_ble *m, struct ble_obj *ad)
{
	if (!m->bus || ad->disc_busy || !ad->powered)
		return;
	bool want = disc_wanted(m, ad);
	int r = 0;
	if (want && !ad->disc_on) {
		ad->disc_busy = true;
		/* LE only, every advertisement (DuplicateData: a ManufacturerData
		 * change signal per advertisement, BlueZ >= 5.47) */
		r = ble_call(m, &ad->disc_slot, ad->path, IF_ADAPTER, "SetDiscoveryFilter", on_filter, ad, CALL_TIMEOUT,
			     "a{sv}", 2, "Transport", "s", "le", "DuplicateData", "b", 1);
	} else if (!want && ad->disc_on) {
		ad->disc_busy = true;
		r = ble_call(m, &ad->disc_slot, ad->path, IF_ADAPTER, "StopDiscovery", on_disc, ad, CALL_TIMEOUT, NULL);
	} else if (want && ad->disc_on) {
		adv_up(m, ad);
	}
	if (r < 0) {
		ad->disc_busy = false;
		gw_debug("ble: discovery on %s: %s", ad->path, strerror(-r));
	}
}

#endif /* HAVE_SYSTEMD */
