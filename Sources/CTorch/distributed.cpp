// Process groups on libtorch's c10d: TCPStore rendezvous, and ProcessGroupGloo (CPU tensors) or
// ProcessGroupNCCL (CUDA tensors). NCCL lives in libtorch_cuda, which this shim does not link: a
// plugin built apart (`make nccl`, plugins/nccl/) constructs it and is dlopened on demand (plugin.cpp).
// Collectives wait with a timeout; a failure names the rank that stopped, found from heartbeats
// every rank keeps in the store (a dead peer only shows as a closed socket in Gloo's message).
#define USE_C10D_GLOO 1
#include "internal.h"

// SwiftPM's debug builds define DEBUG, a name in Gloo's LogLevel enum.
#pragma push_macro("DEBUG")
#undef DEBUG
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#pragma pop_macro("DEBUG")

#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

struct ct_process_group_s {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  bool nccl = false;
  int device_index = 0;  // nccl: this rank's CUDA device
  std::string master;
  bool hosts_store = true;
  int rank = 0;
  int world = 1;
  std::chrono::milliseconds timeout{0};
  // Heartbeat: a thread with its own store connection counts up `contour/alive/<rank>`.
  std::thread beat;
  std::mutex mutex;
  std::condition_variable stop_cv;
  bool stop = false;

  ~ct_process_group_s() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    stop_cv.notify_all();
    if (beat.joinable()) beat.join();
    // As destroy_process_group: NCCL's communicators and watchdog go before the store.
    if (nccl && backend) {
      try {
        backend->shutdown();
      } catch (...) {
      }
    }
  }
};

namespace {
constexpr auto kBeat = 250ms;

std::string alive_key(int rank) { return "contour/alive/" + std::to_string(rank); }

void heartbeat(ct_process_group_s *pg, c10::intrusive_ptr<c10d::Store> store) {
  std::unique_lock<std::mutex> lock(pg->mutex);
  while (!pg->stop) {
    lock.unlock();
    try {
      store->add(alive_key(pg->rank), 1);
    } catch (...) {
      // The store's host (rank 0) is gone; failures report that.
    }
    lock.lock();
    pg->stop_cv.wait_for(lock, kBeat, [pg] { return pg->stop; });
  }
}

/// Which ranks stopped: those whose heartbeat does not advance over a few beats. Rank 0 hosts
/// the store, so an unreachable store means rank 0.
std::string stopped_ranks(ct_process_group_s *pg) {
  try {
    auto probe = pg->store->clone();
    probe->setTimeout(2000ms);
    std::vector<int64_t> before(pg->world), after(pg->world);
    for (int r = 0; r < pg->world; ++r) before[r] = probe->add(alive_key(r), 0);
    std::this_thread::sleep_for(kBeat * 8);
    std::string dead;
    for (int r = 0; r < pg->world; ++r) {
      after[r] = probe->add(alive_key(r), 0);
      if (r != pg->rank && after[r] == before[r]) dead += (dead.empty() ? "" : ", ") + std::to_string(r);
    }
    if (dead.empty()) return "";
    return (dead.find(',') == std::string::npos ? "rank " : "ranks ") + dead + " stopped (no heartbeat for " +
           std::to_string(kBeat.count() * 8 / 1000.0).substr(0, 3) + " s)";
  } catch (...) {
    if (!pg->hosts_store) return "the rendezvous store at " + pg->master + " (torchrun's agent) no longer answers";
    return pg->rank == 0 ? "" : "rank 0 stopped (its rendezvous store at " + pg->master + " no longer answers)";
  }
}

ct_process_group_s &G(ct_process_group pg) {
  if (!pg) throw std::invalid_argument("process group handle is NULL");
  return *pg;
}

/// The tensor a collective works on in place: dense and contiguous, on the CPU for Gloo, on a CUDA
/// device for NCCL.
const at::Tensor &collective_tensor(const ct_process_group_s &g, ct_tensor h, const char *what) {
  const at::Tensor &t = ctorch::T(h);
  if (!t.is_contiguous()) throw std::invalid_argument(std::string(what) + ": the tensor must be contiguous");
  if (g.nccl && !t.device().is_cuda())
    throw std::invalid_argument(std::string(what) + ": the nccl backend reduces CUDA tensors, got one on " + t.device().str());
  if (!g.nccl && !t.device().is_cpu())
    throw std::invalid_argument(std::string(what) + ": the gloo backend reduces CPU tensors, got one on " + t.device().str());
  return t;
}

/// Where the backend reduces a tensor that lives on `d`: the CPU for Gloo; for NCCL, d itself
/// when it is a CUDA device, else this rank's CUDA device.
at::Device comm_device(const ct_process_group_s &g, const at::Device &d) {
  if (!g.nccl) return at::kCPU;
  return d.is_cuda() ? d : at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(g.device_index));
}

// ---- the nccl plugin ----
using nccl_create_fn = int (*)(void *store, int rank, int world, int device_index, int64_t timeout_ms, void **backend_out,
                               char *err, size_t errlen);
std::once_flag plugin_once;
nccl_create_fn nccl_create = nullptr;
std::string plugin_status;

void load_plugin() {
  void *h = ctorch::load_plugin({"nccl", "CONTOUR_NCCL_PLUGIN", "the nccl backend"}, plugin_status);
  if (!h) return;
  nccl_create = reinterpret_cast<nccl_create_fn>(dlsym(h, "ct_nccl_create"));
  if (!nccl_create) plugin_status = "the nccl plugin has no ct_nccl_create: rebuild it with `make nccl`";
}

/// Empty when the nccl backend can be used, else why not.
std::string nccl_unavailable() {
  if (!ct_cuda_init()) return std::string("the nccl backend needs CUDA: ") + ct_cuda_status();
  std::call_once(plugin_once, [] {
    try {
      load_plugin();
    } catch (const std::exception &e) {
      plugin_status = std::string("loading the nccl plugin failed: ") + e.what();
    }
  });
  return nccl_create ? std::string() : plugin_status;
}

/// The error of a failed collective, naming the stopped rank when one did.
[[noreturn]] void fail(ct_process_group_s &pg, const char *what, const std::string &reason) {
  std::string who = stopped_ranks(&pg);
  throw std::runtime_error(std::string("distributed ") + what + " on rank " + std::to_string(pg.rank) + " of " +
                           std::to_string(pg.world) + " failed: " + (who.empty() ? "" : who + "; ") + reason);
}

/// Waits for a started collective (none: nothing to wait for) at most the group's timeout.
void wait_for(ct_process_group_s &pg, const char *what, const c10::intrusive_ptr<c10d::Work> &work) {
  std::string reason;
  try {
    if (!work || work->wait(pg.timeout)) return;
    reason = "timed out after " + std::to_string(pg.timeout.count()) + " ms";
  } catch (const c10::Error &e) {
    reason = e.what_without_backtrace();
  } catch (const std::exception &e) {
    reason = e.what();
  }
  fail(pg, what, reason);
}

/// Runs a collective and waits for it.
void run(ct_process_group_s &pg, const char *what, const std::function<c10::intrusive_ptr<c10d::Work>()> &start) {
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = start();
  } catch (const c10::Error &e) {
    fail(pg, what, e.what_without_backtrace());
  } catch (const std::exception &e) {
    fail(pg, what, e.what());
  }
  wait_for(pg, what, work);
}
/// The sum of a tensor over the ranks (a new tensor on the input's device; Gloo stages CUDA through the CPU).
at::Tensor summed(ct_process_group_s &g, const at::Tensor &x) {
  at::Tensor t = x.detach().to(comm_device(g, x.device())).contiguous().clone();
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  o.timeout = g.timeout;
  std::vector<at::Tensor> ts{t};
  run(g, "allreduce", [&] { return g.backend->allreduce(ts, o); });
  return t.to(x.device());
}

/// y = Σ_ranks x with autograd: every rank's loss depends on y, so ∂L/∂x on each rank is the sum
/// of all ranks' ∂L/∂y — an all-reduce in backward (SyncBatchNorm's statistics).
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, int64_t handle) {
    ctx->saved_data["pg"] = handle;
    return summed(*reinterpret_cast<ct_process_group_s *>(handle), x);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
    auto &g = *reinterpret_cast<ct_process_group_s *>(ctx->saved_data["pg"].toInt());
    return {summed(g, grads[0]), at::Tensor()};
  }
};
}  // namespace

/// Gradient averaging overlapped with backward: a hook on each parameter copies its gradient into
/// a flat bucket as autograd produces it; a complete bucket's all-reduce starts at once (buckets
/// in a fixed order, the same on every rank, so the collectives match) while backward goes on.
/// `finish` starts what remains (a parameter without a gradient counts as zeros), waits, and
/// writes the averages into `.grad`. Hooks act only while armed, i.e. during one plain backward;
/// a parameter whose gradient arrives twice in one backward makes `finish` redo everything
/// synchronously from the final `.grad`.
struct ct_grad_reducer_s {
  ct_process_group_s *pg = nullptr;
  std::vector<at::Tensor> params;
  std::vector<int64_t> bucket_of, offset_of;
  std::vector<std::vector<int64_t>> buckets;
  std::vector<at::Tensor> flat;
  std::vector<int64_t> missing;
  std::vector<char> arrived;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t launched = 0;
  bool armed = false, repeated = false;
  std::mutex mutex;
  std::vector<unsigned> hooks;

  ~ct_grad_reducer_s() {
    // The hooks point at this object: take them off before it goes.
    for (size_t i = 0; i < hooks.size(); ++i) {
      try {
        params[i].remove_hook(hooks[i]);
      } catch (...) {
      }
    }
    for (auto &w : works) {
      try {
        if (w) w->wait(pg->timeout);
      } catch (...) {
      }
    }
  }

  void launch_ready() {
    while (launched < buckets.size() && missing[launched] == 0) launch(launched++);
  }
  void launch(size_t b) {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = pg->timeout;
    std::vector<at::Tensor> ts{flat[b]};
    works[b] = pg->backend->allreduce(ts, o);
  }
  void on_grad(int64_t i, const at::Tensor &grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    if (arrived[i]) {
      repeated = true;
      return;
    }
    arrived[i] = 1;
    auto b = bucket_of[i];
    flat[b].narrow(0, offset_of[i], params[i].numel()).copy_(grad.detach().reshape(-1));
    if (--missing[b] == 0 && !repeated) launch_ready();
  }
};

extern "C" {

ct_status ct_dist_init(const char *master_addr, int master_port, int rank, int world_size, int64_t timeout_ms,
                       int host_store, const char *prefix, ct_dist_backend backend, int device_index,
                       ct_process_group *out) noexcept {
  CT_GUARD(
      if (!out) throw std::invalid_argument("output pointer is NULL");
      if (backend != CT_DIST_GLOO && backend != CT_DIST_NCCL)
        throw std::invalid_argument("unknown distributed backend code " + std::to_string(backend) + " (gloo 0, nccl 1)");
      if (backend == CT_DIST_NCCL) {
        if (device_index < 0) throw std::invalid_argument("nccl: CUDA device index must be ≥ 0, got " + std::to_string(device_index));
        // Before the rendezvous, so that a rank without NCCL fails at once rather than leaving the others waiting.
        if (auto why = nccl_unavailable(); !why.empty()) throw std::runtime_error(why);
      }
      if (!master_addr || !*master_addr) throw std::invalid_argument("master address is empty");
      if (master_port < 1 || master_port > 65535)
        throw std::invalid_argument("master port " + std::to_string(master_port) + " is not in 1…65535");
      if (world_size < 1) throw std::invalid_argument("world size must be ≥ 1, got " + std::to_string(world_size));
      if (rank < 0 || rank >= world_size)
        throw std::invalid_argument("rank " + std::to_string(rank) + " is not in 0…" + std::to_string(world_size - 1));
      if (timeout_ms < 1) throw std::invalid_argument("timeout must be ≥ 1 ms, got " + std::to_string(timeout_ms));
      auto pg = std::make_unique<ct_process_group_s>();
      pg->rank = rank;
      pg->world = world_size;
      pg->timeout = std::chrono::milliseconds(timeout_ms);
      pg->master = std::string(master_addr) + ":" + std::to_string(master_port);
      if (!prefix) throw std::invalid_argument("store prefix is NULL");
      pg->hosts_store = host_store != 0;
      pg->nccl = backend == CT_DIST_NCCL;
      pg->device_index = device_index;
      c10d::TCPStoreOptions o;
      o.port = static_cast<uint16_t>(master_port);
      o.isServer = rank == 0 && pg->hosts_store;
      o.numWorkers = world_size;
      o.waitWorkers = true;
      o.timeout = pg->timeout;
      try {
        pg->store = c10::make_intrusive<c10d::PrefixStore>(prefix, c10::make_intrusive<c10d::TCPStore>(master_addr, o));
      } catch (const c10::Error &e) {
        std::string m = e.what_without_backtrace();
        if (rank == 0 && m.find("EADDRINUSE") != std::string::npos)
          throw std::runtime_error("MASTER_PORT " + std::to_string(master_port) + " is already in use on " + master_addr +
                                   " (rank 0 hosts the rendezvous there); choose a free port");
        throw std::runtime_error("rendezvous at " + pg->master + " (rank " + std::to_string(rank) + " of " +
                                 std::to_string(world_size) + ") failed within " + std::to_string(timeout_ms) + " ms: " + m);
      }
      pg->store->add(alive_key(rank), 1);
      auto where = "(rank " + std::to_string(rank) + " of " + std::to_string(world_size) + ", rendezvous " + pg->master + ")";
      if (pg->nccl) {
        void *made = nullptr;
        char err[2048] = {0};
        if (nccl_create(&pg->store, rank, world_size, device_index, timeout_ms, &made, err, sizeof(err)) != 0 || !made)
          throw std::runtime_error("nccl process group " + where + " on cuda:" + std::to_string(device_index) + " failed: " + err);
        auto *made_backend = static_cast<c10::intrusive_ptr<c10d::Backend> *>(made);
        pg->backend = *made_backend;
        delete made_backend;
      } else {
        auto gloo_options = c10d::ProcessGroupGloo::Options::create_default(pg->timeout);
        try {
          pg->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(pg->store, rank, world_size, gloo_options);
        } catch (const c10::Error &e) {
          throw std::runtime_error("gloo process group " + where + " failed: " + e.what_without_backtrace());
        }
      }
      pg->beat = std::thread(heartbeat, pg.get(), pg->store->clone());
      *out = pg.release());
}

void ct_dist_free(ct_process_group pg) noexcept {
  try {
    delete pg;
  } catch (...) {
  }
}

int ct_dist_rank(ct_process_group pg) noexcept { CT_VALUE(-1, G(pg).rank) }
int ct_dist_world_size(ct_process_group pg) noexcept { CT_VALUE(-1, G(pg).world) }

ct_status ct_dist_allreduce(ct_process_group pg, ct_tensor tensor, ct_collective_op op) noexcept {
  CT_GUARD(
      auto &g = G(pg);
      at::Tensor t = collective_tensor(g, tensor, "allreduce");
      c10d::AllreduceOptions o;
      switch (op) {
        case CT_COLLECTIVE_SUM: case CT_COLLECTIVE_AVG: o.reduceOp = c10d::ReduceOp::SUM; break;
        case CT_COLLECTIVE_MIN: o.reduceOp = c10d::ReduceOp::MIN; break;
        case CT_COLLECTIVE_MAX: o.reduceOp = c10d::ReduceOp::MAX; break;
        default: throw std::invalid_argument("unknown reduction code " + std::to_string(op) + " (sum 0, avg 1, min 2, max 3)");
      }
      if (op == CT_COLLECTIVE_AVG && !at::isFloatingType(t.scalar_type()))
        throw std::invalid_argument(std::string("allreduce avg needs a floating tensor, got ") + c10::toString(t.scalar_type()));
      o.timeout = g.timeout;
      std::vector<at::Tensor> ts{t};
      run(g, "allreduce", [&] { return g.backend->allreduce(ts, o); });
      // Gloo has no AVG (NCCL has, for floats only): the sum divided by the world size, both ways.
      if (op == CT_COLLECTIVE_AVG) t.div_(g.world))
}

ct_status ct_dist_broadcast(ct_process_group pg, ct_tensor tensor, int root) noexcept {
  CT_GUARD(
      auto &g = G(pg);
      if (root < 0 || root >= g.world)
        throw std::invalid_argument("broadcast root " + std::to_string(root) + " is not in 0…" + std::to_string(g.world - 1));
      at::Tensor t = collective_tensor(g, tensor, "broadcast");
      c10d::BroadcastOptions o;
      o.rootRank = root;
      o.timeout = g.timeout;
      std::vector<at::Tensor> ts{t};
      run(g, "broadcast", [&] { return g.backend->broadcast(ts, o); }))
}

ct_status ct_dist_allgather(ct_process_group pg, ct_tensor tensor, ct_tensor *out) noexcept {
  CT_OUT(([&] {
    auto &g = G(pg);
    at::Tensor t = collective_tensor(g, tensor, "allgather");
    std::vector<at::Tensor> parts;
    for (int r = 0; r < g.world; ++r) parts.push_back(at::empty_like(t));
    std::vector<std::vector<at::Tensor>> outputs{parts};
    std::vector<at::Tensor> inputs{t};
    c10d::AllgatherOptions o;
    o.timeout = g.timeout;
    run(g, "allgather", [&] { return g.backend->allgather(outputs, inputs, o); });
    return at::stack(outputs[0]);
  })())
}

ct_status ct_dist_allreduce_sum_autograd(ct_process_group pg, ct_tensor tensor, ct_tensor *out) noexcept {
  CT_OUT(([&] {
    auto &g = G(pg);
    return AllReduceSum::apply(ctorch::T(tensor), static_cast<int64_t>(reinterpret_cast<intptr_t>(&g)));
  })())
}

ct_status ct_dist_reducer_new(ct_process_group pg, const ct_tensor *params, int n, int64_t bucket_bytes,
                              ct_grad_reducer *out) noexcept {
  CT_GUARD(
      if (!out) throw std::invalid_argument("output pointer is NULL");
      if (bucket_bytes < 1) throw std::invalid_argument("bucket size must be ≥ 1 byte");
      auto r = std::make_unique<ct_grad_reducer_s>();
      r->pg = &G(pg);
      r->params = ctorch::Ts(params, n, "parameter");
      r->bucket_of.assign(n, 0);
      r->offset_of.assign(n, 0);
      // Gradients arrive roughly from the last layer back: buckets fill in reverse parameter order.
      // A bucket holds one dtype on one device: the CPU for Gloo, the parameters' CUDA device for NCCL.
      std::vector<int64_t> bytes;
      std::vector<at::ScalarType> types;
      std::vector<at::Device> devices;
      for (int i = n - 1; i >= 0; --i) {
        const auto &p = r->params[i];
        if (r->pg->nccl && !p.device().is_cuda())
          throw std::invalid_argument("parameter " + std::to_string(i) + " is on " + p.device().str() + ": the nccl backend reduces CUDA tensors");
        auto device = comm_device(*r->pg, p.device());
        int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
        if (r->buckets.empty() || types.back() != p.scalar_type() || devices.back() != device || bytes.back() + size > bucket_bytes) {
          r->buckets.emplace_back();
          bytes.push_back(0);
          types.push_back(p.scalar_type());
          devices.push_back(device);
        }
        r->bucket_of[i] = static_cast<int64_t>(r->buckets.size()) - 1;
        r->offset_of[i] = 0;
        for (auto j : r->buckets.back()) r->offset_of[i] += r->params[j].numel();
        r->buckets.back().push_back(i);
        bytes.back() += size;
      }
      for (size_t b = 0; b < r->buckets.size(); ++b) {
        int64_t count = 0;
        for (auto j : r->buckets[b]) count += r->params[j].numel();
        r->flat.push_back(at::zeros({count}, at::TensorOptions().dtype(types[b]).device(devices[b])));
      }
      r->works.resize(r->buckets.size());
      auto *raw = r.get();
      for (int i = 0; i < n; ++i) {
        if (!r->params[i].requires_grad()) throw std::invalid_argument("parameter " + std::to_string(i) + " does not require a gradient");
        r->hooks.push_back(r->params[i].register_hook([raw, i](const at::Tensor &grad) { raw->on_grad(i, grad); }));
      }
      *out = r.release());
}

ct_status ct_dist_reducer_arm(ct_grad_reducer r) noexcept {
  CT_GUARD(
      if (!r) throw std::invalid_argument("reducer handle is NULL");
      std::lock_guard<std::mutex> lock(r->mutex);
      if (r->armed) throw std::logic_error("the gradient reducer is already armed (finish the previous backward first)");
      r->missing.resize(r->buckets.size());
      for (size_t b = 0; b < r->buckets.size(); ++b) {
        r->flat[b].zero_();
        r->missing[b] = static_cast<int64_t>(r->buckets[b].size());
        r->works[b].reset();
      }
      r->arrived.assign(r->params.size(), 0);
      r->launched = 0;
      r->repeated = false;
      r->armed = true)
}

ct_status ct_dist_reducer_finish(ct_grad_reducer r) noexcept {
  CT_GUARD(
      if (!r) throw std::invalid_argument("reducer handle is NULL");
      std::unique_lock<std::mutex> lock(r->mutex);
      if (!r->armed) throw std::logic_error("the gradient reducer is not armed");
      r->armed = false;
      auto &g = *r->pg;
      auto wait = [&](size_t b) { wait_for(g, "gradient all-reduce", r->works[b]); };
      // Buckets already under way finish first; a repeated gradient means the buckets hold partial sums: redo from .grad.
      for (size_t b = 0; b < r->launched; ++b) wait(b);
      for (size_t b = r->repeated ? 0 : r->launched; b < r->buckets.size(); ++b) {
        for (auto j : r->buckets[b]) {
          const auto &p = r->params[j];
          auto piece = r->flat[b].narrow(0, r->offset_of[j], p.numel());
          if (r->repeated || !r->arrived[j]) {
            if (p.grad().defined()) piece.copy_(p.grad().detach().reshape(-1));
            else piece.zero_();
          }
        }
        r->launch(b);
        wait(b);
      }
      for (size_t b = 0; b < r->buckets.size(); ++b) {
        r->flat[b].div_(g.world);
        for (auto j : r->buckets[b]) {
          auto &p = r->params[j];
          auto avg = r->flat[b].narrow(0, r->offset_of[j], p.numel()).view(p.sizes()).to(p.device(), /*non_blocking=*/false, /*copy=*/true);
          p.mutable_grad() = avg;
        }
      })
}

void ct_dist_reducer_free(ct_grad_reducer r) noexcept {
  try {
    delete r;
  } catch (...) {
  }
}

ct_status ct_dist_barrier(ct_process_group pg) noexcept {
  CT_GUARD(
      auto &g = G(pg);
      c10d::BarrierOptions o;
      o.timeout = g.timeout;
      run(g, "barrier", [&] { return g.backend->barrier(o); }))
}

const char *ct_dist_nccl_status(void) noexcept {
  static std::string status;
  static std::mutex status_mutex;
  try {
    std::lock_guard<std::mutex> lock(status_mutex);
    status = nccl_unavailable();
    return status.c_str();
  } catch (...) {
    return "the nccl backend is unavailable";
  }
}

}  // extern "C"
