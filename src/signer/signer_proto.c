/*
 * signer_proto.c - frame encoding and strict decoding; see signer_proto.h.
 */
#include "signer_proto.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pki/pki_crl.h"

enum tag {
        T_KEY_ALG = 1,
        T_SUBJECT,
        T_ISSUER,
        T_SPKI,
        T_NAME, /* repeated */
        T_NOT_BEFORE,
        T_NOT_AFTER,
        T_SERIAL,
        T_PROFILE,
        T_CRL_URL,
        T_OCSP_URL,
        T_CAISSUERS_URL,
        T_CRL_NUMBER,
        T_THIS_UPDATE,
        T_NEXT_UPDATE,
        T_RETIRED_16, /* was the one-frame CRL's entry (message 5, gone): never reuse */
        T_DER,
        T_KEY_ID,
        T_CODE,
        T_MESSAGE,
        T_ORG, /* OV/EV subject: "O=..\nC=..\nST=..\nL=.." */
        T_DATA_DIR,
        T_PRIVATE_MAX_DAYS,
        T_PUBLIC_MAX_DAYS,
        T_PASSPHRASE,
        T_NOTE,      /* why there is no passphrase */
        T_LOG_LEVEL, /* 27 */
        /* 28-30: the journal (two-phase issuance) */
        T_JENTRY, /* 28, repeated: a journal record (encode_jentry) */
        T_JFILE,  /* repeated: a journal file and an offset (encode_jfile) */
        T_CURSOR, /* a journal file and an offset: where the next page starts */
        /* 31-33: OCSP (issue 6) */
        T_RESPONDER = 31, /* the OCSP responder certificate (DER) */
        T_OCSP_ENTRY,     /* repeated: serial-len(1) serial status(1) revoked_at(8) reason(8) */
        T_OCSP_DER,       /* repeated, in answers: one signed OCSPResponse */
        /* 34: INIT, optional: [validation] allow_private_addresses (tests) */
        T_ALLOW_PRIVATE = 34,
        /* 35-39: free. 40-49: the CRL session (SMSG_CRL_BEGIN ... FINISH) */
        T_CRL_ENTRIES = 40, /* CRL_ENTRIES: DER of whole RevokedCertificate entries */
        T_ENTRY_COUNT,      /* CRL_BEGIN: how many entries will follow */
        T_ENTRIES_LEN,      /* CRL_BEGIN: and their bytes */
        T_CRL_HEAD,         /* CRL_FINISH answer: the TBSCertList before the entries */
        T_CRL_TAIL,         /* ... after them (crlExtensions) */
        T_SIG_ALG,          /* ... the signature AlgorithmIdentifier */
        T_SIGNATURE,        /* ... the signature value */
        T__MAX              /* at most 64: tag sets are 64-bit masks */
};

/* Which tags each request type may carry, and which it must. */
#define B(t) ((uint64_t)1 << (t))
static const struct {
        bool valid;
        uint64_t allowed, required;
} req_tags[] = {
    [SMSG_PING] = {true, 0, 0},
    [SMSG_CREATE_ROOT] = {true, B(T_KEY_ALG) | B(T_SUBJECT), B(T_KEY_ALG) | B(T_SUBJECT)},
    [SMSG_CREATE_ISSUING] = {true,
                             B(T_KEY_ALG) | B(T_SUBJECT) | B(T_ISSUER) | B(T_CRL_URL) |
                                 B(T_CAISSUERS_URL),
                             B(T_KEY_ALG) | B(T_SUBJECT) | B(T_ISSUER)},
    [SMSG_SIGN_CERT] = {true,
                        B(T_ISSUER) | B(T_SPKI) | B(T_NAME) | B(T_NOT_BEFORE) | B(T_NOT_AFTER) |
                            B(T_SERIAL) | B(T_PROFILE) | B(T_CRL_URL) | B(T_OCSP_URL) |
                            B(T_CAISSUERS_URL) | B(T_ORG),
                        B(T_ISSUER) | B(T_SPKI) | B(T_NAME) | B(T_NOT_BEFORE) | B(T_NOT_AFTER) |
                            B(T_SERIAL) | B(T_PROFILE)},
    [SMSG_INIT] = {true,
                   B(T_DATA_DIR) | B(T_PRIVATE_MAX_DAYS) | B(T_PUBLIC_MAX_DAYS) | B(T_PASSPHRASE) |
                       B(T_NOTE) | B(T_LOG_LEVEL) | B(T_ALLOW_PRIVATE),
                   B(T_DATA_DIR) | B(T_PRIVATE_MAX_DAYS) | B(T_PUBLIC_MAX_DAYS) | B(T_LOG_LEVEL)},
    [SMSG_CREATE_RESPONDER] = {true, B(T_ISSUER) | B(T_NOT_BEFORE) | B(T_NOT_AFTER),
                               B(T_ISSUER) | B(T_NOT_BEFORE) | B(T_NOT_AFTER)},
    [SMSG_SIGN_OCSP] =
        {true, B(T_ISSUER) | B(T_RESPONDER) | B(T_THIS_UPDATE) | B(T_NEXT_UPDATE) | B(T_OCSP_ENTRY),
         B(T_ISSUER) | B(T_RESPONDER) | B(T_THIS_UPDATE) | B(T_NEXT_UPDATE) | B(T_OCSP_ENTRY)},
    [SMSG_CRL_BEGIN] = {true,
                        B(T_ISSUER) | B(T_CRL_NUMBER) | B(T_THIS_UPDATE) | B(T_NEXT_UPDATE) |
                            B(T_CRL_URL) | B(T_ENTRY_COUNT) | B(T_ENTRIES_LEN),
                        B(T_ISSUER) | B(T_CRL_NUMBER) | B(T_THIS_UPDATE) | B(T_NEXT_UPDATE) |
                            B(T_ENTRY_COUNT) | B(T_ENTRIES_LEN)},
    [SMSG_CRL_ENTRIES] = {true, B(T_CRL_ENTRIES), B(T_CRL_ENTRIES)},
    [SMSG_CRL_FINISH] = {true, 0, 0},
    [SMSG_JOURNAL_READ] = {true, B(T_CURSOR), 0},
    [SMSG_JOURNAL_TRIM] = {true, B(T_JFILE), B(T_JFILE)},
};
#define NREQ_TYPES (sizeof req_tags / sizeof req_tags[0])
#define RESP_OK_TAGS                                                                               \
        (B(T_DER) | B(T_KEY_ID) | B(T_CRL_HEAD) | B(T_CRL_TAIL) | B(T_SIG_ALG) | B(T_SIGNATURE) |  \
         B(T_JENTRY) | B(T_JFILE) | B(T_CURSOR) | B(T_OCSP_DER))
_Static_assert(T__MAX <= 64, "tag sets are 64-bit masks");

/* a journal file name and the fixed parts of the compound fields */
#define JNAME_MAX 63
#define JFILE_LEN_MAX (1 + JNAME_MAX + 8 + 1)
#define JENTRY_LEN_MAX (1 + JNAME_MAX + 8 + 8 + 8 + 1 + 20 + 1 + 64 + 4 + 100000)

static const uint32_t max_len[T__MAX] = {
    [T_KEY_ALG] = 16,
    [T_SUBJECT] = 1024,
    [T_ISSUER] = 16384,
    [T_SPKI] = 4096,
    [T_NAME] = 253,
    [T_NOT_BEFORE] = 8,
    [T_NOT_AFTER] = 8,
    [T_SERIAL] = 20,
    [T_PROFILE] = 16,
    [T_CRL_URL] = 512,
    [T_OCSP_URL] = 512,
    [T_CAISSUERS_URL] = 512,
    [T_CRL_NUMBER] = 8,
    [T_THIS_UPDATE] = 8,
    [T_NEXT_UPDATE] = 8,
    [T_DER] = 200000,
    [T_KEY_ID] = 64,
    [T_CODE] = 8,
    [T_MESSAGE] = 1024,
    [T_ORG] = 512,
    [T_DATA_DIR] = 4095,
    [T_PRIVATE_MAX_DAYS] = 8,
    [T_PUBLIC_MAX_DAYS] = 8,
    [T_PASSPHRASE] = SIGNER_MAX_PASSPHRASE,
    [T_NOTE] = 512,
    [T_LOG_LEVEL] = 8,
    [T_CRL_ENTRIES] = SIGNER_CRL_CHUNK_BYTES,
    [T_ENTRY_COUNT] = 8,
    [T_ENTRIES_LEN] = 8,
    [T_CRL_HEAD] = 24576,
    [T_CRL_TAIL] = 4096,
    [T_SIG_ALG] = 256,
    [T_SIGNATURE] = 1024,
    [T_JENTRY] = JENTRY_LEN_MAX,
    [T_JFILE] = JFILE_LEN_MAX,
    [T_CURSOR] = JFILE_LEN_MAX,
    [T_RESPONDER] = 16384,
    [T_OCSP_ENTRY] = 1 + 20 + 1 + 16,
    [T_OCSP_DER] = SIGNER_MAX_OCSP_DER,
    [T_ALLOW_PRIVATE] = 8,
};

static void put_u32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_i64(uint8_t *p, int64_t v)
{
        uint64_t u = (uint64_t)v;
        for (int i = 7; i >= 0; i--, u >>= 8)
                p[i] = (uint8_t)u;
}

static int64_t get_i64(const uint8_t *p)
{
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
                u = u << 8 | p[i];
        return (int64_t)u;
}

static bool field(struct qbuf *out, enum tag t, const void *p, size_t len)
{
        uint8_t h[5];
        if (len > max_len[t])
                return false;
        h[0] = (uint8_t)t;
        put_u32(h + 1, (uint32_t)len);
        return qbuf_append(out, h, 5) && qbuf_append(out, p, len);
}

static bool field_bytes(struct qbuf *out, enum tag t, struct sbytes b)
{
        return b.p == NULL || field(out, t, b.p, b.len);
}

static bool field_i64(struct qbuf *out, enum tag t, int64_t v)
{
        uint8_t b[8];
        put_i64(b, v);
        return field(out, t, b, 8);
}

/* Starts a frame: reserves the length, writes the type. */
static size_t frame_begin(struct qbuf *out, enum signer_msg type, bool *ok)
{
        size_t start = out->len;
        uint8_t h[5] = {0, 0, 0, 0, (uint8_t)type};
        *ok = qbuf_append(out, h, 5);
        return start;
}

static bool frame_end(struct qbuf *out, size_t start, bool ok)
{
        if (!ok || out->len - start - 4 > MAX_SIGNER_MSG_BYTES) {
                out->len = start;
                return false;
        }
        put_u32(out->data + start, (uint32_t)(out->len - start - 4));
        return true;
}

/* ---- the journal's compound fields ---- */

static bool put_name(uint8_t *buf, size_t *off, struct sbytes name)
{
        if (name.len < 1 || name.len > JNAME_MAX)
                return false;
        buf[(*off)++] = (uint8_t)name.len;
        memcpy(buf + *off, name.p, name.len);
        *off += name.len;
        return true;
}

/* name-len(1) name end(8) flags(1) */
static bool encode_jfile(struct qbuf *out, enum tag t, const struct jfile_wire *f)
{
        uint8_t buf[JFILE_LEN_MAX];
        size_t off = 0;
        if (!put_name(buf, &off, f->name))
                return false;
        put_i64(buf + off, f->end);
        off += 8;
        buf[off++] = f->flags;
        return field(out, t, buf, off);
}

/* name-len(1) name offset(8) seq(8) signed_at(8) serial-len(1) serial
 * key-id-len(1) key-id der-len(4) der */
static bool encode_jentry(struct qbuf *out, const struct journal_wire *e)
{
        uint8_t head[1 + JNAME_MAX + 24 + 1 + 20 + 1 + 64 + 4];
        size_t off = 0;
        if (!put_name(head, &off, e->file) || e->serial.len < 1 || e->serial.len > 20 ||
            e->key_id.len > 64 || e->der.len < 1 || e->der.len > 100000)
                return false;
        put_i64(head + off, e->offset);
        put_i64(head + off + 8, e->seq);
        put_i64(head + off + 16, e->signed_at);
        off += 24;
        head[off++] = (uint8_t)e->serial.len;
        memcpy(head + off, e->serial.p, e->serial.len);
        off += e->serial.len;
        head[off++] = (uint8_t)e->key_id.len;
        if (e->key_id.len)
                memcpy(head + off, e->key_id.p, e->key_id.len);
        off += e->key_id.len;
        put_u32(head + off, (uint32_t)e->der.len);
        off += 4;
        uint8_t h[5];
        h[0] = (uint8_t)T_JENTRY;
        put_u32(h + 1, (uint32_t)(off + e->der.len));
        return off + e->der.len <= max_len[T_JENTRY] && qbuf_append(out, h, 5) &&
               qbuf_append(out, head, off) && qbuf_append(out, e->der.p, e->der.len);
}

static bool get_name(const uint8_t *v, uint32_t len, size_t *off, struct sbytes *name)
{
        if (*off >= len)
                return false;
        size_t n = v[(*off)++];
        if (n < 1 || n > JNAME_MAX || len - *off < n)
                return false;
        name->p = v + *off;
        name->len = n;
        *off += n;
        return true;
}

static enum qerr decode_jfile(const uint8_t *v, uint32_t len, struct jfile_wire *f,
                              struct qerr_info *ei)
{
        size_t off = 0;
        memset(f, 0, sizeof *f);
        if (!get_name(v, len, &off, &f->name) || len - off != 9)
                return qerr_set(ei, QERR_PROTO, "bad journal file field");
        f->end = get_i64(v + off);
        f->flags = v[off + 8];
        if (f->end < 0)
                return qerr_set(ei, QERR_PROTO, "bad journal file offset");
        return QERR_OK;
}

static enum qerr decode_jentry(const uint8_t *v, uint32_t len, struct journal_wire *e,
                               struct qerr_info *ei)
{
        size_t off = 0;
        memset(e, 0, sizeof *e);
        if (!get_name(v, len, &off, &e->file) || len - off < 24 + 1)
                return qerr_set(ei, QERR_PROTO, "bad journal entry");
        e->offset = get_i64(v + off);
        e->seq = get_i64(v + off + 8);
        e->signed_at = get_i64(v + off + 16);
        off += 24;
        size_t sl = v[off++];
        if (sl < 1 || sl > 20 || len - off < sl + 1)
                return qerr_set(ei, QERR_PROTO, "bad journal entry serial");
        e->serial.p = v + off;
        e->serial.len = sl;
        off += sl;
        size_t kl = v[off++];
        if (kl > 64 || len - off < kl + 4)
                return qerr_set(ei, QERR_PROTO, "bad journal entry key id");
        e->key_id.p = v + off;
        e->key_id.len = kl;
        off += kl;
        uint32_t dl = get_u32(v + off);
        off += 4;
        if (dl < 1 || dl > 100000 || len - off != dl || e->offset < 0)
                return qerr_set(ei, QERR_PROTO, "bad journal entry certificate");
        e->der.p = v + off;
        e->der.len = dl;
        return QERR_OK;
}

/* Appends one decoded item to a growing array owned by the message. */
static enum qerr grow(void **arr, size_t n, size_t elem, size_t max, struct qerr_info *ei)
{
        if (n >= max)
                return qerr_set(ei, QERR_PROTO, "too many journal fields");
        if (n % 64 == 0) {
                void *na = realloc(*arr, (n + 64) * elem);
                if (!na)
                        return qerr_set(ei, QERR_NOMEM, NULL);
                *arr = na;
        }
        return QERR_OK;
}

bool signer_encode_req(const struct signer_req *r, struct qbuf *out)
{
        bool ok;
        size_t start = frame_begin(out, r->type, &ok);
        uint64_t allowed = (size_t)r->type < NREQ_TYPES ? req_tags[r->type].allowed : 0;
        if (allowed & B(T_KEY_ALG))
                ok = ok && field_bytes(out, T_KEY_ALG, r->key_alg);
        if (allowed & B(T_SUBJECT))
                ok = ok && field_bytes(out, T_SUBJECT, r->subject);
        if (allowed & B(T_ISSUER))
                ok = ok && field_bytes(out, T_ISSUER, r->issuer_der);
        if (allowed & B(T_SPKI))
                ok = ok && field_bytes(out, T_SPKI, r->spki_der);
        for (size_t i = 0; ok && (allowed & B(T_NAME)) && i < r->nnames; i++)
                ok = field_bytes(out, T_NAME, r->names[i]);
        if (allowed & B(T_RESPONDER))
                ok = ok && field_bytes(out, T_RESPONDER, r->responder_der);
        if (allowed & B(T_NOT_BEFORE))
                ok = ok && field_i64(out, T_NOT_BEFORE, r->not_before) &&
                     field_i64(out, T_NOT_AFTER, r->not_after);
        if (allowed & B(T_SERIAL))
                ok = ok && field_bytes(out, T_SERIAL, r->serial);
        if (allowed & B(T_PROFILE))
                ok = ok && field_bytes(out, T_PROFILE, r->profile);
        if (allowed & B(T_CRL_URL))
                ok = ok && field_bytes(out, T_CRL_URL, r->crl_url);
        if (allowed & B(T_OCSP_URL))
                ok = ok && field_bytes(out, T_OCSP_URL, r->ocsp_url);
        if (allowed & B(T_CAISSUERS_URL))
                ok = ok && field_bytes(out, T_CAISSUERS_URL, r->ca_issuers_url);
        if ((allowed & B(T_ORG)) && r->org.len)
                ok = ok && field_bytes(out, T_ORG, r->org);
        if (allowed & B(T_CRL_NUMBER))
                ok = ok && field_i64(out, T_CRL_NUMBER, r->crl_number);
        if (allowed & B(T_THIS_UPDATE))
                ok = ok && field_i64(out, T_THIS_UPDATE, r->this_update) &&
                     field_i64(out, T_NEXT_UPDATE, r->next_update);
        if (allowed & B(T_DATA_DIR))
                ok = ok && field_bytes(out, T_DATA_DIR, r->data_dir) &&
                     field_i64(out, T_PRIVATE_MAX_DAYS, r->private_max_days) &&
                     field_i64(out, T_PUBLIC_MAX_DAYS, r->public_max_days) &&
                     field_i64(out, T_LOG_LEVEL, r->log_level);
        if ((allowed & B(T_PASSPHRASE)) && r->passphrase.len)
                ok = ok && field_bytes(out, T_PASSPHRASE, r->passphrase);
        if ((allowed & B(T_NOTE)) && r->note.len)
                ok = ok && field_bytes(out, T_NOTE, r->note);
        if ((allowed & B(T_ALLOW_PRIVATE)) && r->allow_private)
                ok = ok && field_i64(out, T_ALLOW_PRIVATE, r->allow_private);
        if (allowed & B(T_ENTRY_COUNT))
                ok = ok && field_i64(out, T_ENTRY_COUNT, r->entry_count) &&
                     field_i64(out, T_ENTRIES_LEN, r->entries_len);
        if (allowed & B(T_CRL_ENTRIES))
                ok = ok && r->entries.p && field_bytes(out, T_CRL_ENTRIES, r->entries);
        if ((allowed & B(T_CURSOR)) && r->has_cursor)
                ok = ok && encode_jfile(out, T_CURSOR, &r->cursor);
        for (size_t i = 0; ok && (allowed & B(T_JFILE)) && i < r->njfiles; i++)
                ok = encode_jfile(out, T_JFILE, &r->jfiles[i]);
        for (size_t i = 0; ok && (allowed & B(T_OCSP_ENTRY)) && i < r->nocsp; i++) {
                const struct ocsp_entry_wire *e = &r->ocsp[i];
                uint8_t buf[1 + 20 + 1 + 16];
                if (e->serial.len == 0 || e->serial.len > 20 || e->status < 0 || e->status > 255) {
                        ok = false;
                        break;
                }
                buf[0] = (uint8_t)e->serial.len;
                memcpy(buf + 1, e->serial.p, e->serial.len);
                buf[1 + e->serial.len] = (uint8_t)e->status;
                put_i64(buf + 2 + e->serial.len, e->revoked_at);
                put_i64(buf + 10 + e->serial.len, e->reason);
                ok = field(out, T_OCSP_ENTRY, buf, 18 + e->serial.len);
        }
        return frame_end(out, start, ok);
}

bool signer_encode_resp(const struct signer_resp *r, struct qbuf *out)
{
        bool ok;
        size_t start = frame_begin(out, r->type, &ok);
        if (r->type == SMSG_OK) {
                ok = ok && field_bytes(out, T_DER, r->der) &&
                     field_bytes(out, T_KEY_ID, r->key_id) &&
                     field_bytes(out, T_CRL_HEAD, r->crl_head) &&
                     field_bytes(out, T_CRL_TAIL, r->crl_tail) &&
                     field_bytes(out, T_SIG_ALG, r->sig_alg) &&
                     field_bytes(out, T_SIGNATURE, r->signature);
                for (size_t i = 0; ok && i < r->njentries; i++)
                        ok = encode_jentry(out, &r->jentries[i]);
                for (size_t i = 0; ok && i < r->njfiles; i++)
                        ok = encode_jfile(out, T_JFILE, &r->jfiles[i]);
                if (r->has_cursor)
                        ok = ok && encode_jfile(out, T_CURSOR, &r->cursor);
                for (size_t i = 0; ok && i < r->nocsp && i < SIGNER_MAX_OCSP_ENTRIES; i++)
                        ok = field_bytes(out, T_OCSP_DER, r->ocsp[i]);
                ok = ok && r->nocsp <= SIGNER_MAX_OCSP_ENTRIES;
        } else {
                ok = ok && field_i64(out, T_CODE, r->code) &&
                     field_bytes(out, T_MESSAGE, r->message);
                if (r->crl_number)
                        ok = ok && field_i64(out, T_CRL_NUMBER, r->crl_number);
        }
        return frame_end(out, start, ok);
}

/* Walks the fields of a frame body, calling `fn` for each. Enforces
 * allowed tags, lengths, and no repeats of single fields. */
typedef enum qerr (*field_fn)(void *ctx, enum tag t, const uint8_t *v, uint32_t len,
                              struct qerr_info *ei);

static enum qerr walk(const uint8_t *p, size_t len, uint64_t allowed, uint64_t required,
                      uint64_t repeatable, field_fn fn, void *ctx, struct qerr_info *ei)
{
        uint64_t seen = 0;
        size_t off = 0;
        while (off < len) {
                if (len - off < 5)
                        return qerr_set(ei, QERR_PROTO, "truncated field header at %zu", off);
                uint8_t t = p[off];
                uint32_t flen = get_u32(p + off + 1);
                off += 5;
                if (t == 0 || t >= T__MAX || !(allowed & B(t)))
                        return qerr_set(ei, QERR_PROTO, "field %u not allowed here", t);
                if ((seen & B(t)) && !(repeatable & B(t)))
                        return qerr_set(ei, QERR_PROTO, "field %u repeated", t);
                if (flen > max_len[t] || flen > len - off)
                        return qerr_set(ei, QERR_PROTO, "field %u too long", t);
                seen |= B(t);
                enum qerr rc = fn(ctx, (enum tag)t, p + off, flen, ei);
                if (rc != QERR_OK)
                        return rc;
                off += flen;
        }
        if ((seen & required) != required)
                return qerr_set(ei, QERR_PROTO, "required field missing");
        return QERR_OK;
}

static enum qerr need8(uint32_t len, struct qerr_info *ei)
{
        return len == 8 ? QERR_OK : qerr_set(ei, QERR_PROTO, "integer field must be 8 bytes");
}

static enum qerr req_field(void *ctx, enum tag t, const uint8_t *v, uint32_t len,
                           struct qerr_info *ei)
{
        struct signer_req *r = ctx;
        struct sbytes b = {v, len};
        switch (t) {
        case T_KEY_ALG:
                r->key_alg = b;
                break;
        case T_SUBJECT:
                r->subject = b;
                break;
        case T_ISSUER:
                r->issuer_der = b;
                break;
        case T_SPKI:
                r->spki_der = b;
                break;
        case T_NAME:
                if (r->nnames >= SIGNER_MAX_NAMES)
                        return qerr_set(ei, QERR_PROTO, "too many names");
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty name");
                r->names[r->nnames++] = b;
                break;
        case T_SERIAL:
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty serial");
                r->serial = b;
                break;
        case T_PROFILE:
                r->profile = b;
                break;
        case T_CRL_URL:
                r->crl_url = b;
                break;
        case T_OCSP_URL:
                r->ocsp_url = b;
                break;
        case T_CAISSUERS_URL:
                r->ca_issuers_url = b;
                break;
        case T_ORG:
                r->org = b;
                break;
        case T_RESPONDER:
                r->responder_der = b;
                break;
        case T_DATA_DIR:
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty data directory");
                r->data_dir = b;
                break;
        case T_PASSPHRASE:
                r->passphrase = b;
                break;
        case T_NOTE:
                r->note = b;
                break;
        case T_CRL_ENTRIES:
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty CRL entries");
                r->entries = b;
                break;
        case T_PRIVATE_MAX_DAYS:
        case T_PUBLIC_MAX_DAYS:
        case T_LOG_LEVEL:
        case T_ALLOW_PRIVATE:
        case T_NOT_BEFORE:
        case T_NOT_AFTER:
        case T_CRL_NUMBER:
        case T_THIS_UPDATE:
        case T_NEXT_UPDATE:
        case T_ENTRY_COUNT:
        case T_ENTRIES_LEN: {
                enum qerr rc = need8(len, ei);
                if (rc != QERR_OK)
                        return rc;
                int64_t x = get_i64(v);
                if (t == T_PRIVATE_MAX_DAYS)
                        r->private_max_days = x;
                else if (t == T_PUBLIC_MAX_DAYS)
                        r->public_max_days = x;
                else if (t == T_LOG_LEVEL)
                        r->log_level = x;
                else if (t == T_ALLOW_PRIVATE)
                        r->allow_private = x;
                else if (t == T_NOT_BEFORE)
                        r->not_before = x;
                else if (t == T_NOT_AFTER)
                        r->not_after = x;
                else if (t == T_CRL_NUMBER)
                        r->crl_number = x;
                else if (t == T_THIS_UPDATE)
                        r->this_update = x;
                else if (t == T_NEXT_UPDATE)
                        r->next_update = x;
                else if (x < 0)
                        return qerr_set(ei, QERR_PROTO, "negative CRL size");
                else if (t == T_ENTRY_COUNT)
                        r->entry_count = x;
                else
                        r->entries_len = x;
                break;
        }
        case T_CURSOR:
                r->has_cursor = true;
                return decode_jfile(v, len, &r->cursor, ei);
        case T_JFILE: {
                enum qerr rc =
                    grow((void **)&r->jfiles, r->njfiles, sizeof *r->jfiles, SIGNER_MAX_JFILES, ei);
                if (rc == QERR_OK)
                        rc = decode_jfile(v, len, &r->jfiles[r->njfiles], ei);
                if (rc == QERR_OK)
                        r->njfiles++;
                return rc;
        }
        case T_OCSP_ENTRY: {
                if (r->nocsp >= SIGNER_MAX_OCSP_ENTRIES)
                        return qerr_set(ei, QERR_PROTO, "too many OCSP entries");
                if (len < 1 || v[0] == 0 || v[0] > 20 || len != 18u + v[0] ||
                    v[1 + v[0]] > OCSP_WIRE_REVOKED)
                        return qerr_set(ei, QERR_PROTO, "bad OCSP entry");
                if (r->nocsp % 64 == 0) {
                        struct ocsp_entry_wire *ne = realloc(r->ocsp, (r->nocsp + 64) * sizeof *ne);
                        if (!ne)
                                return qerr_set(ei, QERR_NOMEM, NULL);
                        r->ocsp = ne;
                }
                struct ocsp_entry_wire *e = &r->ocsp[r->nocsp++];
                e->serial.p = v + 1;
                e->serial.len = v[0];
                e->status = v[1 + v[0]];
                e->revoked_at = get_i64(v + 2 + v[0]);
                e->reason = get_i64(v + 10 + v[0]);
                break;
        }
        default:
                return qerr_set(ei, QERR_PROTO, "unexpected field");
        }
        return QERR_OK;
}

enum qerr signer_decode_req(const uint8_t *p, size_t len, struct signer_req *out,
                            struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (len < 1)
                return qerr_set(ei, QERR_PROTO, "empty message");
        uint8_t type = p[0];
        if (type >= NREQ_TYPES || !req_tags[type].valid)
                return qerr_set(ei, QERR_PROTO, "unknown request type %u", type);
        out->type = (enum signer_msg)type;
        enum qerr rc = walk(p + 1, len - 1, req_tags[type].allowed, req_tags[type].required,
                            B(T_NAME) | B(T_JFILE) | B(T_OCSP_ENTRY), req_field, out, ei);
        if (rc != QERR_OK)
                signer_req_clear(out);
        return rc;
}

static enum qerr resp_field(void *ctx, enum tag t, const uint8_t *v, uint32_t len,
                            struct qerr_info *ei)
{
        struct signer_resp *r = ctx;
        struct sbytes b = {v, len};
        switch (t) {
        case T_DER:
                r->der = b;
                break;
        case T_KEY_ID:
                r->key_id = b;
                break;
        case T_CRL_HEAD:
                r->crl_head = b;
                break;
        case T_CRL_TAIL:
                r->crl_tail = b;
                break;
        case T_SIG_ALG:
                r->sig_alg = b;
                break;
        case T_SIGNATURE:
                r->signature = b;
                break;
        case T_OCSP_DER:
                if (r->nocsp >= SIGNER_MAX_OCSP_ENTRIES)
                        return qerr_set(ei, QERR_PROTO, "too many OCSP responses");
                if (len == 0)
                        return qerr_set(ei, QERR_PROTO, "empty OCSP response");
                r->ocsp[r->nocsp++] = b;
                break;
        case T_CODE:
                if (need8(len, ei) != QERR_OK)
                        return QERR_PROTO;
                r->code = get_i64(v);
                break;
        case T_MESSAGE:
                r->message = b;
                break;
        case T_CRL_NUMBER:
                if (need8(len, ei) != QERR_OK)
                        return QERR_PROTO;
                r->crl_number = get_i64(v);
                break;
        case T_CURSOR:
                r->has_cursor = true;
                return decode_jfile(v, len, &r->cursor, ei);
        case T_JFILE: {
                enum qerr rc =
                    grow((void **)&r->jfiles, r->njfiles, sizeof *r->jfiles, SIGNER_MAX_JFILES, ei);
                if (rc == QERR_OK)
                        rc = decode_jfile(v, len, &r->jfiles[r->njfiles], ei);
                if (rc == QERR_OK)
                        r->njfiles++;
                return rc;
        }
        case T_JENTRY: {
                enum qerr rc = grow((void **)&r->jentries, r->njentries, sizeof *r->jentries,
                                    MAX_SIGNER_MSG_BYTES / 90, ei);
                if (rc == QERR_OK)
                        rc = decode_jentry(v, len, &r->jentries[r->njentries], ei);
                if (rc == QERR_OK)
                        r->njentries++;
                return rc;
        }
        default:
                return qerr_set(ei, QERR_PROTO, "unexpected field");
        }
        return QERR_OK;
}

enum qerr signer_decode_resp(const uint8_t *p, size_t len, struct signer_resp *out,
                             struct qerr_info *ei)
{
        memset(out, 0, sizeof *out);
        if (len < 1)
                return qerr_set(ei, QERR_PROTO, "empty message");
        out->type = (enum signer_msg)p[0];
        if (p[0] == SMSG_OK) {
                enum qerr rc = walk(p + 1, len - 1, RESP_OK_TAGS, 0,
                                    B(T_JENTRY) | B(T_JFILE) | B(T_OCSP_DER), resp_field, out, ei);
                if (rc != QERR_OK)
                        signer_resp_clear(out);
                return rc;
        }
        if (p[0] == SMSG_ERROR) {
                enum qerr rc = walk(p + 1, len - 1, B(T_CODE) | B(T_MESSAGE) | B(T_CRL_NUMBER),
                                    B(T_CODE), 0, resp_field, out, ei);
                if (rc == QERR_OK && (out->code <= 0 || out->code >= QERR__COUNT))
                        return qerr_set(ei, QERR_PROTO, "unknown error code");
                return rc;
        }
        return qerr_set(ei, QERR_PROTO, "unknown response type %u", p[0]);
}

void signer_req_clear(struct signer_req *r)
{
        /* decoded requests point into their frame, but for the journal
         * files of a TRIM */
        free(r->jfiles);
        r->jfiles = NULL;
        r->njfiles = 0;
        free(r->ocsp);
        r->ocsp = NULL;
        r->nocsp = 0;
}

void signer_resp_clear(struct signer_resp *r)
{
        free(r->jentries);
        r->jentries = NULL;
        r->njentries = 0;
        free(r->jfiles);
        r->jfiles = NULL;
        r->njfiles = 0;
}

enum qerr signer_resp_error(const struct signer_resp *resp, struct qerr_info *ei)
{
        if (resp->type != SMSG_ERROR)
                return QERR_OK;
        char m[QERR_MSG_MAX];
        if (!sbytes_cstr(resp->message, m, sizeof m))
                m[0] = 0;
        return qerr_set(ei, (enum qerr)resp->code, "%s", m);
}

/* Sends one request through `rt` and decodes the answer into resp. */
static enum qerr exchange(signer_roundtrip_fn rt, void *ctx, const struct signer_req *req,
                          struct qbuf *msg, struct qbuf *answer, struct signer_resp *resp,
                          struct qerr_info *ei)
{
        memset(resp, 0, sizeof *resp);
        qbuf_reset(msg);
        if (!signer_encode_req(req, msg))
                return qerr_set(ei, QERR_INTERNAL, "a CRL request does not fit one frame");
        enum qerr rc = rt(ctx, msg, answer, ei);
        if (rc == QERR_OK)
                rc = signer_decode_resp(answer->data, answer->len, resp, ei);
        if (rc == QERR_OK)
                rc = signer_resp_error(resp, ei);
        return rc;
}

enum qerr signer_crl_drive(signer_roundtrip_fn rt, void *ctx, struct signer_req *begin,
                           const uint8_t *entries, size_t entries_len, size_t count,
                           struct qbuf *answer, struct signer_resp *resp, struct qerr_info *ei)
{
        struct qbuf msg;
        qbuf_init(&msg, MAX_SIGNER_MSG_BYTES + 8);
        begin->type = SMSG_CRL_BEGIN;
        begin->entry_count = (int64_t)count;
        begin->entries_len = (int64_t)entries_len;
        enum qerr rc = exchange(rt, ctx, begin, &msg, answer, resp, ei);
        size_t off = 0;
        while (rc == QERR_OK && off < entries_len) {
                /* as many whole entries as one frame holds */
                size_t end = off;
                while (end < entries_len) {
                        size_t n = pki_der_element_len(entries + end, entries_len - end);
                        if (n == 0) {
                                rc = qerr_set(ei, QERR_INTERNAL, "CRL entries are not DER");
                                break;
                        }
                        if (end - off + n > SIGNER_CRL_CHUNK_BYTES)
                                break;
                        end += n;
                }
                if (rc == QERR_OK && end == off)
                        rc = qerr_set(ei, QERR_INTERNAL, "a CRL entry is larger than a frame");
                if (rc != QERR_OK)
                        break;
                struct signer_req part = {.type = SMSG_CRL_ENTRIES};
                part.entries.p = entries + off;
                part.entries.len = end - off;
                rc = exchange(rt, ctx, &part, &msg, answer, resp, ei);
                off = end;
        }
        if (rc == QERR_OK) {
                struct signer_req fin = {.type = SMSG_CRL_FINISH};
                rc = exchange(rt, ctx, &fin, &msg, answer, resp, ei);
        }
        if (rc == QERR_OK && (resp->type != SMSG_OK || !resp->crl_head.len || !resp->crl_tail.len ||
                              !resp->sig_alg.len || !resp->signature.len))
                rc = qerr_set(ei, QERR_PROTO, "the signer's CRL answer lacks parts");
        qbuf_free(&msg);
        return rc;
}

enum qerr signer_write_frame(int fd, const struct qbuf *frame, struct qerr_info *ei)
{
        const uint8_t *p = frame->data;
        size_t len = frame->len;
        while (len) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return qerr_set(ei, QERR_SIGNER_UNAVAILABLE,
                                        "the signer channel is closed (%s)", strerror(errno));
                p += n;
                len -= (size_t)n;
        }
        return QERR_OK;
}

static bool read_full(int fd, uint8_t *p, size_t len)
{
        while (len) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

enum qerr signer_read_frame(int fd, struct qbuf *frame, struct qerr_info *ei)
{
        uint8_t h[4];
        qbuf_reset(frame);
        if (!read_full(fd, h, 4))
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "the signer channel closed");
        uint32_t len = get_u32(h);
        if (len == 0 || len > MAX_SIGNER_MSG_BYTES || len > frame->max)
                return qerr_set(ei, QERR_PROTO, "frame length %u out of range", len);
        /* straight into the frame (kept across frames: a CRL's entries come
         * in hundreds of them); an INIT frame, which holds the passphrase,
         * is wiped by its reader (signer_main.c) */
        uint8_t *dst = qbuf_extend(frame, len);
        if (!dst)
                return qerr_set(ei, QERR_NOMEM, NULL);
        if (!read_full(fd, dst, len)) {
                OPENSSL_cleanse(dst, len);
                qbuf_reset(frame);
                return qerr_set(ei, QERR_SIGNER_UNAVAILABLE, "the signer channel closed mid-frame");
        }
        return QERR_OK;
}

struct sbytes sbytes_str(const char *s)
{
        struct sbytes b = {(const uint8_t *)s, s ? strlen(s) : 0};
        return b;
}

bool sbytes_cstr(struct sbytes b, char *out, size_t outsz)
{
        if (b.len >= outsz || (b.len && memchr(b.p, 0, b.len)))
                return false;
        if (b.len)
                memcpy(out, b.p, b.len);
        out[b.len] = 0;
        return true;
}

/* ---- the OV/EV organisation field ---- */

static bool org_value_ok(const char *v)
{
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* "O=..\nC=..\nST=..\nL=.." -> fields; OV/EV need O, a two-letter C and
 * ST or L (BR 7.1.2.7.4); nothing else is accepted. */
enum qerr signer_parse_org(struct sbytes b, struct org_subject *out, struct qerr_info *ei)
{
        char text[513];
        memset(out, 0, sizeof *out);
        if (!sbytes_cstr(b, text, sizeof text))
                return qerr_set(ei, QERR_SIGNER_REFUSED, "the organisation is malformed");
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        return qerr_set(ei, QERR_SIGNER_REFUSED, "the organisation is malformed");
                *eq = 0;
                const char *v = eq + 1;
                char *dst;
                size_t max;
                if (!strcmp(line, "O")) {
                        dst = out->o;
                        max = sizeof out->o;
                } else if (!strcmp(line, "C")) {
                        dst = out->c;
                        max = sizeof out->c;
                } else if (!strcmp(line, "ST")) {
                        dst = out->st;
                        max = sizeof out->st;
                } else if (!strcmp(line, "L")) {
                        dst = out->l;
                        max = sizeof out->l;
                } else {
                        return qerr_set(ei, QERR_SIGNER_REFUSED,
                                        "subject attribute %.8s is not allowed", line);
                }
                if (dst[0] || strlen(v) >= max || !org_value_ok(v))
                        return qerr_set(ei, QERR_SIGNER_REFUSED,
                                        "subject attribute %.8s is repeated, too long or not "
                                        "printable",
                                        line);
                memcpy(dst, v, strlen(v) + 1);
        }
        if (!out->o[0] || strlen(out->c) != 2 || (!out->st[0] && !out->l[0]))
                return qerr_set(ei, QERR_SIGNER_REFUSED,
                                "an OV/EV subject needs O, a two-letter C, and ST or L");
        return QERR_OK;
}
