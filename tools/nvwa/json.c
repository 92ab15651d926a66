// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tools/nvwa/json.h"

struct json_object *json_bytes(const char *s)
{
	size_t n = 0, len = strlen(s);
	struct json_object *o;
	char *text = malloc(2 * len + 1);

	if (!text)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80) {
			text[n++] = (char)c;
		} else {
			text[n++] = (char)(0xc0 | c >> 6);
			text[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	o = json_object_new_string_len(text, (int)n);
	free(text);
	return o;
}

struct json_object *json_fixed(double v, int decimals)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

#define FLAGS JSON_C_TO_STRING_NOSLASHESCAPE

/*
 * json-c's PRETTY form would give every member of every object a line of
 * its own; scripts have always read one phase, app or item per line, so
 * the line breaks are decided here and every value is json-c's.  Keys are
 * nvwa's own names (the man pages list them), never data.
 */
static void put_line(FILE *f, struct json_object *o)
{
	bool first = true;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			fprintf(f, "%s\"%s\": ", first ? "{" : ", ", key);
			put_line(f, val);
			first = false;
		}
		fputs(first ? "{}" : "}", f);
		break;
	}
	case json_type_array:
		fputc('[', f);
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			fputs(i ? ", " : "", f);
			put_line(f, json_object_array_get_idx(o, i));
		}
		fputc(']', f);
		break;
	default:
		fputs(json_object_to_json_string_ext(o, FLAGS), f);
	}
}

static void put_lines(FILE *f, struct json_object *root)
{
	bool first = true;

	if (!json_object_is_type(root, json_type_object)) {
		put_line(f, root);
		return;
	}
	json_object_object_foreach(root, key, val) {
		size_t n = json_object_is_type(val, json_type_array) ?
			   json_object_array_length(val) : 0;

		fprintf(f, "%s\n  \"%s\": ", first ? "{" : ",", key);
		first = false;
		if (!n) {
			put_line(f, val);
			continue;
		}
		fputc('[', f);
		for (size_t i = 0; i < n; i++) {
			fputs(i ? ",\n    " : "\n    ", f);
			put_line(f, json_object_array_get_idx(val, i));
		}
		fputs("\n  ]", f);
	}
	fputs(first ? "{}" : "\n}", f);
}

int json_write(FILE *f, struct json_object *root, enum json_layout layout)
{
	if (!root)
		return log_error_errno(-ENOMEM, "Cannot build the JSON output: %m");
	switch (layout) {
	case JSON_LINES:
		put_lines(f, root);
		break;
	case JSON_LINE:
		put_line(f, root);
		break;
	case JSON_COMPACT:
		fputs(json_object_to_json_string_ext(root, FLAGS | JSON_C_TO_STRING_PLAIN), f);
		break;
	}
	fputc('\n', f);
	json_object_put(root);
	return 0;
}
