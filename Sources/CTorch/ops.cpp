// Element-wise operations, indexing, in-place updates and reductions.
#include "internal.h"

namespace {
at::Tensor unary(ct_unary_op op, const at::Tensor &a) {
  switch (op) {
    case CT_NEG: return at::neg(a);
    case CT_ABS: return at::abs(a);
    case CT_EXP: return at::exp(a);
    case CT_LOG: return at::log(a);
    case CT_SQRT: return at::sqrt(a);
    case CT_RSQRT: return at::rsqrt(a);
    case CT_SIN: return at::sin(a);
    case CT_COS: return at::cos(a);
    case CT_TANH: return at::tanh(a);
    case CT_SIGMOID: return at::sigmoid(a);
    case CT_RELU: return at::relu(a);
    case CT_GELU: return at::gelu(a);
    case CT_GELU_TANH: return at::gelu(a, "tanh");
    case CT_SILU: return at::silu(a);
    case CT_FLOOR: return at::floor(a);
    case CT_CEIL: return at::ceil(a);
    case CT_ROUND: return at::round(a);
    case CT_SIGN: return at::sign(a);
    case CT_ISFINITE: return at::isfinite(a);
    case CT_ISNAN: return at::isnan(a);
    case CT_LOGICAL_NOT: return at::logical_not(a);
    case CT_SQUARE: return at::square(a);
    case CT_RECIPROCAL: return at::reciprocal(a);
    case CT_LOG1P: return at::log1p(a);
    case CT_EXPM1: return at::expm1(a);
    case CT_ERF: return at::erf(a);
    case CT_LOG_SIGMOID: return at::log_sigmoid(a);
    case CT_SOFTPLUS: return at::softplus(a);
  }
  throw std::invalid_argument("unknown unary operation " + std::to_string(static_cast<int>(op)));
}

at::Tensor binary(ct_binary_op op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case CT_ADD: return at::add(a, b);
    case CT_SUB: return at::sub(a, b);
    case CT_MUL: return at::mul(a, b);
    case CT_DIV: return at::div(a, b);
    case CT_POW: return at::pow(a, b);
    case CT_MAXIMUM: return at::maximum(a, b);
    case CT_MINIMUM: return at::minimum(a, b);
    case CT_EQ: return at::eq(a, b);
    case CT_NE: return at::ne(a, b);
    case CT_LT: return at::lt(a, b);
    case CT_LE: return at::le(a, b);
    case CT_GT: return at::gt(a, b);
    case CT_GE: return at::ge(a, b);
    case CT_AND: return at::logical_and(a, b);
    case CT_OR: return at::logical_or(a, b);
    case CT_XOR: return at::logical_xor(a, b);
    case CT_REMAINDER: return at::remainder(a, b);
    case CT_ATAN2: return at::atan2(a, b);
    case CT_FLOOR_DIVIDE: return at::floor_divide(a, b);
  }
  throw std::invalid_argument("unknown binary operation " + std::to_string(static_cast<int>(op)));
}

at::Tensor binary_scalar(ct_binary_op op, const at::Tensor &a, const at::Scalar &s) {
  switch (op) {
    case CT_ADD: return at::add(a, s);
    case CT_SUB: return at::sub(a, s);
    case CT_MUL: return at::mul(a, s);
    case CT_DIV: return at::div(a, s);
    case CT_POW: return at::pow(a, s);
    case CT_MAXIMUM: return at::clamp_min(a, s);
    case CT_MINIMUM: return at::clamp_max(a, s);
    case CT_EQ: return at::eq(a, s);
    case CT_NE: return at::ne(a, s);
    case CT_LT: return at::lt(a, s);
    case CT_LE: return at::le(a, s);
    case CT_GT: return at::gt(a, s);
    case CT_GE: return at::ge(a, s);
    case CT_REMAINDER: return at::remainder(a, s);
    case CT_FLOOR_DIVIDE: return at::floor_divide(a, s);
    default: break;
  }
  throw std::invalid_argument("binary operation " + std::to_string(static_cast<int>(op)) + " has no tensor-scalar form");
}

// Integer tensors keep an integer scalar (so x + 1 stays int64), floats take the double.
at::Scalar scalar_for(const at::Tensor &a, double s) {
  if (at::isIntegralType(a.scalar_type(), /*includeBool=*/false) && s == static_cast<double>(static_cast<int64_t>(s)))
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}
}  // namespace

extern "C" {

ct_status ct_unary(ct_unary_op op, ct_tensor a, ct_tensor *out) noexcept { CT_OUT(unary(op, ctorch::T(a))); }
ct_status ct_binary(ct_binary_op op, ct_tensor a, ct_tensor b, ct_tensor *out) noexcept { CT_OUT(binary(op, ctorch::T(a), ctorch::T(b))); }
ct_status ct_binary_scalar(ct_binary_op op, ct_tensor a, double s, ct_tensor *out) noexcept {
  CT_OUT(binary_scalar(op, ctorch::T(a), scalar_for(ctorch::T(a), s)));
}
ct_status ct_scalar_binary(ct_binary_op op, double s, ct_tensor a, ct_tensor *out) noexcept {
  CT_GUARD({
    at::Scalar sc = scalar_for(ctorch::T(a), s);
    at::Tensor r;
    switch (op) {
      case CT_SUB: r = at::rsub(ctorch::T(a), sc); break;
      case CT_DIV: r = at::mul(at::reciprocal(ctorch::T(a)), sc); break;
      case CT_POW: r = at::pow(sc, ctorch::T(a)); break;
      default: r = binary_scalar(op, ctorch::T(a), sc);
    }
    *out = ctorch::wrap(std::move(r));
  });
}
ct_status ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out) noexcept { CT_OUT(at::where(ctorch::T(cond), ctorch::T(a), ctorch::T(b))); }
ct_status ct_clamp(ct_tensor a, double lo, double hi, ct_tensor *out) noexcept {
  CT_GUARD({
    std::optional<at::Scalar> l = std::isnan(lo) ? std::nullopt : std::optional<at::Scalar>(lo);
    std::optional<at::Scalar> h = std::isnan(hi) ? std::nullopt : std::optional<at::Scalar>(hi);
    *out = ctorch::wrap(at::clamp(ctorch::T(a), l, h));
  });
}
ct_status ct_leaky_relu(ct_tensor a, double slope, ct_tensor *out) noexcept { CT_OUT(at::leaky_relu(ctorch::T(a), slope)); }
ct_status ct_masked_fill(ct_tensor a, ct_tensor mask, double value, ct_tensor *out) noexcept {
  CT_OUT(at::masked_fill(ctorch::T(a), ctorch::T(mask), value));
}
ct_status ct_masked_select(ct_tensor a, ct_tensor mask, ct_tensor *out) noexcept { CT_OUT(at::masked_select(ctorch::T(a), ctorch::T(mask))); }
ct_status ct_gather(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor *out) noexcept { CT_OUT(at::gather(ctorch::T(a), dim, ctorch::T(index))); }
ct_status ct_scatter(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor src, double value, ct_scatter_mode mode,
                     ct_tensor *out) noexcept {
  CT_GUARD({
    at::Tensor r;
    switch (mode) {
      case CT_SCATTER_ADD:
        r = at::scatter_add(ctorch::T(a), dim, ctorch::T(index), src ? ctorch::T(src) : at::full_like(ctorch::T(index), value, ctorch::T(a).options()));
        break;
      case CT_SCATTER_REPLACE:
        r = src ? at::scatter(ctorch::T(a), dim, ctorch::T(index), ctorch::T(src)) : at::scatter(ctorch::T(a), dim, ctorch::T(index), at::Scalar(value));
        break;
      default: throw std::invalid_argument("unknown scatter mode " + std::to_string(static_cast<int>(mode)));
    }
    *out = ctorch::wrap(std::move(r));
  });
}
ct_status ct_one_hot(ct_tensor labels, int64_t classes, ct_tensor *out) noexcept { CT_OUT(at::one_hot(ctorch::T(labels), classes)); }
ct_status ct_cumsum(ct_tensor a, int64_t dim, ct_tensor *out) noexcept { CT_OUT(at::cumsum(ctorch::T(a), dim)); }
ct_status ct_sort(ct_tensor a, int64_t dim, int descending, ct_tensor *values, ct_tensor *indices) noexcept {
  CT_GUARD({
    auto r = at::sort(ctorch::T(a), /*stable=*/true, dim, descending != 0);
    if (!values || !indices) throw std::invalid_argument("output pointer is NULL");
    *values = ctorch::wrap(std::get<0>(r));
    *indices = ctorch::wrap(std::get<1>(r));
  });
}
ct_status ct_topk(ct_tensor a, int64_t k, int64_t dim, int largest, ct_tensor *values, ct_tensor *indices) noexcept {
  CT_GUARD({
    auto r = at::topk(ctorch::T(a), k, dim, largest != 0, true);
    if (!values || !indices) throw std::invalid_argument("output pointer is NULL");
    *values = ctorch::wrap(std::get<0>(r));
    *indices = ctorch::wrap(std::get<1>(r));
  });
}
ct_status ct_nonzero(ct_tensor a, ct_tensor *out) noexcept { CT_OUT(at::nonzero(ctorch::T(a))); }

// ---- in place ---------------------------------------------------------------------------------

ct_status ct_inplace_binary(ct_binary_op op, ct_tensor a, ct_tensor b, double alpha) noexcept {
  CT_GUARD({
    switch (op) {
      case CT_ADD: ctorch::T(a).add_(ctorch::T(b), alpha); break;
      case CT_SUB: ctorch::T(a).sub_(ctorch::T(b), alpha); break;
      case CT_MUL: ctorch::T(a).mul_(ctorch::T(b)); break;
      case CT_DIV: ctorch::T(a).div_(ctorch::T(b)); break;
      case CT_MAXIMUM: { at::Tensor target = ctorch::T(a); at::maximum_out(target, target, ctorch::T(b)); break; }
      case CT_MINIMUM: { at::Tensor target = ctorch::T(a); at::minimum_out(target, target, ctorch::T(b)); break; }
      default: throw std::invalid_argument("binary operation " + std::to_string(static_cast<int>(op)) + " has no in-place form");
    }
  });
}
ct_status ct_inplace_scalar(ct_binary_op op, ct_tensor a, double value) noexcept {
  CT_GUARD({
    at::Scalar s = scalar_for(ctorch::T(a), value);
    switch (op) {
      case CT_ADD: ctorch::T(a).add_(s); break;
      case CT_SUB: ctorch::T(a).sub_(s); break;
      case CT_MUL: ctorch::T(a).mul_(s); break;
      case CT_DIV: ctorch::T(a).div_(s); break;
      case CT_POW: ctorch::T(a).pow_(s); break;
      case CT_MAXIMUM: ctorch::T(a).clamp_min_(s); break;
      case CT_MINIMUM: ctorch::T(a).clamp_max_(s); break;
      default:
        throw std::invalid_argument("binary operation " + std::to_string(static_cast<int>(op)) + " has no in-place scalar form");
    }
  });
}
ct_status ct_addcmul_(ct_tensor a, ct_tensor t1, ct_tensor t2, double value) noexcept { CT_GUARD(ctorch::T(a).addcmul_(ctorch::T(t1), ctorch::T(t2), value)); }
ct_status ct_addcdiv_(ct_tensor a, ct_tensor t1, ct_tensor t2, double value) noexcept { CT_GUARD(ctorch::T(a).addcdiv_(ctorch::T(t1), ctorch::T(t2), value)); }
ct_status ct_lerp_(ct_tensor a, ct_tensor end, double weight) noexcept { CT_GUARD(ctorch::T(a).lerp_(ctorch::T(end), weight)); }
ct_status ct_copy_(ct_tensor dst, ct_tensor src) noexcept { CT_GUARD(ctorch::T(dst).copy_(ctorch::T(src))); }
ct_status ct_fill_(ct_tensor a, double value) noexcept { CT_GUARD(ctorch::T(a).fill_(value)); }
ct_status ct_zero_(ct_tensor a) noexcept { CT_GUARD(ctorch::T(a).zero_()); }
ct_status ct_relu_(ct_tensor a) noexcept { CT_GUARD(ctorch::T(a).relu_()); }
ct_status ct_set_data(ct_tensor a, ct_tensor data) noexcept { CT_GUARD(ctorch::T(a).set_data(ctorch::T(data))); }

// ---- reductions -------------------------------------------------------------------------------

ct_status ct_reduce(ct_reduce_op op, ct_tensor a, const int64_t *dims, int ndims, int keepdim, ct_tensor *out) noexcept {
  CT_GUARD({
    const at::Tensor &x = ctorch::T(a);
    bool k = keepdim != 0;
    at::OptionalIntArrayRef d = ndims ? at::OptionalIntArrayRef(ctorch::ints(dims, ndims)) : std::nullopt;
    at::Tensor r;
    switch (op) {
      case CT_SUM: r = ndims ? at::sum(x, d, k) : (k ? at::sum(x, d, k) : at::sum(x)); break;
      case CT_MEAN: r = at::mean(x, d, k); break;
      case CT_PROD: {
        r = x;
        if (ndims == 0) { r = at::prod(x); if (k) r = r.reshape(std::vector<int64_t>(x.dim(), 1)); }
        else {
          std::vector<int64_t> ds(dims, dims + ndims);
          for (auto &v : ds) v = c10::maybe_wrap_dim(v, x.dim());
          std::sort(ds.rbegin(), ds.rend());
          for (auto v : ds) r = at::prod(r, v, k);
        }
        break;
      }
      case CT_AMAX: r = at::amax(x, ndims ? ctorch::ints(dims, ndims) : at::IntArrayRef(), k); break;
      case CT_AMIN: r = at::amin(x, ndims ? ctorch::ints(dims, ndims) : at::IntArrayRef(), k); break;
      case CT_STD: r = at::std(x, d, /*correction=*/at::Scalar(1), k); break;
      case CT_VAR: r = at::var(x, d, /*correction=*/at::Scalar(1), k); break;
      case CT_LOGSUMEXP: {
        std::vector<int64_t> all;
        if (!ndims) for (int64_t i = 0; i < x.dim(); ++i) all.push_back(i);
        r = at::logsumexp(x, ndims ? ctorch::ints(dims, ndims) : at::IntArrayRef(all), k);
        break;
      }
      case CT_ALL: case CT_ANY: {
        r = x;
        if (ndims == 0) { r = op == CT_ALL ? at::all(x) : at::any(x); if (k) r = r.reshape(std::vector<int64_t>(x.dim(), 1)); }
        else r = op == CT_ALL ? at::all(x, ctorch::ints(dims, ndims), k) : at::any(x, ctorch::ints(dims, ndims), k);
        break;
      }
      default: throw std::invalid_argument("unknown reduction " + std::to_string(static_cast<int>(op)));
    }
    *out = ctorch::wrap(std::move(r));
  });
}

ct_status ct_reduce_index(ct_index_reduction kind, ct_tensor a, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices) noexcept {
  CT_GUARD({
    bool k = keepdim != 0;
    switch (kind) {
      case CT_INDEX_MAX: case CT_INDEX_MIN: {
        auto r = kind == CT_INDEX_MAX ? at::max(ctorch::T(a), dim, k) : at::min(ctorch::T(a), dim, k);
        if (values) *values = ctorch::wrap(std::get<0>(r));
        if (indices) *indices = ctorch::wrap(std::get<1>(r));
        break;
      }
      case CT_INDEX_ARGMAX: case CT_INDEX_ARGMIN:
        if (!indices) throw std::invalid_argument("argmax/argmin need an indices output");
        *indices = ctorch::wrap(kind == CT_INDEX_ARGMAX ? at::argmax(ctorch::T(a), dim, k) : at::argmin(ctorch::T(a), dim, k));
        break;
      default: throw std::invalid_argument("unknown index reduction " + std::to_string(static_cast<int>(kind)));
    }
  });
}

ct_status ct_vector_norm(ct_tensor a, double ord, const int64_t *dims, int ndims, int keepdim, ct_tensor *out) noexcept {
  CT_OUT(at::linalg_vector_norm(ctorch::T(a), ord, ndims ? at::OptionalIntArrayRef(ctorch::ints(dims, ndims)) : std::nullopt,
                                keepdim != 0));
}

ct_status ct_item(ct_tensor a, double *out) noexcept {
  CT_GUARD(if (!out) throw std::invalid_argument("output pointer is NULL"); *out = ctorch::T(a).item<double>());
}

}  // extern "C"
