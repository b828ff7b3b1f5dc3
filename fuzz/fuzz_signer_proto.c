/*
 * fuzz_signer_proto.c - libFuzzer target for the signer's message decoder
 * (both directions), the INIT message that carries the passphrase, the CRL
 * session's messages, the journal's messages (two-phase issuance) and the
 * OCSP messages (responder creation, batches of statuses; answers with one
 * OCSPResponse per entry) included. A request that decodes must encode
 * again and decode to the same fields (round trip), or the target aborts;
 * so must an answer that decodes. The entries of a CRL_ENTRIES request go
 * through the signer's entry parser: what it accepts must encode back to
 * the very same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_crl.h"
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
                            !same(r.entries, r2.entries) || r2.entry_count != r.entry_count ||
                            r2.entries_len != r.entries_len || !same(r.serial, r2.serial) ||
                            !same(r.crl_url, r2.crl_url) || !same(r.issuer_der, r2.issuer_der) ||
                            r.not_after != r2.not_after || !same(r.data_dir, r2.data_dir) ||
                            !same(r.passphrase, r2.passphrase) ||
                            r.private_max_days != r2.private_max_days ||
                            r.log_level != r2.log_level || r.njfiles != r2.njfiles ||
                            r.has_cursor != r2.has_cursor ||
                            (r.has_cursor && (!same(r.cursor.name, r2.cursor.name) ||
                                              r.cursor.end != r2.cursor.end)) ||
                            r2.nocsp != r.nocsp || !same(r.responder_der, r2.responder_der) ||
                            r.this_update != r2.this_update || r.not_before != r2.not_before)
                                abort();
                        for (size_t i = 0; i < r.nocsp; i++)
                                if (!same(r.ocsp[i].serial, r2.ocsp[i].serial) ||
                                    r.ocsp[i].status != r2.ocsp[i].status ||
                                    r.ocsp[i].revoked_at != r2.ocsp[i].revoked_at ||
                                    r.ocsp[i].reason != r2.ocsp[i].reason)
                                        abort();
                        for (size_t i = 0; i < r.njfiles; i++)
                                if (!same(r.jfiles[i].name, r2.jfiles[i].name) ||
                                    r.jfiles[i].end != r2.jfiles[i].end ||
                                    r.jfiles[i].flags != r2.jfiles[i].flags)
                                        abort();
                        signer_req_clear(&r2);
                }
                qbuf_free(&b);
                for (size_t off = 0; r.type == SMSG_CRL_ENTRIES && off < r.entries.len;) {
                        struct pki_crl_entry e;
                        size_t used = 0;
                        if (pki_crl_entry_parse(r.entries.p + off, r.entries.len - off, &used, &e,
                                                &ei) != QERR_OK)
                                break;
                        uint8_t again[PKI_CRL_ENTRY_MAX];
                        if (used == 0 ||
                            pki_crl_entry_encode(again, e.serial, e.serial_len, e.revoked_at,
                                                 e.reason) != used ||
                            memcmp(again, r.entries.p + off, used) != 0)
                                abort(); /* accepted what is not canonical */
                        off += used;
                }
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
                            back.has_cursor != resp.has_cursor || !same(back.der, resp.der) ||
                            back.nocsp != resp.nocsp)
                                abort();
                        for (size_t i = 0; i < resp.njentries; i++)
                                if (!same(back.jentries[i].der, resp.jentries[i].der) ||
                                    !same(back.jentries[i].serial, resp.jentries[i].serial) ||
                                    back.jentries[i].seq != resp.jentries[i].seq)
                                        abort();
                        for (size_t i = 0; i < resp.nocsp; i++)
                                if (!same(resp.ocsp[i], back.ocsp[i]))
                                        abort();
                        signer_resp_clear(&back);
                }
                qbuf_free(&b);
        }
        signer_resp_clear(&resp);
        return 0;
}
