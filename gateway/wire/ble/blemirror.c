/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/blemirror.c - the mirror of BlueZ's objects and what a
 * change in it means to the links.
 *
 * The adapters, devices, GATT services and characteristics BlueZ exports
 * are read from GetManagedObjects and kept current from InterfacesAdded,
 * InterfacesRemoved and PropertiesChanged; bluetoothd stopping drops the
 * mirror, bluetoothd starting asks for it again (NameOwnerChanged).  What
 * a change means: a device's notification value goes to the link that is
 * up on that characteristic (its notifier or its second one, into the
 * same byte stream), its ManufacturerData to its advertisement
 * links, a device found, connected or resolved moves its link on, a
 * device or adapter gone or powered off fails the links on it.
 */
#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ble_int.h"
#include "../wire_int.h"

/* ------------------------------------------------------------ objects */

struct ble_obj *ble_obj_find(struct gw_ble *m, const char *path)
{
	for (struct ble_obj *o = m->objs; o; o = o->next)
		if (strcmp(o->path, path) == 0)
			return o;
	return NULL;
}

static struct ble_obj *obj_get(struct gw_ble *m, const char *path)
{
	struct ble_obj *o = ble_obj_find(m, path);
	if (o)
		return o;
	o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(path))) {
		free(o);
		return NULL;
	}
	o->m = m;
	o->next = m->objs;
	m->objs = o;
	return o;
}

static void obj_free(struct ble_obj *o)
{
	sd_bus_slot_unref(o->disc_slot);
	free(o->path);
	free(o);
}

void ble_objs_clear(struct gw_ble *m)
{
	while (m->objs) {
		struct ble_obj *o = m->objs;
		m->objs = o->next;
		obj_free(o);
	}
}

bool ble_under(const char *p, const char *path)
{
	size_t n = strlen(path);
	return strncmp(p, path, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

/* The adapter a link uses: the named one, else BlueZ's default (the first
 * Adapter1 in path order, as bluetoothctl and bleak pick it). */
struct ble_obj *ble_adapter_find(struct gw_ble *m, const char *name)
{
	struct ble_obj *best = NULL;
	for (struct ble_obj *o = m->objs; o; o = o->next) {
		if (!(o->ifs & OBJ_ADAPTER))
			continue;
		const char *base = strrchr(o->path, '/');
		if (name && name[0]) {
			if (base && strcmp(base + 1, name) == 0)
				return o;
		} else if (!best || strcmp(o->path, best->path) < 0) {
			best = o;
		}
	}
	return best;
}

struct ble_obj *ble_device_find(struct gw_ble *m, const char *adapter, const char *address)
{
	for (struct ble_obj *o = m->objs; o; o = o->next)
		if ((o->ifs & OBJ_DEVICE) && strcasecmp(o->address, address) == 0 && ble_under(o->path, adapter))
			return o;
	return NULL;
}

/* One object's a{sa{sv}} (GetManagedObjects, InterfacesAdded). */
static int read_object(struct gw_ble *m, sd_bus_message *msg, const char *path, struct ble_obj **out)
{
	int r = sd_bus_message_enter_container(msg, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	struct ble_obj *o = NULL;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sa{sv}")) > 0) {
		const char *iface;
		if ((r = sd_bus_message_read(msg, "s", &iface)) < 0)
			return r;
		unsigned bit = ble_iface_bit(iface);
		if (bit && strncmp(path, "/org/bluez/", 11) == 0) {
			if (!o && !(o = obj_get(m, path)))
				return -ENOMEM;
			o->ifs |= bit;
			struct ble_changes ch;
			memset(&ch, 0, sizeof(ch));
			r = ble_read_props(msg, o, iface, &ch);
		} else {
			r = sd_bus_message_skip(msg, "a{sv}");
		}
		if ((r = ble_exit_read(msg, r)) < 0)
			return r;
	}
	if (r >= 0)
		*out = o;
	return ble_exit_read(msg, r);
}

/* ------------------------------------------------------------ signals */

static struct gw_ble_link *link_by_dev(struct gw_ble *m, const char *path, struct gw_ble_link *after)
{
	for (struct gw_ble_link *b = after ? after->next : m->links; b; b = b->next)
		if (b->st != BL_IDLE && strcmp(b->dev, path) == 0)
			return b;
	return NULL;
}

/* A device's manufacturer data reached us: each advertisement link of it
 * gets the record of its company as a BMS_ADV record. */
static void adv_feed(struct gw_ble *m, const struct ble_obj *dev)
{
	for (struct gw_ble_link *b = m->links; b; b = b->next) {
		if (b->st != BL_ADV || !ble_under(dev->path, b->adapter) ||
		    strcasecmp(dev->address, b->l->cfg->ble_addr) != 0)
			continue;
		uint16_t company = b->l->cfg->driver->ble->company;
		for (int i = 0; i < dev->nmfr; i++) {
			if (dev->mfr[i].company != company)
				continue;
			uint8_t rec[BMS_ADV_HDR + sizeof(dev->mfr[i].data)];
			rec[0] = BMS_ADV_MAGIC0;
			rec[1] = BMS_ADV_MAGIC1;
			rec[2] = (uint8_t)(company & 0xFF);
			rec[3] = (uint8_t)(company >> 8);
			rec[4] = dev->mfr[i].len;
			memcpy(rec + BMS_ADV_HDR, dev->mfr[i].data, dev->mfr[i].len);
			gw_link_bytes(b->l, rec, BMS_ADV_HDR + (size_t)dev->mfr[i].len);
		}
	}
}

static void device_gone(struct gw_ble *m, const char *path, const char *why)
{
	struct gw_ble_link *b;
	while ((b = link_by_dev(m, path, NULL)) != NULL) {
		b->dev[0] = '\0'; /* nothing to disconnect */
		ble_tell_link_fail(b, why);
	}
}

static void adapter_down(struct gw_ble *m, struct ble_obj *ad, const char *why)
{
	ad->disc_on = false;
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st != BL_IDLE && strcmp(b->adapter, ad->path) == 0) {
			b->dev[0] = '\0';
			ble_tell_link_fail(b, why);
		}
	if (m->scan_adapter && strcmp(m->scan_path, ad->path) == 0)
		ble_tell_scan_fail(m, why);
}

/* A notification of a link of channels (struct bms_gatt.more) on the
 * characteristic at path, if it is one of its notifiers: as its records
 * (BMS_CHR_*, a part of 255 bytes each), the link's bytes, or, while it is
 * being set up, kept for its first bytes. */
static bool channel_value(struct gw_ble_link *b, const char *path, const void *p, size_t n)
{
	int k = strcmp(b->notify, path) == 0 ? 0 : -1;
	for (int i = 0; k < 0 && i < b->nmore; i++)
		if (b->more_notify[i] && strcmp(b->more[i], path) == 0)
			k = i + 1;
	if (k < 0)
		return false;
	const uint8_t *d = p;
	do {
		uint8_t rec[BMS_CHR_HDR + 255];
		size_t part = n > 255 ? 255 : n, m = bms_chr_record(rec, sizeof(rec), (uint8_t)k, d, part);
		if (b->st == BL_UP)
			gw_link_bytes(b->l, rec, m);
		else if (b->nearly + m <= sizeof(b->early)) {
			memcpy(b->early + b->nearly, rec, m);
			b->nearly += m;
		}
		d += part;
		n -= part;
	} while (n);
	return true;
}

static int on_props_changed(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *path = sd_bus_message_get_path(msg), *iface = NULL;
	if (!path || !m->ready || sd_bus_message_read(msg, "s", &iface) < 0)
		return 0;
	unsigned bit = ble_iface_bit(iface);
	struct ble_obj *o = bit ? ble_obj_find(m, path) : NULL;
	if (!o)
		return 0;
	struct ble_changes ch;
	memset(&ch, 0, sizeof(ch));
	if (ble_read_props(msg, o, iface, &ch) < 0)
		return 0;
	if (bit == OBJ_CHAR && ch.value) {
		for (struct gw_ble_link *b = m->links; b; b = b->next) {
			if (b->chans && (b->st == BL_UP || b->st == BL_NOTIFY) && channel_value(b, path, ch.value_p,
												 ch.value_n))
				break;
			if (b->st == BL_UP && (strcmp(b->notify, path) == 0 ||
					       (b->notify2[0] && strcmp(b->notify2, path) == 0))) {
				gw_link_bytes(b->l, ch.value_p, ch.value_n);
				break;
			}
		}
		return 0;
	}
	if (bit == OBJ_ADAPTER && ch.powered && !o->powered) {
		char why[160];
		snprintf(why, sizeof(why), "adapter %s was powered off", strrchr(o->path, '/') + 1);
		adapter_down(m, o, why);
		return 0;
	}
	if (bit != OBJ_DEVICE)
		return 0;
	if (m->scan_adapter && (ch.rssi || ch.mfr))
		o->seen = true;
	if (ch.mfr)
		adv_feed(m, o);
	if (ch.connected && !o->connected) {
		struct gw_ble_link *b = link_by_dev(m, path, NULL);
		for (; b; b = link_by_dev(m, path, b))
			if (b->st == BL_RESOLVING || b->st == BL_AUTH || b->st == BL_NOTIFY || b->st == BL_UP) {
				ble_tell_link_fail(b, "disconnected (the BMS, or the radio, dropped the connection)");
				break;
			}
	}
	if (ch.resolved && o->resolved) {
		for (struct gw_ble_link *b = m->links; b; b = b->next)
			if (b->st == BL_RESOLVING && strcmp(b->dev, path) == 0) {
				ble_tell_link_advance(b);
				break;
			}
	}
	return 0;
}

static int on_ifaces_added(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *path = NULL;
	struct ble_obj *o = NULL;
	if (!m->ready || sd_bus_message_read(msg, "o", &path) < 0 || read_object(m, msg, path, &o) < 0 || !o)
		return 0;
	if (!(o->ifs & OBJ_DEVICE))
		return 0;
	if (m->scan_adapter)
		o->seen = true;
	/* a device we were looking for */
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st == BL_FIND && ble_under(path, b->adapter) && strcasecmp(o->address, b->l->cfg->ble_addr) == 0) {
			ev_timer_stop(m->loop, &b->timer);
			ble_tell_link_advance(b);
			break;
		}
	if (o->nmfr)
		adv_feed(m, o);
	return 0;
}

static int on_ifaces_removed(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *path = NULL, *iface;
	if (!m->ready || sd_bus_message_read(msg, "o", &path) < 0)
		return 0;
	struct ble_obj *o = ble_obj_find(m, path);
	if (!o || sd_bus_message_enter_container(msg, 'a', "s") < 0)
		return 0;
	unsigned gone = 0;
	while (sd_bus_message_read(msg, "s", &iface) > 0)
		gone |= ble_iface_bit(iface);
	if (gone & OBJ_DEVICE)
		device_gone(m, path, "the device was removed from BlueZ");
	if (gone & OBJ_ADAPTER) {
		char why[160];
		snprintf(why, sizeof(why), "adapter %s was removed", strrchr(path, '/') + 1);
		adapter_down(m, o, why);
	}
	o->ifs &= ~gone;
	if (o->ifs)
		return 0;
	/* drop it and everything below it */
	for (struct ble_obj **pp = &m->objs; *pp;) {
		if (ble_under((*pp)->path, path)) {
			struct ble_obj *dead = *pp;
			*pp = dead->next;
			obj_free(dead);
		} else {
			pp = &(*pp)->next;
		}
	}
	return 0;
}

void ble_fail_all(struct gw_ble *m, const char *why)
{
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st != BL_IDLE) {
			b->dev[0] = '\0';
			ble_tell_link_fail(b, why);
		}
	if (m->scan_adapter)
		ble_tell_scan_fail(m, why);
}

/* bluetoothd started or stopped */
static int on_owner_changed(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	const char *name, *old, *nw;
	if (sd_bus_message_read(msg, "sss", &name, &old, &nw) < 0 || strcmp(name, BLUEZ) != 0)
		return 0;
	if (old && old[0]) {
		m->ready = false;
		m->objects_call = sd_bus_slot_unref(m->objects_call);
		ble_fail_all(m, "BlueZ (bluetoothd) stopped");
		ble_objs_clear(m);
	}
	if (nw && nw[0])
		ble_objects_request(m);
	return 0;
}

/* ------------------------------------------------------------ BlueZ's objects */

static int on_objects(sd_bus_message *msg, void *ud, sd_bus_error *ret_error)
{
	(void)ret_error;
	struct gw_ble *m = ud;
	m->objects_call = sd_bus_slot_unref(m->objects_call);
	const sd_bus_error *e = sd_bus_message_get_error(msg);
	if (e) {
		char t[200], why[260];
		if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
		    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			snprintf(why, sizeof(why), "BlueZ is not running (no org.bluez on the system bus; "
				 "systemctl start bluetooth)");
		else
			snprintf(why, sizeof(why), "BlueZ's objects: %s", ble_err_text(e, t, sizeof(t)));
		ble_fail_all(m, why);
		return 0;
	}
	ble_objs_clear(m);
	int r = sd_bus_message_enter_container(msg, 'a', "{oa{sa{sv}}}");
	while (r > 0 && (r = sd_bus_message_enter_container(msg, 'e', "oa{sa{sv}}")) > 0) {
		const char *path;
		struct ble_obj *o = NULL;
		if ((r = sd_bus_message_read(msg, "o", &path)) < 0 || (r = read_object(m, msg, path, &o)) < 0)
			break;
		r = sd_bus_message_exit_container(msg);
	}
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "BlueZ's objects: bad answer: %s", strerror(-r));
		ble_objs_clear(m);
		ble_fail_all(m, why);
		return 0;
	}
	m->ready = true;
	for (struct gw_ble_link *b = m->links; b; b = b->next)
		if (b->st == BL_WAIT)
			ble_tell_link_advance(b);
	if (m->scan_adapter)
		ble_tell_scan_objects(m);
	return 0;
}

void ble_objects_request(struct gw_ble *m)
{
	if (m->objects_call || m->ready || !m->bus)
		return;
	int r = ble_call(m, &m->objects_call, "/", IF_OM, "GetManagedObjects", on_objects, m, CALL_TIMEOUT, NULL);
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "GetManagedObjects: %s", strerror(-r));
		ble_fail_all(m, why);
	}
}

int ble_mirror_watch(sd_bus *bus, struct gw_ble *m)
{
	static const char *const rules[] = {
		"type='signal',interface='" IF_PROPS "',member='PropertiesChanged',path_namespace='/org/bluez'",
		"type='signal',sender='" BLUEZ "',interface='" IF_OM "',member='InterfacesAdded'",
		"type='signal',sender='" BLUEZ "',interface='" IF_OM "',member='InterfacesRemoved'",
		"type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
		"member='NameOwnerChanged',arg0='" BLUEZ "'",
	};
	static const sd_bus_message_handler_t cbs[] = { on_props_changed, on_ifaces_added, on_ifaces_removed,
							on_owner_changed };
	int r = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]) && r >= 0; i++)
		r = sd_bus_add_match_async(bus, NULL, rules[i], cbs[i], NULL, m);
	return r;
}

#endif /* HAVE_SYSTEMD */
