// SPDX-License-Identifier: GPL-2.0
/* --json output: any byte in a record gives valid JSON, lines where scripts expect them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvwa/json.h"

#define UNIT_MAIN
#include "tests/unit/unit.h"

static char *render(struct json_object *root, enum json_layout layout)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (json_write(f, root, layout) < 0)
		abort();
	fclose(f);
	return buf;
}

/* Strict JSON in valid UTF-8, or NULL. */
static struct json_object *parse(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	json_tokener_free(tok);
	return o;
}

TEST(every_byte_reads_back_as_the_character_of_its_number)
{
	char bytes[256];
	struct json_object *o = json_object_new_object(), *back;
	const unsigned char *s;
	unsigned int c;
	char *out;

	for (int i = 1; i < 256; i++)
		bytes[i - 1] = (char)i;
	bytes[255] = '\0';
	json_object_object_add(o, "s", json_bytes(bytes));
	out = render(o, JSON_LINE);
	back = parse(out);
	if (!CHECKF(back, "not JSON: %s", out)) {
		free(out);
		return;
	}
	s = (const unsigned char *)json_object_get_string(json_object_object_get(back, "s"));
	/* UTF-8 of U+0001..U+00FF, in order. */
	for (c = 1; c < 256 && s[0]; c++) {
		unsigned int got = s[0];

		if (s[0] >= 0x80) {
			if (!s[1])
				break;
			got = (unsigned int)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
			s++;
		}
		s++;
		if (!CHECKF(got == c, "character %u read back as %u", c, got))
			break;
	}
	CHECK_EQ_INT(c, 256);
	CHECK(!s[0]);
	json_object_put(back);
	free(out);
}

TEST(one_member_per_line_one_row_per_line)
{
	struct json_object *o = json_object_new_object(), *rows = json_object_new_array();
	struct json_object *row = json_object_new_object(), *k = json_object_new_object();
	char *out;

	json_object_object_add(k, "release", json_bytes("6.1.0-57-amd64"));
	json_object_object_add(k, "image", json_bytes("/boot/a \"b\""));
	json_object_object_add(row, "name", json_bytes("freeze"));
	json_object_object_add(row, "start_ms", json_fixed(-1.25, 3));
	json_object_object_add(row, "end_tsc", json_object_new_uint64(UINT64_MAX));
	json_object_array_add(rows, row);
	json_object_array_add(rows, json_object_get(row));
	json_object_object_add(o, "format", json_object_new_string("nvwa-report"));
	json_object_object_add(o, "new_kernel", k);
	json_object_object_add(o, "phases", rows);
	json_object_object_add(o, "items", json_object_new_array());
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "downtime_ms", NULL);
	out = render(o, JSON_LINES);
	CHECK_STREQ(out,
		    "{\n"
		    "  \"format\": \"nvwa-report\",\n"
		    "  \"new_kernel\": {\"release\": \"6.1.0-57-amd64\", \"image\": \"/boot/a \\\"b\\\"\"},\n"
		    "  \"phases\": [\n"
		    "    {\"name\": \"freeze\", \"start_ms\": -1.250, \"end_tsc\": 18446744073709551615},\n"
		    "    {\"name\": \"freeze\", \"start_ms\": -1.250, \"end_tsc\": 18446744073709551615}\n"
		    "  ],\n"
		    "  \"items\": [],\n"
		    "  \"ok\": true,\n"
		    "  \"downtime_ms\": null\n"
		    "}\n");
	free(out);
}

TEST(a_line_and_the_compact_form)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	char *out;

	json_object_object_add(o, "pid", json_object_new_int(42));
	json_object_object_add(o, "images_dir", json_bytes("/ckpt/c1"));
	json_object_object_add(o, "freeze_ms", json_fixed(12.34, 1));
	json_object_object_add(o, "lazy", json_object_new_boolean(0));
	json_object_array_add(a, json_object_get(o));
	json_object_array_add(a, json_object_get(o));
	out = render(o, JSON_LINE);
	CHECK_STREQ(out, "{\"pid\": 42, \"images_dir\": \"/ckpt/c1\", \"freeze_ms\": 12.3, \"lazy\": false}\n");
	free(out);
	out = render(a, JSON_COMPACT);
	CHECK_STREQ(out, "[{\"pid\":42,\"images_dir\":\"/ckpt/c1\",\"freeze_ms\":12.3,\"lazy\":false},"
			 "{\"pid\":42,\"images_dir\":\"/ckpt/c1\",\"freeze_ms\":12.3,\"lazy\":false}]\n");
	free(out);
}
