/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON output: built as json-c objects, so json-c writes every string and
 * number and escaping is never ours to get right.  nvwa chooses only where
 * the lines break, so the output reads as it always has.
 */
#ifndef NVWA_JSON_H
#define NVWA_JSON_H

#include <stdio.h>

#include <json-c/json.h>

enum json_layout {
	/*
	 * Members one per line, and so the elements of their arrays; what
	 * sits deeper is on one line, {"key": value, ...}.
	 */
	JSON_LINES,
	/* The whole on one line, {"key": value, ...}. */
	JSON_LINE,
	/* json-c's plain form, not one space: {"key":value,...}. */
	JSON_COMPACT,
};

/*
 * The bytes of @s as a JSON string.  Records, paths and kernel strings are
 * bytes, not text, and JSON is Unicode: each byte stands for the character
 * of the same number (ISO 8859-1), as nvwa's JSON has always shown them,
 * so any byte stays readable and the output valid.
 */
struct json_object *json_bytes(const char *s);

/* @v with @decimals digits after the point, as nvwa has always printed it. */
struct json_object *json_fixed(double v, int decimals);

/*
 * Writes @root and a newline to @f and drops the reference to @root.
 * Returns 0, or -ENOMEM (logged) if @root could not be built.
 */
int json_write(FILE *f, struct json_object *root, enum json_layout layout);

#endif
