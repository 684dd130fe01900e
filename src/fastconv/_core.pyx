# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin binding to the C kernels: arrays in, one nogil C call, status -> exception.

The Python layer validates the arguments and hands over arrays that are aligned, share one
dtype (float32 or float64), with dense filters and bias and views in NHWC axis order.  The
binding still checks everything the C code would otherwise trust blindly (ranks, dtypes,
alignment, strides, the filter's and bias's sizes, the window) and raises TypeError or
ValueError, so that no caller -- a test, a benchmark, a mistake -- can make the kernels
read or write outside an array.
"""

cimport numpy as cnp
from libc.stdint cimport PTRDIFF_MAX, int64_t, uintptr_t

import numpy as np

cnp.import_array()

cdef extern from "fastconv.h" nogil:
    ctypedef enum fc_dtype:
        FC_FLOAT32
        FC_FLOAT64
    ctypedef enum fc_status:
        FC_OK
        FC_ERR_NOMEM
        FC_ERR_ARG
    ctypedef enum fc_activation:
        FC_ACT_NONE
        FC_ACT_RELU
        FC_ACT_RELU6
        FC_ACT_SIGMOID
        FC_ACT_TANH
    ctypedef enum fc_algorithm:
        FC_ALGO_AUTO
        FC_ALGO_DIRECT
        FC_ALGO_IM2COL
        FC_ALGO_WINOGRAD
    ctypedef enum fc_pool_kind:
        FC_POOL_MAX
        FC_POOL_AVG
    ctypedef enum fc_isa:
        FC_ISA_BASELINE
        FC_ISA_AVX2
        FC_ISA_AVX512
    ctypedef struct fc_view:
        void *data
        int64_t n, h, w, c
        int64_t sn, sh, sw, sc
    ctypedef struct fc_window:
        int64_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left
    ctypedef struct fc_conv_desc:
        fc_window win
        int64_t groups
        fc_activation activation

    fc_status fc_conv2d(fc_dtype dtype, const fc_conv_desc *desc, fc_algorithm algorithm,
                        const fc_view *x, const void *filters, const void *bias,
                        const fc_view *y)
    ctypedef struct fc_conv_packed:
        fc_isa isa
        const void *im2col
        int im2col_nonfinite
        const void *winograd
        const void *grouped
    size_t fc_conv2d_packed_size(fc_dtype dtype, const fc_conv_desc *desc,
                                 fc_algorithm algorithm, fc_isa isa, int64_t in_channels,
                                 int64_t out_channels)
    fc_status fc_conv2d_pack(fc_dtype dtype, const fc_conv_desc *desc, fc_algorithm algorithm,
                             fc_isa isa, int64_t in_channels, int64_t out_channels,
                             const void *filters, void *packed, int *nonfinite)
    fc_status fc_conv2d_prepacked(fc_dtype dtype, const fc_conv_desc *desc,
                                  fc_algorithm algorithm, const fc_conv_packed *packed,
                                  const fc_view *x, const void *filters, const void *bias,
                                  const fc_view *y)
    fc_status fc_conv2d_backprop_input(fc_dtype dtype, const fc_conv_desc *desc,
                                       const fc_view *dy, const void *filters,
                                       const void *bias, const fc_view *dx)
    fc_status fc_conv2d_backprop_filter(fc_dtype dtype, const fc_conv_desc *desc,
                                        const fc_view *x, const fc_view *dy, void *dw,
                                        void *db)
    fc_status fc_pool2d(fc_dtype dtype, fc_pool_kind kind, const fc_window *win,
                        const fc_view *x, const fc_view *y, const double *div_h,
                        const double *div_w)
    fc_status fc_pool2d_grad(fc_dtype dtype, fc_pool_kind kind, const fc_window *win,
                             const fc_view *x, const fc_view *g, const fc_view *dx)
    fc_status fc_max_pool2d_argmax(fc_dtype dtype, const fc_window *win, const fc_view *x,
                                   const fc_view *y, const fc_view *argmax,
                                   const int64_t *index_strides)
    int fc_winograd_applies(const fc_conv_desc *desc)
    fc_algorithm fc_conv2d_choose(fc_dtype dtype, const fc_conv_desc *desc, const fc_view *x,
                                  const fc_view *y, int prepacked)
    fc_isa fc_detected_isa()
    fc_isa fc_get_isa()
    fc_status fc_set_isa(fc_isa isa)
    const char *fc_isa_name(fc_isa isa)
    void fc_gemm_blocking(fc_dtype dtype, int *mr, int *nr, int *mc, int *panel_bytes)
    void fc_set_num_threads(int n)
    int fc_get_num_threads()
    void fc_set_thread_num_threads(int n)
    int fc_thread_num_threads()
    int fc_cpus_available()
    int fc_have_openmp()
    void fc_parallel_stats(int *cap, int64_t *contended_calls, int64_t *parallel_calls)
    void fc_parallel_observe(int threads, double wall, double cpu)


# The C enums of fastconv.h by their Python names, with the values the compiler read from the
# header: the one copy of the codes that the Python layer (_plans.py, _isa.py, _arrays.py, the
# GPU path's check) uses.  tests/test_core_binding.py checks that every enumerator of
# fastconv.h is here, under its own name.
DTYPE_CODES = {"float32": <int>FC_FLOAT32, "float64": <int>FC_FLOAT64}
STATUS_CODES = {"ok": <int>FC_OK, "err_nomem": <int>FC_ERR_NOMEM, "err_arg": <int>FC_ERR_ARG}
ACTIVATION_CODES = {None: <int>FC_ACT_NONE, "relu": <int>FC_ACT_RELU, "relu6": <int>FC_ACT_RELU6,
                    "sigmoid": <int>FC_ACT_SIGMOID, "tanh": <int>FC_ACT_TANH}
ALGORITHM_CODES = {"auto": <int>FC_ALGO_AUTO, "direct": <int>FC_ALGO_DIRECT,
                   "im2col": <int>FC_ALGO_IM2COL, "winograd": <int>FC_ALGO_WINOGRAD}
POOL_CODES = {"max": <int>FC_POOL_MAX, "avg": <int>FC_POOL_AVG}
ISA_CODES = {"baseline": <int>FC_ISA_BASELINE, "avx2": <int>FC_ISA_AVX2,
             "avx512": <int>FC_ISA_AVX512}   # lowest first
# Old names of ISAs, still accepted (FASTCONV_ISA reads them in C: csrc/runtime/cpu.c).
ISA_ALIASES = {"scalar": "baseline"}
# Each C enum type's codes (for the test above).
ENUMS = {"fc_dtype": DTYPE_CODES, "fc_status": STATUS_CODES, "fc_activation": ACTIVATION_CODES,
         "fc_algorithm": ALGORITHM_CODES, "fc_pool_kind": POOL_CODES, "fc_isa": ISA_CODES}


# The checks below read arrays through NumPy's C macros, not their Python attributes (dtype,
# itemsize, shape): on the 8x8 single-channel layer (tiny-8x8) the attribute lookups, and the
# tuples of Python ints they were compared with, cost 8,100 of ConvDesc.run's 20,400
# instructions around a C call of 12,300; the checks cost 1,300 now (valgrind).


cdef fc_dtype _dtype(cnp.ndarray a) except *:
    cdef int num = cnp.PyArray_TYPE(a)
    if cnp.PyArray_ISNOTSWAPPED(a):
        if num == cnp.NPY_FLOAT32:
            return FC_FLOAT32
        if num == cnp.NPY_FLOAT64:
            return FC_FLOAT64
    raise TypeError(f"internal: kernels take native float32 or float64, got {a.dtype}")


cdef int _check_array(cnp.ndarray a, str name, fc_dtype dtype, int ndim) except -1:
    """a has the call's dtype, `ndim` dimensions, and is aligned for its elements."""
    if _dtype(a) != dtype:
        raise TypeError(f"internal: {name} has dtype {a.dtype}, the input another")
    if a.ndim != ndim:
        raise ValueError(f"internal: {name} must have {ndim} dimensions, got {a.ndim}")
    if not cnp.PyArray_ISALIGNED(a):
        raise ValueError(f"internal: {name} is not aligned for its dtype")
    return 0


cdef int _check_view_layout(cnp.ndarray a, str name, bint output) except -1:
    """4-D, aligned, strides in whole elements (any order); writeable if `output`."""
    if a.ndim != 4:
        raise ValueError(f"internal: {name} must have 4 dimensions, got {a.ndim}")
    if not cnp.PyArray_ISALIGNED(a):
        raise ValueError(f"internal: {name} is not aligned for its dtype")
    for i in range(4):
        if a.strides[i] % cnp.PyArray_ITEMSIZE(a):
            raise ValueError(f"internal: {name}'s strides are not whole elements")
    if output and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"internal: {name} is not writeable")
    return 0


cdef int _check_view_array(cnp.ndarray a, str name, fc_dtype dtype, bint output) except -1:
    """A 4-D NHWC-ordered view of the call's dtype (_check_view_layout)."""
    if _dtype(a) != dtype:
        raise TypeError(f"internal: {name} has dtype {a.dtype}, the input another")
    return _check_view_layout(a, name, output)


cdef tuple _shape_tuple(int ndim, const int64_t *shape):
    return tuple([shape[i] for i in range(ndim)])


cdef int _check_dense(cnp.ndarray a, str name, fc_dtype dtype, int ndim,
                      const int64_t *shape) except -1:
    """A C-contiguous array of exactly `shape` (ndim sizes)."""
    _check_array(a, name, dtype, ndim)
    for i in range(ndim):
        if a.shape[i] != shape[i]:
            raise ValueError(f"internal: {name} must have shape {_shape_tuple(ndim, shape)}, "
                             f"got {(<object>a).shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"internal: {name} must be C-contiguous")
    return 0


cdef int _check_hwio(cnp.ndarray a, str name, fc_dtype dtype, const fc_window *win,
                     int64_t in_channels, int64_t out_channels) except -1:
    """Dense HWIO filters [k_h, k_w, in_channels, out_channels] (_check_dense)."""
    cdef int64_t shape[4]
    shape[0], shape[1], shape[2], shape[3] = win.k_h, win.k_w, in_channels, out_channels
    return _check_dense(a, name, dtype, 4, shape)


cdef int _check_vector(cnp.ndarray a, str name, fc_dtype dtype, int64_t size) except -1:
    """A dense 1-D array of `size` elements (_check_dense)."""
    return _check_dense(a, name, dtype, 1, &size)


cdef void _view(cnp.ndarray a, fc_view *v):
    """An NHWC-ordered 4-D array as an fc_view (strides in elements)."""
    cdef int64_t item = cnp.PyArray_ITEMSIZE(a)
    v.data = cnp.PyArray_DATA(a)
    v.n, v.h, v.w, v.c = a.shape[0], a.shape[1], a.shape[2], a.shape[3]
    v.sn, v.sh, v.sw, v.sc = (a.strides[0] // item, a.strides[1] // item,
                              a.strides[2] // item, a.strides[3] // item)


cdef int _window(win, fc_window *w) except -1:
    w.k_h, w.k_w = win.k_h, win.k_w
    w.stride_h, w.stride_w = win.stride_h, win.stride_w
    w.dil_h, w.dil_w = win.dil_h, win.dil_w
    w.pad_top, w.pad_left = win.pad_top, win.pad_left
    if min(w.k_h, w.k_w, w.stride_h, w.stride_w, w.dil_h, w.dil_w) < 1:
        raise ValueError("internal: window sizes, strides and dilations must be >= 1")
    if w.pad_top < 0 or w.pad_left < 0:
        raise ValueError("internal: padding must be >= 0")
    return 0


cdef int _check(fc_status status) except -1:
    if status == FC_ERR_NOMEM:
        raise MemoryError("fastconv: could not allocate the kernel workspace")
    if status != FC_OK:
        raise ValueError("fastconv: the C kernels rejected the arguments (internal error)")
    return 0


# bytes: the alignment of the kernels' own packing buffers (fc_alloc)
cdef enum:
    _PACK_ALIGN = 64


cdef class PackedFilters:
    """Filters packed once by ConvDesc.pack for one algorithm and ISA, in memory this
    object owns; what run() checks before handing them to the C code."""

    cdef fc_conv_packed packed
    cdef object buffer            # the owner of the packed bytes
    cdef readonly object key      # (dtype code, k_h, k_w, groups, in_channels, out_channels)
    cdef readonly int algorithm
    cdef readonly Py_ssize_t nbytes

    def __cinit__(self):
        self.packed.im2col = self.packed.winograd = self.packed.grouped = NULL
        self.packed.im2col_nonfinite = 0

    @property
    def isa(self):
        return fc_isa_name(self.packed.isa).decode()


cdef class ConvDesc:
    """The C descriptor of one resolved convolution (fc_conv_desc: window, groups,
    activation; and the algorithm), made once per argument signature and cached by the
    Python layer; run() is the one C call, choice() the algorithm "auto" picks."""

    cdef fc_conv_desc desc
    cdef fc_algorithm algorithm
    cdef bint input_gradient

    def __init__(self, win, int64_t groups, int activation, int algorithm,
                 bint input_gradient=False):
        """input_gradient: run() computes the gradient of this convolution with respect to
        its input (conv2d_backprop_input, conv2d_transpose) instead of the convolution."""
        self.input_gradient = input_gradient
        _window(win, &self.desc.win)
        if groups < 0:   # 0: a problem without channels, whose empty result never runs
            raise ValueError(f"internal: groups must be >= 0, got {groups}")
        if (activation not in ACTIVATION_CODES.values()
                or algorithm not in ALGORITHM_CODES.values()):
            raise ValueError(f"internal: unknown activation {activation} or "
                             f"algorithm {algorithm}")
        self.desc.groups = groups
        self.desc.activation = <fc_activation>activation
        self.algorithm = <fc_algorithm>algorithm

    def choice(self, x_shape, y_shape, bint float64, bint prepacked=False):
        """The algorithm code this convolution runs for NHWC-ordered input and output shapes:
        its own, or what "auto" picks with the active ISA for that dtype (prepacked: with
        weights packed once, fastconv.Conv2D's choice)."""
        cdef fc_view xv, yv
        if self.algorithm != FC_ALGO_AUTO:
            return <int>self.algorithm
        xv.data = yv.data = NULL
        xv.n, xv.h, xv.w, xv.c = x_shape
        yv.n, yv.h, yv.w, yv.c = y_shape
        xv.sc = yv.sc = 1   # dense NHWC: only the shapes matter to the choice
        xv.sw, yv.sw = xv.c, yv.c
        xv.sh, yv.sh = xv.w * xv.c, yv.w * yv.c
        xv.sn, yv.sn = xv.h * xv.sh, yv.h * yv.sh
        return <int>fc_conv2d_choose(FC_FLOAT64 if float64 else FC_FLOAT32, &self.desc, &xv,
                                     &yv, prepacked)

    def pack(self, cnp.ndarray filters not None, int64_t in_channels, int algorithm, isa):
        """The dense HWIO filters [k_h, k_w, in_channels / groups, out_C] packed once for
        `algorithm` (a code other than auto) with ISA `isa` (a name): a PackedFilters for
        run(), or None where that algorithm reads the filters as they are."""
        cdef fc_dtype dt = _dtype(filters)
        cdef int64_t groups = self.desc.groups
        cdef int64_t out_c
        cdef size_t nbytes
        cdef int nonfinite = 0
        cdef fc_status status
        cdef PackedFilters p
        cdef void *dst
        cdef const void *src
        if self.input_gradient or algorithm == ALGORITHM_CODES["auto"] \
                or algorithm not in ALGORITHM_CODES.values():
            raise ValueError(f"internal: cannot pack for algorithm {algorithm} of this kernel")
        isa = ISA_ALIASES.get(isa, isa)
        if isa not in ISA_CODES or ISA_CODES[isa] > <int>fc_detected_isa():
            raise ValueError(f"internal: ISA {isa!r} is not one of {isa_names()}")
        if groups < 1 or in_channels < 1 or in_channels % groups:
            raise ValueError(f"internal: {in_channels} input channels do not fit "
                             f"{groups} group(s)")
        out_c = filters.shape[3] if filters.ndim == 4 else 0
        _check_hwio(filters, "filters", dt, &self.desc.win, in_channels // groups, out_c)
        nbytes = fc_conv2d_packed_size(dt, &self.desc, <fc_algorithm>algorithm,
                                       <fc_isa>ISA_CODES[isa], in_channels, out_c)
        if nbytes == 0:
            return None
        p = PackedFilters()
        p.buffer = np.empty(nbytes + _PACK_ALIGN, np.uint8)
        dst = cnp.PyArray_DATA(p.buffer)
        dst = <char *>dst + (<uintptr_t>(-<uintptr_t>dst)) % _PACK_ALIGN
        src = cnp.PyArray_DATA(filters)
        p.packed.isa = <fc_isa>ISA_CODES[isa]
        with nogil:
            status = fc_conv2d_pack(dt, &self.desc, <fc_algorithm>algorithm, p.packed.isa,
                                    in_channels, out_c, src, dst, &nonfinite)
        _check(status)
        if algorithm == 1:
            p.packed.grouped = dst
        elif algorithm == 2:
            p.packed.im2col = dst
            p.packed.im2col_nonfinite = nonfinite
        else:
            p.packed.winograd = dst
        p.key = (<int>dt, self.desc.win.k_h, self.desc.win.k_w, groups, in_channels, out_c)
        p.algorithm = algorithm
        p.nbytes = nbytes
        return p

    def run(self, cnp.ndarray x not None, cnp.ndarray filters not None, bias,
            cnp.ndarray y not None, PackedFilters packed=None):
        """y[...] = activation(conv(x, filters) + bias); x and y are NHWC-ordered views,
        filters dense HWIO [k_h, k_w, C / groups, out_C], bias None or dense [out_C].
        packed: None, or these filters packed by pack() for this kernel's window and
        groups and x's and y's channels (used where the algorithm that runs is the one they
        were packed for, with the ISA active then).
        With input_gradient, x is the forward result's gradient [n, out_h, out_w, out_C]
        and y the input's [n, h, w, C] (filters the same, bias [C]):
        y[...] = activation(conv2d_backprop_input(x, filters) + bias)."""
        cdef fc_view xv, yv
        cdef fc_dtype dt = _dtype(x)
        cdef const void *bias_ptr = NULL
        cdef const void *w_ptr
        cdef fc_conv_packed pk
        cdef fc_status status
        cdef int64_t groups = self.desc.groups
        _check_view_array(x, "x", dt, False)
        _check_view_array(y, "y", dt, True)
        if groups < 1:
            raise ValueError(f"internal: a convolution of {groups} groups cannot run")
        if x.shape[0] != y.shape[0] or x.shape[3] % groups or y.shape[3] % groups:
            raise ValueError(f"internal: x {(<object>x).shape} and y {(<object>y).shape} "
                             f"do not fit one convolution of {groups} group(s)")
        # HWIO [k_h, k_w, forward input channels / groups, forward output channels]
        _check_hwio(filters, "filters", dt, &self.desc.win,
                    y.shape[3] // groups if self.input_gradient else x.shape[3] // groups,
                    x.shape[3] if self.input_gradient else y.shape[3])
        w_ptr = cnp.PyArray_DATA(filters)
        if bias is not None:
            if not isinstance(bias, cnp.ndarray):
                raise TypeError(f"internal: bias must be None or an ndarray, got {type(bias)}")
            _check_vector(bias, "bias", dt, y.shape[3])
            bias_ptr = cnp.PyArray_DATA(<cnp.ndarray>bias)
        if packed is not None:
            if self.input_gradient:
                raise ValueError("internal: packed filters are for the forward convolution")
            if packed.key != (<int>dt, self.desc.win.k_h, self.desc.win.k_w, groups,
                              x.shape[3], y.shape[3]):
                raise ValueError(f"internal: filters packed for {packed.key} do not fit this call")
            pk = packed.packed   # a copy: the C call reads no Python object
        _view(x, &xv)
        _view(y, &yv)
        with nogil:
            if self.input_gradient:
                status = fc_conv2d_backprop_input(dt, &self.desc, &xv, w_ptr, bias_ptr, &yv)
            elif packed is not None:
                status = fc_conv2d_prepacked(dt, &self.desc, self.algorithm, &pk, &xv, w_ptr,
                                             bias_ptr, &yv)
            else:
                status = fc_conv2d(dt, &self.desc, self.algorithm, &xv, w_ptr, bias_ptr, &yv)
        _check(status)


def winograd_applies(win, int64_t groups):
    """Whether algorithm "winograd" can run a convolution with this window and groups: the C
    rule (fc_winograd_applies), the one the kernels enforce, asked instead of repeated."""
    cdef fc_conv_desc d
    _window(win, &d.win)
    d.groups = groups
    d.activation = FC_ACT_NONE
    return bool(fc_winograd_applies(&d))


cdef class BackpropFilterKernel:
    """One resolved filter gradient (window, groups); run() is the one C call."""

    cdef fc_conv_desc desc

    def __init__(self, win, int64_t groups):
        _window(win, &self.desc.win)
        if groups < 1:
            raise ValueError(f"internal: groups must be >= 1, got {groups}")
        self.desc.groups = groups
        self.desc.activation = FC_ACT_NONE

    def run(self, cnp.ndarray x not None, cnp.ndarray dy not None, cnp.ndarray dw not None,
            db):
        """dw[...] = the gradient of conv2d with respect to its filters, db[...] = dy summed
        over batch and pixels (db may be None); x and dy are NHWC-ordered views, dw dense HWIO
        [k_h, k_w, C / groups, out_C], db dense [out_C]."""
        cdef fc_view xv, dyv
        cdef fc_dtype dt = _dtype(x)
        cdef void *db_ptr = NULL
        cdef fc_status status
        cdef int64_t groups = self.desc.groups
        _check_view_array(x, "x", dt, False)
        _check_view_array(dy, "dy", dt, False)
        if x.shape[0] != dy.shape[0] or x.shape[3] % groups or dy.shape[3] % groups:
            raise ValueError(f"internal: x {(<object>x).shape} and dy {(<object>dy).shape} "
                             f"do not fit one convolution of {groups} group(s)")
        _check_hwio(dw, "dw", dt, &self.desc.win, x.shape[3] // groups, dy.shape[3])
        if not cnp.PyArray_ISWRITEABLE(dw):
            raise ValueError("internal: dw is not writeable")
        if db is not None:
            if not isinstance(db, cnp.ndarray):
                raise TypeError(f"internal: db must be None or an ndarray, got {type(db)}")
            _check_vector(db, "db", dt, dy.shape[3])
            if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>db):
                raise ValueError("internal: db is not writeable")
            db_ptr = cnp.PyArray_DATA(<cnp.ndarray>db)
        _view(x, &xv)
        _view(dy, &dyv)
        with nogil:
            status = fc_conv2d_backprop_filter(dt, &self.desc, &xv, &dyv,
                                               cnp.PyArray_DATA(dw), db_ptr)
        _check(status)


cdef int _check_same_shape(cnp.ndarray a, cnp.ndarray b, str what) except -1:
    if not cnp.PyArray_SAMESHAPE(a, b):
        raise ValueError(f"internal: {what} {(<object>a).shape} and {(<object>b).shape} differ")
    return 0


cdef int _check_batch_channels(cnp.ndarray x, cnp.ndarray y) except -1:
    if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        raise ValueError(f"internal: x {(<object>x).shape} and y {(<object>y).shape} "
                         "differ in batch or channels")
    return 0


cdef class PoolKernel:
    """One resolved pooling window and kind; run() is the one C call.

    div_h, div_w: None, or float64 arrays, the average's divisor per output row and column
    (a window's is their product); None: the real cells."""

    cdef fc_window win
    cdef fc_pool_kind kind
    cdef object div_h, div_w

    def __init__(self, win, int kind, div_h=None, div_w=None):
        _window(win, &self.win)
        if kind not in POOL_CODES.values():
            raise ValueError(f"internal: unknown pooling kind {kind}")
        self.kind = <fc_pool_kind>kind
        if (div_h is None) != (div_w is None):
            raise ValueError("internal: div_h and div_w go together")
        if div_h is not None:
            for name, div in (("div_h", div_h), ("div_w", div_w)):
                if not isinstance(div, cnp.ndarray):
                    raise TypeError(f"internal: {name} must be an ndarray")
                _check_array(div, name, FC_FLOAT64, 1)
                if not cnp.PyArray_IS_C_CONTIGUOUS(div):
                    raise ValueError(f"internal: {name} must be C-contiguous")
        self.div_h, self.div_w = div_h, div_w

    def run(self, cnp.ndarray x not None, cnp.ndarray y not None):
        """y[...] = max or average pooling of x; x and y are NHWC-ordered views."""
        cdef fc_view xv, yv
        cdef fc_dtype dt = _dtype(x)
        cdef fc_status status
        cdef const double *dh = NULL
        cdef const double *dw = NULL
        _check_view_array(x, "x", dt, False)
        _check_view_array(y, "y", dt, True)
        _check_batch_channels(x, y)
        if self.div_h is not None:
            if self.div_h.shape[0] != y.shape[1] or self.div_w.shape[0] != y.shape[2]:
                raise ValueError("internal: the divisors do not match y's height and width")
            dh = <const double *>cnp.PyArray_DATA(<cnp.ndarray>self.div_h)
            dw = <const double *>cnp.PyArray_DATA(<cnp.ndarray>self.div_w)
        _view(x, &xv)
        _view(y, &yv)
        with nogil:
            status = fc_pool2d(dt, self.kind, &self.win, &xv, &yv, dh, dw)
        _check(status)


cdef class PoolGradKernel(PoolKernel):
    """The gradient of one resolved pooling window and kind; run() is the one C call."""

    def run(self, cnp.ndarray x not None, cnp.ndarray g not None, cnp.ndarray dx not None):
        """dx[...] = the gradient of pooling x given the output's gradient g; NHWC-ordered
        views (x: the forward input; avg reads only its shape)."""
        cdef fc_view xv, gv, dv
        cdef fc_dtype dt = _dtype(dx)
        cdef fc_status status
        _check_view_array(x, "x", dt, False)
        _check_view_array(g, "g", dt, False)
        _check_view_array(dx, "dx", dt, True)
        _check_same_shape(x, dx, "x and dx")
        _check_batch_channels(x, g)
        _view(x, &xv)
        _view(g, &gv)
        _view(dx, &dv)
        with nogil:
            status = fc_pool2d_grad(dt, self.kind, &self.win, &xv, &gv, &dv)
        _check(status)


cdef class ArgmaxKernel:
    """Max pooling with its argmax for one resolved window; run() is the one C call."""

    cdef fc_window win
    cdef int64_t index_strides[4]

    def __init__(self, win, index_strides):
        _window(win, &self.win)
        for i in range(4):
            self.index_strides[i] = index_strides[i]

    def run(self, cnp.ndarray x not None, cnp.ndarray y not None,
            cnp.ndarray argmax not None):
        """y[...] = max pooling of x, argmax[...] = the index of each maximum's cell;
        NHWC-ordered views, argmax of int64."""
        cdef fc_view xv, yv, av
        cdef fc_dtype dt = _dtype(x)
        cdef fc_status status
        _check_view_array(x, "x", dt, False)
        _check_view_array(y, "y", dt, True)
        if argmax.dtype.num != cnp.NPY_INT64 or not argmax.dtype.isnative:
            raise TypeError(f"internal: argmax must be native int64, got {argmax.dtype}")
        _check_view_layout(argmax, "argmax", True)
        _check_same_shape(y, argmax, "y and argmax")
        _check_batch_channels(x, y)
        _view(x, &xv)
        _view(y, &yv)
        _view(argmax, &av)
        with nogil:
            status = fc_max_pool2d_argmax(dt, &self.win, &xv, &yv, &av, self.index_strides)
        _check(status)


# -- the plan cache's keys (fastconv._plans.cached) -------------------------------------------
# Built here rather than in Python: the key of conv2d's tiny-8x8 call (three arrays, eight
# arguments) cost 20,000 instructions in Python, a third of the call, and costs 4,400 here
# (valgrind).


cdef object _arg_key(value):
    """A hashable stand-in for an argument: lists become tuples, and the type is kept, so
    that True and 1 (which compare equal) never share a plan."""
    if isinstance(value, (list, tuple)):
        return tuple([_arg_key(v) for v in value])
    return (type(value), value)


def plan_key(op, tuple arrays, tuple args):
    """The cache key of a call of `op`: each array's (shape, dtype) (None for an absent
    one), then the other arguments, then their types (True and 1 are equal, with equal
    hashes: the types keep them apart). A list or tuple argument stands as the tuple of
    its items' _arg_key, its type as tuple: lists and tuples of the same items share a
    plan."""
    cdef list key = [op]
    for a in arrays:
        key.append(None if a is None else (a.shape, a.dtype))
    for v in args:
        key.append(_arg_key(v) if isinstance(v, (list, tuple)) else v)
    for v in args:
        key.append(tuple if isinstance(v, (list, tuple)) else type(v))
    return tuple(key)


def empty_aligned(tuple shape, cnp.dtype dtype, int line):
    """An uninitialised C-contiguous array of `shape` and the native `dtype` (a built-in
    one), its data on a `line`-byte boundary (a power of two): a view into a byte buffer
    `line` bytes longer. Made with NumPy's C API: the same view made in Python (np.empty,
    the address, a slice, a reshape) took 14,000 instructions, a fifth of a
    kitten-avgpool-3x3s3 call, and takes 2,700 here (valgrind). A shape no buffer can
    hold is handed to np.empty, which raises NumPy's own error for it."""
    cdef cnp.npy_intp dims[cnp.NPY_MAXDIMS]
    cdef cnp.npy_intp nbytes = dtype.itemsize
    cdef int ndim = len(shape)
    cdef char *data
    if ndim > cnp.NPY_MAXDIMS or not cnp.PyDataType_ISNOTSWAPPED(dtype) or line < 1:
        raise ValueError(f"internal: cannot allocate {shape} of {dtype} on {line} bytes")
    # the most bytes the result may have (Cython reads PTRDIFF_MAX as an int: the cast)
    cdef cnp.npy_intp room = <cnp.npy_intp>PTRDIFF_MAX - line
    for i in range(ndim):
        dims[i] = shape[i]
        if dims[i] < 0 or (dims[i] > 0 and nbytes > room // dims[i]):
            return np.empty(shape, dtype)
        nbytes *= dims[i]
    nbytes += line
    buffer = cnp.PyArray_EMPTY(1, &nbytes, cnp.NPY_UINT8, 0)
    data = <char *>cnp.PyArray_DATA(buffer)
    data += (<uintptr_t>(-<uintptr_t>data)) % line
    view = cnp.PyArray_New(np.ndarray, ndim, dims, dtype.type_num, NULL, data, 0,
                           cnp.NPY_ARRAY_CARRAY, None)
    cnp.set_array_base(view, buffer)
    return view


def set_num_threads(int n):
    fc_set_num_threads(n)


def get_num_threads():
    return fc_get_num_threads()


def set_thread_num_threads(int n):
    fc_set_thread_num_threads(n)


def thread_num_threads():
    return fc_thread_num_threads()


def cpus_available():
    return fc_cpus_available()


def have_openmp():
    return bool(fc_have_openmp())


def parallel_stats():
    """The parallel layer's contention state: the thread cap in force now (0: none), calls
    judged contended, calls run on several threads (since the process started)."""
    cdef int cap
    cdef int64_t contended, parallel
    fc_parallel_stats(&cap, &contended, &parallel)
    return {"cap": cap, "contended_calls": contended, "parallel_calls": parallel}


def parallel_observe(int threads, double wall, double cpu):
    """Feeds the contention rule one call's cost (wall seconds, summed CPU seconds of its
    threads) as a call on `threads` threads would: for tests of the rule."""
    fc_parallel_observe(threads, wall, cpu)


def isa_names():
    """The ISAs this CPU can run, lowest first."""
    return [name for name, code in ISA_CODES.items() if code <= <int>fc_detected_isa()]


def get_isa():
    return fc_isa_name(fc_get_isa()).decode()


def set_isa(name):
    """Run the kernels of a lower ISA than detected (tests and benchmarks); "scalar" is an
    old name of "baseline"."""
    name = ISA_ALIASES.get(name, name)
    if name not in ISA_CODES or fc_set_isa(<fc_isa>ISA_CODES[name]) != FC_OK:
        raise ValueError(f"ISA must be one of {isa_names()} on this CPU, got {name!r}")


def gemm_blocking(dtype):
    """The active ISA's GEMM blocking for "float32" or "float64": MR, NR, MC, panel bytes."""
    cdef int mr, nr, mc, panel
    fc_gemm_blocking(FC_FLOAT64 if dtype == "float64" else FC_FLOAT32, &mr, &nr, &mc, &panel)
    return {"MR": mr, "NR": nr, "MC": mc, "panel_bytes": panel}
