//! The allocator of a plugin built for `wasm32`.
//!
//! QLP runs every plugin call in a fresh instance. Rust's default allocator
//! on `wasm32` (dlmalloc) takes all its memory with `memory.grow`, so even a
//! trivial call grows its linear memory, and the host must then shrink the
//! pooled memory slot back before the next instance, an `mprotect` that
//! costs a TLB flush on every core. Measured with `qlp bench`, that was a
//! quarter of a trivial validator's fresh-instance call (BENCHMARKS.md).
//!
//! [`Arena`] serves allocations from a fixed region of the plugin's static
//! data first, inside the memory the instance starts with, and only when
//! that is used up from the system allocator. Within the region it is a
//! bump allocator: the most recent block can be freed or grown in place
//! (what a `Vec` being filled does), other freed blocks are reclaimed when
//! the instance ends, which is at the end of the call. A plugin that
//! allocates more than [`ARENA_SIZE`] in a call keeps working, on dlmalloc.
//!
//! It is the global allocator of `wasm32` builds while the `arena` feature
//! (on by default) is on; a plugin that brings its own global allocator
//! turns the feature off.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};

/// Bytes served from static data before falling back to the system
/// allocator: what the first-party plugins allocate in a typical call, so
/// that they never grow their memory. Zero-initialised, so it costs no
/// bytes in the component and no memory until touched.
pub const ARENA_SIZE: usize = 256 << 10;

#[repr(C, align(16))]
struct Region(UnsafeCell<[u8; ARENA_SIZE]>);

/// A bump allocator over a static region, in front of [`System`].
pub struct Arena {
    region: Region,
    /// Offset of the first free byte of the region.
    next: Cell<usize>,
}

// SAFETY: plugins run on one thread: `wasm32-unknown-unknown` without the
// threads proposal has no other, and the host calls an instance from one
// thread at a time. Native builds use it only in this module's tests, each
// on its own value.
unsafe impl Sync for Arena {}

impl Arena {
    pub const fn new() -> Self {
        Self {
            region: Region(UnsafeCell::new([0; ARENA_SIZE])),
            next: Cell::new(0),
        }
    }

    fn base(&self) -> usize {
        self.region.0.get() as usize
    }

    fn holds(&self, ptr: *mut u8) -> bool {
        (self.base()..self.base() + ARENA_SIZE).contains(&(ptr as usize))
    }

    /// Whether `ptr` with `size` bytes is the region's most recent block.
    fn is_last(&self, ptr: *mut u8, size: usize) -> bool {
        ptr as usize + size == self.base() + self.next.get()
    }

    /// A block of the region, or `None` when it does not fit.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        let base = self.base();
        let start = (base + self.next.get()).checked_next_multiple_of(layout.align())?;
        let end = start.checked_add(layout.size())?;
        if end > base + ARENA_SIZE {
            return None;
        }
        self.next.set(end - base);
        // Derived from the region's pointer, so it keeps its provenance.
        Some(self.region.0.get().cast::<u8>().wrapping_add(start - base))
    }
}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(ptr) => ptr,
            // SAFETY: the caller's contract is `alloc`'s.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.holds(ptr) {
            // SAFETY: a pointer outside the region came from `System`.
            return unsafe { System.dealloc(ptr, layout) };
        }
        if self.is_last(ptr, layout.size()) {
            self.next.set(ptr as usize - self.base());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !self.holds(ptr) {
            // SAFETY: a pointer outside the region came from `System`.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let offset = ptr as usize - self.base();
        if self.is_last(ptr, layout.size()) && offset + new_size <= ARENA_SIZE {
            self.next.set(offset + new_size);
            return ptr;
        }
        // SAFETY: `realloc`'s contract makes this layout valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as for `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct and at least this long.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn small_blocks_come_from_the_region_aligned() {
        let arena = Box::new(Arena::new());
        unsafe {
            let a = arena.alloc(layout(3, 1));
            let b = arena.alloc(layout(8, 8));
            assert!(arena.holds(a) && arena.holds(b));
            assert_eq!(b as usize % 8, 0);
            assert!(b as usize >= a as usize + 3);
            b.write_bytes(0xAB, 8);
            assert_eq!(*a.add(0), 0, "blocks overlap");
        }
    }

    #[test]
    fn the_last_block_is_freed_and_grown_in_place() {
        let arena = Box::new(Arena::new());
        unsafe {
            let a = arena.alloc(layout(16, 8));
            let b = arena.alloc(layout(16, 8));
            arena.dealloc(b, layout(16, 8));
            assert_eq!(
                arena.alloc(layout(16, 8)),
                b,
                "the freed last block is reused"
            );
            b.write(7);
            let grown = arena.realloc(b, layout(16, 8), 4096);
            assert_eq!(grown, b, "the last block grows in place");
            assert_eq!(*grown, 7);
            // Growing a block that is not the last one moves and copies it.
            a.write(9);
            let moved = arena.realloc(a, layout(16, 8), 64);
            assert_ne!(moved, a);
            assert_eq!(*moved, 9);
        }
    }

    #[test]
    fn past_the_region_the_system_allocator_serves() {
        let arena = Box::new(Arena::new());
        unsafe {
            let big = arena.alloc(layout(ARENA_SIZE + 1, 8));
            assert!(!big.is_null() && !arena.holds(big));
            big.add(ARENA_SIZE).write(1);
            let bigger = arena.realloc(big, layout(ARENA_SIZE + 1, 8), 2 * ARENA_SIZE);
            assert_eq!(*bigger.add(ARENA_SIZE), 1);
            arena.dealloc(bigger, layout(2 * ARENA_SIZE, 8));

            // A region block grown past the region moves to the system.
            let a = arena.alloc(layout(1024, 8));
            a.write(5);
            let out = arena.realloc(a, layout(1024, 8), ARENA_SIZE + 1);
            assert!(!arena.holds(out));
            assert_eq!(*out, 5);
            arena.dealloc(out, layout(ARENA_SIZE + 1, 8));
            // Its region space was the last block and is free again.
            assert_eq!(arena.alloc(layout(1024, 8)), a);
        }
    }
}
