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
