//! Instructions per call, counted by callgrind: repeatable where the clock is not, so that a regression
//! of the component's fixed cost shows on a noisy machine. Each operation runs in a child process
//! (this benchmark again, part `instructions-child`) under `valgrind --tool=callgrind`, through the
//! component and natively on SQLite in memory, counting only inside [`callgrind_measured_calls`]: the
//! calls and everything they run on the calling thread. SQLite itself runs on sqlx's worker thread and
//! is not counted — the same statements on both sides.

use std::path::Path;
use std::process::Command;

use account_host::Caller;

use crate::compare::{native_check_run_quota, native_get_pin};
use crate::setup::Backend;

/// Calls counted per operation and side (after as many uncounted ones).
const CALLS: u64 = 200;
/// The operations counted: a read and a check that may write.
pub const OPERATIONS: [&str; 2] = ["get pin", "check run quota"];

pub struct Instructions {
    pub operation: &'static str,
    /// Per call: (through the component, native).
    pub per_call: (u64, u64),
}

/// Runs the children under callgrind; `Err` says why it could not (valgrind missing, a child failed).
pub fn measure(dir: &Path) -> Result<Vec<Instructions>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for operation in OPERATIONS {
        let mut per_call = [0u64; 2];
        for (i, side) in ["component", "native"].into_iter().enumerate() {
            let out = dir.join(format!("callgrind.{}.{side}.out", operation.replace(' ', "-")));
            let status = Command::new("valgrind")
                .args(["--tool=callgrind", "--toggle-collect=*callgrind_measured_calls*"])
                .arg(format!("--callgrind-out-file={}", out.display()))
                .arg(&exe)
                .args(["instructions-child", operation, side])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("valgrind could not run: {e}"))?;
            if !status.success() {
                return Err(format!("the {side} child of {operation} failed under callgrind ({status})"));
            }
            let text = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
            let total = text
                .lines()
                .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
                .and_then(|n| n.split_whitespace().next()?.parse::<u64>().ok())
                .ok_or_else(|| format!("no total in {}", out.display()))?;
            per_call[i] = total / CALLS;
        }
        rows.push(Instructions { operation, per_call: (per_call[0], per_call[1]) });
    }
    Ok(rows)
}

/// The child: `CALLS` uncounted calls, then `CALLS` counted ones.
pub async fn child(operation: &str, side: &str) {
    let b = Backend::open("SQLite in memory", "sqlite::memory:").await;
    let tenant = b.tenant("instructions").await;
    let sys = Caller::system(Some(&tenant));
    b.runtime.memory_pins().upsert_pin(&sys, "k", r#"{"step":1}"#, None, None).await.unwrap();
    let component = side == "component";
    let one = async || match (operation, component) {
        ("get pin", true) => {
            b.runtime.memory_pins().get_pin(&sys, "k").await.unwrap().expect("pin");
        }
        ("get pin", false) => native_get_pin(&b, &tenant, "k".into()).await,
        ("check run quota", true) => {
            assert!(b.runtime.tenants().check_run_quota(&sys).await.unwrap().allowed);
        }
        ("check run quota", false) => native_check_run_quota(&b, &tenant).await,
        (other, _) => panic!("no operation {other}"),
    };
    for _ in 0..CALLS {
        one().await;
    }
    let runtime = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        callgrind_measured_calls(&runtime, async || {
            for _ in 0..CALLS {
                one().await;
            }
        })
    });
}

/// What callgrind counts (`--toggle-collect`): everything `calls` runs on this thread. A plain function
/// that blocks on the future, so that it stays on the stack while the calls run (an async function's
/// body is polled from elsewhere).
#[inline(never)]
fn callgrind_measured_calls(runtime: &tokio::runtime::Handle, calls: impl AsyncFn()) {
    runtime.block_on(calls());
}
