/* SPDX-License-Identifier: MIT */
/* tests/unit/test_influx.c - the InfluxDB line protocol as bmsgw writes it
 * (gateway/influx/line.c): escaping of names and tags, numbers in plain
 * decimals, NaN and infinities never sent, a unit without a field sends no
 * line, a line that does not fit is void; the fields of a pack's snapshot
 * and of the bank; and [influx] in the configuration (gateway/influx/influx_conf.c): v1
 * and v2, the private password and token files, the URL's checks; when
 * the points are due and their seconds (gateway/influx/sched.c) on fake
 * clocks with a late, jittering tick. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "../../gateway/influx/influx_conf.h"
#include "../../gateway/influx/line.h"
#include "../../gateway/influx/sched.h"
#include "check.h"
#include "sections.h"

static void test_escape(void)
{
	char out[64];
	CHECK_EQ_INT(ix_escape(out, sizeof(out), "rack1", false), 5);
	CHECK_STR(out, "rack1");
	ix_escape(out, sizeof(out), "a b,c=d", false);
	CHECK_STR(out, "a\\ b\\,c\\=d");
	ix_escape(out, sizeof(out), "a b,c=d", true); /* a measurement keeps its = */
	CHECK_STR(out, "a\\ b\\,c=d");
	ix_escape(out, sizeof(out), "x\ny\\z\x7f", false);
	CHECK_STR(out, "x_y_z_");
	CHECK_EQ_INT(ix_escape(out, 4, "abcd", false), 0); /* does not fit: nothing */
	CHECK_STR(out, "");
	CHECK_EQ_INT(ix_escape(out, 4, "a,b", false), 0); /* the escape does not fit */
	CHECK_EQ_INT(ix_escape(out, 5, "a,b", false), 4);
}

static void test_numbers(void)
{
	char buf[256];
	struct ix_line l;
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", "cabin", "rack1");
	ix_line_num(&l, "voltage", 53.21);
	ix_line_num(&l, "current", -12.5);
	ix_line_num(&l, "soc", 80);
	ix_line_num(&l, "nan", NAN);
	ix_line_num(&l, "inf", INFINITY);
	ix_line_num(&l, "minf", -INFINITY);
	ix_line_num(&l, "huge", 1e300);
	ix_line_num(&l, "tiny", -0.00001);
	ix_line_bool(&l, "charge_mos", true);
	CHECK(ix_line_end(&l, 1764130000) > 0);
	CHECK_STR(buf, "bmsgw,site=cabin,unit=rack1 voltage=53.21,current=-12.5,soc=80,tiny=0,charge_mos=t "
		  "1764130000\n");
	/* no site: no tag */
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", "", "bank");
	ix_line_num(&l, "soc", 99.95);
	CHECK(ix_line_end(&l, 1) > 0);
	CHECK_STR(buf, "bmsgw,unit=bank soc=99.95 1\n");
	/* nothing but NaN: no line */
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", NULL, "a");
	ix_line_num(&l, "voltage", NAN);
	CHECK_EQ_INT(ix_line_end(&l, 1), 0);
	CHECK_STR(buf, "");
	/* too long for its buffer: void, never cut */
	char small[40];
	ix_line_start(&l, small, sizeof(small), "bmsgw", "cabin", "rack1");
	ix_line_num(&l, "voltage", 53.21);
	ix_line_num(&l, "current", 1);
	CHECK_EQ_INT(ix_line_end(&l, 1764130000), 0);
	CHECK_STR(small, "");
	/* escaped tags and keys */
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", "my site", "a=b");
	ix_line_num(&l, "x y", 1);
	CHECK(ix_line_end(&l, 2) > 0);
	CHECK_STR(buf, "bmsgw,site=my\\ site,unit=a\\=b x\\ y=1 2\n");
}

static void test_snapshot(void)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_MOSFETS;
	s.voltage = 53.25f;
	s.current = NAN; /* present but not a number: left out */
	s.soc = 87.5f;
	s.soh = 99; /* not present: left out */
	s.cycles = 12;
	s.chg_mos = true;
	s.ncells = 3;
	s.cell_mv[0] = 3301, s.cell_mv[1] = 3310, s.cell_mv[2] = 3305;
	s.ntemps = 2;
	s.temp_c[0] = 21.5f, s.temp_c[1] = NAN;
	char buf[IX_LINE_MAX];
	struct ix_line l;
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", "s1", "p1");
	ix_line_snapshot(&l, &s, NULL);
	CHECK(ix_line_end(&l, 5) > 0);
	CHECK_STR(buf, "bmsgw,site=s1,unit=p1 voltage=53.25,soc=87.5,cycles=12,temp_01_c=21.5,charge_mos=t,"
		  "discharge_mos=f,cell_01=3301,cell_02=3310,cell_03=3305,cell_min_mv=3301,cell_max_mv=3310,"
		  "cell_avg_mv=3305,cell_delta_mv=9 5\n");
	/* the bank: its cell statistics across packs, no cells */
	struct reg_bank rb = { .have_cells = true, .min_mv = 3290, .max_mv = 3320, .avg_mv = 3300 };
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_SOC;
	s.soc = 50;
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", NULL, "bank");
	ix_line_snapshot(&l, &s, &rb);
	CHECK(ix_line_end(&l, 6) > 0);
	CHECK_STR(buf, "bmsgw,unit=bank soc=50,cell_min_mv=3290,cell_max_mv=3320,cell_avg_mv=3300,cell_delta_mv=30 6\n");
	/* every field of a full snapshot fits */
	memset(&s, 0, sizeof(s));
	s.present = 0xFFFFFFFFu;
	s.ncells = BMS_MAX_CELLS;
	s.ntemps = BMS_MAX_TEMPS;
	for (int i = 0; i < BMS_MAX_CELLS; i++)
		s.cell_mv[i] = 65535;
	s.voltage = s.current = s.power = s.soc = s.soh = s.remain_ah = s.full_ah = -99999.9999f;
	s.cycles = 4000000000u;
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", "abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz01234");
	ix_line_snapshot(&l, &s, NULL);
	CHECK(ix_line_end(&l, 9999999999LL) > 0);
}

static struct conf c;
static char err[CONF_ERR_MAX];

static int load(const char *tail)
{
	static char text[4096];
	snprintf(text, sizeof(text), "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[influx]\n%s", tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *tail, const char *needle)
{
	CHECK(load(tail) < 0);
	if (!strstr(err, needle))
		fprintf(stderr, "  expected \"%s\" in: %s\n", needle, err);
	CHECK(strstr(err, needle) != NULL);
}

static void secret(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static void test_conf(void)
{
	char dir[] = "/tmp/test_influx_XXXXXX", tail[1024], pw[300], tok[300];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	snprintf(tok, sizeof(tok), "%s/tok", dir);
	secret(pw, "s3cret\n", 0600);
	secret(tok, "tok-en==\n", 0640);
	CHECK_EQ_INT(load("url = http://127.0.0.1:8086/\ndatabase = bmsgw\n"), 0);
	CHECK(gw_influx_conf(&c)->enabled);
	CHECK_EQ_INT(gw_influx_conf(&c)->version, 1);
	CHECK_STR(gw_influx_conf(&c)->url.bare, "http://127.0.0.1:8086"); /* the trailing / off */
	CHECK_NEAR(gw_influx_conf(&c)->interval, 10, 0);
	CHECK_NEAR(gw_influx_conf(&c)->timeout, 10, 0);
	CHECK_EQ_INT(gw_influx_conf(&c)->batch, 1000);
	CHECK_EQ_INT(gw_influx_conf(&c)->queue, 10000);
	snprintf(tail, sizeof(tail), "url = https://db.example:8086/influx\ndatabase = b\nusername = u\n"
		 "password_file = %s\ninterval = 1\n", pw);
	CHECK_EQ_INT(load(tail), 0);
	CHECK_STR(gw_influx_conf(&c)->password, "s3cret");
	snprintf(tail, sizeof(tail), "url = http://h:8086\norg = o\nbucket = b\ntoken_file = %s\n", tok);
	CHECK_EQ_INT(load(tail), 0);
	CHECK_EQ_INT(gw_influx_conf(&c)->version, 2);
	CHECK_STR(gw_influx_conf(&c)->token, "tok-en==");
	/* refused */
	expect_error("database = b\n", "url");
	expect_error("url = smtp://h\ndatabase = b\n", "http:// or https://");
	expect_error("url = http://u:p@h:8086\ndatabase = b\n", "a user or password in the URL");
	expect_error("url = http://h:8086/?db=x\ndatabase = b\n", "holds a query");
	expect_error("url = http://h:8086\n", "database");
	expect_error("url = http://h:8086\ndatabase = b\norg = o\nbucket = b\n", "one or the other");
	expect_error("url = http://h:8086\norg = o\n", "both org = and bucket =");
	expect_error("url = http://h:8086\norg = o\nbucket = b\n", "token_file");
	expect_error("url = http://h:8086\ndatabase = b\nusername = u\n", "password_file");
	snprintf(tail, sizeof(tail), "url = http://h:8086\ndatabase = b\ntoken_file = %s\n", tok);
	expect_error(tail, "InfluxDB 2");
	expect_error("url = http://h:8086\ndatabase = b\ninterval = 0.5\n", "interval");
	expect_error("url = http://h:8086\ndatabase = b\ninterval = 3601\n", "interval");
	expect_error("url = http://h:8086\ndatabase = b\nqueue = 100\nbatch = 200\n", "larger than queue");
	secret(pw, "s3cret\n", 0604); /* others may read it: refused */
	snprintf(tail, sizeof(tail), "url = http://h:8086\ndatabase = b\nusername = u\npassword_file = %s\n", pw);
	expect_error(tail, "password_file");
	secret(tok, "tok\n", 0644);
	snprintf(tail, sizeof(tail), "url = http://h:8086\norg = o\nbucket = b\ntoken_file = %s\n", tok);
	expect_error(tail, "token_file");
	unlink(pw);
	unlink(tok);
	rmdir(dir);
	/* no section: off */
	CHECK_EQ_INT(conf_load_string("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n", "t.ini", &c, err,
				      sizeof(err)), 0);
	CHECK(!gw_influx_conf(&c)->enabled);
}

/* A tick every period s from mono 100, each late by a pseudo-random
 * 0..jitter s; the wall clock = mono + off. Returns the points taken, their
 * seconds in t[] (up to n), or -1 when two share a second or go back. */
static int run_ticks(double period, double jitter, double off, double iv, int ticks, long long *t, int n)
{
	struct ix_sched s = { 0 };
	unsigned r = 12345;
	int k = 0;
	for (int i = 0; i < ticks; i++) {
		r = r * 1103515245u + 12345u;
		double now = 100 + i * period + jitter * ((r >> 8) & 0xffff) / 65536.0;
		long long sec;
		if (!ix_sched_due(&s, now, now + off, iv, &sec))
			continue;
		if (k > 0 && sec <= t[(k - 1) % n])
			return -1;
		if (sec < (long long)floor(now + off) - 1 || sec > (long long)floor(now + off) + 1)
			return -2; /* a stamp more than a second off the clock */
		t[k % n] = sec;
		k++;
	}
	return k;
}

static void test_sched(void)
{
	static long long t[4096];
	/* a point every tick, the clock's phase at every tenth of a second and
	 * a tick late by up to 0.3 s: each tick its own second, none lost (the
	 * clock's floor lost one in several near a second's boundary) */
	for (int ph = 0; ph < 10; ph++) {
		double off = 1.7e9 + ph / 10.0;
		CHECK_EQ_INT(run_ticks(1, 0.3, off, 1, 1000, t, 4096), 1000);
		int steps = 1;
		for (int i = 1; i < 1000; i++)
			steps &= t[i] - t[i - 1] == 1;
		CHECK(steps);
	}
	/* the watchdog's quicker tick (0.25 s): still one point a second (the
	 * 1001st due at the last tick, half a second before its time) */
	CHECK_EQ_INT(run_ticks(0.25, 0.2, 1.7e9 + 0.95, 1, 4000, t, 4096), 1001);
	/* every 10 s: 100 points in 1000 ticks, 10 s apart */
	CHECK_EQ_INT(run_ticks(1, 0.3, 1.7e9 + 0.5, 10, 1000, t, 4096), 100);
	CHECK(t[50] - t[49] == 10);
	/* a loop 5 s late: the next points at the clock's second, then on */
	struct ix_sched s = { 0 };
	long long sec = 0;
	const long long W = 1764130000;
	CHECK(ix_sched_due(&s, 10.0, W + 0.2, 1, &sec) && sec == W);
	CHECK(ix_sched_due(&s, 11.0, W + 1.2, 1, &sec) && sec == W + 1);
	CHECK(!ix_sched_due(&s, 11.4, W + 1.6, 1, &sec)); /* not yet */
	CHECK(ix_sched_due(&s, 16.3, W + 6.5, 1, &sec) && sec == W + 6);
	CHECK(ix_sched_due(&s, 17.3, W + 7.5, 1, &sec) && sec == W + 7);
	/* the wall clock stepped back an hour: its seconds again */
	CHECK(ix_sched_due(&s, 18.3, W + 8.5 - 3600, 1, &sec) && sec == W + 8 - 3600);
	CHECK(ix_sched_due(&s, 19.3, W + 9.5 - 3600, 1, &sec) && sec == W + 9 - 3600);
	/* back by a second: that second has its points, none twice */
	CHECK(!ix_sched_due(&s, 20.3, W + 9.4 - 3600, 1, &sec));
	CHECK(ix_sched_due(&s, 21.3, W + 10.4 - 3600, 1, &sec) && sec == W + 10 - 3600);
}

int main(void)
{
	install_sections(); /* the outputs' sections, [influx] among them */
	test_sched();
	test_escape();
	test_numbers();
	test_snapshot();
	test_conf();
	return check_report();
}
