// Finding and loading Contour's CUDA plugins (plugins/, `make nccl`, `make cudagraph`): libraries
// built apart against libtorch_cuda, which the shim dlopens after libtorch_cuda is loaded.
#include "internal.h"

#include <cstdlib>
#include <dlfcn.h>
#include <unistd.h>

namespace {
std::string folder_of(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string("./") : path.substr(0, slash + 1);
}
}  // namespace

namespace ctorch {

void *load_plugin(const PluginSpec &spec, std::string &why) {
  const std::string file = std::string("libcontour_") + spec.name + ".so";
  std::vector<std::string> candidates;
  if (const char *env = std::getenv(spec.env); env && *env) {
    candidates.push_back(env);
  } else {
    char exe[4096];
    auto n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
      std::string dir = folder_of(std::string(exe, static_cast<size_t>(n)));
      candidates.push_back(dir + file);
      candidates.push_back(dir + "../" + spec.name + "/" + file);
    }
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&at::globalContext), &info) && info.dli_fname)
      candidates.push_back(folder_of(info.dli_fname) + file);
  }
  std::string tried;
  for (const auto &path : candidates) {
    if (access(path.c_str(), F_OK) != 0) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *reason = dlerror();
      why = "could not load the " + std::string(spec.name) + " plugin " + path + (reason ? std::string(": ") + reason : "");
      return nullptr;
    }
    const std::string version_symbol = std::string("ct_") + spec.name + "_torch_version";
    auto version = reinterpret_cast<const char *(*)()>(dlsym(h, version_symbol.c_str()));
    if (!version) {
      why = path + " is not a Contour " + spec.name + " plugin (no " + version_symbol + ")";
      return nullptr;
    }
    if (std::string(version()) != ct_torch_version()) {
      why = path + " was built against libtorch " + version() + ", this shim runs libtorch " + ct_torch_version() +
            ": rebuild it with `make " + spec.name + "` against the same torch";
      return nullptr;
    }
    return h;
  }
  why = std::string(spec.purpose) + " needs " + file + " (not found: " + tried + "): run `make " + spec.name +
        "` on a machine with a CUDA build of torch, or set " + spec.env + " to its path";
  return nullptr;
}

}  // namespace ctorch
