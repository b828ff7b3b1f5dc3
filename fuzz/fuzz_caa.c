/*
 * fuzz_caa.c - libFuzzer target for the CAA parsers and the decider: the
 * input is one CAA rdata. It runs caa_parse_rdata, then, for issue and
 * issuewild, caa_parse_issue_value on the value, then caa_decide over a set
 * holding the record (kept as `malformed` when it did not parse, as the walk
 * does) for a plain and a wildcard request under both climb readings.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "caa/caa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decide_all(struct caa_set *sets, size_t n)
{
        static const char *const ids[] = {"quill.invalid", "ca2.quill.invalid."};
        static const char *const names[] = {"www.example.com", "*.www.example.com"};
        for (size_t i = 0; i < 4; i++) {
                struct caa_request req = {
                    .name = names[i % 2],
                    .identities = ids,
                    .nidentities = 2,
                    .account_uri = i < 2 ? "https://acme.quill.invalid/acct/7" : NULL,
                    .method = i < 2 ? "dns-01" : "file",
                    .climb_past_inapplicable = i < 2,
                };
                struct caa_decision d;
                caa_decide(&req, sets, n, &d);
                if (strlen(d.reason) >= sizeof d.reason || strlen(d.records) >= sizeof d.records)
                        __builtin_trap();
                (void)caa_set_stops_climb(&req, &sets[0]);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct caa_record rec;
        struct qerr_info ei;
        enum qerr e = caa_parse_rdata(data, size, &rec, &ei);
        if (e == QERR_OK && (strcmp(rec.tag, "issue") == 0 || strcmp(rec.tag, "issuewild") == 0)) {
                struct caa_issue_value iv;
                (void)caa_parse_issue_value(rec.value, &iv, &ei);
        }
        if (e != QERR_OK && e != QERR_USAGE)
                return 0; /* out of memory */
        struct caa_set sets[2];
        memset(sets, 0, sizeof sets);
        memcpy(sets[0].name, "www.example.com", sizeof "www.example.com");
        sets[0].status = CAA_SET_RECORDS;
        sets[0].recs = &rec;
        sets[0].n = 1;
        memcpy(sets[1].name, "example.com", sizeof "example.com");
        sets[1].status = CAA_SET_ERROR;
        memcpy(sets[1].error, "SERVFAIL", sizeof "SERVFAIL");
        decide_all(sets, 2);
        caa_record_clear(&rec);
        return 0;
}
