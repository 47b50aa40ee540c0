#ifndef SHENNONG_CQRENCODE_SHIM_H
#define SHENNONG_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
