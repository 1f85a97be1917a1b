
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_json.h"


#define NGX_HTTP_AGNITEL_MICRO  1000000


static u_char *ngx_http_agnitel_json_reserve(ngx_http_agnitel_json_t *j,
    size_t len);
static void ngx_http_agnitel_json_cleanup(void *data);


void
ngx_http_agnitel_json_init(ngx_http_agnitel_json_t *j, ngx_pool_t *pool,
    size_t size)
{
    j->pool = pool;
    j->failed = 0;

    j->start = ngx_pnalloc(pool, size);
    if (j->start == NULL) {
        j->failed = 1;
        j->pos = NULL;
        j->end = NULL;
        return;
    }

    j->pos = j->start;
    j->end = j->start + size;
}


void
ngx_http_agnitel_json_raw(ngx_http_agnitel_json_t *j, u_char *s, size_t len)
{
    u_char  *p;

    p = ngx_http_agnitel_json_reserve(j, len);

    if (p) {
        j->pos = ngx_cpymem(p, s, len);
    }
}


/*
 * Strings are UTF-8 already (jansson rejects anything else on input); only
 * the quote, the backslash and control characters need escaping.
 */

void
ngx_http_agnitel_json_str(ngx_http_agnitel_json_t *j, u_char *s, size_t len)
{
    u_char      *p, c;
    ngx_uint_t   i;

    static u_char  hex[] = "0123456789abcdef";

    /* the worst case is six bytes ("\u00XX") per input byte */

    p = ngx_http_agnitel_json_reserve(j, len * 6 + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;

        } else if (c == '\n') {
            *p++ = '\\'; *p++ = 'n';

        } else if (c == '\r') {
            *p++ = '\\'; *p++ = 'r';

        } else if (c == '\t') {
            *p++ = '\\'; *p++ = 't';

        } else if (c < 0x20 || c == 0x7f) {
            p = ngx_cpymem(p, "\\u00", 4);
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];

        } else {
            *p++ = c;
        }
    }

    *p++ = '"';

    j->pos = p;
}


/* writes ,"key": or "key": depending on what precedes it */

void
ngx_http_agnitel_json_key(ngx_http_agnitel_json_t *j, const char *key)
{
    if (j->pos && j->pos > j->start && j->pos[-1] != '{') {
        ngx_http_agnitel_json_lit(j, ",");
    }

    ngx_http_agnitel_json_str(j, (u_char *) key, ngx_strlen(key));
    ngx_http_agnitel_json_lit(j, ":");
}


/* "key": a string member of a jansson object, or null */

void
ngx_http_agnitel_json_member(ngx_http_agnitel_json_t *j, const char *key,
    json_t *v)
{
    ngx_http_agnitel_json_key(j, key);

    if (json_is_string(v)) {
        ngx_http_agnitel_json_str(j, (u_char *) json_string_value(v),
                                  json_string_length(v));

    } else {
        ngx_http_agnitel_json_lit(j, "null");
    }
}


void
ngx_http_agnitel_json_int(ngx_http_agnitel_json_t *j, int64_t n)
{
    u_char  *p;

    p = ngx_http_agnitel_json_reserve(j, NGX_INT64_LEN);

    if (p) {
        j->pos = ngx_sprintf(p, "%L", n);
    }
}


/* 1150000 -> 1.15, 295000000 -> 295, 8500 -> 0.0085: exact, no floats */

void
ngx_http_agnitel_json_money(ngx_http_agnitel_json_t *j, int64_t micros)
{
    u_char    *p, frac[7];
    uint64_t   abs;
    ngx_uint_t len;

    p = ngx_http_agnitel_json_reserve(j, NGX_INT64_LEN + 8);
    if (p == NULL) {
        return;
    }

    if (micros < 0) {
        *p++ = '-';
        abs = (uint64_t) 0 - (uint64_t) micros;

    } else {
        abs = micros;
    }

    p = ngx_sprintf(p, "%uL", abs / NGX_HTTP_AGNITEL_MICRO);

    ngx_sprintf(frac, "%06uL", abs % NGX_HTTP_AGNITEL_MICRO);

    for (len = 6; len && frac[len - 1] == '0'; len--) { /* void */ }

    if (len) {
        *p++ = '.';
        p = ngx_cpymem(p, frac, len);
    }

    j->pos = p;
}


/* "1.15" -> 1150000: digits, at most six decimals, no sign, no float */

ngx_int_t
ngx_http_agnitel_money_parse(u_char *s, size_t len, int64_t *micros)
{
    u_char     *p, *end;
    int64_t     v;
    ngx_uint_t  decimals, dot, digits;

    v = 0;
    dot = 0;
    digits = 0;
    decimals = 0;
    end = s + len;

    for (p = s; p < end; p++) {

        if (*p == '.' && !dot && digits) {
            dot = 1;
            continue;
        }

        if (*p < '0' || *p > '9' || decimals == 6 || digits == 12) {
            return NGX_ERROR;
        }

        v = v * 10 + (*p - '0');
        digits++;

        if (dot) {
            decimals++;
        }
    }

    if (digits == 0 || (dot && decimals == 0)) {
        return NGX_ERROR;
    }

    while (decimals++ < 6) {
        v *= 10;
    }

    *micros = v;

    return NGX_OK;
}


/*
 * A JSON number as micro-units.  jansson keeps 1.15 as a double; "%.15g"
 * gives back the shortest decimal that was written (any number of up to
 * 15 significant digits survives the trip), and that text is parsed
 * exactly: no arithmetic on the double.
 */

ngx_int_t
ngx_http_agnitel_money_value(json_t *v, int64_t *micros)
{
    int   n;
    char  buf[64];

    if (json_is_integer(v)) {
        n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));

    } else if (json_is_real(v)) {
        n = snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));

    } else {
        return NGX_ERROR;
    }

    if (n <= 0 || (size_t) n >= sizeof(buf) || ngx_strchr(buf, 'e')) {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_money_parse((u_char *) buf, n, micros);
}


/* RFC 3339 UTC with seconds; 0 is null */

void
ngx_http_agnitel_json_time(ngx_http_agnitel_json_t *j, int64_t t)
{
    u_char    *p;
    ngx_tm_t   tm;

    if (t == 0) {
        ngx_http_agnitel_json_lit(j, "null");
        return;
    }

    p = ngx_http_agnitel_json_reserve(j, sizeof("\"2026-11-24T10:00:00Z\""));
    if (p == NULL) {
        return;
    }

    ngx_gmtime((time_t) t, &tm);

    j->pos = ngx_sprintf(p, "\"%4d-%02d-%02dT%02d:%02d:%02dZ\"",
                         tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                         tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}


void
ngx_http_agnitel_json_bool(ngx_http_agnitel_json_t *j, ngx_uint_t b)
{
    if (b) {
        ngx_http_agnitel_json_lit(j, "true");

    } else {
        ngx_http_agnitel_json_lit(j, "false");
    }
}


static u_char *
ngx_http_agnitel_json_reserve(ngx_http_agnitel_json_t *j, size_t len)
{
    u_char  *p;
    size_t   size, used;

    if (j->failed) {
        return NULL;
    }

    if ((size_t) (j->end - j->pos) >= len) {
        return j->pos;
    }

    used = j->pos - j->start;
    size = ngx_max(2 * (size_t) (j->end - j->start), used + len);

    p = ngx_pnalloc(j->pool, size);
    if (p == NULL) {
        j->failed = 1;
        return NULL;
    }

    ngx_memcpy(p, j->start, used);

    j->start = p;
    j->pos = p + used;
    j->end = p + size;

    return j->pos;
}


/* ties a jansson value to a pool: it is freed with the request */

ngx_int_t
ngx_http_agnitel_json_own(ngx_pool_t *pool, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    if (json == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_agnitel_json_cleanup;
    cln->data = json;

    return NGX_OK;
}


static void
ngx_http_agnitel_json_cleanup(void *data)
{
    json_decref(data);
}
