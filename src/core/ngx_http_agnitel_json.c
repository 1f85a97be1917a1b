
/*
 * Copyright (C) agnitel
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_json.h"


#define NGX_HTTP_AGNITEL_MICRO  1000000

/* a byte of 0x01 and the high bit, in each byte of a word */
#define NGX_HTTP_AGNITEL_ONES   0x0101010101010101ULL
#define NGX_HTTP_AGNITEL_HIGHS  0x8080808080808080ULL

/*
 * Nonzero when a byte of the word w is below b (b at most 0x80), and so,
 * with w ^ (c * ONES) and b 1, when a byte equals c.
 */
#define ngx_http_agnitel_below(w, b)                                          \
    (((w) - (b) * NGX_HTTP_AGNITEL_ONES) & ~(w) & NGX_HTTP_AGNITEL_HIGHS)


static u_char *ngx_http_agnitel_json_reserve(ngx_http_agnitel_json_t *j,
    size_t len);
static u_char *ngx_http_agnitel_json_quote(u_char *p, u_char *s,
    size_t len);
static void ngx_http_agnitel_json_cleanup(void *data);
static u_char *ngx_http_agnitel_json_space(u_char *p, u_char *end);
static u_char *ngx_http_agnitel_json_plain(u_char *p, u_char *end);
static u_char *ngx_http_agnitel_json_name(u_char *p, u_char *end,
    u_char *buf, size_t size, size_t *len);
static u_char *ngx_http_agnitel_json_skip(u_char *p, u_char *end);
static u_char *ngx_http_agnitel_json_skip_string(u_char *p, u_char *end);
static u_char *ngx_http_agnitel_json_unescape(u_char *p, u_char *end,
    u_char *out);
static u_char *ngx_http_agnitel_json_escape(u_char *p, u_char *end,
    uint32_t *c);
static u_char *ngx_http_agnitel_json_code_point(u_char *p, u_char *end,
    uint32_t *c);
static u_char *ngx_http_agnitel_utf8_encode(u_char *out, uint32_t c);


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
 * the quote, the backslash and control characters need escaping.  Every
 * view and record is written through here, names and values, about 1,300
 * bytes an import.
 */

void
ngx_http_agnitel_json_str(ngx_http_agnitel_json_t *j, u_char *s, size_t len)
{
    u_char  *p;

    /* the worst case is six bytes ("\u00XX") per input byte */

    p = ngx_http_agnitel_json_reserve(j, len * 6 + 2);

    if (p) {
        j->pos = ngx_http_agnitel_json_quote(p, s, len);
    }
}


/*
 * Writes ,"key": or "key": depending on what precedes it.  key is a name
 * of ours, plain ASCII: it is copied as it is.  Names of a jansson object
 * may hold anything, and ngx_http_agnitel_json_value() escapes them.
 */

void
ngx_http_agnitel_json_key(ngx_http_agnitel_json_t *j, const char *key)
{
    u_char  *p;
    size_t   len;

    len = ngx_strlen(key);

    p = ngx_http_agnitel_json_reserve(j, len + 4);
    if (p == NULL) {
        return;
    }

    if (p > j->start && p[-1] != '{') {
        *p++ = ',';
    }

    *p++ = '"';
    p = ngx_cpymem(p, key, len);
    *p++ = '"';
    *p++ = ':';

    j->pos = p;
}


/*
 * s as a JSON string at p, which has room for the worst case.  Plain
 * bytes are found eight at a time and copied whole: a word has a byte to
 * escape if one is below 0x20, or equals '"', '\\' or DEL.
 */

static u_char *
ngx_http_agnitel_json_quote(u_char *p, u_char *s, size_t len)
{
    u_char    *end, *run, c;
    uint64_t   w;

    static u_char  hex[] = "0123456789abcdef";

    *p++ = '"';

    end = s + len;

    for ( ;; ) {
        run = s;

        while (end - s >= 8) {
            ngx_memcpy(&w, s, 8);

            if (ngx_http_agnitel_below(w, 0x20)
                | ngx_http_agnitel_below(w ^ ('"' * NGX_HTTP_AGNITEL_ONES), 1)
                | ngx_http_agnitel_below(w ^ ('\\' * NGX_HTTP_AGNITEL_ONES), 1)
                | ngx_http_agnitel_below(w ^ (0x7f * NGX_HTTP_AGNITEL_ONES), 1))
            {
                break;
            }

            s += 8;
        }

        while (s < end && *s >= 0x20 && *s != '"' && *s != '\\'
               && *s != 0x7f)
        {
            s++;
        }

        p = ngx_cpymem(p, run, s - run);

        if (s == end) {
            break;
        }

        c = *s++;
        *p++ = '\\';

        switch (c) {
        case '"':
        case '\\':
            *p++ = c;
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        default:
            p = ngx_cpymem(p, "u00", 3);
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];
        }
    }

    *p++ = '"';

    return p;
}


/* "key": a string member of a jansson object, or null */

void
ngx_http_agnitel_json_member(ngx_http_agnitel_json_t *j, const char *key,
    json_t *v)
{
    ngx_str_t  s;

    ngx_str_null(&s);

    if (json_is_string(v)) {
        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);
    }

    ngx_http_agnitel_json_text(j, key, &s);
}


/* "key": a string, or null when s has no data */

void
ngx_http_agnitel_json_text(ngx_http_agnitel_json_t *j, const char *key,
    ngx_str_t *s)
{
    ngx_http_agnitel_json_key(j, key);

    if (s->data) {
        ngx_http_agnitel_json_str(j, s->data, s->len);

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


/*
 * "1.15" -> 1150000: digits, at most 12 before the point and 6 after it,
 * no sign, no exponent, no float.  The largest, 999999999999.999999, is
 * 10^18 - 1 micro-units: an int64_t holds it.
 */

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

        if (*p < '0' || *p > '9' || decimals == 6 || (!dot && digits == 12))
        {
            return NGX_ERROR;
        }

        v = v * 10 + (*p - '0');

        if (dot) {
            decimals++;

        } else {
            digits++;
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
 * A money member of a request body, read exactly from its text: jansson
 * keeps a number as a double, and 1.15000000000000000001 would be 1.15
 * there.  NGX_DECLINED when absent, NGX_ERROR when not a plain decimal
 * (a string, null, a sign, an exponent, more than six decimals).
 */

ngx_int_t
ngx_http_agnitel_json_money_member(u_char *p, size_t len, const char *name,
    int64_t *micros)
{
    ngx_int_t  rc;
    ngx_str_t  v;

    rc = ngx_http_agnitel_json_member_text(p, len, name, &v);

    if (rc != NGX_OK) {
        return rc;
    }

    /* a JSON number starts with "-" or a digit: this leaves digits */

    if (v.len == 0 || v.data[0] < '0' || v.data[0] > '9') {
        return NGX_ERROR;
    }

    return ngx_http_agnitel_money_parse(v.data, v.len, micros);
}


/*
 * The text of a member's value in a JSON object: a top-level member, found
 * by its name after unescaping ("pr\u0069ce" is "price").  The text is one
 * jansson parsed with JSON_REJECT_DUPLICATES, so the name is there once at
 * most; the scan still stops at anything malformed rather than trust that.
 * NGX_OK, NGX_DECLINED when absent, NGX_ERROR when it is not an object.
 */

ngx_int_t
ngx_http_agnitel_json_member_text(u_char *p, size_t len, const char *name,
    ngx_str_t *value)
{
    ngx_http_agnitel_json_field_t  fields[2];

    fields[0].name = name;
    fields[1].name = NULL;

    if (ngx_http_agnitel_json_members(p, len, fields) != NGX_OK) {
        return NGX_ERROR;
    }

    if (fields[0].text.data == NULL) {
        return NGX_DECLINED;
    }

    *value = fields[0].text;

    return NGX_OK;
}


/*
 * The texts of several top-level members in one pass over the object,
 * which ends once all are found: a field's text stays NULL when its member
 * is absent; the first of duplicate members counts.  NGX_OK, or NGX_ERROR
 * when the text is not an object.
 */

ngx_int_t
ngx_http_agnitel_json_members(u_char *p, size_t len,
    ngx_http_agnitel_json_field_t *fields)
{
    u_char                         *end, *start;
    u_char                          name[NGX_HTTP_AGNITEL_JSON_NAME_MAX];
    size_t                          n;
    ngx_uint_t                      left;
    ngx_http_agnitel_json_field_t  *f;

    for (left = 0, f = fields; f->name; f++, left++) {
        f->text.data = NULL;
        f->text.len = 0;
    }

    end = p + len;

    p = ngx_http_agnitel_json_space(p, end);

    if (p == end || *p != '{') {
        return NGX_ERROR;
    }

    p = ngx_http_agnitel_json_space(p + 1, end);

    if (p < end && *p == '}') {
        return NGX_OK;
    }

    while (left) {
        p = ngx_http_agnitel_json_name(p, end, name, sizeof(name), &n);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p = ngx_http_agnitel_json_space(p, end);

        if (p == end || *p != ':') {
            return NGX_ERROR;
        }

        start = ngx_http_agnitel_json_space(p + 1, end);

        p = ngx_http_agnitel_json_skip(start, end);
        if (p == NULL) {
            return NGX_ERROR;
        }

        for (f = fields; f->name; f++) {
            if (f->text.data == NULL
                && ngx_strlen(f->name) == n
                && ngx_memcmp(f->name, name, n) == 0)
            {
                f->text.data = start;
                f->text.len = p - start;
                left--;
                break;
            }
        }

        p = ngx_http_agnitel_json_space(p, end);

        if (p < end && *p == '}') {
            break;
        }

        if (p == end || *p != ',') {
            return NGX_ERROR;
        }

        p = ngx_http_agnitel_json_space(p + 1, end);
    }

    return NGX_OK;
}


/*
 * A member's text as a string, unescaped: NGX_OK; NGX_DECLINED when it is
 * absent (text NULL) or not a string; NGX_ERROR when malformed.  The value
 * points into the text unless it had escapes to undo.
 */

ngx_int_t
ngx_http_agnitel_json_string(ngx_pool_t *pool, ngx_str_t *text,
    ngx_str_t *value)
{
    u_char     *end;
    ngx_str_t   v;

    value->data = NULL;
    value->len = 0;

    if (text->data == NULL || text->len < 2 || text->data[0] != '"') {
        return NGX_DECLINED;
    }

    v.data = text->data + 1;
    v.len = text->len - 2;

    if (ngx_strlchr(v.data, v.data + v.len, '\\') == NULL) {
        *value = v;
        return NGX_OK;
    }

    /* an unescaped string is never longer than its escaped text */

    value->data = ngx_pnalloc(pool, v.len);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    end = ngx_http_agnitel_json_unescape(v.data, v.data + v.len, value->data);
    if (end == NULL) {
        return NGX_ERROR;
    }

    value->len = end - value->data;

    return NGX_OK;
}


/* a string's escapes undone into out, UTF-8; returns the end, or NULL */

static u_char *
ngx_http_agnitel_json_unescape(u_char *p, u_char *end, u_char *out)
{
    uint32_t  c;

    while (p < end) {

        if (*p != '\\') {
            *out++ = *p++;
            continue;
        }

        p = ngx_http_agnitel_json_escape(p + 1, end, &c);
        if (p == NULL) {
            return NULL;
        }

        out = ngx_http_agnitel_utf8_encode(out, c);
    }

    return out;
}


/* one escape, after its backslash: the code point, and the end or NULL */

static u_char *
ngx_http_agnitel_json_escape(u_char *p, u_char *end, uint32_t *c)
{
    if (p == end) {
        return NULL;
    }

    *c = *p++;

    switch (*c) {
    case 'b': *c = '\b'; break;
    case 'f': *c = '\f'; break;
    case 'n': *c = '\n'; break;
    case 'r': *c = '\r'; break;
    case 't': *c = '\t'; break;

    case '"':
    case '\\':
    case '/':
        break;

    case 'u':
        return ngx_http_agnitel_json_code_point(p, end, c);

    default:
        return NULL;
    }

    return p;
}


/* the four hex digits after "\u", and a low surrogate after a high one */

static u_char *
ngx_http_agnitel_json_code_point(u_char *p, u_char *end, uint32_t *c)
{
    ngx_int_t  hi, lo;

    if (end - p < 4 || (hi = ngx_hextoi(p, 4)) == NGX_ERROR) {
        return NULL;
    }

    p += 4;

    if (hi >= 0xdc00 && hi <= 0xdfff) {
        return NULL;
    }

    if (hi < 0xd800 || hi > 0xdbff) {
        *c = (uint32_t) hi;
        return p;
    }

    if (end - p < 6 || p[0] != '\\' || p[1] != 'u'
        || (lo = ngx_hextoi(p + 2, 4)) == NGX_ERROR
        || lo < 0xdc00 || lo > 0xdfff)
    {
        return NULL;
    }

    *c = 0x10000 + ((uint32_t) (hi - 0xd800) << 10) + (uint32_t) (lo - 0xdc00);

    return p + 6;
}


static u_char *
ngx_http_agnitel_utf8_encode(u_char *out, uint32_t c)
{
    if (c < 0x80) {
        *out++ = (u_char) c;

    } else if (c < 0x800) {
        *out++ = (u_char) (0xc0 | (c >> 6));
        *out++ = (u_char) (0x80 | (c & 0x3f));

    } else if (c < 0x10000) {
        *out++ = (u_char) (0xe0 | (c >> 12));
        *out++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
        *out++ = (u_char) (0x80 | (c & 0x3f));

    } else {
        *out++ = (u_char) (0xf0 | (c >> 18));
        *out++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
        *out++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
        *out++ = (u_char) (0x80 | (c & 0x3f));
    }

    return out;
}


static u_char *
ngx_http_agnitel_json_space(u_char *p, u_char *end)
{
    while (p < end
           && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    return p;
}


/*
 * A member name from its opening quote, unescaped into buf; *len is its
 * length, or size + 1 when it cannot be a name looked up (longer than buf,
 * or beyond ASCII: names looked up are ASCII).  Returns the end, or NULL.
 */

static u_char *
ngx_http_agnitel_json_name(u_char *p, u_char *end, u_char *buf, size_t size,
    size_t *len)
{
    uint32_t  c;

    if (p == end || *p != '"') {
        return NULL;
    }

    *len = 0;

    for (p++; p < end && *p != '"'; /* void */) {
        c = *p++;

        if (c == '\\') {
            p = ngx_http_agnitel_json_escape(p, end, &c);
            if (p == NULL) {
                return NULL;
            }
        }

        if (*len < size && c < 0x80) {
            buf[(*len)++] = (u_char) c;

        } else {
            *len = size + 1;
        }
    }

    return (p == end) ? NULL : p + 1;
}


/* past one value: a string, an object or array, or a bare token */

static u_char *
ngx_http_agnitel_json_skip(u_char *p, u_char *end)
{
    u_char      *start;
    ngx_uint_t   depth;

    if (p == end) {
        return NULL;
    }

    if (*p == '"') {
        return ngx_http_agnitel_json_skip_string(p, end);
    }

    if (*p == '{' || *p == '[') {
        depth = 0;

        while (p < end) {

            /* brackets inside strings do not count */

            if (*p == '"') {
                p = ngx_http_agnitel_json_skip_string(p, end);
                if (p == NULL) {
                    return NULL;
                }

                continue;
            }

            if (*p == '{' || *p == '[') {
                depth++;

            } else if (*p == '}' || *p == ']') {
                if (--depth == 0) {
                    return p + 1;
                }
            }

            p++;
        }

        return NULL;
    }

    /* a number, true, false or null */

    start = p;

    while (p < end && *p != ',' && *p != '}' && *p != ']'
           && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
    {
        p++;
    }

    return (p == start) ? NULL : p;
}


static u_char *
ngx_http_agnitel_json_skip_string(u_char *p, u_char *end)
{
    for (p++; p < end; p++) {

        if (*p == '\\') {
            if (++p == end) {
                return NULL;
            }

            continue;
        }

        if (*p == '"') {
            return p + 1;
        }
    }

    return NULL;
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


/*
 * A request body that is a flat object of plain strings (printable ASCII
 * without escapes), true, false and null, as most requests are, read
 * without jansson's reader: for an import that reader was 24,000
 * instructions of 80,000.  NULL for anything else, even a duplicate name,
 * which json_loadb() then reads, and judges, itself.
 */

json_t *
ngx_http_agnitel_json_flat(u_char *p, size_t len)
{
    u_char  *end, *name, *s;
    size_t   n;
    json_t  *obj, *v;

    end = p + len;

    p = ngx_http_agnitel_json_space(p, end);

    if (p == end || *p++ != '{') {
        return NULL;
    }

    obj = json_object();
    if (obj == NULL) {
        return NULL;
    }

    p = ngx_http_agnitel_json_space(p, end);

    if (p < end && *p == '}') {
        p++;
        goto done;
    }

    for ( ;; ) {
        if (p == end || *p++ != '"') {
            goto other;
        }

        name = p;
        p = ngx_http_agnitel_json_plain(p, end);

        if (p == end || *p != '"') {
            goto other;
        }

        n = p++ - name;

        p = ngx_http_agnitel_json_space(p, end);

        if (p == end || *p++ != ':') {
            goto other;
        }

        p = ngx_http_agnitel_json_space(p, end);

        if (p == end) {
            goto other;
        }

        if (*p == '"') {
            s = ++p;
            p = ngx_http_agnitel_json_plain(p, end);

            if (p == end || *p != '"') {
                goto other;
            }

            v = json_stringn_nocheck((char *) s, p++ - s);

        } else if (end - p >= 4 && ngx_strncmp(p, "true", 4) == 0) {
            v = json_true();
            p += 4;

        } else if (end - p >= 5 && ngx_strncmp(p, "false", 5) == 0) {
            v = json_false();
            p += 5;

        } else if (end - p >= 4 && ngx_strncmp(p, "null", 4) == 0) {
            v = json_null();
            p += 4;

        } else {
            goto other;
        }

        if (v == NULL || json_object_getn(obj, (char *) name, n) != NULL) {
            json_decref(v);
            goto other;
        }

        if (json_object_setn_new_nocheck(obj, (char *) name, n, v) != 0) {
            goto other;
        }

        p = ngx_http_agnitel_json_space(p, end);

        if (p < end && *p == ',') {
            p = ngx_http_agnitel_json_space(p + 1, end);
            continue;
        }

        if (p < end && *p == '}') {
            p++;
            break;
        }

        goto other;
    }

done:

    if (ngx_http_agnitel_json_space(p, end) == end) {
        return obj;
    }

other:

    json_decref(obj);

    return NULL;
}


/* past printable ASCII other than the quote and the backslash */

static u_char *
ngx_http_agnitel_json_plain(u_char *p, u_char *end)
{
    while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
        p++;
    }

    return p;
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


/* compact JSON text in the pool, for the store */

ngx_int_t
ngx_http_agnitel_json_dump(ngx_pool_t *pool, json_t *json, MDB_val *out)
{
    ngx_http_agnitel_json_t  j;

    ngx_http_agnitel_json_init(&j, pool, 512);
    ngx_http_agnitel_json_value(&j, json);

    if (j.failed) {
        return NGX_ERROR;
    }

    out->mv_data = j.start;
    out->mv_size = j.pos - j.start;

    return NGX_OK;
}


/*
 * A jansson value as compact JSON, members in their order, as
 * json_dumps(JSON_COMPACT) writes it, but into the pool: json_dumps()
 * grows a malloc()ed buffer a token at a time, and was the largest part
 * of an import's own CPU (5% of a worker's, more than parsing the
 * request).  A string may come out escaped differently (\u0008 for \b):
 * the same JSON.
 */

void
ngx_http_agnitel_json_value(ngx_http_agnitel_json_t *j, json_t *v)
{
    u_char      *p;
    size_t       i, n;
    json_t      *item;
    const char  *key;

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        ngx_http_agnitel_json_lit(j, "{");

        i = 0;

        json_object_foreach(v, key, item) {
            if (i++) {
                ngx_http_agnitel_json_lit(j, ",");
            }

            ngx_http_agnitel_json_str(j, (u_char *) key, ngx_strlen(key));
            ngx_http_agnitel_json_lit(j, ":");
            ngx_http_agnitel_json_value(j, item);
        }

        ngx_http_agnitel_json_lit(j, "}");
        break;

    case JSON_ARRAY:
        ngx_http_agnitel_json_lit(j, "[");
        n = json_array_size(v);

        for (i = 0; i < n; i++) {
            if (i) {
                ngx_http_agnitel_json_lit(j, ",");
            }

            ngx_http_agnitel_json_value(j, json_array_get(v, i));
        }

        ngx_http_agnitel_json_lit(j, "]");
        break;

    case JSON_STRING:
        ngx_http_agnitel_json_str(j, (u_char *) json_string_value(v),
                                  json_string_length(v));
        break;

    case JSON_INTEGER:
        ngx_http_agnitel_json_int(j, json_integer_value(v));
        break;

    case JSON_REAL:
        /* no money is a real; jansson's precision, and a point it keeps */

        p = ngx_http_agnitel_json_reserve(j, 32);
        if (p == NULL) {
            return;
        }

        n = snprintf((char *) p, 30, "%.17g", json_real_value(v));

        if (strpbrk((char *) p, ".eE") == NULL) {
            p[n++] = '.';
            p[n++] = '0';
        }

        j->pos = p + n;
        break;

    case JSON_TRUE:
        ngx_http_agnitel_json_lit(j, "true");
        break;

    case JSON_FALSE:
        ngx_http_agnitel_json_lit(j, "false");
        break;

    default:
        ngx_http_agnitel_json_lit(j, "null");
    }
}
