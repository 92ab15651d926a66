/* SPDX-License-Identifier: GPL-2.0 */
/* Rendering an update's record, shared by report, status and handover. */
#ifndef NVWA_REPORT_H
#define NVWA_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/handover.h"
#include "common/util.h"

void report_print_table(FILE *f, const struct nvwa_handover *h);
/* The JSON form (see usage_report()); -ENOMEM, logged, if it cannot be built. */
int report_print_json(FILE *f, const struct nvwa_handover *h);
struct compare_opts;
/* nvwa report --compare: 0 nothing regressed, 1 something did, 2 trouble. */
int report_compare(const char *a, const char *b, const struct compare_opts *o);
/* Loads, checks and prints the record at @path; logs why not. */
int report_print_file(const char *path, bool json);

#endif
