/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/jobs.c - POST /api/setup/detect and GET
 * /api/setup/jobs/ID: section 16's detection of a port as a job of the
 * daemon's loop (gateway/detect/: every descriptor an ev_io, every wait a
 * timer, nothing but read-only probes sent).
 *
 * A port a running pack uses (the same string, or the same device under
 * another name) is lent by its bus for the detection, as to a maintenance
 * tunnel: its packs are not polled meanwhile and go stale (the job says
 * which), and the wire is given back at the end and polled at once.  A
 * port no pack uses is opened by the detector itself, refused when another
 * program holds it.  One detection per port (another: 409), two at once
 * at most; a finished job is kept 10 minutes for the page to read.
 *
 * POST /api/setup/ble-scan {seconds, adapter?}: discovery on a local
 * Bluetooth adapter through BlueZ (a client of its own beside the links',
 * wire/ble/blescan.c) for at most 30 s, one at a time, as a job whose
 * result lists {address, name, rssi, protocol, via}; a build without
 * libsystemd has none (501). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/util.h"
#include "../../detect/detect.h"
#include "../../model/gw.h"
#include "../../poll/poll.h"
#include "../../wire/ble/ble.h"
#include "setup_int.h"

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct setup_job {
	struct gw_setup *s;
	const char *kind;               /* "detect" or "ble-scan" */
	struct gw_ble_scanjob *ble;     /* a Bluetooth scan's */
	char id[17];
	char port[CONF_PORT_MAX], real[PATH_MAX];
	bool can;                       /* a CAN bus: the detector listens on it with a port of its own */
	enum job_state state;
	double started, ended;          /* monotonic */
	double seconds;                 /* a Bluetooth scan's */
	int rc;
	struct gw_detect *det;
	struct gw_bus *bus;             /* the bus that lent its wire, NULL for none */
	json_t *released, *packs;
	FILE *out, *err;                /* the detector's section text and its log */
	char *out_buf, *err_buf;
	size_t out_len, err_len;
	ev_timer reap;                  /* the detector freed after its end, from the loop */
};

static const char *state_word(enum job_state s)
{
	return s == JOB_RUNNING ? "running" : s == JOB_DONE ? "done" : "failed";
}

static void job_free(struct setup_job *j)
{
	ev_timer_stop(j->s->gw->loop, &j->reap);
	gw_detect_free(j->det);
#ifdef HAVE_SYSTEMD
	gw_ble_scan_job_free(j->ble);
#endif
	if (j->out)
		fclose(j->out);
	if (j->err)
		fclose(j->err);
	free(j->out_buf);
	free(j->err_buf);
	json_decref(j->released);
	json_decref(j->packs);
	free(j);
}

/* After the end: the detector freed, the wire given back. */
static void reap_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct setup_job *j = container_of(w, struct setup_job, reap);
	bool lost = j->det && gw_detect_lost_link(j->det);
	gw_detect_free(j->det);
	j->det = NULL;
	if (j->bus && !lost) {
		gw_poll_return(j->bus);
		gw_info("setup: detection on %s over: the wire is its packs' again", j->port);
	}
	j->bus = NULL;
}

static void job_done(void *arg, int rc)
{
	struct setup_job *j = arg;
	j->rc = rc;
	j->state = rc == 2 ? JOB_FAILED : JOB_DONE;
	j->ended = gw_mono();
	j->packs = json_array();
	struct gw_detect_found f;
	for (int i = 0; gw_detect_found(j->det, i, &f); i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s}", "name", f.name, "protocol", f.protocol, "port", j->port,
				      "listen", f.listen, "address_any", f.address_any, "what", f.what);
		json_object_set_new(o, "baud", f.baud ? json_integer(f.baud) : json_null());
		json_object_set_new(o, "address", f.address >= 0 ? json_integer(f.address) : json_null());
		json_array_append_new(j->packs, o);
	}
	gw_info("setup: detection on %s: %s", j->port, rc == 0 ? "found" : rc == 1 ? "nothing found" : "the port "
		"could not be used");
	ev_timer_set(&j->reap, 0., 0.);
	ev_timer_start(j->s->gw->loop, &j->reap);
}

/* The bus of a running pack on port (the same string or the same device). */
static struct gw_bus *bus_of(const struct gw *gw, const char *port, const char *real)
{
	struct gw_bus *b = gw_bus_find(gw, port);
	for (int i = 0; !b && real[0] && i < gw->nbuses; i++) {
		char r[PATH_MAX];
		const struct conf_pack *cfg = gw_link_cfg(gw->buses[i]->link);
		if (cfg && !cfg->is_tcp && !cfg->is_ble && !cfg->is_can && realpath(cfg->port, r) && strcmp(r, real) == 0)
			b = gw->buses[i];
	}
	return b;
}

/* Room for one more job: a finished one goes when the table is full. */
static int slot(struct gw_setup *s)
{
	int oldest = -1;
	for (int i = 0; i < SETUP_JOBS_MAX; i++) {
		if (!s->jobs[i])
			return i;
		if (s->jobs[i]->state != JOB_RUNNING && (oldest < 0 || s->jobs[i]->ended < s->jobs[oldest]->ended))
			oldest = i;
	}
	if (oldest >= 0) {
		job_free(s->jobs[oldest]);
		s->jobs[oldest] = NULL;
	}
	return oldest;
}

/* A running detection on the same port, or how many run: -1 none. */
static int busy_port(const struct gw_setup *s, const struct setup_job *j, int *running)
{
	*running = 0;
	for (int i = 0; i < SETUP_JOBS_MAX; i++) {
		const struct setup_job *o = s->jobs[i];
		if (!o || o->state != JOB_RUNNING || o->ble)
			continue;
		(*running)++;
		if (strcmp(o->port, j->port) == 0 || (j->real[0] && strcmp(o->real, j->real) == 0))
			return i;
	}
	return -1;
}

/* The port must be there: a device, or tcp://HOST:PORT. */
static const char *port_bad(struct setup_job *j)
{
	struct conf_pack p;
	char why[256];
	static char msg[400];
	if (conf_parse_port(&p, j->port, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "%s", why);
		return msg;
	}
	if (p.is_ble)
		return "a detection looks at serial ports, TCP serial servers and CAN buses (a Bluetooth device: the "
		       "Bluetooth scan)";
	j->can = p.is_can;
	if (p.is_tcp || (p.is_can && !p.is_slcan))
		return NULL; /* a SocketCAN interface: the detector says whether it opens */
	const char *dev = p.is_slcan ? p.can_device : j->port;
	struct stat st;
	if (stat(dev, &st) != 0 || !S_ISCHR(st.st_mode)) {
		snprintf(msg, sizeof(msg), "%s: no such serial port on this machine", dev);
		return msg;
	}
	if (!realpath(dev, j->real))
		j->real[0] = '\0';
	return NULL;
}

static struct setup_job *job_new(struct gw_setup *s, const char *port)
{
	struct setup_job *j = calloc(1, sizeof(*j));
	uint8_t r[8];
	if (!j)
		return NULL;
	j->s = s;
	j->kind = "detect";
	snprintf(j->port, sizeof(j->port), "%s", port);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	for (int i = 0; i < 8; i++)
		snprintf(j->id + 2 * i, 3, "%02x", r[i]);
	ev_init(&j->reap, reap_cb);
	j->started = gw_mono();
	j->released = json_array();
	return j;
}

/* The detector on its port: lent by a bus, or opened. */
static int job_start(struct gw_setup *s, struct setup_job *j, const struct setup_detect_req *d)
{
	struct gw_detect_opts o = { j->port, d->baud, d->address, d->sweep, d->all, false, GW_DETECT_LISTEN,
				    GW_DETECT_BUDGET };
	if (!(j->out = open_memstream(&j->out_buf, &j->out_len)) || !(j->err = open_memstream(&j->err_buf, &j->err_len)) ||
	    !(j->det = gw_detect_new(s->gw->loop, &o, j->out, j->err, job_done, j)))
		return -1;
	/* a CAN bus is listened to through a port of the detector's own: a
	 * SocketCAN interface is shared, an slcan adapter a pack holds refused */
	struct gw_bus *b = j->can ? NULL : bus_of(s->gw, j->port, j->real);
	if (b) {
		j->bus = b;
		char names[300] = "";
		for (int i = 0; i < b->npacks; i++) {
			json_array_append_new(j->released, json_string(b->packs[i]->cfg->name));
			size_t n = strlen(names);
			snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "", b->packs[i]->cfg->name);
		}
		gw_info("setup: detection on %s: its wire lent by pack(s) %s, which are not polled meanwhile and go stale",
			j->port, names);
		gw_detect_lent(j->det, b->link);
		gw_poll_lend(b, gw_detect_link_owner(), j->det, gw_detect_borrowed);
	} else {
		gw_info("setup: detection on %s", j->port);
		gw_detect_open(j->det, s->gw->link_env);
	}
	return 0;
}

int setup_detect(struct setup_ctx *x)
{
	struct gw_setup *s = x->s;
	const char *no = setup_may_change(s, x->q), *field;
	if (no)
		return setup_error(x, 403, "%s", no);
	char why[300];
	struct setup_detect_req d;
	json_t *b = setup_parse_body(x->q->body, x->q->len, why, sizeof(why));
	if (!b)
		return setup_error(x, 400, "%s", why);
	int r = setup_parse_detect(b, &d, why, sizeof(why), &field);
	json_decref(b);
	if (r < 0)
		return setup_field_error(x, 422, NULL, field, "%s", why);
	struct setup_job *j = job_new(s, d.port);
	if (!j)
		return setup_error(x, 500, "out of memory");
	const char *bad = port_bad(j);
	int running, other = bad ? -1 : busy_port(s, j, &running);
	struct gw_bus *bus = bad || other >= 0 ? NULL : bus_of(s->gw, j->port, j->real);
	if (bad || other >= 0 || running >= SETUP_DETECT_MAX || (bus && bus->lent)) {
		job_free(j);
		if (bad)
			return setup_field_error(x, 422, NULL, "port", "%s", bad);
		if (other >= 0)
			return setup_field_error(x, 409, NULL, "port", "a detection runs on %s already (job %s)", d.port,
						 s->jobs[other]->id);
		if (bus)
			return setup_field_error(x, 409, NULL, "port", "%s is lent to a maintenance tunnel now", d.port);
		return setup_error(x, 409, "%d detections run already: wait for one to end", SETUP_DETECT_MAX);
	}
	int at = slot(s);
	if (at < 0 || job_start(s, j, &d) < 0) {
		job_free(j);
		return setup_error(x, 500, "out of memory");
	}
	s->jobs[at] = j;
	return setup_answer(x, 202, json_pack("{s:s, s:O}", "job", j->id, "released", j->released));
}

int setup_job_get(struct setup_ctx *x, const char *id)
{
	struct setup_job *j = NULL;
	for (int i = 0; i < SETUP_JOBS_MAX && !j; i++)
		if (x->s->jobs[i] && strcmp(x->s->jobs[i]->id, id) == 0)
			j = x->s->jobs[i];
	if (!j)
		return setup_error(x, 404, "no job %s (a finished job is kept 10 minutes)", id);
	if (j->err)
		fflush(j->err);
	double progress = j->det ? gw_detect_progress(j->det)
				 : j->ble ? (gw_mono() - j->started) / (j->seconds + 1) : 1.0;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s#, s:O}", "job", j->id, "kind", j->kind, "port", j->port,
			      "state", state_word(j->state), "progress", j->state == JOB_RUNNING ? progress : 1.0, "log",
			      j->err_buf ? j->err_buf : "", j->err_buf ? (int)j->err_len : 0, "released", j->released);
	if (j->state != JOB_RUNNING && j->ble)
		json_object_set_new(o, "result", json_pack("{s:O}", "devices", j->packs));
	else if (j->state != JOB_RUNNING)
		json_object_set_new(o, "result", json_pack("{s:O, s:i}", "packs", j->packs, "code", j->rc));
	return setup_answer(x, 200, o);
}

void setup_jobs_free(struct gw_setup *s)
{
	for (int i = 0; i < SETUP_JOBS_MAX; i++) {
		struct setup_job *j = s->jobs[i];
		if (!j)
			continue;
		if (j->state == JOB_RUNNING && j->det)
			gw_detect_stop(j->det, "bmsgw is stopping");
		reap_cb(s->gw->loop, &j->reap, 0);
		job_free(j);
		s->jobs[i] = NULL;
	}
}

/* ---------------------------------------------------------- Bluetooth */

#ifdef HAVE_SYSTEMD
static void ble_done(void *arg, bool failed)
{
	struct setup_job *j = arg;
	const struct gw_ble_seen *seen;
	const char *why;
	int n = gw_ble_scan_job_seen(j->ble, &seen, &why);
	j->state = failed ? JOB_FAILED : JOB_DONE;
	j->ended = gw_mono();
	j->packs = json_array();
	const char *via = gw_ble_scan_job_adapter(j->ble);
	for (int i = 0; i < n; i++) {
		struct gw_ble_guess g;
		gw_ble_classify(&seen[i], &g);
		json_array_append_new(j->packs, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "address", seen[i].address,
							  "name", seen[i].name, "rssi", seen[i].have_rssi ?
							  json_integer(seen[i].rssi) : json_null(), "protocol", g.protocol ?
							  json_string(g.protocol) : json_null(), "why", g.protocol ? g.why : "",
							  "via", via));
	}
	if (j->err) {
		fprintf(j->err, "%s: %d device(s) seen in %.0f s%s%s\n", via, n, j->seconds, why ? ": " : "", why ? why : "");
		fflush(j->err);
	}
	gw_info("setup: Bluetooth scan on %s: %d device(s)%s%s", via, n, why ? ", " : "", why ? why : "");
}

/* A scan job, or 0 with the answer made. */
static int ble_start(struct setup_ctx *x, double seconds, const char *adapter)
{
	struct gw_setup *s = x->s;
	for (int i = 0; i < SETUP_JOBS_MAX; i++)
		if (s->jobs[i] && s->jobs[i]->ble && s->jobs[i]->state == JOB_RUNNING)
			return setup_error(x, 409, "a Bluetooth scan runs already (job %s)", s->jobs[i]->id);
	struct setup_job *j = job_new(s, adapter[0] ? adapter : "bluetooth");
	char why[300];
	if (!j || !(j->err = open_memstream(&j->err_buf, &j->err_len))) {
		if (j)
			job_free(j);
		return setup_error(x, 500, "out of memory");
	}
	j->kind = "ble-scan";
	j->seconds = seconds;
	if (!(j->ble = gw_ble_scan_job(s->gw->loop, adapter, seconds, ble_done, j, why, sizeof(why)))) {
		job_free(j);
		return setup_error(x, 503, "no Bluetooth scan: %s", why);
	}
	int at = slot(s);
	if (at < 0) {
		job_free(j);
		return setup_error(x, 500, "out of memory");
	}
	s->jobs[at] = j;
	gw_info("setup: Bluetooth scan on %s for %.0f s", adapter[0] ? adapter : "the default adapter", seconds);
	return setup_answer(x, 202, json_pack("{s:s}", "job", j->id));
}
#endif

int setup_ble_scan(struct setup_ctx *x)
{
	const char *no = setup_may_change(x->s, x->q);
	if (no)
		return setup_error(x, 403, "%s", no);
	char why[300];
	json_t *b = setup_parse_body(x->q->body, x->q->len, why, sizeof(why));
	if (!b)
		return setup_error(x, 400, "%s", why);
	json_t *sec = json_object_get(b, "seconds"), *ad = json_object_get(b, "adapter");
	double seconds = json_is_number(sec) ? json_number_value(sec) : -1;
	char adapter[32] = "";
	bool ad_ok = !ad || json_is_null(ad) || (json_is_string(ad) && strncmp(json_string_value(ad), "hci", 3) == 0 &&
						   json_string_length(ad) < sizeof(adapter));
	if (ad_ok && json_is_string(ad))
		snprintf(adapter, sizeof(adapter), "%s", json_string_value(ad));
	json_decref(b);
	if (!(seconds >= 1 && seconds <= 30))
		return setup_field_error(x, 422, NULL, "seconds", "seconds: 1 to 30");
	if (!ad_ok)
		return setup_field_error(x, 422, NULL, "adapter", "adapter: a local adapter, hci0 ...");
#ifdef HAVE_SYSTEMD
	return ble_start(x, seconds, adapter);
#else
	return setup_error(x, 501, "built without Bluetooth (bmsgw reaches BlueZ through libsystemd's D-Bus library; "
			   "this build has none)");
#endif
}
