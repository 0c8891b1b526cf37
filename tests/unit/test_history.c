/* SPDX-License-Identifier: MIT */
/* tests/unit/test_history.c - [http] and [history] parsing, and the pure
 * parts of the history: the sample of a snapshot, the database path, the
 * times and durations of /api/history and --history-csv; the state
 * directory that the automatic path needs (made in a directory of /tmp). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "../../gateway/core/log.h"
#include "../../gateway/core/statedir.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/history/history.h"
#include "../../gateway/history/history_int.h"
#include "../../gateway/web/http_conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
/* c's [history] (the room's section), as the tests set and read it */
#define HIST ((struct conf_history *)gw_history_cfg(&c))
static char err[1024];

static const char *pack = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n"; /* lines 1-3 */

static int load(const char *tail)
{
	static char text[4096];
	snprintf(text, sizeof(text), "%s%s", pack, tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *tail, const char *needle)
{
	int rc = load(tail);
	CHECK_EQ_INT(rc, -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

static void conf_tests(void)
{
	/* neither: no page, no history */
	CHECK_EQ_INT(load(""), 0);
	CHECK(!gw_http_cfg(&c)->enabled);
	CHECK(!HIST->enabled);

	/* [http] alone: its defaults, and history with its defaults */
	CHECK_EQ_INT(load("[http]\n"), 0);
	CHECK(gw_http_cfg(&c)->enabled);
	CHECK_STR(gw_http_cfg(&c)->listen_host, "0.0.0.0");
	CHECK_EQ_INT(gw_http_cfg(&c)->listen_port, 8080);
	CHECK_EQ_INT(gw_http_cfg(&c)->max_clients, 32);
	CHECK_EQ_INT(gw_http_cfg(&c)->clients.n, 0);
	CHECK(HIST->enabled);
	CHECK_NEAR(HIST->interval, 60, 1e-9);
	CHECK_NEAR(HIST->retention, 180, 1e-9);
	CHECK_NEAR(HIST->raw_days, 7, 1e-9);
	CHECK_STR(HIST->file, "");

	/* [history] alone, every key */
	CHECK_EQ_INT(load("[history]\nfile = /srv/bms.db\ninterval = 15\nretention = 30\nraw_days = 2\n"), 0);
	CHECK(!gw_http_cfg(&c)->enabled);
	CHECK(HIST->enabled);
	CHECK_STR(HIST->file, "/srv/bms.db");
	CHECK_NEAR(HIST->interval, 15, 1e-9);
	CHECK_NEAR(HIST->retention, 30, 1e-9);
	CHECK_NEAR(HIST->raw_days, 2, 1e-9);

	/* a page without history */
	CHECK_EQ_INT(load("[http]\nlisten = [::1]:8081\nclients = 192.168.1.0/24, ::1\nmax_clients = 5\n"
			  "[history]\nfile = none\n"), 0);
	CHECK(gw_http_cfg(&c)->enabled);
	CHECK(!HIST->enabled);
	CHECK_STR(gw_http_cfg(&c)->listen_host, "::1");
	CHECK_EQ_INT(gw_http_cfg(&c)->listen_port, 8081);
	CHECK_EQ_INT(gw_http_cfg(&c)->clients.n, 2);
	CHECK_EQ_INT(gw_http_cfg(&c)->max_clients, 5);

	expect_error("[http]\nlisten = 0.0.0.0:502\n", "t.ini:5: [http] listen: port 502 is the Modbus server's");
	expect_error("[gateway]\nlisten = 127.0.0.1:1502\n[http]\nlisten = 0.0.0.0:1502\n",
		     "[http] listen: port 1502 is the Modbus server's");
	CHECK_EQ_INT(load("[gateway]\nlisten = 127.0.0.1:1502\n[http]\nlisten = 127.0.0.2:1502\n"), 0);
	expect_error("[http]\nlisten = 127.0.0.1:99999\n", "t.ini:5: [http] listen:");
	expect_error("[http]\nclients = 300.1.1.1\n", "t.ini:5: [http] clients:");
	expect_error("[http]\nmax_clients = 0\n", "[http] max_clients: 0 is out of range");
	expect_error("[http]\nmax_clients = 1001\n", "[http] max_clients: 1001 is out of range");
	expect_error("[http]\nport = 80\n", "t.ini:5: [http] port: unknown key");
	expect_error("[http]\n[http]\n", "t.ini:5: [http]: duplicate section (first on line 4)");
	expect_error("[history]\nfile = history.db\n", "t.ini:5: [history] file: \"history.db\" is not an absolute path");
	expect_error("[history]\ninterval = 0.5\n", "[history] interval: 0.5 is out of range");
	expect_error("[history]\nretention = 0\n", "[history] retention: 0 is out of range");
	expect_error("[history]\nretention = 5\nraw_days = 6\n",
		     "t.ini:6: [history] raw_days: 6 is longer than retention = 5");
}

static void sample_tests(void)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_POWER | BMS_HAS_CELLS |
		    BMS_HAS_TEMPS | BMS_HAS_ALARMS;
	s.voltage = 52.7f;
	s.current = -3.5f;
	s.soc = 61.5f;
	s.power = -184.45f;
	s.ncells = 4;
	s.cell_mv[0] = 3300, s.cell_mv[1] = 3290, s.cell_mv[2] = 3310, s.cell_mv[3] = 3305;
	s.ntemps = 3;
	s.temp_c[0] = 21.5f, s.temp_c[1] = NAN, s.temp_c[2] = 19.0f;
	s.alarms = BMS_AL_CELL_OV | BMS_AL_SOC_LOW;
	struct gw_hsample h;
	gw_history_sample(&h, 1000, "a", true, &s, NULL);
	CHECK_EQ_INT(h.ts, 1000);
	CHECK_STR(h.unit, "a");
	CHECK(h.online);
	CHECK_EQ_INT(h.have, GW_HS_SOC | GW_HS_VOLTAGE | GW_HS_CURRENT | GW_HS_POWER | GW_HS_CELLS | GW_HS_TEMPS |
				     GW_HS_ALARMS | GW_HS_CELL_MV);
	/* every cell; no balancing said (no BMS_HAS_BALANCE) */
	CHECK_EQ_INT(h.ncells, 4);
	CHECK_EQ_INT(h.cell_mv[0], 3300);
	CHECK_EQ_INT(h.cell_mv[3], 3305);
	CHECK(!(h.have & GW_HS_BALANCE));
	CHECK_NEAR(h.voltage, 52.7, 1e-5);
	CHECK_NEAR(h.current, -3.5, 1e-6);
	CHECK_NEAR(h.cell_min, 3290, 0);
	CHECK_NEAR(h.cell_max, 3310, 0);
	CHECK_NEAR(h.cell_delta, 20, 0);
	CHECK_NEAR(h.temp_min, 19.0, 1e-6); /* the sensor that reads NaN is skipped */
	CHECK_NEAR(h.temp_max, 21.5, 1e-6);
	CHECK_EQ_INT(h.alarms, BMS_AL_CELL_OV | BMS_AL_SOC_LOW);
	CHECK(!(h.have & GW_HS_MOS_TEMP));

	/* which cells balance, where the BMS says: bits beyond the cells dropped */
	s.present |= BMS_HAS_BALANCE;
	s.balance = 0x12; /* cells 2 and 5 of 4 */
	gw_history_sample(&h, 1000, "a", true, &s, NULL);
	CHECK(h.have & GW_HS_BALANCE);
	CHECK_EQ_INT(h.balance, 0x2);
	s.present &= ~(uint32_t)BMS_HAS_BALANCE;

	/* not online: no values at all, whatever the snapshot holds */
	gw_history_sample(&h, 1001, "a", false, &s, NULL);
	CHECK(!h.online);
	CHECK_EQ_INT(h.have, 0);

	/* the bank: cells from its cross-pack statistics */
	struct gw_bank_state b;
	memset(&b, 0, sizeof(b));
	b.rb.have_cells = true;
	b.rb.min_mv = 3100, b.rb.max_mv = 3350;
	s.ncells = 0;
	gw_history_sample(&h, 1002, "bank", true, &s, &b);
	CHECK(h.have & GW_HS_CELLS);
	CHECK(!(h.have & GW_HS_CELL_MV)); /* the bank has no cells of its own */
	CHECK_NEAR(h.cell_min, 3100, 0);
	CHECK_NEAR(h.cell_delta, 250, 0);
	b.rb.have_cells = false;
	gw_history_sample(&h, 1002, "bank", true, &s, &b);
	CHECK(!(h.have & GW_HS_CELLS));
}

static void time_tests(void)
{
	int64_t t = -1;
	CHECK_EQ_INT(gw_history_parse_time("1795389768", 0, &t), 0);
	CHECK_EQ_INT(t, 1795389768);
	CHECK_EQ_INT(gw_history_parse_time("now", 42, &t), 0);
	CHECK_EQ_INT(t, 42);
	CHECK_EQ_INT(gw_history_parse_time("2026-11-20", 0, &t), 0);
	CHECK_EQ_INT(t, 1795132800);
	CHECK_EQ_INT(gw_history_parse_time("2026-11-20T10:00:00Z", 0, &t), 0);
	CHECK_EQ_INT(t, 1795132800 + 36000);
	CHECK_EQ_INT(gw_history_parse_time("2026-11-20T10:00", 0, &t), 0);
	CHECK_EQ_INT(t, 1795132800 + 36000);
	CHECK_EQ_INT(gw_history_parse_time("2026-11-20T10:00:00+01:00", 0, &t), 0);
	CHECK_EQ_INT(t, 1795132800 + 32400);
	CHECK_EQ_INT(gw_history_parse_time("2026-11-20 10:00:00-02:30", 0, &t), 0);
	CHECK_EQ_INT(t, 1795132800 + 36000 + 9000);
	static const char *const bad[] = { "", "yesterday", "2026-13-01", "2026-11-32", "2026-11-20T25:00",
					   "2026-11-20T10:00:00+1", "2026-11-20x", "-5", "12345678901234",
					   "2026-1-20", "1969-12-31" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = gw_history_parse_time(bad[i], 0, &t);
		if (rc != -1)
			fprintf(stderr, "  time \"%s\" was accepted\n", bad[i]);
		CHECK_EQ_INT(rc, -1);
	}
	CHECK_EQ_INT(gw_history_parse_span("24h", &t), 0);
	CHECK_EQ_INT(t, 86400);
	CHECK_EQ_INT(gw_history_parse_span("7d", &t), 0);
	CHECK_EQ_INT(t, 7 * 86400);
	CHECK_EQ_INT(gw_history_parse_span("15m", &t), 0);
	CHECK_EQ_INT(t, 900);
	CHECK_EQ_INT(gw_history_parse_span("2w", &t), 0);
	CHECK_EQ_INT(t, 14 * 86400);
	CHECK_EQ_INT(gw_history_parse_span("300", &t), 0);
	CHECK_EQ_INT(t, 300);
	CHECK_EQ_INT(gw_history_parse_span("45s", &t), 0);
	CHECK_EQ_INT(t, 45);
	static const char *const badspan[] = { "", "0", "-1h", "h", "1y", "1.5h", "24hh", "999999999999" };
	for (size_t i = 0; i < sizeof(badspan) / sizeof(badspan[0]); i++)
		CHECK_EQ_INT(gw_history_parse_span(badspan[i], &t), -1);
}

static void path_tests(void)
{
	struct conf_history h;
	memset(&h, 0, sizeof(h));
	char p[CONF_PORT_MAX];
	snprintf(h.file, sizeof(h.file), "/srv/x.db");
	gw_history_path(&h, p, sizeof(p));
	CHECK_STR(p, "/srv/x.db");
	h.file[0] = '\0';
	setenv("STATE_DIRECTORY", "/var/lib/private/bmsgw:/other", 1);
	gw_history_path(&h, p, sizeof(p));
	CHECK_STR(p, "/var/lib/private/bmsgw/history.db");
	unsetenv("STATE_DIRECTORY");
	gw_history_path(&h, p, sizeof(p));
	CHECK_STR(p, "/var/lib/bmsgw/history.db");
	/* the automatic place: systemd's, else the one bmsgw makes */
	setenv("STATE_DIRECTORY", "/var/lib/private/bmsgw", 1);
	CHECK(!gw_state_path("state", p, sizeof(p)));
	CHECK_STR(p, "/var/lib/private/bmsgw/state");
	setenv("STATE_DIRECTORY", "relative/dir", 1); /* not systemd's: ignored */
	CHECK(gw_state_path("state", p, sizeof(p)));
	CHECK_STR(p, "/var/lib/bmsgw/state");
	unsetenv("STATE_DIRECTORY");
	CHECK(gw_state_path("history.db", p, sizeof(p)));
	CHECK_STR(p, "/var/lib/bmsgw/history.db");
}

static int mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? (int)(st.st_mode & 07777) : -1;
}

/* Lines of the log file f holding `needle`. */
static int log_count(FILE *f, const char *needle)
{
	char line[1024];
	int n = 0;
	rewind(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	return n;
}

static void statedir_tests(void)
{
	char tmp[] = "/tmp/bmsgw-statedir-XXXXXX", p[200], q[256];
	CHECK(mkdtemp(tmp) != NULL);
	mode_t old = umask(077); /* bits the umask takes off are put back */
	/* mkdir -p: the parents, then the directory itself 0750 */
	snprintf(p, sizeof(p), "%s/var/lib/bmsgw", tmp);
	CHECK_EQ_INT(gw_mkdir_p(p, 0750), 1);
	CHECK_EQ_INT(mode_of(p), 0750);
	snprintf(q, sizeof(q), "%s/var/lib", tmp);
	CHECK(mode_of(q) >= 0);
	CHECK_EQ_INT(gw_mkdir_p(p, 0750), 0); /* there already */
	/* an existing directory keeps its mode */
	CHECK_EQ_INT(chmod(p, 0700), 0);
	CHECK_EQ_INT(gw_mkdir_p(p, 0750), 0);
	CHECK_EQ_INT(mode_of(p), 0700);
	snprintf(q, sizeof(q), "%s//", p); /* trailing slashes */
	CHECK_EQ_INT(gw_mkdir_p(q, 0750), 0);
	/* a file in the way, of the directory or of a parent */
	snprintf(q, sizeof(q), "%s/file", tmp);
	FILE *f = fopen(q, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	errno = 0;
	CHECK_EQ_INT(gw_mkdir_p(q, 0750), -1);
	CHECK_EQ_INT(errno, ENOTDIR);
	snprintf(q, sizeof(q), "%s/file/bmsgw", tmp);
	errno = 0;
	CHECK_EQ_INT(gw_mkdir_p(q, 0750), -1);
	CHECK_EQ_INT(errno, ENOTDIR);

	/* gw_state_dir_make: a failure logged once, naming the keys, until it works */
	FILE *log = tmpfile();
	CHECK(log != NULL);
	if (!log)
		return;
	gw_log_set_output(log);
	CHECK_EQ_INT(gw_state_dir_make(q), -1);
	CHECK_EQ_INT(gw_state_dir_make(q), -1);
	gw_log_flush(gw_mono() + 3600); /* a second line would come out now as "repeated" */
	CHECK_EQ_INT(log_count(log, "cannot create the state directory"), 1);
	CHECK_EQ_INT(log_count(log, "repeated"), 0);
	CHECK_EQ_INT(log_count(log, "Not a directory): the history and the energy counters have nowhere to go; set "
				    "[history] file = ... or [gateway] state_file = ..., or run under systemd with "
				    "StateDirectory= (the gateway goes on serving)"), 1);
	snprintf(p, sizeof(p), "%s/made", tmp);
	CHECK_EQ_INT(gw_state_dir_make(p), 0);
	CHECK_EQ_INT(mode_of(p), 0750);
	CHECK_EQ_INT(log_count(log, "created the state directory"), 1);
	CHECK_EQ_INT(gw_state_dir_make(p), 0); /* there: nothing to say */
	CHECK_EQ_INT(log_count(log, "created the state directory"), 1);
	snprintf(q, sizeof(q), "%s/file/other", tmp); /* a new failure after it worked: logged again */
	CHECK_EQ_INT(gw_state_dir_make(q), -1);
	CHECK_EQ_INT(log_count(log, "cannot create the state directory"), 2);
	gw_log_set_output(NULL);
	fclose(log);
	umask(old);

	snprintf(q, sizeof(q), "rm -rf '%s'", tmp);
	CHECK_EQ_INT(system(q), 0);
}

static int answers;

static void rows_cb(void *arg, int status, char *text, size_t len)
{
	(void)arg;
	(void)status;
	(void)len;
	answers++;
	free(text);
}

/* A query the worker answered while the loop did not run any more (the
 * daemon stopping) is answered by gw_history_free: a samples question
 * always (MQTT's backfill frees its ticket there), nothing of it leaked.
 * The done list was re-queued after its old last entry, out of reach:
 * under a loaded suite the backfill's last question leaked at the exit. */
static void free_answers_tests(void)
{
	char dir[] = "/tmp/bmsgw-hist-XXXXXX", q[300];
	CHECK(mkdtemp(dir) != NULL);
	conf_defaults(&c);
	snprintf(HIST->file, sizeof(HIST->file), "%s/h.db", dir);
	HIST->enabled = true;
	struct gw gw;
	memset(&gw, 0, sizeof(gw));
	gw.loop = ev_loop_new(0);
	gw.conf = &c;
	for (int n = 1; n <= 2; n++) {
		struct gw_history *h = gw_history_new(&gw);
		CHECK(h != NULL);
		if (!h)
			break;
		answers = 0;
		for (int i = 0; i < n; i++)
			CHECK_EQ_INT(gw_history_samples(h, "a", 0, 100, 10, rows_cb, NULL), 0);
		for (int done = 0; done < n;) { /* until the worker has answered them (the loop never runs) */
			pthread_mutex_lock(&h->mu);
			done = 0;
			for (struct gw_hquery *x = h->done; x; x = x->next)
				done++;
			pthread_mutex_unlock(&h->mu);
			if (done < n)
				usleep(1000);
		}
		gw_history_free(h);
		CHECK_EQ_INT(answers, n);
	}
	ev_loop_destroy(gw.loop);
	snprintf(q, sizeof(q), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(q), 0);
}

int main(void)
{
	install_sections(); /* the outputs' sections, [history] among them */
	conf_tests();
	sample_tests();
	time_tests();
	path_tests();
	statedir_tests();
	free_answers_tests();
	return check_report();
}
