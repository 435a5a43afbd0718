// Element-wise operations, indexing, in-place updates and reductions.
#include "internal.h"

namespace {
at::Tensor unary(int op, const at::Tensor &a) {
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
  throw std::invalid_argument("unknown unary operation");
}

at::Tensor binary(int op, const at::Tensor &a, const at::Tensor &b) {
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
  throw std::invalid_argument("unknown binary operation");
}

at::Tensor binary_scalar(int op, const at::Tensor &a, const at::Scalar &s) {
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
  }
  throw std::invalid_argument("operation has no tensor-scalar form");
}

// Integer tensors keep an integer scalar (so x + 1 stays int64), floats take the double.
at::Scalar scalar_for(const at::Tensor &a, double s) {
  if (at::isIntegralType(a.scalar_type(), /*includeBool=*/false) && s == static_cast<double>(static_cast<int64_t>(s)))
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}
}  // namespace

extern "C" {

ct_status ct_unary(int op, ct_tensor a, ct_tensor *out) { CT_OUT(unary(op, a->t)); }
ct_status ct_binary(int op, ct_tensor a, ct_tensor b, ct_tensor *out) { CT_OUT(binary(op, a->t, b->t)); }
ct_status ct_binary_scalar(int op, ct_tensor a, double s, ct_tensor *out) {
  CT_OUT(binary_scalar(op, a->t, scalar_for(a->t, s)));
}
ct_status ct_scalar_binary(int op, double s, ct_tensor a, ct_tensor *out) {
  CT_GUARD({
    at::Scalar sc = scalar_for(a->t, s);
    at::Tensor r;
    switch (op) {
      case CT_SUB: r = at::rsub(a->t, sc); break;
      case CT_DIV: r = at::mul(at::reciprocal(a->t), sc); break;
      case CT_POW: r = at::pow(sc, a->t); break;
      default: r = binary_scalar(op, a->t, sc);
    }
    *out = ctorch::wrap(std::move(r));
  });
}
ct_status ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out) { CT_OUT(at::where(cond->t, a->t, b->t)); }
ct_status ct_clamp(ct_tensor a, double lo, double hi, ct_tensor *out) {
  CT_GUARD({
    std::optional<at::Scalar> l = std::isnan(lo) ? std::nullopt : std::optional<at::Scalar>(lo);
    std::optional<at::Scalar> h = std::isnan(hi) ? std::nullopt : std::optional<at::Scalar>(hi);
    *out = ctorch::wrap(at::clamp(a->t, l, h));
  });
}
ct_status ct_leaky_relu(ct_tensor a, double slope, ct_tensor *out) { CT_OUT(at::leaky_relu(a->t, slope)); }
ct_status ct_masked_fill(ct_tensor a, ct_tensor mask, double value, ct_tensor *out) {
  CT_OUT(at::masked_fill(a->t, mask->t, value));
}
ct_status ct_masked_select(ct_tensor a, ct_tensor mask, ct_tensor *out) { CT_OUT(at::masked_select(a->t, mask->t)); }
ct_status ct_gather(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor *out) { CT_OUT(at::gather(a->t, dim, index->t)); }
ct_status ct_scatter(ct_tensor a, int64_t dim, ct_tensor index, ct_tensor src, double value, int mode, ct_tensor *out) {
  CT_GUARD({
    at::Tensor r;
    if (mode == 1) {
      r = at::scatter_add(a->t, dim, index->t, src ? src->t : at::full_like(index->t, value, a->t.options()));
    } else {
      r = src ? at::scatter(a->t, dim, index->t, src->t) : at::scatter(a->t, dim, index->t, at::Scalar(value));
    }
    *out = ctorch::wrap(std::move(r));
  });
}
ct_status ct_one_hot(ct_tensor labels, int64_t classes, ct_tensor *out) { CT_OUT(at::one_hot(labels->t, classes)); }
ct_status ct_cumsum(ct_tensor a, int64_t dim, ct_tensor *out) { CT_OUT(at::cumsum(a->t, dim)); }
ct_status ct_sort(ct_tensor a, int64_t dim, int descending, ct_tensor *values, ct_tensor *indices) {
  CT_GUARD({
    auto r = at::sort(a->t, /*stable=*/true, dim, descending != 0);
    *values = ctorch::wrap(std::get<0>(r));
    *indices = ctorch::wrap(std::get<1>(r));
  });
}
ct_status ct_topk(ct_tensor a, int64_t k, int64_t dim, int largest, ct_tensor *values, ct_tensor *indices) {
  CT_GUARD({
    auto r = at::topk(a->t, k, dim, largest != 0, true);
    *values = ctorch::wrap(std::get<0>(r));
    *indices = ctorch::wrap(std::get<1>(r));
  });
}
ct_status ct_nonzero(ct_tensor a, ct_tensor *out) { CT_OUT(at::nonzero(a->t)); }

// ---- in place ---------------------------------------------------------------------------------

ct_status ct_inplace_binary(int op, ct_tensor a, ct_tensor b, double alpha) {
  CT_GUARD({
    switch (op) {
      case CT_ADD: a->t.add_(b->t, alpha); break;
      case CT_SUB: a->t.sub_(b->t, alpha); break;
      case CT_MUL: a->t.mul_(b->t); break;
      case CT_DIV: a->t.div_(b->t); break;
      case CT_MAXIMUM: at::maximum_out(a->t, a->t, b->t); break;
      case CT_MINIMUM: at::minimum_out(a->t, a->t, b->t); break;
      default: throw std::invalid_argument("operation has no in-place form");
    }
  });
}
ct_status ct_inplace_scalar(int op, ct_tensor a, double value) {
  CT_GUARD({
    at::Scalar s = scalar_for(a->t, value);
    switch (op) {
      case CT_ADD: a->t.add_(s); break;
      case CT_SUB: a->t.sub_(s); break;
      case CT_MUL: a->t.mul_(s); break;
      case CT_DIV: a->t.div_(s); break;
      case CT_POW: a->t.pow_(s); break;
      case CT_MAXIMUM: a->t.clamp_min_(s); break;
      case CT_MINIMUM: a->t.clamp_max_(s); break;
      default: throw std::invalid_argument("operation has no in-place scalar form");
    }
  });
}
ct_status ct_addcmul_(ct_tensor a, ct_tensor t1, ct_tensor t2, double value) { CT_GUARD(a->t.addcmul_(t1->t, t2->t, value)); }
ct_status ct_addcdiv_(ct_tensor a, ct_tensor t1, ct_tensor t2, double value) { CT_GUARD(a->t.addcdiv_(t1->t, t2->t, value)); }
ct_status ct_lerp_(ct_tensor a, ct_tensor end, double weight) { CT_GUARD(a->t.lerp_(end->t, weight)); }
ct_status ct_copy_(ct_tensor dst, ct_tensor src) { CT_GUARD(dst->t.copy_(src->t)); }
ct_status ct_fill_(ct_tensor a, double value) { CT_GUARD(a->t.fill_(value)); }
ct_status ct_zero_(ct_tensor a) { CT_GUARD(a->t.zero_()); }
ct_status ct_set_data(ct_tensor a, ct_tensor data) { CT_GUARD(a->t.set_data(data->t)); }

// ---- reductions -------------------------------------------------------------------------------

ct_status ct_reduce(int op, ct_tensor a, const int64_t *dims, int ndims, int keepdim, ct_tensor *out) {
  CT_GUARD({
    const at::Tensor &x = a->t;
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
      default: throw std::invalid_argument("unknown reduction");
    }
    *out = ctorch::wrap(std::move(r));
  });
}

ct_status ct_reduce_index(int kind, ct_tensor a, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices) {
  CT_GUARD({
    bool k = keepdim != 0;
    switch (kind) {
      case 0: case 1: {
        auto r = kind == 0 ? at::max(a->t, dim, k) : at::min(a->t, dim, k);
        if (values) *values = ctorch::wrap(std::get<0>(r));
        if (indices) *indices = ctorch::wrap(std::get<1>(r));
        break;
      }
      case 2: *indices = ctorch::wrap(at::argmax(a->t, dim, k)); break;
      case 3: *indices = ctorch::wrap(at::argmin(a->t, dim, k)); break;
      default: throw std::invalid_argument("unknown index reduction");
    }
  });
}

ct_status ct_vector_norm(ct_tensor a, double ord, const int64_t *dims, int ndims, int keepdim, ct_tensor *out) {
  CT_OUT(at::linalg_vector_norm(a->t, ord, ndims ? at::OptionalIntArrayRef(ctorch::ints(dims, ndims)) : std::nullopt,
                                keepdim != 0));
}

ct_status ct_item(ct_tensor a, double *out) { CT_GUARD(*out = a->t.item<double>()); }

}  // extern "C"
