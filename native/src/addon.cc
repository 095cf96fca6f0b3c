// flyte-ts native addon: thread CPU affinity, and NVIDIA devices through NVML loaded at run time
// (dlopen of libnvidia-ml.so.1), so building needs no CUDA toolkit and loading needs no driver.
#include <dlfcn.h>
#include <napi.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace {

// --- CPU affinity -------------------------------------------------------------------------------

// Pins the calling thread (pid 0 means "this thread" to sched_setaffinity) to the given cores.
Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "setAffinity expects an array of core ids").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array cores = info[0].As<Napi::Array>();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < cores.Length(); i++) {
    Napi::Value v = cores[i];
    if (!v.IsNumber()) {
      Napi::TypeError::New(env, "core ids must be numbers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int32_t core = v.As<Napi::Number>().Int32Value();
    if (core < 0 || core >= CPU_SETSIZE) {
      Napi::RangeError::New(env, "core id out of range").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    CPU_SET(core, &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    Napi::Error::New(env, std::string("sched_setaffinity failed: ") + strerror(errno))
        .ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// The cores the calling thread may run on.
Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    Napi::Error::New(env, std::string("sched_getaffinity failed: ") + strerror(errno))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array cores = Napi::Array::New(env);
  uint32_t n = 0;
  for (int core = 0; core < CPU_SETSIZE; core++) {
    if (CPU_ISSET(core, &set)) cores.Set(n++, Napi::Number::New(env, core));
  }
  return cores;
}

// The kernel id of the calling thread (the <tid> of /proc/self/task/<tid>).
Napi::Value ThreadId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

// --- NVML ---------------------------------------------------------------------------------------

typedef void* nvmlDevice_t;
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
struct nvmlPciInfo_t {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
};

struct Nvml {
  int (*init)();
  int (*shutdown)();
  const char* (*errorString)(int);
  int (*driverVersion)(char*, unsigned int);
  int (*count)(unsigned int*);
  int (*handle)(unsigned int, nvmlDevice_t*);
  int (*name)(nvmlDevice_t, char*, unsigned int);
  int (*uuid)(nvmlDevice_t, char*, unsigned int);
  int (*memory)(nvmlDevice_t, nvmlMemory_t*);
  int (*pci)(nvmlDevice_t, nvmlPciInfo_t*);
  int (*migMode)(nvmlDevice_t, unsigned int*, unsigned int*);
  int (*maxMig)(nvmlDevice_t, unsigned int*);
  int (*migHandle)(nvmlDevice_t, unsigned int, nvmlDevice_t*);
};

template <typename F>
bool Load(void* lib, const char* symbol, F* out) {
  *out = reinterpret_cast<F>(dlsym(lib, symbol));
  return *out != nullptr;
}

Napi::Object Failure(Napi::Env env, const std::string& why) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("ok", false);
  result.Set("error", why);
  return result;
}

Napi::Object Describe(Napi::Env env, const Nvml& nvml, nvmlDevice_t device) {
  Napi::Object out = Napi::Object::New(env);
  char text[128];
  if (nvml.name(device, text, sizeof(text)) == 0) out.Set("name", std::string(text));
  if (nvml.uuid(device, text, sizeof(text)) == 0) out.Set("uuid", std::string(text));
  nvmlMemory_t memory;
  if (nvml.memory(device, &memory) == 0) out.Set("memoryBytes", static_cast<double>(memory.total));
  return out;
}

// Lists GPUs and their MIG instances. Never throws: a missing library or a failing driver
// comes back as { ok: false, error }.
Napi::Value NvmlDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return Failure(env, std::string("libnvidia-ml.so.1 not loadable: ") + dlerror());
  Nvml nvml{};
  bool loaded = Load(lib, "nvmlInit_v2", &nvml.init) && Load(lib, "nvmlShutdown", &nvml.shutdown) &&
                Load(lib, "nvmlErrorString", &nvml.errorString) &&
                Load(lib, "nvmlSystemGetDriverVersion", &nvml.driverVersion) &&
                Load(lib, "nvmlDeviceGetCount_v2", &nvml.count) &&
                Load(lib, "nvmlDeviceGetHandleByIndex_v2", &nvml.handle) &&
                Load(lib, "nvmlDeviceGetName", &nvml.name) &&
                Load(lib, "nvmlDeviceGetUUID", &nvml.uuid) &&
                Load(lib, "nvmlDeviceGetMemoryInfo", &nvml.memory) &&
                Load(lib, "nvmlDeviceGetPciInfo_v3", &nvml.pci);
  if (!loaded) {
    dlclose(lib);
    return Failure(env, "libnvidia-ml.so.1 lacks the NVML functions needed (driver too old)");
  }
  // MIG functions exist from R450 on; without them the GPUs are listed without MIG.
  bool mig = Load(lib, "nvmlDeviceGetMigMode", &nvml.migMode) &&
             Load(lib, "nvmlDeviceGetMaxMigDeviceCount", &nvml.maxMig) &&
             Load(lib, "nvmlDeviceGetMigDeviceHandleByIndex", &nvml.migHandle);
  int status = nvml.init();
  if (status != 0) {
    std::string why = std::string("nvmlInit failed: ") + nvml.errorString(status);
    dlclose(lib);
    return Failure(env, why);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("ok", true);
  char version[96];
  if (nvml.driverVersion(version, sizeof(version)) == 0) result.Set("driverVersion", std::string(version));
  Napi::Array gpus = Napi::Array::New(env);
  unsigned int count = 0;
  if (nvml.count(&count) == 0) {
    for (unsigned int i = 0; i < count; i++) {
      nvmlDevice_t device;
      if (nvml.handle(i, &device) != 0) continue;
      Napi::Object gpu = Describe(env, nvml, device);
      gpu.Set("index", i);
      nvmlPciInfo_t pci;
      if (nvml.pci(device, &pci) == 0) gpu.Set("busId", std::string(pci.busId));
      unsigned int current = 0, pending = 0;
      bool enabled = mig && nvml.migMode(device, &current, &pending) == 0 && current == 1;
      gpu.Set("migEnabled", enabled);
      Napi::Array slices = Napi::Array::New(env);
      unsigned int max = 0, n = 0;
      if (enabled && nvml.maxMig(device, &max) == 0) {
        for (unsigned int m = 0; m < max; m++) {
          nvmlDevice_t slice;
          if (nvml.migHandle(device, m, &slice) != 0) continue;
          Napi::Object s = Describe(env, nvml, slice);
          s.Set("index", n);
          slices.Set(n++, s);
        }
      }
      gpu.Set("mig", slices);
      gpus.Set(gpus.Length(), gpu);
    }
  }
  result.Set("gpus", gpus);
  nvml.shutdown();
  dlclose(lib);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setAffinity", Napi::Function::New(env, SetAffinity));
  exports.Set("getAffinity", Napi::Function::New(env, GetAffinity));
  exports.Set("threadId", Napi::Function::New(env, ThreadId));
  exports.Set("nvmlDevices", Napi::Function::New(env, NvmlDevices));
  return exports;
}

}  // namespace

NODE_API_MODULE(flyte_ts_native, Init)
