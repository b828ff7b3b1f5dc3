/*
 * test_risk.c - RULES.md §4, the risk-word matcher (src/policy/risk.c), as a
 * table: a name, the word list (lower-case, as the loader gives it), and
 * whether a label matches and which word is reported. Matching is per label,
 * case-insensitive, a substring of the label as written or of the label with
 * its digits and hyphens removed (removed, not read as letters: "p4ypal" is
 * "pypal").
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define MAXW 4

struct risk_case {
        const char *name; /* the row's label (cmocka test name) */
        const char *host;
        const char *words[MAXW];
        bool match;
        const char *why; /* expected explanation when it matches (NULL: not checked) */
};

static const struct risk_case cases[] = {
    /* plain and case */
    {"whole label",
     "paypal.example.com",
     {"paypal"},
     true,
     "label \"paypal\" of paypal.example.com contains \"paypal\""},
    {"upper-case label",
     "PayPal.Example.com",
     {"paypal"},
     true,
     "label \"paypal\" of PayPal.Example.com contains \"paypal\""},
    {"all capitals", "WWW.PAYPAL.COM", {"paypal"}, true, NULL},
    {"word inside a longer label", "secure-paypal-login.example.com", {"paypal"}, true, NULL},
    {"word at the end of a label", "mypaypal.example.com", {"paypal"}, true, NULL},
    {"no word in any label", "www.example.com", {"paypal", "bank"}, false, NULL},
    {"similar but different", "paypai.example.com", {"paypal"}, false, NULL},
    /* digits and hyphens removed */
    {"hyphen inside the word",
     "pay-pal.example.com",
     {"paypal"},
     true,
     "label \"pay-pal\" of pay-pal.example.com contains \"paypal\""},
    {"digit inside the word", "pay1pal.example.com", {"paypal"}, true, NULL},
    {"digits and hyphens mixed", "p-a-y-1-2-p-a-l.example.com", {"paypal"}, true, NULL},
    {"trailing digits", "paypal2024.example.com", {"paypal"}, true, NULL},
    {"digits are removed, not read as letters", "p4ypal.example.com", {"paypal"}, false, NULL},
    {"leet o for 0 is not folded", "g00gle.example.com", {"google"}, false, NULL},
    {"upper case and hyphens", "Pay-PAL.example.com", {"paypal"}, true, NULL},
    {"word with a hyphen matches the label as written",
     "pay-pal.example.com",
     {"pay-pal"},
     true,
     NULL},
    {"word with a hyphen, label without", "paypal.example.com", {"pay-pal"}, false, NULL},
    {"word with digits matches as written", "web3wallet.example.com", {"web3"}, true, NULL},
    /* labels */
    {"a word never spans two labels", "pay.pal.example.com", {"paypal"}, false, NULL},
    {"dots are not removed like hyphens", "pay.pal.com", {"paypal"}, false, NULL},
    {"the last label counts", "shop.example.paypal", {"paypal"}, true, NULL},
    {"a middle label counts",
     "a.paypal.b.example.com",
     {"paypal"},
     true,
     "label \"paypal\" of a.paypal.b.example.com contains \"paypal\""},
    {"wildcard names are matched too", "*.paypal.example.com", {"paypal"}, true, NULL},
    {"A-labels are matched as written", "xn--paypal-9ta.example.com", {"paypal"}, true, NULL},
    {"a single-label name", "paypal", {"paypal"}, true, NULL},
    {"63-octet label (the longest), word at its end",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaapaypal.example.com",
     {"paypal"},
     true,
     NULL},
    /* the list */
    {"first listed word that matches is reported",
     "bank-paypal.example.com",
     {"paypal", "bank"},
     true,
     "label \"bank-paypal\" of bank-paypal.example.com contains \"paypal\""},
    {"second word matches",
     "mybank.example.com",
     {"paypal", "bank"},
     true,
     "label \"mybank\" of mybank.example.com contains \"bank\""},
    {"an empty word matches nothing", "www.example.com", {""}, false, NULL},
    {"an empty word beside a real one", "bank.example.com", {"", "bank"}, true, NULL},
    {"no words at all", "paypal.example.com", {NULL}, false, NULL},
};

static size_t nwords(const struct risk_case *c)
{
        size_t n = 0;
        while (n < MAXW && c->words[n])
                n++;
        return n;
}

static void test_row(void **state)
{
        const struct risk_case *c = *state;
        char why[300] = "unchanged";
        bool got = policy_risk_match(c->host, c->words, nwords(c), why, sizeof why);
        if (got != c->match)
                fail_msg("%s: %s with [%s%s%s] matched=%d, expected %d (why: %s)", c->name, c->host,
                         c->words[0] ? c->words[0] : "", c->words[1] ? ", " : "",
                         c->words[1] ? c->words[1] : "", got, c->match, why);
        if (!c->match)
                assert_string_equal(why, "unchanged");
        else if (c->why)
                assert_string_equal(why, c->why);
        /* `why` is optional, and a short one is cut, never overrun */
        assert_int_equal(policy_risk_match(c->host, c->words, nwords(c), NULL, 0), c->match);
        char tiny[8];
        memset(tiny, 'x', sizeof tiny);
        assert_int_equal(policy_risk_match(c->host, c->words, nwords(c), tiny, 5), c->match);
        if (c->match)
                assert_int_equal(strlen(tiny), 4);
        assert_int_equal(tiny[5], 'x');
}

int main(void)
{
        const size_t n = sizeof cases / sizeof cases[0];
        struct CMUnitTest *tests = calloc(n, sizeof *tests);
        if (!tests)
                return 1;
        for (size_t i = 0; i < n; i++) {
                tests[i].name = cases[i].name;
                tests[i].test_func = test_row;
                tests[i].initial_state = (void *)&cases[i];
        }
        int failed = _cmocka_run_group_tests("risk", tests, n, NULL, NULL);
        free(tests);
        return failed;
}
