/* C[m x n] = A[m x k] * B[k x n], row-major with leading dimensions (template: FC_T, FC_SFX).
 *
 * A plain cache-blocked loop nest: KC rows of B (one k-block) times NC columns stay in L1/L2
 * while every row of A streams past; the innermost loop runs along contiguous rows of B and
 * C and vectorizes.  The packed, register-blocked engine replaces this in the GEMM issue. */
#define GEMM_KC 256
#define GEMM_NC 512

void FC_FN(gemm)(int64_t m, int64_t n, int64_t k, const FC_T *a, int64_t lda, const FC_T *b,
                 int64_t ldb, FC_T *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = 0;
    for (int64_t j0 = 0; j0 < n; j0 += GEMM_NC) {
        const int64_t j1 = j0 + GEMM_NC < n ? j0 + GEMM_NC : n;
        for (int64_t p0 = 0; p0 < k; p0 += GEMM_KC) {
            const int64_t p1 = p0 + GEMM_KC < k ? p0 + GEMM_KC : k;
            for (int64_t i = 0; i < m; i++) {
                FC_T *restrict ci = c + i * ldc;
                for (int64_t p = p0; p < p1; p++) {
                    const FC_T av = a[i * lda + p];
                    const FC_T *restrict bp = b + p * ldb;
                    for (int64_t j = j0; j < j1; j++) ci[j] += av * bp[j];
                }
            }
        }
    }
}

#undef GEMM_KC
#undef GEMM_NC
