/* SPDX-License-Identifier: MIT */
/* tests/fuzz/ubprobe.c - not a fuzz target: a libFuzzer program built as
 * the targets are (FUZZ_CFLAGS, the same link), with undefined behaviour
 * on purpose, for the test that undefined behaviour ends a fuzz run
 * (tests/run.sh, "fuzz: undefined behaviour ends the run").
 *
 * An input's first byte is copied over a bool, as fuzz_inv_can.c once
 * copied the input over a struct inv_battery: a byte other than 0 or 1
 * loaded as a bool is undefined, and UBSan reports "load of value N, which
 * is not a valid value for type 'bool'" (N = 66 for 'B').  Built without
 * -fno-sanitize-recover=undefined the report is printed and the run goes
 * on to exit 0; with it, the run stops with the report and keeps the
 * input. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct flags {
	bool on;
};

/* volatile: the load is not optimised away */
static volatile int sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flags f;
	if (size < 1)
		return 0;
	memcpy(&f, data, sizeof(f));
	sink = f.on ? 1 : 2;
	return 0;
}
