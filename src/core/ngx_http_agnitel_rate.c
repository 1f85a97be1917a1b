
/*
 * Copyright (C) agnitel
 *
 * The rate card: what a number costs a month and a minute, per country
 * and number type (agnitel_rate).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_agnitel_rate.h"


/* indexed by NGX_HTTP_AGNITEL_LOCAL ... TOLL_FREE */
static ngx_str_t  ngx_http_agnitel_rate_types[] = {
    ngx_null_string,
    ngx_string("local"),
    ngx_string("mobile"),
    ngx_string("toll_free"),
};


ngx_uint_t
ngx_http_agnitel_rate_type(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = NGX_HTTP_AGNITEL_LOCAL; i <= NGX_HTTP_AGNITEL_TOLL_FREE; i++) {
        if (name->len == ngx_http_agnitel_rate_types[i].len
            && ngx_strncmp(name->data, ngx_http_agnitel_rate_types[i].data,
                           name->len) == 0)
        {
            return i;
        }
    }

    return 0;
}


ngx_http_agnitel_rate_t *
ngx_http_agnitel_rate_find(ngx_http_agnitel_main_conf_t *amcf,
    u_char *country, ngx_uint_t type)
{
    ngx_uint_t                i;
    ngx_http_agnitel_rate_t  *rate;

    rate = amcf->rates->elts;

    for (i = 0; i < amcf->rates->nelts; i++) {
        if (rate[i].type == type
            && ngx_memcmp(rate[i].country, country, 2) == 0)
        {
            return &rate[i];
        }
    }

    return NULL;
}


/*
 * The type of a number being bought: North American toll-free area codes
 * are toll_free, everything else is priced as local.
 */

ngx_uint_t
ngx_http_agnitel_number_type(u_char *country, ngx_str_t *number)
{
    ngx_uint_t  i;

    static const char  *toll_free[] = {
        "800", "833", "844", "855", "866", "877", "888", NULL
    };

    if (number->len == 12 && number->data[1] == '1') {
        for (i = 0; toll_free[i]; i++) {
            if (ngx_strncmp(number->data + 2, toll_free[i], 3) == 0) {
                return NGX_HTTP_AGNITEL_TOLL_FREE;
            }
        }
    }

    return NGX_HTTP_AGNITEL_LOCAL;
}
