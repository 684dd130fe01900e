/* Direct convolution kernel, instantiated for float32 and float64 from one template. */
#include "fc_conv_direct.h"

#define FC_TEMPLATE "direct_tmpl.h"
#include "fc_instantiate.h"
