/*
 * fuzz_signer_proto.c - libFuzzer target for the signer's message decoder
 * (both directions), the INIT message that carries the passphrase included,
 * and the journal's messages (two-phase issuance). A request that decodes
 * must encode again and decode to the same fields (round trip), or the
 * target aborts; so must an answer that decodes.
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
                            r.log_level != r2.log_level || r.njfiles != r2.njfiles ||
                            r.has_cursor != r2.has_cursor ||
                            (r.has_cursor && (!same(r.cursor.name, r2.cursor.name) ||
                                              r.cursor.end != r2.cursor.end)))
                                abort();
                        for (size_t i = 0; i < r.njfiles; i++)
                                if (!same(r.jfiles[i].name, r2.jfiles[i].name) ||
                                    r.jfiles[i].end != r2.jfiles[i].end ||
                                    r.jfiles[i].flags != r2.jfiles[i].flags)
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
                qbuf_init(&b, MAX_SIGNER_MSG_BYTES + 8);
                struct signer_resp back;
                if (signer_encode_resp(&resp, &b)) {
                        if (signer_decode_resp(b.data + 4, b.len - 4, &back, &ei) != QERR_OK ||
                            back.njentries != resp.njentries || back.njfiles != resp.njfiles ||
                            back.has_cursor != resp.has_cursor || !same(back.der, resp.der))
                                abort();
                        for (size_t i = 0; i < resp.njentries; i++)
                                if (!same(back.jentries[i].der, resp.jentries[i].der) ||
                                    !same(back.jentries[i].serial, resp.jentries[i].serial) ||
                                    back.jentries[i].seq != resp.jentries[i].seq)
                                        abort();
                        signer_resp_clear(&back);
                }
                qbuf_free(&b);
        }
        signer_resp_clear(&resp);
        return 0;
}
