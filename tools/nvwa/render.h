/* SPDX-License-Identifier: GPL-2.0 */
/* Rendering an update's record, shared by report and handover show. */
#ifndef NVWA_RENDER_H
#define NVWA_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "common/handover.h"

void report_print_table(FILE *f, const struct nvwa_handover *h);
/* The JSON form (see nvwa report --help); -ENOMEM, logged, if it cannot be built. */
int report_print_json(FILE *f, const struct nvwa_handover *h);
/* Loads, checks and prints the record at @path; logs why not. */
int report_print_file(const char *path, bool json);

#endif
