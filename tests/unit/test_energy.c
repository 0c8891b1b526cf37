/* SPDX-License-Identifier: MIT */
/* tests/unit/test_energy.c - energy counters (gateway/model/energy.c): the
 * integration of power over good polls; and the state file
 * (gateway/model/statefile.c) with every record of its table: read into
 * its owners, written back, a pack added later, an unwritable place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../gateway/model/energy.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/model/statefile.h"
#include "check.h"
#include "sections.h"

static void test_integration(void)
{
	struct gw_energy e = { 0 };
	/* the first sample only starts a segment */
	CHECK(!gw_energy_add(&e, 100, 1000, 30));
	CHECK_NEAR(e.in_kwh, 0, 1e-12);
	/* 1 kW for 10 s = 10/3600 kWh in */
	CHECK(gw_energy_add(&e, 110, 1000, 30));
	CHECK_NEAR(e.in_kwh, 10.0 / 3600, 1e-12);
	CHECK_NEAR(e.out_kwh, 0, 1e-12);
	/* a ramp from 1 kW to 3 kW over 10 s: the trapezoid, 2 kW mean */
	gw_energy_add(&e, 120, 3000, 30);
	CHECK_NEAR(e.in_kwh, 10.0 / 3600 + 20.0 / 3600, 1e-12);
	/* discharging */
	struct gw_energy d = { 0 };
	gw_energy_add(&d, 0, -500, 30);
	gw_energy_add(&d, 3600, -500, 4000);
	CHECK_NEAR(d.out_kwh, 0.5, 1e-12);
	CHECK_NEAR(d.in_kwh, 0, 1e-12);
	/* crossing zero: +1 kW to -1 kW over 20 s = 10 s charging, 10 s discharging,
	 * each a triangle of 1 kW x 10 s / 2 */
	struct gw_energy x = { 0 };
	gw_energy_add(&x, 0, 1000, 30);
	gw_energy_add(&x, 20, -1000, 30);
	CHECK_NEAR(x.in_kwh, 5.0 / 3600, 1e-12);
	CHECK_NEAR(x.out_kwh, 5.0 / 3600, 1e-12);
	/* from 0 W to -1 kW: all discharge, none counted as charge */
	struct gw_energy z = { 0 };
	gw_energy_add(&z, 0, 0, 60);
	gw_energy_add(&z, 36, -1000, 60);
	CHECK_NEAR(z.in_kwh, 0, 1e-12);
	CHECK_NEAR(z.out_kwh, 0.005, 1e-12);
	/* a gap longer than max_gap (stale): nothing across it */
	struct gw_energy g = { 0 };
	gw_energy_add(&g, 0, 1000, 30);
	gw_energy_add(&g, 31, 1000, 30);
	CHECK_NEAR(g.in_kwh, 0, 1e-12);
	gw_energy_add(&g, 41, 1000, 30); /* the new segment counts */
	CHECK_NEAR(g.in_kwh, 10.0 / 3600, 1e-12);
	/* a break (stale, no power) starts over */
	gw_energy_break(&g);
	gw_energy_add(&g, 45, 1000, 30);
	CHECK_NEAR(g.in_kwh, 10.0 / 3600, 1e-12);
	/* time going backwards or standing still adds nothing */
	gw_energy_add(&g, 45, 1000, 30);
	gw_energy_add(&g, 40, 1000, 30);
	CHECK_NEAR(g.in_kwh, 10.0 / 3600, 1e-12);
}

/* The whole file as a string (at most cap - 1 bytes). */
static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
}

static void test_state_file(void)
{
	char path[] = "/tmp/bmsgw-energy-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	const char text[] = "# comment\npack rack1 12.5 3.25\npack shed 1 2\nbank 100.125 50.5\n"
			    "pack broken -1 2\npack nan nan 1\nintent rack1 0 1\nintent broken 2 1\n"
			    "full rack1 1795420800\nfull broken -5\nfuture rack1 1 2 3\nintent shed 0 0\n";
	CHECK_EQ_INT(write(fd, text, sizeof(text) - 1), (long)sizeof(text) - 1);
	close(fd);

	char err[256];
	struct conf *c = malloc(sizeof(*c));
	char ini[512];
	snprintf(ini, sizeof(ini),
		 "[gateway]\nstate_file = %s\n[pack.rack1]\nprotocol = jbd\nport = /dev/ttyUSB0\ncontrol = true\n"
		 "[pack.new]\nprotocol = daly\nport = /dev/ttyUSB1\n[pack.broken]\nprotocol = jbd\nport = /dev/ttyUSB2\n"
		 "control = true\n",
		 path);
	CHECK(c && conf_load_string(ini, "t.ini", c, err, sizeof(err)) == 0);
	static struct gw gw;
	CHECK_EQ_INT(gw_init(&gw, NULL, c), 0);
	gw_statefile_load(&gw);
	CHECK_NEAR(gw.packs[0]->energy.in_kwh, 12.5, 1e-9);
	CHECK_NEAR(gw.packs[0]->energy.out_kwh, 3.25, 1e-9);
	CHECK_NEAR(gw.packs[1]->energy.in_kwh, 0, 1e-9);   /* not in the file */
	CHECK_NEAR(gw.packs[2]->energy.in_kwh, 0, 1e-9);   /* nonsense is not served */
	CHECK_NEAR(gw.bank_energy.in_kwh, 100.125, 1e-9);
	CHECK_NEAR(gw.bank_energy.out_kwh, 50.5, 1e-9);

	/* written back: the configured packs and the bank, every record in the
	 * table's order, nothing of packs not configured nor of unknown words */
	gw.packs[1]->energy.in_kwh = 0.5;
	gw_statefile_changed(&gw);
	gw_statefile_save(&gw, false);
	gw_statefile_flush(&gw);
	char buf[1024];
	slurp(path, buf, sizeof(buf));
	CHECK_STR(buf, "# bmsgw state: energy counters in kWh (written by bmsgw, atomically)\n"
		       "pack rack1 12.500000 3.250000\npack new 0.500000 0.000000\npack broken 0.000000 0.000000\n"
		       "bank 100.125000 50.500000\n"
		       "intent rack1 0 1\nintent broken 1 1\n" /* nonsense: the default intent (nothing locked) */
		       "full rack1 1795420800\n");
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0); /* renamed into place */
	/* nothing changed since: no write */
	unlink(path);
	gw_statefile_save(&gw, false);
	gw_statefile_flush(&gw);
	CHECK(access(path, F_OK) != 0);
	gw_statefile_save(&gw, true);
	gw_statefile_flush(&gw);
	CHECK(access(path, F_OK) == 0);

	/* a pack added later finds its records, and only its own */
	gw.packs[1]->energy = (struct gw_energy){ 0 };
	gw.packs[0]->energy.in_kwh = 7;
	gw_statefile_restore_pack(&gw, gw.packs[1]);
	CHECK_NEAR(gw.packs[1]->energy.in_kwh, 0.5, 1e-9);
	CHECK_NEAR(gw.packs[0]->energy.in_kwh, 7, 1e-9);

	/* an unwritable place: kept in memory, no crash */
	snprintf(gw.conf->gw.state_file, sizeof(gw.conf->gw.state_file), "/nonexistent-dir/state");
	gw_statefile_changed(&gw);
	gw_statefile_save(&gw, false);
	gw_statefile_flush(&gw);
	CHECK(gw_statefile_failed(&gw));
	/* the place works again: the next save writes, nothing changed since */
	snprintf(gw.conf->gw.state_file, sizeof(gw.conf->gw.state_file), "%s", path);
	unlink(path);
	gw_statefile_save(&gw, false);
	gw_statefile_flush(&gw);
	CHECK(!gw_statefile_failed(&gw));
	CHECK(access(path, F_OK) == 0);
	/* "none": no file at all */
	snprintf(gw.conf->gw.state_file, sizeof(gw.conf->gw.state_file), "none");
	char p2[64];
	gw_statefile_path(&gw, p2, sizeof(p2));
	CHECK_STR(p2, "");
	/* automatic: systemd's StateDirectory */
	gw.conf->gw.state_file[0] = '\0';
	setenv("STATE_DIRECTORY", "/var/lib/bmsgw:/var/lib/other", 1);
	gw_statefile_path(&gw, p2, sizeof(p2));
	CHECK_STR(p2, "/var/lib/bmsgw/state");
	unsetenv("STATE_DIRECTORY");
	gw_statefile_path(&gw, p2, sizeof(p2));
	CHECK_STR(p2, "/var/lib/bmsgw/state");
	unlink(path);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_integration();
	test_state_file();
	return check_report();
}
