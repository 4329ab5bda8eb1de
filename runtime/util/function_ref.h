// A non-owning reference to a callable, for calls that only run the callable before they return
// (ThreadPool::parallel_for). std::function would copy a lambda that captures more than two
// references to the heap on every call: one allocation per parallel loop, i.e. several per decoded
// token. This holds two pointers and never allocates. The referenced callable must outlive every
// call through the reference; a lambda passed as an argument lives until the call returns.
#pragma once

#include <type_traits>
#include <utility>

namespace npw {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same<std::decay_t<F>, FunctionRef>::value &&
                                                    std::is_invocable_r<R, const F&, Args...>::value>>
  FunctionRef(const F& f) noexcept  // NOLINT(google-explicit-constructor): stands in for a callable
      : object_(static_cast<const void*>(&f)), call_([](const void* o, Args... args) -> R {
          return (*static_cast<const F*>(o))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  const void* object_;
  R (*call_)(const void*, Args...);
};

}  // namespace npw
