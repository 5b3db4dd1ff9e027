//! The web console in a real browser: the real binary on SQLite serves `/console/`, and Chromium
//! (Debian's, headless), driven by Playwright (`tests/console/`), signs in as the tenant's owner and as an
//! operator and goes through the console's pages (`tests/console/console.test.mjs` says what it checks).
//! Screenshots of the main pages land in `target/console-screenshots/`.
//!
//! Needs `node`/`npm` and Chromium (`/usr/bin/chromium`, or `CHROMIUM`): Debian's package is installed
//! where it is missing (as `.ci/run` does).

#[path = "support.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{OPERATOR_TOKEN, Running, TempDir, bootstrap, spawn, workspace};

#[test]
fn the_console_works_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() && std::env::var_os("CHROMIUM").is_none() {
        // A fresh machine of this project: Debian's package (the test command installs what it needs).
        let apt = |args: &[&str]| {
            tools::run(
                &format!("apt-get {}", args.join(" ")),
                Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive"),
                Duration::from_secs(900),
            )
        };
        apt(&["update", "-qq"]);
        apt(&["install", "-y", "-qq", "chromium"]);
    }
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (Debian: apt-get install chromium; .ci/run installs it), or name it with CHROMIUM"
    );
    let package = workspace().join("tests/console");
    tools::npm_ci(&package);

    let dir = TempDir::new("aos-console");
    let (tenant, _) = bootstrap(&dir.0, None);
    let (child, base) = spawn(&dir.0, None, &[], None);
    let _server = Running(child);
    let screenshots = tools::target_dir(&workspace()).join("console-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let owner = support::jwt("ann", "ann@example.com", None);

    let output = tools::run(
        "the console's browser test",
        Command::new("node")
            .arg("console.test.mjs")
            .current_dir(&package)
            .env("CONSOLE_URL", format!("{base}/console/"))
            .env("OWNER_JWT", owner)
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            .env("TENANT_ID", &tenant)
            .env("SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM", &chromium),
        Duration::from_secs(300),
    );
    println!("{output}");
}
