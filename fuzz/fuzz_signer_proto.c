/*
 * fuzz_signer_proto.c - libFuzzer target for the signer's message decoder
 * (both directions), the INIT message that carries the passphrase included,
 * and the OCSP messages (responder creation, batches of statuses; answers
 * with one OCSPResponse per entry). A request that decodes must encode
 * again and decode to the same fields (round trip), or the target aborts;
 * so must an answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signer/signer_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(struct sbytes a, struct sbytes b)
{
        return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct signer_req r, r2;
        struct signer_resp resp;
        struct qerr_info ei;
        if (signer_decode_req(data, size, &r, &ei) == QERR_OK) {
                struct qbuf b;
                qbuf_init(&b, MAX_SIGNER_MSG_BYTES + 8);
                if (signer_encode_req(&r, &b)) {
                        if (signer_decode_req(b.data + 4, b.len - 4, &r2, &ei) != QERR_OK)
                                abort();
                        if (r2.type != r.type || r2.nnames != r.nnames ||
                            r2.nentries != r.nentries || !same(r.serial, r2.serial) ||
                            !same(r.issuer_der, r2.issuer_der) || r.not_after != r2.not_after ||
                            !same(r.data_dir, r2.data_dir) || !same(r.passphrase, r2.passphrase) ||
                            r.private_max_days != r2.private_max_days ||
                            r.log_level != r2.log_level || r2.nocsp != r.nocsp ||
                            !same(r.responder_der, r2.responder_der) ||
                            r.this_update != r2.this_update || r.not_before != r2.not_before)
                                abort();
                        for (size_t i = 0; i < r.nocsp; i++)
                                if (!same(r.ocsp[i].serial, r2.ocsp[i].serial) ||
                                    r.ocsp[i].status != r2.ocsp[i].status ||
                                    r.ocsp[i].revoked_at != r2.ocsp[i].revoked_at ||
                                    r.ocsp[i].reason != r2.ocsp[i].reason)
                                        abort();
                        signer_req_clear(&r2);
                }
                qbuf_free(&b);
                if (r.org.len) {
                        struct org_subject org;
                        if (signer_parse_org(r.org, &org, &ei) == QERR_OK &&
                            (!org.o[0] || strlen(org.c) != 2))
                                abort(); /* accepted what it must refuse */
                }
                signer_req_clear(&r);
        }
        if (signer_decode_resp(data, size, &resp, &ei) == QERR_OK && resp.type == SMSG_OK) {
                struct qbuf b;
                struct signer_resp resp2;
                qbuf_init(&b, MAX_SIGNER_MSG_BYTES + 8);
                if (signer_encode_resp(&resp, &b)) {
                        if (signer_decode_resp(b.data + 4, b.len - 4, &resp2, &ei) != QERR_OK ||
                            resp2.nocsp != resp.nocsp || !same(resp.der, resp2.der))
                                abort();
                        for (size_t i = 0; i < resp.nocsp; i++)
                                if (!same(resp.ocsp[i], resp2.ocsp[i]))
                                        abort();
                }
                qbuf_free(&b);
        }
        return 0;
}
