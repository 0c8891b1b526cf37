/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/bleprops.c - BlueZ's property dictionaries read into a
 * mirrored object: the a{sv} of one interface (org.bluez.Adapter1, Device1,
 * GattService1, GattCharacteristic1; bluez doc/org.bluez.*.rst), as
 * GetManagedObjects, InterfacesAdded and PropertiesChanged carry it.  The
 * properties bmsgw does not use are skipped; UUIDs are kept in lower case.
 */
#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ble_int.h"

static int skip_variant(sd_bus_message *msg)
{
	return sd_bus_message_skip(msg, "v");
}

static int read_bool(sd_bus_message *msg, bool *out)
{
	int v = 0, r = sd_bus_message_read(msg, "v", "b", &v);
	if (r >= 0)
		*out = v != 0;
	return r;
}

static int read_str(sd_bus_message *msg, char *out, size_t cap)
{
	const char *s = NULL;
	int r = sd_bus_message_read(msg, "v", "s", &s);
	if (r >= 0 && s)
		snprintf(out, cap, "%s", s);
	return r;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* An "ay" inside a variant: *p points into the message, *n its length. */
static int read_bytes_variant(sd_bus_message *msg, const void **p, size_t *n)
{
	int r = sd_bus_message_enter_container(msg, 'v', "ay");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	r = sd_bus_message_read_array(msg, 'y', p, n);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static int read_uuids(sd_bus_message *msg, struct ble_obj *o)
{
	int r = sd_bus_message_enter_container(msg, 'v', "as");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	r = sd_bus_message_enter_container(msg, 'a', "s");
	if (r < 0)
		return r;
	o->nuuids = 0;
	const char *s;
	while ((r = sd_bus_message_read(msg, "s", &s)) > 0)
		if (o->nuuids < GW_BLE_MAX_UUIDS) {
			snprintf(o->uuids[o->nuuids], sizeof(o->uuids[0]), "%s", s);
			lower(o->uuids[o->nuuids++]);
		}
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static int read_flags(sd_bus_message *msg, struct ble_obj *o)
{
	static const struct { const char *n; unsigned f; } names[] = {
		{ "read", CF_READ }, { "write", CF_WRITE }, { "write-without-response", CF_WWR },
		{ "notify", CF_NOTIFY }, { "indicate", CF_INDICATE },
	};
	int r = sd_bus_message_enter_container(msg, 'v', "as");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	if ((r = sd_bus_message_enter_container(msg, 'a', "s")) < 0)
		return r;
	o->flags = 0;
	const char *s;
	while ((r = sd_bus_message_read(msg, "s", &s)) > 0)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(s, names[i].n) == 0)
				o->flags |= names[i].f;
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

/* ManufacturerData a{qv} (v = ay): the device's records, replaced whole. */
static int read_mfr(sd_bus_message *msg, struct ble_obj *o)
{
	int r = sd_bus_message_enter_container(msg, 'v', "a{qv}");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	if ((r = sd_bus_message_enter_container(msg, 'a', "{qv}")) < 0)
		return r;
	o->nmfr = 0;
	while ((r = sd_bus_message_enter_container(msg, 'e', "qv")) > 0) {
		uint16_t company = 0;
		const void *p = NULL;
		size_t n = 0;
		if ((r = sd_bus_message_read(msg, "q", &company)) < 0 || (r = read_bytes_variant(msg, &p, &n)) < 0)
			return r;
		if (o->nmfr < GW_BLE_MAX_MFR) {
			struct ble_mfr *e = &o->mfr[o->nmfr++];
			e->company = company;
			e->len = (uint8_t)(n > sizeof(e->data) ? sizeof(e->data) : n);
			if (e->len)
				memcpy(e->data, p, e->len);
		}
		if ((r = sd_bus_message_exit_container(msg)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

/* ServiceData a{sv} (v = ay): the UUIDs its data is under, replaced
 * whole (the data is not used). */
static int read_sdata(sd_bus_message *msg, struct ble_obj *o)
{
	int r = sd_bus_message_enter_container(msg, 'v', "a{sv}");
	if (r <= 0)
		return r < 0 ? r : -EINVAL;
	if ((r = sd_bus_message_enter_container(msg, 'a', "{sv}")) < 0)
		return r;
	o->nsdata = 0;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *u = NULL;
		if ((r = sd_bus_message_read(msg, "s", &u)) < 0 || (r = skip_variant(msg)) < 0)
			return r;
		if (u && o->nsdata < GW_BLE_MAX_SDATA) {
			snprintf(o->sdata[o->nsdata], sizeof(o->sdata[0]), "%s", u);
			lower(o->sdata[o->nsdata++]);
		}
		if ((r = sd_bus_message_exit_container(msg)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	if ((r = sd_bus_message_exit_container(msg)) < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

int ble_read_props(sd_bus_message *msg, struct ble_obj *o, const char *iface, struct ble_changes *ch)
{
	int r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	bool is_adapter = strcmp(iface, IF_ADAPTER) == 0, is_dev = strcmp(iface, IF_DEVICE) == 0;
	bool is_svc = strcmp(iface, IF_SERVICE) == 0, is_char = strcmp(iface, IF_CHAR) == 0;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key;
		if ((r = sd_bus_message_read(msg, "s", &key)) < 0)
			return r;
		if (is_adapter && strcmp(key, "Powered") == 0) {
			r = read_bool(msg, &o->powered);
			ch->powered = true;
		} else if (is_dev && strcmp(key, "Address") == 0) {
			r = read_str(msg, o->address, sizeof(o->address));
		} else if (is_dev && strcmp(key, "Name") == 0) {
			r = read_str(msg, o->name, sizeof(o->name));
		} else if (is_dev && strcmp(key, "Connected") == 0) {
			r = read_bool(msg, &o->connected);
			ch->connected = true;
		} else if (is_dev && strcmp(key, "ServicesResolved") == 0) {
			r = read_bool(msg, &o->resolved);
			ch->resolved = true;
		} else if (is_dev && strcmp(key, "Paired") == 0) {
			r = read_bool(msg, &o->paired);
		} else if (is_dev && strcmp(key, "RSSI") == 0) {
			int16_t v = 0;
			r = sd_bus_message_read(msg, "v", "n", &v);
			o->rssi = v;
			o->have_rssi = true;
			ch->rssi = true;
		} else if (is_dev && strcmp(key, "UUIDs") == 0) {
			r = read_uuids(msg, o);
		} else if (is_dev && strcmp(key, "ManufacturerData") == 0) {
			r = read_mfr(msg, o);
			ch->mfr = true;
		} else if (is_dev && strcmp(key, "ServiceData") == 0) {
			r = read_sdata(msg, o);
		} else if ((is_svc || is_char) && strcmp(key, "UUID") == 0) {
			r = read_str(msg, o->uuid, sizeof(o->uuid));
			lower(o->uuid);
		} else if (is_char && strcmp(key, "Flags") == 0) {
			r = read_flags(msg, o);
		} else if (is_char && strcmp(key, "MTU") == 0) {
			uint16_t v = 0;
			r = sd_bus_message_read(msg, "v", "q", &v);
			o->mtu = v;
		} else if (is_char && strcmp(key, "Value") == 0) {
			r = read_bytes_variant(msg, &ch->value_p, &ch->value_n);
			ch->value = r >= 0;
		} else {
			r = skip_variant(msg);
		}
		if ((r = ble_exit_read(msg, r)) < 0)
			return r;
	}
	return ble_exit_read(msg, r);
}

int ble_exit_read(sd_bus_message *msg, int r)
{
	return r < 0 ? r : sd_bus_message_exit_container(msg);
}

unsigned ble_iface_bit(const char *iface)
{
	return strcmp(iface, IF_ADAPTER) == 0 ? OBJ_ADAPTER : strcmp(iface, IF_DEVICE) == 0 ? OBJ_DEVICE
	     : strcmp(iface, IF_SERVICE) == 0 ? OBJ_SERVICE : strcmp(iface, IF_CHAR) == 0 ? OBJ_CHAR : 0;
}

#endif /* HAVE_SYSTEMD */
