
/*
 * Copyright (C) agnitel
 *
 * ngx_http_agnitel_sandbox_module: the carrier emulators, a module of its
 * own so that production configurations need not load them.  It keeps its
 * state in ngx_http_agnitel_module's store, so that module is loaded first.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_agnitel.h"
#include "ngx_http_agnitel_sandbox.h"


static char *ngx_http_agnitel_sandbox(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_agnitel_sandbox_create_loc_conf(ngx_conf_t *cf);
static void ngx_http_agnitel_sandbox_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_agnitel_sandbox_commands[] = {

    { ngx_string("agnitel_twilio_sandbox"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_agnitel_sandbox,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_agnitel_sandbox_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_agnitel_sandbox_create_loc_conf, /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_agnitel_sandbox_module = {
    NGX_MODULE_V1,
    &ngx_http_agnitel_sandbox_module_ctx,  /* module context */
    ngx_http_agnitel_sandbox_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_agnitel_sandbox_exit_process, /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* agnitel_twilio_sandbox [account_sid=SID] [auth_token=TOKEN]; */

static char *
ngx_http_agnitel_sandbox(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_agnitel_sandbox_loc_conf_t  *slcf = conf;

    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_agnitel_main_conf_t  *amcf;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "account_sid=", 12) == 0) {
            slcf->sid.data = value[i].data + 12;
            slcf->sid.len = value[i].len - 12;

            if (slcf->sid.len != 34
                || ngx_strncmp(slcf->sid.data, "AC", 2) != 0)
            {
                return "has an account_sid that is not AC and 32 characters";
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "auth_token=", 11) == 0) {
            slcf->token.data = value[i].data + 11;
            slcf->token.len = value[i].len - 11;

            if (slcf->token.len == 0) {
                return "has an empty auth_token";
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (slcf->sid.len == 0) {
        ngx_str_set(&slcf->sid, NGX_HTTP_AGNITEL_SANDBOX_SID);
    }

    if (slcf->token.len == 0) {
        ngx_str_set(&slcf->token, NGX_HTTP_AGNITEL_SANDBOX_TOKEN);
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate or conflicts with another content handler";
    }

    clcf->handler = ngx_http_agnitel_sandbox_handler;

    /* the emulator keeps its numbers in the store */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_agnitel_module);
    amcf->handlers = 1;

    return NGX_CONF_OK;
}


static void *
ngx_http_agnitel_sandbox_create_loc_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     slcf->sid = { 0, NULL };
     *     slcf->token = { 0, NULL };
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_agnitel_sandbox_loc_conf_t));
}


static void
ngx_http_agnitel_sandbox_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_agnitel_sandbox_replay_done();
}
