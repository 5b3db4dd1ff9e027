//! The largest page a caller may ask for, and what it costs the process in resident memory: pins whose
//! values fill a page's 4 MiB bound, listed with the largest limit (1,000).

use account_host::Caller;
use account_host::bindings::PageRequest;

use crate::setup::{Backend, peak_rss_kib, reset_peak_rss};

pub struct LargestPage {
    /// Pins and value bytes the page held.
    pub pins: usize,
    pub value_bytes: usize,
    /// The process's resident set before the call and its peak during it, KiB.
    pub rss_before_kib: u64,
    pub peak_kib: u64,
}

pub async fn largest_page(b: &Backend) -> LargestPage {
    let tenant = b.tenant("largest-page").await;
    let sys = Caller::system(Some(&tenant));
    let pins = b.runtime.memory_pins();
    // Values of just under 1 MiB (the largest a pin may hold): five of them pass the page's 4 MiB.
    let value = format!(r#"{{"v":"{}"}}"#, "x".repeat(1_048_000));
    for i in 0..5 {
        pins.upsert_pin(&sys, &format!("big{i}"), &value, None, None).await.unwrap();
    }
    let page = PageRequest { limit: 1000, after: None };
    pins.list_pins(&sys, None, false, &page).await.unwrap();
    reset_peak_rss();
    let rss_before_kib = peak_rss_kib().unwrap_or(0);
    let listed = pins.list_pins(&sys, None, false, &page).await.unwrap();
    let peak_kib = peak_rss_kib().unwrap_or(0);
    LargestPage {
        pins: listed.items.len(),
        value_bytes: listed.items.iter().map(|p| p.value.len()).sum(),
        rss_before_kib,
        peak_kib,
    }
}
