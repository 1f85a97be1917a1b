
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_e164.h"


#define NGX_HTTP_AGNITEL_E164_MIN     8
#define NGX_HTTP_AGNITEL_E164_MAX     15

/* country calling codes are 1 to 3 digits, NANP area codes are 3 */
#define NGX_HTTP_AGNITEL_E164_CC_MAX  3


typedef struct {
    u_char                      code[NGX_HTTP_AGNITEL_E164_CC_MAX + 1];
    u_char                      country[3];
} ngx_http_agnitel_e164_cc_t;


static const ngx_http_agnitel_e164_cc_t *ngx_http_agnitel_e164_find(
    const ngx_http_agnitel_e164_cc_t *table, ngx_uint_t n, u_char *key);


/*
 * ITU-T E.164 country calling codes that resolve to one country, except
 * zone 1 (see below).  Sorted by ngx_strcmp() for binary search; the codes
 * form a prefix code, so at most one of the 1, 2 and 3 digit prefixes of a
 * number matches, with the one exception of "7": Kazakhstan's "76" and "77"
 * are listed as well and win by longest-prefix match.
 *
 * Codes shared by several territories resolve to the main one: 212 MA (EH),
 * 262 RE (YT, TF), 290 SH (Tristan da Cunha), 247 SH (Ascension, which ISO
 * 3166-1 files under SH), 358 FI (AX), 39 IT (VA), 44 GB (GG, JE, IM),
 * 47 NO (SJ), 500 FK (GS), 590 GP (BL, MF), 599 CW (BQ), 61 AU (CX, CC),
 * 64 NZ (PN), 672 NF (Australian Antarctic Territory), 7 RU (Abkhazia).
 *
 * 383 is Kosovo, "XK": a user-assigned ISO 3166-1 code in common use
 * (EU, CLDR, libphonenumber).
 *
 * Non-geographic codes (800, 808, 870, 881, 882, 883, 888, 979, 991) and
 * spare codes are absent and resolve to NULL.
 */

static const ngx_http_agnitel_e164_cc_t  ngx_http_agnitel_e164_codes[] = {

    /* zone 2 */
    { "20",  "EG" }, { "211", "SS" }, { "212", "MA" }, { "213", "DZ" },
    { "216", "TN" }, { "218", "LY" },
    { "220", "GM" }, { "221", "SN" }, { "222", "MR" }, { "223", "ML" },
    { "224", "GN" }, { "225", "CI" }, { "226", "BF" }, { "227", "NE" },
    { "228", "TG" }, { "229", "BJ" },
    { "230", "MU" }, { "231", "LR" }, { "232", "SL" }, { "233", "GH" },
    { "234", "NG" }, { "235", "TD" }, { "236", "CF" }, { "237", "CM" },
    { "238", "CV" }, { "239", "ST" },
    { "240", "GQ" }, { "241", "GA" }, { "242", "CG" }, { "243", "CD" },
    { "244", "AO" }, { "245", "GW" }, { "246", "IO" }, { "247", "SH" },
    { "248", "SC" }, { "249", "SD" },
    { "250", "RW" }, { "251", "ET" }, { "252", "SO" }, { "253", "DJ" },
    { "254", "KE" }, { "255", "TZ" }, { "256", "UG" }, { "257", "BI" },
    { "258", "MZ" },
    { "260", "ZM" }, { "261", "MG" }, { "262", "RE" }, { "263", "ZW" },
    { "264", "NA" }, { "265", "MW" }, { "266", "LS" }, { "267", "BW" },
    { "268", "SZ" }, { "269", "KM" },
    { "27",  "ZA" },
    { "290", "SH" }, { "291", "ER" }, { "297", "AW" }, { "298", "FO" },
    { "299", "GL" },

    /* zone 3 */
    { "30",  "GR" }, { "31",  "NL" }, { "32",  "BE" }, { "33",  "FR" },
    { "34",  "ES" },
    { "350", "GI" }, { "351", "PT" }, { "352", "LU" }, { "353", "IE" },
    { "354", "IS" }, { "355", "AL" }, { "356", "MT" }, { "357", "CY" },
    { "358", "FI" }, { "359", "BG" },
    { "36",  "HU" },
    { "370", "LT" }, { "371", "LV" }, { "372", "EE" }, { "373", "MD" },
    { "374", "AM" }, { "375", "BY" }, { "376", "AD" }, { "377", "MC" },
    { "378", "SM" }, { "379", "VA" },
    { "380", "UA" }, { "381", "RS" }, { "382", "ME" }, { "383", "XK" },
    { "385", "HR" }, { "386", "SI" }, { "387", "BA" }, { "389", "MK" },
    { "39",  "IT" },

    /* zone 4 */
    { "40",  "RO" }, { "41",  "CH" },
    { "420", "CZ" }, { "421", "SK" }, { "423", "LI" },
    { "43",  "AT" }, { "44",  "GB" }, { "45",  "DK" }, { "46",  "SE" },
    { "47",  "NO" }, { "48",  "PL" }, { "49",  "DE" },

    /* zone 5 */
    { "500", "FK" }, { "501", "BZ" }, { "502", "GT" }, { "503", "SV" },
    { "504", "HN" }, { "505", "NI" }, { "506", "CR" }, { "507", "PA" },
    { "508", "PM" }, { "509", "HT" },
    { "51",  "PE" }, { "52",  "MX" }, { "53",  "CU" }, { "54",  "AR" },
    { "55",  "BR" }, { "56",  "CL" }, { "57",  "CO" }, { "58",  "VE" },
    { "590", "GP" }, { "591", "BO" }, { "592", "GY" }, { "593", "EC" },
    { "594", "GF" }, { "595", "PY" }, { "596", "MQ" }, { "597", "SR" },
    { "598", "UY" }, { "599", "CW" },

    /* zone 6 */
    { "60",  "MY" }, { "61",  "AU" }, { "62",  "ID" }, { "63",  "PH" },
    { "64",  "NZ" }, { "65",  "SG" }, { "66",  "TH" },
    { "670", "TL" }, { "672", "NF" }, { "673", "BN" }, { "674", "NR" },
    { "675", "PG" }, { "676", "TO" }, { "677", "SB" }, { "678", "VU" },
    { "679", "FJ" },
    { "680", "PW" }, { "681", "WF" }, { "682", "CK" }, { "683", "NU" },
    { "685", "WS" }, { "686", "KI" }, { "687", "NC" }, { "688", "TV" },
    { "689", "PF" },
    { "690", "TK" }, { "691", "FM" }, { "692", "MH" },

    /* zone 7 */
    { "7",   "RU" }, { "76",  "KZ" }, { "77",  "KZ" },

    /* zone 8 */
    { "81",  "JP" }, { "82",  "KR" }, { "84",  "VN" },
    { "850", "KP" }, { "852", "HK" }, { "853", "MO" }, { "855", "KH" },
    { "856", "LA" },
    { "86",  "CN" },
    { "880", "BD" }, { "886", "TW" },

    /* zone 9 */
    { "90",  "TR" }, { "91",  "IN" }, { "92",  "PK" }, { "93",  "AF" },
    { "94",  "LK" }, { "95",  "MM" },
    { "960", "MV" }, { "961", "LB" }, { "962", "JO" }, { "963", "SY" },
    { "964", "IQ" }, { "965", "KW" }, { "966", "SA" }, { "967", "YE" },
    { "968", "OM" },
    { "970", "PS" }, { "971", "AE" }, { "972", "IL" }, { "973", "BH" },
    { "974", "QA" }, { "975", "BT" }, { "976", "MN" }, { "977", "NP" },
    { "98",  "IR" },
    { "992", "TJ" }, { "993", "TM" }, { "994", "AZ" }, { "995", "GE" },
    { "996", "KG" }, { "998", "UZ" }
};


/*
 * Zone 1, the North American Numbering Plan: the 3 digit area code after
 * "+1" decides.  Canada's geographic area codes (including overlays
 * announced for relief) and its non-geographic 600, 622 and the reserved
 * 633, 644, 655, 677, 688; then the other NANP members and the US
 * territories with their own ISO code.  Every other area code, including
 * the shared toll-free and personal service codes, is "US".  Sorted.
 */

static const ngx_http_agnitel_e164_cc_t  ngx_http_agnitel_e164_nanp[] = {
    { "204", "CA" }, { "226", "CA" }, { "236", "CA" }, { "242", "BS" },
    { "246", "BB" }, { "249", "CA" }, { "250", "CA" }, { "257", "CA" },
    { "263", "CA" }, { "264", "AI" }, { "268", "AG" }, { "284", "VG" },
    { "289", "CA" }, { "306", "CA" }, { "340", "VI" }, { "343", "CA" },
    { "345", "KY" }, { "354", "CA" }, { "365", "CA" }, { "367", "CA" },
    { "368", "CA" }, { "382", "CA" }, { "403", "CA" }, { "416", "CA" },
    { "418", "CA" }, { "428", "CA" }, { "431", "CA" }, { "437", "CA" },
    { "438", "CA" }, { "441", "BM" }, { "450", "CA" }, { "460", "CA" },
    { "468", "CA" }, { "473", "GD" }, { "474", "CA" }, { "506", "CA" },
    { "514", "CA" }, { "519", "CA" }, { "548", "CA" }, { "579", "CA" },
    { "581", "CA" }, { "584", "CA" }, { "587", "CA" }, { "600", "CA" },
    { "604", "CA" }, { "613", "CA" }, { "622", "CA" }, { "633", "CA" },
    { "639", "CA" }, { "644", "CA" }, { "647", "CA" }, { "649", "TC" },
    { "655", "CA" }, { "658", "JM" }, { "664", "MS" }, { "670", "MP" },
    { "671", "GU" }, { "672", "CA" }, { "677", "CA" }, { "683", "CA" },
    { "684", "AS" }, { "688", "CA" }, { "705", "CA" }, { "709", "CA" },
    { "721", "SX" }, { "742", "CA" }, { "753", "CA" }, { "758", "LC" },
    { "767", "DM" }, { "778", "CA" }, { "780", "CA" }, { "782", "CA" },
    { "784", "VC" }, { "787", "PR" }, { "807", "CA" }, { "809", "DO" },
    { "819", "CA" }, { "825", "CA" }, { "829", "DO" }, { "849", "DO" },
    { "867", "CA" }, { "868", "TT" }, { "869", "KN" }, { "873", "CA" },
    { "876", "JM" }, { "879", "CA" }, { "902", "CA" }, { "905", "CA" },
    { "939", "PR" }, { "942", "CA" }
};


static const u_char  ngx_http_agnitel_e164_us[] = "US";


ngx_int_t
ngx_http_agnitel_e164_valid(u_char *s, size_t len)
{
    size_t  i;

    if (len < 1 + NGX_HTTP_AGNITEL_E164_MIN
        || len > 1 + NGX_HTTP_AGNITEL_E164_MAX)
    {
        return NGX_DECLINED;
    }

    if (s[0] != '+' || s[1] < '1' || s[1] > '9') {
        return NGX_DECLINED;
    }

    for (i = 2; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


const u_char *
ngx_http_agnitel_e164_country(u_char *s, size_t len)
{
    u_char                             key[NGX_HTTP_AGNITEL_E164_CC_MAX + 1];
    ngx_uint_t                         n;
    const ngx_http_agnitel_e164_cc_t  *cc;

    if (ngx_http_agnitel_e164_valid(s, len) != NGX_OK) {
        return NULL;
    }

    if (s[1] == '1') {
        ngx_memcpy(key, &s[2], 3);
        key[3] = '\0';

        cc = ngx_http_agnitel_e164_find(ngx_http_agnitel_e164_nanp,
                                        sizeof(ngx_http_agnitel_e164_nanp)
                                        / sizeof(ngx_http_agnitel_e164_cc_t),
                                        key);

        return cc ? cc->country : ngx_http_agnitel_e164_us;
    }

    /* longest prefix first */

    for (n = NGX_HTTP_AGNITEL_E164_CC_MAX; n > 0; n--) {
        ngx_memcpy(key, &s[1], n);
        key[n] = '\0';

        cc = ngx_http_agnitel_e164_find(ngx_http_agnitel_e164_codes,
                                        sizeof(ngx_http_agnitel_e164_codes)
                                        / sizeof(ngx_http_agnitel_e164_cc_t),
                                        key);
        if (cc) {
            return cc->country;
        }
    }

    return NULL;
}


static const ngx_http_agnitel_e164_cc_t *
ngx_http_agnitel_e164_find(const ngx_http_agnitel_e164_cc_t *table,
    ngx_uint_t n, u_char *key)
{
    ngx_int_t   rc;
    ngx_uint_t  lo, hi, mid;

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_strcmp(key, table[mid].code);

        if (rc == 0) {
            return &table[mid];
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}
