/* SPDX-License-Identifier: GPL-2.0 */
/* Rendering an update's record, shared by report, status and handover. */
#ifndef NVWA_REPORT_H
#define NVWA_REPORT_H

#include <stdio.h>

#include "handover.h"

void report_print_table(FILE *f, const struct nvwa_handover *h);
void report_print_json(FILE *f, const struct nvwa_handover *h);
/* Loads, checks and prints the record at @path; logs why not. */
int report_print_file(const char *path, int json);
/* Writes @s as a JSON string, quoted and escaped. */
void json_str(FILE *f, const char *s);
/* Freeze to app-running in ms; -ENODATA if the update did not get there. */
int report_downtime(const struct nvwa_handover *h, double *ret_ms);

#endif
