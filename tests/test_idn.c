/*
 * test_idn.c - lib/idn.c: U-labels to A-labels without allocation,
 * checked against libidn2 (UTS #46 non-transitional), A-label checks,
 * local-part folding and the mixed-script finding.
 */
#include "idn.h"

#include <criterion/criterion.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

/* Names libidn2 accepts: ours must give the same A-label. */
static const char *const same[] = {
    "домен.рф",
    "ДОМЕН.РФ",
    "bücher.example",
    "BÜCHER.example",
    "straße.de",
    "ς.gr",
    "Σ.gr",
    "日本。jp",
    "例え．テスト",
    "ｅｘａｍｐｌｅ.com",
    "ﬁle.com",
    "ǅ.com",
    "x̣.com",
    "ا١.com",
    "עברית.com",
    "l·l.cat",
    "a·b.cat",
    "ελλάδα.example",
    "中国",
    "Ab\u00ad\u00adc.example",
    "ab\u0301c.example",
    "xn--d1acufc.xn--p1ai",
    "mix.xn--bcher-kva.über",
    "\u0915\u094d\u200d.example",
    "\u0644\u200c\u0627.example",
};

/* Names that are not valid IDNA2008: both refuse them. */
static const char *const bad[] = {
    "☃.net",        "xn--n3h.net",  "xn--zz.com",   "\u0301a.com",
    "a\u200cb.com", "a\u200db.com", "a\u2028b.com", "-ü.com",
    "ü-.com",       "\u05d0a.com",  "a/ü.com",
};

Test(idn, agrees_with_libidn2)
{
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        char out[RP__IDN_DOMAIN_BUF];
        char *ref = NULL;
        size_t n = 0;
        int rc = idn2_lookup_u8((const uint8_t *)same[i], (uint8_t **)&ref,
                                IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

        cr_assert_eq(rc, IDN2_OK, "%s: libidn2 %s", same[i], idn2_strerror(rc));
        cr_expect_eq(
            rp__idn_to_ascii(same[i], strlen(same[i]), out, sizeof(out), &n),
            RP__IDN_OK, "%s", same[i]);
        cr_expect_str_eq(out, ref, "%s", same[i]);
        cr_expect_eq(n, strlen(ref));
        idn2_free(ref);
    }
}

Test(idn, refuses_what_libidn2_refuses)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[RP__IDN_DOMAIN_BUF];
        char *ref = NULL;
        size_t n = 0;
        int rc = idn2_lookup_u8((const uint8_t *)bad[i], (uint8_t **)&ref,
                                IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

        idn2_free(ref);
        cr_expect_neq(rc, IDN2_OK, "%s: libidn2 accepts it", bad[i]);
        cr_expect_eq(
            rp__idn_to_ascii(bad[i], strlen(bad[i]), out, sizeof(out), &n),
            RP__IDN_INVALID, "%s -> %s", bad[i], out);
    }
}

/* RFC 3492 section 7.1 samples (B: Chinese, L: Japanese). */
Test(idn, punycode_samples)
{
    char out[RP__IDN_DOMAIN_BUF], u[RP__IDN_DOMAIN_BUF];
    size_t n = 0;
    const char *zh = "他们为什么不说中文";
    const char *ja = "3年b組金八先生";

    cr_assert_eq(rp__idn_to_ascii(zh, strlen(zh), out, sizeof(out), &n), 0);
    cr_expect_str_eq(out, "xn--ihqwcrb4cv8a8dqg056pqjye");
    cr_expect_gt(rp__idn_to_unicode(out, n, u, sizeof(u)), 0);
    cr_expect_str_eq(u, zh);
    cr_assert_eq(rp__idn_to_ascii(ja, strlen(ja), out, sizeof(out), &n), 0);
    cr_expect_str_eq(out, "xn--3b-ww4c5e180e575a65lsy2b");
    cr_expect_eq(rp__idn_to_unicode("plain.example", 13, u, sizeof(u)), 0);
}

Test(idn, alabel_checks)
{
    static const char *ok[] = {"xn--d1acufc.xn--p1ai", "a.b.example",
                               "xn--bcher-kva.example"};
    static const char *no[] = {"xn--zz.example",  "xn--n3h.example",
                               "xn--abc.example", "xn--bcher-kva-.example",
                               "xn--.example",    "xn--ls8h.example"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        cr_expect_eq(rp__idn_check_alabels(ok[i], strlen(ok[i])), 0, "%s",
                     ok[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_expect_eq(rp__idn_check_alabels(no[i], strlen(no[i])), -1, "%s",
                     no[i]);
    cr_expect(rp__idn_has_alabel("a.XN--x", 7));
    cr_expect(!rp__idn_has_alabel("axn--b.example", 14));
}

/* The limit counts the A-label: 31 labels "ä" are 31 * 8 + 7 = 255. */
Test(idn, length_is_measured_on_the_alabel)
{
    char in[400], out[RP__IDN_DOMAIN_BUF];
    size_t n = 0, k = 0;

    for (int i = 0; i < 31; i++)
        k += (size_t)snprintf(in + k, sizeof(in) - k, "ä.");
    snprintf(in + k, sizeof(in) - k, "example");
    cr_expect_eq(rp__idn_to_ascii(in, strlen(in), out, sizeof(out), &n), 0);
    cr_expect_eq(n, 255);
    memmove(in + 3, in, strlen(in) + 1);
    memcpy(in, "ä.", 3);
    cr_expect_eq(rp__idn_to_ascii(in, strlen(in), out, sizeof(out), &n),
                 RP__IDN_TOO_LONG);
}

Test(idn, local_parts_fold)
{
    char a[300], b[300];

    cr_expect_gt(rp__utf8_fold("JÖRAN", strlen("JÖRAN"), a, sizeof(a)), 0);
    cr_expect_gt(rp__utf8_fold("jo\xcc\x88ran", 7, b, sizeof(b)), 0);
    cr_expect_str_eq(a, b);
    cr_expect_str_eq(a, "jöran");
    cr_expect_gt(rp__utf8_fold("АЛИСА", strlen("АЛИСА"), a, sizeof(a)), 0);
    cr_expect_str_eq(a, "алиса");
    cr_expect_eq(rp__utf8_fold("a\xff", 2, a, sizeof(a)), 0);
}

Test(idn, policy_domains_and_mixed_scripts)
{
    char out[RP__IDN_DOMAIN_BUF], label[128];
    const char *why = NULL;

    cr_expect_eq(rp__idn_policy_domain("Домен.РФ", strlen("Домен.РФ"), out,
                                       sizeof(out), &why),
                 0);
    cr_expect_str_eq(out, "xn--d1acufc.xn--p1ai");
    cr_expect_eq(
        rp__idn_policy_domain("☃.net", strlen("☃.net"), out, sizeof(out), &why),
        -1);
    cr_expect_not_null(why);
    /* "pаypal" with a Cyrillic "а". */
    cr_expect_eq(rp__idn_policy_domain("p\xd0\xb0ypal.example", 13, out,
                                       sizeof(out), &why),
                 0);
    cr_expect(rp__idn_mixed_script(out, label, sizeof(label)));
    cr_expect_str_eq(label, "p\xd0\xb0ypal");
    cr_expect(
        !rp__idn_mixed_script("xn--d1acufc.xn--p1ai", label, sizeof(label)));
}

/* Random names from scripts, marks, compatibility and format characters:
 * whatever ours accepts libidn2 accepts with the same A-label (it refuses
 * more: empty labels, spaces and other non-LDH ASCII that SMTP refuses). */
static unsigned long long rng = 88172645463325252ull;

static unsigned
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)rng;
}

static unsigned
random_code_point(void)
{
    static const unsigned r[][2] = {
        {'a', 'z'},       {'0', '9'},         {'-', '-'},
        {'.', '.'},       {'A', 'Z'},         {0xC0, 0x24F},
        {0x300, 0x36F},   {0x370, 0x3FF},     {0x400, 0x4FF},
        {0x590, 0x5FF},   {0x600, 0x6FF},     {0x900, 0x97F},
        {0x3040, 0x30FF}, {0x4E00, 0x4E80},   {0xAC00, 0xAC40},
        {0xFF00, 0xFF60}, {0x2000, 0x206F},   {0x1E00, 0x1EFF},
        {0xE00, 0xE7F},   {0x200C, 0x200D},   {0xDF, 0xDF},
        {0x3C2, 0x3C2},   {0x1F100, 0x1F1FF}, {0x10000, 0x1007F},
        {0xFB00, 0xFB4F}, {0x2100, 0x214F},   {0x3000, 0x303F},
        {0x10A0, 0x10FF}, {0x2460, 0x24FF},   {0x1C80, 0x1CBF},
        {0xA640, 0xA69F},
    };
    unsigned k = next() % (sizeof(r) / sizeof(r[0]));

    return r[k][0] + next() % (r[k][1] - r[k][0] + 1);
}

Test(idn, random_names_never_weaker_than_libidn2)
{
    size_t agree = 0;

    for (int t = 0; t < 30000; t++) {
        uint8_t in[200];
        char out[RP__IDN_DOMAIN_BUF], *ref = NULL;
        size_t n = 0, on = 0;
        int len = 1 + (int)(next() % 8), rc;

        for (int i = 0; i < len; i++) {
            int w = u8_uctomb(in + n, random_code_point(), 8);
            n += w > 0 ? (size_t)w : 0;
        }
        memcpy(in + n, ".example", 9);
        n += (next() & 1) ? 8 : 0;
        in[n] = '\0';
        rc = idn2_lookup_u8(in, (uint8_t **)&ref,
                            IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
        if (rp__idn_to_ascii((const char *)in, n, out, sizeof(out), &on) ==
            RP__IDN_OK) {
            cr_expect_eq(rc, IDN2_OK, "<%s>: ours %s, libidn2 %s", in, out,
                         idn2_strerror_name(rc));
            /* A mapped full stop at the end is the root: ours drops it. */
            if (rc == IDN2_OK && ref[0] != '\0' && ref[strlen(ref) - 1] == '.')
                ref[strlen(ref) - 1] = '\0';
            if (rc == IDN2_OK)
                cr_expect_str_eq(out, ref, "<%s>", in);
            agree++;
        }
        idn2_free(ref);
    }
    cr_expect_gt(agree, 3000u, "too few valid names: %zu", agree);
}
