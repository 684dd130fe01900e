/* Lane lists for __builtin_shufflevector, which takes its lane indices as literal constants,
 * at FC_LANES_N lanes (defined by the includer, undefined here): even and odd lanes of a
 * pair of vectors (a:b, 2L values), and the interleave a0 b0 a1 b1 ... of their low and high
 * halves.  Templates include it once per instantiation (each dtype and vector width), so it
 * redefines its lists every time. */
#undef FC_EVEN_LANES
#undef FC_ODD_LANES
#undef FC_ZIPLO_LANES
#undef FC_ZIPHI_LANES
#if FC_LANES_N == 16
#define FC_EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define FC_ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define FC_ZIPLO_LANES 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define FC_ZIPHI_LANES 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#elif FC_LANES_N == 8
#define FC_EVEN_LANES 0, 2, 4, 6, 8, 10, 12, 14
#define FC_ODD_LANES 1, 3, 5, 7, 9, 11, 13, 15
#define FC_ZIPLO_LANES 0, 8, 1, 9, 2, 10, 3, 11
#define FC_ZIPHI_LANES 4, 12, 5, 13, 6, 14, 7, 15
#elif FC_LANES_N == 4
#define FC_EVEN_LANES 0, 2, 4, 6
#define FC_ODD_LANES 1, 3, 5, 7
#define FC_ZIPLO_LANES 0, 4, 1, 5
#define FC_ZIPHI_LANES 2, 6, 3, 7
#elif FC_LANES_N == 2
#define FC_EVEN_LANES 0, 2
#define FC_ODD_LANES 1, 3
#define FC_ZIPLO_LANES 0, 2
#define FC_ZIPHI_LANES 1, 3
#else
#error "fc_lanes_tmpl.h: FC_LANES_N must be 2, 4, 8 or 16"
#endif
#undef FC_LANES_N
