/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection, for the failures no test can cause from outside (a
 * reboot call that returns, a restore that dies half-way).  Only the test
 * build has it: make builds build/nvwa-fault with -DNVWA_FAULTS, and the
 * product's FAULT() is the constant false, so no fault point exists in
 * what is installed.
 *
 *   if (FAULT("record-save"))
 *           r = -EIO;
 *
 * In the test build, FAULT(NAME) is true when $NVWA_FAULT (a comma-separated
 * list) names NAME; it says so on stderr.
 */
#ifndef NVWA_FAULT_H
#define NVWA_FAULT_H

#include <stdbool.h>

#ifdef NVWA_FAULTS
bool fault_hit(const char *name);
#define FAULT(name) fault_hit(name)
#else
#define FAULT(name) false
#endif

#endif
