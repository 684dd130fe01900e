/* maxpool kernel, instantiated for float32 and float64 from one template. */
#include "fc_internal.h"

#define FC_TEMPLATE "maxpool_tmpl.h"
#include "fc_instantiate.h"
