/*
 * test_letter.c - policy_check_letter (RULES.md §5): JPG, PNG and PDF by
 * content, at most 1.4 MB; a table of accepted and refused inputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',
                               'I',  'F',  0x00, 0x01, 0x01, 0x00, 0xFF, 0xD9};
static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0,    0, 0, 13,
                              'I',  'H', 'D', 'R', 0,    0,    0,    1,    0,    0, 0, 1,
                              8,    2,   0,   0,   0,    0x90, 0x77, 0x53, 0xDE, 0, 0, 0,
                              0,    'I', 'E', 'N', 'D',  0xAE, 0x42, 0x60, 0x82};
static const char pdf[] = "%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

static void test_accepts(void **state)
{
        (void)state;
        char t[4];
        struct qerr_info ei;
        assert_int_equal(policy_check_letter(jpeg, sizeof jpeg, t, &ei), QERR_OK);
        assert_string_equal(t, "jpg");
        assert_int_equal(policy_check_letter(png, sizeof png, t, &ei), QERR_OK);
        assert_string_equal(t, "png");
        assert_int_equal(policy_check_letter((const uint8_t *)pdf, strlen(pdf), t, &ei), QERR_OK);
        assert_string_equal(t, "pdf");
}

static void test_refuses(void **state)
{
        (void)state;
        static const struct {
                const char *label;
                const uint8_t *p;
                size_t len;
        } cases[] = {
            {"empty", (const uint8_t *)"", 0},
            {"text", (const uint8_t *)"a signed letter", 15},
            {"jpeg without EOI", jpeg, sizeof jpeg - 2},
            {"png without IEND", png, sizeof png - 12},
            {"pdf without %%EOF", (const uint8_t *)pdf, 20},
            {"zip", (const uint8_t *)"PK\x03\x04rest-of-an-archive", 22},
            {"elf",
             (const uint8_t *)"\x7f"
                              "ELF\x02\x01\x01",
             7},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char t[4];
                struct qerr_info ei;
                qerr_clear(&ei);
                enum qerr rc = policy_check_letter(cases[i].p, cases[i].len, t, &ei);
                if (rc != QERR_LETTER_INVALID)
                        fail_msg("%s: expected revocation_letter_invalid, got %s", cases[i].label,
                                 qerr_code(rc));
                assert_true(strlen(qerr_message(&ei)) > 0);
        }
}

static void test_size_limit(void **state)
{
        (void)state;
        /* a valid PDF exactly at the limit passes; one byte more does not */
        size_t n = POLICY_LETTER_MAX_BYTES;
        uint8_t *b = malloc(n + 1);
        assert_non_null(b);
        memset(b, ' ', n + 1);
        memcpy(b, "%PDF-1.4\n", 9);
        memcpy(b + n - 6, "%%EOF\n", 6);
        char t[4];
        struct qerr_info ei;
        assert_int_equal(policy_check_letter(b, n, t, &ei), QERR_OK);
        memcpy(b + n + 1 - 6, "%%EOF\n", 6);
        assert_int_equal(policy_check_letter(b, n + 1, t, &ei), QERR_LETTER_INVALID);
        assert_non_null(strstr(qerr_message(&ei), "1.4 MB"));
        free(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_accepts),
            cmocka_unit_test(test_refuses),
            cmocka_unit_test(test_size_limit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
