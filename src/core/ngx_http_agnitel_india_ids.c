
/*
 * Copyright (C) agnitel
 *
 * Indian identifiers, checked as their issuers define them:
 *
 *   PAN      AAAAA9999A: five letters, four digits, a letter
 *   GSTIN    two digits (the state), the holder's PAN, an entity character,
 *            "Z", and a check character (mod 36, weights 1 and 2)
 *   Aadhaar  12 digits, the first 2 to 9, the last a Verhoeff check digit
 *   PIN      6 digits, the first 1 to 9
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_india_ids.h"


#define ngx_http_agnitel_upper(c)  ((c) >= 'A' && (c) <= 'Z')
#define ngx_http_agnitel_digit(c)  ((c) >= '0' && (c) <= '9')


static ngx_int_t ngx_http_agnitel_pan_at(u_char *p);


ngx_int_t
ngx_http_agnitel_pan_valid(ngx_str_t *pan)
{
    if (pan->len != 10) {
        return NGX_DECLINED;
    }

    return ngx_http_agnitel_pan_at(pan->data);
}


static ngx_int_t
ngx_http_agnitel_pan_at(u_char *p)
{
    ngx_uint_t  i;

    for (i = 0; i < 10; i++) {
        if ((i < 5 || i == 9) ? !ngx_http_agnitel_upper(p[i])
                              : !ngx_http_agnitel_digit(p[i]))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_agnitel_gstin_valid(ngx_str_t *gstin)
{
    u_char      *g, c;
    ngx_uint_t   i, v, sum;

    static u_char  chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    g = gstin->data;

    if (gstin->len != 15
        || !ngx_http_agnitel_digit(g[0]) || !ngx_http_agnitel_digit(g[1])
        || ngx_http_agnitel_pan_at(g + 2) != NGX_OK
        || !(ngx_http_agnitel_digit(g[12]) || ngx_http_agnitel_upper(g[12]))
        || g[13] != 'Z')
    {
        return NGX_DECLINED;
    }

    sum = 0;

    for (i = 0; i < 14; i++) {
        c = g[i];
        v = ngx_http_agnitel_digit(c) ? (ngx_uint_t) (c - '0')
                                      : (ngx_uint_t) (c - 'A' + 10);
        v *= (i % 2) ? 2 : 1;
        sum += v / 36 + v % 36;
    }

    return (g[14] == chars[(36 - sum % 36) % 36]) ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_agnitel_aadhaar_valid(ngx_str_t *aadhaar)
{
    u_char      *a;
    ngx_uint_t   i, c;

    /* Verhoeff: the dihedral group D5's table and the position permutation */

    static u_char  d[10][10] = {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
        { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
        { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
        { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
        { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 }
    };

    static u_char  p[8][10] = {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
        { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
        { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
        { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 }
    };

    a = aadhaar->data;

    if (aadhaar->len != 12 || a[0] < '2' || a[0] > '9') {
        return NGX_DECLINED;
    }

    c = 0;

    for (i = 0; i < 12; i++) {
        if (!ngx_http_agnitel_digit(a[11 - i])) {
            return NGX_DECLINED;
        }

        c = d[c][p[i % 8][a[11 - i] - '0']];
    }

    return (c == 0) ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_agnitel_pin_valid(ngx_str_t *pin)
{
    ngx_uint_t  i;

    if (pin->len != 6 || pin->data[0] == '0') {
        return NGX_DECLINED;
    }

    for (i = 0; i < 6; i++) {
        if (!ngx_http_agnitel_digit(pin->data[i])) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}
