/*
 * lint_json.c - lint findings as JSON, the one shape of `quill lint --json`,
 * `quill cert upload --json` and the REST API's upload answer:
 * [{"id","severity","message","source"}]. See lint_json.h.
 */
#include "lint_json.h"

json_t *json_of_lint(const struct lint_report *r)
{
        json_t *a = json_array();
        for (size_t i = 0; a && r && i < r->n; i++) {
                const struct lint_finding *f = &r->items[i];
                if (json_array_append_new(a, json_pack("{s:s,s:s,s:o,s:s}", "id", f->id, "severity",
                                                       lint_severity_name(f->severity), "message",
                                                       json_of_text(f->message), "source",
                                                       f->source)) != 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}
