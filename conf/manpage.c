/* SPDX-License-Identifier: MIT */
/* conf/manpage.c - the man pages' lists of the `protocol =` values, from the
 * driver table (bms/: each driver's name and description), so that a new
 * brand is named there without an edit.  bmsgw --man-protocols 5|8 prints
 * the block; `make man` writes it between the markers of conf/bmsgw.ini.5
 * and conf/bmsgw.8 (tests/tools/man_protocols.py), and test_checklist.py
 * fails while a page's block differs from it.
 */
#include <stdio.h>

#include "../bms/bms.h"
#include "conf.h"

/* s in roff: a hyphen is \-, a backslash \e, a line never starts with a
 * control character. */
static void roff(FILE *o, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", o);
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", o);
		else if (*s == '\\')
			fputs("\\e", o);
		else
			fputc(*s, o);
	}
}

/* bmsgw(8): "The supported protocols are a, b ... and z;" */
static void names(FILE *o)
{
	int n = 0;
	while (bms_drivers[n])
		n++;
	fputs("The supported protocols are\n", o);
	for (int i = 0; i < n; i++) {
		fputs(i == n - 1 ? ".BR " : i == n - 2 ? ".B " : ".BR ", o);
		roff(o, bms_drivers[i]->name);
		fputs(i == n - 1 ? " ;\n" : i == n - 2 ? "\nand\n" : " ,\n", o);
	}
}

/* bmsgw.ini(5): one bulleted line per protocol with its description
 * (indented paragraphs: the key's own tagged paragraph goes on). */
static void described(FILE *o)
{
	fputs(".RS\n", o);
	for (int i = 0; bms_drivers[i]; i++) {
		fputs(".IP \\(bu 2\n.BR ", o);
		roff(o, bms_drivers[i]->name);
		fputs(" :\n", o);
		roff(o, bms_drivers[i]->description);
		fputc('\n', o);
	}
	fputs(".RE\n", o);
}

int conf_print_man_protocols(FILE *o, int section)
{
	if (section == 8)
		names(o);
	else if (section == 5)
		described(o);
	else
		return -1;
	return 0;
}
