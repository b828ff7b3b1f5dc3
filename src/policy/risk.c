/*
 * risk.c - RULES.md §4: sensitive words and brand names in requested names.
 * Pure; any thread; no allocation.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

/* Lower-cases label [p, p+len) into out; with `strip`, drops digits and
 * hyphens. */
static void fold(const char *p, size_t len, bool strip, char *out, size_t outsz)
{
        size_t o = 0;
        for (size_t i = 0; i < len && o + 1 < outsz; i++) {
                unsigned char c = (unsigned char)p[i];
                if (strip && (isdigit(c) || c == '-'))
                        continue;
                out[o++] = (char)tolower(c);
        }
        out[o] = 0;
}

static const char *find_word(const char *label, const char *const *words, size_t nwords)
{
        for (size_t w = 0; w < nwords; w++)
                if (words[w][0] && strstr(label, words[w]))
                        return words[w];
        return NULL;
}

bool policy_risk_match(const char *name, const char *const *words, size_t nwords, char *why,
                       size_t whysz)
{
        const char *p = name;
        while (p && *p) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                char plain[64], stripped[64];
                fold(p, len, false, plain, sizeof plain);
                fold(p, len, true, stripped, sizeof stripped);
                const char *w = find_word(plain, words, nwords);
                if (!w)
                        w = find_word(stripped, words, nwords);
                if (w) {
                        if (why)
                                snprintf(why, whysz, "label \"%s\" of %s contains \"%s\"", plain,
                                         name, w);
                        return true;
                }
                p = dot ? dot + 1 : NULL;
        }
        return false;
}
