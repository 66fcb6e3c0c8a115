// Sanitizer annotations for fiber switches.
//
// Boost.Context's fcontext fibers tell AddressSanitizer nothing about stack
// switches, so ASan would take a coroutine's stack for a corrupt part of the
// thread's stack (false reports on exceptions and no-return calls). The
// Worker calls start_switch() right before and finish_switch() right after
// each of its switch points; without ASan both compile to nothing.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define REMORA_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REMORA_ASAN_FIBERS 1
#endif
#endif

#if defined(REMORA_ASAN_FIBERS)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace remora::runtime_detail {

// Before switching to the stack [bottom, bottom + size). `fake_save`
// receives the leaving context's fake stack; nullptr when the leaving
// context ends for good (a coroutine returning).
inline void start_switch(void** fake_save, const void* bottom, size_t size) {
#if defined(REMORA_ASAN_FIBERS)
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
  (void)fake_save, (void)bottom, (void)size;
#endif
}

// First thing after a switch lands: `fake` is what start_switch() saved
// when this context left (nullptr on a coroutine's first entry); the bounds
// of the stack we came from go to *from_bottom / *from_size if non-null.
inline void finish_switch(void* fake, const void** from_bottom, size_t* from_size) {
#if defined(REMORA_ASAN_FIBERS)
  __sanitizer_finish_switch_fiber(fake, from_bottom, from_size);
#else
  (void)fake, (void)from_bottom, (void)from_size;
#endif
}

// A pooled stack about to host a new coroutine: frames of its previous
// coroutine that never returned (the fiber's entry frame, which jumps away)
// left poisoned redzones behind.
inline void unpoison_stack(void* bottom, size_t size) {
#if defined(REMORA_ASAN_FIBERS)
  __asan_unpoison_memory_region(bottom, size);
#else
  (void)bottom, (void)size;
#endif
}

}  // namespace remora::runtime_detail
