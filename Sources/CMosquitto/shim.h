#ifndef SHENNONG_CMOSQUITTO_SHIM_H
#define SHENNONG_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <poll.h>
#endif
