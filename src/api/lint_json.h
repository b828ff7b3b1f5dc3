/*
 * lint_json.h - lint findings (pki/lint.h, which has no OpenSSL types) as a
 * JSON array for the front doors. Returns a new reference (NULL only when
 * memory ran out); any thread.
 */
#ifndef QUILL_LINT_JSON_H
#define QUILL_LINT_JSON_H

#include <jansson.h>

#include "../base/model_json.h"
#include "../pki/lint.h"

json_t *json_of_lint(const struct lint_report *r);

#endif
