/* Links the kernels into a program and runs each algorithm and both pools once through the
 * public contract, checking a result a reader can verify by hand: a 3x3 all-ones filter over
 * an all-ones 5x5 image sums 9 cells.  tools/cross_check.sh builds it for another target
 * (and runs it there under an emulator when one is installed). */
#include <stdio.h>
#include "fastconv.h"

int main(void) {
    float x[5 * 5 * 16], w[3 * 3 * 16 * 16], y[3 * 3 * 16], p[3 * 3 * 16];
    for (int i = 0; i < 5 * 5 * 16; i++) x[i] = 1.0f;
    for (int i = 0; i < 3 * 3 * 16 * 16; i++) w[i] = 1.0f;
    const fc_view xv = {x, 1, 5, 5, 16, 5 * 5 * 16, 5 * 16, 16, 1};
    const fc_view yv = {y, 1, 3, 3, 16, 3 * 3 * 16, 3 * 16, 16, 1};
    const fc_view pv = {p, 1, 3, 3, 16, 3 * 3 * 16, 3 * 16, 16, 1};
    const fc_conv_desc d = {{3, 3, 1, 1, 1, 1, 0, 0}, 1, FC_ACT_NONE};
    int bad = 0;
    for (int algo = FC_ALGO_AUTO; algo <= FC_ALGO_WINOGRAD; algo++) {
        if (fc_conv2d(FC_FLOAT32, &d, (fc_algorithm)algo, &xv, w, NULL, &yv) != FC_OK) bad++;
        for (int i = 0; i < 3 * 3 * 16; i++) bad += y[i] != 9.0f * 16.0f;
    }
    for (int kind = FC_POOL_MAX; kind <= FC_POOL_AVG; kind++) {
        if (fc_pool2d(FC_FLOAT32, (fc_pool_kind)kind, &d.win, &xv, &pv, NULL, NULL) != FC_OK) bad++;
        for (int i = 0; i < 3 * 3 * 16; i++) bad += p[i] != 1.0f;
    }
    printf("ISA %s: %s\n", fc_isa_name(fc_get_isa()), bad ? "WRONG RESULTS" : "ok");
    return bad != 0;
}
