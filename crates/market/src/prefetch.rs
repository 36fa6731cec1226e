//! A cache prefetch hint: lets the trigger engine start loading the next trades' series while it
//! works on the current one. A hint only; it never faults and changes no result.

/// Asks the CPU to bring the cache line holding `p` closer. No effect on other architectures.
#[inline(always)]
pub(crate) fn read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is a hint that never dereferences
        // the pointer architecturally (it cannot fault, whatever the address).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
