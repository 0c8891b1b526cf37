/* SPDX-License-Identifier: MIT */
/* gateway/core/machine.c - this machine's tag.  See machine.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "machine.h"

int gw_machine_tag_parse(const char *text, char *out)
{
	out[0] = '\0';
	while (*text == ' ' || *text == '\t')
		text++;
	for (int i = 0; i < GW_MACHINE_TAG_LEN; i++)
		if (!isxdigit((unsigned char)text[i]))
			return -1;
	for (int i = 0; i < GW_MACHINE_TAG_LEN; i++)
		out[i] = (char)tolower((unsigned char)text[i]);
	out[GW_MACHINE_TAG_LEN] = '\0';
	return 0;
}

int gw_machine_tag(const char *const *paths, size_t n, char *out)
{
	static const char *const def[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
	if (!paths) {
		paths = def;
		n = sizeof(def) / sizeof(def[0]);
	}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		FILE *f = fopen(paths[i], "re");
		if (!f)
			continue;
		char line[80];
		int ok = fgets(line, sizeof(line), f) && gw_machine_tag_parse(line, out) == 0;
		fclose(f);
		if (ok)
			return 0;
	}
	return -1;
}
