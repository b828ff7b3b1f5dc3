/*
 * email.h - the syntax of the email addresses quill sends notifications
 * to (the tenant's contacts, [smtp] from).
 *
 * A deliberately plain subset of RFC 5321's Mailbox, ASCII only: a
 * dot-atom local part (1 to 64 characters of letters, digits and
 * !#$%&'*+-/=?^_`{|}~, dots between them) "@" a domain of LDH labels (1 to
 * 63 characters, no hyphen first or last; at most 253 in all); 254
 * characters at most. No display names, quoted local parts, comments or
 * address literals: nothing that could carry a header line or a second
 * recipient into a message. Pure; any thread. Fuzzed by
 * fuzz/fuzz_notify_input.c.
 */
#ifndef QUILL_EMAIL_H
#define QUILL_EMAIL_H

#include <stdbool.h>

#define EMAIL_MAX 254

bool email_addr_valid(const char *s);

#endif
