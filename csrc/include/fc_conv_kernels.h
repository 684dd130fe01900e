/* Every forward-convolution kernel family, for the operator that chooses among them
 * (operators/conv2d.c). */
#ifndef FC_CONV_KERNELS_H
#define FC_CONV_KERNELS_H

#include "fc_internal.h"
#include "fc_gemm.h"
#include "fc_conv_direct.h"
#include "fc_conv_igemm.h"
#include "fc_conv_pointwise.h"
#include "fc_conv_pointwise_groups.h"
#include "fc_conv_winograd.h"
#include "fc_conv_depthwise.h"
#include "fc_conv_filter.h"
#include "fc_conv_blocked.h"
#include "fc_conv_grouped.h"
#include "fc_conv_fewout.h"
#include "fc_conv_fewin.h"
#include "fc_transpose.h"

#endif
