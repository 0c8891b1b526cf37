/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_claim.c - each unit's DeviceInstance and CustomName
 * from com.victronenergy.settings, as a Venus OS driver gets them
 * (velib_python settingsdevice SettingsDevice.addSettings;
 * dbus-serialbattery dbushelper setup_instance): one AddSettings call
 * (com.victronenergy.Settings, aa{sv}) with, for each unit,
 * /Settings/Devices/bmsgw_NAME/ClassAndVrmInstance (default
 * "battery:N") and .../CustomName (default ""); localsettings keeps the
 * value a device had, and gives a new one the next instance of the class
 * that no other device holds (localsettings' DevicesGroup
 * assureFreeInstance).  Their changes there (PropertiesChanged: the user
 * picked another instance or name on the GX) are followed, and the
 * settings service starting again is answered by the same call.
 *
 * Each unit's instance is kept in bmsgw's state file (the record `venus
 * bmsgw_bank=1 bmsgw_rack1=2`), and asked for as the default: a GX whose
 * settings were reset, or a bus without the settings service, sees the
 * same instance after a restart.  Without a kept one the bank asks for
 * battery:1 and each pack one more than the unit before it (the bank first,
 * so that it has the lowest, which systemcalc's automatic choice of the
 * battery service takes among the BMSs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../model/gw.h"
#include "venus.h"
#include "venus_int.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

#define SETTINGS "com.victronenergy.settings"
#define DEVICES "/Settings/Devices/"
#define CLAIM_TIMEOUT_US (10 * 1000000ULL)

/* ---- the state file's record ------------------------------------------- */

static struct {
	char word[CONF_NAME_MAX + 8];
	int instance;
} kept[CONF_MAX_PACKS + 1];
static int nkept;

int vn_kept_instance(const char *word)
{
	for (int i = 0; i < nkept; i++)
		if (strcmp(kept[i].word, word) == 0)
			return kept[i].instance;
	return -1;
}

static bool keep(const char *word, int instance)
{
	for (int i = 0; i < nkept; i++)
		if (strcmp(kept[i].word, word) == 0) {
			bool changed = kept[i].instance != instance;
			kept[i].instance = instance;
			return changed;
		}
	if (nkept >= (int)(sizeof(kept) / sizeof(kept[0])))
		return false;
	snprintf(kept[nkept].word, sizeof(kept[nkept].word), "%s", word);
	kept[nkept++].instance = instance;
	return true;
}

void vn_keep_instance(struct gw *gw, const char *word, int instance)
{
	if (instance >= 0 && keep(word, instance))
		gw_statefile_changed(gw);
}

static bool save(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	(void)p;
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < nkept && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s=%d", n ? " " : "", kept[i].word, kept[i].instance);
	return nkept > 0 && n < cap;
}

static void load(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	(void)p;
	char word[CONF_NAME_MAX + 8];
	int instance, used;
	while (sscanf(rest, " %39[a-z0-9_]=%d%n", word, &instance, &used) == 2) {
		if (instance >= 0 && instance < 1000000)
			keep(word, instance);
		rest += used;
	}
}

const struct gw_state_record gw_venus_record = { "venus", false, save, load };

#ifdef HAVE_SYSTEMD

/* ---- the claim --------------------------------------------------------- */

static struct vn_unit *unit_of(struct vn_out *o, const char *path, const char **key)
{
	if (strncmp(path, DEVICES, strlen(DEVICES)) != 0)
		return NULL;
	const char *w = path + strlen(DEVICES), *slash = strchr(w, '/');
	if (!slash)
		return NULL;
	for (int i = 0; i < o->nunits; i++)
		if (strlen(o->units[i]->word) == (size_t)(slash - w) && strncmp(o->units[i]->word, w, (size_t)(slash - w)) == 0) {
			*key = slash + 1;
			return o->units[i];
		}
	return NULL;
}

/* A setting's new value (a string in its variant): "battery:N" of
 * ClassAndVrmInstance, the text of CustomName.  Whether the unit must
 * join again (a new instance while on the bus). */
static bool take(struct vn_out *o, struct vn_unit *u, const char *key, const char *v)
{
	if (strcmp(key, "CustomName") == 0) {
		snprintf(u->custom, sizeof(u->custom), "%s", v);
		return false;
	}
	int n, used = 0;
	if (strcmp(key, "ClassAndVrmInstance") != 0 || sscanf(v, "battery:%d%n", &n, &used) != 1 || v[used] || n < 0)
		return false;
	bool moved = u->instance != n;
	if (moved && u->instance >= 0)
		gw_info("venus: %s now has DeviceInstance %d (was %d)", u->service, n, u->instance);
	u->instance = n;
	vn_keep_instance(o->gw, u->word, n);
	return moved && u->named;
}

/* One {path, error, value} of AddSettings' answer. */
static int read_result(sd_bus_message *m, struct vn_out *o)
{
	const char *path = NULL, *value = NULL;
	int error = -1, r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *k = NULL;
		char type;
		const char *contents;
		if ((r = sd_bus_message_read(m, "s", &k)) < 0 || (r = sd_bus_message_peek_type(m, &type, &contents)) < 0)
			return r;
		if (strcmp(k, "path") == 0 && contents && strcmp(contents, "s") == 0)
			r = sd_bus_message_read(m, "v", "s", &path);
		else if (strcmp(k, "error") == 0 && contents && strcmp(contents, "i") == 0)
			r = sd_bus_message_read(m, "v", "i", &error);
		else if (strcmp(k, "value") == 0 && contents && strcmp(contents, "s") == 0)
			r = sd_bus_message_read(m, "v", "s", &value);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	const char *key = NULL;
	struct vn_unit *u = path ? unit_of(o, path, &key) : NULL;
	if (u && error == 0 && value && take(o, u, key, value))
		o->rejoin(u);
	else if (u && error != 0)
		gw_warn("venus: com.victronenergy.settings refused %s (error %d)", path, error);
	return 0;
}

/* The instance unit i asks for: its kept one, else one more than the unit
 * before it asks for (the bank, first, 1). */
static int default_instance(const struct vn_out *o, int i)
{
	int next = 1, k = -1;
	for (int j = 0; j <= i; j++) {
		k = vn_kept_instance(o->units[j]->word);
		k = k >= 0 ? k : next;
		next = k + 1;
	}
	return k;
}

/* The claim ended: each unit without an answer takes the instance it
 * asked for, and those with data join. */
static void claim_end(struct vn_out *o)
{
	for (int i = 0; i < o->nunits; i++)
		if (o->units[i]->instance < 0)
			o->units[i]->instance = default_instance(o, i);
	o->on_claimed(o);
}

static void no_settings(struct vn_out *o, const char *why)
{
	if (o->settings_there || !o->claimed)
		gw_warn("venus: no DeviceInstance from com.victronenergy.settings (%s): the state file's are used", why);
	o->settings_there = false;
	claim_end(o);
}

static int claimed_cb(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)e;
	struct vn_out *o = ud;
	o->claim_call = sd_bus_slot_unref(o->claim_call);
	const sd_bus_error *err = sd_bus_message_get_error(m);
	if (err) {
		no_settings(o, err->message ? err->message : err->name);
		return 1;
	}
	int r = sd_bus_message_enter_container(m, 'a', "a{sv}");
	while (r > 0 && (r = sd_bus_message_enter_container(m, 'a', "{sv}")) > 0) {
		if ((r = read_result(m, o)) >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r < 0)
		gw_warn("venus: com.victronenergy.settings answered AddSettings in a form bmsgw does not read");
	if (!o->settings_there)
		gw_info("venus: DeviceInstances from com.victronenergy.settings");
	o->settings_there = true;
	claim_end(o);
	return 1;
}

/* {"path": s, "default": v} */
static int append_setting(sd_bus_message *m, const char *word, const char *key, const char *def)
{
	char path[128];
	snprintf(path, sizeof(path), DEVICES "%s/%s", word, key);
	int r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0)
		r = sd_bus_message_append(m, "{sv}{sv}", "path", "s", path, "default", "s", def);
	return r >= 0 ? sd_bus_message_close_container(m) : r;
}

static int ask(struct vn_out *o)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(o->ctl.bus, &m, SETTINGS, "/", "com.victronenergy.Settings", "AddSettings");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "a{sv}");
	for (int i = 0; r >= 0 && i < o->nunits; i++) {
		struct vn_unit *u = o->units[i];
		char def[32];
		snprintf(def, sizeof(def), "battery:%d", default_instance(o, i));
		r = append_setting(m, u->word, "ClassAndVrmInstance", def);
		if (r >= 0)
			r = append_setting(m, u->word, "CustomName", "");
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	o->claim_call = sd_bus_slot_unref(o->claim_call);
	if (r >= 0)
		r = sd_bus_call_async(o->ctl.bus, &o->claim_call, m, claimed_cb, o, CLAIM_TIMEOUT_US);
	sd_bus_message_unref(m);
	return r;
}

/* A setting of ours changed at the settings service. */
static int changed_cb(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)e;
	struct vn_out *o = ud;
	const char *key = NULL, *path = sd_bus_message_get_path(m);
	struct vn_unit *u = path ? unit_of(o, path, &key) : NULL;
	if (!u || sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return 0;
	const char *k = NULL, *contents = NULL, *v = NULL;
	char type;
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		if (sd_bus_message_read(m, "s", &k) < 0 || sd_bus_message_peek_type(m, &type, &contents) < 0)
			return 0;
		if (strcmp(k, "Value") == 0 && contents && strcmp(contents, "s") == 0) {
			if (sd_bus_message_read(m, "v", "s", &v) < 0)
				return 0;
		} else if (sd_bus_message_skip(m, "v") < 0) {
			return 0;
		}
		if (sd_bus_message_exit_container(m) < 0)
			return 0;
	}
	if (v && take(o, u, key, v))
		o->rejoin(u);
	else if (v)
		o->update(u); /* a new name: built and sent at once */
	return 0;
}

/* The settings service started (again): ask it. */
static int owner_cb(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)e;
	struct vn_out *o = ud;
	const char *name = NULL, *old = NULL, *new_owner = NULL;
	if (sd_bus_message_read(m, "sss", &name, &old, &new_owner) >= 0 && name && strcmp(name, SETTINGS) == 0 &&
	    new_owner && *new_owner && !o->claim_call && ask(o) < 0)
		no_settings(o, "the call could not be sent");
	return 0;
}

void vn_claim_start(struct vn_out *o)
{
	vn_claim_stop(o); /* a claim again (units added at a reload): its matches anew, not twice */
	int r = sd_bus_add_match_async(o->ctl.bus, &o->owner_watch, "type='signal',sender='org.freedesktop.DBus',"
				       "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" SETTINGS "'",
				       owner_cb, NULL, o);
	if (r >= 0)
		r = sd_bus_add_match_async(o->ctl.bus, &o->claim_watch, "type='signal',sender='" SETTINGS "',"
					   "interface='" VN_IFACE "',member='PropertiesChanged',"
					   "path_namespace='/Settings/Devices'", changed_cb, NULL, o);
	if (r >= 0)
		r = ask(o);
	if (r < 0)
		no_settings(o, strerror(-r));
}

void vn_claim_stop(struct vn_out *o)
{
	o->claim_call = sd_bus_slot_unref(o->claim_call);
	o->claim_watch = sd_bus_slot_unref(o->claim_watch);
	o->owner_watch = sd_bus_slot_unref(o->owner_watch);
}

bool vn_claim_set_name(struct vn_unit *u, const char *v)
{
	struct vn_out *o = u->out;
	if (!o->ctl.bus || !o->settings_there)
		return false;
	char path[128];
	snprintf(path, sizeof(path), DEVICES "%s/CustomName", u->word);
	if (sd_bus_call_method_async(o->ctl.bus, NULL, SETTINGS, path, VN_IFACE, "SetValue", NULL, NULL, "v", "s", v) < 0)
		return false;
	snprintf(u->custom, sizeof(u->custom), "%s", v);
	o->update(u);
	return true;
}

#endif /* HAVE_SYSTEMD */
