//! Random bytes from the host: WASI's `get-random-bytes`, a cryptographically secure
//! source, in one host call. (getrandom's WASI path goes through wasi-libc's
//! preview-1 layer, which costs every instance an extra 64 KiB page of memory.)

/// `N` random bytes, good for salts.
#[cfg(target_arch = "wasm32")]
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let random = wasi::random::random::get_random_bytes(N as u64);
    out.copy_from_slice(&random[..N]);
    out
}

/// Native builds (the unit tests) have no WASI host: the OS source instead.
#[cfg(not(target_arch = "wasm32"))]
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).expect("the OS has a random source");
    out
}
