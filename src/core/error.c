/*
 * error.c - status names and the thread-local error message.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char act__message[1024];

const char *act_status_name(act_status_t status) {
  switch (status) {
#define ACT_STATUS_NAME_(name, code, desc)                                    \
  case ACT_##name:                                                            \
    return "ACT_" #name;
    ACT_STATUS_MAP(ACT_STATUS_NAME_)
#undef ACT_STATUS_NAME_
  }
  return "ACT_UNKNOWN_STATUS";
}

const char *act_status_string(act_status_t status) {
  switch (status) {
#define ACT_STATUS_STR_(name, code, desc)                                     \
  case ACT_##name:                                                            \
    return desc;
    ACT_STATUS_MAP(ACT_STATUS_STR_)
#undef ACT_STATUS_STR_
  }
  return "unknown status";
}

const char *act_last_error(void) { return act__message; }

void act__clear_error(void) { act__message[0] = '\0'; }

act_status_t act__fail(act_status_t status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(act__message, sizeof act__message, fmt, ap);
  va_end(ap);
  return status;
}
