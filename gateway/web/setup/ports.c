/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/ports.c - GET /api/setup/ports: the ports of this
 * machine, each with the packs of the running configuration on it.
 *
 * Serial ports by their /dev/serial/by-id/ names first (a name that stays
 * when adapters are plugged in another order), then the USB, ACM and
 * on-board UARTs that have none (a ttyS only when its UART exists); CAN
 * interfaces (/sys/class/net, type 280); Bluetooth adapters
 * (/sys/class/bluetooth) and the ESPHome proxies of the configuration.
 * The directories are read on the worker; the packs are copied from the
 * configuration on the loop first. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../model/gw.h"
#include "setup_int.h"

struct pack_use {
	char name[CONF_NAME_MAX];
	char port[CONF_PORT_MAX];
	char real[PATH_MAX];            /* its device's real path ("" for none) */
	char adapter[CONF_ID_MAX];      /* a Bluetooth pack's adapter or proxy */
	bool ble, can;
};

struct ports_task {
	struct setup_task t;
	struct gw_setup_wait *w;
	int npacks, nproxies;
	struct pack_use packs[CONF_MAX_PACKS];
	char proxies[CONF_MAX_BLE_PROXIES][2][CONF_HOST_MAX]; /* name, host */
	json_t *result;
};

static json_t *packs_on(const struct ports_task *p, const char *port, const char *real, int kind)
{
	json_t *a = json_array();
	for (int i = 0; i < p->npacks; i++) {
		const struct pack_use *u = &p->packs[i];
		bool on = kind == 0 ? !u->ble && !u->can && (strcmp(u->port, port) == 0 || (real[0] && strcmp(u->real, real) == 0))
			  : kind == 1 ? u->can && strcmp(u->port, port) == 0
				      : u->ble && strcmp(u->adapter, port) == 0;
		if (on)
			json_array_append_new(a, json_string(u->name));
	}
	return a;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir whose names start with one of prefixes, sorted. */
static int list_dir(const char *dir, const char *const *prefixes, char **out, int max)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		for (int i = 0; prefixes[i]; i++)
			if (strncmp(e->d_name, prefixes[i], strlen(prefixes[i])) == 0 && e->d_name[0] != '.') {
				out[n++] = strdup(e->d_name);
				break;
			}
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof(*out), by_name);
	return n;
}

/* A ttyS whose UART exists (its type is not 0, "unknown"). */
static bool uart_there(const char *name)
{
	if (strncmp(name, "ttyS", 4) != 0)
		return true;
	char path[300], type[16] = "";
	snprintf(path, sizeof(path), "/sys/class/tty/%s/type", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(type, sizeof(type), f) && atoi(type) != 0;
	fclose(f);
	return ok;
}

static void serial_ports(struct ports_task *p, json_t *arr)
{
	static const char *const any[] = { "", NULL }, *const ttys[] = { "ttyUSB", "ttyACM", "ttyAMA", "ttyS", NULL };
	char *names[256], path[PATH_MAX], real[PATH_MAX], *seen[256];
	int nseen = 0, n = list_dir("/dev/serial/by-id", any, names, 256);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/dev/serial/by-id/%s", names[i]);
		if (!realpath(path, real))
			real[0] = '\0';
		else if (nseen < 256)
			seen[nseen++] = strdup(real);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "kind", "serial", "port", path, "device", real,
						     "packs", packs_on(p, path, real, 0)));
		free(names[i]);
	}
	n = list_dir("/dev", ttys, names, 256);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		bool dup = false;
		for (int j = 0; j < nseen; j++)
			dup = dup || (seen[j] && strcmp(seen[j], path) == 0);
		if (!dup && uart_there(names[i]))
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "kind", "serial", "port", path, "device",
							     path, "packs", packs_on(p, path, path, 0)));
		free(names[i]);
	}
	for (int j = 0; j < nseen; j++)
		free(seen[j]);
}

static void other_ports(struct ports_task *p, json_t *arr)
{
	static const char *const any[] = { "", NULL }, *const hci[] = { "hci", NULL };
	char *names[64], path[300], type[16];
	int n = list_dir("/sys/class/net", any, names, 64);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/type", names[i]);
		FILE *f = fopen(path, "r");
		if (f && fgets(type, sizeof(type), f) && atoi(type) == 280) /* ARPHRD_CAN */
			json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "kind", "can", "port", names[i], "packs",
							     packs_on(p, names[i], "", 1)));
		if (f)
			fclose(f);
		free(names[i]);
	}
	n = list_dir("/sys/class/bluetooth", hci, names, 64);
	for (int i = 0; i < n; i++) {
		if (!strchr(names[i], ':')) /* hci0, not its connections */
			json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "kind", "bluetooth", "port", names[i], "packs",
							     packs_on(p, names[i], "", 2)));
		free(names[i]);
	}
	for (int i = 0; i < p->nproxies; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "kind", "proxy", "port", p->proxies[i][0], "host",
						     p->proxies[i][1], "packs", packs_on(p, p->proxies[i][0], "", 2)));
}

static void ports_work(struct setup_task *t)
{
	struct ports_task *p = (struct ports_task *)t;
	for (int i = 0; i < p->npacks; i++)
		if (!p->packs[i].ble && !p->packs[i].can && !realpath(p->packs[i].port, p->packs[i].real))
			p->packs[i].real[0] = '\0';
	json_t *arr = json_array();
	serial_ports(p, arr);
	other_ports(p, arr);
	p->result = json_pack("{s:o}", "ports", arr);
}

static void ports_done(struct gw_setup *s, struct setup_task *t)
{
	(void)s;
	struct ports_task *p = (struct ports_task *)t;
	if (p->result)
		setup_send(p->w, 200, p->result);
	else
		setup_send_error(p->w, 500, "out of memory");
	free(p);
}

int setup_ports(struct setup_ctx *x)
{
	const struct conf *c = x->s->gw->conf;
	struct ports_task *p = calloc(1, sizeof(*p));
	if (!p)
		return setup_error(x, 500, "out of memory");
	p->t.work = ports_work;
	p->t.done = ports_done;
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *cp = &c->packs[i];
		struct pack_use *u = &p->packs[p->npacks++];
		snprintf(u->name, sizeof(u->name), "%s", cp->name);
		snprintf(u->port, sizeof(u->port), "%s", cp->port);
		snprintf(u->adapter, sizeof(u->adapter), "%s", cp->ble_adapter[0] ? cp->ble_adapter : "hci0");
		u->ble = cp->is_ble;
		u->can = cp->is_can;
	}
	for (int i = 0; i < c->nble_proxies; i++, p->nproxies++) {
		snprintf(p->proxies[i][0], sizeof(p->proxies[i][0]), "%s", c->ble_proxies[i].name);
		snprintf(p->proxies[i][1], sizeof(p->proxies[i][1]), "%s", c->ble_proxies[i].host);
	}
	if (!(p->w = setup_later(x))) {
		free(p);
		return 0;
	}
	setup_worker_post(x->s, &p->t);
	return 1;
}
