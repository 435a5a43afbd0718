// CTorch: the flat C interface over libtorch. The only C++ in Contour lives behind it.
//
// Conventions
// - A `ct_tensor` is an opaque, owned handle (a heap at::Tensor); free it with ct_free.
// - Functions that can fail return `ct_status` (0 = ok, non-zero = error) and write results
//   through out-parameters; ct_last_error() then holds libtorch's message for this thread.
//   No C++ exception ever crosses this boundary.
// - Optional tensor arguments accept NULL.
// - Every entry point is noexcept. Functions returning a plain value report failure with an
//   error value (documented beside them; -1 for ints) and set ct_last_error().
// - Modes are the named enums below. dtype codes (ct_scalar_type, c10::ScalarType values) and
//   devices (type + index) are validated on entry: an unknown one is an error naming it.
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
#define CT_NOEXCEPT noexcept
#else
#define CT_NOEXCEPT
#endif

// In C++ the enums name C's underlying type (unsigned int) explicitly: a code outside the named values,
// which the entry points validate, is then a value of the type rather than undefined behaviour
// (UBSan's enum check, `make check-sanitizers`). C and Swift see the same type as before.
#ifdef __cplusplus
#define CT_ENUM_BASE : unsigned int
#else
#define CT_ENUM_BASE
#endif

typedef struct ct_tensor_s *ct_tensor;
typedef struct ct_generator_s *ct_generator;
typedef int ct_status;

/// Element types: c10::ScalarType codes, only those Contour supports.
typedef enum CT_ENUM_BASE {
  CT_UINT8 = 0, CT_INT8 = 1, CT_INT16 = 2, CT_INT32 = 3, CT_INT64 = 4, CT_FLOAT16 = 5,
  CT_FLOAT32 = 6, CT_FLOAT64 = 7, CT_BOOL = 11, CT_BFLOAT16 = 15
} ct_scalar_type;

/// With an index: 0 for the CPU (-1 is accepted too), 0… for CUDA devices.
typedef enum CT_ENUM_BASE { CT_DEVICE_CPU = 0, CT_DEVICE_CUDA = 1 } ct_device_type;

typedef enum CT_ENUM_BASE { CT_RANDOM_UNIFORM = 0, CT_RANDOM_NORMAL = 1, CT_RANDOM_INTEGERS = 2 } ct_random_kind;
typedef enum CT_ENUM_BASE { CT_SCATTER_REPLACE = 0, CT_SCATTER_ADD = 1 } ct_scatter_mode;
typedef enum CT_ENUM_BASE { CT_INDEX_MAX = 0, CT_INDEX_MIN = 1, CT_INDEX_ARGMAX = 2, CT_INDEX_ARGMIN = 3 } ct_index_reduction;
typedef enum CT_ENUM_BASE { CT_POOL_MAX = 0, CT_POOL_AVG = 1 } ct_pool_kind;
/// LINEAR is linear, bilinear or trilinear by the input's rank.
typedef enum CT_ENUM_BASE { CT_INTERPOLATE_NEAREST = 0, CT_INTERPOLATE_LINEAR = 1, CT_INTERPOLATE_NEAREST_EXACT = 2 } ct_interpolation;
typedef enum CT_ENUM_BASE { CT_PAD_CONSTANT = 0, CT_PAD_REFLECT = 1, CT_PAD_REPLICATE = 2, CT_PAD_CIRCULAR = 3 } ct_pad_mode;
/// Loss reductions (the values of at::Reduction).
typedef enum CT_ENUM_BASE { CT_REDUCTION_NONE = 0, CT_REDUCTION_MEAN = 1, CT_REDUCTION_SUM = 2 } ct_reduction;

// ---- errors, library, devices -----------------------------------------------------------
const char *ct_last_error(void) CT_NOEXCEPT;
const char *ct_torch_version(void) CT_NOEXCEPT;
/// Tries once to load libtorch_cuda from libtorch_cpu's folder; returns 1 if CUDA is usable.
int ct_cuda_init(void) CT_NOEXCEPT;
/// Why CUDA is unavailable (empty when available).
const char *ct_cuda_status(void) CT_NOEXCEPT;
int ct_cuda_device_count(void) CT_NOEXCEPT;
ct_status ct_cuda_synchronize(void) CT_NOEXCEPT;
/// -1 on error.
int ct_get_num_threads(void) CT_NOEXCEPT;
ct_status ct_set_num_threads(int n) CT_NOEXCEPT;
ct_status ct_manual_seed(uint64_t seed) CT_NOEXCEPT;
ct_status ct_set_deterministic(int enabled) CT_NOEXCEPT;
/// -1 on error.
int ct_is_grad_enabled(void) CT_NOEXCEPT;
/// Sets grad mode for this thread; returns the previous mode (-1 on error).
int ct_set_grad_enabled(int enabled) CT_NOEXCEPT;

// ---- generators -------------------------------------------------------------------------
ct_status ct_generator_new(uint64_t seed, ct_device_type device_type, int device_index, ct_generator *out) CT_NOEXCEPT;
void ct_generator_free(ct_generator g) CT_NOEXCEPT;
ct_status ct_generator_get_state(ct_generator g, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_generator_set_state(ct_generator g, ct_tensor state) CT_NOEXCEPT;
/// The default CPU generator's state (a uint8 tensor), for checkpoints.
ct_status ct_default_cpu_generator_get_state(ct_tensor *out) CT_NOEXCEPT;
ct_status ct_default_cpu_generator_set_state(ct_tensor state) CT_NOEXCEPT;

// ---- lifecycle, metadata ----------------------------------------------------------------
void ct_free(ct_tensor t) CT_NOEXCEPT;
/// A new handle to the same tensor (shares storage and autograd identity).
ct_status ct_alias(ct_tensor t, ct_tensor *out) CT_NOEXCEPT;
// Metadata: -1 on error (a NULL or undefined handle).
int ct_ndim(ct_tensor t) CT_NOEXCEPT;
ct_status ct_shape(ct_tensor t, int64_t *out) CT_NOEXCEPT;  // out has ct_ndim entries
ct_status ct_strides(ct_tensor t, int64_t *out) CT_NOEXCEPT;
int64_t ct_numel(ct_tensor t) CT_NOEXCEPT;
/// A ct_scalar_type code, or -1 on error.
int ct_dtype(ct_tensor t) CT_NOEXCEPT;
ct_status ct_device(ct_tensor t, ct_device_type *type, int *index) CT_NOEXCEPT;
int ct_is_contiguous(ct_tensor t) CT_NOEXCEPT;
/// 0 for NULL or an undefined tensor (never an error).
int ct_defined(ct_tensor t) CT_NOEXCEPT;
/// Same underlying TensorImpl (autograd identity).
int ct_same(ct_tensor a, ct_tensor b) CT_NOEXCEPT;

// ---- creation ---------------------------------------------------------------------------
/// Copies `nbytes` from `data` (C-contiguous, of `dtype`) into a new CPU tensor.
ct_status ct_from_data(const void *data, size_t nbytes, const int64_t *shape, int ndim, ct_scalar_type dtype, ct_tensor *out) CT_NOEXCEPT;
/// Copies the tensor's elements, converted to `dtype`, into `dst` (C order) as CPU data.
ct_status ct_copy_data(ct_tensor t, ct_scalar_type dtype, void *dst, size_t nbytes) CT_NOEXCEPT;
ct_status ct_full(const int64_t *shape, int ndim, double value, ct_scalar_type dtype, ct_device_type dev_type, int dev_index, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_arange(double start, double end, double step, ct_scalar_type dtype, ct_device_type dev_type, int dev_index, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_linspace(double start, double end, int64_t steps, ct_scalar_type dtype, ct_device_type dev_type, int dev_index, ct_tensor *out) CT_NOEXCEPT;
/// Uniform on [0,1), standard normal, or integers in [low, high).
ct_status ct_random(ct_random_kind kind, const int64_t *shape, int ndim, double low, double high,
                    ct_scalar_type dtype, ct_device_type dev_type, int dev_index, ct_generator gen, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_eye(int64_t n, ct_scalar_type dtype, ct_device_type dev_type, int dev_index, ct_tensor *out) CT_NOEXCEPT;

// ---- conversion and views ---------------------------------------------------------------
ct_status ct_to(ct_tensor t, ct_scalar_type dtype, ct_device_type dev_type, int dev_index, int copy, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_contiguous(ct_tensor t, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_clone(ct_tensor t, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_reshape(ct_tensor t, const int64_t *shape, int ndim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_permute(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out) CT_NOEXCEPT;
/// A view of `t`'s storage with explicit sizes, strides and storage offset (bounds checked by libtorch).
ct_status ct_as_strided(ct_tensor t, const int64_t *size, const int64_t *stride, int ndim, int64_t offset, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_expand(ct_tensor t, const int64_t *shape, int ndim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_squeeze(ct_tensor t, int64_t dim, int all, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_flip(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_roll(ct_tensor t, const int64_t *shifts, const int64_t *dims, int n, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_repeat(ct_tensor t, const int64_t *repeats, int n, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_unfold(ct_tensor t, int64_t dim, int64_t size, int64_t step, ct_tensor *out) CT_NOEXCEPT;
/// F.unfold / F.fold with stride 1 and dilation 1: (N, C, H, W) → (N, C·k², L), and back (summing
/// overlaps) to (N, C, height, width).
ct_status ct_im2col(ct_tensor t, int64_t kernel, int64_t padding, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_col2im(ct_tensor t, int64_t height, int64_t width, int64_t kernel, int64_t padding, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_cat(const ct_tensor *ts, int n, int64_t dim, int stack, ct_tensor *out) CT_NOEXCEPT;
/// Splits into pieces of `size` along `dim` (chunks = 0) or into `size` chunks (chunks = 1).
/// Writes up to `cap` handles to `outs` and the piece count to `count`.
ct_status ct_split(ct_tensor t, int64_t size, int64_t dim, int chunks, ct_tensor *outs, int cap, int *count) CT_NOEXCEPT;

// ---- element-wise -----------------------------------------------------------------------
typedef enum CT_ENUM_BASE {
  CT_NEG = 0, CT_ABS, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_SIN, CT_COS, CT_TANH, CT_SIGMOID,
  CT_RELU, CT_GELU, CT_SILU, CT_FLOOR, CT_CEIL, CT_ROUND, CT_SIGN, CT_ISFINITE, CT_ISNAN,
  CT_LOGICAL_NOT, CT_SQUARE, CT_RECIPROCAL, CT_LOG1P, CT_EXPM1, CT_ERF, CT_GELU_TANH, CT_LOG_SIGMOID,
  CT_SOFTPLUS
} ct_unary_op;
ct_status ct_unary(ct_unary_op op, ct_tensor a, ct_tensor *out) CT_NOEXCEPT;
typedef enum CT_ENUM_BASE {
  CT_ADD = 0, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_EQ, CT_NE, CT_LT, CT_LE,
  CT_GT, CT_GE, CT_AND, CT_OR, CT_XOR, CT_REMAINDER, CT_ATAN2, CT_FLOOR_DIVIDE
} ct_binary_op;
ct_status ct_binary(ct_binary_op op, ct_tensor a, ct_tensor b, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_binary_scalar(ct_binary_op op, ct_tensor a, double s, ct_tensor *out) CT_NOEXCEPT;
/// s OP a (for scalar on the left of a non-commutative op).
ct_status ct_scalar_binary(ct_binary_op op, double s, ct_tensor a, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out) CT_NOEXCEPT;
/// NaN bounds mean "no bound".
ct_status ct_clamp(ct_tensor a, double lo, double hi, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_leaky_relu(ct_tensor a, double slope, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_masked_fill(ct_tensor a, ct_tensor mask, double value, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_masked_select(ct_tensor a, ct_tensor mask, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_gather(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor *out) CT_NOEXCEPT;
/// `src` may be NULL, then `value` is scattered.
ct_status ct_scatter(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor src, double value, ct_scatter_mode mode, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_one_hot(ct_tensor labels, int64_t classes, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_cumsum(ct_tensor a, int64_t dim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_sort(ct_tensor a, int64_t dim, int descending, ct_tensor *values, ct_tensor *indices) CT_NOEXCEPT;
ct_status ct_topk(ct_tensor a, int64_t k, int64_t dim, int largest, ct_tensor *values, ct_tensor *indices) CT_NOEXCEPT;
ct_status ct_nonzero(ct_tensor a, ct_tensor *out) CT_NOEXCEPT;

// ---- in place (for optimisers and buffers; run under no-grad) ---------------------------
ct_status ct_inplace_binary(ct_binary_op op, ct_tensor a, ct_tensor b, double alpha) CT_NOEXCEPT;  // a OP= alpha*b for add/sub, a OP= b otherwise
ct_status ct_inplace_scalar(ct_binary_op op, ct_tensor a, double s) CT_NOEXCEPT;
ct_status ct_addcmul_(ct_tensor a, ct_tensor t1, ct_tensor t2, double value) CT_NOEXCEPT;
ct_status ct_addcdiv_(ct_tensor a, ct_tensor t1, ct_tensor t2, double value) CT_NOEXCEPT;
ct_status ct_lerp_(ct_tensor a, ct_tensor end, double weight) CT_NOEXCEPT;
/// One Adam/AdamW step over n parameters with ATen's multi-tensor kernels (PyTorch's foreach
/// Adam): steps[i] is parameter i's step count after this step; max_exp_avg_sqs NULL unless amsgrad.
ct_status ct_adam_step(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                       const ct_tensor *exp_avg_sqs, const ct_tensor *max_exp_avg_sqs, const double *steps, int n,
                       double lr, double beta1, double beta2, double eps, double weight_decay, int decoupled) CT_NOEXCEPT;
ct_status ct_copy_(ct_tensor dst, ct_tensor src) CT_NOEXCEPT;
ct_status ct_fill_(ct_tensor a, double value) CT_NOEXCEPT;
ct_status ct_zero_(ct_tensor a) CT_NOEXCEPT;
/// relu_: autograd keeps the result, so it is safe on any fresh output whose op does not need it.
ct_status ct_relu_(ct_tensor a) CT_NOEXCEPT;
/// Replaces the tensor's data in place, keeping its identity (PyTorch's `param.data = x`).
ct_status ct_set_data(ct_tensor a, ct_tensor data) CT_NOEXCEPT;

// ---- reductions -------------------------------------------------------------------------
typedef enum CT_ENUM_BASE { CT_SUM = 0, CT_MEAN, CT_PROD, CT_AMAX, CT_AMIN, CT_STD, CT_VAR, CT_LOGSUMEXP, CT_ALL, CT_ANY } ct_reduce_op;
/// ndims = 0 reduces over every dimension (for CT_STD/CT_VAR the correction is 1, as in PyTorch).
ct_status ct_reduce(ct_reduce_op op, ct_tensor a, const int64_t *dims, int ndims, int keepdim, ct_tensor *out) CT_NOEXCEPT;
/// values/indices may be NULL when not wanted (indices is required for ARGMAX/ARGMIN).
ct_status ct_reduce_index(ct_index_reduction kind, ct_tensor a, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices) CT_NOEXCEPT;
ct_status ct_vector_norm(ct_tensor a, double ord, const int64_t *dims, int ndims, int keepdim, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_item(ct_tensor a, double *out) CT_NOEXCEPT;

// ---- linear algebra, neural-network functions --------------------------------------------
ct_status ct_matmul(ct_tensor a, ct_tensor b, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_linear(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor *out) CT_NOEXCEPT;
/// N-d convolution (1, 2 or 3 spatial dims from the weight); transposed uses output_padding.
ct_status ct_convolution(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t *stride, const int64_t *padding,
                         const int64_t *dilation, int transposed, const int64_t *output_padding, int64_t groups,
                         int spatial, ct_tensor *out) CT_NOEXCEPT;
/// count_include_pad applies to CT_POOL_AVG. spatial = 1, 2 or 3.
ct_status ct_pool(ct_pool_kind kind, ct_tensor x, int spatial, const int64_t *kernel, const int64_t *stride,
                  const int64_t *padding, const int64_t *dilation, int ceil_mode, int count_include_pad,
                  ct_tensor *out) CT_NOEXCEPT;
ct_status ct_adaptive_pool(ct_pool_kind kind, ct_tensor x, int spatial, const int64_t *output_size, ct_tensor *out) CT_NOEXCEPT;
/// sizes or scales (scales used if sizes NULL).
ct_status ct_interpolate(ct_tensor x, ct_interpolation mode, const int64_t *sizes, const double *scales, int spatial,
                         int align_corners, ct_tensor *out) CT_NOEXCEPT;
/// value is used by CT_PAD_CONSTANT only.
ct_status ct_pad(ct_tensor x, const int64_t *pad, int n, ct_pad_mode mode, double value, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_softmax(ct_tensor x, int64_t dim, int log, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_dropout(ct_tensor x, double p, int train, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                        int training, double momentum, double eps, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_instance_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                           int use_input_stats, double momentum, double eps, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_layer_norm(ct_tensor x, const int64_t *shape, int n, ct_tensor w, ct_tensor b, double eps, ct_tensor *out) CT_NOEXCEPT;
/// weight may be NULL. ignore_index < -1e9 means none.
ct_status ct_cross_entropy(ct_tensor logits, ct_tensor target, ct_tensor weight, ct_reduction reduction,
                           int64_t ignore_index, double label_smoothing, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_bce_with_logits(ct_tensor logits, ct_tensor target, ct_tensor weight, ct_tensor pos_weight,
                             ct_reduction reduction, ct_tensor *out) CT_NOEXCEPT;

// ---- autograd ---------------------------------------------------------------------------
ct_status ct_set_requires_grad(ct_tensor t, int flag) CT_NOEXCEPT;
/// -1 on error.
int ct_requires_grad(ct_tensor t) CT_NOEXCEPT;
int ct_is_leaf(ct_tensor t) CT_NOEXCEPT;
ct_status ct_backward(ct_tensor t, ct_tensor grad, int retain_graph, int create_graph) CT_NOEXCEPT;
/// *out = NULL when the tensor has no gradient.
ct_status ct_grad(ct_tensor t, ct_tensor *out) CT_NOEXCEPT;
ct_status ct_set_grad(ct_tensor t, ct_tensor grad) CT_NOEXCEPT;  // grad NULL clears it
ct_status ct_detach(ct_tensor t, ct_tensor *out) CT_NOEXCEPT;
/// torch::autograd::grad. grad_outputs may be NULL. outs[i] = NULL for unused inputs (allow_unused).
ct_status ct_autograd_grad(const ct_tensor *outputs, int n_out, const ct_tensor *grad_outputs,
                           const ct_tensor *inputs, int n_in, int retain_graph, int create_graph,
                           int allow_unused, ct_tensor *outs) CT_NOEXCEPT;

// ---- mixed precision ------------------------------------------------------------------------
/// Enables autocast to `dtype` (CT_BFLOAT16 or CT_FLOAT16) for a device type on this thread;
/// returns the previous state for ct_autocast_exit.
ct_status ct_autocast_enter(ct_device_type dev_type, ct_scalar_type dtype, int *previous_enabled,
                            ct_scalar_type *previous_dtype) CT_NOEXCEPT;
ct_status ct_autocast_exit(ct_device_type dev_type, int previous_enabled, ct_scalar_type previous_dtype) CT_NOEXCEPT;

// ---- TorchScript ---------------------------------------------------------------------------
typedef struct ct_module_s *ct_module;
/// torch::jit::load onto a device (eval mode); free with ct_jit_free.
ct_status ct_jit_load(const char *path, int dev_type, int dev_index, ct_module *out) CT_NOEXCEPT;
void ct_jit_free(ct_module m) CT_NOEXCEPT;
/// The number of arguments `forward` takes besides self; -1 on error.
int ct_jit_forward_arguments(ct_module m) CT_NOEXCEPT;
/// forward(inputs…) under no-grad; a NULL input is passed as None. The result must be a tensor,
/// or a tuple/list whose first element is one (that element is returned).
ct_status ct_jit_forward(ct_module m, const ct_tensor *inputs, int n, ct_tensor *out) CT_NOEXCEPT;

// ---- distributed (c10d) ------------------------------------------------------------------
/// A joined process group: a TCPStore rendezvous (hosted by rank 0) and a Gloo or NCCL backend.
typedef struct ct_process_group_s *ct_process_group;
typedef enum CT_ENUM_BASE { CT_COLLECTIVE_SUM = 0, CT_COLLECTIVE_AVG = 1, CT_COLLECTIVE_MIN = 2, CT_COLLECTIVE_MAX = 3 } ct_collective_op;
/// Gloo reduces CPU tensors; NCCL reduces CUDA tensors and needs libcontour_nccl.so (`make nccl`).
typedef enum CT_ENUM_BASE { CT_DIST_GLOO = 0, CT_DIST_NCCL = 1 } ct_dist_backend;
/// Joins `world_size` processes at master_addr:master_port (rank 0 listens there when `host_store`;
/// 0: a store another process hosts, like torchrun's agent); waits at most `timeout_ms` for the
/// others, and every later collective waits at most that long too. Keys live under `prefix`.
/// A port in use, an unreachable master or a timeout is an error naming them. NCCL binds the
/// group to CUDA device `device_index` (ignored for Gloo); without CUDA or the plugin it is an
/// error saying so (ct_dist_nccl_status), raised before the rendezvous.
ct_status ct_dist_init(const char *master_addr, int master_port, int rank, int world_size, int64_t timeout_ms,
                       int host_store, const char *prefix, ct_dist_backend backend, int device_index,
                       ct_process_group *out) CT_NOEXCEPT;
void ct_dist_free(ct_process_group pg) CT_NOEXCEPT;
/// -1 on error.
int ct_dist_rank(ct_process_group pg) CT_NOEXCEPT;
int ct_dist_world_size(ct_process_group pg) CT_NOEXCEPT;
/// In place on a contiguous tensor (CPU for Gloo, CUDA for NCCL); AVG is the sum divided by the
/// world size (floating only).
/// A failed or timed-out collective is an error naming the rank that stopped, when one did.
ct_status ct_dist_allreduce(ct_process_group pg, ct_tensor tensor, ct_collective_op op) CT_NOEXCEPT;
ct_status ct_dist_broadcast(ct_process_group pg, ct_tensor tensor, int root) CT_NOEXCEPT;
/// Every rank's `tensor` stacked along a new first dimension (world_size, …).
ct_status ct_dist_allgather(ct_process_group pg, ct_tensor tensor, ct_tensor *out) CT_NOEXCEPT;
/// A new tensor holding the sum of `tensor` over the ranks, differentiable: its backward sums the
/// incoming gradient over the ranks (every rank must run that backward too). The group must
/// outlive the graph. Gloo stages CUDA tensors through the CPU.
ct_status ct_dist_allreduce_sum_autograd(ct_process_group pg, ct_tensor tensor, ct_tensor *out) CT_NOEXCEPT;
/// Gradient averaging overlapped with backward (DDP's reducer): hooks on `params` copy each
/// gradient into flat buckets of about `bucket_bytes` (reverse parameter order, one dtype each) and
/// start a bucket's all-reduce as soon as it is complete. Arm before one backward; `finish` after
/// it starts the rest (missing gradients count as zeros), waits, and sets every parameter's .grad
/// to the average over the ranks. Hooks do nothing unless armed. The group must outlive it; the
/// hooks stay on the parameters (inert) after free.
typedef struct ct_grad_reducer_s *ct_grad_reducer;
ct_status ct_dist_reducer_new(ct_process_group pg, const ct_tensor *params, int n, int64_t bucket_bytes,
                              ct_grad_reducer *out) CT_NOEXCEPT;
ct_status ct_dist_reducer_arm(ct_grad_reducer r) CT_NOEXCEPT;
ct_status ct_dist_reducer_finish(ct_grad_reducer r) CT_NOEXCEPT;
void ct_dist_reducer_free(ct_grad_reducer r) CT_NOEXCEPT;
ct_status ct_dist_barrier(ct_process_group pg) CT_NOEXCEPT;
/// Why the nccl backend cannot be used here (no CUDA, no plugin, a plugin for another libtorch);
/// empty when it can.
const char *ct_dist_nccl_status(void) CT_NOEXCEPT;

// ---- CUDA graphs (libcontour_cudagraph.so, `make cudagraph`) -----------------------------------
/// A recording of the kernels one piece of work launches on a CUDA device, replayed in one launch.
/// Between begin and end, run the work once (every op goes on the graph's stream, none executes);
/// replay then repeats it on the same memory: copy new inputs into the recorded input tensors, read
/// the recorded outputs. Tensors allocated while recording belong to the graph's memory pool.
typedef struct ct_cuda_graph_s *ct_cuda_graph;
/// Why CUDA graphs cannot be used here (no CUDA, no plugin, a plugin for another libtorch); empty
/// when they can.
const char *ct_cuda_graph_status(void) CT_NOEXCEPT;
ct_status ct_cuda_graph_new(ct_cuda_graph *out) CT_NOEXCEPT;
/// Starts recording on `device_index`: queued work finishes first; autocast's cache is off until end.
ct_status ct_cuda_graph_begin(ct_cuda_graph g, int device_index) CT_NOEXCEPT;
ct_status ct_cuda_graph_end(ct_cuda_graph g) CT_NOEXCEPT;
ct_status ct_cuda_graph_replay(ct_cuda_graph g) CT_NOEXCEPT;
void ct_cuda_graph_free(ct_cuda_graph g) CT_NOEXCEPT;

// ---- profiling ---------------------------------------------------------------------------------
/// libtorch's profiler (Kineto: CPU ops, and CUDA kernels where CUDA is present), as torch.profiler.
/// Starts recording every op on every thread libtorch runs; record_shapes != 0 adds input shapes.
ct_status ct_profiler_start(int record_shapes) CT_NOEXCEPT;
/// Stops recording; writes the Chrome trace (the format torch.profiler exports) to trace_path
/// unless it is NULL or empty.
ct_status ct_profiler_stop(const char *trace_path) CT_NOEXCEPT;

// ---- benchmarking ---------------------------------------------------------------------------
/// Times `n` adds of 1-element tensors inside C++ (libtorch's own dispatch cost).
ct_status ct_bench_add_loop(int64_t n, double *seconds) CT_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
