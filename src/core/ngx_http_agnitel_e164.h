
/*
 * Copyright (C) agnitel
 */


#ifndef _NGX_HTTP_AGNITEL_E164_H_INCLUDED_
#define _NGX_HTTP_AGNITEL_E164_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * NGX_OK if s is E.164: '+', first digit 1-9, digits only, 8-15 digits in
 * all; NGX_DECLINED otherwise.
 */
ngx_int_t ngx_http_agnitel_e164_valid(u_char *s, size_t len);

/*
 * ISO 3166-1 alpha-2 country (two uppercase chars, NUL-terminated, static
 * storage) for a number that passed ngx_http_agnitel_e164_valid(), or NULL
 * when the calling code is unknown, non-geographic or shared by several
 * countries and cannot be resolved.  NULL is returned for invalid numbers.
 */
const u_char *ngx_http_agnitel_e164_country(u_char *s, size_t len);


#endif /* _NGX_HTTP_AGNITEL_E164_H_INCLUDED_ */
