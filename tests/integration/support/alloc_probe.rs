//! The integration tests' global allocator: the system allocator, watching
//! what the current thread allocates and frees when a test asks it to — the
//! largest allocation (so that a test can show no allocation grows with an
//! attacker's input), and whether a freed block still holds a secret (so
//! that a test can show secrets are wiped before their memory is freed).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;

struct Probe;

thread_local! {
    /// `Some(largest so far)` while this thread's allocations are watched.
    static LARGEST: Cell<Option<usize>> = const { Cell::new(None) };
    /// The bytes looked for in blocks this thread frees, and whether a freed
    /// block held them.
    static CANARY: Cell<Option<(&'static [u8], bool)>> = const { Cell::new(None) };
}

fn note_allocation(size: usize) {
    // `try_with`: never panic inside the allocator, even at thread exit.
    let _ = LARGEST.try_with(|largest| {
        if let Some(max) = largest.get() {
            largest.set(Some(max.max(size)));
        }
    });
}

/// Whether the block at `ptr` about to be freed is exactly the canary.
fn note_free(ptr: *mut u8, layout: Layout) {
    let _ = CANARY.try_with(|canary| {
        let Some((bytes, false)) = canary.get() else {
            return;
        };
        // Only blocks of the canary's exact size: the secrets watched are
        // strings allocated to their length, so every byte was written.
        if layout.size() != bytes.len() {
            return;
        }
        let held = (0..bytes.len()).all(|i| {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes that
            // the caller owns until it is passed on to `System.dealloc`.
            unsafe { std::ptr::read_volatile(ptr.add(i)) == bytes[i] }
        });
        canary.set(Some((bytes, held)));
    });
}

// SAFETY: every call is passed on to `System` unchanged; the notes only read
// and write thread-locals without allocating, and read a block before it is
// freed.
unsafe impl GlobalAlloc for Probe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(ptr, layout);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static PROBE: Probe = Probe;

/// Runs `future` (on this thread: the tests' runtime is current-thread) and
/// returns its output with the largest allocation it made.
pub async fn largest_allocation<T>(future: impl Future<Output = T>) -> (T, usize) {
    LARGEST.with(|l| l.set(Some(0)));
    let output = future.await;
    let largest = LARGEST.with(|l| l.replace(None)).unwrap_or(0);
    (output, largest)
}

/// Runs `f` and says whether a block it freed still held exactly `canary`.
pub fn frees_canary(canary: &'static str, f: impl FnOnce()) -> bool {
    CANARY.with(|c| c.set(Some((canary.as_bytes(), false))));
    f();
    CANARY
        .with(|c| c.replace(None))
        .is_some_and(|(_, held)| held)
}
